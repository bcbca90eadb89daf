"""The cross-interpreter queues of ``subinterp.interpreters``, used as Python
3.14's ``concurrent.interpreters`` queues are (PEP 734).

Ported from CPython's Lib/test/test_interpreters/test_queues.py (the public
behaviour; the low-level ``_subinterp`` cases live in
core/tests/test_queue_module.py), plus cross-interpreter pipelines, buffers and
the pickled fallback.

Code that runs in another interpreter is given as source text or as functions
defined inside the tests (closure-free, so they travel as code): importing this
module there would import pytest, and on CPython 3.12 an isolated interpreter
that imports ``hashlib`` (as pytest does) crashes CPython at exit (a CPython
bug, not subinterp's).
"""
import collections
import decimal
import fractions
import pickle
import queue as stdlib_queue
import threading
from textwrap import dedent

import pytest

import subinterp.interpreters as interpreters
from subinterp._errors import ItemInterpreterDestroyed, QueueClosedError, QueueError, QueueNotFoundError

# Long enough never to expire on a slow machine; only bounds a failing test.
TIMEOUT = 60


def run_output(interp, source):
    """Runs `source` in `interp` and returns what it put in ``out`` (the
    CPython tests capture stdout; a queue needs no pipe)."""
    out = interpreters.create_queue()
    interp.prepare_main(out=out)
    interp.exec(dedent(source))
    return out.get_nowait() if not out.empty() else None


def join(thread):
    thread.join(TIMEOUT)
    assert not thread.is_alive(), f"{thread.name} did not finish"


# --------------------------------------------------------------------------------------
# Creating queues, identity
# --------------------------------------------------------------------------------------

class TestQueue:

    @pytest.mark.parametrize("args, maxsize", [((), 0), ((3,), 3), ((100,), 100), ((0,), 0)])
    def test_create(self, args, maxsize):
        queue = interpreters.create_queue(*args)
        assert isinstance(queue, interpreters.Queue)
        assert queue.maxsize == maxsize
        assert queue.qsize() == 0
        assert queue.empty()

    def test_create_keyword_maxsize(self):
        assert interpreters.create_queue(maxsize=5).maxsize == 5

    @pytest.mark.parametrize("maxsize", [-1, -10])
    def test_negative_maxsize_is_unbounded(self, maxsize):
        # (3.14 reports maxsize as given; subinterp reports 0. Both are unbounded.)
        queue = interpreters.create_queue(maxsize)
        for i in range(50):
            queue.put_nowait(i)
        assert not queue.full()
        assert queue.qsize() == 50

    def test_bad_maxsize(self):
        with pytest.raises(TypeError):
            interpreters.create_queue('1')

    @pytest.mark.parametrize("marker", ["UNBOUND", "UNBOUND_ERROR", "UNBOUND_REMOVE"])
    def test_create_unbounditems(self, marker):
        unbound = getattr(interpreters, marker)
        queue = interpreters.create_queue(unbounditems=unbound)
        assert queue.unbounditems is unbound

    def test_default_unbounditems(self):
        assert interpreters.create_queue().unbounditems is interpreters.UNBOUND

    def test_id_type(self):
        queue = interpreters.create_queue()
        assert isinstance(queue.id, int)

    def test_ids_differ(self):
        assert interpreters.create_queue().id != interpreters.create_queue().id

    def test_custom_id(self):
        with pytest.raises(QueueNotFoundError):
            interpreters.Queue(1_000_000)
        assert issubclass(QueueNotFoundError, QueueError)

    def test_id_readonly(self):
        queue = interpreters.create_queue()
        with pytest.raises(AttributeError):
            queue.id = 1_000_000

    def test_maxsize_readonly(self):
        queue = interpreters.create_queue(10)
        with pytest.raises(AttributeError):
            queue.maxsize = 1_000_000

    def test_hashable(self):
        queue = interpreters.create_queue()
        assert hash(queue) == hash(queue.id)

    def test_equality(self):
        queue1 = interpreters.create_queue()
        queue2 = interpreters.create_queue()
        assert queue1 == queue1
        assert queue1 != queue2

    def test_by_id_is_the_same_object(self):
        queue = interpreters.create_queue(4)
        again = interpreters.Queue(queue.id)
        assert again is queue
        assert again == queue and hash(again) == hash(queue)
        again.put("via id")
        assert queue.get_nowait() == "via id"

    def test_repr(self):
        queue = interpreters.create_queue()
        assert repr(queue) == f"Queue({queue.id})"

    def test_pickle(self):
        queue = interpreters.create_queue()
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            unpickled = pickle.loads(pickle.dumps(queue, protocol))
            assert unpickled == queue

    def test_is_shareable(self):
        assert interpreters.is_shareable(interpreters.create_queue())

    def test_shareable(self, interp):
        queue1 = interpreters.create_queue()
        interp.exec(dedent(f"""
            import subinterp.interpreters as interpreters
            queue1 = interpreters.Queue({queue1.id})
            """))

        # same interpreter
        queue2 = interpreters.create_queue()
        queue1.put(queue2)
        queue3 = queue1.get()
        assert queue3 is queue2

        # from current interpreter
        queue4 = interpreters.create_queue()
        queue1.put(queue4)
        qid = run_output(interp, """
            queue4 = queue1.get()
            out.put(queue4.id)
            """)
        assert qid == queue4.id

        # from subinterpreter
        qid = run_output(interp, """
            queue5 = interpreters.create_queue()
            queue1.put(queue5)
            out.put(queue5.id)
            """)
        queue5 = queue1.get()
        assert queue5.id == qid

    def test_queue_made_in_subinterpreter_lives_while_held(self, interp):
        qid = run_output(interp, """
            import subinterp.interpreters as interpreters
            made = interpreters.create_queue(2)
            made.put("from sub")
            out.put(made.id)
            """)
        made = interpreters.Queue(qid)
        assert made.maxsize == 2
        interp.close()
        # The putting interpreter is gone: its item is unbound, the queue lives on.
        assert made.get_nowait() is interpreters.UNBOUND
        made.put("from main")
        assert made.get_nowait() == "from main"


