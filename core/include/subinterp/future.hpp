// The outcome of a pool task, shared by the pool, the worker running it and
// every handle the caller holds.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "subinterp/data.hpp"
#include "subinterp/error.hpp"
#include "subinterp/execution.hpp"
#include "subinterp/queues.hpp"

namespace subinterp {

class Interpreter;
class RunningCall;

class Future {
public:
    // Values equal SUBINTERP_FUTURE_* of subinterp.h.
    enum class State : int { Pending = 0, Running = 1, Finished = 2, Cancelled = 3 };
    using Callback = std::function<void()>;

    State state() const;

    // Waits up to `timeout` (nullopt: forever) for Finished or Cancelled;
    // true when done. Releases a calling Python thread's GIL while waiting.
    bool wait(Timeout timeout) const;

    // Waits, then the result, or throws the task's Error (Cancelled when it
    // was cancelled before it ran). `output` receives the captured text.
    DataPtr result(Output* output) const;

    // Pending: Cancelled at once (true). Running: interrupts it (true).
    // Finished or Cancelled: false and true.
    bool cancel();

    // Runs `callback` once when done: now, on this thread, if already done.
    void on_done(Callback callback);

    // --- the pool's side ---
    // Called (without locks held) when a pending task is cancelled, so the
    // pool drops it from its queue at once.
    void on_withdrawn(Callback withdraw);
    // Pending -> Running; false if cancelled meanwhile.
    bool start(std::weak_ptr<Interpreter> interpreter);
    // The running code's handle (RunOptions::on_start), GIL held.
    void started(const std::shared_ptr<RunningCall>& call);
    void finish(DataPtr result, std::optional<Error> error, Output output);
    // Cancelled without running (shutdown with cancel_pending, a pool with
    // no worker): `error` is what result() throws. False if not pending.
    bool abandon(Error error);

private:
    bool done_locked() const { return state_ == State::Finished || state_ == State::Cancelled; }
    void complete(std::unique_lock<std::mutex> lock);

    mutable std::mutex mutex_;
    mutable std::condition_variable done_;
    State state_ = State::Pending;
    DataPtr result_;
    std::optional<Error> error_;
    Output output_;
    std::vector<Callback> callbacks_;
    Callback withdraw_;
    std::weak_ptr<Interpreter> interpreter_;
    std::shared_ptr<RunningCall> call_;
    bool cancel_requested_ = false;
};

}  // namespace subinterp
