"""Queues shared between Python interpreters and a real C host thread.

host_thread.c is compiled at test time against the libsubinterp.so.1 this very
``subinterp`` package loaded (so both see one registry of queues). Its threads
are plain pthreads calling the C ABI (subinterp_queue_put/get...): no Python,
no GIL. The calls into it go through ctypes.CDLL, which releases the GIL.

Remote code is given as functions defined inside the tests (closure-free, they
travel as code): see test_queues.py for why this module is not imported by
other interpreters.
"""
import ctypes
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import subinterp
import subinterp.interpreters as interpreters
from subinterp._errors import QueueClosedError, QueueNotFoundError

TIMEOUT = 60.0
WAIT_FOREVER = -1.0

# subinterp_status values (capi/include/subinterp.h)
OK = 0
ERR_NOT_FOUND = 2
ERR_TYPE = 7
ERR_QUEUE_EMPTY = 13
ERR_QUEUE_FULL = 14
ERR_CLOSED = 15
ERR_UNBOUND = 17
DATA_INT = 2
UNBOUND_ITEM = -1     # host_thread.c's kind for an unbound (NULL) item
JOIN_TIMED_OUT = -1

HERE = Path(__file__).resolve().parent
INCLUDE = HERE.parents[2] / "capi" / "include"


def _compiler():
    for candidate in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


class Joined:
    def __init__(self, status, value, processed, out_of_order, kind, first_seen, message):
        self.status, self.value, self.processed = status, value, processed
        self.out_of_order, self.kind, self.first_seen, self.message = out_of_order, kind, first_seen, message

    def __repr__(self):
        return f"Joined({vars(self)})"


class Host:
    """The compiled host_thread library."""

    def __init__(self, lib):
        self.lib = lib
        i64, i64p, dbl, cint = ctypes.c_int64, ctypes.POINTER(ctypes.c_int64), ctypes.c_double, ctypes.c_int
        for name, argtypes, restype in [
            ("start_producer", [i64, i64, i64, dbl], cint),
            ("start_consumer", [i64, i64, dbl], cint),
            ("start_getter", [i64, dbl], cint),
            ("start_putter", [i64, i64, dbl], cint),
            ("wait_started", [cint, dbl], cint),
            ("job_done", [cint], cint),
            ("join_job", [cint, dbl, i64p, i64p, i64p, ctypes.POINTER(cint)], cint),
            ("consumer_first_seen", [cint], i64),
            ("job_message", [cint], ctypes.c_char_p),
            ("free_job", [cint], cint),
            ("destroy_queue", [i64], cint),
            ("close_queue", [i64], cint),
            ("create_queue", [i64, i64p], cint),
            ("release_queue", [i64], cint),
            ("queue_size", [i64, i64p], cint),
        ]:
            function = getattr(lib, name)
            function.argtypes = argtypes
            function.restype = restype
        self.status_name = lib.subinterp_status_name  # from libsubinterp, reached through the host library
        self.status_name.argtypes = [ctypes.c_int32]
        self.status_name.restype = ctypes.c_char_p

    def started(self, handle):
        assert handle >= 0, f"could not start a thread: {handle}"
        return handle

    def producer(self, queue, count, first=0, timeout=TIMEOUT):
        return self.started(self.lib.start_producer(queue.id, first, count, timeout))

    def consumer(self, queue, count, timeout=TIMEOUT):
        return self.started(self.lib.start_consumer(queue.id, count, timeout))

    def getter(self, queue, timeout=WAIT_FOREVER):
        return self.started(self.lib.start_getter(queue.id, timeout))

    def putter(self, queue, value, timeout=WAIT_FOREVER):
        return self.started(self.lib.start_putter(queue.id, value, timeout))

    def wait_started(self, handle):
        assert self.lib.wait_started(handle, TIMEOUT), "the C thread did not start"

    def join(self, handle, timeout=TIMEOUT):
        value, processed, out_of_order = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_int64()
        kind = ctypes.c_int()
        status = self.lib.join_job(handle, timeout, ctypes.byref(value), ctypes.byref(processed),
                                   ctypes.byref(out_of_order), ctypes.byref(kind))
        if status == JOIN_TIMED_OUT:
            return None
        joined = Joined(status, value.value, processed.value, out_of_order.value, kind.value,
                        self.lib.consumer_first_seen(handle), self.lib.job_message(handle).decode())
        assert self.lib.free_job(handle) == 0
        return joined

    def join_or_unblock(self, handle, queue_id):
        """Joins; if the thread is stuck, destroys the queue (which wakes it)
        so it ends, and fails."""
        joined = self.join(handle)
        if joined is None:
            self.lib.destroy_queue(queue_id)
            self.join(handle)
            pytest.fail("the C thread did not finish")
        return joined

    def name(self, status):
        return self.status_name(status).decode()


