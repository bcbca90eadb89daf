// Pools of warm interpreters and their futures (subinterp_pool_*,
// subinterp_future_*).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <functional>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "queue_helpers.hpp"

using namespace subinterp_test;

namespace {

struct PoolFree {
    void operator()(subinterp_pool* p) const { subinterp_pool_free(p); }
};
struct FutureFree {
    void operator()(subinterp_future* f) const { subinterp_future_free(f); }
};
using Pool = std::unique_ptr<subinterp_pool, PoolFree>;
using Future = std::unique_ptr<subinterp_future, FutureFree>;

// Every pool's workers know these: `block(started, release)` reports on
// `started` and waits for an item on `release`; `spin(started)` reports and
// loops forever; `mark(side)` puts 1 on `side`.
constexpr const char* kInit =
    "import time\n"
    "def sq(x):\n"
    "    return x * x\n"
    "def block(started, release):\n"
    "    started.put(1)\n"
    "    return release.get()\n"
    "def spin(started):\n"
    "    started.put(1)\n"
    "    while True:\n"
    "        pass\n"
    "def mark(side):\n"
    "    side.put(1)\n"
    "    return 'marked'\n"
    "def fail(message):\n"
    "    raise ValueError(message)\n"
    "def breaker():\n"
    "    import builtins\n"
    "    builtins.__import__ = None\n"
    "    raise RuntimeError('broke my own interpreter')\n";

Pool make_pool(uint32_t workers, const char* init_source = kInit, size_t max_queued = 0,
               uint64_t max_tasks_per_worker = 0) {
    subinterp_pool_options opts;
    EXPECT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = workers;
    opts.init_source = init_source;
    opts.max_queued = max_queued;
    opts.max_tasks_per_worker = max_tasks_per_worker;
    subinterp_pool* pool = nullptr;
    Err e;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e.out()), SUBINTERP_OK) << e.message() << "\n" << e.traceback();
    return Pool(pool);
}

subinterp_run_options with_timeout(double timeout) {
    subinterp_run_options opts;
    EXPECT_EQ(subinterp_run_options_init(&opts), SUBINTERP_OK);
    opts.timeout = timeout;
    return opts;
}

Future submit(subinterp_pool* pool, const char* callable, const std::vector<const subinterp_data*>& args = {},
              const subinterp_run_options* opts = nullptr, double wait = SUBINTERP_WAIT_FOREVER) {
    Data tuple = subinterp_test::make_tuple(args);
    subinterp_future* future = nullptr;
    Err e;
    EXPECT_EQ(subinterp_pool_submit(pool, callable, tuple.get(), nullptr, opts, wait, &future, e.out()), SUBINTERP_OK)
        << e.message();
    return Future(future);
}

// The future's result; fails the test on error.
Data result_of(const subinterp_future* future) {
    subinterp_data* result = nullptr;
    Err e;
    EXPECT_EQ(subinterp_future_result(future, &result, nullptr, e.out()), SUBINTERP_OK)
        << e.message() << "\n" << e.traceback();
    return Data(result);
}

// The future's status (the result, if any, dropped).
subinterp_status outcome(const subinterp_future* future, std::string* message = nullptr) {
    subinterp_data* result = nullptr;
    Err e;
    const subinterp_status status = subinterp_future_result(future, &result, nullptr, e.out());
    subinterp_data_free(result);
    if (message) *message = e.message();
    return status;
}

subinterp_future_state state_of(const subinterp_future* future) {
    subinterp_future_state state = static_cast<subinterp_future_state>(-1);
    Err e;
    EXPECT_EQ(subinterp_future_get_state(future, &state, e.out()), SUBINTERP_OK) << e.message();
    return state;
}

subinterp_pool_stats stats_of(subinterp_pool* pool) {
    subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
    Err e;
    EXPECT_EQ(subinterp_pool_get_stats(pool, &stats, e.out()), SUBINTERP_OK) << e.message();
    return stats;
}

subinterp_pool_worker worker_of(subinterp_pool* pool, size_t index) {
    subinterp_pool_worker worker = SUBINTERP_POOL_WORKER_INIT;
    Err e;
    EXPECT_EQ(subinterp_pool_get_worker(pool, index, &worker, e.out()), SUBINTERP_OK) << e.message();
    return worker;
}

// Polls `predicate` for up to 10 s.
template <class Predicate>
bool eventually(Predicate predicate) {
    for (int i = 0; i < 1000; ++i) {
        if (predicate()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return predicate();
}

// A queue (with its value) that a task reports on or waits on.
struct TestQueue {
    int64_t id = new_queue();
    Data value = queue_value(id);
    ~TestQueue() { subinterp_queue_release(id, nullptr); }
    // Waits (up to 10 s) for the task's report.
    void expect_item(const char* what) {
        subinterp_data* item = nullptr;
        Err e;
        EXPECT_EQ(subinterp_queue_get(id, 10.0, &item, e.out()), SUBINTERP_OK) << what << ": " << e.message();
        subinterp_data_free(item);
    }
    void put(int64_t v) { put_int(id, v); }
};

// A task that occupies a worker until released: started once expect_started().
struct Blocker {
    TestQueue started;
    TestQueue release;
    Future future;
    explicit Blocker(subinterp_pool* pool) {
        future = submit(pool, "block", {started.value.get(), release.value.get()});
        started.expect_item("the blocker started");
    }
    void let_go(int64_t v = 1) { release.put(v); }
};

size_t interpreter_count() {
    size_t count = 0;
    EXPECT_EQ(subinterp_list(nullptr, 0, &count, nullptr), SUBINTERP_OK);
    return count;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// ---------------------------------------------------------------------------
// Creating, calling, mapping
// ---------------------------------------------------------------------------

TEST(Pool, CreateWithInitSourceAndCall) {
    Pool pool = make_pool(2);
    ASSERT_NE(pool, nullptr);
    Data x = make_int(12);
    Data args = make_tuple({x.get()});
    subinterp_data* result = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_call(pool.get(), "sq", args.get(), nullptr, nullptr, &result, nullptr, e.out()), e);
    Data owned(result);
    EXPECT_EQ(as_int(result), 144);
    // Module callables and kwargs work too.
    Data base = make_int(2);
    Data key = make_str("base");
    Data kwargs = make_dict({key.get()}, {base.get()});
    Data text = make_str("101");
    Data args2 = make_tuple({text.get()});
    subinterp_data* r2 = nullptr;
    Err e2;
    ASSERT_OK(subinterp_pool_call(pool.get(), "int", args2.get(), kwargs.get(), nullptr, &r2, nullptr, e2.out()), e2);
    Data owned2(r2);
    EXPECT_EQ(as_int(r2), 5);
    Err ce;
    EXPECT_OK(subinterp_pool_check(pool.get(), ce.out()), ce);
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.workers, 2u);
    EXPECT_EQ(stats.live_workers, 2u);
}

TEST(Pool, CallCapturesOutputAndReportsPythonErrors) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    subinterp_run_options opts;
    ASSERT_EQ(subinterp_run_options_init(&opts), SUBINTERP_OK);
    opts.flags = SUBINTERP_RUN_CAPTURE_STDOUT;
    Data word = make_str("hi");
    Data args = make_tuple({word.get()});
    subinterp_data* result = nullptr;
    subinterp_output* output = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_call(pool.get(), "print", args.get(), nullptr, &opts, &result, &output, e.out()), e);
    Data owned(result);
    Output out(output);
    EXPECT_STREQ(subinterp_output_stdout(output, nullptr), "hi\n");
    Data msg = make_str("boom");
    Data fargs = make_tuple({msg.get()});
    subinterp_data* r2 = nullptr;
    Err e2;
    EXPECT_EQ(subinterp_pool_call(pool.get(), "fail", fargs.get(), nullptr, nullptr, &r2, nullptr, e2.out()),
              SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e2.exc_qualname(), "ValueError");
    EXPECT_EQ(e2.message(), "boom");
    EXPECT_EQ(r2, nullptr);
}

