// subinterp_error_* and status names.
#include <memory>

#include "guard.hpp"

static_assert(SUBINTERP_ERR_INVALID_ARGUMENT == static_cast<int>(subinterp::ErrorCode::InvalidArgument));
static_assert(SUBINTERP_ERR_NOT_FOUND == static_cast<int>(subinterp::ErrorCode::NotFound));
static_assert(SUBINTERP_ERR_BUSY == static_cast<int>(subinterp::ErrorCode::Busy));
static_assert(SUBINTERP_ERR_PYTHON == static_cast<int>(subinterp::ErrorCode::Python));
static_assert(SUBINTERP_ERR_CONFIG == static_cast<int>(subinterp::ErrorCode::Config));
static_assert(SUBINTERP_ERR_RUNTIME == static_cast<int>(subinterp::ErrorCode::Runtime));
static_assert(SUBINTERP_ERR_TYPE == static_cast<int>(subinterp::ErrorCode::Type));
static_assert(SUBINTERP_ERR_OVERFLOW == static_cast<int>(subinterp::ErrorCode::Overflow));
static_assert(SUBINTERP_ERR_NOT_SHAREABLE == static_cast<int>(subinterp::ErrorCode::NotShareable));
static_assert(SUBINTERP_ERR_INDEX == static_cast<int>(subinterp::ErrorCode::Index));
static_assert(SUBINTERP_ERR_NO_MEMORY == static_cast<int>(subinterp::ErrorCode::NoMemory));
static_assert(SUBINTERP_ERR_TIMEOUT == static_cast<int>(subinterp::ErrorCode::Timeout));
static_assert(SUBINTERP_ERR_QUEUE_EMPTY == static_cast<int>(subinterp::ErrorCode::QueueEmpty));
static_assert(SUBINTERP_ERR_QUEUE_FULL == static_cast<int>(subinterp::ErrorCode::QueueFull));
static_assert(SUBINTERP_ERR_CLOSED == static_cast<int>(subinterp::ErrorCode::Closed));
static_assert(SUBINTERP_ERR_CANCELLED == static_cast<int>(subinterp::ErrorCode::Cancelled));
static_assert(SUBINTERP_ERR_UNBOUND == static_cast<int>(subinterp::ErrorCode::Unbound));
static_assert(SUBINTERP_ERR_INTERNAL == static_cast<int>(subinterp::ErrorCode::Internal));

namespace subinterp::capi {
namespace {

// Handed out when even allocating the error fails; never freed.
subinterp_error out_of_memory{Error(ErrorCode::NoMemory, "out of memory")};

}  // namespace

subinterp_status report(subinterp_error** err, const Error& error) noexcept {
    if (err) {
        try {
            *err = std::make_unique<subinterp_error>(subinterp_error{error}).release();
        } catch (...) {
            *err = &out_of_memory;
        }
    }
    return static_cast<subinterp_status>(error.code());
}

void require_struct_size(uint32_t struct_size, std::size_t first_version_size, std::size_t known_size,
                         const char* name) {
    if (struct_size < first_version_size) {
        throw Error(ErrorCode::InvalidArgument, std::string(name) + ".struct_size is " + std::to_string(struct_size) +
                                                    "; initialize the struct with its _init() function");
    }
    if (struct_size > known_size) {
        throw Error(ErrorCode::InvalidArgument, std::string(name) + ".struct_size " + std::to_string(struct_size) +
                                                    " is newer than this library (" + std::to_string(known_size) +
                                                    "): the library is older than the header");
    }
}

}  // namespace subinterp::capi

extern "C" {

subinterp_status subinterp_error_code(const subinterp_error* err) {
    return err ? static_cast<subinterp_status>(err->error.code()) : SUBINTERP_ERR_INVALID_ARGUMENT;
}

const char* subinterp_error_message(const subinterp_error* err) { return err ? err->error.message().c_str() : ""; }

const char* subinterp_error_exc_module(const subinterp_error* err) {
    return err && err->error.python() ? err->error.python()->module.c_str() : nullptr;
}

const char* subinterp_error_exc_qualname(const subinterp_error* err) {
    return err && err->error.python() ? err->error.python()->qualname.c_str() : nullptr;
}

const char* subinterp_error_traceback(const subinterp_error* err) {
    return err && err->error.python() ? err->error.python()->traceback.c_str() : nullptr;
}

void subinterp_error_free(subinterp_error* err) {
    if (err != &subinterp::capi::out_of_memory) std::unique_ptr<subinterp_error> owned(err);
}

const char* subinterp_status_name(subinterp_status status) {
    switch (status) {
        case SUBINTERP_OK: return "SUBINTERP_OK";
        case SUBINTERP_ERR_INVALID_ARGUMENT: return "SUBINTERP_ERR_INVALID_ARGUMENT";
        case SUBINTERP_ERR_NOT_FOUND: return "SUBINTERP_ERR_NOT_FOUND";
        case SUBINTERP_ERR_BUSY: return "SUBINTERP_ERR_BUSY";
        case SUBINTERP_ERR_PYTHON: return "SUBINTERP_ERR_PYTHON";
        case SUBINTERP_ERR_CONFIG: return "SUBINTERP_ERR_CONFIG";
        case SUBINTERP_ERR_RUNTIME: return "SUBINTERP_ERR_RUNTIME";
        case SUBINTERP_ERR_TYPE: return "SUBINTERP_ERR_TYPE";
        case SUBINTERP_ERR_OVERFLOW: return "SUBINTERP_ERR_OVERFLOW";
        case SUBINTERP_ERR_NOT_SHAREABLE: return "SUBINTERP_ERR_NOT_SHAREABLE";
        case SUBINTERP_ERR_INDEX: return "SUBINTERP_ERR_INDEX";
        case SUBINTERP_ERR_NO_MEMORY: return "SUBINTERP_ERR_NO_MEMORY";
        case SUBINTERP_ERR_TIMEOUT: return "SUBINTERP_ERR_TIMEOUT";
        case SUBINTERP_ERR_QUEUE_EMPTY: return "SUBINTERP_ERR_QUEUE_EMPTY";
        case SUBINTERP_ERR_QUEUE_FULL: return "SUBINTERP_ERR_QUEUE_FULL";
        case SUBINTERP_ERR_CLOSED: return "SUBINTERP_ERR_CLOSED";
        case SUBINTERP_ERR_CANCELLED: return "SUBINTERP_ERR_CANCELLED";
        case SUBINTERP_ERR_UNBOUND: return "SUBINTERP_ERR_UNBOUND";
        case SUBINTERP_ERR_INTERNAL: return "SUBINTERP_ERR_INTERNAL";
        default: return "SUBINTERP_ERR_UNKNOWN";
    }
}

void subinterp_free(void* ptr) { std::free(ptr); }

}  // extern "C"
