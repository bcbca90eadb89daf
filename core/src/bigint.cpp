#include "bigint.hpp"

#include <algorithm>
#include <vector>

namespace subinterp::bigint {
namespace {

bool is_negative(std::string_view bytes) {
    return !bytes.empty() && (static_cast<unsigned char>(bytes.back()) & 0x80);
}

// Length without redundant top bytes: a top byte is redundant when it only
// repeats the sign of the byte below. Allocates nothing (to_int64 is noexcept).
std::size_t minimal_length(std::string_view bytes) noexcept {
    std::size_t length = bytes.size();
    while (length > 0) {
        const auto top = static_cast<unsigned char>(bytes[length - 1]);
        const bool below_negative = length >= 2 && (static_cast<unsigned char>(bytes[length - 2]) & 0x80);
        if ((top == 0x00 && (length == 1 || !below_negative)) || (top == 0xFF && length >= 2 && below_negative)) {
            --length;
        } else {
            break;
        }
    }
    return length;
}

}  // namespace

std::string minimal(std::string_view little_endian) {
    return std::string(little_endian.substr(0, minimal_length(little_endian)));
}

std::optional<int64_t> to_int64(std::string_view little_endian) noexcept {
    const std::string_view bytes = little_endian.substr(0, minimal_length(little_endian));
    if (bytes.size() > 8) return std::nullopt;
    uint64_t value = is_negative(bytes) ? ~uint64_t{0} : 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        value &= ~(uint64_t{0xFF} << (8 * i));
        value |= uint64_t{static_cast<unsigned char>(bytes[i])} << (8 * i);
    }
    return static_cast<int64_t>(value);
}

std::string from_int64(int64_t value) {
    std::string bytes(8, '\0');
    const auto bits = static_cast<uint64_t>(value);
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((bits >> (8 * i)) & 0xFF);
    return minimal(bytes);
}

std::string to_decimal(std::string_view little_endian) {
    const bool negative = is_negative(little_endian);
    // Magnitude as little-endian 32-bit limbs (negate two's complement).
    std::vector<uint32_t> limbs((little_endian.size() + 3) / 4, 0);
    unsigned carry = negative ? 1 : 0;
    for (std::size_t i = 0; i < little_endian.size(); ++i) {
        unsigned byte = static_cast<unsigned char>(little_endian[i]);
        if (negative) {
            byte = (~byte & 0xFF) + carry;
            carry = byte >> 8;
            byte &= 0xFF;
        }
        limbs[i / 4] |= uint32_t{byte} << (8 * (i % 4));
    }
    // Repeated division by 10^9, least significant chunk first.
    std::vector<uint32_t> chunks;
    while (std::any_of(limbs.begin(), limbs.end(), [](uint32_t limb) { return limb != 0; })) {
        uint64_t remainder = 0;
        for (std::size_t i = limbs.size(); i-- > 0;) {
            const uint64_t current = (remainder << 32) | limbs[i];
            limbs[i] = static_cast<uint32_t>(current / 1000000000u);
            remainder = current % 1000000000u;
        }
        chunks.push_back(static_cast<uint32_t>(remainder));
    }
    if (chunks.empty()) return "0";
    std::string text = negative ? "-" : "";
    text += std::to_string(chunks.back());
    for (std::size_t i = chunks.size() - 1; i-- > 0;) {
        const std::string part = std::to_string(chunks[i]);
        text += std::string(9 - part.size(), '0') + part;
    }
    return text;
}

}  // namespace subinterp::bigint