# --------------------------------------------------------------------------------------
# Queue operations
# --------------------------------------------------------------------------------------

class TestQueueOps:

    def test_empty(self):
        queue = interpreters.create_queue()
        before = queue.empty()
        queue.put(None)
        during = queue.empty()
        queue.get()
        after = queue.empty()
        assert before is True
        assert during is False
        assert after is True

    @pytest.mark.parametrize("maxsize", [1, 3, 11])
    def test_full(self, maxsize):
        num_to_add = maxsize
        expected = [False] * (num_to_add * 2 + 3)
        expected[maxsize] = True
        expected[maxsize + 1] = True

        queue = interpreters.create_queue(maxsize)
        actual = []
        empty = [queue.empty()]

        for _ in range(num_to_add):
            actual.append(queue.full())
            queue.put_nowait(None)
        actual.append(queue.full())
        with pytest.raises(interpreters.QueueFull):
            queue.put_nowait(None)
        empty.append(queue.empty())

        for _ in range(num_to_add):
            actual.append(queue.full())
            queue.get_nowait()
        actual.append(queue.full())
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()
        actual.append(queue.full())
        empty.append(queue.empty())

        assert actual == expected
        assert empty == [True, False, True]

    @pytest.mark.parametrize("args", [(), (0,), (-1,), (-10,)])
    def test_full_no_maxsize(self, args):
        num_to_add = 13
        expected = [False] * (num_to_add * 2 + 3)

        queue = interpreters.create_queue(*args)
        actual = []
        empty = [queue.empty()]

        for _ in range(num_to_add):
            actual.append(queue.full())
            queue.put_nowait(None)
        actual.append(queue.full())
        empty.append(queue.empty())

        for _ in range(num_to_add):
            actual.append(queue.full())
            queue.get_nowait()
        actual.append(queue.full())
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()
        actual.append(queue.full())
        empty.append(queue.empty())

        assert actual == expected
        assert empty == [True, False, True]

    def test_qsize(self):
        expected = [0, 1, 2, 3, 2, 3, 2, 1, 0, 1, 0]
        actual = []
        queue = interpreters.create_queue()
        for _ in range(3):
            actual.append(queue.qsize())
            queue.put(None)
        actual.append(queue.qsize())
        queue.get()
        actual.append(queue.qsize())
        queue.put(None)
        actual.append(queue.qsize())
        for _ in range(3):
            queue.get()
            actual.append(queue.qsize())
        queue.put(None)
        actual.append(queue.qsize())
        queue.get()
        actual.append(queue.qsize())
        assert actual == expected

    def test_put_get_main(self):
        expected = list(range(20))
        queue = interpreters.create_queue()
        for i in range(20):
            queue.put(i)
        actual = [queue.get() for _ in range(20)]
        assert actual == expected

    def test_put_timeout(self):
        queue = interpreters.create_queue(2)
        queue.put(None)
        queue.put(None)
        with pytest.raises(interpreters.QueueFull):
            queue.put(None, timeout=0.1)
        queue.get()
        queue.put(None)
        assert queue.qsize() == 2

    def test_put_nowait(self):
        queue = interpreters.create_queue(2)
        queue.put_nowait(None)
        queue.put_nowait(None)
        with pytest.raises(interpreters.QueueFull):
            queue.put_nowait(None)
        queue.get()
        queue.put_nowait(None)
        assert queue.qsize() == 2

    def test_put_block_false(self):
        queue = interpreters.create_queue(1)
        queue.put(1, block=False)
        with pytest.raises(interpreters.QueueFull):
            queue.put(2, block=False)
        with pytest.raises(interpreters.QueueFull):
            queue.put(2, False, TIMEOUT)  # timeout is ignored without block
        assert queue.get(block=False) == 1
        with pytest.raises(interpreters.QueueEmpty):
            queue.get(block=False)
        with pytest.raises(interpreters.QueueEmpty):
            queue.get(False, TIMEOUT)

    @pytest.mark.parametrize("obj", [
        None, True, 10, 'spam', b'spam', (0, 'a'),
        # not shareable in 3.14 (pickled there); data here
        [1, 2, 3], {'a': 13, 'b': 17},
    ], ids=repr)
    def test_put_full_fallback(self, obj):
        queue = interpreters.create_queue()
        queue.put(obj)
        obj2 = queue.get()
        assert obj2 == obj

        queue.put(obj)
        obj2 = queue.get_nowait()
        assert obj2 == obj

    @pytest.mark.parametrize("timeout", [0.1, 0.05, 0.001])
    def test_get_timeout(self, timeout):
        queue = interpreters.create_queue()
        with pytest.raises(interpreters.QueueEmpty):
            queue.get(timeout=timeout)

    def test_get_nowait(self):
        queue = interpreters.create_queue()
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()

    def test_fractional_timeout_put(self):
        queue = interpreters.create_queue(1)
        queue.put(0)
        with pytest.raises(interpreters.QueueFull):
            queue.put(1, timeout=0.05)
        assert queue.qsize() == 1

    def test_exceptions_are_queue_empty_and_full(self):
        queue = interpreters.create_queue(1)
        with pytest.raises(stdlib_queue.Empty) as caught:
            queue.get_nowait()
        assert isinstance(caught.value, interpreters.QueueEmpty)
        queue.put(1)
        with pytest.raises(stdlib_queue.Full) as caught:
            queue.put_nowait(2)
        assert isinstance(caught.value, interpreters.QueueFull)
        with pytest.raises(stdlib_queue.Empty):
            interpreters.create_queue().get(timeout=0.01)
        with pytest.raises(stdlib_queue.Full):
            queue.put(3, timeout=0.01)
        assert issubclass(interpreters.QueueEmpty, QueueError)
        assert issubclass(interpreters.QueueFull, QueueError)

    def test_put_get_full_fallback(self):
        expected = list(range(20))
        queue = interpreters.create_queue()
        for methname in ('get', 'get_nowait'):
            get = getattr(queue, methname)
            for i in range(20):
                queue.put(i)
            actual = [get() for _ in range(20)]
            assert actual == expected

            obj = [1, 2, 3]
            queue.put(obj)
            obj2 = get()
            assert obj == obj2
            assert obj is not obj2

    @pytest.mark.parametrize("methname", ["get", "get_nowait"])
    def test_put_get_same_interpreter(self, interp, methname):
        interp.exec(dedent("""
            import subinterp.interpreters as interpreters
            queue = interpreters.create_queue()
            """))
        interp.exec(dedent(f"""
            orig = b'spam'
            queue.put(orig)
            obj = queue.{methname}()
            assert obj == orig, 'expected: obj == orig'
            assert obj is not orig, 'expected: obj is not orig'
            """))

    @pytest.mark.parametrize("methname", ["get", "get_nowait"])
    def test_put_get_different_interpreters(self, interp, methname):
        queue1 = interpreters.create_queue()
        queue2 = interpreters.create_queue()

        obj1 = b'spam'
        queue1.put(obj1)

        out = run_output(interp, f"""
            import subinterp.interpreters as interpreters
            queue1 = interpreters.Queue({queue1.id})
            queue2 = interpreters.Queue({queue2.id})
            assert queue1.qsize() == 1, 'expected: queue1.qsize() == 1'
            obj = queue1.{methname}()
            assert queue1.qsize() == 0, 'expected: queue1.qsize() == 0'
            assert obj == b'spam', 'expected: obj == obj1'
            # When going to another interpreter we get a copy.
            assert id(obj) != {id(obj1)}, 'expected: obj is not obj1'
            obj2 = b'eggs'
            out.put(id(obj2))
            assert queue2.qsize() == 0, 'expected: queue2.qsize() == 0'
            queue2.put(obj2)
            assert queue2.qsize() == 1, 'expected: queue2.qsize() == 1'
            """)
        assert queue1.qsize() == 0
        assert queue2.qsize() == 1

        obj2 = getattr(queue2, methname)()
        assert obj2 == b'eggs'
        assert id(obj2) != out

    def test_fifo_across_interpreters(self, make_interp):
        queue = interpreters.create_queue()
        first, second = make_interp(), make_interp()
        for interp in (first, second):
            interp.prepare_main(queue=queue)
        queue.put(("main", 0))
        first.exec("queue.put(('first', 1)); queue.put(('first', 2))")
        queue.put(("main", 3))
        second.exec("queue.put(('second', 4))")
        first.exec("queue.put(('first', 5))")
        got = [queue.get_nowait() for _ in range(6)]
        assert [n for _, n in got] == list(range(6))
        assert [who for who, _ in got] == ["main", "first", "first", "main", "second", "first"]
        # And a third interpreter reads them in the same order.
        for item in got:
            queue.put(item)
        seen = run_output(second, """
            out.put([queue.get_nowait() for _ in range(6)])
            """)
        assert [tuple(item) for item in seen] == got

    def test_put_get_different_threads(self):
        queue1 = interpreters.create_queue()
        queue2 = interpreters.create_queue()

        def f():
            while True:
                try:
                    obj = queue1.get(timeout=0.1)
                    break
                except interpreters.QueueEmpty:
                    continue
            queue2.put(obj)
        t = threading.Thread(target=f)
        t.start()

        orig = b'spam'
        queue1.put(orig)
        obj = queue2.get(timeout=TIMEOUT)
        join(t)

        assert obj == orig
        assert obj is not orig

    def test_blocking_get_with_fractional_timeout_woken_by_put(self):
        queue = interpreters.create_queue()
        started = threading.Event()
        got = []

        def getter():
            started.set()
            got.append(queue.get(timeout=TIMEOUT + 0.5))

        t = threading.Thread(target=getter)
        t.start()
        started.wait(TIMEOUT)
        queue.put("woken")
        join(t)
        assert got == ["woken"]

    def test_blocking_put_woken_by_get(self):
        queue = interpreters.create_queue(1)
        queue.put("first")
        started = threading.Event()
        errors = []

        def putter():
            started.set()
            try:
                queue.put("second", timeout=TIMEOUT + 0.25)
            except BaseException as exc:
                errors.append(exc)

        t = threading.Thread(target=putter)
        t.start()
        started.wait(TIMEOUT)
        assert queue.get(timeout=TIMEOUT) == "first"
        assert queue.get(timeout=TIMEOUT) == "second"
        join(t)
        assert errors == []


