// Cross-interpreter queues with Python code: Queue objects in interpreters,
// blocking with the GIL released, close/destroy seen from Python, unbound
// items when the putting interpreter is destroyed, and a stress test of
// Python workers in several interpreters between host producers and
// consumers.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "helpers.hpp"
#include "queue_helpers.hpp"

using namespace subinterp_test;

namespace {

void release(int64_t queue) {
    Err e;
    EXPECT_EQ(subinterp_queue_release(queue, e.out()), SUBINTERP_OK) << e.message();
}

void destroy(int64_t interp) {
    Err e;
    EXPECT_EQ(subinterp_destroy(interp, e.out()), SUBINTERP_OK) << e.message();
}

void put_str(int64_t queue, const std::string& s) {
    Data d = make_str(s);
    put_ok(queue, d.get());
}

// repr() of the next item, or "<none>" if nothing comes in time.
std::string next_repr(int64_t queue, double timeout = 30.0) {
    subinterp_data* item = nullptr;
    Err e;
    const subinterp_status status = subinterp_queue_get(queue, timeout, &item, e.out());
    if (status != SUBINTERP_OK) return "<none: " + std::string(subinterp_status_name(status)) + ">";
    Data owned(item);
    return item ? repr(item) : "<unbound>";
}

// Binds queue values to names in the interpreter's __main__.
void bind(int64_t interp, const std::vector<std::pair<std::string, int64_t>>& names) {
    std::vector<Data> keys, values;
    std::vector<const subinterp_data*> key_ptrs, value_ptrs;
    for (const auto& [name, queue] : names) {
        keys.push_back(make_str(name));
        values.push_back(queue_value(queue));
        key_ptrs.push_back(keys.back().get());
        value_ptrs.push_back(values.back().get());
    }
    Data dict = make_dict(key_ptrs, value_ptrs);
    Err e;
    EXPECT_EQ(subinterp_prepare_main(interp, dict.get(), e.out()), SUBINTERP_OK) << e.message();
}

// Tests that use the main interpreter end by finalizing the runtime: the
// main interpreter's per-interpreter queue state lives until then.
void finalize() {
    Err e;
    EXPECT_EQ(subinterp_runtime_finalize(e.out()), SUBINTERP_OK) << e.message();
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_FINALIZED);
}

// What an exec that must fail raised: "module.qualname" ("" if it did not fail).
struct ExecResult {
    subinterp_status status = -1;
    std::string exception;  // module.qualname for SUBINTERP_ERR_PYTHON
    std::string message;
};

ExecResult exec_result(int64_t interp, const std::string& source) {
    Err e;
    ExecResult result;
    result.status = subinterp_exec(interp, source.c_str(), nullptr, nullptr, e.out());
    if (result.status != SUBINTERP_OK) {
        result.exception = e.exc_module() + "." + e.exc_qualname();
        result.message = e.message() + "\n" + e.traceback();
    }
    return result;
}

}  // namespace

// --- getting queues into and out of Python ------------------------------------------------

TEST(QueuePython, ReceivesQueueThroughPrepareMain) {
    const int64_t interp = create();
    const int64_t q = new_queue(7);
    bind(interp, {{"q", q}});
    exec_ok(interp,
            "import _subinterp\n"
            "assert type(q) is _subinterp.Queue, type(q)\n"
            "assert q.id == " + std::to_string(q) + ", q.id\n"
            "assert q.maxsize == 7\n"
            "assert repr(q) == 'Queue(" + std::to_string(q) + ")', repr(q)\n"
            "q.put('hello from python')\n"
            "q.put((1, 2.5, b'x', None, [True]))\n");
    EXPECT_EQ(queue_size(q), 2u);
    EXPECT_EQ(as_str(get_ok(q).get()), "hello from python");
    Data second = get_ok(q);
    EXPECT_EQ(repr(second.get()), "(1, 2.5, b'x', None, [True])");
    // And the other way: the host puts, Python gets.
    put_int(q, 41);
    EXPECT_EQ(as_int(eval(interp, "q.get() + 1").get()), 42);
    EXPECT_EQ(queue_size(q), 0u);
    destroy(interp);
    EXPECT_TRUE(listed(q));
    release(q);
    EXPECT_FALSE(listed(q));
}

TEST(QueuePython, ReceivesQueueAsCallArgument) {
    const int64_t interp = create();
    exec_ok(interp,
            "def forward(q, items):\n"
            "    for x in items:\n"
            "        q.put(x)\n"
            "    return (q.id, q.qsize())\n");
    const int64_t q = new_queue();
    Data value = queue_value(q);
    Data a = make_int(1), b = make_str("two");
    Data items = make_list({a.get(), b.get()});
    Data args = make_tuple({value.get(), items.get()});
    Data result = call(interp, "forward", args.get());
    EXPECT_EQ(repr(result.get()), "(" + std::to_string(q) + ", 2)");
    EXPECT_EQ(as_int(get_ok(q).get()), 1);
    EXPECT_EQ(as_str(get_ok(q).get()), "two");

    // A queue as a keyword argument, and a queue inside a container.
    exec_ok(interp,
            "def take(*, box):\n"
            "    return box['q'].get_nowait()\n");
    put_str(q, "boxed");
    Data key = make_str("q");
    Data box = make_dict({key.get()}, {value.get()});
    Data box_key = make_str("box");
    Data kwargs = make_dict({box_key.get()}, {box.get()});
    subinterp_data* taken = nullptr;
    Err e;
    ASSERT_OK(subinterp_call(interp, "take", nullptr, kwargs.get(), nullptr, &taken, nullptr, e.out()), e);
    Data owned(taken);
    EXPECT_EQ(as_str(taken), "boxed");
    destroy(interp);
    release(q);
}

TEST(QueuePython, ReturnsQueueCreatedInside) {
    const int64_t interp = create();
    exec_ok(interp,
            "import _subinterp\n"
            "def make():\n"
            "    q = _subinterp.create_queue(5, unbounditems=_subinterp.UNBOUND_REMOVE)\n"
            "    q.put('made inside')\n"
            "    return q\n");
    Data result = call(interp, "make");
    ASSERT_NE(result, nullptr);
    ASSERT_EQ(subinterp_data_get_kind(result.get()), SUBINTERP_DATA_QUEUE);
    const int64_t q = queue_id_of(result.get());
    EXPECT_TRUE(listed(q));
    // The interpreter (and every Python object in it) goes; the value holds on.
    destroy(interp);
    EXPECT_TRUE(listed(q));
    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    ASSERT_EQ(subinterp_queue_get_info(q, &info, nullptr), SUBINTERP_OK);
    EXPECT_EQ(info.maxsize, 5u);
    EXPECT_EQ(info.unbound, SUBINTERP_UNBOUND_REMOVE);
    // Its item was put with UNBOUND_REMOVE by the destroyed interpreter.
    EXPECT_EQ(info.size, 0u);
    put_int(q, 9);
    EXPECT_EQ(as_int(get_ok(q).get()), 9);
    result.reset();  // the last hold
    EXPECT_FALSE(listed(q));
    size_t size = 0;
    EXPECT_EQ(subinterp_queue_size(q, &size, nullptr), SUBINTERP_ERR_NOT_FOUND);
}

