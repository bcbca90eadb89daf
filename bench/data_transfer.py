#!/usr/bin/env python3
"""Data transfer between interpreters: libsubinterp against CPython 3.13's own
cross-interpreter sharing and against pickle, side by side in one run.

    python3 bench/data_transfer.py --library build/py3.13/libsubinterp.so [--quick]
                                   [--markdown docs/benchmarks-data.md] [--json FILE]

Run it with the CPython the library was built against (attach mode: the
library is loaded into this running interpreter with ctypes.PyDLL, as in
capi/tests/test_attach.py). Measures:

1. conversion cost per kind of value: a value made by Python in the main
   interpreter arriving as a Python object in an isolated sub-interpreter;
2. buffer transfer at 1 KiB, 1 MiB and 256 MiB;

plus the fixed costs both sides pay per call, for reading the ratios.

Every measurement is a timeit-style loop (gc disabled, enough iterations per
sample), repeated; medians with min and max. Samples are taken round-robin
over all the measurements of a section (every kind and method of the
conversions, every size and sharing method of the buffers) so that the
machine's noise hits all of them alike. --quick runs everything briefly (CI smoke run): every path is
exercised and verified, the numbers mean little. Any error exits non-zero.

--json FILE writes the results (at the end of a successful run, as the markdown) in the
format of bench/reporting.py (write_json): benchmark "data", one record per measured
figure of the report's tables, unit "s" (seconds per call or transfer), better "lower",
median/min/max over the samples. Groups, impls and params:

  group             impl                               name (markdown label)                      params
  fixed_cost        ctypes_call                        one ctypes.PyDLL call, no argument ...     {}
                    ctypes_call_2_pointers             one ctypes.PyDLL call, 2 pointers ...
                    subinterp_call_noop_sub            ours: subinterp_call(B, "noop") ...
                    subinterp_call_noop_main           ours: subinterp_call(0, "noop") ...
                    interpreters_exec_noop             CPython _interpreters.exec(B, noop ...)
                    interpreters_call_noop             CPython _interpreters.call(B, noop ...)
                    interpreters_set_main_attrs_none   CPython set___main___attrs(B, {"x": None})
                    interpqueues_put_get_main          CPython _interpqueues put + get of 1, ...
  conversion        subinterp_call                     ours: call(0) + call(B)                    {"kind": K}
                    subinterp_prepare_main             ours: call(0) + prepare_main(B)
                    interpreters_set_main_attrs        CPython set___main___attrs   (shareable kinds only)
                    interpqueues                       CPython queue put + exec(get)  (shareable kinds only)
                    pickle                             pickle dumps+loads (1 interp)
  conversion_parts  subinterp_main_to_data             main -> data                               {"kind": K}
                    subinterp_data_to_sub              data -> B
  buffer            subinterp_call                     ours: call(B, take(buffer))                {"size": S}
                    interpreters_set_main_attrs        CPython set___main___attrs + exec(read)
                    interpqueues                       CPython queue put + exec(get, read)
                    pickle                             pickle dumps+loads of bytes

  K: none, bool, int, big_int, float, str, str_1k, bytes_1k, tuple_10_ints, list_100_ints,
     dict_100, nested_tuples, nested_json, set_pickled, decimal_pickled (KIND_IDS: the report's
     rows in that order); a kind CPython cannot share has no interpreters_set_main_attrs /
     interpqueues record in "conversion" (the report says "not shareable").
  S: bytes, 1024, 1048576, 268435456.
"""
import argparse
import ctypes
import datetime
import decimal
import os
import pickle
import platform
import sys
import time

import reporting
from reporting import table
from timing import Measurement, measure_group

import _interpqueues
import _interpreters

KIB = 1024
MIB = 1024 * KIB

# --------------------------------------------------------------------------------------
# The library through ctypes (attach mode)
# --------------------------------------------------------------------------------------

OK = 0
vp = ctypes.c_void_p
vpp = ctypes.POINTER(ctypes.c_void_p)
i64p = ctypes.POINTER(ctypes.c_int64)
SIGNATURES = {
    "subinterp_version_string": ([], ctypes.c_char_p),
    "subinterp_python_version_string": ([], ctypes.c_char_p),
    "subinterp_runtime_init": ([vp, vpp], ctypes.c_int32),
    "subinterp_runtime_finalize": ([vpp], ctypes.c_int32),
    "subinterp_runtime_get_mode": ([], ctypes.c_int),
    "subinterp_create": ([vp, i64p, vpp], ctypes.c_int32),
    "subinterp_destroy": ([ctypes.c_int64, vpp], ctypes.c_int32),
    "subinterp_exec": ([ctypes.c_int64, ctypes.c_char_p, vp, vp, vpp], ctypes.c_int32),
    "subinterp_call": ([ctypes.c_int64, ctypes.c_char_p, vp, vp, vp, vpp, vp, vpp], ctypes.c_int32),
    "subinterp_prepare_main": ([ctypes.c_int64, vp, vpp], ctypes.c_int32),
    "subinterp_data_new_str": ([ctypes.c_char_p, ctypes.c_size_t, vpp, vpp], ctypes.c_int32),
    "subinterp_data_new_tuple": ([vp, ctypes.c_size_t, vpp, vpp], ctypes.c_int32),
    "subinterp_data_new_dict": ([vp, vp, ctypes.c_size_t, vpp, vpp], ctypes.c_int32),
    "subinterp_data_new_buffer": ([ctypes.c_size_t, vpp, vpp, vpp], ctypes.c_int32),
    "subinterp_data_get_kind": ([vp], ctypes.c_int),
    "subinterp_data_kind_name": ([ctypes.c_int], ctypes.c_char_p),
    "subinterp_data_get_str": ([vp, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t), vpp],
                               ctypes.c_int32),
    "subinterp_data_get_buffer": ([vp, vpp, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_int), vpp],
                                  ctypes.c_int32),
    "subinterp_data_free": ([vp], None),
    "subinterp_data_equal": ([vp, vp], ctypes.c_int),
    "subinterp_status_name": ([ctypes.c_int32], ctypes.c_char_p),
    "subinterp_error_code": ([vp], ctypes.c_int32),
    "subinterp_error_message": ([vp], ctypes.c_char_p),
    "subinterp_error_exc_qualname": ([vp], ctypes.c_char_p),
    "subinterp_error_traceback": ([vp], ctypes.c_char_p),
    "subinterp_error_free": ([vp], None),
}
DATA_KIND_STR = 4


class BenchError(RuntimeError):
    """Any failure: the run stops and exits non-zero."""


