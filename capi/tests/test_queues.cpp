// Cross-interpreter queues through the C ABI, from host threads only: no
// Python code runs here (and, for most tests, no Python runtime starts).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"
#include "queue_helpers.hpp"

using namespace subinterp_test;

namespace {

subinterp_status size_status(int64_t id) {
    size_t size = 0;
    return subinterp_queue_size(id, &size, nullptr);
}

// The status of a get (the item, if any, is dropped).
subinterp_status get_status(int64_t id, double timeout = SUBINTERP_NO_WAIT) {
    subinterp_data* item = nullptr;
    const subinterp_status status = subinterp_queue_get(id, timeout, &item, nullptr);
    subinterp_data_free(item);
    return status;
}

subinterp_queue_info info_of(int64_t id) {
    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    Err e;
    EXPECT_EQ(subinterp_queue_get_info(id, &info, e.out()), SUBINTERP_OK) << e.message();
    return info;
}

}  // namespace

// --- options, create, info, list -------------------------------------------------------

TEST(QueueBasics, OptionsDefaults) {
    subinterp_queue_options opts;
    std::memset(&opts, 0xAB, sizeof opts);
    ASSERT_EQ(subinterp_queue_options_init(&opts), SUBINTERP_OK);
    EXPECT_EQ(opts.struct_size, sizeof(subinterp_queue_options));
    EXPECT_EQ(opts.maxsize, 0u);
    EXPECT_EQ(opts.unbound, SUBINTERP_UNBOUND_REPLACE);

    const subinterp_queue_options macro = SUBINTERP_QUEUE_OPTIONS_INIT;
    EXPECT_EQ(macro.struct_size, opts.struct_size);
    EXPECT_EQ(macro.maxsize, opts.maxsize);
    EXPECT_EQ(macro.unbound, opts.unbound);

    EXPECT_EQ(subinterp_queue_options_init(nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);

    const subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    EXPECT_EQ(info.struct_size, sizeof(subinterp_queue_info));
}

TEST(QueueBasics, CreateWithNullOptionsAndDescribe) {
    Err e;
    int64_t id = -1;
    ASSERT_OK(subinterp_queue_create(nullptr, &id, e.out()), e);
    EXPECT_GT(id, 0);
    subinterp_queue_info info = info_of(id);
    EXPECT_EQ(info.struct_size, sizeof(subinterp_queue_info));
    EXPECT_EQ(info.id, id);
    EXPECT_EQ(info.maxsize, 0u);
    EXPECT_EQ(info.unbound, SUBINTERP_UNBOUND_REPLACE);  // DEFAULT as a queue's default is REPLACE
    EXPECT_EQ(info.size, 0u);
    EXPECT_EQ(info.closed, 0);
    EXPECT_EQ(queue_size(id), 0u);
    EXPECT_TRUE(listed(id));

    // Unbounded: many puts without waiting all succeed.
    for (int i = 0; i < 1000; ++i) put_int(id, i);
    EXPECT_EQ(queue_size(id), 1000u);
    EXPECT_EQ(info_of(id).size, 1000u);
    ASSERT_OK(subinterp_queue_release(id, e.out()), e);
}

TEST(QueueBasics, CreateWithOptionsAndDescribe) {
    subinterp_queue_options opts = SUBINTERP_QUEUE_OPTIONS_INIT;
    opts.maxsize = 3;
    opts.unbound = SUBINTERP_UNBOUND_ERROR;
    Err e;
    int64_t id = -1;
    ASSERT_OK(subinterp_queue_create(&opts, &id, e.out()), e);
    put_int(id, 1);
    put_int(id, 2);
    subinterp_queue_info info = info_of(id);
    EXPECT_EQ(info.id, id);
    EXPECT_EQ(info.maxsize, 3u);
    EXPECT_EQ(info.unbound, SUBINTERP_UNBOUND_ERROR);
    EXPECT_EQ(info.size, 2u);
    EXPECT_EQ(info.closed, 0);
    ASSERT_OK(subinterp_queue_close(id, e.out()), e);
    info = info_of(id);
    EXPECT_EQ(info.closed, 1);
    EXPECT_EQ(info.size, 2u);

    for (subinterp_unbound policy : {SUBINTERP_UNBOUND_REMOVE, SUBINTERP_UNBOUND_REPLACE}) {
        const int64_t other = new_queue(0, policy);
        EXPECT_EQ(info_of(other).unbound, policy);
        EXPECT_EQ(subinterp_queue_release(other, nullptr), SUBINTERP_OK);
    }
    ASSERT_OK(subinterp_queue_release(id, e.out()), e);
}

TEST(QueueBasics, IdsAreDistinctAndListedInCreationOrder) {
    const std::vector<int64_t> before = list_queues();
    std::vector<int64_t> made;
    for (int i = 0; i < 5; ++i) made.push_back(new_queue());
    for (size_t i = 1; i < made.size(); ++i) EXPECT_GT(made[i], made[i - 1]);

    size_t count = 0;
    ASSERT_EQ(subinterp_queue_list(nullptr, 0, &count, nullptr), SUBINTERP_OK);  // sizing call
    EXPECT_EQ(count, before.size() + made.size());
    std::vector<int64_t> all = list_queues();
    ASSERT_EQ(all.size(), before.size() + made.size());
    EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
    EXPECT_TRUE(std::equal(made.begin(), made.end(), all.end() - made.size()));

    // A buffer too small gets the first ids and still the full count.
    std::vector<int64_t> two(2, -7);
    count = 0;
    ASSERT_EQ(subinterp_queue_list(two.data(), two.size(), &count, nullptr), SUBINTERP_OK);
    EXPECT_EQ(count, all.size());
    EXPECT_EQ(two[0], all[0]);
    EXPECT_EQ(two[1], all[1]);

    // Releasing one removes it from the list; its id is not reused.
    ASSERT_EQ(subinterp_queue_release(made[2], nullptr), SUBINTERP_OK);
    EXPECT_FALSE(listed(made[2]));
    const int64_t fresh = new_queue();
    EXPECT_GT(fresh, made.back());
    EXPECT_EQ(list_queues().size(), all.size());
    made[2] = fresh;
    for (const int64_t id : made) EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_EQ(list_queues(), before);
}

TEST(QueueBasics, WorksWithoutStartingPython) {
    const int64_t id = new_queue(2);
    put_int(id, 7);
    Data v = queue_value(id);
    put_ok(id, v.get());
    v.reset();
    EXPECT_EQ(as_int(get_ok(id).get()), 7);
    Data back = get_ok(id);
    EXPECT_EQ(queue_id_of(back.get()), id);
    back.reset();
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_runtime_get_mode(), SUBINTERP_RUNTIME_NONE);
}

