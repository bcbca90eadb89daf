"""The public API of subinterp.interpreters, tested as a user of Python 3.14's
concurrent.interpreters would (after CPython's Lib/test/test_interpreters/test_api.py).

Functions defined at the top of this module are sent to other interpreters by
name: the target imports this module (its sys.path is copied from ours), so
it must stay importable, and cheap, in an isolated interpreter.
"""
import contextlib
import functools
import math
import os
import pickle
import sys
import threading
import types

import pytest

import subinterp
import subinterp.interpreters as interpreters
from subinterp.interpreters import ExecutionFailed, InterpreterError, InterpreterNotFoundError

WHENCE_RUNTIME = 'runtime init'
WHENCE_STDLIB = '_interpreters module'
# dir() of a new interpreter's __main__ (3.14 has no __annotations__ there).
FRESH_MAIN_NAMES = ['__annotations__', '__builtins__', '__doc__', '__loader__', '__name__', '__package__',
                    '__spec__']


# --- callables sent to other interpreters (by name: this module is importable there) ---

def call_func_noop():
    pass


def spam_returns_arg(arg):
    return arg


def spam_raises():
    raise Exception('spam!')


def spam_full_args(a, b, /, c, d, *args, e, f, **kwargs):
    return (a, b, c, d, e, f, args, kwargs)


def spam_full_args_with_defaults(a=-1, b=-2, /, c=-3, d=-4, *args, e=-5, f=-6, **kwargs):
    return (a, b, c, d, e, f, args, kwargs)


def call_func_return_shareable():
    return (1, None)


def call_func_return_pickleable():
    return [1, 2, 3]


def call_func_return_unpickleable():
    x = 42
    return (lambda: x)


def get_call_func_closure(value):
    def call_func_closure():
        return value
    return call_func_closure


def current_interpreter_view():
    """What subinterp.interpreters sees from inside an interpreter."""
    import subinterp.interpreters as interps
    current = interps.get_current()
    return {
        'current': current.id,
        'current_again_same_object': interps.get_current() is current,
        'main': interps.get_main().id,
        'all': [interp.id for interp in interps.list_all()],
        'running': current.is_running(),
        'whence': current.whence,
        'repr': repr(current),
        'main_whence': interps.get_main().whence,
    }


def control_plane_errors():
    """Every control-plane operation tried inside a sub-interpreter: name ->
    (exception type, message), or None if it did not raise."""
    import subinterp
    import subinterp.interpreters as interps
    main = interps.get_main()
    me = interps.get_current()
    operations = {
        'create': interps.create,
        'close self': me.close,
        'close main': main.close,
        'exec': lambda: main.exec('pass'),
        'call': lambda: main.call(len, ()),
        'call_in_thread': lambda: main._call(len, ((),), {}),
        'prepare_main': lambda: main.prepare_main(spam=1),
        'config': lambda: me.config,
        'validate': lambda: subinterp.Config().validate(),
    }
    results = {}
    for name, operation in operations.items():
        try:
            operation()
        except BaseException as exc:  # noqa: B036 -- reported to the caller
            results[name] = (type(exc).__name__, issubclass(type(exc), interps.InterpreterError), str(exc))
        else:
            results[name] = None
    return results


class Spam:

    @staticmethod
    def noop():
        pass

    @classmethod
    def from_values(cls, *values):
        return cls(values)

    def __init__(self, value):
        self.value = value

    def __call__(self, *args, **kwargs):
        return (self.value, args, kwargs)

    def __eq__(self, other):
        if not isinstance(other, Spam):
            return NotImplemented
        return self.value == other.value

    def run(self, *args, **kwargs):
        return (self.value, args, kwargs)


class SpamError(Exception):
    """A custom exception, importable in every interpreter."""


def call_func_complex(op, /, value=None, *args, exc=None, **kwargs):
    if exc is not None:
        raise exc
    if op == '':
        raise ValueError('missing op')
    elif op == 'ident':
        if args or kwargs:
            raise Exception((args, kwargs))
        return value
    elif op == 'full-ident':
        return (value, args, kwargs)
    elif op == 'globals':
        if value is not None or args or kwargs:
            raise Exception((value, args, kwargs))
        return __name__
    elif op == 'interpid':
        if value is not None or args or kwargs:
            raise Exception((value, args, kwargs))
        return interpreters.get_current().id
    elif op == 'closure':
        if args or kwargs:
            raise Exception((args, kwargs))
        return get_call_func_closure(value)
    elif op == 'custom':
        if args or kwargs:
            raise Exception((args, kwargs))
        return Spam(value)
    elif op == 'custom-inner':
        if args or kwargs:
            raise Exception((args, kwargs))

        class Eggs(Spam):
            pass
        return Eggs(value)
    elif not isinstance(op, str):
        raise TypeError(op)
    else:
        raise NotImplementedError(op)


def wait_for_release(started, release):
    """Runs in another interpreter until `release` gets an item."""
    started.put('started')
    return release.get(timeout=60)


def raise_custom():
    raise SpamError('custom failure')


def raise_nested():
    def inner():
        raise KeyError('missing')
    try:
        inner()
    except KeyError as exc:
        raise RuntimeError('outer') from exc


# --- helpers ------------------------------------------------------------------------------

@contextlib.contextmanager
def captured_thread_exception():
    """Catches what threading.excepthook would print, as 3.14's tests do."""
    ctx = types.SimpleNamespace(caught=None)
    original = threading.excepthook

    def excepthook(args):
        ctx.caught = args
    threading.excepthook = excepthook
    try:
        yield ctx
    finally:
        threading.excepthook = original


@contextlib.contextmanager
def running(interp):
    """The interpreter runs a call (in another thread) for the duration."""
    started = interpreters.create_queue()
    release = interpreters.create_queue()
    with captured_thread_exception() as ctx:
        thread = interp.call_in_thread(wait_for_release, started, release)
        try:
            assert started.get(timeout=60) == 'started'
            yield
        finally:
            release.put(None)
            thread.join()
    assert ctx.caught is None, ctx.caught


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    os.close(r)
    os.close(w)


def ids(interps):
    return [interp.id for interp in interps]


# --- module -------------------------------------------------------------------------------

class TestModule:

    def test_queue_aliases(self):
        assert interpreters.Queue is subinterp._data_plane.Queue
        assert interpreters.QueueEmpty is interpreters.QueueEmpty
        for name in interpreters.__all__:
            assert hasattr(interpreters, name), name

    def test_all(self):
        assert set(interpreters.__all__) == {
            'get_current', 'get_main', 'create', 'list_all', 'is_shareable',
            'Interpreter', 'InterpreterError', 'InterpreterNotFoundError', 'ExecutionFailed',
            'NotShareableError', 'create_queue', 'Queue', 'QueueEmpty', 'QueueFull',
        }

    def test_exception_hierarchy(self):
        assert issubclass(InterpreterNotFoundError, InterpreterError)
        assert issubclass(ExecutionFailed, InterpreterError)
        assert issubclass(InterpreterError, Exception)
        for cls in (InterpreterError, InterpreterNotFoundError, ExecutionFailed):
            assert cls.__module__ == 'subinterp.interpreters'


