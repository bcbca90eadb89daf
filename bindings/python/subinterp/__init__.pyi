# Type stubs for the subinterp package (see __init__.py).
from collections.abc import Iterable
from typing import Any, Final, final

from .config import ISOLATED as ISOLATED, LEGACY as LEGACY, Config as Config, Gil as Gil

from .pool import ImportCheck

__all__ = ["Config", "Gil", "ISOLATED", "LEGACY", "InterpreterID", "check_imports", "__version__"]

def check_imports(modules: str | Iterable[str], config: Config | str | dict[str, Any] | None = None) -> list[ImportCheck]:
    """Which modules import under `config` (default isolated), and why the others do not."""

__version__: Final[str]

@final
class InterpreterID:
    """An interpreter's id, as carried by portable data (not checked: it may go stale)."""

    def __new__(cls, id: int) -> InterpreterID: ...
    @property
    def id(self) -> int: ...
    def __index__(self) -> int: ...
    def __int__(self) -> int: ...
    def __hash__(self) -> int: ...
    def __eq__(self, value: object, /) -> bool: ...
