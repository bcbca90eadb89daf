#include "subinterp/buffer.hpp"

#include <cstdlib>
#include <string>

#include "subinterp/error.hpp"

namespace subinterp {
namespace {

void free_owned(void*, void* data) { std::free(data); }

}  // namespace

// The release is armed only once the Buffer and its shared_ptr control block
// both exist: if either allocation fails, nothing was taken over and nothing
// is released (the header promises a failed constructor calls no release).
std::shared_ptr<Buffer> Buffer::owning(std::byte* data, std::size_t size, bool readonly, Release release,
                                       void* context) {
    std::shared_ptr<Buffer> buffer(new Buffer(data, size, readonly, nullptr, context));
    buffer->release_ = release;
    return buffer;
}

std::shared_ptr<Buffer> Buffer::allocate(std::size_t size) {
    // One byte at least, so a zero-length buffer still has a unique address.
    void* memory = std::malloc(size > 0 ? size : 1);
    if (!memory) throw Error(ErrorCode::NoMemory, "cannot allocate a buffer of " + std::to_string(size) + " bytes");
    try {
        return owning(static_cast<std::byte*>(memory), size, false, free_owned, nullptr);
    } catch (...) {
        std::free(memory);
        throw;
    }
}

std::shared_ptr<Buffer> Buffer::adopt(void* data, std::size_t size, bool readonly, Release release, void* context) {
    if (!data && size > 0) throw Error(ErrorCode::InvalidArgument, "buffer data is NULL but its size is not 0");
    return owning(static_cast<std::byte*>(data), size, readonly, release, context);
}

Buffer::~Buffer() {
    if (release_) release_(context_, data_);
}

}  // namespace subinterp
