// Deadlines of runs: one background thread that interrupts each run whose
// deadline passes (running_call.hpp), and again every kRepeat while the run
// goes on (code that swallowed the exception). The process's one registry of
// deadlines; the thread starts with the first deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

namespace subinterp {

class Interpreter;
class RunningCall;

class Watchdog {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kRepeat{100};

    static Watchdog& instance();

    // Interrupts `call` (in `interpreter`) with InterruptReason::Deadline at
    // `when` unless cancel()led first. Returns a ticket for cancel().
    uint64_t schedule(Clock::time_point when, std::weak_ptr<Interpreter> interpreter, std::weak_ptr<RunningCall> call);
    void cancel(uint64_t ticket) noexcept;

    struct State;

private:
    Watchdog();
    std::shared_ptr<State> state_;  // shared with the thread, which outlives static destruction
};

}  // namespace subinterp
