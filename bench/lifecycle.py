#!/usr/bin/env python3
"""Interpreter lifecycle and round trips from a Python host: subinterp's Python
binding against CPython's own modules and the PEP 734 packages on PyPI.

    python3 bench/lifecycle.py --library build/py3.13/libsubinterp.so [--quick]
                               [--json FILE] [--markdown FILE]

Run it with the CPython the library was built against (3.12 or 3.13); the
package is imported from the library's directory's python/ (the build tree's
assembled package). Measures, for every implementation that works here:

  group            impl ids                                  one operation
  create_destroy   subinterp, interpreters, xxsubinterpreters,  create an isolated interpreter
                   backports_interpreters, interpreters_pep_734   and destroy it
  exec_pass        the same                                   exec "pass" in an existing one
  call_small       subinterp, interpreters_exec_queue,        call add(1, 2) there and get 3 back
                   backports_interpreters
  pool_start       subinterp_pool, subinterp_executor,        make a 1-worker pool and wait
                   pep734_executor, multiprocessing_pool        until it is ready
  pool_first_call  the same                                   the ready pool's first call of
                                                               operator.add(1, 2)
  memory           subinterp, interpreters, xxsubinterpreters  RSS added per idle isolated
                                                               interpreter (bytes; own process)

`interpreters` is CPython 3.13's `_interpreters` (create("isolated"), exec,
destroy); `xxsubinterpreters` is 3.12's `_xxsubinterpreters`. 3.13.0's
`_interpreters.call` takes no arguments and returns nothing, so the CPython
call round trip (`interpreters_exec_queue`) is the shortest route its own
modules give: `set___main___attrs(a=1, b=2)`, `exec` of a put of `a + b` on an
`_interpqueues` queue, and a get in main. The PyPI packages are
`backports.interpreters` (pickles calls through a queue) and
`interpreters-pep-734` (`interpreters_backport`; its `call()` returns None on
3.13, so it has no call figure). Each package is first imported and used in a
child process: one that is missing, fails or crashes the interpreter (as
`interpreters-pep-734` with `interpreters-3-12` does on 3.12.1) is reported
as unavailable with the reason and left out.

Method: timing.py's loops (gc off, calibrated to --sample-time, samples
round-robin within a group); pools are made fresh for every sample (a
process pool uses forkserver: no fork while interpreters exist); memory is
measured in a child process per sample: one interpreter made and destroyed
first (one-time costs), then RSS before and after making --memory-count
idle interpreters. Median, min and max. Every operation's result is checked
before timing; any failure exits non-zero and writes nothing.
"""
import argparse
import datetime
import json
import multiprocessing
import operator
import os
import statistics
import subprocess
import sys
import time

import reporting
import timing
from reporting import table


class BenchError(RuntimeError):
    """Any failure: the run stops and exits non-zero."""


def add(a, b):
    """A plain function: backports.interpreters ships calls by marshalled code."""
    return a + b


def expect(what, got, want):
    if got != want:
        raise BenchError(f"{what}: got {got!r}, expected {want!r}")


# --------------------------------------------------------------------------------------
# Implementations: each knows how to create, destroy, exec "pass" and (if it can) call.
# --------------------------------------------------------------------------------------

class PackageInterpreters:
    """A module with the PEP 734 `interpreters` API: ours, or a PyPI package's."""

    def __init__(self):
        self.interpreters = __import__(self.module, fromlist=["create"])

    def create(self):
        return self.interpreters.create()

    def destroy(self, interp):
        interp.close()

    def exec_pass(self, interp):
        interp.exec("pass")


class Subinterp(PackageInterpreters):
    impl, label = "subinterp", "subinterp (Python binding)"
    module = "subinterp.interpreters"

    def call_small(self, interp):
        return interp.call(operator.add, 1, 2)


