// Helpers shared by the queue tests (test_queues.cpp, test_queues_python.cpp):
// queue calls that must succeed, checked with EXPECT so a failure names the call.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include "helpers.hpp"

namespace subinterp_test {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// A new queue (failing the test if creation fails); -1 on failure.
inline int64_t new_queue(size_t maxsize = 0, subinterp_unbound unbound = SUBINTERP_UNBOUND_DEFAULT) {
    subinterp_queue_options opts;
    EXPECT_EQ(subinterp_queue_options_init(&opts), SUBINTERP_OK);
    opts.maxsize = maxsize;
    opts.unbound = unbound;
    int64_t id = -1;
    Err e;
    EXPECT_EQ(subinterp_queue_create(&opts, &id, e.out()), SUBINTERP_OK) << e.message();
    return id;
}

inline std::vector<int64_t> list_queues() {
    size_t count = 0;
    EXPECT_EQ(subinterp_queue_list(nullptr, 0, &count, nullptr), SUBINTERP_OK);
    std::vector<int64_t> ids(count + 8, -7);
    size_t again = 0;
    EXPECT_EQ(subinterp_queue_list(ids.data(), ids.size(), &again, nullptr), SUBINTERP_OK);
    EXPECT_EQ(again, count);
    ids.resize(std::min(again, ids.size()));
    return ids;
}

inline bool listed(int64_t id) {
    const std::vector<int64_t> ids = list_queues();
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

inline size_t queue_size(int64_t id) {
    size_t size = 12345;
    Err e;
    EXPECT_EQ(subinterp_queue_size(id, &size, e.out()), SUBINTERP_OK) << e.message();
    return size;
}

inline Data queue_value(int64_t id) {
    subinterp_data* d = nullptr;
    Err e;
    EXPECT_EQ(subinterp_data_new_queue(id, &d, e.out()), SUBINTERP_OK) << e.message();
    return Data(d);
}

inline int64_t queue_id_of(const subinterp_data* d) {
    int64_t id = -1;
    Err e;
    EXPECT_EQ(subinterp_data_get_queue(d, &id, e.out()), SUBINTERP_OK) << e.message();
    return id;
}

inline void put_ok(int64_t id, const subinterp_data* item, double timeout = SUBINTERP_NO_WAIT) {
    Err e;
    EXPECT_EQ(subinterp_queue_put(id, item, timeout, e.out()), SUBINTERP_OK) << e.message();
}

inline void put_int(int64_t id, int64_t v, double timeout = SUBINTERP_NO_WAIT) {
    Data d = make_int(v);
    put_ok(id, d.get(), timeout);
}

inline Data get_ok(int64_t id, double timeout = SUBINTERP_NO_WAIT) {
    subinterp_data* item = nullptr;
    Err e;
    EXPECT_EQ(subinterp_queue_get(id, timeout, &item, e.out()), SUBINTERP_OK) << e.message();
    return Data(item);
}

}  // namespace subinterp_test
