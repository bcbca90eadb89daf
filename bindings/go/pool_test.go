package subinterp_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// poolInit defines the tasks of these tests in every worker.
const poolInit = `
count = 0
def bump():
    global count
    count += 1
    return count
def bump_where():
    import _subinterp
    return [bump(), _subinterp.current_interpreter_id()]
def block(started, gate):
    started.put(1)
    return gate.get()
def mark(q, v):
    q.put(v)
    return v
def spin(started):
    started.put(1)
    while True: pass
def fail(msg):
    raise ValueError(msg)
def scale(x, factor=1):
    return x * factor
`

// newPool is a pool closed when the test ends.
func newPool(t testing.TB, opts subinterp.PoolOptions) *subinterp.Pool {
	t.Helper()
	if opts.InitSource == "" {
		opts.InitSource = poolInit
	}
	pool, err := subinterp.NewPool(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pool.Close() })
	return pool
}

// getWithin takes an item from q or fails the test after d.
func getWithin(t testing.TB, q *subinterp.Queue, d time.Duration) any {
	t.Helper()
	item, err := q.GetTimeout(d)
	if err != nil {
		t.Fatalf("queue get: %v", err)
	}
	return item
}

func ctxWithin(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// blocked occupies a one-worker pool: a task that runs until gate gets an item.
func blocked(t testing.TB, pool *subinterp.Pool) (task *subinterp.Future, gate *subinterp.Queue) {
	t.Helper()
	started, gate := newQueue(t, subinterp.QueueOptions{}), newQueue(t, subinterp.QueueOptions{})
	task = must[*subinterp.Future](t)(pool.Submit(context.Background(), "block", started, gate))
	t.Cleanup(func() { _ = task.Close() })
	getWithin(t, started, 10*time.Second)
	return task, gate
}

func TestPoolCalls(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 2})
	ctx := ctxWithin(t, 30*time.Second)
	tests := []struct {
		callable string
		args     []any
		opts     subinterp.TaskOptions
		want     any
		wantErr  error
	}{
		{"scale", []any{21, 2}, subinterp.TaskOptions{}, int64(42), nil},
		{"scale", []any{"ab"}, subinterp.TaskOptions{Kwargs: map[string]any{"factor": 3}}, "ababab", nil},
		{"math:sqrt", []any{16.0}, subinterp.TaskOptions{}, 4.0, nil},
		{"fail", []any{"boom"}, subinterp.TaskOptions{}, nil, subinterp.ErrPython},
		{"no_such_function", nil, subinterp.TaskOptions{}, nil, subinterp.ErrPython},
		{"bad name:", nil, subinterp.TaskOptions{}, nil, subinterp.ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.callable, func(t *testing.T) {
			future, err := pool.SubmitWith(ctx, tt.callable, tt.args, tt.opts)
			if err != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SubmitWith: %v", err)
				}
				return
			}
			defer future.Close()
			got, err := future.Result(ctx)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Result: %v, want %v", err, tt.wantErr)
			}
			assertEqual(t, got, tt.want)
			if state := must[subinterp.FutureState](t)(future.State()); state != subinterp.FutureFinished {
				t.Errorf("state %v", state)
			}
			// Result may be called again.
			again, err2 := future.Result(ctx)
			assertEqual(t, again, got)
			if (err == nil) != (err2 == nil) {
				t.Errorf("second Result: %v", err2)
			}
		})
	}
	var pyErr *subinterp.PythonError
	if _, err := pool.Call(ctx, "fail", "boom"); !errors.As(err, &pyErr) || pyErr.Type() != "builtins.ValueError" ||
		pyErr.Message != "boom" || !strings.Contains(pyErr.Traceback, "ValueError: boom") {
		t.Errorf("Call(fail) = %v", err)
	}
	got, output, err := pool.CallWith(ctx, "print", []any{"hi"}, subinterp.TaskOptions{
		RunOptions: subinterp.RunOptions{CaptureStdout: true}})
	if got != nil || output.Stdout != "hi\n" || err != nil {
		t.Errorf("CallWith capture = %v, %+v, %v", got, output, err)
	}
	if err := pool.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if _, err := pool.Worker(2); !errors.Is(err, subinterp.ErrIndex) {
		t.Errorf("Worker(2): %v", err)
	}
	stats := must[subinterp.PoolStats](t)(pool.Stats())
	if stats.Workers != 2 || stats.LiveWorkers != 2 || stats.Succeeded < 4 || stats.Failed < 2 {
		t.Errorf("stats %+v", stats)
	}
}

