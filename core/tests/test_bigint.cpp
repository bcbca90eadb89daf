// Unit tests of subinterp::bigint: the exact form of ints that do not fit in
// int64_t. Every function is checked against references written here and not
// sharing code with the library: __int128 arithmetic for values up to 127
// bits, and decimal-string / byte-vector schoolbook arithmetic beyond that.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

// core/src is private to subinterp_core, hence the relative path.
#include "../src/bigint.hpp"

namespace {

namespace bigint = subinterp::bigint;

using i128 = __int128;
using u128 = unsigned __int128;

// std::string from a literal, embedded NULs included.
template <std::size_t N>
std::string bytes_of(const char (&text)[N]) {
    return std::string(text, N - 1);
}

std::string hex(std::string_view bytes) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xF];
        out += ' ';
    }
    return out.empty() ? "(no bytes)" : out;
}

// --- the __int128 reference ----------------------------------------------------------

constexpr i128 kI128Max = static_cast<i128>(~u128{0} >> 1);
constexpr i128 kI128Min = -kI128Max - 1;

// All 16 bytes, little-endian two's complement (possibly redundant).
std::string full_bytes(i128 value) {
    std::string out(16, '\0');
    const auto bits = static_cast<u128>(value);
    for (int i = 0; i < 16; ++i) out[i] = static_cast<char>(static_cast<unsigned char>(bits >> (8 * i)));
    return out;
}

// The fewest bytes n such that value is in [-2^(8n-1), 2^(8n-1)); 0 for 0.
// Found by range, not by looking at byte patterns as the library does.
std::size_t minimal_length(i128 value) {
    if (value == 0) return 0;
    for (std::size_t n = 1; n < 16; ++n) {
        const i128 half = static_cast<i128>(1) << (8 * n - 1);
        if (value >= -half && value < half) return n;
    }
    return 16;
}

std::string expected_minimal(i128 value) { return full_bytes(value).substr(0, minimal_length(value)); }

std::string decimal(i128 value) {
    if (value == 0) return "0";
    const bool negative = value < 0;
    // Magnitude in unsigned arithmetic: -kI128Min does not fit in i128.
    u128 magnitude = negative ? ~static_cast<u128>(value) + 1 : static_cast<u128>(value);
    std::string digits;
    while (magnitude != 0) {
        digits += static_cast<char>('0' + static_cast<int>(magnitude % 10));
        magnitude /= 10;
    }
    if (negative) digits += '-';
    std::reverse(digits.begin(), digits.end());
    return digits;
}

// Sign-extends to `extra` more bytes: the same value, redundantly encoded.
std::string sign_extended(std::string bytes, std::size_t extra) {
    const bool negative = !bytes.empty() && (static_cast<unsigned char>(bytes.back()) & 0x80);
    return bytes + std::string(extra, negative ? '\xFF' : '\0');
}

std::string repr_i128(i128 value) { return decimal(value) + " (" + hex(full_bytes(value)) + ")"; }

// Checks every function on one value that fits in __int128, given both in
// minimal form and with redundant sign bytes added.
void check_against_i128(i128 value) {
    SCOPED_TRACE(repr_i128(value));
    const std::string minimal = expected_minimal(value);
    const std::string text = decimal(value);
    const bool fits64 = value >= INT64_MIN && value <= INT64_MAX;
    for (const std::string& input : {minimal, full_bytes(value), sign_extended(minimal, 1), sign_extended(minimal, 9)}) {
        SCOPED_TRACE("input " + hex(input));
        EXPECT_EQ(hex(bigint::minimal(input)), hex(minimal));
        EXPECT_EQ(bigint::to_decimal(input), text);
        const std::optional<int64_t> small = bigint::to_int64(input);
        ASSERT_EQ(small.has_value(), fits64);
        if (fits64) {
            EXPECT_EQ(*small, static_cast<int64_t>(value));
        }
    }
    if (fits64) {
        EXPECT_EQ(hex(bigint::from_int64(static_cast<int64_t>(value))), hex(minimal));
    }
}

// --- the big reference: unbounded schoolbook arithmetic -----------------------------

