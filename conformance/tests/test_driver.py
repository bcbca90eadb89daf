"""Tests of the conformance driver (conformance/run), with fake runners.

The fake runner is a small Python script that passes every case unless told
to misbehave on one (fail, crash, hang, print garbage...). The tests register
it with --runner, select it with --lang and use their own cases, schema and
xfail lists, so they need no build: only the jsonschema package, which the
driver needs anyway.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CONFORMANCE))

import driver  # noqa: E402

FAKE_RUNNER = r'''
"""A fake conformance runner: passes every case unless --behave CASE=ACTION says otherwise."""
import argparse, json, os, signal, sys, time

parser = argparse.ArgumentParser()
parser.add_argument("--name", default="fake")
parser.add_argument("--capabilities", default="")
parser.add_argument("--behave", action="append", default=[])
parser.add_argument("--startup", default="ok")
parser.add_argument("--at-exit", default="ok")
parser.add_argument("--log")
parser.add_argument("--calls")  # lines `CASE FUNCTION`: the C ABI functions a case "calls", for --coverage
parser.add_argument("--case", action="append")
parser.add_argument("--coverage")
parser.add_argument("files", nargs="+")
args = parser.parse_args()
actions = dict(entry.split("=", 1) for entry in args.behave)
capabilities = [c for c in args.capabilities.split(",") if c]
calls = [line.split() for line in open(args.calls)] if args.calls else []
counts = {}


def log(what):
    if args.log:
        with open(args.log, "a") as log_file:
            log_file.write(f"{os.getpid()} {what}\n")


def emit(line):
    print(json.dumps(line), flush=True)


def report(name, status, detail=""):
    emit({"case": name, "lang": args.name, "status": status, "detail": detail})


log("start")
if args.startup == "garbage":
    print("hello, this is not JSON", flush=True)
emit({"runner": args.name, "lang": args.name, "capabilities": capabilities, "library": "0.1.0", "python": "3.13.0"})
cases = [case for path in args.files for case in json.load(open(path))["cases"]]
for case in cases:
    name = case["name"]
    if args.case is not None and name not in args.case:
        continue
    log(name)
    for function in (function for called_by, function in calls if called_by == name):
        counts[function] = counts.get(function, 0) + 1
    action = actions.get(name, "pass")
    missing = sorted(set(case.get("requires", [])) - set(capabilities))
    if missing:
        report(name, "skip", f"needs {', '.join(missing)}")
    elif action in ("pass", "fail", "skip", "error"):
        report(name, action, f"{action} as told")
    elif action == "abort":
        print(f"fake runner: abort in {name}", file=sys.stderr, flush=True)
        os.abort()
    elif action == "segv":
        print(f"fake runner: segv in {name}", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    elif action == "hang":
        time.sleep(3600)
    elif action == "garbage":
        print("Traceback? {not json", flush=True)
    elif action == "wrong-name":
        report("no.such_case", "pass")
    elif action == "chatty":
        for _ in range(20000):
            sys.stderr.write("chatter " * 16 + "\n")
        report(name, "pass")
if args.coverage:
    with open(args.coverage, "w") as coverage:
        json.dump(counts, coverage)
if args.at_exit == "abort":
    os.abort()
'''

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["description", "cases"],
    "properties": {
        "description": {"type": "string"},
        "cases": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "description", "steps"],
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9_]+\\.[a-z0-9_.]+$"},
                    "description": {"type": "string"},
                    "isolated": {"type": "boolean"},
                    "requires": {"type": "array", "items": {"type": "string"}},
                    "steps": {"type": "array", "items": {"type": "object", "required": ["op"]}},
                },
            },
        },
    },
}


def case(name: str, **extra: object) -> dict:
    return {"name": name, "description": f"the {name} case", "steps": [{"op": "versions"}], **extra}


CASES = {
    "alpha.json": [case("alpha.one"), case("alpha.two"), case("alpha.three")],
    "beta.json": [case("beta.one"), case("beta.solo", isolated=True), case("beta.native", requires=["host-native"])],
}
NAMES = [c["name"] for cases in CASES.values() for c in cases]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str

    def matrix(self) -> dict[str, list[str]]:
        """Case name -> its cells, from the matrix section (the one whose second line is the header)."""
        section = next(s for s in self.stdout.split("\n\n") if s.split("\n")[1:2] and s.split("\n")[1].startswith("case"))
        rows = [line.split() for line in section.splitlines()[2:] if line.startswith("  ")]
        return {row[0]: row[1:] for row in rows}

    def summary(self) -> str:
        return self.stdout.strip().splitlines()[-1]


class Suite:
    """A scratch conformance tree: cases, schema, xfail lists and the fake runner."""

    def __init__(self, root: Path):
        self.root = root
        self.cases_dir = root / "cases"
        self.xfail_dir = root / "xfail"
        self.schema = root / "cases.schema.json"
        self.fake = root / "fake_runner.py"
        self.log = root / "runner.log"
        for directory in (self.cases_dir, self.xfail_dir):
            directory.mkdir()
        self.schema.write_text(json.dumps(SCHEMA))
        self.fake.write_text(FAKE_RUNNER)
        for file_name, cases in CASES.items():
            self.write_cases(file_name, cases)

    def write_cases(self, file_name: str, cases: list[dict]) -> None:
        (self.cases_dir / file_name).write_text(json.dumps({"description": file_name, "cases": cases}))

    def runner(self, name: str = "fake", *options: str) -> list[str]:
        """The --runner option registering the fake runner under `name`, with its own options."""
        command = shlex.join([sys.executable, str(self.fake), "--name", name, "--log", str(self.log), *options])
        return ["--runner", f"{name}={command}"]

    def options(self) -> list[str]:
        return ["--no-build", "--cases-dir", str(self.cases_dir), "--xfail-dir", str(self.xfail_dir),
                "--schema", str(self.schema)]

    def run(self, *args: str, runners: list[list[str]] | None = None, timeout: float = 60) -> Run:
        runners = runners or [self.runner()]
        langs = ",".join(option[1].split("=", 1)[0] for option in runners)
        command = [
            sys.executable, str(CONFORMANCE / "run"), "--lang", langs, *self.options(),
            *(word for option in runners for word in option), *args,
        ]
        env = {**os.environ, "SUBINTERP_BUILD_ROOT": str(self.root / "build")}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        return Run(done.returncode, done.stdout, done.stderr)

    def started(self) -> dict[str, list[str]]:
        """Runner pid -> the cases it was started on, from the fake runner's log."""
        processes: dict[str, list[str]] = {}
        for line in self.log.read_text().splitlines():
            pid, what = line.split()
            processes.setdefault(pid, [])
            if what != "start":
                processes[pid].append(what)
        return processes


