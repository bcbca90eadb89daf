#include "subinterp/pool.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "subinterp/interpreters.hpp"
#include "subinterp/runtime.hpp"
#include "thread_state.hpp"

namespace subinterp {
namespace {

constexpr const char* kHealthProbe = "import sys\n";

struct QueuedTask {
    PoolTask task;
    std::shared_ptr<Future> future;
};

struct WorkerSlot {
    PoolWorkerInfo info;
    std::shared_ptr<Interpreter> interpreter;
    std::thread::id thread;
    bool reported = false;  // start-up finished, either way
    std::optional<Error> start_failure;
};

Interpreters& registry() { return Runtime::instance().interpreters(); }

// One pool's worker: owns its interpreter, runs tasks, replaces the
// interpreter when it is worn out or broken.
class Worker {
public:
    Worker(std::shared_ptr<Pool::Shared> shared, std::size_t index) : shared_(std::move(shared)), index_(index) {}
    void run();

private:
    std::shared_ptr<Interpreter> start() const;  // create + init; throws
    bool run_task(QueuedTask& queued);           // true if it failed
    bool healthy() const;
    bool replace();  // false: no replacement could start

    std::shared_ptr<Pool::Shared> shared_;
    const std::size_t index_;
    std::shared_ptr<Interpreter> interpreter_;
    uint64_t tasks_since_start_ = 0;
};

}  // namespace

struct Pool::Shared : std::enable_shared_from_this<Pool::Shared> {
    explicit Shared(PoolOptions pool_options) : options(std::move(pool_options)), slots(options.workers) {}

    const PoolOptions options;
    mutable std::mutex mutex;
    std::condition_variable work;     // a task queued, or stopping
    std::condition_variable room;     // a task taken
    std::condition_variable changed;  // a worker reported or exited
    std::deque<QueuedTask> queue;
    std::vector<WorkerSlot> slots;
    std::size_t threads = 0;  // worker threads not yet exited
    bool accepting = true;
    bool stopping = false;  // workers exit once the queue is empty
    std::optional<Error> degraded;
    PoolStats counters;

    std::size_t live_workers() const {
        return std::count_if(slots.begin(), slots.end(), [](const WorkerSlot& slot) { return slot.info.alive; });
    }
    bool on_worker_thread() const {
        const auto me = std::this_thread::get_id();
        return std::any_of(slots.begin(), slots.end(), [&](const WorkerSlot& slot) { return slot.thread == me; });
    }

    // Drops a pending task that was cancelled (Future::on_withdrawn).
    void withdraw(const Future* future) {
        std::lock_guard lock(mutex);
        const auto found = std::find_if(queue.begin(), queue.end(),
                                        [&](const QueuedTask& queued) { return queued.future.get() == future; });
        if (found == queue.end()) return;  // a worker took it: it counts it
        queue.erase(found);
        ++counters.cancelled;
        room.notify_one();
    }

