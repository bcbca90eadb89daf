// Faults raised by Python code in isolated interpreters, through the C ABI:
// fork, exec, spawning processes, daemon and non-daemon threads (left running
// at destroy), single-phase extension modules, recursion without bound (in
// Python and in C: repr, json, pickle, the parser), and memory exhaustion
// (huge single allocations; a real exhaustion under a lowered RLIMIT_AS in a
// child process). Each must end as a clear error -- a status and, for Python
// exceptions, the exception's type -- and leave the process, the interpreter
// (when it should stay usable) and the other interpreters working.
//
// Its own executable: AddressSanitizer must return NULL for a huge
// allocation (allocator_may_return_null) instead of reporting it, so that it
// is CPython's MemoryError we test.
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
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

// Merged with ASAN_OPTIONS / TSAN_OPTIONS from the environment (which win for
// the options they set). CPython's malloc(1 << 60) must fail as malloc does,
// not abort with a sanitizer report. Exported (the build hides symbols by
// default) so the sanitizer finds it.
#if SUBINTERP_TEST_ASAN
extern "C" __attribute__((visibility("default"), used)) const char* __asan_default_options() {
    return "allocator_may_return_null=1";
}
#endif
#if SUBINTERP_TEST_TSAN
extern "C" __attribute__((visibility("default"), used)) const char* __tsan_default_options() {
    return "allocator_may_return_null=1";
}
#endif

using namespace subinterp_test;