func TestPoolMapOrder(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 3})
	lists := make([][]any, 200)
	for i := range lists {
		lists[i] = []any{i, 3}
	}
	cancellable, cancel := context.WithCancel(context.Background())
	defer cancel()
	for name, ctx := range map[string]context.Context{"one library call": context.Background(), "futures": cancellable} {
		t.Run(name, func(t *testing.T) {
			results, err := pool.Map(ctx, "scale", lists)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range results {
				if r != int64(3*i) {
					t.Fatalf("results[%d] = %v", i, r)
				}
			}
			// The first failure in order, prefixed with its index.
			_, err = pool.Map(ctx, "fail", [][]any{{"a"}, {"b"}})
			var pyErr *subinterp.PythonError
			if !errors.As(err, &pyErr) || !strings.HasPrefix(pyErr.Message, "item 0: ") {
				t.Errorf("Map(fail) = %v", err)
			}
			if results, err := pool.Map(ctx, "scale", nil); err != nil || len(results) != 0 {
				t.Errorf("Map(nil) = %v, %v", results, err)
			}
		})
	}
}

func TestPoolCancelBeforeStart(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 1})
	task, gate := blocked(t, pool)
	effects := newQueue(t, subinterp.QueueOptions{})
	pending := must[*subinterp.Future](t)(pool.Submit(context.Background(), "mark", effects, "ran"))
	defer pending.Close()
	if state := must[subinterp.FutureState](t)(pending.State()); state != subinterp.FuturePending {
		t.Fatalf("state %v", state)
	}
	if cancelled, err := pending.Cancel(); !cancelled || err != nil {
		t.Fatalf("Cancel = %t, %v", cancelled, err)
	}
	if state := must[subinterp.FutureState](t)(pending.State()); state != subinterp.FutureCancelled {
		t.Errorf("state %v", state)
	}
	if _, err := pending.Result(context.Background()); !errors.Is(err, subinterp.ErrCancelled) {
		t.Errorf("Result: %v", err)
	}
	must[any](t)(nil, gate.TryPut("go"))
	assertEqual(t, must[any](t)(task.Result(ctxWithin(t, 10*time.Second))), "go")
	// Another task after it: had the cancelled one run, its mark would be first.
	assertEqual(t, must[any](t)(pool.Call(ctxWithin(t, 10*time.Second), "mark", effects, "after")), "after")
	assertEqual(t, getWithin(t, effects, time.Second), "after")
	if n := must[int](t)(effects.Len()); n != 0 {
		t.Errorf("%d more side effects", n)
	}
	if cancelled, err := task.Cancel(); cancelled || err != nil {
		t.Errorf("Cancel of a finished task = %t, %v", cancelled, err)
	}
	if stats := must[subinterp.PoolStats](t)(pool.Stats()); stats.Cancelled != 1 {
		t.Errorf("stats %+v", stats)
	}
}

