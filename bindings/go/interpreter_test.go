package subinterp_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// newInterp is an isolated interpreter closed when the test ends.
func newInterp(t testing.TB) *subinterp.Interpreter {
	t.Helper()
	interp, err := subinterp.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := interp.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return interp
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mustExec(t testing.TB, interp *subinterp.Interpreter, source string) {
	t.Helper()
	if err := interp.Exec(source); err != nil {
		t.Fatalf("Exec(%q): %v", source, err)
	}
}

func TestCallResolvesNames(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "def greet(name, punctuation='!'): return f'hello {name}{punctuation}'\n"+
		"class Box:\n    @staticmethod\n    def make(n): return [n] * n")
	tests := []struct {
		callable string
		args     []any
		want     any
	}{
		{"greet", []any{"go"}, "hello go!"},
		{"math:sqrt", []any{16.0}, 4.0},
		{"os.path:join", []any{"a", "b"}, "a/b"},
		{"len", []any{"four"}, int64(4)},
		{"Box.make", []any{2}, []any{int64(2), int64(2)}},
		{"eval", []any{"6 * 7"}, int64(42)},
	}
	for _, tt := range tests {
		got, err := interp.Call(tt.callable, tt.args...)
		if err != nil {
			t.Errorf("Call(%q): %v", tt.callable, err)
			continue
		}
		assertEqual(t, got, tt.want)
	}
	got, output, err := interp.CallWith("greet", []any{"rust"}, map[string]any{"punctuation": "?"}, subinterp.RunOptions{})
	if err != nil || got != "hello rust?" || output != (subinterp.Output{}) {
		t.Errorf("CallWith kwargs = %v, %v, %v", got, output, err)
	}
}

func TestFrameBuiltinsSeeMain(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "x = 20")
	must[any](t)(interp.Call("exec", "y = x + 22"))
	assertEqual(t, must[any](t)(interp.Call("eval", "y")), int64(42))
}

func TestPythonExceptions(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "def fail(x):\n    raise ValueError(f'bad {x}')")
	tests := []struct {
		name, callable string
		args           []any
		typ, message   string
	}{
		{"value error", "fail", []any{7}, "builtins.ValueError", "bad 7"},
		{"json", "json:loads", []any{"{"}, "json.decoder.JSONDecodeError", "Expecting property name"},
		{"name", "no_such_function", nil, "builtins.NameError", "no_such_function"},
		{"module", "no_such_module:f", nil, "builtins.ModuleNotFoundError", "no_such_module"},
		{"arguments", "len", []any{1, 2}, "builtins.TypeError", "len()"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := interp.Call(tt.callable, tt.args...)
			var pyErr *subinterp.PythonError
			if !errors.As(err, &pyErr) {
				t.Fatalf("got %T %v, want a *PythonError", err, err)
			}
			if !errors.Is(err, subinterp.ErrPython) || errors.Is(err, subinterp.ErrNotFound) {
				t.Errorf("errors.Is is wrong for %v", err)
			}
			if pyErr.Type() != tt.typ || !strings.Contains(pyErr.Message, tt.message) {
				t.Errorf("got %s %q, want %s containing %q", pyErr.Type(), pyErr.Message, tt.typ, tt.message)
			}
			if !strings.Contains(pyErr.Traceback, pyErr.Qualname) {
				t.Errorf("traceback %q lacks %s", pyErr.Traceback, pyErr.Qualname)
			}
		})
	}
	var pyErr *subinterp.PythonError
	if err := interp.Exec("def broken(:"); !errors.As(err, &pyErr) || pyErr.Qualname != "SyntaxError" {
		t.Errorf("syntax error: %v", err)
	}
	if err := interp.Exec("raise SystemExit(3)"); !errors.As(err, &pyErr) || pyErr.Qualname != "SystemExit" {
		t.Errorf("SystemExit: %v", err)
	}
	// The interpreter stays usable.
	assertEqual(t, must[any](t)(interp.Call("abs", -3)), int64(3))
}

func TestOutputCapture(t *testing.T) {
	interp := newInterp(t)
	both := subinterp.RunOptions{CaptureStdout: true, CaptureStderr: true}
	out, err := interp.ExecWith("import sys\nprint('out')\nprint('err', file=sys.stderr)", both)
	if err != nil || out != (subinterp.Output{Stdout: "out\n", Stderr: "err\n"}) {
		t.Errorf("ExecWith = %+v, %v", out, err)
	}
	_, err = interp.ExecWith("print('before')\n1/0", both)
	var pyErr *subinterp.PythonError
	if !errors.As(err, &pyErr) || pyErr.Output == nil || pyErr.Output.Stdout != "before\n" {
		t.Errorf("failed run's output: %v %+v", err, pyErr)
	}
	if err := interp.Exec("1/0"); !errors.As(err, &pyErr) || pyErr.Output != nil {
		t.Errorf("uncaptured failure has output: %+v", pyErr)
	}
	value, out, err := interp.CallWith("print", []any{"a", 1}, nil, subinterp.RunOptions{CaptureStdout: true})
	if err != nil || value != nil || out.Stdout != "a 1\n" {
		t.Errorf("CallWith print = %v, %+v, %v", value, out, err)
	}
}