TEST(Pool, MapPreservesOrder) {
    Pool pool = make_pool(2,
                          "import time, random\n"
                          "def f(x):\n"
                          "    time.sleep(random.random() * 0.002)\n"
                          "    return x * 3\n");
    ASSERT_NE(pool, nullptr);
    constexpr int kItems = 200;
    std::vector<Data> owned;
    std::vector<const subinterp_data*> lists;
    for (int i = 0; i < kItems; ++i) {
        Data x = make_int(i);
        owned.push_back(make_tuple({x.get()}));
        lists.push_back(owned.back().get());
    }
    Data arg_lists = make_list(lists);
    subinterp_data* results = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_map(pool.get(), "f", arg_lists.get(), nullptr, &results, e.out()), e);
    Data owned_results(results);
    ASSERT_EQ(subinterp_data_get_kind(results), SUBINTERP_DATA_LIST);
    size_t n = 0;
    ASSERT_EQ(subinterp_data_get_len(results, &n, nullptr), SUBINTERP_OK);
    ASSERT_EQ(n, size_t(kItems));
    for (int i = 0; i < kItems; ++i) {
        const subinterp_data* item = nullptr;
        ASSERT_EQ(subinterp_data_get_item(results, i, &item, nullptr), SUBINTERP_OK);
        EXPECT_EQ(as_int(item), 3 * i) << "item " << i;
    }
    // Both workers took part.
    EXPECT_GT(worker_of(pool.get(), 0).tasks, 0u);
    EXPECT_GT(worker_of(pool.get(), 1).tasks, 0u);
}

