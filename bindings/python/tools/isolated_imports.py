#!/usr/bin/env python3
"""Which standard-library modules do not import in a sub-interpreter made by subinterp?

    PYTHONPATH=build/py3.13/python python3 bindings/python/tools/isolated_imports.py [--config isolated|legacy|both]
                                                                                 [--markdown] [--jobs N]

Run it with the CPython the package was built for (3.12 or 3.13). Steps:

1. Candidates: every name in ``sys.stdlib_module_names`` that is a C module
   (built-in or an extension file), or whose import in the main interpreter
   loads a C module that a bare interpreter has not loaded; each is imported in
   a fresh ``python -c`` subprocess to find out. Names that do not import in
   the main interpreter either (other platforms, modules not built) are
   counted and left out; so is ``antigravity`` (it opens a web browser).
2. Each candidate is imported (``interp.exec("import X")``) in an interpreter
   created with ``subinterpreters.create(config)``. Safe candidates share one
   interpreter per worker subprocess (a failed import leaves it usable; the
   worker reports each result as it goes, so a crash is pinned on the module
   being imported and the rest continue in a new worker).
3. Risky candidates -- those that load ``_asyncio``, ``_ssl``, ``_datetime``
   or ``_decimal`` (on 3.12.1 importing ``_asyncio`` or ``ssl`` in an
   isolated interpreter crashes the process at exit, and the C ``_datetime``
   and ``_decimal`` corrupt memory once two isolated interpreters use them) --
   each run in their own subprocess: create, import, close, exit. The four C
   modules are also imported in two interpreters at once. A subprocess that
   dies is reported as a crash (with its signal), never taken down with this
   script.

Prints the modules that fail with the exception, and the crashes; exits 0
when the measurement itself worked (whatever it found).
"""
import argparse
import concurrent.futures
import json
import os
import signal
import subprocess
import sys
import time

RISKY_C = ("_asyncio", "_ssl", "_datetime", "_decimal")
SKIP = {"antigravity": "opens a web browser"}
TIMEOUT = 120


# --------------------------------------------------------------------------------------
# Subprocess roles
# --------------------------------------------------------------------------------------

def _c_modules():
    """Names of the loaded modules that are C modules (built-in or extension files)."""
    found = set()
    for name, module in list(sys.modules.items()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None) or getattr(module, "__file__", None) or ""
        if name in sys.builtin_module_names or origin == "built-in" or origin.endswith((".so", ".pyd")):
            found.add(name)
    return found


def role_classify(name):
    """In a fresh main interpreter: is `name` a C module, and which C modules does importing it load?"""
    before = _c_modules()
    import io
    import contextlib
    import importlib
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            module = importlib.import_module(name)
    except BaseException as exc:  # noqa: BLE001
        print(json.dumps({"module": name, "importable": False, "error": f"{type(exc).__name__}: {exc}"}))
        return
    spec = getattr(module, "__spec__", None)
    origin = getattr(spec, "origin", None) or ""
    is_c = name in sys.builtin_module_names or origin == "built-in" or origin.endswith((".so", ".pyd"))
    loaded = sorted(_c_modules() - before - {name})
    print(json.dumps({"module": name, "importable": True, "is_c": is_c, "loads": loaded}))


def _interp_and_error_type():
    import subinterp.interpreters as interpreters
    return interpreters, interpreters.ExecutionFailed


def _try_import(interp, failed_type, name):
    try:
        interp.exec(f"import {name}")
    except failed_type as exc:
        info = exc.excinfo
        return {"module": name, "ok": False, "error": f"{info.type.__qualname__}: {info.msg}"}
    return {"module": name, "ok": True}


def role_batch(config, names):
    """One interpreter imports each name in turn; a line per result, then the clean-up steps."""
    interpreters, failed_type = _interp_and_error_type()
    interp = interpreters.create(config)
    for name in names:
        print(json.dumps({"start": name}), flush=True)
        print(json.dumps(_try_import(interp, failed_type, name)), flush=True)
    print(json.dumps({"phase": "close"}), flush=True)
    interp.close()
    print(json.dumps({"phase": "exit"}), flush=True)


def role_single(config, name, count):
    """`count` interpreters each import `name`, then all are closed."""
    interpreters, failed_type = _interp_and_error_type()
    interps = [interpreters.create(config) for _ in range(count)]
    results = [_try_import(i, failed_type, name) for i in interps]
    print(json.dumps(results[0]), flush=True)
    print(json.dumps({"phase": "close"}), flush=True)
    for i in interps:
        i.close()
    print(json.dumps({"phase": "exit"}), flush=True)


# --------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------

def run_self(*args):
    cmd = [sys.executable, os.path.abspath(__file__), *args]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
        rc, out, err = proc.returncode, proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out, err = "timeout", exc.stdout or "", exc.stderr or ""
        out = out.decode() if isinstance(out, bytes) else out
        err = err.decode() if isinstance(err, bytes) else err
    lines = []
    for line in out.splitlines():
        try:
            lines.append(json.loads(line))
        except ValueError:
            pass  # a module printing on import
    return rc, lines, err


def describe_rc(rc):
    if rc == "timeout":
        return f"hung (killed after {TIMEOUT} s)"
    if isinstance(rc, int) and rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


def last_error_line(stderr):
    for line in reversed(stderr.splitlines()):
        if line.startswith("Fatal Python error") or "Assertion" in line or "Segmentation" in line:
            return line.strip()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[0] if lines else ""


