"""The C ABI's status codes as Python exceptions: the mapping of
subinterp._errors.exception_for() for every code of subinterp.h, and real
triggers through the public API for each code Python code can reach."""
import concurrent.futures
import re
import threading
from pathlib import Path

import pytest

import subinterp
import subinterp.interpreters as interpreters
from subinterp import Config, Gil
from subinterp._errors import (
    ExecutionFailed,
    InterpreterBusyError,
    InterpreterConfigError,
    InterpreterError,
    InterpreterNotFoundError,
    ExecutionCancelled,
    ExecutionTimeout,
    exception_for,
)

dp = subinterp._data_plane

# name -> (value, exception class), every SUBINTERP_ERR_* of subinterp.h.
STATUSES = {
    'SUBINTERP_ERR_INVALID_ARGUMENT': (1, ValueError),
    'SUBINTERP_ERR_NOT_FOUND': (2, InterpreterNotFoundError),
    'SUBINTERP_ERR_BUSY': (3, InterpreterBusyError),
    'SUBINTERP_ERR_PYTHON': (4, ExecutionFailed),
    'SUBINTERP_ERR_CONFIG': (5, InterpreterConfigError),
    'SUBINTERP_ERR_RUNTIME': (6, InterpreterError),
    'SUBINTERP_ERR_TYPE': (7, TypeError),
    'SUBINTERP_ERR_OVERFLOW': (8, OverflowError),
    'SUBINTERP_ERR_NOT_SHAREABLE': (9, dp.NotShareableError),
    'SUBINTERP_ERR_INDEX': (10, IndexError),
    'SUBINTERP_ERR_NO_MEMORY': (11, MemoryError),
    'SUBINTERP_ERR_TIMEOUT': (12, ExecutionTimeout),  # a TimeoutError
    'SUBINTERP_ERR_QUEUE_EMPTY': (13, dp.QueueEmpty),
    'SUBINTERP_ERR_QUEUE_FULL': (14, dp.QueueFull),
    'SUBINTERP_ERR_CLOSED': (15, dp.QueueClosedError),
    'SUBINTERP_ERR_CANCELLED': (16, ExecutionCancelled),  # a concurrent.futures.CancelledError
    'SUBINTERP_ERR_UNBOUND': (17, dp.ItemInterpreterDestroyed),
    'SUBINTERP_ERR_INTERNAL': (99, SystemError),
}

HEADER = Path(__file__).resolve().parents[3] / 'capi' / 'include' / 'subinterp.h'


def header_statuses():
    text = HEADER.read_text(encoding='utf-8')
    return {name: int(value) for name, value in re.findall(r'(SUBINTERP_ERR_[A-Z_]+) = (\d+)', text)}


@pytest.mark.skipif(not HEADER.exists(), reason='needs the source tree (capi/include/subinterp.h)')
def test_table_covers_the_header():
    assert header_statuses() == {name: value for name, (value, _) in STATUSES.items()}


@pytest.mark.parametrize('name', sorted(STATUSES, key=lambda n: STATUSES[n][0]))
def test_exception_for(name):
    status, cls = STATUSES[name]
    exc = exception_for(status, name, f'message of {name}')
    assert type(exc) is cls
    assert exc.status == status
    assert issubclass(ExecutionTimeout, TimeoutError)
    assert issubclass(ExecutionCancelled, concurrent.futures.CancelledError)
    assert exc.status_name == name
    if cls is ExecutionFailed:
        assert exc.excinfo.msg == f'message of {name}'
        assert exc.excinfo.type.__name__ == 'Exception'
        assert exc.excinfo.type.__module__ == 'builtins'
    else:
        assert str(exc) == f'message of {name}'
        assert exc.args == (f'message of {name}',)


def test_exception_for_unknown_status():
    exc = exception_for(12345, 'SUBINTERP_ERR_FUTURE', 'from a newer library')
    assert type(exc) is InterpreterError
    assert (exc.status, exc.status_name, str(exc)) == (12345, 'SUBINTERP_ERR_FUTURE', 'from a newer library')


def test_exception_for_python():
    exc = exception_for(4, 'SUBINTERP_ERR_PYTHON', 'bad value', 'json.decoder', 'JSONDecodeError',
                        'Traceback (most recent call last):\n  ...\njson.decoder.JSONDecodeError: bad value\n')
    assert type(exc) is ExecutionFailed
    info = exc.excinfo
    assert (info.type.__name__, info.type.__qualname__, info.type.__module__) == \
        ('JSONDecodeError', 'JSONDecodeError', 'json.decoder')
    assert info.msg == 'bad value'
    assert info.formatted == 'json.decoder.JSONDecodeError: bad value'
    assert str(exc) == ('json.decoder.JSONDecodeError: bad value\n\nUncaught in the interpreter:\n\n'
                        'Traceback (most recent call last):\n  ...\njson.decoder.JSONDecodeError: bad value\n')


def test_exception_for_python_nested_and_main():
    exc = exception_for(4, 'SUBINTERP_ERR_PYTHON', '', '__main__', 'Outer.Inner', '')
    info = exc.excinfo
    assert (info.type.__name__, info.type.__qualname__, info.type.__module__) == ('Inner', 'Outer.Inner', '__main__')
    assert info.msg == ''
    assert info.formatted == 'Outer.Inner'


def test_exception_for_python_defaults():
    exc = exception_for(4, 'SUBINTERP_ERR_PYTHON', 'boom')
    assert exc.excinfo.type.__module__ == 'builtins'
    assert exc.excinfo.type.__qualname__ == 'Exception'
    assert exc.excinfo.formatted == 'Exception: boom'
    assert exc.excinfo.errdisplay == ''


