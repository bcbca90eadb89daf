"""The exceptions of the binding, and the one mapping from the C ABI's status
codes to them (used by the SWIG control plane's typemaps).

The names of Python 3.14's ``concurrent.interpreters`` come first; the data
plane's own (queues, NotShareableError) are the ``_subinterp`` classes, so one
``except`` catches what any interpreter raises.
"""
import concurrent.futures
import types

from ._native import data_plane as _dp

NotShareableError = _dp.NotShareableError
QueueError = _dp.QueueError
QueueNotFoundError = _dp.QueueNotFoundError
QueueEmpty = _dp.QueueEmpty
QueueFull = _dp.QueueFull
QueueClosedError = _dp.QueueClosedError
ItemInterpreterDestroyed = _dp.ItemInterpreterDestroyed


class InterpreterError(Exception):
    """A cross-interpreter operation failed."""


class InterpreterNotFoundError(InterpreterError):
    """An interpreter was not found (never existed, or was closed)."""


class InterpreterBusyError(InterpreterError):
    """The interpreter is running code, or has threads still alive."""


class InterpreterConfigError(InterpreterError, ValueError):
    """An interpreter configuration was rejected (the message names the field)."""


class ExecutionTimeout(InterpreterError, TimeoutError):
    """A run passed its deadline (``timeout=``) and was interrupted.

    The interpreter stays usable. ``excinfo`` (when present) describes the
    exception the code was interrupted with and ``excinfo.errdisplay`` shows
    where the code was.
    """


class ExecutionCancelled(InterpreterError, concurrent.futures.CancelledError):
    """A run was interrupted (``Interpreter.interrupt()``) or its task cancelled
    (``PoolFuture.cancel()``, pool shutdown with cancellation).

    A ``concurrent.futures.CancelledError``. The interpreter stays usable.
    """


_EXEC_FAILURE_STR = """
{superstr}

Uncaught in the interpreter:

{formatted}
""".strip()


class ExecutionFailed(InterpreterError):
    """An unhandled exception happened during execution.

    This is raised from Interpreter.exec() and Interpreter.call(). ``excinfo``
    describes the exception: ``type`` (with ``__name__``, ``__qualname__`` and
    ``__module__``), ``msg``, ``formatted`` and ``errdisplay`` (the traceback).
    """

    def __init__(self, excinfo):
        msg = excinfo.formatted
        if not msg:
            if excinfo.type and excinfo.msg:
                msg = f'{excinfo.type.__name__}: {excinfo.msg}'
            else:
                msg = excinfo.type.__name__ or excinfo.msg
        super().__init__(msg)
        self.excinfo = excinfo

    def __str__(self):
        try:
            formatted = self.excinfo.errdisplay
        except Exception:
            return super().__str__()
        else:
            return _EXEC_FAILURE_STR.format(superstr=super().__str__(), formatted=formatted)


def exception_info(module, qualname, msg, errdisplay):
    """An ExecutionFailed.excinfo like 3.14's, from an exception's parts."""
    name = qualname.rpartition(".")[2]
    shown = qualname if module in ("builtins", "__main__") else f"{module}.{qualname}"
    exc_type = types.SimpleNamespace(__name__=name, __qualname__=qualname, __module__=module)
    formatted = f"{shown}: {msg}" if msg else shown
    return types.SimpleNamespace(type=exc_type, msg=msg, formatted=formatted, errdisplay=errdisplay)


# Shown and pickled under the public module, as 3.14's are under concurrent.interpreters.
for _cls in (InterpreterError, InterpreterNotFoundError, InterpreterBusyError, InterpreterConfigError,
             ExecutionFailed, ExecutionTimeout, ExecutionCancelled):
    _cls.__module__ = "subinterp.interpreters"
del _cls

# Status code -> exception class; SUBINTERP_ERR_PYTHON (4) is ExecutionFailed.
_BY_STATUS = {
    1: ValueError,                  # INVALID_ARGUMENT
    2: InterpreterNotFoundError,    # NOT_FOUND
    3: InterpreterBusyError,        # BUSY
    5: InterpreterConfigError,      # CONFIG
    6: InterpreterError,            # RUNTIME
    7: TypeError,                   # TYPE
    8: OverflowError,               # OVERFLOW
    9: NotShareableError,           # NOT_SHAREABLE
    10: IndexError,                 # INDEX
    11: MemoryError,                # NO_MEMORY
    12: ExecutionTimeout,           # TIMEOUT (a TimeoutError)
    13: QueueEmpty,                 # QUEUE_EMPTY
    14: QueueFull,                  # QUEUE_FULL
    15: QueueClosedError,           # CLOSED
    16: ExecutionCancelled,         # CANCELLED (a concurrent.futures.CancelledError)
    17: ItemInterpreterDestroyed,   # UNBOUND
    99: SystemError,                # INTERNAL
}
PYTHON_STATUS = 4


def exception_for(status, status_name, message, exc_module=None, exc_qualname=None, traceback=None):
    """The exception for a failed C ABI call. Carries ``status`` (the code) and
    ``status_name`` (e.g. "SUBINTERP_ERR_NOT_FOUND")."""
    if status == PYTHON_STATUS:
        exc = ExecutionFailed(exception_info(exc_module or "builtins", exc_qualname or "Exception",
                                             message, traceback or ""))
    else:
        exc = _BY_STATUS.get(status, InterpreterError)(message)
        if exc_qualname:
            # A run interrupted by a deadline or a cancel: the exception it
            # was stopped with, and where.
            try:
                exc.excinfo = exception_info(exc_module or "builtins", exc_qualname, message, traceback or "")
            except AttributeError:  # a class without __dict__
                pass
    exc.status = status
    exc.status_name = status_name
    return exc
