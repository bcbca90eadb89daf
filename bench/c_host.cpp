// Round-trip benchmarks from C (the C host of the host-language benchmarks;
// Rust and Go have the same four, minus pool_first_call), with Google
// Benchmark, through the public C ABI only (subinterp.h).
//
//   c_host [--quick] [any --benchmark_* flag]
//
//   BM_create_destroy   subinterp_create (ISOLATED preset, own GIL) +
//                       subinterp_destroy of that interpreter.
//   BM_exec_pass        subinterp_exec(id, "pass") in one isolated interpreter
//                       made once in main (default options, no capture).
//   BM_call_small       in that same interpreter: build the args tuple (1, 2),
//                       subinterp_call("operator:add"), read the int result
//                       (checked == 3 every iteration), free result and args.
//   BM_pool_first_call  a fresh pool of 1 worker (default options) per
//                       iteration, created and freed outside the timed region;
//                       timed (manual time, steady clock): building the args,
//                       the pool's first subinterp_pool_call("operator:add",
//                       (1, 2)), reading the result, freeing it. Fixed
//                       iteration count: 20 (2 with --quick).
//
// Times are per iteration, in nanoseconds (Unit(kNanosecond)); in the JSON
// output (--benchmark_out_format=json) each entry has "real_time" (wall clock;
// the manual time for BM_pool_first_call) and "cpu_time", in "time_unit"
// ("ns"). Use real_time: the C ABI calls block while the interpreter or the
// pool worker runs.
//
// --quick (CI smoke run: well under a second) means --benchmark_min_time=0.01
// (unless given) and 2 iterations of BM_pool_first_call instead of 20. In
// the output the first three keep their plain names; the last is named
// "BM_pool_first_call/iterations:20/manual_time" (iterations:2 with --quick):
// Google Benchmark appends those; match on the part before the first "/". Every result is verified before timing
// and during it; any library error prints the status name, message and
// Python traceback (when the error carries one) on stderr, stops that
// benchmark (SkipWithError) and makes the process exit 1 once the runs end.
// The runtime is initialized once in main before the benchmarks and
// finalized after them.

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "subinterp.h"

namespace {

std::atomic<bool> g_failed{false};
int64_t g_interp = -1;  // the interpreter of BM_exec_pass and BM_call_small

constexpr const char *kCallable = "operator:add";

// Prints a failed call (status name, code, message, Python exception and
// traceback) and frees the error. Sets the global failure flag.
void report_error(const char *where, const char *what, subinterp_status status, subinterp_error *err) {
    g_failed = true;
    std::fprintf(stderr, "c_host: %s: %s failed: %s (%d): %s\n", where, what, subinterp_status_name(status),
                 static_cast<int>(status), err ? subinterp_error_message(err) : "(no error object)");
    if (err) {
        const char *module = subinterp_error_exc_module(err);
        const char *qualname = subinterp_error_exc_qualname(err);
        const char *traceback = subinterp_error_traceback(err);
        if (qualname) std::fprintf(stderr, "c_host: exception: %s.%s\n", module ? module : "?", qualname);
        if (traceback) std::fprintf(stderr, "%s", traceback);
    }
    std::fflush(stderr);
    subinterp_error_free(err);
}

void report_failure(const char *where, const std::string &message) {
    g_failed = true;
    std::fprintf(stderr, "c_host: %s: verification failed: %s\n", where, message.c_str());
    std::fflush(stderr);
}

// A benchmark step failed: `message` is already printed; stop this benchmark.
void skip(benchmark::State &state, const char *where) {
    state.SkipWithError((std::string(where) + " failed (see stderr)").c_str());
}

// The args of every call: the tuple (1, 2), built as a C user builds it.
// Returns NULL after reporting an error.
subinterp_data *make_args(const char *where) {
    subinterp_error *err = nullptr;
    subinterp_data *one = nullptr, *two = nullptr, *args = nullptr;
    subinterp_status st = subinterp_data_new_int(1, &one, &err);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_data_new_int", st, err);
        return nullptr;
    }
    st = subinterp_data_new_int(2, &two, &err);
    if (st != SUBINTERP_OK) {
        subinterp_data_free(one);
        report_error(where, "subinterp_data_new_int", st, err);
        return nullptr;
    }
    const subinterp_data *items[2] = {one, two};
    st = subinterp_data_new_tuple(items, 2, &args, &err);
    subinterp_data_free(one);
    subinterp_data_free(two);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_data_new_tuple", st, err);
        return nullptr;
    }
    return args;
}

