"""The conformance suite's driver (docs/conformance.md, "The driver").

Validates the case files against the schema, builds what the runners need,
starts every runner once per CPython series (and once per isolated case),
reads their result lines with a per-case timeout, applies the
expected-failure lists, checks C ABI coverage, and prints the case x runner
matrix. `conformance/run` is the entry point; the logic lives in this plain
module so that conformance/tests can import its parts.

Standard library only, except jsonschema for the case validation: the driver
runs under any python3 >= 3.11 and, when that one lacks jsonschema,
re-executes itself under a per-series venv, where ci/setup installs it.
"""

from __future__ import annotations

import argparse
import collections
import enum
import importlib.util
import itertools
import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import textwrap
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO

CONFORMANCE = Path(__file__).resolve().parent
ROOT = CONFORMANCE.parent
# As in ci/lib.sh: an empty SUBINTERP_BUILD_ROOT counts as unset.
BUILD_ROOT = Path(os.environ.get("SUBINTERP_BUILD_ROOT") or ROOT / "build").absolute()
HEADER = ROOT / "capi/include/subinterp.h"

WIDTH = 100  # the matrix fits in this many columns
STDERR_TAIL_LINES = 20
STATUSES = ("pass", "fail", "skip", "error")


class SetupError(Exception):
    """The run cannot start: invalid cases or xfail lists, a missing build, bad options (exit 2)."""


class RunnerBroke(Exception):
    """A runner process cannot go on: it exited, hung or broke the line protocol."""


# --- the CPython series and the builds -------------------------------------------


def python_series(lib_sh: Path = ROOT / "ci/lib.sh") -> list[str]:
    """The supported CPython series, read from ci/lib.sh so that there is one list."""
    match = re.search(r"^PYTHON_SERIES=\(([^)]*)\)", lib_sh.read_text(), re.MULTILINE)
    if not match:
        raise SetupError(f"no PYTHON_SERIES=(...) line in {lib_sh}")
    return match.group(1).split()


@dataclass(frozen=True)
class Build:
    """Where one CPython series' build and venv live (build_dir_for, venv_for in ci/lib.sh)."""

    series: str

    @property
    def dir(self) -> Path:
        return BUILD_ROOT / f"py{self.series}"

    @property
    def venv(self) -> Path:
        return BUILD_ROOT / "venv" / f"py{self.series}"

    @property
    def library(self) -> Path:
        return self.dir / "libsubinterp.so.1"


def ci_build(build: Build) -> None:
    """Runs ci/build for the series: incremental, so cheap when nothing changed."""
    run_ci_script("ci/build", build, build.dir, "the build")


RUST_BINARIES = "rust/release"  # where ci/build-rust puts them: CARGO_TARGET_DIR is the build's rust/ (cargo_for)


def ci_build_rust(build: Build) -> None:
    """Runs ci/build-rust for the series (ci/build, then cargo build): incremental too."""
    run_ci_script("ci/build-rust", build, build.dir / RUST_BINARIES, "the Rust binaries")


GO_BINARIES = "go"  # where ci/build-go puts them: the build's go/


def ci_build_go(build: Build) -> None:
    """Runs ci/build-go for the series (ci/build, then go build): incremental too."""
    run_ci_script("ci/build-go", build, build.dir / GO_BINARIES, "the Go binaries")


def run_ci_script(script: str, build: Build, expected: Path, what: str) -> None:
    """Runs a ci/ build script for the series; its last line of output is the directory it built."""
    command = [str(ROOT / script), "--python", build.series]
    print(f"conformance: {shlex.join(command)}", file=sys.stderr, flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stdout)
        raise SetupError(f"{shlex.join(command)} failed (exit code {done.returncode})")
    built = Path((done.stdout.strip().splitlines() or [""])[-1]).resolve()
    if built != expected.resolve():
        raise SetupError(f"{script} built {built}, but the driver looks for {what} in {expected}")


# --- the runners -------------------------------------------------------------------


@dataclass(frozen=True)
class RunnerSpec:
    """How to build and start one language's runner, given a series' build.

    `command` is the command line before the case-runner arguments
    (`[--case NAME]... [--coverage FILE] FILE...`); `needs` are files that must
    exist before it starts; `build` makes them (each distinct build function
    runs once per series); `coverage` says the runner takes --coverage.
    """

    command: Callable[[Build], list[str]]
    needs: Callable[[Build], list[Path]] = lambda build: []
    env: Callable[[Build], dict[str, str]] = lambda build: {}
    build: Callable[[Build], None] | None = None
    coverage: bool = False


