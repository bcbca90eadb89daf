#!/usr/bin/env python3
"""Builds the benchmark summary, docs/benchmarks.md, and its plots from one
ci/bench run's results files (bench/reporting.py's schema), and puts each
benchmark's own page beside it.

    python3 bench/report.py --results DIR --pages DIR --output DIR [--command TEXT] [--elapsed S]

--results holds <name>.json for name in lifecycle, hosts, data, queues,
executor, pool (and lifecycle-3.12, executor-3.12); a section whose file is
absent (ci/bench --only) is left out, but a figure missing from a file that
is there is an error. Writes <output>/benchmarks.md, <output>/benchmarks/*.png
and <output>/benchmarks-<name>.md (the scripts' pages from --pages, the 3.12
page appended to the 3.13 one). Needs matplotlib (the bench venv has it).
"""
import argparse
import datetime
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from reporting import table  # noqa: E402

PAGES = ("lifecycle", "data", "queues", "executor", "pool")
PLOTS = "benchmarks"   # the plots' directory, beside benchmarks.md


class Missing(ValueError):
    """A figure the report needs is not in a results file that is there."""


class Results:
    """One results file: its records, found by group, impl and params."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.document = json.load(f)
        self.name = os.path.basename(path)[:-len(".json")]
        self.records = self.document["results"]

    @property
    def python(self):
        return self.document["python"]

    def find(self, group, impl, **params):
        for r in self.records:
            if r["group"] == group and r["impl"] == impl and all(r["params"].get(k) == v for k, v in params.items()):
                return r
        return None

    def get(self, group, impl, **params):
        r = self.find(group, impl, **params)
        if r is None:
            raise Missing(f"{self.name}.json has no {group}/{impl} {params or ''}")
        return r

    def group(self, group):
        return [r for r in self.records if r["group"] == group]


# --------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------

def scale_for(value, unit):
    """(factor, suffix) that shows `value` in `unit` with a readable prefix."""
    if unit == "s":
        steps = ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns"))
    elif unit == "bytes":
        return 2**20, "MiB"
    else:
        rate = unit.split("/")[0]
        steps = ((1e6, f"M{rate}/s"), (1e3, f"k{rate}/s"), (1, f"{rate}/s"))
    for factor, suffix in steps:
        if value >= factor:
            return factor, suffix
    return steps[-1]


def number(x):
    """Three significant digits, never in exponent form."""
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"


def scaled(value, unit):
    factor, suffix = scale_for(value, unit)
    return f"{number(value / factor)} {suffix}"


def figure(r):
    """median (min - max) of a record, in the median's unit."""
    factor, suffix = scale_for(r["median"], r["unit"])
    return f"{number(r['median'] / factor)} {suffix} ({number(r['min'] / factor)} - {number(r['max'] / factor)})"


def advantage(ours, theirs):
    """How many times better ours is than theirs, by medians (time: theirs/ours; rate: ours/theirs)."""
    if ours["better"] == "lower":
        return theirs["median"] / ours["median"]
    return ours["median"] / theirs["median"]


def times(x):
    return f"{x:.2f}x"


def verdict(x):
    return "subinterp better" if x > 1.05 else "subinterp worse" if x < 0.95 else "about even"


# --------------------------------------------------------------------------------------
# Plots: medians as bars or points, min-max as error bars.
# --------------------------------------------------------------------------------------

def error_bars(records, factor):
    return [[(r["median"] - r["min"]) * factor for r in records], [(r["max"] - r["median"]) * factor for r in records]]


def bar_groups(ax, categories, series, factor, log=False):
    """series: [(label, [record or None per category])]: grouped horizontal bars."""
    height = 0.8 / max(1, len(series))
    for index, (label, records) in enumerate(series):
        ys = [c + index * height for c, r in enumerate(records) if r is not None]
        present = [r for r in records if r is not None]
        ax.barh(ys, [r["median"] * factor for r in present], height, xerr=error_bars(present, factor),
                label=label, capsize=2)
    ax.set_yticks([c + height * (len(series) - 1) / 2 for c in range(len(categories))], categories)
    ax.invert_yaxis()
    if log:
        ax.set_xscale("log")
    ax.grid(axis="x", alpha=0.3)


