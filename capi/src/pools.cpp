// Pools and futures.
#include <memory>
#include <string>

#include "config.hpp"
#include "guard.hpp"
#include "run.hpp"
#include "subinterp/pool.hpp"
#include "subinterp/queues.hpp"

struct subinterp_pool {
    std::unique_ptr<subinterp::Pool> pool;
};

struct subinterp_future {
    std::shared_ptr<subinterp::Future> future;
};

using subinterp::capi::guarded;
using subinterp::capi::require;

namespace {

constexpr std::size_t kPoolOptionsV1 = offsetof(subinterp_pool_options, max_tasks_per_worker) + sizeof(uint64_t);
constexpr std::size_t kPoolStatsV1 = offsetof(subinterp_pool_stats, replaced) + sizeof(uint64_t);
constexpr std::size_t kPoolWorkerV1 = offsetof(subinterp_pool_worker, replaced) + sizeof(uint64_t);

const subinterp::Data* core(const subinterp_data* data) { return reinterpret_cast<const subinterp::Data*>(data); }

subinterp::DataPtr share(const subinterp_data* data) { return subinterp::DataPtr::share(core(data)); }

subinterp_data* hand_out(subinterp::DataPtr value) { return reinterpret_cast<subinterp_data*>(value.release()); }

subinterp::Pool& pool_of(subinterp_pool* pool) { return *require(pool, "pool").pool; }

const subinterp::Future& future_of(const subinterp_future* future) { return *require(future, "future").future; }

std::optional<std::string> optional_text(const char* text) {
    return text ? std::optional<std::string>(text) : std::nullopt;
}

subinterp::PoolOptions pool_options(const subinterp_pool_options* opts) {
    subinterp::PoolOptions options;
    if (!opts) return options;
    subinterp::capi::require_struct_size(opts->struct_size, kPoolOptionsV1, sizeof(subinterp_pool_options),
                                         "subinterp_pool_options");
    options.workers = opts->workers;
    options.config = subinterp::capi::config_from(opts->config);
    options.init_source = optional_text(opts->init_source);
    options.init_callable = optional_text(opts->init_callable);
    options.init_args = share(opts->init_args);
    options.max_queued = opts->max_queued;
    options.max_tasks_per_worker = opts->max_tasks_per_worker;
    if (options.init_args && !options.init_callable) {
        throw subinterp::Error(subinterp::ErrorCode::InvalidArgument, "init_args given without init_callable");
    }
    return options;
}

subinterp::PoolTask pool_task(const char* callable, const subinterp_data* args, const subinterp_data* kwargs,
                              const subinterp::RunOptions& options) {
    return subinterp::PoolTask{&require(callable, "callable"), share(args), share(kwargs), options};
}

}  // namespace

