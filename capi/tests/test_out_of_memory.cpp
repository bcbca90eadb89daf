// Every data constructor, failing at each allocation in turn: the call returns
// SUBINTERP_ERR_NO_MEMORY (or succeeds), writes no out-parameter, calls no
// release callback, and leaks nothing (the sanitizer build checks leaks).
//
// Its own executable: it replaces the global operator new, which the library's
// allocations resolve to as well.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <new>
#include <string>

#include "subinterp.h"

namespace {

// Allocations left before the next one fails; -1 means never fail.
thread_local long allocations_before_failure = -1;

}  // namespace

void* operator new(std::size_t size) {
    if (allocations_before_failure == 0) {
        allocations_before_failure = -1;
        throw std::bad_alloc();
    }
    if (allocations_before_failure > 0) --allocations_before_failure;
    if (void* memory = std::malloc(size ? size : 1)) return memory;
    throw std::bad_alloc();
}
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

subinterp_data* const kUntouched = reinterpret_cast<subinterp_data*>(0x1);
int releases = 0;
void count_release(void*, void*) { ++releases; }

// Runs `construct` with the 0th, 1st, 2nd... allocation failing until it
// succeeds; checks every failure was clean. Returns how many failures it saw.
int fail_each_allocation(const std::function<subinterp_status(subinterp_data**)>& construct) {
    for (long failing = 0; failing < 64; ++failing) {
        subinterp_data* out = kUntouched;
        allocations_before_failure = failing;
        const subinterp_status status = construct(&out);
        allocations_before_failure = -1;
        if (status == SUBINTERP_OK) {
            EXPECT_NE(out, kUntouched);
            subinterp_data_free(out);
            return static_cast<int>(failing);
        }
        EXPECT_EQ(status, SUBINTERP_ERR_NO_MEMORY) << "allocation #" << failing;
        EXPECT_EQ(out, kUntouched) << "out written on failure at allocation #" << failing;
    }
    ADD_FAILURE() << "never succeeded";
    return -1;
}

subinterp_data* make_int(int64_t value) {
    subinterp_data* data = nullptr;
    EXPECT_EQ(subinterp_data_new_int(value, &data, nullptr), SUBINTERP_OK);
    return data;
}

}  // namespace

TEST(OutOfMemory, Scalars) {
    EXPECT_GT(fail_each_allocation([](subinterp_data** out) { return subinterp_data_new_int(7, out, nullptr); }), 0);
    const std::string text(100, 'x');  // longer than any small-string buffer
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) {
                  return subinterp_data_new_str(text.data(), text.size(), out, nullptr);
              }),
              0);
    const unsigned char big[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) {
                  return subinterp_data_new_int_bytes(big, sizeof big, out, nullptr);
              }),
              0);
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) {
                  return subinterp_data_new_pickled(text.data(), text.size(), out, nullptr);
              }),
              0);
}

TEST(OutOfMemory, Containers) {
    subinterp_data* one = make_int(1);
    subinterp_data* two = make_int(2);
    const subinterp_data* items[] = {one, two};
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) { return subinterp_data_new_tuple(items, 2, out, nullptr); }),
              0);
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) {
                  return subinterp_data_new_dict(items, items, 2, out, nullptr);
              }),
              0);
    // The items survived every failed attempt with their own references intact.
    int64_t value = 0;
    EXPECT_EQ(subinterp_data_get_int(two, &value, nullptr), SUBINTERP_OK);
    EXPECT_EQ(value, 2);
    subinterp_data_free(one);
    subinterp_data_free(two);
}

TEST(OutOfMemory, LibraryBuffer) {
    void* const sentinel = reinterpret_cast<void*>(0x1234);
    void* memory = sentinel;
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) {
                  memory = sentinel;
                  const subinterp_status status = subinterp_data_new_buffer(64, &memory, out, nullptr);
                  if (status != SUBINTERP_OK) {
                      EXPECT_EQ(memory, sentinel) << "data written on failure";
                  }
                  return status;
              }),
              0);
}

TEST(OutOfMemory, ExternalBufferIsNotReleasedOnFailure) {
    static char host_memory[32];
    EXPECT_GT(fail_each_allocation([&](subinterp_data** out) {
                  const int before = releases;
                  const subinterp_status status = subinterp_data_new_buffer_external(
                      host_memory, sizeof host_memory, 0, count_release, nullptr, out, nullptr);
                  if (status != SUBINTERP_OK) {
                      EXPECT_EQ(releases, before) << "released although the call failed";
                  }
                  return status;
              }),
              0);
    EXPECT_EQ(releases, 1);  // the successful one, when the test freed it
}
