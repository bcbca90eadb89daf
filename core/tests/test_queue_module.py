"""The `_subinterp` Python module's cross-interpreter queues (PEP 734 /
Python 3.14 Queue surface), in a normal Python process (attach mode) and
in sub-interpreters created through the C ABI.

    PYTHONPATH=<builddir>/python python3 test_queue_module.py /path/to/libsubinterp.so

The library given as argv[1] is loaded with ctypes.PyDLL (as
capi/tests/test_attach.py does) to create and drive sub-interpreters and to
reach the C ABI's queue functions; `import _subinterp` must find a link to the
very same file on PYTHONPATH (checked), so both see one queue registry.

Timing checks are lower bounds plus loose upper bounds only: these run on
small, noisy machines.
"""
import ctypes
import gc
import math
import os
import pickle
import queue
import sys
import threading
import time
import unittest

import _thread

LIBRARY = sys.argv.pop(1)
lib = ctypes.PyDLL(LIBRARY)

import _subinterp  # noqa: E402  (after argv is read, so a failure names the library)

# --------------------------------------------------------------------------------------
# The C ABI through ctypes
# --------------------------------------------------------------------------------------

vp = ctypes.c_void_p
vpp = ctypes.POINTER(ctypes.c_void_p)
i64p = ctypes.POINTER(ctypes.c_int64)
SIGNATURES = {
    "subinterp_runtime_finalize": ([vpp], ctypes.c_int32),
    "subinterp_create": ([vp, i64p, vpp], ctypes.c_int32),
    "subinterp_destroy": ([ctypes.c_int64, vpp], ctypes.c_int32),
    "subinterp_exec": ([ctypes.c_int64, ctypes.c_char_p, vp, vp, vpp], ctypes.c_int32),
    "subinterp_call": ([ctypes.c_int64, ctypes.c_char_p, vp, vp, vp, vpp, vp, vpp], ctypes.c_int32),
    "subinterp_prepare_main": ([ctypes.c_int64, vp, vpp], ctypes.c_int32),
    "subinterp_data_new_str": ([ctypes.c_char_p, ctypes.c_size_t, vpp, vpp], ctypes.c_int32),
    "subinterp_data_new_int": ([ctypes.c_int64, vpp, vpp], ctypes.c_int32),
    "subinterp_data_new_dict": ([vp, vp, ctypes.c_size_t, vpp, vpp], ctypes.c_int32),
    "subinterp_data_new_queue": ([ctypes.c_int64, vpp, vpp], ctypes.c_int32),
    "subinterp_data_get_int": ([vp, i64p, vpp], ctypes.c_int32),
    "subinterp_data_get_queue": ([vp, i64p, vpp], ctypes.c_int32),
    "subinterp_data_get_kind": ([vp], ctypes.c_int),
    "subinterp_data_free": ([vp], None),
    "subinterp_queue_destroy": ([ctypes.c_int64, vpp], ctypes.c_int32),
    "subinterp_queue_put": ([ctypes.c_int64, vp, ctypes.c_double, vpp], ctypes.c_int32),
    "subinterp_queue_get": ([ctypes.c_int64, ctypes.c_double, vpp, vpp], ctypes.c_int32),
    "subinterp_queue_size": ([ctypes.c_int64, ctypes.POINTER(ctypes.c_size_t), vpp], ctypes.c_int32),
    "subinterp_status_name": ([ctypes.c_int32], ctypes.c_char_p),
    "subinterp_error_code": ([vp], ctypes.c_int32),
    "subinterp_error_message": ([vp], ctypes.c_char_p),
    "subinterp_error_exc_module": ([vp], ctypes.c_char_p),
    "subinterp_error_exc_qualname": ([vp], ctypes.c_char_p),
    "subinterp_error_traceback": ([vp], ctypes.c_char_p),
    "subinterp_error_free": ([vp], None),
}
for _name, (_argtypes, _restype) in SIGNATURES.items():
    _function = getattr(lib, _name)
    _function.argtypes = _argtypes
    _function.restype = _restype

OK, ERR_NOT_FOUND, ERR_PYTHON, ERR_QUEUE_EMPTY = 0, 2, 4, 13
DATA_INT, DATA_QUEUE = 2, 10


class LibraryError(Exception):
    def __init__(self, status, code, message, module, qualname, traceback):
        super().__init__(f"{lib.subinterp_status_name(status).decode()} ({status}): {message}"
                         + (f"\n{traceback}" if traceback else ""))
        self.status, self.code, self.module, self.qualname = status, code, module, qualname


def check(function, *args):
    err = ctypes.c_void_p()
    status = function(*args, ctypes.byref(err))
    if status != OK:
        def text(accessor):
            value = accessor(err)
            return value.decode() if value else None
        error = LibraryError(status, lib.subinterp_error_code(err), text(lib.subinterp_error_message),
                             text(lib.subinterp_error_exc_module), text(lib.subinterp_error_exc_qualname),
                             text(lib.subinterp_error_traceback))
        lib.subinterp_error_free(err)
        raise error


def create_interpreter():
    interpreter_id = ctypes.c_int64(-1)
    check(lib.subinterp_create, None, ctypes.byref(interpreter_id))  # NULL config: isolated
    return interpreter_id.value


def run(interpreter_id, source):
    check(lib.subinterp_exec, interpreter_id, source.encode(), None, None)


def call_int(interpreter_id, callable_name):
    result = ctypes.c_void_p()
    check(lib.subinterp_call, interpreter_id, callable_name.encode(), None, None, None, ctypes.byref(result), None)
    try:
        return read_int(result)
    finally:
        lib.subinterp_data_free(result)


def read_int(data):
    value = ctypes.c_int64()
    check(lib.subinterp_data_get_int, data, ctypes.byref(value))
    return value.value


def new_str(text):
    out = ctypes.c_void_p()
    raw = text.encode()
    check(lib.subinterp_data_new_str, raw, len(raw), ctypes.byref(out))
    return out


def new_int(value):
    out = ctypes.c_void_p()
    check(lib.subinterp_data_new_int, value, ctypes.byref(out))
    return out


def new_queue_value(queue_id):
    out = ctypes.c_void_p()
    check(lib.subinterp_data_new_queue, queue_id, ctypes.byref(out))
    return out