TEST(QueuePython, ReturnedQueueKeepsBoundItemsWhileCreatorLives) {
    const int64_t interp = create();
    exec_ok(interp,
            "import _subinterp\n"
            "def make():\n"
            "    q = _subinterp.create_queue()\n"
            "    q.put('kept')\n"
            "    return q\n");
    Data result = call(interp, "make");
    exec_ok(interp, "import gc; gc.collect()");
    const int64_t q = queue_id_of(result.get());
    EXPECT_EQ(as_str(get_ok(q).get()), "kept");
    put_int(q, 1);
    EXPECT_EQ(as_int(get_ok(q).get()), 1);
    destroy(interp);
}

TEST(QueuePython, ImportInIsolatedInterpreter) {
    const int64_t interp = create(nullptr);
    exec_ok(interp,
            "import _subinterp, queue\n"
            "for name in ('Queue', 'create_queue', 'list_queues', 'UNBOUND', 'UNBOUND_ERROR', 'UNBOUND_REMOVE',\n"
            "             'QueueError', 'QueueNotFoundError', 'QueueEmpty', 'QueueFull', 'QueueClosedError',\n"
            "             'ItemInterpreterDestroyed', 'NotShareableError'):\n"
            "    assert hasattr(_subinterp, name), name\n"
            "assert issubclass(_subinterp.QueueError, RuntimeError)\n"
            "assert issubclass(_subinterp.QueueEmpty, queue.Empty)\n"
            "assert issubclass(_subinterp.QueueEmpty, _subinterp.QueueError)\n"
            "assert issubclass(_subinterp.QueueFull, queue.Full)\n"
            "assert issubclass(_subinterp.QueueClosedError, _subinterp.QueueError)\n"
            "assert issubclass(_subinterp.QueueNotFoundError, _subinterp.QueueError)\n"
            "assert issubclass(_subinterp.ItemInterpreterDestroyed, _subinterp.QueueError)\n"
            "q = _subinterp.create_queue(2)\n"
            "assert q in _subinterp.list_queues()\n"
            "assert q.unbounditems is _subinterp.UNBOUND\n"
            "assert not q.closed and q.empty() and not q.full()\n");
    EXPECT_EQ(as_int(eval(interp, "q.id").get()), as_int(eval(interp, "_subinterp.list_queues()[-1].id").get()));
    destroy(interp);
}

TEST(QueuePython, ImportInLegacyInterpreter) {
    subinterp_config legacy;
    ASSERT_EQ(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY), SUBINTERP_OK);
    const int64_t interp = create(&legacy);
    ASSERT_GT(interp, 0);
    const int64_t q = new_queue();
    bind(interp, {{"q", q}});
    exec_ok(interp,
            "import _subinterp, queue\n"
            "assert issubclass(_subinterp.QueueEmpty, queue.Empty)\n"
            "try:\n"
            "    q.get_nowait()\n"
            "except queue.Empty as e:\n"
            "    assert type(e) is _subinterp.QueueEmpty\n"
            "else:\n"
            "    raise AssertionError('no QueueEmpty')\n"
            "q.put('legacy')\n");
    EXPECT_EQ(as_str(get_ok(q).get()), "legacy");
    // An isolated interpreter alongside reaches the same queue.
    const int64_t isolated = create();
    bind(isolated, {{"q", q}});
    exec_ok(interp, "q.put('from legacy')");
    EXPECT_EQ(as_str(eval(isolated, "q.get_nowait()").get()), "from legacy");
    destroy(isolated);
    destroy(interp);
    release(q);
}

TEST(QueuePython, QueueMethodsAndProperties) {
    const int64_t interp = create();
    const int64_t q = new_queue(2, SUBINTERP_UNBOUND_ERROR);
    const int64_t other = new_queue();
    bind(interp, {{"q", q}, {"other", other}});
    exec_ok(interp,
            "import _subinterp\n"
            "assert q.maxsize == 2 and q.unbounditems is _subinterp.UNBOUND_ERROR\n"
            "assert q.qsize() == 0 and q.empty() and not q.full() and not q.closed\n"
            "q.put_nowait(1)\n"
            "q.put(2, block=False)\n"
            "assert q.qsize() == 2 and q.full() and not q.empty()\n"
            "assert q.get_nowait() == 1 and q.get(block=False) == 2\n"
            "assert q != other and q == _subinterp.Queue(q.id) and hash(q) == hash(_subinterp.Queue(q.id))\n"
            "# A queue through a queue, in Python.\n"
            "q.put(other)\n"
            "got = q.get()\n"
            "assert type(got) is _subinterp.Queue and got == other and got.id == other.id\n"
            "got.put('via python')\n"
            "assert other.get() == 'via python'\n"
            "try:\n"
            "    q.put(1, unbounditems='nonsense')\n"
            "except ValueError:\n"
            "    pass\n"
            "else:\n"
            "    raise AssertionError('bad unbounditems accepted')\n"
            "assert q.qsize() == 0\n"
            "try:\n"
            "    q.put(1, True, None, _subinterp.UNBOUND)\n"
            "except TypeError:\n"
            "    pass\n"
            "else:\n"
            "    raise AssertionError('unbounditems accepted as a positional argument')\n"
            "assert q.qsize() == 0\n"
            "try:\n"
            "    _subinterp.Queue(999999)\n"
            "except _subinterp.QueueNotFoundError:\n"
            "    pass\n"
            "else:\n"
            "    raise AssertionError('Queue(999999)')\n");
    // What the host sees of it.
    exec_ok(interp, "q.put(other)\nq.close()\n");
    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    ASSERT_EQ(subinterp_queue_get_info(q, &info, nullptr), SUBINTERP_OK);
    EXPECT_EQ(info.closed, 1);
    EXPECT_EQ(info.size, 1u);
    Data got = get_ok(q);
    EXPECT_EQ(queue_id_of(got.get()), other);
    EXPECT_EQ(as_int(eval(interp, "int(q.closed)").get()), 1);
    destroy(interp);
    release(q);
    release(other);
}