@pytest.fixture
def suite(tmp_path: Path) -> Suite:
    return Suite(tmp_path)


# --- results in the matrix ---------------------------------------------------------------


def test_all_pass_prints_the_matrix_and_exits_0(suite: Suite) -> None:
    run = suite.run()
    assert run.returncode == 0, run.stdout + run.stderr
    matrix = run.matrix()
    assert list(matrix) == NAMES
    assert all(cells == ["ok", "ok"] for name, cells in matrix.items() if name != "beta.native")
    assert matrix["beta.native"] == ["skip", "skip"]
    assert "fake@3.12" in run.stdout and "fake@3.13" in run.stdout
    assert run.summary() == "conformance: 6 cases x 2 runners: 10 passed, 2 skipped, 0 xfail, 0 unexpected"


def test_a_reported_failure_is_FAIL_and_exits_1(suite: Suite) -> None:
    run = suite.run(runners=[suite.runner("fake", "--behave", "alpha.two=fail")])
    assert run.returncode == 1
    assert run.matrix()["alpha.two"] == ["FAIL", "FAIL"]
    assert "FAIL   alpha.two  [fake@3.12, fake@3.13]\n         fail as told" in run.stdout
    assert run.summary().endswith("2 unexpected")


@pytest.mark.parametrize(("action", "signal_name"), [("abort", "SIGABRT"), ("segv", "SIGSEGV")])
def test_a_crash_costs_one_case_and_the_runner_restarts(suite: Suite, action: str, signal_name: str) -> None:
    run = suite.run("--python", "3.13", runners=[suite.runner("fake", "--behave", f"alpha.two={action}")])
    assert run.returncode == 1
    matrix = run.matrix()
    assert matrix["alpha.two"] == ["ERR"]
    assert matrix["alpha.three"] == matrix["beta.one"] == ["ok"]
    assert f"the runner ended with signal {signal_name}" in run.stdout
    assert f"| fake runner: {action} in alpha.two" in run.stdout  # the stderr tail
    shared = [cases for cases in suite.started().values() if "alpha.one" in cases or "alpha.three" in cases]
    assert shared == [["alpha.one", "alpha.two"], ["alpha.three", "beta.one", "beta.native"]]