class Interpreters313:
    impl, label = "interpreters", "CPython 3.13 `_interpreters`"
    module = "_interpreters"

    def __init__(self):
        import _interpqueues
        import _interpreters
        self.interpreters, self.queues = _interpreters, _interpqueues
        self.queue = None

    def create(self):
        return self.interpreters.create("isolated")

    def destroy(self, interp):
        self.interpreters.destroy(interp)

    def exec_pass(self, interp):
        failure = self.interpreters.exec(interp, "pass")
        if failure is not None:
            raise BenchError(f"_interpreters.exec: {failure}")

    def prepare_call(self, interp):
        self.queue = self.queues.create(1, 0, 3)  # maxsize, fmt (shared data), UNBOUND
        self.queues.bind(self.queue)
        failure = self.interpreters.exec(interp, f"import _interpqueues\nqid = {self.queue}")
        if failure is not None:
            raise BenchError(f"_interpreters.exec: {failure}")

    def call_small(self, interp):
        self.interpreters.set___main___attrs(interp, {"a": 1, "b": 2})
        failure = self.interpreters.exec(interp, "_interpqueues.put(qid, a + b, 0, 3)")
        if failure is not None:
            raise BenchError(f"_interpreters.exec: {failure}")
        return self.queues.get(self.queue)[0]


class XXSubinterpreters312:
    impl, label = "xxsubinterpreters", "CPython 3.12 `_xxsubinterpreters`"
    module = "_xxsubinterpreters"

    def __init__(self):
        import _xxsubinterpreters
        self.interpreters = _xxsubinterpreters

    def create(self):
        return self.interpreters.create(isolated=True)

    def destroy(self, interp):
        self.interpreters.destroy(interp)

    def exec_pass(self, interp):
        self.interpreters.run_string(interp, "pass")


class BackportsInterpreters(PackageInterpreters):
    impl, label = "backports_interpreters", "PyPI `backports.interpreters`"
    module, distribution = "backports.interpreters", "backports.interpreters"

    def call_small(self, interp):
        return interp.call(add, 1, 2)


class InterpretersPep734(PackageInterpreters):
    impl, label = "interpreters_pep_734", "PyPI `interpreters-pep-734`"
    module, distribution = "interpreters_backport.interpreters", "interpreters-pep-734"


IMPLEMENTATIONS = [Subinterp, Interpreters313, XXSubinterpreters312, BackportsInterpreters, InterpretersPep734]


# Pools: make one with a single worker (ready when this returns), call, close.
def subinterp_pool():
    from subinterp.pool import Pool
    pool = Pool(1)
    return pool, lambda: pool.call(operator.add, 1, 2), pool.shutdown


def subinterp_executor():
    from subinterp.futures import InterpreterPoolExecutor
    executor = InterpreterPoolExecutor(1)
    return executor, lambda: executor.submit(operator.add, 1, 2).result(), executor.shutdown


def pep734_executor():
    from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
    executor = InterpreterPoolExecutor(1)
    return executor, lambda: executor.submit(operator.add, 1, 2).result(), executor.shutdown


def multiprocessing_pool():
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    pool = context.Pool(1)   # starts its worker process now
    def close():
        pool.close()
        pool.join()
    return pool, lambda: pool.apply(operator.add, (1, 2)), close


POOLS = [  # impl, label, factory, needs (an implementation impl that must be available)
    ("subinterp_pool", "subinterp `pool.Pool`", subinterp_pool, "subinterp"),
    ("subinterp_executor", "subinterp `InterpreterPoolExecutor`", subinterp_executor, "subinterp"),
    ("pep734_executor", "`interpreters-pep-734` `InterpreterPoolExecutor`", pep734_executor, "interpreters_pep_734"),
    ("multiprocessing_pool", "`multiprocessing.Pool` (forkserver)", multiprocessing_pool, None),
]


# --------------------------------------------------------------------------------------
# Availability: a package that crashes the process must not take the run with it.
# --------------------------------------------------------------------------------------

