#!/usr/bin/env python3
"""Parallel CPU-bound pure Python with subinterp's InterpreterPoolExecutor.

    PYTHONPATH=build/py3.13/python python3 examples/python/parallel_executor.py [--tasks 4] [--size N]

Runs the same batch of tasks (a pure-Python prime count) on an executor with 1
worker and on one with 2 workers. Each worker is a thread running its own
isolated interpreter with its own GIL, so on a machine with 2 free cores the
2-worker run takes about half the time. Prints both times and the speedup;
exits non-zero if a result is wrong (the speedup itself depends on the
machine's load and is only reported, unless --min-speedup is given).
"""
import argparse
import os
import sys
import time

from subinterp.futures import InterpreterPoolExecutor


def count_primes(start, stop):
    """Primes in [start, stop), by trial division: pure Python, no I/O, holds the GIL throughout."""
    count = 0
    for n in range(max(start, 2), stop):
        if n % 2 == 0:
            count += n == 2
            continue
        d = 3
        while d * d <= n:
            if n % d == 0:
                break
            d += 2
        else:
            count += 1
    return count


def run(workers, chunks):
    with InterpreterPoolExecutor(max_workers=workers) as pool:
        # Start-up (creating the workers' interpreters) is not what we time: warm up first.
        list(pool.map(count_primes, [0] * workers, [10] * workers))
        t0 = time.perf_counter()
        results = list(pool.map(count_primes, *zip(*chunks)))
        return time.perf_counter() - t0, results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=4, help="number of tasks (default 4)")
    parser.add_argument("--size", type=int, default=100_000, help="numbers tested per task (default 100000)")
    parser.add_argument("--min-speedup", type=float, default=0.0,
                        help="exit non-zero if 2 workers are not at least this much faster than 1")
    args = parser.parse_args()

    chunks = [(i * args.size, (i + 1) * args.size) for i in range(args.tasks)]
    expected = [count_primes(a, b) for a, b in chunks]  # in this interpreter, for the check

    one, got_one = run(1, chunks)
    two, got_two = run(2, chunks)
    if got_one != expected or got_two != expected:
        print(f"FAILED: expected {expected}, got {got_one} (1 worker) and {got_two} (2 workers)", file=sys.stderr)
        return 1
    speedup = one / two
    print(f"{sum(expected)} primes below {args.tasks * args.size:,} in {args.tasks} tasks "
          f"({os.cpu_count()} CPUs)")
    print(f"1 worker:  {one:.2f} s")
    print(f"2 workers: {two:.2f} s")
    print(f"speedup of 2 workers over 1: {speedup:.2f}x")
    if speedup < args.min_speedup:
        print(f"FAILED: speedup {speedup:.2f}x is below --min-speedup {args.min_speedup}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