def prepare_main_queues(interpreter_id, **queues):
    """Binds each name to a queue value (subinterp_data_new_queue) in the
    interpreter's __main__, through subinterp_prepare_main."""
    keys = [new_str(name) for name in queues]
    values = [new_queue_value(q.id) for q in queues.values()]
    names = ctypes.c_void_p()
    try:
        key_array = (ctypes.c_void_p * len(keys))(*[k.value for k in keys])
        value_array = (ctypes.c_void_p * len(values))(*[v.value for v in values])
        check(lib.subinterp_data_new_dict, key_array, value_array, len(keys), ctypes.byref(names))
        check(lib.subinterp_prepare_main, interpreter_id, names)
    finally:
        lib.subinterp_data_free(names)
        for data in keys + values:
            lib.subinterp_data_free(data)


def live_queue_ids():
    return [q.id for q in _subinterp.list_queues()]


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------

class Point:
    """A user class: shared by pickle (importable from this module)."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __eq__(self, other):
        return type(other) is Point and (self.x, self.y) == (other.x, other.y)

    def __repr__(self):
        return f"Point({self.x}, {self.y})"


def join_or_fail(test, thread, timeout=5.0):
    thread.join(timeout)
    test.assertFalse(thread.is_alive(), f"{thread.name} did not finish within {timeout} s")


class Outcome:
    """What a helper thread's call returned or raised, and when."""

    def __init__(self, function, *args, **kwargs):
        self.value = self.error = self.ended = None
        self.blocking = threading.Event()
        self.started = None

        def body():
            self.started = time.monotonic()
            self.blocking.set()
            try:
                self.value = function(*args, **kwargs)
            except BaseException as error:  # noqa: B902 - reported to the test
                self.error = error
            self.ended = time.monotonic()

        self.thread = threading.Thread(target=body, name=f"helper:{getattr(function, '__name__', function)}")
        self.thread.start()
        self.blocking.wait()


def wait_until_blocked(seconds=0.2):
    """Give a helper thread that has announced itself time to enter its
    blocking call (the tests then check that it has not returned yet)."""
    time.sleep(seconds)


# --------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------

class ModuleSetup(unittest.TestCase):
    def test_module_is_the_library_given(self):
        self.assertEqual(os.path.realpath(_subinterp.__file__), os.path.realpath(LIBRARY))

    def test_module_surface(self):
        for name in ("create_queue", "list_queues", "Queue", "UNBOUND", "UNBOUND_ERROR", "UNBOUND_REMOVE",
                     "QueueError", "QueueNotFoundError", "QueueEmpty", "QueueFull", "QueueClosedError",
                     "ItemInterpreterDestroyed", "NotShareableError"):
            self.assertTrue(hasattr(_subinterp, name), name)
        for name in ("put", "put_nowait", "get", "get_nowait", "qsize", "empty", "full", "close", "__reduce__"):
            self.assertTrue(callable(getattr(_subinterp.Queue, name)), name)
        for name in ("id", "maxsize", "unbounditems", "closed"):
            self.assertIsInstance(getattr(_subinterp.Queue, name), type(_subinterp.Queue.id), name)


