#include "subinterp/queues.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <string>
#include <utility>

namespace subinterp {
namespace {

using Clock = std::chrono::steady_clock;

Error not_found(int64_t id) { return Error(ErrorCode::NotFound, "queue " + std::to_string(id) + " not found"); }

Error destroyed(int64_t id) {
    return Error(ErrorCode::NotFound, "queue " + std::to_string(id) + " was destroyed");
}

// Releases the caller's state for a scope (declared before the queue lock, so
// the lock is let go first and the caller's state taken back last).
class Released {
public:
    explicit Released(Blocking& blocking) noexcept : blocking_(blocking) { blocking_.release(); }
    ~Released() { blocking_.reacquire(); }
    Released(const Released&) = delete;
    Released& operator=(const Released&) = delete;

private:
    Blocking& blocking_;
};

}  // namespace

Timeout timeout_from_seconds(double seconds) {
    if (std::isnan(seconds)) throw Error(ErrorCode::InvalidArgument, "timeout is NaN");
    if (seconds < 0 || std::isinf(seconds)) return std::nullopt;
    // Beyond ~292 years nanoseconds overflow: that is forever too.
    constexpr double kForever = 9e9;
    if (seconds > kForever) return std::nullopt;
    return std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(seconds * 1e9)));
}

// --- Queue ----------------------------------------------------------------------------

Queue::Queue(int64_t id, std::size_t maxsize, UnboundPolicy unbound)
    : id_(id), maxsize_(maxsize), unbound_(unbound == UnboundPolicy::QueueDefault ? UnboundPolicy::Replace : unbound) {}

void Queue::check_usable() const {
    if (destroyed_) throw destroyed(id_);
}

template <class Ready, class Act>
auto Queue::when_ready(std::condition_variable& signal, Ready ready, Act act, Timeout timeout, Blocking& blocking) {
    {
        std::unique_lock lock(mutex_);
        if (ready()) return act();
        if (timeout && timeout->count() <= 0) return act();  // act() throws the right error
    }
    const std::optional<Clock::time_point> deadline =
        timeout ? std::optional(Clock::now() + *timeout) : std::nullopt;
    const auto interval = blocking.check_interval();
    while (true) {
        {
            Released released(blocking);
            std::unique_lock lock(mutex_);
            std::optional<Clock::time_point> until = deadline;
            if (interval) until = std::min(until.value_or(Clock::time_point::max()), Clock::now() + *interval);
            const bool woken = until ? signal.wait_until(lock, *until, ready) : (signal.wait(lock, ready), true);
            if (woken) return act();
            if (deadline && Clock::now() >= *deadline) return act();  // not ready: throws
        }
        if (blocking.interrupted()) throw Error(ErrorCode::Cancelled, "wait on queue interrupted");
    }
}

void Queue::put(DataPtr item, std::optional<int64_t> owner, UnboundPolicy policy, Timeout timeout,
                Blocking& blocking) {
    if (!item) throw Error(ErrorCode::InvalidArgument, "item is NULL");
    if (policy == UnboundPolicy::QueueDefault) policy = unbound_;
    auto has_room = [this] { return destroyed_ || closed_ || maxsize_ == 0 || entries_.size() < maxsize_; };
    auto append = [&] {
        check_usable();
        if (closed_) throw Error(ErrorCode::Closed, "queue " + std::to_string(id_) + " is closed");
        if (maxsize_ != 0 && entries_.size() >= maxsize_) {
            throw Error(ErrorCode::QueueFull, "queue " + std::to_string(id_) + " is full");
        }
        entries_.emplace_back(std::move(item), owner, policy);  // item stays ours if this throws
        not_empty_.notify_one();
    };
    when_ready(not_full_, has_room, append, timeout, blocking);
}

void Queue::put(DataPtr item, Timeout timeout) {
    HostBlocking blocking;
    put(std::move(item), std::nullopt, UnboundPolicy::QueueDefault, timeout, blocking);
}

DataPtr Queue::get(Timeout timeout, Blocking& blocking) {
    auto has_item = [this] { return destroyed_ || closed_ || !entries_.empty(); };
    auto take = [&] {
        check_usable();
        if (entries_.empty()) {
            if (closed_) throw Error(ErrorCode::Closed, "queue " + std::to_string(id_) + " is closed and empty");
            throw Error(ErrorCode::QueueEmpty, "queue " + std::to_string(id_) + " is empty");
        }
        Entry front = std::move(entries_.front());
        entries_.pop_front();
        if (maxsize_ != 0) not_full_.notify_one();
        if (front.state == ItemState::UnboundError) {  // its data is gone: nothing freed under the lock
            throw Error(ErrorCode::Unbound, "the interpreter that put the item (" +
                                                std::to_string(front.owner.value_or(-1)) + ") was destroyed");
        }
        return std::move(front.data);  // null when unbound under Replace
    };
    return when_ready(not_empty_, has_item, take, timeout, blocking);
}

DataPtr Queue::get(Timeout timeout) {
    HostBlocking blocking;
    return get(timeout, blocking);
}

std::size_t Queue::size() const {
    std::lock_guard lock(mutex_);
    check_usable();
    return entries_.size();
}

