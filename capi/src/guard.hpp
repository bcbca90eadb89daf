// The boundary between the C++ core and C callers: every exported function
// runs its body through guarded(), so no C++ exception crosses the ABI and
// every failure becomes a status plus an optional subinterp_error.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "subinterp.h"
#include "subinterp/error.hpp"

struct subinterp_error {
    subinterp::Error error;
};

namespace subinterp::capi {

subinterp_status report(subinterp_error** err, const Error& error) noexcept;

template <class Body>
subinterp_status guarded(subinterp_error** err, Body&& body) noexcept {
    try {
        body();
        return SUBINTERP_OK;
    } catch (const Error& error) {
        return report(err, error);
    } catch (const std::bad_alloc&) {
        return report(err, Error(ErrorCode::NoMemory, "out of memory"));
    } catch (const std::exception& error) {
        return report(err, Error(ErrorCode::Internal, std::string("internal error: ") + error.what()));
    } catch (...) {
        return report(err, Error(ErrorCode::Internal, "internal error: unknown C++ exception"));
    }
}

// Throws Error(InvalidArgument) naming the argument if `pointer` is NULL.
inline void require_non_null(const void* pointer, const char* name) {
    if (!pointer) throw Error(ErrorCode::InvalidArgument, std::string("argument '") + name + "' is NULL");
}

// require_non_null(), then the pointee.
template <class T>
T& require(T* pointer, const char* name) {
    require_non_null(pointer, name);
    return *pointer;
}

// An enum argument or field as the int a C caller passed: any int is a valid C
// enum value, but loading one outside the enumerators' range as a C++ enum is
// undefined behaviour.
template <class Enum>
int enum_value(const Enum& value) {
    static_assert(sizeof(Enum) == sizeof(int));
    int raw = 0;
    std::memcpy(&raw, &value, sizeof raw);
    return raw;
}

// Checks a versioned struct's struct_size: at least its first version's
// size, at most what this library knows.
void require_struct_size(uint32_t struct_size, std::size_t first_version_size, std::size_t known_size,
                         const char* name);

// The list convention of subinterp_list() and subinterp_queue_list(): at most
// `capacity` ids to `ids`, the total to *count.
inline void write_ids(const std::vector<int64_t>& all, int64_t* ids, size_t capacity, size_t* count) {
    size_t& total = require(count, "count");
    if (capacity > 0) require(ids, "ids");
    std::copy_n(all.begin(), std::min(capacity, all.size()), ids);
    total = all.size();
}

}  // namespace subinterp::capi
