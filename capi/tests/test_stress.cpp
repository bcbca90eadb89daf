// Stress through the C ABI:
//  - 1,000 create/exec/destroy cycles of an isolated interpreter, with the
//    resident set size measured and what the library could leak bounded
//    against CPython's own (leaky) baseline: a leak of a few KB, or of one
//    object, per cycle fails it;
//  - interpreters destroyed while something still refers to them: a host
//    thread blocked on a queue the interpreter uses, a Python thread of the
//    interpreter blocked in Queue.get, items it put still in a queue, idle
//    thread states that other host threads left in it;
//  - the runtime finalized with interpreters, queues with items, buffers and
//    a pool alive, and every later call failing clearly.
//
// Each test runs in its own process (gtest_discover_tests), so the tests that
// finalize the runtime do not affect the others.
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "queue_helpers.hpp"

// AddressSanitizer or ThreadSanitizer (gcc defines __SANITIZE_*__, clang
// answers __has_feature).
#if defined(__SANITIZE_ADDRESS__)
#define SUBINTERP_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SUBINTERP_TEST_ASAN 1
#endif
#endif
#ifndef SUBINTERP_TEST_ASAN
#define SUBINTERP_TEST_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#define SUBINTERP_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SUBINTERP_TEST_TSAN 1
#endif
#endif
#ifndef SUBINTERP_TEST_TSAN
#define SUBINTERP_TEST_TSAN 0
#endif
#define SUBINTERP_TEST_SANITIZED (SUBINTERP_TEST_ASAN || SUBINTERP_TEST_TSAN)

using namespace subinterp_test;

// Every allocation made with C++ new in this process -- the library's own
// objects (interpreter records, errors, data values, queues) but none of
// CPython's, which is C -- counted while live, so the cycles test can bound
// what the library keeps to the block. Not under a sanitizer, whose own
// operator new does its checks.
#if !SUBINTERP_TEST_SANITIZED
namespace {
std::atomic<long> live_new_blocks{0};
std::atomic<long> live_new_bytes{0};
}  // namespace

void* operator new(std::size_t size) {
    void* memory = std::malloc(size ? size : 1);
    if (!memory) throw std::bad_alloc();
    live_new_blocks.fetch_add(1, std::memory_order_relaxed);
    live_new_bytes.fetch_add(static_cast<long>(malloc_usable_size(memory)), std::memory_order_relaxed);
    return memory;
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* memory) noexcept {
    if (!memory) return;
    live_new_blocks.fetch_sub(1, std::memory_order_relaxed);
    live_new_bytes.fetch_sub(static_cast<long>(malloc_usable_size(memory)), std::memory_order_relaxed);
    std::free(memory);
}
#pragma GCC diagnostic pop
void operator delete(void* memory, std::size_t) noexcept { operator delete(memory); }
#endif