@pytest.fixture(scope="session")
def host(tmp_path_factory):
    compiler = _compiler()
    if compiler is None:
        pytest.skip("no C compiler found (cc, gcc, clang or $CC) to build host_thread.c")
    package_dir = os.path.dirname(subinterp._native.__file__)
    library = os.path.join(package_dir, "libsubinterp.so.1")
    assert os.path.exists(library), library
    assert (INCLUDE / "subinterp.h").exists(), INCLUDE
    out = tmp_path_factory.mktemp("host_thread") / "libhost_thread.so"
    command = [compiler, "-shared", "-fPIC", "-O1", "-Wall", "-Werror", f"-I{INCLUDE}",
               str(HERE / "host_thread.c"), "-o", str(out), library, f"-Wl,-rpath,{package_dir}", "-lpthread"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}{result.stderr}"
    return Host(ctypes.CDLL(str(out)))


def test_one_registry(host):
    # A queue made by Python is seen by the C ABI the host library links, and the reverse.
    queue = interpreters.create_queue()
    queue.put("a")
    queue.put("b")
    size = ctypes.c_int64()
    assert host.lib.queue_size(queue.id, ctypes.byref(size)) == OK
    assert size.value == 2

    made = ctypes.c_int64()
    assert host.lib.create_queue(3, ctypes.byref(made)) == OK
    by_id = interpreters.Queue(made.value)
    assert by_id.maxsize == 3
    assert host.lib.release_queue(made.value) == OK  # the Python object holds it now
    by_id.put(1)
    assert by_id.get_nowait() == 1