namespace {

bool is_python_313_or_later() { return subinterp_python_version() >= 0x030D0000; }

struct Outcome {
    subinterp_status status = -1;
    std::string qualname;  // for SUBINTERP_ERR_PYTHON
    std::string message;
    std::string traceback;
};

Outcome run(int64_t interp, const std::string& source) {
    Err e;
    Outcome outcome;
    outcome.status = subinterp_exec(interp, source.c_str(), nullptr, nullptr, e.out());
    if (outcome.status != SUBINTERP_OK) {
        outcome.qualname = e.exc_qualname();
        outcome.message = e.message();
        outcome.traceback = e.traceback();
    }
    return outcome;
}

std::string describe(const Outcome& o) {
    return std::string(subinterp_status_name(o.status)) + " " + o.qualname + ": " + o.message + "\n" + o.traceback;
}

void destroy_ok(int64_t id) {
    Err e;
    EXPECT_EQ(subinterp_destroy(id, e.out()), SUBINTERP_OK) << e.message();
}

// The interpreter still runs code and computes right.
void expect_usable(int64_t id, const char* what) {
    const Outcome o = run(id, "_probe = sum(range(10)) * 2\nassert _probe == 90, _probe\n");
    EXPECT_EQ(o.status, SUBINTERP_OK) << what << " is not usable: " << describe(o);
}

void bind_queue(int64_t interp, const char* name, int64_t queue) {
    Data key = make_str(name);
    Data value = queue_value(queue);
    Data names = make_dict({key.get()}, {value.get()});
    Err e;
    EXPECT_EQ(subinterp_prepare_main(interp, names.get(), e.out()), SUBINTERP_OK) << e.message();
}

double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// --- the table ---------------------------------------------------------------------------

struct FaultCase {
    const char* name;
    const char* source;
    subinterp_status status;   // SUBINTERP_OK: the code is allowed and works
    const char* qualname;      // the exception's type for SUBINTERP_ERR_PYTHON
    const char* message_part;  // in the error's message
};

// Nested lists 100,000 deep, built without recursion, for the C-level
// recursions (repr, json, pickle); deallocating them is CPython's trashcan's
// job.
#define DEEP_LIST "deep = []\nfor _ in range(100000):\n    deep = [deep]\n"

const FaultCase kCases[] = {
    // Processes.
    {"Fork", "import os\nos.fork()\n", SUBINTERP_ERR_PYTHON, "RuntimeError", "fork not supported"},
    {"MultiprocessingFork", "import multiprocessing as mp\nmp.get_context('fork').Process(target=print).start()\n",
     SUBINTERP_ERR_PYTHON, "RuntimeError", "fork not supported"},
    {"Execv", "import os\nos.execv('/bin/true', ['true'])\n", SUBINTERP_ERR_PYTHON, "RuntimeError",
     "exec not supported"},
    {"Execve", "import os\nos.execve('/bin/true', ['true'], {})\n", SUBINTERP_ERR_PYTHON, "RuntimeError",
     "exec not supported"},
    // Allowed by CPython in isolated interpreters (no Python runs in the
    // child): the process is spawned and reaped.
    {"PosixSpawnIsAllowed",
     "import os\npid = os.posix_spawn('/bin/true', ['true'], {})\nassert os.waitpid(pid, 0)[1] == 0\n", SUBINTERP_OK,
     "", ""},
    {"SubprocessIsAllowed", "import subprocess\nassert subprocess.run(['/bin/true']).returncode == 0\n", SUBINTERP_OK,
     "", ""},
    {"SystemIsAllowed", "import os\nassert os.system('true') == 0\n", SUBINTERP_OK, "", ""},
    // Threads.
    {"DaemonThread", "import threading\nthreading.Thread(target=print, daemon=True).start()\n", SUBINTERP_ERR_PYTHON,
     "RuntimeError", "daemon threads are disabled"},
    {"NonDaemonThreadJoined",
     "import threading\nout = []\nt = threading.Thread(target=out.append, args=(1,))\nt.start()\nt.join()\n"
     "assert out == [1]\n",
     SUBINTERP_OK, "", ""},
    {"SignalHandler", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n", SUBINTERP_ERR_PYTHON,
     "ValueError", "main interpreter"},
    // Single-phase extension modules (imported once: see SinglePhase below).
    {"SinglePhaseModule", "import _testsinglephase\n", SUBINTERP_ERR_PYTHON, "ImportError",
     "does not support loading in subinterpreters"},
    // Recursion.
    {"PythonRecursion", "def f(n):\n    return f(n + 1)\nf(0)\n", SUBINTERP_ERR_PYTHON, "RecursionError",
     "maximum recursion depth exceeded"},
    {"MutualRecursionThroughABuiltin", "class A:\n    def __repr__(self):\n        return repr(self)\nrepr(A())\n",
     SUBINTERP_ERR_PYTHON, "RecursionError", "maximum recursion depth exceeded"},
    {"DeepListRepr", DEEP_LIST "repr(deep)\n", SUBINTERP_ERR_PYTHON, "RecursionError",
     "maximum recursion depth exceeded"},
    {"DeepListJson", "import json\n" DEEP_LIST "json.dumps(deep)\n", SUBINTERP_ERR_PYTHON, "RecursionError",
     "maximum recursion depth exceeded"},
    {"DeepListPickle", "import pickle\n" DEEP_LIST "pickle.dumps(deep)\n", SUBINTERP_ERR_PYTHON, "RecursionError",
     "maximum recursion depth exceeded"},
    {"DeepListCompare", DEEP_LIST "other = []\nfor _ in range(100000):\n    other = [other]\ndeep == other\n",
     SUBINTERP_ERR_PYTHON, "RecursionError", "maximum recursion depth exceeded"},
    {"ParserStack", "eval('-' * 100000 + '1')\n", SUBINTERP_ERR_PYTHON, "MemoryError", "too complex"},
    {"NestedParentheses", "eval('(' * 1000 + ')' * 1000)\n", SUBINTERP_ERR_PYTHON, "SyntaxError",
     "too many nested parentheses"},
    // Huge single allocations.
    {"HugeBytearray", "bytearray(1 << 60)\n", SUBINTERP_ERR_PYTHON, "MemoryError", ""},
    {"HugeBytesRepeat", "b'x' * (1 << 62)\n", SUBINTERP_ERR_PYTHON, "MemoryError", ""},
    {"HugeList", "[None] * (1 << 60)\n", SUBINTERP_ERR_PYTHON, "MemoryError", ""},
};

// gtest prints the case by its name.
void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class Fault : public ::testing::TestWithParam<FaultCase> {};

}  // namespace