class QueueSurface(unittest.TestCase):
    def test_create_queue_defaults_and_properties(self):
        q = _subinterp.create_queue()
        self.assertIsInstance(q, _subinterp.Queue)
        self.assertIsInstance(q.id, int)
        self.assertGreater(q.id, 0)
        self.assertEqual(q.maxsize, 0)
        self.assertIs(q.unbounditems, _subinterp.UNBOUND)
        self.assertFalse(q.closed)
        self.assertEqual(q.qsize(), 0)
        self.assertTrue(q.empty())
        self.assertFalse(q.full())
        self.assertEqual(repr(q), f"Queue({q.id})")
        self.assertIn(q.id, live_queue_ids())
        bounded = _subinterp.create_queue(3, unbounditems=_subinterp.UNBOUND_REMOVE)
        self.assertEqual(bounded.maxsize, 3)
        self.assertIs(bounded.unbounditems, _subinterp.UNBOUND_REMOVE)
        self.assertIs(_subinterp.create_queue(maxsize=1, unbounditems=_subinterp.UNBOUND_ERROR).unbounditems,
                      _subinterp.UNBOUND_ERROR)
        self.assertIs(_subinterp.create_queue(unbounditems=None).unbounditems, _subinterp.UNBOUND)
        self.assertNotEqual(q.id, bounded.id)
        for name in ("id", "maxsize", "unbounditems", "closed"):
            with self.assertRaises(AttributeError, msg=name):
                setattr(q, name, 1)

    def test_negative_maxsize_means_unbounded(self):
        q = _subinterp.create_queue(maxsize=-1)
        self.assertEqual(q.maxsize, 0)
        for i in range(100):
            q.put_nowait(i)
        self.assertFalse(q.full())
        self.assertEqual(q.qsize(), 100)
        self.assertEqual(_subinterp.create_queue(-5).maxsize, 0)

    def test_list_queues(self):
        a, b = _subinterp.create_queue(), _subinterp.create_queue()
        listed = _subinterp.list_queues()
        self.assertTrue(all(isinstance(x, _subinterp.Queue) for x in listed))
        ids = [x.id for x in listed]
        self.assertEqual(ids, sorted(ids))
        self.assertIn(a, listed)
        self.assertIn(b, listed)
        self.assertLess(ids.index(a.id), ids.index(b.id))

    def test_queue_by_id_is_the_same_object(self):
        q = _subinterp.create_queue(maxsize=4)
        other = _subinterp.Queue(q.id)
        self.assertIs(other, q)  # one object per queue per interpreter, as in 3.14
        q.put(q)
        self.assertIs(q.get_nowait(), q)
        self.assertIn(q, _subinterp.list_queues())
        self.assertIs(_subinterp.list_queues()[-1], q)

    def test_queue_object_dies_and_comes_back_by_id(self):
        q = _subinterp.create_queue()
        keep = _subinterp.create_queue()
        keep.put(q)  # the queue outlives its object through the item's hold
        qid = q.id
        del q
        gc.collect()
        again = _subinterp.Queue(qid)
        self.assertEqual(again.id, qid)
        self.assertEqual(keep.get_nowait(), again)

    def test_queue_by_id_equality_and_hash(self):
        q = _subinterp.create_queue(maxsize=4)
        other = _subinterp.Queue(q.id)
        self.assertEqual(other, q)
        self.assertFalse(other != q)
        self.assertEqual(hash(other), hash(q))
        self.assertEqual(other.maxsize, 4)
        self.assertEqual(_subinterp.Queue(id=q.id), q)
        self.assertNotEqual(q, _subinterp.create_queue())
        self.assertNotEqual(q, q.id)
        self.assertEqual(len({q, other, _subinterp.Queue(q.id)}), 1)
        other.put("shared")
        self.assertEqual(q.get_nowait(), "shared")

    def test_queue_by_unknown_id_raises_not_found(self):
        for bad in (10 ** 12, -1, 0):
            with self.assertRaises(_subinterp.QueueNotFoundError, msg=bad):
                _subinterp.Queue(bad)
        with self.assertRaises(TypeError):
            _subinterp.Queue("1")
        with self.assertRaises(TypeError):
            _subinterp.Queue()

    def test_argument_validation(self):
        q = _subinterp.create_queue()
        for call in (lambda: q.get(timeout=-1), lambda: q.get(True, -0.5), lambda: q.get(timeout=float("nan")),
                     lambda: q.put(1, timeout=-1), lambda: q.put(1, True, float("nan")),
                     lambda: q.put(1, unbounditems=1), lambda: q.put(1, unbounditems="UNBOUND"),
                     lambda: q.put_nowait(1, unbounditems=object()),
                     lambda: _subinterp.create_queue(unbounditems=3)):
            with self.assertRaises(ValueError):
                call()
        self.assertEqual(q.qsize(), 0, "a rejected put added an item")
        for call in (lambda: q.get(timeout="soon"), lambda: q.get(wait=True), lambda: q.put(1, blocking=False),
                     lambda: q.put_nowait(1, block=False), lambda: _subinterp.create_queue(size=3),
                     lambda: q.get(True, 1.0, 2), lambda: q.put(1, True, None, _subinterp.UNBOUND),
                     lambda: q.put_nowait(1, _subinterp.UNBOUND), lambda: _subinterp.create_queue(0, None),
                     lambda: q.get_nowait(True), lambda: q.qsize(1), lambda: q.put(),
                     lambda: q.put(1, obj=2), lambda: q.put_nowait()):
            with self.assertRaises(TypeError):
                call()
        self.assertEqual(q.qsize(), 0, "a rejected put added an item")

    def test_exception_hierarchy(self):
        s = _subinterp
        self.assertTrue(issubclass(s.QueueError, RuntimeError))
        for cls in (s.QueueNotFoundError, s.QueueEmpty, s.QueueFull, s.QueueClosedError,
                    s.ItemInterpreterDestroyed):
            self.assertTrue(issubclass(cls, s.QueueError), cls)
        self.assertTrue(issubclass(s.QueueEmpty, queue.Empty))
        self.assertTrue(issubclass(s.QueueFull, queue.Full))
        self.assertTrue(issubclass(s.NotShareableError, ValueError))
        self.assertFalse(issubclass(s.NotShareableError, s.QueueError))
        q = s.create_queue(1)
        with self.assertRaises(queue.Empty) as caught:
            q.get_nowait()
        self.assertIsInstance(caught.exception, s.QueueEmpty)
        self.assertIsInstance(caught.exception, RuntimeError)
        q.put(1)
        with self.assertRaises(queue.Full) as caught:
            q.put_nowait(2)
        self.assertIsInstance(caught.exception, s.QueueFull)
        self.assertIsInstance(caught.exception, s.QueueError)
        with self.assertRaises(RuntimeError) as caught:
            s.Queue(10 ** 12)
        self.assertIsInstance(caught.exception, s.QueueNotFoundError)
        with self.assertRaises(ValueError) as caught:
            q.put(lambda: 0)
        self.assertIsInstance(caught.exception, s.NotShareableError)
        for cls in (s.QueueError, s.QueueNotFoundError, s.QueueEmpty, s.QueueFull, s.QueueClosedError,
                    s.ItemInterpreterDestroyed, s.NotShareableError):
            self.assertEqual(cls.__module__, "_subinterp")

    def test_pickle_round_trip_shares_the_queue(self):
        q = _subinterp.create_queue(maxsize=7)
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            copy = pickle.loads(pickle.dumps(q, protocol))
            self.assertIsInstance(copy, _subinterp.Queue)
            self.assertEqual(copy, q)
            self.assertEqual(copy.maxsize, 7)
            copy.put(("via copy", protocol))
            self.assertEqual(q.get_nowait(), ("via copy", protocol))
            q.put(protocol)
            self.assertEqual(copy.get_nowait(), protocol)
        func, args = q.__reduce__()
        self.assertIs(func, _subinterp.Queue)
        self.assertEqual(args, (q.id,))

    def test_markers_repr_and_pickle_identity(self):
        for name in ("UNBOUND", "UNBOUND_ERROR", "UNBOUND_REMOVE"):
            marker = getattr(_subinterp, name)
            self.assertEqual(repr(marker), name)
            self.assertIsInstance(marker, _subinterp.UnboundItem)
            for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
                self.assertIs(pickle.loads(pickle.dumps(marker, protocol)), marker)
        self.assertEqual(len({id(_subinterp.UNBOUND), id(_subinterp.UNBOUND_ERROR),
                              id(_subinterp.UNBOUND_REMOVE)}), 3)
        with self.assertRaises(TypeError):
            _subinterp.UnboundItem()
        # A marker is itself a shareable item (pickled by name).
        q = _subinterp.create_queue()
        q.put(_subinterp.UNBOUND_ERROR)
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND_ERROR)