def test_a_hang_is_killed_after_the_timeout_and_later_cases_still_run(suite: Suite) -> None:
    run = suite.run("--python", "3.13", "--timeout", "2", runners=[suite.runner("fake", "--behave", "alpha.two=hang")])
    assert run.returncode == 1
    matrix = run.matrix()
    assert matrix["alpha.two"] == ["ERR"]
    assert matrix["alpha.three"] == matrix["beta.one"] == ["ok"]
    assert "timed out after 2s" in run.stdout


@pytest.mark.parametrize(("action", "shown"), [("garbage", "Traceback? {not json"), ("wrong-name", "no.such_case")])
def test_a_line_that_is_not_the_expected_result_is_ERR(suite: Suite, action: str, shown: str) -> None:
    run = suite.run("--python", "3.13", runners=[suite.runner("fake", "--behave", f"alpha.two={action}")])
    assert run.returncode == 1
    matrix = run.matrix()
    assert matrix["alpha.two"] == ["ERR"]
    assert matrix["alpha.three"] == ["ok"]
    assert "expected the result of alpha.two" in run.stdout and shown in run.stdout


def test_a_runner_that_cannot_start_fails_every_case_without_retrying_each(suite: Suite) -> None:
    run = suite.run("--python", "3.13", runners=[suite.runner("fake", "--startup", "garbage")])
    assert run.returncode == 1
    assert all(cells == ["ERR"] for cells in run.matrix().values())
    assert "expected the hello line" in run.stdout
    assert len(suite.started()) == 2  # the shared process and the isolated one, no more


def test_a_missing_runner_program_fails_every_case(suite: Suite) -> None:
    run = suite.run("--python", "3.13", runners=[["--runner", f"ghost={suite.root / 'no-such-runner'}"]])
    assert run.returncode == 1
    assert all(cells == ["ERR"] for cells in run.matrix().values())
    assert "cannot start the runner" in run.stdout


def test_a_crash_after_the_last_case_is_charged_to_that_case(suite: Suite) -> None:
    run = suite.run("--python", "3.13", runners=[suite.runner("fake", "--at-exit", "abort")])
    assert run.returncode == 1
    matrix = run.matrix()
    assert matrix["beta.native"] == matrix["beta.solo"] == ["ERR"]  # the last case of each process
    assert matrix["alpha.one"] == ["ok"]
    assert "the runner ended with signal SIGABRT after reporting every case" in run.stdout


def test_a_skip_the_capabilities_do_not_explain_is_ERR(suite: Suite) -> None:
    lying = suite.runner("fake", "--behave", "alpha.one=skip")
    able = suite.runner("able", "--capabilities", "host-native", "--behave", "beta.native=pass")
    run = suite.run("--python", "3.13", runners=[lying, able])
    assert run.returncode == 1
    assert run.matrix()["alpha.one"] == ["ERR", "ok"]
    assert run.matrix()["beta.native"] == ["skip", "ok"]
    assert "skipped, but the runner has every capability" in run.stdout


def test_a_chatty_stderr_does_not_block_the_runner(suite: Suite) -> None:
    run = suite.run("--python", "3.13", runners=[suite.runner("fake", "--behave", "alpha.one=chatty")])
    assert run.returncode == 0, run.stdout
    assert run.matrix()["alpha.one"] == ["ok"]


def test_the_deliberately_broken_runner_shows_in_the_matrix_and_fails_the_run(suite: Suite) -> None:
    """The issue's acceptance criterion: breakage is visible, per case, and the exit status is non-zero."""
    broken = suite.runner("broken", "--behave", "alpha.two=segv", "--behave", "beta.one=fail",
                          "--behave", "alpha.three=garbage")
    run = suite.run(runners=[suite.runner("good"), broken])
    assert run.returncode == 1
    matrix = run.matrix()
    assert matrix["alpha.one"] == ["ok"] * 4
    assert matrix["alpha.two"] == ["ok", "ERR"] * 2
    assert matrix["alpha.three"] == ["ok", "ERR"] * 2
    assert matrix["beta.one"] == ["ok", "FAIL"] * 2
    assert "disagreements between runners:\n  alpha.two @3.12: good pass, broken error" in run.stdout
    assert "  beta.one @3.13: good pass, broken fail" in run.stdout
    assert run.summary() == "conformance: 6 cases x 4 runners: 14 passed, 4 skipped, 0 xfail, 6 unexpected"


