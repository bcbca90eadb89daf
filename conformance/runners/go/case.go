package main

// One running case: its bound names, the interpreters and queue handles it
// took (dropped when it ends), the handles each step made (dropped when the
// step ends), and the step loop that checks each step's outcome against its
// expectation.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// failure is an expectation that was not met: the case fails.
type failure struct{ detail string }

func (f *failure) Error() string { return f.detail }

func failf(format string, args ...any) error { return &failure{fmt.Sprintf(format, args...)} }

// unsupported is a case that asks for something this runner cannot express,
// or is malformed: the case is an error.
type unsupported struct{ detail string }

func (u *unsupported) Error() string { return u.detail }

func unsupportedf(format string, args ...any) error {
	return &unsupported{fmt.Sprintf(format, args...)}
}

// refusal is a refusal the runner names with the status the C ABI gives for
// it, where Go has no library error: a type assertion that fails on a value
// read back from the library (see opDataGet). Also the step's outcome.
type refusal struct{ status, message string }

func (r *refusal) Error() string { return r.status + ": " + r.message }

// statusPrefix begins every status name but SUBINTERP_OK.
const statusPrefix = "SUBINTERP_ERR_"

// sentinels are the binding's sentinel errors by status name: errors.Is must
// match the one of an error's status, and no other.
var sentinels = []struct {
	name string
	err  error
}{
	{"INVALID_ARGUMENT", subinterp.ErrInvalidArgument}, {"NOT_FOUND", subinterp.ErrNotFound},
	{"BUSY", subinterp.ErrBusy}, {"PYTHON", subinterp.ErrPython}, {"CONFIG", subinterp.ErrConfig},
	{"RUNTIME", subinterp.ErrRuntime}, {"TYPE", subinterp.ErrType}, {"OVERFLOW", subinterp.ErrOverflow},
	{"NOT_SHAREABLE", subinterp.ErrNotShareable}, {"INDEX", subinterp.ErrIndex},
	{"NO_MEMORY", subinterp.ErrNoMemory}, {"TIMEOUT", subinterp.ErrTimeout},
	{"QUEUE_EMPTY", subinterp.ErrQueueEmpty}, {"QUEUE_FULL", subinterp.ErrQueueFull},
	{"CLOSED", subinterp.ErrClosed}, {"CANCELLED", subinterp.ErrCancelled}, {"UNBOUND", subinterp.ErrUnbound},
	{"INTERNAL", subinterp.ErrInternal},
}

// outcome is a failed step's outcome, whichever way it was reported.
type outcome struct {
	status, message string
	// excType ("module.qualname") and traceback of the exception: a
	// *PythonError's, or an interrupted run's (TIMEOUT, CANCELLED).
	excType, traceback string
	output             *subinterp.Output
}

func (o *outcome) String() string {
	if o.excType != "" {
		return fmt.Sprintf("%s (%s: %s)", o.status, o.excType, o.message)
	}
	return fmt.Sprintf("%s: %s", o.status, o.message)
}

// outcomeOf reads a refusal of the binding: a *PythonError, an *Error (its
// Status named without the SUBINTERP_ERR_ prefix) or a runner-named refusal.
// It checks that the binding's sentinels agree with the status.
func outcomeOf(err error) (*outcome, error) {
	var named *refusal
	if errors.As(err, &named) {
		return &outcome{status: named.status, message: named.message}, nil
	}
	var got *outcome
	var python *subinterp.PythonError
	var library *subinterp.Error
	switch {
	case errors.As(err, &python):
		got = &outcome{status: "PYTHON", message: python.Message, excType: python.Type(), traceback: python.Traceback,
			output: python.Output}
	case errors.As(err, &library):
		name := library.Status.String()
		if !strings.HasPrefix(name, statusPrefix) {
			return nil, failf("an error with status %d, named %q: %v", int32(library.Status), name, err)
		}
		got = &outcome{status: strings.TrimPrefix(name, statusPrefix), message: library.Message, output: library.Output,
			traceback: library.Traceback}
		if library.Module != "" {
			got.excType = library.Module + "." + library.Qualname
		}
	default:
		return nil, failf("%T %q is not an error of the library", err, err)
	}
	for _, sentinel := range sentinels {
		if errors.Is(err, sentinel.err) != (sentinel.name == got.status) {
			return nil, failf("errors.Is(err, Err...) for %s disagrees with the status of %v", sentinel.name, err)
		}
	}
	return got, nil
}

