#!/usr/bin/env python3
"""Cross-interpreter queues: libsubinterp's against CPython 3.13's own, the
standard library's and multiprocessing's, side by side in one run.

    python3 bench/queues.py --library build/py3.13/libsubinterp.so [--quick]
                            [--markdown docs/benchmarks-queues.md] [--json FILE]

Run it with the CPython the library was built against. The library is loaded
with ctypes.PyDLL (attach mode, as bench/data_transfer.py does) and imported
as the extension module `_subinterp` from <library dir>/python (--module-dir);
the C program <library dir>/bench/queue_host (--host) measures the C side.
Measures:

1. put+get pairs per second in one thread, from Python: `_subinterp.Queue`
   against `_interpqueues`, 3.13's `test.support.interpreters.queues`
   wrapper, `queue.Queue`, `queue.SimpleQueue` and `multiprocessing.Queue`;
2. the same from C with no Python involved (queue_host), and a producer and
   a consumer host thread;
3. producer/consumer throughput between two isolated sub-interpreters, each
   run by its own thread (ours: subinterp_exec through ctypes; CPython:
   `_interpreters.exec`), against two processes with `multiprocessing.Queue`;
4. wake-up latency of a blocked get.

Samples are taken round-robin over the measurements of a section; medians
with min and max (latency: median and p90). Every path is verified (counts,
checksums, the items themselves); any failure exits non-zero. --quick runs
everything briefly (CI smoke run): the numbers mean little.

--json FILE writes the results (at the end of a successful run, as the markdown) in the
format of bench/reporting.py (write_json): benchmark "queues", one record per measured
figure of the report's tables; median/min/max over the samples (the C side's: over
queue_host's repeats). Groups, impls and params:

  group              unit / better     impl                          params
  put_get_python     pairs/s, higher   subinterp_queue               {"item": "int"|"str"|"tuple"}
    (section 1)                        subinterp_queue_nowait
                                       interpqueues
                                       interpqueues_wrapper          (syncobj=True)
                                       interpqueues_wrapper_pickle   (default: pickled)
                                       queue_queue
                                       queue_simple_queue
                                       multiprocessing_queue
  put_get_c          pairs/s, higher   subinterp_queue_c             {"item": "int"}
    (section 2, one C thread)
  producer_consumer  items/s, higher   subinterp_queue               {"maxsize": 0} and {"maxsize": M}
    (section 3, and                    interpqueues                  {"maxsize": 0} and {"maxsize": M}
    section 2's two                    interpqueues_wrapper          {"maxsize": 0}
    C threads)                         multiprocessing_queue         {"maxsize": 0}
                                       queue_queue                   {"maxsize": 0}
                                       subinterp_queue_c             {"maxsize": 0} and {"maxsize": M}
  wakeup_latency     s, lower          subinterp_queue               {"consumer": "subinterpreter"}
    (section 4; each                   subinterp_queue               {"consumer": "main_thread"}
    record also has                    subinterp_queue_c             {"consumer": "c_thread"}
    "p90", the                         interpqueues_wrapper          {"consumer": "subinterpreter"}
    report's column)                   interpqueues                  {"consumer": "subinterpreter"} (busy poll)
                                       queue_queue                   {"consumer": "thread"}
                                       multiprocessing_queue         {"consumer": "process"}

  M: --maxsize (default 1000); maxsize 0 is unbounded. name: the report's label of the row.
"""
import argparse
import ctypes
import json
import multiprocessing
import os
import queue
import random
import statistics
import subprocess
import sys
import threading
import time

import _interpqueues
import _interpreters

from data_transfer import BenchError, Library, Run, library_matches_python
from timing import Measurement, measure_group
import reporting
from reporting import table

UNBOUND = 3          # _interpqueues unboundop "UNBOUND" (3.13's default)
SHARED_ONLY = 0      # _interpqueues fmt: shared data, no pickle
JOIN_TIMEOUT = 120   # seconds: past this a run is taken as hung
REPLY_TIMEOUT = 30   # seconds a latency producer waits for the consumer's answer

# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def error_text(lib, what, status, err):
    """The message of a failed library call made with a private `err` (threads cannot
    share Library.err); frees it."""
    name = lib.status_name(status).decode()
    message = lib.error_message(err).decode() if err.value else "(no error object)"
    traceback = lib.error_traceback(err) if err.value else None
    lib.error_free(err)
    err.value = None
    text = f"{what} failed: {name} ({status}): {message}"
    return text + ("\n" + traceback.decode() if traceback else "")


def ours_exec(lib, interpreter_id, source):
    """subinterp_exec, callable from any thread."""
    err = ctypes.c_void_p()
    status = lib.exec(interpreter_id, source.encode(), None, None, ctypes.byref(err))
    if status:
        raise BenchError(error_text(lib, f"subinterp_exec({interpreter_id}, {source!r})", status, err))


def cpy_exec(interpreter_id, source):
    failure = _interpreters.exec(interpreter_id, source)
    if failure is not None:
        raise BenchError(f"_interpreters.exec({interpreter_id}, {source!r}) failed:\n{failure.errdisplay}")


class Worker(threading.Thread):
    """Runs function() in a thread; join() re-raises what it raised."""

    def __init__(self, function, name):
        super().__init__(name=name, daemon=True)
        self.function = function
        self.error = None

    def run(self):
        try:
            self.function()
        except BaseException as error:  # noqa: BLE001 - re-raised in the joining thread
            self.error = error

    def finish(self):
        self.join(JOIN_TIMEOUT)
        if self.is_alive():
            # A thread stuck in C cannot be stopped: a hung benchmark must not hang CI.
            print(f"error: {self.name} still running after {JOIN_TIMEOUT} s; giving up", file=sys.stderr, flush=True)
            os._exit(1)
        if self.error is not None:
            raise self.error


def run_pair(threads, abort):
    """Start the threads and wait for both; if one fails, abort() (so that the other
    stops waiting for it), then re-raise its error."""
    for t in threads:
        t.start()
    aborted = False
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.05)
        if not aborted and any(t.error is not None for t in threads):
            aborted = True
            abort()
    for t in threads:
        t.finish()


def p90(values):
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=10, method="inclusive")[8]


# Code of the multiprocessing worker (a spawned process: it imports this file as
# __mp_main__, which does nothing at import time beyond imports and definitions).
def mp_worker(commands, data, replies):
    while True:
        command = commands.get()
        if command is None:
            return
        if command[0] == "produce":
            put = data.put
            for i in range(command[1]):
                put(i)
        elif command[0] == "latency":  # answer every timestamp until a negative one
            get, reply, clock = data.get, replies.put, time.perf_counter_ns
            while True:
                sent = get()
                woke = clock()
                if sent < 0:
                    reply("stopped")
                    break
                reply((sent, woke - sent))


# --------------------------------------------------------------------------------------
# Code run inside the interpreters
# --------------------------------------------------------------------------------------

