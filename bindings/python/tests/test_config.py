"""subinterp.Config: presets, coercion, validation, and what each field does
to an interpreter created with it."""
import dataclasses

import pytest

import subinterp
import subinterp.interpreters as interpreters
from subinterp import Config, Gil, ISOLATED, LEGACY
from subinterp.interpreters import ExecutionFailed, InterpreterError
from subinterp._errors import InterpreterConfigError

FIELDS = ('use_main_obmalloc', 'allow_fork', 'allow_exec', 'allow_threads', 'allow_daemon_threads',
          'check_multi_interp_extensions', 'gil')
BOOL_FIELDS = FIELDS[:-1]
LEGACY_FIELDS = dict(use_main_obmalloc=True, allow_fork=True, allow_exec=True, allow_threads=True,
                     allow_daemon_threads=True, check_multi_interp_extensions=False, gil=Gil.SHARED)
ISOLATED_FIELDS = dict(use_main_obmalloc=False, allow_fork=False, allow_exec=False, allow_threads=True,
                       allow_daemon_threads=False, check_multi_interp_extensions=True, gil=Gil.OWN)
# The config CPython gives the main interpreter (subinterp.h, subinterp_get_config).
MAIN_FIELDS = dict(LEGACY_FIELDS, gil=Gil.OWN)

# Every config the library accepts that differs from a preset in one field.
VALID_CONFIGS = [
    ISOLATED,
    LEGACY,
    ISOLATED.replace(allow_fork=True),
    ISOLATED.replace(allow_exec=True),
    ISOLATED.replace(allow_threads=False),
    ISOLATED.replace(allow_daemon_threads=True),
    ISOLATED.replace(gil=Gil.SHARED),
    ISOLATED.replace(gil=Gil.DEFAULT),
    LEGACY.replace(use_main_obmalloc=False, check_multi_interp_extensions=True),
    LEGACY.replace(allow_fork=False),
    LEGACY.replace(allow_exec=False),
    LEGACY.replace(allow_threads=False, allow_daemon_threads=False),
    LEGACY.replace(allow_daemon_threads=False),
    LEGACY.replace(check_multi_interp_extensions=True),
    LEGACY.replace(gil=Gil.DEFAULT),
]


def fields(config):
    return {name: getattr(config, name) for name in FIELDS}


def exception_name(interp, source):
    """The name of the exception `source` raises in `interp`, or None."""
    try:
        interp.exec(source)
    except ExecutionFailed as exc:
        return exc.excinfo.type.__name__, exc.excinfo.msg
    return None


@pytest.fixture
def make():
    """create(config) with every interpreter closed after the test."""
    made = []

    def make(config):
        interp = interpreters.create(config)
        made.append(interp)
        return interp
    yield make
    for interp in made:
        try:
            interp.close()
        except interpreters.InterpreterNotFoundError:
            pass


# --- the dataclass ------------------------------------------------------------------------

class TestConfigObject:

    def test_defaults_are_isolated(self):
        assert fields(Config()) == ISOLATED_FIELDS
        assert Config() == ISOLATED == Config.isolated()
        assert type(Config().gil) is Gil

    def test_legacy(self):
        assert fields(LEGACY) == LEGACY_FIELDS
        assert Config.legacy() == LEGACY
        assert LEGACY != ISOLATED

    def test_module_exports(self):
        assert subinterp.Config is Config
        assert subinterp.ISOLATED is ISOLATED
        assert subinterp.LEGACY is LEGACY
        assert set(subinterp.__all__) >= {'Config', 'Gil', 'ISOLATED', 'LEGACY'}

    def test_gil_values(self):
        assert (Gil.DEFAULT, Gil.SHARED, Gil.OWN) == (0, 1, 2)

    def test_frozen(self):
        config = Config()
        with pytest.raises(dataclasses.FrozenInstanceError):
            config.allow_fork = True
        assert config.allow_fork is False

    def test_hashable(self):
        assert hash(Config()) == hash(Config.isolated())
        assert len({Config(), ISOLATED, LEGACY}) == 2

    def test_replace(self):
        config = ISOLATED.replace(allow_fork=True, gil='shared')
        assert fields(config) == dict(ISOLATED_FIELDS, allow_fork=True, gil=Gil.SHARED)
        assert fields(ISOLATED) == ISOLATED_FIELDS  # unchanged
        with pytest.raises(TypeError):
            ISOLATED.replace(no_such_field=True)
        with pytest.raises(TypeError):
            ISOLATED.replace(allow_fork='yes')

    @pytest.mark.parametrize('name', BOOL_FIELDS)
    def test_bool_fields(self, name):
        assert getattr(Config(**{name: 1}), name) is True
        assert getattr(Config(**{name: 0}), name) is False
        for bad in ('yes', 2, -1, 1.0, None, [True]):
            with pytest.raises(TypeError, match=f'Config.{name} must be a bool'):
                Config(**{name: bad})

    @pytest.mark.parametrize('value, expected', [
        (Gil.OWN, Gil.OWN), (2, Gil.OWN), ('own', Gil.OWN), ('OWN', Gil.OWN), ('Shared', Gil.SHARED),
        (1, Gil.SHARED), ('default', Gil.DEFAULT), (0, Gil.DEFAULT),
    ])
    def test_gil(self, value, expected):
        gil = Config(gil=value).gil
        assert gil is expected
        assert type(gil) is Gil

    @pytest.mark.parametrize('value', ['mine', '', 3, -1, True, None, 2.0, [2]])
    def test_bad_gil(self, value):
        with pytest.raises(ValueError, match='Config.gil must be'):
            Config(gil=value)

    def test_repr(self):
        assert repr(ISOLATED) == ('Config(use_main_obmalloc=False, allow_fork=False, allow_exec=False, '
                                  'allow_threads=True, allow_daemon_threads=False, '
                                  'check_multi_interp_extensions=True, gil=<Gil.OWN: 2>)')