// The code fails (or works) as expected in an isolated interpreter; that
// interpreter, one created before and one created after all keep working.
TEST_P(Fault, ClearErrorAndEverythingKeepsWorking) {
    const FaultCase& c = GetParam();
    const int64_t bystander = create();
    exec_ok(bystander, "import json\nstate = json.dumps([1, 2])\n");
    const int64_t id = create();
    const Outcome o = run(id, c.source);
    ASSERT_EQ(o.status, c.status) << describe(o);
    if (c.status == SUBINTERP_ERR_PYTHON) {
        EXPECT_EQ(o.qualname, c.qualname) << describe(o);
        EXPECT_NE(o.message.find(c.message_part), std::string::npos) << describe(o);
        EXPECT_NE(o.traceback.find(c.qualname), std::string::npos) << describe(o);
    }
    // Nothing left running, and everyone keeps working.
    int running = 1;
    EXPECT_EQ(subinterp_is_running(id, &running, nullptr), SUBINTERP_OK);
    EXPECT_EQ(running, 0);
    expect_usable(id, "the interpreter that failed");
    expect_usable(bystander, "an interpreter created before");
    exec_ok(bystander, "assert state == '[1, 2]'\n");
    const int64_t after = create();
    expect_usable(after, "an interpreter created after");
    expect_usable(0, "the main interpreter");
    destroy_ok(id);
    destroy_ok(after);
    destroy_ok(bystander);
}

INSTANTIATE_TEST_SUITE_P(Isolated, Fault, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<FaultCase>& info) { return std::string(info.param.name); });

// --- single-phase modules ------------------------------------------------------------------

// Refused again and again in isolated interpreters (3.13), while a legacy
// interpreter imports it. On 3.12.1 a refused single-phase module with static
// state crashes the process when imported a second time, in any interpreter
// (CPython runs its init before refusing it; documented at
// subinterp_check_imports): only the first refusal is tested there (in the
// table above).
TEST(SinglePhase, RefusedRepeatedlyThenImportedByALegacyInterpreter) {
    if (!is_python_313_or_later()) {
        GTEST_SKIP() << "CPython 3.12.1: importing _testsinglephase again after a refusal crashes the process "
                        "(double free); not safe to test";
    }
    const int64_t a = create(), b = create();
    for (int i = 0; i < 3; ++i) {
        for (const int64_t id : {a, b}) {
            const Outcome o = run(id, "import _testsinglephase\n");
            EXPECT_EQ(o.status, SUBINTERP_ERR_PYTHON) << describe(o);
            EXPECT_EQ(o.qualname, "ImportError") << describe(o);
        }
    }
    subinterp_config legacy;
    ASSERT_EQ(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY), SUBINTERP_OK);
    const int64_t l = create(&legacy);
    exec_ok(l, "import _testsinglephase\n");
    const Outcome again = run(a, "import _testsinglephase\n");
    EXPECT_EQ(again.qualname, "ImportError") << describe(again);
    expect_usable(a, "a");
    destroy_ok(a);
    destroy_ok(b);
    destroy_ok(l);
}

// --- threads left running at destroy ------------------------------------------------------------