// Magnitudes are little-endian unsigned byte vectors.
using Magnitude = std::vector<uint8_t>;

void multiply_add(Magnitude& m, unsigned factor, unsigned addend) {
    unsigned carry = addend;
    for (uint8_t& byte : m) {
        const unsigned product = byte * factor + carry;
        byte = static_cast<uint8_t>(product & 0xFF);
        carry = product >> 8;
    }
    while (carry) {
        m.push_back(static_cast<uint8_t>(carry & 0xFF));
        carry >>= 8;
    }
}

// Subtracts 1 from a non-zero magnitude.
void decrement(Magnitude& m) {
    for (uint8_t& byte : m) {
        if (byte-- != 0) break;
    }
    while (!m.empty() && m.back() == 0) m.pop_back();
}

Magnitude power_of_ten(int k) {
    Magnitude m{1};
    for (int i = 0; i < k; ++i) multiply_add(m, 10, 0);
    return m;
}

// Minimal two's complement bytes of +m or -m, built by the textbook rules:
// append a 0x00 byte when the top bit would read as a sign; negate by
// inverting and adding one, then drop one 0xFF that only repeats the sign.
std::string signed_bytes(Magnitude m, bool negative) {
    while (!m.empty() && m.back() == 0) m.pop_back();
    if (m.empty()) return "";
    if (m.back() & 0x80) m.push_back(0);
    if (negative) {
        unsigned carry = 1;
        for (uint8_t& byte : m) {
            const unsigned sum = static_cast<uint8_t>(~byte) + carry;
            byte = static_cast<uint8_t>(sum & 0xFF);
            carry = sum >> 8;
        }
        // -2^(8n-1) needs one byte fewer than +2^(8n-1).
        if (m.size() >= 2 && m.back() == 0xFF && (m[m.size() - 2] & 0x80)) m.pop_back();
    }
    return std::string(m.begin(), m.end());
}

// Decimal digits of a magnitude by Horner's rule on a decimal digit array
// (digit = d * 256 + byte, most significant byte first): no division by
// powers of ten, unlike the library.
std::string decimal_of(const Magnitude& m, bool negative) {
    std::vector<int> digits{0};  // little-endian decimal digits
    for (std::size_t i = m.size(); i-- > 0;) {
        int carry = m[i];
        for (int& d : digits) {
            const int value = d * 256 + carry;
            d = value % 10;
            carry = value / 10;
        }
        while (carry) {
            digits.push_back(carry % 10);
            carry /= 10;
        }
    }
    while (digits.size() > 1 && digits.back() == 0) digits.pop_back();
    std::string text = negative && !(digits.size() == 1 && digits[0] == 0) ? "-" : "";
    for (std::size_t i = digits.size(); i-- > 0;) text += static_cast<char>('0' + digits[i]);
    return text;
}

// --- minimal --------------------------------------------------------------------------

struct MinimalCase {
    const char* name;
    std::string input;
    std::string expected;
};

std::ostream& operator<<(std::ostream& os, const MinimalCase& c) { return os << c.name; }

class BigIntMinimal : public ::testing::TestWithParam<MinimalCase> {};

