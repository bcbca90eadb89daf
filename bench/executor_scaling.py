#!/usr/bin/env python3
"""Executor scaling: CPU-bound pure-Python tasks on subinterp's
InterpreterPoolExecutor against threads, processes and multiprocessing.Pool,
with 1 to N workers (N: the CPUs this process may use), side by side in one run.

    python3 bench/executor_scaling.py --library build/py3.13/libsubinterp.so [--quick]
                                      [--markdown docs/benchmarks-executor.md] [--json FILE]
                                      [--max-workers N] [--tasks T]

Run it with the CPython the library was built against (3.12 or 3.13); the
package is imported from the library's directory's python/ (the build tree's
assembled package), or from sys.path with --library omitted.

Every configuration (a pool kind with w workers, w = 1..N; N from
os.sched_getaffinity, or --max-workers) runs the same fixed amount of work
per round: T equal tasks (``work(n)``: a pure-Python loop summing i*i % 7),
submitted together, and waits for all of them. T is --tasks, by default the
least common multiple of 1..N when that is at most 4N (so every worker count
divides the work evenly: T = N for N <= 2, 6 for 3, 12 for 4), else 4N; each
task is sized to 0.3 s x N / T in the main thread (a round's work is N x 0.3 s
whatever T is; 0.005 instead of 0.3 with --quick). Reported: wall time per
configuration, the speedup over 1 worker of the same kind,
speedup(w) = time(1 worker) / time(w workers), the efficiency speedup(w) / w,
the ideal speedup T / ceil(T / w), and ratios between the kinds at each worker
count; the done-criterion (2 workers measurably faster than 1) in the
headline. Pools are created and warmed up before timing
(every worker has run a task), and kept for all the rounds; start-up
(executor creation + first trivial task + shutdown) is measured separately on
fresh pools. Samples are taken round-robin over the configurations so that
bursts of load from other processes spread over all of them; medians with min
and max. --quick runs everything briefly (CI smoke run): every path runs and
its results are checked, the numbers mean little. Any error exits non-zero.

--json FILE writes the results (at the end of a successful run, as the markdown; one
document per run, i.e. per CPython: --append does not apply to it) in the format of
bench/reporting.py (write_json): benchmark "executor", unit "s", better "lower",
median/min/max over the rounds (scaling) or fresh pools (startup, shutdown):

  group     impl                   name (the report's configuration)         params
  scaling   serial                 serial, main thread (reference)           {"workers": 1}
            subinterp_executor     subinterp `InterpreterPoolExecutor(w)`    {"workers": w}, w = 1..N
            threads                `ThreadPoolExecutor(w)`                   {"workers": w}
            processes              `ProcessPoolExecutor(w)`                  {"workers": w}
            multiprocessing_pool   `multiprocessing.Pool(w)`                 {"workers": w}
  startup   the four pool impls    as above                                  {"workers": w}
  shutdown  the four pool impls    as above                                  {"workers": w}

scaling: the wall time of one round (all T tasks); startup: creating a fresh pool and
getting one trivial task's result; shutdown: its shutdown. Speedups, efficiencies and
CPU/wall ratios are derived and not recorded; T and the task size are in the markdown.
"""
import argparse
import concurrent.futures
import datetime
import math
import multiprocessing
import os
import platform
import statistics
import sys
import time

import reporting
from reporting import table

# --------------------------------------------------------------------------------------
# The work. Closure-free and self-contained: subinterp ships it by code into the
# workers' interpreters; processes get it by name (fork: the parent's __main__).
# --------------------------------------------------------------------------------------