// Reads `result` as an int and checks it is 3; frees it. False after
// reporting a failure.
bool check_result_and_free(const char *where, subinterp_data *result) {
    subinterp_error *err = nullptr;
    int64_t value = 0;
    subinterp_status st = subinterp_data_get_int(result, &value, &err);
    if (st != SUBINTERP_OK) {
        std::string kind = subinterp_data_kind_name(subinterp_data_get_kind(result));
        subinterp_data_free(result);
        report_error(where, ("subinterp_data_get_int (result kind " + kind + ")").c_str(), st, err);
        return false;
    }
    subinterp_data_free(result);
    if (value != 3) {
        report_failure(where, std::string(kCallable) + "(1, 2) returned " + std::to_string(value) + ", not 3");
        return false;
    }
    return true;
}

// One round trip of BM_call_small: args, call, result, free. False after
// reporting a failure.
bool call_small_once(const char *where) {
    subinterp_data *args = make_args(where);
    if (!args) return false;
    subinterp_data *result = nullptr;
    subinterp_error *err = nullptr;
    subinterp_status st = subinterp_call(g_interp, kCallable, args, nullptr, nullptr, &result, nullptr, &err);
    subinterp_data_free(args);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_call", st, err);
        return false;
    }
    return check_result_and_free(where, result);
}

bool exec_pass_once(const char *where) {
    subinterp_error *err = nullptr;
    subinterp_status st = subinterp_exec(g_interp, "pass", nullptr, nullptr, &err);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_exec", st, err);
        return false;
    }
    return true;
}

bool create_destroy_once(const char *where) {
    subinterp_config config;
    subinterp_error *err = nullptr;
    subinterp_status st = subinterp_config_init(&config, SUBINTERP_CONFIG_ISOLATED);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_config_init", st, nullptr);
        return false;
    }
    int64_t id = -1;
    st = subinterp_create(&config, &id, &err);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_create", st, err);
        return false;
    }
    st = subinterp_destroy(id, &err);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_destroy", st, err);
        return false;
    }
    return true;
}

// A pool of 1 worker with default options, ready when this returns. NULL
// after reporting an error.
subinterp_pool *make_pool(const char *where) {
    subinterp_pool_options opts;
    subinterp_error *err = nullptr;
    subinterp_status st = subinterp_pool_options_init(&opts);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_pool_options_init", st, nullptr);
        return nullptr;
    }
    opts.workers = 1;
    subinterp_pool *pool = nullptr;
    st = subinterp_pool_create(&opts, &pool, &err);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_pool_create", st, err);
        return nullptr;
    }
    return pool;
}

// The timed part of BM_pool_first_call: args, the call, result, free.
bool pool_call_once(const char *where, subinterp_pool *pool) {
    subinterp_data *args = make_args(where);
    if (!args) return false;
    subinterp_data *result = nullptr;
    subinterp_error *err = nullptr;
    subinterp_status st = subinterp_pool_call(pool, kCallable, args, nullptr, nullptr, &result, nullptr, &err);
    subinterp_data_free(args);
    if (st != SUBINTERP_OK) {
        report_error(where, "subinterp_pool_call", st, err);
        return false;
    }
    return check_result_and_free(where, result);
}

void BM_create_destroy(benchmark::State &state) {
    const char *where = "BM_create_destroy";
    if (!create_destroy_once(where)) return skip(state, where);  // verify before timing
    for (auto _ : state) {
        if (!create_destroy_once(where)) {
            skip(state, where);
            break;
        }
    }
}

void BM_exec_pass(benchmark::State &state) {
    const char *where = "BM_exec_pass";
    if (!exec_pass_once(where)) return skip(state, where);
    for (auto _ : state) {
        if (!exec_pass_once(where)) {
            skip(state, where);
            break;
        }
    }
}

void BM_call_small(benchmark::State &state) {
    const char *where = "BM_call_small";
    if (!call_small_once(where)) return skip(state, where);  // verifies, and imports operator
    for (auto _ : state) {
        if (!call_small_once(where)) {
            skip(state, where);
            break;
        }
    }
}

