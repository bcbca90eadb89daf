"""subinterp: run Python in parallel in isolated sub-interpreters, one process.

- ``subinterp.interpreters``: Python 3.14's ``concurrent.interpreters`` API
  (PEP 734) for Python 3.12 and 3.13, sharing queues and data with Rust, Go
  and C hosts of the same process;
- ``subinterp.futures.InterpreterPoolExecutor``: 3.14's executor;
- ``subinterp.pool.Pool``: the library's pool of warm worker interpreters
  (native worker threads, task deadlines, cancel that interrupts);
- ``subinterp.check_imports()``: which modules import under a config, and why
  the others do not;
- ``subinterp.Config``: every ``PyInterpreterConfig`` field, and the presets;
- ``subinterp.InterpreterID``: an interpreter handle as portable data carries
  it (what hosts send with ``subinterp_data_new_interpreter``).

Importing this package is cheap and works in every interpreter; the control
plane (creating and running interpreters) loads on first use, in the main
interpreter only.
"""
from ._native import data_plane as _data_plane  # noqa: F401  (loads `_subinterp`)
from .config import Config, Gil, ISOLATED, LEGACY

InterpreterID = _data_plane.InterpreterID

__version__ = "0.1.0"
__all__ = ["Config", "Gil", "ISOLATED", "LEGACY", "InterpreterID", "check_imports", "__version__"]


def check_imports(modules, config=None):
    """Which of `modules` import in an interpreter made with `config` (default
    isolated), and why the others do not: a list of subinterp.pool.ImportCheck
    (module, ok, reason, needs, error), one per module, in order. Main
    interpreter only. See subinterp.pool.check_imports."""
    from .pool import check_imports
    return check_imports(modules, config)