# In the library's isolated interpreters (producer P, consumer C). The queues are
# passed by id; _subinterp.Queue(id) is another handle on the same queue.
OURS_SOURCE = '''
import sys
sys.path.insert(0, {module_dir!r})
import _subinterp
from time import perf_counter_ns
consumed = "nothing yet"

def produce(qid, n):
    put = _subinterp.Queue(qid).put
    for i in range(n):
        put(i)

def consume(qid, n):
    global consumed
    get = _subinterp.Queue(qid).get
    total = 0
    for _ in range(n):
        total += get()
    consumed = f"{{n}}:{{total}}"

def latency_consumer(data_qid, reply_qid):
    get, reply, clock = _subinterp.Queue(data_qid).get, _subinterp.Queue(reply_qid).put, perf_counter_ns
    while True:
        sent = get()
        woke = clock()
        if sent < 0:
            break
        reply((sent, woke - sent))

def result():
    return consumed
'''

# In CPython's isolated interpreters (_interpreters.create("isolated")).
CPY_SOURCE = '''
import _interpqueues
from time import perf_counter_ns
from test.support.interpreters import queues
from test.support.interpreters.queues import QueueEmpty, QueueFull
UNBOUND = {unbound}
consumed = "nothing yet"

def produce_raw(qid, n):
    """_interpqueues.put, retried on QueueFull as the 3.13 wrapper does (without its sleep)."""
    put = _interpqueues.put
    for i in range(n):
        while True:
            try:
                put(qid, i, 0, UNBOUND)
                break
            except QueueFull:
                pass

def consume_spin(qid, n):
    """_interpqueues.get retried at once on QueueEmpty: a busy poll."""
    global consumed
    get = _interpqueues.get
    total = 0
    i = 0
    while i < n:
        try:
            total += get(qid)[0]
        except QueueEmpty:
            continue
        i += 1
    consumed = f"{{n}}:{{total}}"

def produce_wrapper(qid, n):
    put = queues.Queue(qid).put
    for i in range(n):
        put(i)

def consume_wrapper(qid, n):
    """The 3.13 wrapper's blocking get: sleep(0.01) between tries while empty."""
    global consumed
    get = queues.Queue(qid).get
    total = 0
    for _ in range(n):
        total += get()
    consumed = f"{{n}}:{{total}}"

def latency_wrapper(data_qid, reply_qid):
    get, reply, clock = queues.Queue(data_qid).get, queues.Queue(reply_qid).put, perf_counter_ns
    while True:
        sent = get()
        woke = clock()
        if sent < 0:
            break
        reply((sent, woke - sent))

def latency_spin(data_qid, reply_qid):
    get, reply, clock = _interpqueues.get, queues.Queue(reply_qid).put, perf_counter_ns
    while True:
        try:
            sent = get(data_qid)[0]
        except QueueEmpty:
            continue
        woke = clock()
        if sent < 0:
            break
        reply((sent, woke - sent))

def report():
    _interpqueues.put(REPORT_QID, consumed, 0, UNBOUND)
'''


# --------------------------------------------------------------------------------------
# 1. put+get pairs in one thread
# --------------------------------------------------------------------------------------

PAIR_KINDS = [
    ("small int", None),                 # put i, the loop counter; checksum of what get returns
    ("short str", "hello"),
    ("small tuple (str, int)", ("item", 42)),
]
ITEM_IDS = {"small int": "int", "short str": "str", "small tuple (str, int)": "tuple"}  # JSON params {"item": ...}

# key, label, put statement (x is the item), get expression, size expression
PAIR_METHODS = [
    ("ours", "ours: `Queue.put(x)` + `Queue.get()`", "put(x)", "get()", "size()"),
    ("ours_nowait", "ours: `put_nowait(x)` + `get_nowait()`", "put(x)", "get()", "size()"),
    ("raw", "CPython `_interpqueues.put(qid, x, 0, UNBOUND)` + `get(qid)[0]`",
     "put(qid, x, 0, UNBOUND)", "get(qid)[0]", "size(qid)"),
    ("wrap", "CPython 3.13 wrapper `Queue.put(x)` + `get()`, syncobj=True", "put(x)", "get()", "size()"),
    ("wrap_pickle", "CPython 3.13 wrapper, default (syncobj=False: pickled)", "put(x)", "get()", "size()"),
    ("queue", "`queue.Queue` put + get", "put(x)", "get()", "size()"),
    ("simple", "`queue.SimpleQueue` put + get", "put(x)", "get()", "size()"),
    ("mp", "`multiprocessing.Queue` put + get (one process)", "put(x)", "get()", "size()"),
]

PAIR_LOOP_INT = '''
def loop(n):
    total = 0
    for x in range(n):
        {put}
        total += {get}
    if total != n * (n - 1) // 2 or {size} != 0:
        fail(f"{{label}}: got checksum {{total}} for {{n}} pairs, expected {{n * (n - 1) // 2}}; "
             f"{{{size}}} items left")
'''

PAIR_LOOP_ITEM = '''
def loop(n):
    got = None
    x = item
    for _ in range(n):
        {put}
        got = {get}
    if got != item or type(got) is not type(item) or {size} != 0:
        fail(f"{{label}}: got {{got!r}}, expected {{item!r}}; {{{size}}} items left")
'''


def pair_loop(label, put, get, size, item, names):
    """A loop(n) doing n pairs, its checks after the loop (one comparison per sample).
    Generated so that every method's loop body is only its own two calls."""
    def fail(message):
        raise BenchError(message)
    namespace = dict(names, fail=fail, label=label, item=item, UNBOUND=UNBOUND)
    template = PAIR_LOOP_INT if item is None else PAIR_LOOP_ITEM
    exec(template.format(put=put, get=get, size=size), namespace)
    return namespace["loop"]


# --------------------------------------------------------------------------------------
# The benchmark
# --------------------------------------------------------------------------------------