class Plots:
    def __init__(self, directory):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)

    def save(self, fig, name, title):
        fig.suptitle(title)
        fig.tight_layout()
        path = os.path.join(self.directory, name + ".png")
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return f"![{title}]({PLOTS}/{name}.png)"


# --------------------------------------------------------------------------------------
# Sections: each returns markdown lines.
# --------------------------------------------------------------------------------------

def headline(r):
    rows = []
    if "queues" in r:
        q = r["queues"]
        for item in ("int", "str", "tuple"):
            ours, theirs = q.get("put_get_python", "subinterp_queue", item=item), q.get("put_get_python", "interpqueues", item=item)
            x = advantage(ours, theirs)
            rows.append([f"queue put+get pairs/s, one thread, {item} item", figure(ours), figure(theirs) + " `_interpqueues`",
                         times(x), verdict(x)])
    if "lifecycle" in r:
        life = r["lifecycle"]
        for group, what in (("exec_pass", "exec(\"pass\") round trip"), ("call_small", "call add(1, 2) -> 3 round trip")):
            ours, theirs = life.get(group, "subinterp"), life.get(group, "interpreters")
            x = advantage(ours, theirs)
            how = "`_interpreters.exec`" if group == "exec_pass" else "`set___main___attrs` + `_interpreters.exec` + `_interpqueues`"
            rows.append([f"{what}, Python host", figure(ours), f"{figure(theirs)} {how}", times(x), verdict(x)])
        if "hosts" in r:
            for host in ("c", "rust", "go"):
                ours, theirs = r["hosts"].get("exec_pass", host), life.get("exec_pass", "interpreters")
                x = advantage(ours, theirs)
                rows.append([f"exec(\"pass\") round trip, {host.capitalize() if host != 'c' else 'C'} host",
                             figure(ours), figure(theirs) + " `_interpreters.exec` (Python)", times(x), verdict(x)])
        ours, theirs = life.get("memory", "subinterp"), life.get("memory", "interpreters")
        x = advantage(ours, theirs)
        rows.append(["RSS added per idle isolated interpreter", figure(ours), figure(theirs) + " `_interpreters.create`",
                     times(x), verdict(x)])
    if "executor" in r:
        e = r["executor"]
        workers = max(rec["params"]["workers"] for rec in e.group("scaling"))
        speedups = {impl: speedup(e, impl, workers) for impl in ("subinterp_executor", "threads", "processes", "multiprocessing_pool")}
        for impl, label in (("threads", "threading (GIL)"), ("processes", "ProcessPoolExecutor"),
                            ("multiprocessing_pool", "multiprocessing.Pool")):
            ours, theirs = e.get("scaling", "subinterp_executor", workers=workers), e.get("scaling", impl, workers=workers)
            x = advantage(ours, theirs)
            rows.append([f"CPU-bound batch on {workers} workers, wall time (speedup over 1 worker)",
                         f"{figure(ours)} ({speedups['subinterp_executor']:.2f}x)",
                         f"{figure(theirs)} ({speedups[impl]:.2f}x) {label}", times(x), verdict(x)])
    if not rows:
        return []
    return ["## Headline: subinterp against CPython's own modules, threads and processes", "",
            "From this one run. Figures are median (min - max); the ratio is how many times better subinterp's "
            "median is (time: theirs / ours; rate: ours / theirs), so above 1 favours subinterp.", "",
            table(["comparison", "subinterp", "baseline", "ratio", "reading"], rows), ""]


def speedup(e, impl, workers):
    return e.get("scaling", impl, workers=1)["median"] / e.get("scaling", impl, workers=workers)["median"]


HOST_OPS = [("create_destroy", "create + destroy an isolated interpreter"), ("exec_pass", "exec(\"pass\")"),
            ("call_small", "call operator.add(1, 2) -> 3"), ("pool_first_call", "a ready 1-worker pool's first call")]


