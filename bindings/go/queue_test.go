package subinterp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

func newQueue(t testing.TB, opts subinterp.QueueOptions) *subinterp.Queue {
	t.Helper()
	q, err := subinterp.NewQueue(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func TestQueueFIFOAndInfo(t *testing.T) {
	q := newQueue(t, subinterp.QueueOptions{MaxSize: 10, Unbound: subinterp.UnboundError})
	ctx := context.Background()
	for n := range 5 {
		if err := q.Put(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	info := must[subinterp.QueueInfo](t)(q.Info())
	want := subinterp.QueueInfo{ID: q.ID(), MaxSize: 10, Unbound: subinterp.UnboundError, Size: 5}
	if info != want {
		t.Errorf("Info = %+v, want %+v", info, want)
	}
	for n := range 5 {
		assertEqual(t, must[any](t)(q.Get(ctx)), int64(n))
	}
	if _, err := q.TryGet(); !errors.Is(err, subinterp.ErrQueueEmpty) {
		t.Errorf("TryGet of an empty queue: %v", err)
	}
	if ids := must[[]int64](t)(subinterp.ListQueues()); !contains(ids, q.ID()) {
		t.Errorf("ListQueues lacks %d", q.ID())
	}
	defaults := newQueue(t, subinterp.QueueOptions{})
	if info := must[subinterp.QueueInfo](t)(defaults.Info()); info.MaxSize != 0 || info.Unbound != subinterp.UnboundReplace {
		t.Errorf("default Info = %+v", info)
	}
}

func TestQueueFullAndTimeouts(t *testing.T) {
	q := newQueue(t, subinterp.QueueOptions{MaxSize: 1})
	if err := q.TryPut("a"); err != nil {
		t.Fatal(err)
	}
	if err := q.TryPut("b"); !errors.Is(err, subinterp.ErrQueueFull) {
		t.Errorf("TryPut into a full queue: %v", err)
	}
	start := time.Now()
	if err := q.PutTimeout("b", 100*time.Millisecond); !errors.Is(err, subinterp.ErrQueueFull) ||
		time.Since(start) < 100*time.Millisecond {
		t.Errorf("PutTimeout: %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
	defer cancel()
	start = time.Now()
	err := q.Put(ctx, "b")
	if !errors.Is(err, subinterp.ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Put past the deadline: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 80*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("Put waited %v for an 80ms deadline", elapsed)
	}
	assertEqual(t, must[any](t)(q.TryGet()), "a")
	start = time.Now()
	if _, err := q.GetTimeout(120 * time.Millisecond); !errors.Is(err, subinterp.ErrQueueEmpty) ||
		time.Since(start) < 120*time.Millisecond {
		t.Errorf("GetTimeout: %v after %v", err, time.Since(start))
	}
}

func TestQueueGetHonoursCancellation(t *testing.T) {
	q := newQueue(t, subinterp.QueueOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := q.Get(ctx)
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancelled := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, subinterp.ErrQueueEmpty) {
			t.Errorf("cancelled Get: %v", err)
		}
		if latency := time.Since(cancelled); latency > time.Second {
			t.Errorf("cancellation took %v", latency)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Get ignored the cancellation")
	}
	// An item wakes a blocked Get at once, cancellable context or not.
	go func() {
		time.Sleep(30 * time.Millisecond)
		_ = q.Put(context.Background(), "wake")
	}()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	assertEqual(t, must[any](t)(q.Get(ctx)), "wake")
}

func TestQueueShutdownDrainsThenRefuses(t *testing.T) {
	q := newQueue(t, subinterp.QueueOptions{})
	ctx := context.Background()
	_ = q.Put(ctx, 1)
	for range 2 {
		if err := q.Shutdown(); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Put(ctx, 2); !errors.Is(err, subinterp.ErrClosed) {
		t.Errorf("Put after Shutdown: %v", err)
	}
	assertEqual(t, must[any](t)(q.Get(ctx)), int64(1))
	if _, err := q.Get(ctx); !errors.Is(err, subinterp.ErrClosed) {
		t.Errorf("Get of a drained closed queue: %v", err)
	}
	blocked := newQueue(t, subinterp.QueueOptions{})
	done := make(chan error, 1)
	go func() { _, err := blocked.Get(ctx); done <- err }()
	time.Sleep(30 * time.Millisecond)
	_ = blocked.Shutdown()
	if err := <-done; !errors.Is(err, subinterp.ErrClosed) {
		t.Errorf("blocked Get woken by Shutdown: %v", err)
	}
}

func TestQueueDestroyAndHolds(t *testing.T) {
	q := must[*subinterp.Queue](t)(subinterp.NewQueue(subinterp.QueueOptions{}))
	other := must[*subinterp.Queue](t)(subinterp.QueueFromID(q.ID()))
	done := make(chan error, 1)
	go func() { _, err := other.Get(context.Background()); done <- err }()
	time.Sleep(30 * time.Millisecond)
	if err := q.Destroy(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("blocked Get woken by Destroy: %v", err)
	}
	if err := q.TryPut(1); !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("Put after Destroy: %v", err)
	}
	if _, err := subinterp.QueueFromID(q.ID()); !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("QueueFromID after Destroy: %v", err)
	}
	q.Close()
	other.Close()
	other.Close()
	if err := other.TryPut(1); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("TryPut through a closed handle: %v", err)
	}

	// The last hold destroys the queue.
	first := must[*subinterp.Queue](t)(subinterp.NewQueue(subinterp.QueueOptions{}))
	second := must[*subinterp.Queue](t)(subinterp.QueueFromID(first.ID()))
	first.Close()
	if err := second.TryPut("still here"); err != nil {
		t.Errorf("a second hold keeps the queue: %v", err)
	}
	second.Close()
	if _, err := subinterp.QueueFromID(first.ID()); !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("the last Close should destroy it: %v", err)
	}
	if err := subinterp.ToData(first); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("passing a closed handle: %v", err)
	}
}

func TestQueuesCrossIntoPython(t *testing.T) {
	q := newQueue(t, subinterp.QueueOptions{})
	interp := newInterp(t)
	if err := interp.PrepareMain(map[string]any{"q": q}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = q.Put(ctx, subinterp.Tuple{1, "from go"})
	mustExec(t, interp, "item = q.get(timeout=5)\nq.put(('echo',) + item)")
	assertEqual(t, must[any](t)(q.Get(ctx)), subinterp.Tuple{"echo", int64(1), "from go"})
	made := must[any](t)(interp.Call("eval", "__import__('_subinterp').create_queue(maxsize=4)")).(*subinterp.Queue)
	defer made.Close()
	if info := must[subinterp.QueueInfo](t)(made.Info()); info.MaxSize != 4 {
		t.Errorf("queue made in Python: %+v", info)
	}
	// A Python get blocked in another goroutine is woken by a Go put.
	done := make(chan any, 1)
	go func() { v, _ := interp.Call("eval", "q.get(timeout=10) * 2"); done <- v }()
	time.Sleep(50 * time.Millisecond)
	_ = q.Put(ctx, 21)
	assertEqual(t, <-done, int64(42))
}

// itemsOfDestroyedInterpreter puts two items from Python and one from Go,
// then destroys the interpreter.
func itemsOfDestroyedInterpreter(t *testing.T, policy subinterp.UnboundPolicy) *subinterp.Queue {
	q := newQueue(t, subinterp.QueueOptions{Unbound: policy})
	interp := must[*subinterp.Interpreter](t)(subinterp.New())
	if err := interp.PrepareMain(map[string]any{"q": q}); err != nil {
		t.Fatal(err)
	}
	mustExec(t, interp, "q.put('a')\nq.put('b')")
	_ = q.TryPut("from go")
	if err := interp.Close(); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestUnboundItems(t *testing.T) {
	replaced := itemsOfDestroyedInterpreter(t, subinterp.UnboundReplace)
	for range 2 {
		if item := must[any](t)(replaced.TryGet()); item != subinterp.Unbound {
			t.Errorf("replaced item = %#v", item)
		}
	}
	assertEqual(t, must[any](t)(replaced.TryGet()), "from go")

	failing := itemsOfDestroyedInterpreter(t, subinterp.UnboundError)
	for range 2 {
		if _, err := failing.TryGet(); !errors.Is(err, subinterp.ErrUnbound) {
			t.Errorf("unbound error item: %v", err)
		}
	}
	assertEqual(t, must[any](t)(failing.TryGet()), "from go")

	removed := itemsOfDestroyedInterpreter(t, subinterp.UnboundRemove)
	if n := must[int](t)(removed.Len()); n != 1 {
		t.Errorf("removed: %d items left", n)
	}
}

func TestQueuesTravelThroughQueues(t *testing.T) {
	outer := newQueue(t, subinterp.QueueOptions{})
	inner := newQueue(t, subinterp.QueueOptions{})
	_ = outer.TryPut(inner)
	received := must[any](t)(outer.TryGet()).(*subinterp.Queue)
	defer received.Close()
	_ = received.TryPut("through")
	assertEqual(t, must[any](t)(inner.TryGet()), "through")
}