# --- expected failures ---------------------------------------------------------------------


def test_a_listed_failure_is_xfail_and_exits_0(suite: Suite) -> None:
    (suite.xfail_dir / "fake.txt").write_text("# known problems\n\nalpha.two  # the fake fails it on purpose\n")
    run = suite.run(runners=[suite.runner("fake", "--behave", "alpha.two=fail")])
    assert run.returncode == 0, run.stdout
    assert run.matrix()["alpha.two"] == ["xfail", "xfail"]
    assert "expected failure (the fake fails it on purpose): fail as told" in run.stdout
    assert run.summary().endswith("2 xfail, 0 unexpected")


def test_a_series_entry_applies_to_that_series_only(suite: Suite) -> None:
    (suite.xfail_dir / "fake.txt").write_text("alpha.two [3.12]  # only 3.12 is affected\n")
    run = suite.run(runners=[suite.runner("fake", "--behave", "alpha.two=error")])
    assert run.returncode == 1
    assert run.matrix()["alpha.two"] == ["xfail", "ERR"]


def test_a_listed_case_that_passes_is_XPASS_and_exits_1(suite: Suite) -> None:
    (suite.xfail_dir / "fake.txt").write_text("alpha.one  # was broken once\n")
    run = suite.run()
    assert run.returncode == 1
    assert run.matrix()["alpha.one"] == ["XPASS", "XPASS"]
    assert "unexpected pass: listed as an expected failure (was broken once)" in run.stdout


@pytest.mark.parametrize(("line", "message"), [
    ("alpha.two\n", "alpha.two has no reason"),
    ("alpha.two  #   \n", "alpha.two has no reason"),
    ("alpha.gone  # removed\n", "no case is named 'alpha.gone'"),
    ("alpha.two [2.7]  # old\n", "unknown series [2.7]"),
    ("alpha.two oops # why\n", "expected `CASE [3.X]  # reason`"),
])
def test_an_invalid_xfail_entry_is_an_error(suite: Suite, line: str, message: str) -> None:
    (suite.xfail_dir / "fake.txt").write_text(line)
    run = suite.run()
    assert run.returncode == 2
    assert message in run.stderr
    assert not suite.log.exists()  # nothing ran


# --- processes, selection, reports ------------------------------------------------------------


def test_an_isolated_case_gets_a_process_of_its_own(suite: Suite) -> None:
    run = suite.run()
    assert run.returncode == 0
    processes = sorted(suite.started().values())
    assert processes == sorted([["alpha.one", "alpha.two", "alpha.three", "beta.one", "beta.native"], ["beta.solo"]] * 2)


def test_case_filter_runs_only_the_matching_cases(suite: Suite) -> None:
    run = suite.run("--case", r"alpha\.t", "--python", "3.13")
    assert run.returncode == 0
    assert list(run.matrix()) == ["alpha.two", "alpha.three"]
    assert list(suite.started().values()) == [["alpha.two", "alpha.three"]]


def test_junit_has_a_suite_per_column_with_the_counts(suite: Suite, tmp_path: Path) -> None:
    (suite.xfail_dir / "fake.txt").write_text("beta.one  # known\n")
    junit = tmp_path / "junit.xml"
    behaviour = ["--behave", "alpha.two=fail", "--behave", "alpha.three=error", "--behave", "beta.one=fail"]
    run = suite.run("--junit", str(junit), runners=[suite.runner("fake", *behaviour)])
    assert run.returncode == 1
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["conformance.fake@3.12", "conformance.fake@3.13"]
    for testsuite in suites:
        counts = {key: testsuite.get(key) for key in ("tests", "failures", "errors", "skipped")}
        assert counts == {"tests": "6", "failures": "1", "errors": "1", "skipped": "2"}
        testcases = {t.get("name"): t for t in testsuite.findall("testcase")}
        assert testcases["alpha.two"].get("classname") == "conformance.alpha"
        assert testcases["alpha.two"].find("failure").text == "fail as told"
        assert testcases["beta.one"].find("skipped").get("message").startswith("expected failure (known)")


def test_a_case_file_that_violates_the_schema_exits_2(suite: Suite) -> None:
    suite.write_cases("gamma.json", [{"name": "Gamma.Bad", "description": "x", "steps": []}, {"name": "gamma.x"}])
    run = suite.run()
    assert run.returncode == 2
    assert "gamma.json: $.cases[0].name (Gamma.Bad): 'Gamma.Bad' does not match" in run.stderr
    assert "gamma.json: $.cases[1] (gamma.x): 'steps' is a required property" in run.stderr
    assert not suite.log.exists()


