// Any function from any OS thread, no thread affinity, true parallelism of
// own-GIL interpreters.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "helpers.hpp"

using namespace subinterp_test;

// A goroutine hops between OS threads between two calls; so does this test.
TEST(Threads, SameInterpreterFromDifferentThreadsInTurn) {
    const int64_t id = create();
    exec_ok(id, "import threading\nseen = []\n");
    for (int hop = 0; hop < 20; ++hop) {
        std::thread([&] { exec_ok(id, "seen.append(threading.get_ident())"); }).join();
    }
    EXPECT_EQ(as_int(eval(id, "len(seen)").get()), 20);
    Err e;
    ASSERT_OK(subinterp_destroy(id, e.out()), e);
}

TEST(Threads, CreateOnOneThreadUseOnAnotherDestroyOnAThird) {
    int64_t id = -1;
    std::thread([&] { id = create(); }).join();
    std::thread([&] { exec_ok(id, "x = 'hello'"); }).join();
    std::thread([&] { EXPECT_EQ(as_str(eval(id, "x").get()), "hello"); }).join();
    std::thread([&] {
        Err e;
        EXPECT_OK(subinterp_destroy(id, e.out()), e);
    }).join();
}

TEST(Threads, ManyThreadsManyInterpreters) {
    constexpr int kInterpreters = 4;
    constexpr int kThreads = 16;
    constexpr int kCallsPerThread = 50;
    std::vector<int64_t> ids;
    for (int i = 0; i < kInterpreters; ++i) {
        ids.push_back(create());
        exec_ok(ids.back(), "calls = 0\ndef square(x):\n    global calls\n    calls += 1\n    return x * x\n");
    }
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kCallsPerThread; ++i) {
                const int64_t id = ids[(t + i) % kInterpreters];
                Data x = make_int(t * 1000 + i);
                Data args = make_tuple({x.get()});
                subinterp_data* result = nullptr;
                int64_t value = 0;
                if (subinterp_call(id, "square", args.get(), nullptr, nullptr, &result, nullptr, nullptr) != SUBINTERP_OK ||
                    subinterp_data_get_int(result, &value, nullptr) != SUBINTERP_OK ||
                    value != int64_t(t * 1000 + i) * (t * 1000 + i)) {
                    ++wrong;
                }
                subinterp_data_free(result);
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(wrong, 0);
    int64_t total = 0;
    for (const int64_t id : ids) total += as_int(eval(id, "calls").get());
    EXPECT_EQ(total, kThreads * kCallsPerThread);  // nothing lost
    for (const int64_t id : ids) {
        Err e;
        EXPECT_OK(subinterp_destroy(id, e.out()), e);
    }
}

TEST(Threads, ConcurrentCreateAndDestroy) {
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            for (int i = 0; i < 5; ++i) {
                int64_t id = -1;
                if (subinterp_create(nullptr, &id, nullptr) != SUBINTERP_OK) ++failures;
                if (subinterp_exec(id, "import json", nullptr, nullptr, nullptr) != SUBINTERP_OK) ++failures;
                if (subinterp_destroy(id, nullptr) != SUBINTERP_OK) ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failures, 0);
    size_t count = 0;
    ASSERT_EQ(subinterp_list(nullptr, 0, &count, nullptr), SUBINTERP_OK);
    EXPECT_EQ(count, 1u);
}

namespace {

// Two interpreters each run a handshake through a shared memory page: each
// sets its own flag, then spins in a CPU-bound loop until it sees the other's
// flag. The switch interval is raised so a thread holding a GIL never gives
// it up while spinning. Both can only succeed if both run at the same time,
// i.e. on two GILs. Returns each side's success.
std::pair<bool, bool> handshake(const subinterp_config* config, double give_up_seconds) {
    char path[] = "/tmp/subinterp-handshake-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(ftruncate(fd, 4096), 0);
    close(fd);
    const int64_t a = create(config);
    const int64_t b = create(config);
    const std::string setup = std::string("import mmap, sys, time\n"
                                          "sys.setswitchinterval(1000)\n"
                                          "f = open('") + path + "', 'r+b')\n"
                                          "page = mmap.mmap(f.fileno(), 4096)\n"
                                          "def shake(mine, theirs, give_up):\n"
                                          "    page[mine] = 1\n"
                                          "    deadline = time.monotonic() + give_up\n"
                                          "    spins = 0\n"
                                          "    while page[theirs] != 1:\n"
                                          "        spins += 1\n"
                                          "        if spins % 1000 == 0 and time.monotonic() > deadline:\n"
                                          "            return False\n"
                                          "    return True\n";
    exec_ok(a, setup);
    exec_ok(b, setup);
    bool ok_a = false, ok_b = false;
    auto run = [&](int64_t id, int mine, int theirs, bool& ok) {
        Data m = make_int(mine), t = make_int(theirs), g = make_float(give_up_seconds);
        Data args = make_tuple({m.get(), t.get(), g.get()});
        Data result = call(id, "shake", args.get());
        int value = 0;
        EXPECT_EQ(subinterp_data_get_bool(result.get(), &value, nullptr), SUBINTERP_OK);
        ok = value != 0;
    };
    std::thread ta(run, a, 0, 1, std::ref(ok_a));
    std::thread tb(run, b, 1, 0, std::ref(ok_b));
    ta.join();
    tb.join();
    exec_ok(a, "page.close(); f.close()");
    exec_ok(b, "page.close(); f.close()");
    EXPECT_EQ(subinterp_destroy(a, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_destroy(b, nullptr), SUBINTERP_OK);
    unlink(path);
    return {ok_a, ok_b};
}

}  // namespace

TEST(Threads, OwnGilInterpretersRunInParallel) {
    const auto [a, b] = handshake(nullptr, 30.0);
    EXPECT_TRUE(a);
    EXPECT_TRUE(b);
}

// The control that shows the handshake can fail: with one shared GIL the
// first side spins alone until it gives up.
TEST(Threads, SharedGilInterpretersDoNot) {
    subinterp_config legacy;
    subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY);
    const auto [a, b] = handshake(&legacy, 0.5);
    EXPECT_FALSE(a && b);
    EXPECT_TRUE(a || b);  // the second to run sees the first one's flag
}