def hosts_section(r, plots):
    hosts, life = r.get("hosts"), r.get("lifecycle")
    if not hosts and not life:
        return []
    columns = []   # (header, getter(op) -> record or None)
    if hosts:
        for impl, header in (("c", "C"), ("rust", "Rust"), ("go", "Go")):
            columns.append((header, lambda op, impl=impl: hosts.find(op, impl)))
    if life:
        columns.append(("Python", lambda op: life.find(op, "subinterp_pool" if op == "pool_first_call" else "subinterp")))
        columns.append(("CPython `_interpreters` (Python)",
                        lambda op: None if op == "pool_first_call" else life.find(op, "interpreters")))
    rows = []
    for op, what in HOST_OPS:
        cells = [get(op) for _, get in columns]
        rows.append([what] + [figure(c) if c else "-" for c in cells])
    lines = ["## Round trips from every host", "",
             "The same operations timed by each language's own harness (C: Google Benchmark, `bench/c_host.cpp`; "
             "Rust: criterion, `bench/rust`; Go: `testing.B`, `bench/go`; Python: `bench/lifecycle.py`), each "
             "against an isolated interpreter the host made. The last column is CPython 3.13's own module from "
             "Python: its `call` takes no arguments, so its call figure is `set___main___attrs(a=1, b=2)` + `exec` "
             "of a queue put of `a + b` + a get. Median (min - max).", "",
             table(["operation"] + [h for h, _ in columns], rows), ""]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, op in zip(axes, ("exec_pass", "call_small")):
        present = [(h, get(op)) for h, get in columns if get(op)]
        bar_groups(ax, [h.replace(" (Python)", "") for h, _ in present], [("median", [rec for _, rec in present])], 1e6)
        ax.set_xlabel("microseconds per round trip")
        ax.set_title(dict(HOST_OPS)[op])
    lines += [plots.save(fig, "roundtrip", "Round trips by host (lower is better)"), ""]
    return lines


def lifecycle_section(r, plots):
    life = r.get("lifecycle")
    if not life:
        return []
    lines = ["## Interpreters and pools: start-up, first call, memory", ""]
    for name, doc in (("lifecycle", life), ("lifecycle-3.12", r.get("lifecycle-3.12"))):
        if not doc:
            continue
        ours = doc.get("create_destroy", "subinterp")
        rows = [[rec["name"], figure(rec), times(advantage(ours, rec))] for rec in doc.group("create_destroy")]
        lines += [f"Create + destroy an isolated interpreter, CPython {doc.python} (ratio: theirs / ours):", "",
                  table(["implementation", "median (min - max)", "ratio"], rows), ""]
        unavailable = doc.document.get("unavailable", {})
        if unavailable:
            lines += ["Not measured on this CPython: " + "; ".join(f"`{k}`: {v}" for k, v in unavailable.items()) + ".", ""]
    rows = []
    for rec in life.group("pool_first_call"):
        start = life.get("pool_start", rec["impl"], workers=1)
        rows.append([rec["name"], figure(start), figure(rec)])
    lines += ["A pool with one worker: making it until the constructor returns, then its first call of "
              "`operator.add(1, 2)` (which includes the worker interpreter's first import of `operator`). "
              "The executors start their worker on the first submit, as `ThreadPoolExecutor` does; "
              "`multiprocessing.Pool` starts its process in the constructor but the process is still booting "
              "when the first call arrives.", "",
              table(["pool", "start", "first call"], rows), ""]
    rows = []
    for doc in (life, r.get("lifecycle-3.12")):
        if doc:
            rows += [[rec["name"], doc.python, figure(rec)] for rec in doc.group("memory")]
    lines += ["RSS added per idle isolated interpreter (each made and run once, in a fresh process, after one "
              "interpreter was made and destroyed to pay one-time costs):", "",
              table(["implementation", "CPython", "median (min - max)"], rows), ""]
    fig, ax = plt.subplots(figsize=(8, 2.8))
    recs = life.group("create_destroy")
    bar_groups(ax, [rec["name"].replace("`", "") for rec in recs], [("median", recs)], 1e3)
    ax.set_xlabel("milliseconds per create + destroy")
    lines += [plots.save(fig, "lifecycle", f"Create + destroy an isolated interpreter, CPython {life.python}"), ""]
    return lines


CONVERSION_IMPLS = ["subinterp_call", "subinterp_prepare_main", "interpreters_set_main_attrs", "interpqueues", "pickle"]
BUFFER_IMPLS = ["subinterp_call", "interpreters_set_main_attrs", "interpqueues", "pickle"]


