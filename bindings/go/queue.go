package subinterp

// #include "shim.h"
import "C"

import (
	"context"
	"errors"
	"runtime"
	"time"
	"unsafe"
)

// UnboundPolicy says what a Get returns for an item whose putting
// interpreter was destroyed (items put by Go are never unbound).
type UnboundPolicy int

const (
	// UnboundReplace: Get returns the Unbound marker (the default).
	UnboundReplace UnboundPolicy = C.SUBINTERP_UNBOUND_REPLACE
	// UnboundError: Get fails with ErrUnbound (and consumes the item).
	UnboundError UnboundPolicy = C.SUBINTERP_UNBOUND_ERROR
	// UnboundRemove: the item disappears.
	UnboundRemove UnboundPolicy = C.SUBINTERP_UNBOUND_REMOVE
)

// QueueOptions are the options of NewQueue; the zero value is an unbounded
// queue that replaces unbound items.
type QueueOptions struct {
	// MaxSize is the most items the queue holds; 0 for no limit.
	MaxSize int
	// Unbound is the default policy for items of destroyed interpreters;
	// 0 means UnboundReplace.
	Unbound UnboundPolicy
}

// QueueInfo describes a queue.
type QueueInfo struct {
	ID      int64
	MaxSize int
	Unbound UnboundPolicy
	Size    int
	Closed  bool
}

// pollInterval bounds how long one blocking C call waits when the context
// can be cancelled: the wait goes on in slices, and cancellation is seen
// within one. Items and deadlines are seen at once (the C call wakes on them).
const pollInterval = 20 * time.Millisecond

// Queue is a process-wide FIFO queue of values, shared by every goroutine
// and, passed as a value to Python code, by every interpreter (where it is a
// Queue object with put/get).
//
// A Queue holds the queue until Close (after which its methods fail with
// ErrInvalidArgument); queue values, other handles and Python objects hold
// it too, and the last holder destroys it. A cleanup releases the hold of a
// Queue that becomes unreachable unclosed, as a safety net.
type Queue struct {
	handle
	id int64
}

// NewQueue creates a queue.
func NewQueue(opts QueueOptions) (*Queue, error) {
	if opts.MaxSize < 0 {
		return nil, errorf(StatusInvalidArgument, "negative MaxSize %d", opts.MaxSize)
	}
	if opts.Unbound == 0 {
		opts.Unbound = UnboundReplace
	}
	raw := C.subinterp_queue_options{
		struct_size: C.uint32_t(unsafe.Sizeof(C.subinterp_queue_options{})),
		maxsize:     C.size_t(opts.MaxSize),
		unbound:     C.subinterp_unbound(opts.Unbound),
	}
	var id C.int64_t
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_queue_create(&raw, &id, e) }); err != nil {
		return nil, err
	}
	// Hold the queue through a queue value, then drop create's own hold.
	q, err := QueueFromID(int64(id))
	release := check(func(e *C.si_error) C.subinterp_status { return C.si_queue_release(id, e) })
	if err != nil {
		return nil, err
	}
	return q, release
}

// QueueFromID holds the live queue id (one made elsewhere, e.g. by Python
// code); ErrNotFound if there is none.
func QueueFromID(id int64) (*Queue, error) {
	d, err := create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return C.si_data_new_queue(C.int64_t(id), o, e)
	})
	if err != nil {
		return nil, err
	}
	return newQueue(d, id), nil
}

// queueOf takes a new reference to a queue value read from C.
func queueOf(p *C.subinterp_data) (*Queue, error) {
	var id C.int64_t
	if err := check(func(e *C.si_error) C.subinterp_status { return C.si_data_get_queue(p, &id, e) }); err != nil {
		return nil, err
	}
	return newQueue(&data{ptr: C.subinterp_data_ref(p)}, int64(id)), nil
}

func newQueue(d *data, id int64) *Queue {
	q := &Queue{id: id}
	attach(q, &q.handle, d.ptr)
	return q
}

// ListQueues gives the live queues' ids in creation order.
func ListQueues() ([]int64, error) {
	return listIDs(func(ids *C.int64_t, capacity C.size_t, count *C.size_t, e *C.si_error) C.subinterp_status {
		return C.si_queue_list(ids, capacity, count, e)
	})
}

// ID is the queue's id (never reused).
func (q *Queue) ID() int64 { return q.id }

// call runs a C call on the queue's id, refusing a closed handle; the
// handle stays reachable (its cleanup cannot run) until the call returns.
func (q *Queue) call(shim func(id C.int64_t, e *C.si_error) C.subinterp_status) error {
	if !q.open() {
		return errClosedHandle("queue")
	}
	err := check(func(e *C.si_error) C.subinterp_status { return shim(C.int64_t(q.id), e) })
	runtime.KeepAlive(q)
	return err
}

// Put appends v (see Interpreter.Call for the Go values allowed), waiting
// while the queue is full until ctx is done: then it fails with an error
// matching both ErrQueueFull and ctx.Err().
func (q *Queue) Put(ctx context.Context, v any) error {
	item, err := newData(v)
	if err != nil {
		return err
	}
	defer item.free()
	return waitWith(ctx, StatusQueueFull, func(timeout float64) error {
		return q.put(item, timeout)
	})
}

