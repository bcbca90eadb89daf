package subinterp

// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"unsafe"
)

// PoolOptions are the options of NewPool; the zero value is one isolated
// worker per CPU, an unbounded queue, workers never replaced.
type PoolOptions struct {
	// Workers is the number of workers; 0: one per online CPU.
	Workers int
	// Config is each worker interpreter's config; nil: IsolatedConfig.
	Config *Config
	// InitSource runs once in each new worker's __main__ before any task.
	InitSource string
	// InitCallable is called once in each new worker after InitSource
	// ("module:qualname" or a name, as Interpreter.Call takes), with
	// InitArgs as positional arguments.
	InitCallable string
	InitArgs     []any
	// MaxQueued is the most tasks waiting for a worker; 0: unbounded. A
	// full queue makes Submit wait for room (back-pressure).
	MaxQueued int
	// MaxTasksPerWorker replaces a worker's interpreter with a fresh one
	// (config and init again) after this many tasks; 0: never.
	MaxTasksPerWorker int
}

// TaskOptions are the options of one pool task (SubmitWith, CallWith).
type TaskOptions struct {
	// Kwargs are keyword arguments of the callable.
	Kwargs map[string]any
	// RunOptions apply to the task: capture, Strict, and Timeout, counted
	// from when a worker takes the task.
	RunOptions
	// NoWait makes a submit fail at once with ErrQueueFull when MaxQueued
	// tasks are waiting, instead of waiting for room.
	NoWait bool
}

// PoolStats are a pool's counters.
type PoolStats struct {
	Workers     int // workers asked for
	LiveWorkers int // workers with a usable interpreter
	BusyWorkers int // workers running a task now
	Queued      uint64
	Submitted   uint64
	Succeeded   uint64
	Failed      uint64 // timed out included
	TimedOut    uint64
	Cancelled   uint64 // before or while running
	Replaced    uint64 // worker interpreters replaced by fresh ones
}

// WorkerInfo describes one worker of a pool.
type WorkerInfo struct {
	// Alive reports whether it has a usable interpreter.
	Alive bool
	// InterpreterID is its interpreter's id; -1 while it has none.
	InterpreterID int64
	// Busy reports whether it runs a task now.
	Busy bool
	// Tasks it ran (over all its interpreters), how many of them failed,
	// and how many times its interpreter was replaced.
	Tasks, Failed, Replaced uint64
}

// Interpreter is a handle on the worker's interpreter (FromID: Close never
// destroys it), e.g. to Interrupt it. The pool owns the interpreter:
// Destroy fails with ErrBusy.
func (w WorkerInfo) Interpreter() *Interpreter { return FromID(w.InterpreterID) }

// Pool is a set of warm worker interpreters, each on an OS thread of its
// own, that run tasks ("module:qualname" + arguments) from a FIFO queue in
// parallel: Submit returns a Future, Call waits for the result, Map spreads
// a list of calls.
//
// Health: a failed task is followed by a probe of its worker, and a worker
// whose interpreter no longer works is replaced by a fresh one; so is one
// that reached MaxTasksPerWorker. A replacement whose init fails leaves the
// pool degraded (Check); with no worker left, tasks fail with ErrRuntime.
//
// Any goroutine may use a Pool. Close shuts it down (pending tasks
// cancelled, running ones awaited) and frees it; a cleanup does so if it
// becomes unreachable unclosed, as a safety net only.
type Pool struct {
	// mu guards ptr: calls hold it for reading, Close for writing.
	mu      sync.RWMutex
	ptr     *C.subinterp_pool
	cleanup runtime.Cleanup
}

