"""What every benchmark report shares: markdown tables and the description of
the machine and build a run used. Standard library only, so the benchmarks
that run on CPython 3.12 can import it (data_transfer.py needs 3.13's modules)."""
import os
import platform
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
        dirty = subprocess.run(["git", "-C", root, "diff-index", "--quiet", "HEAD", "--"]).returncode != 0
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
