"""Pools of warm worker interpreters: the C library's ``subinterp_pool``.

A :class:`Pool` is N workers, each a native OS thread that owns one isolated
interpreter, created once and kept warm. Tasks go to a FIFO queue; an idle
worker takes the oldest. The workers are not Python threads: the pool costs
the calling interpreter no GIL while tasks run, and the per-task overhead is
that of the C library plus one Python completion thread per pool.

    from subinterp.pool import Pool

    with Pool(2) as pool:
        future = pool.submit(math.factorial, 1000, timeout=5.0)
        print(pool.map(operator.add, range(10), range(10)))
        print(future.result())

Callables travel as everywhere in subinterp: by ``module:qualname`` when
importable, by code when a function has no closure, else pickled. Arguments
and results are portable data or pickled.

Futures are :class:`concurrent.futures.Future` objects (``wait()``,
``as_completed()`` and ``asyncio.wrap_future()`` take them), with one
difference: ``cancel()`` of a *running* task interrupts it (the task gets
``subinterp.Interrupted`` raised in its code) and returns True; the future is
then cancelled at once, whatever the task does next.

Completion never runs Python on a worker thread: the library calls a C
function that puts the future's tag into a subinterp queue, and the pool's
completion thread (a Python thread that waits on that queue with the GIL
released) settles the Python future.
"""
import dataclasses
import itertools
import sys
import threading
import time
import weakref
from concurrent.futures import _base

from . import _native, _shipping
from ._errors import ExecutionCancelled, InterpreterError, QueueFull
from ._native import control as _control, data_plane as _dp
from .config import Config
from .interpreters import _run_options

__all__ = ["Pool", "PoolFuture", "PoolStats", "WorkerInfo", "check_imports", "ImportCheck"]

_STOP = 0          # completion tag that stops a completion thread (real tags start at 1)
_SLICE = 0.1       # seconds a blocking wait in C lasts before Python checks for signals


@dataclasses.dataclass(frozen=True)
class PoolStats:
    """Counters of a pool (``subinterp_pool_stats``)."""
    workers: int        #: workers asked for
    live_workers: int   #: workers with a usable interpreter
    busy_workers: int   #: workers running a task now
    queued: int         #: tasks waiting for a worker
    submitted: int      #: tasks accepted
    succeeded: int      #: tasks that returned a result
    failed: int         #: tasks that failed, timed out included
    timed_out: int      #: tasks interrupted by their deadline
    cancelled: int      #: tasks cancelled, before or while running
    replaced: int       #: worker interpreters replaced by fresh ones


@dataclasses.dataclass(frozen=True)
class WorkerInfo:
    """One worker of a pool (``subinterp_pool_worker``)."""
    index: int
    alive: bool          #: has a usable interpreter
    interpreter_id: int  #: its interpreter's id; -1 while it has none
    busy: bool           #: runs a task now
    tasks: int           #: tasks it ran, over all its interpreters
    failed: int          #: how many of them failed
    replaced: int        #: how many times its interpreter was replaced


@dataclasses.dataclass(frozen=True)
class ImportCheck:
    """Whether a module imports under a config (``subinterp_check_imports``)."""
    module: str
    ok: bool
    #: "ok", "no-per-interpreter-gil", "single-phase", "needs-shared-gil",
    #: "needs-legacy", "not-found" or "error"
    reason: str
    #: "shared-gil" or "legacy" when another config imports it, else None
    needs: str | None
    #: the exception under the config, as "Type: message", or None
    error: str | None


def check_imports(modules, config=None):
    """Which of `modules` import in an interpreter made with `config` (default
    isolated), and why the others do not: a list of :class:`ImportCheck`, one
    per module, in order. Each module is imported in a fresh interpreter (and
    retried in shared-GIL and legacy ones to tell the reasons apart), so only
    check modules you would import anyway. On 3.12, do not check ``_asyncio``
    or ``ssl`` (a CPython bug crashes the process at exit)."""
    if isinstance(modules, str):
        modules = [modules]
    report = _control("check_imports()").check_imports(Config.coerce(config), list(modules))
    return [ImportCheck(**entry) for entry in report]