TEST(QueuePython, MainInterpreterCanUseQueues) {
    int64_t main_id = -1;
    ASSERT_EQ(subinterp_main_id(&main_id, nullptr), SUBINTERP_OK);
    const int64_t q = new_queue();
    bind(main_id, {{"q", q}});
    exec_ok(main_id, "import _subinterp\nq.put('from main')\n");
    EXPECT_EQ(as_str(get_ok(q).get()), "from main");
    put_str(q, "to main");
    EXPECT_EQ(as_str(eval(main_id, "q.get(timeout=10)").get()), "to main");
    exec_ok(main_id, "del q");
    release(q);
    finalize();
}

TEST(QueuePython, UnpicklableObjectRaisesNotShareable) {
    const int64_t interp = create();
    const int64_t q = new_queue();
    put_str(q, "before");
    bind(interp, {{"q", q}});
    exec_ok(interp,
            "import _subinterp\n"
            "def attempt(obj):\n"
            "    try:\n"
            "        q.put(obj)\n"
            "    except _subinterp.NotShareableError as e:\n"
            "        assert isinstance(e, ValueError)\n"
            "        return type(e).__name__\n"
            "    return 'no error'\n"
            "results = [attempt(lambda: 1), attempt([1, 2, lambda: 3]), attempt({'k': (x for x in ())})]\n"
            "assert q.qsize() == 1, q.qsize()\n");
    EXPECT_EQ(repr(eval(interp, "results").get()),
              "['NotShareableError', 'NotShareableError', 'NotShareableError']");
    // Uncaught, it reaches the host as the Python exception.
    const ExecResult raised = exec_result(interp, "q.put_nowait(lambda: 2)");
    EXPECT_EQ(raised.status, SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(raised.exception, "_subinterp.NotShareableError") << raised.message;
    EXPECT_EQ(queue_size(q), 1u);
    EXPECT_EQ(as_str(get_ok(q).get()), "before");
    destroy(interp);
    release(q);
}

// --- blocking with the GIL released -------------------------------------------------------

TEST(QueuePythonBlocking, GetterWokenByHostPut) {
    const int64_t interp = create();
    const int64_t q = new_queue(), r = new_queue();
    bind(interp, {{"q", q}, {"r", r}});
    ExecResult result;
    std::thread worker([&] { result = exec_result(interp, "x = q.get()\nr.put(x * 2)"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block (correct either way)
    EXPECT_EQ(queue_size(r), 0u);
    put_int(q, 21);
    Data answer = get_ok(r, 30.0);
    if (!answer) subinterp_queue_destroy(q, nullptr);  // unblock the worker before joining
    worker.join();
    EXPECT_EQ(result.status, SUBINTERP_OK) << result.message;
    ASSERT_NE(answer, nullptr);
    EXPECT_EQ(as_int(answer.get()), 42);
    destroy(interp);
    release(q);
    release(r);
}

TEST(QueuePythonBlocking, GetterInOneInterpreterWokenByPutInAnother) {
    const int64_t a = create(), b = create();
    const int64_t q = new_queue(), r = new_queue();
    bind(a, {{"q", q}, {"r", r}});
    bind(b, {{"q", q}});
    ExecResult got, put;
    std::thread getter([&] { got = exec_result(a, "x = q.get()\nr.put(('a got', x))"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::thread putter([&] { put = exec_result(b, "q.put({'from': 'b', 'n': 7})"); });
    const std::string answer = next_repr(r);
    if (answer.rfind("<none", 0) == 0) subinterp_queue_destroy(q, nullptr);
    putter.join();
    getter.join();
    EXPECT_EQ(put.status, SUBINTERP_OK) << put.message;
    EXPECT_EQ(got.status, SUBINTERP_OK) << got.message;
    EXPECT_EQ(answer, "('a got', {'from': 'b', 'n': 7})");
    destroy(a);
    destroy(b);
    release(q);
    release(r);
}

TEST(QueuePythonBlocking, InterpreterUsableWhileOneOfItsThreadsBlocks) {
    const int64_t a = create(), b = create();
    const int64_t q = new_queue(), r = new_queue(), started = new_queue();
    bind(a, {{"q", q}, {"r", r}, {"started", started}});
    bind(b, {{"r", r}});
    ExecResult blocked;
    std::thread getter([&] { blocked = exec_result(a, "started.put(1)\nx = q.get()\nr.put(('first', x))"); });
    EXPECT_EQ(next_repr(started), "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block in q.get()

    // Another host thread runs code in the same interpreter: it needs A's GIL,
    // which the blocked get must have released.
    ExecResult same, other;
    std::thread([&] { same = exec_result(a, "y = sum(range(10))\nr.put(('second', y))"); }).join();
    EXPECT_EQ(same.status, SUBINTERP_OK) << same.message;
    std::thread([&] { other = exec_result(b, "r.put(('third', 3))"); }).join();
    EXPECT_EQ(other.status, SUBINTERP_OK) << other.message;
    int running = -1;
    EXPECT_EQ(subinterp_is_running(a, &running, nullptr), SUBINTERP_OK);
    EXPECT_EQ(running, 1);  // the getter is still inside its exec

    // The getter is still blocked: its result comes only after the put.
    EXPECT_EQ(next_repr(r), "('second', 45)");
    EXPECT_EQ(next_repr(r), "('third', 3)");
    EXPECT_EQ(queue_size(r), 0u);
    put_str(q, "go");
    EXPECT_EQ(next_repr(r), "('first', 'go')");
    getter.join();
    EXPECT_EQ(blocked.status, SUBINTERP_OK) << blocked.message;
    destroy(a);
    destroy(b);
    release(q);
    release(r);
    release(started);
}

// In the main interpreter a blocked get wakes every 50 ms to run signal
// handlers; it must still wait for the whole timeout, and still be woken by
// a put.
TEST(QueuePythonBlocking, MainInterpreterWaitsThroughItsSignalChecks) {
    int64_t main_id = -1;
    ASSERT_EQ(subinterp_main_id(&main_id, nullptr), SUBINTERP_OK);
    const int64_t q = new_queue(), r = new_queue();
    bind(main_id, {{"q", q}, {"r", r}});
    exec_ok(main_id,
            "import _subinterp, time\n"
            "def timed_get(timeout):\n"
            "    start = time.monotonic_ns()\n"
            "    try:\n"
            "        q.get(timeout=timeout)\n"
            "    except _subinterp.QueueEmpty:\n"
            "        return time.monotonic_ns() - start\n"
            "    return -1\n");
    Data timeout = make_float(0.23);
    Data args = make_tuple({timeout.get()});
    const int64_t elapsed = as_int(call(main_id, "timed_get", args.get()).get());
    EXPECT_GE(elapsed, 230000000);
    EXPECT_LT(elapsed, 5000000000);

    ExecResult result;
    std::thread getter([&] { result = exec_result(main_id, "r.put(('got', q.get()))"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(180));  // several 50 ms slices
    EXPECT_EQ(queue_size(r), 0u);
    put_str(q, "late");
    const std::string answer = next_repr(r);
    if (answer.rfind("<none", 0) == 0) subinterp_queue_destroy(q, nullptr);
    getter.join();
    EXPECT_EQ(result.status, SUBINTERP_OK) << result.message;
    EXPECT_EQ(answer, "('got', 'late')");
    exec_ok(main_id, "del q, r");
    release(q);
    release(r);
    finalize();
}

// A blocked C ABI call made by Python code that holds its GIL (through
// ctypes.PyDLL) lets go of that GIL while it waits.
TEST(QueuePythonBlocking, CAbiWaitFromPythonCodeReleasesTheGil) {
    int64_t main_id = -1;
    ASSERT_EQ(subinterp_main_id(&main_id, nullptr), SUBINTERP_OK);
    const int64_t q = new_queue(), started = new_queue();
    bind(main_id, {{"started", started}});
    exec_ok(main_id,
            std::string("import ctypes\n"
                        "lib = ctypes.PyDLL(") + "'" + SUBINTERP_LIBRARY_PATH + "'" + ")\n"
            "lib.subinterp_queue_get.argtypes = [ctypes.c_int64, ctypes.c_double, ctypes.POINTER(ctypes.c_void_p),\n"
            "                                    ctypes.c_void_p]\n"
            "lib.subinterp_queue_get.restype = ctypes.c_int32\n"
            "lib.subinterp_data_get_int.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64), ctypes.c_void_p]\n"
            "lib.subinterp_data_get_int.restype = ctypes.c_int32\n"
            "lib.subinterp_data_free.argtypes = [ctypes.c_void_p]\n"
            "lib.subinterp_data_free.restype = None\n"
            "def c_get(qid):\n"
            "    started.put(1)\n"
            "    item = ctypes.c_void_p()\n"
            "    status = lib.subinterp_queue_get(qid, -1.0, ctypes.byref(item), None)\n"
            "    value = ctypes.c_int64(-1)\n"
            "    if status == 0:\n"
            "        lib.subinterp_data_get_int(item, ctypes.byref(value), None)\n"
            "        lib.subinterp_data_free(item)\n"
            "    return (status, value.value)\n");
    Data result;
    std::thread getter([&] {
        Data qid = make_int(q);
        Data args = make_tuple({qid.get()});
        result = call(main_id, "c_get", args.get());
    });
    EXPECT_EQ(next_repr(started), "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block in C
    // Needs the main interpreter's GIL, held by the caller of the C function
    // unless the wait released it.
    ExecResult other;
    std::thread([&] { other = exec_result(main_id, "x = 6 * 7"); }).join();
    EXPECT_EQ(other.status, SUBINTERP_OK) << other.message;
    EXPECT_EQ(as_int(eval(main_id, "x").get()), 42);
    put_int(q, 77);
    getter.join();
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(repr(result.get()), "(0, 77)");
    exec_ok(main_id, "del started");
    release(q);
    release(started);
    finalize();
}

TEST(QueuePythonBlocking, CloseWakesPythonGetterAndPutter) {
    const int64_t a = create(), b = create();
    const int64_t empty = new_queue(), full = new_queue(1), r = new_queue(), started = new_queue();
    put_str(full, "occupant");
    bind(a, {{"q", empty}, {"r", r}});
    bind(b, {{"q", full}, {"started", started}});
    ExecResult getter_result, putter_result;
    std::thread getter([&] {
        getter_result = exec_result(a,
                                    "import _subinterp\n"
                                    "try:\n"
                                    "    q.get()\n"
                                    "except _subinterp.QueueClosedError as e:\n"
                                    "    r.put((type(e).__module__, type(e).__name__, isinstance(e, RuntimeError)))\n"
                                    "else:\n"
                                    "    r.put('no exception')\n");
    });
    std::thread putter([&] { putter_result = exec_result(b, "started.put(1)\nq.put('more')"); });
    EXPECT_EQ(next_repr(started), "1");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // An interpreter cannot be destroyed while one of its threads runs (waits).
    EXPECT_EQ(subinterp_destroy(b, nullptr), SUBINTERP_ERR_BUSY);
    EXPECT_EQ(subinterp_queue_close(empty, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_queue_close(full, nullptr), SUBINTERP_OK);
    getter.join();
    putter.join();
    EXPECT_EQ(getter_result.status, SUBINTERP_OK) << getter_result.message;
    EXPECT_EQ(next_repr(r, 0), "('_subinterp', 'QueueClosedError', True)");
    EXPECT_EQ(putter_result.status, SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(putter_result.exception, "_subinterp.QueueClosedError") << putter_result.message;
    // The full queue kept its item; Python drains it, then gets the error.
    EXPECT_EQ(as_str(eval(b, "q.get()").get()), "occupant");
    EXPECT_EQ(exec_result(b, "q.get()").exception, "_subinterp.QueueClosedError");
    EXPECT_EQ(as_int(eval(b, "int(q.closed)").get()), 1);
    destroy(a);
    destroy(b);
    release(empty);
    release(full);
    release(r);
    release(started);
}

TEST(QueuePythonBlocking, DestroyWakesPythonGetter) {
    const int64_t a = create();
    const int64_t q = new_queue();
    bind(a, {{"q", q}});
    ExecResult result;
    std::thread getter([&] { result = exec_result(a, "q.get()"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(subinterp_queue_destroy(q, nullptr), SUBINTERP_OK);
    getter.join();
    EXPECT_EQ(result.status, SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(result.exception, "_subinterp.QueueNotFoundError") << result.message;
    // Every later use of the Queue object fails the same way.
    for (const char* source : {"q.qsize()", "q.put(1)", "q.get_nowait()", "q.close()"}) {
        EXPECT_EQ(exec_result(a, source).exception, "_subinterp.QueueNotFoundError") << source;
    }
    EXPECT_EQ(as_int(eval(a, "q.id").get()), q);  // the object still knows its id
    EXPECT_FALSE(listed(q));
    exec_ok(a, "del q");
    destroy(a);
    EXPECT_EQ(subinterp_queue_release(q, nullptr), SUBINTERP_ERR_NOT_FOUND);
}

TEST(QueuePythonBlocking, DestroyWakesPythonPutter) {
    const int64_t a = create();
    const int64_t q = new_queue(1);
    put_int(q, 0);
    bind(a, {{"q", q}});
    ExecResult result;
    std::thread putter([&] { result = exec_result(a, "q.put(1, timeout=60)"); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(subinterp_queue_destroy(q, nullptr), SUBINTERP_OK);
    putter.join();
    EXPECT_EQ(result.status, SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(result.exception, "_subinterp.QueueNotFoundError") << result.message;
    destroy(a);
}

// --- timeouts ---------------------------------------------------------------------------

TEST(QueuePythonTimeouts, GetTimeoutRaisesQueueEmpty) {
    const int64_t interp = create();
    const int64_t q = new_queue();
    bind(interp, {{"q", q}});
    exec_ok(interp,
            "import _subinterp, queue, time\n"
            "def timed_get(timeout):\n"
            "    start = time.monotonic_ns()\n"
            "    try:\n"
            "        q.get(timeout=timeout)\n"
            "    except _subinterp.QueueEmpty as e:\n"
            "        caught = (type(e).__name__, isinstance(e, queue.Empty))\n"
            "    else:\n"
            "        caught = 'nothing raised'\n"
            "    return (time.monotonic_ns() - start, caught)\n");
    Data timeout = make_float(0.05);
    Data args = make_tuple({timeout.get()});
    Data result = call(interp, "timed_get", args.get());
    const subinterp_data* elapsed = nullptr;
    const subinterp_data* caught = nullptr;
    ASSERT_EQ(subinterp_data_get_item(result.get(), 0, &elapsed, nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_get_item(result.get(), 1, &caught, nullptr), SUBINTERP_OK);
    EXPECT_EQ(repr(caught), "('QueueEmpty', True)");
    EXPECT_GE(as_int(elapsed), 50000000);    // 0.05 s, in ns
    EXPECT_LT(as_int(elapsed), 2000000000);  // loose

    // An int timeout works too; non-blocking forms fail at once.
    Data zero = make_int(0);
    Data zero_args = make_tuple({zero.get()});
    Data zero_result = call(interp, "timed_get", zero_args.get());
    ASSERT_EQ(subinterp_data_get_item(zero_result.get(), 1, &caught, nullptr), SUBINTERP_OK);
    EXPECT_EQ(repr(caught), "('QueueEmpty', True)");
    EXPECT_EQ(exec_result(interp, "q.get(block=False)").exception, "_subinterp.QueueEmpty");
    EXPECT_EQ(exec_result(interp, "q.get_nowait()").exception, "_subinterp.QueueEmpty");
    // With block=False the timeout is ignored.
    const auto start = Clock::now();
    EXPECT_EQ(exec_result(interp, "q.get(False, 30)").exception, "_subinterp.QueueEmpty");
    EXPECT_LT(seconds_since(start), 20.0);
    destroy(interp);
    release(q);
}

TEST(QueuePythonTimeouts, NegativeOrNanTimeoutRaisesValueError) {
    const int64_t interp = create();
    const int64_t q = new_queue(1);
    bind(interp, {{"q", q}});
    EXPECT_EQ(exec_result(interp, "q.get(timeout=-1)").exception, "builtins.ValueError");
    EXPECT_EQ(exec_result(interp, "q.get(timeout=-0.001)").exception, "builtins.ValueError");
    EXPECT_EQ(exec_result(interp, "q.get(timeout=float('nan'))").exception, "builtins.ValueError");
    EXPECT_EQ(exec_result(interp, "q.put(1, timeout=-1)").exception, "builtins.ValueError");
    EXPECT_EQ(exec_result(interp, "q.get(timeout='soon')").exception, "builtins.TypeError");
    EXPECT_EQ(queue_size(q), 0u);  // the refused put added nothing
    destroy(interp);
    release(q);
}

TEST(QueuePythonTimeouts, PutOnFullQueueRaisesQueueFull) {
    const int64_t interp = create();
    const int64_t q = new_queue(2);
    bind(interp, {{"q", q}});
    exec_ok(interp,
            "import _subinterp, queue, time\n"
            "q.put(1)\n"
            "q.put(2)\n"
            "def attempt(how):\n"
            "    start = time.monotonic_ns()\n"
            "    try:\n"
            "        if how == 'block':\n"
            "            q.put(3, block=False)\n"
            "        elif how == 'nowait':\n"
            "            q.put_nowait(3)\n"
            "        else:\n"
            "            q.put(3, timeout=0.05)\n"
            "    except _subinterp.QueueFull as e:\n"
            "        return (type(e).__name__, isinstance(e, queue.Full), time.monotonic_ns() - start)\n"
            "    return ('nothing raised', False, 0)\n");
    for (const char* how : {"block", "nowait", "timeout"}) {
        SCOPED_TRACE(how);
        Data arg = make_str(how);
        Data args = make_tuple({arg.get()});
        Data result = call(interp, "attempt", args.get());
        const subinterp_data* item = nullptr;
        ASSERT_EQ(subinterp_data_get_item(result.get(), 0, &item, nullptr), SUBINTERP_OK);
        EXPECT_EQ(as_str(item), "QueueFull");
        ASSERT_EQ(subinterp_data_get_item(result.get(), 1, &item, nullptr), SUBINTERP_OK);
        EXPECT_EQ(repr(item), "True");
        ASSERT_EQ(subinterp_data_get_item(result.get(), 2, &item, nullptr), SUBINTERP_OK);
        if (std::string(how) == "timeout") {
            EXPECT_GE(as_int(item), 50000000);
            EXPECT_LT(as_int(item), 2000000000);
        }
    }
    EXPECT_EQ(queue_size(q), 2u);
    EXPECT_EQ(as_int(get_ok(q).get()), 1);
    EXPECT_EQ(as_int(get_ok(q).get()), 2);
    destroy(interp);
    release(q);
}

// --- unbound items ----------------------------------------------------------------------

namespace {

enum class SetBy { CQueueDefault, PythonQueueDefault, PerItem };
enum class ReadBy { C, Python };

const char* marker_name(subinterp_unbound policy) {
    switch (policy) {
        case SUBINTERP_UNBOUND_REMOVE: return "_subinterp.UNBOUND_REMOVE";
        case SUBINTERP_UNBOUND_ERROR: return "_subinterp.UNBOUND_ERROR";
        default: return "_subinterp.UNBOUND";
    }
}

const char* policy_name(subinterp_unbound policy) {
    switch (policy) {
        case SUBINTERP_UNBOUND_REMOVE: return "Remove";
        case SUBINTERP_UNBOUND_ERROR: return "Error";
        case SUBINTERP_UNBOUND_REPLACE: return "Replace";
        default: return "Default";
    }
}

// Takes every item with the C ABI: its repr, "<unbound>" for an item
// replaced, "<destroyed>" for SUBINTERP_ERR_UNBOUND. Checks that each get
// consumes one item.
std::string drain_from_c(int64_t q, int64_t destroyed_interp) {
    std::string out = "[";
    size_t left = queue_size(q);
    for (int guard = 0; guard < 100; ++guard) {
        subinterp_data* item = nullptr;
        Err e;
        const subinterp_status status = subinterp_queue_get(q, SUBINTERP_NO_WAIT, &item, e.out());
        if (status == SUBINTERP_ERR_QUEUE_EMPTY) break;
        if (out.size() > 1) out += ", ";
        if (status == SUBINTERP_OK) {
            out += item ? repr(item) : "'<unbound>'";
            subinterp_data_free(item);
        } else if (status == SUBINTERP_ERR_UNBOUND) {
            EXPECT_EQ(e.code(), SUBINTERP_ERR_UNBOUND);
            EXPECT_EQ(item, nullptr);
            EXPECT_NE(e.message().find(std::to_string(destroyed_interp)), std::string::npos) << e.message();
            out += "'<destroyed>'";
        } else {
            out += std::string("<") + subinterp_status_name(status) + ">";
        }
        EXPECT_EQ(queue_size(q), --left);  // consumed, whatever the outcome
    }
    return out + "]";
}

const char* kPythonDrain =
    "import _subinterp\n"
    "def drain():\n"
    "    out = []\n"
    "    for _ in range(100):\n"
    "        try:\n"
    "            x = q.get_nowait()\n"
    "        except _subinterp.QueueEmpty:\n"
    "            break\n"
    "        except _subinterp.ItemInterpreterDestroyed as e:\n"
    "            out.append('<destroyed>')\n"
    "            continue\n"
    "        out.append('<unbound>' if x is _subinterp.UNBOUND else x)\n"
    "    return out\n";

std::ostream& operator<<(std::ostream& os, SetBy set_by) {
    return os << (set_by == SetBy::CQueueDefault        ? "CQueueDefault"
                  : set_by == SetBy::PythonQueueDefault ? "PythonQueueDefault"
                                                        : "PerItem");
}

std::ostream& operator<<(std::ostream& os, ReadBy read_by) { return os << (read_by == ReadBy::C ? "ReadFromC" : "ReadFromPython"); }

// Instantiated as QueuePythonUnbound/PutterDestroyed.Items/<policy>_<set by>_<read by>.
class PutterDestroyed : public ::testing::TestWithParam<std::tuple<subinterp_unbound, SetBy, ReadBy>> {};

}  // namespace

TEST_P(PutterDestroyed, Items) {
    const auto [policy, set_by, read_by] = GetParam();
    const int64_t a = create();  // puts, then is destroyed
    const int64_t b = create();  // puts and survives
    exec_ok(b, kPythonDrain);

    // The queue, with `policy` as its default or not.
    Data held;  // a queue made by Python, held by the host as a value
    int64_t q = -1;
    std::string put_suffix;  // extra arguments to A's puts
    switch (set_by) {
        case SetBy::CQueueDefault: q = new_queue(0, policy); break;
        case SetBy::PythonQueueDefault: {
            exec_ok(b, std::string("def make():\n    return _subinterp.create_queue(unbounditems=") +
                           marker_name(policy) + ")\n");
            held = call(b, "make");
            q = queue_id_of(held.get());
            break;
        }
        case SetBy::PerItem: {
            // A queue default other than `policy`, overridden per item.
            const subinterp_unbound other = policy == SUBINTERP_UNBOUND_REPLACE ? SUBINTERP_UNBOUND_REMOVE
                                            : policy == SUBINTERP_UNBOUND_ERROR  ? SUBINTERP_UNBOUND_REPLACE
                                                                                 : SUBINTERP_UNBOUND_ERROR;
            q = new_queue(0, other);
            put_suffix = std::string(", unbounditems=") + marker_name(policy);
            break;
        }
    }
    ASSERT_GT(q, 0);
    bind(a, {{"q", q}});
    bind(b, {{"q", q}});
    exec_ok(a, "import _subinterp");
    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    ASSERT_EQ(subinterp_queue_get_info(q, &info, nullptr), SUBINTERP_OK);
    if (set_by != SetBy::PerItem) {
        EXPECT_EQ(info.unbound, policy);
        EXPECT_EQ(as_int(eval(b, std::string("int(q.unbounditems is ") + marker_name(policy) + ")").get()), 1);
    }

    put_str(q, "h1");
    exec_ok(a, "q.put('a1'" + put_suffix + ")");
    exec_ok(b, "q.put('b1')");
    exec_ok(a, "q.put_nowait('a2'" + put_suffix + ")");
    put_str(q, "h2");
    exec_ok(b, "q.put('b2')");
    EXPECT_EQ(queue_size(q), 6u);

    destroy(a);
    const bool removed = policy == SUBINTERP_UNBOUND_REMOVE;
    EXPECT_EQ(queue_size(q), removed ? 4u : 6u);

    std::string drained;
    if (read_by == ReadBy::C) {
        drained = drain_from_c(q, a);
    } else {
        Data list = call(b, "drain");
        drained = repr(list.get());
    }
    const char* expected = policy == SUBINTERP_UNBOUND_REPLACE ? "['h1', '<unbound>', 'b1', '<unbound>', 'h2', 'b2']"
                           : policy == SUBINTERP_UNBOUND_ERROR ? "['h1', '<destroyed>', 'b1', '<destroyed>', 'h2', 'b2']"
                                                               : "['h1', 'b1', 'h2', 'b2']";
    EXPECT_EQ(drained, expected);
    EXPECT_EQ(queue_size(q), 0u);

    // The queue itself is unharmed: B and the host keep using it.
    exec_ok(b, "q.put('after')");
    EXPECT_EQ(as_str(get_ok(q).get()), "after");
    destroy(b);
    if (set_by == SetBy::PythonQueueDefault) {
        EXPECT_TRUE(listed(q));  // B's Queue objects are gone; the value holds it
        held.reset();
    } else {
        release(q);
    }
    EXPECT_FALSE(listed(q));
}

INSTANTIATE_TEST_SUITE_P(
    QueuePythonUnbound, PutterDestroyed,
    ::testing::Combine(::testing::Values(SUBINTERP_UNBOUND_REPLACE, SUBINTERP_UNBOUND_ERROR, SUBINTERP_UNBOUND_REMOVE),
                       ::testing::Values(SetBy::CQueueDefault, SetBy::PythonQueueDefault, SetBy::PerItem),
                       ::testing::Values(ReadBy::C, ReadBy::Python)),
    [](const ::testing::TestParamInfo<PutterDestroyed::ParamType>& info) {
        const subinterp_unbound policy = std::get<0>(info.param);
        const SetBy set_by = std::get<1>(info.param);
        const ReadBy read_by = std::get<2>(info.param);
        std::ostringstream os;
        os << policy_name(policy) << "_" << set_by << "_" << read_by;
        return os.str();
    });

TEST(QueuePythonUnboundMixed, PerItemPoliciesInOneQueue) {
    const int64_t a = create();
    const int64_t q = new_queue(0, SUBINTERP_UNBOUND_ERROR);
    bind(a, {{"q", q}});
    exec_ok(a,
            "import _subinterp\n"
            "q.put('default')\n"                                          // the queue's: ERROR
            "q.put('replace', unbounditems=_subinterp.UNBOUND)\n"
            "q.put('remove', unbounditems=_subinterp.UNBOUND_REMOVE)\n"
            "q.put('error', unbounditems=_subinterp.UNBOUND_ERROR)\n"
            "q.put('none', unbounditems=None)\n"                          // None: the queue's
            "q.put_nowait('remove2', unbounditems=_subinterp.UNBOUND_REMOVE)\n");
    put_str(q, "host");
    exec_ok(a, "q.put('last')");  // after the host's item: the queue's default
    EXPECT_EQ(queue_size(q), 8u);
    destroy(a);
    EXPECT_EQ(queue_size(q), 6u);  // the two UNBOUND_REMOVE items went
    EXPECT_EQ(drain_from_c(q, a), "['<destroyed>', '<unbound>', '<destroyed>', '<destroyed>', 'host', '<destroyed>']");
    release(q);
}

// Items removed when their interpreter goes make room in a full queue.
TEST(QueuePythonUnboundMixed, RemovedItemsMakeRoomForABlockedPutter) {
    const int64_t a = create();
    const int64_t q = new_queue(2, SUBINTERP_UNBOUND_REMOVE);
    bind(a, {{"q", q}});
    exec_ok(a, "q.put('a1')\nq.put('a2')\nassert q.full()\n");
    subinterp_status status = -1;
    std::thread putter([&] {
        Data item = make_str("host");
        status = subinterp_queue_put(q, item.get(), 60.0, nullptr);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block (correct either way)
    destroy(a);
    putter.join();
    EXPECT_EQ(status, SUBINTERP_OK);
    EXPECT_EQ(queue_size(q), 1u);
    EXPECT_EQ(as_str(get_ok(q).get()), "host");
    release(q);
}

// An unbound item is dropped at once, with whatever it holds: here the last
// hold on another queue.
TEST(QueuePythonUnboundMixed, UnboundQueueValueReleasesItsQueue) {
    const int64_t a = create();
    const int64_t carrier = new_queue(0, SUBINTERP_UNBOUND_REPLACE);
    const int64_t inner = new_queue();
    bind(a, {{"q", carrier}, {"inner", inner}});
    exec_ok(a, "q.put(inner)\ndel inner\n");
    release(inner);
    EXPECT_TRUE(listed(inner));  // held by A's item
    destroy(a);
    EXPECT_FALSE(listed(inner));
    EXPECT_EQ(queue_size(carrier), 1u);
    subinterp_data* item = reinterpret_cast<subinterp_data*>(0x1);
    EXPECT_EQ(subinterp_queue_get(carrier, SUBINTERP_NO_WAIT, &item, nullptr), SUBINTERP_OK);
    EXPECT_EQ(item, nullptr);  // REPLACE
    release(carrier);
}

// A host buffer shared without copying through Python and a queue: when the
// putting interpreter goes, the unbound item lets go of it, and its release
// callback runs exactly once.
TEST(QueuePythonUnboundMixed, UnboundBufferIsReleased) {
    static char memory[32] = "shared with python";
    ReleaseLog released;
    subinterp_data* buffer = nullptr;
    ASSERT_EQ(subinterp_data_new_buffer_external(memory, sizeof memory, 0, record_release, &released, &buffer, nullptr),
              SUBINTERP_OK);
    const int64_t a = create();
    const int64_t q = new_queue(0, SUBINTERP_UNBOUND_ERROR);
    bind(a, {{"q", q}});
    {
        Data owned(buffer);
        Data key = make_str("m");
        Data names = make_dict({key.get()}, {buffer});
        Err e;
        ASSERT_OK(subinterp_prepare_main(a, names.get(), e.out()), e);
    }
    exec_ok(a, "m[0] = ord('S')\nq.put(m)\nq.put(m[1:4])\nm.release()\ndel m\nimport gc; gc.collect()\n");
    EXPECT_EQ(memory[0], 'S');
    EXPECT_EQ(released.calls, 0);  // the queue's items still hold it
    destroy(a);
    EXPECT_EQ(released.calls, 1);
    EXPECT_EQ(queue_size(q), 2u);
    for (int i = 0; i < 2; ++i) {
        subinterp_data* item = nullptr;
        EXPECT_EQ(subinterp_queue_get(q, SUBINTERP_NO_WAIT, &item, nullptr), SUBINTERP_ERR_UNBOUND);
        EXPECT_EQ(item, nullptr);
    }
    release(q);
    EXPECT_EQ(released.calls, 1);
}

// The putter goes while a host thread is taking its items: every item is
// taken once, those taken before the moment bound and in order, all those
// after it unbound.
TEST(QueuePythonUnboundMixed, PutterDestroyedWhileAHostThreadConsumes) {
    constexpr int kItems = 20000;
    const int64_t a = create();
    const int64_t q = new_queue(0, SUBINTERP_UNBOUND_REPLACE);
    bind(a, {{"q", q}});
    exec_ok(a, "for i in range(" + std::to_string(kItems) + "):\n    q.put(i)\n");
    std::vector<int64_t> taken;  // -1 for an unbound item
    std::atomic<bool> failed{false};
    std::thread consumer([&] {
        for (int i = 0; i < kItems; ++i) {
            subinterp_data* item = nullptr;
            int64_t v = -1;
            if (subinterp_queue_get(q, 30.0, &item, nullptr) != SUBINTERP_OK ||
                (item && subinterp_data_get_int(item, &v, nullptr) != SUBINTERP_OK)) {
                failed = true;
                return;
            }
            subinterp_data_free(item);
            taken.push_back(v);
            // Paced, so that the destroy likely lands halfway (correct anyway).
            if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    destroy(a);
    consumer.join();
    EXPECT_FALSE(failed);
    ASSERT_EQ(taken.size(), static_cast<size_t>(kItems));
    size_t bound = 0;
    while (bound < taken.size() && taken[bound] >= 0) {
        EXPECT_EQ(taken[bound], static_cast<int64_t>(bound));
        ++bound;
    }
    std::printf("[ info     ] %zu of %d items taken before the putter was destroyed\n", bound, kItems);
    EXPECT_EQ(std::count(taken.begin() + static_cast<std::ptrdiff_t>(bound), taken.end(), -1),
              static_cast<std::ptrdiff_t>(kItems - bound));
    EXPECT_EQ(queue_size(q), 0u);
    release(q);
}

TEST(QueuePythonUnboundMixed, GetterInAnotherInterpreterSeesBoundItemsWhilePutterLives) {
    const int64_t a = create(), b = create();
    const int64_t q = new_queue(0, SUBINTERP_UNBOUND_ERROR);
    bind(a, {{"q", q}});
    bind(b, {{"q", q}});
    exec_ok(b, kPythonDrain);
    exec_ok(a, "q.put('x')\nq.put(2)\n");
    EXPECT_EQ(repr(call(b, "drain").get()), "['x', 2]");
    // After B took them, destroying A changes nothing.
    exec_ok(b, "q.put('from b')");
    destroy(a);
    EXPECT_EQ(repr(call(b, "drain").get()), "['from b']");
    destroy(b);
    release(q);
}

// --- stress -------------------------------------------------------------------------------

TEST(QueuePythonStress, PythonWorkersBetweenHostProducersAndConsumers) {
    constexpr int kInterpreters = 4;
    constexpr int kThreadsPerInterpreter = 2;
    constexpr int kWorkers = kInterpreters * kThreadsPerInterpreter;
    constexpr int kProducers = 2;
    constexpr int kConsumers = 2;
    constexpr int64_t kItems = 1000000;
    const auto start = Clock::now();

    const int64_t in = new_queue(1000), out = new_queue(1000);
    std::vector<int64_t> interps;
    for (int i = 0; i < kInterpreters; ++i) {
        interps.push_back(create());
        bind(interps.back(), {{"inq", in}, {"outq", out}});
        exec_ok(interps.back(),
                "counts = {}\n"
                "def work(slot):\n"
                "    n = 0\n"
                "    get = inq.get\n"
                "    put = outq.put\n"
                "    while True:\n"
                "        x = get()\n"
                "        if x is None:\n"
                "            break\n"
                "        put(-x - 1)\n"
                "        n += 1\n"
                "    counts[slot] = n\n");
    }

    std::atomic<int> failures{0};
    std::vector<ExecResult> worker_results(kWorkers);
    std::vector<std::thread> workers;
    for (int w = 0; w < kWorkers; ++w) {
        workers.emplace_back([&, w] {
            worker_results[w] = exec_result(interps[w % kInterpreters], "work(" + std::to_string(w) + ")");
        });
    }
    struct Tally {
        int64_t count = 0;
        uint64_t sum = 0, xr = 0;
        std::vector<int64_t> values;
    };
    std::vector<Tally> tallies(kConsumers);
    std::vector<std::thread> consumers;
    for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&, c] {
            Tally& t = tallies[c];
            t.values.reserve(kItems / kConsumers + 1000);
            while (true) {
                subinterp_data* item = nullptr;
                if (subinterp_queue_get(out, SUBINTERP_WAIT_FOREVER, &item, nullptr) != SUBINTERP_OK || !item) {
                    ++failures;
                    return;
                }
                if (subinterp_data_get_kind(item) == SUBINTERP_DATA_NONE) {
                    subinterp_data_free(item);
                    return;
                }
                int64_t y = 0;
                if (subinterp_data_get_int(item, &y, nullptr) != SUBINTERP_OK || y >= 0) ++failures;
                subinterp_data_free(item);
                const int64_t v = -y - 1;
                ++t.count;
                t.sum += static_cast<uint64_t>(v);
                t.xr ^= static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ULL;
                t.values.push_back(v);
            }
        });
    }
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&, p] {
            for (int64_t v = p; v < kItems; v += kProducers) {
                subinterp_data* d = nullptr;
                if (subinterp_data_new_int(v, &d, nullptr) != SUBINTERP_OK ||
                    subinterp_queue_put(in, d, SUBINTERP_WAIT_FOREVER, nullptr) != SUBINTERP_OK) {
                    ++failures;
                }
                subinterp_data_free(d);
            }
        });
    }
    for (auto& t : producers) t.join();
    Data none = make_none();
    for (int w = 0; w < kWorkers; ++w) put_ok(in, none.get(), SUBINTERP_WAIT_FOREVER);  // one per worker
    for (auto& t : workers) t.join();
    for (int c = 0; c < kConsumers; ++c) put_ok(out, none.get(), SUBINTERP_WAIT_FOREVER);  // after every result
    for (auto& t : consumers) t.join();
    const double elapsed = seconds_since(start);
    std::printf("[ stress   ] %lld items through %d Python workers in %.2f s\n", static_cast<long long>(kItems),
                kWorkers, elapsed);
    RecordProperty("wall_seconds", std::to_string(elapsed));

    EXPECT_EQ(failures, 0);
    for (int w = 0; w < kWorkers; ++w) {
        EXPECT_EQ(worker_results[w].status, SUBINTERP_OK) << "worker " << w << ": " << worker_results[w].message;
    }
    int64_t processed = 0;
    for (const int64_t interp : interps) {
        EXPECT_EQ(as_int(eval(interp, "len(counts)").get()), kThreadsPerInterpreter);
        processed += as_int(eval(interp, "sum(counts.values())").get());
    }
    EXPECT_EQ(processed, kItems);

    int64_t count = 0, out_of_range = 0, duplicates = 0;
    uint64_t sum = 0, xr = 0, expected_sum = 0, expected_xr = 0;
    std::vector<uint8_t> seen(kItems, 0);
    for (const Tally& t : tallies) {
        count += t.count;
        sum += t.sum;
        xr ^= t.xr;
        for (const int64_t v : t.values) {
            if (v < 0 || v >= kItems) {
                ++out_of_range;
            } else if (seen[v]++) {
                ++duplicates;
            }
        }
    }
    for (int64_t v = 0; v < kItems; ++v) {
        expected_sum += static_cast<uint64_t>(v);
        expected_xr ^= static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ULL;
    }
    EXPECT_EQ(count, kItems);
    EXPECT_EQ(sum, expected_sum);
    EXPECT_EQ(xr, expected_xr);
    EXPECT_EQ(out_of_range, 0);
    EXPECT_EQ(duplicates, 0);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 0), 0);  // nothing lost
    EXPECT_EQ(queue_size(in), 0u);
    EXPECT_EQ(queue_size(out), 0u);
    for (const int64_t interp : interps) destroy(interp);
    release(in);
    release(out);
}
