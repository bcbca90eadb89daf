#include "subinterp/interpreter.hpp"

#include <Python.h>

#include <string>
#include <utility>

#include "subinterp/error.hpp"

namespace subinterp {

bool Interpreter::is_running() const {
    std::lock_guard lock(mutex_);
    return running_ > 0;
}

_ts* Interpreter::check_out() {
    std::lock_guard lock(mutex_);
    if (closed_) throw Error(ErrorCode::NotFound, "interpreter " + std::to_string(id_) + " has been destroyed");
    auto& tstate = thread_states_[std::this_thread::get_id()];
    if (!tstate) {
        // Needs no GIL; binds the new state to the calling OS thread.
        tstate = PyThreadState_New(state_);
        if (!tstate) {
            thread_states_.erase(std::this_thread::get_id());
            throw Error(ErrorCode::NoMemory, "cannot create a thread state");
        }
    }
    ++running_;
    return tstate;
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
    std::lock_guard lock(mutex_);
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