TEST(Pool, MapFailureNamesTheItem) {
    Pool pool = make_pool(2, "def f(x):\n    return 10 // x\n");
    ASSERT_NE(pool, nullptr);
    std::vector<Data> owned;
    std::vector<const subinterp_data*> lists;
    for (int x : {5, 2, 1, 0, 10}) {
        Data v = make_int(x);
        owned.push_back(make_tuple({v.get()}));
        lists.push_back(owned.back().get());
    }
    Data arg_lists = subinterp_test::make_tuple(lists);
    subinterp_data* results = nullptr;
    Err e;
    EXPECT_EQ(subinterp_pool_map(pool.get(), "f", arg_lists.get(), nullptr, &results, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(results, nullptr);
    EXPECT_EQ(e.message().rfind("item 3: ", 0), 0u) << e.message();
    EXPECT_EQ(e.exc_qualname(), "ZeroDivisionError");
    // Empty input gives an empty list; a non-list is refused.
    Data empty = make_list({});
    Err e2;
    ASSERT_OK(subinterp_pool_map(pool.get(), "f", empty.get(), nullptr, &results, e2.out()), e2);
    Data owned_results(results);
    size_t n = 99;
    EXPECT_EQ(subinterp_data_get_len(results, &n, nullptr), SUBINTERP_OK);
    EXPECT_EQ(n, 0u);
    Data seven = make_int(7);
    subinterp_data* r3 = nullptr;
    Err e3;
    EXPECT_EQ(subinterp_pool_map(pool.get(), "f", seven.get(), nullptr, &r3, e3.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    Data bad_item = make_list({seven.get()});
    Err e4;
    EXPECT_EQ(subinterp_pool_map(pool.get(), "f", bad_item.get(), nullptr, &r3, e4.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
}

TEST(Pool, InitCallableWithArgs) {
    subinterp_pool_options opts;
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 2;
    opts.init_source = "def setup(a, b):\n    global K\n    K = a + b\ndef k():\n    return K\n";
    opts.init_callable = "setup";
    Data a = make_int(40);
    Data b = make_int(2);
    Data init_args = make_tuple({a.get(), b.get()});
    opts.init_args = init_args.get();
    subinterp_pool* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_create(&opts, &raw, e.out()), e);
    Pool pool(raw);
    Future f0 = submit(pool.get(), "k");
    EXPECT_EQ(as_int(result_of(f0.get()).get()), 42);
}

// ---------------------------------------------------------------------------
// Futures
// ---------------------------------------------------------------------------

TEST(Future, StatesWaitAndRepeatableResult) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    TestQueue started;
    TestQueue release;
    Future blocker = submit(pool.get(), "block", {started.value.get(), release.value.get()});
    Data x = make_int(9);
    Future queued = submit(pool.get(), "sq", {x.get()});
    started.expect_item("blocker started");
    EXPECT_EQ(state_of(blocker.get()), SUBINTERP_FUTURE_RUNNING);
    EXPECT_EQ(state_of(queued.get()), SUBINTERP_FUTURE_PENDING);
    Err e;
    const auto start = Clock::now();
    EXPECT_EQ(subinterp_future_wait(blocker.get(), 0.05, e.out()), SUBINTERP_ERR_TIMEOUT);
    EXPECT_GE(seconds_since(start), 0.04);
    Err e0;
    EXPECT_EQ(subinterp_future_wait(queued.get(), 0, e0.out()), SUBINTERP_ERR_TIMEOUT);
    EXPECT_EQ(subinterp_pool_get_stats(pool.get(), nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    const subinterp_pool_stats busy = stats_of(pool.get());
    EXPECT_EQ(busy.busy_workers, 1u);
    EXPECT_EQ(busy.queued, 1u);
    Data seven = make_int(7);
    put_ok(release.id, seven.get());
    Err we;
    EXPECT_OK(subinterp_future_wait(blocker.get(), -1, we.out()), we);
    EXPECT_EQ(state_of(blocker.get()), SUBINTERP_FUTURE_FINISHED);
    EXPECT_EQ(as_int(result_of(blocker.get()).get()), 7);
    EXPECT_EQ(as_int(result_of(blocker.get()).get()), 7);  // repeatable
    EXPECT_EQ(as_int(result_of(queued.get()).get()), 81);
    EXPECT_EQ(state_of(queued.get()), SUBINTERP_FUTURE_FINISHED);
    Err we2;
    EXPECT_OK(subinterp_future_wait(queued.get(), 0, we2.out()), we2);
    // Cancelling a finished future changes nothing.
    int cancelled = 99;
    Err ce;
    EXPECT_OK(subinterp_future_cancel(queued.get(), &cancelled, ce.out()), ce);
    EXPECT_EQ(cancelled, 0);
    EXPECT_EQ(state_of(queued.get()), SUBINTERP_FUTURE_FINISHED);
    EXPECT_EQ(as_int(result_of(queued.get()).get()), 81);
}

TEST(Future, FailedTaskResultIsTheErrorEveryTime) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Data msg = make_str("bad input");
    Future f = submit(pool.get(), "fail", {msg.get()});
    for (int i = 0; i < 2; ++i) {
        subinterp_data* result = nullptr;
        Err e;
        EXPECT_EQ(subinterp_future_result(f.get(), &result, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
        EXPECT_EQ(result, nullptr);
        EXPECT_EQ(e.exc_qualname(), "ValueError");
        EXPECT_EQ(e.message(), "bad input");
        EXPECT_TRUE(contains(e.traceback(), "fail")) << e.traceback();
    }
    EXPECT_EQ(state_of(f.get()), SUBINTERP_FUTURE_FINISHED);
}

TEST(Future, CancelBeforeStartNeverRuns) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Blocker blocker(pool.get());
    TestQueue side;
    Future doomed = submit(pool.get(), "mark", {side.value.get()});
    EXPECT_EQ(state_of(doomed.get()), SUBINTERP_FUTURE_PENDING);
    int cancelled = 0;
    Err e;
    ASSERT_OK(subinterp_future_cancel(doomed.get(), &cancelled, e.out()), e);
    EXPECT_EQ(cancelled, 1);
    EXPECT_EQ(state_of(doomed.get()), SUBINTERP_FUTURE_CANCELLED);
    EXPECT_EQ(outcome(doomed.get()), SUBINTERP_ERR_CANCELLED);
    // Cancelling again still says "stopped".
    cancelled = 0;
    Err e1;
    EXPECT_OK(subinterp_future_cancel(doomed.get(), &cancelled, e1.out()), e1);
    EXPECT_EQ(cancelled, 1);
    // A task queued after it runs once the blocker ends; the cancelled one
    // (before it in FIFO order) never put its mark.
    Data x = make_int(4);
    Future after = submit(pool.get(), "sq", {x.get()});
    blocker.let_go();
    EXPECT_EQ(as_int(result_of(after.get()).get()), 16);
    EXPECT_EQ(queue_size(side.id), 0u);
    EXPECT_EQ(state_of(doomed.get()), SUBINTERP_FUTURE_CANCELLED);
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.cancelled, 1u);
    EXPECT_EQ(stats.succeeded, 2u);
    EXPECT_EQ(stats.submitted, 3u);
}

TEST(Future, CancelWhileRunningInterruptsAndTheWorkerGoesOn) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    const int64_t before = worker_of(pool.get(), 0).interpreter_id;
    TestQueue started;
    Future spinning = submit(pool.get(), "spin", {started.value.get()});
    Data x = make_int(5);
    Future next = submit(pool.get(), "sq", {x.get()});
    started.expect_item("spin started");
    EXPECT_EQ(state_of(spinning.get()), SUBINTERP_FUTURE_RUNNING);
    int cancelled = 0;
    Err e;
    const auto start = Clock::now();
    ASSERT_OK(subinterp_future_cancel(spinning.get(), &cancelled, e.out()), e);
    EXPECT_EQ(cancelled, 1);
    std::string message;
    EXPECT_EQ(outcome(spinning.get(), &message), SUBINTERP_ERR_CANCELLED) << message;
    EXPECT_LT(seconds_since(start), 5.0);
    // Ran (and was stopped): FINISHED with CANCELLED as its outcome.
    EXPECT_EQ(state_of(spinning.get()), SUBINTERP_FUTURE_FINISHED);
    EXPECT_EQ(as_int(result_of(next.get()).get()), 25);
    EXPECT_EQ(worker_of(pool.get(), 0).interpreter_id, before);  // same interpreter, still healthy
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.cancelled, 1u);
    EXPECT_EQ(stats.succeeded, 1u);
    EXPECT_EQ(stats.replaced, 0u);
}

TEST(Future, TaskDeadlineTimesOutAndTheWorkerIsReused) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    const int64_t before = worker_of(pool.get(), 0).interpreter_id;
    TestQueue started;
    const subinterp_run_options opts = with_timeout(0.1);
    Future f = submit(pool.get(), "spin", {started.value.get()}, &opts);
    std::string message;
    const auto start = Clock::now();
    EXPECT_EQ(outcome(f.get(), &message), SUBINTERP_ERR_TIMEOUT) << message;
    EXPECT_LT(seconds_since(start), 5.0);
    EXPECT_TRUE(contains(message, "deadline")) << message;
    Data x = make_int(6);
    Future next = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(next.get()).get()), 36);
    EXPECT_EQ(worker_of(pool.get(), 0).interpreter_id, before);
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.timed_out, 1u);
    EXPECT_EQ(stats.failed, 1u);
    EXPECT_EQ(stats.succeeded, 1u);
    // The deadline counts from when a worker takes the task, not from submit.
    Blocker blocker(pool.get());
    const subinterp_run_options quick = with_timeout(0.2);
    Future waits = submit(pool.get(), "sq", {x.get()}, &quick);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    blocker.let_go();
    EXPECT_EQ(as_int(result_of(waits.get()).get()), 36);
}

TEST(Future, InterruptTheWorkerInterpreterCancelsTheTask) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    TestQueue started;
    Future f = submit(pool.get(), "spin", {started.value.get()});
    started.expect_item("spin started");
    const int64_t worker_id = worker_of(pool.get(), 0).interpreter_id;
    size_t interrupted = 0;
    Err e;
    ASSERT_OK(subinterp_interrupt(worker_id, &interrupted, e.out()), e);
    EXPECT_EQ(interrupted, 1u);
    EXPECT_EQ(outcome(f.get()), SUBINTERP_ERR_CANCELLED);
    Data x = make_int(3);
    Future next = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(next.get()).get()), 9);
}

TEST(Future, OnDoneRunsExactlyOnce) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    struct Log {
        std::atomic<int> calls{0};
        std::mutex mutex;
        std::thread::id thread;
        subinterp_status result_status = SUBINTERP_ERR_INTERNAL;
        int64_t value = -1;
    };
    const auto record = [](void* context, subinterp_future* future) {
        auto* log = static_cast<Log*>(context);
        subinterp_data* result = nullptr;
        const subinterp_status status = subinterp_future_result(future, &result, nullptr, nullptr);
        {
            std::lock_guard<std::mutex> lock(log->mutex);
            log->thread = std::this_thread::get_id();
            log->result_status = status;
            if (status == SUBINTERP_OK) subinterp_data_get_int(result, &log->value, nullptr);
        }
        subinterp_data_free(result);
        log->calls.fetch_add(1);
    };

    // Already done: at once, on this thread.
    Data x = make_int(3);
    Future done = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(done.get()).get()), 9);
    Log now;
    Err e;
    ASSERT_OK(subinterp_future_on_done(done.get(), record, &now, e.out()), e);
    EXPECT_EQ(now.calls.load(), 1);
    EXPECT_EQ(now.thread, std::this_thread::get_id());
    EXPECT_EQ(now.result_status, SUBINTERP_OK);
    EXPECT_EQ(now.value, 9);

    // Not done yet: later, from the worker; two callbacks, both once.
    Blocker blocker(pool.get());
    Data y = make_int(11);
    Future later = submit(pool.get(), "sq", {y.get()});
    Log first, second;
    Err e1, e2;
    ASSERT_OK(subinterp_future_on_done(later.get(), record, &first, e1.out()), e1);
    ASSERT_OK(subinterp_future_on_done(later.get(), record, &second, e2.out()), e2);
    EXPECT_EQ(first.calls.load(), 0);
    blocker.let_go();
    EXPECT_EQ(as_int(result_of(later.get()).get()), 121);
    ASSERT_TRUE(eventually([&] { return first.calls.load() == 1 && second.calls.load() == 1; }));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(first.calls.load(), 1);
    EXPECT_EQ(second.calls.load(), 1);
    {
        std::lock_guard<std::mutex> lock(first.mutex);
        EXPECT_NE(first.thread, std::this_thread::get_id());
        EXPECT_EQ(first.result_status, SUBINTERP_OK);
        EXPECT_EQ(first.value, 121);
    }

    // Cancelled while pending: on the cancelling thread, with CANCELLED.
    Blocker blocker2(pool.get());
    Future doomed = submit(pool.get(), "sq", {y.get()});
    Log on_cancel;
    Err e3;
    ASSERT_OK(subinterp_future_on_done(doomed.get(), record, &on_cancel, e3.out()), e3);
    ASSERT_OK(subinterp_future_cancel(doomed.get(), nullptr, e3.out()), e3);
    EXPECT_EQ(on_cancel.calls.load(), 1);
    EXPECT_EQ(on_cancel.thread, std::this_thread::get_id());
    EXPECT_EQ(on_cancel.result_status, SUBINTERP_ERR_CANCELLED);
    blocker2.let_go();
    result_of(blocker2.future.get());
    EXPECT_EQ(on_cancel.calls.load(), 1);
}