// A non-daemon threading.Thread still running when the interpreter is
// destroyed is joined first, as CPython does at exit: destroy blocks until
// the thread ends (here: until the host puts what it waits for) and then
// succeeds. Meanwhile the interpreter takes no new calls (NOT_FOUND). There
// is no time limit: a thread that never ends blocks destroy for ever.
TEST(ThreadsAtDestroy, NonDaemonThreadIsJoinedAndDestroyWaitsForIt) {
    const int64_t a = create();
    const int64_t q = new_queue();
    bind_queue(a, "q", q);
    // The thread reports through host memory: items it put in a queue would
    // be unbound by the time destroy returns.
    static char report[8] = "";
    subinterp_data* raw = nullptr;
    ASSERT_EQ(subinterp_data_new_buffer_external(report, sizeof report, 0, nullptr, nullptr, &raw, nullptr),
              SUBINTERP_OK);
    Data buffer(raw);
    {
        Data key = make_str("report");
        Data names = make_dict({key.get()}, {buffer.get()});
        ASSERT_EQ(subinterp_prepare_main(a, names.get(), nullptr), SUBINTERP_OK);
    }
    exec_ok(a, "import threading\n"
               "def work():\n"
               "    got = q.get()\n"
               "    report[:len(got)] = got\n"
               "t = threading.Thread(target=work)\n"
               "t.start()\n");
    std::atomic<bool> returned{false};
    subinterp_status status = -1;
    std::string message;
    const auto start = std::chrono::steady_clock::now();
    std::thread destroyer([&] {
        Err e;
        status = subinterp_destroy(a, e.out());
        message = e.message();
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(returned) << "destroy did not wait for the thread: " << subinterp_status_name(status) << " "
                           << message;
    Err e;
    EXPECT_EQ(subinterp_exec(a, "pass", nullptr, nullptr, e.out()), SUBINTERP_ERR_NOT_FOUND) << e.message();
    Data go = make_bytes("joined");
    put_ok(q, go.get());
    destroyer.join();
    EXPECT_EQ(status, SUBINTERP_OK) << message;
    EXPECT_GE(seconds(start), 0.3);
    EXPECT_STREQ(report, "joined");  // the thread ran to its end
    e.reset();
    EXPECT_EQ(subinterp_exec(a, "pass", nullptr, nullptr, e.out()), SUBINTERP_ERR_NOT_FOUND);
    subinterp_queue_release(q, nullptr);
}

// A low-level _thread thread (allowed in isolated interpreters, and not
// joined by threading) still running at destroy: destroy refuses with
// SUBINTERP_ERR_BUSY instead of letting Py_EndInterpreter abort the process
// ("not the last thread"); the interpreter stays usable, and once the thread
// ends destroy succeeds.
TEST(ThreadsAtDestroy, LowLevelThreadMakesDestroyBusyNotAbort) {
    const int64_t a = create();
    const int64_t q = new_queue(), done = new_queue(), started = new_queue();
    bind_queue(a, "q", q);
    bind_queue(a, "done", done);
    bind_queue(a, "started", started);
    exec_ok(a, "import _thread\n"
               "def work():\n"
               "    started.put(1)\n"
               "    done.put(('got', q.get()))\n"
               "_thread.start_new_thread(work, ())\n");
    get_ok(started, 30.0);
    for (int attempt = 0; attempt < 2; ++attempt) {
        Err e;
        EXPECT_EQ(subinterp_destroy(a, e.out()), SUBINTERP_ERR_BUSY);
        EXPECT_NE(e.message().find("thread"), std::string::npos) << e.message();
        expect_usable(a, "the interpreter refused");
    }
    Data go = make_str("go");
    put_ok(q, go.get());
    EXPECT_EQ(repr(get_ok(done, 30.0).get()), "('got', 'go')");
    // The thread deletes its state just after its last put; destroy allows
    // for that.
    Err e;
    subinterp_status status = SUBINTERP_ERR_BUSY;
    for (int attempt = 0; attempt < 50 && status == SUBINTERP_ERR_BUSY; ++attempt) {
        e.reset();
        status = subinterp_destroy(a, e.out());
    }
    EXPECT_EQ(status, SUBINTERP_OK) << e.message();
    subinterp_queue_release(q, nullptr);
    subinterp_queue_release(done, nullptr);
    subinterp_queue_release(started, nullptr);
}

// --- recursion on small host-thread stacks -------------------------------------------------------

namespace {

// Runs `source` in a fresh interpreter on a host thread with a stack of
// `stack_kib` KiB; exits 0 if it failed with a RecursionError and a probe
// afterwards worked, 1 otherwise. Runs in a child process (death test).
[[noreturn]] void deep_recursion_on_a_thread(size_t stack_kib, const char* source) {
    static int64_t id = -1;
    static const char* code = nullptr;
    code = source;
    if (subinterp_create(nullptr, &id, nullptr) != SUBINTERP_OK) std::exit(2);
    static int result = 3;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack_kib * 1024);
    pthread_t thread;
    auto body = [](void*) -> void* {
        subinterp_error* err = nullptr;
        const subinterp_status status = subinterp_exec(id, code, nullptr, nullptr, &err);
        const char* qualname = err ? subinterp_error_exc_qualname(err) : nullptr;
        const bool recursion = status == SUBINTERP_ERR_PYTHON && qualname && std::string(qualname) == "RecursionError";
        if (!recursion) std::fprintf(stderr, "got %s %s\n", subinterp_status_name(status), qualname ? qualname : "");
        subinterp_error_free(err);
        result = recursion && subinterp_exec(id, "x = 1", nullptr, nullptr, nullptr) == SUBINTERP_OK ? 0 : 1;
        return nullptr;
    };
    if (pthread_create(&thread, &attr, body, nullptr) != 0) std::exit(4);
    pthread_join(thread, nullptr);
    std::exit(result);
}

const char* const kDeepRepr = DEEP_LIST "repr(deep)\n";
const char* const kDeepJson = "import json\n" DEEP_LIST "json.dumps(deep)\n";

class RecursionDeathTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (SUBINTERP_TEST_TSAN) {
            GTEST_SKIP() << "ThreadSanitizer's interceptors add to every C frame's stack use: thread stack sizes "
                            "mean something else there";
        }
        GTEST_FLAG_SET(death_test_style, "threadsafe");
    }
};

}  // namespace