bool Queue::full() const {
    std::lock_guard lock(mutex_);
    check_usable();
    return maxsize_ != 0 && entries_.size() >= maxsize_;
}

bool Queue::closed() const {
    std::lock_guard lock(mutex_);
    check_usable();
    return closed_;
}

void Queue::close() {
    std::lock_guard lock(mutex_);
    check_usable();
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
}

std::deque<Queue::Entry> Queue::destroy() {
    std::lock_guard lock(mutex_);
    destroyed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
    return std::exchange(entries_, {});
}

std::vector<DataPtr> Queue::unbind(int64_t interpreter) {
    std::vector<DataPtr> unbound;
    std::lock_guard lock(mutex_);
    const std::size_t before = entries_.size();
    for (Entry& entry : entries_) {
        if (entry.owner != interpreter || entry.state != ItemState::Bound) continue;
        unbound.push_back(std::move(entry.data));
        entry.state = entry.policy == UnboundPolicy::Error ? ItemState::UnboundError : ItemState::Unbound;
    }
    auto removed = [interpreter](const Entry& entry) {
        return entry.owner == interpreter && entry.policy == UnboundPolicy::Remove;
    };
    entries_.erase(std::remove_if(entries_.begin(), entries_.end(), removed), entries_.end());
    if (entries_.size() != before) not_full_.notify_all();
    return unbound;
}

// --- QueueHandle ----------------------------------------------------------------------

QueueHandle QueueHandle::open(int64_t id) {
    std::shared_ptr<Queue> queue = Queues::instance().find(id);
    Queues::instance().add_hold(*queue);
    return QueueHandle(std::move(queue));
}

QueueHandle QueueHandle::adopt(std::shared_ptr<Queue> queue) noexcept { return QueueHandle(std::move(queue)); }

QueueHandle::QueueHandle(const QueueHandle& other) : queue_(other.queue_) {
    if (queue_) Queues::instance().add_hold(*queue_);
}

QueueHandle::~QueueHandle() {
    if (queue_) Queues::instance().drop_hold(queue_);
}

int64_t QueueHandle::id() const noexcept { return queue_ ? queue_->id() : -1; }

// --- Queues ---------------------------------------------------------------------------

Queues& Queues::instance() {
    // Never destroyed: data values holding queue handles may be freed by a
    // host after static destructors have run.
    alignas(Queues) static unsigned char storage[sizeof(Queues)];
    static Queues* const registry = ::new (storage) Queues();
    return *registry;
}

QueueHandle Queues::create(std::size_t maxsize, UnboundPolicy unbound) {
    std::lock_guard lock(mutex_);
    const int64_t id = next_id_++;
    auto queue = std::make_shared<Queue>(id, maxsize, unbound);
    queue->handles_ = 1;
    by_id_.emplace(id, queue);
    return QueueHandle::adopt(std::move(queue));
}

std::shared_ptr<Queue> Queues::find(int64_t id) const {
    std::shared_lock lock(mutex_);
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) throw not_found(id);
    return found->second;
}

void Queues::add_hold(Queue& queue) {
    std::lock_guard lock(mutex_);
    ++queue.handles_;
}

void Queues::drop_hold(const std::shared_ptr<Queue>& queue) noexcept {
    std::unique_lock lock(mutex_);
    if (--queue->handles_ == 0) remove(queue, lock);
}

void Queues::remove(const std::shared_ptr<Queue>& queue, std::unique_lock<std::shared_mutex>& lock) noexcept {
    const auto found = by_id_.find(queue->id());
    if (found == by_id_.end() || found->second != queue) return;  // destroyed already
    std::shared_ptr<Queue> removed = std::move(found->second);
    by_id_.erase(found);
    lock.unlock();
    const std::deque<Queue::Entry> dropped = removed->destroy();  // freed here, under no lock
}

void Queues::retain(int64_t id) {
    std::lock_guard lock(mutex_);
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) throw not_found(id);
    ++found->second->handles_;
}

void Queues::release(int64_t id) {
    std::unique_lock lock(mutex_);
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) throw not_found(id);
    const std::shared_ptr<Queue> queue = found->second;
    if (--queue->handles_ == 0) remove(queue, lock);
}

void Queues::destroy(int64_t id) {
    std::unique_lock lock(mutex_);
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) throw not_found(id);
    const std::shared_ptr<Queue> queue = found->second;
    remove(queue, lock);
}

std::vector<QueueInfo> Queues::list() const {
    std::vector<QueueInfo> infos;
    {
        std::shared_lock lock(mutex_);
        infos.reserve(by_id_.size());
        for (const auto& [id, queue] : by_id_) infos.push_back({id, queue->maxsize(), queue->unbound_policy()});
    }
    std::sort(infos.begin(), infos.end(), [](const QueueInfo& a, const QueueInfo& b) { return a.id < b.id; });
    return infos;
}

void Queues::interpreter_destroyed(int64_t interpreter) {
    std::vector<std::shared_ptr<Queue>> live;
    {
        std::shared_lock lock(mutex_);
        live.reserve(by_id_.size());
        for (const auto& entry : by_id_) live.push_back(entry.second);
    }
    for (const auto& queue : live) {
        const std::vector<DataPtr> dropped = queue->unbind(interpreter);  // freed here, under no lock
    }
}

}  // namespace subinterp