class Values(unittest.TestCase):
    def test_fifo_with_every_kind_of_value(self):
        nested = (1, [2, {"a": (3, None)}], {"k": [b"v", 1.5]}, ())
        values = [None, True, False, 0, -1, 2 ** 63, 2 ** 200, -(2 ** 200), 1.5, float("inf"), -0.0,
                  "", "plain", "h\u00e9llo \u2713 \u65e5\u672c \U0001f40d", b"", b"\x00\xff bytes",
                  nested, [1, [2, [3]]], {1: "one", (1, 2): "pair", "s": {"inner": []}},
                  bytearray(b"ba"), Point(1, "two"), frozenset({1, 2})]
        q = _subinterp.create_queue()
        for value in values:
            q.put(value)
        q.put(float("nan"))
        q.put(memoryview(b"view bytes"))
        self.assertEqual(q.qsize(), len(values) + 2)
        for value in values:
            got = q.get_nowait()
            self.assertEqual(type(got), type(value), repr(value))
            self.assertEqual(got, value)
            if value is None or isinstance(value, bool):
                self.assertIs(got, value)
        nan = q.get_nowait()
        self.assertIsInstance(nan, float)
        self.assertTrue(math.isnan(nan))
        view = q.get_nowait()
        self.assertIsInstance(view, memoryview)
        self.assertEqual(bytes(view), b"view bytes")
        self.assertTrue(q.empty())

    def test_negative_zero_and_nested_types_survive(self):
        q = _subinterp.create_queue()
        q.put(-0.0)
        self.assertEqual(math.copysign(1.0, q.get_nowait()), -1.0)
        q.put(([1, (2,)], {"t": (3, [4])}))
        got = q.get_nowait()
        self.assertIs(type(got), tuple)
        self.assertIs(type(got[0]), list)
        self.assertIs(type(got[0][1]), tuple)
        self.assertIs(type(got[1]["t"]), tuple)
        self.assertIs(type(got[1]["t"][1]), list)

    def test_user_class_instance_is_a_copy(self):
        q = _subinterp.create_queue()
        point = Point([1], 2)
        q.put(point)
        got = q.get()
        self.assertIsInstance(got, Point)
        self.assertEqual(got, point)
        self.assertIsNot(got, point)
        got.x.append(9)
        self.assertEqual(point.x, [1])

    def test_mutable_object_is_not_shared(self):
        q = _subinterp.create_queue()
        items = [1, 2, {"k": [3]}]
        q.put(items)
        items.append(4)
        items[2]["k"].append(5)
        self.assertEqual(q.get(), [1, 2, {"k": [3]}])
        buffer = bytearray(b"abc")
        q.put(memoryview(buffer))
        buffer[0] = ord("X")
        self.assertEqual(bytes(q.get()), b"abc")

    def test_queue_put_into_itself_and_another_queue(self):
        q = _subinterp.create_queue()
        other = _subinterp.create_queue()
        q.put(q)
        q.put(other)
        q.put([q, {"other": other}])
        itself = q.get()
        self.assertIsInstance(itself, _subinterp.Queue)
        self.assertEqual(itself, q)
        got_other = q.get()
        self.assertEqual(got_other, other)
        self.assertEqual(q.get(), [q, {"other": other}])
        got_other.put("through the received object")
        self.assertEqual(other.get_nowait(), "through the received object")

    def test_unpicklable_object_raises_not_shareable(self):
        q = _subinterp.create_queue(maxsize=3)
        q.put("first")
        for bad in (lambda: 0, [1, lambda: 0], threading.Lock()):
            with self.assertRaises(_subinterp.NotShareableError, msg=repr(bad)):
                q.put(bad)
            with self.assertRaises(_subinterp.NotShareableError, msg=repr(bad)):
                q.put_nowait(bad)
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get_nowait(), "first")
        self.assertTrue(q.empty())


class NowaitAndMaxsize(unittest.TestCase):
    def test_nowait_full_empty(self):
        q = _subinterp.create_queue(maxsize=2)
        self.assertTrue(q.empty())
        self.assertFalse(q.full())
        with self.assertRaises(_subinterp.QueueEmpty):
            q.get_nowait()
        q.put_nowait("a")
        self.assertFalse(q.empty())
        self.assertFalse(q.full())
        q.put_nowait("b")
        self.assertTrue(q.full())
        self.assertEqual(q.qsize(), 2)
        with self.assertRaises(_subinterp.QueueFull):
            q.put_nowait("c")
        self.assertEqual(q.qsize(), 2)
        self.assertEqual(q.get_nowait(), "a")
        self.assertFalse(q.full())
        q.put_nowait("c")
        self.assertEqual([q.get_nowait(), q.get_nowait()], ["b", "c"])
        self.assertTrue(q.empty())

    def test_block_false_raises_at_once(self):
        q = _subinterp.create_queue(maxsize=1)
        start = time.monotonic()
        with self.assertRaises(_subinterp.QueueEmpty):
            q.get(block=False)
        with self.assertRaises(_subinterp.QueueEmpty):
            q.get(False, 10)
        q.put(1, block=False)
        with self.assertRaises(_subinterp.QueueFull):
            q.put(2, block=False)
        with self.assertRaises(_subinterp.QueueFull):
            q.put(2, False, 10)
        self.assertLess(time.monotonic() - start, 1.0)
        self.assertEqual(q.get(block=False), 1)

    def test_maxsize_one_alternating(self):
        q = _subinterp.create_queue(1)
        for i in range(50):
            q.put(i, timeout=1)
            self.assertTrue(q.full())
            self.assertEqual(q.get(timeout=1), i)


class Timeouts(unittest.TestCase):
    def test_fractional_get_timeout(self):
        q = _subinterp.create_queue()
        start = time.monotonic()
        with self.assertRaises(_subinterp.QueueEmpty):
            q.get(timeout=0.15)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.15)
        self.assertLess(elapsed, 1.0)

    def test_fractional_put_timeout(self):
        q = _subinterp.create_queue(maxsize=1)
        q.put("x")
        start = time.monotonic()
        with self.assertRaises(_subinterp.QueueFull):
            q.put("y", timeout=0.15)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, 0.15)
        self.assertLess(elapsed, 1.0)
        self.assertEqual(q.qsize(), 1)

    def test_sub_second_timeout_is_not_truncated(self):
        q = _subinterp.create_queue()
        start = time.monotonic()
        with self.assertRaises(_subinterp.QueueEmpty):
            q.get(True, 0.6)  # int(0.6) == 0 would return at once
        self.assertGreaterEqual(time.monotonic() - start, 0.6)

    def test_timeout_zero_is_nowait(self):
        q = _subinterp.create_queue(maxsize=1)
        start = time.monotonic()
        with self.assertRaises(_subinterp.QueueEmpty):
            q.get(timeout=0)
        q.put(1, timeout=0.0)
        with self.assertRaises(_subinterp.QueueFull):
            q.put(2, timeout=0)
        self.assertLess(time.monotonic() - start, 0.5)
        self.assertEqual(q.get(timeout=0), 1)

    def test_timeout_accepts_ints_and_none(self):
        q = _subinterp.create_queue()
        q.put(1, True, None)
        self.assertEqual(q.get(True, None), 1)
        q.put(2, timeout=1)
        self.assertEqual(q.get(timeout=1), 2)