def data_section(r, plots):
    d = r.get("data")
    if not d:
        return []
    kinds = []
    for rec in d.group("conversion"):
        if rec["params"]["kind"] not in kinds:
            kinds.append(rec["params"]["kind"])
    names = {impl: next(rec["name"] for rec in d.group("conversion") if rec["impl"] == impl) for impl in CONVERSION_IMPLS}
    rows = [[kind] + [scaled(rec["median"], "s") if (rec := d.find("conversion", impl, kind=kind)) else "-"
                      for impl in CONVERSION_IMPLS] for kind in kinds]
    lines = ["## Data: conversion per kind and buffer transfer", "",
             "A value made in the main interpreter arriving as a Python object in an isolated one (medians; "
             "'-': CPython cannot share that kind). Ours goes through ctypes, CPython's calls its C modules "
             "directly; min and max are on the detailed page.", "",
             table(["kind"] + [names[i] for i in CONVERSION_IMPLS], rows), ""]
    fig, ax = plt.subplots(figsize=(9, 6))
    bar_groups(ax, kinds, [(names[i], [d.find("conversion", i, kind=k) for k in kinds]) for i in CONVERSION_IMPLS],
               1e6, log=True)
    ax.set_xlabel("microseconds per transfer (log)")
    ax.legend(fontsize=7)
    lines += [plots.save(fig, "conversion", "Conversion per kind (lower is better)"), ""]
    sizes = sorted({rec["params"]["size"] for rec in d.group("buffer")})
    bnames = {impl: next(rec["name"] for rec in d.group("buffer") if rec["impl"] == impl) for impl in BUFFER_IMPLS}
    rows = [[f"{size // 1024} KiB" if size < 2**20 else f"{size // 2**20} MiB"] +
            [figure(d.get("buffer", impl, size=size)) for impl in BUFFER_IMPLS] for size in sizes]
    lines += ["Buffer transfer (a writable buffer shared, not copied, where the row says so on the detailed page):", "",
              table(["size"] + [bnames[i] for i in BUFFER_IMPLS], rows), ""]
    fig, ax = plt.subplots(figsize=(7, 4))
    for impl in BUFFER_IMPLS:
        recs = [d.get("buffer", impl, size=size) for size in sizes]
        ax.errorbar(sizes, [x["median"] * 1e6 for x in recs], yerr=error_bars(recs, 1e6), marker="o", capsize=3,
                    label=bnames[impl])
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("buffer size (bytes)")
    ax.set_ylabel("microseconds per transfer")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    lines += [plots.save(fig, "buffers", "Buffer transfer by size (lower is better)"), ""]
    return lines


def queues_section(r, plots):
    q = r.get("queues")
    if not q:
        return []
    items = ["int", "str", "tuple"]
    impls = []
    for rec in q.group("put_get_python"):
        if rec["impl"] not in impls:
            impls.append(rec["impl"])
    names = {rec["impl"]: rec["name"] for rec in q.group("put_get_python")}
    rows = [[names[i]] + [figure(q.get("put_get_python", i, item=item)) for item in items] for i in impls]
    c = q.get("put_get_c", "subinterp_queue_c", item="int")
    lines = ["## Queues", "",
             "put+get pairs per second in one thread, from Python (higher is better):", "",
             table(["queue"] + [f"{item} item" for item in items], rows), "",
             f"From C with no Python (`bench/queue_host.c`): {figure(c)}.", ""]
    rows = [[rec["name"], str(rec["params"].get("maxsize") or "unbounded"), figure(rec)] for rec in q.group("producer_consumer")]
    lines += ["Producer/consumer items per second between two interpreters (threads or processes for the baselines):", "",
              table(["path", "maxsize", "items/s"], rows), ""]
    rows = [[rec["name"], rec["params"]["consumer"].replace("_", " "), figure(rec),
             scaled(rec["p90"], "s") if "p90" in rec else "-"] for rec in q.group("wakeup_latency")]
    lines += ["Wake-up latency of a blocked get (put to return):", "",
              table(["queue", "consumer", "median (min - max)", "p90"], rows), ""]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    recs = [q.get("put_get_python", i, item="int") for i in impls]
    bar_groups(left, impls, [("int item", recs)], 1e-6)
    left.set_xlabel("million put+get pairs per second")
    left.set_title("one thread, Python (higher is better)", fontsize=9)
    recs = q.group("wakeup_latency")
    bar_groups(right, [f"{rec['impl']} ({rec['params']['consumer']})" for rec in recs], [("latency", recs)], 1e6, log=True)
    right.set_xlabel("microseconds (log)")
    right.set_title("blocked get wake-up (lower is better)", fontsize=9)
    lines += [plots.save(fig, "queues", "Queues"), ""]
    return lines


