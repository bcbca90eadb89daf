// Strict UTF-8 validation: the portable str kind and all source text are
// UTF-8 exactly as Python's "strict" codec accepts it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace subinterp::utf8 {

// Offset of the first byte that is not part of well-formed UTF-8 (overlong
// forms, surrogate code points and values above U+10FFFF are ill-formed), or
// nullopt if the whole text is valid.
std::optional<std::size_t> find_invalid(std::string_view text) noexcept;

// Throws Error(InvalidArgument) naming `what` and the offending offset.
void require_valid(std::string_view text, const char* what);

}  // namespace subinterp::utf8
