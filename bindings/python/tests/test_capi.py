"""The SWIG control plane's return conventions for runs: exec gives None or
(stdout, stderr); call gives its result, or (result, (stdout, stderr)) when
output is captured; a failed run keeps what it printed on the exception."""
import pytest

import subinterp
from subinterp import capi
from subinterp.interpreters import ExecutionFailed

STDOUT = capi.SUBINTERP_RUN_CAPTURE_STDOUT
BOTH = capi.SUBINTERP_RUN_CAPTURE_STDOUT | capi.SUBINTERP_RUN_CAPTURE_STDERR


def test_exec_returns_none_without_capture(interp):
    assert capi.exec_source(interp.id, "x = 1", 0) is None


def test_exec_returns_captured_text(interp):
    assert capi.exec_source(interp.id, "import sys; print('o'); print('e', file=sys.stderr)", BOTH) == ("o\n", "e\n")


@pytest.mark.parametrize("source, value", [
    ("def f(): return None", None),
    ("def f(): return [1, 2]", [1, 2]),
    ("def f(): return ('a', 'b')", ("a", "b")),
    ("def f(): return 7", 7),
])
def test_call_result_kept_apart_from_output(interp, source, value):
    capi.exec_source(interp.id, source, 0)
    assert capi.call(interp.id, "f", None, None, 0) == value
    result, output = capi.call(interp.id, "f", None, None, STDOUT)
    assert (result, output) == (value, ("", ""))
    assert type(result) is type(value)


def test_call_captures_what_it_prints(interp):
    assert capi.call(interp.id, "builtins:print", ("hi",), None, STDOUT) == (None, ("hi\n", ""))


@pytest.mark.parametrize("run", [
    lambda id: capi.exec_source(id, "print('before'); 1/0", BOTH),
    lambda id: capi.call(id, "boom", None, None, BOTH),
])
def test_failed_run_keeps_its_output(interp, run):
    capi.exec_source(interp.id, "def boom():\n    print('before')\n    1/0", 0)
    with pytest.raises(ExecutionFailed) as info:
        run(interp.id)
    assert info.value.stdout == "before\n"
    assert info.value.stderr == ""


def test_failed_run_without_capture_has_no_output(interp):
    with pytest.raises(ExecutionFailed) as info:
        capi.exec_source(interp.id, "1/0", 0)
    assert not hasattr(info.value, "stdout")


def test_not_found_with_capture(interp):
    interp.close()
    with pytest.raises(subinterp.interpreters.InterpreterNotFoundError) as info:
        capi.call(interp.id, "len", ("x",), None, STDOUT)
    assert getattr(info.value, "stdout", "") == ""


def test_interpreter_id_handle(interp):
    handle = subinterp.InterpreterID(interp.id)
    assert handle.id == interp.id and int(handle) == interp.id
    assert handle == subinterp.InterpreterID(interp.id) and hash(handle) == hash(subinterp.InterpreterID(interp.id))
    capi.exec_source(interp.id, "def check(h): return (type(h).__name__, h.id)", 0)
    assert capi.call(interp.id, "check", (handle,), None, 0) == ("InterpreterID", interp.id)
    assert capi.call(interp.id, "builtins:tuple", ([handle],), None, 0) == (handle,)
    with pytest.raises(TypeError):
        subinterp.InterpreterID("1")
