// Package bench holds the Go host's round-trip benchmarks (roundtrip_test.go),
// the same three as the C and Rust hosts, under the same names:
//
//   - BenchmarkCreateDestroy (create_destroy): subinterp.New (the isolated
//     preset, own GIL) then Close; one iteration is one create and one
//     destroy.
//   - BenchmarkExecPass (exec_pass): Exec("pass") in one existing isolated
//     interpreter, default options.
//   - BenchmarkCallSmall (call_small): Call("operator:add", 1, 2) in that same
//     interpreter; the result must be int64(3) on every iteration.
//
// The runtime starts (EnsureStarted) and the shared interpreter is created
// before any timing; any error or wrong result fails the run (b.Fatal, a
// non-zero exit). Run them with the go test benchmark flags, against one
// CPython series' build:
//
//	source ci/lib.sh
//	go_for 3.13 bench/go test -run '^$' -bench 'Benchmark(CreateDestroy|ExecPass|CallSmall)$' -count 5 -benchtime 2s
package bench