class Bench:
    def __init__(self, lib, config, subinterp_module, wrapper):
        self.lib = lib
        self.config = config
        self.si = subinterp_module      # _subinterp, imported from the library's module dir
        self.wrapper = wrapper          # test.support.interpreters.queues (3.13)
        self.pairs = {}                 # (kind, method) -> Measurement (seconds per pair)
        self.flow = []                  # [(key, label, n, [items/s per sample])]
        self.latency = []               # [(key, label, [ns])]
        self.host = None                # queue_host's JSON
        self.facts = {}
        self.ours_p = self.ours_c = None
        self.cpy_p = self.cpy_c = None
        self.cpy_queues = []
        self.mp_context = self.mp_process = None

    def progress(self, text):
        if self.config.verbose:
            print(f"  done: {text}", file=sys.stderr, flush=True)

    # -- setup / teardown --

    def setup(self):
        lib = self.lib
        lib.check("subinterp_runtime_init", lib.runtime_init(None, lib.err_ref))
        if lib.runtime_get_mode() != 2:
            raise BenchError(f"expected attach mode (2), got {lib.runtime_get_mode()}")
        # `_subinterp` imported here must be the library ctypes loaded (one queue registry).
        probe = self.si.create_queue()
        probe.put(1)
        size = ctypes.c_size_t()
        lib.check("subinterp_queue_size", lib.queue_size(probe.id, ctypes.byref(size), lib.err_ref))
        if size.value != 1 or probe.get() != 1:
            raise BenchError("the _subinterp module and the ctypes-loaded library do not share their queues")
        del probe

        self.ours_p, self.ours_c = lib.create_interp(), lib.create_interp()
        for interpreter in (self.ours_p, self.ours_c):
            lib.run_code(interpreter, OURS_SOURCE.format(module_dir=self.config.module_dir))
        self.cpy_p, self.cpy_c = _interpreters.create("isolated"), _interpreters.create("isolated")
        self.report_qid = self.cpy_queue(0)
        for interpreter in (self.cpy_p, self.cpy_c):
            cpy_exec(interpreter, CPY_SOURCE.format(unbound=UNBOUND))
            _interpreters.set___main___attrs(interpreter, {"REPORT_QID": self.report_qid})

        self.mp_context = multiprocessing.get_context("spawn")
        self.mp_commands = self.mp_context.Queue()
        self.mp_data = self.mp_context.Queue()
        self.mp_replies = self.mp_context.Queue()
        self.mp_process = self.mp_context.Process(target=mp_worker, name="queues-mp-worker", daemon=True,
                                                  args=(self.mp_commands, self.mp_data, self.mp_replies))
        self.mp_process.start()

    def cpy_queue(self, maxsize):
        qid = _interpqueues.create(maxsize, SHARED_ONLY, UNBOUND)
        # 3.13.0 destroys a queue made by create() as soon as a wrapper Queue object in
        # another interpreter has bound and released it; an explicit bind here keeps it.
        _interpqueues.bind(qid)
        self.cpy_queues.append(qid)
        return qid

    def teardown(self):
        errors = []

        def attempt(what, function, *args):
            try:
                function(*args)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(f"{what}: {error}")

        lib = self.lib
        if self.mp_process is not None:
            attempt("stopping the multiprocessing worker", self.mp_commands.put, None)
            self.mp_process.join(10)
            if self.mp_process.is_alive():
                self.mp_process.kill()
                errors.append("the multiprocessing worker did not stop")
            elif self.mp_process.exitcode != 0:
                errors.append(f"the multiprocessing worker exited with {self.mp_process.exitcode}")
            self.mp_process = None
        for interpreter in (self.cpy_p, self.cpy_c):
            if interpreter is not None:
                attempt("_interpreters.destroy", _interpreters.destroy, interpreter)
        self.cpy_p = self.cpy_c = None
        for qid in self.cpy_queues:
            attempt("_interpqueues.destroy", _interpqueues.destroy, qid)
        self.cpy_queues = []
        for interpreter in (self.ours_p, self.ours_c):
            if interpreter is not None:
                attempt("subinterp_destroy",
                        lambda i=interpreter: lib.check("subinterp_destroy", lib.destroy(i, lib.err_ref)))
        self.ours_p = self.ours_c = None
        attempt("subinterp_runtime_finalize",
                lambda: lib.check("subinterp_runtime_finalize", lib.runtime_finalize(lib.err_ref)))
        return errors

    # -- 1. pairs --

    def pair_queues(self):
        """Fresh queues of every method, and the names their loops use."""
        si, wrapper = self.si, self.wrapper
        ours = si.create_queue()
        raw = self.cpy_queue(0)
        wrap = wrapper.create(syncobj=True)
        wrap_pickle = wrapper.create()
        std = queue.Queue()
        simple = queue.SimpleQueue()
        mpq = self.mp_context.Queue()
        self.keep = [ours, wrap, wrap_pickle, mpq]
        return {
            "ours": {"put": ours.put, "get": ours.get, "size": ours.qsize},
            "ours_nowait": {"put": ours.put_nowait, "get": ours.get_nowait, "size": ours.qsize},
            "raw": {"put": _interpqueues.put, "get": _interpqueues.get, "size": _interpqueues.get_count, "qid": raw},
            "wrap": {"put": wrap.put, "get": wrap.get, "size": wrap.qsize},
            "wrap_pickle": {"put": wrap_pickle.put, "get": wrap_pickle.get, "size": wrap_pickle.qsize},
            "queue": {"put": std.put, "get": std.get, "size": std.qsize},
            "simple": {"put": simple.put, "get": simple.get, "size": simple.qsize},
            "mp": {"put": mpq.put, "get": mpq.get, "size": mpq.qsize},
        }

    def measure_pairs(self):
        names = self.pair_queues()
        group = []
        for kind, item in PAIR_KINDS:
            for key, label, put, get, size in PAIR_METHODS:
                loop = pair_loop(f"{kind}, {key}", put, get, size, item, names[key])
                loop(3)  # verified once before anything is timed (and after every sample)
                group.append(Measurement((kind, key), loop))
        measure_group(group, self.config.sample_time, self.config.repeat, self.progress)
        for m in group:
            self.pairs[m.key] = m
        self.progress("pairs")

    # -- 2. C host --

    def run_host(self):
        c = self.config
        if c.quick:
            args = ["--pairs", "100000", "--prodcons", "20000", "--latency", "4", "--repeat", "3"]
        else:
            args = ["--pairs", "2000000", "--prodcons", "500000", "--latency", str(c.latency_samples),
                    "--repeat", str(c.repeat)]
        args += ["--maxsize", str(c.maxsize)]
        command = [c.host, *args]
        self.host_command = " ".join([shown_path(c.host), *args])
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise BenchError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr}")
        try:
            self.host = json.loads(done.stdout)
        except json.JSONDecodeError as error:
            raise BenchError(f"queue_host printed no JSON ({error}):\n{done.stdout[:500]}") from None
        expect = int(args[args.index("--latency") + 1])
        missing = [key for key in ("repeat", "pairs_n", "prodcons_n", "maxsize", "pairs_per_s",
                                   "prodcons_unbounded_per_s", "prodcons_bounded_per_s", "latency_ns")
                   if key not in self.host]
        if missing:
            raise BenchError(f"queue_host's JSON lacks {', '.join(missing)}: {done.stdout[:500]}")
        for key in ("pairs_per_s", "prodcons_unbounded_per_s", "prodcons_bounded_per_s"):
            if len(self.host[key]) != self.host["repeat"] or min(self.host[key]) <= 0:
                raise BenchError(f"queue_host: bad {key}: {self.host[key]}")
        if len(self.host["latency_ns"]) != expect:
            raise BenchError(f"queue_host: {len(self.host['latency_ns'])} latency samples, expected {expect}")
        self.progress("C host")

    # -- 3. producer/consumer --

    def ours_flow(self, qid):
        lib, producer, consumer = self.lib, self.ours_p, self.ours_c
        handle = self.si.Queue(qid)

        def run(n):
            threads = [Worker(lambda: ours_exec(lib, consumer, f"consume({qid}, {n})"), "ours consumer"),
                       Worker(lambda: ours_exec(lib, producer, f"produce({qid}, {n})"), "ours producer")]
            start = time.perf_counter()
            run_pair(threads, handle.close)  # closing wakes a side left waiting: the run is lost anyway
            elapsed = time.perf_counter() - start
            got = lib.call_str(consumer, "result")
            if got != f"{n}:{n * (n - 1) // 2}" or handle.qsize() != 0:
                raise BenchError(f"ours producer/consumer: consumer got {got}, expected {n}:{n * (n - 1) // 2}; "
                                 f"{handle.qsize()} items left")
            return elapsed
        return run

    def cpy_flow(self, qid, produce, consume):
        producer, consumer = self.cpy_p, self.cpy_c

        def run(n):
            threads = [Worker(lambda: cpy_exec(consumer, f"{consume}({qid}, {n})"), "CPython consumer"),
                       Worker(lambda: cpy_exec(producer, f"{produce}({qid}, {n})"), "CPython producer")]
            start = time.perf_counter()
            # Destroying the queue ends a side left polling or waiting: the run is lost anyway.
            run_pair(threads, lambda: _interpqueues.destroy(qid))
            elapsed = time.perf_counter() - start
            cpy_exec(consumer, "report()")
            got = _interpqueues.get(self.report_qid)[0]
            if got != f"{n}:{n * (n - 1) // 2}" or _interpqueues.get_count(qid) != 0:
                raise BenchError(f"CPython producer/consumer ({produce}, {consume}): consumer got {got}, "
                                 f"expected {n}:{n * (n - 1) // 2}")
            return elapsed
        return run

    def mp_flow(self):
        commands, data = self.mp_commands, self.mp_data

        def run(n):
            start = time.perf_counter()
            commands.put(("produce", n))
            get = data.get
            total = 0
            for _ in range(n):
                total += get(timeout=REPLY_TIMEOUT)
            elapsed = time.perf_counter() - start
            if total != n * (n - 1) // 2 or not data.empty():
                raise BenchError(f"multiprocessing producer/consumer: checksum {total}, expected {n * (n - 1) // 2}")
            return elapsed
        return run

    @staticmethod
    def thread_flow():
        q = queue.Queue()

        def run(n):
            def produce():
                put = q.put
                for i in range(n):
                    put(i)
            producer = Worker(produce, "queue.Queue producer")
            start = time.perf_counter()
            producer.start()
            get = q.get
            total = 0
            for _ in range(n):
                total += get(timeout=REPLY_TIMEOUT)
            producer.finish()
            elapsed = time.perf_counter() - start
            if total != n * (n - 1) // 2 or q.qsize() != 0:
                raise BenchError(f"queue.Queue producer/consumer: checksum {total}, expected {n * (n - 1) // 2}")
            return elapsed
        return run

    def measure_flow(self):
        c = self.config
        ours_unbounded = self.si.create_queue()
        ours_bounded = self.si.create_queue(c.maxsize)
        self.keep_flow = [ours_unbounded, ours_bounded]
        raw_unbounded, raw_bounded = self.cpy_queue(0), self.cpy_queue(c.maxsize)
        wrap = self.cpy_queue(0)
        methods = [
            ("ours", "ours: 2 sub-interpreters, blocking `put` / `get`, unbounded queue",
             self.ours_flow(ours_unbounded.id)),
            ("ours_bounded", f"ours: 2 sub-interpreters, blocking `put` / `get`, maxsize={c.maxsize}",
             self.ours_flow(ours_bounded.id)),
            ("raw", "CPython: 2 `_interpreters`, `_interpqueues` put / get busy-retried on QueueEmpty, unbounded",
             self.cpy_flow(raw_unbounded, "produce_raw", "consume_spin")),
            ("raw_bounded", f"CPython: the same, maxsize={c.maxsize}, put busy-retried on QueueFull too",
             self.cpy_flow(raw_bounded, "produce_raw", "consume_spin")),
            ("wrap", "CPython: 2 `_interpreters`, 3.13 wrapper `put` / blocking `get` (sleep 10 ms while empty), "
                     "syncobj=True, unbounded", self.cpy_flow(wrap, "produce_wrapper", "consume_wrapper")),
            ("mp", "`multiprocessing.Queue`: producer process -> consumer (main) process", self.mp_flow()),
            ("threads", "`queue.Queue`: 2 threads of one interpreter (one GIL)", self.thread_flow()),
        ]
        sized = []
        for key, label, run in methods:
            n = 2000 if c.quick else 10000
            elapsed = run(n)  # warm-up, verified
            if not c.quick:
                # Sized from runs of at least a quarter of the target (the first runs also pay
                # for starting up: thread states, imports, the worker's pipes).
                for _ in range(4):
                    n = max(n, min(5_000_000, int(n * c.flow_time / max(elapsed, 1e-6))))
                    elapsed = run(n)
                    if elapsed >= c.flow_time / 2:
                        break
            sized.append((key, label, run, n, []))
        for round_number in range(c.repeat):
            for key, label, run, n, rates in sized:
                rates.append(n / run(n))
            self.progress(f"producer/consumer round {round_number + 1}/{c.repeat}")
        self.flow = [(key, label, n, rates) for key, label, _, n, rates in sized]

    # -- 4. wake-up latency --

    def latency_methods(self):
        """Each: (key, label, start(), sample() -> (sent, delay ns), stop())."""
        lib, si, wrapper, rng = self.lib, self.si, self.wrapper, random.Random(12345)
        clock = time.perf_counter_ns

        def pause():
            # The consumer went back to get() right after answering the previous sample.
            time.sleep(rng.uniform(0.005, 0.015))

        methods = []

        # ours, consumer in a sub-interpreter (run by a Python thread through subinterp_exec)
        ours_data, ours_reply = si.create_queue(), si.create_queue()
        self.keep_latency = [ours_data, ours_reply]
        state = {}

        def ours_interp_start():
            state["ours"] = Worker(lambda: ours_exec(lib, self.ours_c, f"latency_consumer({ours_data.id}, "
                                                                       f"{ours_reply.id})"), "ours latency consumer")
            state["ours"].start()

        def ours_sample():
            pause()
            sent = clock()
            ours_data.put(sent)
            return sent, ours_reply.get(timeout=REPLY_TIMEOUT)

        def ours_interp_stop():
            ours_data.put(-1)
            state.pop("ours").finish()

        methods.append(("ours_interp", "ours: `Queue.get()` in a sub-interpreter (thread in `subinterp_exec`)",
                        ours_interp_start, ours_sample, ours_interp_stop))

        # ours, consumer in a Python thread of the main interpreter
        def ours_thread_consumer():
            get, reply = ours_data.get, ours_reply.put
            while True:
                sent = get()
                woke = clock()
                if sent < 0:
                    break
                reply((sent, woke - sent))

        def ours_thread_start():
            state["ours_thread"] = Worker(ours_thread_consumer, "ours thread latency consumer")
            state["ours_thread"].start()

        def ours_thread_stop():
            ours_data.put(-1)
            state.pop("ours_thread").finish()

        methods.append(("ours_thread", "ours: `Queue.get()` in a Python thread of the main interpreter",
                        ours_thread_start, ours_sample, ours_thread_stop))

        # CPython 3.13: consumer in an _interpreters interpreter, the wrapper's get (sleep-polls)
        # or a busy poll on _interpqueues.get; answers through the wrapper.
        cpy_data, cpy_reply = self.cpy_queue(0), self.cpy_queue(0)
        reply_queue = wrapper.Queue(cpy_reply)

        def cpy_start(function):
            def start():
                state[function] = Worker(lambda: cpy_exec(self.cpy_c, f"{function}({cpy_data}, {cpy_reply})"),
                                         f"CPython {function}")
                state[function].start()
            return start

        def cpy_sample():
            pause()
            sent = clock()
            _interpqueues.put(cpy_data, sent, SHARED_ONLY, UNBOUND)
            return sent, reply_queue.get(timeout=REPLY_TIMEOUT)

        def cpy_stop(function):
            def stop():
                _interpqueues.put(cpy_data, -1, SHARED_ONLY, UNBOUND)
                state.pop(function).finish()
            return stop

        methods.append(("wrap", "CPython 3.13 wrapper `Queue.get()` in an `_interpreters` interpreter "
                                "(sleep(0.01) between tries)",
                        cpy_start("latency_wrapper"), cpy_sample, cpy_stop("latency_wrapper")))
        methods.append(("spin", "CPython `_interpqueues.get` busy-retried on QueueEmpty in an `_interpreters` "
                                "interpreter (burns a core)",
                        cpy_start("latency_spin"), cpy_sample, cpy_stop("latency_spin")))

        # queue.Queue between two threads of the main interpreter
        std_data, std_reply = queue.Queue(), queue.Queue()

        def std_consumer():
            while True:
                sent = std_data.get()
                woke = clock()
                if sent < 0:
                    break
                std_reply.put((sent, woke - sent))

        def std_start():
            state["std"] = Worker(std_consumer, "queue.Queue latency consumer")
            state["std"].start()

        def std_sample():
            pause()
            sent = clock()
            std_data.put(sent)
            return sent, std_reply.get(timeout=REPLY_TIMEOUT)

        def std_stop():
            std_data.put(-1)
            state.pop("std").finish()

        methods.append(("queue", "`queue.Queue.get()` in another thread of the main interpreter",
                        std_start, std_sample, std_stop))

        # multiprocessing.Queue: the consumer is the worker process
        commands, mp_data, mp_replies = self.mp_commands, self.mp_data, self.mp_replies

        def mp_start():
            commands.put(("latency",))

        def mp_sample():
            pause()
            sent = clock()
            mp_data.put(sent)
            return sent, mp_replies.get(timeout=REPLY_TIMEOUT)

        def mp_stop():
            mp_data.put(-1)
            answer = mp_replies.get(timeout=REPLY_TIMEOUT)
            if answer != "stopped":
                raise BenchError(f"latency, multiprocessing: the consumer answered {answer!r} to stop")

        methods.append(("mp", "`multiprocessing.Queue.get()` in another process", mp_start, mp_sample, mp_stop))
        return methods

    def measure_latency(self):
        c = self.config
        methods = self.latency_methods()
        rounds = 2 if c.quick else 5
        per_round = max(1, -(-c.latency_samples // rounds))
        samples = {key: [] for key, *_ in methods}
        for round_number in range(rounds):
            for key, label, start, sample, stop in methods:
                start()
                try:
                    sample()  # discarded: the consumer may still be starting
                    for _ in range(per_round):
                        sent, (echoed, delay) = sample()
                        if echoed != sent or not 0 < delay < 10 * 10**9:
                            raise BenchError(f"latency, {label}: sent {sent}, the consumer answered "
                                             f"{(echoed, delay)}")
                        samples[key].append(delay)
                finally:
                    stop()
            self.progress(f"latency round {round_number + 1}/{rounds}")
        self.latency = [(key, label, samples[key]) for key, label, *_ in methods]
        if not self.mp_replies.empty() or not self.mp_data.empty():
            raise BenchError("latency: multiprocessing queues left with items")


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def shown_path(path):
    """A path relative to the repository when it is inside it."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.abspath(path)
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path


def pair_rates(measurement):
    """A pairs measurement's samples (seconds per pair) as pairs per second (the report's figures
    and the JSON records are the median, min and max of these)."""
    return [1 / seconds for seconds in measurement.samples]


def fmt_rate(per_second):
    if per_second >= 1e6:
        return f"{per_second / 1e6:.2f} M"
    if per_second >= 1e3:
        return f"{per_second / 1e3:.1f} k"
    return f"{per_second:.0f}"


def fmt_rates(rates):
    return f"{fmt_rate(statistics.median(rates))} ({fmt_rate(min(rates))}-{fmt_rate(max(rates))})"


def fmt_speed(ours, theirs):
    """ours / theirs of two rates: above 1 means subinterp is faster."""
    if not ours or not theirs:
        return "-"
    ratio = ours / theirs
    return f"{ratio:.2f}x" if ratio < 100 else f"{ratio:,.0f}x"


def fmt_ms(ns):
    ms = ns / 1e6
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}"


def verdict(holds):
    return "**HOLDS**" if holds else "**DOES NOT HOLD**"


def render(bench, config, info, started, elapsed, load_before, load_after):
    out = []
    add = out.append
    pairs = bench.pairs
    host = bench.host

    def pair_rate(kind, key):
        return statistics.median(pair_rates(pairs[(kind, key)]))

    def pair_range(kind, key):
        return fmt_rates(pair_rates(pairs[(kind, key)]))

    flow = {key: (label, n, rates) for key, label, n, rates in bench.flow}
    latency = {key: (label, ns) for key, label, ns in bench.latency}
    host_latency = host["latency_ns"]

    add("# Benchmarks: cross-interpreter queues")
    add("")
    add("Generated by `bench/queues.py` (run through `ci/bench`); do not edit by hand, rerun it. "
        "All numbers below come from one run.")
    add("")
    if config.quick:
        add("**This is a --quick run: samples are far too short for the numbers to mean anything.**")
        add("")
    if load_before[0] > 1.0 or max(load_after[:2]) > info["nproc"]:
        add(f"**The machine was busy during this run** (1-minute load average {load_before[0]:.1f} before, "
            f"{load_after[0]:.1f} after, on {info['nproc']} cores; this benchmark is 1 to 2 of it): other processes "
            "competed for the CPUs, so absolute figures are deflated and noisy, the two-thread ones most. Ratios "
            "of interleaved medians suffer less.")
        add("")

    # Headline.
    add("## Headline: the done-criteria")
    add("")
    int_ours, int_nowait, int_raw = (pair_rate("small int", k) for k in ("ours", "ours_nowait", "raw"))
    ratio_put_get, ratio_nowait = int_ours / int_raw, int_nowait / int_raw
    crit1 = ratio_put_get >= 1 and ratio_nowait >= 1
    wake = {key: statistics.median(latency[key][1]) for key in ("ours_interp", "ours_thread")}
    wake["host"] = statistics.median(host_latency)
    crit2 = all(v < 1e6 for v in wake.values())
    c_pairs = statistics.median(host["pairs_per_s"])
    crit3 = c_pairs >= 5e6
    other_kinds = ", ".join(f"{kind}: {fmt_speed(pair_rate(kind, 'ours'), pair_rate(kind, 'raw'))} "
                            f"(nowait {fmt_speed(pair_rate(kind, 'ours_nowait'), pair_rate(kind, 'raw'))})"
                            for kind, _ in PAIR_KINDS[1:])
    add("| criterion | measured in this run (medians) | verdict |")
    add("|---|---|---|")
    add(f"| 1. Python put+get pairs per second, small int, `_subinterp.Queue` / `_interpqueues` >= 1 | "
        f"put/get {fmt_rate(int_ours)}/s vs {fmt_rate(int_raw)}/s = **{ratio_put_get:.2f}x**; "
        f"put_nowait/get_nowait {fmt_rate(int_nowait)}/s = **{ratio_nowait:.2f}x** (other items, put/get: "
        f"{other_kinds}) | {verdict(crit1)} |")
    add(f"| 2. a blocked get wakes in well under 1 ms (median) | sub-interpreter consumer "
        f"**{fmt_ms(wake['ours_interp'])} ms**, main-interpreter thread **{fmt_ms(wake['ours_thread'])} ms**, "
        f"C host thread **{fmt_ms(wake['host'])} ms**; CPython 3.13 wrapper "
        f"{fmt_ms(statistics.median(latency['wrap'][1]))} ms (its 10 ms polling) | {verdict(crit2)} |")
    add(f"| 3. C, one thread, put+get pairs >= 5 M/s | **{fmt_rate(c_pairs)}/s** "
        f"(min {fmt_rate(min(host['pairs_per_s']))}/s of {len(host['pairs_per_s'])} repeats) | {verdict(crit3)} |")
    add("")
    bench.facts["headline"] = (crit1, ratio_put_get, ratio_nowait, crit2, wake, crit3, c_pairs)

    # Machine.
    add("## Machine and command")
    add("")
    add(f"- Date (UTC): {started:%Y-%m-%d %H:%M}; the run took {elapsed:.0f} s.")
    loads = " / ".join("%.2f %.2f %.2f" % load for load in (load_before, load_after))
    add(f"- CPU: {info['cpu']}; nproc {info['nproc']} (usable by this process: {info['affinity']}); "
        f"load average (1, 5, 15 min) before / after the run: {loads}.")
    add(f"- OS: {info['platform']}")
    add(f"- CPython: {info['python']} (`{info['executable']}`)")
    add(f"- Library: libsubinterp {info['library_version']} built against CPython {info['library_python']}, "
        f"CMAKE_BUILD_TYPE={info['build_type']}; loaded with `ctypes.PyDLL` (attach mode) and imported as "
        f"`_subinterp`; sources at benchmark time: {info['source']}.")
    add(f"- Command: `{config.command}`; the C side: `{bench.host_command}`.")
    sizing = ("fixed, --quick" if config.quick else
              f"sized to about {config.flow_time:.2f} s by verified warm-up runs")
    add(f"- Method: medians of repeats, samples taken round-robin within each section (every measurement of the "
        f"section takes one sample per round) so that bursts of load from other processes spread over all of them. "
        f"Section 1: {config.repeat} samples per measurement, each a loop of enough pairs to last about "
        f"{config.sample_time * 1000:.0f} ms (gc off). Section 3: {config.repeat} runs per method, each moving "
        f"a fixed number of items ({sizing}). Section 4: "
        f"{len(next(iter(latency.values()))[1])} samples per method, taken in rounds (each method takes a "
        f"session of samples per round). queue_host (C) does its own round-robin of its {host['repeat']} repeats. "
        "Shown: median (min-max) unless said otherwise.")
    add("")

    # 1. Pairs.
    add("## 1. put+get pairs per second, one thread, Python (main interpreter)")
    add("")
    add("Each loop iteration puts one item and gets it back from the same queue; per sample the loop checks "
        "the sum of the ints it got (or that the last item equals the one put) and that the queue is empty. "
        "The loops are generated so that each method's body is only its two calls (bound methods looked up "
        "once). Items: the loop counter (a small int), the str `'hello'`, the tuple `('item', 42)`.")
    add("")
    add("- **ours**: a `_subinterp.create_queue()` queue; `put`/`get` are the blocking calls (they return at "
        "once here), `put_nowait`/`get_nowait` the non-blocking ones.")
    add("- **CPython `_interpqueues`**: the low-level module of 3.13 (`create(maxsize, fmt, unboundop)`, "
        "`put(qid, obj, fmt, unboundop)`, `get(qid) -> (obj, fmt, unboundop)`), fmt 0 (shared data, no pickle).")
    add("- **CPython 3.13 wrapper**: `test.support.interpreters.queues` (the high-level module, PEP 734's "
        "`Queue` before 3.14), in pure Python over `_interpqueues`; `create()` pickles every item unless "
        "`syncobj=True`.")
    add("- **queue.Queue / SimpleQueue / multiprocessing.Queue**: in-process references; multiprocessing's put "
        "hands the item to a feeder thread that pickles it into a pipe, get reads and unpickles it.")
    add("")
    for kind, _ in PAIR_KINDS:
        add(f"### {kind}: pairs per second, median (min-max), and speed ratios (above 1: subinterp faster)")
        add("")
        rows = []
        for key, label, *_ in PAIR_METHODS:
            rate = pair_rate(kind, key)
            rows.append([label, pair_range(kind, key), f"{1e9 / rate:.0f}",
                         fmt_speed(pair_rate(kind, "ours"), rate), fmt_speed(pair_rate(kind, "ours_nowait"), rate)])
        add(table(["method", "pairs/s", "ns per pair", "ours put/get / this", "ours nowait / this"], rows))
        add("")

    # 2. C.
    add("## 2. From C, no Python involved (`bench/queue_host.c`)")
    add("")
    add("The Python runtime is never started. **pairs**: one thread, `subinterp_queue_put` + `subinterp_queue_get` "
        f"(timeout 0) of the same int `subinterp_data`, {host['pairs_n']:,} pairs per repeat; each get is checked "
        "to return that item. **producer/consumer**: two host threads, the producer putting "
        f"{host['prodcons_n']:,} int items (cycling through 1024 values made once), the consumer getting them with "
        "blocking gets and checking every value and the order; unbounded queue and "
        f"maxsize={host['maxsize']}. Medians of {host['repeat']} repeats (min-max).")
    add("")
    rows = [
        ["one thread, put+get pairs", fmt_rates(host["pairs_per_s"]), f"{1e9 / statistics.median(host['pairs_per_s']):.0f}"],
        ["2 host threads, producer -> consumer, unbounded", fmt_rates(host["prodcons_unbounded_per_s"]),
         f"{1e9 / statistics.median(host['prodcons_unbounded_per_s']):.0f}"],
        [f"2 host threads, producer -> consumer, maxsize={host['maxsize']}", fmt_rates(host["prodcons_bounded_per_s"]),
         f"{1e9 / statistics.median(host['prodcons_bounded_per_s']):.0f}"],
    ]
    add(table(["measurement", "pairs or items per second", "ns each"], rows))
    add("")
    add(f"For scale: the same pairs from Python (section 1, small int) run at {fmt_rate(int_ours)}/s through "
        f"`_subinterp.Queue` and {fmt_rate(int_raw)}/s through `_interpqueues`; C is "
        f"{fmt_speed(c_pairs, int_ours)} the Python rate of ours (the difference is the interpreter: the call, "
        "argument parsing, int conversion both ways).")
    add("")

    # 3. Flow.
    add("## 3. Producer/consumer throughput between two interpreters, items per second")
    add("")
    add("A producer puts N ints 0..N-1 and a consumer gets N and sums them; the sum and the count are checked "
        "after every run, and the queue must be left empty. Time: from starting the two threads (or sending the "
        "producer process its command) to both being done.")
    add("")
    add("- **ours**: two isolated sub-interpreters made with `subinterp_create`; each run starts two Python "
        "threads, each calling `subinterp_exec(interp, \"produce(qid, N)\")` / `\"consume(qid, N)\"` through "
        "ctypes (`PyDLL` keeps the GIL, but the library releases the calling thread's state while the "
        "sub-interpreter runs, so the two run in parallel, each under its own GIL). `_subinterp.Queue(qid)` "
        "handles on one queue; blocking `put` and `get`.")
    add("- **CPython**: two `_interpreters.create(\"isolated\")` interpreters, two threads each calling "
        "`_interpreters.exec(interp, \"...\")`. *raw*: `_interpqueues.put` / `get` retried at once on "
        "QueueEmpty (and QueueFull), i.e. a busy poll. *wrapper*: 3.13's `Queue.put` / `Queue.get`, whose get "
        "sleeps 10 ms between tries while the queue is empty (syncobj=True: no pickle).")
    add("- **multiprocessing**: a spawned worker process puts into a `multiprocessing.Queue`, the main process "
        "gets. **queue.Queue**: a producer thread and the main thread of one interpreter, sharing its GIL.")
    add("- The two C host threads of section 2 are repeated here for reference (measured in their own process, "
        "not interleaved with these).")
    add("")
    ours_rate = statistics.median(flow["ours"][2])
    raw_rate = statistics.median(flow["raw"][2])
    rows = []
    for key, (label, n, rates) in flow.items():
        rate = statistics.median(rates)
        rows.append([label, f"{n:,}", fmt_rates(rates), fmt_speed(ours_rate, rate), fmt_speed(rate, raw_rate)])
    for key, label in (("prodcons_unbounded_per_s", "C: 2 host threads, unbounded (section 2)"),
                       ("prodcons_bounded_per_s", f"C: 2 host threads, maxsize={host['maxsize']} (section 2)")):
        rate = statistics.median(host[key])
        rows.append([label, f"{host['prodcons_n']:,}", fmt_rates(host[key]), fmt_speed(ours_rate, rate),
                     fmt_speed(rate, raw_rate)])
    add(table(["method", "items per run", "items/s", "ours (unbounded) / this", "this / CPython raw"], rows))
    add("")

    # 4. Latency.
    add("## 4. Wake-up latency of a blocked get")
    add("")
    add("A consumer waits in get; the producer (the main thread) sleeps 5-15 ms (uniformly random, so the "
        "sleep does not lock onto a polling period) after the consumer answered the previous sample -- by then "
        "the consumer is back in get and blocked -- then puts `time.perf_counter_ns()` (CLOCK_MONOTONIC, one "
        "clock for every thread and process of the machine). The consumer reads the clock as its get returns "
        "and sends back (timestamp, delay); the producer checks the timestamp is its own. The first sample of "
        "each session is discarded (the consumer may still be starting). C: `queue_host`'s host thread blocked "
        "in `subinterp_queue_get` with `SUBINTERP_WAIT_FOREVER`, the same protocol with CLOCK_MONOTONIC.")
    add("")
    ours_wake = statistics.median(latency["ours_interp"][1])
    rows = []
    for key, (label, ns) in latency.items():
        rows.append([label, str(len(ns)), fmt_ms(statistics.median(ns)), fmt_ms(p90(ns)),
                     f"{fmt_ms(min(ns))}-{fmt_ms(max(ns))}", fmt_speed(statistics.median(ns), ours_wake)])
    rows.append(["ours: C host thread blocked in `subinterp_queue_get` (queue_host)", str(len(host_latency)),
                 fmt_ms(statistics.median(host_latency)), fmt_ms(p90(host_latency)),
                 f"{fmt_ms(min(host_latency))}-{fmt_ms(max(host_latency))}",
                 fmt_speed(statistics.median(host_latency), ours_wake)])
    add(table(["consumer", "samples", "median ms", "p90 ms", "min-max ms", "median / ours (sub-interpreter)"], rows))
    add("")

    # Notes.
    add("## Notes")
    add("")
    add("- **Where our Python put+get time goes**: the method call and argument parsing, converting the object "
        "to portable data (an allocation) and back to a Python object, and the queue's mutex (uncontended). "
        "`_interpqueues` does the same work, plus its get builds a 3-tuple `(obj, fmt, unboundop)`; the 3.13 "
        "wrapper adds a Python-level method around each call, and by default a pickle round trip.")
    add("- **Blocking**: our blocked put/get release the caller's GIL and wait on a condition variable, woken by "
        "the operation that unblocks them; in the main interpreter the wait also wakes every 50 ms to run "
        "signal handlers. CPython 3.13's wrapper polls: `time.sleep(0.01)` between tries, hence its wake-up of "
        "up to 10 ms (about 5 ms on average, plus the sleep's own overshoot); a consumer that busy-polls "
        "`_interpqueues.get` wakes fast but keeps a core busy while it waits.")
    add(f"- **Producer/consumer on {info['nproc']} cores**: producer and consumer each need a core; with anything "
        "else running their throughput drops and varies the most (see the load averages above). A busy-"
        "polling consumer competes with its own producer for the CPU while the queue is empty. "
        "`multiprocessing.Queue` pays a pickle, a pipe write and read, and the feeder thread per item.")
    add("- **Bounded queues with busy retries** (CPython *raw*, maxsize): while the queue is full the producer "
        "spins on `put`, each failed try raising and catching QueueFull, and while it is empty the consumer spins "
        "on `get` the same way; the two spinners and the machine's other load share the cores. Ours blocks both "
        "sides on condition variables instead.")
    add("- **Two host threads from C swing between about 3 and 10 M items/s** from run to run, with where the "
        "scheduler puts them: pinned to one core (`taskset -c 0`) the producer/consumer runs at about 10 M/s, "
        "spread over two cores at 3-8 M/s. Across cores every item moves the queue's lock and its entries "
        "between the two caches, and a consumer that catches up blocks and is woken by a futex call. The "
        "registry look-up each C call does by id takes a shared lock (it was exclusive until perf showed "
        "`__lll_lock_wait` under `Queues::find`); Python's `Queue` objects hold the queue and skip it.")
    add("- **`queue.SimpleQueue`** moves references within one interpreter (no conversion, no copy, a C deque "
        "under the GIL), so it bounds what any cross-interpreter queue can reach from Python; ours converts each "
        "item to portable data and back.")
    add("- **CPython 3.13.0 quirk**: a queue made by `_interpqueues.create()` is destroyed as soon as a wrapper "
        "`Queue` object in another interpreter has bound and released it (the creator's reference does not keep "
        "it); this benchmark calls `_interpqueues.bind()` on each queue it makes to keep it alive.")
    add("- **Noise**: compare ratios, not absolute rates, across runs.")
    add("")
    return "\n".join(out) + "\n"


# The JSON records: (impl, params) of every measurement key of each section.
PAIR_IMPLS = {"ours": "subinterp_queue", "ours_nowait": "subinterp_queue_nowait", "raw": "interpqueues",
              "wrap": "interpqueues_wrapper", "wrap_pickle": "interpqueues_wrapper_pickle", "queue": "queue_queue",
              "simple": "queue_simple_queue", "mp": "multiprocessing_queue"}
LATENCY_IDS = {"ours_interp": ("subinterp_queue", "subinterpreter"), "ours_thread": ("subinterp_queue", "main_thread"),
               "wrap": ("interpqueues_wrapper", "subinterpreter"), "spin": ("interpqueues", "subinterpreter"),
               "queue": ("queue_queue", "thread"), "mp": ("multiprocessing_queue", "process")}


def json_results(bench):
    """The JSON records (reporting.record) of every measurement the report's tables show."""
    record, host, maxsize = reporting.record, bench.host, bench.config.maxsize
    out = []
    for kind, _ in PAIR_KINDS:
        for key, label, *_ in PAIR_METHODS:
            out.append(record("put_get_python", label, PAIR_IMPLS[key], pair_rates(bench.pairs[(kind, key)]),
                              "pairs/s", {"item": ITEM_IDS[kind]}))
    out.append(record("put_get_c", "one thread, put+get pairs", "subinterp_queue_c", host["pairs_per_s"], "pairs/s",
                      {"item": "int"}))
    flow_ids = {"ours": ("subinterp_queue", 0), "ours_bounded": ("subinterp_queue", maxsize),
                "raw": ("interpqueues", 0), "raw_bounded": ("interpqueues", maxsize),
                "wrap": ("interpqueues_wrapper", 0), "mp": ("multiprocessing_queue", 0), "threads": ("queue_queue", 0)}
    for key, label, _, rates in bench.flow:
        impl, size = flow_ids[key]
        out.append(record("producer_consumer", label, impl, rates, "items/s", {"maxsize": size}))
    out.append(record("producer_consumer", "C: 2 host threads, unbounded (section 2)", "subinterp_queue_c",
                      host["prodcons_unbounded_per_s"], "items/s", {"maxsize": 0}))
    out.append(record("producer_consumer", f"C: 2 host threads, maxsize={host['maxsize']} (section 2)",
                      "subinterp_queue_c", host["prodcons_bounded_per_s"], "items/s", {"maxsize": host["maxsize"]}))
    for key, label, ns in bench.latency:
        impl, consumer = LATENCY_IDS[key]
        out.append(record("wakeup_latency", label, impl, [x / 1e9 for x in ns], "s", {"consumer": consumer},
                          p90=True))
    out.append(record("wakeup_latency", "ours: C host thread blocked in `subinterp_queue_get` (queue_host)",
                      "subinterp_queue_c", [x / 1e9 for x in host["latency_ns"]], "s", {"consumer": "c_thread"},
                      p90=True))
    return out


# --------------------------------------------------------------------------------------

QUEUE_SIGNATURES = {
    "subinterp_queue_size": ([ctypes.c_int64, ctypes.POINTER(ctypes.c_size_t), ctypes.POINTER(ctypes.c_void_p)],
                             ctypes.c_int32),
}


class QueueLibrary(Library):
    """data_transfer's Library plus the queue functions this benchmark calls."""

    def __init__(self, path):
        super().__init__(path)
        for name, (argtypes, restype) in QUEUE_SIGNATURES.items():
            function = getattr(self.dll, name)
            function.argtypes = argtypes
            function.restype = restype
            setattr(self, name[len("subinterp_"):], function)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", required=True, help="path to libsubinterp.so")
    parser.add_argument("--module-dir", help="directory of the _subinterp module link (default: <library dir>/python)")
    parser.add_argument("--host", help="the queue_host program (default: <library dir>/bench/queue_host)")
    parser.add_argument("--quick", action="store_true", help="brief samples: a CI smoke run")
    parser.add_argument("--markdown", help="write the report (markdown) to this file")
    parser.add_argument("--json", help="write the results (JSON, see bench/reporting.py) to this file")
    parser.add_argument("--repeat", type=int, help="samples per measurement (default 15; 3 with --quick)")
    parser.add_argument("--sample-time", type=float, help="seconds per sample in section 1 (default 0.05; 0.002 quick)")
    parser.add_argument("--flow-time", type=float, default=0.2, help="seconds per producer/consumer run (default 0.2)")
    parser.add_argument("--latency-samples", type=int, help="wake-up samples per method (default 100; 4 with --quick)")
    parser.add_argument("--maxsize", type=int, default=1000, help="maxsize of the bounded queues (default 1000)")
    parser.add_argument("--command", help="the command line to record in the report (default: this one)")
    parser.add_argument("--verbose", action="store_true", help="progress on stderr")
    config = parser.parse_args()
    config.repeat = config.repeat or (3 if config.quick else 15)
    config.sample_time = config.sample_time or (0.002 if config.quick else 0.05)
    config.latency_samples = config.latency_samples or (4 if config.quick else 100)
    library_dir = os.path.dirname(os.path.abspath(config.library))
    config.module_dir = os.path.abspath(config.module_dir or os.path.join(library_dir, "python"))
    config.host = os.path.abspath(config.host or os.path.join(library_dir, "bench", "queue_host"))
    if not config.command:
        config.command = " ".join([sys.executable, *sys.argv])
    if config.repeat < 1 or config.sample_time <= 0 or config.latency_samples < 1 or config.maxsize < 1:
        parser.error("--repeat, --latency-samples and --maxsize must be >= 1, --sample-time > 0")
    if sys.version_info[:2] != (3, 13):
        print(f"warning: written for CPython 3.13's _interpreters/_interpqueues; this is {sys.version.split()[0]}",
              file=sys.stderr)
    if not os.access(config.host, os.X_OK):
        print(f"error: no queue_host program at {config.host} (built by bench/CMakeLists.txt; pass --host)",
              file=sys.stderr)
        return 1

    run = Run()
    lib = QueueLibrary(config.library)
    if not library_matches_python(lib):
        return 1
    sys.path.insert(0, config.module_dir)
    try:
        import _subinterp
        from test.support.interpreters import queues as wrapper
    except ImportError as error:
        print(f"error: {error} (module dir {config.module_dir})", file=sys.stderr)
        return 1
    if os.path.realpath(_subinterp.__file__) != os.path.realpath(config.library):
        print(f"error: _subinterp is {os.path.realpath(_subinterp.__file__)}, not the library "
              f"{os.path.realpath(config.library)}", file=sys.stderr)
        return 1

    bench = Bench(lib, config, _subinterp, wrapper)

    def steps():
        bench.setup()
        bench.measure_pairs()
        bench.run_host()
        bench.measure_flow()
        bench.progress("producer/consumer")
        bench.measure_latency()
        bench.progress("latency")

    status = run.execute(bench, steps, render, config, lib, "queues", json_results)
    if status:
        return status
    crit1, ratio_put_get, ratio_nowait, crit2, wake, crit3, c_pairs = bench.facts["headline"]
    print(f"headline: Python put+get / _interpqueues = {ratio_put_get:.2f}x (nowait {ratio_nowait:.2f}x) -> "
          f"{'HOLDS' if crit1 else 'DOES NOT HOLD'}; blocked get wakes in "
          f"{', '.join(f'{k} {v / 1e3:.0f} us' for k, v in wake.items())} -> {'HOLDS' if crit2 else 'DOES NOT HOLD'}; "
          f"C pairs {c_pairs / 1e6:.2f} M/s -> {'HOLDS' if crit3 else 'DOES NOT HOLD'}; total {run.elapsed:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