# --- create / get_main / get_current / list_all -------------------------------------------

class TestCreate:

    def test_in_main(self):
        interp = interpreters.create()
        try:
            assert isinstance(interp, interpreters.Interpreter)
            assert interp in interpreters.list_all()
            assert interp.id > 0
            assert interp.whence == WHENCE_STDLIB
            assert not interp.is_running()
        finally:
            interp.close()

    def test_in_thread(self):
        created = []
        thread = threading.Thread(target=lambda: created.append(interpreters.create()))
        thread.start()
        thread.join()
        interp, = created
        try:
            assert interp in interpreters.list_all()
        finally:
            interp.close()

    def test_after_destroy_all(self):
        before = set(interpreters.list_all())
        interp_lst = [interpreters.create() for _ in range(3)]
        for interp in interp_lst:
            interp.close()
        interp = interpreters.create()
        try:
            assert set(interpreters.list_all()) == before | {interp}
        finally:
            interp.close()

    def test_after_destroy_some(self):
        before = set(interpreters.list_all())
        interp1 = interpreters.create()
        interp2 = interpreters.create()
        interp3 = interpreters.create()
        interp1.close()
        interp2.close()
        interp = interpreters.create()
        try:
            assert set(interpreters.list_all()) == before | {interp3, interp}
        finally:
            interp.close()
            interp3.close()

    def test_ids_not_reused(self):
        first = interpreters.create()
        first_id = first.id
        first.close()
        second = interpreters.create()
        try:
            assert second.id != first_id
        finally:
            second.close()

    def test_clean_main_module(self, interp):
        # Nothing of create()'s own set-up is left in __main__.
        assert interp.call(dir) == FRESH_MAIN_NAMES

    def test_sys_path_copied(self, interp):
        assert interp.call(eval, '__import__("sys").path') == [p for p in sys.path if isinstance(p, str)]

    def test_bad_config(self):
        with pytest.raises(TypeError):
            interpreters.create(42)
        with pytest.raises(ValueError):
            interpreters.create('no such preset')


class TestGetMain:

    def test_id(self):
        assert interpreters.get_main().id == 0

    def test_current(self):
        assert interpreters.get_main() is interpreters.get_current()

    def test_idempotent(self):
        assert interpreters.get_main() is interpreters.get_main()

    def test_from_subinterpreter(self, interp):
        assert interp.call(current_interpreter_view)['main'] == 0


class TestGetCurrent:

    def test_main(self):
        assert interpreters.get_current() == interpreters.get_main()

    def test_idempotent(self):
        assert interpreters.get_current() is interpreters.get_current()

    def test_subinterpreter(self, interp):
        view = interp.call(current_interpreter_view)
        assert view == {
            'current': interp.id,
            'current_again_same_object': True,
            'main': 0,
            'all': [0, interp.id],
            'running': True,
            'whence': WHENCE_STDLIB,
            'repr': f'Interpreter({interp.id})',
            'main_whence': WHENCE_RUNTIME,
        }
        current = interpreters.Interpreter(view['current'])
        assert current is interp
        assert current != interpreters.get_main()

    def test_subinterpreter_stateless_function(self, interp):
        # A nested function goes by its code, not by name: the same answers.
        def current_id():
            import subinterp.interpreters as interps
            return interps.get_current().id
        assert interp.call(current_id) == interp.id

    def test_subinterpreter_exec(self, interp):
        interp.exec('import subinterp.interpreters as interps\ncur_id = interps.get_current().id')
        assert interp.call(eval, 'cur_id') == interp.id

    def test_in_thread(self):
        seen = []
        thread = threading.Thread(target=lambda: seen.append(interpreters.get_current()))
        thread.start()
        thread.join()
        assert seen == [interpreters.get_main()]


class TestListAll:

    def test_initial(self):
        assert interpreters.list_all() == [interpreters.get_main()]

    def test_after_creating(self):
        main = interpreters.get_current()
        first = interpreters.create()
        second = interpreters.create()
        try:
            assert ids(interpreters.list_all()) == [main.id, first.id, second.id]
        finally:
            first.close()
            second.close()

    def test_after_destroying(self):
        main = interpreters.get_current()
        first = interpreters.create()
        second = interpreters.create()
        first.close()
        try:
            assert ids(interpreters.list_all()) == [main.id, second.id]
        finally:
            second.close()

    def test_idempotent(self):
        main = interpreters.get_current()
        first = interpreters.create()
        second = interpreters.create()
        try:
            expected = [main, first, second]
            actual = interpreters.list_all()
            assert actual == expected
            for interp1, interp2 in zip(actual, expected):
                assert interp1 is interp2
        finally:
            first.close()
            second.close()

    def test_from_subinterpreter(self, interp):
        other = interpreters.create()
        try:
            assert interp.call(current_interpreter_view)['all'] == [0, interp.id, other.id]
        finally:
            other.close()


# --- the Interpreter object ---------------------------------------------------------------

class TestInterpreterObject:

    def test_init_int(self):
        interpid = interpreters.get_current().id
        assert interpreters.Interpreter(interpid).id == interpid

    def test_init_created(self, interp):
        assert interpreters.Interpreter(interp.id) is interp

    @pytest.mark.parametrize('interpid', ['0', 0.0, object(), None, '', b'0', [0]])
    def test_init_unsupported(self, interpid):
        with pytest.raises(TypeError, match='id must be an int'):
            interpreters.Interpreter(interpid)

    def test_idempotent(self):
        main = interpreters.get_main()
        assert interpreters.Interpreter(main.id) is main

    def test_init_does_not_exist(self):
        with pytest.raises(InterpreterNotFoundError, match='interpreter 1000000 not found'):
            interpreters.Interpreter(1_000_000)

    def test_init_bad_id(self):
        with pytest.raises(ValueError, match='non-negative'):
            interpreters.Interpreter(-1)

    def test_init_too_big(self):
        with pytest.raises(OverflowError):
            interpreters.Interpreter(2 ** 100)

    def test_id_type(self, interp):
        assert type(interpreters.get_main().id) is int
        assert type(interpreters.get_current().id) is int
        assert type(interp.id) is int

    def test_id_readonly(self, interp):
        with pytest.raises(AttributeError):
            interp.id = 1_000_000

    def test_whence(self, interp):
        main = interpreters.get_main()
        assert main.whence == WHENCE_RUNTIME
        assert interp.whence == WHENCE_STDLIB
        for value in [None, 'unknown', WHENCE_RUNTIME, WHENCE_STDLIB, 'C-API']:
            with pytest.raises(AttributeError):
                interp.whence = value
            with pytest.raises(AttributeError):
                main.whence = value

    def test_repr(self, interp):
        assert repr(interp) == f'Interpreter({interp.id})'
        assert repr(interpreters.get_main()) == 'Interpreter(0)'

    def test_hashable(self, interp):
        assert hash(interp) == hash(interp.id)
        assert {interp: 1}[interpreters.Interpreter(interp.id)] == 1

    def test_equality(self):
        interp1 = interpreters.create()
        interp2 = interpreters.create()
        try:
            assert interp1 == interp1
            assert interp1 != interp2
        finally:
            interp1.close()
            interp2.close()

    @pytest.mark.parametrize('protocol', range(pickle.HIGHEST_PROTOCOL + 1))
    def test_pickle(self, interp, protocol):
        data = pickle.dumps(interp, protocol)
        unpickled = pickle.loads(data)
        assert unpickled is interp
        assert interp.__reduce__() == (interpreters.Interpreter, (interp.id,))

    def test_pickle_closed(self):
        interp = interpreters.create()
        data = pickle.dumps(interp)
        interp.close()
        del interp
        with pytest.raises(InterpreterNotFoundError):
            pickle.loads(data)

    def test_pickle_across_interpreters(self, interp):
        # An Interpreter sent to another interpreter names the same one there.
        assert interp.call(spam_returns_arg, interp) is interp
        assert interp.call(spam_returns_arg, interpreters.get_main()) is interpreters.get_main()


