// Integers of any size in their portable exact form: two's complement,
// little-endian, minimal length (no redundant sign byte). The same bytes as
// Python's int.to_bytes(n, "little", signed=True) with the smallest n.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace subinterp::bigint {

// Drops redundant sign-extension bytes; "" (no bytes) means 0.
std::string minimal(std::string_view little_endian);

// The value if it fits in int64_t.
std::optional<int64_t> to_int64(std::string_view little_endian) noexcept;

std::string from_int64(int64_t value);

// Decimal text, e.g. "-123456789012345678901234567890".
std::string to_decimal(std::string_view little_endian);

}  // namespace subinterp::bigint