C_RUNNER = "conformance/runners/c/subinterp-conformance-c"
RUST_RUNNER = f"{RUST_BINARIES}/subinterp-conformance-rust"
GO_RUNNER = f"{GO_BINARIES}/subinterp-conformance-go"

# One entry per language (docs/conformance.md, "Adding a runner for a new language").
RUNNERS: dict[str, RunnerSpec] = {
    "c": RunnerSpec(
        command=lambda b: [str(b.dir / C_RUNNER), "--library", str(b.library)],
        needs=lambda b: [b.dir / C_RUNNER, b.library],
        build=ci_build,
        coverage=True,
    ),
    "python": RunnerSpec(
        command=lambda b: [str(b.venv / "bin/python"), str(CONFORMANCE / "runners/python/runner.py")],
        needs=lambda b: [b.venv / "bin/python", b.dir / "python"],
        env=lambda b: {"PYTHONPATH": str(b.dir / "python")},
        build=ci_build,
    ),
    # The binary has an rpath to the build's libsubinterp: no environment needed.
    "rust": RunnerSpec(
        command=lambda b: [str(b.dir / RUST_RUNNER)],
        needs=lambda b: [b.dir / RUST_RUNNER],
        build=ci_build_rust,
    ),
    # Likewise (cgo links with the rpath of the build's subinterp-uninstalled.pc).
    "go": RunnerSpec(
        command=lambda b: [str(b.dir / GO_RUNNER)],
        needs=lambda b: [b.dir / GO_RUNNER],
        build=ci_build_go,
    ),
}


def extra_runner(argument: str) -> tuple[str, RunnerSpec]:
    """Parses --runner NAME=COMMAND: a runner with no build, e.g. a fake one in the tests."""
    name, sep, command = argument.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_-]+", name) or not command.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=COMMAND, got {argument!r}")
    words = shlex.split(command)
    return name, RunnerSpec(command=lambda build: list(words))


# --- jsonschema ---------------------------------------------------------------------


def ensure_jsonschema(argv: list[str]) -> None:
    """Makes `import jsonschema` work, re-executing the driver if it must.

    The driver is started with whatever python3 is on the PATH, which need not
    have jsonschema; ci/setup installs it into the per-series venvs. So, when
    it is missing, re-execute under the newest venv that has it. A venv is
    never re-entered (sys.prefix is the venv we are in), so this cannot loop.
    """
    if importlib.util.find_spec("jsonschema"):
        return
    for series in reversed(python_series()):
        venv = Build(series).venv
        python = venv / "bin/python"
        if Path(sys.prefix).resolve() == venv.resolve() or not python.exists():
            continue
        probe = subprocess.run([str(python), "-c", "import jsonschema"], capture_output=True)
        if probe.returncode == 0:
            os.execv(python, [str(python), str(CONFORMANCE / "run"), *argv])
    raise SetupError(
        "the driver needs the jsonschema package to validate the cases (JSON Schema draft 2020-12), "
        f"and neither {sys.executable} nor a venv under {BUILD_ROOT / 'venv'} has it: "
        "run ci/setup, or pip install jsonschema"
    )


# --- the cases ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    file: Path
    isolated: bool
    requires: frozenset[str]

    @property
    def area(self) -> str:
        return self.name.split(".", 1)[0]


def load_cases(cases_dir: Path, schema_path: Path) -> list[Case]:
    """Every case of every file in cases_dir, in file order, after validating them all."""
    files = sorted(cases_dir.glob("*.json"))
    if not files:
        raise SetupError(f"no case files (*.json) in {cases_dir}")
    validator = schema_validator(schema_path)
    problems: list[str] = []
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{path}: not readable as JSON: {error}")
            continue
        errors = [f"{path}: {locate(document, e)}: {shorten(e.message)}" for e in validator.iter_errors(document)]
        if errors:
            problems += errors
            continue
        for raw in document["cases"]:
            name = raw["name"]
            if name in seen:
                problems.append(f"{path}: case {name!r} is also in {seen[name]}")
            seen[name] = path
            cases.append(Case(name, path, raw.get("isolated", False), frozenset(raw.get("requires", []))))
    if problems:
        raise SetupError("invalid case files:\n" + "\n".join(f"  {p}" for p in problems))
    return cases


def locate(document: object, error) -> str:
    """A schema error's JSON path, plus the case's name when it is inside a named case."""
    path = list(error.absolute_path)
    cases = document.get("cases") if isinstance(document, dict) else None
    if len(path) >= 2 and path[0] == "cases" and isinstance(cases, list) and isinstance(cases[path[1]], dict):
        name = cases[path[1]].get("name")
        if isinstance(name, str):
            return f"{error.json_path} ({name})"
    return error.json_path


