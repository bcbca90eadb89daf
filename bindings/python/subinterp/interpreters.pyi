# Type stubs for subinterp.interpreters (see interpreters.py; Queue, the
# UNBOUND markers and the queue exceptions are the native `_subinterp`'s).
import concurrent.futures
import queue
import threading
import types
from collections.abc import Callable
from typing import Any, Final, Literal, ParamSpec, Self, TypeAlias, TypeVar, final

from .config import Config, _Preset

__all__ = [
    "get_current", "get_main", "create", "list_all", "is_shareable",
    "Interpreter",
    "InterpreterError", "InterpreterNotFoundError", "ExecutionFailed",
    "NotShareableError",
    "create_queue", "Queue", "QueueEmpty", "QueueFull",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Whence: TypeAlias = Literal["runtime init", "_interpreters module"]

# --- exceptions -------------------------------------------------------------

class InterpreterError(Exception):
    """A cross-interpreter operation failed."""

class InterpreterNotFoundError(InterpreterError):
    """An interpreter was not found (never existed, or was closed)."""

class InterpreterBusyError(InterpreterError):
    """The interpreter is running code, or has threads still alive."""

class InterpreterConfigError(InterpreterError, ValueError):
    """An interpreter configuration was rejected (the message names the field)."""

class _ExcType:
    """ExecutionFailed.excinfo.type: names the exception class (not the class itself)."""
    __name__: str
    __qualname__: str
    __module__: str

class _ExcInfo:
    """ExecutionFailed.excinfo (a types.SimpleNamespace at runtime)."""
    type: _ExcType
    msg: str
    formatted: str
    errdisplay: str

class ExecutionFailed(InterpreterError):
    """An unhandled exception happened during execution."""
    excinfo: _ExcInfo
    def __init__(self, excinfo: _ExcInfo) -> None: ...

class ExecutionTimeout(InterpreterError, TimeoutError):
    """A run passed its deadline (timeout=) and was interrupted; the interpreter
    stays usable. excinfo, when present, shows where the code was."""
    excinfo: _ExcInfo

class ExecutionCancelled(InterpreterError, concurrent.futures.CancelledError):
    """A run was interrupted (Interpreter.interrupt()) or its pool task cancelled."""
    excinfo: _ExcInfo

# Also raised by the C ABI's typemaps, with the failing status:
#   status: int, status_name: str (e.g. "SUBINTERP_ERR_NOT_FOUND")

class NotShareableError(TypeError, ValueError):
    """The object cannot be shared between interpreters."""

class _QueueError(RuntimeError):
    """`_subinterp.QueueError` (not exported here): a cross-interpreter queue failed."""

class QueueEmpty(_QueueError, queue.Empty):
    """Raised by get_nowait(), and by get() when it times out."""

class QueueFull(_QueueError, queue.Full):
    """Raised by put_nowait(), and by put() when it times out."""

# --- queues -----------------------------------------------------------------

@final
class _UnboundItem:
    """What happens to a queue item whose interpreter is destroyed
    (`_subinterp.UnboundItem`; only UNBOUND, UNBOUND_ERROR and UNBOUND_REMOVE exist)."""
    def __reduce__(self) -> str: ...

UNBOUND: Final[_UnboundItem]
UNBOUND_ERROR: Final[_UnboundItem]
UNBOUND_REMOVE: Final[_UnboundItem]

@final
class Queue:
    """A cross-interpreter queue (`_subinterp.Queue`), shared with C, Rust and
    Go hosts of the process. Queue(id) gives the live queue with that id."""
    def __new__(cls, id: int) -> Self: ...
    @property
    def id(self) -> int: ...
    @property
    def maxsize(self) -> int:
        """The most items the queue holds (0: unbounded)."""
    @property
    def unbounditems(self) -> _UnboundItem:
        """The queue's default for put(unbounditems=...)."""
    @property
    def closed(self) -> bool:
        """True once close() was called."""
    def put(
        self, obj: object, block: bool = True, timeout: float | None = None, *,
        unbounditems: _UnboundItem | None = None,
    ) -> None:
        """Add obj to the queue, waiting (up to timeout seconds) while it is
        full. Raises QueueFull on time-out, QueueClosedError once closed."""
    def put_nowait(self, obj: object, *, unbounditems: _UnboundItem | None = None) -> None: ...
    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        """Remove and return an item, waiting (up to timeout seconds) while the
        queue is empty; raises QueueEmpty on time-out. An item whose
        interpreter was destroyed comes back as UNBOUND (or raises
        ItemInterpreterDestroyed, or is skipped), as put() asked."""
    def get_nowait(self) -> Any: ...
    def qsize(self) -> int: ...
    def empty(self) -> bool: ...
    def full(self) -> bool: ...
    def close(self) -> None:
        """Refuse further put()s; get() drains what is left."""
    def __hash__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __reduce__(self) -> tuple[type[Queue], tuple[int]]: ...

def create_queue(maxsize: int = 0, *, unbounditems: _UnboundItem = ...) -> Queue:
    """Return a new cross-interpreter queue."""

# --- interpreters -----------------------------------------------------------

def is_shareable(obj: object) -> bool: ...
def create(config: Config | _Preset | str | dict[str, Any] | None = None) -> Interpreter:
    """Return a new (idle) Python interpreter (default config: isolated, own GIL)."""
def list_all() -> list[Interpreter]: ...
def get_current() -> Interpreter: ...
def get_main() -> Interpreter: ...

class Interpreter:
    """A single Python interpreter."""
    def __new__(cls, id: int, /, _whence: _Whence | None = None, _ownsref: bool | None = None) -> Self: ...
    def __hash__(self) -> int: ...
    def __del__(self) -> None: ...
    def __reduce__(self) -> tuple[type[Self], tuple[int]]: ...
    @property
    def id(self) -> int: ...
    @property
    def whence(self) -> _Whence: ...
    @property
    def config(self) -> Config: ...
    def is_running(self) -> bool: ...
    def close(self) -> None: ...
    def prepare_main(self, ns: dict[str, Any] | None = None, /, **kwargs: Any) -> None: ...
    def exec(self, code: str | types.CodeType | Callable[[], object], /, *, timeout: float | None = None) -> None:
        """Run code in the interpreter's __main__; timeout: a deadline in seconds
        (ExecutionTimeout past it)."""
    # `timeout` (keyword-only, the call's deadline) is not passed to the callable,
    # so the signature cannot be a ParamSpec's.
    def call(self, callable: Callable[..., _R], /, *args: Any, timeout: float | None = None, **kwargs: Any) -> _R: ...
    def interrupt(self) -> int:
        """Interrupt the runs in the interpreter now (ExecutionCancelled for
        them); how many were interrupted."""
    def call_in_thread(
        self, callable: Callable[_P, object], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> threading.Thread: ...
