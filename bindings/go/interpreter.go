package subinterp

// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Interpreter is a Python interpreter with (by default) its own GIL: code in
// different interpreters runs in parallel.
//
// Any goroutine may use any Interpreter at any time: the C ABI keeps no
// per-thread state between calls, so a goroutine that moves to another OS
// thread between two calls is fine, and goroutines running code in the same
// interpreter take turns on its GIL. Run N interpreters from N goroutines to
// use N cores.
//
// Close destroys an interpreter made by New; a cleanup destroys it if it
// becomes unreachable unclosed, but only as a safety net: call Close.
type Interpreter struct {
	id      int64
	owned   bool
	mu      sync.Mutex // serializes Close with itself
	closed  bool
	cleanup runtime.Cleanup
}

// New creates an isolated interpreter (IsolatedConfig). Starts the runtime
// if needed.
func New() (*Interpreter, error) { return NewWithConfig(IsolatedConfig()) }

// NewWithConfig creates an interpreter with config.
func NewWithConfig(config Config) (*Interpreter, error) {
	raw := config.toC()
	var id C.int64_t
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_create(&raw, &id, e) }); err != nil {
		return nil, err
	}
	interp := &Interpreter{id: int64(id), owned: true}
	interp.cleanup = runtime.AddCleanup(interp, destroyUnreachable, int64(id))
	return interp, nil
}

// destroyUnreachable is the safety net for an Interpreter never closed.
func destroyUnreachable(id int64) {
	_ = check(func(e *C.si_error) C.subinterp_status { return C.si_destroy(C.int64_t(id), e) })
}

// Main is a handle to the main interpreter; Close never destroys it.
func Main() (*Interpreter, error) {
	var id C.int64_t
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_main_id(&id, e) }); err != nil {
		return nil, err
	}
	return FromID(int64(id)), nil
}

// FromID is a handle to an existing interpreter that Close does not
// destroy. The id is not checked: calls on a stale id fail with ErrNotFound.
func FromID(id int64) *Interpreter { return &Interpreter{id: id} }

// CurrentID is the interpreter the calling thread runs Python code in, for
// Go code called back from Python; ErrNotFound otherwise.
func CurrentID() (int64, error) {
	var id C.int64_t
	err := check(func(e *C.si_error) C.subinterp_status { return C.si_current_id(&id, e) })
	return int64(id), err
}

// List gives the live interpreters' ids: main first, then those the library
// created, in creation order.
func List() ([]int64, error) {
	return listIDs(func(ids *C.int64_t, capacity C.size_t, count *C.size_t, e *C.si_error) C.subinterp_status {
		return C.si_list(ids, capacity, count, e)
	})
}

// ID is the interpreter's id (CPython's own).
func (i *Interpreter) ID() int64 { return i.id }

// RunOptions are the options of ExecWith, CallWith and their Context
// variants, and of pool tasks (TaskOptions).
type RunOptions struct {
	// CaptureStdout and CaptureStderr capture what the run writes to
	// sys.stdout and sys.stderr into Output.
	CaptureStdout, CaptureStderr bool
	// Strict fails with ErrNotShareable for a result outside the data model
	// instead of returning it Pickled.
	Strict bool
	// Timeout is the run's deadline, counted from when the code starts (for
	// a pool task: when a worker takes it); 0 or negative: none. When it
	// passes, the running Python code is interrupted (see ExecContext) and
	// the run fails with ErrTimeout; the interpreter stays usable. A
	// context's deadline does the same (the sooner of the two applies).
	Timeout time.Duration
}

func (o RunOptions) toC() C.subinterp_run_options {
	var flags C.uint32_t
	if o.CaptureStdout {
		flags |= C.SUBINTERP_RUN_CAPTURE_STDOUT
	}
	if o.CaptureStderr {
		flags |= C.SUBINTERP_RUN_CAPTURE_STDERR
	}
	if o.Strict {
		flags |= C.SUBINTERP_RUN_STRICT
	}
	raw := C.subinterp_run_options{struct_size: C.uint32_t(unsafe.Sizeof(C.subinterp_run_options{})), flags: flags}
	if o.Timeout > 0 {
		raw.timeout = C.double(o.Timeout.Seconds())
	}
	return raw
}

