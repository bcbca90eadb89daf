#include "subinterp/future.hpp"

#include <utility>

#include "running_call.hpp"
#include "subinterp/interpreter.hpp"
#include "thread_state.hpp"

namespace subinterp {

Future::State Future::state() const {
    std::lock_guard lock(mutex_);
    return state_;
}

bool Future::wait(Timeout timeout) const {
    CallerDetach caller;  // a Python caller lets go of its GIL while it waits
    std::unique_lock lock(mutex_);
    const auto is_done = [&] { return done_locked(); };
    if (!timeout) {
        done_.wait(lock, is_done);
        return true;
    }
    return done_.wait_for(lock, *timeout, is_done);
}

DataPtr Future::result(Output* output) const {
    wait(std::nullopt);
    std::lock_guard lock(mutex_);
    if (output) *output = output_;
    if (error_) throw *error_;
    return result_;
}

bool Future::cancel() {
    std::unique_lock lock(mutex_);
    switch (state_) {
        case State::Pending: {
            state_ = State::Cancelled;
            error_ = Error(ErrorCode::Cancelled, "the task was cancelled before it started");
            const Callback withdraw = std::exchange(withdraw_, nullptr);
            complete(std::move(lock));
            if (withdraw) withdraw();
            return true;
        }
        case State::Running: {
            cancel_requested_ = true;
            const auto interpreter = interpreter_.lock();
            const auto call = call_;
            lock.unlock();
            // Not started yet (call null): started() raises it at once.
            if (interpreter && call) interrupt_run(*interpreter, call, InterruptReason::Cancel);
            return true;
        }
        case State::Finished: return false;
        case State::Cancelled: return true;
    }
    return false;
}

void Future::on_withdrawn(Callback withdraw) {
    std::lock_guard lock(mutex_);
    withdraw_ = std::move(withdraw);
}

void Future::on_done(Callback callback) {
    std::unique_lock lock(mutex_);
    if (done_locked()) {
        lock.unlock();
        callback();
        return;
    }
    callbacks_.push_back(std::move(callback));
}

bool Future::start(std::weak_ptr<Interpreter> interpreter) {
    std::lock_guard lock(mutex_);
    if (state_ != State::Pending) return false;
    state_ = State::Running;
    interpreter_ = std::move(interpreter);
    return true;
}

void Future::started(const std::shared_ptr<RunningCall>& call) {
    std::lock_guard lock(mutex_);
    call_ = call;
    if (cancel_requested_) call->raise(InterruptReason::Cancel);  // we hold its GIL
}

void Future::finish(DataPtr result, std::optional<Error> error, Output output) {
    std::unique_lock lock(mutex_);
    result_ = std::move(result);
    error_ = std::move(error);
    output_ = std::move(output);
    call_.reset();
    state_ = State::Finished;
    complete(std::move(lock));
}

bool Future::abandon(Error error) {
    std::unique_lock lock(mutex_);
    if (state_ != State::Pending) return false;
    state_ = State::Cancelled;
    error_ = std::move(error);
    complete(std::move(lock));
    return true;
}

void Future::complete(std::unique_lock<std::mutex> lock) {
    std::vector<Callback> callbacks = std::exchange(callbacks_, {});
    done_.notify_all();
    lock.unlock();
    for (auto& callback : callbacks) callback();
}

}  // namespace subinterp
