// Tests of the data kinds beyond the JSON-like core, through the C ABI: ints
// of any size, buffers (library and host memory shared without copying),
// pickled values and interpreter handles. None of these tests starts Python:
// the values own no PyObject.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <ostream>
#include <random>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

namespace {

using namespace subinterp_test;

// --- helpers -----------------------------------------------------------------------

template <std::size_t N>
std::string bytes_of(const char (&text)[N]) {
    return std::string(text, N - 1);
}

std::string hex(const std::string& bytes) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 0xF];
        out += ' ';
    }
    return out.empty() ? "(no bytes)" : out;
}

// True if `word` occurs in `text` as a word of its own.
bool names(const std::string& text, const std::string& word) {
    return std::regex_search(text, std::regex("(^|[^A-Za-z_])" + word + "([^A-Za-z_]|$)"));
}

// A placeholder for out-pointers that a failing call must leave untouched.
const subinterp_data* const kUntouched = reinterpret_cast<const subinterp_data*>(uintptr_t{0x5EB7});
constexpr size_t kUntouchedLen = 0xABCDEF;

Data int_bytes(const std::string& little_endian) {
    subinterp_data* d = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_new_int_bytes(little_endian.data(), little_endian.size(), &d, e.out()), e)
        << hex(little_endian);
    return Data(d);
}

// An int's bytes through the documented two-call protocol: ask, then read.
// The asking call passes a real pointer with capacity 0: the NULL variant has
// tests of its own, so that a fault there fails them and not every test.
std::string read_int_bytes(const subinterp_data* d) {
    Err e;
    size_t needed = kUntouchedLen;
    char unused = 0;
    EXPECT_OK(subinterp_data_get_int_bytes(d, &unused, 0, &needed, e.out()), e);
    if (needed == kUntouchedLen) return "<not written>";
    std::string out(needed, '\0');
    size_t again = kUntouchedLen;
    EXPECT_OK(subinterp_data_get_int_bytes(d, out.data(), out.size(), &again, e.out()), e);
    EXPECT_EQ(again, needed);
    return out;
}

Data make_pickled(const std::string& bytes) {
    subinterp_data* d = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_new_pickled(bytes.data(), bytes.size(), &d, e.out()), e);
    return Data(d);
}

std::string get_pickled(const subinterp_data* d) {
    const void* p = nullptr;
    size_t n = kUntouchedLen;
    Err e;
    EXPECT_OK(subinterp_data_get_pickled(d, &p, &n, e.out()), e);
    if (n == kUntouchedLen) return "<not written>";
    return n ? std::string(static_cast<const char*>(p), n) : std::string();
}

Data make_interpreter(int64_t id) {
    subinterp_data* d = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_new_interpreter(id, &d, e.out()), e);
    return Data(d);
}

Data make_buffer(size_t size, void** memory) {
    subinterp_data* d = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_new_buffer(size, memory, &d, e.out()), e);
    return Data(d);
}

struct BufferInfo {
    void* memory = nullptr;
    size_t size = kUntouchedLen;
    int readonly = -1;
};

BufferInfo get_buffer(const subinterp_data* d) {
    BufferInfo info;
    Err e;
    EXPECT_OK(subinterp_data_get_buffer(d, &info.memory, &info.size, &info.readonly, e.out()), e);
    return info;
}

// For malloc'd host memory: under ASan a second release is a double free and
// a missing one a leak, so these catch what the counter alone might not.
void record_and_free(void* context, void* data) {
    record_release(context, data);
    std::free(data);
}

Data external(void* memory, size_t size, ReleaseLog& log, int readonly = 0,
              subinterp_buffer_release release = record_release) {
    subinterp_data* d = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_new_buffer_external(memory, size, readonly, release, &log, &d, e.out()), e);
    return Data(d);
}

// Host memory of `size` bytes that the buffer frees on release.
Data external_owned(size_t size, ReleaseLog& log, void** memory_out = nullptr) {
    void* memory = std::malloc(size ? size : 1);
    std::memset(memory, 0x5A, size);
    if (memory_out) *memory_out = memory;
    return external(memory, size, log, 0, record_and_free);
}

// --- independent big-int references -------------------------------------------------

// The fewest leading bytes that sign-extend back to all of `bytes`: the
// definition of "minimal", checked by brute force.
std::string reference_minimal(const std::string& bytes) {
    for (size_t n = 0; n <= bytes.size(); ++n) {
        const bool negative = n > 0 && (static_cast<unsigned char>(bytes[n - 1]) & 0x80);
        const std::string extended = bytes.substr(0, n) + std::string(bytes.size() - n, negative ? '\xFF' : '\0');
        if (extended == bytes) return bytes.substr(0, n);
    }
    return bytes;
}

// Decimal text of two's-complement little-endian bytes, by Horner's rule on
// decimal digits.
std::string reference_decimal(std::string bytes) {
    const bool negative = !bytes.empty() && (static_cast<unsigned char>(bytes.back()) & 0x80);
    if (negative) {
        unsigned carry = 1;
        for (char& c : bytes) {
            const unsigned sum = (~static_cast<unsigned char>(c) & 0xFFu) + carry;
            c = static_cast<char>(sum & 0xFF);
            carry = sum >> 8;
        }
    }
    std::vector<int> digits{0};
    for (size_t i = bytes.size(); i-- > 0;) {
        int carry = static_cast<unsigned char>(bytes[i]);
        for (int& d : digits) {
            const int value = d * 256 + carry;
            d = value % 10;
            carry = value / 10;
        }
        for (; carry; carry /= 10) digits.push_back(carry % 10);
    }
    while (digits.size() > 1 && digits.back() == 0) digits.pop_back();
    std::string text = negative ? "-" : "";
    for (size_t i = digits.size(); i-- > 0;) text += static_cast<char>('0' + digits[i]);
    return text;
}

std::string le64(int64_t value) {
    std::string out(8, '\0');
    const auto bits = static_cast<uint64_t>(value);
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((bits >> (8 * i)) & 0xFF);
    return out;
}

// 10^k, minimal two's complement, by repeated multiplication by ten.
std::string power_of_ten_bytes(int k) {
    std::vector<unsigned> m{1};
    for (int i = 0; i < k; ++i) {
        unsigned carry = 0;
        for (unsigned& byte : m) {
            const unsigned product = byte * 10 + carry;
            byte = product & 0xFF;
            carry = product >> 8;
        }
        if (carry) m.push_back(carry);
    }
    if (m.back() & 0x80) m.push_back(0);
    return std::string(m.begin(), m.end());
}

const std::string kInt64MaxBytes = bytes_of("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F");
const std::string kInt64MinBytes = bytes_of("\0\0\0\0\0\0\0\x80");
const std::string kInt64MaxPlusOne = bytes_of("\0\0\0\0\0\0\0\x80\0");
const std::string kInt64MinMinusOne = bytes_of("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F\xFF");
const std::string kTwoPow64 = bytes_of("\0\0\0\0\0\0\0\0\x01");
const std::string kMinusTwoPow64 = bytes_of("\0\0\0\0\0\0\0\0\xFF");
// 2^100 = 0x10 << 96; -(2^100) - 1 = ~(2^100).
const std::string kTwoPow100 = std::string(12, '\0') + bytes_of("\x10");
const std::string kMinusTwoPow100MinusOne = std::string(12, '\xFF') + bytes_of("\xEF");

