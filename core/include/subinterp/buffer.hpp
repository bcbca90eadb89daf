// Memory shared between interpreters and hosts without copying. Whoever drops
// the last reference -- a host thread, a memoryview in any interpreter, a
// destroyed interpreter -- frees it, exactly once.
#pragma once

#include <cstddef>
#include <memory>

namespace subinterp {

class Buffer {
public:
    using Release = void (*)(void* context, void* data);

    // Library-owned, writable, uninitialized memory. Throws Error(NoMemory).
    static std::shared_ptr<Buffer> allocate(std::size_t size);

    // Memory owned by the host; release(context, data) runs once when the
    // last reference goes (release may be null: the host keeps ownership).
    static std::shared_ptr<Buffer> adopt(void* data, std::size_t size, bool readonly, Release release,
                                         void* context);

    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;
    ~Buffer();

    // Gives host memory back to the host without calling its release: for a
    // constructor that fails after adopt(), when nothing was taken over.
    void disown() noexcept { release_ = nullptr; }

    std::byte* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool readonly() const noexcept { return readonly_; }

private:
    static std::shared_ptr<Buffer> owning(std::byte* data, std::size_t size, bool readonly, Release release,
                                          void* context);
    Buffer(std::byte* data, std::size_t size, bool readonly, Release release, void* context)
        : data_(data), size_(size), readonly_(readonly), release_(release), context_(context) {}

    std::byte* const data_;
    const std::size_t size_;
    const bool readonly_;
    Release release_;
    void* const context_;
};

// A window on a Buffer: what a buffer data value and a memoryview refer to.
struct BufferView {
    std::shared_ptr<const Buffer> buffer;
    std::size_t offset = 0;
    std::size_t length = 0;
    bool readonly = false;  // a view may be read-only over writable memory

    std::byte* data() const noexcept { return buffer->data() + offset; }
};

}  // namespace subinterp
