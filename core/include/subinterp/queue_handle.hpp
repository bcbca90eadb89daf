// A counted hold on a process-wide queue. Every holder -- a host through the
// C ABI, a queue value in portable data, a Queue object in any interpreter --
// owns one QueueHandle, and the queue is destroyed when the last one goes.
// Kept apart from queues.hpp so that data.hpp can carry handles while queues
// carry data.
#pragma once

#include <cstdint>
#include <memory>

namespace subinterp {

class Queue;

class QueueHandle {
public:
    QueueHandle() = default;  // holds nothing
    // A new hold on the live queue `id`; throws Error(NotFound).
    static QueueHandle open(int64_t id);
    // Takes over the hold that Queues::create() counted for the caller.
    static QueueHandle adopt(std::shared_ptr<Queue> queue) noexcept;

    QueueHandle(const QueueHandle& other);
    QueueHandle(QueueHandle&& other) noexcept = default;
    QueueHandle& operator=(QueueHandle other) noexcept {
        queue_.swap(other.queue_);
        return *this;
    }
    ~QueueHandle();

    explicit operator bool() const noexcept { return queue_ != nullptr; }
    Queue& operator*() const noexcept { return *queue_; }
    Queue* operator->() const noexcept { return queue_.get(); }
    int64_t id() const noexcept;

private:
    explicit QueueHandle(std::shared_ptr<Queue> queue) noexcept : queue_(std::move(queue)) {}
    std::shared_ptr<Queue> queue_;
};

}  // namespace subinterp