func TestPoolCancelWhileRunning(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 1})
	before := must[subinterp.WorkerInfo](t)(pool.Worker(0))
	started := newQueue(t, subinterp.QueueOptions{})
	future := must[*subinterp.Future](t)(pool.Submit(context.Background(), "spin", started))
	defer future.Close()
	getWithin(t, started, 10*time.Second)
	if state := must[subinterp.FutureState](t)(future.State()); state != subinterp.FutureRunning {
		t.Errorf("state %v", state)
	}
	if w := must[subinterp.WorkerInfo](t)(pool.Worker(0)); !w.Busy {
		t.Errorf("worker %+v not busy", w)
	}
	if cancelled, err := future.Cancel(); !cancelled || err != nil {
		t.Fatalf("Cancel = %t, %v", cancelled, err)
	}
	_, err := future.Result(ctxWithin(t, 5*time.Second))
	if !errors.Is(err, subinterp.ErrCancelled) || errors.Is(err, context.Canceled) {
		t.Fatalf("Result: %v", err)
	}
	// The same worker interpreter runs the next task.
	assertEqual(t, must[any](t)(pool.Call(ctxWithin(t, 10*time.Second), "scale", 2, 2)), int64(4))
	after := must[subinterp.WorkerInfo](t)(pool.Worker(0))
	if after.InterpreterID != before.InterpreterID || after.Replaced != 0 || after.Tasks != 2 {
		t.Errorf("worker before %+v, after %+v", before, after)
	}
}

// TestPoolDeadlines: a task's deadline (TaskOptions.Timeout, or Call's
// context) interrupts it; its worker goes on with the next task.
func TestPoolDeadlines(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 1})
	id := must[subinterp.WorkerInfo](t)(pool.Worker(0)).InterpreterID
	tests := []struct {
		name        string
		run         func(started *subinterp.Queue) error
		want        error
		fromContext error
	}{
		{"TaskOptions.Timeout", func(started *subinterp.Queue) error {
			f, err := pool.SubmitWith(context.Background(), "spin", []any{started},
				subinterp.TaskOptions{RunOptions: subinterp.RunOptions{Timeout: 100 * time.Millisecond}})
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Result(context.Background())
			return err
		}, subinterp.ErrTimeout, nil},
		{"Call deadline", func(started *subinterp.Queue) error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := pool.Call(ctx, "spin", started)
			return err
		}, subinterp.ErrTimeout, context.DeadlineExceeded},
		{"Call cancel", func(started *subinterp.Queue) error {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			_, err := pool.Call(ctx, "spin", started)
			return err
		}, subinterp.ErrCancelled, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := newQueue(t, subinterp.QueueOptions{})
			start := time.Now()
			err := tt.run(started)
			if elapsed := time.Since(start); elapsed > 900*time.Millisecond {
				t.Errorf("returned after %v", elapsed)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.fromContext != nil && !errors.Is(err, tt.fromContext) {
				t.Errorf("err = %v, want %v too", err, tt.fromContext)
			}
			assertEqual(t, must[any](t)(pool.Call(ctxWithin(t, 10*time.Second), "scale", 5)), int64(5))
			if w := must[subinterp.WorkerInfo](t)(pool.Worker(0)); w.InterpreterID != id || w.Replaced != 0 {
				t.Errorf("worker %+v replaced", w)
			}
		})
	}
	stats := must[subinterp.PoolStats](t)(pool.Stats())
	if stats.TimedOut < 1 || stats.Cancelled < 1 {
		t.Errorf("stats %+v", stats)
	}
}