def schema_validator(schema_path: Path):
    """A draft 2020-12 validator for the case schema (jsonschema is imported here: see ensure_jsonschema)."""
    import jsonschema

    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as error:
        raise SetupError(f"cannot read the case schema {schema_path}: {error}") from None
    except jsonschema.SchemaError as error:
        raise SetupError(f"the case schema {schema_path} is invalid: {shorten(error.message)}") from None
    return jsonschema.Draft202012Validator(schema)


def shorten(text: str, limit: int = 300) -> str:
    """Cuts a long message (jsonschema repeats whole instances in some)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- expected failures ----------------------------------------------------------------

XFAIL_LINE = re.compile(r"(?P<case>[^\s#\[]+)(?:\s+\[(?P<series>[^\]]*)\])?\s*(?:#(?P<reason>.*))?")


@dataclass
class XfailList:
    """One language's expected failures: (case, series or None for all) -> reason."""

    entries: dict[tuple[str, str | None], str] = field(default_factory=dict)

    def reason(self, case: str, series: str) -> str | None:
        return self.entries.get((case, series), self.entries.get((case, None)))


def load_xfail(path: Path, known_cases: set[str], known_series: list[str]) -> XfailList:
    """Parses `CASE  # reason` / `CASE [3.12]  # reason` lines; every entry must name a known case and say why."""
    xfail = XfailList()
    if not path.exists():
        return xfail
    problems = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path}:{number}"
        match = XFAIL_LINE.fullmatch(stripped)
        if not match:
            problems.append(f"{where}: expected `CASE [3.X]  # reason`, got {stripped!r}")
            continue
        case, series, reason = match["case"], match["series"], (match["reason"] or "").strip()
        if not reason:
            problems.append(f"{where}: {case} has no reason (`CASE  # reason`): every entry must be explained")
        if case not in known_cases:
            problems.append(f"{where}: no case is named {case!r}")
        if series is not None and series not in known_series:
            problems.append(f"{where}: unknown series [{series}] (known: {', '.join(known_series)})")
        if (case, series) in xfail.entries:
            problems.append(f"{where}: {case} is listed twice")
        xfail.entries[(case, series)] = reason
    if problems:
        raise SetupError("invalid expected-failure list:\n" + "\n".join(f"  {p}" for p in problems))
    return xfail


# --- running a runner -------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of the matrix: a runner on a CPython series."""

    lang: str
    series: str

    @property
    def label(self) -> str:
        return f"{self.lang}@{self.series}"


@dataclass
class Result:
    """A case's result in one column, as reported by the runner or decided by the driver."""

    status: str  # one of STATUSES
    detail: str = ""
    seconds: float = 0.0


@dataclass
class ColumnRun:
    """Everything one column's runner processes reported."""

    hello: dict | None = None
    results: dict[str, Result] = field(default_factory=dict)
    coverage_files: list[Path] = field(default_factory=list)