TEST(Future, OnDoneCallbackMaySubmitButNotWaitForItsOwnPool) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    struct Ctx {
        subinterp_pool* pool;
        std::atomic<int> calls{0};
        std::atomic<int> shutdown_status{-1};
        std::atomic<int> submit_status{-1};
        std::string shutdown_message;
        subinterp_future* submitted = nullptr;
    } ctx;
    ctx.pool = pool.get();
    const auto callback = [](void* context, subinterp_future*) {
        auto* c = static_cast<Ctx*>(context);
        subinterp_error* err = nullptr;
        c->submit_status = subinterp_pool_submit(c->pool, "sq", nullptr, nullptr, nullptr, SUBINTERP_NO_WAIT,
                                                 &c->submitted, nullptr);
        c->shutdown_status = subinterp_pool_shutdown(c->pool, 1, 0, &err);
        c->shutdown_message = subinterp_error_message(err);
        subinterp_error_free(err);
        c->calls.fetch_add(1);
    };
    Blocker blocker(pool.get());
    Err e;
    ASSERT_OK(subinterp_future_on_done(blocker.future.get(), callback, &ctx, e.out()), e);
    blocker.let_go();
    ASSERT_TRUE(eventually([&] { return ctx.calls.load() == 1; }));
    EXPECT_EQ(ctx.shutdown_status.load(), SUBINTERP_ERR_BUSY) << ctx.shutdown_message;
    // The submit from the callback went in (sq() without its argument fails).
    EXPECT_EQ(ctx.submit_status.load(), SUBINTERP_OK);
    Future submitted(ctx.submitted);
    if (submitted) {
        EXPECT_EQ(outcome(submitted.get()), SUBINTERP_ERR_PYTHON);
    }
    // The pool still works; shut down normally from here.
    Data x = make_int(2);
    Future f = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(f.get()).get()), 4);
    Err se;
    EXPECT_OK(subinterp_pool_shutdown(pool.get(), 1, 0, se.out()), se);
}

TEST(Future, OnDoneCallbackShutsDownWithoutWaiting) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    struct Ctx {
        subinterp_pool* pool;
        std::atomic<int> status{-1};
    } ctx{pool.get()};
    const auto callback = [](void* context, subinterp_future*) {
        auto* c = static_cast<Ctx*>(context);
        c->status = subinterp_pool_shutdown(c->pool, 0, 1, nullptr);
    };
    Data x = make_int(2);
    Blocker blocker(pool.get());
    Future pending = submit(pool.get(), "sq", {x.get()});
    Err e;
    ASSERT_OK(subinterp_future_on_done(blocker.future.get(), callback, &ctx, e.out()), e);
    blocker.let_go();
    EXPECT_EQ(outcome(pending.get()), SUBINTERP_ERR_CANCELLED);
    ASSERT_TRUE(eventually([&] { return ctx.status.load() != -1; }));
    EXPECT_EQ(ctx.status.load(), SUBINTERP_OK);
    Err se;
    EXPECT_OK(subinterp_pool_shutdown(pool.get(), 1, 0, se.out()), se);
}

// ---------------------------------------------------------------------------
// Back-pressure
// ---------------------------------------------------------------------------