func TestPoolBackPressure(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 1, MaxQueued: 1})
	task, gate := blocked(t, pool)
	queued := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", 1))
	defer queued.Close()
	if _, err := pool.SubmitWith(context.Background(), "scale", []any{2}, subinterp.TaskOptions{NoWait: true}); !errors.Is(err, subinterp.ErrQueueFull) {
		t.Errorf("NoWait on a full queue: %v", err)
	}
	start := time.Now()
	_, err := pool.Submit(ctxWithin(t, 100*time.Millisecond), "scale", 3)
	if !errors.Is(err, subinterp.ErrQueueFull) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Submit with a deadline: %v", err)
	}
	if elapsed := time.Since(start); elapsed < 90*time.Millisecond || elapsed > time.Second {
		t.Errorf("waited %v", elapsed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := pool.Submit(ctx, "scale", 3); !errors.Is(err, subinterp.ErrQueueFull) || !errors.Is(err, context.Canceled) {
		t.Errorf("Submit cancelled: %v", err)
	}
	// A submit without a deadline waits for room.
	submitted := make(chan *subinterp.Future)
	go func() {
		f, err := pool.Submit(context.Background(), "scale", 4)
		if err != nil {
			t.Error(err)
		}
		submitted <- f
	}()
	select {
	case <-submitted:
		t.Fatal("submitted into a full queue")
	case <-time.After(100 * time.Millisecond):
	}
	must[any](t)(nil, gate.TryPut("go"))
	late := <-submitted
	if late == nil {
		return
	}
	defer late.Close()
	ctx = ctxWithin(t, 10*time.Second)
	assertEqual(t, must[any](t)(task.Result(ctx)), "go")
	assertEqual(t, must[any](t)(queued.Result(ctx)), int64(1))
	assertEqual(t, must[any](t)(late.Result(ctx)), int64(4))
}

func TestPoolWorkerReplacement(t *testing.T) {
	tests := []struct {
		maxTasks   int
		wantCounts []any
	}{
		{0, []any{int64(1), int64(2), int64(3)}},
		{1, []any{int64(1), int64(1), int64(1)}},
	}
	for _, tt := range tests {
		pool := newPool(t, subinterp.PoolOptions{Workers: 1, MaxTasksPerWorker: tt.maxTasks})
		// Each task reports the interpreter it ran in: sampling Worker(0)
		// between tasks could still see the old interpreter, replaced only
		// after its result is delivered.
		ids := map[int64]bool{}
		var counts []any
		for range 3 {
			where := must[any](t)(pool.Call(ctxWithin(t, 10*time.Second), "bump_where")).([]any)
			counts = append(counts, where[0])
			ids[where[1].(int64)] = true
		}
		assertEqual(t, counts, tt.wantCounts)
		w := aliveWorker(t, pool)
		if tt.maxTasks == 1 && (len(ids) != 3 || w.Replaced < 2) {
			t.Errorf("MaxTasksPerWorker=1: ids %v, worker %+v", ids, w)
		}
		if tt.maxTasks == 0 && (len(ids) != 1 || w.Replaced != 0 || !ids[w.InterpreterID]) {
			t.Errorf("no replacement: ids %v, worker %+v", ids, w)
		}
	}
}

// aliveWorker is worker 0 once it has an interpreter (a replacement takes a
// moment after the task that triggered it).
func aliveWorker(t testing.TB, pool *subinterp.Pool) subinterp.WorkerInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w := must[subinterp.WorkerInfo](t)(pool.Worker(0))
		if w.Alive || time.Now().After(deadline) {
			return w
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPoolShutdown(t *testing.T) {
	t.Run("cancel pending", func(t *testing.T) {
		pool := newPool(t, subinterp.PoolOptions{Workers: 1})
		task, gate := blocked(t, pool)
		var pending []*subinterp.Future
		for i := range 3 {
			f := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", i))
			defer f.Close()
			pending = append(pending, f)
		}
		if err := pool.Shutdown(false, true); err != nil {
			t.Fatal(err)
		}
		for _, f := range pending {
			if _, err := f.Result(ctxWithin(t, 5*time.Second)); !errors.Is(err, subinterp.ErrCancelled) {
				t.Errorf("pending task: %v", err)
			}
		}
		if _, err := pool.Submit(context.Background(), "scale", 1); !errors.Is(err, subinterp.ErrClosed) {
			t.Errorf("Submit after Shutdown: %v", err)
		}
		if err := pool.Check(); !errors.Is(err, subinterp.ErrRuntime) {
			t.Errorf("Check after Shutdown: %v", err)
		}
		must[any](t)(nil, gate.TryPut("done"))
		if err := pool.Shutdown(true, false); err != nil {
			t.Fatal(err)
		}
		assertEqual(t, must[any](t)(task.Result(context.Background())), "done")
	})
	t.Run("finish pending", func(t *testing.T) {
		pool := newPool(t, subinterp.PoolOptions{Workers: 1})
		_, gate := blocked(t, pool)
		var pending []*subinterp.Future
		for i := range 3 {
			f := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", i, 10))
			defer f.Close()
			pending = append(pending, f)
		}
		must[any](t)(nil, gate.TryPut("go"))
		if err := pool.Shutdown(true, false); err != nil {
			t.Fatal(err)
		}
		for i, f := range pending {
			assertEqual(t, must[any](t)(f.Result(context.Background())), int64(10*i))
		}
	})
	t.Run("close", func(t *testing.T) {
		pool, err := subinterp.NewPool(subinterp.PoolOptions{Workers: 1, InitSource: poolInit})
		if err != nil {
			t.Fatal(err)
		}
		_, gate := blocked(t, pool)
		pending := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", 1))
		defer pending.Close()
		time.AfterFunc(50*time.Millisecond, func() { _ = gate.TryPut("go") })
		if err := pool.Close(); err != nil {
			t.Fatal(err)
		}
		if err := pool.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		// Futures outlive the pool.
		if _, err := pending.Result(context.Background()); !errors.Is(err, subinterp.ErrCancelled) {
			t.Errorf("pending task after Close: %v", err)
		}
		for name, call := range map[string]func() error{
			"Submit":   func() error { _, err := pool.Submit(context.Background(), "scale", 1); return err },
			"Stats":    func() error { _, err := pool.Stats(); return err },
			"Check":    pool.Check,
			"Shutdown": func() error { return pool.Shutdown(true, true) },
			"Map":      func() error { _, err := pool.Map(context.Background(), "scale", nil); return err },
		} {
			if err := call(); !errors.Is(err, subinterp.ErrClosed) {
				t.Errorf("%s after Close: %v", name, err)
			}
		}
		if err := pending.Close(); err != nil {
			t.Error(err)
		}
		if _, err := pending.State(); !errors.Is(err, subinterp.ErrInvalidArgument) {
			t.Errorf("State after Future.Close: %v", err)
		}
	})
}

func TestFutureDone(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{Workers: 1})
	task, gate := blocked(t, pool)
	select {
	case <-task.Done():
		t.Fatal("Done before the task ended")
	case <-time.After(50 * time.Millisecond):
	}
	if err := task.WaitTimeout(0); !errors.Is(err, subinterp.ErrTimeout) {
		t.Errorf("WaitTimeout(0) while running: %v", err)
	}
	if err := task.Wait(ctxWithin(t, 50*time.Millisecond)); !errors.Is(err, subinterp.ErrTimeout) ||
		!errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait while running: %v", err)
	}
	must[any](t)(nil, gate.TryPut("go"))
	select {
	case <-task.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done never closed")
	}
	if task.Done() != task.Done() {
		t.Error("Done gives different channels")
	}
	// A finished future's channel is closed at once; so is a cancelled one's.
	finished := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", 1))
	defer finished.Close()
	must[any](t)(finished.Result(context.Background()))
	<-finished.Done()
	_, gate2 := blocked(t, pool)
	pending := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", 1))
	defer pending.Close()
	done := pending.Done()
	must[bool](t)(pending.Cancel())
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Done of a cancelled task never closed")
	}
	must[any](t)(nil, gate2.TryPut("go"))
	// Many futures, many goroutines waiting on Done.
	var wg sync.WaitGroup
	for i := range 64 {
		f := must[*subinterp.Future](t)(pool.Submit(context.Background(), "scale", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer f.Close()
			select {
			case <-f.Done():
			case <-time.After(20 * time.Second):
				t.Error("Done never closed")
			}
		}()
	}
	wg.Wait()
}