class TestIsRunning:

    def test_main(self):
        assert interpreters.get_main().is_running()

    def test_main_from_thread(self):
        seen = []
        thread = threading.Thread(target=lambda: seen.append(interpreters.get_main().is_running()))
        thread.start()
        thread.join()
        assert seen == [True]

    def test_subinterpreter(self, interp):
        assert not interp.is_running()
        with running(interp):
            assert interp.is_running()
        assert not interp.is_running()

    def test_finished(self, interp, pipe):
        r, w = pipe
        interp.exec(f"import os\nos.write({w}, b'x')")
        assert not interp.is_running()
        assert os.read(r, 1) == b'x'

    def test_from_subinterpreter(self, interp):
        assert interp.call(current_interpreter_view)['running'] is True

    def test_main_from_subinterpreter(self, interp):
        def main_is_running():
            import subinterp.interpreters as interps
            return interps.get_main().is_running()
        assert interp.call(main_is_running) is True

    def test_already_destroyed(self):
        interp = interpreters.create()
        interp.close()
        with pytest.raises(InterpreterNotFoundError):
            interp.is_running()

    def test_with_only_background_threads(self, interp, pipe):
        r, w = pipe
        release = interpreters.create_queue()
        interp.prepare_main(release=release)
        interp.exec(f"""if True:
            import os
            import threading

            def task():
                assert release.get(timeout=60) == 'done'
                os.write({w}, b'F')
            t = threading.Thread(target=task)
            t.start()
            """)
        assert not interp.is_running()
        release.put('done')
        interp.exec('t.join()')
        assert os.read(r, 1) == b'F'


class TestClose:

    def test_basic(self):
        main = interpreters.get_main()
        interp1 = interpreters.create()
        interp2 = interpreters.create()
        interp3 = interpreters.create()
        assert set(interpreters.list_all()) == {main, interp1, interp2, interp3}
        interp2.close()
        assert set(interpreters.list_all()) == {main, interp1, interp3}
        interp1.close()
        interp3.close()
        assert interpreters.list_all() == [main]

    def test_main(self):
        main, = interpreters.list_all()
        with pytest.raises(InterpreterError, match='cannot close the main interpreter'):
            main.close()
        errors = []

        def f():
            try:
                main.close()
            except InterpreterError as exc:
                errors.append(exc)
        thread = threading.Thread(target=f)
        thread.start()
        thread.join()
        assert len(errors) == 1
        assert interpreters.list_all() == [main]

    def test_already_destroyed(self):
        interp = interpreters.create()
        interp.close()
        with pytest.raises(InterpreterNotFoundError):
            interp.close()

    def test_from_current(self, interp):
        errors = interp.call(control_plane_errors)
        name, is_interpreter_error, message = errors['close self']
        assert is_interpreter_error
        assert 'works only in the main interpreter' in message
        assert set(interpreters.list_all()) == {interpreters.get_main(), interp}

    def test_from_other_thread(self):
        interp = interpreters.create()
        thread = threading.Thread(target=interp.close)
        thread.start()
        thread.join()
        with pytest.raises(InterpreterNotFoundError):
            interp.is_running()

    def test_still_running(self, interp):
        with running(interp):
            with pytest.raises(InterpreterError, match='is running code'):
                interp.close()
            assert interp.is_running()
        interp.close()
        assert interp not in interpreters.list_all()

    def test_subthreads_still_running(self, pipe):
        # Non-daemon threads are joined by close(), as CPython does.
        r, w = pipe
        interp = interpreters.create()
        release = interpreters.create_queue()
        interp.prepare_main(release=release)
        interp.exec(f"""if True:
            import os
            import threading

            def task():
                release.get(timeout=60)
                os.write({w}, b'F')
            t = threading.Thread(target=task)
            t.start()
            """)
        release.put(None)
        interp.close()
        assert os.read(r, 1) == b'F'
        assert interp not in interpreters.list_all()


class TestOwnership:

    def test_closed_when_last_reference_goes(self):
        interp = interpreters.create()
        interpid = interp.id
        assert interpid in ids(interpreters.list_all())
        del interp
        import gc
        gc.collect()
        assert interpid not in ids(interpreters.list_all())
        with pytest.raises(InterpreterNotFoundError):
            interpreters.Interpreter(interpid)

    def test_not_closed_while_referenced(self):
        interp = interpreters.create()
        interpid = interp.id
        again = interpreters.Interpreter(interpid)
        del interp
        import gc
        gc.collect()
        assert again.id in ids(interpreters.list_all())
        again.close()

    def test_closed_explicitly_then_dropped(self):
        interp = interpreters.create()
        interpid = interp.id
        interp.close()
        del interp  # __del__ must not complain about the closed interpreter
        import gc
        gc.collect()
        assert interpid not in ids(interpreters.list_all())


# --- prepare_main -------------------------------------------------------------------------

