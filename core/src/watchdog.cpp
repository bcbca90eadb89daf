#include "watchdog.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "running_call.hpp"
#include "subinterp/interpreter.hpp"

namespace subinterp {

struct Watchdog::State {
    struct Entry {
        std::weak_ptr<Interpreter> interpreter;
        std::weak_ptr<RunningCall> call;
    };
    using Key = std::pair<Clock::time_point, uint64_t>;

    std::mutex mutex;
    std::condition_variable changed;
    std::map<Key, Entry> due;                      // ordered by time
    std::map<uint64_t, Clock::time_point> tickets;  // ticket -> its key's time
    uint64_t next_ticket = 1;
    bool thread_started = false;

    // The watchdog thread: fires entries as they come due. Detached, and owns
    // a reference to the state, so it never touches freed memory at exit.
    static void run(std::shared_ptr<State> state) {
        std::unique_lock lock(state->mutex);
        while (true) {
            if (state->due.empty()) {
                state->changed.wait(lock);
                continue;
            }
            auto first = state->due.begin();
            const Clock::time_point when = first->first.first;  // a copy: the entry may go while we wait
            if (Clock::now() < when) {
                state->changed.wait_until(lock, when);
                continue;
            }
            const uint64_t ticket = first->first.second;
            Entry entry = std::move(first->second);
            state->due.erase(first);
            // Due again later, in case the code swallows the exception.
            const auto again = Clock::now() + kRepeat;
            state->due.emplace(Key{again, ticket}, entry);
            state->tickets[ticket] = again;
            lock.unlock();
            fire(entry);
            lock.lock();
        }
    }

    static void fire(const Entry& entry) noexcept {
        const auto interpreter = entry.interpreter.lock();
        const auto call = entry.call.lock();
        if (!interpreter || !call) return;
        try {
            interrupt_run(*interpreter, call, InterruptReason::Deadline);
        } catch (...) {
            // No thread state could be made: the next repeat tries again.
        }
    }
};

Watchdog::Watchdog() : state_(std::make_shared<State>()) {}

Watchdog& Watchdog::instance() {
    static Watchdog watchdog;
    return watchdog;
}

uint64_t Watchdog::schedule(Clock::time_point when, std::weak_ptr<Interpreter> interpreter,
                            std::weak_ptr<RunningCall> call) {
    std::lock_guard lock(state_->mutex);
    if (!state_->thread_started) {
        std::thread(State::run, state_).detach();
        state_->thread_started = true;
    }
    const uint64_t ticket = state_->next_ticket++;
    state_->due.emplace(State::Key{when, ticket}, State::Entry{std::move(interpreter), std::move(call)});
    state_->tickets.emplace(ticket, when);
    state_->changed.notify_one();
    return ticket;
}

void Watchdog::cancel(uint64_t ticket) noexcept {
    std::lock_guard lock(state_->mutex);
    const auto found = state_->tickets.find(ticket);
    if (found == state_->tickets.end()) return;
    state_->due.erase(State::Key{found->second, ticket});
    state_->tickets.erase(found);
}

}  // namespace subinterp