SCALING_IMPLS = [("subinterp_executor", "subinterp InterpreterPoolExecutor"), ("threads", "ThreadPoolExecutor (GIL)"),
                 ("processes", "ProcessPoolExecutor"), ("multiprocessing_pool", "multiprocessing.Pool")]


def scaling_section(r, plots):
    docs = [doc for doc in (r.get("executor"), r.get("executor-3.12")) if doc]
    if not docs:
        return []
    lines = ["## CPU-bound scaling", "",
             "The same fixed batch of a pure-Python function, split over 1..N workers (N = the CPUs this process "
             "may use). Speedup: the pool's 1-worker wall time over its N-worker time; efficiency: speedup / "
             "workers. Pools are warm; wall time median (min - max).", ""]
    fig, axes = plt.subplots(1, len(docs), figsize=(5.5 * len(docs), 3.6), squeeze=False)
    for doc, ax in zip(docs, axes[0]):
        counts = sorted({rec["params"]["workers"] for rec in doc.group("scaling")})
        rows = []
        for impl, label in SCALING_IMPLS:
            for w in counts:
                s = speedup(doc, impl, w)
                rows.append([label, str(w), figure(doc.get("scaling", impl, workers=w)), times(s), f"{s / w:.0%}"])
            ax.plot(counts, [speedup(doc, impl, w) for w in counts], marker="o", label=label)
        ax.plot(counts, counts, linestyle=":", color="grey", label="ideal")
        ax.set_xticks(counts)
        ax.set_xlabel("workers")
        ax.set_ylabel("speedup over 1 worker")
        ax.set_title(f"CPython {doc.python}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
        serial = doc.get("scaling", "serial", workers=1)
        lines += [f"CPython {doc.python} (serial in the main thread: {figure(serial)}):", "",
                  table(["pool", "workers", "wall time", "speedup", "efficiency"], rows), ""]
    lines += [plots.save(fig, "scaling", "CPU-bound speedup (higher is better)"), ""]
    return lines


def pool_section(r):
    p = r.get("pool")
    if not p:
        return []
    recs = p.group("per_task")
    process = p.get("per_task", "processes", workers=2)
    rows = [[rec["name"], figure(rec), times(advantage(rec, process))] for rec in recs]
    return ["## Per-task overhead of pools", "",
            "A trivial task (`operator.add`) on 2 warm workers: wall time per task over a batch. `pool.submit`: "
            "subinterp's `pool.Pool`, one future per task; `pool.map`: the same pool, `Pool.map` (the C pool's "
            "batch call); `executor`: subinterp's `InterpreterPoolExecutor`; `thread+interp`: 3.14's "
            "`InterpreterPoolExecutor` design (a Python thread per interpreter); `process`: "
            "`ProcessPoolExecutor`; `thread`: `ThreadPoolExecutor` (no isolation).", "",
            table(["configuration", "per task", "vs ProcessPoolExecutor"], rows), ""]


def provenance(r, command, elapsed):
    first = next(iter(r.values())).document
    m = first["machine"]
    quick = any(doc.document.get("quick") for doc in r.values())
    pythons = sorted({doc.python for doc in r.values()})
    lines = ["# Benchmarks", "",
             f"Generated by `{command}` on {datetime.date.today().isoformat()}"
             + (f" in {elapsed // 60} min {elapsed % 60} s" if elapsed is not None else "")
             + f": every figure on this page comes from that one run, on {m['cpu']} with {m['nproc']} CPUs "
             f"({m['platform']}), CPython {', '.join(pythons)}, library built {m['build_type']}, {m['source']}.", ""]
    if quick:
        lines += ["**This is a quick (smoke) run: every path ran and was checked, but the numbers mean nothing.**", ""]
    lines += ["The machine has 2 cores and is shared: figures are medians over repeated samples with min and max, "
              "samples are taken round-robin so that load spreads over what is compared, and the ratios matter "
              "more than the absolute numbers.", ""]
    return lines


def reproduce(r):
    life = r.get("lifecycle")
    lines = ["## How to reproduce and what each comparison means", "",
             "- `ci/bench` builds what is missing (CPython 3.13 and 3.12 builds, the C host, the Rust and Go "
             "benchmark programs), makes the bench venvs (`bench/requirements.txt`: the PyPI baselines and "
             "matplotlib), runs everything, and rewrites this page, its plots and the detailed pages. "
             "`ci/bench --quick` is the smoke run `ci/test` does; `ci/bench --only queues,data` runs a subset into "
             "`build/bench/report/`. Raw results stay in `build/bench/` (one JSON per benchmark).",
             "- Round trips and lifecycle: `bench/lifecycle.py` (Python host; CPython's `_interpreters`, "
             "`backports.interpreters`, `interpreters-pep-734`, multiprocessing), `bench/c_host.cpp`, "
             "`bench/rust/benches/roundtrip.rs`, `bench/go/roundtrip_test.go`. Our exec compiles its source every "
             "time, as `_interpreters.exec` does; our call imports the callable's module once per interpreter.",
             "- Data: `bench/data_transfer.py`; queues: `bench/queues.py` with `bench/queue_host.c`; CPU scaling: "
             "`bench/executor_scaling.py`; pool overhead: `bench/pool_overhead.py`. Each page below says how its "
             "figures are taken.",
             "- Threads share one GIL, so their CPU-bound speedup stays near 1; processes pay for start-up, "
             "pickling and a copy of every argument; isolated interpreters run in parallel in one process and "
             "share only what the library converts or shares."]
    if life:
        versions = life.document.get("versions", {})
        if versions:
            lines.append("- PyPI baselines: " + ", ".join(f"`{k}` {v}" for k, v in sorted(versions.items())) + ".")
    lines += ["", "Detailed pages: " + ", ".join(f"[{name}](benchmarks-{name}.md)" for name in PAGES
                                                 if name in r) + ".", ""]
    return lines


def write_pages(pages, output, available):
    for name in PAGES:
        parts = []
        for page in (name, f"{name}-3.12"):
            path = os.path.join(pages, page + ".md")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    parts.append(f.read().rstrip() + "\n")
        if parts:
            with open(os.path.join(output, f"benchmarks-{name}.md"), "w", encoding="utf-8") as f:
                f.write("\n".join(parts))
        elif name in available:
            raise Missing(f"no page for {name} in {pages}")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", required=True, help="the directory of <name>.json results")
    parser.add_argument("--pages", required=True, help="the directory of the scripts' markdown pages")
    parser.add_argument("--output", required=True, help="where benchmarks.md, its plots and pages go")
    parser.add_argument("--command", default="ci/bench", help="the command to name as the run")
    parser.add_argument("--elapsed", type=int, help="seconds the run took")
    options = parser.parse_args(argv)
    r = {}
    for name in ("lifecycle", "lifecycle-3.12", "hosts", "data", "queues", "executor", "executor-3.12", "pool"):
        path = os.path.join(options.results, name + ".json")
        if os.path.exists(path):
            r[name] = Results(path)
    if not r:
        raise Missing(f"no results in {options.results}")
    plots = Plots(os.path.join(options.output, PLOTS))
    lines = provenance(r, options.command, options.elapsed) + headline(r) + hosts_section(r, plots)
    lines += lifecycle_section(r, plots) + data_section(r, plots) + queues_section(r, plots)
    lines += scaling_section(r, plots) + pool_section(r) + reproduce(r)
    write_pages(options.pages, options.output, r)
    text = "\n".join(lines)
    with open(os.path.join(options.output, "benchmarks.md"), "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {os.path.join(options.output, 'benchmarks.md')} and {len(os.listdir(plots.directory))} plots")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (Missing, OSError, KeyError) as error:
        print(f"report.py: {error}", file=sys.stderr)
        sys.exit(1)