def work(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def expected(n):
    # i*i % 7 over a period of 7: 0 1 4 2 2 4 1 (sum 14)
    full, rest = divmod(n, 7)
    return full * 14 + sum(i * i % 7 for i in range(rest))


def trivial():
    return 42


class BenchError(RuntimeError):
    """Any failure: the run stops and exits non-zero."""


# --------------------------------------------------------------------------------------
# Configurations: each makes a pool, runs a list of (function, arg) and closes it.
# --------------------------------------------------------------------------------------

class Executor:
    """A concurrent.futures executor (subinterp's, threads or processes)."""

    def __init__(self, label, kind, workers, factory):
        self.label, self.kind, self.workers, self.factory = label, kind, workers, factory
        self.pool = None

    def open(self):
        self.pool = self.factory(self.workers)

    def run(self, fn, args):
        futures = [self.pool.submit(fn, a) for a in args]
        return [f.result() for f in futures]

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None


class MpPool(Executor):
    """multiprocessing.Pool."""

    def run(self, fn, args):
        return self.pool.map(fn, args, chunksize=1)

    def close(self):
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None


class Serial(Executor):
    """The tasks one after the other in the main thread: the reference."""

    def open(self):
        self.pool = True

    def run(self, fn, args):
        return [fn(a) for a in args]

    def close(self):
        self.pool = None


# kind: (the JSON records' impl, label with the worker count, label of the kind)
KINDS = {
    "subinterp": ("subinterp_executor", "subinterp `InterpreterPoolExecutor({})`", "subinterp `InterpreterPoolExecutor`"),
    "threads": ("threads", "`ThreadPoolExecutor({})`", "`ThreadPoolExecutor`"),
    "processes": ("processes", "`ProcessPoolExecutor({})`", "`ProcessPoolExecutor`"),
    "mp.Pool": ("multiprocessing_pool", "`multiprocessing.Pool({})`", "`multiprocessing.Pool`"),
}
SERIAL_LABEL = "serial, main thread (reference)"


def configurations(interpreter_pool, max_workers):
    """The serial reference, then every pool kind with 1..max_workers workers."""
    mp = multiprocessing.get_context()  # the platform's default (fork on Linux for 3.12/3.13)
    makers = {
        "subinterp": (Executor, interpreter_pool),
        "threads": (Executor, concurrent.futures.ThreadPoolExecutor),
        "processes": (Executor, lambda w: concurrent.futures.ProcessPoolExecutor(w, mp_context=mp)),
        "mp.Pool": (MpPool, lambda w: mp.Pool(w)),
    }
    configs = [Serial(SERIAL_LABEL, "serial", 1, None)]
    for kind, (_, label, _) in KINDS.items():
        cls, factory = makers[kind]
        configs += [cls(label.format(w), kind, w, factory) for w in range(1, max_workers + 1)]
    return configs


def default_workers():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_tasks(max_workers):
    """Tasks per round: the least common multiple of 1..max_workers (every worker count splits
    the work evenly) unless that exceeds 4 x max_workers, then 4 x max_workers."""
    tasks = math.lcm(*range(1, max_workers + 1))
    return tasks if tasks <= 4 * max_workers else 4 * max_workers


def ideal_speedup(tasks, workers):
    """Equal tasks on `workers` workers take ceil(tasks / workers) tasks' time."""
    return tasks / -(-tasks // workers)


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------

FORKING = ("processes", "mp.Pool")


class Bench:
    def __init__(self, config, interpreter_pool, interpreters):
        self.config = config
        self.interpreters = interpreters
        self.max_workers = config.max_workers
        self.tasks = config.tasks       # per round, the same for every configuration
        self.configs = configurations(interpreter_pool, self.max_workers)
        self.n = None
        self.task_time = None           # one task, main thread, calibration
        self.wall = {c.label: [] for c in self.configs}
        self.cpu = {c.label: [] for c in self.configs}   # CPU time of this process (all its threads)
        self.startup = {c.label: [] for c in self.configs if c.kind != "serial"}
        self.shutdown = {c.label: [] for c in self.configs if c.kind != "serial"}

    def progress(self, text):
        if self.config.verbose:
            print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)

    def calibrate(self):
        if self.config.task_size:
            self.n = self.config.task_size
        else:
            n = 10_000
            while True:
                t0 = time.perf_counter()
                work(n)
                elapsed = time.perf_counter() - t0
                if elapsed > 0.02:
                    break
                n *= 4
            self.n = max(1000, int(n * self.config.task_time / elapsed))
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = work(self.n)
            times.append(time.perf_counter() - t0)
            if result != expected(self.n):
                raise BenchError(f"work({self.n}) = {result}, expected {expected(self.n)}")
        self.task_time = statistics.median(times)
        self.progress(f"task: work({self.n}), {self.task_time * 1e3:.0f} ms in the main thread; "
                      f"{self.tasks} tasks per round, 1 to {self.max_workers} workers")

    def measure_startup(self):
        """Fresh pools: creation + first trivial task; then shutdown. A first, unrecorded round
        pays for the one-time costs (loading subinterp's control plane, imports)."""
        for round_number in range(-1, self.config.startup_repeat):
            for c in self.configs:
                if c.kind == "serial":
                    continue
                t0 = time.perf_counter()
                self.check_can_fork(c)
                c.open()
                try:
                    got = c.run(trivial_call, [None])
                    t1 = time.perf_counter()
                finally:
                    c.close()
                t2 = time.perf_counter()
                if got != [42]:
                    raise BenchError(f"{c.label}: trivial task returned {got!r}")
                if round_number >= 0:
                    self.startup[c.label].append(t1 - t0)
                    self.shutdown[c.label].append(t2 - t1)
            self.progress(f"start-up round {round_number + 1}/{self.config.startup_repeat}")

    def check_can_fork(self, c):
        """CPython 3.12.1 and 3.13.0 cannot fork while a sub-interpreter exists (the child hangs on
        3.12.1 and aborts on 3.13.0: "PyThreadState_Get: ... the GIL is released"), so the pools
        that fork are opened while no interpreter but main exists."""
        if c.kind in FORKING and multiprocessing.get_start_method() == "fork":
            alive = [i.id for i in self.interpreters.list_all() if i.id != self.interpreters.get_main().id]
            if alive:
                raise BenchError(f"{c.label}: would fork with sub-interpreters {alive} alive")

    def measure_scaling(self):
        want = [expected(self.n)] * self.tasks
        try:
            # Forking pools first (they fork their workers now), then the others.
            for c in sorted(self.configs, key=lambda c: c.kind not in FORKING):
                self.check_can_fork(c)
                c.open()
                # Warm up: every worker runs a task (a short one per worker, submitted together,
                # then the real round once), so no timed round pays for starting a worker.
                for _ in range(2):
                    c.run(work, [max(1, self.n // 20)] * c.workers)
                got = c.run(work, [self.n] * self.tasks)
                if got != want:
                    raise BenchError(f"{c.label}: got {got!r}, expected {want!r}")
            self.progress("pools warmed up")
            for round_number in range(self.config.repeat):
                for c in self.configs:
                    c0 = time.process_time()
                    t0 = time.perf_counter()
                    got = c.run(work, [self.n] * self.tasks)
                    elapsed = time.perf_counter() - t0
                    self.cpu[c.label].append(time.process_time() - c0)
                    if got != want:
                        raise BenchError(f"{c.label}: got {got!r}, expected {want!r}")
                    self.wall[c.label].append(elapsed)
                self.progress(f"round {round_number + 1}/{self.config.repeat}")
        finally:
            for c in self.configs:
                c.close()

    def teardown(self):
        errors = []
        for c in self.configs:
            try:
                c.close()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"{c.label}: {exc!r}")
        return errors

    # ---- results ----------------------------------------------------------------------

    def label(self, kind, workers):
        for c in self.configs:
            if c.kind == kind and c.workers == workers:
                return c.label
        raise KeyError((kind, workers))

    def med(self, kind, workers):
        return statistics.median(self.wall[self.label(kind, workers)])

    def speedup(self, kind, workers):
        """Median time with 1 worker / median time with `workers` workers (same kind, same work)."""
        return self.med(kind, 1) / self.med(kind, workers)

    def efficiency(self, kind, workers):
        return self.speedup(kind, workers) / workers

    def parallelism(self, kind, workers):
        """Median over rounds of this process's CPU time / wall time: above 1, more than one core
        worked at once (meaningless for process pools, whose work is in other processes)."""
        label = self.label(kind, workers)
        return statistics.median(c / w for c, w in zip(self.cpu[label], self.wall[label]))

    def paired_speedups(self, kind, workers):
        """Per round: 1-worker time / `workers`-worker time of the same round."""
        one, many = self.wall[self.label(kind, 1)], self.wall[self.label(kind, workers)]
        return [a / b for a, b in zip(one, many)]

    def json_results(self):
        """The JSON records (reporting.record): wall time per round, start-up and shutdown."""
        out = []
        for c in self.configs:
            impl = "serial" if c.kind == "serial" else KINDS[c.kind][0]
            out.append(reporting.record("scaling", c.label, impl, self.wall[c.label], "s", {"workers": c.workers}))
        for group, samples in (("startup", self.startup), ("shutdown", self.shutdown)):
            for c in self.configs:
                if c.kind != "serial":
                    out.append(reporting.record(group, c.label, KINDS[c.kind][0], samples[c.label], "s",
                                                {"workers": c.workers}))
        return out


def trivial_call(_):
    return 42


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def fmt_s(seconds):
    return f"{seconds:.3f}"


def fmt_ms(seconds):
    ms = seconds * 1e3
    return f"{ms:.1f}" if ms < 100 else f"{ms:.0f}"


def fmt_range(samples, fmt=fmt_s):
    return f"{fmt(statistics.median(samples))} ({fmt(min(samples))}-{fmt(max(samples))})"


def fmt_ratio(x):
    return f"{x:.2f}x"


def machine_info(package):
    library = os.path.join(os.path.dirname(package.__file__), "libsubinterp.so.1")
    return {**reporting.machine_info(library), "package": os.path.dirname(os.path.abspath(package.__file__)),
            "version": package.__version__}


PAGE_HEADER = """# Benchmarks: executor scaling

Generated by `bench/executor_scaling.py` (run through `ci/bench`); do not edit by hand, rerun it. Each
section below comes from one run with the CPython it names.

What is measured: a fixed amount of CPU-bound pure-Python work (`work(n)`, a loop summing `i * i % 7`;
no I/O, no C extension releasing the GIL), split into equal tasks that are submitted together to a
pool of 1, 2, ... up to N workers (N: the CPUs the run could use; each section gives N and the number
of tasks), and the wall time until every result is back. The work is the same for every worker
count, so the speedup over 1 worker, time(1 worker) / time(w workers), is ideally w (when w divides
the number of tasks), and the efficiency, speedup / w, ideally 100%. A worker of subinterp's
`InterpreterPoolExecutor` is a thread running an isolated interpreter with its own GIL, so it should
scale with the cores; threads share one GIL (no speedup expected); processes scale but pay for
pickling and process start-up. Pool start-up is measured separately and is not in the wall times.

The machine is shared with other work: anything else running takes from the ideal speedup, and the
more workers, the more it takes. Compare ratios within one section, not seconds across sections.

To reproduce both sections (builds `build/py3.13` and `build/py3.12` if needed; about 1-2 minutes each
on a 2-CPU machine):

```sh
ci/bench --only executor
```

"""


def fmt_speedup(bench, kind, workers):
    return f"{fmt_ratio(bench.speedup(kind, workers))} ({bench.efficiency(kind, workers):.0%})"


def render(bench, config, info, started, elapsed, load_before, load_after):
    out = []
    add = out.append
    series = ".".join(platform.python_version_tuple()[:2])
    top, tasks = bench.max_workers, bench.tasks
    n_tasks = f"{tasks} task{'s' if tasks != 1 else ''}"
    worker_counts = range(1, top + 1)
    add(f"## CPython {series}\n")
    busy = load_before[0] > 0.5 or load_after[0] > max(1.5, top - 0.5)
    if busy:
        add(f"**The machine was busy during this run** (1-minute load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after, on {info['nproc']} cores; this benchmark itself is 1 to {top} of it): "
            f"other processes competed for the CPUs, so multi-worker figures are deflated and noisy. "
            f"Ratios of interleaved medians suffer less.\n")

    add("### Headline: the done-criterion\n")
    if top >= 2:
        sub = bench.speedup("subinterp", 2)
        pairs = bench.paired_speedups("subinterp", 2)
        holds = sub >= 1.3 and all(p > 1.0 for p in pairs)
        control = max(bench.speedup("processes", 2), bench.speedup("mp.Pool", 2))
        if holds:
            verdict = "**HOLDS**"
        elif control < 1.3:
            verdict = ("**NOT SHOWN BY THIS RUN** (no second free core: the process pools did not scale "
                       "either)")
        else:
            verdict = "**DOES NOT HOLD**"
        ideal = ideal_speedup(tasks, 2)
        measured = (
            f"{n_tasks}: 1 worker {fmt_s(bench.med('subinterp', 1))} s, 2 workers "
            f"{fmt_s(bench.med('subinterp', 2))} s (medians): speedup **{fmt_ratio(sub)}**; per round "
            f"{min(pairs):.2f}x-{max(pairs):.2f}x (ideal {ideal:.2f}x). Same run: threads "
            f"{fmt_ratio(bench.speedup('threads', 2))}, `ProcessPoolExecutor` "
            f"{fmt_ratio(bench.speedup('processes', 2))}, `multiprocessing.Pool` "
            f"{fmt_ratio(bench.speedup('mp.Pool', 2))}. CPU time / wall time of this process while 2 workers "
            f"ran: subinterp **{bench.parallelism('subinterp', 2):.2f}**, threads "
            f"{bench.parallelism('threads', 2):.2f}")
        if top > 2:
            measured += (f". With all {top} workers: subinterp {fmt_speedup(bench, 'subinterp', top)} "
                         f"(ideal {ideal_speedup(tasks, top):.2f}x), `ProcessPoolExecutor` "
                         f"{fmt_speedup(bench, 'processes', top)}")
    else:
        verdict = "**NOT MEASURED** (this run had 1 worker at most: `--max-workers` or a 1-CPU affinity)"
        measured = f"{n_tasks}: 1 worker {fmt_s(bench.med('subinterp', 1))} s (median)"
    add(table(["criterion", "measured in this run", "verdict"], [[
        "The executor runs a CPU-bound pure-Python function on 2 workers measurably faster than on 1 "
        "in the same run", measured, verdict]]))
    add("")
    add("HOLDS: median speedup at least 1.3x, and in every round the 2-worker run was faster than "
        "the 1-worker run of the same round. When it does not, and the process pools (the control: "
        "they scale whenever two cores are free) did not reach 1.3x either, the run says so instead "
        "of blaming the executor. CPU time / wall time counts every thread of this process: above "
        "1.0 means the workers' interpreters computed on more than one core at the same time, "
        "whatever else the machine was doing; threads under the GIL stay at or below 1.0.\n")

    add("### Machine and command\n")
    add(f"- Date (UTC): {started:%Y-%m-%d %H:%M}; the run took {elapsed:.0f} s.")
    add(f"- CPU: {info['cpu']}; nproc {info['nproc']} (usable by this process: {info['affinity']}); "
        f"load average (1, 5, 15 min) before / after the run: "
        f"{' '.join(f'{x:.2f}' for x in load_before)} / {' '.join(f'{x:.2f}' for x in load_after)}.")
    add(f"- OS: {info['platform']}")
    add(f"- CPython: {info['python']} (`{info['executable']}`)")
    add(f"- subinterp {info['version']}: package `{info['package']}`, library `{info['library']}`, "
        f"CMAKE_BUILD_TYPE={info['build_type']}; sources at benchmark time: {info['source']}.")
    add(f"- multiprocessing start method: `{multiprocessing.get_start_method()}` (the platform default).")
    add(f"- Command: `{config.command}`")
    add(f"- Workers: 1 to {top} per pool kind"
        f"{' (the CPUs this process may use)' if top == info['affinity'] else ' (--max-workers)'}.")
    add(f"- Task: `work({bench.n:,})` (a loop summing `i * i % 7`), "
        f"{fmt_ms(bench.task_time)} ms in the main thread; every result is checked. {n_tasks} per round "
        f"(about {fmt_s(tasks * bench.task_time)} s of work), the same for every configuration.")
    add(f"- Method: each configuration's pool is created once and warmed up (every worker ran tasks), then "
        f"{config.repeat} rounds; in each round every configuration in turn submits the {n_tasks} and waits "
        f"for all of them (wall time). Start-up: {config.startup_repeat} fresh pools per configuration, "
        f"round-robin, after an unrecorded round. "
        f"Shown: median (min-max).\n")

    add(f"### Wall time for {n_tasks}, and the speedup and efficiency over 1 worker\n")
    rows = []
    for c in bench.configs:
        samples = bench.wall[c.label]
        if c.kind == "serial":
            speed = efficiency = "-"
        elif c.workers == 1:
            speed, efficiency = "1.00x (reference)", "-"
        else:
            speed = fmt_ratio(bench.speedup(c.kind, c.workers))
            efficiency = f"{bench.efficiency(c.kind, c.workers):.0%}"
        par = "-" if c.kind in FORKING else f"{bench.parallelism(c.kind, c.workers):.2f}"
        rows.append([c.label, fmt_range(samples), f"{statistics.median(samples) / bench.task_time:.2f}", speed,
                     efficiency, par])
    add(table(["configuration", f"wall s for {n_tasks}", "in tasks' time (1 task = 1.00)",
               "speedup over 1 worker", "efficiency (speedup / workers)", "CPU / wall, this process"], rows))
    add("")
    add(f"The third column divides the median by one task's time in the main thread: {tasks:.2f} is {n_tasks} "
        f"one after the other, {tasks}/w (rounded up to a whole number of tasks) the ideal for w workers. "
        "Speedup: the median with 1 worker of the same kind over this median; efficiency: the speedup divided "
        "by the number of workers (100%: perfect scaling).\n")

    add("### Speedup over 1 worker (efficiency), by number of workers\n")
    rows = [[f"ideal: {n_tasks} on w workers"] + [f"{ideal_speedup(tasks, w):.2f}x ({ideal_speedup(tasks, w) / w:.0%})"
                                                for w in worker_counts]]
    for kind, (_, _, name) in KINDS.items():
        rows.append([name] + [fmt_speedup(bench, kind, w) for w in worker_counts])
    add(table(["pool"] + [f"{w} worker{'s' if w > 1 else ''}" for w in worker_counts], rows))
    add("")

    add("### The pools compared at each number of workers (above 1: subinterp faster)\n")
    rows = []
    for w in worker_counts:
        ours = bench.med("subinterp", w)
        for kind in ("threads", "processes", "mp.Pool"):
            theirs = bench.med(kind, w)
            rows.append([f"subinterp {w} worker{'s' if w > 1 else ''} vs {KINDS[kind][1].format(w)}",
                         f"{fmt_s(ours)} s vs {fmt_s(theirs)} s", fmt_ratio(theirs / ours)])
    add(table(["comparison", "medians", "their time / ours"], rows))
    add("")

    add("### Start-up (not included above)\n")
    add("A fresh pool: creating the executor and getting the result of one trivial task (`return 42`); "
        "then `shutdown(wait=True)` (`close()` + `join()` for `multiprocessing.Pool`). For the "
        "InterpreterPoolExecutor this includes creating the worker's isolated interpreter (workers are "
        "started one per submission, so the other workers of a pool of more than 1 are not started by one "
        "task); `ProcessPoolExecutor` with fork and `multiprocessing.Pool` start every worker process at once.\n")
    rows = []
    for c in bench.configs:
        if c.kind == "serial":
            continue
        rows.append([c.label, fmt_range(bench.startup[c.label], fmt_ms), fmt_range(bench.shutdown[c.label], fmt_ms)])
    add(table(["configuration", "creation + first trivial task, ms", "shutdown, ms"], rows))
    add("")
    return "\n".join(out)


def headline(bench):
    top = bench.max_workers
    if top < 2:
        return f"executor: 1 worker only, subinterp {fmt_s(bench.med('subinterp', 1))} s per round"
    text = (f"executor: subinterp 2 workers / 1 worker speedup {bench.speedup('subinterp', 2):.2f}x, "
            f"CPU/wall {bench.parallelism('subinterp', 2):.2f} "
            f"(threads {bench.speedup('threads', 2):.2f}x, processes {bench.speedup('processes', 2):.2f}x)")
    if top > 2:
        text += (f"; {top} workers: subinterp {bench.speedup('subinterp', top):.2f}x "
                 f"(processes {bench.speedup('processes', top):.2f}x)")
    return text


# --------------------------------------------------------------------------------------

def import_package(library):
    if library:
        package_dir = os.path.join(os.path.dirname(os.path.abspath(library)), "python")
        if not os.path.isdir(os.path.join(package_dir, "subinterp")):
            raise BenchError(f"no subinterp package in {package_dir} (assembled by the build next to the library)")
        sys.path.insert(0, package_dir)
    import subinterp
    import subinterp.interpreters
    from subinterp.futures import InterpreterPoolExecutor
    return subinterp, InterpreterPoolExecutor


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", help="libsubinterp.so of a build; its directory's python/ has the package "
                                          "(default: import subinterp from sys.path)")
    parser.add_argument("--quick", action="store_true", help="tiny tasks, few rounds: a CI smoke run")
    parser.add_argument("--markdown", help="write the report (markdown) to this file")
    parser.add_argument("--json", help="write the results (JSON, see bench/reporting.py) to this file; one "
                                       "document per run, whatever --append says")
    parser.add_argument("--append", action="store_true", help="append the report to --markdown instead of "
                                                                "replacing it (to collect several CPythons)")
    parser.add_argument("--repeat", type=int, help="rounds (default 7; 2 with --quick)")
    parser.add_argument("--startup-repeat", type=int, help="fresh pools per configuration (default 5; 1 with --quick)")
    parser.add_argument("--max-workers", type=int, help="pools of 1 to this many workers (default: the CPUs this "
                                                         "process may use, len(os.sched_getaffinity(0)))")
    parser.add_argument("--tasks", type=int, help="tasks per round, the same for every configuration (default: "
                                                  "lcm(1..max workers) if at most 4 x max workers, else 4 x max "
                                                  "workers)")
    parser.add_argument("--task-time", type=float, help="seconds per task in the main thread (default "
                                                        "0.3 x max workers / tasks, 0.005 x ... with --quick)")
    parser.add_argument("--task-size", type=int, help="iterations per task (default: calibrated to --task-time)")
    parser.add_argument("--sample-time", type=float, help="ignored (an option of the other benchmarks)")
    parser.add_argument("--command", help="the command line to record in the report (default: this one)")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    config = parser.parse_args()
    config.repeat = config.repeat or (2 if config.quick else 7)
    config.startup_repeat = config.startup_repeat or (1 if config.quick else 5)
    config.max_workers = config.max_workers if config.max_workers is not None else default_workers()
    if config.max_workers < 1 or (config.tasks is not None and config.tasks < 1):
        parser.error("--max-workers and --tasks must be >= 1")
    config.tasks = config.tasks or default_tasks(config.max_workers)
    if config.task_time is None:
        config.task_time = (0.005 if config.quick else 0.3) * config.max_workers / config.tasks
    if not config.command:
        config.command = " ".join([sys.executable, *sys.argv])
    if (config.repeat < 1 or config.startup_repeat < 1 or config.task_time <= 0
            or (config.task_size is not None and config.task_size < 1)):
        parser.error("--repeat, --startup-repeat and --task-size must be >= 1, --task-time > 0")

    started = datetime.datetime.now(datetime.timezone.utc)
    t0 = time.perf_counter()
    load_before = os.getloadavg()
    try:
        package, interpreter_pool = import_package(config.library)
    except (BenchError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    bench = Bench(config, interpreter_pool, package.interpreters)
    status = 0
    try:
        bench.calibrate()
        bench.measure_startup()
        bench.measure_scaling()
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        status = 1
    except Exception:  # noqa: BLE001 - any failure must fail the run, after cleanup
        import traceback
        traceback.print_exc()
        status = 1
    finally:
        errors = bench.teardown()
        for error in errors:
            print(f"error during teardown: {error}", file=sys.stderr)
        if errors:
            status = 1
    if status:
        return status
    elapsed = time.perf_counter() - t0
    info = machine_info(package)
    report = render(bench, config, info, started, elapsed, load_before, os.getloadavg())
    records = bench.json_results()
    reporting.check_results(records)  # a malformed record fails the run before any file is written
    print(report)
    if config.markdown:
        with open(config.markdown, "a" if config.append else "w") as f:
            f.write(("\n" if config.append else PAGE_HEADER) + report + "\n")
        print(f"wrote {config.markdown}", file=sys.stderr)
    if config.json:
        reporting.write_json(config.json, "executor", info, config.quick, records)
        print(f"wrote {config.json} ({len(records)} results)", file=sys.stderr)
    print(f"{headline(bench)}; total {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
