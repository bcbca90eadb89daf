"""The receiving end of _shipping: runs inside the target interpreter.

Kept to the standard library so it imports fast in a fresh interpreter.
"""
import marshal
import sys
import traceback
import types


def _main_globals():
    return sys.modules["__main__"].__dict__


def call_function(spec, /, *args, **kwargs):
    code, name, qualname, defaults, kwdefaults = spec
    function = types.FunctionType(marshal.loads(code), _main_globals(), name, defaults)
    function.__qualname__ = qualname
    function.__kwdefaults__ = kwdefaults
    return function(*args, **kwargs)


def call_object(callable_, /, *args, **kwargs):
    return callable_(*args, **kwargs)


def eval_in_main(source, globals=None, locals=None, /):
    return eval(source, _main_globals() if globals is None else globals, locals)


def exec_in_main(source, globals=None, locals=None, /):
    exec(source, _main_globals() if globals is None else globals, locals)


def dir_in_main(*args):
    return dir(*args) if args else sorted(_main_globals())


def globals_in_main():
    return _main_globals()


def locals_in_main():
    return _main_globals()


def vars_in_main(*args):
    return vars(*args) if args else _main_globals()


def exec_code(code):
    exec(marshal.loads(code), _main_globals())


def resolve(name, leading):
    """The callable a _shipping.plan_call() plan names."""
    if name.startswith(__name__ + ":"):
        return globals()[name.partition(":")[2]], leading
    module_name, _, qualname = name.partition(":")
    __import__(module_name)
    found = sys.modules[module_name]
    for part in qualname.split("."):
        found = getattr(found, part)
    return found, leading


# Set in a pool worker whose executor initializer failed: every task it gets
# then reports the failure instead of running (the executor breaks).
_initializer_failure = None


def _is_interrupt(exc):
    # subinterp's interrupt (deadline, cancel, Interpreter.interrupt()): a
    # per-interpreter class named subinterp.Interrupted. It must reach the
    # library, which turns it into the run's TIMEOUT or CANCELLED status.
    kind = type(exc)
    return kind.__name__ == "Interrupted" and kind.__module__ == "subinterp"


def _describe(exc):
    """(pickled exception or None, (module, qualname, message, formatted traceback))."""
    import pickle
    try:
        pickled = pickle.dumps(exc)
    except Exception:
        pickled = None
    kind = type(exc)
    info = (kind.__module__, kind.__qualname__, str(exc), "".join(traceback.format_exception(exc)))
    return pickled, info


def run_task(name, leading, args, kwargs):
    """An executor task: (True, result), or (False, (pickled exception or None,
    (module, qualname, message, formatted traceback))) so the caller can
    re-raise the exception itself with an ExecutionFailed as its cause; or
    (None, that description) when this worker's initializer failed."""
    if _initializer_failure is not None:
        return None, _initializer_failure
    function, leading = resolve(name, leading)
    try:
        return True, function(*leading, *args, **kwargs)
    except BaseException as exc:  # noqa: B036 -- the caller re-raises it
        if _is_interrupt(exc):
            raise
        return False, _describe(exc)


def run_initializer(name, leading, args):
    """An executor's initializer in a new pool worker. A failure does not fail
    the worker's start: it is kept and reported by the worker's tasks, so the
    executor breaks when work arrives, as 3.14's does."""
    global _initializer_failure
    try:
        function, leading = resolve(name, leading)
        function(*leading, *args)
    except BaseException as exc:  # noqa: B036 -- reported through run_task
        if _is_interrupt(exc):
            raise
        _initializer_failure = _describe(exc)