func (o RunOptions) captures() bool { return o.CaptureStdout || o.CaptureStderr }

// Output is what a run that asked for capture wrote to sys.stdout and sys.stderr.
type Output struct {
	Stdout, Stderr string
}

// Exec runs source in the interpreter's __main__; names it defines stay for
// later calls. A Python exception is a *PythonError (the interpreter stays
// usable).
func (i *Interpreter) Exec(source string) error {
	_, err := i.ExecWith(source, RunOptions{})
	return err
}

// ExecWith is Exec with options; it returns the captured output, which a
// failed run's error carries too (Error.Output).
func (i *Interpreter) ExecWith(source string, opts RunOptions) (Output, error) {
	return i.ExecWithContext(context.Background(), source, opts)
}

// ExecContext is Exec under a context:
//
//   - ctx's deadline is the run's deadline: when it passes, the library
//     raises an exception (subinterp.Interrupted, a BaseException) in the
//     running code and the run fails with an error matching both ErrTimeout
//     and context.DeadlineExceeded;
//   - ctx's cancellation interrupts the interpreter (Interrupt) from a
//     goroutine that watches ctx.Done() while the run goes on, and the run
//     fails with an error matching both ErrCancelled and context.Canceled.
//     That interrupts every run in this interpreter at that moment, other
//     goroutines' included: give runs that must be cancelled alone an
//     interpreter of their own.
//
// Either way the interpreter stays usable. What is interrupted when: Python
// bytecode within a few milliseconds; a C function holding the GIL (a long
// regex, a big sum) when it returns to Python; a call blocked with the GIL
// released (time.sleep, socket reads, lock waits) when it returns; a get or
// put on a Queue within 20 ms. A ctx already done fails at once, running
// nothing.
func (i *Interpreter) ExecContext(ctx context.Context, source string) error {
	_, err := i.ExecWithContext(ctx, source, RunOptions{})
	return err
}

// ExecWithContext is ExecWith under a context (see ExecContext).
func (i *Interpreter) ExecWithContext(ctx context.Context, source string, opts RunOptions) (Output, error) {
	src, err := cString(source, "source")
	if err != nil {
		return Output{}, err
	}
	defer C.free(unsafe.Pointer(src))
	var out *C.subinterp_output
	err = i.runUnder(ctx, opts, func(raw *C.subinterp_run_options) error {
		return check(func(e *C.si_error) C.subinterp_status { return C.si_exec(C.int64_t(i.id), src, raw, &out, e) })
	})
	return finishRun(err, out, opts)
}

// Call calls callable with positional args and returns its result.
//
// callable is "module:qualname" (the module is imported, e.g. "math:sqrt")
// or a name looked up in __main__, then in builtins ("f", "Class.method",
// "len"). See ToData for the Go values args may hold and FromData for the
// values results come back as.
func (i *Interpreter) Call(callable string, args ...any) (any, error) {
	result, _, err := i.CallWith(callable, args, nil, RunOptions{})
	return result, err
}

// CallWith is Call with keyword arguments and options; it also returns the
// captured output.
func (i *Interpreter) CallWith(callable string, args []any, kwargs map[string]any, opts RunOptions) (any, Output, error) {
	return i.CallWithContext(context.Background(), callable, args, kwargs, opts)
}

// CallContext is Call under a context: its deadline is the run's deadline,
// its cancellation interrupts the interpreter (see ExecContext).
func (i *Interpreter) CallContext(ctx context.Context, callable string, args ...any) (any, error) {
	result, _, err := i.CallWithContext(ctx, callable, args, nil, RunOptions{})
	return result, err
}