func TestStrictAndPickled(t *testing.T) {
	interp := newInterp(t)
	value := must[any](t)(interp.Call("collections:Counter", "abca"))
	pickled, ok := value.(subinterp.Pickled)
	if !ok || len(pickled) == 0 {
		t.Fatalf("Counter came back as %T", value)
	}
	mustExec(t, interp, "def describe(x): return type(x).__name__, x['a']")
	assertEqual(t, must[any](t)(interp.Call("describe", pickled)), subinterp.Tuple{"Counter", int64(2)})
	_, _, err := interp.CallWith("collections:Counter", []any{"abca"}, nil, subinterp.RunOptions{Strict: true})
	if !errors.Is(err, subinterp.ErrNotShareable) || !strings.Contains(err.Error(), "Counter") {
		t.Errorf("strict: %v", err)
	}
}

func TestPrepareMain(t *testing.T) {
	interp := newInterp(t)
	if err := interp.PrepareMain(map[string]any{"a": 1, "b": "two"}); err != nil {
		t.Fatal(err)
	}
	assertEqual(t, must[any](t)(interp.Call("eval", "(a, b)")), subinterp.Tuple{int64(1), "two"})
	err := interp.PrepareMain(map[string]any{"ok": 1, "not an identifier": 2})
	if !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("bad identifier: %v", err)
	}
	if err := interp.Exec("ok"); !errors.Is(err, subinterp.ErrPython) {
		t.Errorf("all or nothing: 'ok' is bound (%v)", err)
	}
}

func TestInvalidArguments(t *testing.T) {
	interp := newInterp(t)
	call := func(callable string, args ...any) error { _, err := interp.Call(callable, args...); return err }
	for _, tt := range []struct {
		name    string
		err     error
		want    error
		message string
	}{
		{"NUL in source", interp.Exec("x = 1\x00"), subinterp.ErrInvalidArgument, "source contains a NUL byte at 5"},
		{"invalid UTF-8 source", interp.Exec("x = '\xff'"), subinterp.ErrInvalidArgument, "source is not valid UTF-8 (byte 5)"},
		{"NUL in callable", call("le\x00n", "x"), subinterp.ErrInvalidArgument, "callable contains a NUL byte at 2"},
		{"empty callable", call(""), subinterp.ErrInvalidArgument, "callable name '' has an empty name part"},
		{"malformed callable", call("math:"), subinterp.ErrInvalidArgument, "callable name 'math:' has an empty name part"},
		{"invalid UTF-8 argument", call("len", "\xff"), subinterp.ErrInvalidArgument, "str is not valid UTF-8 (byte 0)"},
		{"unconvertible argument", call("len", make(chan int)), subinterp.ErrType, "cannot convert a Go chan int"},
		{"negative queue size", func() error { _, err := subinterp.NewQueue(subinterp.QueueOptions{MaxSize: -1}); return err }(),
			subinterp.ErrInvalidArgument, "negative MaxSize -1"},
		{"NUL in python home", subinterp.Init(subinterp.RuntimeOptions{PythonHome: "/usr\x00/lib"}),
			subinterp.ErrInvalidArgument, "python home contains a NUL byte at 4"},
	} {
		if !errors.Is(tt.err, tt.want) || tt.err == nil || !strings.Contains(tt.err.Error(), tt.message) {
			t.Errorf("%s: got %v, want %v containing %q", tt.name, tt.err, tt.want, tt.message)
		}
	}
}

func TestStaleIDsAreNotFound(t *testing.T) {
	interp := must[*subinterp.Interpreter](t)(subinterp.New())
	id := interp.ID()
	if err := interp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := interp.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	stale := subinterp.FromID(id)
	checks := map[string]error{
		"Exec":        stale.Exec("pass"),
		"Call":        func() error { _, err := stale.Call("len", ""); return err }(),
		"PrepareMain": stale.PrepareMain(map[string]any{"x": 1}),
		"IsRunning":   func() error { _, err := stale.IsRunning(); return err }(),
		"Config":      func() error { _, err := stale.Config(); return err }(),
		"Destroy":     stale.Destroy(),
		"huge id":     subinterp.FromID(1 << 62).Exec("pass"),
	}
	for name, err := range checks {
		if !errors.Is(err, subinterp.ErrNotFound) {
			t.Errorf("%s on a stale id: %v", name, err)
		}
	}
	if ids := must[[]int64](t)(subinterp.List()); contains(ids, id) {
		t.Errorf("List still has %d", id)
	}
}

func TestMainInterpreter(t *testing.T) {
	main := must[*subinterp.Interpreter](t)(subinterp.Main())
	if main.ID() != 0 || must[[]int64](t)(subinterp.List())[0] != 0 {
		t.Errorf("main is %d", main.ID())
	}
	assertEqual(t, must[any](t)(main.Call("abs", -1)), int64(1))
	if err := main.Close(); err != nil {
		t.Errorf("Close of a main handle: %v", err)
	}
	if err := main.Destroy(); !errors.Is(err, subinterp.ErrInvalidArgument) {
		t.Errorf("Destroy main: %v", err)
	}
	if _, err := subinterp.CurrentID(); !errors.Is(err, subinterp.ErrNotFound) {
		t.Errorf("CurrentID outside Python: %v", err)
	}
}