def test_hierarchy():
    assert issubclass(InterpreterConfigError, ValueError)
    assert issubclass(InterpreterConfigError, InterpreterError)
    assert issubclass(InterpreterBusyError, InterpreterError)
    assert issubclass(InterpreterNotFoundError, InterpreterError)
    assert issubclass(ExecutionFailed, InterpreterError)
    for cls in (dp.QueueEmpty, dp.QueueFull, dp.QueueClosedError, dp.QueueNotFoundError):
        assert issubclass(cls, dp.QueueError)
    assert interpreters.NotShareableError is dp.NotShareableError
    assert interpreters.QueueEmpty is dp.QueueEmpty
    assert interpreters.QueueFull is dp.QueueFull


def test_pickle_keeps_public_module():
    import pickle
    for cls in (InterpreterError, InterpreterNotFoundError, InterpreterBusyError, InterpreterConfigError):
        exc = pickle.loads(pickle.dumps(cls('spam')))
        assert type(exc) is cls
        assert exc.args == ('spam',)


# --- real triggers ------------------------------------------------------------------------

def assert_status(exc, status, name):
    assert exc.status == status
    assert exc.status_name == name


def test_not_found():
    interp = interpreters.create()
    interp.close()
    with pytest.raises(InterpreterNotFoundError) as excinfo:
        interp.exec('pass')
    assert_status(excinfo.value, 2, 'SUBINTERP_ERR_NOT_FOUND')
    with pytest.raises(InterpreterNotFoundError) as excinfo:
        interp.close()
    assert_status(excinfo.value, 2, 'SUBINTERP_ERR_NOT_FOUND')


def test_busy(interp):
    started = interpreters.create_queue()
    release = interpreters.create_queue()
    interp.prepare_main(started=started, release=release)
    thread = threading.Thread(target=interp.exec, args=('started.put(1)\nrelease.get(timeout=60)',))
    thread.start()
    try:
        assert started.get(timeout=60) == 1
        with pytest.raises(InterpreterBusyError, match='is running code') as excinfo:
            interp.close()
        assert_status(excinfo.value, 3, 'SUBINTERP_ERR_BUSY')
        assert isinstance(excinfo.value, InterpreterError)
    finally:
        release.put(None)
        thread.join()


def test_python(interp):
    with pytest.raises(ExecutionFailed) as excinfo:
        interp.exec('raise KeyError("k")')
    assert_status(excinfo.value, 4, 'SUBINTERP_ERR_PYTHON')
    assert excinfo.value.excinfo.formatted == "KeyError: 'k'"


@pytest.mark.parametrize('config', [Config(use_main_obmalloc=True, gil=Gil.OWN),
                                    Config(check_multi_interp_extensions=False)])
def test_config(config):
    before = interpreters.list_all()
    with pytest.raises(InterpreterConfigError) as excinfo:
        interpreters.create(config)
    assert_status(excinfo.value, 5, 'SUBINTERP_ERR_CONFIG')
    assert interpreters.list_all() == before


def test_invalid_argument(interp):
    with pytest.raises(ValueError, match='is not a valid Python identifier') as excinfo:
        interp.prepare_main({'no such name': 1})
    assert_status(excinfo.value, 1, 'SUBINTERP_ERR_INVALID_ARGUMENT')


def test_invalid_argument_null_character(interp):
    # Refused before the C library sees it (it would cut the source at the NUL).
    with pytest.raises(ValueError, match='source contains a null character'):
        interp.exec('x = 1\0raise SystemExit')
    with pytest.raises(ExecutionFailed, match='NameError'):
        interp.exec('x')


def test_not_shareable_result(interp):
    with pytest.raises(interpreters.NotShareableError) as excinfo:
        interp.call(eval, '__import__("threading").Lock()')
    assert_status(excinfo.value, 9, 'SUBINTERP_ERR_NOT_SHAREABLE')
    assert 'not shareable' in str(excinfo.value)


def test_not_shareable_argument(interp):
    with pytest.raises(interpreters.NotShareableError, match="objects of type '_thread.lock' are not shareable"):
        interp.call(len, threading.Lock())


def test_queue_empty():
    queue = interpreters.create_queue()
    with pytest.raises(interpreters.QueueEmpty):
        queue.get_nowait()
    with pytest.raises(interpreters.QueueEmpty):
        queue.get(timeout=0.01)
    with pytest.raises(interpreters.QueueEmpty):
        queue.get(block=False)


def test_queue_full():
    queue = interpreters.create_queue(1)
    queue.put(1)
    with pytest.raises(interpreters.QueueFull):
        queue.put_nowait(2)
    with pytest.raises(interpreters.QueueFull):
        queue.put(2, timeout=0.01)
    assert queue.get_nowait() == 1


def test_queue_closed():
    queue = interpreters.create_queue()
    queue.put('left')
    queue.close()
    with pytest.raises(dp.QueueClosedError):
        queue.put('more')
    assert queue.get_nowait() == 'left'
    with pytest.raises(dp.QueueClosedError):
        queue.get_nowait()


def test_queue_closed_from_subinterpreter(interp):
    queue = interpreters.create_queue()
    queue.close()
    with pytest.raises(ExecutionFailed) as excinfo:
        interp.call(queue.put, 1)
    assert excinfo.value.excinfo.type.__name__ == 'QueueClosedError'


def test_unbound():
    queue = interpreters.create_queue()
    interp = interpreters.create()
    interp.prepare_main(queue=queue)
    interp.exec('queue.put([1], unbounditems=__import__("subinterp.interpreters").interpreters.UNBOUND_ERROR)')
    interp.close()
    with pytest.raises(dp.ItemInterpreterDestroyed):
        queue.get_nowait()
    with pytest.raises(interpreters.QueueEmpty):
        queue.get_nowait()  # the get consumed it
