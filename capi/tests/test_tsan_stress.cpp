// Concurrency stress for ThreadSanitizer (ci/tsan): the registries and the
// queues hammered from many host threads at once, on shared ids, where the
// other tests mostly give each thread its own objects.
//
//  - TsanQueues.*: no Python at all. Threads create, put, get, close,
//    destroy, retain/release and wrap the same queue ids concurrently;
//    blocked getters and putters are woken by destroy, by close and by a
//    last hold dropped on another thread.
//  - TsanRegistry.*: the interpreter registry (create/destroy/list/lookup of
//    the same ids from several threads) and the pool registry (pools created
//    and freed on several threads while their workers are listed).
//
// Every call's status must be one the ABI documents for the situation (a
// queue destroyed under a caller is NOT_FOUND, a closed one CLOSED, ...): the
// tests count anything else. Under TSan, any data race, lock-order inversion
// or use-after-free in the library fails the run as well. Each test runs in
// its own process (gtest_discover_tests).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "queue_helpers.hpp"

using namespace subinterp_test;

namespace {

// Counts statuses outside an allowed set, remembering the first few for the
// failure message.
class Unexpected {
public:
    void check(const char* what, subinterp_status status, std::initializer_list<subinterp_status> allowed) {
        if (std::find(allowed.begin(), allowed.end(), status) != allowed.end()) return;
        count_.fetch_add(1);
        std::lock_guard lock(mutex_);
        if (first_.size() < 10) first_.push_back(std::string(what) + " -> " + subinterp_status_name(status));
    }
    int count() const { return count_.load(); }
    std::string first() {
        std::lock_guard lock(mutex_);
        std::string text;
        for (const auto& line : first_) text += "  " + line + "\n";
        return text;
    }

private:
    std::atomic<int> count_{0};
    std::mutex mutex_;
    std::vector<std::string> first_;
};

void sleep_us(int us) { std::this_thread::sleep_for(std::chrono::microseconds(us)); }

}  // namespace

// --- queues, no Python ---------------------------------------------------------------------