def _plan(fn, what="callable"):
    if isinstance(fn, str):
        if ":" in fn:
            return fn, ()  # "module:qualname", as the C ABI takes it
        raise TypeError(f"a {what} as a str must be 'module:qualname'; submit a callable or that name")
    return _shipping.plan_call(fn)


class PoolFuture(_base.Future):
    """A :class:`concurrent.futures.Future` for a pool task.

    As the standard one, except:

    - ``cancel()`` of a running task interrupts it and returns True (the
      standard one returns False): the future is cancelled at once and
      whatever the task does afterwards is discarded;
    - ``running()`` asks the library (the future never enters the RUNNING
      state of ``concurrent.futures``, which would forbid that cancel);
    - ``interrupt()`` interrupts the task if it runs, without cancelling the
      future: its result is then the ExecutionCancelled the run fails with
      (unless the task catches the interrupt and returns).
    """

    _cancel_interrupts = True

    def __init__(self):
        super().__init__()
        self._handle = None
        self._settled = False

    def __del__(self):
        handle, self._handle = self._handle, None
        if handle is not None and not _native.finalized:
            try:
                _control("PoolFuture").future_free(handle)
            except Exception:
                pass

    def _c_state(self):
        handle = self._handle
        if handle is None:
            return None
        return _control("PoolFuture").future_get_state(handle)

    def running(self):
        with self._condition:
            if self._state != _base.PENDING:
                return False
        capi = _control("PoolFuture")
        return self._c_state() == capi.SUBINTERP_FUTURE_RUNNING

    def cancel(self):
        """Cancel the task: a queued one never runs; a running one is
        interrupted (pool futures only; an InterpreterPoolExecutor's leaves it
        running, as 3.14's). True if the future is now cancelled."""
        with self._condition:
            if self._state in (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED):
                return True
            if self._state == _base.FINISHED or self._handle is None:
                return False
            handle = self._handle
        capi = _control("PoolFuture.cancel()")
        if not self._cancel_interrupts and capi.future_get_state(handle) != capi.SUBINTERP_FUTURE_PENDING:
            return False
        if not capi.future_cancel(handle):
            return False  # finished already: the completion thread sets its outcome
        self._mark_cancelled()
        return True

    def interrupt(self):
        """Interrupt the task if it is running now; True if it was."""
        handle = self._handle
        capi = _control("PoolFuture.interrupt()")
        if handle is None or capi.future_get_state(handle) != capi.SUBINTERP_FUTURE_RUNNING:
            return False
        # future_cancel of a running task interrupts it; the future is left to
        # end with the task's outcome (ExecutionCancelled unless it returns).
        return bool(capi.future_cancel(handle))

    def _mark_cancelled(self):
        if _base.Future.cancel(self):
            with self._condition:
                if self._state == _base.CANCELLED:
                    self.set_running_or_notify_cancel()  # wakes wait()/as_completed()

    def _unwrap(self, value):
        """The result for the task's return value (raise to fail instead)."""
        return value

    def _failure(self, exc):
        """The exception to set for the task's error."""
        return exc

    def _settle(self):
        """Sets the outcome once the library's future is done (idempotent)."""
        with self._condition:
            if self._settled or self._handle is None:
                return
            self._settled = True
            handle = self._handle
            if self._state != _base.PENDING:
                return  # cancelled from Python already
        capi = _control("PoolFuture")
        try:
            value = capi.future_outcome(handle, 0)
        except BaseException as exc:  # noqa: B036 -- the task's error
            if isinstance(exc, ExecutionCancelled) and capi.future_get_state(handle) == capi.SUBINTERP_FUTURE_CANCELLED:
                failure = self._failure(exc)
                if failure is exc:
                    self._mark_cancelled()  # never ran: a cancelled future, as concurrent.futures has it
                    return
                self._set(exception=failure)
                return
            self._set(exception=self._failure(exc))
            return
        try:
            result = self._unwrap(value)
        except BaseException as exc:  # noqa: B036
            self._set(exception=exc)
        else:
            self._set(result=result)

    def _set(self, result=None, exception=None):
        try:
            if exception is not None:
                self.set_exception(exception)
            else:
                self.set_result(result)
        except _base.InvalidStateError:
            pass  # cancelled meanwhile