    // Takes the queue's tasks out, to cancel them outside the lock.
    std::deque<QueuedTask> take_queue() {
        room.notify_all();
        return std::exchange(queue, {});
    }
    // Ends queued tasks that will not run; returns how many were still pending.
    static uint64_t abandon(std::deque<QueuedTask> tasks, const Error& error) {
        uint64_t ended = 0;
        for (auto& queued : tasks) ended += queued.future->abandon(error) ? 1 : 0;
        return ended;
    }
};

namespace {

std::shared_ptr<Interpreter> Worker::start() const {
    const PoolOptions& options = shared_->options;
    const int64_t id = registry().create(options.config, /*pooled=*/true);
    auto interpreter = registry().find(id);
    try {
        if (options.init_source) exec(*interpreter, *options.init_source, RunOptions{}, nullptr);
        if (options.init_callable) {
            call(*interpreter, *options.init_callable, options.init_args.get(), nullptr, RunOptions{}, nullptr);
        }
    } catch (...) {
        try {
            registry().destroy(id, /*pooled=*/true);
        } catch (const Error&) {
            // Busy with threads its init started: it stays, listed, for the host to see.
        }
        throw;
    }
    return interpreter;
}

bool Worker::healthy() const {
    RunOptions probe;
    probe.timeout = std::chrono::seconds(5);
    try {
        exec(*interpreter_, kHealthProbe, probe, nullptr);
        return true;
    } catch (const Error&) {
        return false;
    }
}

bool Worker::run_task(QueuedTask& queued) {
    Future& future = *queued.future;
    if (!future.start(interpreter_)) {  // cancelled while queued
        std::lock_guard lock(shared_->mutex);
        ++shared_->counters.cancelled;
        shared_->slots[index_].info.busy = false;
        return false;
    }
    RunOptions options = queued.task.options;
    options.on_start = [&future](const std::shared_ptr<RunningCall>& call) { future.started(call); };
    DataPtr result;
    std::optional<Error> error;
    Output output;
    try {
        result = call(*interpreter_, queued.task.callable, queued.task.args.get(), queued.task.kwargs.get(), options,
                      options.captures() ? &output : nullptr);
    } catch (const Error& failure) {
        error = failure;
    } catch (const std::bad_alloc&) {
        error = Error(ErrorCode::NoMemory, "out of memory");
    }
    {
        std::lock_guard lock(shared_->mutex);
        auto& counters = shared_->counters;
        auto& info = shared_->slots[index_].info;
        ++info.tasks;
        if (!error) {
            ++counters.succeeded;
        } else if (error->code() == ErrorCode::Cancelled) {
            ++counters.cancelled;
        } else {
            ++counters.failed;
            ++info.failed;
            if (error->code() == ErrorCode::Timeout) ++counters.timed_out;
        }
        info.busy = false;
    }
    const bool failed = error.has_value();
    future.finish(std::move(result), std::move(error), std::move(output));
    return failed;
}

bool Worker::replace() {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->slots[index_].info.alive = false;
        shared_->slots[index_].info.interpreter_id = -1;
    }
    try {
        registry().destroy(interpreter_->id(), /*pooled=*/true);
    } catch (const Error&) {
        // Still busy (threads it started): left listed for the host to see.
    }
    interpreter_.reset();
    try {
        interpreter_ = start();
    } catch (const Error& error) {
        std::unique_lock lock(shared_->mutex);
        const Error cause = error.prefixed("pool worker " + std::to_string(index_) + " could not be replaced: ");
        if (!shared_->degraded) shared_->degraded = cause;
        if (shared_->live_workers() > 0) return false;
        auto orphans = shared_->take_queue();
        lock.unlock();
        const uint64_t ended =
            Pool::Shared::abandon(std::move(orphans), Error(ErrorCode::Runtime, "the pool has no live worker: " + cause.message()));
        lock.lock();
        shared_->counters.failed += ended;
        return false;
    }
    tasks_since_start_ = 0;
    std::lock_guard lock(shared_->mutex);
    auto& info = shared_->slots[index_].info;
    info.alive = true;
    info.interpreter_id = interpreter_->id();
    ++info.replaced;
    ++shared_->counters.replaced;
    return true;
}

void Worker::run() {
    try {
        interpreter_ = start();
    } catch (const Error& error) {
        std::lock_guard lock(shared_->mutex);
        shared_->slots[index_].start_failure = error.prefixed("pool worker " + std::to_string(index_) + ": ");
    }
    {
        std::lock_guard lock(shared_->mutex);
        auto& slot = shared_->slots[index_];
        slot.reported = true;
        slot.info.alive = interpreter_ != nullptr;
        if (interpreter_) slot.info.interpreter_id = interpreter_->id();
        shared_->changed.notify_all();
    }
    while (interpreter_) {
        std::optional<QueuedTask> queued;
        {
            std::unique_lock lock(shared_->mutex);
            shared_->work.wait(lock, [&] { return !shared_->queue.empty() || shared_->stopping; });
            if (shared_->queue.empty()) break;
            queued = std::move(shared_->queue.front());
            shared_->queue.pop_front();
            shared_->slots[index_].info.busy = true;
            shared_->room.notify_one();
        }
        const bool failed = run_task(*queued);
        queued.reset();
        ++tasks_since_start_;
        const uint64_t limit = shared_->options.max_tasks_per_worker;
        const bool worn_out = limit > 0 && tasks_since_start_ >= limit;
        if ((worn_out || (failed && !healthy())) && !replace()) break;
    }
    if (interpreter_) {
        try {
            registry().destroy(interpreter_->id(), /*pooled=*/true);
        } catch (const Error&) {
            // Busy (daemon threads) or the runtime finalized: nothing more to do here.
        }
        interpreter_.reset();
    }
    std::lock_guard lock(shared_->mutex);
    auto& slot = shared_->slots[index_];
    slot.info = PoolWorkerInfo{false, -1, false, slot.info.tasks, slot.info.failed, slot.info.replaced};
    --shared_->threads;
    shared_->changed.notify_all();
}

std::size_t default_workers() {
    const unsigned cores = std::thread::hardware_concurrency();
    return cores > 0 ? cores : 1;
}

PoolOptions checked(PoolOptions options) {
    if (options.workers == 0) options.workers = default_workers();
    constexpr std::size_t kMaxWorkers = 1024;
    if (options.workers > kMaxWorkers) {
        throw Error(ErrorCode::InvalidArgument, "a pool has at most " + std::to_string(kMaxWorkers) + " workers, not " +
                                                    std::to_string(options.workers));
    }
    options.config.validate();
    if (options.init_callable) check_call_arguments(*options.init_callable, options.init_args.get(), nullptr);
    return options;
}

// The registry of live pools, for shut_down_all_pools().
struct LivePools {
    std::mutex mutex;
    std::vector<std::weak_ptr<Pool::Shared>> pools;

