# Type stubs for the subinterp package (see __init__.py).
from typing import Final

from .config import ISOLATED as ISOLATED, LEGACY as LEGACY, Config as Config, Gil as Gil

__all__ = ["Config", "Gil", "ISOLATED", "LEGACY", "__version__"]

__version__: Final[str]