# --------------------------------------------------------------------------------------
# Items whose interpreter was destroyed
# --------------------------------------------------------------------------------------

UNBOUND_ARGS = {
    None: "",
    "UNBOUND": ", unbounditems=interpreters.UNBOUND",
    "UNBOUND_ERROR": ", unbounditems=interpreters.UNBOUND_ERROR",
    "UNBOUND_REMOVE": ", unbounditems=interpreters.UNBOUND_REMOVE",
}


class TestUnbound:

    def common(self, queue, unbound=None, presize=0):
        interp = interpreters.create()
        run_output(interp, f"""
            import subinterp.interpreters as interpreters
            queue = interpreters.Queue({queue.id})
            obj1 = b'spam'
            obj2 = b'eggs'
            queue.put(obj1{UNBOUND_ARGS[unbound]})
            queue.put(obj2{UNBOUND_ARGS[unbound]})
            """)
        assert queue.qsize() == presize + 2

        if presize == 0:
            obj1 = queue.get()
            assert obj1 == b'spam'
            assert queue.qsize() == presize + 1
        return interp

    @pytest.mark.parametrize("unbound", [None, "UNBOUND"])
    def test_put_cleared_with_subinterpreter_replace(self, unbound):
        queue = interpreters.create_queue()
        interp = self.common(queue, unbound)
        interp.close()
        obj1 = queue.get()
        assert obj1 is interpreters.UNBOUND
        assert queue.qsize() == 0
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()

    def test_put_cleared_with_subinterpreter_error(self):
        queue = interpreters.create_queue()
        interp = self.common(queue, "UNBOUND_ERROR")
        interp.close()
        assert queue.qsize() == 1
        with pytest.raises(ItemInterpreterDestroyed):
            queue.get()
        assert queue.qsize() == 0
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()

    def test_put_cleared_with_subinterpreter_remove(self):
        queue = interpreters.create_queue()
        interp = self.common(queue, "UNBOUND_REMOVE")
        interp.close()
        assert queue.qsize() == 0
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()

        queue.put(b'ham', unbounditems=interpreters.UNBOUND_REMOVE)
        assert queue.qsize() == 1
        interp = self.common(queue, "UNBOUND_REMOVE", 1)
        assert queue.qsize() == 3
        queue.put(42, unbounditems=interpreters.UNBOUND_REMOVE)
        assert queue.qsize() == 4
        interp.close()
        assert queue.qsize() == 2
        obj1 = queue.get()
        obj2 = queue.get()
        assert obj1 == b'ham'
        assert obj2 == 42
        assert queue.qsize() == 0
        with pytest.raises(interpreters.QueueEmpty):
            queue.get_nowait()

    @pytest.mark.parametrize("unbounditems, outcome", [
        ("UNBOUND", "marker"), ("UNBOUND_ERROR", "error"), ("UNBOUND_REMOVE", "gone")])
    def test_queue_default_applies(self, unbounditems, outcome):
        queue = interpreters.create_queue(unbounditems=getattr(interpreters, unbounditems))
        interp = interpreters.create()
        interp.prepare_main(queue=queue)
        interp.exec("queue.put('from sub')")
        queue.put("from main")
        interp.close()
        if outcome == "marker":
            assert queue.get_nowait() is interpreters.UNBOUND
        elif outcome == "error":
            with pytest.raises(ItemInterpreterDestroyed):
                queue.get_nowait()
        assert queue.get_nowait() == "from main"
        assert queue.empty()

    def test_owned_interpreter_collected(self):
        # 3.14's tests drop the last reference (`del interp`): the interpreter
        # goes with it, and so do its items.
        import gc
        queue = interpreters.create_queue()
        interp = self.common(queue)
        interp_id = interp.id
        del interp
        gc.collect()
        assert interp_id not in [i.id for i in interpreters.list_all()]
        assert queue.get_nowait() is interpreters.UNBOUND

    def test_put_cleared_with_subinterpreter_mixed(self):
        queue = interpreters.create_queue()
        interp = interpreters.create()
        run_output(interp, f"""
            import subinterp.interpreters as interpreters
            queue = interpreters.Queue({queue.id})
            queue.put(1, unbounditems=interpreters.UNBOUND)
            queue.put(2, unbounditems=interpreters.UNBOUND_ERROR)
            queue.put(3)
            queue.put(4, unbounditems=interpreters.UNBOUND_REMOVE)
            queue.put(5, unbounditems=interpreters.UNBOUND)
            """)
        assert queue.qsize() == 5

        interp.close()
        assert queue.qsize() == 4

        obj1 = queue.get()
        assert obj1 is interpreters.UNBOUND
        assert queue.qsize() == 3

        with pytest.raises(ItemInterpreterDestroyed):
            queue.get()
        assert queue.qsize() == 2

        obj2 = queue.get()
        assert obj2 is interpreters.UNBOUND
        assert queue.qsize() == 1

        obj3 = queue.get()
        assert obj3 is interpreters.UNBOUND
        assert queue.qsize() == 0

    def test_put_cleared_with_subinterpreter_multiple(self):
        queue = interpreters.create_queue()
        interp1 = interpreters.create()
        interp2 = interpreters.create()
        try:
            queue.put(1)
            run_output(interp1, f"""
                import subinterp.interpreters as interpreters
                queue = interpreters.Queue({queue.id})
                obj1 = queue.get()
                queue.put(2, unbounditems=interpreters.UNBOUND)
                queue.put(obj1, unbounditems=interpreters.UNBOUND_REMOVE)
                """)
            run_output(interp2, f"""
                import subinterp.interpreters as interpreters
                queue = interpreters.Queue({queue.id})
                obj2 = queue.get()
                obj1 = queue.get()
                """)
            assert queue.qsize() == 0
            queue.put(3)
            run_output(interp1, """
                queue.put(4, unbounditems=interpreters.UNBOUND)
                # interp closed here
                queue.put(5, unbounditems=interpreters.UNBOUND_REMOVE)
                queue.put(6, unbounditems=interpreters.UNBOUND)
                """)
            run_output(interp2, """
                queue.put(7, unbounditems=interpreters.UNBOUND_ERROR)
                # interp closed here
                queue.put(obj1, unbounditems=interpreters.UNBOUND_ERROR)
                queue.put(obj2, unbounditems=interpreters.UNBOUND_REMOVE)
                queue.put(8, unbounditems=interpreters.UNBOUND)
                """)
            run_output(interp1, """
                queue.put(9, unbounditems=interpreters.UNBOUND_REMOVE)
                queue.put(10, unbounditems=interpreters.UNBOUND)
                """)
            assert queue.qsize() == 10

            obj3 = queue.get()
            assert obj3 == 3
            assert queue.qsize() == 9

            obj4 = queue.get()
            assert obj4 == 4
            assert queue.qsize() == 8

            interp1.close()
            assert queue.qsize() == 6

            # obj5 was removed

            obj6 = queue.get()
            assert obj6 is interpreters.UNBOUND
            assert queue.qsize() == 5

            obj7 = queue.get()
            assert obj7 == 7
            assert queue.qsize() == 4

            interp2.close()
            assert queue.qsize() == 3

            # obj1
            with pytest.raises(ItemInterpreterDestroyed):
                queue.get()
            assert queue.qsize() == 2

            # obj2 was removed

            obj8 = queue.get()
            assert obj8 is interpreters.UNBOUND
            assert queue.qsize() == 1

            # obj9 was removed

            obj10 = queue.get()
            assert obj10 is interpreters.UNBOUND
            assert queue.qsize() == 0
        finally:
            for interp in (interp1, interp2):
                try:
                    interp.close()
                except interpreters.InterpreterNotFoundError:
                    pass

    def test_items_put_by_main_are_never_unbound(self, interp):
        queue = interpreters.create_queue(unbounditems=interpreters.UNBOUND_ERROR)
        queue.put("main", unbounditems=interpreters.UNBOUND_REMOVE)
        interp.prepare_main(queue=queue)  # the queue (and its item) reach the sub-interpreter
        interp.exec("assert queue.qsize() == 1")
        interp.close()
        assert queue.get_nowait() == "main"


