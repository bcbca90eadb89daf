package bench

import (
	"fmt"
	"os"
	"sync"
	"testing"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

// shared is the interpreter BenchmarkExecPass and BenchmarkCallSmall run in,
// created once (outside any timed region) by sharedInterp and closed by
// TestMain when every benchmark has run.
var (
	sharedOnce sync.Once
	shared     *subinterp.Interpreter
	sharedErr  error
)

func sharedInterp(b *testing.B) *subinterp.Interpreter {
	b.Helper()
	sharedOnce.Do(func() { shared, sharedErr = subinterp.New() })
	if sharedErr != nil {
		b.Fatalf("creating the shared interpreter: %v", sharedErr)
	}
	return shared
}

func TestMain(m *testing.M) {
	if err := subinterp.EnsureStarted(); err != nil {
		fmt.Fprintf(os.Stderr, "starting the runtime: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	if shared != nil {
		if err := shared.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "closing the shared interpreter: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

func createDestroy() error {
	interp, err := subinterp.New()
	if err != nil {
		return fmt.Errorf("New: %w", err)
	}
	if err := interp.Close(); err != nil {
		return fmt.Errorf("Close: %w", err)
	}
	return nil
}

func execPass(interp *subinterp.Interpreter) error {
	if err := interp.Exec("pass"); err != nil {
		return fmt.Errorf(`Exec("pass"): %w`, err)
	}
	return nil
}

func callSmall(interp *subinterp.Interpreter) error {
	result, err := interp.Call("operator:add", 1, 2)
	if err != nil {
		return fmt.Errorf(`Call("operator:add", 1, 2): %w`, err)
	}
	if n, ok := result.(int64); !ok || n != 3 {
		return fmt.Errorf(`Call("operator:add", 1, 2) = %#v (%T), want int64(3)`, result, result)
	}
	return nil
}

// BenchmarkCreateDestroy: one iteration is New (isolated, own GIL) + Close.
func BenchmarkCreateDestroy(b *testing.B) {
	if err := createDestroy(); err != nil { // verified before timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := createDestroy(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExecPass: one iteration is Exec("pass") in the shared interpreter.
func BenchmarkExecPass(b *testing.B) {
	interp := sharedInterp(b)
	if err := execPass(interp); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := execPass(interp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCallSmall: one iteration is Call("operator:add", 1, 2) in the
// shared interpreter (args converted, the call, the result read back and
// freed by the binding) and the check that it is int64(3).
func BenchmarkCallSmall(b *testing.B) {
	interp := sharedInterp(b)
	if err := callSmall(interp); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := callSmall(interp); err != nil {
			b.Fatal(err)
		}
	}
}