    static LivePools& instance() {
        static LivePools live;
        return live;
    }
    void add(std::weak_ptr<Pool::Shared> pool) {
        std::lock_guard lock(mutex);
        pools.erase(std::remove_if(pools.begin(), pools.end(), [](const auto& weak) { return weak.expired(); }),
                    pools.end());
        pools.push_back(std::move(pool));
    }
    std::vector<std::shared_ptr<Pool::Shared>> all() {
        std::lock_guard lock(mutex);
        std::vector<std::shared_ptr<Pool::Shared>> live;
        for (const auto& weak : pools) {
            if (auto pool = weak.lock()) live.push_back(std::move(pool));
        }
        return live;
    }
};

void shut_down(Pool::Shared& shared, bool wait, bool cancel_pending) {
    std::unique_lock lock(shared.mutex);
    if (wait && shared.on_worker_thread()) {
        throw Error(ErrorCode::Busy, "a pool cannot wait for its own workers from one of them (a completion callback)");
    }
    shared.accepting = false;
    shared.stopping = true;
    std::deque<QueuedTask> cancelled = cancel_pending ? shared.take_queue() : std::deque<QueuedTask>{};
    shared.work.notify_all();
    lock.unlock();
    const uint64_t ended =
        Pool::Shared::abandon(std::move(cancelled), Error(ErrorCode::Cancelled, "the pool was shut down before the task started"));
    lock.lock();
    shared.counters.cancelled += ended;
    lock.unlock();
    if (!wait) return;
    // A Python caller lets go of its GIL while waiting. The lock is declared
    // after it so it is released before the GIL is taken back: a Python thread
    // holding the GIL may be waiting for this mutex.
    CallerDetach caller;
    std::unique_lock waiting(shared.mutex);
    shared.changed.wait(waiting, [&] { return shared.threads == 0; });
}

}  // namespace

Pool::Pool(PoolOptions options) : shared_(std::make_shared<Shared>(checked(std::move(options)))) {
    registry();  // start the runtime on this thread, not racing in the workers
    const std::size_t count = shared_->options.workers;
    for (std::size_t index = 0; index < count; ++index) {
        std::lock_guard lock(shared_->mutex);
        std::thread thread([shared = shared_, index] { Worker(shared, index).run(); });
        shared_->slots[index].thread = thread.get_id();
        ++shared_->threads;
        thread.detach();
    }
    std::optional<Error> failure;
    {
        CallerDetach caller;
        std::unique_lock lock(shared_->mutex);
        shared_->changed.wait(lock, [&] {
            return std::all_of(shared_->slots.begin(), shared_->slots.end(), [](const auto& slot) { return slot.reported; });
        });
        for (const auto& slot : shared_->slots) {
            if (slot.start_failure) {
                failure = slot.start_failure;
                break;
            }
        }
    }
    if (failure) {
        shut_down(*shared_, true, true);
        throw *failure;
    }
    LivePools::instance().add(shared_);
}

Pool::~Pool() {
    try {
        bool on_worker = false;
        {
            std::lock_guard lock(shared_->mutex);
            on_worker = shared_->on_worker_thread();
        }
        shut_down(*shared_, !on_worker, true);
    } catch (...) {
        // Shutting down cannot fail in a way a destructor could report.
    }
}