// 2 MiB is the default stack of a Rust std::thread: a deep C recursion ends
// as a RecursionError there.
TEST_F(RecursionDeathTest, CLevelRecursionOnA2MiBHostThread) {
    EXPECT_EXIT(deep_recursion_on_a_thread(2048, kDeepRepr), ::testing::ExitedWithCode(0), "");
    EXPECT_EXIT(deep_recursion_on_a_thread(2048, kDeepJson), ::testing::ExitedWithCode(0), "");
}

// LIBRARY/CPYTHON HAZARD (reported with issue 11, part 3) -- reproducer,
// skipped until handled. CPython 3.13 lets C code recurse 10,000 levels
// (Py_C_RECURSION_LIMIT) before raising RecursionError, which needs about
// 1.5-2 MiB of stack for repr() or json.dumps() of nested lists; on a host
// thread with a 1 MiB stack (the JVM's default, and more than musl's 128 KiB)
// the process dies of SIGSEGV. 3.12's limit (1,500) fits in 256 KiB. The
// library could lower the thread state's C recursion budget
// (tstate->c_recursion_remaining) to what the calling thread's stack allows
// when it attaches.
TEST_F(RecursionDeathTest, CLevelRecursionOnA1MiBHostThread) {
    if (is_python_313_or_later() && !std::getenv("SUBINTERP_TEST_KNOWN_BUGS")) {
        GTEST_SKIP() << "known hazard: on CPython 3.13 a deep C recursion overflows a 1 MiB host thread stack "
                        "(SIGSEGV) before RecursionError (set SUBINTERP_TEST_KNOWN_BUGS=1 to run)";
    }
    EXPECT_EXIT(deep_recursion_on_a_thread(1024, kDeepRepr), ::testing::ExitedWithCode(0), "");
    EXPECT_EXIT(deep_recursion_on_a_thread(1024, kDeepJson), ::testing::ExitedWithCode(0), "");
}

// --- memory exhaustion under an address-space limit ----------------------------------------------

