package subinterp_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

func Example() {
	interp, err := subinterp.New() // isolated: its own GIL
	if err != nil {
		panic(err)
	}
	defer interp.Close()
	if err := interp.Exec("def add(a, b): return a + b"); err != nil {
		panic(err)
	}
	sum, err := interp.Call("add", 2, 40)
	fmt.Println(sum, err)
	root, err := interp.Call("math:sqrt", 2.0)
	fmt.Printf("%.4f %v\n", root, err)
	// Output:
	// 42 <nil>
	// 1.4142 <nil>
}

func ExampleQueue() {
	queue, _ := subinterp.NewQueue(subinterp.QueueOptions{})
	defer queue.Close()
	interp, _ := subinterp.New()
	defer interp.Close()
	_ = interp.PrepareMain(map[string]any{"results": queue}) // a Queue object in Python
	_ = interp.Exec("for n in range(3): results.put(n * n)")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range 3 {
		item, err := queue.Get(ctx)
		fmt.Println(item, err)
	}
	// Output:
	// 0 <nil>
	// 1 <nil>
	// 4 <nil>
}

func ExamplePythonError() {
	interp, _ := subinterp.New()
	defer interp.Close()
	_, err := interp.Call("json:loads", "{")
	var pyErr *subinterp.PythonError
	if errors.As(err, &pyErr) {
		fmt.Println(pyErr.Type())
	}
	// Output: json.decoder.JSONDecodeError
}

func ExamplePool() {
	pool, err := subinterp.NewPool(subinterp.PoolOptions{
		Workers:    2, // warm isolated interpreters, one OS thread each
		InitSource: "def square(x): return x * x",
	})
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	future, _ := pool.Submit(ctx, "square", 7)
	defer future.Close()
	result, err := future.Result(ctx)
	fmt.Println(result, err)
	squares, err := pool.Map(ctx, "square", [][]any{{1}, {2}, {3}})
	fmt.Println(squares, err)
	// Output:
	// 49 <nil>
	// [1 4 9] <nil>
}

func ExamplePool_Call() {
	pool, _ := subinterp.NewPool(subinterp.PoolOptions{Workers: 1, InitSource: "def spin():\n    while True: pass"})
	defer pool.Close()
	// The context's deadline interrupts the task; the worker stays usable.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := pool.Call(ctx, "spin")
	fmt.Println(errors.Is(err, subinterp.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	n, err := pool.Call(context.Background(), "len", "four")
	fmt.Println(n, err)
	// Output:
	// true true
	// 4 <nil>
}

func ExampleInterpreter_ExecContext() {
	interp, _ := subinterp.New()
	defer interp.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel) // interrupts the run
	err := interp.ExecContext(ctx, "while True: pass")
	fmt.Println(errors.Is(err, subinterp.ErrCancelled), errors.Is(err, context.Canceled))
	// Output: true true
}

func ExampleCheckImports() {
	checks, _ := subinterp.CheckImports(subinterp.IsolatedConfig(), "math", "no_such_module")
	for _, c := range checks {
		fmt.Printf("%s %t %s %q\n", c.Module, c.OK, c.Reason, c.Needs)
	}
	// Output:
	// math true ok ""
	// no_such_module false not-found ""
}