namespace {

// Resident set size of this process, in bytes (/proc/self/statm).
long rss_bytes() {
    std::ifstream statm("/proc/self/statm");
    long size = 0, resident = 0;
    statm >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

// Bytes malloc has handed out and not had back (every arena, mmapped chunks
// included): CPython's raw and big allocations and the library's heap.
long malloc_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 info = mallinfo2();
    return static_cast<long>(info.uordblks + info.hblkhd);
#else
    return 0;
#endif
}

void destroy_ok(int64_t id) {
    Err e;
    EXPECT_EQ(subinterp_destroy(id, e.out()), SUBINTERP_OK) << e.message();
}

void release_ok(int64_t queue) {
    Err e;
    EXPECT_EQ(subinterp_queue_release(queue, e.out()), SUBINTERP_OK) << e.message();
}

// Binds `value` to `name` in the interpreter's __main__.
void bind_value(int64_t interp, const char* name, const subinterp_data* value) {
    Data key = make_str(name);
    Data names = make_dict({key.get()}, {value});
    Err e;
    EXPECT_EQ(subinterp_prepare_main(interp, names.get(), e.out()), SUBINTERP_OK) << e.message();
}

void bind_queue(int64_t interp, const char* name, int64_t queue) {
    Data value = queue_value(queue);
    bind_value(interp, name, value.get());
}

// The Python work of one cycle: the same source runs through the library and,
// for the baseline, through CPython's own API.
const char* const kCycleSource = "import sys\nvalue = str(sum(range(100)))\n";

// One create/exec/destroy cycle through the library; false (with a test
// failure) on error.
bool cycle() {
    Err e;
    int64_t id = -1;
    if (subinterp_create(nullptr, &id, e.out()) != SUBINTERP_OK) {
        ADD_FAILURE() << "create: " << e.message();
        return false;
    }
    const bool ran = subinterp_exec(id, kCycleSource, nullptr, nullptr, e.out()) == SUBINTERP_OK;
    if (!ran) ADD_FAILURE() << "exec: " << e.message();
    e.reset();
    if (subinterp_destroy(id, e.out()) != SUBINTERP_OK) {
        ADD_FAILURE() << "destroy: " << e.message();
        return false;
    }
    return ran;
}

// A cycle through more of the library: data both ways, an exception turned
// into an error (its traceback formatted), captured output, a queue handle
// and a library buffer inside the interpreter.
bool busy_cycle(int64_t queue) {
    Err e;
    int64_t id = -1;
    if (subinterp_create(nullptr, &id, e.out()) != SUBINTERP_OK) {
        ADD_FAILURE() << "create: " << e.message();
        return false;
    }
    bool ok = true;
    auto expect = [&](bool condition, const char* what) {
        if (!condition && ok) ADD_FAILURE() << what << ": " << e.message();
        ok = ok && condition;
        e.reset();
    };
    void* memory = nullptr;
    subinterp_data* buffer = nullptr;
    expect(subinterp_data_new_buffer(64, &memory, &buffer, e.out()) == SUBINTERP_OK, "buffer");
    if (memory) std::memset(memory, 'b', 64);
    Data owned_buffer(buffer);
    Data q = queue_value(queue);
    Data k1 = make_str("q"), k2 = make_str("m"), k3 = make_str("items");
    Data one = make_int(1), text = make_str("two"), blob = make_bytes("three");
    Data items = make_list({one.get(), text.get(), blob.get()});
    Data names = make_dict({k1.get(), k2.get(), k3.get()}, {q.get(), buffer, items.get()});
    expect(subinterp_prepare_main(id, names.get(), e.out()) == SUBINTERP_OK, "prepare_main");
    subinterp_run_options capture;
    subinterp_run_options_init(&capture);
    capture.flags = SUBINTERP_RUN_CAPTURE_STDOUT | SUBINTERP_RUN_CAPTURE_STDERR;
    subinterp_output* output = nullptr;
    expect(subinterp_exec(id,
                          "print('hello', items)\n"
                          "q.put((bytes(m[:4]), items, {'k': [1.5, None, True]}))\n"
                          "class Custom:\n    pass\n",
                          &capture, &output, e.out()) == SUBINTERP_OK,
           "exec");
    subinterp_output_free(output);
    subinterp_data* result = nullptr;
    expect(subinterp_call(id, "json:loads", nullptr, nullptr, nullptr, &result, nullptr, e.out()) ==
               SUBINTERP_ERR_PYTHON,
           "call that raises");
    subinterp_data_free(result);
    result = nullptr;
    expect(subinterp_call(id, "Custom", nullptr, nullptr, nullptr, &result, nullptr, e.out()) == SUBINTERP_OK,
           "call returning a pickled object");
    subinterp_data_free(result);
    subinterp_data* item = nullptr;
    expect(subinterp_queue_get(queue, SUBINTERP_NO_WAIT, &item, e.out()) == SUBINTERP_OK && item, "queue get");
    subinterp_data_free(item);
    if (subinterp_destroy(id, e.out()) != SUBINTERP_OK) {
        ADD_FAILURE() << "destroy: " << e.message();
        return false;
    }
    return ok;
}

// CPython's own cost of the same cycle, without the library: the C API
// called directly (libpython's symbols are global once the runtime runs).
// CPython 3.12.1 and 3.13.0 keep megabytes per isolated interpreter after
// Py_EndInterpreter (python/cpython#110411: the interned strings and other
// blocks still allocated at the end keep their obmalloc arenas, and the
// objects of 512 bytes or more that malloc holds, forever), so the library's
// figures are compared with this baseline.
struct CPythonApi {
    struct InterpreterConfig {  // PyInterpreterConfig of 3.12 and 3.13
        int use_main_obmalloc, allow_fork, allow_exec, allow_threads, allow_daemon_threads,
            check_multi_interp_extensions, gil;
    };
    struct Status {  // PyStatus
        int type;
        const char* func;
        const char* err_msg;
        int exitcode;
    };
    using NewInterpreter = Status (*)(void**, const InterpreterConfig*);
    using RunString = int (*)(const char*);
    using EndInterpreter = void (*)(void*);

    NewInterpreter new_interpreter = reinterpret_cast<NewInterpreter>(dlsym(RTLD_DEFAULT, "Py_NewInterpreterFromConfig"));
    RunString run = reinterpret_cast<RunString>(dlsym(RTLD_DEFAULT, "PyRun_SimpleString"));
    EndInterpreter end = reinterpret_cast<EndInterpreter>(dlsym(RTLD_DEFAULT, "Py_EndInterpreter"));

    bool loaded() const { return new_interpreter && run && end; }

