// One interpreter known to the library: its id, config, and the thread states
// the library made for it, one per OS thread that has used it.
#pragma once

#include <cstdint>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "subinterp/config.hpp"

struct _is;  // PyInterpreterState
struct _ts;  // PyThreadState

namespace subinterp {

class Interpreter {
public:
    using ThreadStates = std::unordered_map<std::thread::id, _ts*>;

    Interpreter(_is* state, int64_t id, Config config, bool is_main)
        : state_(state), id_(id), config_(config), is_main_(is_main) {}
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    _is* state() const noexcept { return state_; }
    int64_t id() const noexcept { return id_; }
    const Config& config() const noexcept { return config_; }
    bool is_main() const noexcept { return is_main_; }
    bool is_running() const;

    // The calling thread's thread state (created on first use), counted as
    // running until check_in(). Throws Error(NotFound) once closed.
    _ts* check_out();
    void check_in() noexcept;

    // Keeps a thread state made on the calling thread for later check_out().
    void adopt(_ts* tstate);

    // Refuses new work and hands over every cached thread state, or throws
    // Error(Busy) while any call runs. reopen() undoes it.
    ThreadStates close();
    void reopen(ThreadStates states);

private:
    _is* const state_;
    const int64_t id_;
    const Config config_;
    const bool is_main_;

    mutable std::mutex mutex_;
    ThreadStates thread_states_;
    int running_ = 0;
    bool closed_ = false;
};

}  // namespace subinterp