TEST(Pool, BackPressure) {
    Pool pool = make_pool(1, kInit, /*max_queued=*/1);
    ASSERT_NE(pool, nullptr);
    Blocker blocker(pool.get());
    Data x = make_int(3);
    Future queued = submit(pool.get(), "sq", {x.get()}, nullptr, SUBINTERP_NO_WAIT);  // fills the queue
    ASSERT_NE(queued, nullptr);
    Data args = make_tuple({x.get()});
    subinterp_future* refused = nullptr;
    Err e;
    auto start = Clock::now();
    EXPECT_EQ(subinterp_pool_submit(pool.get(), "sq", args.get(), nullptr, nullptr, SUBINTERP_NO_WAIT, &refused, e.out()),
              SUBINTERP_ERR_QUEUE_FULL);
    EXPECT_LT(seconds_since(start), 0.5);
    EXPECT_EQ(refused, nullptr);
    Err e2;
    start = Clock::now();
    EXPECT_EQ(subinterp_pool_submit(pool.get(), "sq", args.get(), nullptr, nullptr, 0.05, &refused, e2.out()),
              SUBINTERP_ERR_QUEUE_FULL);
    const double waited = seconds_since(start);
    EXPECT_GE(waited, 0.045);
    EXPECT_LT(waited, 5.0);
    EXPECT_EQ(refused, nullptr);

    // Waiting as long as it takes: returns once the blocker ends and the
    // queued task is taken.
    std::atomic<bool> returned{false};
    subinterp_status status = SUBINTERP_ERR_INTERNAL;
    subinterp_future* patient = nullptr;
    std::thread waiter([&] {
        status = subinterp_pool_submit(pool.get(), "sq", args.get(), nullptr, nullptr, SUBINTERP_WAIT_FOREVER, &patient,
                                       nullptr);
        returned = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_FALSE(returned.load());
    blocker.let_go();
    waiter.join();
    EXPECT_EQ(status, SUBINTERP_OK);
    Future owned(patient);
    EXPECT_EQ(as_int(result_of(owned.get()).get()), 9);
    EXPECT_EQ(as_int(result_of(queued.get()).get()), 9);
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.submitted, 3u);  // refused ones are not counted
}

// ---------------------------------------------------------------------------
// Worker health and replacement
// ---------------------------------------------------------------------------

TEST(Pool, WorkerReplacedAfterMaxTasks) {
    Pool pool = make_pool(1, kInit, 0, /*max_tasks_per_worker=*/1);
    ASSERT_NE(pool, nullptr);
    std::vector<int64_t> ids;
    ids.push_back(worker_of(pool.get(), 0).interpreter_id);
    ASSERT_GT(ids[0], 0);
    for (int i = 0; i < 3; ++i) {
        Data x = make_int(i);
        Future f = submit(pool.get(), "sq", {x.get()});
        EXPECT_EQ(as_int(result_of(f.get()).get()), i * i);
        // The worker replaces its interpreter after the task (and init ran
        // again in the new one: sq is defined).
        ASSERT_TRUE(eventually([&] {
            const subinterp_pool_worker w = worker_of(pool.get(), 0);
            return w.alive && w.interpreter_id > 0 && w.interpreter_id != ids.back();
        }));
        ids.push_back(worker_of(pool.get(), 0).interpreter_id);
    }
    for (size_t i = 1; i < ids.size(); ++i) EXPECT_NE(ids[i], ids[i - 1]);
    const subinterp_pool_worker w = worker_of(pool.get(), 0);
    EXPECT_EQ(w.replaced, 3u);
    EXPECT_EQ(w.tasks, 3u);
    EXPECT_EQ(stats_of(pool.get()).replaced, 3u);
    // The old interpreters are gone.
    Err e;
    EXPECT_EQ(subinterp_interrupt(ids[0], nullptr, e.out()), SUBINTERP_ERR_NOT_FOUND);
}

TEST(Pool, BrokenInterpreterIsReplaced) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    const int64_t before = worker_of(pool.get(), 0).interpreter_id;
    Future f = submit(pool.get(), "breaker");
    std::string message;
    EXPECT_EQ(outcome(f.get(), &message), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(message, "broke my own interpreter");
    ASSERT_TRUE(eventually([&] { return stats_of(pool.get()).replaced == 1; }));
    const subinterp_pool_worker w = worker_of(pool.get(), 0);
    EXPECT_TRUE(w.alive);
    EXPECT_NE(w.interpreter_id, before);
    EXPECT_EQ(w.failed, 1u);
    Data x = make_int(8);
    Future next = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(next.get()).get()), 64);
    Err ce;
    EXPECT_OK(subinterp_pool_check(pool.get(), ce.out()), ce);
    // An ordinary failure does not replace the interpreter.
    Data msg = make_str("ordinary");
    Future g = submit(pool.get(), "fail", {msg.get()});
    EXPECT_EQ(outcome(g.get()), SUBINTERP_ERR_PYTHON);
    Future after = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(after.get()).get()), 64);
    EXPECT_EQ(stats_of(pool.get()).replaced, 1u);
    EXPECT_EQ(worker_of(pool.get(), 0).interpreter_id, w.interpreter_id);
}

