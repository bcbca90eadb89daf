#!/usr/bin/env python3
"""The round trips from the C, Rust and Go hosts, each timed by its language's
own harness, gathered into one results file (bench/reporting.py's schema,
benchmark "hosts"; the Python host's figures come from bench/lifecycle.py).

    python3 bench/hosts.py --c C_HOST.json --rust CRITERION_HOME --go GO_TEST.txt \\
                           --library build/py3.13/libsubinterp.so --json hosts.json [--quick]

  --c      Google Benchmark's JSON (bench/c_host --benchmark_repetitions=N
           --benchmark_out=FILE --benchmark_out_format=json): one entry per
           repetition (run_type "iteration"), real_time per iteration
  --rust   criterion's output directory (CRITERION_HOME of `cargo bench -p
           subinterp-bench`): subinterp/<name>/new/sample.json, total ns of
           each sample (`times`) over its iterations (`iters`)
  --go     `go test -bench ... -count N` output (bench/go): one
           "BenchmarkX-P  iterations  T ns/op" line per run

Records: group = the benchmark (create_destroy, exec_pass, call_small,
pool_first_call: the same operations in every host, described in
bench/c_host.cpp, bench/rust/benches/roundtrip.rs and bench/go/roundtrip_test.go),
impl = c | rust | go, unit s; median, min and max over the repetitions
(C), samples (Rust) or runs (Go). A host that ran no benchmark, or a
benchmark missing from a host, is an error.
"""
import argparse
import json
import os
import re
import sys

import reporting

HOSTS = {"c": "C (Google Benchmark)", "rust": "Rust (criterion)", "go": "Go (testing.B)"}
EXPECTED = {
    "c": ("create_destroy", "exec_pass", "call_small", "pool_first_call"),
    "rust": ("create_destroy", "exec_pass", "call_small"),
    "go": ("create_destroy", "exec_pass", "call_small"),
}
NS_PER = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
GO_LINE = re.compile(r"^Benchmark(\w+?)(?:-\d+)?\s+\d+\s+([0-9.e+]+) ns/op\b")
GO_NAMES = {"CreateDestroy": "create_destroy", "ExecPass": "exec_pass", "CallSmall": "call_small"}


def c_samples(path):
    """Seconds per iteration, per benchmark, from Google Benchmark's JSON."""
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    samples = {}
    for entry in document["benchmarks"]:
        if entry.get("run_type") != "iteration":
            continue
        name = entry["name"].split("/")[0].removeprefix("BM_")
        if entry.get("error_occurred"):
            raise ValueError(f"C host: {name}: {entry.get('error_message')}")
        samples.setdefault(name, []).append(entry["real_time"] * NS_PER[entry["time_unit"]])
    return samples


def rust_samples(criterion_home):
    """Seconds per iteration of each criterion sample, per benchmark."""
    samples = {}
    group = os.path.join(criterion_home, "subinterp")
    for name in EXPECTED["rust"]:
        path = os.path.join(group, name, "new", "sample.json")
        if not os.path.exists(path):
            continue
        with open(path, encoding="utf-8") as f:
            sample = json.load(f)
        samples[name] = [t * 1e-9 / i for t, i in zip(sample["times"], sample["iters"])]
    return samples


def go_samples(path):
    """Seconds per op of each -count run, per benchmark."""
    samples = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            match = GO_LINE.match(line)
            if match and match.group(1) in GO_NAMES:
                samples.setdefault(GO_NAMES[match.group(1)], []).append(float(match.group(2)) * 1e-9)
    return samples


def records(host, samples):
    missing = [name for name in EXPECTED[host] if not samples.get(name)]
    if missing:
        raise ValueError(f"{HOSTS[host]}: no figures for {', '.join(missing)}")
    return [reporting.record(name, HOSTS[host], host, samples[name], "s") for name in EXPECTED[host]]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--c", help="Google Benchmark JSON of bench/c_host")
    parser.add_argument("--rust", help="criterion's output directory (CRITERION_HOME)")
    parser.add_argument("--go", help="output of go test -bench in bench/go")
    parser.add_argument("--library", required=True, help="the libsubinterp.so the hosts used (for the machine info)")
    parser.add_argument("--json", required=True, help="write the results here")
    parser.add_argument("--quick", action="store_true", help="mark the results as a smoke run's")
    options = parser.parse_args(argv)
    results = []
    if options.c:
        results += records("c", c_samples(options.c))
    if options.rust:
        results += records("rust", rust_samples(options.rust))
    if options.go:
        results += records("go", go_samples(options.go))
    if not results:
        raise ValueError("no host results given (--c, --rust, --go)")
    reporting.write_json(options.json, "hosts", reporting.machine_info(options.library), options.quick, results)
    for r in results:
        print(f"{r['impl']:5} {r['group']:16} median {r['median'] * 1e6:10.2f} us  "
              f"(min {r['min'] * 1e6:.2f}, max {r['max'] * 1e6:.2f}, n {r['n']})")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (ValueError, OSError, KeyError) as error:
        print(f"hosts.py: {error}", file=sys.stderr)
        sys.exit(1)
