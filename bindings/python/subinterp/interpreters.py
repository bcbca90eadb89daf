"""Python 3.14's ``concurrent.interpreters`` (PEP 734) for Python 3.12 and 3.13.

Code written for 3.14 runs unchanged with::

    import subinterp.interpreters as interpreters

Same names, signatures and exceptions. Where this module differs, it is on
purpose:

- ``create(config=None)`` takes a ``subinterp.Config`` (every
  PyInterpreterConfig field) or a preset name; the default is isolated (own GIL).
- ``Queue.get()``/``put()`` block on a condition variable with the GIL
  released and honour fractional timeouts; 3.14 polls every 10 ms and
  truncates ``timeout`` to whole seconds. Queues are shared with C, Rust and Go
  hosts in the same process, and have ``close()``.
- A new interpreter starts with the creating interpreter's ``sys.path`` (as
  multiprocessing's spawn does), so your modules import there too.
- ``list_all()`` lists the interpreters subinterp knows (main, and those
  created through it by Python or any host), not ones made by CPython's own
  ``_interpreters``.
- Creating, closing and running interpreters needs the main interpreter (the
  control plane is a SWIG module); elsewhere those raise InterpreterError
  saying so. Queues, ``get_current()``, ``get_main()``, ``list_all()`` and
  ``is_running()`` work in every interpreter.
"""
import sys
import threading
import weakref

from . import _shipping
from ._errors import (
    ExecutionCancelled,
    ExecutionFailed,
    ExecutionTimeout,
    InterpreterBusyError,
    InterpreterConfigError,
    InterpreterError,
    InterpreterNotFoundError,
    NotShareableError,
    QueueEmpty,
    QueueFull,
)
from . import _native
from ._native import control as _control, data_plane as _dp
from .config import Config

Queue = _dp.Queue
UNBOUND = _dp.UNBOUND
UNBOUND_ERROR = _dp.UNBOUND_ERROR
UNBOUND_REMOVE = _dp.UNBOUND_REMOVE

__all__ = [
    'get_current', 'get_main', 'create', 'list_all', 'is_shareable',
    'Interpreter',
    'InterpreterError', 'InterpreterNotFoundError', 'ExecutionFailed',
    'NotShareableError',
    'create_queue', 'Queue', 'QueueEmpty', 'QueueFull',
]  # as 3.14's; also here, beyond PEP 734: ExecutionTimeout, ExecutionCancelled


def _run_options(timeout):
    """The control plane's run options for a `timeout` argument."""
    if timeout is None:
        return 0
    timeout = float(timeout)
    if timeout != timeout or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return (0, timeout)


def create_queue(maxsize=0, *, unbounditems=UNBOUND):
    """Return a new cross-interpreter queue.

    "unbounditems" sets the default for Queue.put(): what get() returns for an
    item whose interpreter was destroyed (UNBOUND, UNBOUND_ERROR or UNBOUND_REMOVE).
    """
    return _dp.create_queue(maxsize, unbounditems=unbounditems)


def is_shareable(obj):
    """Return True if the object's data can be shared between interpreters
    without pickling (None, bool, int, float, str, bytes, tuple, list, dict,
    memoryview, Queue, and containers of them)."""
    return _dp.is_shareable(obj)


def create(config=None):
    """Return a new (idle) Python interpreter.

    ``config``: a subinterp.Config, "isolated" (the default: own GIL, runs in
    parallel) or "legacy" (shared GIL, any extension module).
    """
    config = Config.coerce(config)
    capi = _control("create()")
    id = capi.create(config)
    interp = Interpreter(id, _ownsref=True)
    paths = [p for p in sys.path if isinstance(p, str)]
    try:
        # Leaves no name behind: __main__ starts as clean as 3.14's.
        capi.exec_source(id, f"__import__('sys').path[:] = {paths!r}\n", 0)
    except BaseException:
        interp.close()
        raise
    return interp


def list_all():
    """Return all existing interpreters."""
    return [Interpreter(id) for id in _dp.interpreter_ids()]


def get_current():
    """Return the currently running interpreter."""
    return Interpreter(_dp.current_interpreter_id())


def get_main():
    """Return the main interpreter."""
    return Interpreter(_dp.main_interpreter_id())


def _running(id):
    """Whether the library says interpreter `id` runs code; InterpreterNotFoundError if it has no such id."""
    running = _dp.interpreter_is_running(id)
    if running is None:
        raise InterpreterNotFoundError(f'interpreter {id} not found')
    return running


_known = weakref.WeakValueDictionary()
_known_lock = threading.Lock()


