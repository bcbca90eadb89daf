// The core's one error type. Core functions throw subinterp::Error; the C ABI
// layer catches it and hands the caller a subinterp_error. Nothing else throws
// across a core boundary except std::bad_alloc.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>

namespace subinterp {

// Values equal the SUBINTERP_ERR_* codes of subinterp.h (checked there by
// static_assert); the core does not include the C header.
enum class ErrorCode : int32_t {
    InvalidArgument = 1,
    NotFound = 2,
    Busy = 3,
    Python = 4,
    Config = 5,
    Runtime = 6,
    Type = 7,
    Overflow = 8,
    NotShareable = 9,
    Index = 10,
    NoMemory = 11,
    Timeout = 12,
    QueueEmpty = 13,
    QueueFull = 14,
    Closed = 15,
    Cancelled = 16,
    Unbound = 17,
    Internal = 99,
};

// What a Python exception looked like, captured as plain text in the
// interpreter that raised it so it can travel to any thread.
struct PythonException {
    std::string module;     // type.__module__, e.g. "builtins"
    std::string qualname;   // type.__qualname__, e.g. "ValueError"
    std::string traceback;  // traceback.format_exception(exc) joined
};

class Error : public std::exception {
public:
    Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
    Error(std::string message, PythonException exception)
        : code_(ErrorCode::Python), message_(std::move(message)), python_(std::move(exception)) {}
    // A failure caused by a Python exception but reported as another code
    // (an interrupted run: Timeout, Cancelled).
    Error(ErrorCode code, std::string message, PythonException exception)
        : code_(code), message_(std::move(message)), python_(std::move(exception)) {}
    // The same error with `prefix` before its message.
    Error prefixed(const std::string& prefix) const {
        Error copy = *this;
        copy.message_ = prefix + message_;
        return copy;
    }

    ErrorCode code() const noexcept { return code_; }
    const std::string& message() const noexcept { return message_; }
    const std::optional<PythonException>& python() const noexcept { return python_; }
    const char* what() const noexcept override { return message_.c_str(); }

private:
    ErrorCode code_;
    std::string message_;
    std::optional<PythonException> python_;
};

}  // namespace subinterp