class Library:
    def __init__(self, path):
        self.path = path
        self.dll = ctypes.PyDLL(path)
        for name, (argtypes, restype) in SIGNATURES.items():
            function = getattr(self.dll, name)
            function.argtypes = argtypes
            function.restype = restype
            setattr(self, name[len("subinterp_"):], function)
        self.err = ctypes.c_void_p()
        self.err_ref = ctypes.byref(self.err)

    def fail(self, what, status):
        """Turn the pending error (status + *err) into a BenchError."""
        err = self.err
        name = self.status_name(status).decode()
        message = self.error_message(err).decode() if err.value else "(no error object)"
        traceback = self.error_traceback(err) if err.value else None
        self.error_free(err)
        err.value = None
        text = f"{what} failed: {name} ({status}): {message}"
        if traceback:
            text += "\n" + traceback.decode()
        raise BenchError(text)

    def check(self, what, status):
        if status != OK:
            self.fail(what, status)

    # -- conveniences (not used in timed loops) --
    def create_interp(self):
        interpreter_id = ctypes.c_int64(-1)
        self.check("subinterp_create", self.create(None, ctypes.byref(interpreter_id), self.err_ref))
        return interpreter_id.value

    def run_code(self, interpreter_id, source):
        self.check(f"subinterp_exec({interpreter_id})",
                   self.exec(interpreter_id, source.encode(), None, None, self.err_ref))

    def make_str(self, text):
        out = ctypes.c_void_p()
        raw = text.encode()
        self.check("subinterp_data_new_str", self.data_new_str(raw, len(raw), ctypes.byref(out), self.err_ref))
        return out

    def make_tuple(self, items):
        array = (ctypes.c_void_p * max(1, len(items)))(*[item.value for item in items])
        out = ctypes.c_void_p()
        self.check("subinterp_data_new_tuple",
                   self.data_new_tuple(array, len(items), ctypes.byref(out), self.err_ref))
        return out

    def call_data(self, interpreter_id, callable_name, args=None):
        out = ctypes.c_void_p()
        self.check(f"subinterp_call({interpreter_id}, {callable_name!r})",
                   self.call(interpreter_id, callable_name.encode(), args, None, None, ctypes.byref(out),
                                 None, self.err_ref))
        return out

    def read_str(self, data):
        kind = self.data_get_kind(data)
        if kind != DATA_KIND_STR:
            raise BenchError(f"expected str data, got {self.data_kind_name(kind).decode()}")
        text, size = ctypes.c_char_p(), ctypes.c_size_t()
        self.check("subinterp_data_get_str",
                   self.data_get_str(data, ctypes.byref(text), ctypes.byref(size), self.err_ref))
        return ctypes.string_at(text, size.value).decode()

    def call_str(self, interpreter_id, callable_name, *str_args):
        items = [self.make_str(a) for a in str_args]
        args = self.make_tuple(items) if items else None
        try:
            result = self.call_data(interpreter_id, callable_name, args)
            try:
                return self.read_str(result)
            finally:
                self.data_free(result)
        finally:
            self.data_free(args)
            for item in items:
                self.data_free(item)


# --------------------------------------------------------------------------------------
# Code run inside the interpreters
# --------------------------------------------------------------------------------------

# In the library's isolated interpreter B.
OURS_B_SOURCE = '''
last = None
n = b = None
def take(x):
    global last
    last = x
def take_buffer(m):
    global n, b
    n = len(m)
    b = m[0]
def noop():
    pass
def describe(name):
    value = globals()[name]
    return type(value).__qualname__ + ":" + repr(value)
def buffer_report():
    return repr((n, b))
def poke(m, index, value):
    m[int(index)] = int(value)
    return "poked"
def forget():
    global last, n, b, x
    last = n = b = x = None
    return "forgotten"
'''

# The value subinterp_call(0, "get_value") returns: set per kind. In attach mode
# interpreter 0's __main__ is this script's module, so these are found there.
_bench_value = None


def get_value():
    return _bench_value


def noop():
    pass


# The functions below run in CPython's sub-interpreter through
# _interpreters.exec(interp, function): only their code object is used, with
# that interpreter's __main__ as globals, where _interpqueues, qid, vq, x and
# describe_name are bound by the setup (so they are undefined here).
def cpy_recv():
    global last
    last = _interpqueues.get(qid)[0]  # noqa: F821


def cpy_read_x():
    global n, b
    n = len(x)  # noqa: F821
    b = x[0]  # noqa: F821


def cpy_recv_read():
    global n, b
    m = _interpqueues.get(qid)[0]  # noqa: F821
    n = len(m)
    b = m[0]


def cpy_noop():
    pass


def cpy_describe():
    value = globals()[describe_name]  # noqa: F821
    _interpqueues.put(vq, type(value).__qualname__ + ":" + repr(value), 0, UNBOUND)  # noqa: F821


def cpy_buffer_report():
    _interpqueues.put(vq, repr((n, b)), 0, UNBOUND)  # noqa: F821


def cpy_poke_x():
    x[1] = 0x42  # noqa: F821


def cpy_recv_poke():
    m = _interpqueues.get(qid)[0]  # noqa: F821
    m[2] = 0x43


def cpy_forget():
    global last, n, b, x
    last = n = b = x = None


# --------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------

# Measurement, timed, calibrate and measure_group: bench/timing.py.


def with_value(value, loop):
    """`loop` with _bench_value (what get_value() returns in main) set to `value` first."""
    def bound(n):
        global _bench_value
        _bench_value = value
        loop(n)
    return bound


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------

KINDS = [
    ("None", None),
    ("bool", True),
    ("small int", 12345),
    ("big int 2**200", 2**200),
    ("float", 3.141592653589793),
    ("short str", "hello"),
    ("str 1 KiB (ASCII)", "x" * KIB),
    ("bytes 1 KiB", bytes(range(256)) * 4),
    ("tuple of 10 ints", tuple(range(10))),
    ("list of 100 ints", list(range(100))),
    ("dict of 100 str->int", {f"key{i}": i for i in range(100)}),
    ("nested tuples (13 scalars)", ((1, 2.5, "a"), (None, True, b"b"), ("c", (3, 4)), (5, 6, "d", "e"))),
    ("nested dict/list (JSON-like)", {"id": 7, "name": "widget", "tags": ["a", "b", "c"], "dims": (1.5, 2.5),
                                      "meta": {"ok": True, "none": None, "blob": b"\x00" * 16},
                                      "items": [{"k": i, "v": str(i)} for i in range(5)]}),
    ("set of 10 ints (pickled)", set(range(10))),
    ("decimal.Decimal (pickled)", decimal.Decimal("3.14159")),
]

# Stable ids of the kinds (params {"kind": ...} of the JSON records).
KIND_IDS = {
    "None": "none",
    "bool": "bool",
    "small int": "int",
    "big int 2**200": "big_int",
    "float": "float",
    "short str": "str",
    "str 1 KiB (ASCII)": "str_1k",
    "bytes 1 KiB": "bytes_1k",
    "tuple of 10 ints": "tuple_10_ints",
    "list of 100 ints": "list_100_ints",
    "dict of 100 str->int": "dict_100",
    "nested tuples (13 scalars)": "nested_tuples",
    "nested dict/list (JSON-like)": "nested_json",
    "set of 10 ints (pickled)": "set_pickled",
    "decimal.Decimal (pickled)": "decimal_pickled",
}
assert list(KIND_IDS) == [kind for kind, _ in KINDS]

CONV_METHODS = [
    ("ours_call", "ours: call(0) + call(B)"),
    ("ours_prep", "ours: call(0) + prepare_main(B)"),
    ("cpy_attrs", "CPython set___main___attrs"),
    ("cpy_queue", "CPython queue put + exec(get)"),
    ("pickle", "pickle dumps+loads (1 interp)"),
]