// --- FIFO, maxsize, timeouts -------------------------------------------------------------

TEST(QueueBasics, FifoOverManyItemsOfMixedKinds) {
    const int64_t id = new_queue();
    std::vector<Data> sent;
    for (int i = 0; i < 300; ++i) {
        switch (i % 6) {
            case 0: sent.push_back(make_int(i * 1000003LL - 5)); break;
            case 1: sent.push_back(make_str("item " + std::to_string(i))); break;
            case 2: sent.push_back(make_float(i / 7.0)); break;
            case 3: sent.push_back(make_bytes(std::string("\0\1\2", 3) + std::to_string(i))); break;
            case 4: sent.push_back(make_none()); break;
            case 5: {
                Data a = make_int(i), b = make_str("x"), c = make_bool(i % 4 == 1);
                Data inner = make_list({a.get(), b.get()});
                sent.push_back(make_tuple({inner.get(), c.get()}));
                break;
            }
        }
    }
    for (const Data& d : sent) put_ok(id, d.get());
    EXPECT_EQ(queue_size(id), sent.size());
    for (size_t i = 0; i < sent.size(); ++i) {
        Data got = get_ok(id);
        ASSERT_NE(got, nullptr) << i;
        EXPECT_TRUE(subinterp_data_equal(got.get(), sent[i].get()))
            << i << ": got " << repr(got.get()) << ", sent " << repr(sent[i].get());
        EXPECT_EQ(queue_size(id), sent.size() - i - 1);
    }
    EXPECT_EQ(get_status(id), SUBINTERP_ERR_QUEUE_EMPTY);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBasics, InterleavedPutsAndGetsKeepOrder) {
    const int64_t id = new_queue(4);
    int64_t next_put = 0, next_get = 0;
    for (int round = 0; round < 200; ++round) {
        const int puts = 1 + round % 4;
        for (int i = 0; i < puts && queue_size(id) < 4; ++i) put_int(id, next_put++);
        const int gets = 1 + (round * 7) % 3;
        for (int i = 0; i < gets && next_get < next_put; ++i) EXPECT_EQ(as_int(get_ok(id).get()), next_get++);
    }
    while (next_get < next_put) EXPECT_EQ(as_int(get_ok(id).get()), next_get++);
    EXPECT_EQ(queue_size(id), 0u);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBasics, MaxsizeRefusesPutsBeyond) {
    const int64_t id = new_queue(3);
    for (int i = 0; i < 3; ++i) put_int(id, i);
    Data extra = make_int(99);
    Err e;
    EXPECT_EQ(subinterp_queue_put(id, extra.get(), SUBINTERP_NO_WAIT, e.out()), SUBINTERP_ERR_QUEUE_FULL);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_QUEUE_FULL);
    EXPECT_FALSE(e.message().empty());
    e.reset();

    const auto start = Clock::now();
    EXPECT_EQ(subinterp_queue_put(id, extra.get(), 0.05, e.out()), SUBINTERP_ERR_QUEUE_FULL);
    const double elapsed = seconds_since(start);
    EXPECT_GE(elapsed, 0.05);
    EXPECT_LT(elapsed, 2.0);
    EXPECT_EQ(queue_size(id), 3u);

    // One get makes room for exactly one more.
    EXPECT_EQ(as_int(get_ok(id).get()), 0);
    put_ok(id, extra.get());
    EXPECT_EQ(subinterp_queue_put(id, extra.get(), SUBINTERP_NO_WAIT, nullptr), SUBINTERP_ERR_QUEUE_FULL);
    EXPECT_EQ(as_int(get_ok(id).get()), 1);
    EXPECT_EQ(as_int(get_ok(id).get()), 2);
    EXPECT_EQ(as_int(get_ok(id).get()), 99);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBasics, GetOnEmptyQueue) {
    const int64_t id = new_queue();
    subinterp_data* item = reinterpret_cast<subinterp_data*>(0x1);
    Err e;
    EXPECT_EQ(subinterp_queue_get(id, SUBINTERP_NO_WAIT, &item, e.out()), SUBINTERP_ERR_QUEUE_EMPTY);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_QUEUE_EMPTY);
    EXPECT_EQ(item, reinterpret_cast<subinterp_data*>(0x1));  // untouched on failure
    e.reset();

    const auto start = Clock::now();
    item = nullptr;
    EXPECT_EQ(subinterp_queue_get(id, 0.03, &item, e.out()), SUBINTERP_ERR_QUEUE_EMPTY);
    const double elapsed = seconds_since(start);
    EXPECT_EQ(item, nullptr);
    EXPECT_GE(elapsed, 0.03);
    EXPECT_LT(elapsed, 2.0);

    // A timeout that is not needed does not wait.
    put_int(id, 5);
    EXPECT_EQ(as_int(get_ok(id, 10.0).get()), 5);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBasics, InfiniteAndHugeTimeoutsMeanForever) {
    // Already satisfiable: returns at once whatever the timeout.
    const int64_t id = new_queue(1);
    for (double timeout : {std::numeric_limits<double>::infinity(), 1e300, -5.0, SUBINTERP_WAIT_FOREVER}) {
        put_int(id, 1, timeout);
        EXPECT_EQ(as_int(get_ok(id, timeout).get()), 1);
    }
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

// --- a value put is shared --------------------------------------------------------------

TEST(QueueBasics, PutValueIsSharedAndMayBeFreedAfterPut) {
    const int64_t id = new_queue();
    const std::string payload(100000, 'z');
    subinterp_data* original = nullptr;
    ASSERT_EQ(subinterp_data_new_bytes(payload.data(), payload.size(), &original, nullptr), SUBINTERP_OK);
    put_ok(id, original);
    subinterp_data_free(original);  // the queue holds its own reference
    Data expected = make_bytes(payload);
    Data got = get_ok(id);
    ASSERT_NE(got, nullptr);
    EXPECT_TRUE(subinterp_data_equal(got.get(), expected.get()));

    // A buffer goes through without copying: the same memory comes back.
    void* memory = nullptr;
    subinterp_data* buffer = nullptr;
    ASSERT_EQ(subinterp_data_new_buffer(64, &memory, &buffer, nullptr), SUBINTERP_OK);
    std::memset(memory, 0x5A, 64);
    put_ok(id, buffer);
    put_ok(id, buffer);  // the same value twice
    subinterp_data_free(buffer);
    Data first = get_ok(id), second = get_ok(id);
    void* first_memory = nullptr;
    void* second_memory = nullptr;
    size_t size = 0;
    ASSERT_EQ(subinterp_data_get_buffer(first.get(), &first_memory, &size, nullptr, nullptr), SUBINTERP_OK);
    EXPECT_EQ(size, 64u);
    ASSERT_EQ(subinterp_data_get_buffer(second.get(), &second_memory, nullptr, nullptr, nullptr), SUBINTERP_OK);
    EXPECT_EQ(first_memory, memory);
    EXPECT_EQ(second_memory, memory);
    static_cast<unsigned char*>(first_memory)[0] = 0x11;  // visible through the other
    EXPECT_EQ(static_cast<unsigned char*>(second_memory)[0], 0x11);
    EXPECT_TRUE(subinterp_data_equal(first.get(), second.get()));
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueLifetime, ItemsLeftInAQueueAreFreedWithIt) {
    static char memory[16];
    ReleaseLog released;
    subinterp_data* buffer = nullptr;
    ASSERT_EQ(subinterp_data_new_buffer_external(memory, sizeof memory, 1, record_release, &released, &buffer, nullptr),
              SUBINTERP_OK);
    const int64_t released_queue = new_queue();
    const int64_t destroyed_queue = new_queue();
    put_ok(released_queue, buffer);
    put_ok(destroyed_queue, buffer);
    subinterp_data_free(buffer);
    EXPECT_EQ(released.calls, 0);
    EXPECT_EQ(subinterp_queue_release(released_queue, nullptr), SUBINTERP_OK);
    EXPECT_EQ(released.calls, 0);  // still in the other queue
    EXPECT_EQ(subinterp_queue_destroy(destroyed_queue, nullptr), SUBINTERP_OK);
    EXPECT_EQ(released.calls, 1);
}

// --- blocking across host threads ---------------------------------------------------------

TEST(QueueBlocking, GetterWokenByPutFromAnotherThread) {
    const int64_t id = new_queue();
    subinterp_status status = -1;
    int64_t value = -1;
    std::thread getter([&] {
        subinterp_data* item = nullptr;
        status = subinterp_queue_get(id, SUBINTERP_WAIT_FOREVER, &item, nullptr);
        if (item) subinterp_data_get_int(item, &value, nullptr);
        subinterp_data_free(item);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it block (correct either way)
    put_int(id, 4242);
    getter.join();
    EXPECT_EQ(status, SUBINTERP_OK);
    EXPECT_EQ(value, 4242);
    EXPECT_EQ(queue_size(id), 0u);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBlocking, GetterWithTimeoutWokenByPut) {
    const int64_t id = new_queue();
    subinterp_status status = -1;
    int64_t value = -1;
    std::thread getter([&] {
        subinterp_data* item = nullptr;
        status = subinterp_queue_get(id, 60.0, &item, nullptr);
        if (item) subinterp_data_get_int(item, &value, nullptr);
        subinterp_data_free(item);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto start = Clock::now();
    put_int(id, 17);
    getter.join();
    EXPECT_LT(seconds_since(start), 30.0);  // woken, not timed out
    EXPECT_EQ(status, SUBINTERP_OK);
    EXPECT_EQ(value, 17);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBlocking, PutterOnFullQueueWokenByGet) {
    const int64_t id = new_queue(1);
    put_int(id, 1);
    subinterp_status status = -1;
    std::thread putter([&] {
        Data two = make_int(2);
        status = subinterp_queue_put(id, two.get(), SUBINTERP_WAIT_FOREVER, nullptr);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(as_int(get_ok(id).get()), 1);
    putter.join();
    EXPECT_EQ(status, SUBINTERP_OK);
    EXPECT_EQ(queue_size(id), 1u);
    EXPECT_EQ(as_int(get_ok(id).get()), 2);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueBlocking, PingPongBetweenTwoThreads) {
    const int64_t ping = new_queue(1), pong = new_queue(1);
    constexpr int kRounds = 2000;
    std::atomic<int> wrong{0};
    std::thread echo([&] {
        for (int i = 0; i < kRounds; ++i) {
            subinterp_data* item = nullptr;
            int64_t v = -1;
            if (subinterp_queue_get(ping, SUBINTERP_WAIT_FOREVER, &item, nullptr) != SUBINTERP_OK ||
                subinterp_data_get_int(item, &v, nullptr) != SUBINTERP_OK || v != i) {
                ++wrong;
            }
            subinterp_data_free(item);
            Data reply = make_int(-v);
            if (subinterp_queue_put(pong, reply.get(), SUBINTERP_WAIT_FOREVER, nullptr) != SUBINTERP_OK) ++wrong;
        }
    });
    for (int i = 0; i < kRounds; ++i) {
        put_int(ping, i, SUBINTERP_WAIT_FOREVER);
        Data reply = get_ok(pong, SUBINTERP_WAIT_FOREVER);
        EXPECT_EQ(as_int(reply.get()), -i);
    }
    echo.join();
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(subinterp_queue_release(ping, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_queue_release(pong, nullptr), SUBINTERP_OK);
}

// --- close ------------------------------------------------------------------------------

TEST(QueueClose, PutsFailAndGetsDrainThenFail) {
    const int64_t id = new_queue();
    put_int(id, 1);
    put_int(id, 2);
    Err e;
    ASSERT_OK(subinterp_queue_close(id, e.out()), e);
    Data three = make_int(3);
    EXPECT_EQ(subinterp_queue_put(id, three.get(), SUBINTERP_NO_WAIT, e.out()), SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_CLOSED);
    e.reset();
    EXPECT_EQ(subinterp_queue_put(id, three.get(), SUBINTERP_WAIT_FOREVER, nullptr), SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(queue_size(id), 2u);
    EXPECT_EQ(as_int(get_ok(id).get()), 1);
    EXPECT_EQ(as_int(get_ok(id, SUBINTERP_WAIT_FOREVER).get()), 2);
    subinterp_data* item = nullptr;
    EXPECT_EQ(subinterp_queue_get(id, SUBINTERP_NO_WAIT, &item, e.out()), SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(item, nullptr);
    // Closed and drained: even a wait forever returns at once.
    EXPECT_EQ(get_status(id, SUBINTERP_WAIT_FOREVER), SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(get_status(id, 0.5), SUBINTERP_ERR_CLOSED);

    // Closing twice is fine; the queue is still there until released.
    ASSERT_OK(subinterp_queue_close(id, e.out()), e);
    EXPECT_EQ(info_of(id).closed, 1);
    EXPECT_TRUE(listed(id));
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_queue_close(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
}

TEST(QueueClose, WakesBlockedGetterAndPutter) {
    const int64_t empty = new_queue();
    const int64_t full = new_queue(1);
    put_int(full, 1);
    subinterp_status get_result = -1, put_result = -1;
    std::thread getter([&] { get_result = get_status(empty, SUBINTERP_WAIT_FOREVER); });
    std::thread putter([&] {
        Data two = make_int(2);
        put_result = subinterp_queue_put(full, two.get(), SUBINTERP_WAIT_FOREVER, nullptr);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(subinterp_queue_close(empty, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_queue_close(full, nullptr), SUBINTERP_OK);
    getter.join();
    putter.join();
    EXPECT_EQ(get_result, SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(put_result, SUBINTERP_ERR_CLOSED);
    // The full queue keeps its item, which can still be drained.
    EXPECT_EQ(queue_size(full), 1u);
    EXPECT_EQ(as_int(get_ok(full).get()), 1);
    EXPECT_EQ(get_status(full), SUBINTERP_ERR_CLOSED);
    EXPECT_EQ(subinterp_queue_release(empty, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_queue_release(full, nullptr), SUBINTERP_OK);
}

TEST(QueueClose, WakesEveryBlockedGetter) {
    const int64_t id = new_queue();
    constexpr int kGetters = 6;
    std::vector<subinterp_status> results(kGetters, -1);
    std::vector<std::thread> getters;
    for (int i = 0; i < kGetters; ++i) {
        getters.emplace_back([&, i] { results[i] = get_status(id, SUBINTERP_WAIT_FOREVER); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    put_int(id, 1);  // exactly one getter gets it, even if it comes after the close
    EXPECT_EQ(subinterp_queue_close(id, nullptr), SUBINTERP_OK);
    for (auto& t : getters) t.join();
    EXPECT_EQ(std::count(results.begin(), results.end(), SUBINTERP_OK), 1);
    EXPECT_EQ(std::count(results.begin(), results.end(), SUBINTERP_ERR_CLOSED), kGetters - 1);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

// --- destroy ----------------------------------------------------------------------------

TEST(QueueDestroy, WakesBlockedGetterAndPutterWithNotFound) {
    const int64_t empty = new_queue();
    const int64_t full = new_queue(1);
    put_int(full, 1);
    subinterp_status get_result = -1, put_result = -1;
    std::string get_message;
    std::thread getter([&] {
        subinterp_data* item = nullptr;
        Err e;
        get_result = subinterp_queue_get(empty, SUBINTERP_WAIT_FOREVER, &item, e.out());
        get_message = e.message();
        subinterp_data_free(item);
    });
    std::thread putter([&] {
        Data two = make_int(2);
        put_result = subinterp_queue_put(full, two.get(), SUBINTERP_WAIT_FOREVER, nullptr);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    Err e;
    EXPECT_OK(subinterp_queue_destroy(empty, e.out()), e);
    EXPECT_OK(subinterp_queue_destroy(full, e.out()), e);
    getter.join();
    putter.join();
    EXPECT_EQ(get_result, SUBINTERP_ERR_NOT_FOUND);
    EXPECT_NE(get_message.find(std::to_string(empty)), std::string::npos) << get_message;
    EXPECT_EQ(put_result, SUBINTERP_ERR_NOT_FOUND);

    for (const int64_t id : {empty, full}) {
        EXPECT_FALSE(listed(id));
        Data one = make_int(1);
        EXPECT_EQ(subinterp_queue_put(id, one.get(), SUBINTERP_NO_WAIT, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(get_status(id), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(get_status(id, SUBINTERP_WAIT_FOREVER), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(size_status(id), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(subinterp_queue_close(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(subinterp_queue_retain(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_ERR_NOT_FOUND);  // the host's hold went too
        EXPECT_EQ(subinterp_queue_destroy(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
        subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
        EXPECT_EQ(subinterp_queue_get_info(id, &info, nullptr), SUBINTERP_ERR_NOT_FOUND);
        subinterp_data* value = nullptr;
        EXPECT_EQ(subinterp_data_new_queue(id, &value, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(value, nullptr);
    }
}

TEST(QueueDestroy, DestroyWhileValuesStillHoldIt) {
    const int64_t id = new_queue();
    Data value = queue_value(id);
    ASSERT_EQ(subinterp_queue_retain(id, nullptr), SUBINTERP_OK);
    put_int(id, 5);
    ASSERT_EQ(subinterp_queue_destroy(id, nullptr), SUBINTERP_OK);
    // The value still names the id, but the queue is gone for every use.
    EXPECT_EQ(queue_id_of(value.get()), id);
    EXPECT_FALSE(listed(id));
    EXPECT_EQ(get_status(id), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
    // Another queue made now gets a new id, and freeing the stale value later
    // does not touch it.
    const int64_t other = new_queue();
    EXPECT_NE(other, id);
    value.reset();
    EXPECT_TRUE(listed(other));
    EXPECT_EQ(queue_size(other), 0u);
    EXPECT_EQ(subinterp_queue_release(other, nullptr), SUBINTERP_OK);
}

TEST(QueueErrors, UnknownIdsAreNotFound) {
    for (const int64_t id : {int64_t{999999}, int64_t{-1}, int64_t{0}, std::numeric_limits<int64_t>::max()}) {
        SCOPED_TRACE(id);
        Err e;
        EXPECT_EQ(subinterp_queue_release(id, e.out()), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_FALSE(e.message().empty());
        EXPECT_EQ(subinterp_queue_retain(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(subinterp_queue_destroy(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(subinterp_queue_close(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(size_status(id), SUBINTERP_ERR_NOT_FOUND);
        subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
        EXPECT_EQ(subinterp_queue_get_info(id, &info, nullptr), SUBINTERP_ERR_NOT_FOUND);
        Data one = make_int(1);
        EXPECT_EQ(subinterp_queue_put(id, one.get(), SUBINTERP_NO_WAIT, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(subinterp_queue_put(id, one.get(), SUBINTERP_WAIT_FOREVER, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(get_status(id), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(get_status(id, SUBINTERP_WAIT_FOREVER), SUBINTERP_ERR_NOT_FOUND);
        subinterp_data* value = nullptr;
        EXPECT_EQ(subinterp_data_new_queue(id, &value, nullptr), SUBINTERP_ERR_NOT_FOUND);
        EXPECT_EQ(value, nullptr);
    }
}

// --- argument errors ----------------------------------------------------------------------

TEST(QueueErrors, BadOptions) {
    const std::vector<int64_t> before = list_queues();
    int64_t id = -5;
    subinterp_queue_options opts = SUBINTERP_QUEUE_OPTIONS_INIT;
    opts.struct_size = 0;
    Err e;
    EXPECT_EQ(subinterp_queue_create(&opts, &id, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("struct_size"), std::string::npos) << e.message();
    e.reset();
    opts.struct_size = sizeof(subinterp_queue_options) + 64;  // from a newer header
    EXPECT_EQ(subinterp_queue_create(&opts, &id, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    opts.struct_size = offsetof(subinterp_queue_options, unbound);  // too small to hold the fields
    EXPECT_EQ(subinterp_queue_create(&opts, &id, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);

    // A C caller may store any int in the enum field. (Stored bytewise: in
    // C++ a value outside the enum's range may not be assigned directly.)
    static_assert(sizeof(subinterp_unbound) == sizeof(int));
    for (int bad : {4, 7, -1, 100}) {
        SCOPED_TRACE(bad);
        subinterp_queue_options policy = SUBINTERP_QUEUE_OPTIONS_INIT;
        std::memcpy(&policy.unbound, &bad, sizeof bad);
        EXPECT_EQ(subinterp_queue_create(&policy, &id, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
        e.reset();
    }
    EXPECT_EQ(id, -5);  // never written
    EXPECT_EQ(list_queues(), before);  // nothing half-made was left behind

    subinterp_queue_options zero_policy = SUBINTERP_QUEUE_OPTIONS_INIT;
    zero_policy.unbound = SUBINTERP_UNBOUND_DEFAULT;  // accepted: means REPLACE
    ASSERT_OK(subinterp_queue_create(&zero_policy, &id, e.out()), e);
    EXPECT_EQ(info_of(id).unbound, SUBINTERP_UNBOUND_REPLACE);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueErrors, NullOutPointers) {
    const std::vector<int64_t> before = list_queues();
    Err e;
    EXPECT_EQ(subinterp_queue_create(nullptr, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(list_queues(), before);

    const int64_t id = new_queue();
    put_int(id, 1);
    EXPECT_EQ(subinterp_queue_get(id, SUBINTERP_NO_WAIT, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(queue_size(id), 1u);  // the item was not taken
    EXPECT_EQ(subinterp_queue_size(id, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_queue_get_info(id, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_queue_list(nullptr, 0, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    size_t count = 0;
    EXPECT_EQ(subinterp_queue_list(nullptr, 3, &count, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_data_new_queue(id, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    Data value = queue_value(id);
    EXPECT_EQ(subinterp_data_get_queue(value.get(), nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    int64_t out = -3;
    EXPECT_EQ(subinterp_data_get_queue(nullptr, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, -3);

    // A NULL item is refused, and nothing is added.
    EXPECT_EQ(subinterp_queue_put(id, nullptr, SUBINTERP_NO_WAIT, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(queue_size(id), 1u);
    value.reset();
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_FALSE(listed(id));
}

TEST(QueueErrors, NanTimeout) {
    const int64_t id = new_queue();
    const double nan = std::nan("");
    Data one = make_int(1);
    Err e;
    EXPECT_EQ(subinterp_queue_put(id, one.get(), nan, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(queue_size(id), 0u);
    put_ok(id, one.get());
    subinterp_data* item = nullptr;
    EXPECT_EQ(subinterp_queue_get(id, nan, &item, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(item, nullptr);
    EXPECT_EQ(queue_size(id), 1u);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueErrors, BadInfoStructSize) {
    const int64_t id = new_queue();
    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    info.struct_size = 0;
    EXPECT_EQ(subinterp_queue_get_info(id, &info, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    info.struct_size = sizeof(subinterp_queue_info) + 16;
    EXPECT_EQ(subinterp_queue_get_info(id, &info, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueErrors, QueueValueAccessors) {
    subinterp_data* out = reinterpret_cast<subinterp_data*>(0x1);
    Err e;
    EXPECT_EQ(subinterp_data_new_queue(999999, &out, e.out()), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(out, reinterpret_cast<subinterp_data*>(0x1));
    e.reset();

    Data number = make_int(3);
    int64_t id = -9;
    EXPECT_EQ(subinterp_data_get_queue(number.get(), &id, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_TYPE);
    EXPECT_EQ(id, -9);
    Data text = make_str("queue");
    EXPECT_EQ(subinterp_data_get_queue(text.get(), &id, nullptr), SUBINTERP_ERR_TYPE);

    // Other accessors refuse a queue value.
    const int64_t q = new_queue();
    Data value = queue_value(q);
    EXPECT_EQ(subinterp_data_get_kind(value.get()), SUBINTERP_DATA_QUEUE);
    int64_t as_number = 0;
    EXPECT_EQ(subinterp_data_get_int(value.get(), &as_number, nullptr), SUBINTERP_ERR_TYPE);
    int64_t interp = 0;
    EXPECT_EQ(subinterp_data_get_interpreter(value.get(), &interp, nullptr), SUBINTERP_ERR_TYPE);
    value.reset();
    EXPECT_EQ(subinterp_queue_release(q, nullptr), SUBINTERP_OK);
}

// --- lifetime ---------------------------------------------------------------------------

TEST(QueueLifetime, RetainReleasePairsAndLastReleaseDestroys) {
    const int64_t id = new_queue();
    put_int(id, 1);
    Err e;
    for (int i = 0; i < 3; ++i) ASSERT_OK(subinterp_queue_retain(id, e.out()), e);
    for (int i = 0; i < 3; ++i) {
        ASSERT_OK(subinterp_queue_release(id, e.out()), e);
        EXPECT_TRUE(listed(id));
        EXPECT_EQ(queue_size(id), 1u);
    }
    ASSERT_OK(subinterp_queue_retain(id, e.out()), e);
    ASSERT_OK(subinterp_queue_release(id, e.out()), e);
    EXPECT_TRUE(listed(id));
    // The hold create gave is the last one.
    ASSERT_OK(subinterp_queue_release(id, e.out()), e);
    EXPECT_FALSE(listed(id));
    EXPECT_EQ(size_status(id), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(subinterp_queue_release(id, e.out()), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(subinterp_queue_retain(id, nullptr), SUBINTERP_ERR_NOT_FOUND);
}

TEST(QueueLifetime, QueueValueKeepsQueueAliveAfterHostRelease) {
    const int64_t id = new_queue();
    put_int(id, 10);
    Data value = queue_value(id);
    Data copy(subinterp_data_ref(value.get()));
    ASSERT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_TRUE(listed(id));
    EXPECT_EQ(queue_id_of(value.get()), id);
    put_int(id, 11);
    EXPECT_EQ(as_int(get_ok(id).get()), 10);
    value.reset();
    EXPECT_TRUE(listed(id));  // the second reference still holds it
    EXPECT_EQ(queue_size(id), 1u);
    copy.reset();
    EXPECT_FALSE(listed(id));
    EXPECT_EQ(size_status(id), SUBINTERP_ERR_NOT_FOUND);
}

TEST(QueueLifetime, EachQueueValueIsAHold) {
    const int64_t id = new_queue();
    Data a = queue_value(id);
    Data b = queue_value(id);
    ASSERT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    a.reset();
    EXPECT_TRUE(listed(id));
    // A retain on an id read from a value outlives the value.
    ASSERT_EQ(subinterp_queue_retain(queue_id_of(b.get()), nullptr), SUBINTERP_OK);
    b.reset();
    EXPECT_TRUE(listed(id));
    ASSERT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_FALSE(listed(id));
}

TEST(QueueLifetime, QueueThroughAQueue) {
    const int64_t carrier = new_queue();
    const int64_t inner = new_queue(2, SUBINTERP_UNBOUND_REMOVE);
    put_int(inner, 7);
    {
        Data value = queue_value(inner);
        put_ok(carrier, value.get());
    }
    ASSERT_EQ(subinterp_queue_release(inner, nullptr), SUBINTERP_OK);
    EXPECT_TRUE(listed(inner));  // held by the item in `carrier`

    Data received = get_ok(carrier);
    ASSERT_NE(received, nullptr);
    ASSERT_EQ(subinterp_data_get_kind(received.get()), SUBINTERP_DATA_QUEUE);
    const int64_t id = queue_id_of(received.get());
    EXPECT_EQ(id, inner);
    const subinterp_queue_info info = info_of(id);
    EXPECT_EQ(info.maxsize, 2u);
    EXPECT_EQ(info.unbound, SUBINTERP_UNBOUND_REMOVE);
    EXPECT_EQ(as_int(get_ok(id).get()), 7);
    put_int(id, 8);
    EXPECT_EQ(as_int(get_ok(id).get()), 8);
    received.reset();
    EXPECT_FALSE(listed(inner));

    // Left in a queue that goes away, the value goes with it, and so does
    // the queue it holds.
    const int64_t inner2 = new_queue();
    {
        Data value = queue_value(inner2);
        put_ok(carrier, value.get());
    }
    ASSERT_EQ(subinterp_queue_release(inner2, nullptr), SUBINTERP_OK);
    EXPECT_TRUE(listed(inner2));
    ASSERT_EQ(subinterp_queue_release(carrier, nullptr), SUBINTERP_OK);
    EXPECT_FALSE(listed(carrier));
    EXPECT_FALSE(listed(inner2));
}

TEST(QueueLifetime, QueueCarryingItself) {
    // A queue holding a value of itself is kept alive by that item: only
    // destroy (or draining it) ends it.
    const int64_t id = new_queue();
    {
        Data self = queue_value(id);
        put_ok(id, self.get());
    }
    ASSERT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_TRUE(listed(id));
    ASSERT_EQ(subinterp_queue_destroy(id, nullptr), SUBINTERP_OK);
    EXPECT_FALSE(listed(id));

    // Draining it instead: the item taken out is the last hold.
    const int64_t again = new_queue();
    {
        Data self = queue_value(again);
        put_ok(again, self.get());
    }
    ASSERT_EQ(subinterp_queue_release(again, nullptr), SUBINTERP_OK);
    Data item = get_ok(again);
    EXPECT_EQ(queue_id_of(item.get()), again);
    EXPECT_TRUE(listed(again));
    item.reset();
    EXPECT_FALSE(listed(again));
}

TEST(QueueLifetime, QueueValueInsideATuple) {
    const int64_t id = new_queue();
    Data tuple;
    {
        Data value = queue_value(id);
        Data tag = make_str("q");
        tuple = make_tuple({tag.get(), value.get()});
    }
    ASSERT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
    EXPECT_TRUE(listed(id));
    const subinterp_data* item = nullptr;
    ASSERT_EQ(subinterp_data_get_item(tuple.get(), 1, &item, nullptr), SUBINTERP_OK);
    EXPECT_EQ(queue_id_of(item), id);
    put_int(id, 3);
    EXPECT_EQ(as_int(get_ok(id).get()), 3);
    // Through another queue, nested in the tuple.
    const int64_t carrier = new_queue();
    put_ok(carrier, tuple.get());
    tuple.reset();
    EXPECT_TRUE(listed(id));
    Data back = get_ok(carrier);
    ASSERT_EQ(subinterp_data_get_item(back.get(), 1, &item, nullptr), SUBINTERP_OK);
    EXPECT_EQ(queue_id_of(item), id);
    back.reset();
    EXPECT_FALSE(listed(id));
    EXPECT_EQ(subinterp_queue_release(carrier, nullptr), SUBINTERP_OK);
}

TEST(QueueLifetime, QueueValueEqualityAndRepr) {
    const int64_t a = new_queue();
    const int64_t b = new_queue();
    Data a1 = queue_value(a), a2 = queue_value(a), b1 = queue_value(b);
    EXPECT_TRUE(subinterp_data_equal(a1.get(), a2.get()));
    EXPECT_FALSE(subinterp_data_equal(a1.get(), b1.get()));
    Data number = make_int(a);
    EXPECT_FALSE(subinterp_data_equal(a1.get(), number.get()));
    Data t1 = make_tuple({a1.get()}), t2 = make_tuple({a2.get()});
    EXPECT_TRUE(subinterp_data_equal(t1.get(), t2.get()));

    EXPECT_EQ(repr(a1.get()), "<queue " + std::to_string(a) + ">");
    EXPECT_EQ(repr(b1.get()), "<queue " + std::to_string(b) + ">");
    EXPECT_EQ(repr(t1.get()), "(<queue " + std::to_string(a) + ">,)");

    // A queue value is a valid dict key; two values of one queue are one key.
    Data one = make_int(1), two = make_int(2);
    subinterp_data* dict = nullptr;
    const subinterp_data* keys[] = {a1.get(), b1.get()};
    const subinterp_data* values[] = {one.get(), two.get()};
    ASSERT_EQ(subinterp_data_new_dict(keys, values, 2, &dict, nullptr), SUBINTERP_OK);
    subinterp_data_free(dict);
    const subinterp_data* same_keys[] = {a1.get(), a2.get()};
    EXPECT_EQ(subinterp_data_new_dict(same_keys, values, 2, &dict, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_queue_release(a, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_queue_release(b, nullptr), SUBINTERP_OK);
}

// --- many producers and consumers (host threads) ------------------------------------------

TEST(QueueStress, ManyProducersManyConsumersBounded) {
    constexpr int kProducers = 4;
    constexpr int kConsumers = 4;
    constexpr int64_t kItems = 200000;
    const int64_t id = new_queue(64);
    ASSERT_GT(id, 0);

    std::atomic<int> failures{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
        producers.emplace_back([&, p] {
            for (int64_t v = p; v < kItems; v += kProducers) {
                subinterp_data* d = nullptr;
                if (subinterp_data_new_int(v, &d, nullptr) != SUBINTERP_OK ||
                    subinterp_queue_put(id, d, SUBINTERP_WAIT_FOREVER, nullptr) != SUBINTERP_OK) {
                    ++failures;
                }
                subinterp_data_free(d);
            }
        });
    }
    struct Tally {
        int64_t count = 0;
        uint64_t sum = 0;
        uint64_t xr = 0;
        std::vector<int64_t> values;
    };
    std::vector<Tally> tallies(kConsumers);
    std::vector<std::thread> consumers;
    for (int c = 0; c < kConsumers; ++c) {
        consumers.emplace_back([&, c] {
            Tally& t = tallies[c];
            while (true) {
                subinterp_data* item = nullptr;
                if (subinterp_queue_get(id, SUBINTERP_WAIT_FOREVER, &item, nullptr) != SUBINTERP_OK || !item) {
                    ++failures;
                    return;
                }
                if (subinterp_data_get_kind(item) == SUBINTERP_DATA_NONE) {  // sentinel
                    subinterp_data_free(item);
                    return;
                }
                int64_t v = -1;
                if (subinterp_data_get_int(item, &v, nullptr) != SUBINTERP_OK) ++failures;
                subinterp_data_free(item);
                ++t.count;
                t.sum += static_cast<uint64_t>(v);
                t.xr ^= static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ULL;
                t.values.push_back(v);
            }
        });
    }
    for (auto& t : producers) t.join();
    // Every item precedes the sentinels (FIFO), one sentinel per consumer.
    Data none = make_none();
    for (int c = 0; c < kConsumers; ++c) put_ok(id, none.get(), SUBINTERP_WAIT_FOREVER);
    for (auto& t : consumers) t.join();
    EXPECT_EQ(failures, 0);

    int64_t count = 0;
    uint64_t sum = 0, xr = 0, expected_sum = 0, expected_xr = 0;
    std::vector<uint8_t> seen(kItems, 0);
    int64_t out_of_range = 0, duplicates = 0;
    for (const Tally& t : tallies) {
        count += t.count;
        sum += t.sum;
        xr ^= t.xr;
        for (const int64_t v : t.values) {
            if (v < 0 || v >= kItems) {
                ++out_of_range;
                continue;
            }
            if (seen[v]++) ++duplicates;
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
    EXPECT_EQ(std::count(seen.begin(), seen.end(), 0), 0);
    // Each consumer got its items in the order its producers put them: for a
    // single producer's stream, values rise.
    for (const Tally& t : tallies) {
        std::vector<int64_t> last(kProducers, -1);
        for (const int64_t v : t.values) {
            if (v < 0 || v >= kItems) continue;
            EXPECT_GT(v, last[v % kProducers]);
            last[v % kProducers] = v;
        }
    }
    EXPECT_EQ(queue_size(id), 0u);
    EXPECT_EQ(subinterp_queue_release(id, nullptr), SUBINTERP_OK);
}

TEST(QueueStress, ConcurrentCreateRetainReleaseDestroy) {
    constexpr int kThreads = 4;
    constexpr int kRounds = 2000;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    const size_t before = list_queues().size();
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kRounds; ++i) {
                int64_t id = -1;
                if (subinterp_queue_create(nullptr, &id, nullptr) != SUBINTERP_OK) {
                    ++failures;
                    continue;
                }
                subinterp_data* value = nullptr;
                if (subinterp_data_new_queue(id, &value, nullptr) != SUBINTERP_OK) ++failures;
                if (subinterp_queue_put(id, value, SUBINTERP_NO_WAIT, nullptr) != SUBINTERP_OK) ++failures;
                if (subinterp_queue_retain(id, nullptr) != SUBINTERP_OK) ++failures;
                subinterp_data_free(value);
                if (subinterp_queue_release(id, nullptr) != SUBINTERP_OK) ++failures;
                if ((i + t) % 2 == 0) {
                    if (subinterp_queue_destroy(id, nullptr) != SUBINTERP_OK) ++failures;
                } else {
                    subinterp_data* item = nullptr;
                    if (subinterp_queue_release(id, nullptr) != SUBINTERP_OK) ++failures;  // item holds it
                    if (subinterp_queue_get(id, SUBINTERP_NO_WAIT, &item, nullptr) != SUBINTERP_OK) ++failures;
                    subinterp_data_free(item);  // the last hold
                }
                if (subinterp_queue_retain(id, nullptr) != SUBINTERP_ERR_NOT_FOUND) ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(list_queues().size(), before);
}