TEST(Pool, ReplacementWhoseInitFailsDegradesThePool) {
    // init fails from its second run on (a file flag would do across
    // interpreters; a queue is simpler): the first start takes the only item.
    TestQueue ticket;
    ticket.put(1);
    subinterp_pool_options opts;
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 1;
    opts.max_tasks_per_worker = 1;
    opts.init_source = "def sq(x):\n    return x * x\n";
    opts.init_callable = "_subinterp_take";
    // init_callable runs after init_source; define the taker there.
    std::string source = std::string(opts.init_source) +
                         "def _subinterp_take(q):\n"
                         "    q.get(timeout=0)\n";
    opts.init_source = source.c_str();
    Data args = make_tuple({ticket.value.get()});
    opts.init_args = args.get();
    subinterp_pool* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_create(&opts, &raw, e.out()), e);
    Pool pool(raw);
    Data x = make_int(2);
    Future f = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(f.get()).get()), 4);
    // The replacement's init finds the queue empty and fails.
    ASSERT_TRUE(eventually([&] { return subinterp_pool_check(pool.get(), nullptr) != SUBINTERP_OK; }));
    EXPECT_EQ(stats_of(pool.get()).live_workers, 0u);
    Err ce;
    EXPECT_EQ(subinterp_pool_check(pool.get(), ce.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_TRUE(contains(ce.message(), "pool worker 0 could not be replaced")) << ce.message();
    EXPECT_FALSE(worker_of(pool.get(), 0).alive);
    Data args2 = make_tuple({x.get()});
    subinterp_future* refused = nullptr;
    Err se;
    EXPECT_EQ(subinterp_pool_submit(pool.get(), "sq", args2.get(), nullptr, nullptr, SUBINTERP_NO_WAIT, &refused,
                                    se.out()),
              SUBINTERP_ERR_RUNTIME);
    EXPECT_EQ(refused, nullptr);
}

TEST(Pool, InitSourceThatRaisesFailsCreate) {
    const size_t before = interpreter_count();
    subinterp_pool_options opts;
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 2;
    opts.init_source = "raise ValueError('no init for you')\n";
    subinterp_pool* pool = nullptr;
    Err e;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(pool, nullptr);
    EXPECT_EQ(e.message(), "pool worker 0: no init for you");
    EXPECT_EQ(e.exc_qualname(), "ValueError");
    EXPECT_TRUE(contains(e.traceback(), "no init for you")) << e.traceback();
    EXPECT_EQ(interpreter_count(), before);  // nothing left behind
    // A bad init_callable name too.
    opts.init_source = nullptr;
    opts.init_callable = "nosuchmodule_xyz:f";
    Err e2;
    EXPECT_NE(subinterp_pool_create(&opts, &pool, e2.out()), SUBINTERP_OK);
    EXPECT_EQ(pool, nullptr);
    EXPECT_EQ(e2.message().rfind("pool worker ", 0), 0u) << e2.message();
    EXPECT_EQ(interpreter_count(), before);
}

TEST(Pool, BadOptionsAreRefused) {
    subinterp_pool* pool = nullptr;
    subinterp_config config = SUBINTERP_CONFIG_INIT;
    config.gil = 7;
    subinterp_pool_options opts;
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 1;
    opts.config = &config;
    Err e;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e.out()), SUBINTERP_ERR_CONFIG);
    EXPECT_EQ(pool, nullptr);
    config = SUBINTERP_CONFIG_INIT;
    config.use_main_obmalloc = 1;  // with an own GIL
    Err e1;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e1.out()), SUBINTERP_ERR_CONFIG);

    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 100000;
    Err e2;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e2.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.struct_size = 3;
    Err e3;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e3.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.struct_size = sizeof(subinterp_pool_options) + 8;
    Err e4;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e4.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    opts.workers = 1;
    Data one = make_int(1);
    Data init_args = make_tuple({one.get()});
    opts.init_args = init_args.get();  // without init_callable
    Err e5;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e5.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    opts.init_callable = "a::b";
    Err e6;
    EXPECT_EQ(subinterp_pool_create(&opts, &pool, e6.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(pool, nullptr);
}

TEST(Pool, BadSubmitArgumentsAreRefusedBeforeQueueing) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    subinterp_future* f = nullptr;
    Data seven = make_int(7);
    Data nan_opts_args = subinterp_test::make_tuple({});
    struct Case {
        const char* what;
        const char* callable;
        const subinterp_data* args;
        const subinterp_data* kwargs;
    } cases[] = {
        {"two colons", "a:b:c", nullptr, nullptr},
        {"empty module part", ":f", nullptr, nullptr},
        {"empty name part", "math:", nullptr, nullptr},
        {"empty callable", "", nullptr, nullptr},
        {"args of kind int", "sq", seven.get(), nullptr},
        {"kwargs of kind int", "sq", nullptr, seven.get()},
    };
    for (const Case& c : cases) {
        Err e;
        EXPECT_EQ(subinterp_pool_submit(pool.get(), c.callable, c.args, c.kwargs, nullptr, SUBINTERP_NO_WAIT, &f, e.out()),
                  SUBINTERP_ERR_INVALID_ARGUMENT)
            << c.what;
        EXPECT_EQ(f, nullptr) << c.what;
        subinterp_future_free(f);
        f = nullptr;
    }
    const subinterp_run_options nan_timeout = with_timeout(std::nan(""));
    Err e;
    EXPECT_EQ(subinterp_pool_submit(pool.get(), "sq", nan_opts_args.get(), nullptr, &nan_timeout, SUBINTERP_NO_WAIT, &f,
                                    e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    Err e2;
    EXPECT_EQ(subinterp_pool_submit(pool.get(), "sq", nan_opts_args.get(), nullptr, nullptr, std::nan(""), &f, e2.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(stats_of(pool.get()).submitted, 0u);
}

// ---------------------------------------------------------------------------
// Shutdown
// ---------------------------------------------------------------------------

TEST(Pool, ShutdownCancelsPending) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Blocker blocker(pool.get());
    TestQueue side;
    std::vector<Future> pending;
    for (int i = 0; i < 3; ++i) pending.push_back(submit(pool.get(), "mark", {side.value.get()}));
    Err e;
    ASSERT_OK(subinterp_pool_shutdown(pool.get(), /*wait=*/0, /*cancel_pending=*/1, e.out()), e);
    for (const Future& f : pending) {
        EXPECT_EQ(state_of(f.get()), SUBINTERP_FUTURE_CANCELLED);
        EXPECT_EQ(outcome(f.get()), SUBINTERP_ERR_CANCELLED);
    }
    // Running tasks are not interrupted.
    EXPECT_EQ(state_of(blocker.future.get()), SUBINTERP_FUTURE_RUNNING);
    blocker.let_go(5);
    EXPECT_EQ(as_int(result_of(blocker.future.get()).get()), 5);
    Err e2;
    EXPECT_OK(subinterp_pool_shutdown(pool.get(), 1, 1, e2.out()), e2);  // again: OK
    EXPECT_EQ(queue_size(side.id), 0u);
    Data x = make_int(1);
    Data args = make_tuple({x.get()});
    subinterp_future* f = nullptr;
    Err e3;
    EXPECT_EQ(subinterp_pool_submit(pool.get(), "sq", args.get(), nullptr, nullptr, SUBINTERP_NO_WAIT, &f, e3.out()),
              SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(f, nullptr);
    subinterp_data* result = nullptr;
    Err e4;
    EXPECT_EQ(subinterp_pool_call(pool.get(), "sq", args.get(), nullptr, nullptr, &result, nullptr, e4.out()),
              SUBINTERP_ERR_CLOSED);
    Err ce;
    EXPECT_EQ(subinterp_pool_check(pool.get(), ce.out()), SUBINTERP_ERR_RUNTIME);
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.cancelled, 3u);
    EXPECT_EQ(stats.succeeded, 1u);
    EXPECT_EQ(stats.live_workers, 0u);
    EXPECT_EQ(worker_of(pool.get(), 0).interpreter_id, -1);
}

TEST(Pool, ShutdownLetsPendingComplete) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Blocker blocker(pool.get());
    std::vector<Future> pending;
    for (int i = 0; i < 3; ++i) {
        Data x = make_int(i + 1);
        pending.push_back(submit(pool.get(), "sq", {x.get()}));
    }
    Err e;
    ASSERT_OK(subinterp_pool_shutdown(pool.get(), 0, 0, e.out()), e);
    for (const Future& f : pending) EXPECT_EQ(state_of(f.get()), SUBINTERP_FUTURE_PENDING);
    blocker.let_go();
    Err e2;
    ASSERT_OK(subinterp_pool_shutdown(pool.get(), 1, 0, e2.out()), e2);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(state_of(pending[i].get()), SUBINTERP_FUTURE_FINISHED);
        EXPECT_EQ(as_int(result_of(pending[i].get()).get()), (i + 1) * (i + 1));
    }
    const subinterp_pool_stats stats = stats_of(pool.get());
    EXPECT_EQ(stats.succeeded, 4u);
    EXPECT_EQ(stats.cancelled, 0u);
}

TEST(Pool, FreeWithPendingWorkCancelsItAndFuturesStayValid) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Blocker blocker(pool.get());
    Data x = make_int(2);
    Future pending = submit(pool.get(), "sq", {x.get()});
    std::thread releaser([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        blocker.let_go();
    });
    pool.reset();  // waits for the running task
    releaser.join();
    EXPECT_EQ(outcome(pending.get()), SUBINTERP_ERR_CANCELLED);
    EXPECT_EQ(outcome(blocker.future.get()), SUBINTERP_OK);
}