// CallWithContext is CallWith under a context (see ExecContext).
func (i *Interpreter) CallWithContext(ctx context.Context, callable string, args []any, kwargs map[string]any,
	opts RunOptions) (any, Output, error) {
	name, err := cString(callable, "callable")
	if err != nil {
		return nil, Output{}, err
	}
	defer C.free(unsafe.Pointer(name))
	argData, err := newData(Tuple(args))
	if err != nil {
		return nil, Output{}, err
	}
	defer argData.free()
	var kwData *data
	if len(kwargs) > 0 {
		if kwData, err = newData(kwargs); err != nil {
			return nil, Output{}, err
		}
		defer kwData.free()
	}
	var result *C.subinterp_data
	var out *C.subinterp_output
	err = i.runUnder(ctx, opts, func(raw *C.subinterp_run_options) error {
		return check(func(e *C.si_error) C.subinterp_status {
			return C.si_call(C.int64_t(i.id), name, argData.ptr, kwData.cptr(), raw, &result, &out, e)
		})
	})
	output, err := finishRun(err, out, opts)
	if err != nil {
		return nil, output, err
	}
	converted, err := take(result)
	return converted, output, err
}

// runUnder runs a run (exec or call) under ctx: the sooner of ctx's deadline
// and opts.Timeout is the run's timeout, and a cancellation of ctx
// interrupts the interpreter until the run returns. The watching goroutine
// ends before runUnder returns, so no interrupt of this run can reach a
// later one.
func (i *Interpreter) runUnder(ctx context.Context, opts RunOptions, run func(*C.subinterp_run_options) error) error {
	defer runtime.KeepAlive(i)
	raw := opts.toC()
	timeout, fromContext, err := runTimeout(ctx, opts.Timeout)
	if err != nil {
		return err
	}
	raw.timeout = timeout
	if ctx.Done() == nil {
		return outcomeUnder(ctx, run(&raw), fromContext)
	}
	finished := make(chan struct{})
	watching := make(chan struct{})
	go func() {
		defer close(watching)
		select {
		case <-finished:
			return
		case <-ctx.Done():
		}
		if !errors.Is(ctx.Err(), context.Canceled) {
			return // a deadline: the run's own timeout interrupts it
		}
		// Interrupt until the run returns: the first interrupt may come
		// before the run has started (and then interrupts nothing).
		ticker := time.NewTicker(pollInterval)
		defer ticker.Stop()
		for {
			_, _ = i.Interrupt()
			select {
			case <-finished:
				return
			case <-ticker.C:
			}
		}
	}()
	err = run(&raw)
	close(finished)
	<-watching
	return outcomeUnder(ctx, err, fromContext)
}

// runTimeout is the C timeout of a run under ctx with its own timeout, and
// whether ctx's deadline is the one that applies; a ctx already done is an
// error (nothing runs).
func runTimeout(ctx context.Context, own time.Duration) (C.double, bool, error) {
	if err := ctx.Err(); err != nil {
		return 0, false, contextError(err)
	}
	timeout := max(own, 0)
	deadline, ok := ctx.Deadline()
	if !ok {
		return C.double(timeout.Seconds()), false, nil
	}
	left := time.Until(deadline)
	if left <= 0 {
		return 0, false, contextError(context.DeadlineExceeded)
	}
	if timeout == 0 || left < timeout {
		return C.double(left.Seconds()), true, nil
	}
	return C.double(timeout.Seconds()), false, nil
}

// outcomeUnder gives a run's error the context's error as its cause when the
// context ended it: its deadline (ErrTimeout) or its cancellation
// (ErrCancelled).
func outcomeUnder(ctx context.Context, err error, fromContext bool) error {
	switch {
	case err == nil:
		return nil
	case fromContext && errors.Is(err, ErrTimeout):
		return withCause(err, context.DeadlineExceeded)
	case errors.Is(err, ErrCancelled) && errors.Is(ctx.Err(), context.Canceled):
		return withCause(err, context.Canceled)
	}
	return err
}

// contextError is the error of a call whose context is done before it ran:
// ErrTimeout for a deadline, ErrCancelled for a cancellation, with the
// context's error as the cause.
func contextError(cause error) error {
	status := StatusCancelled
	if errors.Is(cause, context.DeadlineExceeded) {
		status = StatusTimeout
	}
	return &Error{Status: status, Message: "the context is done: " + cause.Error(), cause: cause}
}