def probe(cls, library):
    """None if `cls` works here, else why not. Runs in a child process."""
    code = ("import sys; sys.path[:0] = " + repr(sys.path[:]) + "\n"
            "import lifecycle\n"
            f"impl = lifecycle.{cls.__name__}()\n"
            "i = impl.create(); impl.exec_pass(i); impl.destroy(i)\n")
    try:
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                               cwd=os.path.dirname(os.path.abspath(__file__)))
    except subprocess.TimeoutExpired:
        return "hangs (no answer in 60 s)"
    if child.returncode == 0:
        return None
    if child.returncode < 0:
        crash = f"crashes the process (signal {-child.returncode}) on import or first use"
        if cls is Interpreters313 and sys.version_info < (3, 13):
            return f"CPython {sys.version_info[0]}.{sys.version_info[1]} has no `_interpreters`; the one PyPI's " \
                   f"`interpreters-3-12` installs {crash}"
        return crash
    last = (child.stderr.strip().splitlines() or ["exit status %d" % child.returncode])[-1]
    if "ModuleNotFoundError" in last or "No module named" in last:
        return "not installed" if getattr(cls, "distribution", None) else "not in this CPython"
    return last


def package_version(cls):
    distribution = getattr(cls, "distribution", None)
    if not distribution:
        return None
    from importlib import metadata
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------

def loop_of(step, interp):
    def loop(n):
        for _ in range(n):
            step(interp)
    return loop


def create_destroy_loop(impl):
    def loop(n):
        for _ in range(n):
            impl.destroy(impl.create())
    return loop


def round_trips(impls, options, progress):
    """create_destroy, exec_pass and call_small for every available implementation."""
    groups = {"create_destroy": [], "exec_pass": [], "call_small": []}
    kept = []
    try:
        for impl in impls:
            interp = impl.create()
            kept.append((impl, interp))
            impl.exec_pass(interp)
            groups["create_destroy"].append(timing.Measurement(impl, create_destroy_loop(impl)))
            groups["exec_pass"].append(timing.Measurement(impl, loop_of(impl.exec_pass, interp)))
            if hasattr(impl, "call_small"):
                if hasattr(impl, "prepare_call"):
                    impl.prepare_call(interp)
                expect(f"{impl.impl} call", impl.call_small(interp), 3)
                groups["call_small"].append(timing.Measurement(impl, loop_of(impl.call_small, interp)))
        for name, measurements in groups.items():
            progress(f"{name}: {len(measurements)} implementations")
            sample_time = options.sample_time * (4 if name == "create_destroy" else 1)
            timing.measure_group(measurements, sample_time, options.repeat, progress)
    finally:
        for impl, interp in kept:
            impl.destroy(interp)
    return groups


def pools(available, options, progress):
    """pool_start and pool_first_call: a fresh pool per sample, round-robin."""
    chosen = [(impl, label, factory) for impl, label, factory, needs in POOLS if needs is None or needs in available]
    start = {impl: [] for impl, _, _ in chosen}
    first = {impl: [] for impl, _, _ in chosen}
    for round_number in range(options.pool_repeat + 1):  # round 0 warms up (imports, forkserver)
        for impl, _, factory in chosen:
            t0 = time.perf_counter()
            _, call, close = factory()
            t1 = time.perf_counter()
            try:
                result = call()
                t2 = time.perf_counter()
            finally:
                close()
            expect(f"{impl} first call", result, 3)
            if round_number:
                start[impl].append(t1 - t0)
                first[impl].append(t2 - t1)
        progress(f"pools: round {round_number}/{options.pool_repeat}")
    labels = {impl: label for impl, label, _ in chosen}
    return labels, start, first