class Threads(unittest.TestCase):
    def test_gil_released_while_get_blocks(self):
        q = _subinterp.create_queue()
        getter = Outcome(q.get, timeout=5)
        wait_until_blocked()
        counted = 0
        for _ in range(300_000):  # Python code in this thread while the other one waits
            counted += 1
        self.assertTrue(getter.thread.is_alive(), "get returned before anything was put")
        q.put(("done", counted))
        join_or_fail(self, getter.thread)
        self.assertIsNone(getter.error)
        self.assertEqual(getter.value, ("done", 300_000))

    def test_gil_released_while_put_blocks(self):
        q = _subinterp.create_queue(maxsize=1)
        q.put("occupant")
        putter = Outcome(q.put, "waiting", timeout=5)
        wait_until_blocked()
        counted = sum(1 for _ in range(300_000))
        self.assertEqual(counted, 300_000)
        self.assertTrue(putter.thread.is_alive(), "put returned while the queue was full")
        self.assertEqual(q.get(), "occupant")
        join_or_fail(self, putter.thread)
        self.assertIsNone(putter.error)
        self.assertEqual(q.get(timeout=1), "waiting")

    def test_blocked_get_woken_by_put_from_another_thread(self):
        q = _subinterp.create_queue()
        getter = Outcome(q.get, timeout=10)  # a timeout: a GIL held while blocked would otherwise hang the run
        wait_until_blocked(0.1)
        self.assertTrue(getter.thread.is_alive())
        put_at = time.monotonic()
        q.put("wake")
        join_or_fail(self, getter.thread)
        self.assertIsNone(getter.error)
        self.assertEqual(getter.value, "wake")
        self.assertLess(getter.ended - put_at, 1.0)

    def test_many_threads_one_queue(self):
        q = _subinterp.create_queue(maxsize=3)
        results = _subinterp.create_queue()

        def consume():
            total = 0
            while True:
                item = q.get(timeout=5)
                if item is None:
                    break
                total += item
            results.put(total)

        consumers = [threading.Thread(target=consume) for _ in range(3)]
        for thread in consumers:
            thread.start()
        for i in range(300):
            q.put(i, timeout=5)
        for _ in consumers:
            q.put(None, timeout=5)
        for thread in consumers:
            join_or_fail(self, thread, 10)
        self.assertEqual(sum(results.get_nowait() for _ in consumers), sum(range(300)))

    def interrupted_after(self, call):
        """Runs call() in the main thread while a timer thread calls
        _thread.interrupt_main() after 0.1 s; returns how the call ended and
        how long it took. (Should the call end otherwise, the late
        KeyboardInterrupt is caught here rather than hitting unittest.)"""
        self.assertIs(threading.current_thread(), threading.main_thread())
        timer = threading.Timer(0.1, _thread.interrupt_main)
        outcome = end = None
        start = time.monotonic()
        timer.start()
        try:  # the one KeyboardInterrupt lands somewhere in here
            try:
                call()
                outcome = "returned"
            except Exception as error:  # noqa: B902 - reported by the caller
                outcome = repr(error)
            end = time.monotonic()
            timer.join()
            time.sleep(0.05)  # a pending interrupt is delivered here at the latest
        except KeyboardInterrupt:
            if outcome is None:
                outcome = "KeyboardInterrupt"
            if end is None:
                end = time.monotonic()
        timer.join()
        return outcome, end - start

    def test_keyboard_interrupt_ends_blocked_get_in_main_thread(self):
        q = _subinterp.create_queue()
        outcome, elapsed = self.interrupted_after(lambda: q.get(timeout=5))  # a failure fails, not hangs
        self.assertEqual(outcome, "KeyboardInterrupt")
        self.assertGreaterEqual(elapsed, 0.1)
        self.assertLess(elapsed, 2.0)
        q.put("still usable")
        self.assertEqual(q.get_nowait(), "still usable")

    def test_keyboard_interrupt_ends_blocked_put_in_main_thread(self):
        q = _subinterp.create_queue(maxsize=1)
        q.put(0)
        outcome, elapsed = self.interrupted_after(lambda: q.put(1, timeout=5))
        self.assertEqual(outcome, "KeyboardInterrupt")
        self.assertLess(elapsed, 2.0)
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get_nowait(), 0)


class Close(unittest.TestCase):
    def test_close_then_put_and_drain(self):
        q = _subinterp.create_queue()
        q.put(1)
        q.put(2)
        self.assertFalse(q.closed)
        q.close()
        self.assertTrue(q.closed)
        self.assertTrue(_subinterp.Queue(q.id).closed)
        for put in (lambda: q.put(3), lambda: q.put_nowait(3), lambda: q.put(3, timeout=0.1)):
            with self.assertRaises(_subinterp.QueueClosedError):
                put()
        self.assertEqual(q.qsize(), 2)
        self.assertEqual(q.get(), 1)
        self.assertEqual(q.get_nowait(), 2)
        start = time.monotonic()
        with self.assertRaises(_subinterp.QueueClosedError):
            q.get(timeout=5)  # closed and drained: at once, not after the timeout
        with self.assertRaises(_subinterp.QueueClosedError):
            q.get_nowait()
        self.assertLess(time.monotonic() - start, 1.0)
        q.close()  # twice is fine
        self.assertTrue(q.closed)

    def test_close_wakes_blocked_getter(self):
        q = _subinterp.create_queue()
        getter = Outcome(q.get, timeout=5)
        wait_until_blocked()
        self.assertTrue(getter.thread.is_alive())
        closed_at = time.monotonic()
        q.close()
        join_or_fail(self, getter.thread)
        self.assertIsInstance(getter.error, _subinterp.QueueClosedError)
        self.assertLess(getter.ended - closed_at, 1.0)

    def test_close_wakes_blocked_putter(self):
        q = _subinterp.create_queue(maxsize=1)
        q.put("full")
        putter = Outcome(q.put, "more", timeout=5)
        wait_until_blocked()
        self.assertTrue(putter.thread.is_alive())
        q.close()
        join_or_fail(self, putter.thread)
        self.assertIsInstance(putter.error, _subinterp.QueueClosedError)
        self.assertEqual(q.get_nowait(), "full")


