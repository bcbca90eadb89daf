"""Attach mode: the library loaded into a running CPython (as the Python
binding will be). It must not initialize or finalize CPython, must release the
caller's GIL while it works, and must leave the host's interpreter intact.

    python3 test_attach.py /path/to/libsubinterp.so

Uses ctypes.PyDLL, which keeps the GIL held across the call like a C extension
does, so the library itself has to release it."""
import ctypes
import sys
import threading
import time
import unittest

LIBRARY = sys.argv.pop(1)
lib = ctypes.PyDLL(LIBRARY)

c_int64_p = ctypes.POINTER(ctypes.c_int64)
err_p = ctypes.POINTER(ctypes.c_void_p)
SIGNATURES = {
    "subinterp_runtime_get_mode": ([], ctypes.c_int),
    "subinterp_runtime_init": ([ctypes.c_void_p, err_p], ctypes.c_int32),
    "subinterp_runtime_finalize": ([err_p], ctypes.c_int32),
    "subinterp_create": ([ctypes.c_void_p, c_int64_p, err_p], ctypes.c_int32),
    "subinterp_destroy": ([ctypes.c_int64, err_p], ctypes.c_int32),
    "subinterp_exec": ([ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, err_p], ctypes.c_int32),
    "subinterp_call": ([ctypes.c_int64, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                        ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p, err_p], ctypes.c_int32),
    "subinterp_current_id": ([c_int64_p, err_p], ctypes.c_int32),
    "subinterp_data_get_int": ([ctypes.c_void_p, c_int64_p, err_p], ctypes.c_int32),
    "subinterp_data_free": ([ctypes.c_void_p], None),
    "subinterp_error_message": ([ctypes.c_void_p], ctypes.c_char_p),
    "subinterp_error_exc_qualname": ([ctypes.c_void_p], ctypes.c_char_p),
    "subinterp_error_free": ([ctypes.c_void_p], None),
}
for name, (argtypes, restype) in SIGNATURES.items():
    function = getattr(lib, name)
    function.argtypes = argtypes
    function.restype = restype

OK, ERR_PYTHON = 0, 4
EMBED, ATTACH, NONE = 1, 2, 0


class LibraryError(Exception):
    def __init__(self, status, message, qualname):
        super().__init__(f"status {status}: {message}")
        self.status, self.qualname = status, qualname


def check(function, *args):
    err = ctypes.c_void_p()
    status = function(*args, ctypes.byref(err))
    if status != OK:
        message = lib.subinterp_error_message(err).decode()
        qualname = lib.subinterp_error_exc_qualname(err)
        lib.subinterp_error_free(err)
        raise LibraryError(status, message, qualname and qualname.decode())


def create():
    interpreter_id = ctypes.c_int64(-1)
    check(lib.subinterp_create, None, ctypes.byref(interpreter_id))
    return interpreter_id.value


def run(interpreter_id, source):
    check(lib.subinterp_exec, interpreter_id, source.encode(), None, None)


def call_int(interpreter_id, callable_name):
    result = ctypes.c_void_p()
    check(lib.subinterp_call, interpreter_id, callable_name.encode(), None, None, None, ctypes.byref(result), None)
    value = ctypes.c_int64()
    check(lib.subinterp_data_get_int, result, ctypes.byref(value))
    lib.subinterp_data_free(result)
    return value.value


class Attach(unittest.TestCase):
    def tearDown(self):
        # A host must destroy sub-interpreters before it exits: Py_FinalizeEx
        # aborts while they live.
        check(lib.subinterp_runtime_finalize)

    def test_attaches_instead_of_initializing(self):
        self.assertEqual(lib.subinterp_runtime_get_mode(), NONE)
        interpreter_id = create()
        self.assertEqual(lib.subinterp_runtime_get_mode(), ATTACH)
        run(interpreter_id, "def answer(): return 6 * 7")
        self.assertEqual(call_int(interpreter_id, "answer"), 42)
        check(lib.subinterp_destroy, interpreter_id)

    def test_main_interpreter_is_the_hosts(self):
        run(0, "import __main__\n__main__.set_by_library = 'yes'")
        self.assertEqual(globals().get("set_by_library"), "yes")
        current = ctypes.c_int64(-1)
        check(lib.subinterp_current_id, ctypes.byref(current))
        self.assertEqual(current.value, 0)

    def test_gil_is_released_while_the_library_works(self):
        interpreter_id = create()
        run(interpreter_id, "import time\ndef spin():\n    end = time.monotonic() + 0.3\n    while time.monotonic() < end: pass\n")
        progress = []
        stop = threading.Event()

        def count():
            while not stop.is_set():
                progress.append(1)

        counter = threading.Thread(target=count)
        counter.start()
        time.sleep(0.01)
        before = len(progress)
        run(interpreter_id, "spin()")  # PyDLL: the GIL stays held unless the library releases it
        during = len(progress) - before
        stop.set()
        counter.join()
        self.assertGreater(during, 1000, "the host thread could not run while the library worked")

    def test_python_errors_and_host_state_survive(self):
        interpreter_id = create()
        with self.assertRaises(LibraryError) as caught:
            run(interpreter_id, "raise KeyError('k')")
        self.assertEqual(caught.exception.status, ERR_PYTHON)
        self.assertEqual(caught.exception.qualname, "KeyError")
        run(interpreter_id, "x = 1")

    def test_finalize_leaves_python_running_and_reattaches(self):
        interpreter_id = create()
        check(lib.subinterp_runtime_finalize)
        self.assertEqual(lib.subinterp_runtime_get_mode(), NONE)
        with self.assertRaises(LibraryError) as caught:
            run(interpreter_id, "pass")
        self.assertEqual(caught.exception.status, 2)  # NOT_FOUND: it was destroyed
        check(lib.subinterp_runtime_init, None)
        self.assertEqual(lib.subinterp_runtime_get_mode(), ATTACH)
        run(create(), "import json")

    def test_calls_from_many_host_threads(self):
        interpreter_id = create()
        run(interpreter_id, "calls = 0\ndef bump():\n    global calls\n    calls += 1\n    return calls\n")
        threads = [threading.Thread(target=lambda: [call_int(interpreter_id, "bump") for _ in range(50)])
                   for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(call_int(interpreter_id, "bump"), 401)


if __name__ == "__main__":
    unittest.main(verbosity=2)