std::shared_ptr<Future> Pool::submit(PoolTask task, Timeout wait) {
    check_call_arguments(task.callable, task.args.get(), task.kwargs.get());
    auto future = std::make_shared<Future>();
    future->on_withdrawn([weak = std::weak_ptr<Shared>(shared_), raw = future.get()] {
        if (const auto shared = weak.lock()) shared->withdraw(raw);
    });
    const std::size_t limit = shared_->options.max_queued;
    std::unique_lock lock(shared_->mutex);
    const auto refuse_if_unusable = [&] {
        if (!shared_->accepting) throw Error(ErrorCode::Closed, "the pool is shut down");
        if (shared_->live_workers() == 0 && shared_->degraded) {
            throw Error(ErrorCode::Runtime, "the pool has no live worker: " + shared_->degraded->message());
        }
    };
    refuse_if_unusable();
    const auto has_room = [&] { return limit == 0 || shared_->queue.size() < limit || !shared_->accepting; };
    const auto full = [&] {
        return Error(ErrorCode::QueueFull, "the pool's submission queue is full (max_queued " + std::to_string(limit) + ")");
    };
    const auto deadline = std::chrono::steady_clock::now() + wait.value_or(std::chrono::nanoseconds::zero());
    while (!has_room()) {
        if (wait && wait->count() <= 0) throw full();
        lock.unlock();
        bool timed_out = false;
        {
            // The GIL goes back only after `waiting` is released: a Python
            // thread holding the GIL may be waiting for this mutex.
            CallerDetach caller;
            std::unique_lock waiting(shared_->mutex);
            if (wait) {
                timed_out = !shared_->room.wait_until(waiting, deadline, has_room);
            } else {
                shared_->room.wait(waiting, has_room);
            }
        }
        lock.lock();
        refuse_if_unusable();
        if (timed_out && !has_room()) throw full();
    }
    shared_->queue.push_back(QueuedTask{std::move(task), future});
    ++shared_->counters.submitted;
    shared_->work.notify_one();
    return future;
}

DataPtr Pool::map(const std::string& callable, const Data& arg_lists, const RunOptions& options) {
    if (arg_lists.kind() != DataKind::Tuple && arg_lists.kind() != DataKind::List) {
        throw Error(ErrorCode::InvalidArgument, std::string("map arg_lists has kind '") + kind_name(arg_lists.kind()) +
                                                    "', expected a tuple or list of argument tuples");
    }
    const DataItems& items = arg_lists.items();
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (items[i]->kind() != DataKind::Tuple && items[i]->kind() != DataKind::List) {
            throw Error(ErrorCode::InvalidArgument, "map arg_lists item " + std::to_string(i) + " has kind '" +
                                                        kind_name(items[i]->kind()) + "', expected a tuple or list");
        }
    }
    std::vector<std::shared_ptr<Future>> futures;
    futures.reserve(items.size());
    const auto cancel_from = [&](std::size_t first) {
        for (std::size_t j = first; j < futures.size(); ++j) futures[j]->cancel();
    };
    try {
        for (const DataPtr& args : items) futures.push_back(submit(PoolTask{callable, args, DataPtr(), options}, std::nullopt));
    } catch (...) {
        cancel_from(0);
        throw;
    }
    DataItems results;
    results.reserve(items.size());
    for (std::size_t i = 0; i < futures.size(); ++i) {
        try {
            results.push_back(futures[i]->result(nullptr));
        } catch (const Error& error) {
            cancel_from(i + 1);
            throw error.prefixed("item " + std::to_string(i) + ": ");
        }
    }
    return Data::list(std::move(results));
}

void Pool::shutdown(bool wait, bool cancel_pending) { shut_down(*shared_, wait, cancel_pending); }

void Pool::check() const {
    std::lock_guard lock(shared_->mutex);
    if (!shared_->accepting) throw Error(ErrorCode::Runtime, "the pool is shut down");
    if (shared_->degraded) {
        throw Error(ErrorCode::Runtime, "the pool is degraded (" + std::to_string(shared_->live_workers()) + " of " +
                                            std::to_string(shared_->slots.size()) +
                                            " workers live): " + shared_->degraded->message());
    }
}

PoolStats Pool::stats() const {
    std::lock_guard lock(shared_->mutex);
    PoolStats stats = shared_->counters;
    stats.workers = shared_->slots.size();
    stats.live_workers = shared_->live_workers();
    stats.busy_workers = std::count_if(shared_->slots.begin(), shared_->slots.end(),
                                       [](const WorkerSlot& slot) { return slot.info.busy; });
    stats.queued = shared_->queue.size();
    return stats;
}

PoolWorkerInfo Pool::worker(std::size_t index) const {
    std::lock_guard lock(shared_->mutex);
    if (index >= shared_->slots.size()) {
        throw Error(ErrorCode::Index, "worker index " + std::to_string(index) + " out of range (the pool has " +
                                          std::to_string(shared_->slots.size()) + " workers)");
    }
    return shared_->slots[index].info;
}

void shut_down_all_pools() {
    for (const auto& pool : LivePools::instance().all()) shut_down(*pool, true, true);
}

}  // namespace subinterp