MEMORY_CHILD = """
import gc, json, os, sys
sys.path[:0] = {path!r}
import lifecycle
impl = lifecycle.{cls}()
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
first = impl.create(); impl.exec_pass(first); impl.destroy(first)
gc.collect()
before = rss()
interps = [impl.create() for _ in range({count})]
for i in interps:
    impl.exec_pass(i)
gc.collect()
after = rss()
for i in interps:
    impl.destroy(i)
print(json.dumps({{"per_interpreter": (after - before) / {count}}}))
"""


def memory(impls, options, progress):
    samples = {}
    for impl in impls:
        if impl.impl not in ("subinterp", "interpreters", "xxsubinterpreters"):
            continue
        code = MEMORY_CHILD.format(path=sys.path[:], cls=type(impl).__name__, count=options.memory_count)
        values = []
        for _ in range(options.memory_repeat):
            child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                                   cwd=os.path.dirname(os.path.abspath(__file__)))
            if child.returncode != 0:
                raise BenchError(f"memory child for {impl.impl} failed ({child.returncode}): {child.stderr[-2000:]}")
            values.append(json.loads(child.stdout.strip().splitlines()[-1])["per_interpreter"])
        samples[impl] = values
        progress(f"memory: {impl.impl} done")
    return samples


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def fmt_time(seconds):
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.2f} us"


def fmt_bytes(n):
    return f"{n / 1024 / 1024:.2f} MiB"


def summary_row(label, values, fmt, reference=None):
    med = statistics.median(values)
    row = [label, fmt(med), fmt(min(values)), fmt(max(values))]
    if reference is not None:
        row.append(f"{med / reference:.2f}x")
    return row


def render(groups, labels, start, first, mem, unavailable, versions, info, options, elapsed):
    lines = [
        "# Interpreter lifecycle and round trips (Python host)",
        "",
        f"Generated by bench/lifecycle.py on {datetime.date.today().isoformat()} in {elapsed:.0f} s; "
        f"{options.repeat} samples per figure ({options.pool_repeat} fresh pools, "
        f"{options.memory_repeat} child processes of {options.memory_count} interpreters for memory). "
        "Median, min and max; the last column is the median over subinterp's (below 1: faster than ours).",
        "",
    ]
    titles = {
        "create_destroy": "Create an isolated interpreter and destroy it",
        "exec_pass": "exec(\"pass\") in an existing isolated interpreter",
        "call_small": "Call add(1, 2) in an existing isolated interpreter and get 3 back",
    }
    for name, measurements in groups.items():
        if not measurements:
            continue
        ours = next((m.median for m in measurements if m.key.impl == "subinterp"), None)
        rows = [summary_row(m.key.label, m.samples, fmt_time, ours) for m in measurements]
        lines += [f"## {titles[name]}", "", table(["implementation", "median", "min", "max", "vs subinterp"], rows), ""]
    ours = statistics.median(first["subinterp_pool"]) if "subinterp_pool" in first else None
    lines += ["## A warm pool's first call (one worker)", "",
              "Start: making the pool until its worker is ready (what the constructor waits for). First call: "
              "`operator.add(1, 2)` on the ready pool.", "",
              table(["pool", "start median", "min", "max", "first call median", "min", "max", "first call vs subinterp"],
                    [summary_row(labels[i], start[i], fmt_time) + summary_row("", first[i], fmt_time, ours)[1:]
                     for i in start]), ""]
    if mem:
        ours = next((statistics.median(v) for i, v in mem.items() if i.impl == "subinterp"), None)
        lines += ["## Memory: RSS added per idle isolated interpreter", "",
                  table(["implementation", "median", "min", "max", "vs subinterp"],
                        [summary_row(i.label, v, fmt_bytes, ours) for i, v in mem.items()]), ""]
    lines += ["## Baselines", ""]
    for cls in IMPLEMENTATIONS:
        version = versions.get(cls.impl)
        state = unavailable.get(cls.impl)
        shown = cls.label + (f" {version}" if version else "")
        lines.append(f"- {shown}: " + (f"not measured: {state}" if state else "measured"))
    lines += ["", f"Machine: {info['cpu']}, {info['nproc']} CPUs; Python {info['python'].split()[0]}; "
              f"library {info['library']} ({info['build_type']}); {info['source']}.", "",
              f"Reproduce: `{options.command}`.", ""]
    return "\n".join(lines)


