// A pool of warm interpreters: N workers, each an OS thread that owns one
// interpreter, taking tasks from one FIFO submission queue. See the pool
// section of subinterp.h for the behaviour hosts rely on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "subinterp/config.hpp"
#include "subinterp/data.hpp"
#include "subinterp/execution.hpp"
#include "subinterp/future.hpp"
#include "subinterp/queues.hpp"

namespace subinterp {

struct PoolOptions {
    std::size_t workers = 0;  // 0: one per online CPU
    Config config;
    std::optional<std::string> init_source;
    std::optional<std::string> init_callable;
    DataPtr init_args;
    std::size_t max_queued = 0;  // 0: unbounded
    uint64_t max_tasks_per_worker = 0;  // 0: never replace
};

struct PoolTask {
    std::string callable;
    DataPtr args;
    DataPtr kwargs;
    RunOptions options;
};

struct PoolStats {
    std::size_t workers = 0, live_workers = 0, busy_workers = 0, queued = 0;
    uint64_t submitted = 0, succeeded = 0, failed = 0, timed_out = 0, cancelled = 0, replaced = 0;
};

struct PoolWorkerInfo {
    bool alive = false;
    int64_t interpreter_id = -1;
    bool busy = false;
    uint64_t tasks = 0, failed = 0, replaced = 0;
};

class Pool {
public:
    // Starts every worker and waits for their init; throws the first
    // worker's failure (message prefixed "pool worker N: ").
    explicit Pool(PoolOptions options);
    // Shuts down: cancels pending tasks; waits unless on one of its workers.
    ~Pool();
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    // Queues a task, waiting up to `wait` for room (nullopt: forever).
    std::shared_ptr<Future> submit(PoolTask task, Timeout wait);

    // `callable` over each element of `arg_lists`, results in order.
    DataPtr map(const std::string& callable, const Data& arg_lists, const RunOptions& options);

    void shutdown(bool wait, bool cancel_pending);

    // Throws Error(Runtime) when degraded or shut down.
    void check() const;

    PoolStats stats() const;
    PoolWorkerInfo worker(std::size_t index) const;  // throws Error(Index)

    struct Shared;

private:
    std::shared_ptr<Shared> shared_;  // shared with the worker threads
};

// Shuts every live pool down (pending tasks cancelled, workers waited for):
// runtime finalize does this before it destroys interpreters.
void shut_down_all_pools();

}  // namespace subinterp
