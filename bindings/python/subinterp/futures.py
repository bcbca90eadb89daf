"""InterpreterPoolExecutor: Python 3.14's ``concurrent.futures.InterpreterPoolExecutor``
for 3.12 and 3.13.

Each worker owns one isolated interpreter (own GIL), so CPU-bound pure-Python
tasks run in parallel. As in 3.14:

- ``submit(fn, *args, **kwargs)`` and ``map()`` take callables, not scripts;
  functions go by name, or by code if they have no closure, else by pickle;
  arguments and results are shared or pickled;
- an exception raised by a task is re-raised as itself when it can be pickled,
  with ``__cause__`` set to an ExecutionFailed summarizing it (else the
  ExecutionFailed is raised);
- an ``initializer`` that fails breaks the pool: pending and later
  submissions raise BrokenInterpreterPool;
- ``cancel()`` of a running future returns False and leaves the task running.

Unlike 3.14, the workers are the C library's pool (``subinterp.pool.Pool``):
native threads, each with its interpreter kept warm, fed from a C queue; no
Python thread per worker. The pool starts with the first submission.
``thread_name_prefix`` names the executor's one Python thread, which settles
futures as tasks complete.

Beyond 3.14 (keyword-only): ``config=`` chooses the workers' interpreter
config; ``task_timeout=`` gives every task a deadline (a task past it is
interrupted and its future fails with ExecutionTimeout, a TimeoutError);
``max_queued=`` bounds the tasks waiting for a worker (``submit()`` then
blocks until there is room: back-pressure).
"""
import itertools
import os
import pickle
import threading
import weakref
from concurrent.futures import _base
from concurrent.futures.thread import BrokenThreadPool, ThreadPoolExecutor

from . import _shipping
from ._errors import ExecutionCancelled, ExecutionFailed, QueueClosedError, exception_info
from .config import Config
from .pool import Pool, PoolFuture

__all__ = ["InterpreterPoolExecutor", "BrokenInterpreterPool", "ExecutionFailed"]


class BrokenInterpreterPool(BrokenThreadPool):
    """Raised when a worker's initializer failed."""


_RUN_TASK = f"{_shipping.REMOTE}:run_task"
_RUN_INITIALIZER = f"{_shipping.REMOTE}:run_initializer"
_RUNTIME_STATUS = 6  # SUBINTERP_ERR_RUNTIME: the pool has no worker left


def _reraise(description):
    """The exception a task's (pickled, info) description stands for: the
    exception itself with an ExecutionFailed as its cause, else the ExecutionFailed."""
    pickled, (module, qualname, message, errdisplay) = description
    failed = ExecutionFailed(exception_info(module, qualname, message, errdisplay))
    if pickled is not None:
        try:
            exc = pickle.loads(pickled)
        except Exception:
            return failed
        exc.__cause__ = failed
        return exc
    return failed


def run_task(interp, task):
    """Runs (name, leading, args, kwargs) in `interp`, raising as 3.14 does."""
    from ._native import control
    ok, value = control("InterpreterPoolExecutor").call(interp.id, _RUN_TASK, task, None, 0)
    if ok:
        return value
    raise _reraise(value)


def _task(fn, args, kwargs):
    if isinstance(fn, str):
        raise TypeError("scripts are not supported; submit a callable")
    name, leading = _shipping.plan_call(fn)
    return (name, leading, tuple(args), dict(kwargs))


class _Broken:
    """Whether (and why) an executor is broken; shared with its futures."""

    def __init__(self):
        self.reason = None
        self.cause = None
        self.pool = None  # weakref to the Pool, to cancel its queued tasks
        self.lock = threading.Lock()

    def error(self):
        error = BrokenInterpreterPool(self.reason)
        error.__cause__ = self.cause
        return error

    def set(self, reason, cause):
        with self.lock:
            if self.reason is not None:
                return
            self.reason, self.cause = reason, cause
        pool = self.pool() if self.pool is not None else None
        if pool is not None:
            pool._close(wait=False, cancel=True)  # queued tasks end as BrokenInterpreterPool


