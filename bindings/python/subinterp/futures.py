"""InterpreterPoolExecutor: Python 3.14's ``concurrent.futures.InterpreterPoolExecutor``
for 3.12 and 3.13.

Each worker is a thread that owns one isolated interpreter (own GIL), so
CPU-bound pure-Python tasks run in parallel. As in 3.14:

- ``submit(fn, *args, **kwargs)`` and ``map()`` take callables, not scripts;
  functions go by name, or by code if they have no closure, else by pickle;
  arguments and results are shared or pickled;
- an exception raised by a task is re-raised as itself when it can be pickled,
  with ``__cause__`` set to an ExecutionFailed summarizing it (else the
  ExecutionFailed is raised);
- an ``initializer`` that fails breaks the pool: pending and later
  submissions raise BrokenInterpreterPool.

Beyond 3.14: ``config=`` chooses the workers' interpreter config.
"""
import itertools
import os
import pickle
import queue
import threading
import weakref
from concurrent.futures import _base
from concurrent.futures.thread import BrokenThreadPool, ThreadPoolExecutor

from . import _shipping
from ._errors import ExecutionFailed, exception_info
from .config import Config

__all__ = ["InterpreterPoolExecutor", "BrokenInterpreterPool", "ExecutionFailed"]


class BrokenInterpreterPool(BrokenThreadPool):
    """Raised when a worker's initializer failed."""


_RUN_TASK = f"{_shipping.REMOTE}:run_task"
_STOP = None


class _Worker:
    """One thread and the interpreter it owns."""

    def __init__(self, executor, config, initializer):
        # An executor dropped without shutdown() stops its workers (as
        # ThreadPoolExecutor's do), else they would block interpreter exit.
        self._work = work = executor._work
        self._executor_ref = weakref.ref(executor, lambda _: work.put(_STOP))
        self._config = config
        self._initializer = initializer
        self.thread = threading.Thread(target=self._run, name=executor._next_thread_name(), daemon=False)

    def _run(self):
        from . import interpreters
        work = self._work
        try:
            interp = interpreters.create(self._config)
        except BaseException as exc:
            self._broken(f"a worker could not create its interpreter: {exc!r}", exc)
            return
        try:
            if self._initializer is not None:
                try:
                    run_task(interp, self._initializer)
                except BaseException as exc:
                    self._broken(f"an initializer failed: {exc!r}", exc)
                    return
            while True:
                item = work.get()
                if item is _STOP:
                    work.put(_STOP)  # wake the next worker too
                    return
                future, task = item
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    result = run_task(interp, task)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
                del future, task, item
        finally:
            interp.close()

    def _broken(self, reason, cause):
        executor = self._executor_ref()
        if executor is not None:
            executor._set_broken(reason, cause)


def run_task(interp, task):
    """Runs (name, leading, args, kwargs) in `interp`, raising as 3.14 does."""
    from ._native import control
    ok, value = control("InterpreterPoolExecutor").call(interp.id, _RUN_TASK, task, None, 0)
    if ok:
        return value
    pickled, (module, qualname, message, errdisplay) = value
    failed = ExecutionFailed(exception_info(module, qualname, message, errdisplay))
    if pickled is not None:
        try:
            exc = pickle.loads(pickled)
        except Exception:
            raise failed from None
        exc.__cause__ = failed
        raise exc
    raise failed


def _task(fn, args, kwargs):
    if isinstance(fn, str):
        raise TypeError("scripts are not supported; submit a callable")
    name, leading = _shipping.plan_call(fn)
    return (name, leading, tuple(args), dict(kwargs))


_live_executors = weakref.WeakSet()


def _stop_workers_at_exit():
    # Like ThreadPoolExecutor: let workers finish queued work and exit before
    # threading joins them, instead of blocking interpreter exit forever.
    for executor in list(_live_executors):
        executor._work.put(_STOP)


threading._register_atexit(_stop_workers_at_exit)


class InterpreterPoolExecutor(ThreadPoolExecutor):
    """An executor whose workers are threads each running an isolated interpreter.

    A ThreadPoolExecutor as in 3.14 (so asyncio's set_default_executor takes it),
    though it overrides every method it uses: ThreadPoolExecutor.__init__ never runs."""

    _counter = itertools.count().__next__

    def __init__(self, max_workers=None, thread_name_prefix='', initializer=None, initargs=(), *, config=None):
        """max_workers: the most interpreters used (default: os.cpu_count(), at most 32, as 3.14);
        thread_name_prefix: prefix of the worker threads' names;
        initializer, initargs: a callable run once in each worker's interpreter;
        config: the workers' subinterp.Config (default isolated)."""
        if max_workers is None:
            max_workers = min(32, (os.process_cpu_count() if hasattr(os, "process_cpu_count") else os.cpu_count()) or 1)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._max_workers = max_workers
        self._thread_name_prefix = thread_name_prefix or f"InterpreterPoolExecutor-{self._counter()}"
        self._thread_numbers = itertools.count()
        self._initializer = _task(initializer, initargs, {}) if initializer is not None else None
        self._config = Config.coerce(config)
        self._work = queue.SimpleQueue()
        self._workers = []
        self._lock = threading.Lock()
        self._shutdown = False
        self._broken = None
        _live_executors.add(self)

    def _next_thread_name(self):
        return f"{self._thread_name_prefix}_{next(self._thread_numbers)}"

    def submit(self, fn, /, *args, **kwargs):
        task = _task(fn, args, kwargs)
        with self._lock:
            if self._broken:
                raise BrokenInterpreterPool(self._broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            future = _base.Future()
            self._work.put((future, task))
            self._adjust_workers()
            return future

    submit.__doc__ = _base.Executor.submit.__doc__

    def _adjust_workers(self):
        # One more worker per submission until max_workers, unless a worker took
        # the task already; an idle worker that has not reached get() yet does
        # not count, so the pool may grow while one is idle.
        if len(self._workers) < self._max_workers and self._work.qsize() > 0:
            worker = _Worker(self, self._config, self._initializer)
            self._workers.append(worker)
            worker.thread.start()

    def _set_broken(self, reason, cause):
        with self._lock:
            self._broken = reason
            for future in self._take_pending():
                if future.set_running_or_notify_cancel():
                    error = BrokenInterpreterPool(reason)
                    error.__cause__ = cause
                    future.set_exception(error)

    def _take_pending(self):
        """Removes the futures still queued and returns them; a stop marker
        found on the way ends the sweep and stays queued for the workers."""
        pending = []
        while True:
            try:
                item = self._work.get_nowait()
            except queue.Empty:
                return pending
            if item is _STOP:
                self._work.put(_STOP)
                return pending
            pending.append(item[0])

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._lock:
            self._shutdown = True
            if cancel_futures:
                for future in self._take_pending():
                    future.cancel()
            self._work.put(_STOP)
        if wait:
            for worker in list(self._workers):
                worker.thread.join()

    shutdown.__doc__ = _base.Executor.shutdown.__doc__