class DestroyedQueues(unittest.TestCase):
    def test_methods_after_c_abi_destroy_raise_not_found(self):
        q = _subinterp.create_queue(maxsize=2)
        q.put("dropped")
        qid = q.id
        check(lib.subinterp_queue_destroy, qid)
        self.assertNotIn(qid, live_queue_ids())
        for method in (lambda: q.put(1), lambda: q.put_nowait(1), lambda: q.get(timeout=5), lambda: q.get_nowait(),
                       lambda: q.get(timeout=0.1), lambda: q.qsize(), lambda: q.empty(), lambda: q.full(),
                       lambda: q.close(), lambda: q.closed, lambda: _subinterp.Queue(qid)):
            with self.assertRaises(_subinterp.QueueNotFoundError):
                method()
        self.assertEqual(q.id, qid)
        self.assertEqual(repr(q), f"Queue({qid})")
        with self.assertRaises(_subinterp.QueueNotFoundError):
            pickle.loads(pickle.dumps(q))
        with self.assertRaises(LibraryError) as caught:
            check(lib.subinterp_queue_destroy, qid)
        self.assertEqual(caught.exception.status, ERR_NOT_FOUND)
        del q
        gc.collect()  # dropping the last hold of a destroyed queue is harmless

    def test_destroy_wakes_blocked_getter_and_putter(self):
        empty = _subinterp.create_queue()
        full = _subinterp.create_queue(maxsize=1)
        full.put(0)
        getter = Outcome(empty.get, timeout=5)
        putter = Outcome(full.put, 1, timeout=5)
        wait_until_blocked()
        self.assertTrue(getter.thread.is_alive())
        self.assertTrue(putter.thread.is_alive())
        check(lib.subinterp_queue_destroy, empty.id)
        check(lib.subinterp_queue_destroy, full.id)
        join_or_fail(self, getter.thread)
        join_or_fail(self, putter.thread)
        self.assertIsInstance(getter.error, _subinterp.QueueNotFoundError)
        self.assertIsInstance(putter.error, _subinterp.QueueNotFoundError)


class Lifetime(unittest.TestCase):
    def test_queue_goes_with_its_last_object(self):
        q = _subinterp.create_queue()
        qid = q.id
        second = _subinterp.Queue(qid)
        del q
        gc.collect()
        self.assertIn(qid, live_queue_ids())
        self.assertEqual(second.qsize(), 0)
        del second
        gc.collect()
        self.assertNotIn(qid, live_queue_ids())
        with self.assertRaises(_subinterp.QueueNotFoundError):
            _subinterp.Queue(qid)

    def test_queue_value_from_c_keeps_the_queue(self):
        q = _subinterp.create_queue()
        q.put("kept")
        qid = q.id
        value = new_queue_value(qid)
        try:
            self.assertEqual(lib.subinterp_data_get_kind(value), DATA_QUEUE)
            del q
            gc.collect()
            self.assertIn(qid, live_queue_ids())
            self.assertEqual(_subinterp.Queue(qid).get_nowait(), "kept")
        finally:
            lib.subinterp_data_free(value)
        gc.collect()
        self.assertNotIn(qid, live_queue_ids())
        with self.assertRaises(LibraryError) as caught:
            new_queue_value(qid)
        self.assertEqual(caught.exception.status, ERR_NOT_FOUND)

    def test_item_in_another_queue_keeps_the_queue(self):
        holder = _subinterp.create_queue()
        q = _subinterp.create_queue()
        qid = q.id
        q.put("inner item")
        holder.put({"queue": q})
        del q
        gc.collect()
        self.assertIn(qid, live_queue_ids())
        received = holder.get_nowait()["queue"]
        self.assertEqual(received.id, qid)
        self.assertEqual(received.get_nowait(), "inner item")
        del received
        gc.collect()
        self.assertNotIn(qid, live_queue_ids())

    def test_items_of_a_dropped_holder_release_their_queues(self):
        holder = _subinterp.create_queue()
        q = _subinterp.create_queue()
        qid, holder_id = q.id, holder.id
        holder.put(q)
        del q
        gc.collect()
        self.assertIn(qid, live_queue_ids())
        del holder
        gc.collect()
        self.assertNotIn(holder_id, live_queue_ids())
        self.assertNotIn(qid, live_queue_ids())