BUFFER_SIZES = [("1 KiB", KIB), ("1 MiB", MIB), ("256 MiB", 256 * MIB)]
BUF_METHODS = [
    ("ours_buf", "ours: call(B, take(buffer))"),
    ("cpy_attrs_buf", "CPython set___main___attrs + exec(read)"),
    ("cpy_queue_buf", "CPython queue put + exec(get, read)"),
    ("pickle_bytes", "pickle dumps+loads of bytes"),
]

# The JSON records' impl ids of every method (groups conversion, conversion_parts, buffer, fixed_cost)
# and the labels of the measurements that only the "where the time goes" table shows.
IMPLS = {
    "ours_call": "subinterp_call",
    "ours_prep": "subinterp_prepare_main",
    "cpy_attrs": "interpreters_set_main_attrs",
    "cpy_queue": "interpqueues",
    "pickle": "pickle",
    "ours_to_data": "subinterp_main_to_data",
    "ours_from_data": "subinterp_data_to_sub",
    "ours_buf": "subinterp_call",
    "cpy_attrs_buf": "interpreters_set_main_attrs",
    "cpy_queue_buf": "interpqueues",
    "pickle_bytes": "pickle",
    "ctypes_call": "ctypes_call",
    "ctypes_call_2": "ctypes_call_2_pointers",
    "ours_noop_b": "subinterp_call_noop_sub",
    "ours_noop_main": "subinterp_call_noop_main",
    "cpy_exec_noop": "interpreters_exec_noop",
    "cpy_call_noop": "interpreters_call_noop",
    "cpy_attrs_empty": "interpreters_set_main_attrs_none",
    "queue_main_only": "interpqueues_put_get_main",
}
PART_LABELS = {"ours_to_data": "main -> data", "ours_from_data": "data -> B"}

UNBOUND = 3  # _interpqueues unboundop "UNBOUND", 3.13's default (test.support.interpreters._crossinterp)
NOT_SHAREABLE_ERRORS = (_interpreters.NotShareableError, OverflowError)


def short_error(error):
    message = str(error)
    if len(message) > 60:
        message = "..." + message[-45:]
    return f"{type(error).__name__}: {message}"


