# Type stubs for subinterp.config (see config.py).
import enum
from dataclasses import dataclass
from typing import Any, Final, Literal, Self, TypeAlias

__all__ = ["Config", "Gil", "ISOLATED", "LEGACY"]

class Gil(enum.IntEnum):
    """PyInterpreterConfig.gil (same values as CPython)."""
    DEFAULT = 0
    SHARED = 1
    OWN = 2

# What Config(gil=...) accepts: a Gil, its value, or its name in any case.
_GilLike: TypeAlias = Gil | int | str
_Preset: TypeAlias = Literal["isolated", "legacy"]

@dataclass(frozen=True)
class Config:
    """How a sub-interpreter is made. Defaults are the isolated preset."""
    use_main_obmalloc: bool
    allow_fork: bool
    allow_exec: bool
    allow_threads: bool
    allow_daemon_threads: bool
    check_multi_interp_extensions: bool
    gil: Gil
    def __init__(
        self,
        use_main_obmalloc: bool = False,
        allow_fork: bool = False,
        allow_exec: bool = False,
        allow_threads: bool = True,
        allow_daemon_threads: bool = False,
        check_multi_interp_extensions: bool = True,
        gil: _GilLike = Gil.OWN,
    ) -> None: ...
    def __post_init__(self) -> None: ...
    @classmethod
    def isolated(cls) -> Self: ...
    @classmethod
    def legacy(cls) -> Self: ...
    def replace(
        self,
        *,
        use_main_obmalloc: bool = ...,
        allow_fork: bool = ...,
        allow_exec: bool = ...,
        allow_threads: bool = ...,
        allow_daemon_threads: bool = ...,
        check_multi_interp_extensions: bool = ...,
        gil: _GilLike = ...,
    ) -> Self: ...
    def validate(self) -> Self: ...
    @classmethod
    def coerce(cls, config: Self | _Preset | str | dict[str, Any] | None) -> Self: ...

ISOLATED: Final[Config]
LEGACY: Final[Config]