func TestPoolInit(t *testing.T) {
	pool := newPool(t, subinterp.PoolOptions{
		Workers:      2,
		InitSource:   "base = 0\ndef setup(n, s):\n    global base\n    base = n * len(s)\ndef get(): return base",
		InitCallable: "setup",
		InitArgs:     []any{10, "abc"},
	})
	assertEqual(t, must[any](t)(pool.Call(ctxWithin(t, 10*time.Second), "get")), int64(30))
	_, err := subinterp.NewPool(subinterp.PoolOptions{Workers: 1, InitSource: "raise RuntimeError('nope')"})
	var pyErr *subinterp.PythonError
	if !errors.As(err, &pyErr) || !strings.HasPrefix(pyErr.Message, "pool worker 0: ") || pyErr.Qualname != "RuntimeError" {
		t.Errorf("failed init: %v", err)
	}
	broken := subinterp.IsolatedConfig()
	broken.UseMainObmalloc = true
	if _, err := subinterp.NewPool(subinterp.PoolOptions{Workers: 1, Config: &broken}); !errors.Is(err, subinterp.ErrConfig) {
		t.Errorf("bad config: %v", err)
	}
	if _, err := subinterp.NewPool(subinterp.PoolOptions{Workers: -1}); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("negative workers: %v", err)
	}
	legacy := subinterp.LegacyConfig()
	shared := newPool(t, subinterp.PoolOptions{Workers: 1, Config: &legacy})
	assertEqual(t, must[any](t)(shared.Call(ctxWithin(t, 10*time.Second), "eval", "__import__('pyexpat').__name__")),
		"pyexpat")
	// A worker interpreter belongs to the pool.
	w := must[subinterp.WorkerInfo](t)(shared.Worker(0))
	if err := w.Interpreter().Destroy(); !errors.Is(err, subinterp.ErrBusy) {
		t.Errorf("Destroy of a worker's interpreter: %v", err)
	}
}

