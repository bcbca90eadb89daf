# Type stubs for subinterp.pool (see pool.py).
import dataclasses
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any, Literal, Self, TypeVar

from .config import Config, _Preset
from .interpreters import InterpreterError as InterpreterError

__all__ = ["Pool", "PoolFuture", "PoolStats", "WorkerInfo", "check_imports", "ImportCheck"]

_T = TypeVar("_T")
_ConfigLike = Config | _Preset | str | dict[str, Any] | None
_Reason = Literal["ok", "no-per-interpreter-gil", "single-phase", "needs-shared-gil", "needs-legacy", "not-found",
                  "error"]

@dataclasses.dataclass(frozen=True)
class PoolStats:
    workers: int
    live_workers: int
    busy_workers: int
    queued: int
    submitted: int
    succeeded: int
    failed: int
    timed_out: int
    cancelled: int
    replaced: int

@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    index: int
    alive: bool
    interpreter_id: int
    busy: bool
    tasks: int
    failed: int
    replaced: int

@dataclasses.dataclass(frozen=True)
class ImportCheck:
    module: str
    ok: bool
    reason: _Reason
    needs: Literal["shared-gil", "legacy"] | None
    error: str | None

def check_imports(modules: str | Iterable[str], config: _ConfigLike = None) -> list[ImportCheck]: ...

class PoolFuture(Future[_T]):
    """A concurrent.futures.Future whose cancel() interrupts a running task (and returns True)."""
    def cancel(self) -> bool: ...
    def running(self) -> bool: ...
    def interrupt(self) -> bool:
        """Interrupt the task if it runs now, leaving the future to end with ExecutionCancelled."""
    def __del__(self) -> None: ...

class Pool:
    """A pool of warm worker interpreters (native worker threads)."""
    def __init__(
        self,
        workers: int | None = None,
        *,
        config: _ConfigLike = None,
        init: str | None = None,
        initializer: Callable[..., object] | str | None = None,
        initargs: tuple[Any, ...] = (),
        max_queued: int = 0,
        max_tasks_per_worker: int = 0,
        name: str | None = None,
    ) -> None: ...
    def __enter__(self) -> Self: ...
    def __exit__(self, *exc_info: object) -> Literal[False]: ...
    @property
    def max_workers(self) -> int: ...
    # `timeout` and `block` are the submission's own; the rest goes to fn.
    def submit(
        self, fn: Callable[..., _T] | str, /, *args: Any, timeout: float | None = None, block: bool = True,
        **kwargs: Any
    ) -> PoolFuture[_T]: ...
    def call(self, fn: Callable[..., _T] | str, /, *args: Any, timeout: float | None = None, **kwargs: Any) -> _T: ...
    def map(
        self, fn: Callable[..., _T] | str, /, *iterables: Iterable[Any], timeout: float | None = None,
        chunksize: int | None = None
    ) -> list[_T]: ...
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...
    def check(self) -> None: ...
    def stats(self) -> PoolStats: ...
    def workers(self) -> list[WorkerInfo]: ...