class TestPrepareMain:

    def test_empty(self, interp):
        with pytest.raises(ValueError):
            interp.prepare_main()
        with pytest.raises(ValueError):
            interp.prepare_main({})

    def test_dict(self, interp):
        interp.prepare_main({'spam': 42, 'eggs': 'ham'})
        assert interp.call(eval, '(spam, eggs)') == (42, 'ham')

    def test_tuple(self, interp):
        interp.prepare_main((('spam', 42), ('eggs', 'ham')))
        assert interp.call(eval, '(spam, eggs)') == (42, 'ham')

    def test_kwargs(self, interp):
        interp.prepare_main(spam=42, eggs='ham')
        assert interp.call(eval, '(spam, eggs)') == (42, 'ham')

    def test_dict_and_kwargs(self, interp):
        interp.prepare_main({'spam': 42, 'eggs': 'ham'}, foo='bar')
        assert interp.call(eval, '(spam, eggs, foo)') == (42, 'ham', 'bar')

    def test_kwargs_override_dict(self, interp):
        interp.prepare_main({'spam': 1}, spam=2)
        assert interp.call(eval, 'spam') == 2

    def test_shareable_containers(self, interp):
        queue = interpreters.create_queue()
        interp.prepare_main(spam={'spam': 'eggs', 'foo': ['bar', (1, 2.5)]}, queue=queue)
        assert interp.call(eval, 'spam') == {'spam': 'eggs', 'foo': ['bar', (1, 2.5)]}
        interp.exec('queue.put("from inside")')
        assert queue.get(timeout=60) == 'from inside'

    def test_not_shareable_pickled(self, interp):
        # Not shareable, but picklable: it arrives as an equal object.
        value = {frozenset({1, 2}), Spam('x').value}
        interp.prepare_main(spam=value, custom=Spam(7))
        assert interp.call(eval, 'type(spam).__name__, sorted(map(str, spam))') == \
            ('set', sorted(map(str, value)))
        assert interp.call(eval, 'custom') == Spam(7)
        assert interp.call(eval, 'type(custom).__module__') == __name__

    def test_not_shareable_not_bound(self, interp):
        with pytest.raises(interpreters.NotShareableError, match='lock'):
            interp.prepare_main(foo='bar', spam=threading.Lock())
        # Neither was bound.
        with pytest.raises(ExecutionFailed, match='NameError'):
            interp.exec('print(foo)')
        with pytest.raises(ExecutionFailed, match='NameError'):
            interp.exec('print(spam)')

    @pytest.mark.parametrize('name', ['not an identifier', '1st', '', 'a-b', 'spam.eggs'])
    def test_bad_identifier(self, interp, name):
        with pytest.raises(ValueError, match='is not a valid Python identifier'):
            interp.prepare_main({'ok': 1, name: 2})
        with pytest.raises(ExecutionFailed, match='NameError'):
            interp.exec('ok')

    def test_non_str_key(self, interp):
        with pytest.raises(ValueError, match='keys must be str'):
            interp.prepare_main({1: 2})

    def test_bad_namespace_type(self, interp):
        with pytest.raises(TypeError):
            interp.prepare_main(42)

    def test_overwrites(self, interp):
        interp.exec('spam = 1')
        interp.prepare_main(spam=2)
        assert interp.call(eval, 'spam') == 2

    def test_closed(self):
        interp = interpreters.create()
        interp.close()
        with pytest.raises(InterpreterNotFoundError):
            interp.prepare_main(spam=1)


# --- exec ---------------------------------------------------------------------------------

def script_writes_queue():
    import subinterp.interpreters as interps
    interps.get_current()  # a name bound here stays local to the script
    spam = 'it worked!'  # noqa: F841


