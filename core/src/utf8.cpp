#include "subinterp/utf8.hpp"

#include "subinterp/error.hpp"

namespace subinterp::utf8 {
namespace {

bool is_continuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// Length of the well-formed sequence starting at text[i], or 0 if ill-formed.
// Ranges follow the Unicode standard's table of well-formed byte sequences.
std::size_t sequence_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
    const unsigned char lead = byte(0);
    const std::size_t left = text.size() - i;
    if (lead < 0x80) return 1;
    if (lead >= 0xC2 && lead <= 0xDF) return left >= 2 && is_continuation(byte(1)) ? 2 : 0;
    if (lead >= 0xE0 && lead <= 0xEF) {
        if (left < 3) return 0;
        const unsigned char second = byte(1);
        const bool second_ok = lead == 0xE0   ? (second >= 0xA0 && second <= 0xBF)
                               : lead == 0xED ? (second >= 0x80 && second <= 0x9F)  // no surrogates
                                              : is_continuation(second);
        return second_ok && is_continuation(byte(2)) ? 3 : 0;
    }
    if (lead >= 0xF0 && lead <= 0xF4) {
        if (left < 4) return 0;
        const unsigned char second = byte(1);
        const bool second_ok = lead == 0xF0   ? (second >= 0x90 && second <= 0xBF)
                               : lead == 0xF4 ? (second >= 0x80 && second <= 0x8F)  // <= U+10FFFF
                                              : is_continuation(second);
        return second_ok && is_continuation(byte(2)) && is_continuation(byte(3)) ? 4 : 0;
    }
    return 0;
}

}  // namespace

std::optional<std::size_t> find_invalid(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t length = sequence_length(text, i);
        if (length == 0) return i;
        i += length;
    }
    return std::nullopt;
}

void require_valid(std::string_view text, const char* what) {
    if (const auto offset = find_invalid(text)) {
        throw Error(ErrorCode::InvalidArgument, std::string(what) + " is not valid UTF-8 (byte " +
                                                    std::to_string(*offset) + ")");
    }
}

}  // namespace subinterp::utf8