class _Future(PoolFuture):
    """An executor's future: a concurrent.futures.Future whose cancel()
    leaves a running task running, as 3.14's."""

    _cancel_interrupts = False

    def __init__(self, broken):
        super().__init__()
        self._broken = broken

    def _unwrap(self, value):
        ok, payload = value
        if ok:
            return payload
        if ok is None:  # the worker's initializer failed
            cause = _reraise(payload)
            self._broken.set(f"an initializer failed: {cause!r}", cause)
            raise self._broken.error()
        raise _reraise(payload)

    def _failure(self, exc):
        if self._broken.reason is not None and isinstance(exc, ExecutionCancelled):
            return self._broken.error()
        if getattr(exc, "status", None) == _RUNTIME_STATUS:
            error = BrokenInterpreterPool(str(exc))
            error.__cause__ = exc
            return error
        return exc


class InterpreterPoolExecutor(ThreadPoolExecutor):
    """An executor whose workers each run an isolated interpreter.

    A ThreadPoolExecutor as in 3.14 (so asyncio's set_default_executor takes it),
    though it overrides every method it uses: ThreadPoolExecutor.__init__ never runs."""

    _counter = itertools.count().__next__

    def __init__(self, max_workers=None, thread_name_prefix='', initializer=None, initargs=(), *, config=None,
                 task_timeout=None, max_queued=0):
        """max_workers: the number of interpreters (default: os.cpu_count(), at most 32, as 3.14);
        thread_name_prefix: prefix of the name of the executor's completion thread;
        initializer, initargs: a callable run once in each worker's interpreter;
        config: the workers' subinterp.Config (default isolated);
        task_timeout: every task's deadline in seconds (None: none);
        max_queued: most tasks waiting for a worker before submit() blocks (0: no limit)."""
        if max_workers is None:
            max_workers = min(32, (os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()) or 1)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        if task_timeout is not None and not task_timeout > 0:
            raise ValueError("task_timeout must be a positive number of seconds or None")
        if max_queued < 0:
            raise ValueError("max_queued must be >= 0")
        self._max_workers = max_workers
        self._thread_name_prefix = thread_name_prefix or f"InterpreterPoolExecutor-{self._counter()}"
        self._initializer = _task(initializer, initargs, {}) if initializer is not None else None
        self._config = Config.coerce(config)
        self._task_timeout = task_timeout
        self._max_queued = max_queued
        self._pool = None
        self._lock = threading.Lock()
        self._shutdown = False
        self._broken_state = _Broken()

    @property
    def _broken(self):
        return self._broken_state.reason

    def _start_pool(self):
        """Starts the workers (on the first submission): the Pool, or an exception."""
        init = {}
        if self._initializer is not None:
            name, leading, args, _ = self._initializer
            init = {"initializer": _RUN_INITIALIZER, "initargs": (name, leading, args)}
        try:
            pool = Pool(self._max_workers, config=self._config, max_queued=self._max_queued,
                        name=self._thread_name_prefix, **init)
        except Exception as exc:
            return exc
        self._broken_state.pool = weakref.ref(pool)
        return pool

    def submit(self, fn, /, *args, **kwargs):
        task = _task(fn, args, kwargs)
        Future = _Future
        with self._lock:
            if self._broken_state.reason:
                raise self._broken_state.error()
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._pool is None:
                started = self._start_pool()
                if isinstance(started, BaseException):
                    # 3.14 accepts the submission and breaks as the worker starts.
                    self._broken_state.set(f"a worker could not start: {started!r}", started)
                    future = Future(self._broken_state)
                    future.set_exception(self._broken_state.error())
                    return future
                self._pool = started
            pool = self._pool
        try:
            return pool._submit(Future(self._broken_state), _RUN_TASK, task, None, self._task_timeout, True)
        except QueueClosedError:
            if self._broken_state.reason:
                raise self._broken_state.error() from None
            raise RuntimeError("cannot schedule new futures after shutdown") from None

    submit.__doc__ = _base.Executor.submit.__doc__

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            self._shutdown = True
            pool = self._pool
        if pool is not None:
            pool.shutdown(wait, cancel_futures=cancel_futures)

    shutdown.__doc__ = _base.Executor.shutdown.__doc__