class Interpreter:
    """A single Python interpreter.

    Attributes:

    "id" - the unique process-global ID number for the interpreter
    "whence" - indicates where the interpreter was created

    An Interpreter returned by create() owns its interpreter: when the last
    reference to it goes, the interpreter is closed, as in 3.14.
    """

    def __new__(cls, id, /, _whence=None, _ownsref=None):
        # There is only one instance for any given ID.
        if not isinstance(id, int):
            raise TypeError(f'id must be an int, got {id!r}')
        id = int(id)
        if id < 0:
            raise ValueError(f'id must be a non-negative int, got {id!r}')
        with _known_lock:
            # Checked first, as 3.14 does: a closed id is not found even while
            # an old Interpreter object for it is still referenced.
            _running(id)
            try:
                return _known[id]
            except KeyError:
                pass
            self = super().__new__(cls)
            self._id = id
            self._ownsref = bool(_ownsref)
            _known[id] = self
            return self

    def __repr__(self):
        return f'{type(self).__name__}({self.id})'

    def __hash__(self):
        return hash(self._id)

    def __del__(self):
        if getattr(self, '_ownsref', False) and not _native.finalized:
            self._ownsref = False
            try:
                _control("Interpreter.close()").destroy(self._id)
            except Exception:
                pass  # already closed, or running in another thread: left to the atexit clean-up

    # for pickling:
    def __reduce__(self):
        return (type(self), (self._id,))

    @property
    def id(self):
        return self._id

    @property
    def whence(self):
        """'runtime init' for the main interpreter; '_interpreters module' for
        interpreters created through subinterp (from Python or any host)."""
        return 'runtime init' if self._id == _dp.main_interpreter_id() else '_interpreters module'

    @property
    def config(self):
        """The Config the interpreter was created with (main interpreter only)."""
        return Config(**_control("Interpreter.config").get_config(self._id))

    def is_running(self):
        """Return whether or not the identified interpreter is running."""
        running = _running(self._id)
        if not running and self._id == _dp.current_interpreter_id():
            return True  # the caller runs code in it (the main interpreter runs __main__)
        if not running and self._id == _dp.main_interpreter_id() and not _native.embedded:
            return True  # a Python process's main interpreter runs the program, as in 3.14
        return running

    def close(self):
        """Finalize and destroy the interpreter.

        Attempting to destroy the current interpreter, the main interpreter or
        one that is running code results in an InterpreterError.
        """
        if self._id == _dp.main_interpreter_id():
            raise InterpreterError('cannot close the main interpreter')
        self._ownsref = False
        _control("Interpreter.close()").destroy(self._id)

    def prepare_main(self, ns=None, /, **kwargs):
        """Bind the given values into the interpreter's __main__.

        Values are shared as portable data; others are pickled.
        """
        ns = dict(ns, **kwargs) if ns is not None else kwargs
        if not ns:
            raise ValueError('prepare_main() needs a non-empty namespace (nothing to bind)')
        _control("Interpreter.prepare_main()").prepare_main(self._id, ns)

    def exec(self, code, /, *, timeout=None):
        """Run the given source code in the interpreter.

        This is essentially the same as calling the builtin "exec" with this
        interpreter, using the __dict__ of its __main__ module as both globals
        and locals. ``code`` may also be a code object or a function that takes
        no arguments and has no closure (its body runs in __main__).

        There is no return value. If the code raises an unhandled exception
        then an ExecutionFailed exception is raised, which summarizes the
        unhandled exception.

        This blocks the current Python thread until done, with the GIL
        released, so other threads of this interpreter keep running.

        ``timeout`` (beyond PEP 734): a deadline in seconds. Past it the code
        is interrupted (``subinterp.Interrupted``, a BaseException, is raised
        in it) and ExecutionTimeout, a TimeoutError, is raised here; the
        interpreter stays usable.
        """
        capi = _control("Interpreter.exec()")
        name, args = _shipping.plan_exec(code)
        opts = _run_options(timeout)
        if name is None:
            capi.exec_source(self._id, args, opts)
        else:
            capi.call(self._id, name, args, None, opts)

    def _call(self, callable, args, kwargs, timeout=None):
        capi = _control("Interpreter.call()")
        name, leading = _shipping.plan_call(callable)
        return capi.call(self._id, name, leading + tuple(args), kwargs or None, _run_options(timeout))

    def call(self, callable, /, *args, timeout=None, **kwargs):
        """Call the object in the interpreter with given args/kwargs.

        Importable functions and classes go by name, functions without a
        closure by their code, other callables by pickle; so do args, kwargs
        and the return value when they are not shareable. If the callable
        raises, ExecutionFailed carries its type, message and traceback.

        ``timeout`` (keyword-only, beyond PEP 734) is the call's deadline, as
        for exec(); it is not passed to the callable (wrap the callable, e.g.
        with functools.partial, to give it a ``timeout`` keyword).
        """
        return self._call(callable, args, kwargs, timeout)

    def interrupt(self):
        """Interrupt the code running in the interpreter now, from any thread
        (beyond PEP 734): each running exec()/call() (and pool task) gets
        ``subinterp.Interrupted`` raised in its code and fails with
        ExecutionCancelled; the interpreter stays usable. Returns how many runs
        were interrupted (0 when nothing ran)."""
        return _control("Interpreter.interrupt()").interrupt(self._id)

    def call_in_thread(self, callable, /, *args, **kwargs):
        """Return a new thread that calls the object in the interpreter.

        The return value and any raised exception are discarded.
        """
        t = threading.Thread(target=self._call, args=(callable, args, kwargs))
        t.start()
        return t