// TestPoolManyTasks: 100,000 small tasks on 2 workers, nothing lost: from
// several goroutines, each mapping batches (one library call per batch), and
// a share submitted one future at a time.
func TestPoolManyTasks(t *testing.T) {
	const total, goroutines, batch = 100_000, 4, 5_000
	pool := newPool(t, subinterp.PoolOptions{Workers: 2, InitSource: "def sq(x): return x * x"})
	var wg sync.WaitGroup
	sums := make([]int64, goroutines)
	singles := 1_000 // per goroutine, as futures
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, last := g*total/goroutines, (g+1)*total/goroutines
			var futures []*subinterp.Future
			for n := first; n < first+singles; n++ {
				f, err := pool.Submit(context.Background(), "sq", n)
				if err != nil {
					t.Error(err)
					return
				}
				futures = append(futures, f)
			}
			for i, f := range futures {
				r, err := f.Result(context.Background())
				_ = f.Close()
				if want := int64((first + i) * (first + i)); r != want || err != nil {
					t.Errorf("sq(%d) = %v, %v", first+i, r, err)
					return
				}
				sums[g] += r.(int64)
			}
			for start := first + singles; start < last; start += batch {
				end := min(start+batch, last)
				lists := make([][]any, 0, end-start)
				for n := start; n < end; n++ {
					lists = append(lists, []any{n})
				}
				results, err := pool.Map(context.Background(), "sq", lists)
				if err != nil || len(results) != end-start {
					t.Errorf("Map: %d results, %v", len(results), err)
					return
				}
				for i, r := range results {
					if want := int64((start + i) * (start + i)); r != want {
						t.Errorf("sq(%d) = %v", start+i, r)
						return
					}
					sums[g] += r.(int64)
				}
			}
		}()
	}
	wg.Wait()
	var sum, want int64
	for _, s := range sums {
		sum += s
	}
	for n := range int64(total) {
		want += n * n
	}
	if sum != want {
		t.Errorf("sum %d, want %d", sum, want)
	}
	stats := must[subinterp.PoolStats](t)(pool.Stats())
	if stats.Succeeded != total || stats.Submitted != total || stats.Failed != 0 {
		t.Errorf("stats %+v", stats)
	}
}
