# Type stubs for the subinterp package (see __init__.py).
from typing import Final, final

from .config import ISOLATED as ISOLATED, LEGACY as LEGACY, Config as Config, Gil as Gil

__all__ = ["Config", "Gil", "ISOLATED", "LEGACY", "InterpreterID", "__version__"]

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
