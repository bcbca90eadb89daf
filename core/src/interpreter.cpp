#include "subinterp/interpreter.hpp"

#include <Python.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "running_call.hpp"
#include "subinterp/error.hpp"

namespace subinterp {

bool Interpreter::is_running() const {
    std::lock_guard lock(mutex_);
    return running_ > 0;
}

_ts* Interpreter::check_out() {
    std::lock_guard lock(mutex_);
    if (closed_) throw Error(ErrorCode::NotFound, "interpreter " + std::to_string(id_) + " has been destroyed");
    _ts* tstate = thread_state_locked();
    ++running_;
    return tstate;
}

_ts* Interpreter::thread_state_locked() {
    auto& tstate = thread_states_[std::this_thread::get_id()];
    if (!tstate) {
        // Needs no GIL; binds the new state to the calling OS thread.
        tstate = PyThreadState_New(state_);
        if (!tstate) {
            thread_states_.erase(std::this_thread::get_id());
            throw Error(ErrorCode::NoMemory, "cannot create a thread state");
        }
    }
    return tstate;
}

void Interpreter::add_run(std::shared_ptr<RunningCall> call) {
    std::lock_guard lock(mutex_);
    runs_.push_back(std::move(call));
}

void Interpreter::remove_run(const RunningCall* call) noexcept {
    std::lock_guard lock(mutex_);
    runs_.erase(std::remove_if(runs_.begin(), runs_.end(), [&](const auto& run) { return run.get() == call; }),
                runs_.end());
}

std::vector<std::shared_ptr<RunningCall>> Interpreter::runs() const {
    std::lock_guard lock(mutex_);
    return runs_;
}

_ts* Interpreter::check_out_to_interrupt(const RunningCall& call) {
    std::lock_guard lock(mutex_);
    if (closed_) return nullptr;
    if (std::none_of(runs_.begin(), runs_.end(), [&](const auto& run) { return run.get() == &call; })) return nullptr;
    _ts* tstate = thread_state_locked();
    ++interrupting_;
    return tstate;
}

void Interpreter::check_in_interrupt() noexcept {
    std::lock_guard lock(mutex_);
    if (--interrupting_ == 0) interrupts_done_.notify_all();
}

void Interpreter::check_in() noexcept {
    std::lock_guard lock(mutex_);
    --running_;
}

void Interpreter::adopt(_ts* tstate) {
    std::lock_guard lock(mutex_);
    thread_states_[std::this_thread::get_id()] = tstate;
}

Interpreter::ThreadStates Interpreter::close() {
    std::unique_lock lock(mutex_);
    // An interrupter holds a thread state only while it sets the exception.
    interrupts_done_.wait(lock, [&] { return interrupting_ == 0; });
    if (closed_) throw Error(ErrorCode::NotFound, "interpreter " + std::to_string(id_) + " has been destroyed");
    if (running_ > 0) {
        throw Error(ErrorCode::Busy, "interpreter " + std::to_string(id_) + " is running code");
    }
    closed_ = true;
    return std::exchange(thread_states_, {});
}

void Interpreter::reopen(ThreadStates states) {
    std::lock_guard lock(mutex_);
    thread_states_ = std::move(states);
    closed_ = false;
}

}  // namespace subinterp
