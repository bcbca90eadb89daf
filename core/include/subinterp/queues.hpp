// Process-wide FIFO queues of portable data, usable from every interpreter
// and from host threads that run no Python. Semantics follow PEP 734 and
// Python 3.14's Queue; a blocked put or get waits on a condition variable
// (woken by the operation that unblocks it, no polling) with the caller's
// Python state released.
//
// Locking: the registry mutex and each queue's mutex are never held together,
// no Python state is ever acquired under either, and no data value is freed
// under either (freeing one may drop a queue handle or run a host's buffer
// release callback).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "subinterp/data.hpp"
#include "subinterp/error.hpp"
#include "subinterp/queue_handle.hpp"

namespace subinterp {

// What get() gives for an item whose putting interpreter was destroyed.
// Values equal SUBINTERP_UNBOUND_* of subinterp.h (and CPython's own).
enum class UnboundPolicy : int32_t {
    QueueDefault = 0,  // per item: use the queue's default
    Remove = 1,        // the item disappears from the queue
    Error = 2,         // get() fails with Error(Unbound), consuming the item
    Replace = 3,       // get() returns an "unbound" marker instead (PEP 734's UNBOUND)
};

// How long a put or get may block: nullopt waits until it can proceed, zero
// does not wait at all.
using Timeout = std::optional<std::chrono::nanoseconds>;

// Seconds as a Timeout: negative or infinite waits forever, 0 does not wait.
// Fractions are kept to the nanosecond. Throws Error(InvalidArgument) for NaN.
Timeout timeout_from_seconds(double seconds);

// What a caller does around blocking. The default suits a host thread. A
// Python caller releases its GIL while blocked and wakes now and then to run
// signal handlers (so Ctrl-C interrupts a wait in the main thread).
class Blocking {
public:
    virtual ~Blocking() = default;
    virtual void release() noexcept {}    // about to block; no queue lock held
    virtual void reacquire() noexcept {}  // done blocking; no queue lock held
    // If set, the wait pauses this often to call interrupted() between
    // reacquire() and release(); true ends it with Error(Cancelled).
    virtual std::optional<std::chrono::nanoseconds> check_interval() const { return std::nullopt; }
    virtual bool interrupted() { return false; }
};

// A host thread's way (the C ABI's): one that is attached to Python -- a
// binding calling in -- lets go of its thread state, so of its GIL, while it
// waits.
class HostBlocking final : public Blocking {
public:
    void release() noexcept override;
    void reacquire() noexcept override;

private:
    void* saved_ = nullptr;  // the caller's PyThreadState, if it had one
};

class Queue {
public:
    Queue(int64_t id, std::size_t maxsize, UnboundPolicy unbound);
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;

    int64_t id() const noexcept { return id_; }
    std::size_t maxsize() const noexcept { return maxsize_; }  // 0: unbounded
    UnboundPolicy unbound_policy() const noexcept { return unbound_; }

    // Appends `item`, waiting up to `timeout` for room. `owner` is the
    // interpreter putting it (nullopt for a host thread: never unbound);
    // `policy` QueueDefault means the queue's. Throws Error: QueueFull when
    // no room came in time, Closed, NotFound once destroyed, Cancelled.
    void put(DataPtr item, std::optional<int64_t> owner, UnboundPolicy policy, Timeout timeout,
             Blocking& blocking);
    void put(DataPtr item, Timeout timeout);  // from a host thread (HostBlocking)

    // Takes the oldest item, waiting up to `timeout` for one; null for an
    // item unbound under policy Replace. Throws Error: Unbound for an item
    // unbound under policy Error (consuming it), QueueEmpty when none came in
    // time, Closed when closed and drained, NotFound once destroyed, Cancelled.
    DataPtr get(Timeout timeout, Blocking& blocking);
    DataPtr get(Timeout timeout);  // from a host thread (HostBlocking)

    std::size_t size() const;
    bool full() const;
    bool closed() const;

    // No more puts; gets drain what is left. Blocked putters wake with
    // Error(Closed), blocked getters when the queue is empty. Idempotent.
    void close();

private:
    friend class Queues;

    enum class ItemState { Bound, Unbound, UnboundError };
    struct Entry {
        Entry(DataPtr&& item, std::optional<int64_t> putter, UnboundPolicy unbound)
            : data(std::move(item)), owner(putter), policy(unbound) {}
        DataPtr data;  // null once unbound
        std::optional<int64_t> owner;
        UnboundPolicy policy;
        ItemState state = ItemState::Bound;
    };

    // Runs `act` under the lock once `ready` holds or `timeout` has passed
    // (act then throws the error that fits), waiting with `blocking` released.
    template <class Ready, class Act>
    auto when_ready(std::condition_variable& signal, Ready ready, Act act, Timeout timeout, Blocking& blocking);
    void check_usable() const;  // under the lock: throws NotFound once destroyed

    // For the registry, each without holding its mutex:
    std::deque<Entry> destroy();                     // wakes every waiter; returns what to free
    std::vector<DataPtr> unbind(int64_t interpreter);  // returns what to free

    const int64_t id_;
    const std::size_t maxsize_;
    const UnboundPolicy unbound_;

    mutable std::mutex mutex_;
    std::condition_variable not_empty_;
    std::condition_variable not_full_;
    std::deque<Entry> entries_;
    bool closed_ = false;
    bool destroyed_ = false;

    std::size_t handles_ = 0;  // guarded by the registry's mutex
};

struct QueueInfo {
    int64_t id;
    std::size_t maxsize;
    UnboundPolicy unbound;
};

// The registry: maps ids to queues and counts the holds on each.
class Queues {
public:
    static Queues& instance();

    // A new queue (maxsize 0: unbounded; policy QueueDefault means Replace),
    // held by the returned handle.
    QueueHandle create(std::size_t maxsize, UnboundPolicy unbound);

    // The live queue `id` without taking a hold; throws Error(NotFound).
    std::shared_ptr<Queue> find(int64_t id) const;

    // Holds counted for hosts (the C ABI), which keep ids rather than handles.
    void retain(int64_t id);   // throws NotFound
    void release(int64_t id);  // throws NotFound

    // Destroys `id` now, whoever holds it: waiters wake with Error(NotFound),
    // items are dropped, every later use of the id is NotFound.
    void destroy(int64_t id);

    std::vector<QueueInfo> list() const;  // live queues, in creation order

    // Applies each item's unbound policy to what `interpreter` put, in every
    // queue. Called as the interpreter is torn down.
    void interpreter_destroyed(int64_t interpreter);

private:
    friend class QueueHandle;
    Queues() = default;
    void add_hold(Queue& queue);
    void drop_hold(const std::shared_ptr<Queue>& queue) noexcept;
    void remove(const std::shared_ptr<Queue>& queue, std::unique_lock<std::shared_mutex>& lock) noexcept;

    // Shared for look-ups: every C ABI call finds its queue by id, and host
    // threads working on one queue should not queue up here as well.
    mutable std::shared_mutex mutex_;
    int64_t next_id_ = 1;
    std::unordered_map<int64_t, std::shared_ptr<Queue>> by_id_;
};

}  // namespace subinterp