// binding is what a step's bind stores: an id, or a result value.
type binding struct {
	id    int64
	value any
	isID  bool
}

// Case is the state of one running case.
type Case struct {
	names map[string]binding
	// interpreters the case created and still owns: Close destroys them.
	interpreters []*subinterp.Interpreter
	// holds are the case's queue handles by id (queue_create, queue_retain).
	holds map[int64][]*subinterp.Queue
	// kept are the handles inside bound values, dropped when the case ends.
	kept []interface{ Close() error }
	// scratch are the handles the current step made, dropped when it ends.
	scratch []interface{ Close() error }
	// pools and futures the case made (bound or not), freed when it ends:
	// pools first (shut down, pending tasks cancelled, then closed).
	pools   []*subinterp.Pool
	futures []*subinterp.Future
}

func newCase() *Case {
	return &Case{names: map[string]binding{}, holds: map[int64][]*subinterp.Queue{}}
}

// own makes the handles inside a value the current step's: they are dropped
// when the step ends unless the step binds the value.
func (c *Case) own(v any) { c.scratch = handles(v, c.scratch) }

// resolve reads an id: a literal integer, or "$name" bound to an id (or to a
// value that carries one).
func (c *Case) resolve(reference any) (int64, error) {
	switch ref := reference.(type) {
	case string:
		if name, ok := strings.CutPrefix(ref, "$"); ok {
			bound, ok := c.names[name]
			if !ok {
				return 0, unsupportedf("unbound name $%s", name)
			}
			if bound.isID {
				return bound.id, nil
			}
			switch v := bound.value.(type) {
			case int64:
				return v, nil
			case *subinterp.Queue:
				return v.ID(), nil
			case subinterp.InterpreterID:
				return int64(v), nil
			}
			return 0, unsupportedf("$%s is a %s, not an id", name, kindOf(bound.value))
		}
	default:
		if n, ok := intArg(reference); ok {
			return n, nil
		}
	}
	return 0, unsupportedf("not an id or \"$name\": %s", compact(reference))
}

// run runs the steps in order; the first that does not pass ends the case.
func (c *Case) run(steps []any) error {
	for index, raw := range steps {
		step, ok := raw.(map[string]any)
		if !ok {
			return unsupportedf("step %d: a step must be an object", index)
		}
		op, _ := step["op"].(string)
		if err := c.runStep(step, op); err != nil {
			var failed *failure
			if errors.As(err, &failed) {
				return failf("step %d (%s): %s", index, op, failed.detail)
			}
			return unsupportedf("step %d (%s): %v", index, op, err)
		}
	}
	return nil
}

// errorKeys are the expectations every op understands.
var errorKeys = []string{"error", "message_contains", "exc_type", "traceback_contains"}

func (c *Case) runStep(step map[string]any, op string) error {
	spec, ok := ops[op]
	if !ok {
		return unsupportedf("op not supported by the Go runner")
	}
	expect := map[string]any{}
	if given, ok := step["expect"]; ok {
		if expect, ok = given.(map[string]any); !ok {
			return unsupportedf("expect must be an object, got %s", compact(given))
		}
	}
	// An expectation this runner would not check must not pass silently.
	for key := range expect {
		if !slices.Contains(errorKeys, key) && !slices.Contains(spec.expects, key) {
			return unsupportedf("expect.%s is not an expectation of %s", key, op)
		}
	}
	c.scratch = nil
	defer c.dropScratch()
	result, err := spec.handler(c, step, expect)
	if err != nil {
		var failed *failure
		var cannot *unsupported
		if errors.As(err, &failed) || errors.As(err, &cannot) {
			return err
		}
		return checkRefusal(expect, err)
	}
	if want, ok := expect["error"]; ok {
		return failf("expected error %s, but the step succeeded", compact(want))
	}
	if name, ok := step["bind"]; ok {
		text, ok := name.(string)
		if !ok {
			return unsupportedf("bind must be a name")
		}
		if result == nil {
			return unsupportedf("%s has nothing to bind", op)
		}
		if !result.isID {
			c.keep(result.value)
		}
		c.names[text] = *result
	}
	return nil
}