extern "C" {

subinterp_status subinterp_pool_options_init(subinterp_pool_options* opts) {
    if (!opts) return SUBINTERP_ERR_INVALID_ARGUMENT;
    *opts = subinterp_pool_options{};
    opts->struct_size = sizeof(subinterp_pool_options);
    return SUBINTERP_OK;
}

subinterp_status subinterp_pool_create(const subinterp_pool_options* opts, subinterp_pool** pool,
                                       subinterp_error** err) {
    return guarded(err, [&] {
        subinterp_pool*& out = require(pool, "pool");
        auto created = std::make_unique<subinterp_pool>(subinterp_pool{std::make_unique<subinterp::Pool>(pool_options(opts))});
        out = created.release();
    });
}

subinterp_status subinterp_pool_submit(subinterp_pool* pool, const char* callable, const subinterp_data* args,
                                       const subinterp_data* kwargs, const subinterp_run_options* opts, double wait,
                                       subinterp_future** future, subinterp_error** err) {
    return guarded(err, [&] {
        subinterp::Pool& target = pool_of(pool);
        subinterp_future*& out = require(future, "future");
        const subinterp::Timeout room = subinterp::timeout_from_seconds(wait);
        auto submitted = std::make_unique<subinterp_future>(subinterp_future{
            target.submit(pool_task(callable, args, kwargs, subinterp::capi::run_options(opts)), room)});
        out = submitted.release();
    });
}

subinterp_status subinterp_pool_call(subinterp_pool* pool, const char* callable, const subinterp_data* args,
                                     const subinterp_data* kwargs, const subinterp_run_options* opts,
                                     subinterp_data** result, subinterp_output** output, subinterp_error** err) {
    return subinterp::capi::run_with_output(
        opts, output, err, [&](const subinterp::RunOptions& options, subinterp::Output* captured) {
            subinterp::Pool& target = pool_of(pool);
            subinterp_data*& out = require(result, "result");
            const auto future = target.submit(pool_task(callable, args, kwargs, options), std::nullopt);
            out = hand_out(future->result(captured));
        });
}

subinterp_status subinterp_pool_map(subinterp_pool* pool, const char* callable, const subinterp_data* arg_lists,
                                    const subinterp_run_options* opts, subinterp_data** results,
                                    subinterp_error** err) {
    return guarded(err, [&] {
        subinterp::Pool& target = pool_of(pool);
        const char* name = &require(callable, "callable");
        const subinterp::Data& lists = require(core(arg_lists), "arg_lists");
        subinterp_data*& out = require(results, "results");
        out = hand_out(target.map(name, lists, subinterp::capi::run_options(opts)));
    });
}

subinterp_status subinterp_pool_shutdown(subinterp_pool* pool, int wait, int cancel_pending, subinterp_error** err) {
    return guarded(err, [&] { pool_of(pool).shutdown(wait != 0, cancel_pending != 0); });
}

subinterp_status subinterp_pool_check(subinterp_pool* pool, subinterp_error** err) {
    return guarded(err, [&] { pool_of(pool).check(); });
}

subinterp_status subinterp_pool_get_stats(subinterp_pool* pool, subinterp_pool_stats* stats, subinterp_error** err) {
    return guarded(err, [&] {
        const subinterp::Pool& target = pool_of(pool);
        subinterp_pool_stats& out = require(stats, "stats");
        subinterp::capi::require_struct_size(out.struct_size, kPoolStatsV1, sizeof(subinterp_pool_stats),
                                             "subinterp_pool_stats");
        const subinterp::PoolStats now = target.stats();
        out.workers = static_cast<uint32_t>(now.workers);
        out.live_workers = static_cast<uint32_t>(now.live_workers);
        out.busy_workers = static_cast<uint32_t>(now.busy_workers);
        out.queued = now.queued;
        out.submitted = now.submitted;
        out.succeeded = now.succeeded;
        out.failed = now.failed;
        out.timed_out = now.timed_out;
        out.cancelled = now.cancelled;
        out.replaced = now.replaced;
    });
}

subinterp_status subinterp_pool_get_worker(subinterp_pool* pool, size_t index, subinterp_pool_worker* worker,
                                            subinterp_error** err) {
    return guarded(err, [&] {
        const subinterp::Pool& target = pool_of(pool);
        subinterp_pool_worker& out = require(worker, "worker");
        subinterp::capi::require_struct_size(out.struct_size, kPoolWorkerV1, sizeof(subinterp_pool_worker),
                                             "subinterp_pool_worker");
        const subinterp::PoolWorkerInfo info = target.worker(index);
        out.alive = info.alive ? 1 : 0;
        out.interpreter_id = info.interpreter_id;
        out.busy = info.busy ? 1 : 0;
        out.tasks = info.tasks;
        out.failed = info.failed;
        out.replaced = info.replaced;
    });
}

void subinterp_pool_free(subinterp_pool* pool) { std::unique_ptr<subinterp_pool> owned(pool); }

subinterp_status subinterp_future_get_state(const subinterp_future* future, subinterp_future_state* state,
                                            subinterp_error** err) {
    return guarded(err, [&] {
        const subinterp::Future& target = future_of(future);
        require(state, "state") = static_cast<subinterp_future_state>(target.state());
    });
}

subinterp_status subinterp_future_wait(const subinterp_future* future, double timeout, subinterp_error** err) {
    return guarded(err, [&] {
        const subinterp::Future& target = future_of(future);
        if (!target.wait(subinterp::timeout_from_seconds(timeout))) {
            throw subinterp::Error(subinterp::ErrorCode::Timeout, "the future is not done yet");
        }
    });
}

subinterp_status subinterp_future_result(const subinterp_future* future, subinterp_data** result,
                                         subinterp_output** output, subinterp_error** err) {
    std::unique_ptr<subinterp_output> captured;
    const subinterp_status status = guarded(err, [&] {
        const subinterp::Future& target = future_of(future);
        subinterp_data*& out = require(result, "result");
        if (output) captured = std::make_unique<subinterp_output>();
        out = hand_out(target.result(captured ? &captured->output : nullptr));
    });
    if (output) *output = captured.release();
    return status;
}

subinterp_status subinterp_future_cancel(subinterp_future* future, int* cancelled, subinterp_error** err) {
    return guarded(err, [&] {
        require(future, "future");
        const bool stopped = future->future->cancel();
        if (cancelled) *cancelled = stopped ? 1 : 0;
    });
}

subinterp_status subinterp_future_on_done(subinterp_future* future, subinterp_future_callback callback, void* context,
                                          subinterp_error** err) {
    return guarded(err, [&] {
        require(future, "future");
        subinterp::capi::require_non_null(reinterpret_cast<const void*>(callback), "callback");
        std::weak_ptr<subinterp::Future> weak = future->future;
        future->future->on_done([weak, callback, context] {
            subinterp_future borrowed{weak.lock()};
            if (borrowed.future) callback(context, &borrowed);
        });
    });
}

void subinterp_future_free(subinterp_future* future) { std::unique_ptr<subinterp_future> owned(future); }

}  // extern "C"