class RunnerProcess:
    """A runner in a process group of its own, so that killing it kills everything it started.

    Threads read stdout into a queue (so that lines can be awaited with a
    timeout) and drain stderr into a tail (so that a chatty runner cannot
    block on a full pipe, and a crash can be shown with its last words).
    """

    def __init__(self, argv: list[str], env: dict[str, str]):
        self._process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace", start_new_session=True,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        stdout, stderr = self._process.stdout, self._process.stderr
        assert stdout is not None and stderr is not None  # both are pipes
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(stdout,), daemon=True),
            threading.Thread(target=self._read_stderr, args=(stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self, stdout: IO[str]) -> None:
        for line in stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _read_stderr(self, stderr: IO[str]) -> None:
        for line in stderr:
            self.stderr_tail.append(line.rstrip("\n"))

    def read_line(self, timeout: float) -> str | None:
        """The next stdout line, or None at end of file; RunnerBroke if none comes in time (see __exit__)."""
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise RunnerBroke(f"timed out after {timeout:g}s without a line from the runner; killed") from None

    def wait(self, timeout: float) -> int:
        """The exit status, killing the runner if it closed stdout but does not exit."""
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self._process.wait()

    def kill(self) -> None:
        try:
            os.killpg(self._process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __enter__(self) -> RunnerProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Kills what is left of the group: a runner that hung or broke the protocol, strays."""
        self.kill()
        self._process.wait()
        for thread in self._threads:
            thread.join(timeout=5)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class ProcessRun:
    """What one runner process did.

    `stopped`: why it stopped before reporting every case (the next case pays
    for it); `after`: what went wrong once it had reported them all (a
    non-zero exit, more output), which the last case pays for.
    """

    hello: dict | None = None
    reported: list[tuple[str, Result]] = field(default_factory=list)
    stopped: str | None = None
    after: str | None = None


def parse_json_line(line: str, what: str) -> dict:
    try:
        value = json.loads(line)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise RunnerBroke(f"expected {what} (a JSON object), got {shorten(line, 200)!r}")
    return value


def parse_hello(line: str) -> dict:
    hello = parse_json_line(line, "the hello line")
    strings_ok = all(isinstance(hello.get(key), str) for key in ("runner", "lang", "library", "python"))
    capabilities = hello.get("capabilities")
    if not strings_ok or not isinstance(capabilities, list) or not all(isinstance(c, str) for c in capabilities):
        raise RunnerBroke(f"bad hello line (needs runner, lang, capabilities, library, python): {shorten(line, 200)!r}")
    return hello


def parse_result(line: str, case: Case, capabilities: set[str]) -> Result:
    """A case line for `case`, checked against the protocol and the runner's capabilities."""
    report = parse_json_line(line, f"the result of {case.name}")
    if report.get("case") != case.name:
        raise RunnerBroke(f"expected the result of {case.name}, got {shorten(line, 200)!r}")
    status, detail = report.get("status"), report.get("detail", "")
    if status not in STATUSES or not isinstance(detail, str):
        raise RunnerBroke(f"bad result line (status must be one of {', '.join(STATUSES)}): {shorten(line, 200)!r}")
    missing = sorted(case.requires - capabilities)
    if status == "skip" and not missing:
        return Result("error", f"skipped, but the runner has every capability the case requires: {detail}")
    if status != "skip" and missing:
        return Result("error", f"reported {status} but lacks {', '.join(missing)}, so it must skip: {detail}")
    return Result(status, detail)


def converse(process: RunnerProcess, cases: list[Case], timeout: float) -> ProcessRun:
    """Reads the hello line and one line per case, in order, then expects a clean exit."""
    run = ProcessRun()
    try:
        run.hello = parse_hello(next_line(process, timeout))
        capabilities = set(run.hello["capabilities"])
        for case in cases:
            started = time.monotonic()
            result = parse_result(next_line(process, timeout), case, capabilities)
            result.seconds = time.monotonic() - started
            run.reported.append((case.name, result))
    except RunnerBroke as broke:
        run.stopped = str(broke)
        return run
    try:
        extra = process.read_line(timeout)
    except RunnerBroke as broke:
        run.after = f"after reporting every case: {broke}"
        return run
    if extra is not None:
        run.after = f"printed more after reporting every case: {shorten(extra, 200)!r}"
    elif status := process.wait(timeout):
        run.after = f"the runner ended with {describe_exit(status)} after reporting every case"
    return run


def next_line(process: RunnerProcess, timeout: float) -> str:
    line = process.read_line(timeout)
    if line is None:
        raise RunnerBroke(f"the runner ended with {describe_exit(process.wait(timeout))}")
    return line


def stderr_report(tail: Iterable[str]) -> str:
    lines = list(tail)
    if not lines:
        return "\n(nothing on stderr)"
    title = f"stderr (last {len(lines)} lines)" if len(lines) == STDERR_TAIL_LINES else "stderr"
    return f"\n{title}:\n" + "\n".join(f"  | {line}" for line in lines)


@dataclass(frozen=True)
class Invocation:
    """A runner ready to start in one column."""

    column: Column
    command: list[str]
    env: dict[str, str]
    coverage_dir: Path | None  # where --coverage files go, if the runner takes them


def run_process(invocation: Invocation, cases: list[Case], timeout: float, coverage: Path | None) -> ProcessRun:
    """Starts one runner process on `cases` and reads what it reports."""
    files = list(dict.fromkeys(str(case.file) for case in cases))
    argv = [*invocation.command, *(a for case in cases for a in ("--case", case.name))]
    argv += ["--coverage", str(coverage)] if coverage else []
    try:
        process = RunnerProcess(argv + files, invocation.env)
    except OSError as error:
        return ProcessRun(stopped=f"cannot start the runner: {error}")
    with process:
        run = converse(process, cases, timeout)
    tail = stderr_report(process.stderr_tail)
    run.stopped = run.stopped and run.stopped + tail
    run.after = run.after and run.after + tail
    return run


def run_batch(invocation: Invocation, cases: list[Case], timeout: float, into: ColumnRun) -> None:
    """Runs `cases` to the end, restarting the runner after the case that crashed or hung it.

    A runner that fails before its hello line fails every remaining case at
    once: it cannot start, and restarting it per case would only repeat that.
    """
    pending = list(cases)
    while pending:
        coverage = None
        if invocation.coverage_dir:
            coverage = invocation.coverage_dir / f"{invocation.column.label}-{len(into.coverage_files)}.json"
            into.coverage_files.append(coverage)
        run = run_process(invocation, pending, timeout, coverage)
        into.hello = into.hello or run.hello
        into.results.update(run.reported)
        pending = pending[len(run.reported):]
        if run.after:
            last = into.results[run.reported[-1][0]]
            last.status, last.detail = "error", f"{run.after}\n(the case itself reported {last.status}: {last.detail})"
        if run.stopped is None:
            return
        lost = pending if run.hello is None else pending[:1]
        for case in lost:
            into.results[case.name] = Result("error", run.stopped)
        what = lost[0].name if len(lost) == 1 else f"{len(lost)} cases lost"
        progress(f"{invocation.column.label}: {what}: {run.stopped.splitlines()[0]}")
        pending = pending[len(lost):]


def run_column(invocation: Invocation, cases: list[Case], timeout: float) -> ColumnRun:
    """One process for the shared cases, one per isolated case."""
    shared = [case for case in cases if not case.isolated]
    isolated = [[case] for case in cases if case.isolated]
    progress(f"{invocation.column.label}: {len(cases)} cases, {len(isolated)} of them isolated")
    batches = ([shared] if shared else []) + isolated
    column_run = ColumnRun()
    for batch in batches:
        run_batch(invocation, batch, timeout, column_run)
    return column_run


def progress(message: str) -> None:
    print(f"conformance: {message}", file=sys.stderr, flush=True)


# --- coverage ---------------------------------------------------------------------------


def declared_functions(header_text: str) -> set[str]:
    """The functions a header declares with `SUBINTERP_API ... subinterp_NAME(`, over several lines if need be."""
    code = re.sub(r"/\*.*?\*/|//[^\n]*", " ", header_text, flags=re.DOTALL)
    return set(re.findall(r"\bSUBINTERP_API\b[^;(){}#]*?\b(subinterp_\w+)\s*\(", code))


def coverage_problem(files: list[Path], header: Path = HEADER) -> str | None:
    """Why the merged coverage files do not show every C ABI function called, or None if they do."""
    counts: collections.Counter[str] = collections.Counter()
    unreadable = []
    for path in files:
        try:
            counts.update({name: int(count) for name, count in json.loads(path.read_text()).items()})
        except (OSError, ValueError, AttributeError, TypeError):
            unreadable.append(path.name)
    uncalled = sorted(name for name in declared_functions(header.read_text()) if counts[name] <= 0)
    if not uncalled:
        return None
    problem = f"{len(uncalled)} C ABI functions never called by any case: {', '.join(uncalled)}"
    if unreadable:
        problem += f" ({len(unreadable)} of {len(files)} runner processes left no readable coverage file)"
    return problem


# --- outcomes and the report --------------------------------------------------------------


class Outcome(enum.Enum):
    """A cell of the matrix: the result, seen through the expected-failure list."""

    PASS = ("ok", False)
    FAIL = ("FAIL", True)
    ERROR = ("ERR", True)
    SKIP = ("skip", False)
    XFAIL = ("xfail", False)
    XPASS = ("XPASS", True)

    def __init__(self, symbol: str, unexpected: bool):
        self.symbol = symbol
        self.unexpected = unexpected


def classify(status: str, xfail_reason: str | None) -> Outcome:
    if status == "skip":
        return Outcome.SKIP
    if xfail_reason is not None:
        return Outcome.XPASS if status == "pass" else Outcome.XFAIL
    return {"pass": Outcome.PASS, "fail": Outcome.FAIL}.get(status, Outcome.ERROR)


@dataclass(frozen=True)
class Cell:
    outcome: Outcome
    result: Result
    xfail_reason: str | None

    def explanation(self) -> str:
        """What a reader needs to know about the cell, beyond its symbol."""
        if self.outcome is Outcome.XPASS:
            return f"unexpected pass: listed as an expected failure ({self.xfail_reason}); remove the entry"
        if self.outcome is Outcome.XFAIL:
            return f"expected failure ({self.xfail_reason}): {self.result.detail}"
        return self.result.detail


@dataclass
class Report:
    cases: list[Case]
    columns: list[Column]
    cells: dict[tuple[str, Column], Cell]
    hellos: dict[Column, dict | None]
    coverage_checked: bool
    coverage_problem: str | None

    def column_cells(self, column: Column) -> list[Cell]:
        return [self.cells[case.name, column] for case in self.cases]

    def count(self, outcome: Outcome, column: Column | None = None) -> int:
        columns = [column] if column is not None else self.columns
        return sum(cell.outcome is outcome for c in columns for cell in self.column_cells(c))

    @property
    def unexpected(self) -> int:
        return sum(self.count(outcome) for outcome in Outcome if outcome.unexpected)

    @property
    def ok(self) -> bool:
        return self.unexpected == 0 and self.coverage_problem is None


def make_report(
    cases: list[Case], runs: dict[Column, ColumnRun], xfails: dict[str, XfailList],
    coverage_checked: bool, coverage: str | None,
) -> Report:
    cells = {}
    for column, run in runs.items():
        for case in cases:
            result = run.results[case.name]
            reason = xfails[column.lang].reason(case.name, column.series)
            cells[case.name, column] = Cell(classify(result.status, reason), result, reason)
    hellos = {column: run.hello for column, run in runs.items()}
    return Report(cases, list(runs), cells, hellos, coverage_checked, coverage)


def render(report: Report) -> str:
    """The whole text report: runners, matrix, details, disagreements, totals, summary."""
    sections = [
        render_runners(report),
        render_matrix(report),
        render_details(report),
        render_disagreements(report),
        render_totals(report),
        render_coverage(report),
        [summary_line(report)],
    ]
    return "\n\n".join("\n".join(lines) for lines in sections if lines) + "\n"


def render_runners(report: Report) -> list[str]:
    lines = ["runners:"]
    width = max(len(column.label) for column in report.columns)
    for column in report.columns:
        hello = report.hellos[column]
        if hello is None:
            text = "never started (see the errors below)"
        else:
            capabilities = " ".join(sorted(hello["capabilities"])) or "none"
            text = f"library {hello['library']}, python {hello['python']}, capabilities: {capabilities}"
        lines += textwrap.wrap(
            text, WIDTH, initial_indent=f"  {column.label:<{width}}  ", subsequent_indent=" " * (width + 4)
        )
    return lines


def cell_width(column: Column) -> int:
    return max(len(column.lang), max(len(o.symbol) for o in Outcome)) + 2


def column_header(report: Report, name_width: int) -> list[str]:
    """Two lines: each series over its group of languages, then the languages."""
    series_line, lang_line = "", ""
    for series, group in itertools.groupby(report.columns, key=lambda column: column.series):
        widths = [(column.lang, cell_width(column)) for column in group]
        series_line += series.ljust(sum(width for _, width in widths))
        lang_line += "".join(lang.ljust(width) for lang, width in widths)
    return [(" " * name_width + series_line).rstrip(), ("case".ljust(name_width) + lang_line).rstrip()]


def render_matrix(report: Report) -> list[str]:
    cells_width = sum(cell_width(column) for column in report.columns)
    longest = max(len(case.name) for case in report.cases) + 4
    name_width = max(24, min(longest, WIDTH - cells_width))
    lines = column_header(report, name_width)
    current_file = None
    for case in report.cases:
        if case.file != current_file:
            current_file = case.file
            lines.append(f"{case.file.name}:")
        name = fit(case.name, name_width - 4)
        row = f"  {name}".ljust(name_width)
        row += "".join(report.cells[case.name, c].outcome.symbol.ljust(cell_width(c)) for c in report.columns)
        lines.append(row.rstrip())
    return lines


def fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def render_details(report: Report) -> list[str]:
    """Every cell that is neither ok nor skip; columns with the same outcome and text share an entry."""
    lines = []
    for case in report.cases:
        entries: dict[tuple[Outcome, str], list[str]] = {}
        for column in report.columns:
            cell = report.cells[case.name, column]
            if cell.outcome not in (Outcome.PASS, Outcome.SKIP):
                entries.setdefault((cell.outcome, cell.explanation()), []).append(column.label)
        for (outcome, explanation), labels in entries.items():
            lines.append(f"{outcome.symbol:<6} {case.name}  [{', '.join(labels)}]")
            lines += [f"         {line}" for line in explanation.splitlines()]
    return ["details:", *lines] if lines else []


def render_disagreements(report: Report) -> list[str]:
    """Cases that pass in some runner and not in another of the same series (skips aside)."""
    lines = []
    for series in dict.fromkeys(column.series for column in report.columns):
        columns = [column for column in report.columns if column.series == series]
        for case in report.cases:
            results = {c.lang: report.cells[case.name, c].result.status for c in columns}
            ran = {lang: status for lang, status in results.items() if status != "skip"}
            if "pass" in ran.values() and set(ran.values()) != {"pass"}:
                verdicts = ", ".join(f"{lang} {status}" for lang, status in ran.items())
                lines.append(f"  {case.name} @{series}: {verdicts}")
    return ["disagreements between runners:", *lines] if lines else []


def render_totals(report: Report) -> list[str]:
    name_width = max(24, max(len(column.label) for column in report.columns) + 2)
    header = "totals".ljust(name_width) + "".join(c.label.ljust(len(c.label) + 2) for c in report.columns)
    lines = [header.rstrip()]
    for outcome in Outcome:
        counts = [str(report.count(outcome, c)).ljust(len(c.label) + 2) for c in report.columns]
        lines.append((f"  {outcome.symbol}".ljust(name_width) + "".join(counts)).rstrip())
    return lines


def render_coverage(report: Report) -> list[str]:
    if not report.coverage_checked:
        return []
    return [f"coverage: FAILED: {report.coverage_problem}" if report.coverage_problem
            else "coverage: every C ABI function called"]


def summary_line(report: Report) -> str:
    coverage = ", C ABI coverage incomplete" if report.coverage_problem else ""
    return (
        f"conformance: {len(report.cases)} cases x {len(report.columns)} runners: "
        f"{report.count(Outcome.PASS)} passed, {report.count(Outcome.SKIP)} skipped, "
        f"{report.count(Outcome.XFAIL)} xfail, {report.unexpected} unexpected{coverage}"
    )


# --- JUnit XML ---------------------------------------------------------------------------

NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def write_junit(report: Report, path: Path) -> None:
    """One testsuite per column; failures, errors and skips as JUnit consumers expect them."""
    root = ET.Element("testsuites", name="conformance")
    for column in report.columns:
        cells = report.column_cells(column)
        suite = ET.SubElement(root, "testsuite", {
            "name": f"conformance.{column.label}",
            "tests": str(len(cells)),
            "failures": str(sum(c.outcome in (Outcome.FAIL, Outcome.XPASS) for c in cells)),
            "errors": str(sum(c.outcome is Outcome.ERROR for c in cells)),
            "skipped": str(sum(c.outcome in (Outcome.SKIP, Outcome.XFAIL) for c in cells)),
            "time": f"{sum(c.result.seconds for c in cells):.3f}",
        })
        for case, cell in zip(report.cases, cells):
            testcase = ET.SubElement(suite, "testcase", {
                "classname": f"conformance.{case.area}", "name": case.name, "time": f"{cell.result.seconds:.3f}",
            })
            tag = {Outcome.FAIL: "failure", Outcome.XPASS: "failure", Outcome.ERROR: "error",
                   Outcome.SKIP: "skipped", Outcome.XFAIL: "skipped"}.get(cell.outcome)
            if tag:
                text = NOT_XML.sub("?", cell.explanation())
                ET.SubElement(testcase, tag, message=shorten(text.split("\n", 1)[0], 200)).text = text
    if report.coverage_checked:
        problem = report.coverage_problem
        suite = ET.SubElement(root, "testsuite", name="conformance.coverage", tests="1",
                              failures=str(int(problem is not None)), errors="0", skipped="0")
        testcase = ET.SubElement(suite, "testcase", classname="conformance.coverage", name="c_abi")
        if problem:
            ET.SubElement(testcase, "failure", message=shorten(problem, 200)).text = problem
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


# --- the command line -----------------------------------------------------------------------


def parse_args(argv: list[str], series: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="conformance/run",
        description="Runs the conformance cases with every runner and prints the case x runner matrix "
        "(docs/conformance.md). Exit status: 0 all as expected, 1 unexpected results, 2 invalid setup.",
    )
    parser.add_argument("--python", action="append", choices=series, metavar="3.X",
                        help=f"a CPython series (repeatable; default: {' '.join(series)})")
    parser.add_argument("--lang", action="append", metavar="LANG[,LANG]",
                        help="runners to run (repeatable, comma-separated; default: all registered)")
    parser.add_argument("--case", type=case_regex, metavar="REGEX", help="only cases whose name matches (re.search)")
    parser.add_argument("--timeout", type=positive_seconds, default=30.0, metavar="SECONDS",
                        help="how long a runner may take per case (default 30)")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="also write a JUnit XML report")
    parser.add_argument("--no-build", action="store_true", help="use what is built; fail if something is missing")
    parser.add_argument("--runner", action="append", type=extra_runner, default=[], metavar="NAME=COMMAND",
                        help="an extra runner: COMMAND (shell-split) followed by the case-runner arguments")
    parser.add_argument("--cases-dir", type=Path, default=CONFORMANCE / "cases", metavar="DIR")
    parser.add_argument("--schema", type=Path, default=CONFORMANCE / "schema/cases.schema.json", metavar="FILE")
    parser.add_argument("--xfail-dir", type=Path, default=CONFORMANCE / "xfail", metavar="DIR")
    parser.add_argument("--coverage-check", action=argparse.BooleanOptionalAction,
                        help="require every C ABI function to be called (default: on unless --case is given)")
    return parser.parse_args(argv)


def case_regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as error:
        raise argparse.ArgumentTypeError(f"invalid regular expression {text!r}: {error}") from None


def positive_seconds(text: str) -> float:
    seconds = float(text)
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return seconds


def selected_runners(options: argparse.Namespace) -> dict[str, RunnerSpec]:
    registry = dict(RUNNERS)
    for name, spec in options.runner:
        if name in registry:
            raise SetupError(f"--runner {name}=...: a runner named {name} is already registered")
        registry[name] = spec
    names = [name for value in options.lang or [",".join(registry)] for name in value.split(",") if name]
    unknown = [name for name in names if name not in registry]
    if unknown:
        raise SetupError(f"unknown runner {', '.join(unknown)} (registered: {', '.join(registry)})")
    return {name: registry[name] for name in dict.fromkeys(names)}


def prepare(runners: dict[str, RunnerSpec], series: list[str], build: bool) -> None:
    """Builds each series once per distinct build function, then checks that everything needed exists."""
    for version in series:
        if build:
            for build_function in dict.fromkeys(spec.build for spec in runners.values() if spec.build):
                build_function(Build(version))
        missing = [
            f"  {lang}@{version}: {path}"
            for lang, spec in runners.items() for path in spec.needs(Build(version)) if not path.exists()
        ]
        if missing:
            hint = "does ci/build build it?" if build else "drop --no-build to build it"
            raise SetupError(f"missing (ci/setup makes the venvs; {hint}):\n" + "\n".join(missing))


def coverage_wanted(options: argparse.Namespace, runners: dict[str, RunnerSpec]) -> bool:
    """Whether to check C ABI coverage: asked for, or by default when every case runs, and a runner records it."""
    recorded = any(spec.coverage for spec in runners.values())
    if options.coverage_check and not recorded:
        raise SetupError("--coverage-check needs a runner that records C ABI coverage (c)")
    wanted = options.case is None if options.coverage_check is None else options.coverage_check
    return wanted and recorded


def invocation(lang: str, spec: RunnerSpec, series: str, coverage_dir: Path | None) -> Invocation:
    build = Build(series)
    return Invocation(
        Column(lang, series), spec.command(build), {**os.environ, **spec.env(build)},
        coverage_dir if spec.coverage else None,
    )


def run(options: argparse.Namespace, all_series: list[str]) -> Report:
    """Everything after parsing the options: validate, build, run, report."""
    runners = selected_runners(options)
    series = [s for s in all_series if s in (options.python or all_series)]
    cases = load_cases(options.cases_dir, options.schema)
    known = {case.name for case in cases}
    xfails = {lang: load_xfail(options.xfail_dir / f"{lang}.txt", known, all_series) for lang in runners}
    if options.case:
        cases = [case for case in cases if options.case.search(case.name)]
        if not cases:
            raise SetupError(f"no case matches --case {options.case.pattern!r}")
    check_coverage = coverage_wanted(options, runners)
    prepare(runners, series, build=not options.no_build)

    with TemporaryDirectory(prefix="conformance-") as scratch:
        coverage_dir = Path(scratch) if check_coverage else None
        runs = {}
        for version in series:
            for lang, spec in runners.items():
                runner = invocation(lang, spec, version, coverage_dir)
                runs[runner.column] = run_column(runner, cases, options.timeout)
        files = [path for column_run in runs.values() for path in column_run.coverage_files]
        coverage = coverage_problem(files) if check_coverage else None
    return make_report(cases, runs, xfails, check_coverage, coverage)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        all_series = python_series()
        options = parse_args(argv, all_series)
        ensure_jsonschema(argv)
        report = run(options, all_series)
    except SetupError as error:
        print(f"conformance: error: {error}", file=sys.stderr)
        return 2
    sys.stdout.write(render(report))
    if options.junit:
        write_junit(report, options.junit)
    return 0 if report.ok else 1
