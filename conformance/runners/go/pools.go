package main

// The ops of pools, futures, deadlines, interrupts and import checks
// (docs/conformance.md), on the binding's Pool, Future, RunOptions.Timeout,
// Interpreter.Interrupt and CheckImports. A "wait" or "timeout" of seconds
// is a time.Duration or a context with that deadline, as a Go program would
// write it.

import (
	"context"
	"strings"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// seconds is an optional number of seconds: ok false when absent.
func seconds(s step, key string) (time.Duration, bool, error) {
	given, ok := s[key]
	if !ok {
		return 0, false, nil
	}
	x, ok := floatArg(given)
	if !ok {
		return 0, false, unsupportedf("%s must be a number", key)
	}
	return time.Duration(x * float64(time.Second)), true, nil
}

// boolArg is an optional boolean with a default.
func boolArg(s step, key string, otherwise bool) (bool, error) {
	given, ok := s[key]
	if !ok {
		return otherwise, nil
	}
	b, ok := given.(bool)
	if !ok {
		return false, unsupportedf("%s must be a bool", key)
	}
	return b, nil
}

// bound is the value a step's key names ("$name").
func bound[T any](c *Case, s step, key, what string) (T, error) {
	var zero T
	reference, ok := s[key].(string)
	name, isName := strings.CutPrefix(reference, "$")
	if !ok || !isName {
		return zero, unsupportedf("%s must be \"$name\" of a %s", key, what)
	}
	value, ok := c.names[name].value.(T)
	if !ok {
		return zero, unsupportedf("$%s is not a %s", name, what)
	}
	return value, nil
}

func poolOf(c *Case, s step) (*subinterp.Pool, error) {
	return bound[*subinterp.Pool](c, s, "pool", "pool")
}

func futureOf(c *Case, s step) (*subinterp.Future, error) {
	return bound[*subinterp.Future](c, s, "future", "future")
}

func checkValue(c *Case, e expects, got any) error {
	if want, ok := e["value"]; ok {
		return c.check(want, got, "value")
	}
	return nil
}

func opInterrupt(c *Case, s step, e expects) (*binding, error) {
	interp, err := interpreter(c, s)
	if err != nil {
		return nil, err
	}
	n, err := interp.Interrupt()
	if err != nil {
		return nil, err
	}
	return &binding{value: int64(n)}, checkValue(c, e, int64(n))
}

func opCheckImports(c *Case, s step, e expects) (*binding, error) {
	config := subinterp.IsolatedConfig()
	if given, ok := s["config"]; ok {
		var err error
		if config, err = configOf(given); err != nil {
			return nil, err
		}
	}
	list, ok := s["modules"].([]any)
	if !ok {
		return nil, unsupportedf("modules must be an array of strings")
	}
	modules := make([]string, len(list))
	for i, module := range list {
		if modules[i], ok = module.(string); !ok {
			return nil, unsupportedf("modules must be an array of strings")
		}
	}
	checks, err := subinterp.CheckImports(config, modules...)
	if err != nil {
		return nil, err
	}
	// As the library reports them: needs and error are None when empty.
	orNone := func(text string) any {
		if text == "" {
			return nil
		}
		return text
	}
	report := make([]any, len(checks))
	for i, check := range checks {
		report[i] = subinterp.Dict{
			{Key: "module", Value: check.Module},
			{Key: "ok", Value: check.OK},
			{Key: "reason", Value: check.Reason},
			{Key: "needs", Value: orNone(check.Needs)},
			{Key: "error", Value: orNone(check.Error)},
		}
	}
	return &binding{value: report}, checkValue(c, e, report)
}

func opPoolCreate(c *Case, s step, e expects) (*binding, error) {
	var options subinterp.PoolOptions
	integer := func(key string, target *int) error {
		given, ok := s[key]
		if !ok {
			return nil
		}
		n, ok := intArg(given)
		if !ok {
			return unsupportedf("%s must be an integer", key)
		}
		*target = int(n)
		return nil
	}
	for key, target := range map[string]*int{"workers": &options.Workers, "max_queued": &options.MaxQueued,
		"max_tasks_per_worker": &options.MaxTasksPerWorker} {
		if err := integer(key, target); err != nil {
			return nil, err
		}
	}
	if given, ok := s["config"]; ok {
		config, err := configOf(given)
		if err != nil {
			return nil, err
		}
		options.Config = &config
	}
	for key, target := range map[string]*string{"init_source": &options.InitSource, "init_callable": &options.InitCallable} {
		if given, ok := s[key]; ok {
			text, ok := given.(string)
			if !ok || text == "" {
				return nil, unsupportedf("%s must be a non-empty string (\"\" is none in Go)", key)
			}
			*target = text
		}
	}
	if given, ok := s["init_args"]; ok {
		args, err := c.argList(given)
		if err != nil {
			return nil, err
		}
		options.InitArgs = append([]any{}, args...) // not nil: a tuple, possibly empty
	}
	pool, err := subinterp.NewPool(options)
	if err != nil {
		return nil, err
	}
	c.pools = append(c.pools, pool)
	return &binding{value: pool}, nil
}

// task is a step's callable, args, kwargs and task timeout.
func (c *Case) task(s step) (string, []any, subinterp.TaskOptions, error) {
	var options subinterp.TaskOptions
	callable, ok := s["callable"].(string)
	if !ok {
		return "", nil, options, unsupportedf("callable must be a string")
	}
	args, err := c.positional(s)
	if err != nil {
		return "", nil, options, err
	}
	if options.Kwargs, err = c.keywords(s); err != nil {
		return "", nil, options, err
	}
	if options.RunOptions, err = runOptions(s); err != nil {
		return "", nil, options, err
	}
	return callable, args, options, nil
}

func opPoolSubmit(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	callable, args, options, err := c.task(s)
	if err != nil {
		return nil, err
	}
	// wait: absent or negative, as long as it takes; 0, not at all.
	ctx := context.Background()
	wait, given, err := seconds(s, "wait")
	switch {
	case err != nil:
		return nil, err
	case given && wait == 0:
		options.NoWait = true
	case given && wait > 0:
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	future, err := pool.SubmitWith(ctx, callable, args, options)
	if err != nil {
		return nil, err
	}
	c.futures = append(c.futures, future)
	return &binding{value: future}, nil
}

func opPoolCall(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	callable, args, options, err := c.task(s)
	if err != nil {
		return nil, err
	}
	result, output, err := pool.CallWith(context.Background(), callable, args, options)
	if err != nil {
		return nil, err
	}
	return c.callResult(e, result, output)
}

func opPoolMap(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	callable, ok := s["callable"].(string)
	if !ok {
		return nil, unsupportedf("callable must be a string")
	}
	lists, ok := s["args"].([]any)
	if !ok {
		return nil, unsupportedf("args must be an array of argument lists")
	}
	argLists := make([][]any, len(lists))
	for i, list := range lists {
		if argLists[i], err = c.argList(list); err != nil {
			return nil, err
		}
	}
	options, err := runOptions(s)
	if err != nil {
		return nil, err
	}
	results, err := pool.MapWith(context.Background(), callable, argLists, options)
	if err != nil {
		return nil, err
	}
	c.own(results)
	return &binding{value: results}, checkValue(c, e, results)
}

func opPoolShutdown(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	wait, err := boolArg(s, "wait", true)
	if err != nil {
		return nil, err
	}
	cancelPending, err := boolArg(s, "cancel_pending", false)
	if err != nil {
		return nil, err
	}
	return nil, pool.Shutdown(wait, cancelPending)
}

func opPoolCheck(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	return nil, pool.Check()
}

// checkFields compares the listed fields of expect[key] with got's.
func checkFields(e expects, key string, got map[string]any) error {
	given, ok := e[key]
	if !ok {
		return nil
	}
	want, ok := given.(map[string]any)
	if !ok {
		return unsupportedf("expect.%s must be an object", key)
	}
	for field, value := range want {
		actual, known := got[field]
		if !known {
			return unsupportedf("unknown %s field %s", key, field)
		}
		same := false
		switch a := actual.(type) {
		case bool:
			same = value == a
		case int64:
			n, ok := intArg(value)
			same = ok && n == a
		}
		if !same {
			return failf("%s.%s: expected %s, got %v", key, field, compact(value), actual)
		}
	}
	return nil
}

func opPoolStats(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	stats, err := pool.Stats()
	if err != nil {
		return nil, err
	}
	return nil, checkFields(e, "stats", map[string]any{
		"workers":      int64(stats.Workers),
		"live_workers": int64(stats.LiveWorkers),
		"busy_workers": int64(stats.BusyWorkers),
		"queued":       int64(stats.Queued),
		"submitted":    int64(stats.Submitted),
		"succeeded":    int64(stats.Succeeded),
		"failed":       int64(stats.Failed),
		"timed_out":    int64(stats.TimedOut),
		"cancelled":    int64(stats.Cancelled),
		"replaced":     int64(stats.Replaced),
	})
}

func opPoolWorker(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	index, ok := intArg(s["index"])
	if !ok {
		return nil, unsupportedf("index must be an integer")
	}
	worker, err := pool.Worker(int(index))
	if err != nil {
		return nil, err
	}
	err = checkFields(e, "worker", map[string]any{
		"alive":          worker.Alive,
		"busy":           worker.Busy,
		"interpreter_id": worker.InterpreterID,
		"tasks":          int64(worker.Tasks),
		"failed":         int64(worker.Failed),
		"replaced":       int64(worker.Replaced),
	})
	return &binding{id: worker.InterpreterID, isID: true}, err
}

func opPoolFree(c *Case, s step, e expects) (*binding, error) {
	pool, err := poolOf(c, s)
	if err != nil {
		return nil, err
	}
	return nil, pool.Close()
}

func opFutureResult(c *Case, s step, e expects) (*binding, error) {
	future, err := futureOf(c, s)
	if err != nil {
		return nil, err
	}
	result, output, err := future.ResultWithOutput(context.Background())
	if err != nil {
		return nil, err
	}
	return c.callResult(e, result, output)
}

func opFutureWait(c *Case, s step, e expects) (*binding, error) {
	future, err := futureOf(c, s)
	if err != nil {
		return nil, err
	}
	timeout, given, err := seconds(s, "timeout")
	if err != nil {
		return nil, err
	}
	if !given || timeout < 0 {
		return nil, future.Wait(context.Background())
	}
	return nil, future.WaitTimeout(timeout)
}

func opFutureState(c *Case, s step, e expects) (*binding, error) {
	future, err := futureOf(c, s)
	if err != nil {
		return nil, err
	}
	state, err := future.State()
	if err != nil {
		return nil, err
	}
	return &binding{value: state.String()}, checkValue(c, e, state.String())
}

func opFutureCancel(c *Case, s step, e expects) (*binding, error) {
	future, err := futureOf(c, s)
	if err != nil {
		return nil, err
	}
	cancelled, err := future.Cancel()
	if err != nil {
		return nil, err
	}
	return &binding{value: cancelled}, checkValue(c, e, cancelled)
}
