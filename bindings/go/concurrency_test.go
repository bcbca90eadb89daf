package subinterp_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

const goroutines = 64

func TestManyGoroutinesShareInterpretersAndQueues(t *testing.T) {
	const interpreters, tasks = 4, 50
	pool := make([]*subinterp.Interpreter, interpreters)
	for i := range pool {
		pool[i] = newInterp(t)
		mustExec(t, pool[i], "def work(n): return n * n + 1")
	}
	results := newQueue(t, subinterp.QueueOptions{})
	var calls atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range tasks {
				n := int64(g*tasks + i)
				got, err := pool[(g+i)%interpreters].Call("work", n)
				if err != nil || got != n*n+1 {
					errs <- errors.Join(err, errors.New("wrong result"))
					return
				}
				if err := results.Put(context.Background(), subinterp.Tuple{n, got}); err != nil {
					errs <- err
					return
				}
				calls.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if calls.Load() != goroutines*tasks {
		t.Fatalf("%d calls", calls.Load())
	}
	seen := make([]bool, goroutines*tasks)
	for {
		item, err := results.TryGet()
		if errors.Is(err, subinterp.ErrQueueEmpty) {
			break
		}
		pair := item.(subinterp.Tuple)
		n := pair[0].(int64)
		if seen[n] || pair[1] != n*n+1 {
			t.Fatalf("item %v twice or wrong", pair)
		}
		seen[n] = true
	}
	for n, ok := range seen {
		if !ok {
			t.Fatalf("item %d lost", n)
		}
	}
}

func TestProducersInPythonConsumersInGo(t *testing.T) {
	q := newQueue(t, subinterp.QueueOptions{MaxSize: 16})
	producers := []*subinterp.Interpreter{newInterp(t), newInterp(t)}
	for i, p := range producers {
		if err := p.PrepareMain(map[string]any{"q": q, "base": i * 1000}); err != nil {
			t.Fatal(err)
		}
	}
	var consumed, sum atomic.Int64
	var consumers sync.WaitGroup
	for range goroutines {
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			for {
				item, err := q.Get(context.Background())
				if errors.Is(err, subinterp.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				consumed.Add(1)
				sum.Add(item.(int64))
			}
		}()
	}
	var producing sync.WaitGroup
	for _, p := range producers {
		producing.Add(1)
		go func() {
			defer producing.Done()
			if err := p.Exec("for n in range(500): q.put(base + n)"); err != nil {
				t.Error(err)
			}
		}()
	}
	producing.Wait()
	_ = q.Shutdown()
	consumers.Wait()
	if consumed.Load() != 1000 || sum.Load() != 2*(499*500/2)+500*1000 {
		t.Errorf("consumed %d items summing to %d", consumed.Load(), sum.Load())
	}
}

// A goroutine moves between OS threads at every Gosched (and the locked
// goroutines force the scheduler to use several threads); each call must
// still see the interpreter's state, as no call depends on the thread.
func TestCallsSurviveGoroutineMigration(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "counter = 0\ndef bump():\n    global counter\n    counter += 1\n    return counter")
	q := newQueue(t, subinterp.QueueOptions{})
	stop := make(chan struct{})
	var busy sync.WaitGroup
	for range 4 { // occupy threads so the test goroutine lands on others
		busy.Add(1)
		go func() {
			defer busy.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for {
				select {
				case <-stop:
					return
				default:
					runtime.Gosched()
				}
			}
		}()
	}
	for i := 1; i <= 500; i++ {
		runtime.Gosched()
		got, err := interp.Call("bump")
		if err != nil || got != int64(i) {
			t.Fatalf("call %d = %v, %v", i, got, err)
		}
		runtime.Gosched()
		if err := q.TryPut(i); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
		if item, err := q.TryGet(); err != nil || item != int64(i) {
			t.Fatalf("queue item %d = %v, %v", i, item, err)
		}
		runtime.Gosched()
		var pyErr *subinterp.PythonError
		if err := interp.Exec("raise KeyError('k')"); !errors.As(err, &pyErr) || pyErr.Qualname != "KeyError" {
			t.Fatalf("error after migration: %v", err)
		}
	}
	close(stop)
	busy.Wait()
}

func TestCleanupDestroysUnreachableInterpreters(t *testing.T) {
	id := func() int64 {
		interp := must[*subinterp.Interpreter](t)(subinterp.New())
		return interp.ID()
	}()
	deadline := time.Now().Add(10 * time.Second)
	for contains(must[[]int64](t)(subinterp.List()), id) {
		if time.Now().After(deadline) {
			t.Fatalf("interpreter %d was never destroyed", id)
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// Finalize ends Python for the whole process, so it runs in a child process
// (this test binary again, selecting only the child test).
func TestFinalize(t *testing.T) {
	if os.Getenv("SUBINTERP_FINALIZE_CHILD") == "1" {
		finalizeChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestFinalize$", "-test.v")
	cmd.Env = append(os.Environ(), "SUBINTERP_FINALIZE_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestFinalize") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}

func finalizeChild(t *testing.T) {
	if subinterp.RuntimeMode() != subinterp.ModeNotStarted {
		t.Fatalf("mode %v before anything ran", subinterp.RuntimeMode())
	}
	if err := subinterp.Init(subinterp.DefaultRuntimeOptions()); err != nil {
		t.Fatal(err)
	}
	interp := must[*subinterp.Interpreter](t)(subinterp.New())
	q := must[*subinterp.Queue](t)(subinterp.NewQueue(subinterp.QueueOptions{}))
	if err := subinterp.Finalize(); err != nil {
		t.Fatal(err)
	}
	if subinterp.RuntimeMode() != subinterp.ModeFinalized {
		t.Errorf("mode %v after Finalize", subinterp.RuntimeMode())
	}
	if err := interp.Exec("pass"); !errors.Is(err, subinterp.ErrRuntime) {
		t.Errorf("Exec after Finalize: %v", err)
	}
	if _, err := subinterp.New(); !errors.Is(err, subinterp.ErrRuntime) {
		t.Errorf("New after Finalize: %v", err)
	}
	// Queues need no Python.
	if err := q.TryPut(1); err != nil {
		t.Error(err)
	}
	if item, err := q.TryGet(); err != nil || item != int64(1) {
		t.Errorf("queue after Finalize: %v %v", item, err)
	}
	if err := interp.Close(); err != nil && !errors.Is(err, subinterp.ErrRuntime) && !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("Close after Finalize: %v", err)
	}
}