// NewPool creates a pool and waits until every worker has its interpreter
// and has run the init. If a worker fails to start, no pool is made and the
// first failure is returned, its message prefixed with "pool worker N: " (a
// *PythonError with the init's traceback, ErrConfig, ...).
func NewPool(opts PoolOptions) (*Pool, error) {
	if opts.Workers < 0 || opts.MaxQueued < 0 || opts.MaxTasksPerWorker < 0 {
		return nil, errorf(StatusInvalidArgument, "negative Workers, MaxQueued or MaxTasksPerWorker")
	}
	var raw C.subinterp_pool_options
	C.subinterp_pool_options_init(&raw)
	raw.workers = C.uint32_t(opts.Workers)
	raw.max_queued = C.size_t(opts.MaxQueued)
	raw.max_tasks_per_worker = C.uint64_t(opts.MaxTasksPerWorker)
	if opts.Config != nil {
		config := (*C.subinterp_config)(C.malloc(C.size_t(unsafe.Sizeof(C.subinterp_config{}))))
		defer C.free(unsafe.Pointer(config))
		*config = opts.Config.toC()
		raw.config = config
	}
	if opts.InitSource != "" {
		source, err := cString(opts.InitSource, "init source")
		if err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(source))
		raw.init_source = source
	}
	if opts.InitCallable != "" {
		name, err := cString(opts.InitCallable, "init callable")
		if err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(name))
		raw.init_callable = name
	}
	if opts.InitArgs != nil {
		args, err := newData(Tuple(opts.InitArgs))
		if err != nil {
			return nil, err
		}
		defer args.free()
		raw.init_args = args.ptr
	}
	var ptr *C.subinterp_pool
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_pool_create(&raw, &ptr, e) }); err != nil {
		return nil, err
	}
	p := &Pool{ptr: ptr}
	p.cleanup = runtime.AddCleanup(p, freeUnreachablePool, ptr)
	return p, nil
}

// freeUnreachablePool is the safety net of a Pool never closed. Freeing
// waits for running tasks: not on the cleanup goroutine.
func freeUnreachablePool(ptr *C.subinterp_pool) {
	go C.subinterp_pool_free(ptr)
}

// errClosedPool is what a Pool's methods give after Close.
func errClosedPool() error { return errorf(StatusClosed, "the pool was closed") }

// call runs a C call on the pool, refusing a closed one.
func (p *Pool) call(shim func(*C.subinterp_pool, *C.si_error) C.subinterp_status) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return errClosedPool()
	}
	return check(func(e *C.si_error) C.subinterp_status { return shim(p.ptr, e) })
}

// Submit queues a call of callable with args and returns its Future. When
// MaxQueued tasks are waiting it waits for room until ctx is done: then it
// fails with an error matching both ErrQueueFull and ctx.Err(). ctx bounds
// only that wait: the task goes on after ctx is done (see Call). Also
// ErrClosed after Shutdown, ErrRuntime when no worker is left.
func (p *Pool) Submit(ctx context.Context, callable string, args ...any) (*Future, error) {
	return p.SubmitWith(ctx, callable, args, TaskOptions{})
}

// SubmitWith is Submit with keyword arguments and options.
func (p *Pool) SubmitWith(ctx context.Context, callable string, args []any, opts TaskOptions) (*Future, error) {
	raw := opts.RunOptions.toC()
	return p.submit(ctx, callable, args, opts, &raw)
}

func (p *Pool) submit(ctx context.Context, callable string, args []any, opts TaskOptions,
	raw *C.subinterp_run_options) (*Future, error) {
	name, err := cString(callable, "callable")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(name))
	argData, err := newData(Tuple(args))
	if err != nil {
		return nil, err
	}
	defer argData.free()
	var kwData *data
	if len(opts.Kwargs) > 0 {
		if kwData, err = newData(opts.Kwargs); err != nil {
			return nil, err
		}
		defer kwData.free()
	}
	var future *C.subinterp_future
	attempt := func(wait float64) error {
		return p.call(func(pool *C.subinterp_pool, e *C.si_error) C.subinterp_status {
			return C.si_pool_submit(pool, name, argData.ptr, kwData.cptr(), raw, C.double(wait), &future, e)
		})
	}
	if opts.NoWait {
		err = attempt(C.SUBINTERP_NO_WAIT)
	} else {
		err = waitWith(ctx, StatusQueueFull, attempt)
	}
	if err != nil {
		return nil, err
	}
	return newFuture(future, opts.RunOptions), nil
}

