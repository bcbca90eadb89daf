// One interpreter known to the library: its id, config, and the thread states
// the library made for it, one per OS thread that has used it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "subinterp/config.hpp"

struct _is;  // PyInterpreterState
struct _ts;  // PyThreadState

namespace subinterp {

class RunningCall;

class Interpreter : public std::enable_shared_from_this<Interpreter> {
public:
    using ThreadStates = std::unordered_map<std::thread::id, _ts*>;

    Interpreter(_is* state, int64_t id, Config config, bool is_main, bool pooled = false)
        : state_(state), id_(id), config_(config), is_main_(is_main), pooled_(pooled) {}
    Interpreter(const Interpreter&) = delete;
    Interpreter& operator=(const Interpreter&) = delete;

    _is* state() const noexcept { return state_; }
    int64_t id() const noexcept { return id_; }
    const Config& config() const noexcept { return config_; }
    bool is_main() const noexcept { return is_main_; }
    // A pool's worker interpreter: only its pool destroys it.
    bool is_pooled() const noexcept { return pooled_; }
    bool is_running() const;

    // Runs in progress, for interrupting them. A run registers itself for its
    // duration (RunScope in execution.cpp).
    void add_run(std::shared_ptr<RunningCall> call);
    void remove_run(const RunningCall* call) noexcept;
    std::vector<std::shared_ptr<RunningCall>> runs() const;

    // The calling thread's thread state for interrupting `call`, or null if
    // `call` is no longer registered or the interpreter is closed. Does not
    // count as running, but close() waits for check_in_interrupt().
    _ts* check_out_to_interrupt(const RunningCall& call);
    void check_in_interrupt() noexcept;

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
    const bool pooled_;

    _ts* thread_state_locked();

    mutable std::mutex mutex_;
    std::condition_variable interrupts_done_;
    ThreadStates thread_states_;
    std::vector<std::shared_ptr<RunningCall>> runs_;
    int running_ = 0;
    int interrupting_ = 0;
    bool closed_ = false;
};

}  // namespace subinterp
