package subinterp

// #include "shim.h"
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"strconv"
	"sync"
	"time"
)

// FutureState is the state of a pool task.
type FutureState int

const (
	// FuturePending: queued, not started.
	FuturePending FutureState = C.SUBINTERP_FUTURE_PENDING
	// FutureRunning: a worker runs it.
	FutureRunning FutureState = C.SUBINTERP_FUTURE_RUNNING
	// FutureFinished: it ran, to a result or an error.
	FutureFinished FutureState = C.SUBINTERP_FUTURE_FINISHED
	// FutureCancelled: cancelled before it started; it never ran.
	FutureCancelled FutureState = C.SUBINTERP_FUTURE_CANCELLED
)

// String is "pending", "running", "finished" or "cancelled".
func (s FutureState) String() string {
	switch s {
	case FuturePending:
		return "pending"
	case FutureRunning:
		return "running"
	case FutureFinished:
		return "finished"
	case FutureCancelled:
		return "cancelled"
	}
	return "FutureState(" + strconv.Itoa(int(s)) + ")"
}

// Future is a task submitted to a Pool: its state, its outcome, a channel
// closed when it is done, and cancellation. Any goroutine may use it.
//
// Close drops the handle (the task is not cancelled); a cleanup drops it if
// the Future becomes unreachable unclosed, as a safety net. A Future stays
// valid after its pool is closed.
type Future struct {
	// mu guards ptr: calls hold it for reading, Close for writing. Waits
	// run in slices of pollInterval, so Close never waits long.
	mu      sync.RWMutex
	ptr     *C.subinterp_future
	cleanup runtime.Cleanup
	done    chan struct{}
	once    sync.Once
	doneErr error
	// opts are the task's options (what it captures).
	opts RunOptions
}

func newFuture(p *C.subinterp_future, opts RunOptions) *Future {
	f := &Future{ptr: p, done: make(chan struct{}), opts: opts}
	f.cleanup = runtime.AddCleanup(f, freeFuture, p)
	return f
}

// freeFuture is the cleanup (a C pointer: nothing of Go's kept reachable).
func freeFuture(p *C.subinterp_future) { C.subinterp_future_free(p) }

// errClosedFuture is what a Future's methods give after Close.
func errClosedFuture() error { return errorf(StatusInvalidArgument, "the future handle was closed") }

// call runs a C call on the future, refusing a closed handle.
func (f *Future) call(shim func(*C.subinterp_future, *C.si_error) C.subinterp_status) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.ptr == nil {
		return errClosedFuture()
	}
	return check(func(e *C.si_error) C.subinterp_status { return shim(f.ptr, e) })
}

// State is the task's state now.
func (f *Future) State() (FutureState, error) {
	var state C.subinterp_future_state
	err := f.call(func(p *C.subinterp_future, e *C.si_error) C.subinterp_status {
		return C.si_future_get_state(p, &state, e)
	})
	return FutureState(state), err
}

// Done is a channel closed once the task is finished or cancelled, for
// select. The first call registers a completion callback with the library
// (it runs on the pool's worker thread and only closes the channel); the
// channel of a closed Future whose callback was never registered is never
// closed.
func (f *Future) Done() <-chan struct{} {
	f.once.Do(func() {
		// The library keeps the handle (an integer), never a Go pointer;
		// the callback deletes it.
		h := cgo.NewHandle(f.done)
		f.doneErr = f.call(func(p *C.subinterp_future, e *C.si_error) C.subinterp_status {
			return C.si_future_on_done(p, C.uintptr_t(h), e)
		})
		if f.doneErr != nil {
			h.Delete()
		}
	})
	return f.done
}

// siGoFutureDone is the completion callback (shim.h): it runs on the thread
// that completed the future, or at once in Done, and only closes a channel.
//
//export siGoFutureDone
func siGoFutureDone(handle C.uintptr_t) {
	h := cgo.Handle(handle)
	done := h.Value().(chan struct{})
	h.Delete()
	close(done)
}

// Wait waits until the task is finished or cancelled (nil), or ctx is done:
// then an error matching both ErrTimeout and ctx.Err(). It does not cancel
// the task.
func (f *Future) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return &Error{Status: StatusTimeout, Message: "the context is done before the task: " + err.Error(), cause: err}
		}
		slice := pollInterval
		if deadline, ok := ctx.Deadline(); ok {
			slice = min(slice, max(time.Until(deadline), 0))
		}
		err := f.WaitTimeout(slice)
		if err == nil || !isStatus(err, StatusTimeout) {
			return err
		}
	}
}

// WaitTimeout waits at most timeout (0: just look) for the task to be
// finished or cancelled: nil when it is, ErrTimeout when not yet.
func (f *Future) WaitTimeout(timeout time.Duration) error {
	return f.call(func(p *C.subinterp_future, e *C.si_error) C.subinterp_status {
		return C.si_future_wait(p, C.double(max(timeout, 0).Seconds()), e)
	})
}

// Result waits for the task as Wait does and returns its outcome: the
// callable's result, or its error (a *PythonError; ErrTimeout for its
// deadline; ErrCancelled when cancelled before or while running; ...). It
// may be called again. A ctx done first gives Wait's error, the task going
// on (see Pool.Call to cancel it with the context).
func (f *Future) Result(ctx context.Context) (any, error) {
	result, _, err := f.ResultWithOutput(ctx)
	return result, err
}

// ResultWithOutput is Result plus the output the task captured (tasks
// submitted with capture options; the error carries it too).
func (f *Future) ResultWithOutput(ctx context.Context) (any, Output, error) {
	if err := f.Wait(ctx); err != nil {
		return nil, Output{}, err
	}
	var result *C.subinterp_data
	var out *C.subinterp_output
	err := f.call(func(p *C.subinterp_future, e *C.si_error) C.subinterp_status {
		return C.si_future_result(p, &result, &out, e)
	})
	output, err := finishRun(err, out, f.opts)
	if err != nil {
		return nil, output, err
	}
	converted, err := take(result)
	return converted, output, err
}

// Cancel cancels the task: a pending task never runs (it is cancelled at
// once); a running one is interrupted as by Interpreter.Interrupt (its
// result is ErrCancelled unless it returns first; Cancel returns once the
// exception is set, not when the task ends); a finished one is left as it
// is. It reports whether the task was stopped or will be (false: it had
// already finished).
func (f *Future) Cancel() (bool, error) {
	var cancelled C.int
	err := f.call(func(p *C.subinterp_future, e *C.si_error) C.subinterp_status {
		return C.si_future_cancel(p, &cancelled, e)
	})
	return cancelled != 0, err
}

// Close drops the handle; the task is not cancelled. Idempotent.
func (f *Future) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ptr != nil {
		f.cleanup.Stop()
		C.subinterp_future_free(f.ptr)
		f.ptr = nil
	}
	return nil
}

// isStatus reports whether err is a library error of that status.
func isStatus(err error, status Status) bool {
	failure, ok := err.(*Error)
	return ok && failure.Status == status
}