# --------------------------------------------------------------------------------------
# Queues between interpreters
# --------------------------------------------------------------------------------------

class TestAcrossInterpreters:

    def test_queue_passed_with_prepare_main(self, interp):
        inbox, outbox = interpreters.create_queue(), interpreters.create_queue()
        interp.prepare_main(inbox=inbox, outbox=outbox)
        inbox.put(21)
        interp.exec(dedent("""
            import subinterp.interpreters as interpreters
            assert isinstance(inbox, interpreters.Queue)
            outbox.put((inbox.id, inbox.get(timeout=60) * 2))
            """))
        assert outbox.get(timeout=TIMEOUT) == (inbox.id, 42)
        assert inbox.empty() and outbox.empty()

    def test_queue_passed_in_a_dict_with_prepare_main(self, interp):
        queue = interpreters.create_queue()
        interp.prepare_main({"queues": {"a": queue, "b": [queue]}})
        interp.exec("queues['a'].put(queues['b'][0] is queues['a'])")
        assert queue.get_nowait() is True

    def test_queue_as_call_argument_and_result(self, interp):
        queue = interpreters.create_queue(3)

        def echo(q):
            import subinterp.interpreters as interpreters
            assert isinstance(q, interpreters.Queue)
            q.put(("seen", q.id, q.maxsize))
            return q

        returned = interp.call(echo, queue)
        assert returned is queue
        assert queue.get_nowait() == ("seen", queue.id, 3)

        def make():
            import subinterp.interpreters as interpreters
            made = interpreters.create_queue(7)
            made.put("inside")
            return made

        made = interp.call(make)
        assert isinstance(made, interpreters.Queue)
        assert made.maxsize == 7
        assert made.get_nowait() == "inside"

    def test_queue_as_keyword_argument(self, interp):
        queue = interpreters.create_queue()
        interp.call(lambda *, target: target.put("kw"), target=queue)
        assert queue.get_nowait() == "kw"

    def test_queue_through_other_queues(self, make_interp):
        hub = interpreters.create_queue()
        payload = interpreters.create_queue()
        first, second = make_interp(), make_interp()
        for interp in (first, second):
            interp.prepare_main(hub=hub)
        hub.put(payload)
        # first gets the queue out of hub, uses it, and passes it on through hub
        first.exec(dedent("""
            q = hub.get(timeout=60)
            q.put("from first")
            hub.put(q)
            """))
        second.exec(dedent("""
            q = hub.get(timeout=60)
            q.put("from second")
            hub.put(("done", q))
            """))
        tag, back = hub.get(timeout=TIMEOUT)
        assert tag == "done"
        assert back is payload
        assert [payload.get_nowait(), payload.get_nowait()] == ["from first", "from second"]

    def test_queue_in_itself(self, interp):
        queue = interpreters.create_queue()
        queue.put(queue)
        interp.prepare_main(queue=queue)
        interp.exec("inner = queue.get_nowait()\nassert inner is queue\ninner.put('ok')")
        assert queue.get_nowait() == "ok"

    def test_blocked_get_in_subinterpreter_woken_by_main(self, interp):
        ready, queue, replies = (interpreters.create_queue() for _ in range(3))

        def wait_for_item(ready, queue, replies):
            ready.put("about to block")
            replies.put(("got", queue.get()))  # no timeout: only a put ends this

        t = interp.call_in_thread(wait_for_item, ready, queue, replies)
        try:
            assert ready.get(timeout=TIMEOUT) == "about to block"
            assert replies.empty()
            queue.put("wake up")
            assert replies.get(timeout=TIMEOUT) == ("got", "wake up")
        finally:
            t.join(TIMEOUT)
            if t.is_alive():
                queue.close()  # wakes the getter, so the interpreter can close
                t.join(TIMEOUT)
        assert not t.is_alive()

    def test_blocked_put_in_subinterpreter_woken_by_get_in_main(self, interp):
        ready = interpreters.create_queue()
        queue = interpreters.create_queue(1)
        queue.put("occupant")

        def put_when_room(ready, queue):
            ready.put("about to block")
            queue.put("from sub")  # full: waits until main takes an item

        t = interp.call_in_thread(put_when_room, ready, queue)
        try:
            assert ready.get(timeout=TIMEOUT) == "about to block"
            assert queue.get(timeout=TIMEOUT) == "occupant"
            assert queue.get(timeout=TIMEOUT) == "from sub"
        finally:
            t.join(TIMEOUT)
            if t.is_alive():
                queue.close()
                t.join(TIMEOUT)
        assert not t.is_alive()

    def test_close_wakes_getter_in_subinterpreter(self, interp):
        ready, queue, replies = (interpreters.create_queue() for _ in range(3))

        def wait_for_item(ready, queue, replies):
            import subinterp._errors as errors
            ready.put("about to block")
            try:
                queue.get()
            except errors.QueueClosedError as exc:
                replies.put(type(exc).__name__)

        t = interp.call_in_thread(wait_for_item, ready, queue, replies)
        assert ready.get(timeout=TIMEOUT) == "about to block"
        queue.close()
        join(t)
        assert replies.get(timeout=TIMEOUT) == "QueueClosedError"
        with pytest.raises(QueueClosedError):
            queue.put(1)

    @pytest.mark.parametrize("producers", [2, 3])
    def test_producer_consumer_pipeline(self, make_interp, producers):
        count = 300
        work = interpreters.create_queue(8)  # small: producers block on a full queue
        results = interpreters.create_queue()

        def produce(work, tag, count):
            for i in range(count):
                work.put((tag, i, f"{tag}:{i}"), timeout=60)
            work.put((tag, None, None), timeout=60)

        def consume(work, results, producers):
            import subinterp.interpreters as interpreters
            me = interpreters.get_current().id
            finished = 0
            while finished < producers:
                tag, i, text = work.get(timeout=60)
                if i is None:
                    finished += 1
                    continue
                assert text == f"{tag}:{i}", text
                results.put((tag, i, i * i, me), timeout=60)
            results.put(None)

        consumer = make_interp()
        threads = [consumer.call_in_thread(consume, work, results, producers)]
        for tag in range(producers):
            threads.append(make_interp().call_in_thread(produce, work, tag, count))

        received = []
        try:
            while (item := results.get(timeout=TIMEOUT)) is not None:
                received.append(item)
        finally:
            for t in threads:
                t.join(TIMEOUT)
        assert not any(t.is_alive() for t in threads)

        assert len(received) == producers * count
        assert {me for *_, me in received} == {consumer.id}
        for tag in range(producers):
            mine = [(i, square) for t, i, square, _ in received if t == tag]
            assert mine == [(i, i * i) for i in range(count)], f"producer {tag}: lost or reordered"
        assert work.empty() and results.empty()

    def test_two_stage_pipeline_between_subinterpreters(self, make_interp):
        # main -> stage A -> stage B -> main, each stage in its own interpreter.
        count = 200
        a_in, a_to_b, b_out = (interpreters.create_queue(4) for _ in range(3))

        def stage(inbox, outbox, factor):
            while (item := inbox.get(timeout=60)) is not None:
                outbox.put(item * factor, timeout=60)
            outbox.put(None, timeout=60)

        stage_a, stage_b = make_interp(), make_interp()
        threads = [stage_a.call_in_thread(stage, a_in, a_to_b, 3),
                   stage_b.call_in_thread(stage, a_to_b, b_out, 5)]
        received = []

        def feed():
            for i in range(count):
                a_in.put(i, timeout=TIMEOUT)
            a_in.put(None, timeout=TIMEOUT)

        feeder = threading.Thread(target=feed)
        feeder.start()
        try:
            while (item := b_out.get(timeout=TIMEOUT)) is not None:
                received.append(item)
        finally:
            for t in threads + [feeder]:
                t.join(TIMEOUT)
        assert not any(t.is_alive() for t in threads + [feeder])
        assert received == [i * 15 for i in range(count)]