class TestCoerce:

    def test_none(self):
        assert Config.coerce(None) == ISOLATED

    def test_config(self):
        config = LEGACY.replace(allow_fork=False)
        assert Config.coerce(config) is config

    @pytest.mark.parametrize('name, expected', [('isolated', ISOLATED), ('legacy', LEGACY),
                                                ('LEGACY', LEGACY), ('Isolated', ISOLATED)])
    def test_preset_name(self, name, expected):
        assert Config.coerce(name) == expected

    def test_unknown_preset(self):
        with pytest.raises(ValueError, match="unknown config preset 'default'"):
            Config.coerce('default')

    def test_dict(self):
        assert Config.coerce({'allow_fork': True, 'gil': 'shared'}) == \
            Config(allow_fork=True, gil=Gil.SHARED)
        assert Config.coerce({}) == ISOLATED
        with pytest.raises(TypeError):
            Config.coerce({'no_such_field': 1})
        with pytest.raises(TypeError):
            Config.coerce({'allow_fork': 'yes'})
        with pytest.raises(ValueError):
            Config.coerce({'gil': 'mine'})

    @pytest.mark.parametrize('value', [42, ['legacy'], ('isolated',), b'legacy', Gil.OWN])
    def test_bad_type(self, value):
        with pytest.raises(TypeError, match='config must be a Config, a preset name or a dict'):
            Config.coerce(value)


# --- validate -----------------------------------------------------------------------------

class TestValidate:

    @pytest.mark.parametrize('config', VALID_CONFIGS, ids=repr)
    def test_valid(self, config):
        assert config.validate() is config

    @pytest.mark.parametrize('config, field', [
        (Config(use_main_obmalloc=True, gil=Gil.OWN), 'use_main_obmalloc'),
        (LEGACY.replace(gil=Gil.OWN), 'use_main_obmalloc'),
        (Config(use_main_obmalloc=False, check_multi_interp_extensions=False), 'check_multi_interp_extensions'),
        (LEGACY.replace(use_main_obmalloc=False), 'check_multi_interp_extensions'),
        (Config(allow_threads=False, allow_daemon_threads=True), 'allow_daemon_threads'),
    ])
    def test_rejected(self, config, field):
        with pytest.raises(InterpreterConfigError, match=field) as excinfo:
            config.validate()
        assert isinstance(excinfo.value, ValueError)
        assert isinstance(excinfo.value, InterpreterError)
        assert excinfo.value.status == 5
        # create() makes the same checks, and creates nothing.
        before = interpreters.list_all()
        with pytest.raises(InterpreterConfigError, match=field):
            interpreters.create(config)
        assert interpreters.list_all() == before

    def test_inside_subinterpreter(self, interp):
        def validate_inside():
            import subinterp
            from subinterp.interpreters import InterpreterError
            try:
                subinterp.Config().validate()
            except InterpreterError as exc:
                return str(exc)
        assert interp.call(validate_inside).startswith('Config.validate() works only in the main interpreter')


