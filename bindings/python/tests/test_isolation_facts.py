"""What an isolated interpreter refuses and what it does not: the tables of
docs/security.md, asserted so that the page cannot drift from the behaviour of
the CPython builds we support. "Allowed" rows are CPython's behaviour, which
the library documents rather than changes: sub-interpreters are not a sandbox."""
import os
import subprocess
import sys

import pytest

import subinterp.interpreters as interpreters

REFUSED = [
    ("os.fork", "import os; os.fork()", "RuntimeError", "fork not supported for isolated subinterpreters"),
    ("os.execv", "import os; os.execv('/bin/true', ['true'])", "RuntimeError",
     "exec not supported for isolated subinterpreters"),
    ("daemon thread", "import threading; threading.Thread(target=print, daemon=True).start()", "RuntimeError",
     "daemon threads are disabled"),
    ("signal handler", "import signal; signal.signal(signal.SIGUSR1, lambda *a: None)", "ValueError",
     "main thread of the main interpreter"),
    ("single-phase extension", "import _testsinglephase", "ImportError", "does not support loading in subinterpreters"),
    ("SystemExit", "import sys; sys.exit(3)", "SystemExit", "3"),
]

ALLOWED = [
    ("subprocess.run", "import subprocess; assert subprocess.run(['true']).returncode == 0"),
    ("os.system", "import os; assert os.system('true') == 0"),
    ("os.posix_spawn", "import os; pid = os.posix_spawn('/bin/true', ['true'], {}); os.waitpid(pid, 0)"),
    ("thread", "import threading; t = threading.Thread(target=lambda: None); t.start(); t.join()"),
    ("open", f"open({os.devnull!r}).read()"),
    ("socket", "import socket; socket.socket().close()"),
    ("os.kill of the process", "import os; os.kill(os.getpid(), 0)"),
]


@pytest.mark.parametrize("name, code, exc_type, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused(interp, name, code, exc_type, message):
    with pytest.raises(interpreters.ExecutionFailed) as failure:
        interp.exec(code)
    assert failure.value.excinfo.type.__name__ == exc_type
    assert message in str(failure.value)
    interp.exec("x = 1 + 1")   # still usable


@pytest.mark.parametrize("name, code", ALLOWED, ids=[a[0] for a in ALLOWED])
def test_allowed(interp, name, code):
    interp.exec(code)


def test_chdir_changes_the_whole_process(interp, tmp_path):
    before = os.getcwd()
    try:
        interp.exec(f"import os; os.chdir({str(tmp_path)!r})")
        assert os.getcwd() == str(tmp_path)
    finally:
        os.chdir(before)


def test_putenv_reaches_the_process_environment_not_other_interpreters(interp):
    name = f"SUBINTERP_ISOLATION_FACT_{os.getpid()}"
    try:
        interp.exec(f"import os; os.environ[{name!r}] = 'set-in-subinterpreter'")
        assert name not in os.environ   # this interpreter's copy is unchanged
        child = subprocess.run(["sh", "-c", f'printf %s "${name}"'], capture_output=True, text=True, check=True)
        assert child.stdout == "set-in-subinterpreter"   # but the process's environment changed
    finally:
        os.unsetenv(name)


@pytest.mark.skipif(sys.version_info < (3, 13), reason="_ctypes is single-phase on 3.12: refused")
def test_ctypes_imports_on_313(interp):
    interp.exec("import ctypes")


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="multi-phase on 3.13")
def test_ctypes_refused_on_312(interp):
    with pytest.raises(interpreters.ExecutionFailed, match="does not support loading in subinterpreters"):
        interp.exec("import ctypes")
