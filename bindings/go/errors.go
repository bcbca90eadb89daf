package subinterp

// #include "shim.h"
import "C"

import (
	"errors"
	"fmt"
)

// Status is a status code of the C ABI (SUBINTERP_ERR_*).
type Status int32

// The status codes. Their values are part of the C ABI and never change.
const (
	StatusOK              Status = C.SUBINTERP_OK
	StatusInvalidArgument Status = C.SUBINTERP_ERR_INVALID_ARGUMENT
	StatusNotFound        Status = C.SUBINTERP_ERR_NOT_FOUND
	StatusBusy            Status = C.SUBINTERP_ERR_BUSY
	StatusPython          Status = C.SUBINTERP_ERR_PYTHON
	StatusConfig          Status = C.SUBINTERP_ERR_CONFIG
	StatusRuntime         Status = C.SUBINTERP_ERR_RUNTIME
	StatusType            Status = C.SUBINTERP_ERR_TYPE
	StatusOverflow        Status = C.SUBINTERP_ERR_OVERFLOW
	StatusNotShareable    Status = C.SUBINTERP_ERR_NOT_SHAREABLE
	StatusIndex           Status = C.SUBINTERP_ERR_INDEX
	StatusNoMemory        Status = C.SUBINTERP_ERR_NO_MEMORY
	StatusTimeout         Status = C.SUBINTERP_ERR_TIMEOUT
	StatusQueueEmpty      Status = C.SUBINTERP_ERR_QUEUE_EMPTY
	StatusQueueFull       Status = C.SUBINTERP_ERR_QUEUE_FULL
	StatusClosed          Status = C.SUBINTERP_ERR_CLOSED
	StatusCancelled       Status = C.SUBINTERP_ERR_CANCELLED
	StatusUnbound         Status = C.SUBINTERP_ERR_UNBOUND
	StatusInternal        Status = C.SUBINTERP_ERR_INTERNAL
)

// String is the C name of the status, e.g. "SUBINTERP_ERR_NOT_FOUND".
func (s Status) String() string {
	return C.GoString(C.subinterp_status_name(C.subinterp_status(s)))
}

// Sentinel errors, one per status code: errors.Is(err, ErrNotFound) tells
// what went wrong whatever the message.
var (
	ErrInvalidArgument error = statusError(StatusInvalidArgument)
	ErrNotFound        error = statusError(StatusNotFound)
	ErrBusy            error = statusError(StatusBusy)
	ErrPython          error = statusError(StatusPython)
	ErrConfig          error = statusError(StatusConfig)
	ErrRuntime         error = statusError(StatusRuntime)
	ErrType            error = statusError(StatusType)
	ErrOverflow        error = statusError(StatusOverflow)
	ErrNotShareable    error = statusError(StatusNotShareable)
	ErrIndex           error = statusError(StatusIndex)
	ErrNoMemory        error = statusError(StatusNoMemory)
	ErrTimeout         error = statusError(StatusTimeout)
	ErrQueueEmpty      error = statusError(StatusQueueEmpty)
	ErrQueueFull       error = statusError(StatusQueueFull)
	ErrClosed          error = statusError(StatusClosed)
	ErrCancelled       error = statusError(StatusCancelled)
	ErrUnbound         error = statusError(StatusUnbound)
	ErrInternal        error = statusError(StatusInternal)
)

// statusError is the type of the sentinels: a bare status.
type statusError Status

func (s statusError) Error() string { return Status(s).String() }

// Error is a failure reported by the library: its status, its message and,
// when the run asked for capture, the output printed before it failed.
// errors.Is(err, ErrX) matches the sentinel of its status.
type Error struct {
	Status  Status
	Message string
	// Output captured before the failure (nil unless the run captured).
	Output *Output
	// For a run interrupted by its deadline or a cancellation (ErrTimeout,
	// ErrCancelled): the exception raised in the code ("subinterp" and
	// "Interrupted") and the traceback of where the code was, as
	// traceback.format_exception() prints it; "" for other errors.
	Module, Qualname, Traceback string
	// cause is the context error behind the failure (a wait ended early, a
	// deadline or a cancellation), for errors.Is.
	cause error
}

// Unwrap gives the context error behind the failure, if any:
// context.DeadlineExceeded or context.Canceled.
func (e *Error) Unwrap() error { return e.cause }

func (e *Error) Error() string { return fmt.Sprintf("%v: %s", e.Status, e.Message) }

// Is matches the sentinel error of the same status.
func (e *Error) Is(target error) bool {
	s, ok := target.(statusError)
	return ok && Status(s) == e.Status
}

// PythonError is an exception raised by Python code: errors.Is(err,
// ErrPython) holds, and errors.As(err, &pyErr) gives its type, message and
// traceback. The interpreter that raised it stays usable.
type PythonError struct {
	// Module and Qualname of the exception type, e.g. "builtins" and "ValueError".
	Module, Qualname string
	// Message is str(exception).
	Message string
	// Traceback as traceback.format_exception() prints it.
	Traceback string
	// Output captured before the exception (nil unless the run captured).
	Output *Output
}

// Type is "module.qualname", e.g. "json.decoder.JSONDecodeError".
func (e *PythonError) Type() string { return e.Module + "." + e.Qualname }

func (e *PythonError) Error() string { return e.Type() + ": " + e.Message }

// Is matches ErrPython.
func (e *PythonError) Is(target error) bool {
	s, ok := target.(statusError)
	return ok && Status(s) == StatusPython
}

// newError makes a Go error of a failed call's error fields (read by the shim
// in the same cgo call) and frees the C error object.
func newError(status C.subinterp_status, view *C.si_error) error {
	defer C.subinterp_error_free(view.owner)
	if view.code == C.SUBINTERP_ERR_PYTHON && view.module != nil && view.qualname != nil {
		return &PythonError{
			Module:    C.GoString(view.module),
			Qualname:  C.GoString(view.qualname),
			Message:   C.GoString(view.message),
			Traceback: C.GoString(view.traceback),
		}
	}
	if view.message == nil {
		return &Error{Status: Status(status), Message: Status(status).String()}
	}
	failure := &Error{Status: Status(view.code), Message: C.GoString(view.message)}
	if view.module != nil && view.qualname != nil {
		failure.Module, failure.Qualname = C.GoString(view.module), C.GoString(view.qualname)
	}
	if view.traceback != nil {
		failure.Traceback = C.GoString(view.traceback)
	}
	return failure
}

// withCause makes a context's error the cause of a library error (see
// Error.Unwrap); other errors are returned as they are.
func withCause(err, cause error) error {
	var failure *Error
	if cause != nil && errors.As(err, &failure) && failure.cause == nil {
		failure.cause = cause
	}
	return err
}

// check runs a shim and turns its status into an error.
func check(call func(*C.si_error) C.subinterp_status) error {
	var view C.si_error
	if status := call(&view); status != C.SUBINTERP_OK {
		return newError(status, &view)
	}
	return nil
}

// errorf makes an error of a status on the Go side (before any C call).
func errorf(status Status, format string, args ...any) error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// withOutput attaches captured output to an error of the library.
func withOutput(err error, out *Output) error {
	switch e := err.(type) {
	case *PythonError:
		e.Output = out
	case *Error:
		e.Output = out
	}
	return err
}