// Call submits a call of callable with args (waiting for room while ctx
// allows) and waits for its result:
//
//   - ctx's deadline is also the task's deadline: a task still running
//     then is interrupted, and one not started is cancelled; the error
//     matches both ErrTimeout and context.DeadlineExceeded;
//   - ctx's cancellation cancels the task (Future.Cancel: a running task is
//     interrupted); the error matches both ErrCancelled and
//     context.Canceled.
//
// Call returns once the task is cancelled, without waiting for an
// interrupted task to unwind.
func (p *Pool) Call(ctx context.Context, callable string, args ...any) (any, error) {
	result, _, err := p.CallWith(ctx, callable, args, TaskOptions{})
	return result, err
}

// CallWith is Call with keyword arguments and options; it also returns the
// captured output. The sooner of ctx's deadline and opts.Timeout is the
// task's deadline.
func (p *Pool) CallWith(ctx context.Context, callable string, args []any, opts TaskOptions) (any, Output, error) {
	timeout, fromContext, err := runTimeout(ctx, opts.Timeout)
	if err != nil {
		return nil, Output{}, err
	}
	raw := opts.RunOptions.toC()
	raw.timeout = timeout
	future, err := p.submit(ctx, callable, args, opts, &raw)
	if err != nil {
		return nil, Output{}, err
	}
	defer future.Close()
	return future.resultUnder(ctx, fromContext)
}

// resultUnder waits for the result until ctx is done, then cancels the task.
func (f *Future) resultUnder(ctx context.Context, fromContext bool) (any, Output, error) {
	if err := f.Wait(ctx); err != nil {
		cancelled, cancelErr := f.Cancel()
		if cancelErr != nil {
			return nil, Output{}, cancelErr
		}
		if cancelled {
			return nil, Output{}, contextError(ctx.Err())
		}
		// It finished meanwhile: its outcome stands.
	}
	result, output, err := f.ResultWithOutput(context.Background())
	return result, output, outcomeUnder(ctx, err, fromContext)
}

// Map calls callable once per element of argLists (each the positional
// arguments of one call), spread over the workers, and returns the results
// in the same order. On the first failure in order, the calls not yet
// started are cancelled and that failure is returned, its message prefixed
// with "item N: ". ctx is as for Call: its deadline is each call's deadline
// and its cancellation cancels the calls not finished.
//
// With a context that is never done (context.Background()) the whole map is
// one call into the library; otherwise each element is a task of its own.
func (p *Pool) Map(ctx context.Context, callable string, argLists [][]any) ([]any, error) {
	return p.MapWith(ctx, callable, argLists, RunOptions{})
}

// MapWith is Map with options for every call (Timeout is each call's).
func (p *Pool) MapWith(ctx context.Context, callable string, argLists [][]any, opts RunOptions) ([]any, error) {
	if ctx.Done() != nil {
		return p.mapTasks(ctx, callable, argLists, opts)
	}
	name, err := cString(callable, "callable")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(name))
	lists := make([]any, len(argLists))
	for i, args := range argLists {
		lists[i] = Tuple(args)
	}
	listData, err := newData(lists)
	if err != nil {
		return nil, err
	}
	defer listData.free()
	raw := opts.toC()
	var results *C.subinterp_data
	err = p.call(func(pool *C.subinterp_pool, e *C.si_error) C.subinterp_status {
		return C.si_pool_map(pool, name, listData.ptr, &raw, &results, e)
	})
	if err != nil {
		return nil, err
	}
	return takeList(results, "pool_map")
}

// mapTasks is Map under a context that can end: one future per element.
func (p *Pool) mapTasks(ctx context.Context, callable string, argLists [][]any, opts RunOptions) ([]any, error) {
	futures := make([]*Future, 0, len(argLists))
	defer func() {
		for _, f := range futures {
			_, _ = f.Cancel() // a no-op for finished tasks
			_ = f.Close()
		}
	}()
	var fromContext bool
	for _, args := range argLists {
		timeout, fromCtx, err := runTimeout(ctx, opts.Timeout)
		if err != nil {
			return nil, err
		}
		fromContext = fromCtx
		raw := opts.toC()
		raw.timeout = timeout
		f, err := p.submit(ctx, callable, args, TaskOptions{RunOptions: opts}, &raw)
		if err != nil {
			return nil, err
		}
		futures = append(futures, f)
	}
	results := make([]any, len(futures))
	for i, f := range futures {
		result, _, err := f.resultUnder(ctx, fromContext)
		if err != nil {
			return nil, prefixed(err, fmt.Sprintf("item %d: ", i))
		}
		results[i] = result
	}
	return results, nil
}