# --- create(config=...) -------------------------------------------------------------------

class TestCreateWithConfig:

    @pytest.mark.parametrize('config, expected', [
        (None, ISOLATED), ('isolated', ISOLATED), ('legacy', LEGACY), (ISOLATED, ISOLATED), (LEGACY, LEGACY),
        ({'allow_fork': True}, ISOLATED.replace(allow_fork=True)),
    ], ids=repr)
    def test_presets(self, make, config, expected):
        interp = make(config)
        assert interp.config == expected
        interp.exec('x = 1')
        assert interp.call(eval, 'x + 1') == 2

    def test_keyword(self, make):
        assert make(config=None).config == ISOLATED
        assert interpreters.create.__code__.co_varnames[0] == 'config'

    @pytest.mark.parametrize('config', VALID_CONFIGS, ids=repr)
    def test_config_round_trip(self, make, config):
        interp = make(config)
        got = interp.config
        assert type(got) is Config
        assert got == config
        assert type(got.gil) is Gil

    def test_main_config(self):
        assert fields(interpreters.get_main().config) == MAIN_FIELDS

    def test_config_closed(self):
        interp = interpreters.create()
        interp.close()
        with pytest.raises(interpreters.InterpreterNotFoundError):
            interp.config

    # one field at a time

    def test_allow_threads(self, make):
        source = 'import threading\nt = threading.Thread(target=len, args=((),))\nt.start()\nt.join()'
        assert exception_name(make(ISOLATED), source) is None
        name, msg = exception_name(make(ISOLATED.replace(allow_threads=False)), source)
        assert name == 'RuntimeError'
        assert 'thread' in msg

    def test_allow_daemon_threads(self, make):
        source = 'import threading\nt = threading.Thread(target=len, args=((),), daemon=True)\nt.start()\nt.join()'
        assert exception_name(make(ISOLATED), source) == \
            ('RuntimeError', 'daemon threads are disabled in this (sub)interpreter')
        assert exception_name(make(ISOLATED.replace(allow_daemon_threads=True)), source) is None
        assert exception_name(make(LEGACY), source) is None

    def test_allow_fork(self, make):
        assert exception_name(make(ISOLATED), 'import os\nos.fork()') == \
            ('RuntimeError', 'fork not supported for isolated subinterpreters')
        assert exception_name(make(LEGACY.replace(allow_fork=False)), 'import os\nos.fork()') == \
            ('RuntimeError', 'fork not supported for isolated subinterpreters')

    def test_allow_exec(self, make):
        # A path that does not exist: allowed, execv fails without replacing the process.
        source = 'import os\nos.execv("/nonexistent/subinterp-test-program", ["x"])'
        assert exception_name(make(ISOLATED), source) == \
            ('RuntimeError', 'exec not supported for isolated subinterpreters')
        name, _ = exception_name(make(ISOLATED.replace(allow_exec=True)), source)
        assert name == 'FileNotFoundError'
        name, _ = exception_name(make(LEGACY), source)
        assert name == 'FileNotFoundError'

    def test_check_multi_interp_extensions(self, make):
        # _testsinglephase is a single-phase init extension (CPython's own test module).
        pytest.importorskip('_testsinglephase')
        source = 'import _testsinglephase'
        assert exception_name(make(ISOLATED), source) == \
            ('ImportError', 'module _testsinglephase does not support loading in subinterpreters')
        assert exception_name(make(LEGACY.replace(check_multi_interp_extensions=True)), source) == \
            ('ImportError', 'module _testsinglephase does not support loading in subinterpreters')

    def test_legacy_imports_single_phase_module(self, make):
        pytest.importorskip('_testsinglephase')
        interp = make(LEGACY)
        interp.exec('import _testsinglephase')
        assert interp.call(eval, '_testsinglephase.__name__') == '_testsinglephase'

    @pytest.mark.parametrize('gil', [Gil.OWN, Gil.SHARED, Gil.DEFAULT])
    def test_gil_runs_code(self, make, gil):
        interp = make(ISOLATED.replace(gil=gil))
        assert interp.config.gil is gil
        assert interp.call(sum, [1, 2, 3]) == 6

    def test_use_main_obmalloc(self, make):
        for config in (LEGACY, LEGACY.replace(use_main_obmalloc=False, check_multi_interp_extensions=True)):
            interp = make(config)
            assert interp.config.use_main_obmalloc is config.use_main_obmalloc
            assert interp.call(eval, '[str(i) for i in range(3)]') == ['0', '1', '2']