// keep moves the handles of a bound value from the step's to the case's.
func (c *Case) keep(v any) {
	for _, handle := range handles(v, nil) {
		c.scratch = slices.DeleteFunc(c.scratch, func(h interface{ Close() error }) bool { return h == handle })
		c.kept = append(c.kept, handle)
	}
}

// dropScratch drops the handles the step made and did not bind: a queue
// handle got from a queue was a hold, which is released here.
func (c *Case) dropScratch() {
	for _, handle := range c.scratch {
		_ = handle.Close()
	}
	c.scratch = nil
}

// cleanup drops what the case took, ignoring errors: bound values' handles,
// its interpreters (last first), its queue holds.
func (c *Case) cleanup() {
	c.dropScratch()
	for _, pool := range c.pools {
		_ = pool.Shutdown(true, true)
		_ = pool.Close()
	}
	c.pools = nil
	for _, future := range c.futures {
		_ = future.Close()
	}
	c.futures = nil
	for _, handle := range c.kept {
		_ = handle.Close()
	}
	c.kept = nil
	c.names = nil
	for i := len(c.interpreters) - 1; i >= 0; i-- {
		_ = c.interpreters[i].Close()
	}
	c.interpreters = nil
	for _, queues := range c.holds {
		for _, queue := range queues {
			_ = queue.Close()
		}
	}
	c.holds = nil
}

// checkRefusal checks a refusal against the step's expectation.
func checkRefusal(expect map[string]any, err error) error {
	got, problem := outcomeOf(err)
	if problem != nil {
		return problem
	}
	want, ok := expect["error"]
	if !ok {
		return failf("unexpected error %s", got)
	}
	if want != got.status {
		return failf("expected error %s, got %s", compact(want), got)
	}
	if part, err := expectString(expect, "message_contains"); err != nil {
		return err
	} else if part != nil && !strings.Contains(got.message, *part) {
		return failf("error message %q lacks %q", got.message, *part)
	}
	if name, err := expectString(expect, "exc_type"); err != nil {
		return err
	} else if name != nil {
		if got.excType == "" {
			return failf("expected exception type %s, got no exception", *name)
		}
		if got.excType != *name {
			return failf("expected exception type %s, got %s", *name, got.excType)
		}
	}
	if part, err := expectString(expect, "traceback_contains"); err != nil {
		return err
	} else if part != nil {
		if !strings.Contains(got.traceback, *part) {
			return failf("traceback %q lacks %q", got.traceback, *part)
		}
	}
	output := got.output
	if output == nil {
		output = &subinterp.Output{}
	}
	return checkOutput(expect, *output)
}

// checkOutput checks expect.stdout and expect.stderr: the exact captured
// text ("" when not captured).
func checkOutput(expect map[string]any, output subinterp.Output) error {
	for _, stream := range []struct{ name, got string }{{"stdout", output.Stdout}, {"stderr", output.Stderr}} {
		want, err := expectString(expect, stream.name)
		if err != nil {
			return err
		}
		if want != nil && *want != stream.got {
			return failf("%s: expected %q, got %q", stream.name, *want, stream.got)
		}
	}
	return nil
}

// expectString is an optional string expectation.
func expectString(expect map[string]any, key string) (*string, error) {
	value, ok := expect[key]
	if !ok {
		return nil, nil
	}
	text, ok := value.(string)
	if !ok {
		return nil, unsupportedf("expect.%s must be a string, got %s", key, compact(value))
	}
	return &text, nil
}