TEST_P(BigIntMinimal, DropsOnlyRedundantSignBytes) {
    EXPECT_EQ(hex(bigint::minimal(GetParam().input)), hex(GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    BigIntTable, BigIntMinimal,
    ::testing::Values(MinimalCase{"empty_is_zero", "", ""},
                      MinimalCase{"single_zero", bytes_of("\0"), ""},
                      MinimalCase{"many_zeros", std::string(50, '\0'), ""},
                      MinimalCase{"one", bytes_of("\x01\0\0\0"), bytes_of("\x01")},
                      MinimalCase{"minus_one", bytes_of("\xFF\xFF\xFF"), bytes_of("\xFF")},
                      MinimalCase{"minus_one_single", bytes_of("\xFF"), bytes_of("\xFF")},
                      // 0x00 above a byte with its top bit set is the sign: kept.
                      MinimalCase{"plus_128", bytes_of("\x80\0"), bytes_of("\x80\0")},
                      MinimalCase{"plus_128_padded", bytes_of("\x80\0\0\0"), bytes_of("\x80\0")},
                      MinimalCase{"minus_128", bytes_of("\x80\xFF"), bytes_of("\x80")},
                      MinimalCase{"minus_129", bytes_of("\x7F\xFF\xFF"), bytes_of("\x7F\xFF")},
                      MinimalCase{"plus_127", bytes_of("\x7F\0"), bytes_of("\x7F")},
                      MinimalCase{"plus_255", bytes_of("\xFF\0\0"), bytes_of("\xFF\0")},
                      MinimalCase{"minus_256", bytes_of("\0\xFF\xFF"), bytes_of("\0\xFF")},
                      // Zero bytes below the top are never redundant.
                      MinimalCase{"plus_2_pow_16", bytes_of("\0\0\x01\0"), bytes_of("\0\0\x01")},
                      MinimalCase{"two_pow_64", bytes_of("\0\0\0\0\0\0\0\0\x01\0\0"), bytes_of("\0\0\0\0\0\0\0\0\x01")},
                      MinimalCase{"minus_two_pow_64", bytes_of("\0\0\0\0\0\0\0\0\xFF\xFF"),
                                  bytes_of("\0\0\0\0\0\0\0\0\xFF")},
                      MinimalCase{"long_minus_one", std::string(100000, '\xFF'), bytes_of("\xFF")},
                      MinimalCase{"long_zero", std::string(100000, '\0'), ""}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(BigIntMinimalProperties, IsIdempotentAndKeepsTheSign) {
    std::mt19937_64 random(20240611);
    for (int n = 0; n < 5000; ++n) {
        std::string input(random() % 24, '\0');
        for (char& c : input) {
            // Bias towards 0x00 and 0xFF so that redundant runs are common.
            const auto r = random() % 4;
            c = static_cast<char>(r == 0 ? 0x00 : r == 1 ? 0xFF : random() & 0xFF);
        }
        const std::string once = bigint::minimal(input);
        SCOPED_TRACE(hex(input) + "-> " + hex(once));
        EXPECT_EQ(bigint::minimal(once), once);
        EXPECT_LE(once.size(), input.size());
        EXPECT_EQ(once, input.substr(0, once.size())) << "minimal form is not a prefix";
        const bool negative_in = !input.empty() && (static_cast<unsigned char>(input.back()) & 0x80);
        const bool negative_out = !once.empty() && (static_cast<unsigned char>(once.back()) & 0x80);
        EXPECT_EQ(negative_in, negative_out);
        EXPECT_EQ(bigint::to_decimal(once), bigint::to_decimal(input));
        // No further byte may go: one fewer would change the value.
        if (!once.empty()) {
            EXPECT_NE(bigint::to_decimal(once.substr(0, once.size() - 1)), bigint::to_decimal(once));
        }
    }
}

// --- from_int64 / to_int64 ------------------------------------------------------------

TEST(BigIntFromInt64, GivesMinimalBytes) {
    EXPECT_EQ(hex(bigint::from_int64(0)), hex(""));
    EXPECT_EQ(hex(bigint::from_int64(1)), hex(bytes_of("\x01")));
    EXPECT_EQ(hex(bigint::from_int64(-1)), hex(bytes_of("\xFF")));
    EXPECT_EQ(hex(bigint::from_int64(127)), hex(bytes_of("\x7F")));
    EXPECT_EQ(hex(bigint::from_int64(128)), hex(bytes_of("\x80\0")));
    EXPECT_EQ(hex(bigint::from_int64(-128)), hex(bytes_of("\x80")));
    EXPECT_EQ(hex(bigint::from_int64(-129)), hex(bytes_of("\x7F\xFF")));
    EXPECT_EQ(hex(bigint::from_int64(INT64_MAX)), hex(bytes_of("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F")));
    EXPECT_EQ(hex(bigint::from_int64(INT64_MIN)), hex(bytes_of("\0\0\0\0\0\0\0\x80")));
}

TEST(BigIntToInt64, BoundariesOfInt64) {
    EXPECT_EQ(bigint::to_int64(""), std::optional<int64_t>(0));
    EXPECT_EQ(bigint::to_int64(bytes_of("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F")), std::optional<int64_t>(INT64_MAX));
    EXPECT_EQ(bigint::to_int64(bytes_of("\0\0\0\0\0\0\0\x80")), std::optional<int64_t>(INT64_MIN));
    // INT64_MAX + 1 and INT64_MIN - 1 need a ninth byte.
    EXPECT_EQ(bigint::to_int64(bytes_of("\0\0\0\0\0\0\0\x80\0")), std::nullopt);
    EXPECT_EQ(bigint::to_int64(bytes_of("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F\xFF")), std::nullopt);
    // Long but redundant encodings of small values still fit.
    EXPECT_EQ(bigint::to_int64(std::string(1000, '\xFF')), std::optional<int64_t>(-1));
    EXPECT_EQ(bigint::to_int64(bytes_of("\x05") + std::string(1000, '\0')), std::optional<int64_t>(5));
    EXPECT_EQ(bigint::to_int64(bytes_of("\0\0\0\0\0\0\0\x80") + std::string(20, '\xFF')),
              std::optional<int64_t>(INT64_MIN));
    // A high byte that is not a sign repeat, however far up, makes it big.
    EXPECT_EQ(bigint::to_int64(bytes_of("\x05") + std::string(30, '\0') + bytes_of("\x01")), std::nullopt);
}

TEST(BigIntFromInt64, RoundTripsThroughToInt64) {
    std::mt19937_64 random(7);
    std::vector<int64_t> values = {0, 1, -1, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
    for (int bit = 0; bit < 63; ++bit) {
        const int64_t p = int64_t{1} << bit;
        for (int64_t v : {p, p - 1, p + 1, -p, -p - 1, -p + 1}) values.push_back(v);
    }
    for (int n = 0; n < 20000; ++n) {
        // Every magnitude scale; ~u is the negative counterpart of u.
        const uint64_t u = random() >> (1 + random() % 63);
        values.push_back(n % 2 ? static_cast<int64_t>(u) : static_cast<int64_t>(~u));
    }
    for (int64_t v : values) {
        const std::string bytes = bigint::from_int64(v);
        SCOPED_TRACE(std::to_string(v) + " -> " + hex(bytes));
        EXPECT_EQ(hex(bytes), hex(expected_minimal(v)));
        EXPECT_EQ(bigint::to_int64(bytes), std::optional<int64_t>(v));
        EXPECT_EQ(bigint::to_decimal(bytes), std::to_string(v));
    }
}

// --- everything against __int128 -------------------------------------------------------

TEST(BigIntInt128Reference, PowersOfTwoPlusAndMinusOne) {
    for (int bit = 0; bit < 127; ++bit) {
        const i128 p = static_cast<i128>(1) << bit;
        for (i128 v : {p, p - 1, p + 1, -p, -p - 1, -p + 1}) check_against_i128(v);
    }
    check_against_i128(0);
    check_against_i128(kI128Max);
    check_against_i128(kI128Min);
    check_against_i128(kI128Min + 1);
}

TEST(BigIntInt128Reference, RandomSweep) {
    std::mt19937_64 random(0x5EED);
    for (int n = 0; n < 50000; ++n) {
        const u128 raw = (static_cast<u128>(random()) << 64) | random();
        // Every bit length from 0 to 127 equally often, both signs.
        const int bits = n % 128;
        i128 v = bits == 0 ? 0 : static_cast<i128>(raw >> (128 - bits));
        if (random() & 1) v = -v - (random() & 1);
        check_against_i128(v);
        if (HasFailure()) return;  // one value's trace is enough
    }
}

// --- beyond 127 bits ----------------------------------------------------------------------

TEST(BigIntBeyondInt128, PowersOfTenPrintAsOneAndZeros) {
    for (int k = 0; k <= 400; ++k) {
        const Magnitude m = power_of_ten(k);
        const std::string zeros(static_cast<std::size_t>(k), '0');
        const std::string positive = signed_bytes(m, false);
        const std::string negative = signed_bytes(m, true);
        SCOPED_TRACE("10^" + std::to_string(k));
        EXPECT_EQ(bigint::to_decimal(positive), "1" + zeros);
        EXPECT_EQ(bigint::to_decimal(negative), "-1" + zeros);
        EXPECT_EQ(bigint::to_decimal(sign_extended(negative, 5)), "-1" + zeros);
        EXPECT_EQ(hex(bigint::minimal(positive)), hex(positive));
        EXPECT_EQ(hex(bigint::minimal(sign_extended(negative, 3))), hex(negative));
        EXPECT_EQ(bigint::to_int64(positive).has_value(), k <= 18);
        EXPECT_EQ(bigint::to_int64(negative).has_value(), k <= 18);

        // 10^k - 1: k nines, the carry-heavy case for chunked division.
        if (k > 0) {
            Magnitude nines = m;
            decrement(nines);
            const std::string all_nines(static_cast<std::size_t>(k), '9');
            EXPECT_EQ(bigint::to_decimal(signed_bytes(nines, false)), all_nines);
            EXPECT_EQ(bigint::to_decimal(signed_bytes(nines, true)), "-" + all_nines);
        }
    }
}

TEST(BigIntBeyondInt128, KnownValues) {
    Magnitude two_pow_100{1};
    for (int i = 0; i < 100; ++i) multiply_add(two_pow_100, 2, 0);
    EXPECT_EQ(bigint::to_decimal(signed_bytes(two_pow_100, false)), "1267650600228229401496703205376");
    EXPECT_EQ(bigint::to_decimal(signed_bytes(two_pow_100, true)), "-1267650600228229401496703205376");
    // -(2^1023) is the most negative value of 128 bytes: 0x00... 0x80.
    const std::string most_negative = std::string(127, '\0') + bytes_of("\x80");
    Magnitude two_pow_1023{1};
    for (int i = 0; i < 1023; ++i) multiply_add(two_pow_1023, 2, 0);
    EXPECT_EQ(bigint::to_decimal(most_negative), decimal_of(two_pow_1023, true));
    EXPECT_EQ(hex(bigint::minimal(most_negative)), hex(most_negative));
    EXPECT_EQ(hex(signed_bytes(two_pow_1023, true)), hex(most_negative));
}

TEST(BigIntBeyondInt128, RandomValuesAgainstHornerDecimal) {
    std::mt19937_64 random(99);
    for (int n = 0; n < 300; ++n) {
        Magnitude m(17 + random() % 300);
        for (uint8_t& byte : m) byte = static_cast<uint8_t>(random());
        if (m.back() == 0) m.back() = 1;
        const bool negative = random() & 1;
        const std::string bytes = signed_bytes(m, negative);
        SCOPED_TRACE(hex(bytes));
        EXPECT_EQ(bigint::to_decimal(bytes), decimal_of(m, negative));
        EXPECT_EQ(bigint::to_decimal(sign_extended(bytes, 1 + random() % 8)), decimal_of(m, negative));
        EXPECT_EQ(hex(bigint::minimal(sign_extended(bytes, random() % 8))), hex(bytes));
        EXPECT_EQ(bigint::to_int64(bytes), std::nullopt);
    }
}

// The decimal text must not lose inner zero chunks: 10^27 + 1 has
// a run of zeros that spans three base-10^9 chunks.
TEST(BigIntBeyondInt128, InnerZerosAreKept) {
    for (int k : {9, 18, 27, 36, 45, 100}) {
        Magnitude m = power_of_ten(k);
        multiply_add(m, 1, 1);
        const std::string expected = "1" + std::string(static_cast<std::size_t>(k - 1), '0') + "1";
        EXPECT_EQ(bigint::to_decimal(signed_bytes(m, false)), expected) << "10^" << k << " + 1";
        EXPECT_EQ(bigint::to_decimal(signed_bytes(m, true)), "-" + expected) << "-(10^" << k << " + 1)";
    }
}

TEST(BigIntToDecimal, ZeroInAnyEncoding) {
    EXPECT_EQ(bigint::to_decimal(""), "0");
    EXPECT_EQ(bigint::to_decimal(bytes_of("\0")), "0");
    EXPECT_EQ(bigint::to_decimal(std::string(33, '\0')), "0");
    EXPECT_EQ(bigint::to_decimal(std::string(33, '\xFF')), "-1");
}

}  // namespace