namespace {

long vm_size_bytes() {
    std::ifstream statm("/proc/self/statm");
    long size = 0;
    statm >> size;
    return size * sysconf(_SC_PAGESIZE);
}

[[noreturn]] void fail_child(const std::string& what) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

// In a child process: interpreters, then the address space limited to what
// the process has plus 256 MiB, then Python code allocating until
// MemoryError. Freed as the exception unwinds (big blocks from malloc, small
// objects from obmalloc): a clear error, and that interpreter and another
// work again at once. Still held (a module-level list) while the error is
// built: a clear error, other calls get a clear error or work, and
// destroying the hoarding interpreter -- under the limit still -- gives the
// memory back, after which everything works again.
[[noreturn]] void exhaust_memory() {
    int64_t a = -1, hoarder = -1, bystander = -1;
    subinterp_error* err = nullptr;
    if (subinterp_create(nullptr, &a, &err) != SUBINTERP_OK) fail_child("create a");
    if (subinterp_create(nullptr, &hoarder, &err) != SUBINTERP_OK) fail_child("create hoarder");
    if (subinterp_create(nullptr, &bystander, &err) != SUBINTERP_OK) fail_child("create bystander");
    // Runs source; a clear out-of-memory error sets *oom (if given).
    static std::string last_message;
    auto exec = [](int64_t id, const char* source, bool* oom = nullptr) {
        subinterp_error* e = nullptr;
        const subinterp_status status = subinterp_exec(id, source, nullptr, nullptr, &e);
        const std::string qualname = e && subinterp_error_exc_qualname(e) ? subinterp_error_exc_qualname(e) : "";
        last_message = e ? subinterp_error_message(e) : "";
        const bool clear_oom = (status == SUBINTERP_ERR_PYTHON && qualname == "MemoryError") ||
                               status == SUBINTERP_ERR_NO_MEMORY;
        if (oom) *oom = clear_oom;
        if (status != SUBINTERP_OK && !clear_oom) {
            std::fprintf(stderr, "%s %s: %s\n", subinterp_status_name(status), qualname.c_str(),
                         e ? subinterp_error_message(e) : "");
        }
        subinterp_error_free(e);
        return status;
    };
    const char* const probe = "_probe = [str(i) for i in range(1000)]\nassert len(_probe) == 1000\ndel _probe\n";
    for (const int64_t id : {a, hoarder, bystander}) {
        if (exec(id, "import gc\n") != SUBINTERP_OK) fail_child("warm up");
    }

    struct rlimit limit;
    if (getrlimit(RLIMIT_AS, &limit) != 0) fail_child("getrlimit");
    limit.rlim_cur = static_cast<rlim_t>(vm_size_bytes() + (256L << 20));
    if (setrlimit(RLIMIT_AS, &limit) != 0) fail_child("setrlimit");

    const char* const freed_on_unwind[][2] = {
        {"big blocks", "def grab():\n    chunks = []\n    while True:\n        chunks.append(bytearray(1 << 20))\ngrab()\n"},
        {"small objects",
         "def grab():\n    items = []\n    while True:\n        items.append(str(len(items)) * 8)\ngrab()\n"},
    };
    for (const auto& c : freed_on_unwind) {
        bool oom = false;
        const subinterp_status status = exec(a, c[1], &oom);
        std::fprintf(stderr, "%s, freed on unwind: %s\n", c[0], subinterp_status_name(status));
        if (!oom) fail_child(std::string(c[0]) + ": not a clear out-of-memory error");
        if (exec(a, probe) != SUBINTERP_OK) fail_child(std::string(c[0]) + ": the interpreter is not usable after");
        if (exec(bystander, probe) != SUBINTERP_OK) fail_child(std::string(c[0]) + ": another is not usable after");
    }

    bool oom = false;
    const subinterp_status status = exec(hoarder, "held = []\nwhile True:\n    held.append(bytearray(1 << 16))\n", &oom);
    std::fprintf(stderr, "still held: %s\n", subinterp_status_name(status));
    if (!oom) fail_child("still held: not a clear out-of-memory error");
    // With (almost) nothing left, other calls fail clearly or work.
    const subinterp_status squeezed = exec(bystander, probe, &oom);
    std::fprintf(stderr, "another interpreter meanwhile: %s\n", subinterp_status_name(squeezed));
    // On 3.12.1, about one run in two, Py_CompileString runs out of memory and
    // returns NULL without setting an exception: the library reports that as
    // SUBINTERP_ERR_NO_MEMORY (it used to say INTERNAL, "a bug in the library").
    if (squeezed != SUBINTERP_OK && !oom) fail_child("another interpreter meanwhile: not a clear error");
    if (subinterp_destroy(hoarder, &err) != SUBINTERP_OK) {
        fail_child(std::string("destroying the hoarder under the limit: ") + subinterp_error_message(err));
    }
    if (exec(a, probe) != SUBINTERP_OK) fail_child("still held: the interpreter is not usable after");
    if (exec(bystander, probe) != SUBINTERP_OK) fail_child("still held: another is not usable after");

    int64_t fresh = -1;
    if (subinterp_create(nullptr, &fresh, &err) != SUBINTERP_OK) {
        fail_child(std::string("create after: ") + subinterp_error_message(err));
    }
    if (exec(fresh, probe) != SUBINTERP_OK) fail_child("a new interpreter is not usable");
    for (const int64_t id : {a, bystander, fresh}) {
        if (subinterp_destroy(id, &err) != SUBINTERP_OK) fail_child(std::string("destroy: ") + subinterp_error_message(err));
    }
    if (subinterp_runtime_finalize(&err) != SUBINTERP_OK) fail_child(std::string("finalize: ") + subinterp_error_message(err));
    std::_Exit(0);
}

class MemoryDeathTest : public ::testing::Test {
protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

}  // namespace

TEST_F(MemoryDeathTest, ExhaustionUnderAnAddressSpaceLimit) {
    if (SUBINTERP_TEST_SANITIZED) {
        GTEST_SKIP() << "AddressSanitizer and ThreadSanitizer reserve terabytes of address space for their shadow "
                        "memory: an RLIMIT_AS limit cannot be combined with them";
    }
    EXPECT_EXIT(exhaust_memory(), ::testing::ExitedWithCode(0), "");
}