def records(groups, labels, start, first, mem):
    out = []
    for name, measurements in groups.items():
        for m in measurements:
            out.append(reporting.record(name, m.key.label, m.key.impl, m.samples, "s"))
    for impl in start:
        out.append(reporting.record("pool_start", labels[impl], impl, start[impl], "s", {"workers": 1}))
        out.append(reporting.record("pool_first_call", labels[impl], impl, first[impl], "s", {"workers": 1}))
    for impl, values in mem.items():
        out.append(reporting.record("memory", impl.label, impl.impl, values, "bytes"))
    return out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="libsubinterp.so; its directory's python/ has the package")
    parser.add_argument("--quick", action="store_true", help="a smoke run (seconds): every path runs and is checked")
    parser.add_argument("--repeat", type=int, help="samples per figure (default 15; 3 with --quick)")
    parser.add_argument("--sample-time", type=float, help="seconds per sample (default 0.05; 0.005 with --quick); "
                        "create_destroy samples are 4 times longer")
    parser.add_argument("--pool-repeat", type=int, help="fresh pools per pool (default 15; 2 with --quick)")
    parser.add_argument("--memory-count", type=int, help="interpreters per memory sample (default 20; 3 with --quick)")
    parser.add_argument("--memory-repeat", type=int, help="memory samples (default 5; 1 with --quick)")
    parser.add_argument("--markdown", help="write the report (markdown) here")
    parser.add_argument("--json", help="write the results (bench/reporting.py's schema) here")
    parser.add_argument("--command", help="the command line to record in the report")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    options = parser.parse_args(argv)
    quick = options.quick
    options.repeat = options.repeat or (3 if quick else 15)
    options.sample_time = options.sample_time or (0.005 if quick else 0.05)
    options.pool_repeat = options.pool_repeat or (2 if quick else 15)
    options.memory_count = options.memory_count or (3 if quick else 20)
    options.memory_repeat = options.memory_repeat or (1 if quick else 5)
    options.command = options.command or "python3 bench/lifecycle.py " + " ".join(argv)
    progress = (lambda text: print(f"  {text}", file=sys.stderr)) if options.verbose else (lambda text: None)

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(options.library)), "python"))
    started = time.perf_counter()
    unavailable = {cls.impl: probe(cls, options.library) for cls in IMPLEMENTATIONS}
    if unavailable["subinterp"]:
        raise BenchError(f"subinterp does not work here: {unavailable['subinterp']}")
    unavailable = {k: v for k, v in unavailable.items() if v}
    versions = {cls.impl: package_version(cls) for cls in IMPLEMENTATIONS}   # impl -> version of its package
    impls = [cls() for cls in IMPLEMENTATIONS if cls.impl not in unavailable]
    available = {impl.impl for impl in impls}
    groups = round_trips(impls, options, progress)
    labels, start, first = pools(available, options, progress)
    mem = memory(impls, options, progress)
    elapsed = time.perf_counter() - started

    info = reporting.machine_info(options.library)
    text = render(groups, labels, start, first, mem, unavailable, versions, info, options, elapsed)
    print(text)
    results = records(groups, labels, start, first, mem)
    if options.markdown:
        with open(options.markdown, "w", encoding="utf-8") as file:
            file.write(text)
    if options.json:
        reporting.write_json(options.json, "lifecycle", info, quick, results,
                             extra={"unavailable": unavailable,
                                    "versions": {cls.distribution: versions[cls.impl] for cls in IMPLEMENTATIONS
                                                 if versions.get(cls.impl)}})
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as error:
        print(f"lifecycle.py: {error}", file=sys.stderr)
        sys.exit(1)
