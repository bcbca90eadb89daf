"""Interpreter configurations: every field of CPython's PyInterpreterConfig.

``Config()`` is the isolated preset (own GIL, runs in parallel); ``LEGACY`` is
what ``Py_NewInterpreter()`` gives. The C library checks a config when an
interpreter is created (or on ``validate()``) and rejects combinations CPython
3.12/3.13 would accept and then crash on.
"""
import dataclasses
import enum

__all__ = ["Config", "Gil", "ISOLATED", "LEGACY"]


class Gil(enum.IntEnum):
    """PyInterpreterConfig.gil (same values as CPython)."""
    DEFAULT = 0  # CPython's default: shared
    SHARED = 1   # share the main interpreter's GIL
    OWN = 2      # own GIL: runs in parallel


_BOOL_FIELDS = ("use_main_obmalloc", "allow_fork", "allow_exec", "allow_threads",
                "allow_daemon_threads", "check_multi_interp_extensions")


@dataclasses.dataclass(frozen=True)
class Config:
    """How a sub-interpreter is made. Defaults are the isolated preset."""
    use_main_obmalloc: bool = False
    allow_fork: bool = False
    allow_exec: bool = False
    allow_threads: bool = True
    allow_daemon_threads: bool = False
    check_multi_interp_extensions: bool = True
    gil: Gil = Gil.OWN

    def __post_init__(self):
        for name in _BOOL_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, (bool, int)) or value not in (0, 1):
                raise TypeError(f"Config.{name} must be a bool, got {value!r}")
            object.__setattr__(self, name, bool(value))
        gil = self.gil
        if isinstance(gil, str):
            try:
                gil = Gil[gil.upper()]
            except KeyError:
                raise ValueError(f"Config.gil must be 'default', 'shared' or 'own', got {self.gil!r}") from None
        elif isinstance(gil, int) and not isinstance(gil, bool) and gil in tuple(Gil):
            gil = Gil(gil)
        else:
            raise ValueError(f"Config.gil must be a Gil, 'default', 'shared' or 'own', got {self.gil!r}")
        object.__setattr__(self, "gil", gil)

    @classmethod
    def isolated(cls):
        """Own GIL and allocator, no fork/exec/daemon threads, multi-phase extensions only."""
        return cls()

    @classmethod
    def legacy(cls):
        """Everything Py_NewInterpreter() gives: shared GIL and allocator, any extension."""
        return cls(use_main_obmalloc=True, allow_fork=True, allow_exec=True, allow_threads=True,
                   allow_daemon_threads=True, check_multi_interp_extensions=False, gil=Gil.SHARED)

    def replace(self, **changes):
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def validate(self):
        """Raise InterpreterConfigError (naming the field) if the library would
        refuse this config. Main interpreter only."""
        from ._native import control
        control("Config.validate()").config_validate(self)
        return self

    @classmethod
    def coerce(cls, config):
        """A Config from None (isolated), a preset name, a Config or a mapping of fields."""
        if config is None:
            return cls()
        if isinstance(config, cls):
            return config
        if isinstance(config, str):
            presets = {"isolated": cls.isolated, "legacy": cls.legacy}
            try:
                return presets[config.lower()]()
            except KeyError:
                raise ValueError(f"unknown config preset {config!r} (use 'isolated' or 'legacy')") from None
        if isinstance(config, dict):
            return cls(**config)
        raise TypeError(f"config must be a Config, a preset name or a dict, not {type(config).__name__}")


ISOLATED = Config.isolated()
LEGACY = Config.legacy()