# --------------------------------------------------------------------------------------
# What goes through a queue
# --------------------------------------------------------------------------------------

class TestItems:

    def test_memoryview_shares_its_buffer(self, interp):
        queue = interpreters.create_queue()
        original = bytearray(b"hello world")
        queue.put(memoryview(original))
        # A memoryview over Python memory is copied once into shared memory
        # (docs/architecture.md); from then on every interpreter sees one buffer.
        shared = queue.get_nowait()
        assert isinstance(shared, memoryview)
        assert bytes(shared) == b"hello world" and not shared.readonly

        def write(queue):
            view = queue.get(timeout=60)
            assert bytes(view) == b"hello world", bytes(view)
            view[0:5] = b"HELLO"
            queue.put(view)
            return len(view)

        queue.put(shared)
        assert interp.call(write, queue) == len(original)
        assert bytes(shared) == b"HELLO world"  # the sub-interpreter's write, seen here
        back = queue.get_nowait()
        assert bytes(back) == b"HELLO world"
        back[6:] = b"WORLD"
        assert bytes(shared) == b"HELLO WORLD"

    def test_memoryview_shared_through_prepare_main_and_call(self, interp):
        queue = interpreters.create_queue()
        queue.put(memoryview(bytearray(8)))
        buffer = queue.get_nowait()
        interp.prepare_main(buffer=buffer)
        interp.exec("buffer[0] = 7")

        def fill(view, value):
            view[1:] = bytes([value]) * (len(view) - 1)
            return view

        returned = interp.call(fill, buffer, 9)
        assert bytes(buffer) == bytes([7] + [9] * 7)
        assert bytes(returned) == bytes(buffer)

    def test_memoryview_readonly_kept(self, interp):
        queue = interpreters.create_queue()
        queue.put(memoryview(b"read only"))
        interp.prepare_main(queue=queue)
        flags = run_output(interp, """
            view = queue.get_nowait()
            try:
                view[0] = 0
            except TypeError:
                refused = True
            else:
                refused = False
            out.put((view.readonly, refused, bytes(view)))
            """)
        assert flags == (True, True, b"read only")

    @pytest.mark.parametrize("obj", [
        {1, 2, 3},
        frozenset({"a"}),
        1 + 2j,
        bytearray(b"bytes"),
        fractions.Fraction(1, 3),
        decimal.Decimal("1.25"),
        collections.OrderedDict(a=1, b=2),
        collections.Counter("abca"),
        range(3, 10, 2),
        ValueError("boom", 1),
    ], ids=lambda obj: type(obj).__name__)
    def test_non_shareable_objects_go_pickled(self, interp, obj):
        assert not interpreters.is_shareable(obj)
        queue = interpreters.create_queue()
        # in this interpreter: a copy of the same type
        queue.put(obj)
        copy = queue.get_nowait()
        assert type(copy) is type(obj)
        if isinstance(obj, BaseException):
            assert copy.args == obj.args
        else:
            assert copy == obj
        assert copy is not obj

        # and through another interpreter, which sees the real type
        def echo(queue):
            item = queue.get(timeout=60)
            queue.put((type(item).__module__, type(item).__qualname__, item))

        queue.put(obj)
        interp.call(echo, queue)
        module, qualname, back = queue.get_nowait()
        assert (module, qualname) == (type(obj).__module__, type(obj).__qualname__)
        assert type(back) is type(obj)
        if isinstance(obj, BaseException):
            assert back.args == obj.args
        else:
            assert back == obj

    def test_mutable_items_are_copies(self, interp):
        queue = interpreters.create_queue()
        items = [1, [2, 3], {"k": [4]}]
        queue.put(items)
        interp.prepare_main(queue=queue)
        interp.exec("got = queue.get_nowait()\ngot[1].append('sub')\nqueue.put(got)")
        assert queue.get_nowait() == [1, [2, 3, "sub"], {"k": [4]}]
        assert items == [1, [2, 3], {"k": [4]}]

    @pytest.mark.parametrize("obj", [
        None, True, False, 0, -1, 2 ** 100, -2 ** 70, 1.5, float("inf"), "", "héllo \U0001f40d",
        b"\x00\xff", (), (1, ("nested", None)), [], [1, [2]], {}, {"a": {"b": (1,)}, 3: [None]},
    ], ids=repr)
    def test_shareable_values_round_trip_through_subinterpreter(self, interp, obj):
        assert interpreters.is_shareable(obj)
        queue = interpreters.create_queue()
        interp.prepare_main(queue=queue)
        queue.put(obj)
        interp.exec("queue.put(queue.get_nowait())")
        back = queue.get_nowait()
        assert type(back) is type(obj)
        assert back == obj

    def test_markers_are_items_too(self):
        queue = interpreters.create_queue()
        for marker in (interpreters.UNBOUND, interpreters.UNBOUND_ERROR, interpreters.UNBOUND_REMOVE):
            queue.put(marker)
            assert queue.get_nowait() is marker

    def test_unpicklable_object_is_not_shareable(self):
        queue = interpreters.create_queue()

        class Local:
            pass

        for obj in (lambda: 0, Local(), threading.Lock()):
            with pytest.raises(interpreters.NotShareableError):
                queue.put(obj)
            with pytest.raises(ValueError):  # NotShareableError is a ValueError
                queue.put_nowait(obj)
        assert queue.qsize() == 0

    def test_unpickle_failure_in_receiver(self, interp):
        # A class of this interpreter's __main__ pickles here, but the
        # receiving interpreter cannot import it: the get fails there, and
        # the queue stays usable.
        queue = interpreters.create_queue()
        interp.prepare_main(queue=queue)
        interp.exec(dedent("""
            class OnlyHere:
                pass
            queue.put(OnlyHere())
            """))
        with pytest.raises(Exception):
            queue.get_nowait()
        queue.put("after")
        assert queue.get_nowait() == "after"