class SubInterpreters(unittest.TestCase):
    def setUp(self):
        self.interpreters = []

    def tearDown(self):
        for interpreter_id in self.interpreters:
            try:
                check(lib.subinterp_destroy, interpreter_id)
            except LibraryError as error:
                if error.status != ERR_NOT_FOUND:
                    raise

    def new_interpreter(self):
        interpreter_id = create_interpreter()
        self.interpreters.append(interpreter_id)
        return interpreter_id

    def destroy(self, interpreter_id):
        check(lib.subinterp_destroy, interpreter_id)
        self.interpreters.remove(interpreter_id)

    def test_import_and_exceptions_inside(self):
        sid = self.new_interpreter()
        run(sid, "import _subinterp, queue\n"
                 "q = _subinterp.create_queue(1)\n"
                 "assert issubclass(_subinterp.QueueEmpty, queue.Empty)\n"
                 "assert issubclass(_subinterp.QueueFull, queue.Full)\n"
                 "assert issubclass(_subinterp.QueueError, RuntimeError)\n"
                 "assert issubclass(_subinterp.NotShareableError, ValueError)\n"
                 "try:\n    q.get_nowait()\nexcept _subinterp.QueueEmpty:\n    caught = 1\n"
                 "q.put(1)\n"
                 "try:\n    q.put(2, timeout=0.01)\nexcept queue.Full:\n    caught += 1\n"
                 "try:\n    q.put(lambda: 0)\nexcept _subinterp.NotShareableError:\n    caught += 1\n"
                 "def caught_count(): return caught\n")
        self.assertEqual(call_int(sid, "caught_count"), 3)
        with self.assertRaises(LibraryError) as caught:
            run(sid, "_subinterp.Queue(10 ** 12)")
        self.assertEqual(caught.exception.status, ERR_PYTHON)
        self.assertEqual(caught.exception.module, "_subinterp")
        self.assertEqual(caught.exception.qualname, "QueueNotFoundError")
        with self.assertRaises(LibraryError) as caught:
            run(sid, "q.get(timeout=float('nan'))")
        self.assertEqual(caught.exception.qualname, "ValueError")
        # Its module is its own (per-interpreter classes), and the queue it made is process-wide.
        run(sid, "def queue_id(): return q.id")
        made_inside = _subinterp.Queue(call_int(sid, "queue_id"))
        self.assertEqual(made_inside.get_nowait(), 1)

    def test_queue_made_in_sub_interpreter_lives_while_held(self):
        sid = self.new_interpreter()
        run(sid, "import _subinterp\n"
                 "held = _subinterp.create_queue()\nheld.put('from sub')\n"
                 "dropped = _subinterp.create_queue()\n"
                 "def held_id(): return held.id\n"
                 "def dropped_id(): return dropped.id\n")
        held_id, dropped_id = call_int(sid, "held_id"), call_int(sid, "dropped_id")
        self.assertIn(dropped_id, live_queue_ids())
        held = _subinterp.Queue(held_id)
        self.destroy(sid)
        live = live_queue_ids()
        self.assertIn(held_id, live)
        self.assertNotIn(dropped_id, live, "the sub-interpreter's last Queue object went with it")
        self.assertIs(held.get_nowait(), _subinterp.UNBOUND)  # its item went unbound with it
        held.put("from main")
        self.assertEqual(held.get_nowait(), "from main")

    def test_queue_passed_with_prepare_main(self):
        to_sub, from_sub = _subinterp.create_queue(), _subinterp.create_queue()
        sid = self.new_interpreter()
        prepare_main_queues(sid, inbox=to_sub, outbox=from_sub)
        values = [None, 2 ** 200, -0.0, "h\u00e9llo \U0001f40d", b"\x00b", (1, [2, {"d": None}]),
                  {"k": (1, 2)}, memoryview(b"mv")]
        for value in values:
            to_sub.put(value)
        to_sub.put(_subinterp.UNBOUND)  # the marker is a value too: a sentinel here
        run(sid, "import _subinterp, math\n"
                 "assert type(inbox).__name__ == 'Queue' and type(inbox).__module__ == '_subinterp'\n"
                 "while True:\n"
                 "    item = inbox.get(timeout=5)\n"
                 "    if item is _subinterp.UNBOUND:\n"
                 "        break\n"
                 "    if isinstance(item, memoryview):\n"
                 "        item = ('memoryview', bytes(item))\n"
                 "    elif isinstance(item, float):\n"
                 "        item = ('float', math.copysign(1.0, item))\n"
                 "    outbox.put(('echo', item))\n"
                 "outbox.put(inbox.id)\n")
        for value in values:
            tag, got = from_sub.get(timeout=5)
            self.assertEqual(tag, "echo")
            if isinstance(value, memoryview):
                self.assertEqual(got, ("memoryview", b"mv"))
            elif isinstance(value, float):
                self.assertEqual(got, ("float", -1.0))
            else:
                self.assertEqual(type(got), type(value))
                self.assertEqual(got, value)
        self.assertEqual(from_sub.get(timeout=5), to_sub.id)
        self.assertTrue(to_sub.empty())
        self.assertTrue(from_sub.empty())

    def test_queue_passed_by_id_and_as_item(self):
        q = _subinterp.create_queue()
        replies = _subinterp.create_queue()
        sid = self.new_interpreter()
        run(sid, f"import _subinterp\nq = _subinterp.Queue({q.id})\nreplies = _subinterp.Queue({replies.id})\n")
        q.put(["from main", 1])
        run(sid, "item = q.get(timeout=5)\nitem.append('seen by sub')\nreplies.put(item)\n")
        self.assertEqual(replies.get(timeout=5), ["from main", 1, "seen by sub"])
        # A Queue object as an item: arrives in the sub-interpreter as its own Queue object.
        third = _subinterp.create_queue()
        q.put(third)
        run(sid, "received = q.get(timeout=5)\n"
                 "assert isinstance(received, _subinterp.Queue)\n"
                 "received.put(('via received', received.id))\n"
                 "replies.put(received)\n")
        self.assertEqual(third.get(timeout=5), ("via received", third.id))
        self.assertEqual(replies.get(timeout=5), third)
        # A pickled Queue travels too (pickles by id).
        q.put(pickle.dumps(third))
        run(sid, "import pickle\npickle.loads(q.get(timeout=5)).put('unpickled inside')\n")
        self.assertEqual(third.get_nowait(), "unpickled inside")

    def test_blocked_get_in_sub_interpreter_woken_by_main(self):
        q, replies = _subinterp.create_queue(), _subinterp.create_queue()
        sid = self.new_interpreter()
        prepare_main_queues(sid, q=q, replies=replies)
        # No timeout: only the put can end this get. (The sub-interpreter has
        # its own GIL, so should the wake-up fail, this thread can still end the
        # wait by destroying the queue, and the test fails instead of hanging.)
        runner = Outcome(run, sid, "import time\nstart = time.monotonic()\nitem = q.get()\n"
                                   "replies.put((item, time.monotonic() - start))\n")
        wait_until_blocked(0.3)
        self.assertTrue(runner.thread.is_alive(), "the sub-interpreter's get returned early")
        self.assertTrue(replies.empty())
        q.put("wake up")
        runner.thread.join(5)
        if runner.thread.is_alive():
            check(lib.subinterp_queue_destroy, q.id)
            runner.thread.join(5)
            self.fail("the put did not wake the sub-interpreter's get")
        self.assertIsNone(runner.error)
        item, waited = replies.get(timeout=5)
        self.assertEqual(item, "wake up")
        self.assertGreaterEqual(waited, 0.2)
        self.assertLess(waited, 5.0)

    def test_c_abi_get_releases_the_callers_gil(self):
        q = _subinterp.create_queue()
        progress = []

        def put_later():
            time.sleep(0.2)  # meanwhile the main thread enters the blocking C call
            for i in range(50_000):  # Python code: needs the GIL, which PyDLL keeps held during the call
                progress.append(i)
            q.put(4242)

        putter = threading.Thread(target=put_later)
        item = ctypes.c_void_p()
        start = time.monotonic()
        putter.start()
        check(lib.subinterp_queue_get, q.id, 5.0, ctypes.byref(item))
        elapsed = time.monotonic() - start
        try:
            self.assertEqual(read_int(item), 4242)
        finally:
            lib.subinterp_data_free(item)
        join_or_fail(self, putter)
        self.assertEqual(len(progress), 50_000)
        self.assertGreaterEqual(elapsed, 0.2)
        self.assertLess(elapsed, 5.0)
        # And a C-ABI put is seen by Python.
        value = new_int(-7)
        try:
            check(lib.subinterp_queue_put, q.id, value, 0.0)
        finally:
            lib.subinterp_data_free(value)
        self.assertEqual(q.get_nowait(), -7)
        with self.assertRaises(LibraryError) as caught:
            check(lib.subinterp_queue_get, q.id, 0.05, ctypes.byref(item))
        self.assertEqual(caught.exception.status, ERR_QUEUE_EMPTY)

    def put_from_interpreter(self, q, lines):
        sid = self.new_interpreter()
        prepare_main_queues(sid, q=q)
        run(sid, "import _subinterp\n" + "\n".join(lines) + "\n")
        return sid

    def test_unbound_default_replace(self):
        q = _subinterp.create_queue()
        sid = self.put_from_interpreter(q, ["q.put('sub 1')"])
        q.put("main")
        run(sid, "q.put(('sub', 2))")
        self.destroy(sid)
        self.assertEqual(q.qsize(), 3)
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND)
        self.assertEqual(q.get_nowait(), "main")
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND)
        self.assertTrue(q.empty())

    def test_unbound_queue_default_error(self):
        q = _subinterp.create_queue(unbounditems=_subinterp.UNBOUND_ERROR)
        sid = self.put_from_interpreter(q, ["q.put('sub default')"])
        q.put("main")
        run(sid, "q.put('sub replace', unbounditems=_subinterp.UNBOUND)")
        self.destroy(sid)
        self.assertEqual(q.qsize(), 3)
        with self.assertRaises(_subinterp.ItemInterpreterDestroyed):
            q.get_nowait()
        self.assertEqual(q.qsize(), 2, "the failed get did not consume the unbound item")
        self.assertEqual(q.get_nowait(), "main")
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND)
        self.assertTrue(q.empty())

    def test_unbound_queue_default_remove(self):
        q = _subinterp.create_queue(unbounditems=_subinterp.UNBOUND_REMOVE)
        sid = self.put_from_interpreter(q, ["q.put('sub 1')"])
        q.put("main 1")
        run(sid, "q.put('sub 2')\nq.put_nowait('sub 3')")
        q.put("main 2")
        self.assertEqual(q.qsize(), 5)
        self.destroy(sid)
        self.assertEqual(q.qsize(), 2)
        self.assertEqual([q.get_nowait(), q.get_nowait()], ["main 1", "main 2"])

    def test_unbound_per_item(self):
        q = _subinterp.create_queue()  # default UNBOUND
        sid = self.put_from_interpreter(q, [
            "q.put('error', unbounditems=_subinterp.UNBOUND_ERROR)",
        ])
        q.put("main 1", unbounditems=_subinterp.UNBOUND_REMOVE)  # main's items are never unbound
        run(sid, "q.put('remove', unbounditems=_subinterp.UNBOUND_REMOVE)\n"
                 "q.put_nowait('replace', unbounditems=_subinterp.UNBOUND)\n"
                 "q.put('default')\n"
                 "q.put('explicit none', True, None, unbounditems=None)\n")
        q.put("main 2", unbounditems=_subinterp.UNBOUND_ERROR)
        self.assertEqual(q.qsize(), 7)
        self.destroy(sid)
        self.assertEqual(q.qsize(), 6)
        with self.assertRaises(_subinterp.ItemInterpreterDestroyed):
            q.get_nowait()
        self.assertEqual(q.get_nowait(), "main 1")
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND)
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND)
        self.assertIs(q.get_nowait(), _subinterp.UNBOUND)
        self.assertEqual(q.get_nowait(), "main 2")
        self.assertTrue(q.empty())

    def test_unbound_remove_makes_room_for_a_blocked_putter(self):
        q = _subinterp.create_queue(maxsize=1, unbounditems=_subinterp.UNBOUND_REMOVE)
        sid = self.put_from_interpreter(q, ["q.put('sub')"])
        self.assertTrue(q.full())
        putter = Outcome(q.put, "main", timeout=5)
        wait_until_blocked()
        self.assertTrue(putter.thread.is_alive())
        self.destroy(sid)
        join_or_fail(self, putter.thread)
        self.assertIsNone(putter.error)
        self.assertEqual(q.get_nowait(), "main")

    def test_items_of_a_live_interpreter_are_untouched(self):
        q = _subinterp.create_queue(unbounditems=_subinterp.UNBOUND_REMOVE)
        keeper = self.put_from_interpreter(q, ["q.put('kept')"])
        other = self.put_from_interpreter(q, ["q.put('removed')"])
        self.destroy(other)
        self.assertEqual(q.qsize(), 1)
        self.assertEqual(q.get_nowait(), "kept")
        run(keeper, "q.put('still works')")
        self.assertEqual(q.get_nowait(), "still works")


def tearDownModule():
    # A host must not exit with sub-interpreters alive; destroy any a failed test left.
    check(lib.subinterp_runtime_finalize)


if __name__ == "__main__":
    unittest.main(verbosity=2)