// PutTimeout appends v, waiting at most timeout for room (ErrQueueFull after).
func (q *Queue) PutTimeout(v any, timeout time.Duration) error {
	item, err := newData(v)
	if err != nil {
		return err
	}
	defer item.free()
	return q.put(item, timeout.Seconds())
}

// TryPut appends v if there is room now, else ErrQueueFull.
func (q *Queue) TryPut(v any) error {
	return q.PutTimeout(v, 0)
}

func (q *Queue) put(item *data, timeout float64) error {
	return q.call(func(id C.int64_t, e *C.si_error) C.subinterp_status {
		return C.si_queue_put(id, item.ptr, C.double(timeout), e)
	})
}

// Get takes the oldest item, waiting while the queue is empty until ctx is
// done: then it fails with an error matching both ErrQueueEmpty and
// ctx.Err(). It returns Unbound for an item of a destroyed interpreter
// under UnboundReplace, and ErrClosed once the queue is shut down and
// drained.
func (q *Queue) Get(ctx context.Context) (any, error) {
	var result any
	err := waitWith(ctx, StatusQueueEmpty, func(timeout float64) error {
		var err error
		result, err = q.get(timeout)
		return err
	})
	return result, err
}

// GetTimeout takes the oldest item, waiting at most timeout (ErrQueueEmpty after).
func (q *Queue) GetTimeout(timeout time.Duration) (any, error) {
	return q.get(timeout.Seconds())
}

// TryGet takes the oldest item if there is one now, else ErrQueueEmpty.
func (q *Queue) TryGet() (any, error) {
	return q.get(0)
}

func (q *Queue) get(timeout float64) (any, error) {
	var item *C.subinterp_data
	err := q.call(func(id C.int64_t, e *C.si_error) C.subinterp_status {
		return C.si_queue_get(id, C.double(timeout), &item, e)
	})
	if err != nil {
		return nil, err
	}
	if item == nil {
		return Unbound, nil
	}
	return take(item)
}

// waitWith runs a timed C wait until it succeeds or ctx is done. Without a
// cancellable context it is one C call (forever or to the deadline); with
// one, slices of pollInterval.
func waitWith(ctx context.Context, timedOut Status, attempt func(timeout float64) error) error {
	for {
		if err := ctx.Err(); err != nil {
			return &Error{Status: timedOut, Message: "the context is done: " + err.Error(), cause: err}
		}
		timeout := float64(C.SUBINTERP_WAIT_FOREVER)
		deadline, hasDeadline := ctx.Deadline()
		if hasDeadline {
			timeout = max(time.Until(deadline).Seconds(), 0)
		}
		cancellable := ctx.Done() != nil
		if cancellable && (timeout < 0 || timeout > pollInterval.Seconds()) {
			timeout = pollInterval.Seconds()
		}
		err := attempt(timeout)
		var failure *Error
		if err == nil || !errors.As(err, &failure) || failure.Status != timedOut {
			return err
		}
		if !cancellable {
			return failure
		}
		if hasDeadline && !time.Now().Before(deadline) {
			failure.cause = context.DeadlineExceeded
			return failure
		}
	}
}

// Len is the number of items now (unbound ones included).
func (q *Queue) Len() (int, error) {
	var n C.size_t
	err := q.call(func(id C.int64_t, e *C.si_error) C.subinterp_status { return C.si_queue_size(id, &n, e) })
	return int(n), err
}

// Info describes the queue.
func (q *Queue) Info() (QueueInfo, error) {
	raw := C.subinterp_queue_info{struct_size: C.uint32_t(unsafe.Sizeof(C.subinterp_queue_info{}))}
	err := q.call(func(id C.int64_t, e *C.si_error) C.subinterp_status { return C.si_queue_get_info(id, &raw, e) })
	return QueueInfo{
		ID:      int64(raw.id),
		MaxSize: int(raw.maxsize),
		Unbound: UnboundPolicy(raw.unbound),
		Size:    int(raw.size),
		Closed:  raw.closed != 0,
	}, err
}

// Shutdown closes the queue for everyone, like closing a channel: puts fail
// with ErrClosed, gets return the items left and then fail with ErrClosed,
// and blocked callers wake. Idempotent. (Close only drops this handle.)
func (q *Queue) Shutdown() error {
	return q.call(func(id C.int64_t, e *C.si_error) C.subinterp_status { return C.si_queue_close(id, e) })
}

// Destroy destroys the queue now, whoever holds it: items are dropped,
// blocked callers wake with ErrNotFound, and every later use is ErrNotFound.
func (q *Queue) Destroy() error {
	return q.call(func(id C.int64_t, e *C.si_error) C.subinterp_status { return C.si_queue_destroy(id, e) })
}

// Close drops this handle's hold on the queue (the last hold destroys it).
// Idempotent.
func (q *Queue) Close() error {
	q.close()
	return nil
}