// prefixed puts prefix before the message of a library error.
func prefixed(err error, prefix string) error {
	var python *PythonError
	var failure *Error
	switch {
	case errors.As(err, &python):
		python.Message = prefix + python.Message
	case errors.As(err, &failure):
		failure.Message = prefix + failure.Message
	}
	return err
}

// Shutdown stops accepting tasks (later submits fail with ErrClosed).
// cancelPending cancels the queued tasks (their futures end cancelled);
// otherwise the workers run them. wait returns once every worker has
// finished and destroyed its interpreter. Running tasks are not interrupted
// (cancel their futures for that). Calling it again is fine.
func (p *Pool) Shutdown(wait, cancelPending bool) error {
	return p.call(func(pool *C.subinterp_pool, e *C.si_error) C.subinterp_status {
		return C.si_pool_shutdown(pool, cbool(wait), cbool(cancelPending), e)
	})
}

// Check is nil while every worker is alive; ErrRuntime with the cause when
// a worker could not be replaced (degraded) or the pool is shut down.
func (p *Pool) Check() error {
	return p.call(func(pool *C.subinterp_pool, e *C.si_error) C.subinterp_status { return C.si_pool_check(pool, e) })
}

// Stats are the pool's counters now.
func (p *Pool) Stats() (PoolStats, error) {
	raw := C.subinterp_pool_stats{struct_size: C.uint32_t(unsafe.Sizeof(C.subinterp_pool_stats{}))}
	err := p.call(func(pool *C.subinterp_pool, e *C.si_error) C.subinterp_status {
		return C.si_pool_get_stats(pool, &raw, e)
	})
	return PoolStats{
		Workers:     int(raw.workers),
		LiveWorkers: int(raw.live_workers),
		BusyWorkers: int(raw.busy_workers),
		Queued:      uint64(raw.queued),
		Submitted:   uint64(raw.submitted),
		Succeeded:   uint64(raw.succeeded),
		Failed:      uint64(raw.failed),
		TimedOut:    uint64(raw.timed_out),
		Cancelled:   uint64(raw.cancelled),
		Replaced:    uint64(raw.replaced),
	}, err
}

// Worker describes worker i (0 <= i < Stats().Workers); ErrIndex past the
// end.
func (p *Pool) Worker(i int) (WorkerInfo, error) {
	if i < 0 {
		return WorkerInfo{}, errorf(StatusIndex, "negative worker index %d", i)
	}
	raw := C.subinterp_pool_worker{struct_size: C.uint32_t(unsafe.Sizeof(C.subinterp_pool_worker{}))}
	err := p.call(func(pool *C.subinterp_pool, e *C.si_error) C.subinterp_status {
		return C.si_pool_get_worker(pool, C.size_t(i), &raw, e)
	})
	if err != nil {
		return WorkerInfo{}, err
	}
	return WorkerInfo{
		Alive:         raw.alive != 0,
		InterpreterID: int64(raw.interpreter_id),
		Busy:          raw.busy != 0,
		Tasks:         uint64(raw.tasks),
		Failed:        uint64(raw.failed),
		Replaced:      uint64(raw.replaced),
	}, nil
}

// Close shuts the pool down, cancelling the pending tasks, waits for the
// running ones (cancel their futures first to interrupt them) and frees it.
// Submits blocked for room wake with ErrClosed; later calls fail with
// ErrClosed. Futures stay valid. Idempotent.
func (p *Pool) Close() error {
	// Wake blocked submitters (they hold the read lock) before taking the
	// write lock.
	_ = p.Shutdown(false, true)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr != nil {
		p.cleanup.Stop()
		C.subinterp_pool_free(p.ptr)
		p.ptr = nil
	}
	return nil
}
