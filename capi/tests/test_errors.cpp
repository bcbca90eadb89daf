// The error object and its accessors; errors are values, never thread-local.
#include <string>
#include <thread>

#include "helpers.hpp"

using namespace subinterp_test;

TEST(Errors, AccessorsAcceptNull) {
    EXPECT_EQ(subinterp_error_code(nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(subinterp_error_message(nullptr), "");
    EXPECT_EQ(subinterp_error_exc_module(nullptr), nullptr);
    EXPECT_EQ(subinterp_error_exc_qualname(nullptr), nullptr);
    EXPECT_EQ(subinterp_error_traceback(nullptr), nullptr);
    subinterp_error_free(nullptr);
    subinterp_free(nullptr);
}

TEST(Errors, NonPythonErrorsHaveNoExceptionFields) {
    Err e;
    ASSERT_EQ(subinterp_destroy(999, e.out()), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_NOT_FOUND);
    EXPECT_EQ(subinterp_error_exc_module(e.get()), nullptr);
    EXPECT_EQ(subinterp_error_exc_qualname(e.get()), nullptr);
    EXPECT_EQ(subinterp_error_traceback(e.get()), nullptr);
    EXPECT_FALSE(e.message().empty());
}

TEST(Errors, StatusNames) {
    EXPECT_STREQ(subinterp_status_name(SUBINTERP_OK), "SUBINTERP_OK");
    EXPECT_STREQ(subinterp_status_name(SUBINTERP_ERR_NOT_FOUND), "SUBINTERP_ERR_NOT_FOUND");
    EXPECT_STREQ(subinterp_status_name(SUBINTERP_ERR_INTERNAL), "SUBINTERP_ERR_INTERNAL");
    EXPECT_STREQ(subinterp_status_name(12345), "SUBINTERP_ERR_UNKNOWN");
    for (subinterp_status s = 1; s <= SUBINTERP_ERR_CANCELLED; ++s) {
        EXPECT_STRNE(subinterp_status_name(s), "SUBINTERP_ERR_UNKNOWN") << s;
    }
}

// Each call's error is its own object: errors produced concurrently on many
// threads never mix (the design rules out thread-local "last error").
TEST(Errors, ConcurrentErrorsStayWithTheirCall) {
    const int64_t id = create();
    exec_ok(id, "def fail(n):\n    raise ValueError(f'failure {n}')\n");
    std::vector<std::thread> threads;
    std::atomic<int> mismatches{0};
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                const int n = t * 100 + i;
                Data arg = make_int(n);
                Data args = make_tuple({arg.get()});
                subinterp_data* result = nullptr;
                Err e;
                if (subinterp_call(id, "fail", args.get(), nullptr, nullptr, &result, nullptr, e.out()) !=
                        SUBINTERP_ERR_PYTHON ||
                    e.message() != "failure " + std::to_string(n)) {
                    ++mismatches;
                }
                // A different kind of error on the same thread in between.
                Err other;
                subinterp_destroy(-5, other.out());
                if (other.code() != SUBINTERP_ERR_NOT_FOUND) ++mismatches;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(mismatches, 0);
}

TEST(Errors, OutParametersUntouchedOnFailure) {
    int64_t id = 77;
    subinterp_config bad;
    subinterp_config_init(&bad, SUBINTERP_CONFIG_ISOLATED);
    bad.gil = 9;
    EXPECT_EQ(subinterp_create(&bad, &id, nullptr), SUBINTERP_ERR_CONFIG);
    EXPECT_EQ(id, 77);
    subinterp_error* err = reinterpret_cast<subinterp_error*>(0x1);
    EXPECT_EQ(subinterp_main_id(&id, &err), SUBINTERP_OK);  // success leaves *err alone
    EXPECT_EQ(err, reinterpret_cast<subinterp_error*>(0x1));
}