// --- big ints: normalization and boundaries ------------------------------------------

struct IntCase {
    const char* name;
    std::string input;
    std::string minimal;  // what get_int_bytes must give
    const char* decimal;  // what repr must give
    bool fits;            // readable with get_int
    int64_t value;        // when it fits
};

std::ostream& operator<<(std::ostream& os, const IntCase& c) { return os << c.name << " " << hex(c.input); }

class DataKindsBigIntCases : public ::testing::TestWithParam<IntCase> {};

TEST_P(DataKindsBigIntCases, NormalizeReadBackAndPrintExactly) {
    const IntCase& c = GetParam();
    const Data d = int_bytes(c.input);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(subinterp_data_get_kind(d.get()), SUBINTERP_DATA_INT);
    EXPECT_EQ(hex(read_int_bytes(d.get())), hex(c.minimal));
    EXPECT_EQ(repr(d.get()), c.decimal);

    Err e;
    int64_t value = 12345;
    const subinterp_status status = subinterp_data_get_int(d.get(), &value, e.out());
    if (c.fits) {
        ASSERT_OK(status, e);
        EXPECT_EQ(value, c.value);
        // Each int has one representation, however it was built.
        const Data small = make_int(c.value);
        EXPECT_EQ(subinterp_data_equal(d.get(), small.get()), 1);
        EXPECT_EQ(subinterp_data_equal(small.get(), d.get()), 1);
        EXPECT_EQ(hex(read_int_bytes(small.get())), hex(c.minimal));
    } else {
        EXPECT_EQ(status, SUBINTERP_ERR_OVERFLOW);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_OVERFLOW);
        EXPECT_EQ(value, 12345) << "out-parameter written on failure";
        // The message should point the caller at the exact accessor.
        EXPECT_TRUE(names(e.message(), "bytes")) << e.message();
    }
}