    // Called on a thread with no Python thread state (a host thread), as the
    // library does; Py_EndInterpreter leaves none.
    bool cycle() const {
        const InterpreterConfig isolated{0, 0, 0, 1, 0, 1, 2};
        void* tstate = nullptr;
        const Status status = new_interpreter(&tstate, &isolated);
        if (status.type != 0 || !tstate) return false;
        const bool ok = run(kCycleSource) == 0;
        end(tstate);
        return ok;
    }
};

double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// sys.getallocatedblocks() in the main interpreter after a collection: the
// blocks allocated in every interpreter plus those destroyed interpreters
// left behind (CPython counts them as leaked).
long allocated_blocks() {
    exec_ok(0, "import gc, sys\ngc.collect()\n_stress_blocks = sys.getallocatedblocks()\n");
    Data blocks = call(0, "_stress_blocks.__int__");
    return blocks ? static_cast<long>(as_int(blocks.get())) : -1;
}

// What one stretch of cycles cost: growth per cycle.
struct Growth {
    double rss = 0, heap = 0, blocks = 0, seconds = 0;
    long new_blocks = 0, new_bytes = 0;  // the library's C++ heap, in total
};

template <typename Cycle>
Growth measure(int cycles, Cycle&& one_cycle) {
    const long blocks = allocated_blocks();
    const long rss = rss_bytes();
    const long heap = malloc_in_use();
#if !SUBINTERP_TEST_SANITIZED
    const long new_blocks = live_new_blocks.load();
    const long new_bytes = live_new_bytes.load();
#endif
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < cycles; ++i) {
        if (!one_cycle()) {
            ADD_FAILURE() << "cycle " << i << " failed";
            break;
        }
    }
    Growth growth;
    growth.seconds = seconds(start);
#if !SUBINTERP_TEST_SANITIZED
    growth.new_blocks = live_new_blocks.load() - new_blocks;
    growth.new_bytes = live_new_bytes.load() - new_bytes;
#endif
    growth.rss = static_cast<double>(rss_bytes() - rss) / cycles;
    growth.heap = static_cast<double>(malloc_in_use() - heap) / cycles;
    growth.blocks = static_cast<double>(allocated_blocks() - blocks) / cycles;
    return growth;
}

}  // namespace

// --- 1. create/destroy cycles -----------------------------------------------------------

// 1,000 cycles of create + exec + destroy of an isolated interpreter, after
// a warm-up (CPython's process-wide caches, malloc's arenas), then the same
// Python work through CPython's own API (the baseline), then cycles that use
// more of the library (data both ways, errors, output capture, queues,
// buffers). Printed: resident size after the warm-up and after the cycles,
// growth per cycle, and CPython's own growth per cycle.
//
// CPython 3.12.1/3.13.0 keep about 1.7 MiB of resident memory per isolated
// interpreter (more when it imported more) whatever the library does
// (python/cpython#110411): an absolute bound is impossible. That leak is deterministic, so the library is bounded
// against the baseline, per cycle, on each way it could leak:
//  - Python objects: blocks left behind at most 1 above CPython's (measured:
//    equal), so one leaked object per cycle fails;
//  - malloc'd memory (thread and interpreter states, the library's heap, big
//    Python objects): at most 512 bytes above CPython's (measured: -13 to
//    +129);
//  - the library's own C++ heap: at most 64 blocks and 64 KiB more after all
//    cycles, busy ones included (measured: 0): one leaked object per cycle
//    fails;
//  - resident size: at most 10% above CPython's. Looser, because which
//    obmalloc pools CPython's leaked blocks keep alive depends on where they
//    were allocated, which differs between the library's exec and
//    PyRun_SimpleString (measured per cycle, with equal blocks and malloc:
//    -68 KB to -11 KB on 3.13.0, +62 KB to +78 KB on 3.12.1, i.e. -4% to
//    +5%). Any leak of the library's own goes through one of the three exact
//    channels above.
// Under AddressSanitizer (or ThreadSanitizer) these sizes mean nothing
// (shadow memory, quarantine, its own operator new): fewer cycles and no
// bound; ASan's leak checker covers the library's leaks there.
TEST(Stress, ThousandCreateDestroyCyclesKeepMemoryBounded) {
    constexpr int kWarmUp = 20;
    constexpr int kCycles = SUBINTERP_TEST_SANITIZED ? 300 : 1000;
    constexpr int kBaselineCycles = 100;
    constexpr int kBusyCycles = SUBINTERP_TEST_SANITIZED ? 20 : 50;

    const int64_t queue = new_queue();
    for (int i = 0; i < kWarmUp; ++i) {
        ASSERT_TRUE(cycle()) << "warm-up cycle " << i;
        ASSERT_TRUE(busy_cycle(queue)) << "warm-up busy cycle " << i;
    }
    const long rss_warm = rss_bytes();
    const Growth library = measure(kCycles, cycle);
    const long rss_after = rss_bytes();
    const Growth busy = measure(kBusyCycles, [&] { return busy_cycle(queue); });
    release_ok(queue);

    std::printf("[ info     ] CPython %s%s: %d cycles in %.2f s (%.2f ms each)\n", subinterp_python_version_string(),
                SUBINTERP_TEST_ASAN ? " (ASan)" : SUBINTERP_TEST_TSAN ? " (TSan)" : "", kCycles, library.seconds,
                1000.0 * library.seconds / kCycles);
    std::printf("[ info     ] RSS after warm-up %.1f MiB, after %d cycles %.1f MiB: %+.0f bytes per cycle "
                "(malloc %+.0f, Python blocks %+.1f per cycle)\n",
                rss_warm / 1048576.0, kCycles, rss_after / 1048576.0, library.rss, library.heap, library.blocks);
    std::printf("[ info     ] %d busy cycles in %.2f s: RSS %+.0f bytes per cycle\n", kBusyCycles, busy.seconds,
                busy.rss);
    // Nothing is left behind: the list holds only the main interpreter.
    size_t count = 0;
    Err e;
    ASSERT_OK(subinterp_list(nullptr, 0, &count, e.out()), e);
    EXPECT_EQ(count, 1u);
    if (SUBINTERP_TEST_SANITIZED) {
        std::printf("[ info     ] sanitizer build: no memory bound (see the comment)\n");
        return;
    }
    std::printf("[ info     ] library's C++ heap: %+ld blocks, %+ld bytes over the %d cycles; "
                "%+ld blocks, %+ld bytes over the %d busy cycles\n",
                library.new_blocks, library.new_bytes, kCycles, busy.new_blocks, busy.new_bytes, kBusyCycles);
    EXPECT_LT(library.new_blocks, 64);
    EXPECT_LT(library.new_bytes, 64 * 1024);
    EXPECT_LT(busy.new_blocks, 64);
    EXPECT_LT(busy.new_bytes, 64 * 1024);

    // CPython alone, the same Python work.
    const CPythonApi api;
    ASSERT_TRUE(api.loaded());
    for (int i = 0; i < kWarmUp; ++i) ASSERT_TRUE(api.cycle()) << "baseline warm-up " << i;
    const Growth cpython = measure(kBaselineCycles, [&] { return api.cycle(); });
    std::printf("[ info     ] CPython alone: %d cycles in %.2f s (%.2f ms each): RSS %+.0f bytes per cycle "
                "(malloc %+.0f, Python blocks %+.1f per cycle)\n",
                kBaselineCycles, cpython.seconds, 1000.0 * cpython.seconds / kBaselineCycles, cpython.rss,
                cpython.heap, cpython.blocks);
    std::printf("[ info     ] library minus CPython, per cycle: RSS %+.0f bytes, malloc %+.0f bytes, "
                "Python blocks %+.1f\n",
                library.rss - cpython.rss, library.heap - cpython.heap, library.blocks - cpython.blocks);
    EXPECT_LT(library.rss, cpython.rss * 1.10);
    EXPECT_LT(library.heap, cpython.heap + 512);
    EXPECT_LE(library.blocks, cpython.blocks + 1);
}

