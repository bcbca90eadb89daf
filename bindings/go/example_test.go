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
