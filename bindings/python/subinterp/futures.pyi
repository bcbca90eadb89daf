# Type stubs for subinterp.futures (see futures.py).
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.thread import BrokenThreadPool, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar, TypeVarTuple, Unpack, overload

from .config import Config, _Preset
from .interpreters import ExecutionFailed as ExecutionFailed, Interpreter
from .pool import PoolFuture

__all__ = ["InterpreterPoolExecutor", "BrokenInterpreterPool", "ExecutionFailed"]

_P = ParamSpec("_P")
_T = TypeVar("_T")
_Ts = TypeVarTuple("_Ts")
_ConfigLike = Config | _Preset | str | dict[str, Any] | None

class BrokenInterpreterPool(BrokenThreadPool):
    """Raised when a worker's initializer failed."""

def run_task(interp: Interpreter, task: tuple[str, tuple[Any, ...], tuple[Any, ...], dict[str, Any]]) -> Any: ...

class InterpreterPoolExecutor(ThreadPoolExecutor):
    """An executor whose workers are threads each running an isolated interpreter
    (a ThreadPoolExecutor, as in 3.14)."""
    @overload
    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        initializer: Callable[[], object] | None = None,
        initargs: tuple[()] = (),
        *,
        config: _ConfigLike = None,
        task_timeout: float | None = None,
        max_queued: int = 0,
    ) -> None: ...
    @overload
    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        *,
        initializer: Callable[[Unpack[_Ts]], object],
        initargs: tuple[Unpack[_Ts]],
        config: _ConfigLike = None,
        task_timeout: float | None = None,
        max_queued: int = 0,
    ) -> None: ...
    @overload
    def __init__(
        self,
        max_workers: int | None,
        thread_name_prefix: str,
        initializer: Callable[[Unpack[_Ts]], object],
        initargs: tuple[Unpack[_Ts]],
        *,
        config: _ConfigLike = None,
        task_timeout: float | None = None,
        max_queued: int = 0,
    ) -> None: ...
    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> PoolFuture[_T]:
        """A PoolFuture whose cancel() leaves a running task running, as 3.14's
        (use its interrupt() to stop one)."""
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...
