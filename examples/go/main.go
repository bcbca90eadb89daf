// Command parallel_speedup runs one CPU-bound pure-Python function in N
// isolated interpreters, one goroutine each, and prints the speedup over
// running it in one.
//
//	parallel_speedup [N] [WORK] [ROUNDS]
//
// N defaults to the number of cores, WORK to 2,000,000 loop steps, ROUNDS to
// 5; the speedup printed is the median over the rounds. The same program in
// C is examples/parallel_speedup.c, in Rust examples/rust.
package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	subinterp "github.com/subinterp/subinterp/bindings/go"
)

const source = `
def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
`

func argument(index int, fallback, low, high int64) int64 {
	if len(os.Args) <= index {
		return fallback
	}
	n, err := strconv.ParseInt(os.Args[index], 10, 64)
	if err != nil || n < low || n > high {
		fmt.Fprintf(os.Stderr, "bad argument %q\nusage: parallel_speedup [N 1..256] [WORK] [ROUNDS 1..100]\n", os.Args[index])
		os.Exit(2)
	}
	return n
}

// runAtOnce runs work(n) once in each interpreter, all at once (one
// goroutine each), and returns the wall time from a common start.
func runAtOnce(interpreters []*subinterp.Interpreter, work int64) (time.Duration, []any, error) {
	results := make([]any, len(interpreters))
	errs := make([]error, len(interpreters))
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i, interp := range interpreters {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			results[i], errs[i] = interp.Call("work", work)
		}()
	}
	ready.Wait()
	began := time.Now()
	close(start)
	done.Wait()
	elapsed := time.Since(began)
	for _, err := range errs {
		if err != nil {
			return 0, nil, err
		}
	}
	return elapsed, results, nil
}

func median(values []float64) float64 {
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	return sorted[len(sorted)/2]
}

func run(workers int, work int64, rounds int) error {
	interpreters := make([]*subinterp.Interpreter, workers)
	for i := range interpreters {
		interp, err := subinterp.New()
		if err != nil {
			return err
		}
		defer interp.Close()
		if err := interp.Exec(source); err != nil {
			return err
		}
		interpreters[i] = interp
	}
	fmt.Printf("subinterp %s on CPython %s (Go): %d isolated interpreters, %d cores, work(%d), %d rounds\n",
		subinterp.Version(), subinterp.PythonVersion(), workers, runtime.NumCPU(), work, rounds)
	var one, all, speedups []float64
	for round := 1; round <= rounds; round++ {
		single, expected, err := runAtOnce(interpreters[:1], work)
		if err != nil {
			return err
		}
		parallel, results, err := runAtOnce(interpreters, work)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r != expected[0] {
				return fmt.Errorf("interpreters disagree: %v", results)
			}
		}
		speedup := float64(workers) * single.Seconds() / parallel.Seconds()
		fmt.Printf("  round %d: 1 call %.3f s, %d calls at once %.3f s, speedup %.2fx\n",
			round, single.Seconds(), workers, parallel.Seconds(), speedup)
		one, all, speedups = append(one, single.Seconds()), append(all, parallel.Seconds()), append(speedups, speedup)
	}
	fmt.Printf("median: 1 interpreter %.3f s per call; %d interpreters %.3f s for %d calls\n",
		median(one), workers, median(all), workers)
	speedup := median(speedups)
	fmt.Printf("parallel speedup: %.2fx with %d interpreters (ideal %dx, efficiency %.0f%%)\n",
		speedup, workers, workers, 100*speedup/float64(workers))
	return nil
}

func main() {
	workers := argument(1, int64(runtime.NumCPU()), 1, 256)
	work := argument(2, 2_000_000, 1, 1<<62)
	rounds := argument(3, 5, 1, 100)
	if err := run(int(workers), work, int(rounds)); err != nil {
		fmt.Fprintln(os.Stderr, "parallel_speedup failed:", err)
		os.Exit(1)
	}
}
