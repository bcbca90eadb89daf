package subinterp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

const spin = "while True: pass"

// TestDeadlines: a run that never ends is interrupted by its deadline, from a
// context or from RunOptions.Timeout, well within a second, and the same
// interpreter runs the next call.
func TestDeadlines(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "def spin():\n    while True: pass\n"+
		"def sleepy():\n    import time\n    time.sleep(30)\n")
	tests := []struct {
		name        string
		run         func() error
		fromContext bool
	}{
		{"ExecContext", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			return interp.ExecContext(ctx, spin)
		}, true},
		{"CallContext", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			_, err := interp.CallContext(ctx, "spin")
			return err
		}, true},
		{"RunOptions.Timeout", func() error {
			_, err := interp.ExecWith(spin, subinterp.RunOptions{Timeout: 100 * time.Millisecond})
			return err
		}, false},
		{"sooner of both", func() error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			_, _, err := interp.CallWithContext(ctx, "spin", nil, nil, subinterp.RunOptions{Timeout: 100 * time.Millisecond})
			return err
		}, false},
		{"except Exception does not catch it", func() error {
			_, err := interp.ExecWith("try:\n    while True: pass\nexcept Exception:\n    pass\n",
				subinterp.RunOptions{Timeout: 100 * time.Millisecond})
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := tt.run()
			elapsed := time.Since(start)
			if !errors.Is(err, subinterp.ErrTimeout) {
				t.Fatalf("err = %v, want ErrTimeout", err)
			}
			if errors.Is(err, context.DeadlineExceeded) != tt.fromContext {
				t.Errorf("errors.Is(err, context.DeadlineExceeded) = %t", !tt.fromContext)
			}
			if errors.Is(err, subinterp.ErrPython) || errors.Is(err, subinterp.ErrCancelled) {
				t.Errorf("err %v matches another sentinel", err)
			}
			var failure *subinterp.Error
			if !errors.As(err, &failure) || !strings.Contains(failure.Traceback, "Interrupted") ||
				failure.Module != "subinterp" || failure.Qualname != "Interrupted" {
				t.Errorf("error %#v does not name the interruption", failure)
			}
			if elapsed < 90*time.Millisecond || elapsed > 700*time.Millisecond {
				t.Errorf("interrupted after %v", elapsed)
			}
			assertEqual(t, must[any](t)(interp.Call("eval", "6 * 7")), int64(42))
		})
	}
}

func TestContextAlreadyDone(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "ran = False")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := interp.ExecContext(ctx, "ran = True")
	if !errors.Is(err, subinterp.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	_, err = interp.CallContext(expired, "exec", "ran = True")
	if !errors.Is(err, subinterp.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: %v", err)
	}
	assertEqual(t, must[any](t)(interp.Call("eval", "ran")), false)
}

// TestContextCancelInterrupts: cancelling the context interrupts the run
// (a spin, a sleep, a blocked queue get) and the interpreter stays usable.
func TestContextCancelInterrupts(t *testing.T) {
	interp := newInterp(t)
	queue := newQueue(t, subinterp.QueueOptions{})
	if err := interp.PrepareMain(map[string]any{"q": queue}); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{spin, "import time\ntime.sleep(0.3)\nwhile True: pass", "q.get()"} {
		t.Run(source, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			start := time.Now()
			err := interp.ExecContext(ctx, source)
			if !errors.Is(err, subinterp.ErrCancelled) || !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want ErrCancelled and context.Canceled", err)
			}
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("interrupted after %v", elapsed)
			}
			assertEqual(t, must[any](t)(interp.Call("eval", "1 + 1")), int64(2))
		})
	}
	// A run that ends before the cancellation is not affected, nor is the
	// next one.
	ctx, cancel := context.WithCancel(context.Background())
	assertEqual(t, must[any](t)(interp.CallContext(ctx, "eval", "3")), int64(3))
	cancel()
	assertEqual(t, must[any](t)(interp.Call("eval", "4")), int64(4))
}

// TestInterruptFromAnotherGoroutine: Interrupt stops a run of another
// goroutine, which fails with ErrCancelled alone (no context involved).
func TestInterruptFromAnotherGoroutine(t *testing.T) {
	interp := newInterp(t)
	if n, err := interp.Interrupt(); n != 0 || err != nil {
		t.Errorf("Interrupt with nothing running = %d, %v", n, err)
	}
	errs := make(chan error, 1)
	go func() { errs <- interp.Exec(spin) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if running, _ := interp.IsRunning(); running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the run never started")
		}
		time.Sleep(time.Millisecond)
	}
	n, err := interp.Interrupt()
	if n != 1 || err != nil {
		t.Errorf("Interrupt = %d, %v", n, err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, subinterp.ErrCancelled) || errors.Is(err, context.Canceled) {
			t.Errorf("interrupted run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the run was not interrupted")
	}
	mustExec(t, interp, "x = 1")
	if _, err := subinterp.FromID(1 << 40).Interrupt(); !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("Interrupt of an unknown id: %v", err)
	}
}

// singlePhase is a single-phase extension module that isolated interpreters
// refuse, and the reason CheckImports gives for it. On CPython 3.12
// _testsinglephase crashes the process when imported again after a refusal
// (its static state holds objects of the refusing interpreter), so 3.12
// uses pyexpat, and reports "not-isolated": 3.12 cannot tell single-phase
// from no per-interpreter GIL without a second import.
func singlePhase() (module, reason string) {
	if strings.HasPrefix(subinterp.PythonVersion(), "3.12.") {
		return "pyexpat", "not-isolated"
	}
	return "_testsinglephase", "single-phase"
}

func TestCheckImports(t *testing.T) {
	single, reason := singlePhase()
	checks, err := subinterp.CheckImports(subinterp.IsolatedConfig(), "math", "no_such_module_xyz", single)
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 {
		t.Fatalf("got %d checks", len(checks))
	}
	tests := []struct {
		want   subinterp.ImportCheck
		errHas string
	}{
		{subinterp.ImportCheck{Module: "math", OK: true, Reason: "ok"}, ""},
		{subinterp.ImportCheck{Module: "no_such_module_xyz", Reason: "not-found"}, "ModuleNotFoundError"},
		{subinterp.ImportCheck{Module: single, Reason: reason, Needs: "legacy"}, "ImportError"},
	}
	for i, tt := range tests {
		got := checks[i]
		if !strings.Contains(got.Error, tt.errHas) || (tt.errHas == "") != (got.Error == "") {
			t.Errorf("%s: Error %q lacks %q", got.Module, got.Error, tt.errHas)
		}
		got.Error = ""
		assertEqual(t, got, tt.want)
	}
	// Under LegacyConfig the single-phase module imports.
	checks, err = subinterp.CheckImports(subinterp.LegacyConfig(), single)
	if err != nil || len(checks) != 1 || !checks[0].OK {
		t.Errorf("legacy: %+v, %v", checks, err)
	}
	if checks, err := subinterp.CheckImports(subinterp.IsolatedConfig()); err != nil || len(checks) != 0 {
		t.Errorf("no modules: %v, %v", checks, err)
	}
	for _, bad := range []string{"", "nul\x00byte"} {
		if _, err := subinterp.CheckImports(subinterp.IsolatedConfig(), bad); !errors.Is(err, subinterp.ErrInvalidArgument) {
			t.Errorf("CheckImports(%q): %v", bad, err)
		}
	}
	broken := subinterp.IsolatedConfig()
	broken.UseMainObmalloc = true
	if _, err := subinterp.CheckImports(broken, "math"); !errors.Is(err, subinterp.ErrConfig) {
		t.Errorf("bad config: %v", err)
	}
}