// Interrupt interrupts every Exec, Call and pool task running in the
// interpreter right now, from any goroutine: each gets an exception
// (subinterp.Interrupted, a BaseException) and fails with ErrCancelled,
// unless it returns first. It returns how many runs it interrupted (0 when
// nothing ran) once the exception is set, not when the runs end. The
// interpreter stays usable. See ExecContext for what is interrupted when.
func (i *Interpreter) Interrupt() (int, error) {
	var n C.size_t
	err := check(func(e *C.si_error) C.subinterp_status { return C.si_interrupt(C.int64_t(i.id), &n, e) })
	runtime.KeepAlive(i)
	return int(n), err
}

// PrepareMain binds names in __main__ before running code (PEP 734's
// prepare_main). All or nothing: on error no name is bound.
func (i *Interpreter) PrepareMain(names map[string]any) error {
	dict, err := newData(names)
	if err != nil {
		return err
	}
	defer dict.free()
	err = check(func(e *C.si_error) C.subinterp_status { return C.si_prepare_main(C.int64_t(i.id), dict.ptr, e) })
	runtime.KeepAlive(i)
	return err
}

// IsRunning reports whether the interpreter runs an Exec or Call now, in
// any goroutine or thread.
func (i *Interpreter) IsRunning() (bool, error) {
	var running C.int
	err := check(func(e *C.si_error) C.subinterp_status { return C.si_is_running(C.int64_t(i.id), &running, e) })
	runtime.KeepAlive(i)
	return running != 0, err
}

// Config is the config the interpreter was created with.
func (i *Interpreter) Config() (Config, error) {
	raw := C.subinterp_config{struct_size: C.uint32_t(unsafe.Sizeof(C.subinterp_config{}))}
	err := check(func(e *C.si_error) C.subinterp_status { return C.si_get_config(C.int64_t(i.id), &raw, e) })
	runtime.KeepAlive(i)
	return configFromC(&raw), err
}

// Close destroys an interpreter made by New or NewWithConfig: ErrBusy while
// it runs code (it stays usable, and Close may be called again), nil when
// already closed. For handles from Main and FromID, Close does nothing; use
// Destroy.
func (i *Interpreter) Close() error {
	if !i.owned {
		return nil
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.closed {
		return nil
	}
	if err := i.Destroy(); err != nil {
		return err
	}
	i.closed = true
	i.cleanup.Stop()
	return nil
}

// Destroy destroys the interpreter whatever the handle: ErrNotFound if it is
// gone, ErrBusy while it runs code, ErrInvalidArgument for main.
func (i *Interpreter) Destroy() error {
	err := check(func(e *C.si_error) C.subinterp_status { return C.si_destroy(C.int64_t(i.id), e) })
	runtime.KeepAlive(i)
	return err
}

// finishRun reads captured output and attaches it to a failed run's error.
func finishRun(err error, out *C.subinterp_output, opts RunOptions) (Output, error) {
	defer C.subinterp_output_free(out)
	var output Output
	if opts.captures() && out != nil {
		var n C.size_t
		text := C.subinterp_output_stdout(out, &n)
		output.Stdout = C.GoStringN(text, C.int(n))
		text = C.subinterp_output_stderr(out, &n)
		output.Stderr = C.GoStringN(text, C.int(n))
	}
	if err != nil && opts.captures() {
		err = withOutput(err, &output)
	}
	return output, err
}

// cString copies s into C memory (free it with C.free); a NUL inside is
// refused, since C would see a shorter string.
func cString(s, what string) (*C.char, error) {
	if at := strings.IndexByte(s, 0); at >= 0 {
		return nil, errorf(StatusInvalidArgument, "%s contains a NUL byte at %d", what, at)
	}
	return C.CString(s), nil
}

// listIDs reads an id list with the C ABI's two-call protocol, retrying if it
// grew in between.
func listIDs(list func(*C.int64_t, C.size_t, *C.size_t, *C.si_error) C.subinterp_status) ([]int64, error) {
	ids := make([]int64, 0)
	for {
		var count C.size_t
		var first *C.int64_t
		if len(ids) > 0 {
			first = (*C.int64_t)(unsafe.Pointer(&ids[0]))
		}
		err := check(func(e *C.si_error) C.subinterp_status { return list(first, C.size_t(len(ids)), &count, e) })
		if err != nil {
			return nil, err
		}
		if int(count) <= len(ids) {
			return ids[:count], nil
		}
		ids = make([]int64, count)
	}
}