class _Completions:
    """The completion thread of one C pool: waits on a subinterp queue (GIL
    released) for the tags the library's C callback puts there and settles
    the matching Python futures. Stops once asked to and every outstanding
    future has settled, after reaping the pool's workers."""

    def __init__(self, handle, name):
        self.handle = handle
        self.state = None  # the _PoolState, set by the Pool
        self.queue = _dp.create_queue()
        self.pending = {}
        self._tags = itertools.count(1).__next__
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=False)
        self.thread.start()

    def track(self, future):
        tag = self._tags()
        self.pending[tag] = future
        return tag

    def forget(self, tag):
        self.pending.pop(tag, None)

    def stop(self):
        if not self._stopping:
            self._stopping = True
            self.queue.put(_STOP)

    def settle_done(self):
        """Settles, on this thread, every outstanding future the library says
        is done (after a shutdown that cancelled the queued ones)."""
        capi = _control("Pool")
        for future in list(self.pending.values()):
            state = future._c_state()
            if state in (capi.SUBINTERP_FUTURE_FINISHED, capi.SUBINTERP_FUTURE_CANCELLED):
                future._settle()

    def _run(self):
        queue, pending = self.queue, self.pending
        stopping = False
        while not (stopping and not pending):
            tags = [queue.get()]
            while True:  # drain without blocking: one wake-up settles a batch
                try:
                    tags.append(queue.get_nowait())
                except Exception:
                    break
            for tag in tags:
                if tag == _STOP:
                    stopping = True
                    continue
                future = pending.pop(tag, None)
                if future is not None:
                    try:
                        future._settle()
                    except BaseException as exc:  # noqa: B036 -- never lose the thread
                        print(f"subinterp: settling a pool future failed: {exc!r}", file=sys.stderr)
                del future
        # Every task has ended: reap the workers (their interpreters are gone
        # once this returns), so the process can exit cleanly.
        if not _native.finalized:
            try:
                _control("Pool").pool_shutdown(self.handle, 1, 0)
            except Exception:
                pass
        if self.state is not None:
            self.state.release()


_live_pools = weakref.WeakSet()


def _stop_pools_at_exit():
    # Like ThreadPoolExecutor at exit: queued tasks finish, then the
    # completion threads (non-daemon, so threading joins them) reap the workers.
    for pool in list(_live_pools):
        pool._close(wait=False, cancel=False)


threading._register_atexit(_stop_pools_at_exit)


def _free_pool(state):
    """weakref.finalize of a Pool: stops accepting work and lets queued work
    finish (as shutdown(wait=False)); the completion thread reaps the workers;
    the handle is freed once both are done with it."""
    try:
        state.close(wait=False, cancel=False)
    finally:
        state.release()


class _PoolState:
    """What a Pool's finalizer and completion thread need (not the Pool)."""

    def __init__(self, handle, completions):
        self.handle = handle
        self.completions = completions
        self.closed = False
        self.lock = threading.Lock()
        self.users = 2  # the Pool object and the completion thread

    def release(self):
        """One user is done with the handle; the last frees it."""
        with self.lock:
            self.users -= 1
            last = self.users == 0
        if last and not _native.finalized:
            _control("Pool").pool_free(self.handle)

    def close(self, wait, cancel):
        if _native.finalized:
            return
        capi = _control("Pool.shutdown()")
        with self.lock:
            self.closed = True
        on_completion_thread = threading.current_thread() is self.completions.thread
        capi.pool_shutdown(self.handle, 0, 1 if cancel else 0)
        if cancel:
            self.completions.settle_done()
        self.completions.stop()
        if wait and not on_completion_thread:
            capi.pool_shutdown(self.handle, 1, 0)
            self.completions.thread.join()


