"""How a Python callable or code object reaches another interpreter.

Objects cannot cross interpreters; names and bytes can. In order of cost:

1. a function or class reachable as ``module:qualname`` from an importable
   module is sent by name (the C ABI's call imports and looks it up);
2. a function without closure (from ``__main__``, a lambda, a nested function)
   is sent as its marshalled code, defaults and name, and rebuilt in the
   target with the target's ``__main__`` as globals -- 3.14 shares such
   "stateless" functions the same way;
3. anything else (bound methods, partials, callable objects) is pickled.
"""
import marshal
import sys
import types

REMOTE = "subinterp._remote"
# Builtins that read the caller's frame; _remote has an "<name>_in_main" for each.
_FRAME_BUILTINS = (eval, exec, dir, globals, locals, vars)


def importable_name(obj):
    """"module:qualname" if importing the module and following the qualname
    gives back `obj` itself; else None."""
    module_name = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not isinstance(module_name, str) or not isinstance(qualname, str):
        return None
    if module_name == "__main__" or "<" in qualname:
        return None
    found = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module_name}:{qualname}" if found is obj else None


def function_spec(function):
    """The parts a closure-free function is rebuilt from in another interpreter."""
    return (marshal.dumps(function.__code__), function.__name__, function.__qualname__,
            function.__defaults__, function.__kwdefaults__)


def _closure_free_function(obj):
    return isinstance(obj, types.FunctionType) and obj.__closure__ is None


def plan_call(callable_):
    """(name, leading_args): calling ``name(*leading_args, *args, **kwargs)`` in
    another interpreter calls `callable_(*args, **kwargs)` there."""
    if not callable(callable_):
        raise TypeError(f"{type(callable_).__name__!r} object is not callable")
    if any(callable_ is frame_builtin for frame_builtin in _FRAME_BUILTINS):
        # The executor's workers call through _remote's own frames, so these
        # would read _remote's namespace: give them the target's __main__, as
        # at its prompt (the C ABI does the same for direct calls).
        return f"{REMOTE}:{callable_.__name__}_in_main", ()
    name = importable_name(callable_)
    if name is not None:
        return name, ()
    if _closure_free_function(callable_):
        return f"{REMOTE}:call_function", (function_spec(callable_),)
    return f"{REMOTE}:call_object", (callable_,)


def plan_exec(code):
    """(name, args) that run `code` (str, code object, or a function taking no
    arguments) in another interpreter's __main__; name None means plain source."""
    if isinstance(code, str):
        return None, code
    if isinstance(code, types.FunctionType):
        if code.__closure__ is not None:
            raise ValueError(f"{code.__qualname__} is a closure; only functions without free variables can run "
                             f"in another interpreter")
        code = code.__code__
        _require_no_arguments(code)
    elif not isinstance(code, types.CodeType):
        raise TypeError(f"expected str, a function or a code object, got {type(code).__name__}")
    elif code.co_freevars:
        raise ValueError("the code object has free variables")
    return f"{REMOTE}:exec_code", (marshal.dumps(code),)


def _require_no_arguments(code):
    if code.co_argcount or code.co_posonlyargcount or code.co_kwonlyargcount or code.co_flags & 0x0C:
        raise ValueError(f"{code.co_name}() must take no arguments to run as a script in another interpreter")
