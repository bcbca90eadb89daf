#!/usr/bin/env python3
"""Per-task overhead of pools: a trivial task (``operator.add``) on 2 workers,
side by side in one process.

    python3 bench/pool_overhead.py --library build/py3.13/libsubinterp.so [--quick]
                                   [--repeat 5] [--tasks 20000] [--markdown FILE] [--json FILE]

Configurations (each submits N tasks and waits for all of them):

  pool.submit    subinterp.pool.Pool: the C library's pool (native worker threads,
                 C task queue), one submit() per task, futures settled by the
                 pool's completion thread
  pool.map       the same pool, Pool.map(): the C library's subinterp_pool_map in chunks
  executor       subinterp.futures.InterpreterPoolExecutor (backed by the C pool)
  thread+interp  CPython 3.14's InterpreterPoolExecutor design, emulated on 3.12/3.13:
                 a Python thread per worker, each owning one interpreter, fed by a
                 queue.SimpleQueue, running each task with Interpreter.call()
  process        concurrent.futures.ProcessPoolExecutor (forkserver: no fork with interpreters alive)
  thread         concurrent.futures.ThreadPoolExecutor (reference: no isolation)

Pools are created and warmed up before timing and kept for all rounds; rounds
go round-robin over the configurations. Reported: microseconds per task,
median with min and max over the rounds, and ratios of the medians against
ProcessPoolExecutor and against thread+interp. --quick: a few hundred tasks,
2 rounds (seconds; a CI smoke run: every path runs and its results are checked).

--json FILE writes the results (at the end of a successful run, as the markdown) in the
format of bench/reporting.py (write_json): benchmark "pool", one record per row of the
report's table, group "per_task", unit "s" (seconds per task: a round's wall time divided
by its tasks), better "lower", median/min/max over the rounds, params {"workers": 2}:

  impl                     name (the report's configuration)
  subinterp_pool_submit    pool.submit
  subinterp_pool_map       pool.map
  subinterp_executor       executor
  thread_per_interpreter   thread+interp  (3.14's InterpreterPoolExecutor design)
  processes                process        (ProcessPoolExecutor, forkserver)
  threads                  thread         (ThreadPoolExecutor)
"""
import argparse
import concurrent.futures
import datetime
import multiprocessing
import operator
import os
import queue
import statistics
import sys
import threading
import time

import reporting
from reporting import table

WORKERS = 2
# The JSON records' impl of each configuration.
IMPLS = {"pool.submit": "subinterp_pool_submit", "pool.map": "subinterp_pool_map", "executor": "subinterp_executor",
         "thread+interp": "thread_per_interpreter", "process": "processes", "thread": "threads"}


def _import_package(library):
    if library:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(library)), "python"))
    import subinterp  # noqa: F401
    return subinterp


class ThreadInterpExecutor:
    """3.14's InterpreterPoolExecutor design: a thread per worker, each with its
    own interpreter, tasks from a Python queue, results through Python futures."""

    def __init__(self, workers):
        import subinterp.interpreters as interpreters
        self._work = queue.SimpleQueue()
        self._ready = threading.Barrier(workers + 1)
        self._threads = [threading.Thread(target=self._run, args=(interpreters,)) for _ in range(workers)]
        for thread in self._threads:
            thread.start()
        self._ready.wait()

    def _run(self, interpreters):
        interp = interpreters.create()
        try:
            self._ready.wait()
            while True:
                item = self._work.get()
                if item is None:
                    return
                future, fn, args = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    future.set_result(interp.call(fn, *args))
                except BaseException as exc:  # noqa: B036
                    future.set_exception(exc)
        finally:
            interp.close()

    def submit(self, fn, *args):
        future = concurrent.futures.Future()
        self._work.put((future, fn, args))
        return future

    def shutdown(self):
        for _ in self._threads:
            self._work.put(None)
        for thread in self._threads:
            thread.join()


def run_submits(pool, n):
    futures = [pool.submit(operator.add, i, i) for i in range(n)]
    results = [f.result() for f in futures]
    assert results == [2 * i for i in range(n)], "wrong results"


def run_pool_map(pool, n):
    results = pool.map(operator.add, range(n), range(n))
    assert results == [2 * i for i in range(n)], "wrong results"