class Pool:
    """A pool of warm worker interpreters (the library's ``subinterp_pool``).

    ``workers``: how many (default: one per online CPU). ``config``: the
    workers' subinterp.Config or preset (default isolated). ``init``: source
    run once in each new worker's ``__main__`` before any task.
    ``initializer``/``initargs``: a callable (or "module:qualname") called once
    in each new worker after ``init``; a failing ``init`` or ``initializer``
    fails the constructor (ExecutionFailed, its message naming the worker).
    ``max_queued``: most tasks waiting for a worker (0: no limit; see
    ``submit(block=)``). ``max_tasks_per_worker``: replace a worker's
    interpreter with a fresh one after that many tasks (0: never).

    Workers start with this interpreter's ``sys.path``, so your modules import
    there. A worker whose task fails is probed and replaced if its interpreter
    is no longer usable. Use the pool as a context manager, or call
    ``shutdown()``; a pool dropped without either lets its queued work finish.
    """

    _counter = itertools.count().__next__

    def __init__(self, workers=None, *, config=None, init=None, initializer=None, initargs=(), max_queued=0,
                 max_tasks_per_worker=0, name=None):
        if workers is None:
            workers = 0
        if workers < 0:
            raise ValueError("workers must be positive (None: one per CPU)")
        if max_queued < 0 or max_tasks_per_worker < 0:
            raise ValueError("max_queued and max_tasks_per_worker must be >= 0")
        if init is not None and not isinstance(init, str):
            raise TypeError("init must be source code (str); use initializer= for a callable")
        capi = _control("Pool()")
        paths = [p for p in sys.path if isinstance(p, str)]
        source = f"__import__('sys').path[:] = {paths!r}\n"  # leaves no name behind
        if init is not None:
            source += init
        init_callable, init_args = None, None
        if initializer is not None:
            if not callable(initializer) and not isinstance(initializer, str):
                raise TypeError("initializer must be a callable or 'module:qualname'")
            init_callable, leading = _plan(initializer, "initializer")
            init_args = leading + tuple(initargs)
        handle = capi.pool_new(int(workers), Config.coerce(config), source, init_callable, init_args,
                               int(max_queued), int(max_tasks_per_worker))
        self._name = name or f"subinterp.Pool-{self._counter()}"
        self._handle = handle
        try:
            completions = _Completions(handle, f"{self._name}-completions")
        except BaseException:
            capi.pool_free(handle)
            raise
        self._completions = completions
        self._state = completions.state = _PoolState(handle, completions)
        self._finalizer = weakref.finalize(self, _free_pool, self._state)
        self._workers = self.stats().workers
        _live_pools.add(self)

    def __repr__(self):
        return f"<{type(self).__name__} {self._name!r} workers={self._workers}>"

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.shutdown(wait=True)
        return False

    @property
    def max_workers(self):
        """The number of workers."""
        return self._workers

    # -- submitting ---------------------------------------------------------

    def _submit(self, future, name, args, kwargs, timeout, block):
        capi = _control("Pool.submit()")
        opts = _run_options(timeout)
        completions = self._completions
        tag = completions.track(future)
        try:
            with future._condition:  # the completion thread settles it only once it has its handle
                while True:
                    try:
                        future._handle = capi.pool_submit_notify(
                            self._handle, name, args, kwargs or None, opts, _SLICE if block else 0.0,
                            completions.queue.id, tag)
                        break
                    except QueueFull:
                        if not block:
                            raise
                        # wait for room in slices, so Ctrl-C (checked between them) works
        except BaseException:
            completions.forget(tag)
            raise
        return future

    def submit(self, fn, /, *args, timeout=None, block=True, **kwargs):
        """Queue ``fn(*args, **kwargs)`` for a worker; return its PoolFuture.

        ``timeout``: the task's deadline in seconds, counted from when a worker
        takes it (None: none); past it the task is interrupted and the future
        fails with ExecutionTimeout (a TimeoutError). ``block``: when
        ``max_queued`` tasks are waiting, wait for room (True), or raise
        QueueFull at once (False). These two names are taken: to pass keyword
        arguments called ``timeout`` or ``block`` to `fn`, wrap it (e.g. with
        functools.partial).
        """
        name, leading = _plan(fn)
        return self._submit(PoolFuture(), name, leading + args, kwargs, timeout, block)

    def call(self, fn, /, *args, timeout=None, **kwargs):
        """``submit(...).result()``: call `fn` on whichever worker is free and
        return its result (ExecutionFailed, ExecutionTimeout, ... on failure)."""
        future = self.submit(fn, *args, timeout=timeout, **kwargs)
        try:
            return future.result()
        except KeyboardInterrupt:
            future.cancel()
            raise

    def map(self, fn, /, *iterables, timeout=None, chunksize=None):
        """``[fn(*args) for args in zip(*iterables)]``, spread over the workers,
        in order, as a list. ``timeout`` is each call's deadline.

        Runs as the library's ``subinterp_pool_map`` in chunks (``chunksize``
        calls each; default: grows from one per worker while chunks take under
        0.1 s), so Ctrl-C is honoured between chunks. On the first failure in
        order the calls of that chunk not yet started are cancelled and its
        error raised (its message names the item within the chunk)."""
        name, leading = _plan(fn)
        capi = _control("Pool.map()")
        opts = _run_options(timeout)
        argument_lists = [leading + tuple(args) for args in zip(*iterables)]
        results = []
        size = chunksize or max(1, self._workers)
        position = 0
        while position < len(argument_lists):
            chunk = argument_lists[position:position + size]
            started = time.monotonic()
            results.extend(capi.pool_map(self._handle, name, chunk, opts))
            position += len(chunk)
            if chunksize is None and time.monotonic() - started < _SLICE:
                size = min(size * 2, 1 << 16)
        return results

    # -- state --------------------------------------------------------------

    def shutdown(self, wait=True, *, cancel_futures=False):
        """Stop accepting tasks (later submits raise QueueClosedError).

        ``cancel_futures``: cancel the queued tasks (their futures end
        cancelled), else the workers finish them. ``wait``: return once every
        task has ended and every worker's interpreter is destroyed. Running
        tasks are not interrupted (cancel their futures for that). Calling it
        again is fine."""
        self._state.close(wait, cancel_futures)

    def _close(self, wait, cancel):
        self._state.close(wait, cancel)

    def check(self):
        """Raise InterpreterError naming the cause if a worker could not be
        replaced (the pool is degraded) or the pool is shut down."""
        _control("Pool.check()").pool_check(self._handle)

    def stats(self):
        """The pool's counters, as a PoolStats."""
        return PoolStats(**_control("Pool.stats()").pool_get_stats(self._handle))

    def workers(self):
        """Every worker, as WorkerInfo (interpreter ids change when a worker's
        interpreter is replaced)."""
        capi = _control("Pool.workers()")
        return [WorkerInfo(index=i, **capi.pool_get_worker(self._handle, i)) for i in range(self._workers)]


# Shown under this module's name.
for _cls in (Pool, PoolFuture, PoolStats, WorkerInfo, ImportCheck):
    _cls.__module__ = __name__
del _cls

# Keep InterpreterError importable from here for `except` clauses.
InterpreterError = InterpreterError