INSTANTIATE_TEST_SUITE_P(
    DataKindsInts, DataKindsBigIntCases,
    ::testing::Values(
        IntCase{"zero_no_bytes", "", "", "0", true, 0},
        IntCase{"zero_padded", bytes_of("\0\0\0\0"), "", "0", true, 0},
        IntCase{"one_padded", bytes_of("\x01\0\0"), bytes_of("\x01"), "1", true, 1},
        IntCase{"minus_one", bytes_of("\xFF"), bytes_of("\xFF"), "-1", true, -1},
        IntCase{"minus_one_padded", bytes_of("\xFF\xFF\xFF\xFF"), bytes_of("\xFF"), "-1", true, -1},
        IntCase{"plus_128_keeps_sign_byte", bytes_of("\x80\0\0"), bytes_of("\x80\0"), "128", true, 128},
        IntCase{"minus_128", bytes_of("\x80\xFF"), bytes_of("\x80"), "-128", true, -128},
        IntCase{"minus_129", bytes_of("\x7F\xFF\xFF"), bytes_of("\x7F\xFF"), "-129", true, -129},
        IntCase{"int64_max", kInt64MaxBytes, kInt64MaxBytes, "9223372036854775807", true, INT64_MAX},
        IntCase{"int64_max_padded", kInt64MaxBytes + std::string(5, '\0'), kInt64MaxBytes, "9223372036854775807",
                true, INT64_MAX},
        IntCase{"int64_min", kInt64MinBytes, kInt64MinBytes, "-9223372036854775808", true, INT64_MIN},
        IntCase{"int64_min_padded", kInt64MinBytes + std::string(5, '\xFF'), kInt64MinBytes,
                "-9223372036854775808", true, INT64_MIN},
        IntCase{"int64_max_plus_one", kInt64MaxPlusOne, kInt64MaxPlusOne, "9223372036854775808", false, 0},
        IntCase{"int64_min_minus_one", kInt64MinMinusOne, kInt64MinMinusOne, "-9223372036854775809", false, 0},
        IntCase{"two_pow_64", kTwoPow64, kTwoPow64, "18446744073709551616", false, 0},
        IntCase{"two_pow_64_padded", kTwoPow64 + std::string(7, '\0'), kTwoPow64, "18446744073709551616", false,
                0},
        IntCase{"minus_two_pow_64", kMinusTwoPow64, kMinusTwoPow64, "-18446744073709551616", false, 0},
        IntCase{"minus_two_pow_64_padded", kMinusTwoPow64 + std::string(3, '\xFF'), kMinusTwoPow64,
                "-18446744073709551616", false, 0},
        IntCase{"two_pow_100", kTwoPow100, kTwoPow100, "1267650600228229401496703205376", false, 0},
        IntCase{"minus_two_pow_100_minus_one", kMinusTwoPow100MinusOne, kMinusTwoPow100MinusOne,
                "-1267650600228229401496703205377", false, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DataKindsBigInt, PowersOfTenPrintExactly) {
    for (int k : {19, 20, 30, 50, 100, 500}) {
        const std::string positive = power_of_ten_bytes(k);
        const std::string zeros(static_cast<size_t>(k), '0');
        const Data d = int_bytes(positive);
        EXPECT_EQ(repr(d.get()), "1" + zeros) << "10^" << k;
        EXPECT_EQ(hex(read_int_bytes(d.get())), hex(positive)) << "10^" << k;
    }
    // -(10^50): ~x + 1 in bytes.
    std::string negative = power_of_ten_bytes(50);
    unsigned carry = 1;
    for (char& c : negative) {
        const unsigned sum = (~static_cast<unsigned char>(c) & 0xFFu) + carry;
        c = static_cast<char>(sum & 0xFF);
        carry = sum >> 8;
    }
    EXPECT_EQ(repr(int_bytes(negative).get()), "-1" + std::string(50, '0'));
}

TEST(DataKindsBigInt, ThousandByteValuesRoundTrip) {
    std::mt19937 random(1000);
    for (const char top : {'\x40', '\xC0'}) {
        std::string value(1000, '\0');
        for (char& c : value) c = static_cast<char>(random() & 0xFF);
        value.back() = top;  // not a sign repeat: all 1000 bytes are needed
        SCOPED_TRACE(top == '\x40' ? "positive" : "negative");

        const Data d = int_bytes(value);
        EXPECT_EQ(read_int_bytes(d.get()), value);
        EXPECT_EQ(repr(d.get()), reference_decimal(value));
        int64_t unused = 0;
        EXPECT_EQ(subinterp_data_get_int(d.get(), &unused, nullptr), SUBINTERP_ERR_OVERFLOW);

        const Data padded = int_bytes(value + std::string(50, top == '\x40' ? '\0' : '\xFF'));
        EXPECT_EQ(subinterp_data_equal(d.get(), padded.get()), 1);
        EXPECT_EQ(read_int_bytes(padded.get()), value);
    }
}

TEST(DataKindsBigInt, RandomBytesAgainstReference) {
    std::mt19937 random(4242);
    for (int n = 0; n < 3000; ++n) {
        std::string input(random() % 40, '\0');
        for (char& c : input) {
            // Runs of 0x00 / 0xFF make redundant sign bytes common.
            const unsigned r = random() % 4;
            c = static_cast<char>(r == 0 ? 0x00 : r == 1 ? 0xFF : random() & 0xFF);
        }
        SCOPED_TRACE(hex(input));
        const Data d = int_bytes(input);
        const std::string minimal = reference_minimal(input);
        EXPECT_EQ(hex(read_int_bytes(d.get())), hex(minimal));
        EXPECT_EQ(repr(d.get()), reference_decimal(input));
        int64_t value = 0;
        EXPECT_EQ(subinterp_data_get_int(d.get(), &value, nullptr) == SUBINTERP_OK, minimal.size() <= 8);
        if (HasFailure()) return;
    }
}

TEST(DataKindsBigInt, EveryInt64FromBytesEqualsNewInt) {
    std::mt19937_64 random(64);
    std::vector<int64_t> values = {0, 1, -1, INT64_MAX, INT64_MIN};
    for (int bit = 0; bit < 63; ++bit) {
        const int64_t p = int64_t{1} << bit;
        for (int64_t v : {p, p - 1, -p, -p - 1}) values.push_back(v);
    }
    for (int n = 0; n < 2000; ++n) {
        const uint64_t u = random() >> (random() % 64);
        values.push_back(n % 2 ? static_cast<int64_t>(u) : static_cast<int64_t>(~u));
    }
    for (int64_t v : values) {
        const std::string bytes = le64(v);
        const std::string padded = bytes + std::string(8, v < 0 ? '\xFF' : '\0');
        const Data small = make_int(v);
        for (const std::string& input : {bytes, padded}) {
            const Data d = int_bytes(input);
            EXPECT_EQ(as_int(d.get()), v) << hex(input);
            EXPECT_EQ(subinterp_data_equal(d.get(), small.get()), 1) << v;
            EXPECT_EQ(repr(d.get()), std::to_string(v));
        }
        EXPECT_EQ(hex(read_int_bytes(small.get())), hex(reference_minimal(bytes))) << v;
    }
}

// --- big ints: get_int_bytes protocol ---------------------------------------------

// The documented first call of the protocol: no buffer at all.
TEST(DataKindsBigInt, SizeQueryWithNullBytesGivesTheLength) {
    const std::pair<Data, size_t> cases[] = {{int_bytes(kTwoPow100), 13},
                                             {int_bytes(kMinusTwoPow64), 9},
                                             {make_int(-129), 2},
                                             {make_int(0), 0},
                                             {int_bytes(bytes_of("\0\0")), 0}};
    for (const auto& [d, expected] : cases) {
        size_t needed = kUntouchedLen;
        Err e;
        EXPECT_OK(subinterp_data_get_int_bytes(d.get(), nullptr, 0, &needed, e.out()), e) << repr(d.get());
        EXPECT_EQ(needed, expected) << repr(d.get());
    }
}

TEST(DataKindsBigInt, ShortCapacityWritesOnlyCapacityAndReportsTheFullLength) {
    const std::string value = kTwoPow100;  // 13 bytes
    const Data d = int_bytes(value);
    Err e;
    for (size_t capacity : {size_t{0}, size_t{1}, size_t{5}, size_t{12}}) {
        std::string out(32, '\xEE');
        size_t len = kUntouchedLen;
        ASSERT_OK(subinterp_data_get_int_bytes(d.get(), &out[0], capacity, &len, e.out()), e);
        EXPECT_EQ(len, value.size()) << capacity;
        EXPECT_EQ(hex(out.substr(0, capacity)), hex(value.substr(0, capacity)));
        EXPECT_EQ(out.substr(capacity), std::string(32 - capacity, '\xEE')) << "wrote past capacity " << capacity;
    }
}

TEST(DataKindsBigInt, ExactOrLargerCapacityGivesExactlyTheMinimalBytes) {
    const std::string value = kTwoPow100;
    const Data d = int_bytes(value + std::string(6, '\0'));
    Err e;
    for (size_t capacity : {value.size(), size_t{32}}) {
        std::string out(32, '\xEE');
        size_t len = kUntouchedLen;
        ASSERT_OK(subinterp_data_get_int_bytes(d.get(), &out[0], capacity, &len, e.out()), e);
        EXPECT_EQ(len, value.size());
        EXPECT_EQ(hex(out.substr(0, value.size())), hex(value));
        EXPECT_EQ(out.substr(value.size()), std::string(32 - value.size(), '\xEE')) << "wrote past the value";
    }
}

TEST(DataKindsBigInt, ZeroNeedsNoBytes) {
    for (const Data& d : {make_int(0), int_bytes(""), int_bytes(bytes_of("\0\0"))}) {
        char sentinel[2] = {'S', 'S'};
        for (size_t capacity : {size_t{0}, size_t{2}}) {
            size_t len = kUntouchedLen;
            Err e;
            ASSERT_OK(subinterp_data_get_int_bytes(d.get(), sentinel, capacity, &len, e.out()), e);
            EXPECT_EQ(len, 0u);
            EXPECT_EQ(sentinel[0], 'S');
        }
    }
}

TEST(DataKindsBigInt, SmallIntsFromNewIntGiveMinimalBytes) {
    const std::pair<int64_t, std::string> cases[] = {
        {0, ""},
        {1, bytes_of("\x01")},
        {127, bytes_of("\x7F")},
        {128, bytes_of("\x80\0")},
        {255, bytes_of("\xFF\0")},
        {256, bytes_of("\0\x01")},
        {-1, bytes_of("\xFF")},
        {-128, bytes_of("\x80")},
        {-129, bytes_of("\x7F\xFF")},
        {INT64_MAX, kInt64MaxBytes},
        {INT64_MIN, kInt64MinBytes},
    };
    for (const auto& [value, expected] : cases) {
        EXPECT_EQ(hex(read_int_bytes(make_int(value).get())), hex(expected)) << value;
    }
}

TEST(DataKindsBigInt, NullArgumentsAreInvalid) {
    const Data d = int_bytes(kTwoPow64);
    char buffer[16];
    size_t len = kUntouchedLen;
    Err e;
    EXPECT_EQ(subinterp_data_get_int_bytes(d.get(), buffer, sizeof buffer, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(subinterp_data_get_int_bytes(d.get(), nullptr, 4, &len, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(len, kUntouchedLen);
    EXPECT_EQ(subinterp_data_get_int_bytes(nullptr, buffer, sizeof buffer, &len, nullptr),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(len, kUntouchedLen);

    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(subinterp_data_new_int_bytes(nullptr, 3, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
    EXPECT_EQ(subinterp_data_new_int_bytes(kTwoPow64.data(), kTwoPow64.size(), nullptr, nullptr),
              SUBINTERP_ERR_INVALID_ARGUMENT);

    // NULL is fine for no bytes: that is 0.
    out = nullptr;
    ASSERT_EQ(subinterp_data_new_int_bytes(nullptr, 0, &out, nullptr), SUBINTERP_OK);
    const Data zero(out);
    EXPECT_EQ(as_int(zero.get()), 0);
}

TEST(DataKindsBigInt, BytesOfOtherKindsAreTypeErrors) {
    const Data others[] = {make_float(1.0), make_bool(true), make_str("1"), make_bytes(bytes_of("\x01")),
                           make_interpreter(1), make_none()};
    for (const Data& d : others) {
        const std::string kind = subinterp_data_kind_name(subinterp_data_get_kind(d.get()));
        size_t len = kUntouchedLen;
        char buffer[8] = {};
        Err e;
        EXPECT_EQ(subinterp_data_get_int_bytes(d.get(), buffer, sizeof buffer, &len, e.out()), SUBINTERP_ERR_TYPE)
            << kind;
        EXPECT_EQ(e.code(), SUBINTERP_ERR_TYPE);
        EXPECT_EQ(len, kUntouchedLen) << kind;
        EXPECT_TRUE(names(e.message(), "int")) << e.message();
        EXPECT_TRUE(names(e.message(), kind)) << e.message();
    }
}

// --- big ints: equality, hashing, containers ---------------------------------------

TEST(DataKindsBigInt, EqualityIsByValue) {
    const Data a = int_bytes(kTwoPow64);
    const Data same = int_bytes(kTwoPow64 + std::string(4, '\0'));
    const Data plus_one = int_bytes(bytes_of("\x01\0\0\0\0\0\0\0\x01"));
    const Data negated = int_bytes(kMinusTwoPow64);
    EXPECT_EQ(subinterp_data_equal(a.get(), same.get()), 1);
    EXPECT_EQ(subinterp_data_equal(a.get(), plus_one.get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), negated.get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_float(18446744073709551616.0).get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_bytes(kTwoPow64).get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_int(0).get()), 0);
    // A big int that shares its low 64 bits with a small one.
    EXPECT_EQ(subinterp_data_equal(plus_one.get(), make_int(1).get()), 0);
}

TEST(DataKindsBigInt, AreHashableDictKeys) {
    const Data keys[] = {int_bytes(kTwoPow64), int_bytes(kMinusTwoPow64), int_bytes(kTwoPow100), make_int(0),
                         int_bytes(bytes_of("\0\0\0\0\0\0\0\0\x02"))};
    std::vector<const subinterp_data*> k, v;
    for (const Data& key : keys) {
        k.push_back(key.get());
        v.push_back(key.get());
    }
    subinterp_data* dict = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_new_dict(k.data(), v.data(), k.size(), &dict, e.out()), e);
    const Data owner(dict);
    EXPECT_EQ(repr(dict),
              "{18446744073709551616: 18446744073709551616, -18446744073709551616: -18446744073709551616, "
              "1267650600228229401496703205376: 1267650600228229401496703205376, 0: 0, "
              "36893488147419103232: 36893488147419103232}");
}

TEST(DataKindsBigInt, DuplicateKeysAreRefusedHoweverEncoded) {
    const std::pair<std::string, std::string> duplicates[] = {
        {kTwoPow64, kTwoPow64 + std::string(3, '\0')},
        {kMinusTwoPow100MinusOne, kMinusTwoPow100MinusOne + bytes_of("\xFF")},
        {bytes_of("\x05"), bytes_of("\x05\0\0\0\0\0\0\0\0\0\0\0")},
    };
    for (const auto& [first, second] : duplicates) {
        const Data a = int_bytes(first);
        const Data b = int_bytes(second);
        const Data value = make_none();
        const subinterp_data* keys[] = {a.get(), b.get()};
        const subinterp_data* values[] = {value.get(), value.get()};
        subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
        Err e;
        EXPECT_EQ(subinterp_data_new_dict(keys, values, 2, &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT)
            << hex(first) << "/ " << hex(second);
        EXPECT_EQ(out, kUntouched);
        // As tuple members too: tuple keys hash their items.
        const Data ta = make_tuple({a.get(), value.get()});
        const Data tb = make_tuple({b.get(), value.get()});
        const subinterp_data* tuple_keys[] = {ta.get(), tb.get()};
        EXPECT_EQ(subinterp_data_new_dict(tuple_keys, values, 2, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(out, kUntouched);
    }
    // Small ints built as new_int and as bytes are the same key.
    const Data five = make_int(5);
    const Data five_bytes = int_bytes(bytes_of("\x05\0\0"));
    const subinterp_data* keys[] = {five.get(), five_bytes.get()};
    const subinterp_data* values[] = {five.get(), five.get()};
    subinterp_data* out = nullptr;
    EXPECT_EQ(subinterp_data_new_dict(keys, values, 2, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    subinterp_data_free(out);
}

TEST(DataKindsBigInt, ReprInsideContainers) {
    const Data t = make_tuple({int_bytes(kInt64MaxPlusOne).get(), make_int(-1).get(), int_bytes(kInt64MinMinusOne).get()});
    EXPECT_EQ(repr(t.get()), "(9223372036854775808, -1, -9223372036854775809)");
}

// --- buffers: library memory ---------------------------------------------------------

TEST(DataKindsBuffer, NewBufferIsWritableMemoryOfThatSize) {
    for (size_t size : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
        void* memory = nullptr;
        const Data d = make_buffer(size, &memory);
        ASSERT_NE(d, nullptr);
        ASSERT_NE(memory, nullptr);
        EXPECT_EQ(subinterp_data_get_kind(d.get()), SUBINTERP_DATA_BUFFER);
        auto* bytes = static_cast<unsigned char*>(memory);
        for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<unsigned char>(i * 31 + 7);

        const BufferInfo info = get_buffer(d.get());
        EXPECT_EQ(info.memory, memory);
        EXPECT_EQ(info.size, size);
        EXPECT_EQ(info.readonly, 0);
        const auto* seen = static_cast<const unsigned char*>(info.memory);
        size_t mismatches = 0;
        for (size_t i = 0; i < size; ++i) mismatches += seen[i] != static_cast<unsigned char>(i * 31 + 7);
        EXPECT_EQ(mismatches, 0u) << size;
    }
}

TEST(DataKindsBuffer, ZeroSizeBufferWorks) {
    void* memory = reinterpret_cast<void*>(uintptr_t{1});
    const Data d = make_buffer(0, &memory);
    ASSERT_NE(d, nullptr);
    const BufferInfo info = get_buffer(d.get());
    EXPECT_EQ(info.size, 0u);
    EXPECT_EQ(info.readonly, 0);
    EXPECT_EQ(info.memory, memory);
    EXPECT_EQ(repr(d.get()), "<buffer 0 bytes, writable>");
}

TEST(DataKindsBuffer, NewBufferNullArgumentsAreInvalid) {
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    Err e;
    EXPECT_EQ(subinterp_data_new_buffer(16, nullptr, &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
    void* memory = nullptr;
    EXPECT_EQ(subinterp_data_new_buffer(16, &memory, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
}

TEST(DataKindsBuffer, GetBufferOptionalOutputsAndNullMemory) {
    void* memory = nullptr;
    const Data d = make_buffer(8, &memory);
    void* seen = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_get_buffer(d.get(), &seen, nullptr, nullptr, e.out()), e);
    EXPECT_EQ(seen, memory);

    size_t size = kUntouchedLen;
    int readonly = -1;
    EXPECT_EQ(subinterp_data_get_buffer(d.get(), nullptr, &size, &readonly, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(size, kUntouchedLen);
    EXPECT_EQ(readonly, -1);
    EXPECT_EQ(subinterp_data_get_buffer(nullptr, &seen, &size, &readonly, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
}

TEST(DataKindsBuffer, WrongKindIsTypeError) {
    void* memory = nullptr;
    const Data buffer = make_buffer(4, &memory);
    std::memcpy(memory, "abcd", 4);
    const Data bytes = make_bytes("abcd");

    void* seen = const_cast<subinterp_data*>(kUntouched);
    size_t size = kUntouchedLen;
    Err e;
    EXPECT_EQ(subinterp_data_get_buffer(bytes.get(), &seen, &size, nullptr, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), "buffer")) << e.message();
    EXPECT_TRUE(names(e.message(), "bytes")) << e.message();
    EXPECT_EQ(seen, kUntouched);
    EXPECT_EQ(size, kUntouchedLen);
    e.reset();

    const void* contents = kUntouched;
    EXPECT_EQ(subinterp_data_get_bytes(buffer.get(), &contents, &size, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), "buffer")) << e.message();
    EXPECT_EQ(contents, kUntouched);
    EXPECT_EQ(subinterp_data_get_len(buffer.get(), &size, nullptr), SUBINTERP_ERR_TYPE);
    int64_t i = 0;
    EXPECT_EQ(subinterp_data_get_int(buffer.get(), &i, nullptr), SUBINTERP_ERR_TYPE);
}

// --- buffers: host memory and its release --------------------------------------------

TEST(DataKindsBuffer, ExternalSharesTheHostMemoryWithoutCopying) {
    ReleaseLog log;
    char memory[16] = "host memory";
    const Data d = external(memory, sizeof memory, log);
    ASSERT_NE(d, nullptr);
    const BufferInfo info = get_buffer(d.get());
    EXPECT_EQ(info.memory, static_cast<void*>(memory));
    EXPECT_EQ(info.size, sizeof memory);
    EXPECT_EQ(info.readonly, 0);
    memory[0] = 'H';
    EXPECT_EQ(static_cast<const char*>(info.memory)[0], 'H');
    static_cast<char*>(info.memory)[1] = 'O';
    EXPECT_EQ(memory[1], 'O');
    EXPECT_EQ(log.calls.load(), 0);
}

TEST(DataKindsBuffer, ReleaseRunsOnceWithContextAndDataAfterTheLastFree) {
    ReleaseLog log;
    char memory[4] = {};
    subinterp_data* d = external(memory, sizeof memory, log).release();
    EXPECT_EQ(log.calls.load(), 0);
    subinterp_data_free(d);
    EXPECT_EQ(log.calls.load(), 1);
    EXPECT_EQ(log.released_data(), static_cast<void*>(memory));
}

// The release must wait for every reference, whichever is dropped last.
TEST(DataKindsBuffer, ReleaseWaitsForEveryReferenceInAnyOrder) {
    std::array<int, 4> order = {0, 1, 2, 3};
    int orders = 0;
    do {
        ReleaseLog log;
        void* memory = nullptr;
        subinterp_data* original = external_owned(32, log, &memory).release();
        std::array<subinterp_data*, 4> refs = {original, subinterp_data_ref(original), subinterp_data_ref(original),
                                               subinterp_data_ref(original)};
        for (subinterp_data* r : refs) ASSERT_EQ(r, original);
        for (size_t step = 0; step < order.size(); ++step) {
            EXPECT_EQ(log.calls.load(), 0) << "released early, order #" << orders << " step " << step;
            if (step > 0) {
                EXPECT_EQ(get_buffer(original).memory, memory);
            }
            subinterp_data_free(refs[static_cast<size_t>(order[step])]);
        }
        EXPECT_EQ(log.calls.load(), 1) << "order #" << orders;
        EXPECT_EQ(log.released_data(), memory);
        ++orders;
    } while (std::next_permutation(order.begin(), order.end()));
    EXPECT_EQ(orders, 24);
}

TEST(DataKindsBuffer, ReleaseRunsOnTheThreadThatDropsTheLastReference) {
    {
        ReleaseLog log;
        subinterp_data* d = external_owned(8, log).release();
        subinterp_data* theirs = subinterp_data_ref(d);
        subinterp_data_free(d);
        std::thread::id worker;
        std::thread thread([&] {
            worker = std::this_thread::get_id();
            subinterp_data_free(theirs);
        });
        thread.join();
        EXPECT_EQ(log.calls.load(), 1);
        EXPECT_EQ(log.releasing_thread(), worker);
    }
    {
        ReleaseLog log;
        subinterp_data* d = external_owned(8, log).release();
        subinterp_data* theirs = subinterp_data_ref(d);
        std::thread thread([&] { subinterp_data_free(theirs); });
        thread.join();
        EXPECT_EQ(log.calls.load(), 0);
        subinterp_data_free(d);
        EXPECT_EQ(log.calls.load(), 1);
        EXPECT_EQ(log.releasing_thread(), std::this_thread::get_id());
    }
}

TEST(DataKindsBuffer, FailedConstructionTakesNothingOver) {
    ReleaseLog log;
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    Err e;
    EXPECT_EQ(subinterp_data_new_buffer_external(nullptr, 8, 0, record_release, &log, &out, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
    EXPECT_EQ(subinterp_data_new_buffer_external(nullptr, 8, 1, record_release, &log, &out, nullptr),
              SUBINTERP_ERR_INVALID_ARGUMENT);

    char memory[8] = {};
    e.reset();
    EXPECT_EQ(subinterp_data_new_buffer_external(memory, sizeof memory, 0, record_release, &log, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_data_new_buffer_external(memory, sizeof memory, 0, record_release, &log, nullptr, nullptr),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(log.calls.load(), 0) << "release ran for a buffer that was never made";
}

TEST(DataKindsBuffer, NullDataIsFineWhenEmpty) {
    ReleaseLog log;
    subinterp_data* d = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_new_buffer_external(nullptr, 0, 0, record_release, &log, &d, e.out()), e);
    EXPECT_EQ(get_buffer(d).size, 0u);
    subinterp_data_free(d);
    EXPECT_EQ(log.calls.load(), 1);
    EXPECT_EQ(log.released_data(), nullptr);
}

TEST(DataKindsBuffer, ReleaseMayBeNull) {
    char memory[8] = "keep";
    subinterp_data* d = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_new_buffer_external(memory, sizeof memory, 1, nullptr, nullptr, &d, e.out()), e);
    EXPECT_EQ(get_buffer(d).memory, static_cast<void*>(memory));
    subinterp_data_free(subinterp_data_ref(d));
    subinterp_data_free(d);
    EXPECT_STREQ(memory, "keep");
}

TEST(DataKindsBuffer, ReadonlyFlagIsReported) {
    char memory[8] = {};
    ReleaseLog log;
    for (int readonly : {0, 1, 2, -1}) {
        const Data d = external(memory, sizeof memory, log, readonly);
        EXPECT_EQ(get_buffer(d.get()).readonly, readonly != 0 ? 1 : 0) << readonly;
        EXPECT_EQ(repr(d.get()), readonly ? "<buffer 8 bytes, read-only>" : "<buffer 8 bytes, writable>");
    }
    EXPECT_EQ(log.calls.load(), 4);
    void* library_memory = nullptr;
    EXPECT_EQ(repr(make_buffer(1000, &library_memory).get()), "<buffer 1000 bytes, writable>");
}

// --- buffers: equality, hashing, containers --------------------------------------------

TEST(DataKindsBuffer, EqualOnlyAsTheSameBuffer) {
    void* m1 = nullptr;
    void* m2 = nullptr;
    const Data a = make_buffer(4, &m1);
    const Data b = make_buffer(4, &m2);
    std::memcpy(m1, "same", 4);
    std::memcpy(m2, "same", 4);
    EXPECT_EQ(subinterp_data_equal(a.get(), a.get()), 1);
    const Data a_again(subinterp_data_ref(a.get()));
    EXPECT_EQ(subinterp_data_equal(a.get(), a_again.get()), 1);
    EXPECT_EQ(subinterp_data_equal(a.get(), b.get()), 0) << "equal contents do not make buffers equal";
    EXPECT_EQ(subinterp_data_equal(a.get(), make_bytes("same").get()), 0);

    ReleaseLog log;
    char h1[4] = {'s', 'a', 'm', 'e'};
    char h2[4] = {'s', 'a', 'm', 'e'};
    const Data x = external(h1, 4, log);
    const Data y = external(h2, 4, log);
    EXPECT_EQ(subinterp_data_equal(x.get(), y.get()), 0);

    // Containers compare their buffers the same way.
    EXPECT_EQ(subinterp_data_equal(make_tuple({a.get()}).get(), make_tuple({a_again.get()}).get()), 1);
    EXPECT_EQ(subinterp_data_equal(make_tuple({a.get()}).get(), make_tuple({b.get()}).get()), 0);
}

TEST(DataKindsBuffer, AreNotHashable) {
    ReleaseLog log;
    subinterp_data* buffer = external_owned(4, log).release();
    const Data value = make_int(1);
    const Data in_tuple = make_tuple({value.get(), buffer});
    for (const subinterp_data* key : {static_cast<const subinterp_data*>(buffer), static_cast<const subinterp_data*>(in_tuple.get())}) {
        const subinterp_data* keys[] = {key};
        const subinterp_data* values[] = {value.get()};
        subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
        Err e;
        EXPECT_EQ(subinterp_data_new_dict(keys, values, 1, &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT)
            << repr(key);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(out, kUntouched);
    }
    // As a value it is fine.
    const Data ok = make_dict({value.get()}, {buffer});
    ASSERT_NE(ok, nullptr);
    EXPECT_EQ(repr(ok.get()), "{1: <buffer 4 bytes, writable>}");

    subinterp_data_free(buffer);
    EXPECT_EQ(log.calls.load(), 0) << "the tuple and the dict still hold it";
}

TEST(DataKindsBuffer, ContainerKeepsTheMemoryAliveAfterTheHostsFree) {
    ReleaseLog log;
    void* memory = nullptr;
    subinterp_data* buffer = external_owned(64, log, &memory).release();
    std::memset(memory, 0x42, 64);
    const Data value = make_str("v");
    subinterp_data* tuple = make_tuple({value.get(), buffer}).release();
    subinterp_data* dict = make_dict({value.get()}, {tuple}).release();
    subinterp_data_free(buffer);
    EXPECT_EQ(log.calls.load(), 0);

    const subinterp_data* item = nullptr;
    ASSERT_EQ(subinterp_data_get_item(tuple, 1, &item, nullptr), SUBINTERP_OK);
    const BufferInfo info = get_buffer(item);
    ASSERT_EQ(info.memory, memory);
    ASSERT_EQ(info.size, 64u);
    EXPECT_EQ(static_cast<const unsigned char*>(info.memory)[63], 0x42);

    subinterp_data_free(tuple);
    EXPECT_EQ(log.calls.load(), 0) << "the dict still holds the tuple";
    subinterp_data_free(dict);
    EXPECT_EQ(log.calls.load(), 1);
}

TEST(DataKindsBuffer, LibraryMemoryOutlivesTheHostsReferenceInAContainer) {
    void* memory = nullptr;
    subinterp_data* buffer = make_buffer(256, &memory).release();
    std::memset(memory, 0x17, 256);
    const Data tuple = make_tuple({buffer});
    subinterp_data_free(buffer);
    const subinterp_data* item = nullptr;
    ASSERT_EQ(subinterp_data_get_item(tuple.get(), 0, &item, nullptr), SUBINTERP_OK);
    const BufferInfo info = get_buffer(item);
    ASSERT_EQ(info.memory, memory);
    // Under ASan a premature free makes this a use-after-free report.
    const auto* bytes = static_cast<const unsigned char*>(info.memory);
    EXPECT_EQ(std::count(bytes, bytes + 256, 0x17), 256);
}

TEST(DataKindsBuffer, ItemReferenceOutlivesItsContainer) {
    ReleaseLog log;
    subinterp_data* buffer = external_owned(8, log).release();
    subinterp_data* list = make_list({buffer, buffer}).release();
    subinterp_data_free(buffer);
    const subinterp_data* item = nullptr;
    ASSERT_EQ(subinterp_data_get_item(list, 0, &item, nullptr), SUBINTERP_OK);
    subinterp_data* kept = subinterp_data_ref(item);
    subinterp_data_free(list);
    EXPECT_EQ(log.calls.load(), 0);
    EXPECT_EQ(get_buffer(kept).size, 8u);
    subinterp_data_free(kept);
    EXPECT_EQ(log.calls.load(), 1);
}

TEST(DataKindsBuffer, ConcurrentRefsAndFreesReleaseExactlyOnceAtTheEnd) {
    constexpr int kThreads = 8;
    constexpr int kIterations = 20000;
    ReleaseLog log;
    void* memory = nullptr;
    subinterp_data* buffer = external_owned(128, log, &memory).release();
    std::memset(memory, 0x33, 128);

    std::atomic<int> ready{0};
    std::atomic<int> early_releases{0};
    std::atomic<int> wrong_reads{0};
    std::vector<std::thread> threads;
    std::vector<std::thread::id> ids(kThreads);
    for (int t = 0; t < kThreads; ++t) {
        subinterp_data* mine = subinterp_data_ref(buffer);
        threads.emplace_back([&, mine, t] {
            ids[static_cast<size_t>(t)] = std::this_thread::get_id();
            ready.fetch_add(1);
            while (ready.load() < kThreads) std::this_thread::yield();
            for (int n = 0; n < kIterations; ++n) {
                subinterp_data* extra = subinterp_data_ref(mine);
                void* seen = nullptr;
                if (subinterp_data_get_buffer(extra, &seen, nullptr, nullptr, nullptr) != SUBINTERP_OK ||
                    seen != memory || static_cast<const unsigned char*>(seen)[n % 128] != 0x33) {
                    wrong_reads.fetch_add(1);
                }
                subinterp_data_free(extra);
                // This thread still holds `mine`: nothing may be released yet.
                if (log.calls.load() != 0) early_releases.fetch_add(1);
            }
            subinterp_data_free(mine);
        });
    }
    // The host's own reference goes first, so a worker drops the last one.
    subinterp_data_free(buffer);
    for (auto& thread : threads) thread.join();

    EXPECT_EQ(early_releases.load(), 0);
    EXPECT_EQ(wrong_reads.load(), 0);
    EXPECT_EQ(log.calls.load(), 1);
    EXPECT_NE(std::find(ids.begin(), ids.end(), log.releasing_thread()), ids.end())
        << "released on a thread that did not drop the last reference";
}

// --- pickled ----------------------------------------------------------------------------

TEST(DataKindsPickled, RoundTripsArbitraryBytes) {
    std::string every_byte;
    for (int c = 0; c < 256; ++c) every_byte += static_cast<char>(c);
    for (const std::string& bytes : {bytes_of("\x80\x05N."), bytes_of("\0"), bytes_of("a\0b\0"), every_byte,
                                     std::string(1 << 20, '\xAB')}) {
        const Data d = make_pickled(bytes);
        ASSERT_NE(d, nullptr);
        EXPECT_EQ(subinterp_data_get_kind(d.get()), SUBINTERP_DATA_PICKLED);
        EXPECT_EQ(get_pickled(d.get()), bytes) << hex(bytes.substr(0, 16));
    }
}

TEST(DataKindsPickled, EmptyFromNullOrZeroLength) {
    for (const void* pointer : {static_cast<const void*>(nullptr), static_cast<const void*>("xyz")}) {
        subinterp_data* d = nullptr;
        Err e;
        ASSERT_OK(subinterp_data_new_pickled(pointer, 0, &d, e.out()), e);
        const Data owner(d);
        EXPECT_EQ(get_pickled(d), "");
        EXPECT_EQ(repr(d), "<pickled 0 bytes>");
    }
}

TEST(DataKindsPickled, CopiesTheBytes) {
    std::string source = bytes_of("\x80\x05K\x01.");
    const Data d = make_pickled(source);
    source.assign(source.size(), '\0');
    EXPECT_EQ(get_pickled(d.get()), bytes_of("\x80\x05K\x01."));
}

TEST(DataKindsPickled, NullArgumentsAreInvalid) {
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    Err e;
    EXPECT_EQ(subinterp_data_new_pickled(nullptr, 3, &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
    EXPECT_EQ(subinterp_data_new_pickled("abc", 3, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);

    const Data d = make_pickled("abc");
    const void* bytes = nullptr;
    size_t len = kUntouchedLen;
    EXPECT_EQ(subinterp_data_get_pickled(d.get(), nullptr, &len, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(len, kUntouchedLen);
    EXPECT_EQ(subinterp_data_get_pickled(d.get(), &bytes, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_data_get_pickled(nullptr, &bytes, &len, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
}

TEST(DataKindsPickled, WrongKindIsTypeError) {
    const Data bytes = make_bytes("abc");
    const Data pickled = make_pickled("abc");
    const void* p = kUntouched;
    size_t len = kUntouchedLen;
    Err e;
    EXPECT_EQ(subinterp_data_get_pickled(bytes.get(), &p, &len, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), "pickled")) << e.message();
    EXPECT_TRUE(names(e.message(), "bytes")) << e.message();
    EXPECT_EQ(p, kUntouched);
    EXPECT_EQ(len, kUntouchedLen);
    e.reset();
    EXPECT_EQ(subinterp_data_get_bytes(pickled.get(), &p, &len, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), "pickled")) << e.message();
    const char* text = nullptr;
    EXPECT_EQ(subinterp_data_get_str(pickled.get(), &text, &len, nullptr), SUBINTERP_ERR_TYPE);
    EXPECT_EQ(p, kUntouched);
}

TEST(DataKindsPickled, EqualityIsByBytes) {
    const Data a = make_pickled(bytes_of("ab\0"));
    EXPECT_EQ(subinterp_data_equal(a.get(), make_pickled(bytes_of("ab\0")).get()), 1);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_pickled("ab").get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_pickled(bytes_of("ab\x01")).get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_bytes(bytes_of("ab\0")).get()), 0);
    EXPECT_EQ(subinterp_data_equal(make_pickled("").get(), make_pickled("").get()), 1);
}

TEST(DataKindsPickled, AreHashableDictKeys) {
    const Data p1 = make_pickled("one");
    const Data p2 = make_pickled("two");
    const Data b1 = make_bytes("one");  // same contents, another kind: another key
    const Data tp = make_tuple({p1.get(), p2.get()});
    const Data v = make_none();
    subinterp_data* dict = nullptr;
    const subinterp_data* keys[] = {p1.get(), p2.get(), b1.get(), tp.get()};
    const subinterp_data* values[] = {v.get(), v.get(), v.get(), v.get()};
    Err e;
    ASSERT_OK(subinterp_data_new_dict(keys, values, 4, &dict, e.out()), e);
    const Data owner(dict);
    EXPECT_EQ(repr(dict), "{<pickled 3 bytes>: None, <pickled 3 bytes>: None, b'one': None, "
                          "(<pickled 3 bytes>, <pickled 3 bytes>): None}");

    const Data p1_again = make_pickled("one");
    const subinterp_data* dup_keys[] = {p1.get(), p1_again.get()};
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(subinterp_data_new_dict(dup_keys, values, 2, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
}

TEST(DataKindsPickled, ReprCountsBytes) {
    EXPECT_EQ(repr(make_pickled(bytes_of("\x80\x05N.")).get()), "<pickled 4 bytes>");
    EXPECT_EQ(repr(make_pickled(bytes_of("\0\0\0")).get()), "<pickled 3 bytes>");
    EXPECT_EQ(repr(make_pickled(std::string(12345, 'x')).get()), "<pickled 12345 bytes>");
}

// --- interpreter handles ------------------------------------------------------------------

TEST(DataKindsInterpreter, AnyIdRoundTripsUnchecked) {
    // No interpreter exists (Python is not even started): ids are not checked.
    for (int64_t id : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{-1}, int64_t{987654321}, INT64_MAX, INT64_MIN}) {
        const Data d = make_interpreter(id);
        ASSERT_NE(d, nullptr) << id;
        EXPECT_EQ(subinterp_data_get_kind(d.get()), SUBINTERP_DATA_INTERPRETER);
        EXPECT_STREQ(subinterp_data_kind_name(subinterp_data_get_kind(d.get())), "interpreter");
        int64_t read = 12345;
        Err e;
        ASSERT_OK(subinterp_data_get_interpreter(d.get(), &read, e.out()), e);
        EXPECT_EQ(read, id);
        EXPECT_EQ(repr(d.get()), "<interpreter " + std::to_string(id) + ">");
    }
}

TEST(DataKindsInterpreter, NullArgumentsAreInvalid) {
    EXPECT_EQ(subinterp_data_new_interpreter(1, nullptr, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    const Data d = make_interpreter(3);
    Err e;
    EXPECT_EQ(subinterp_data_get_interpreter(d.get(), nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    int64_t id = 12345;
    EXPECT_EQ(subinterp_data_get_interpreter(nullptr, &id, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(id, 12345);
}

TEST(DataKindsInterpreter, WrongKindIsTypeError) {
    const Data handle = make_interpreter(5);
    const Data number = make_int(5);
    int64_t value = 12345;
    Err e;
    EXPECT_EQ(subinterp_data_get_interpreter(number.get(), &value, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), "interpreter")) << e.message();
    EXPECT_TRUE(names(e.message(), "int")) << e.message();
    EXPECT_EQ(value, 12345);
    e.reset();
    EXPECT_EQ(subinterp_data_get_int(handle.get(), &value, e.out()), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), "interpreter")) << e.message();
    EXPECT_EQ(value, 12345);
    size_t len = 0;
    EXPECT_EQ(subinterp_data_get_int_bytes(handle.get(), nullptr, 0, &len, nullptr), SUBINTERP_ERR_TYPE);
}

TEST(DataKindsInterpreter, EqualityIsById) {
    const Data a = make_interpreter(7);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_interpreter(7).get()), 1);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_interpreter(8).get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_interpreter(-7).get()), 0);
    EXPECT_EQ(subinterp_data_equal(a.get(), make_int(7).get()), 0);
    EXPECT_EQ(subinterp_data_equal(make_int(7).get(), a.get()), 0);
}

TEST(DataKindsInterpreter, AreHashableDictKeys) {
    const Data i1 = make_interpreter(1);
    const Data i2 = make_interpreter(2);
    const Data n1 = make_int(1);  // same number, another kind: another key
    const Data v = make_str("x");
    const subinterp_data* keys[] = {i1.get(), i2.get(), n1.get()};
    const subinterp_data* values[] = {v.get(), v.get(), v.get()};
    subinterp_data* dict = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_new_dict(keys, values, 3, &dict, e.out()), e);
    const Data owner(dict);
    EXPECT_EQ(repr(dict), "{<interpreter 1>: 'x', <interpreter 2>: 'x', 1: 'x'}");

    const Data i1_again = make_interpreter(1);
    const subinterp_data* dup_keys[] = {i1.get(), i1_again.get()};
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(subinterp_data_new_dict(dup_keys, values, 2, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
}

// --- the nesting limit with the new kinds ---------------------------------------------------

using Maker = Data (*)(ReleaseLog&);

struct LeafCase {
    const char* name;
    Maker make;
    bool reports_release;  // made with a ReleaseLog callback
};

std::ostream& operator<<(std::ostream& os, const LeafCase& c) { return os << c.name; }

class DataKindsNesting : public ::testing::TestWithParam<LeafCase> {};

// The documented limit of subinterp_data_new_tuple and friends.
constexpr int kMaxNesting = 256;

// The leaf has depth 0 like any scalar: kMaxNesting containers over it are
// allowed, one more is refused, and the refusal releases nothing.
TEST_P(DataKindsNesting, MaxLevelsOverTheLeafOneMoreRefused) {
    ReleaseLog log;
    subinterp_data* current = GetParam().make(log).release();
    ASSERT_NE(current, nullptr);
    for (int level = 1; level <= kMaxNesting; ++level) {
        const subinterp_data* items[] = {current};
        subinterp_data* next = nullptr;
        const auto make = level % 2 ? subinterp_data_new_tuple : subinterp_data_new_list;
        ASSERT_EQ(make(items, 1, &next, nullptr), SUBINTERP_OK) << "level " << level;
        subinterp_data_free(current);
        current = next;
    }
    const subinterp_data* items[] = {current};
    for (auto make : {subinterp_data_new_tuple, subinterp_data_new_list}) {
        subinterp_data* too_deep = const_cast<subinterp_data*>(kUntouched);
        Err e;
        EXPECT_EQ(make(items, 1, &too_deep, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(too_deep, kUntouched);
        EXPECT_NE(e.message().find(std::to_string(kMaxNesting)), std::string::npos) << e.message();
    }
    const Data key = make_int(0);
    const subinterp_data* keys[] = {key.get()};
    subinterp_data* dict = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(subinterp_data_new_dict(keys, items, 1, &dict, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(dict, kUntouched);

    EXPECT_EQ(log.calls.load(), 0);
    subinterp_data_free(current);
    EXPECT_EQ(log.calls.load(), GetParam().reports_release ? 1 : 0);
}

INSTANTIATE_TEST_SUITE_P(
    DataKindsLeaves, DataKindsNesting,
    ::testing::Values(LeafCase{"big_int", [](ReleaseLog&) { return int_bytes(kTwoPow100); }, false},
                      LeafCase{"pickled", [](ReleaseLog&) { return make_pickled(bytes_of("\x80\x05N.")); }, false},
                      LeafCase{"interpreter", [](ReleaseLog&) { return make_interpreter(1); }, false},
                      LeafCase{"library_buffer",
                               [](ReleaseLog&) {
                                   void* memory = nullptr;
                                   return make_buffer(16, &memory);
                               },
                               false},
                      LeafCase{"external_buffer", [](ReleaseLog& log) { return external_owned(16, log); }, true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DataKindsNestingDepth, NewKindsAreScalarsInsideContainers) {
    ReleaseLog log;
    // A tuple of all new kinds (level 1) under lists up to one below the
    // limit, as a dict value: the dict is at the limit, a tuple over it is not.
    const Data big = int_bytes(kTwoPow64);
    const Data pickled = make_pickled("p");
    const Data handle = make_interpreter(4);
    const Data buffer = external_owned(4, log);
    subinterp_data* current = make_tuple({big.get(), pickled.get(), handle.get(), buffer.get()}).release();
    for (int level = 2; level < kMaxNesting; ++level) {
        const subinterp_data* items[] = {current};
        subinterp_data* next = nullptr;
        ASSERT_EQ(subinterp_data_new_list(items, 1, &next, nullptr), SUBINTERP_OK) << "level " << level;
        subinterp_data_free(current);
        current = next;
    }
    subinterp_data* dict = nullptr;
    const subinterp_data* keys[] = {big.get()};
    const subinterp_data* values[] = {current};
    Err e;
    EXPECT_OK(subinterp_data_new_dict(keys, values, 1, &dict, e.out()), e);
    const subinterp_data* over[] = {dict};
    subinterp_data* too_deep = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(subinterp_data_new_tuple(over, 1, &too_deep, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(too_deep, kUntouched);
    subinterp_data_free(dict);
    subinterp_data_free(current);
    EXPECT_EQ(log.calls.load(), 0) << "the test still holds the buffer";
}

}  // namespace