def test_duplicate_case_names_exit_2(suite: Suite) -> None:
    suite.write_cases("gamma.json", [case("alpha.one")])
    run = suite.run()
    assert run.returncode == 2
    assert "case 'alpha.one' is also in" in run.stderr


def test_no_build_with_nothing_built_says_what_is_missing(suite: Suite) -> None:
    run = suite.run("--lang", "c", "--python", "3.13")
    assert run.returncode == 2
    assert "c@3.13: " in run.stderr and "subinterp-conformance-c" in run.stderr


# --- C ABI coverage ------------------------------------------------------------------------


@pytest.fixture
def coverage_runner(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Registers the fake as "cfake", a runner that records coverage like the C one; returns its calls file."""
    calls = suite.root / "calls.txt"
    command = [sys.executable, str(suite.fake), "--name", "cfake", "--log", str(suite.log), "--calls", str(calls)]
    monkeypatch.setitem(driver.RUNNERS, "cfake", driver.RunnerSpec(command=lambda build: command, coverage=True))
    return calls


def run_in_process(suite: Suite, *args: str) -> driver.Report:
    """Runs the driver here, where the coverage runner is registered (no re-execution, no exit)."""
    series = driver.python_series()
    return driver.run(driver.parse_args(["--lang", "cfake", "--python", "3.13", *suite.options(), *args], series), series)


def test_coverage_merges_the_processes_and_passes_when_every_function_is_called(
    suite: Suite, coverage_runner: Path
) -> None:
    first, *rest = sorted(driver.declared_functions(driver.HEADER.read_text()))
    coverage_runner.write_text(f"beta.solo {first}\n" + "".join(f"alpha.one {name}\n" for name in rest))
    report = run_in_process(suite)
    assert report.ok
    assert "coverage: every C ABI function called" in driver.render(report)


def test_an_uncalled_function_fails_the_coverage_check(suite: Suite, coverage_runner: Path) -> None:
    first, second, *rest = sorted(driver.declared_functions(driver.HEADER.read_text()))
    coverage_runner.write_text("".join(f"alpha.one {name}\n" for name in rest))
    report = run_in_process(suite)
    assert not report.ok
    assert f"coverage: FAILED: 2 C ABI functions never called by any case: {first}, {second}" in driver.render(report)


def test_coverage_is_not_checked_for_a_subset_of_the_cases(suite: Suite, coverage_runner: Path) -> None:
    coverage_runner.write_text("")
    report = run_in_process(suite, "--case", "alpha")
    assert report.ok and not report.coverage_checked
    assert "coverage" not in driver.render(report)


# --- the parts -------------------------------------------------------------------------------


def test_the_series_come_from_ci_lib_sh() -> None:
    assert driver.python_series()[:2] == ["3.12", "3.13"]


def test_declared_functions_span_lines_and_skip_comments_and_macros() -> None:
    header = """
    /* SUBINTERP_API int subinterp_in_a_comment(void); */
    #define SUBINTERP_API __attribute__((visibility("default")))
    SUBINTERP_API subinterp_status subinterp_one(int a,
                                                 int b);
    SUBINTERP_API const char *
        subinterp_two(void);
    """
    assert driver.declared_functions(header) == {"subinterp_one", "subinterp_two"}
    real = driver.declared_functions(driver.HEADER.read_text())
    assert {"subinterp_create", "subinterp_data_new_int_bytes", "subinterp_queue_list"} <= real


def test_coverage_merges_processes_and_names_the_uncalled(tmp_path: Path) -> None:
    header = tmp_path / "h.h"
    header.write_text("SUBINTERP_API int subinterp_a(void);\nSUBINTERP_API int subinterp_b(void);\n"
                      "SUBINTERP_API int subinterp_c(void);\n")
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    first.write_text(json.dumps({"subinterp_a": 3, "subinterp_b": 0}))
    second.write_text(json.dumps({"subinterp_b": 1}))
    assert driver.coverage_problem([first, second], header).startswith("1 C ABI functions never called by any case: "
                                                                       "subinterp_c")
    second.write_text(json.dumps({"subinterp_b": 1, "subinterp_c": 2}))
    assert driver.coverage_problem([first, second], header) is None