void BM_pool_first_call(benchmark::State &state) {
    const char *where = "BM_pool_first_call";
    {
        // Verify once before timing (this also pays whatever the process's
        // first pool pays once, e.g. thread-pool start-up in the library).
        subinterp_pool *pool = make_pool(where);
        if (!pool) return skip(state, where);
        bool ok = pool_call_once(where, pool);
        subinterp_pool_free(pool);
        if (!ok) return skip(state, where);
    }
    for (auto _ : state) {
        subinterp_pool *pool = make_pool(where);  // not timed: manual time below
        if (!pool) {
            skip(state, where);
            break;
        }
        auto start = std::chrono::steady_clock::now();
        bool ok = pool_call_once(where, pool);
        auto stop = std::chrono::steady_clock::now();
        subinterp_pool_free(pool);  // not timed
        if (!ok) {
            skip(state, where);
            break;
        }
        state.SetIterationTime(std::chrono::duration<double>(stop - start).count());
    }
}

bool runtime_start() {
    subinterp_error *err = nullptr;
    subinterp_status st = subinterp_runtime_init(nullptr, &err);
    if (st != SUBINTERP_OK) {
        report_error("main", "subinterp_runtime_init", st, err);
        return false;
    }
    subinterp_config config;
    st = subinterp_config_init(&config, SUBINTERP_CONFIG_ISOLATED);
    if (st != SUBINTERP_OK) {
        report_error("main", "subinterp_config_init", st, nullptr);
        return false;
    }
    st = subinterp_create(&config, &g_interp, &err);
    if (st != SUBINTERP_OK) {
        report_error("main", "subinterp_create", st, err);
        return false;
    }
    return true;
}

bool runtime_stop() {
    bool ok = true;
    subinterp_error *err = nullptr;
    if (g_interp > 0) {
        subinterp_status st = subinterp_destroy(g_interp, &err);
        if (st != SUBINTERP_OK) {
            report_error("main", "subinterp_destroy", st, err);
            ok = false;
        }
        g_interp = -1;
    }
    subinterp_status st = subinterp_runtime_finalize(&err);
    if (st != SUBINTERP_OK) {
        report_error("main", "subinterp_runtime_finalize", st, err);
        ok = false;
    }
    return ok;
}

}  // namespace

int main(int argc, char **argv) {
    // Our own flag first: Google Benchmark rejects flags it does not know.
    bool quick = false;
    std::vector<char *> args;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (i > 0 && std::strcmp(argv[i], "--help") == 0) {
            std::printf("usage: %s [--quick] [--benchmark_* flags]\n"
                        "  --quick  CI smoke run: --benchmark_min_time=0.01, BM_pool_first_call 2 iterations\n"
                        "Times are per iteration in ns (JSON: real_time / cpu_time, time_unit \"ns\").\n\n",
                        argv[0]);
            args.push_back(argv[i]);  // and Google Benchmark's own help
        } else {
            args.push_back(argv[i]);
        }
    }
    // --quick: 10 ms per benchmark through the flag (not MinTime(), which
    // would put "/min_time:0.010" in the names), unless one was given.
    static char quick_min_time[] = "--benchmark_min_time=0.01";
    bool has_min_time = false;
    for (char *arg : args) has_min_time |= std::strncmp(arg, "--benchmark_min_time", 20) == 0;
    if (quick && !has_min_time) args.insert(args.begin() + 1, quick_min_time);
    int bench_argc = static_cast<int>(args.size());
    args.push_back(nullptr);

    benchmark::Initialize(&bench_argc, args.data());
    if (benchmark::ReportUnrecognizedArguments(bench_argc, args.data())) return 2;

    benchmark::RegisterBenchmark("BM_create_destroy", BM_create_destroy)->Unit(benchmark::kNanosecond);
    benchmark::RegisterBenchmark("BM_exec_pass", BM_exec_pass)->Unit(benchmark::kNanosecond);
    benchmark::RegisterBenchmark("BM_call_small", BM_call_small)->Unit(benchmark::kNanosecond);
    // Its name in the output: BM_pool_first_call/iterations:20/manual_time.
    benchmark::RegisterBenchmark("BM_pool_first_call", BM_pool_first_call)
        ->Unit(benchmark::kNanosecond)
        ->UseManualTime()
        ->Iterations(quick ? 2 : 20);

    if (!runtime_start()) {
        runtime_stop();
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    bool stopped = runtime_stop();
    if (g_failed || !stopped) {
        std::fprintf(stderr, "c_host: FAILED (see the errors above)\n");
        return 1;
    }
    return 0;
}