TEST(Pool, WorkerInterpretersBelongToThePool) {
    Pool pool = make_pool(2);
    ASSERT_NE(pool, nullptr);
    for (size_t i = 0; i < 2; ++i) {
        const subinterp_pool_worker w = worker_of(pool.get(), i);
        EXPECT_TRUE(w.alive);
        EXPECT_FALSE(w.busy);
        ASSERT_GT(w.interpreter_id, 0);
        // Listed, but not the host's to destroy.
        size_t count = 0;
        ASSERT_EQ(subinterp_list(nullptr, 0, &count, nullptr), SUBINTERP_OK);
        std::vector<int64_t> ids(count);
        ASSERT_EQ(subinterp_list(ids.data(), ids.size(), &count, nullptr), SUBINTERP_OK);
        EXPECT_NE(std::find(ids.begin(), ids.end(), w.interpreter_id), ids.end());
        Err e;
        EXPECT_EQ(subinterp_destroy(w.interpreter_id, e.out()), SUBINTERP_ERR_BUSY);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_BUSY);
    }
    subinterp_pool_worker w = SUBINTERP_POOL_WORKER_INIT;
    Err e;
    EXPECT_EQ(subinterp_pool_get_worker(pool.get(), 2, &w, e.out()), SUBINTERP_ERR_INDEX);
    w.struct_size = 1;
    Err e2;
    EXPECT_EQ(subinterp_pool_get_worker(pool.get(), 0, &w, e2.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    subinterp_pool_stats s = SUBINTERP_POOL_STATS_INIT;
    s.struct_size = 1;
    Err e3;
    EXPECT_EQ(subinterp_pool_get_stats(pool.get(), &s, e3.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    // Still working.
    Data x = make_int(3);
    Future f = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(f.get()).get()), 9);
}

TEST(Pool, StatsAreConsistent) {
    Pool pool = make_pool(2);
    ASSERT_NE(pool, nullptr);
    std::vector<Future> futures;
    for (int i = 0; i < 10; ++i) {
        Data x = make_int(i);
        futures.push_back(submit(pool.get(), "sq", {x.get()}));
    }
    Data msg = make_str("x");
    futures.push_back(submit(pool.get(), "fail", {msg.get()}));
    TestQueue started;
    const subinterp_run_options opts = with_timeout(0.1);
    futures.push_back(submit(pool.get(), "spin", {started.value.get()}, &opts));
    for (const Future& f : futures) outcome(f.get());
    TestQueue started2;
    Future cancelled = submit(pool.get(), "spin", {started2.value.get()});
    started2.expect_item("spin started");
    ASSERT_EQ(subinterp_future_cancel(cancelled.get(), nullptr, nullptr), SUBINTERP_OK);
    EXPECT_EQ(outcome(cancelled.get()), SUBINTERP_ERR_CANCELLED);
    ASSERT_TRUE(eventually([&] { return stats_of(pool.get()).busy_workers == 0; }));
    const subinterp_pool_stats s = stats_of(pool.get());
    EXPECT_EQ(s.workers, 2u);
    EXPECT_EQ(s.live_workers, 2u);
    EXPECT_EQ(s.busy_workers, 0u);
    EXPECT_EQ(s.queued, 0u);
    EXPECT_EQ(s.submitted, 13u);
    EXPECT_EQ(s.succeeded, 10u);
    EXPECT_EQ(s.failed, 2u);
    EXPECT_EQ(s.timed_out, 1u);
    EXPECT_EQ(s.cancelled, 1u);
    EXPECT_EQ(s.replaced, 0u);
    EXPECT_EQ(s.submitted, s.succeeded + s.failed + s.cancelled);
    const uint64_t tasks = worker_of(pool.get(), 0).tasks + worker_of(pool.get(), 1).tasks;
    EXPECT_EQ(tasks, 13u);
    const uint64_t failed = worker_of(pool.get(), 0).failed + worker_of(pool.get(), 1).failed;
    EXPECT_EQ(failed, 2u);
}

TEST(Pool, HundredThousandSmallTasksNothingLost) {
    Pool pool = make_pool(2, "def inc(x):\n    return x + 1\n");
    ASSERT_NE(pool, nullptr);
    constexpr int64_t kTasks = 100000;
    const auto start = Clock::now();
    std::vector<Future> futures;
    futures.reserve(kTasks);
    for (int64_t i = 0; i < kTasks; ++i) {
        Data x = make_int(i);
        Data args = make_tuple({x.get()});
        subinterp_future* f = nullptr;
        ASSERT_EQ(subinterp_pool_submit(pool.get(), "inc", args.get(), nullptr, nullptr, SUBINTERP_WAIT_FOREVER, &f,
                                        nullptr),
                  SUBINTERP_OK);
        futures.emplace_back(f);
    }
    int64_t sum = 0;
    int failures = 0;
    for (const Future& f : futures) {
        subinterp_data* result = nullptr;
        int64_t v = 0;
        if (subinterp_future_result(f.get(), &result, nullptr, nullptr) != SUBINTERP_OK ||
            subinterp_data_get_int(result, &v, nullptr) != SUBINTERP_OK) {
            ++failures;
        }
        sum += v;
        subinterp_data_free(result);
    }
    const double elapsed = seconds_since(start);
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(sum, kTasks * (kTasks + 1) / 2);
    const subinterp_pool_stats s = stats_of(pool.get());
    EXPECT_EQ(s.submitted, uint64_t(kTasks));
    EXPECT_EQ(s.succeeded, uint64_t(kTasks));
    EXPECT_GT(worker_of(pool.get(), 0).tasks, 0u);
    EXPECT_GT(worker_of(pool.get(), 1).tasks, 0u);
    EXPECT_LT(elapsed, 60.0);  // typically a few seconds
    std::printf("100000 tasks in %.2f s\n", elapsed);
}

TEST(Pool, ManyHostThreadsSubmitAtOnce) {
    Pool pool = make_pool(2, "def inc(x):\n    return x + 1\n", /*max_queued=*/4);
    ASSERT_NE(pool, nullptr);
    std::atomic<int64_t> sum{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 200; ++i) {
                Data x = make_int(t * 1000 + i);
                Data args = make_tuple({x.get()});
                subinterp_data* result = nullptr;
                int64_t v = 0;
                if (subinterp_pool_call(pool.get(), "inc", args.get(), nullptr, nullptr, &result, nullptr, nullptr) !=
                        SUBINTERP_OK ||
                    subinterp_data_get_int(result, &v, nullptr) != SUBINTERP_OK) {
                    ++failures;
                }
                sum += v;
                subinterp_data_free(result);
            }
        });
    }
    for (auto& t : threads) t.join();
    int64_t expected = 0;
    for (int t = 0; t < 6; ++t)
        for (int i = 0; i < 200; ++i) expected += t * 1000 + i + 1;
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(sum.load(), expected);
}

// Runs in its own process (gtest_discover_tests), as every test here does.
TEST(Pool, RuntimeFinalizeWithALivePool) {
    Pool pool = make_pool(2);
    ASSERT_NE(pool, nullptr);
    Data x = make_int(4);
    Future done = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(done.get()).get()), 16);
    Err e;
    ASSERT_OK(subinterp_runtime_finalize(e.out()), e);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_FINALIZED);
    // The pool is shut down; its handle and futures are still usable.
    Data args = make_tuple({x.get()});
    subinterp_future* f = nullptr;
    Err e2;
    EXPECT_NE(subinterp_pool_submit(pool.get(), "sq", args.get(), nullptr, nullptr, SUBINTERP_NO_WAIT, &f, e2.out()),
              SUBINTERP_OK);
    EXPECT_EQ(f, nullptr);
    Err ce;
    EXPECT_EQ(subinterp_pool_check(pool.get(), ce.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_EQ(stats_of(pool.get()).live_workers, 0u);
    EXPECT_EQ(as_int(result_of(done.get()).get()), 16);
    Err se;
    EXPECT_OK(subinterp_pool_shutdown(pool.get(), 1, 1, se.out()), se);
    pool.reset();
    // A new pool cannot start.
    subinterp_pool* again = nullptr;
    Err e3;
    EXPECT_EQ(subinterp_pool_create(nullptr, &again, e3.out()), SUBINTERP_ERR_RUNTIME);
    EXPECT_EQ(again, nullptr);
}

TEST(Pool, RuntimeFinalizeWhileATaskRunsIsBusy) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Blocker blocker(pool.get());
    Err e;
    EXPECT_EQ(subinterp_runtime_finalize(e.out()), SUBINTERP_ERR_BUSY) << e.message();
    blocker.let_go();
    EXPECT_EQ(outcome(blocker.future.get()), SUBINTERP_OK);
    Data x = make_int(4);
    Future f = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(f.get()).get()), 16);
}

