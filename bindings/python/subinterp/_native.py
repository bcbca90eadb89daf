"""Finds the two native parts of the binding.

The data plane, ``_subinterp``, is libsubinterp itself (its ``PyInit__subinterp``):
a built-in module when a non-Python host embeds CPython, otherwise the library
file shipped in this package, loaded as an extension module. Either way the
process maps the library once, so Python code and hosts share one registry of
interpreters and queues.

The control plane, ``subinterp.capi``, is the SWIG module over the C ABI. SWIG
emits single-phase init, so it loads in the main interpreter only; ``control()``
says so clearly anywhere else.
"""
import importlib.machinery
import importlib.util
import os
import sys

_LIBRARY = "libsubinterp.so.1"
_HERE = os.path.dirname(os.path.abspath(__file__))
# A C, Rust or Go host embeds CPython through libsubinterp and registered
# `_subinterp` as a built-in; otherwise this is a Python process.
embedded = "_subinterp" in sys.builtin_module_names


def _load_data_plane():
    if "_subinterp" in sys.modules:
        return sys.modules["_subinterp"]
    if embedded:
        import _subinterp
        return _subinterp
    path = os.path.join(_HERE, _LIBRARY)
    if not os.path.exists(path):
        raise ImportError(f"subinterp: the native library {path} is missing; reinstall the package "
                          f"(pip install ./bindings/python) or build it (ci/build)", path=path)
    loader = importlib.machinery.ExtensionFileLoader("_subinterp", path)
    spec = importlib.util.spec_from_file_location("_subinterp", path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["_subinterp"] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules["_subinterp"]
        raise
    return module


data_plane = _load_data_plane()

_control = None
finalized = False  # set at exit, after which objects being collected leave interpreters alone


def in_main_interpreter():
    return data_plane.current_interpreter_id() == data_plane.main_interpreter_id()


def control(operation):
    """The SWIG control plane, for `operation` (named in the error if unavailable)."""
    global _control
    if _control is not None:
        return _control
    from ._errors import InterpreterError
    if not in_main_interpreter():
        raise InterpreterError(
            f"{operation} works only in the main interpreter: it needs subinterp's control plane, a SWIG "
            f"module, and SWIG modules use single-phase init, which sub-interpreters cannot load. "
            f"Queues, get_current(), get_main(), list_all() and is_running() work here; send work "
            f"for the main interpreter through a Queue.")
    if embedded:
        raise InterpreterError(
            f"{operation} is not available: this process embeds CPython through libsubinterp (a C, Rust "
            f"or Go host), which owns the control plane; use the host's API")
    from . import capi
    capi.runtime_start()
    _control = capi
    import atexit
    atexit.register(_finalize_at_exit)
    return capi


def _finalize_at_exit():
    # CPython's finalization aborts while sub-interpreters live: destroy ours
    # first (threading has joined non-daemon threads by the time this runs).
    global finalized
    finalized = True
    try:
        _control.runtime_finalize()
    except Exception as exc:  # an interpreter still running code in a daemon thread
        print(f"subinterp: could not destroy every interpreter at exit: {exc}", file=sys.stderr)
