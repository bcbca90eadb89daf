"""What every benchmark report shares: markdown tables, the description of
the machine and build a run used, and the machine-readable results file
(--json: record() and write_json()). Standard library only, so the benchmarks
that run on CPython 3.12 can import it (data_transfer.py needs 3.13's modules)."""
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def machine_info(library_path):
    """The machine, CPython, library build and source commit a benchmark ran with."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    build_type = "unknown"
    cache = os.path.join(os.path.dirname(os.path.realpath(library_path)), "CMakeCache.txt")
    try:
        with open(cache) as f:
            for line in f:
                if line.startswith("CMAKE_BUILD_TYPE:"):
                    build_type = line.split("=", 1)[1].strip()
    except OSError:
        pass
    source = "unknown"
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:  # read-only git commands only
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        # docs/ holds the reports the benchmarks write: a rerun over them is still the commit.
        dirty = subprocess.run(["git", "-C", root, "diff-index", "--quiet", "HEAD", "--", ".", ":!docs"]).returncode != 0
        source = f"commit {commit}" + (" plus uncommitted changes in the working tree" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        pass
    return {
        "source": source,
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "platform": platform.platform(),
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "library": os.path.realpath(library_path),
        "build_type": build_type,
    }


# --------------------------------------------------------------------------------------
# Machine-readable results (--json): one writer for every benchmark.
#
#   {"benchmark": "data" | "queues" | "executor" | "pool" | "lifecycle" | "hosts",
#    "python": platform.python_version(), "machine": {machine_info(...) and the script's extras},
#    "quick": bool,
#    "results": [{"group", "name", "impl", "params", "unit", "better", "median", "min", "max", "n"}, ...]}
#
# One record per measured figure of the markdown (derived ratios and deltas have none), in base
# units: seconds, bytes, items or pairs per second. median/min/max/n are over the samples the markdown's
# figure comes from. A record may carry extra statistics of its samples (the latency records: "p90").
# --------------------------------------------------------------------------------------

BENCHMARKS = ("data", "queues", "executor", "pool", "lifecycle", "hosts")
UNITS = {"s": "lower", "items/s": "higher", "pairs/s": "higher", "bytes": "lower"}
_SNAKE = re.compile(r"[a-z][a-z0-9_]*\Z")


def record(group, name, impl, samples, unit, params=None, better=None, p90=False):
    """One result: the statistics of `samples` (in `unit`, a base unit: "s", "items/s" or
    "pairs/s"). `better` defaults to what the unit implies (lower for seconds, higher for rates);
    p90=True adds the 90th percentile (inclusive method) as "p90"."""
    samples = [float(x) for x in samples]
    result = {"group": group, "name": name, "impl": impl, "params": dict(params or {}), "unit": unit,
              "better": better or UNITS.get(unit), "median": statistics.median(samples) if samples else None,
              "min": min(samples, default=None), "max": max(samples, default=None), "n": len(samples)}
    if p90:
        result["p90"] = (samples[0] if len(samples) < 2 else
                         statistics.quantiles(samples, n=10, method="inclusive")[8])
    return result


def check_results(results):
    """Raises ValueError unless every record is complete, in a known unit, finite, and unique by
    (group, impl, params)."""
    seen = set()
    for r in results:
        where = f"{r.get('group')}/{r.get('impl')} {r.get('params')}"
        for key in ("group", "impl"):
            if not isinstance(r.get(key), str) or not _SNAKE.match(r[key]):
                raise ValueError(f"{where}: {key} {r.get(key)!r} is not a snake_case id")
        if not isinstance(r.get("name"), str) or not r["name"]:
            raise ValueError(f"{where}: no name")
        if r.get("unit") not in UNITS:
            raise ValueError(f"{where}: unit {r.get('unit')!r} is not one of {', '.join(UNITS)}")
        if r.get("better") not in ("lower", "higher"):
            raise ValueError(f"{where}: better is {r.get('better')!r}")
        if not isinstance(r.get("n"), int) or r["n"] < 1:
            raise ValueError(f"{where}: no samples")
        for key in ("median", "min", "max", "p90"):
            if key in r and not (isinstance(r[key], float) and math.isfinite(r[key])):
                raise ValueError(f"{where}: {key} is {r[key]!r}")
        if not r["min"] <= r["median"] <= r["max"]:
            raise ValueError(f"{where}: min/median/max out of order")
        identity = (r["group"], r["impl"], json.dumps(r["params"], sort_keys=True))
        if identity in seen:
            raise ValueError(f"{where}: recorded twice")
        seen.add(identity)


def write_json(path, benchmark, machine, quick, results, extra=None):
    """Writes a benchmark's results document to `path` (with `extra`'s keys added at the top
    level). Raises ValueError if a record is malformed, before opening the file."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {benchmark!r}")
    results = list(results)
    check_results(results)
    document = {"benchmark": benchmark, "python": platform.python_version(), "machine": dict(machine),
                "quick": bool(quick), **(extra or {}), "results": results}
    text = json.dumps(document, indent=1, allow_nan=False) + "\n"   # whole before the file is opened
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
