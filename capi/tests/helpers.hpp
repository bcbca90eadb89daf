// Shared helpers for the C ABI tests: RAII owners for ABI objects and a
// status check that prints the error when a call fails unexpectedly.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "subinterp.h"

namespace subinterp_test {

struct ErrorFree {
    void operator()(subinterp_error* e) const { subinterp_error_free(e); }
};
struct DataFree {
    void operator()(subinterp_data* d) const { subinterp_data_free(d); }
};
struct OutputFree {
    void operator()(subinterp_output* o) const { subinterp_output_free(o); }
};
using Error = std::unique_ptr<subinterp_error, ErrorFree>;
using Data = std::unique_ptr<subinterp_data, DataFree>;
using Output = std::unique_ptr<subinterp_output, OutputFree>;

// Collects the error of one call: `Err e; call(..., e.out())`.
class Err {
public:
    subinterp_error** out() { return &raw_; }
    ~Err() { subinterp_error_free(raw_); }
    const subinterp_error* get() const { return raw_; }
    subinterp_status code() const { return subinterp_error_code(raw_); }
    std::string message() const { return raw_ ? subinterp_error_message(raw_) : ""; }
    std::string exc_qualname() const {
        const char* q = subinterp_error_exc_qualname(raw_);
        return q ? q : "";
    }
    std::string exc_module() const {
        const char* m = subinterp_error_exc_module(raw_);
        return m ? m : "";
    }
    std::string traceback() const {
        const char* t = subinterp_error_traceback(raw_);
        return t ? t : "";
    }
    void reset() {
        subinterp_error_free(raw_);
        raw_ = nullptr;
    }

private:
    subinterp_error* raw_ = nullptr;
};

// What a host buffer's release callback (record_release) saw. The callback
// may run on any thread.
struct ReleaseLog {
    std::atomic<int> calls{0};
    void* released_data() {
        std::lock_guard<std::mutex> lock(mutex);
        return data;
    }
    std::thread::id releasing_thread() {
        std::lock_guard<std::mutex> lock(mutex);
        return thread;
    }

    std::mutex mutex;
    void* data = nullptr;
    std::thread::id thread;
};

// A subinterp_buffer_release recording into the ReleaseLog given as context.
inline void record_release(void* context, void* data) {
    auto* log = static_cast<ReleaseLog*>(context);
    {
        std::lock_guard<std::mutex> lock(log->mutex);
        log->thread = std::this_thread::get_id();
        log->data = data;
    }
    log->calls.fetch_add(1);
}

// ASSERT_OK(call(..., e.out()), e) prints the error message on failure.
#define ASSERT_OK(expr, err) ASSERT_EQ((expr), SUBINTERP_OK) << (err).message()
#define EXPECT_OK(expr, err) EXPECT_EQ((expr), SUBINTERP_OK) << (err).message()

inline Data make_int(int64_t v) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_int(v, &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_float(double v) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_float(v, &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_bool(bool v) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_bool(v, &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_none() {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_none(&d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_str(const std::string& s) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_str(s.data(), s.size(), &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_bytes(const std::string& s) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_bytes(s.data(), s.size(), &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_tuple(const std::vector<const subinterp_data*>& items) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_tuple(items.data(), items.size(), &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_list(const std::vector<const subinterp_data*>& items) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_list(items.data(), items.size(), &d, nullptr), SUBINTERP_OK);
    return Data(d);
}
inline Data make_dict(const std::vector<const subinterp_data*>& keys, const std::vector<const subinterp_data*>& values) {
    subinterp_data* d = nullptr;
    EXPECT_EQ(subinterp_data_new_dict(keys.data(), values.data(), keys.size(), &d, nullptr), SUBINTERP_OK);
    return Data(d);
}

inline std::string repr(const subinterp_data* d) {
    char* text = nullptr;
    if (subinterp_data_repr(d, &text, nullptr) != SUBINTERP_OK) return "<repr failed>";
    std::string result = text;
    subinterp_free(text);
    return result;
}

// Creates an interpreter (isolated unless a config is given) or fails the test.
inline int64_t create(const subinterp_config* config = nullptr) {
    Err e;
    int64_t id = -1;
    EXPECT_EQ(subinterp_create(config, &id, e.out()), SUBINTERP_OK) << e.message();
    return id;
}

// Runs source in an interpreter, failing the test on error.
inline void exec_ok(int64_t id, const std::string& source) {
    Err e;
    EXPECT_EQ(subinterp_exec(id, source.c_str(), nullptr, nullptr, e.out()), SUBINTERP_OK)
        << e.message() << "\n" << e.traceback();
}

// Calls a callable with positional args, returning the result (null on error).
inline Data call(int64_t id, const char* callable, const subinterp_data* args = nullptr,
                 const subinterp_data* kwargs = nullptr) {
    Err e;
    subinterp_data* result = nullptr;
    EXPECT_EQ(subinterp_call(id, callable, args, kwargs, nullptr, &result, nullptr, e.out()), SUBINTERP_OK)
        << e.message() << "\n" << e.traceback();
    return Data(result);
}

// Evaluates a Python expression in the interpreter's __main__. (Calling
// builtins.eval directly has no caller frame, hence no globals, so the
// expression goes through a function defined in __main__.)
inline Data eval(int64_t id, const std::string& expression) {
    exec_ok(id, "def _test_eval(expression):\n    return eval(expression)\n");
    Data text = make_str(expression);
    Data args = make_tuple({text.get()});
    return call(id, "_test_eval", args.get());
}

inline int64_t as_int(const subinterp_data* d) {
    int64_t v = 0;
    Err e;
    EXPECT_EQ(subinterp_data_get_int(d, &v, e.out()), SUBINTERP_OK) << e.message();
    return v;
}

inline std::string as_str(const subinterp_data* d) {
    const char* s = nullptr;
    size_t n = 0;
    Err e;
    EXPECT_EQ(subinterp_data_get_str(d, &s, &n, e.out()), SUBINTERP_OK) << e.message();
    return s ? std::string(s, n) : std::string();
}

}  // namespace subinterp_test