class TestExec:

    def test_success(self, interp, pipe):
        r, w = pipe
        interp.exec(f"import os\nos.write({w}, b'it worked!')")
        assert os.read(r, 10) == b'it worked!'

    def test_state_persists(self, interp):
        interp.exec('x = 1')
        interp.exec('x += 1\ndef f():\n    return x * 10')
        assert interp.call(eval, 'x') == 2
        assert interp.call(eval, 'f()') == 20
        interp.exec('assert x == 2, x')

    def test_function(self, interp):
        def script():
            global spam
            spam = 'it worked!'
        interp.exec(script)
        assert interp.call(eval, 'spam') == 'it worked!'

    def test_function_by_name(self, interp):
        # A module-level function: its body runs in the target's __main__.
        interp.exec(script_writes_queue)
        assert interp.call(eval, "'spam' in dir()") is False  # locals stay local

    def test_code_object(self, interp):
        code = compile('spam = 6 * 7', '<test>', 'exec')
        interp.exec(code)
        assert interp.call(eval, 'spam') == 42

    def test_closure(self, interp):
        value = 42

        def script():
            print(value)
        with pytest.raises(ValueError, match='closure'):
            interp.exec(script)

    @pytest.mark.parametrize('signature', ['a', '*args', '**kwargs', '*, a', 'a=1'])
    def test_function_with_args(self, interp, signature):
        namespace = {}
        exec(f'def script({signature}):\n    pass', namespace)
        with pytest.raises(ValueError, match='must take no arguments'):
            interp.exec(namespace['script'])

    def test_code_object_with_free_variables(self, interp):
        value = 1

        def script():
            return value
        with pytest.raises(ValueError, match='free variables'):
            interp.exec(script.__code__)

    @pytest.mark.parametrize('script', [10, b'pass', None, ['pass'], len])
    def test_bad_script(self, interp, script):
        with pytest.raises(TypeError):
            interp.exec(script)

    def test_failure(self, interp):
        with pytest.raises(ExecutionFailed):
            interp.exec('raise Exception')

    def test_exception_info(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec("raise RuntimeError('uh-oh!')")
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'RuntimeError'
        assert info.type.__qualname__ == 'RuntimeError'
        assert info.type.__module__ == 'builtins'
        assert info.msg == 'uh-oh!'
        assert info.formatted == 'RuntimeError: uh-oh!'
        assert info.errdisplay.startswith('Traceback (most recent call last):\n')
        assert info.errdisplay.endswith('RuntimeError: uh-oh!\n')
        assert excinfo.value.args == ('RuntimeError: uh-oh!',)

    def test_str_format(self, interp):
        # As 3.14: "<formatted>\n\nUncaught in the interpreter:\n\n<errdisplay>".
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec("raise RuntimeError('uh-oh!')")
        info = excinfo.value.excinfo
        assert str(excinfo.value) == f'{info.formatted}\n\nUncaught in the interpreter:\n\n{info.errdisplay}'
        assert str(excinfo.value) == (
            'RuntimeError: uh-oh!\n\nUncaught in the interpreter:\n\n'
            'Traceback (most recent call last):\n'
            '  File "<subinterp>", line 1, in <module>\n'
            'RuntimeError: uh-oh!\n')

    def test_display_preserved_exception(self, interp):
        # The traceback of a function shows its frames and source lines.
        def script():
            def ham():
                raise RuntimeError('uh-oh!')

            def eggs():
                ham()
            eggs()
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec(script)
        errdisplay = excinfo.value.excinfo.errdisplay
        assert f'File "{__file__}"' in errdisplay
        assert 'in eggs\n' in errdisplay
        assert 'in ham\n' in errdisplay
        assert "raise RuntimeError('uh-oh!')" in errdisplay
        assert errdisplay.endswith('RuntimeError: uh-oh!\n')
        assert "raise RuntimeError('uh-oh!')" in str(excinfo.value)

    def test_exception_without_message(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec('raise Exception')
        info = excinfo.value.excinfo
        assert (info.type.__name__, info.msg, info.formatted) == ('Exception', '', 'Exception')

    def test_exception_in_main_module(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec('class Outer:\n    class Spam(Exception):\n        pass\nraise Outer.Spam("eggs")')
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'Spam'
        assert info.type.__qualname__ == 'Outer.Spam'
        assert info.type.__module__ == '__main__'
        assert info.msg == 'eggs'
        assert info.formatted == 'Outer.Spam: eggs'

    def test_exception_from_module(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec('import json\njson.loads("{")')
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'JSONDecodeError'
        assert info.type.__qualname__ == 'JSONDecodeError'
        assert info.type.__module__ == 'json.decoder'
        assert info.msg.startswith('Expecting property name enclosed in double quotes')
        assert info.formatted == f'json.decoder.JSONDecodeError: {info.msg}'

    def test_chained_exception(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec(raise_nested)
        info = excinfo.value.excinfo
        assert info.formatted == 'RuntimeError: outer'
        assert "KeyError: 'missing'" in info.errdisplay
        assert 'The above exception was the direct cause of the following exception' in info.errdisplay

    def test_syntax_error(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec('1 +')
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'SyntaxError'
        assert info.type.__module__ == 'builtins'
        assert info.msg.startswith('invalid syntax')
        assert 'SyntaxError: invalid syntax' in info.errdisplay
        interp.exec('still_usable = True')
        assert interp.call(eval, 'still_usable') is True

    @pytest.mark.parametrize('source, code', [('raise SystemExit', 'None'), ('raise SystemExit(3)', '3'),
                                              ('import sys\nsys.exit("bye")', "'bye'")])
    def test_system_exit(self, interp, source, code):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec(source)
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'SystemExit'
        assert info.type.__module__ == 'builtins'
        # The interpreter is still there and usable.
        assert interp in interpreters.list_all()
        interp.exec('after_exit = 1')
        assert interp.call(eval, 'after_exit') == 1

    def test_keyboard_interrupt(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec('raise KeyboardInterrupt')
        assert excinfo.value.excinfo.type.__name__ == 'KeyboardInterrupt'

    def test_in_thread(self, interp, pipe):
        r, w = pipe
        errors = []

        def f():
            try:
                interp.exec(f"import os\nos.write({w}, b'it worked!')")
            except BaseException as exc:  # noqa: B036
                errors.append(exc)
        thread = threading.Thread(target=f)
        thread.start()
        thread.join()
        assert errors == []
        assert os.read(r, 10) == b'it worked!'

    def test_fork(self, interp, tmp_path):
        path = tmp_path / 'out.txt'
        expected = 'spam spam spam spam spam'
        interp.exec(f"""if True:
            import os
            try:
                os.fork()
            except RuntimeError:
                with open({str(path)!r}, 'w', encoding='utf-8') as out:
                    out.write({expected!r})
            """)
        assert path.read_text(encoding='utf-8') == expected

    def test_with_background_threads_still_running(self, interp, pipe):
        r, w = pipe
        release = interpreters.create_queue()
        interp.prepare_main(release=release)
        interp.exec(f"""if True:
            import os
            import threading

            def task():
                assert release.get(timeout=60) == 'done'
                os.write({w}, b'F')
            t = threading.Thread(target=task)
            t.start()
            os.write({w}, b'R')
            """)
        interp.exec(f"os.write({w}, b'R')")
        release.put('done')
        interp.exec('t.join()')
        assert os.read(r, 1) == b'R'
        assert os.read(r, 1) == b'R'
        assert os.read(r, 1) == b'F'

    def test_list_comprehension(self, interp, pipe):
        r, w = pipe
        interp.exec(f"import os\ncomp = [str(i) for i in range(10)]\nos.write({w}, ''.join(comp).encode())")
        assert os.read(r, 10) == b'0123456789'

    def test_null_character(self, interp):
        with pytest.raises(ValueError, match='null character'):
            interp.exec('x = 1\0')

    def test_lone_surrogate(self, interp):
        with pytest.raises(UnicodeEncodeError):
            interp.exec('x = "\udc80"')
        interp.exec('x = "\u20ac\U0001f600"')  # valid non-ASCII is fine
        assert interp.call(eval, 'x') == '\u20ac\U0001f600'

    def test_isolated_from_main(self, interp):
        interp.exec('import sys\nsys.modules["__main__"].marker = "sub"')
        import __main__
        assert not hasattr(__main__, 'marker')


# --- call ---------------------------------------------------------------------------------

class TestCall:

    def test_builtins(self, interp):
        assert interp.call(len, [1, 2, 3]) == 3
        assert interp.call(sum, (1, 2, 3)) == 6
        assert interp.call(max, 1, 5, 3) == 5
        assert interp.call(sorted, [3, 1, 2], reverse=True) == [3, 2, 1]
        assert interp.call(int, '101', base=2) == 5
        assert interp.call(str) == ''
        assert interp.call(print) is None

    def test_stdlib_functions(self, interp):
        import json
        import operator
        assert interp.call(math.sqrt, 16.0) == 4.0
        assert interp.call(os.getpid) == os.getpid()
        assert interp.call(json.dumps, {'a': [1, None]}) == '{"a": [1, null]}'
        assert interp.call(operator.add, 2, 3) == 5
        assert interp.call(json.loads, '[1, 2]') == [1, 2]

    def test_stateless_funcs(self, interp):
        assert interp.call(call_func_noop) is None
        assert interp.call(call_func_return_shareable) == (1, None)
        assert interp.call(call_func_return_pickleable) == [1, 2, 3]
        with pytest.raises(interpreters.NotShareableError):
            interp.call(call_func_return_unpickleable)

    @pytest.mark.xfail(strict=True, reason='core: a function returned by a call (or passed as an argument) is '
                                           'pickled, so a stateless lambda is not shareable; 3.14 shares it')
    def test_stateless_func_as_result(self, interp):
        res = interp.call(eval, 'lambda x: x')
        assert res(5) == 5

    def test_lambda(self, interp):
        assert interp.call(lambda x, y=10: x * y, 4) == 40
        assert interp.call(lambda *a, **k: (a, k), 1, b=2) == ((1,), {'b': 2})

    def test_nested_function(self, interp):
        def add(a, b=1, *, c=100):
            return a + b + c
        assert interp.call(add, 1) == 102
        assert interp.call(add, 1, 2, c=3) == 6

    def test_closure(self, interp):
        with pytest.raises(interpreters.NotShareableError, match="'function'.*pickl"):
            interp.call(get_call_func_closure(42))

    def test_call_invalid(self, interp):
        with pytest.raises(interpreters.NotShareableError):
            interp.call(get_call_func_closure, 42)
        with pytest.raises(interpreters.NotShareableError):
            interp.call(call_func_complex, 'closure', value='~~~')
        with pytest.raises(interpreters.NotShareableError):
            interp.call(call_func_complex, 'custom-inner', 'eggs!')

    @pytest.mark.parametrize('i, callable, args, kwargs, expected', [
        (1, call_func_noop, (), {}, None),
        (2, spam_returns_arg, ('spamspamspam',), {}, 'spamspamspam'),
        (3, call_func_return_shareable, (), {}, (1, None)),
        (4, call_func_return_pickleable, (), {}, [1, 2, 3]),
        (5, Spam.noop, (), {}, None),
        (6, Spam.from_values, (), {}, Spam(())),
        (7, Spam.from_values, (1, 2, 3), {}, Spam((1, 2, 3))),
        (8, Spam, ('???',), {}, Spam('???')),
        (9, Spam(101), (), {}, (101, (), {})),
        (10, Spam(10101).run, (), {}, (10101, (), {})),
        (11, call_func_complex, ('ident', 'spam'), {}, 'spam'),
        (12, call_func_complex, ('full-ident', 'spam'), {}, ('spam', (), {})),
        (13, call_func_complex, ('full-ident', 'spam', 'ham'), {'eggs': '!!!'}, ('spam', ('ham',), {'eggs': '!!!'})),
        (14, call_func_complex, ('globals',), {}, __name__),
        (16, call_func_complex, ('custom', 'spam!'), {}, Spam('spam!')),
        (17, functools.partial(int, base=2), ('101',), {}, 5),
        (18, functools.partial(spam_full_args, 1, 2, e=5), (3, 4), {'f': 6}, (1, 2, 3, 4, 5, 6, (), {})),
        (19, [1, 2, 2].count, (2,), {}, 2),
        (20, 'abc'.upper, (), {}, 'ABC'),
    ])
    def test_call_valid(self, interp, i, callable, args, kwargs, expected):
        assert interp.call(callable, *args, **kwargs) == expected

    def test_call_interpid(self, interp):
        assert interp.call(call_func_complex, 'interpid') == interp.id

    def test_full_args(self, interp):
        res = interp.call(spam_full_args, 1, 2, 3, 4, '?', e=5, f=6, g=7, h=8)
        assert res == (1, 2, 3, 4, 5, 6, ('?',), {'g': 7, 'h': 8})

    def test_full_defaults(self, interp):
        res = interp.call(spam_full_args_with_defaults, g=8, h=9)
        assert res == (-1, -2, -3, -4, -5, -6, (), {'g': 8, 'h': 9})

    @pytest.mark.parametrize('arg', [
        None, True, False, 0, 10, -10, 2 ** 63 - 1, -2 ** 63, 2 ** 64, -(2 ** 200), 2 ** 1000,
        0.0, 1.5, -2.25, float('inf'), float('-inf'), 1e308,
        '', 'spam!', 'h\u00e9llo \u20ac \U0001f600', 'nul\0inside',
        b'', b'spam!', bytes(range(256)),
        (), (1, 2, 'spam!'), (1, ('spam', ('eggs', (None,))), True),
        [], [1, [2, [3, [4]]]], {}, {'a': {'b': [1, (2, 3)]}}, {1: 'int key', (1, 'x'): 'tuple key', b'k': None},
    ], ids=repr)
    def test_returns_arg_portable(self, interp, arg):
        assert interpreters.is_shareable(arg)
        res = interp.call(spam_returns_arg, arg)
        assert type(res) is type(arg)
        assert res == arg

    def test_returns_arg_nan_and_negative_zero(self, interp):
        assert math.isnan(interp.call(spam_returns_arg, float('nan')))
        assert math.copysign(1.0, interp.call(spam_returns_arg, -0.0)) == -1.0

    def test_returns_memoryview(self, interp):
        res = interp.call(spam_returns_arg, memoryview(b'spam!'))
        assert type(res) is memoryview
        assert bytes(res) == b'spam!'
        assert res.readonly

    def test_returns_queue(self, interp):
        queue = interpreters.create_queue()
        assert interp.call(spam_returns_arg, queue) is queue
        interp.call(queue.put, 'from inside')  # a bound method of a shareable object
        assert queue.get(timeout=60) == 'from inside'

    @pytest.mark.parametrize('arg', [
        Ellipsis, NotImplemented, [1, 2, {3}], types.SimpleNamespace(x=42), frozenset({1}), bytearray(b'ab'),
        1 + 2j, object, type, Exception, ModuleNotFoundError, len, sys.exit, Spam, Spam('custom'),
        True.__class__, math.sqrt, spam_returns_arg,
    ], ids=repr)
    def test_returns_arg_pickleable(self, interp, arg):
        res = interp.call(spam_returns_arg, arg)
        assert type(res) is type(arg)
        assert res == arg

    def test_returns_arg_pickleable_identity_types(self, interp):
        assert type(interp.call(spam_returns_arg, object())) is object
        res = interp.call(spam_returns_arg, ModuleNotFoundError('mymodule'))
        assert type(res) is ModuleNotFoundError
        assert res.args == ('mymodule',)

    @pytest.mark.parametrize('arg', [types.MappingProxyType({}), threading.Lock(), get_call_func_closure(1)],
                             ids=repr)
    def test_unpickleable_arg(self, interp, arg):
        assert not interpreters.is_shareable(arg)
        with pytest.raises(interpreters.NotShareableError):
            interp.call(spam_returns_arg, arg)

    def test_unpickleable_result(self, interp):
        with pytest.raises(interpreters.NotShareableError, match="'_thread.lock'|'lock'"):
            interp.call(eval, '__import__("threading").Lock()')

    def test_args_are_copies(self, interp):
        value = {'a': [1]}
        res = interp.call(spam_returns_arg, value)
        assert res == value
        assert res is not value
        assert res['a'] is not value['a']

    def test_raises(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.call(spam_raises)
        info = excinfo.value.excinfo
        assert (info.type.__name__, info.msg, info.formatted) == ('Exception', 'spam!', 'Exception: spam!')
        assert 'in spam_raises' in info.errdisplay
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.call(call_func_complex, '???', exc=ValueError('spam'))
        assert excinfo.value.excinfo.type.__name__ == 'ValueError'

    def test_raises_builtin(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.call(int, 'x')
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'ValueError'
        assert info.type.__module__ == 'builtins'
        assert info.msg == "invalid literal for int() with base 10: 'x'"
        assert str(excinfo.value).startswith("ValueError: invalid literal for int() with base 10: 'x'\n\n"
                                             "Uncaught in the interpreter:\n\n")

    def test_raises_custom(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.call(raise_custom)
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'SpamError'
        assert info.type.__qualname__ == 'SpamError'
        assert info.type.__module__ == __name__
        assert info.formatted == f'{__name__}.SpamError: custom failure'

    def test_raises_wrong_arguments(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.call(spam_returns_arg)
        assert excinfo.value.excinfo.type.__name__ == 'TypeError'
        assert 'spam_returns_arg() missing 1 required positional argument' in excinfo.value.excinfo.msg

    def test_not_callable(self, interp):
        with pytest.raises(TypeError, match="'int' object is not callable"):
            interp.call(42)

    def test_callable_requires_frame(self, interp):
        assert interp.call(eval, '[1, 2, 3]') == [1, 2, 3]
        assert interp.call(eval, 'sum([1, 2, 3])') == 6
        assert interp.call(exec, '...') is None
        for func in (globals, locals, vars):
            with pytest.raises(interpreters.NotShareableError):
                interp.call(func)
        res = interp.call(dir)
        assert isinstance(res, list)
        assert '__builtins__' in res

    def test_globals_from_builtins(self, interp):
        from _frozen_importlib import BuiltinImporter
        names = interp.call(dir)
        assert names == FRESH_MAIN_NAMES
        values = {name: interp.call(eval, name) for name in names if name != '__builtins__'}
        assert values == {
            '__annotations__': {},
            '__name__': '__main__',
            '__doc__': None,
            '__spec__': None,
            '__package__': None,
            '__loader__': BuiltinImporter,
        }
        with pytest.raises(ExecutionFailed, match='NameError'):
            interp.call(eval, 'spam')
        interp.call(exec, f'assert dir() == {names}')
        interp.prepare_main(spam=42)
        expected = names + ['spam']
        assert interp.call(dir) == expected
        assert interp.call(eval, 'spam') == 42
        interp.call(exec, f'assert dir() == {expected}, dir()')
        assert interp.call(vars, Spam(3)) == {'value': 3}
        assert interp.call(dir, 1) == dir(1)

    def test_eval_exec_in_target_main(self, interp):
        interp.exec('spam = 42')
        assert interp.call(eval, 'spam') == 42
        assert interp.call(exec, 'eggs = spam + 1') is None
        assert interp.call(eval, 'eggs') == 43
        assert interp.call(eval, 'x + y', {'x': 1, 'y': 2}) == 3
        import __main__
        assert not hasattr(__main__, 'eggs')

    def test_globals_from_stateless_func(self, interp):
        def set_global(name, value):
            globals()[name] = value

        def get_global(name):
            return globals().get(name)
        assert interp.call(get_global, '__name__') == '__main__'
        assert interp.call(get_global, 'spam') is None
        interp.exec('spam = True')
        assert interp.call(get_global, 'spam') is True
        interp.call(set_global, 'spam', 42)
        assert interp.call(get_global, 'spam') == 42
        interp.exec('assert spam == 42, repr(spam)')

    def test_module_function_globals(self, interp):
        # A function sent by name runs with its module's globals there.
        assert interp.call(call_func_complex, 'globals') == __name__
        assert interp.call(eval, "'call_func_complex' in dir()") is False

    def test_in_thread(self, interp):
        results = []
        thread = threading.Thread(target=lambda: results.append(interp.call(call_func_complex, 'interpid')))
        thread.start()
        thread.join()
        assert results == [interp.id]

    def test_concurrent_interpreters(self):
        interps = [interpreters.create() for _ in range(3)]
        try:
            results = {}
            threads = [threading.Thread(target=lambda i=i: results.__setitem__(i.id, i.call(
                call_func_complex, 'interpid'))) for i in interps]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert results == {i.id: i.id for i in interps}
        finally:
            for i in interps:
                i.close()


class TestCallInThread:

    @pytest.mark.parametrize('i, callable, args, kwargs', [
        (1, call_func_noop, (), {}),
        (2, call_func_return_shareable, (), {}),
        (3, call_func_return_pickleable, (), {}),
        (4, Spam.from_values, (), {}),
        (5, Spam.from_values, (1, 2, 3), {}),
        (6, Spam(101), (), {}),
        (7, Spam(10101).run, (), {}),
        (8, Spam.noop, (), {}),
        (9, call_func_complex, ('ident', 'spam'), {}),
        (10, call_func_complex, ('full-ident', 'spam'), {}),
        (11, call_func_complex, ('full-ident', 'spam', 'ham'), {'eggs': '!!!'}),
        (12, call_func_complex, ('globals',), {}),
        (13, call_func_complex, ('interpid',), {}),
        (14, call_func_complex, ('custom', 'spam!'), {}),
    ])
    def test_success(self, interp, i, callable, args, kwargs):
        with captured_thread_exception() as ctx:
            thread = interp.call_in_thread(callable, *args, **kwargs)
            assert isinstance(thread, threading.Thread)
            thread.join()
        assert ctx.caught is None

    def test_runs(self, interp):
        queue = interpreters.create_queue()
        thread = interp.call_in_thread(queue.put, 'from the thread')
        thread.join()
        assert queue.get(timeout=60) == 'from the thread'

    def test_result_discarded(self, interp):
        thread = interp.call_in_thread(spam_returns_arg, 42)
        assert thread.join() is None

    @pytest.mark.parametrize('callable, args', [(get_call_func_closure, (42,)),
                                                (get_call_func_closure(42), ())])
    def test_invalid(self, interp, callable, args):
        with captured_thread_exception() as ctx:
            thread = interp.call_in_thread(callable, *args)
            thread.join()
        assert ctx.caught is not None
        assert ctx.caught.exc_type is interpreters.NotShareableError

    def test_failure(self, interp):
        with captured_thread_exception() as ctx:
            thread = interp.call_in_thread(spam_raises)
            thread.join()
        assert ctx.caught is not None
        assert ctx.caught.exc_type is ExecutionFailed
        assert ctx.caught.exc_value.excinfo.formatted == 'Exception: spam!'

    def test_is_running_during(self, interp):
        with running(interp):
            assert interp.is_running()
            assert interp.call(current_interpreter_view)['running'] is True  # another thread, same interp
        assert not interp.is_running()


# --- is_shareable -------------------------------------------------------------------------

class Cheese:
    def __init__(self, name):
        self.name = name


class SubBytes(bytes):
    """A subclass of a shareable type."""


class TestIsShareable:

    @pytest.mark.parametrize('obj', [
        None, b'spam', 'spam', 10, -10, 2 ** 1000, True, False, 100.0, float('nan'), (),
        (1, ('spam', 'eggs'), True), [], [1, [2]], {}, {'a': (1, 2)}, memoryview(b'spam'),
        'h\u00e9llo \U0001f600',
    ], ids=repr)
    def test_default_shareables(self, obj):
        assert interpreters.is_shareable(obj) is True

    def test_queue_and_interpreter(self):
        assert interpreters.is_shareable(interpreters.create_queue()) is True

    @pytest.mark.parametrize('obj', [
        NotImplemented, ..., type, object, object(), Exception(), Cheese, Cheese('Wensleydale'),
        SubBytes(b'spam'), bytearray(b'spam'), {1, 2}, frozenset(), 1 + 2j, len, lambda: None,
        threading.Lock(), (1, object()), [1, [Cheese('x')]], {'a': {1}}, '\udc80',
        types.SimpleNamespace(), Spam,
    ], ids=repr)
    def test_not_shareable(self, obj):
        assert interpreters.is_shareable(obj) is False

    def test_subclasses_not_shareable(self):
        class SubInt(int):
            pass

        class SubStr(str):
            pass
        assert interpreters.is_shareable(SubInt(1)) is False
        assert interpreters.is_shareable(SubStr('x')) is False

    def test_self_referencing(self):
        value = []
        value.append(value)
        assert interpreters.is_shareable(value) is False

    def test_deep_nesting(self):
        value = None
        for _ in range(150):
            value = [value]
        assert interpreters.is_shareable(value) is True
        for _ in range(100):
            value = [value]
        assert interpreters.is_shareable(value) is False

    def test_in_subinterpreter(self, interp):
        assert interp.call(interpreters.is_shareable, [1, 'a']) is True
        assert interp.call(eval, '__import__("subinterp.interpreters").interpreters.is_shareable(object())') \
            is False


# --- control plane from inside a sub-interpreter ------------------------------------------

class TestControlPlaneInSubinterpreter:

    def test_errors(self, interp):
        errors = interp.call(control_plane_errors)
        assert set(errors) == {'create', 'close self', 'close main', 'exec', 'call', 'call_in_thread',
                               'prepare_main', 'config', 'validate'}
        assert errors['close main'] == ('InterpreterError', True, 'cannot close the main interpreter')
        expected_names = {
            'create': 'create()',
            'close self': 'Interpreter.close()',
            'exec': 'Interpreter.exec()',
            'call': 'Interpreter.call()',
            'call_in_thread': 'Interpreter.call()',
            'prepare_main': 'Interpreter.prepare_main()',
            'config': 'Interpreter.config',
            'validate': 'Config.validate()',
        }
        for name, operation in expected_names.items():
            type_name, is_interpreter_error, message = errors[name]
            assert type_name == 'InterpreterError', (name, errors[name])
            assert is_interpreter_error
            assert message.startswith(f'{operation} works only in the main interpreter: '), message
            assert 'single-phase init' in message
        # Nothing happened.
        assert interpreters.list_all() == [interpreters.get_main(), interp]

    def test_uncaught_becomes_execution_failed(self, interp):
        with pytest.raises(ExecutionFailed) as excinfo:
            interp.exec('import subinterp.interpreters as interps\ninterps.create()')
        info = excinfo.value.excinfo
        assert info.type.__name__ == 'InterpreterError'
        assert info.type.__module__ == 'subinterp.interpreters'
        assert info.msg.startswith('create() works only in the main interpreter')
        assert info.formatted.startswith('subinterp.interpreters.InterpreterError: create() works only')

    def test_data_plane_works(self, interp):
        queue = interpreters.create_queue()
        interp.prepare_main(queue=queue)
        interp.exec('import subinterp.interpreters as interps\n'
                    'q2 = interps.create_queue()\n'
                    'q2.put(interps.get_current().id)\n'
                    'queue.put(q2)')
        inner = queue.get(timeout=60)
        assert inner.get(timeout=60) == interp.id


# --- stale ids ----------------------------------------------------------------------------

class TestClosedInterpreter:

    @pytest.fixture
    def closed(self):
        interp = interpreters.create()
        interp.close()
        return interp

    def test_attributes_still_work(self, closed):
        assert repr(closed) == f'Interpreter({closed.id})'
        assert hash(closed) == hash(closed.id)
        assert closed.whence == WHENCE_STDLIB
        assert closed not in interpreters.list_all()

    def test_lookup(self, closed):
        with pytest.raises(InterpreterNotFoundError):
            interpreters.Interpreter(closed.id)

    @pytest.mark.parametrize('operation', [
        lambda i: i.is_running(),
        lambda i: i.close(),
        lambda i: i.exec('pass'),
        lambda i: i.exec(call_func_noop),
        lambda i: i.call(len, ()),
        lambda i: i.call(call_func_noop),
        lambda i: i.prepare_main(spam=1),
        lambda i: i.config,
    ], ids=['is_running', 'close', 'exec str', 'exec function', 'call builtin', 'call function',
            'prepare_main', 'config'])
    def test_operations(self, closed, operation):
        with pytest.raises(InterpreterNotFoundError):
            operation(closed)

    def test_call_in_thread(self, closed):
        with captured_thread_exception() as ctx:
            closed.call_in_thread(call_func_noop).join()
        assert ctx.caught.exc_type is InterpreterNotFoundError

    def test_closed_while_referenced_elsewhere(self):
        interp = interpreters.create()
        same = interpreters.Interpreter(interp.id)
        interp.close()
        with pytest.raises(InterpreterNotFoundError):
            same.exec('pass')


# --- wrong argument types -----------------------------------------------------------------

class TestArgumentTypes:

    def test_create(self):
        with pytest.raises(TypeError):
            interpreters.create(config=[])

    def test_call_requires_callable(self, interp):
        with pytest.raises(TypeError):
            interp.call('len', [1])
        with pytest.raises(TypeError):
            interp.call()

    def test_exec_requires_code(self, interp):
        with pytest.raises(TypeError):
            interp.exec()
        with pytest.raises(TypeError):
            interp.exec(1.5)

    def test_positional_only(self, interp):
        with pytest.raises(TypeError):
            interp.exec(code='pass')
        # call()'s callable is positional-only, so 'callable' may be a keyword argument.
        assert interp.call(spam_full_args_with_defaults, callable=1) == (-1, -2, -3, -4, -5, -6, (), {'callable': 1})

    def test_is_running_takes_no_arguments(self, interp):
        with pytest.raises(TypeError):
            interp.is_running(True)

    def test_create_queue(self):
        with pytest.raises(TypeError):
            interpreters.create_queue('big')


class TestProcessExit:
    """Interpreters still open when the program ends: the package destroys them
    at exit (CPython's finalization aborts with live sub-interpreters on 3.12),
    and a library call made while CPython finalizes is refused, not fatal."""

    @staticmethod
    def run(source):
        import subprocess
        return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True, timeout=120)

    def test_open_interpreters_are_closed_at_exit(self):
        completed = self.run(
            "import subinterp.interpreters as interpreters\n"
            "kept = [interpreters.create() for _ in range(3)]\n"
            "kept[0].exec('x = 1')\n"
            "print(len(interpreters.list_all()))\n")
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout == "4\n"
        assert completed.stderr == ""

    def test_a_call_during_finalization_is_refused(self):
        # __main__'s globals are cleared after Py_IsInitialized() turned false:
        # the library must not take CPython for absent and try to start it.
        completed = self.run(
            "import subinterp.interpreters as interpreters\n"
            "from subinterp import capi\n"
            "interpreters.create()\n"
            "class Late:\n"
            "    def __del__(self):\n"
            "        try:\n"
            "            capi.main_id()\n"
            "        except interpreters.InterpreterError as exc:\n"
            "            print(type(exc).__name__, exc.status_name, exc)\n"
            "late = Late()\n")
        assert completed.returncode == 0, completed.stderr
        assert completed.stdout == (
            "InterpreterError SUBINTERP_ERR_RUNTIME CPython is finalizing; no interpreter can be used now\n")