func TestCloseWhileRunningIsBusy(t *testing.T) {
	interp := newInterp(t)
	mustExec(t, interp, "import time")
	var wg sync.WaitGroup
	wg.Add(1)
	var runErr error
	go func() {
		defer wg.Done()
		runErr = interp.Exec("time.sleep(0.5)")
	}()
	for deadline := time.Now().Add(5 * time.Second); ; {
		if running := must[bool](t)(interp.IsRunning()); running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never started")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := interp.Close(); !errors.Is(err, subinterp.ErrBusy) {
		t.Errorf("Close while running: %v", err)
	}
	wg.Wait()
	if runErr != nil {
		t.Fatal(runErr)
	}
	// Close failed, so the interpreter is still usable (and closed by cleanup).
	assertEqual(t, must[any](t)(interp.Call("abs", -2)), int64(2))
}

func TestConfigs(t *testing.T) {
	isolated, legacy := subinterp.IsolatedConfig(), subinterp.LegacyConfig()
	want := subinterp.Config{AllowThreads: true, CheckMultiInterpExtensions: true, GIL: subinterp.GILOwn}
	if isolated != want {
		t.Errorf("isolated = %+v", isolated)
	}
	if legacy != (subinterp.Config{UseMainObmalloc: true, AllowFork: true, AllowExec: true, AllowThreads: true,
		AllowDaemonThreads: true, GIL: subinterp.GILShared}) {
		t.Errorf("legacy = %+v", legacy)
	}
	noThreads := isolated
	noThreads.AllowThreads = false
	defaultGIL := legacy
	defaultGIL.GIL = subinterp.GILDefault
	for _, config := range []subinterp.Config{isolated, legacy, noThreads, defaultGIL} {
		if err := config.Validate(); err != nil {
			t.Errorf("%+v: %v", config, err)
			continue
		}
		interp := must[*subinterp.Interpreter](t)(subinterp.NewWithConfig(config))
		if got := must[subinterp.Config](t)(interp.Config()); got != config {
			t.Errorf("Config() = %+v, want %+v", got, config)
		}
		assertEqual(t, must[any](t)(interp.Call("abs", -5)), int64(5))
		if err := interp.Close(); err != nil {
			t.Error(err)
		}
	}
	threads := must[*subinterp.Interpreter](t)(subinterp.NewWithConfig(noThreads))
	defer threads.Close()
	var pyErr *subinterp.PythonError
	if err := threads.Exec("import threading\nthreading.Thread(target=print).start()"); !errors.As(err, &pyErr) ||
		pyErr.Qualname != "RuntimeError" {
		t.Errorf("threads in a no-threads interpreter: %v", err)
	}
}

func TestInvalidConfigs(t *testing.T) {
	mainAllocator := subinterp.IsolatedConfig()
	mainAllocator.UseMainObmalloc = true
	unchecked := subinterp.IsolatedConfig()
	unchecked.CheckMultiInterpExtensions = false
	daemons := subinterp.IsolatedConfig()
	daemons.AllowThreads, daemons.AllowDaemonThreads = false, true
	badGIL := subinterp.IsolatedConfig()
	badGIL.GIL = 7
	for field, config := range map[string]subinterp.Config{
		"use_main_obmalloc": mainAllocator, "check_multi_interp_extensions": unchecked,
		"allow_daemon_threads": daemons, "gil": badGIL,
	} {
		err := config.Validate()
		if !errors.Is(err, subinterp.ErrConfig) || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v", field, err)
		}
		if _, err := subinterp.NewWithConfig(config); !errors.Is(err, subinterp.ErrConfig) {
			t.Errorf("New with bad %s: %v", field, err)
		}
	}
}

func TestVersions(t *testing.T) {
	if subinterp.Version() == "" || !strings.HasPrefix(subinterp.PythonVersion(), "3.1") {
		t.Errorf("versions %q %q", subinterp.Version(), subinterp.PythonVersion())
	}
	if subinterp.RuntimeMode() != subinterp.ModeEmbedded {
		// Other tests ran first and started it.
		must[*subinterp.Interpreter](t)(subinterp.Main())
	}
	if subinterp.RuntimeMode() != subinterp.ModeEmbedded {
		t.Errorf("mode %v", subinterp.RuntimeMode())
	}
	if err := subinterp.Init(subinterp.DefaultRuntimeOptions()); !errors.Is(err, subinterp.ErrRuntime) {
		t.Errorf("Init once started: %v", err)
	}
	if err := subinterp.EnsureStarted(); err != nil {
		t.Errorf("EnsureStarted once started: %v", err)
	}
	if subinterp.StatusNotFound.String() != "SUBINTERP_ERR_NOT_FOUND" {
		t.Errorf("status name %q", subinterp.StatusNotFound.String())
	}
}

func contains(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