class TestProducerConsumer:

    @pytest.mark.parametrize("maxsize", [0, 1, 8])
    def test_c_thread_produces_subinterpreter_consumes(self, host, interp, maxsize):
        count = 2000
        queue = interpreters.create_queue(maxsize)

        def consume(queue, count):
            total, in_order, previous = 0, True, -1
            for _ in range(count):
                item = queue.get(timeout=60)
                in_order = in_order and item == previous + 1
                previous = item
                total += item
            return total, in_order, queue.empty()

        producer = host.producer(queue, count)
        try:
            total, in_order, empty = interp.call(consume, queue, count)
        finally:
            joined = host.join_or_unblock(producer, queue.id)
        assert joined.status == OK, (host.name(joined.status), joined.message)
        assert joined.processed == count
        assert total == count * (count - 1) // 2
        assert in_order
        assert empty

    @pytest.mark.parametrize("maxsize", [0, 1, 8])
    def test_subinterpreter_produces_c_thread_consumes(self, host, interp, maxsize):
        count = 2000
        queue = interpreters.create_queue(maxsize)

        def produce(queue, count):
            for i in range(count):
                queue.put(i, timeout=60)

        consumer = host.consumer(queue, count)
        host.wait_started(consumer)
        try:
            interp.call(produce, queue, count)
        finally:
            joined = host.join_or_unblock(consumer, queue.id)
        assert joined.status == OK, (host.name(joined.status), joined.message)
        assert joined.processed == count
        assert joined.value == count * (count - 1) // 2
        assert joined.first_seen == 0
        assert joined.out_of_order == 0
        assert queue.empty()

    def test_main_interpreter_and_c_thread_both_ways(self, host):
        count = 500
        to_c, from_c = interpreters.create_queue(4), interpreters.create_queue(4)
        consumer = host.consumer(to_c, count)
        producer = host.producer(from_c, count, first=10_000)
        try:
            got = []
            for i in range(count):
                to_c.put(i, timeout=TIMEOUT)
                got.append(from_c.get(timeout=TIMEOUT))
        finally:
            consumed = host.join_or_unblock(consumer, to_c.id)
            produced = host.join_or_unblock(producer, from_c.id)
        assert consumed.status == OK and produced.status == OK
        assert consumed.value == count * (count - 1) // 2 and consumed.out_of_order == 0
        assert got == list(range(10_000, 10_000 + count))

    def test_c_producers_to_subinterpreter_consumers(self, host, make_interp):
        # 3 C threads -> one queue -> 2 interpreters (own GILs) -> main.
        count, producers, stride = 1000, 3, 1_000_000
        work, results = interpreters.create_queue(16), interpreters.create_queue()

        def consume(work, results):
            seen = []
            while (item := work.get(timeout=60)) is not None:
                seen.append(item)
            results.put(seen)

        consumers = [make_interp() for _ in range(2)]
        threads = [c.call_in_thread(consume, work, results) for c in consumers]
        handles = [host.producer(work, count, first=p * stride) for p in range(producers)]
        try:
            joined = [host.join_or_unblock(h, work.id) for h in handles]
            for _ in consumers:
                work.put(None)
            batches = [results.get(timeout=TIMEOUT) for _ in consumers]
        finally:
            for t in threads:
                t.join(TIMEOUT)
        assert not any(t.is_alive() for t in threads)
        assert all(j.status == OK and j.processed == count for j in joined)
        everything = sorted(item for batch in batches for item in batch)
        assert everything == sorted(p * stride + i for p in range(producers) for i in range(count))
        for batch in batches:  # each consumer sees each producer's items in order
            for p in range(producers):
                mine = [item for item in batch if item // stride == p]
                assert mine == sorted(mine)


class TestWakeUps:

    def test_c_getter_woken_by_put_from_main(self, host):
        queue = interpreters.create_queue()
        getter = host.getter(queue)  # waits forever
        host.wait_started(getter)
        queue.put(42)
        joined = host.join_or_unblock(getter, queue.id)
        assert joined.status == OK, host.name(joined.status)
        assert (joined.kind, joined.value) == (DATA_INT, 42)

    def test_c_getter_woken_by_put_from_subinterpreter(self, host, interp):
        queue = interpreters.create_queue()
        interp.prepare_main(queue=queue)
        getter = host.getter(queue)
        host.wait_started(getter)
        interp.exec("queue.put(2 ** 40)")
        joined = host.join_or_unblock(getter, queue.id)
        assert joined.status == OK, host.name(joined.status)
        assert joined.value == 2 ** 40

    def test_c_putter_woken_by_get_in_subinterpreter(self, host, interp):
        queue = interpreters.create_queue(1)
        queue.put("occupant")
        putter = host.putter(queue, 7)  # full: waits forever for room
        host.wait_started(putter)
        interp.prepare_main(queue=queue)
        interp.exec("first = queue.get(timeout=60)\nsecond = queue.get(timeout=60)\n"
                    "assert (first, second) == ('occupant', 7), (first, second)")
        joined = host.join_or_unblock(putter, queue.id)
        assert joined.status == OK, host.name(joined.status)
        assert queue.empty()

    def test_python_get_in_subinterpreter_woken_by_c_put(self, host, interp):
        ready, queue, out = (interpreters.create_queue() for _ in range(3))

        def wait_and_report(ready, queue, out):
            ready.put(True)
            out.put(("got", queue.get()))  # no timeout: only the C thread's put ends this

        t = interp.call_in_thread(wait_and_report, ready, queue, out)
        try:
            assert ready.get(timeout=TIMEOUT)
            joined = host.join_or_unblock(host.producer(queue, 1, first=99), queue.id)
            assert joined.status == OK, host.name(joined.status)
            assert out.get(timeout=TIMEOUT) == ("got", 99)
        finally:
            t.join(TIMEOUT)
            if t.is_alive():
                queue.close()
                t.join(TIMEOUT)
        assert not t.is_alive()

    @pytest.mark.parametrize("timeout", [0.0, 0.05, 0.001])
    def test_c_get_times_out_on_empty_queue(self, host, timeout):
        queue = interpreters.create_queue()
        joined = host.join_or_unblock(host.getter(queue, timeout), queue.id)
        assert joined.status == ERR_QUEUE_EMPTY, host.name(joined.status)

    @pytest.mark.parametrize("timeout", [0.0, 0.05])
    def test_c_put_times_out_on_full_queue(self, host, timeout):
        queue = interpreters.create_queue(1)
        queue.put(0)
        joined = host.join_or_unblock(host.putter(queue, 1, timeout), queue.id)
        assert joined.status == ERR_QUEUE_FULL, host.name(joined.status)
        assert queue.qsize() == 1


class TestCloseAndDestroy:

    def test_close_wakes_blocked_c_getter(self, host):
        queue = interpreters.create_queue()
        getter = host.getter(queue)
        host.wait_started(getter)
        queue.close()
        joined = host.join_or_unblock(getter, queue.id)
        assert joined.status == ERR_CLOSED, host.name(joined.status)
        assert joined.processed == 0

    def test_close_from_subinterpreter_wakes_blocked_c_getter(self, host, interp):
        queue = interpreters.create_queue()
        getter = host.getter(queue)
        host.wait_started(getter)
        interp.call(lambda q: q.close(), queue)
        joined = host.join_or_unblock(getter, queue.id)
        assert joined.status == ERR_CLOSED, host.name(joined.status)

    def test_close_wakes_blocked_c_putter(self, host):
        queue = interpreters.create_queue(1)
        queue.put("occupant")
        putter = host.putter(queue, 1)
        host.wait_started(putter)
        queue.close()
        joined = host.join_or_unblock(putter, queue.id)
        assert joined.status == ERR_CLOSED, host.name(joined.status)
        assert queue.get_nowait() == "occupant"  # what is left can still be taken
        with pytest.raises(QueueClosedError):
            queue.get_nowait()

    def test_c_consumer_drains_a_closed_queue_then_sees_closed(self, host):
        queue = interpreters.create_queue()
        for i in range(3):
            queue.put(i)
        queue.close()
        joined = host.join_or_unblock(host.consumer(queue, 10), queue.id)
        assert joined.status == ERR_CLOSED, host.name(joined.status)
        assert (joined.processed, joined.value) == (3, 0 + 1 + 2)

    def test_destroy_wakes_blocked_c_getter(self, host):
        queue = interpreters.create_queue()
        getter = host.getter(queue)
        host.wait_started(getter)
        assert host.lib.destroy_queue(queue.id) == OK
        joined = host.join(getter)
        assert joined is not None, "destroying the queue did not wake the C thread"
        assert joined.status == ERR_NOT_FOUND, host.name(joined.status)
        with pytest.raises(QueueNotFoundError):
            queue.put(1)
        with pytest.raises(QueueNotFoundError):
            queue.qsize()

    def test_destroy_wakes_blocked_c_putter(self, host):
        queue = interpreters.create_queue(1)
        queue.put("occupant")
        putter = host.putter(queue, 1)
        host.wait_started(putter)
        assert host.lib.destroy_queue(queue.id) == OK
        joined = host.join(putter)
        assert joined is not None, "destroying the queue did not wake the C thread"
        assert joined.status == ERR_NOT_FOUND, host.name(joined.status)
        with pytest.raises(QueueNotFoundError):
            queue.get_nowait()

    def test_c_thread_on_a_destroyed_queue(self, host):
        queue = interpreters.create_queue()
        queue_id = queue.id
        assert host.lib.destroy_queue(queue_id) == OK
        joined = host.join_or_unblock(host.getter(queue, 0.0), queue_id)
        assert joined.status == ERR_NOT_FOUND, host.name(joined.status)

    def test_c_thread_keeps_a_dropped_queue_alive(self, host):
        # The C consumer retains the queue: dropping every Python object of it
        # (ids are never reused) leaves it working for the host.
        import gc
        queue = interpreters.create_queue()
        queue_id = queue.id
        consumer = host.consumer(queue, 2)
        host.wait_started(consumer)
        queue.put(1)
        queue.put(2)
        del queue
        gc.collect()
        joined = host.join_or_unblock(consumer, queue_id)
        assert joined.status == OK and joined.value == 3


class TestUnboundItems:

    def put_from_closed_interpreter(self, queue, unbounditems):
        interp = interpreters.create()
        try:
            interp.prepare_main(queue=queue)
            interp.exec(f"import subinterp.interpreters as i\nqueue.put('sub', unbounditems=i.{unbounditems})")
        finally:
            interp.close()

    def test_c_getter_sees_unbound_replace_as_null(self, host):
        queue = interpreters.create_queue()
        self.put_from_closed_interpreter(queue, "UNBOUND")
        joined = host.join_or_unblock(host.getter(queue, 0.0), queue.id)
        assert joined.status == OK, host.name(joined.status)
        assert joined.kind == UNBOUND_ITEM

    def test_c_getter_sees_unbound_error(self, host):
        queue = interpreters.create_queue()
        self.put_from_closed_interpreter(queue, "UNBOUND_ERROR")
        joined = host.join_or_unblock(host.getter(queue, 0.0), queue.id)
        assert joined.status == ERR_UNBOUND, host.name(joined.status)
        assert queue.empty()  # the failed get consumed it

    def test_unbound_remove_leaves_nothing_for_c(self, host):
        queue = interpreters.create_queue()
        self.put_from_closed_interpreter(queue, "UNBOUND_REMOVE")
        joined = host.join_or_unblock(host.getter(queue, 0.0), queue.id)
        assert joined.status == ERR_QUEUE_EMPTY, host.name(joined.status)

    def test_items_put_by_c_are_never_unbound(self, host, interp):
        # The host's items belong to no interpreter: closing one changes nothing.
        queue = interpreters.create_queue(unbounditems=interpreters.UNBOUND_ERROR)
        joined = host.join_or_unblock(host.producer(queue, 3, first=5), queue.id)
        assert joined.status == OK
        interp.prepare_main(queue=queue)
        interp.exec("assert queue.qsize() == 3")
        interp.close()
        assert [queue.get_nowait() for _ in range(3)] == [5, 6, 7]