// Six threads, a few shared slots of queue ids, and every queue operation on
// whatever id a slot holds at that moment: a queue may be created, closed or
// destroyed by one thread while another puts into it, waits on it, wraps it
// in a value or lists it.
TEST(TsanQueues, SharedIdsHammeredFromManyThreads) {
    constexpr int kSlots = 6;
    constexpr int kThreads = 6;
    constexpr int kOps = 4000;
    const size_t before = list_queues().size();
    std::vector<std::atomic<int64_t>> slots(kSlots);
    for (auto& slot : slots) slot.store(new_queue(4));
    std::atomic<int64_t> created{kSlots}, destroyed{0};
    Unexpected unexpected;

    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            std::minstd_rand rng(1234 + t);
            for (int op = 0; op < kOps; ++op) {
                auto& slot = slots[rng() % kSlots];
                const int64_t id = slot.load();
                const double timeout = rng() % 4 == 0 ? 0.001 : SUBINTERP_NO_WAIT;
                switch (rng() % 10) {
                case 0: {  // replace the slot's queue; the displaced one is destroyed
                    int64_t fresh = -1;
                    subinterp_queue_options opts = SUBINTERP_QUEUE_OPTIONS_INIT;
                    opts.maxsize = rng() % 2 ? 4 : 0;
                    unexpected.check("create", subinterp_queue_create(&opts, &fresh, nullptr), {SUBINTERP_OK});
                    created.fetch_add(1);
                    const int64_t old = slot.exchange(fresh);
                    unexpected.check("destroy displaced", subinterp_queue_destroy(old, nullptr), {SUBINTERP_OK});
                    destroyed.fetch_add(1);
                    break;
                }
                case 1: {
                    subinterp_data* item = nullptr;
                    subinterp_data_new_int(op, &item, nullptr);
                    unexpected.check("put", subinterp_queue_put(id, item, timeout, nullptr),
                                     {SUBINTERP_OK, SUBINTERP_ERR_QUEUE_FULL, SUBINTERP_ERR_CLOSED,
                                      SUBINTERP_ERR_NOT_FOUND});
                    subinterp_data_free(item);
                    break;
                }
                case 2:
                case 3: {
                    subinterp_data* item = nullptr;
                    const subinterp_status status = subinterp_queue_get(id, timeout, &item, nullptr);
                    unexpected.check("get", status,
                                     {SUBINTERP_OK, SUBINTERP_ERR_QUEUE_EMPTY, SUBINTERP_ERR_CLOSED,
                                      SUBINTERP_ERR_NOT_FOUND});
                    if (status == SUBINTERP_OK && !item) unexpected.check("get gave no item", -1, {});
                    subinterp_data_free(item);  // may drop the last hold on a queue it carried
                    break;
                }
                case 4: {
                    size_t size = 0;
                    unexpected.check("size", subinterp_queue_size(id, &size, nullptr),
                                     {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
                    const subinterp_status status = subinterp_queue_get_info(id, &info, nullptr);
                    unexpected.check("get_info", status, {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    if (status == SUBINTERP_OK && info.id != id) unexpected.check("get_info id", -1, {});
                    break;
                }
                case 5: {
                    int64_t ids[16];
                    size_t count = 0;
                    unexpected.check("list", subinterp_queue_list(ids, 16, &count, nullptr), {SUBINTERP_OK});
                    break;
                }
                case 6: {
                    const subinterp_status status = subinterp_queue_retain(id, nullptr);
                    unexpected.check("retain", status, {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    if (status == SUBINTERP_OK) {
                        unexpected.check("release", subinterp_queue_release(id, nullptr),
                                         {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    }
                    break;
                }
                case 7: {  // a value holding this queue, left in another slot's queue
                    subinterp_data* value = nullptr;
                    const subinterp_status status = subinterp_data_new_queue(id, &value, nullptr);
                    unexpected.check("data_new_queue", status, {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    if (status == SUBINTERP_OK) {
                        const int64_t carrier = slots[rng() % kSlots].load();
                        unexpected.check("put queue value", subinterp_queue_put(carrier, value, SUBINTERP_NO_WAIT, nullptr),
                                         {SUBINTERP_OK, SUBINTERP_ERR_QUEUE_FULL, SUBINTERP_ERR_CLOSED,
                                          SUBINTERP_ERR_NOT_FOUND});
                    }
                    subinterp_data_free(value);
                    break;
                }
                case 8:
                    if (rng() % 8 == 0) {
                        unexpected.check("close", subinterp_queue_close(id, nullptr),
                                         {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    }
                    break;
                case 9: {
                    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
                    subinterp_queue_get_info(id, &info, nullptr);
                    break;
                }
                }
            }
        });
    }
    for (auto& t : threads) t.join();
    for (auto& slot : slots) {
        EXPECT_EQ(subinterp_queue_destroy(slot.load(), nullptr), SUBINTERP_OK);
        destroyed.fetch_add(1);
    }
    EXPECT_EQ(unexpected.count(), 0) << unexpected.first();
    EXPECT_EQ(created.load(), destroyed.load());
    // Every queue made here was destroyed, and the values they held dropped.
    EXPECT_EQ(list_queues().size(), before);
}

// Getters on an empty queue and putters on a full one, all waiting forever,
// while another thread keeps wrapping and retaining both ids; destroy wakes
// every waiter with NOT_FOUND, whether it was blocked yet or not.
TEST(TsanQueues, WaitersWokenByDestroyWhileHandlesComeAndGo) {
    constexpr int kRounds = 30;
    constexpr int kWaiters = 3;
    Unexpected unexpected;
    std::minstd_rand rng(99);
    for (int round = 0; round < kRounds; ++round) {
        const int64_t empty = new_queue();
        const int64_t full = new_queue(1);
        put_int(full, 0);
        std::atomic<bool> stop{false};
        std::vector<std::thread> threads;
        for (int w = 0; w < kWaiters; ++w) {
            threads.emplace_back([&] {
                subinterp_data* item = nullptr;
                unexpected.check("blocked get", subinterp_queue_get(empty, SUBINTERP_WAIT_FOREVER, &item, nullptr),
                                 {SUBINTERP_ERR_NOT_FOUND});
                subinterp_data_free(item);
            });
            threads.emplace_back([&, w] {
                Data v = make_int(w);
                unexpected.check("blocked put", subinterp_queue_put(full, v.get(), SUBINTERP_WAIT_FOREVER, nullptr),
                                 {SUBINTERP_ERR_NOT_FOUND});
            });
        }
        threads.emplace_back([&] {
            while (!stop.load()) {
                for (const int64_t id : {empty, full}) {
                    subinterp_data* value = nullptr;
                    unexpected.check("wrap", subinterp_data_new_queue(id, &value, nullptr),
                                     {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    subinterp_data_free(value);
                    if (subinterp_queue_retain(id, nullptr) == SUBINTERP_OK) {
                        unexpected.check("release", subinterp_queue_release(id, nullptr),
                                         {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                    }
                    size_t size = 0;
                    subinterp_queue_size(id, &size, nullptr);
                }
            }
        });
        sleep_us(static_cast<int>(rng() % 3000));  // sometimes before the waiters block, mostly after
        unexpected.check("destroy empty", subinterp_queue_destroy(empty, nullptr), {SUBINTERP_OK});
        unexpected.check("destroy full", subinterp_queue_destroy(full, nullptr), {SUBINTERP_OK});
        for (size_t i = 0; i + 1 < threads.size(); ++i) threads[i].join();
        stop.store(true);
        threads.back().join();
    }
    EXPECT_EQ(unexpected.count(), 0) << unexpected.first();
}

// Producers and consumers on a bounded queue, all waiting forever, and a
// close at a random moment: blocked putters fail with CLOSED, consumers
// drain what is left and then see CLOSED; nothing is lost or duplicated.
TEST(TsanQueues, CloseWhileProducersAndConsumersRun) {
    constexpr int kRounds = 20;
    constexpr int kProducers = 3;
    constexpr int kConsumers = 3;
    Unexpected unexpected;
    std::minstd_rand rng(7);
    for (int round = 0; round < kRounds; ++round) {
        const int64_t id = new_queue(4);
        std::atomic<int64_t> put_count{0}, put_sum{0}, got_count{0}, got_sum{0};
        std::vector<std::thread> threads;
        for (int p = 0; p < kProducers; ++p) {
            threads.emplace_back([&, p] {
                for (int64_t v = 1;; ++v) {
                    Data d = make_int(v * kProducers + p);
                    const subinterp_status status = subinterp_queue_put(id, d.get(), SUBINTERP_WAIT_FOREVER, nullptr);
                    unexpected.check("put", status, {SUBINTERP_OK, SUBINTERP_ERR_CLOSED});
                    if (status != SUBINTERP_OK) return;
                    put_count.fetch_add(1);
                    put_sum.fetch_add(v * kProducers + p);
                }
            });
        }
        for (int c = 0; c < kConsumers; ++c) {
            threads.emplace_back([&] {
                while (true) {
                    subinterp_data* item = nullptr;
                    const subinterp_status status = subinterp_queue_get(id, SUBINTERP_WAIT_FOREVER, &item, nullptr);
                    unexpected.check("get", status, {SUBINTERP_OK, SUBINTERP_ERR_CLOSED});
                    if (status != SUBINTERP_OK) return;
                    int64_t v = 0;
                    subinterp_data_get_int(item, &v, nullptr);
                    subinterp_data_free(item);
                    got_count.fetch_add(1);
                    got_sum.fetch_add(v);
                }
            });
        }
        sleep_us(static_cast<int>(rng() % 5000));
        unexpected.check("close", subinterp_queue_close(id, nullptr), {SUBINTERP_OK});
        for (auto& t : threads) t.join();
        EXPECT_EQ(got_count.load(), put_count.load()) << "round " << round;
        EXPECT_EQ(got_sum.load(), put_sum.load()) << "round " << round;
        EXPECT_EQ(queue_size(id), 0u);
        EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    }
    EXPECT_EQ(unexpected.count(), 0) << unexpected.first();
}

// The last hold on a queue is a value inside another queue; a second thread
// takes that value and frees it, destroying the queue under a third thread
// blocked in get on it.
TEST(TsanQueues, LastHoldDroppedOnAnotherThreadWakesTheWaiter) {
    constexpr int kRounds = 50;
    Unexpected unexpected;
    const size_t before = list_queues().size();
    const int64_t carrier = new_queue();
    for (int round = 0; round < kRounds; ++round) {
        const int64_t inner = new_queue();
        put_int(inner, round);  // the item goes with the queue
        Data value = queue_value(inner);
        put_ok(carrier, value.get());
        value.reset();
        std::thread waiter([&] {
            // Takes the item, then waits for a second one that never comes.
            Data first = get_ok(inner, SUBINTERP_WAIT_FOREVER);
            subinterp_data* item = nullptr;
            unexpected.check("blocked get", subinterp_queue_get(inner, SUBINTERP_WAIT_FOREVER, &item, nullptr),
                             {SUBINTERP_ERR_NOT_FOUND});
            subinterp_data_free(item);
        });
        // The waiter's own id use holds nothing: only the value in `carrier`
        // keeps the queue alive once the host's hold is gone.
        EXPECT_EQ(subinterp_queue_release(inner, nullptr), SUBINTERP_OK);
        std::thread taker([&] {
            while (queue_size(inner) != 0) sleep_us(100);  // the waiter took its item
            sleep_us(round % 5 * 200);
            Data held = get_ok(carrier, SUBINTERP_WAIT_FOREVER);
            EXPECT_EQ(queue_id_of(held.get()), inner);
        });  // `held` freed here: the last hold, on this thread
        taker.join();
        waiter.join();
        EXPECT_FALSE(listed(inner));
    }
    EXPECT_EQ(subinterp_queue_release(carrier, nullptr), SUBINTERP_OK);
    EXPECT_EQ(unexpected.count(), 0) << unexpected.first();
    EXPECT_EQ(list_queues().size(), before);
}

// --- registries, with Python ---------------------------------------------------------------

namespace {

bool wait_running(int64_t id) {
    for (int i = 0; i < 1000; ++i) {
        int running = 0;
        if (subinterp_is_running(id, &running, nullptr) == SUBINTERP_OK && running) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
}

// Destroys `id`, retrying while BUSY; the destroying thread synchronizes with
// nothing but the library's own locks.
subinterp_status destroy_when_idle(int64_t id) {
    subinterp_status status;
    while ((status = subinterp_destroy(id, nullptr)) == SUBINTERP_ERR_BUSY) std::this_thread::yield();
    return status;
}

}  // namespace

// Minimal reproducers of a race found by this file (issue 11, part 4): a
// thread that used an interpreter checks in (running_ / interrupting_ drop
// to 0 under the interpreter's mutex) and only then, in ~GilstateRestore,
// writes to the thread state it used (subinterp_gilstate_rebind clears its
// bound_gilstate bit). Once checked in, a destroy on another thread may
// delete that cached thread state (delete_idle_thread_state), so the write
// races with subinterp_gilstate_forget and PyThreadState_Delete's free:
// TSan reports a data race, or a heap-use-after-free when the free wins.
// The window is between the user's check-in and its return from the call
// (where dropping its shared_ptr<Interpreter> orders it with the
// destroyer's next lookup), so each test tries many rounds. They pass
// without TSan; under TSan they fail until the thread state is left alone
// before the check-in.
TEST(TsanRegistry, DestroyWhileAnotherThreadEndsARun) {
    for (int round = 0; round < 40; ++round) {
        const int64_t id = create();
        std::atomic<bool> started{false};
        std::thread runner([&] {  // a fresh host thread: each Session binds a new thread state
            while (true) {
                const subinterp_status status = subinterp_exec(id, "pass", nullptr, nullptr, nullptr);
                started.store(true);
                if (status != SUBINTERP_OK) break;  // NOT_FOUND once destroyed
            }
        });
        while (!started.load()) std::this_thread::yield();
        EXPECT_EQ(destroy_when_idle(id), SUBINTERP_OK);  // deletes the runner's cached thread state
        runner.join();
    }
}

TEST(TsanRegistry, DestroyWhileAnotherThreadEndsAnInterrupt) {
    for (int round = 0; round < 40; ++round) {
        const int64_t id = create();
        subinterp_status status = SUBINTERP_OK;
        std::thread runner([&] { status = subinterp_exec(id, "while True:\n    pass\n", nullptr, nullptr, nullptr); });
        ASSERT_TRUE(wait_running(id));
        std::thread interrupter([&] {  // makes a thread state for itself in `id` (interrupt_run)
            // Until it lands: is_running turns true just before the run registers.
            size_t interrupted = 0;
            while (interrupted == 0) {
                if (subinterp_interrupt(id, &interrupted, nullptr) != SUBINTERP_OK) {
                    ADD_FAILURE() << "interrupt failed";
                    return;
                }
            }
        });
        EXPECT_EQ(destroy_when_idle(id), SUBINTERP_OK);  // deletes the interrupter's cached thread state
        runner.join();
        interrupter.join();
        EXPECT_EQ(status, SUBINTERP_ERR_CANCELLED);
    }
}

// Two threads create, use and destroy interpreters; a reaper destroys what
// it lists; an observer looks every listed id up (is_running, get_config,
// interrupt, a value naming it); a runner runs code in listed ids. Ids go
// stale under every one of them: NOT_FOUND and BUSY are fine, a crash, a
// hang, an abort or a race is not. At the end only main is left.
TEST(TsanRegistry, InterpretersCreateDestroyListLookupFromManyThreads) {
    constexpr int kCreators = 2;
    constexpr int kPerCreator = 4;
    int64_t main_id = -1;
    ASSERT_EQ(subinterp_main_id(&main_id, nullptr), SUBINTERP_OK);
    Unexpected unexpected;
    std::atomic<int> creators_left{kCreators};
    auto listed_ids = [] {
        size_t count = 0;
        subinterp_list(nullptr, 0, &count, nullptr);
        std::vector<int64_t> ids(count + 4, -1);
        size_t again = 0;
        subinterp_list(ids.data(), ids.size(), &again, nullptr);
        ids.resize(std::min(again, ids.size()));
        return ids;
    };

    std::vector<std::thread> threads;
    for (int c = 0; c < kCreators; ++c) {
        threads.emplace_back([&] {
            for (int i = 0; i < kPerCreator; ++i) {
                int64_t id = -1;
                unexpected.check("create", subinterp_create(nullptr, &id, nullptr), {SUBINTERP_OK});
                unexpected.check("exec own", subinterp_exec(id, "x = 1", nullptr, nullptr, nullptr),
                                 {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND, SUBINTERP_ERR_CANCELLED});
                subinterp_status status;
                while ((status = subinterp_destroy(id, nullptr)) == SUBINTERP_ERR_BUSY) sleep_us(500);
                unexpected.check("destroy own", status, {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
            }
            creators_left.fetch_sub(1);
        });
    }
    threads.emplace_back([&] {  // the reaper
        while (creators_left.load() > 0) {
            for (const int64_t id : listed_ids()) {
                if (id == main_id) continue;
                unexpected.check("reap", subinterp_destroy(id, nullptr),
                                 {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND, SUBINTERP_ERR_BUSY});
            }
            sleep_us(2000);
        }
    });
    threads.emplace_back([&] {  // the observer
        while (creators_left.load() > 0) {
            int64_t m = -1;
            unexpected.check("main_id", subinterp_main_id(&m, nullptr), {SUBINTERP_OK});
            for (const int64_t id : listed_ids()) {
                int running = 0;
                unexpected.check("is_running", subinterp_is_running(id, &running, nullptr),
                                 {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                subinterp_config config;
                subinterp_config_init(&config, SUBINTERP_CONFIG_ISOLATED);
                unexpected.check("get_config", subinterp_get_config(id, &config, nullptr),
                                 {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                if (id != main_id) {
                    size_t interrupted = 0;
                    unexpected.check("interrupt", subinterp_interrupt(id, &interrupted, nullptr),
                                     {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                }
                subinterp_data* value = nullptr;
                unexpected.check("data_new_interpreter", subinterp_data_new_interpreter(id, &value, nullptr),
                                 {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND});
                subinterp_data_free(value);
            }
            sleep_us(500);
        }
    });
    threads.emplace_back([&] {  // the runner, in whatever it finds
        while (creators_left.load() > 0) {
            for (const int64_t id : listed_ids()) {
                if (id == main_id) continue;
                unexpected.check("exec listed", subinterp_exec(id, "y = 2", nullptr, nullptr, nullptr),
                                 {SUBINTERP_OK, SUBINTERP_ERR_NOT_FOUND, SUBINTERP_ERR_CANCELLED});
            }
            sleep_us(1000);
        }
    });
    for (auto& t : threads) t.join();
    EXPECT_EQ(unexpected.count(), 0) << unexpected.first();
    EXPECT_EQ(listed_ids(), std::vector<int64_t>{main_id});
}

// Pools created, used and freed on three threads at once (the registry of
// live pools and the interpreter registry both change under them), while
// another thread lists the workers' interpreters and tries to destroy them
// (a pool's interpreter is BUSY to anyone but its pool).
TEST(TsanRegistry, PoolsCreatedAndFreedFromSeveralThreads) {
    constexpr int kThreads = 3;
    constexpr int kPoolsEach = 2;
    int64_t main_id = -1;
    ASSERT_EQ(subinterp_main_id(&main_id, nullptr), SUBINTERP_OK);
    Unexpected unexpected;
    std::atomic<int> left{kThreads};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int p = 0; p < kPoolsEach; ++p) {
                subinterp_pool_options opts;
                subinterp_pool_options_init(&opts);
                opts.workers = 1;
                opts.init_source = "def twice(x):\n    return 2 * x\n";
                subinterp_pool* pool = nullptr;
                unexpected.check("pool_create", subinterp_pool_create(&opts, &pool, nullptr), {SUBINTERP_OK});
                if (!pool) continue;
                Data x = make_int(t * 100 + p);
                Data args = make_tuple({x.get()});
                subinterp_data* result = nullptr;
                unexpected.check("pool_call",
                                 subinterp_pool_call(pool, "twice", args.get(), nullptr, nullptr, &result, nullptr, nullptr),
                                 {SUBINTERP_OK});
                int64_t v = -1;
                if (result && (subinterp_data_get_int(result, &v, nullptr) != SUBINTERP_OK || v != 2 * (t * 100 + p))) {
                    unexpected.check("pool_call result", -1, {});
                }
                subinterp_data_free(result);
                subinterp_future* future = nullptr;
                unexpected.check("pool_submit",
                                 subinterp_pool_submit(pool, "twice", args.get(), nullptr, nullptr, SUBINTERP_WAIT_FOREVER,
                                                       &future, nullptr),
                                 {SUBINTERP_OK});
                subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
                unexpected.check("pool_get_stats", subinterp_pool_get_stats(pool, &stats, nullptr), {SUBINTERP_OK});
                subinterp_pool_free(pool);  // the submitted task may still be pending or running
                subinterp_future_free(future);
            }
            left.fetch_sub(1);
        });
    }
    threads.emplace_back([&] {
        while (left.load() > 0) {
            size_t count = 0;
            subinterp_list(nullptr, 0, &count, nullptr);
            std::vector<int64_t> ids(count + 4, -1);
            size_t again = 0;
            unexpected.check("list", subinterp_list(ids.data(), ids.size(), &again, nullptr), {SUBINTERP_OK});
            ids.resize(std::min(again, ids.size()));
            for (const int64_t id : ids) {
                if (id == main_id) continue;
                unexpected.check("destroy a worker", subinterp_destroy(id, nullptr),
                                 {SUBINTERP_ERR_BUSY, SUBINTERP_ERR_NOT_FOUND});
            }
            sleep_us(1000);
        }
    });
    for (auto& t : threads) t.join();
    EXPECT_EQ(unexpected.count(), 0) << unexpected.first();
    // subinterp_pool_free waits for the workers: their interpreters are gone.
    size_t count = 0;
    ASSERT_EQ(subinterp_list(nullptr, 0, &count, nullptr), SUBINTERP_OK);
    EXPECT_EQ(count, 1u);
}