// --- 2. destroying an interpreter that others still refer to ------------------------------

namespace {

struct ExecResult {
    subinterp_status status = -1;
    std::string exception;  // qualname, for SUBINTERP_ERR_PYTHON
    std::string message;
};

ExecResult exec_result(int64_t interp, const std::string& source) {
    Err e;
    ExecResult result;
    result.status = subinterp_exec(interp, source.c_str(), nullptr, nullptr, e.out());
    if (result.status != SUBINTERP_OK) {
        result.exception = e.exc_qualname();
        result.message = e.message() + "\n" + e.traceback();
    }
    return result;
}

// A host thread blocked in subinterp_queue_get; records how it ended.
class HostGetter {
public:
    HostGetter(int64_t queue, double timeout) {
        thread_ = std::thread([this, queue, timeout] {
            subinterp_data* item = nullptr;
            Err e;
            const auto start = std::chrono::steady_clock::now();
            status_ = subinterp_queue_get(queue, timeout, &item, e.out());
            waited_ = seconds(start);
            message_ = e.message();
            item_.reset(item);
            done_ = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block (correct either way)
    }
    ~HostGetter() {
        if (thread_.joinable()) thread_.join();
    }
    bool done() const { return done_; }
    void join() { thread_.join(); }
    subinterp_status status() const { return status_; }
    double waited() const { return waited_; }
    const std::string& message() const { return message_; }
    const subinterp_data* item() const { return item_.get(); }

private:
    std::thread thread_;
    std::atomic<bool> done_{false};
    subinterp_status status_ = -1;
    double waited_ = 0;
    std::string message_;
    Data item_;
};

}  // namespace

// A host thread waits on a queue the interpreter uses (the host holds the
// queue too): destroying the interpreter does not wait for it, does not wake
// it, and the queue goes on working.
TEST(DestroyWhile, AHostThreadWaitsOnAQueueItUses) {
    const int64_t a = create();
    const int64_t q = new_queue();
    bind_queue(a, "q", q);
    exec_ok(a, "q.put('before')\n");
    EXPECT_EQ(as_str(get_ok(q).get()), "before");
    HostGetter getter(q, 30.0);
    const auto start = std::chrono::steady_clock::now();
    destroy_ok(a);
    EXPECT_LT(seconds(start), 5.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(getter.done()) << "the waiter was woken: " << subinterp_status_name(getter.status());
    put_int(q, 7);
    getter.join();
    ASSERT_EQ(getter.status(), SUBINTERP_OK) << getter.message();
    EXPECT_EQ(as_int(getter.item()), 7);
    EXPECT_EQ(subinterp_exec(a, "pass", nullptr, nullptr, nullptr), SUBINTERP_ERR_NOT_FOUND);
    release_ok(q);
}

// The interpreter held the queue's only hold (a Queue object it created):
// destroying it destroys the queue, and the host thread waiting on it wakes
// at once with SUBINTERP_ERR_NOT_FOUND instead of waiting out its timeout.
TEST(DestroyWhile, AHostThreadWaitsOnAQueueOnlyItHolds) {
    const int64_t a = create();
    exec_ok(a, "import _subinterp\nq = _subinterp.create_queue()\nqid = q.id\n");
    const int64_t q = as_int(eval(a, "qid").get());
    ASSERT_TRUE(listed(q));
    HostGetter getter(q, 30.0);
    destroy_ok(a);
    getter.join();
    EXPECT_EQ(getter.status(), SUBINTERP_ERR_NOT_FOUND) << getter.message();
    EXPECT_LT(getter.waited(), 10.0);
    EXPECT_FALSE(listed(q));
}

// A thread of the interpreter is blocked in Queue.get (inside an exec): the
// interpreter is running, so destroy refuses with SUBINTERP_ERR_BUSY and
// changes nothing; once the wait ends the exec returns and destroy succeeds.
TEST(DestroyWhile, ItsThreadWaitsInQueueGet) {
    const int64_t a = create();
    const int64_t q = new_queue(), started = new_queue();
    bind_queue(a, "q", q);
    bind_queue(a, "started", started);
    ExecResult blocked;
    std::thread runner([&] { blocked = exec_result(a, "started.put(1)\nx = q.get()\n"); });
    get_ok(started, 30.0);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (int attempt = 0; attempt < 3; ++attempt) {
        Err e;
        EXPECT_EQ(subinterp_destroy(a, e.out()), SUBINTERP_ERR_BUSY);
        EXPECT_NE(e.message().find("running"), std::string::npos) << e.message();
    }
    int running = 0;
    EXPECT_EQ(subinterp_is_running(a, &running, nullptr), SUBINTERP_OK);
    EXPECT_EQ(running, 1);
    Data go = make_str("go");
    put_ok(q, go.get());
    runner.join();
    EXPECT_EQ(blocked.status, SUBINTERP_OK) << blocked.message;
    EXPECT_EQ(as_str(eval(a, "x").get()), "go");
    destroy_ok(a);
    release_ok(q);
    release_ok(started);
}

// Items the interpreter put are still in a queue when it is destroyed. The
// per-policy semantics are covered by QueuePythonUnbound/PutterDestroyed.*
// (test_queues_python.cpp); this is the default a host gets with NULL
// options: REPLACE. Each such item comes back as SUBINTERP_OK with a NULL
// item (Python: _subinterp.UNBOUND), in its place in the FIFO, whatever it
// was (here a str and a pickled instance of a class only it had); the
// host's items are untouched.
TEST(DestroyWhile, ItemsItPutAreStillInAQueue) {
    const int64_t a = create(), b = create();
    int64_t q = -1;
    Err e;
    ASSERT_OK(subinterp_queue_create(nullptr, &q, e.out()), e);
    bind_queue(a, "q", q);
    bind_queue(b, "q", q);
    exec_ok(a, "class OnlyHere:\n    pass\nq.put('a1')\nq.put(OnlyHere())\n");
    put_int(q, 1);
    exec_ok(a, "q.put('a2')\n");
    destroy_ok(a);
    EXPECT_EQ(queue_size(q), 4u);
    for (int i = 0; i < 2; ++i) {
        subinterp_data* item = reinterpret_cast<subinterp_data*>(0x1);
        EXPECT_EQ(subinterp_queue_get(q, SUBINTERP_NO_WAIT, &item, e.out()), SUBINTERP_OK) << e.message();
        EXPECT_EQ(item, nullptr) << "item " << i << " should be unbound";
    }
    EXPECT_EQ(as_int(get_ok(q).get()), 1);
    // Another interpreter sees the marker.
    exec_ok(b, "import _subinterp\nassert q.get_nowait() is _subinterp.UNBOUND\nassert q.empty()\n");
    destroy_ok(b);
    release_ok(q);
}

// Several host threads called into the interpreter (each left an idle thread
// state in it) and stay alive; another thread destroys it. Their later calls
// get SUBINTERP_ERR_NOT_FOUND, they keep working with other interpreters, and
// they exit without trouble. Then threads that exit leave idle states in a
// second interpreter, new threads (often given the same thread ids) use it,
// and it is destroyed too.
TEST(DestroyWhile, OtherHostThreadsHaveIdleThreadStatesInIt) {
    constexpr int kThreads = 4;
    const int64_t a = create(), b = create();
    exec_ok(a, "hits = 0");
    exec_ok(b, "hits = 0");
    std::atomic<int> ready{0};
    std::atomic<bool> destroyed{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            auto check = [&](bool condition) {
                if (!condition) failures.fetch_add(1);
            };
            check(subinterp_exec(a, "hits += 1", nullptr, nullptr, nullptr) == SUBINTERP_OK);
            ready.fetch_add(1);
            while (!destroyed) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            Err e;
            check(subinterp_exec(a, "hits += 1", nullptr, nullptr, e.out()) == SUBINTERP_ERR_NOT_FOUND);
            check(e.message().find(std::to_string(a)) != std::string::npos);
            subinterp_data* result = nullptr;
            check(subinterp_call(a, "len", nullptr, nullptr, nullptr, &result, nullptr, nullptr) ==
                  SUBINTERP_ERR_NOT_FOUND);
            check(result == nullptr);
            int running = 0;
            check(subinterp_is_running(a, &running, nullptr) == SUBINTERP_ERR_NOT_FOUND);
            check(subinterp_destroy(a, nullptr) == SUBINTERP_ERR_NOT_FOUND);
            check(subinterp_exec(b, "hits += 1", nullptr, nullptr, nullptr) == SUBINTERP_OK);
        });
    }
    while (ready < kThreads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    EXPECT_EQ(as_int(eval(a, "hits").get()), kThreads);
    std::thread([&] { destroy_ok(a); }).join();
    destroyed = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(as_int(eval(b, "hits").get()), kThreads);

    // B now holds idle states of threads that have exited.
    for (int round = 0; round < 3; ++round) {
        std::vector<std::thread> next;
        for (int t = 0; t < kThreads; ++t) {
            next.emplace_back([&] {
                if (subinterp_exec(b, "hits += 1", nullptr, nullptr, nullptr) != SUBINTERP_OK) failures.fetch_add(1);
            });
        }
        for (auto& t : next) t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(as_int(eval(b, "hits").get()), 4 * kThreads);
    destroy_ok(b);
}

// --- 3. finalizing with everything alive -----------------------------------------------------

// Interpreters (isolated and legacy, with idle thread states of live host
// threads), queues with items from the host and from interpreters, a queue
// only an interpreter holds, a host thread waiting on a queue, buffers (one
// held by the host and shared into an interpreter, one held only by
// Python), a pool and a Queue object in the main interpreter: finalize
// tears it all down. Afterwards every call that needs Python fails with
// SUBINTERP_ERR_RUNTIME naming the finalize; queues and data, which need no
// Python, keep working, and the items of destroyed interpreters follow the
// unbound policies. (Its own process: see the top of the file.)
TEST(FinalizeWith, EverythingAlive) {
    subinterp_config legacy;
    ASSERT_EQ(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY), SUBINTERP_OK);
    const int64_t a = create();
    const int64_t b = create(&legacy);
    Err e;

    // Host threads that leave idle thread states in A and call again later.
    constexpr int kThreads = 3;
    std::atomic<int> ready{0};
    std::atomic<bool> finalized{false};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            if (subinterp_exec(a, "x = 1", nullptr, nullptr, nullptr) != SUBINTERP_OK) failures.fetch_add(1);
            ready.fetch_add(1);
            while (!finalized) std::this_thread::sleep_for(std::chrono::milliseconds(1));
            Err late;
            if (subinterp_exec(a, "x = 2", nullptr, nullptr, late.out()) != SUBINTERP_ERR_RUNTIME) failures.fetch_add(1);
            if (late.message().find("finalized") == std::string::npos) failures.fetch_add(1);
        });
    }
    while (ready < kThreads) std::this_thread::sleep_for(std::chrono::milliseconds(1));

    // Queues: mixed items, an interpreter-only queue, a waiter.
    const int64_t mixed = new_queue();  // REPLACE by default
    const int64_t waited_on = new_queue();
    bind_queue(a, "q", mixed);
    bind_queue(b, "q", mixed);
    put_int(mixed, 1);
    exec_ok(a, "q.put('from a')\n");
    exec_ok(b, "import _subinterp\nq.put('from b', unbounditems=_subinterp.UNBOUND_ERROR)\n");
    put_int(mixed, 2);
    exec_ok(a, "import _subinterp\nmine = _subinterp.create_queue()\nmine.put('kept by a')\nmine_id = mine.id\n");
    const int64_t only_a = as_int(eval(a, "mine_id").get());
    bind_queue(0, "main_q", mixed);  // a Queue object in the main interpreter
    HostGetter getter(waited_on, 60.0);

    // Buffers: library memory held by the host and shared into A; host
    // memory held only by B's memoryview; host memory held by both.
    void* memory = nullptr;
    subinterp_data* raw = nullptr;
    ASSERT_OK(subinterp_data_new_buffer(16, &memory, &raw, e.out()), e);
    Data library_buffer(raw);
    std::memset(memory, 0, 16);
    bind_value(a, "m", library_buffer.get());
    exec_ok(a, "m[:5] = b'hello'\n");
    static char python_only_memory[8] = "python";
    static char shared_memory[8] = "shared";
    ReleaseLog python_only_log, shared_log;
    {
        subinterp_data* ext = nullptr;
        ASSERT_OK(subinterp_data_new_buffer_external(python_only_memory, sizeof python_only_memory, 0, record_release,
                                                     &python_only_log, &ext, e.out()),
                  e);
        Data owned(ext);
        bind_value(b, "held", ext);
    }
    subinterp_data* ext = nullptr;
    ASSERT_OK(subinterp_data_new_buffer_external(shared_memory, sizeof shared_memory, 1, record_release, &shared_log,
                                                 &ext, e.out()),
              e);
    Data shared_buffer(ext);
    bind_value(a, "ro", shared_buffer.get());
    bind_value(b, "ro", shared_buffer.get());
    EXPECT_EQ(python_only_log.calls, 0);

    // A pool with a finished and a queued-then-finished task.
    subinterp_pool_options opts;
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 1;
    opts.init_source = "def sq(x):\n    return x * x\n";
    subinterp_pool* pool = nullptr;
    ASSERT_OK(subinterp_pool_create(&opts, &pool, e.out()), e);
    Data four = make_int(4);
    Data args = make_tuple({four.get()});
    subinterp_data* squared = nullptr;
    ASSERT_OK(subinterp_pool_call(pool, "sq", args.get(), nullptr, nullptr, &squared, nullptr, e.out()), e);
    EXPECT_EQ(as_int(squared), 16);
    subinterp_data_free(squared);
    subinterp_future* future = nullptr;
    ASSERT_OK(subinterp_pool_submit(pool, "sq", args.get(), nullptr, nullptr, SUBINTERP_NO_WAIT, &future, e.out()), e);
    ASSERT_OK(subinterp_future_wait(future, 30.0, e.out()), e);

    // Finalize.
    ASSERT_OK(subinterp_runtime_finalize(e.out()), e);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_FINALIZED);
    finalized = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures.load(), 0) << "threads with idle states did not get SUBINTERP_ERR_RUNTIME";

    // Every call that needs Python fails clearly.
    auto expect_runtime = [](subinterp_status status, const Err& err, const char* what) {
        EXPECT_EQ(status, SUBINTERP_ERR_RUNTIME) << what;
        EXPECT_NE(err.message().find("finalized"), std::string::npos) << what << ": " << err.message();
    };
    {
        Err x;
        int64_t id = -1;
        const subinterp_status status = subinterp_create(nullptr, &id, x.out());
        expect_runtime(status, x, "create");
        EXPECT_EQ(id, -1);
    }
    for (const int64_t id : {a, b, int64_t{0}}) {
        Err x;
        subinterp_status status = subinterp_exec(id, "pass", nullptr, nullptr, x.out());
        expect_runtime(status, x, "exec");
        Err y;
        subinterp_data* result = nullptr;
        status = subinterp_call(id, "len", args.get(), nullptr, nullptr, &result, nullptr, y.out());
        expect_runtime(status, y, "call");
        EXPECT_EQ(result, nullptr);
    }
    {
        Err x;
        subinterp_status status = subinterp_destroy(a, x.out());
        expect_runtime(status, x, "destroy");
        Err y;
        int64_t id = -1;
        status = subinterp_main_id(&id, y.out());
        expect_runtime(status, y, "main_id");
        Err z;
        Data names = make_dict({}, {});
        status = subinterp_prepare_main(a, names.get(), z.out());
        expect_runtime(status, z, "prepare_main");
        Err w;
        status = subinterp_runtime_init(nullptr, w.out());
        expect_runtime(status, w, "runtime_init");
        Err v;
        subinterp_pool* again = nullptr;
        status = subinterp_pool_create(&opts, &again, v.out());
        expect_runtime(status, v, "pool_create");
        EXPECT_EQ(again, nullptr);
        Err u;
        const char* modules[] = {"math"};
        subinterp_data* report = nullptr;
        status = subinterp_check_imports(nullptr, modules, 1, &report, u.out());
        expect_runtime(status, u, "check_imports");
        EXPECT_EQ(report, nullptr);
    }
    EXPECT_OK(subinterp_runtime_finalize(e.out()), e);  // again: a no-op

    // The pool is shut down; its finished futures still give their results.
    subinterp_future* late = nullptr;
    EXPECT_NE(subinterp_pool_submit(pool, "sq", args.get(), nullptr, nullptr, SUBINTERP_NO_WAIT, &late, e.out()),
              SUBINTERP_OK);
    EXPECT_EQ(late, nullptr);
    e.reset();
    squared = nullptr;
    ASSERT_OK(subinterp_future_result(future, &squared, nullptr, e.out()), e);
    EXPECT_EQ(as_int(squared), 16);
    subinterp_data_free(squared);
    subinterp_future_free(future);
    subinterp_pool_free(pool);

    // Queues need no Python: the mixed queue gives the host's items and the
    // interpreters' items as their policies say.
    EXPECT_EQ(queue_size(mixed), 4u);
    EXPECT_EQ(as_int(get_ok(mixed).get()), 1);
    subinterp_data* item = reinterpret_cast<subinterp_data*>(0x1);
    EXPECT_EQ(subinterp_queue_get(mixed, SUBINTERP_NO_WAIT, &item, e.out()), SUBINTERP_OK) << e.message();
    EXPECT_EQ(item, nullptr);  // A's item: REPLACE
    item = reinterpret_cast<subinterp_data*>(0x1);
    EXPECT_EQ(subinterp_queue_get(mixed, SUBINTERP_NO_WAIT, &item, e.out()), SUBINTERP_ERR_UNBOUND);
    e.reset();
    EXPECT_EQ(as_int(get_ok(mixed).get()), 2);
    put_int(mixed, 3);
    EXPECT_EQ(as_int(get_ok(mixed).get()), 3);
    // The queue only A held went with A.
    EXPECT_FALSE(listed(only_a));
    EXPECT_EQ(subinterp_queue_size(only_a, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    size_t size = 0;
    EXPECT_EQ(subinterp_queue_size(only_a, &size, e.out()), SUBINTERP_ERR_NOT_FOUND);
    e.reset();
    // The waiter kept waiting through the finalize and gets what comes.
    EXPECT_FALSE(getter.done());
    put_int(waited_on, 9);
    getter.join();
    ASSERT_EQ(getter.status(), SUBINTERP_OK) << getter.message();
    EXPECT_EQ(as_int(getter.item()), 9);
    // New queues still work.
    const int64_t fresh = new_queue();
    put_int(fresh, 5);
    EXPECT_EQ(as_int(get_ok(fresh).get()), 5);
    release_ok(fresh);
    release_ok(mixed);
    release_ok(waited_on);

    // Buffers: the host's references outlive the runtime; what only Python
    // held was given back exactly once.
    EXPECT_EQ(std::string(static_cast<const char*>(memory), 5), "hello");
    EXPECT_EQ(python_only_log.calls, 1);
    EXPECT_EQ(python_only_log.released_data(), python_only_memory);
    EXPECT_EQ(shared_log.calls, 0);
    shared_buffer.reset();
    EXPECT_EQ(shared_log.calls, 1);
    library_buffer.reset();

    // Data needs no Python either.
    Data text = make_str("still here");
    EXPECT_EQ(repr(text.get()), "'still here'");
}

// A legacy interpreter with a live daemon thread cannot be destroyed
// (SUBINTERP_ERR_BUSY), so neither can the runtime be finalized: finalize
// refuses without aborting, the interpreter stays usable, and once its
// thread ends finalize works.
TEST(FinalizeWith, ALiveDaemonThreadIsBusy) {
    subinterp_config legacy;
    ASSERT_EQ(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY), SUBINTERP_OK);
    const int64_t daemon_owner = create(&legacy);
    exec_ok(daemon_owner, "import threading\n"
                          "stop = threading.Event()\n"
                          "t = threading.Thread(target=stop.wait, daemon=True)\n"
                          "t.start()\n");
    Err e;
    EXPECT_EQ(subinterp_runtime_finalize(e.out()), SUBINTERP_ERR_BUSY);
    EXPECT_NE(e.message().find("thread"), std::string::npos) << e.message();
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_EMBED);
    exec_ok(daemon_owner, "assert t.is_alive()\nstop.set()\nt.join()\n");
    e.reset();
    ASSERT_OK(subinterp_runtime_finalize(e.out()), e);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_FINALIZED);
}