class Bench:
    def __init__(self, lib, config):
        self.lib = lib
        self.config = config
        self.results = {}          # (group, method) -> Measurement
        self.not_shareable = {}    # (kind, method) -> reason
        self.facts = {}            # verified behaviour, for the notes
        self.ours_b = None
        self.cpy_b = None
        self.qid = None
        self.vq = None
        self.to_free = []

    # -- setup / teardown --

    def setup(self):
        lib = self.lib
        # subinterp_call(0, "get_value") looks the name up in interpreter 0's __main__,
        # which in attach mode is the host's: this script's module, or whoever imported it.
        main_module = sys.modules["__main__"]
        main_module.get_value, main_module.noop = get_value, noop
        lib.check("subinterp_runtime_init", lib.runtime_init(None, lib.err_ref))
        if lib.runtime_get_mode() != 2:
            raise BenchError(f"expected attach mode (2), got {lib.runtime_get_mode()}")
        self.ours_b = lib.create_interp()
        lib.run_code(self.ours_b, OURS_B_SOURCE)
        self.key_x = lib.make_str("x")
        self.to_free.append(self.key_x)

        self.cpy_b = _interpreters.create("isolated")
        self.qid = _interpqueues.create(0, 0, UNBOUND)   # maxsize 0, fmt 0 (shared only, no pickle)
        self.vq = _interpqueues.create(0, 0, UNBOUND)
        # _interpreters must be imported in the receiving interpreter or 3.13 cannot
        # rebuild a shared memoryview there ("_interpreters module not imported yet").
        self.cpy_exec("import _interpreters, _interpqueues")
        _interpreters.set___main___attrs(self.cpy_b, {"qid": self.qid, "vq": self.vq, "UNBOUND": UNBOUND})

    def teardown(self):
        """Best effort, every step attempted; returns the errors."""
        errors = []

        def attempt(what, function, *args):
            try:
                function(*args)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(f"{what}: {error}")

        lib = self.lib
        for data in self.to_free:
            lib.data_free(data)
        self.to_free = []
        if self.cpy_b is not None:
            attempt("CPython interpreter cleanup", self.cpy_exec, cpy_forget)
            for q in (self.qid, self.vq):
                if q is not None:
                    attempt("_interpqueues.destroy", _interpqueues.destroy, q)
            attempt("_interpreters.destroy", _interpreters.destroy, self.cpy_b)
            self.cpy_b = None
        if self.ours_b is not None:
            attempt("subinterp_destroy", lambda: lib.check("subinterp_destroy", lib.destroy(self.ours_b, lib.err_ref)))
            self.ours_b = None
        attempt("subinterp_runtime_finalize",
                lambda: lib.check("subinterp_runtime_finalize", lib.runtime_finalize(lib.err_ref)))
        return errors

    # -- CPython helpers --

    def cpy_exec(self, code):
        failure = _interpreters.exec(self.cpy_b, code)
        if failure is not None:
            raise BenchError(f"_interpreters.exec failed in the CPython sub-interpreter:\n{failure.errdisplay}")

    def cpy_describe(self, name):
        _interpreters.set___main___attrs(self.cpy_b, {"describe_name": name})
        self.cpy_exec(cpy_describe)
        return _interpqueues.get(self.vq)[0]

    # -- loops: ours --

    def ours_call_loop(self, take=b"take"):
        lib, err_ref = self.lib, self.lib.err_ref
        call, new_tuple, free, fail = lib.call, lib.data_new_tuple, lib.data_free, lib.fail
        b_id = self.ours_b
        value, args, result = ctypes.c_void_p(), ctypes.c_void_p(), ctypes.c_void_p()
        value_ref, args_ref, result_ref = ctypes.byref(value), ctypes.byref(args), ctypes.byref(result)
        items = (ctypes.c_void_p * 1)()

        def loop(n):
            for _ in range(n):
                status = call(0, b"get_value", None, None, None, value_ref, None, err_ref)
                if status:
                    fail("subinterp_call(0, 'get_value')", status)
                items[0] = value.value
                status = new_tuple(items, 1, args_ref, err_ref)
                if status:
                    free(value)
                    fail("subinterp_data_new_tuple", status)
                status = call(b_id, take, args, None, None, result_ref, None, err_ref)
                free(args)
                free(value)
                if status:
                    fail("subinterp_call(B, 'take')", status)
                free(result)
        return loop

    def ours_to_data_loop(self):
        """Only main -> data: subinterp_call(0, "get_value") and free its result."""
        lib, err_ref = self.lib, self.lib.err_ref
        call, free, fail = lib.call, lib.data_free, lib.fail
        value = ctypes.c_void_p()
        value_ref = ctypes.byref(value)

        def loop(n):
            for _ in range(n):
                status = call(0, b"get_value", None, None, None, value_ref, None, err_ref)
                if status:
                    fail("subinterp_call(0, 'get_value')", status)
                free(value)
        return loop

    def ours_from_data_loop(self, data):
        """Only data -> B: the same as the second half of ours_call_loop, with `data` made once."""
        lib, err_ref = self.lib, self.lib.err_ref
        call, new_tuple, free, fail = lib.call, lib.data_new_tuple, lib.data_free, lib.fail
        b_id = self.ours_b
        args, result = ctypes.c_void_p(), ctypes.c_void_p()
        args_ref, result_ref = ctypes.byref(args), ctypes.byref(result)
        items = (ctypes.c_void_p * 1)(data.value)

        def loop(n):
            for _ in range(n):
                status = new_tuple(items, 1, args_ref, err_ref)
                if status:
                    fail("subinterp_data_new_tuple", status)
                status = call(b_id, b"take", args, None, None, result_ref, None, err_ref)
                free(args)
                if status:
                    fail("subinterp_call(B, 'take')", status)
                free(result)
        return loop

    def ours_prepare_loop(self):
        lib, err_ref = self.lib, self.lib.err_ref
        call, new_dict, prepare, free, fail = lib.call, lib.data_new_dict, lib.prepare_main, lib.data_free, lib.fail
        b_id = self.ours_b
        value, names = ctypes.c_void_p(), ctypes.c_void_p()
        value_ref, names_ref = ctypes.byref(value), ctypes.byref(names)
        keys = (ctypes.c_void_p * 1)(self.key_x.value)
        values = (ctypes.c_void_p * 1)()

        def loop(n):
            for _ in range(n):
                status = call(0, b"get_value", None, None, None, value_ref, None, err_ref)
                if status:
                    fail("subinterp_call(0, 'get_value')", status)
                values[0] = value.value
                status = new_dict(keys, values, 1, names_ref, err_ref)
                if status:
                    free(value)
                    fail("subinterp_data_new_dict", status)
                status = prepare(b_id, names, err_ref)
                free(names)
                free(value)
                if status:
                    fail("subinterp_prepare_main(B)", status)
        return loop

    def ours_buffer_loop(self, buffer):
        lib, err_ref = self.lib, self.lib.err_ref
        call, new_tuple, free, fail = lib.call, lib.data_new_tuple, lib.data_free, lib.fail
        b_id = self.ours_b
        args, result = ctypes.c_void_p(), ctypes.c_void_p()
        args_ref, result_ref = ctypes.byref(args), ctypes.byref(result)
        items = (ctypes.c_void_p * 1)(buffer.value)

        def loop(n):
            for _ in range(n):
                status = new_tuple(items, 1, args_ref, err_ref)
                if status:
                    fail("subinterp_data_new_tuple", status)
                status = call(b_id, b"take_buffer", args, None, None, result_ref, None, err_ref)
                free(args)
                if status:
                    fail("subinterp_call(B, 'take_buffer')", status)
                free(result)
        return loop

    # -- loops: CPython --

    def cpy_attrs_loop(self, value):
        set_attrs, b_id = _interpreters.set___main___attrs, self.cpy_b

        def loop(n):
            for _ in range(n):
                set_attrs(b_id, {"x": value})
        return loop

    def cpy_queue_loop(self, value, receiver=cpy_recv):
        put, run, b_id, qid = _interpqueues.put, _interpreters.exec, self.cpy_b, self.qid

        def loop(n):
            for _ in range(n):
                put(qid, value, 0, UNBOUND)
                failure = run(b_id, receiver)
                if failure is not None:
                    raise BenchError(f"_interpreters.exec failed:\n{failure.errdisplay}")
        return loop

    def cpy_attrs_read_loop(self, value):
        set_attrs, run, b_id = _interpreters.set___main___attrs, _interpreters.exec, self.cpy_b

        def loop(n):
            for _ in range(n):
                set_attrs(b_id, {"x": value})
                failure = run(b_id, cpy_read_x)
                if failure is not None:
                    raise BenchError(f"_interpreters.exec failed:\n{failure.errdisplay}")
        return loop

    @staticmethod
    def pickle_loop(value):
        dumps, loads, protocol = pickle.dumps, pickle.loads, pickle.HIGHEST_PROTOCOL

        def loop(n):
            for _ in range(n):
                loads(dumps(value, protocol))
        return loop

    # -- 0. fixed costs --

    def fixed_costs(self):
        lib = self.lib
        get_mode = lib.runtime_get_mode
        call, free, fail, err_ref = lib.call, lib.data_free, lib.fail, lib.err_ref
        result = ctypes.c_void_p()
        result_ref = ctypes.byref(result)
        b_id, cb = self.ours_b, self.cpy_b

        def ctypes_call(n):
            for _ in range(n):
                get_mode()

        equal = lib.data_equal
        key_x = self.key_x

        def ctypes_call_2(n):
            for _ in range(n):
                equal(key_x, key_x)

        def ours_noop(interpreter_id):
            def loop(n):
                for _ in range(n):
                    status = call(interpreter_id, b"noop", None, None, None, result_ref, None, err_ref)
                    if status:
                        fail("subinterp_call(noop)", status)
                    free(result)
            return loop

        def cpy_exec_noop(n):
            run = _interpreters.exec
            for _ in range(n):
                if run(cb, cpy_noop) is not None:
                    raise BenchError("exec(noop) failed")

        def cpy_call_noop(n):
            run = _interpreters.call
            for _ in range(n):
                if run(cb, cpy_noop) is not None:
                    raise BenchError("call(noop) failed")

        def cpy_attrs_empty(n):
            set_attrs = _interpreters.set___main___attrs
            for _ in range(n):
                set_attrs(cb, {"x": None})

        def queue_main_only(n):
            put, get, qid = _interpqueues.put, _interpqueues.get, self.qid
            for _ in range(n):
                put(qid, 1, 0, UNBOUND)
                get(qid)

        rows = [
            ("ctypes_call", "one ctypes.PyDLL call, no argument (subinterp_runtime_get_mode)", ctypes_call),
            ("ctypes_call_2", "one ctypes.PyDLL call, 2 pointers (subinterp_data_equal)", ctypes_call_2),
            ("ours_noop_b", "ours: subinterp_call(B, \"noop\") + free result", ours_noop(b_id)),
            ("ours_noop_main", "ours: subinterp_call(0, \"noop\") + free result", ours_noop(0)),
            ("cpy_exec_noop", "CPython _interpreters.exec(B, noop function)", cpy_exec_noop),
            ("cpy_call_noop", "CPython _interpreters.call(B, noop function)", cpy_call_noop),
            ("cpy_attrs_empty", "CPython set___main___attrs(B, {\"x\": None})", cpy_attrs_empty),
            ("queue_main_only", "CPython _interpqueues put + get of 1, main only", queue_main_only),
        ]
        self.fixed_rows = [(key, label) for key, label, _ in rows]
        group = [Measurement(("fixed", key), loop) for key, _, loop in rows]
        measure_group(group, self.config.sample_time, self.config.repeat)
        for m in group:
            self.results[m.key] = m

    # -- 1. conversions --

    def verify_kind(self, kind, value):
        """Check once, outside the timing, that each path delivers an equal value of the same type."""
        global _bench_value
        _bench_value = value
        expected = type(value).__qualname__ + ":" + repr(value)
        self.ours_call_loop()(1)
        got = self.lib.call_str(self.ours_b, "describe", "last")
        if got != expected:
            raise BenchError(f"{kind}: subinterp call delivered {got[:200]!r}, expected {expected[:200]!r}")
        self.ours_prepare_loop()(1)
        got = self.lib.call_str(self.ours_b, "describe", "x")
        if got != expected:
            raise BenchError(f"{kind}: subinterp prepare_main delivered {got[:200]!r}, expected {expected[:200]!r}")
        shareable = {}
        try:
            _interpreters.set___main___attrs(self.cpy_b, {"x": value})
        except NOT_SHAREABLE_ERRORS as error:
            self.not_shareable[(kind, "cpy_attrs")] = short_error(error)
        else:
            shareable["cpy_attrs"] = True
            got = self.cpy_describe("x")
            if got != expected:
                raise BenchError(f"{kind}: set___main___attrs delivered {got[:200]!r}, expected {expected[:200]!r}")
        try:
            _interpqueues.put(self.qid, value, 0, UNBOUND)
        except NOT_SHAREABLE_ERRORS as error:
            self.not_shareable[(kind, "cpy_queue")] = short_error(error)
        else:
            shareable["cpy_queue"] = True
            self.cpy_exec(cpy_recv)
            got = self.cpy_describe("last")
            if got != expected:
                raise BenchError(f"{kind}: _interpqueues delivered {got[:200]!r}, expected {expected[:200]!r}")
        if shareable and not _interpreters.is_shareable(value):
            raise BenchError(f"{kind}: shared by CPython although is_shareable() is False")
        copy = pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
        if type(copy).__qualname__ + ":" + repr(copy) != expected:
            raise BenchError(f"{kind}: pickle round trip differs")
        return shareable

    def conversions(self):
        """Every kind and method in one round-robin: each round takes one sample of every
        measurement, so a burst of load from elsewhere lands on one sample of many
        measurements (which the medians shrug off) instead of on all samples of one kind
        (which would skew that kind, and, for None, every delta)."""
        global _bench_value
        group, datas = [], []
        try:
            for kind, value in KINDS:
                shareable = self.verify_kind(kind, value)
                _bench_value = value
                datas.append(self.lib.call_data(0, "get_value"))
                loops = {
                    "ours_call": with_value(value, self.ours_call_loop()),
                    "ours_prep": with_value(value, self.ours_prepare_loop()),
                    "cpy_attrs": self.cpy_attrs_loop(value) if "cpy_attrs" in shareable else None,
                    "cpy_queue": self.cpy_queue_loop(value) if "cpy_queue" in shareable else None,
                    "pickle": self.pickle_loop(value),
                    "ours_to_data": with_value(value, self.ours_to_data_loop()),
                    "ours_from_data": self.ours_from_data_loop(datas[-1]),
                }
                group += [Measurement((kind, method), loop) for method, loop in loops.items() if loop]
            self.progress("conversions: verified every kind and path")
            measure_group(group, self.config.sample_time, self.config.repeat, self.progress)
        finally:
            for data in datas:
                self.lib.data_free(data)
            _bench_value = None
        for m in group:
            self.results[m.key] = m
        if _interpqueues.get_count(self.qid) != 0:
            raise BenchError("conversions: the CPython queue was left with items")
        self.progress("conversions")

    # -- 2. buffers --

    def new_buffer(self, size):
        lib = self.lib
        memory, data = ctypes.c_void_p(), ctypes.c_void_p()
        lib.check("subinterp_data_new_buffer",
                  lib.data_new_buffer(size, ctypes.byref(memory), ctypes.byref(data), lib.err_ref))
        ctypes.memset(memory, 0x61, size)  # filled once
        return memory, data

    def verify_buffers(self, label, size, memory, data, array, view):
        lib = self.lib
        # subinterp: B sees len and the bytes; a write from B lands in the host's memory.
        self.ours_buffer_loop(data)(1)
        report = lib.call_str(self.ours_b, "buffer_report")
        if report != repr((size, 0x61)):
            raise BenchError(f"{label}: subinterp B read {report}, expected {(size, 0x61)}")
        index, byte = lib.make_str("1"), lib.make_str(str(0x42))
        poke_args = lib.make_tuple([data, index, byte])
        lib.data_free(index)
        lib.data_free(byte)
        try:
            lib.data_free(lib.call_data(self.ours_b, "poke", poke_args))
        finally:
            lib.data_free(poke_args)
        seen = ctypes.string_at(memory.value + 1, 1)
        self.facts.setdefault("ours_zero_copy", []).append((label, seen == b"\x42"))
        ctypes.memset(memory.value + 1, 0x61, 1)
        got_memory, got_size = ctypes.c_void_p(), ctypes.c_size_t()
        lib.check("subinterp_data_get_buffer", lib.data_get_buffer(data, ctypes.byref(got_memory),
                                                                  ctypes.byref(got_size), None, lib.err_ref))
        if got_memory.value != memory.value or got_size.value != size:
            raise BenchError(f"{label}: buffer data changed address or size")

        # CPython, set___main___attrs: memoryview of a bytearray.
        _interpreters.set___main___attrs(self.cpy_b, {"x": view})
        self.cpy_exec(cpy_read_x)
        _interpqueues_get_report = self.cpy_report()
        if _interpqueues_get_report != repr((size, 0x61)):
            raise BenchError(f"{label}: CPython B read {_interpqueues_get_report} via set___main___attrs")
        self.cpy_exec(cpy_poke_x)
        self.facts.setdefault("cpy_attrs_zero_copy", []).append((label, array[1] == 0x42))
        array[1] = 0x61
        # CPython, queue.
        _interpqueues.put(self.qid, view, 0, UNBOUND)
        self.cpy_exec(cpy_recv_poke)
        self.facts.setdefault("cpy_queue_zero_copy", []).append((label, array[2] == 0x43))
        array[2] = 0x61
        self.cpy_exec(cpy_forget)

    def cpy_report(self):
        self.cpy_exec(cpy_buffer_report)
        return _interpqueues.get(self.vq)[0]

    def buffers(self):
        """All sizes of the sharing methods in one interleaved group, so 1 MiB and 256 MiB
        are measured under the same conditions; pickle in a group of its own afterwards,
        because its 256 MiB round trips (mapping and unmapping ~800 MiB each) disturb
        whatever is measured next to them."""
        prepared = []   # (label, size, data, view)
        try:
            for label, size in BUFFER_SIZES:
                memory, data = self.new_buffer(size)
                array = bytearray(b"a") * size
                view = memoryview(array)
                prepared.append((label, size, data, view))
                self.verify_buffers(label, size, memory, data, array, view)
            group = []
            for label, _, data, view in prepared:
                group += [
                    Measurement((label, "ours_buf"), self.ours_buffer_loop(data)),
                    Measurement((label, "cpy_attrs_buf"), self.cpy_attrs_read_loop(view)),
                    Measurement((label, "cpy_queue_buf"), self.cpy_queue_loop(view, cpy_recv_read)),
                ]
            measure_group(group, self.config.sample_time, self.config.repeat)
            for m in group:
                self.results[m.key] = m
            self.cpy_exec(cpy_forget)
            if _interpqueues.get_count(self.qid) != 0:
                raise BenchError("buffers: the CPython queue was left with items")
            if self.lib.call_str(self.ours_b, "forget") != "forgotten":
                raise BenchError("forget() failed")
            self.progress("buffers: sharing")
        finally:
            for _, _, data, _ in prepared:
                self.lib.data_free(data)
            prepared = None
        group = [Measurement((label, "pickle_bytes"), self.pickle_loop(b"a" * size)) for label, size in BUFFER_SIZES]
        measure_group(group, self.config.sample_time, self.config.repeat)
        for m in group:
            self.results[m.key] = m
        self.progress("buffers: pickle")

    def progress(self, text):
        if self.config.verbose:
            print(f"  done: {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def fmt_us(seconds):
    us = seconds * 1e6
    return f"{us:.2f}" if abs(us) < 100 else f"{us:.0f}"


def fmt_range(m):
    return f"{fmt_us(m.median)} ({fmt_us(min(m.samples))}-{fmt_us(max(m.samples))})"


def fmt_ratio(ours, theirs):
    if ours is None or theirs is None or theirs <= 0:
        return "-"
    ratio = ours / theirs
    if ratio < 0.1:
        return f"1/{1 / ratio:,.0f}"
    return f"{ratio:.2f}x"


# A delta over None is taken as noise (and no delta ratio is computed from it)
# below max(DELTA_FLOOR, DELTA_RELATIVE_FLOOR x that method's None time): the
# medians of one method move by about that much between runs on this machine.
DELTA_FLOOR = 0.1e-6
DELTA_RELATIVE_FLOOR = 0.1


def machine_info(lib):
    return {**reporting.machine_info(lib.path), "library_version": lib.version_string().decode(),
            "library_python": lib.python_version_string().decode()}


def render(bench, config, info, started, elapsed, load_before, load_after):
    r = bench.results
    out = []
    add = out.append

    def med(group, method):
        m = r.get((group, method))
        return m.median if m else None

    add("# Benchmarks: data transfer between interpreters")
    add("")
    add("Generated by `bench/data_transfer.py` (run through `ci/bench`); do not edit by hand, "
        "rerun it. All numbers below come from one run.")
    add("")
    if config.quick:
        add("**This is a --quick run: samples are far too short for the numbers to mean anything.**")
        add("")
    # The benchmark itself adds about 1 to the load average.
    if load_before[0] > 1.0 or max(load_after[:2]) > info["nproc"]:
        add(f"**The machine was busy during this run** (1-minute load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after, on {info['nproc']} cores, this benchmark being about 1 of it): other "
            "processes competed for the CPUs, so absolute times are inflated and noisy. Ratios of interleaved "
            "medians suffer less; small deltas (under about 1 us) are not reliable.")
        add("")
    add("## Machine and command")
    add("")
    add(f"- Date (UTC): {started:%Y-%m-%d %H:%M}; the run took {elapsed:.0f} s.")
    loads = " / ".join("%.2f %.2f %.2f" % load for load in (load_before, load_after))
    add(f"- CPU: {info['cpu']}; nproc {info['nproc']} (usable by this process: {info['affinity']}); "
        f"load average (1, 5, 15 min) before / after the run: {loads}.")
    add(f"- OS: {info['platform']}")
    add(f"- CPython: {info['python']} (`{info['executable']}`)")
    add(f"- Library: libsubinterp {info['library_version']} built against CPython {info['library_python']}, "
        f"CMAKE_BUILD_TYPE={info['build_type']}, attach mode (loaded with `ctypes.PyDLL`); "
        f"sources at benchmark time: {info['source']}.")
    add(f"- Command: `{config.command}`")
    add(f"- Method: every figure is the time of one transfer; {config.repeat} samples per measurement, "
        f"each sample a loop of enough transfers to last about {config.sample_time * 1000:.0f} ms (gc off), "
"samples taken round-robin over all measurements of a section (all kinds and methods of section 1 take "
        "turns, one sample each per round), so bursts of load from other processes spread over all of them. "
        "Shown: median (min-max) in microseconds.")
    add("")

    # Fixed costs.
    add("## Fixed costs per call")
    add("")
    add("What each side pays before any value is converted; B is an isolated sub-interpreter (own GIL).")
    add("")
    rows = [[label, fmt_range(r[("fixed", key)])] for key, label in bench.fixed_rows]
    add(table(["operation", "us per call, median (min-max)"], rows))
    add("")
    ctypes_cost = med("fixed", "ctypes_call_2")

    # Conversions.
    add("## 1. Conversion cost per kind of value")
    add("")
    add("One transfer = a value made by Python in the main interpreter arrives as a Python object in "
        "isolated sub-interpreter B.")
    add("")
    add("- **ours: call(0) + call(B)**: `data = subinterp_call(0, \"get_value\")` (main converts the value to "
        "portable data), `args = subinterp_data_new_tuple([data])`, `subinterp_call(B, \"take\", args)` (B converts "
        "the data to a Python object and calls `take(x)`, which stores it in a global; its None result comes back "
        "as data), then three `subinterp_data_free`. Six ctypes calls.")
    add("- **ours: call(0) + prepare_main(B)**: the same `get_value` call, then `subinterp_data_new_dict({\"x\": data})` "
        "and `subinterp_prepare_main(B, names)`, which binds `x` in B's `__main__` and runs no Python function "
        "there: the library's closest counterpart of `set___main___attrs`. Five ctypes calls.")
    add("- **CPython set___main___attrs**: `_interpreters.set___main___attrs(B, {\"x\": value})`: the value's "
        "cross-interpreter data is made in main and turned into an object bound in B's `__main__`; no code runs in B.")
    add("- **CPython queue put + exec(get)**: `_interpqueues.put(qid, value, 0, UNBOUND)` in main, then "
        "`_interpreters.exec(B, f)` where `f` does `last = _interpqueues.get(qid)[0]` in B.")
    add("- **pickle dumps+loads**: `pickle.loads(pickle.dumps(value, 5))` in the main interpreter only.")
    add("")
    add("### Raw time per transfer, us: median (min-max)")
    add("")
    header = ["kind"] + [label for _, label in CONV_METHODS]
    rows = []
    for kind, _ in KINDS:
        row = [kind]
        for method, _ in CONV_METHODS:
            m = r.get((kind, method))
            row.append(fmt_range(m) if m else "not shareable")
        rows.append(row)
    add(table(header, rows))
    add("")
    add("### Delta over None, us: median of the kind minus median of None, same method")
    add("")
    rows = []
    for kind, _ in KINDS:
        row = [kind]
        for method, _ in CONV_METHODS:
            m, base = med(kind, method), med("None", method)
            row.append(fmt_us(m - base) if m is not None and base is not None else "not shareable")
        rows.append(row)
    add(table(header, rows))
    add("")
    add("### Ratios, ours / theirs (medians; above 1 means subinterp is slower)")
    add("")
    add(f"Delta ratios compare the per-kind cost above the None baseline. `n/m` (not measurable): one of "
        f"the two deltas is below max({DELTA_FLOOR * 1e6:.1f} us, {DELTA_RELATIVE_FLOOR:.0%} of that method's "
        "None time), i.e. within the noise of this machine, so no ratio is given.")
    add("")

    def delta_ratio(kind, ours_method, their_method):
        o, ob = med(kind, ours_method), med("None", ours_method)
        t, tb = med(kind, their_method), med("None", their_method)
        if None in (o, ob, t, tb):
            return "-"
        if kind == "None":
            return "-"
        if o - ob < max(DELTA_FLOOR, DELTA_RELATIVE_FLOOR * ob) or t - tb < max(DELTA_FLOOR, DELTA_RELATIVE_FLOOR * tb):
            return "n/m"
        return f"{(o - ob) / (t - tb):.2f}x"

    comparisons = [
        ("ours_call", "cpy_attrs", "call+call / set_attrs"),
        ("ours_prep", "cpy_attrs", "call+prepare_main / set_attrs"),
        ("ours_call", "cpy_queue", "call+call / queue+exec"),
        ("ours_call", "pickle", "call+call / pickle"),
    ]
    header = ["kind"]
    for _, _, name in comparisons:
        header += [f"{name}: raw", f"{name}: delta"]
    rows = []
    for kind, _ in KINDS:
        row = [kind]
        for ours_method, their_method, _ in comparisons:
            if (kind, their_method) in bench.not_shareable:
                row += ["not shareable", "not shareable"]
                continue
            row.append(fmt_ratio(med(kind, ours_method), med(kind, their_method)))
            row.append(delta_ratio(kind, ours_method, their_method))
        rows.append(row)
    add(table(header, rows))
    add("")
    if bench.not_shareable:
        add("Not shareable by CPython 3.13 (the exception each path raised):")
        add("")
        for (kind, method), reason in bench.not_shareable.items():
            add(f"- {kind}, {dict(CONV_METHODS)[method]}: `{reason}`")
        add("")

    add("### Where subinterp's time goes, us: medians")
    add("")
    add("The two halves of `call(0) + call(B)` timed separately (interleaved with the rest): **main -> data** is "
        "`subinterp_call(0, \"get_value\")` + free; **data -> B** is `new_tuple([data])` + `subinterp_call(B, "
        "\"take\", args)` + two frees, with the data made once. In parentheses: the delta over None of each half.")
    add("")
    rows = []
    for kind, _ in KINDS:
        halves = []
        for method in ("ours_to_data", "ours_from_data"):
            m, base = med(kind, method), med("None", method)
            halves.append(f"{fmt_us(m)} ({fmt_us(m - base)})")
        total = med(kind, "ours_to_data") + med(kind, "ours_from_data")
        rows.append([kind, *halves, fmt_us(total), fmt_us(med(kind, "ours_call"))])
    add(table(["kind", "main -> data", "data -> B", "sum of halves", "call(0) + call(B) measured whole"], rows))
    add("")

    # Buffers.
    add("## 2. Buffer transfer")
    add("")
    add("- **ours**: a buffer made once with `subinterp_data_new_buffer(size)` and filled once; per transfer "
        "`args = subinterp_data_new_tuple([buffer])`, `subinterp_call(B, \"take_buffer\", args)` where "
        "`take_buffer(m)` reads `len(m)` and `m[0]` of the memoryview it receives, two frees.")
    add("- **CPython set___main___attrs + exec(read)**: `set___main___attrs(B, {\"x\": memoryview(bytearray)})` then "
        "`_interpreters.exec(B, f)` with `f` reading `len(x)` and `x[0]` (the memoryview object is made once).")
    add("- **CPython queue put + exec(get, read)**: `_interpqueues.put(qid, memoryview(bytearray), 0, UNBOUND)`, "
        "then `exec(B, f)` with `f` getting it and reading `len()` and `[0]`.")
    add("- **pickle**: `pickle.loads(pickle.dumps(bytes_of_that_size, 5))` in the main interpreter.")
    add("")
    add("The three sharing methods are measured at all three sizes in one interleaved group, so 1 MiB and 256 MiB "
        "see the same conditions; pickle is measured afterwards in a group of its own, because each 256 MiB "
        "round trip allocates and frees hundreds of MiB and slows down whatever is sampled next to it (an earlier "
        "version of this benchmark that interleaved pickle with the others measured a spurious growth from "
        "1 MiB to 256 MiB for all the sharing methods, CPython's included).")
    add("")
    header = ["size"] + [label for _, label in BUF_METHODS] + [
        "ours / set_attrs+exec", "ours / queue+exec", "ours / pickle"]
    rows = []
    for label, _ in BUFFER_SIZES:
        row = [label] + [fmt_range(r[(label, method)]) for method, _ in BUF_METHODS]
        row += [fmt_ratio(med(label, "ours_buf"), med(label, other))
                for other in ("cpy_attrs_buf", "cpy_queue_buf", "pickle_bytes")]
        rows.append(row)
    add("### Time per transfer, us: median (min-max), and ratios ours / theirs")
    add("")
    add(table(header, rows))
    add("")
    add("### Growth with size (median at 256 MiB / median at 1 MiB; 1.00x = independent of size)")
    add("")
    rows = [[label, fmt_ratio(med("256 MiB", method), med("1 MiB", method))] for method, label in BUF_METHODS]
    add(table(["method", "256 MiB / 1 MiB"], rows))
    add("")
    growth = med("256 MiB", "ours_buf") / med("1 MiB", "ours_buf")
    worst = max(r[("256 MiB", "ours_buf")].samples) / min(r[("1 MiB", "ours_buf")].samples)
    verdict = "HOLDS" if growth <= 2.0 else "DOES NOT HOLD"
    add(f"**Headline claim** \"subinterp's 1 MiB and 256 MiB transfers are within 2x of each other\": "
        f"**{verdict}** in this run: median 256 MiB / median 1 MiB = {growth:.2f}x "
        f"(worst case, slowest 256 MiB sample / fastest 1 MiB sample = {worst:.2f}x).")
    add("")
    bench.facts["headline"] = (verdict, growth, worst)

    # Notes.
    add("## Notes: what each side actually does")
    add("")

    def zero_copy_fact(key):
        checks = bench.facts.get(key, [])
        if checks and all(ok for _, ok in checks):
            return "verified zero-copy in this run (a write from B was seen by main) at " + \
                ", ".join(label for label, _ in checks)
        return "NOT zero-copy in this run: " + ", ".join(f"{label}: {'shared' if ok else 'copied'}"
                                                         for label, ok in checks)
    if ctypes_cost is not None:
        add(f"- **The subinterp side is driven through ctypes**, CPython's side through its C modules called "
            f"directly. One ctypes call with two pointer arguments costs about {fmt_us(ctypes_cost)} us here "
            "(calls with eight arguments cost somewhat more), so the six calls of a "
            f"call(0) + call(B) transfer carry about {fmt_us(6 * ctypes_cost)} us of ctypes overhead that a "
            "C host (or a C extension binding) would not pay; the five of call(0) + prepare_main(B) about "
            f"{fmt_us(5 * ctypes_cost)} us; the four of a buffer transfer about {fmt_us(4 * ctypes_cost)} us. "
            "This is overhead of the harness, not of the library; the deltas over None cancel it.")
    add("- **Two conversions on our side, one on CPython's**: the library converts the object to portable data "
        "in main (`subinterp_call(0, ...)`: the call itself, entering main through the library's own thread "
        "state, running `get_value()`, converting its result) and from data to a new object in B. CPython's "
        "`set___main___attrs` makes its cross-interpreter data in main without running any Python function and "
        "builds the object in B; its queue path does the same split across `put` and `get`, but pays "
        "`_interpreters.exec` (see fixed costs) to run the `get` in B.")
    add("- **Copies for values**: both sides copy scalars, str and bytes (ours: into the portable data, then into "
        "a new object in B; CPython 3.13: the data points into the original object and B copies it once into a new "
        "object). Containers: ours converts every item into a separately allocated data value (a Python dict's "
        "keys are known distinct, so no duplicate check runs); CPython 3.13 shares only tuples of shareable "
        "items, and no list, dict, set, Decimal or int outside the signed 64-bit range (its error says "
        "\"try sending as bytes\"). A str's UTF-8 comes from `PyUnicode_AsUTF8AndSize` and is not "
        "validated again (only text from hosts is).")
    add("- **Pickled fallback**: for objects outside the portable model (set, Decimal) the library runs "
        "`pickle.dumps(obj, 5)` in main and `pickle.loads` in B (looking the function up with "
        "`PyImport_ImportModule(\"pickle\")` each time), so it can never be cheaper than the "
        "single-interpreter pickle column plus the fixed cost of the calls.")
    add(f"- **subinterp buffers**: {zero_copy_fact('ours_zero_copy')}. B receives a memoryview of a small exporter "
        "object holding a reference to the library's memory; nothing is copied at any size. The buffer's memory is "
        "not touched per transfer (only `m[0]` is read), so the cost is the call, an exporter object and a memoryview.")
    add(f"- **CPython 3.13 memoryview sharing**, set___main___attrs: {zero_copy_fact('cpy_attrs_zero_copy')}; "
        f"queue: {zero_copy_fact('cpy_queue_zero_copy')}. B gets a memoryview over a "
        "`_interpreters.CrossInterpreterBufferView` that holds a `Py_buffer` of main's bytearray (so the bytearray "
        "stays exported, hence unresizable, while B holds it). 3.13 requires `_interpreters` to be imported in the "
        "receiving interpreter first, or the transfer fails with `RuntimeError: _interpreters module not imported "
        "yet` (this benchmark imports it in B during setup). A memoryview is shareable only if it is a memoryview; "
        "bytes are copied once into B.")
    add("- **CPython needs exec to read a buffer in B**: set___main___attrs runs no code in B, so reading `len()` "
        "and one byte there costs an `_interpreters.exec` (a function's code object run in B's `__main__`), "
        "which dominates CPython's buffer columns. subinterp delivers the buffer as an argument of the call that "
        "reads it.")
    add("- **pickle** copies the bytes twice per round trip (into the pickle, out of it), so its time grows "
        "linearly with size; it is the cost any process-based transfer pays at least once.")
    add("- **Noise**: the machine has 2 cores and other work runs on it; the min-max ranges show the spread. "
        "Ratios are computed from medians of samples taken interleaved, which is more robust than the absolute "
        "numbers; compare ratios, not microseconds, across runs.")
    add("")
    return "\n".join(out) + "\n"


def json_results(bench):
    """The JSON records (reporting.record) of every measurement the report's tables show."""
    r, out = bench.results, []
    for key, label in bench.fixed_rows:
        out.append(reporting.record("fixed_cost", label, IMPLS[key], r[("fixed", key)].samples, "s"))
    for kind, _ in KINDS:
        for method, label in CONV_METHODS:
            if (kind, method) in r:
                out.append(reporting.record("conversion", label, IMPLS[method], r[(kind, method)].samples, "s",
                                            {"kind": KIND_IDS[kind]}))
        for method, label in PART_LABELS.items():
            out.append(reporting.record("conversion_parts", label, IMPLS[method], r[(kind, method)].samples, "s",
                                        {"kind": KIND_IDS[kind]}))
    for size_label, size in BUFFER_SIZES:
        for method, label in BUF_METHODS:
            out.append(reporting.record("buffer", label, IMPLS[method], r[(size_label, method)].samples, "s",
                                        {"size": size}))
    return out


# --------------------------------------------------------------------------------------

def library_matches_python(lib):
    """True if `lib` was built against this CPython; otherwise says so on stderr."""
    built_for = lib.python_version_string().decode()
    if built_for == platform.python_version():
        return True
    print(f"error: the library was built against CPython {built_for}, this is {platform.python_version()}",
          file=sys.stderr)
    return False


class Run:
    """One benchmark run: its start (time, machine load) and, once its steps
    succeeded, its report -- printed, and written to config.markdown if given."""

    def __init__(self):
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.t0 = time.perf_counter()
        self.load_before = os.getloadavg()
        self.elapsed = None

    def execute(self, bench, steps, render_report, config, lib, benchmark, results):
        """Runs steps() and always bench.teardown(); any failure makes the
        status 1 and writes no report. Then the report, and with config.json the
        results(bench) records as the JSON document of `benchmark`
        (reporting.write_json). Returns the exit status."""
        status = 0
        try:
            steps()
        except BenchError as error:
            print(f"error: {error}", file=sys.stderr)
            status = 1
        except Exception:  # noqa: BLE001 - any failure must fail the run, after cleanup
            import traceback
            traceback.print_exc()
            status = 1
        finally:
            errors = bench.teardown()
            for error in errors:
                print(f"error during teardown: {error}", file=sys.stderr)
            if errors:
                status = 1
        if status:
            return status
        self.elapsed = time.perf_counter() - self.t0
        info = machine_info(lib)
        report = render_report(bench, config, info, self.started, self.elapsed, self.load_before,
                               os.getloadavg())
        records = results(bench)
        reporting.check_results(records)  # a malformed record fails the run before any file is written
        print(report)
        if config.markdown:
            with open(config.markdown, "w") as f:
                f.write(report)
            print(f"wrote {config.markdown}", file=sys.stderr)
        if config.json:
            reporting.write_json(config.json, benchmark, info, config.quick, records)
            print(f"wrote {config.json} ({len(records)} results)", file=sys.stderr)
        return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="path to libsubinterp.so")
    parser.add_argument("--quick", action="store_true", help="brief samples: a CI smoke run")
    parser.add_argument("--markdown", help="write the report (markdown) to this file")
    parser.add_argument("--json", help="write the results (JSON, see bench/reporting.py) to this file")
    parser.add_argument("--repeat", type=int, help="samples per measurement (default 15; 3 with --quick)")
    parser.add_argument("--sample-time", type=float, help="seconds per sample (default 0.05; 0.002 with --quick)")
    parser.add_argument("--command", help="the command line to record in the report (default: this one)")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    config = parser.parse_args()
    config.repeat = config.repeat or (3 if config.quick else 15)
    config.sample_time = config.sample_time or (0.002 if config.quick else 0.05)
    if not config.command:
        config.command = " ".join([sys.executable, *sys.argv])
    if config.repeat < 1 or config.sample_time <= 0:
        parser.error("--repeat must be >= 1 and --sample-time > 0")
    if sys.version_info[:2] != (3, 13):
        print(f"warning: written for CPython 3.13's _interpreters/_interpqueues; this is {sys.version.split()[0]}",
              file=sys.stderr)

    run = Run()
    lib = Library(config.library)
    if not library_matches_python(lib):
        return 1
    bench = Bench(lib, config)

    def steps():
        bench.setup()
        bench.fixed_costs()
        bench.progress("fixed costs")
        bench.conversions()
        bench.buffers()

    status = run.execute(bench, steps, render, config, lib, "data", json_results)
    if status:
        return status
    verdict, growth, _ = bench.facts["headline"]
    print(f"headline: subinterp buffer 256 MiB / 1 MiB = {growth:.2f}x -> {verdict}; "
          f"total {run.elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