def classify(jobs):
    names = sorted(n for n in sys.stdlib_module_names if n not in SKIP)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda n: run_self("--role", "classify", n), names))
    candidates, risky, not_importable = [], [], []
    for name, (rc, lines, err) in zip(names, results):
        info = next((line for line in lines if line.get("module") == name), None)
        if info is None or not info.get("importable"):
            not_importable.append(name)
            continue
        loads = set(info["loads"])
        if not info["is_c"] and not loads:
            continue
        candidates.append(name)
        if name in RISKY_C or loads & set(RISKY_C):
            risky.append(name)
    return candidates, risky, not_importable


def measure_batch(config, names, results, crashes):
    """Imports `names` in shared interpreters, restarting after a crash."""
    remaining = list(names)
    while remaining:
        rc, lines, err = run_self("--role", "batch", "--config", config, *remaining)
        done = [line for line in lines if "ok" in line]
        for line in done:
            results[line["module"]] = line
        started = [line["start"] for line in lines if "start" in line]
        if rc == 0 and len(done) == len(remaining):
            return
        if len(started) > len(done):  # died while importing this one
            culprit = started[len(done)]
            crashes[culprit] = f"while importing: {describe_rc(rc)}; {last_error_line(err)}"
            remaining = remaining[len(done) + 1:]
            continue
        # Every import returned, then closing or exit crashed: find out which alone.
        for name in remaining:
            results.pop(name, None)
            measure_single(config, name, 1, results, crashes)
        return


def measure_single(config, name, count, results, crashes, key=None):
    key = key or name
    rc, lines, err = run_self("--role", "single", "--config", config, "--count", str(count), name)
    result = next((line for line in lines if "ok" in line), None)
    phases = [line["phase"] for line in lines if "phase" in line]
    if result is not None:
        results[key] = dict(result, module=key)
    if rc != 0:
        where = ("at exit" if "exit" in phases else "while closing the interpreter" if "close" in phases
                 else "while importing")
        crashes[key] = f"{where}: {describe_rc(rc)}; {last_error_line(err)}"


def measure(config, candidates, risky, jobs):
    results, crashes = {}, {}
    safe = [n for n in candidates if n not in risky]
    # Split the safe ones over `jobs` workers (each its own process and interpreter).
    chunks = [safe[i::jobs] for i in range(jobs)]
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        list(pool.map(lambda chunk: measure_batch(config, chunk, results, crashes), chunks))
        list(pool.map(lambda n: measure_single(config, n, 1, results, crashes), risky))
        two = [n for n in RISKY_C if n in candidates]
        list(pool.map(lambda n: measure_single(config, n, 2, results, crashes, key=f"{n} (2 interpreters)"), two))
    return results, crashes


def report(config, candidates, risky, results, crashes, markdown):
    failed = {k: v for k, v in results.items() if not v["ok"]}
    ok = [k for k in candidates if k in results and results[k]["ok"]]
    print(f"\n## {config}: {len(candidates)} candidates: {len(ok)} import, "
          f"{sum(k in failed for k in candidates)} fail to import; {len(crashes)} crashed "
          f"(alone, or in a 2-interpreter run)")
    if markdown:
        print("\n| module | exception |\n|---|---|")
        for name in sorted(failed):
            print(f"| `{name}` | {failed[name]['error'].replace('|', '/')} |")
        if crashes:
            print("\n| module | crash |\n|---|---|")
            for name in sorted(crashes):
                imported = results.get(name)
                note = "" if imported is None else (" (the import itself succeeded)" if imported["ok"]
                                                    else f" (import failed: {imported['error']})")
                print(f"| `{name}` | {crashes[name].replace('|', '/')}{note} |")
    else:
        for name in sorted(failed):
            print(f"FAIL   {name}: {failed[name]['error']}")
        for name in sorted(crashes):
            imported = results.get(name)
            note = "" if imported is None else f" [import {'ok' if imported['ok'] else 'failed'}]"
            print(f"CRASH  {name}: {crashes[name]}{note}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="both", choices=["isolated", "legacy", "both"])
    parser.add_argument("--markdown", action="store_true", help="print tables")
    parser.add_argument("--jobs", type=int, default=2, help="subprocesses at a time (default 2)")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "classify":
        return role_classify(args.names[0])
    if args.role == "batch":
        return role_batch(args.config, args.names)
    if args.role == "single":
        return role_single(args.config, args.names[0], args.count)

    import subinterp  # fail early, here, if the package is not on the path
    t0 = time.perf_counter()
    candidates, risky, not_importable = classify(args.jobs)
    print(f"CPython {sys.version.split()[0]} ({sys.executable}), subinterp {subinterp.__version__} from "
          f"{os.path.dirname(subinterp.__file__)}")
    print(f"{len(sys.stdlib_module_names)} names in sys.stdlib_module_names; skipped: "
          f"{', '.join(f'{k} ({v})' for k, v in SKIP.items())}; not importable in the main interpreter either: "
          f"{len(not_importable)} ({', '.join(not_importable)})")
    print(f"candidates (C modules, or importing one): {len(candidates)}; run alone in their own process "
          f"(they load {', '.join(RISKY_C)}): {', '.join(risky)}")
    configs = ["isolated", "legacy"] if args.config == "both" else [args.config]
    for config in configs:
        results, crashes = measure(config, candidates, risky, args.jobs)
        report(config, candidates, risky, results, crashes, args.markdown)
    print(f"\n(took {time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