// subinterp_runtime_finalize() promises that "interpreters are checked before
// any is destroyed": with a live daemon thread in a legacy interpreter it must
// fail with SUBINTERP_ERR_BUSY having destroyed nothing and shut no pool down.
// (It used to check only for running code, then shut the pools down and
// destroy the interpreters before that one, and fail midway.)
TEST(FinalizeWith, FailedFinalizeDestroysNothing) {
    subinterp_config legacy;
    ASSERT_EQ(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY), SUBINTERP_OK);
    const int64_t first = create();
    subinterp_pool_options opts;
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 1;
    subinterp_pool* pool = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_create(&opts, &pool, e.out()), e);
    const int64_t daemon_owner = create(&legacy);
    exec_ok(daemon_owner, "import threading\n"
                          "stop = threading.Event()\n"
                          "t = threading.Thread(target=stop.wait, daemon=True)\n"
                          "t.start()\n");
    EXPECT_EQ(subinterp_runtime_finalize(e.out()), SUBINTERP_ERR_BUSY);
    e.reset();
    EXPECT_EQ(subinterp_exec(first, "pass", nullptr, nullptr, e.out()), SUBINTERP_OK)
        << "a refused finalize destroyed interpreter " << first << ": " << e.message();
    e.reset();
    EXPECT_EQ(subinterp_pool_check(pool, e.out()), SUBINTERP_OK) << "a refused finalize shut the pool down: "
                                                                 << e.message();
    exec_ok(daemon_owner, "stop.set()\nt.join()\n");
    e.reset();
    ASSERT_OK(subinterp_runtime_finalize(e.out()), e);
    subinterp_pool_free(pool);
}