TEST(Pool, DefaultOptionsAndNullOptions) {
    subinterp_pool* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_pool_create(nullptr, &raw, e.out()), e);
    Pool pool(raw);
    const subinterp_pool_stats s = stats_of(pool.get());
    EXPECT_EQ(s.workers, std::max(1u, std::thread::hardware_concurrency()));
    Data x = make_int(-3);
    Data args = make_tuple({x.get()});
    subinterp_data* result = nullptr;
    Err e2;
    ASSERT_OK(subinterp_pool_call(pool.get(), "abs", args.get(), nullptr, nullptr, &result, nullptr, e2.out()), e2);
    Data owned(result);
    EXPECT_EQ(as_int(result), 3);
    subinterp_pool_options opts;
    std::memset(&opts, 0xab, sizeof opts);
    ASSERT_EQ(subinterp_pool_options_init(&opts), SUBINTERP_OK);
    EXPECT_EQ(opts.struct_size, sizeof(subinterp_pool_options));
    EXPECT_EQ(opts.workers, 0u);
    EXPECT_EQ(opts.config, nullptr);
    EXPECT_EQ(opts.init_source, nullptr);
    EXPECT_EQ(opts.init_callable, nullptr);
    EXPECT_EQ(opts.init_args, nullptr);
    EXPECT_EQ(opts.max_queued, 0u);
    EXPECT_EQ(opts.max_tasks_per_worker, 0u);
}

// ---------------------------------------------------------------------------
// NULL pointers
// ---------------------------------------------------------------------------

TEST(PoolNull, EveryPointerParameter) {
    Pool pool = make_pool(1);
    ASSERT_NE(pool, nullptr);
    Data x = make_int(2);
    Future f = submit(pool.get(), "sq", {x.get()});
    result_of(f.get());
    Data args = make_tuple({x.get()});
    Data lists = make_list({args.get()});
    subinterp_pool* p = nullptr;
    subinterp_future* fut = nullptr;
    subinterp_data* d = nullptr;
    subinterp_future_state st;
    subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
    subinterp_pool_worker worker = SUBINTERP_POOL_WORKER_INIT;
    const auto callback = [](void*, subinterp_future*) {};
    struct Case {
        const char* what;
        std::function<subinterp_status(subinterp_error**)> call;
    };
    const std::vector<Case> cases = {
        {"pool_options_init(opts)", [&](subinterp_error**) { return subinterp_pool_options_init(nullptr); }},
        {"pool_create(pool)", [&](subinterp_error** e) { return subinterp_pool_create(nullptr, nullptr, e); }},
        {"pool_submit(pool)",
         [&](subinterp_error** e) { return subinterp_pool_submit(nullptr, "sq", args.get(), nullptr, nullptr, 0, &fut, e); }},
        {"pool_submit(callable)",
         [&](subinterp_error** e) { return subinterp_pool_submit(pool.get(), nullptr, args.get(), nullptr, nullptr, 0, &fut, e); }},
        {"pool_submit(future)",
         [&](subinterp_error** e) { return subinterp_pool_submit(pool.get(), "sq", args.get(), nullptr, nullptr, 0, nullptr, e); }},
        {"pool_call(pool)",
         [&](subinterp_error** e) { return subinterp_pool_call(nullptr, "sq", args.get(), nullptr, nullptr, &d, nullptr, e); }},
        {"pool_call(callable)",
         [&](subinterp_error** e) { return subinterp_pool_call(pool.get(), nullptr, args.get(), nullptr, nullptr, &d, nullptr, e); }},
        {"pool_call(result)",
         [&](subinterp_error** e) { return subinterp_pool_call(pool.get(), "sq", args.get(), nullptr, nullptr, nullptr, nullptr, e); }},
        {"pool_map(pool)", [&](subinterp_error** e) { return subinterp_pool_map(nullptr, "sq", lists.get(), nullptr, &d, e); }},
        {"pool_map(callable)",
         [&](subinterp_error** e) { return subinterp_pool_map(pool.get(), nullptr, lists.get(), nullptr, &d, e); }},
        {"pool_map(arg_lists)", [&](subinterp_error** e) { return subinterp_pool_map(pool.get(), "sq", nullptr, nullptr, &d, e); }},
        {"pool_map(results)",
         [&](subinterp_error** e) { return subinterp_pool_map(pool.get(), "sq", lists.get(), nullptr, nullptr, e); }},
        {"pool_shutdown(pool)", [&](subinterp_error** e) { return subinterp_pool_shutdown(nullptr, 1, 1, e); }},
        {"pool_check(pool)", [&](subinterp_error** e) { return subinterp_pool_check(nullptr, e); }},
        {"pool_get_stats(pool)", [&](subinterp_error** e) { return subinterp_pool_get_stats(nullptr, &stats, e); }},
        {"pool_get_stats(stats)", [&](subinterp_error** e) { return subinterp_pool_get_stats(pool.get(), nullptr, e); }},
        {"pool_get_worker(pool)", [&](subinterp_error** e) { return subinterp_pool_get_worker(nullptr, 0, &worker, e); }},
        {"pool_get_worker(worker)", [&](subinterp_error** e) { return subinterp_pool_get_worker(pool.get(), 0, nullptr, e); }},
        {"future_get_state(future)", [&](subinterp_error** e) { return subinterp_future_get_state(nullptr, &st, e); }},
        {"future_get_state(state)", [&](subinterp_error** e) { return subinterp_future_get_state(f.get(), nullptr, e); }},
        {"future_wait(future)", [&](subinterp_error** e) { return subinterp_future_wait(nullptr, 0, e); }},
        {"future_result(future)", [&](subinterp_error** e) { return subinterp_future_result(nullptr, &d, nullptr, e); }},
        {"future_result(result)", [&](subinterp_error** e) { return subinterp_future_result(f.get(), nullptr, nullptr, e); }},
        {"future_cancel(future)", [&](subinterp_error** e) { return subinterp_future_cancel(nullptr, nullptr, e); }},
        {"future_on_done(future)", [&](subinterp_error** e) { return subinterp_future_on_done(nullptr, callback, nullptr, e); }},
        {"future_on_done(callback)", [&](subinterp_error** e) { return subinterp_future_on_done(f.get(), nullptr, nullptr, e); }},
        {"check_imports(report)",
         [&](subinterp_error** e) {
             const char* modules[] = {"math"};
             return subinterp_check_imports(nullptr, modules, 1, nullptr, e);
         }},
        {"check_imports(modules)", [&](subinterp_error** e) { return subinterp_check_imports(nullptr, nullptr, 1, &d, e); }},
    };
    for (const Case& c : cases) {
        Err e;
        EXPECT_EQ(c.call(e.out()), SUBINTERP_ERR_INVALID_ARGUMENT) << c.what;
        if (std::string(c.what) != "pool_options_init(opts)") {
            EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT) << c.what;
            EXPECT_FALSE(e.message().empty()) << c.what;
        }
        // And with a NULL err.
        EXPECT_EQ(c.call(nullptr), SUBINTERP_ERR_INVALID_ARGUMENT) << c.what << " (NULL err)";
    }
    EXPECT_EQ(p, nullptr);
    EXPECT_EQ(fut, nullptr);
    EXPECT_EQ(d, nullptr);
    // Free functions accept NULL.
    subinterp_pool_free(nullptr);
    subinterp_future_free(nullptr);
    // Optional out-parameters may be NULL.
    Err e;
    EXPECT_OK(subinterp_future_cancel(f.get(), nullptr, e.out()), e);
    subinterp_data* r = nullptr;
    Err e2;
    EXPECT_OK(subinterp_future_result(f.get(), &r, nullptr, e2.out()), e2);
    subinterp_data_free(r);
    // The pool still works.
    Future g = submit(pool.get(), "sq", {x.get()});
    EXPECT_EQ(as_int(result_of(g.get()).get()), 4);
}