def measure(options):
    subinterp = _import_package(options.library)
    from subinterp.futures import InterpreterPoolExecutor
    from subinterp.pool import Pool

    n = options.tasks or (400 if options.quick else 20000)
    repeat = options.repeat or (2 if options.quick else 5)
    # Not fork: forking while sub-interpreters exist is unsafe (docs/python.md).
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")

    pool = Pool(WORKERS)
    executor = InterpreterPoolExecutor(WORKERS)
    emulated = ThreadInterpExecutor(WORKERS)
    processes = concurrent.futures.ProcessPoolExecutor(WORKERS, mp_context=context)
    threads = concurrent.futures.ThreadPoolExecutor(WORKERS)
    configs = [
        ("pool.submit", lambda: run_submits(pool, n)),
        ("pool.map", lambda: run_pool_map(pool, n)),
        ("executor", lambda: run_submits(executor, n)),
        ("thread+interp", lambda: run_submits(emulated, n)),
        ("process", lambda: run_submits(processes, n)),
        ("thread", lambda: run_submits(threads, n)),
    ]
    samples = {name: [] for name, _ in configs}
    try:
        for _, run in configs:  # warm-up: every worker started and has run tasks
            run()
        for _ in range(repeat):
            for name, run in configs:
                start = time.perf_counter()
                run()
                samples[name].append((time.perf_counter() - start) / n * 1e6)
                if options.verbose:
                    print(f"  {name}: {samples[name][-1]:.2f} us/task", file=sys.stderr)
    finally:
        pool.shutdown()
        executor.shutdown()
        emulated.shutdown()
        processes.shutdown()
        threads.shutdown()
    return subinterp, n, repeat, samples


def machine_info(subinterp, library):
    return reporting.machine_info(library or os.path.join(os.path.dirname(subinterp.__file__), "libsubinterp.so.1"))


def json_results(samples):
    """The JSON records (reporting.record): seconds per task of every configuration."""
    return [reporting.record("per_task", name, IMPLS[name], [us / 1e6 for us in values], "s", {"workers": WORKERS})
            for name, values in samples.items()]


def report(subinterp, n, repeat, samples, info, command):
    medians = {name: statistics.median(values) for name, values in samples.items()}
    rows = []
    for name, values in samples.items():
        rows.append([name, f"{medians[name]:.2f}", f"{min(values):.2f}", f"{max(values):.2f}",
                     f"{medians['process'] / medians[name]:.2f}x", f"{medians['thread+interp'] / medians[name]:.2f}x"])
    lines = [
        "# Pool overhead: a trivial task on 2 workers",
        "",
        f"Generated by bench/pool_overhead.py on {datetime.date.today().isoformat()}: {n} tasks of "
        f"`operator.add(i, i)` per round, {repeat} rounds, 2 workers. Microseconds per task (wall time of "
        "submitting every task and waiting for all, divided by the number of tasks); speed-up columns are "
        "the ratio of medians (higher: faster than ProcessPoolExecutor / than the thread+interpreter design).",
        "",
        table(["configuration", "median us/task", "min", "max", "vs process", "vs thread+interp"], rows),
        "",
        f"Machine: {info['cpu']}, {info['nproc']} CPUs; Python {info['python'].split()[0]}; "
        f"library {info['library']} ({info['build_type']}); {info['source']}.",
        "",
        f"Reproduce: `{command}`.",
        "",
        "Reading it: `pool.submit` pays for one Python future and one completion per task (a C completion",
        "callback puts a tag in a subinterp queue that a Python thread drains); `pool.map` sends a batch as",
        "one call and is the per-task cost of the C pool itself. `thread+interp` is what 3.14's",
        "InterpreterPoolExecutor does (a Python thread per worker calling into its interpreter).",
    ]
    return "\n".join(lines) + "\n"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="libsubinterp.so whose directory's python/ holds the package")
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds)")
    parser.add_argument("--repeat", type=int, help="rounds (default 5; 2 with --quick)")
    parser.add_argument("--tasks", type=int, help="tasks per round (default 20000; 400 with --quick)")
    parser.add_argument("--markdown", help="write the report there")
    parser.add_argument("--json", help="write the results (JSON, see bench/reporting.py) there")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--command", help="the command line to record in the report")
    options, _ = parser.parse_known_args(argv)
    subinterp, n, repeat, samples = measure(options)
    command = options.command or "python3 bench/pool_overhead.py " + " ".join(argv)
    info = machine_info(subinterp, options.library)
    text = report(subinterp, n, repeat, samples, info, command)
    records = json_results(samples)
    reporting.check_results(records)  # a malformed record fails the run before any file is written
    print(text)
    if options.markdown:
        with open(options.markdown, "w", encoding="utf-8") as file:
            file.write(text)
    if options.json:
        reporting.write_json(options.json, "pool", info, options.quick, records)
        print(f"wrote {options.json} ({len(records)} results)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
