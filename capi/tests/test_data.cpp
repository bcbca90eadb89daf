// Tests of subinterp_data_*: the portable value model through the C ABI.
// Data values own no PyObject, so none of these tests starts Python.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

namespace {

using namespace subinterp_test;

// --- helpers -----------------------------------------------------------------------

double from_bits(uint64_t bits) {
    double value;
    std::memcpy(&value, &bits, sizeof value);
    return value;
}

uint64_t to_bits(double value) {
    uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    return bits;
}

// std::string from a literal, embedded NULs included.
template <std::size_t N>
std::string bytes_of(const char (&text)[N]) {
    return std::string(text, N - 1);
}

std::string hex(const std::string& text) {
    static const char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 0xF];
    }
    return out;
}

// True if `word` occurs in `text` as a word of its own, so that "int" is not
// found inside "interpreter" nor "str" inside "string".
bool names(const std::string& text, const std::string& word) {
    return std::regex_search(text, std::regex("(^|[^A-Za-z_])" + word + "([^A-Za-z_]|$)"));
}

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

// Containers built from temporaries: the arguments are freed as soon as the
// full expression ends, so everything built with these also checks that
// containers hold their own references.
template <class... D>
Data tuple_of(const D&... items) {
    return make_tuple({items.get()...});
}
template <class... D>
Data list_of(const D&... items) {
    return make_list({items.get()...});
}
// Alternating key, value, key, value...
template <class... D>
Data dict_of(const D&... kv) {
    const std::vector<const subinterp_data*> all = {kv.get()...};
    std::vector<const subinterp_data*> keys, values;
    for (std::size_t i = 0; i < all.size(); i += 2) {
        keys.push_back(all[i]);
        values.push_back(all[i + 1]);
    }
    return make_dict(keys, values);
}
Data empty_tuple() { return make_tuple({}); }
Data empty_list() { return make_list({}); }
Data empty_dict() { return make_dict({}, {}); }

std::string get_bytes(const subinterp_data* d) {
    const void* p = nullptr;
    size_t n = 0;
    Err e;
    EXPECT_OK(subinterp_data_get_bytes(d, &p, &n, e.out()), e);
    return n ? std::string(static_cast<const char*>(p), n) : std::string();
}

size_t get_len(const subinterp_data* d) {
    size_t n = 0;
    Err e;
    EXPECT_OK(subinterp_data_get_len(d, &n, e.out()), e);
    return n;
}

const subinterp_data* get_item(const subinterp_data* d, size_t index) {
    const subinterp_data* item = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_get_item(d, index, &item, e.out()), e);
    return item;
}

std::pair<const subinterp_data*, const subinterp_data*> get_entry(const subinterp_data* d, size_t index) {
    const subinterp_data* key = nullptr;
    const subinterp_data* value = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_get_entry(d, index, &key, &value, e.out()), e);
    return {key, value};
}

// A placeholder for out-pointers that a failing call must leave untouched.
const subinterp_data* const kUntouched = reinterpret_cast<const subinterp_data*>(uintptr_t{0x5EB7});

// --- none, bool, int ---------------------------------------------------------------------

TEST(DataNone, HasKindNone) {
    Err e;
    subinterp_data* d = nullptr;
    ASSERT_OK(subinterp_data_new_none(&d, e.out()), e);
    const Data owner(d);
    EXPECT_EQ(subinterp_data_get_kind(d), SUBINTERP_DATA_NONE);
    EXPECT_EQ(e.get(), nullptr);
}

TEST(DataBool, AnyNonZeroIsTrueAndReadsBackAsOne) {
    for (int value : {0, 1, 2, -1, INT_MAX, INT_MIN}) {
        Err e;
        subinterp_data* d = nullptr;
        ASSERT_OK(subinterp_data_new_bool(value, &d, e.out()), e);
        const Data owner(d);
        EXPECT_EQ(subinterp_data_get_kind(d), SUBINTERP_DATA_BOOL);
        int read = 12345;
        ASSERT_OK(subinterp_data_get_bool(d, &read, e.out()), e);
        EXPECT_EQ(read, value != 0 ? 1 : 0) << "new_bool(" << value << ")";
    }
}

TEST(DataInt, RoundTripsTheWholeRange) {
    for (int64_t value : {int64_t{0}, int64_t{1}, int64_t{-1}, std::numeric_limits<int64_t>::min(),
                          std::numeric_limits<int64_t>::min() + 1, std::numeric_limits<int64_t>::max(),
                          (int64_t{1} << 53) + 1, -(int64_t{1} << 53) - 1}) {
        Err e;
        subinterp_data* d = nullptr;
        ASSERT_OK(subinterp_data_new_int(value, &d, e.out()), e);
        const Data owner(d);
        EXPECT_EQ(subinterp_data_get_kind(d), SUBINTERP_DATA_INT);
        int64_t read = 12345;
        ASSERT_OK(subinterp_data_get_int(d, &read, e.out()), e);
        EXPECT_EQ(read, value);
    }
}

// --- float -----------------------------------------------------------------------------------

TEST(DataFloat, KeepsEveryBitPattern) {
    for (uint64_t bits : {
             0x0000000000000000ull,  // 0.0
             0x8000000000000000ull,  // -0.0
             0x3FF0000000000000ull,  // 1.0
             0x4004000000000000ull,  // 2.5
             0x0000000000000001ull,  // smallest subnormal
             0x800FFFFFFFFFFFFFull,  // largest negative subnormal
             0x7FEFFFFFFFFFFFFFull,  // DBL_MAX
             0xFFEFFFFFFFFFFFFFull,  // -DBL_MAX
             0x7FF0000000000000ull,  // inf
             0xFFF0000000000000ull,  // -inf
             0x7FF8000000000000ull,  // quiet NaN
             0x7FF8000000000123ull,  // quiet NaN with a payload
             0xFFF8000000000000ull,  // negative quiet NaN
             0x7FF0000000000001ull,  // signalling NaN: must not be quieted
         }) {
        Err e;
        subinterp_data* d = nullptr;
        ASSERT_OK(subinterp_data_new_float(from_bits(bits), &d, e.out()), e);
        const Data owner(d);
        EXPECT_EQ(subinterp_data_get_kind(d), SUBINTERP_DATA_FLOAT);
        double read = 0;
        ASSERT_OK(subinterp_data_get_float(d, &read, e.out()), e);
        EXPECT_EQ(to_bits(read), bits) << std::hex << "wrote 0x" << bits << ", read 0x" << to_bits(read);
    }
}

// --- str ------------------------------------------------------------------------------------

TEST(DataStr, RoundTripsBytesExactlyAndNulTerminates) {
    for (const std::string& text : {bytes_of(""), bytes_of("plain ascii"), bytes_of("a\0b"), bytes_of("\0\0"),
                                    bytes_of("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC"),
                                    std::string(100000, 'x')}) {
        Err e;
        subinterp_data* d = nullptr;
        ASSERT_OK(subinterp_data_new_str(text.data(), text.size(), &d, e.out()), e);
        const Data owner(d);
        EXPECT_EQ(subinterp_data_get_kind(d), SUBINTERP_DATA_STR);
        const char* utf8 = nullptr;
        size_t len = 12345;
        ASSERT_OK(subinterp_data_get_str(d, &utf8, &len, e.out()), e);
        ASSERT_NE(utf8, nullptr);
        EXPECT_EQ(std::string(utf8, len), text) << hex(text.substr(0, 40));
        EXPECT_EQ(utf8[len], '\0');
    }
}

TEST(DataStr, EmptyFromNullPointer) {
    Err e;
    subinterp_data* d = nullptr;
    ASSERT_OK(subinterp_data_new_str(nullptr, 0, &d, e.out()), e);
    const Data owner(d);
    EXPECT_EQ(as_str(d), "");
    const char* utf8 = nullptr;
    size_t len = 1;
    ASSERT_OK(subinterp_data_get_str(d, &utf8, &len, e.out()), e);
    ASSERT_NE(utf8, nullptr);
    EXPECT_EQ(len, 0u);
    EXPECT_EQ(utf8[0], '\0');
}

TEST(DataStr, CopiesTheText) {
    std::string text = "original";
    const Data d = make_str(text);
    text.assign(text.size(), '!');
    EXPECT_EQ(as_str(d.get()), "original");
}

TEST(DataStr, OnlyTheGivenLengthIsRead) {
    // No NUL terminator is needed (or looked for) when a length is given.
    const char text[] = {'a', 'b', '\xFF'};
    Err e;
    subinterp_data* d = nullptr;
    ASSERT_OK(subinterp_data_new_str(text, 2, &d, e.out()), e);
    const Data owner(d);
    EXPECT_EQ(as_str(d), "ab");
}

// --- str: UTF-8 validation ----------------------------------------------------------------------

struct Utf8Case {
    const char* name;
    std::string text;
};

std::ostream& operator<<(std::ostream& os, const Utf8Case& c) { return os << c.name << " " << hex(c.text); }

class DataStrInvalidUtf8 : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(DataStrInvalidUtf8, IsRejectedAsInvalidArgument) {
    const std::string& text = GetParam().text;
    Err e;
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(subinterp_data_new_str(text.data(), text.size(), &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(lower(e.message()).find("utf-8"), std::string::npos) << e.message();

    // The same with prefix text before the bad bytes, and without an err.
    const std::string prefixed = "valid \xC3\xA9 prefix" + text;
    EXPECT_EQ(subinterp_data_new_str(prefixed.data(), prefixed.size(), &out, nullptr),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
}

INSTANTIATE_TEST_SUITE_P(
    DataIllFormed, DataStrInvalidUtf8,
    ::testing::Values(Utf8Case{"overlong_nul", bytes_of("\xC0\x80")},
                      Utf8Case{"overlong_3byte", bytes_of("\xE0\x80\xAF")},
                      Utf8Case{"overlong_4byte", bytes_of("\xF0\x80\x80\xAF")},
                      Utf8Case{"surrogate_d800", bytes_of("\xED\xA0\x80")},
                      Utf8Case{"surrogate_dfff", bytes_of("\xED\xBF\xBF")},
                      Utf8Case{"above_10ffff", bytes_of("\xF4\x90\x80\x80")},
                      Utf8Case{"truncated_3byte", bytes_of("\xE2\x82")},
                      Utf8Case{"truncated_4byte", bytes_of("\xF0\x9F\x98")},
                      Utf8Case{"lone_continuation", bytes_of("\x80")},
                      Utf8Case{"byte_ff", bytes_of("\xFF")},
                      Utf8Case{"byte_fe", bytes_of("\xFE")},
                      Utf8Case{"lead_f5", bytes_of("\xF5\x80\x80\x80")},
                      Utf8Case{"after_embedded_nul", bytes_of("ok\0\xFF")}),
    [](const auto& info) { return std::string(info.param.name); });

class DataStrValidUtf8 : public ::testing::TestWithParam<Utf8Case> {};

TEST_P(DataStrValidUtf8, IsAcceptedAndRoundTrips) {
    const std::string& text = GetParam().text;
    Err e;
    subinterp_data* d = nullptr;
    ASSERT_OK(subinterp_data_new_str(text.data(), text.size(), &d, e.out()), e);
    const Data owner(d);
    EXPECT_EQ(as_str(d), text);
}

INSTANTIATE_TEST_SUITE_P(DataWellFormedEdges, DataStrValidUtf8,
                         ::testing::Values(Utf8Case{"U_0000", bytes_of("\0")},
                                           Utf8Case{"U_007F", bytes_of("\x7F")},
                                           Utf8Case{"U_0080", bytes_of("\xC2\x80")},
                                           Utf8Case{"U_07FF", bytes_of("\xDF\xBF")},
                                           Utf8Case{"U_0800", bytes_of("\xE0\xA0\x80")},
                                           Utf8Case{"U_D7FF", bytes_of("\xED\x9F\xBF")},
                                           Utf8Case{"U_E000", bytes_of("\xEE\x80\x80")},
                                           Utf8Case{"U_FFFF", bytes_of("\xEF\xBF\xBF")},
                                           Utf8Case{"U_10000", bytes_of("\xF0\x90\x80\x80")},
                                           Utf8Case{"U_10FFFF", bytes_of("\xF4\x8F\xBF\xBF")}),
                         [](const auto& info) { return std::string(info.param.name); });

// --- bytes ----------------------------------------------------------------------------------

TEST(DataBytes, RoundTripsEveryByteValue) {
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    const Data d = make_bytes(all);
    EXPECT_EQ(subinterp_data_get_kind(d.get()), SUBINTERP_DATA_BYTES);
    EXPECT_EQ(get_bytes(d.get()), all);
}

TEST(DataBytes, EmptyFromNullPointerOrZeroLength) {
    const char something[] = "xyz";
    for (const void* pointer : {static_cast<const void*>(nullptr), static_cast<const void*>(something)}) {
        Err e;
        subinterp_data* d = nullptr;
        ASSERT_OK(subinterp_data_new_bytes(pointer, 0, &d, e.out()), e);
        const Data owner(d);
        EXPECT_EQ(subinterp_data_get_kind(d), SUBINTERP_DATA_BYTES);
        const void* contents = nullptr;
        size_t len = 12345;
        ASSERT_OK(subinterp_data_get_bytes(d, &contents, &len, e.out()), e);
        EXPECT_EQ(len, 0u);
    }
}

TEST(DataBytes, CopiesTheBuffer) {
    std::string buffer = bytes_of("\x01\x02\0\x03");
    const Data d = make_bytes(buffer);
    buffer.assign(buffer.size(), '\xEE');
    EXPECT_EQ(get_bytes(d.get()), bytes_of("\x01\x02\0\x03"));
}

TEST(DataBytes, InvalidUtf8IsFine) {
    const Data d = make_bytes(bytes_of("\xC0\x80\xED\xA0\x80\xFF"));
    EXPECT_EQ(get_bytes(d.get()), bytes_of("\xC0\x80\xED\xA0\x80\xFF"));
}

// --- kinds ----------------------------------------------------------------------------------

struct KindCase {
    const char* name;
    Data (*make)();
    subinterp_data_kind kind;
};

std::ostream& operator<<(std::ostream& os, const KindCase& c) { return os << c.name; }

class DataKinds : public ::testing::TestWithParam<KindCase> {};

TEST_P(DataKinds, GetKindReportsTheConstructorsKind) {
    const Data d = GetParam().make();
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(subinterp_data_get_kind(d.get()), GetParam().kind);
}

INSTANTIATE_TEST_SUITE_P(
    DataEveryConstructor, DataKinds,
    ::testing::Values(KindCase{"none", [] { return make_none(); }, SUBINTERP_DATA_NONE},
                      KindCase{"bool", [] { return make_bool(false); }, SUBINTERP_DATA_BOOL},
                      KindCase{"int", [] { return make_int(0); }, SUBINTERP_DATA_INT},
                      KindCase{"float", [] { return make_float(0.0); }, SUBINTERP_DATA_FLOAT},
                      KindCase{"str", [] { return make_str(""); }, SUBINTERP_DATA_STR},
                      KindCase{"bytes", [] { return make_bytes(""); }, SUBINTERP_DATA_BYTES},
                      KindCase{"tuple", [] { return empty_tuple(); }, SUBINTERP_DATA_TUPLE},
                      KindCase{"list", [] { return empty_list(); }, SUBINTERP_DATA_LIST},
                      KindCase{"dict", [] { return empty_dict(); }, SUBINTERP_DATA_DICT}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DataKindQuery, NullIsInvalid) { EXPECT_EQ(subinterp_data_get_kind(nullptr), SUBINTERP_DATA_INVALID); }

TEST(DataKindQuery, KindValuesAreTheAbi) {
    // Bindings hard-code these numbers.
    EXPECT_EQ(SUBINTERP_DATA_INVALID, -1);
    EXPECT_EQ(SUBINTERP_DATA_NONE, 0);
    EXPECT_EQ(SUBINTERP_DATA_DICT, 8);
    EXPECT_EQ(SUBINTERP_DATA_PICKLED, 12);
}

TEST(DataKindName, NamesEveryKind) {
    const std::pair<subinterp_data_kind, const char*> expected[] = {
        {SUBINTERP_DATA_NONE, "none"},
        {SUBINTERP_DATA_BOOL, "bool"},
        {SUBINTERP_DATA_INT, "int"},
        {SUBINTERP_DATA_FLOAT, "float"},
        {SUBINTERP_DATA_STR, "str"},
        {SUBINTERP_DATA_BYTES, "bytes"},
        {SUBINTERP_DATA_TUPLE, "tuple"},
        {SUBINTERP_DATA_LIST, "list"},
        {SUBINTERP_DATA_DICT, "dict"},
        {SUBINTERP_DATA_BUFFER, "buffer"},
        {SUBINTERP_DATA_QUEUE, "queue"},
        {SUBINTERP_DATA_INTERPRETER, "interpreter"},
        {SUBINTERP_DATA_PICKLED, "pickled"},
    };
    for (const auto& [kind, name] : expected) {
        const char* got = subinterp_data_kind_name(kind);
        ASSERT_NE(got, nullptr) << kind;
        EXPECT_STREQ(got, name);
        EXPECT_EQ(subinterp_data_kind_name(kind), got) << "not a static string";
    }
}

TEST(DataKindName, InvalidAndOutOfRangeKindsAreNamedInvalid) {
    for (int kind : {static_cast<int>(SUBINTERP_DATA_INVALID), -2, 13, 99, 1000, INT_MIN, INT_MAX}) {
        const char* got = subinterp_data_kind_name(static_cast<subinterp_data_kind>(kind));
        ASSERT_NE(got, nullptr) << kind;
        EXPECT_STREQ(got, "invalid") << kind;
    }
}

// --- typed accessors on the wrong kind ----------------------------------------------------------

// Calls one accessor with placeholder out-values; reports whether they were
// left untouched (the ABI writes out-parameters only on success).
struct AccessResult {
    subinterp_status status;
    bool untouched;
};
using Accessor = AccessResult (*)(const subinterp_data*, subinterp_error**);

AccessResult access_bool(const subinterp_data* d, subinterp_error** e) {
    int v = 12345;
    const auto s = subinterp_data_get_bool(d, &v, e);
    return {s, v == 12345};
}
AccessResult access_int(const subinterp_data* d, subinterp_error** e) {
    int64_t v = 12345;
    const auto s = subinterp_data_get_int(d, &v, e);
    return {s, v == 12345};
}
AccessResult access_float(const subinterp_data* d, subinterp_error** e) {
    double v = 12345.0;
    const auto s = subinterp_data_get_float(d, &v, e);
    return {s, v == 12345.0};
}
AccessResult access_str(const subinterp_data* d, subinterp_error** e) {
    static const char sentinel[] = "sentinel";
    const char* p = sentinel;
    size_t n = 12345;
    const auto s = subinterp_data_get_str(d, &p, &n, e);
    return {s, p == sentinel && n == 12345};
}
AccessResult access_bytes(const subinterp_data* d, subinterp_error** e) {
    static const char sentinel[] = "sentinel";
    const void* p = sentinel;
    size_t n = 12345;
    const auto s = subinterp_data_get_bytes(d, &p, &n, e);
    return {s, p == sentinel && n == 12345};
}
AccessResult access_len(const subinterp_data* d, subinterp_error** e) {
    size_t n = 12345;
    const auto s = subinterp_data_get_len(d, &n, e);
    return {s, n == 12345};
}
AccessResult access_item(const subinterp_data* d, subinterp_error** e) {
    const subinterp_data* item = kUntouched;
    const auto s = subinterp_data_get_item(d, 0, &item, e);
    return {s, item == kUntouched};
}
AccessResult access_entry(const subinterp_data* d, subinterp_error** e) {
    const subinterp_data* key = kUntouched;
    const subinterp_data* value = kUntouched;
    const auto s = subinterp_data_get_entry(d, 0, &key, &value, e);
    return {s, key == kUntouched && value == kUntouched};
}

struct MismatchCase {
    const char* name;
    Accessor access;
    Data (*make)();
    const char* wanted;  // a kind name the message must contain
    const char* got;     // the actual kind's name
};

std::ostream& operator<<(std::ostream& os, const MismatchCase& c) { return os << c.name; }

class DataWrongKind : public ::testing::TestWithParam<MismatchCase> {};

TEST_P(DataWrongKind, GivesTypeErrorNamingBothKinds) {
    const MismatchCase& c = GetParam();
    const Data d = c.make();
    ASSERT_NE(d, nullptr);
    Err e;
    const AccessResult result = c.access(d.get(), e.out());
    EXPECT_EQ(result.status, SUBINTERP_ERR_TYPE) << subinterp_status_name(result.status);
    EXPECT_TRUE(result.untouched) << "out-parameter written on failure";
    EXPECT_EQ(e.code(), SUBINTERP_ERR_TYPE);
    EXPECT_TRUE(names(e.message(), c.wanted)) << "'" << c.wanted << "' not in: " << e.message();
    EXPECT_TRUE(names(e.message(), c.got)) << "'" << c.got << "' not in: " << e.message();
    EXPECT_EQ(c.access(d.get(), nullptr).status, SUBINTERP_ERR_TYPE) << "differs without err";
}

// The pairs a caller is most likely to confuse: bool/int/float never convert
// into each other, str and bytes never do.
INSTANTIATE_TEST_SUITE_P(
    DataAccessors, DataWrongKind,
    ::testing::Values(
        MismatchCase{"bool_of_int", access_bool, [] { return make_int(1); }, "bool", "int"},
        MismatchCase{"bool_of_none", access_bool, [] { return make_none(); }, "bool", "none"},
        MismatchCase{"bool_of_str", access_bool, [] { return make_str("True"); }, "bool", "str"},
        MismatchCase{"int_of_bool", access_int, [] { return make_bool(true); }, "int", "bool"},
        MismatchCase{"int_of_float", access_int, [] { return make_float(1.0); }, "int", "float"},
        MismatchCase{"int_of_str", access_int, [] { return make_str("1"); }, "int", "str"},
        MismatchCase{"float_of_int", access_float, [] { return make_int(1); }, "float", "int"},
        MismatchCase{"float_of_bool", access_float, [] { return make_bool(false); }, "float", "bool"},
        MismatchCase{"str_of_bytes", access_str, [] { return make_bytes("x"); }, "str", "bytes"},
        MismatchCase{"str_of_none", access_str, [] { return make_none(); }, "str", "none"},
        MismatchCase{"bytes_of_str", access_bytes, [] { return make_str("x"); }, "bytes", "str"},
        MismatchCase{"bytes_of_list", access_bytes, [] { return empty_list(); }, "bytes", "list"},
        MismatchCase{"len_of_str", access_len, [] { return make_str("abc"); }, "dict", "str"},
        MismatchCase{"len_of_bytes", access_len, [] { return make_bytes("abc"); }, "tuple", "bytes"},
        MismatchCase{"len_of_int", access_len, [] { return make_int(3); }, "list", "int"},
        MismatchCase{"item_of_dict", access_item, [] { return dict_of(make_int(0), make_int(1)); }, "list", "dict"},
        MismatchCase{"item_of_str", access_item, [] { return make_str("abc"); }, "tuple", "str"},
        MismatchCase{"entry_of_list", access_entry, [] { return list_of(make_int(0)); }, "dict", "list"},
        MismatchCase{"entry_of_tuple", access_entry, [] { return tuple_of(make_int(0)); }, "dict", "tuple"}),
    [](const auto& info) { return std::string(info.param.name); });

// --- NULL arguments ----------------------------------------------------------------------------

struct NullCase {
    const char* name;
    subinterp_status (*call)(subinterp_error** err);
};

std::ostream& operator<<(std::ostream& os, const NullCase& c) { return os << c.name; }

class DataNullArgument : public ::testing::TestWithParam<NullCase> {};

TEST_P(DataNullArgument, GivesInvalidArgumentWithOrWithoutErr) {
    Err e;
    EXPECT_EQ(GetParam().call(e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_FALSE(e.message().empty());
    EXPECT_EQ(GetParam().call(nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
}

// An item array whose one element is NULL.
const subinterp_data* null_item[] = {nullptr};
// A valid value for the arguments a case does not make NULL.
Data a_value() { return make_int(1); }

INSTANTIATE_TEST_SUITE_P(
    DataConstructors, DataNullArgument,
    ::testing::Values(
        NullCase{"new_none_out", [](subinterp_error** e) { return subinterp_data_new_none(nullptr, e); }},
        NullCase{"new_bool_out", [](subinterp_error** e) { return subinterp_data_new_bool(1, nullptr, e); }},
        NullCase{"new_int_out", [](subinterp_error** e) { return subinterp_data_new_int(1, nullptr, e); }},
        NullCase{"new_float_out", [](subinterp_error** e) { return subinterp_data_new_float(1.0, nullptr, e); }},
        NullCase{"new_str_out", [](subinterp_error** e) { return subinterp_data_new_str("a", 1, nullptr, e); }},
        NullCase{"new_str_text_with_len",
                 [](subinterp_error** e) {
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_str(nullptr, 1, &out, e);
                 }},
        NullCase{"new_bytes_out", [](subinterp_error** e) { return subinterp_data_new_bytes("a", 1, nullptr, e); }},
        NullCase{"new_bytes_buffer_with_len",
                 [](subinterp_error** e) {
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_bytes(nullptr, 4, &out, e);
                 }},
        NullCase{"new_tuple_out",
                 [](subinterp_error** e) { return subinterp_data_new_tuple(nullptr, 0, nullptr, e); }},
        NullCase{"new_tuple_items_with_len",
                 [](subinterp_error** e) {
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_tuple(nullptr, 2, &out, e);
                 }},
        NullCase{"new_tuple_null_item",
                 [](subinterp_error** e) {
                     const Data v = a_value();
                     const subinterp_data* items[] = {v.get(), nullptr, v.get()};
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_tuple(items, 3, &out, e);
                 }},
        NullCase{"new_list_out", [](subinterp_error** e) { return subinterp_data_new_list(nullptr, 0, nullptr, e); }},
        NullCase{"new_list_items_with_len",
                 [](subinterp_error** e) {
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_list(nullptr, 1, &out, e);
                 }},
        NullCase{"new_list_null_item",
                 [](subinterp_error** e) {
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_list(null_item, 1, &out, e);
                 }},
        NullCase{"new_dict_out",
                 [](subinterp_error** e) { return subinterp_data_new_dict(nullptr, nullptr, 0, nullptr, e); }},
        NullCase{"new_dict_keys_with_len",
                 [](subinterp_error** e) {
                     const Data v = a_value();
                     const subinterp_data* values[] = {v.get()};
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_dict(nullptr, values, 1, &out, e);
                 }},
        NullCase{"new_dict_values_with_len",
                 [](subinterp_error** e) {
                     const Data k = a_value();
                     const subinterp_data* keys[] = {k.get()};
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_dict(keys, nullptr, 1, &out, e);
                 }},
        NullCase{"new_dict_null_key",
                 [](subinterp_error** e) {
                     const Data v = a_value();
                     const subinterp_data* values[] = {v.get()};
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_dict(null_item, values, 1, &out, e);
                 }},
        NullCase{"new_dict_null_value",
                 [](subinterp_error** e) {
                     const Data k = a_value();
                     const subinterp_data* keys[] = {k.get()};
                     subinterp_data* out = nullptr;
                     return subinterp_data_new_dict(keys, null_item, 1, &out, e);
                 }}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    DataAccessors, DataNullArgument,
    ::testing::Values(
        NullCase{"get_bool_data",
                 [](subinterp_error** e) {
                     int v;
                     return subinterp_data_get_bool(nullptr, &v, e);
                 }},
        NullCase{"get_bool_value",
                 [](subinterp_error** e) { return subinterp_data_get_bool(make_bool(true).get(), nullptr, e); }},
        NullCase{"get_int_data",
                 [](subinterp_error** e) {
                     int64_t v;
                     return subinterp_data_get_int(nullptr, &v, e);
                 }},
        NullCase{"get_int_value",
                 [](subinterp_error** e) { return subinterp_data_get_int(a_value().get(), nullptr, e); }},
        NullCase{"get_float_data",
                 [](subinterp_error** e) {
                     double v;
                     return subinterp_data_get_float(nullptr, &v, e);
                 }},
        NullCase{"get_float_value",
                 [](subinterp_error** e) { return subinterp_data_get_float(make_float(1).get(), nullptr, e); }},
        NullCase{"get_str_data",
                 [](subinterp_error** e) {
                     const char* s;
                     size_t n;
                     return subinterp_data_get_str(nullptr, &s, &n, e);
                 }},
        NullCase{"get_str_utf8",
                 [](subinterp_error** e) {
                     size_t n;
                     return subinterp_data_get_str(make_str("x").get(), nullptr, &n, e);
                 }},
        NullCase{"get_bytes_data",
                 [](subinterp_error** e) {
                     const void* p;
                     size_t n;
                     return subinterp_data_get_bytes(nullptr, &p, &n, e);
                 }},
        NullCase{"get_bytes_bytes",
                 [](subinterp_error** e) {
                     size_t n;
                     return subinterp_data_get_bytes(make_bytes("x").get(), nullptr, &n, e);
                 }},
        NullCase{"get_bytes_len",
                 [](subinterp_error** e) {
                     const void* p;
                     return subinterp_data_get_bytes(make_bytes("x").get(), &p, nullptr, e);
                 }},
        NullCase{"get_len_data",
                 [](subinterp_error** e) {
                     size_t n;
                     return subinterp_data_get_len(nullptr, &n, e);
                 }},
        NullCase{"get_len_len",
                 [](subinterp_error** e) { return subinterp_data_get_len(empty_list().get(), nullptr, e); }},
        NullCase{"get_item_data",
                 [](subinterp_error** e) {
                     const subinterp_data* item;
                     return subinterp_data_get_item(nullptr, 0, &item, e);
                 }},
        NullCase{"get_item_item",
                 [](subinterp_error** e) {
                     return subinterp_data_get_item(tuple_of(a_value()).get(), 0, nullptr, e);
                 }},
        NullCase{"get_entry_data",
                 [](subinterp_error** e) {
                     const subinterp_data *k, *v;
                     return subinterp_data_get_entry(nullptr, 0, &k, &v, e);
                 }},
        NullCase{"repr_data",
                 [](subinterp_error** e) {
                     char* text;
                     return subinterp_data_repr(nullptr, &text, e);
                 }},
        NullCase{"repr_out", [](subinterp_error** e) { return subinterp_data_repr(a_value().get(), nullptr, e); }}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DataErrors, SuccessLeavesErrUntouched) {
    Err e;
    int64_t v = 0;
    ASSERT_EQ(subinterp_data_get_int(nullptr, &v, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    const subinterp_error* earlier = e.get();
    ASSERT_NE(earlier, nullptr);
    const Data d = make_int(5);
    EXPECT_EQ(subinterp_data_get_int(d.get(), &v, e.out()), SUBINTERP_OK);
    subinterp_data* out = nullptr;
    EXPECT_EQ(subinterp_data_new_str("x", 1, &out, e.out()), SUBINTERP_OK);
    subinterp_data_free(out);
    EXPECT_EQ(e.get(), earlier);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
}

// --- tuples and lists ---------------------------------------------------------------------------

// Tuples and lists share every rule but their kind.
struct SequenceKind {
    const char* name;
    subinterp_status (*make)(const subinterp_data* const*, size_t, subinterp_data**, subinterp_error**);
    subinterp_data_kind kind;
};

std::ostream& operator<<(std::ostream& os, const SequenceKind& c) { return os << c.name; }

class DataSequence : public ::testing::TestWithParam<SequenceKind> {
protected:
    Data build(const std::vector<const subinterp_data*>& items) {
        Err e;
        subinterp_data* out = nullptr;
        EXPECT_OK(GetParam().make(items.data(), items.size(), &out, e.out()), e);
        return Data(out);
    }
};

TEST_P(DataSequence, TakesItsOwnReferencesToItems) {
    subinterp_data* one = nullptr;
    subinterp_data* text = nullptr;
    ASSERT_EQ(subinterp_data_new_int(1, &one, nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_new_str("two", 3, &text, nullptr), SUBINTERP_OK);
    const Data seq = build({one, text, one});
    subinterp_data_free(one);
    subinterp_data_free(text);

    ASSERT_NE(seq, nullptr);
    EXPECT_EQ(subinterp_data_get_kind(seq.get()), GetParam().kind);
    ASSERT_EQ(get_len(seq.get()), 3u);
    EXPECT_EQ(as_int(get_item(seq.get(), 0)), 1);
    EXPECT_EQ(as_str(get_item(seq.get(), 1)), "two");
    EXPECT_EQ(as_int(get_item(seq.get(), 2)), 1);
}

TEST_P(DataSequence, EmptyFromNullItems) {
    Err e;
    subinterp_data* out = nullptr;
    ASSERT_OK(GetParam().make(nullptr, 0, &out, e.out()), e);
    const Data seq(out);
    EXPECT_EQ(subinterp_data_get_kind(out), GetParam().kind);
    EXPECT_EQ(get_len(out), 0u);
}

TEST_P(DataSequence, IndexPastTheEndIsIndexError) {
    const Data seq = build({make_int(10).get(), make_int(11).get()});
    for (size_t index : {size_t{2}, size_t{3}, SIZE_MAX}) {
        Err e;
        const subinterp_data* item = kUntouched;
        EXPECT_EQ(subinterp_data_get_item(seq.get(), index, &item, e.out()), SUBINTERP_ERR_INDEX) << index;
        EXPECT_EQ(item, kUntouched);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_INDEX);
        EXPECT_TRUE(names(e.message(), std::to_string(index))) << e.message();
        EXPECT_EQ(subinterp_data_get_item(seq.get(), index, &item, nullptr), SUBINTERP_ERR_INDEX);
    }
    EXPECT_EQ(as_int(get_item(seq.get(), 1)), 11);
}

TEST_P(DataSequence, EmptyHasNoItemZero) {
    const Data seq = build({});
    const subinterp_data* item = kUntouched;
    EXPECT_EQ(subinterp_data_get_item(seq.get(), 0, &item, nullptr), SUBINTERP_ERR_INDEX);
    EXPECT_EQ(item, kUntouched);
}

TEST_P(DataSequence, NullItemAnywhereIsRejectedWithoutOutput) {
    const Data v = make_int(1);
    for (size_t hole = 0; hole < 3; ++hole) {
        std::vector<const subinterp_data*> items = {v.get(), v.get(), v.get()};
        items[hole] = nullptr;
        Err e;
        subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
        EXPECT_EQ(GetParam().make(items.data(), items.size(), &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
        EXPECT_EQ(out, kUntouched);
    }
    EXPECT_EQ(as_int(v.get()), 1);
}

TEST_P(DataSequence, BorrowedItemOutlivesContainerWithARef) {
    Data seq = build({make_str("kept").get()});
    subinterp_data* kept = subinterp_data_ref(get_item(seq.get(), 0));
    seq.reset();
    const Data owner(kept);
    EXPECT_EQ(as_str(kept), "kept");
}

TEST_P(DataSequence, HoldsUnhashableAndNestedItems) {
    const Data seq = build({empty_dict().get(), list_of(make_int(1), empty_list()).get(), tuple_of(make_none()).get()});
    ASSERT_EQ(get_len(seq.get()), 3u);
    EXPECT_EQ(subinterp_data_get_kind(get_item(seq.get(), 0)), SUBINTERP_DATA_DICT);
    const subinterp_data* inner = get_item(seq.get(), 1);
    ASSERT_EQ(get_len(inner), 2u);
    EXPECT_EQ(as_int(get_item(inner, 0)), 1);
    EXPECT_EQ(get_len(get_item(inner, 1)), 0u);
    EXPECT_EQ(subinterp_data_get_kind(get_item(get_item(seq.get(), 2), 0)), SUBINTERP_DATA_NONE);
}

INSTANTIATE_TEST_SUITE_P(DataTupleAndList, DataSequence,
                         ::testing::Values(SequenceKind{"tuple", subinterp_data_new_tuple, SUBINTERP_DATA_TUPLE},
                                           SequenceKind{"list", subinterp_data_new_list, SUBINTERP_DATA_LIST}),
                         [](const auto& info) { return std::string(info.param.name); });

// --- dicts -------------------------------------------------------------------------------------

TEST(DataDict, TakesItsOwnReferencesAndKeepsInsertionOrder) {
    // Keys deliberately out of sorted and hash order.
    std::vector<subinterp_data*> keys(6), values(6);
    ASSERT_EQ(subinterp_data_new_str("zeta", 4, &keys[0], nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_new_int(3, &keys[1], nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_new_str("alpha", 5, &keys[2], nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_new_none(&keys[3], nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_new_bytes("k", 1, &keys[4], nullptr), SUBINTERP_OK);
    keys[5] = tuple_of(make_int(1), make_int(2)).release();
    for (size_t i = 0; i < values.size(); ++i) {
        ASSERT_EQ(subinterp_data_new_int(static_cast<int64_t>(100 + i), &values[i], nullptr), SUBINTERP_OK);
    }
    const Data d = make_dict({keys.begin(), keys.end()}, {values.begin(), values.end()});
    for (auto* p : keys) subinterp_data_free(p);
    for (auto* p : values) subinterp_data_free(p);

    ASSERT_NE(d, nullptr);
    EXPECT_EQ(subinterp_data_get_kind(d.get()), SUBINTERP_DATA_DICT);
    ASSERT_EQ(get_len(d.get()), 6u);
    EXPECT_EQ(repr(d.get()), "{'zeta': 100, 3: 101, 'alpha': 102, None: 103, b'k': 104, (1, 2): 105}");
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(as_int(get_entry(d.get(), i).second), static_cast<int64_t>(100 + i));
    EXPECT_EQ(as_str(get_entry(d.get(), 0).first), "zeta");
    EXPECT_EQ(as_int(get_entry(d.get(), 1).first), 3);
}

TEST(DataDict, EitherEntryOutPointerMayBeNull) {
    const Data d = dict_of(make_str("k"), make_int(7));
    Err e;
    const subinterp_data* key = nullptr;
    const subinterp_data* value = nullptr;
    ASSERT_OK(subinterp_data_get_entry(d.get(), 0, &key, nullptr, e.out()), e);
    EXPECT_EQ(as_str(key), "k");
    ASSERT_OK(subinterp_data_get_entry(d.get(), 0, nullptr, &value, e.out()), e);
    EXPECT_EQ(as_int(value), 7);
    // With neither, the call still checks the index.
    EXPECT_OK(subinterp_data_get_entry(d.get(), 0, nullptr, nullptr, e.out()), e);
    EXPECT_EQ(subinterp_data_get_entry(d.get(), 1, nullptr, nullptr, nullptr), SUBINTERP_ERR_INDEX);
}

TEST(DataDict, IndexPastTheEndIsIndexError) {
    const Data d = dict_of(make_int(1), make_int(2), make_int(3), make_int(4));
    for (size_t index : {size_t{2}, size_t{100}, SIZE_MAX}) {
        Err e;
        const subinterp_data* key = kUntouched;
        const subinterp_data* value = kUntouched;
        EXPECT_EQ(subinterp_data_get_entry(d.get(), index, &key, &value, e.out()), SUBINTERP_ERR_INDEX);
        EXPECT_EQ(key, kUntouched);
        EXPECT_EQ(value, kUntouched);
        EXPECT_EQ(e.code(), SUBINTERP_ERR_INDEX);
        EXPECT_TRUE(names(e.message(), std::to_string(index))) << e.message();
    }
    const Data empty = empty_dict();
    EXPECT_EQ(subinterp_data_get_entry(empty.get(), 0, nullptr, nullptr, nullptr), SUBINTERP_ERR_INDEX);
}

TEST(DataDict, EmptyFromNullArrays) {
    Err e;
    subinterp_data* out = nullptr;
    ASSERT_OK(subinterp_data_new_dict(nullptr, nullptr, 0, &out, e.out()), e);
    const Data d(out);
    EXPECT_EQ(subinterp_data_get_kind(out), SUBINTERP_DATA_DICT);
    EXPECT_EQ(get_len(out), 0u);
}

TEST(DataDict, ValuesMayBeUnhashable) {
    const Data d = dict_of(make_int(0), empty_list(), make_int(1), dict_of(make_str("x"), empty_list()));
    EXPECT_EQ(repr(d.get()), "{0: [], 1: {'x': []}}");
}

// Key sets checked with one dict construction each.
struct KeysCase {
    const char* name;
    std::vector<Data> (*keys)();
};

std::ostream& operator<<(std::ostream& os, const KeysCase& c) { return os << c.name; }

template <class... D>
std::vector<Data> keys_of(D&&... keys) {
    std::vector<Data> out;
    (out.push_back(std::move(keys)), ...);
    return out;
}

// new_dict with these keys (and None values); *out left as kUntouched on failure.
subinterp_status new_dict_with_keys(const std::vector<Data>& keys, subinterp_data** out, subinterp_error** err) {
    const Data none = make_none();
    std::vector<const subinterp_data*> k, v;
    for (const Data& key : keys) {
        k.push_back(key.get());
        v.push_back(none.get());
    }
    return subinterp_data_new_dict(k.data(), v.data(), k.size(), out, err);
}

class DataDictRejectedKeys : public ::testing::TestWithParam<KeysCase> {};

TEST_P(DataDictRejectedKeys, GiveInvalidArgumentAndNoDict) {
    const std::vector<Data> keys = GetParam().keys();
    Err e;
    subinterp_data* out = const_cast<subinterp_data*>(kUntouched);
    EXPECT_EQ(new_dict_with_keys(keys, &out, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(out, kUntouched);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_FALSE(e.message().empty());
    EXPECT_EQ(new_dict_with_keys(keys, &out, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
}

INSTANTIATE_TEST_SUITE_P(
    DataDuplicates, DataDictRejectedKeys,
    ::testing::Values(
        KeysCase{"same_int", [] { return keys_of(make_int(1), make_int(1)); }},
        KeysCase{"same_int_not_adjacent", [] { return keys_of(make_int(1), make_int(2), make_int(3), make_int(1)); }},
        KeysCase{"equal_strs_built_apart", [] { return keys_of(make_str("key"), make_str("key")); }},
        KeysCase{"same_bytes", [] { return keys_of(make_bytes(bytes_of("\0")), make_bytes(bytes_of("\0"))); }},
        KeysCase{"none_twice", [] { return keys_of(make_none(), make_none()); }},
        KeysCase{"true_twice", [] { return keys_of(make_bool(true), make_bool(7)); }},
        KeysCase{"same_nan_bits", [] { return keys_of(make_float(NAN), make_float(NAN)); }},
        KeysCase{"equal_tuples",
                 [] { return keys_of(tuple_of(make_str("k"), make_int(1)), tuple_of(make_str("k"), make_int(1))); }},
        KeysCase{"equal_empty_tuples", [] { return keys_of(empty_tuple(), empty_tuple()); }}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    DataUnhashable, DataDictRejectedKeys,
    ::testing::Values(KeysCase{"list", [] { return keys_of(list_of(make_int(1))); }},
                      KeysCase{"empty_list", [] { return keys_of(empty_list()); }},
                      KeysCase{"dict", [] { return keys_of(empty_dict()); }},
                      KeysCase{"tuple_containing_list", [] { return keys_of(tuple_of(make_int(1), empty_list())); }},
                      KeysCase{"tuple_in_tuple_containing_dict",
                               [] { return keys_of(tuple_of(tuple_of(empty_dict()))); }},
                      KeysCase{"unhashable_after_good_keys",
                               [] { return keys_of(make_int(1), make_str("a"), empty_list()); }}),
    [](const auto& info) { return std::string(info.param.name); });

class DataDictDistinctKeys : public ::testing::TestWithParam<KeysCase> {};

// Distinct in the data model (kind or float bits differ) means distinct keys,
// as subinterp_data_equal() defines equality.
TEST_P(DataDictDistinctKeys, AreAllKept) {
    const std::vector<Data> keys = GetParam().keys();
    Err e;
    subinterp_data* out = nullptr;
    ASSERT_OK(new_dict_with_keys(keys, &out, e.out()), e);
    const Data d(out);
    ASSERT_EQ(get_len(out), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
        EXPECT_TRUE(subinterp_data_equal(get_entry(out, i).first, keys[i].get())) << i;
    }
}

INSTANTIATE_TEST_SUITE_P(
    DataModelEquality, DataDictDistinctKeys,
    ::testing::Values(
        KeysCase{"int_bool_float_one", [] { return keys_of(make_int(1), make_bool(true), make_float(1.0)); }},
        KeysCase{"zero_and_minus_zero", [] { return keys_of(make_float(0.0), make_float(-0.0)); }},
        KeysCase{"nans_with_other_bits",
                 [] { return keys_of(make_float(from_bits(0x7FF8000000000000ull)),
                                     make_float(from_bits(0xFFF8000000000000ull))); }},
        KeysCase{"str_and_bytes", [] { return keys_of(make_str("a"), make_bytes("a")); }},
        KeysCase{"empty_tuple_and_none", [] { return keys_of(empty_tuple(), make_none()); }},
        KeysCase{"tuples_of_one_and_true",
                 [] { return keys_of(tuple_of(make_int(1)), tuple_of(make_bool(true))); }},
        KeysCase{"every_hashable_kind",
                 [] {
                     return keys_of(make_none(), make_bool(false), make_int(0), make_float(0.5), make_str(""),
                                    make_bytes(""), empty_tuple(), tuple_of(tuple_of(make_str("deep"))));
                 }}),
    [](const auto& info) { return std::string(info.param.name); });

// --- references -----------------------------------------------------------------------------

TEST(DataRef, ReturnsTheSamePointerAndKeepsTheValueAlive) {
    subinterp_data* original = nullptr;
    ASSERT_EQ(subinterp_data_new_str("alive", 5, &original, nullptr), SUBINTERP_OK);
    subinterp_data* again = subinterp_data_ref(original);
    EXPECT_EQ(again, original);
    subinterp_data_free(original);
    EXPECT_EQ(as_str(again), "alive");
    subinterp_data_free(again);
}

TEST(DataRef, ManyRefsNeedAsManyFrees) {
    const Data value = tuple_of(make_str("x"));
    for (int n = 0; n < 1000; ++n) ASSERT_EQ(subinterp_data_ref(value.get()), value.get());
    for (int n = 0; n < 1000; ++n) subinterp_data_free(value.get());
    EXPECT_EQ(as_str(get_item(value.get(), 0)), "x");
}

TEST(DataRef, NullIsAccepted) {
    EXPECT_EQ(subinterp_data_ref(nullptr), nullptr);
    subinterp_data_free(nullptr);
    subinterp_free(nullptr);
}

TEST(DataRef, InnerContainerOutlivesOuterWithARef) {
    Data outer = dict_of(make_str("inner"), list_of(make_str("deep"), tuple_of(make_int(5))));
    subinterp_data* inner = subinterp_data_ref(get_entry(outer.get(), 0).second);
    outer.reset();
    const Data owner(inner);
    EXPECT_EQ(repr(inner), "['deep', (5,)]");
}

// --- equality -------------------------------------------------------------------------------

struct EqualCase {
    const char* name;
    Data (*a)();
    Data (*b)();
    int expected;
};

std::ostream& operator<<(std::ostream& os, const EqualCase& c) { return os << c.name; }

class DataEqual : public ::testing::TestWithParam<EqualCase> {};

TEST_P(DataEqual, IsStructuralAndSymmetric) {
    const Data a = GetParam().a();
    const Data b = GetParam().b();
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(subinterp_data_equal(a.get(), b.get()), GetParam().expected) << repr(a.get()) << " vs " << repr(b.get());
    EXPECT_EQ(subinterp_data_equal(b.get(), a.get()), GetParam().expected) << "not symmetric";
    EXPECT_EQ(subinterp_data_equal(a.get(), a.get()), 1) << "not reflexive";
}

INSTANTIATE_TEST_SUITE_P(
    DataPairs, DataEqual,
    ::testing::Values(
        EqualCase{"none_none", make_none, make_none, 1},
        EqualCase{"int_same", [] { return make_int(42); }, [] { return make_int(42); }, 1},
        EqualCase{"int_different", [] { return make_int(42); }, [] { return make_int(43); }, 0},
        EqualCase{"int_one_vs_true", [] { return make_int(1); }, [] { return make_bool(true); }, 0},
        EqualCase{"int_zero_vs_false", [] { return make_int(0); }, [] { return make_bool(false); }, 0},
        EqualCase{"int_one_vs_float_one", [] { return make_int(1); }, [] { return make_float(1.0); }, 0},
        EqualCase{"bool_from_different_nonzero", [] { return make_bool(1); }, [] { return make_bool(-5); }, 1},
        EqualCase{"nan_same_bits", [] { return make_float(NAN); }, [] { return make_float(NAN); }, 1},
        EqualCase{"nan_different_bits", [] { return make_float(from_bits(0x7FF8000000000001ull)); },
                  [] { return make_float(from_bits(0x7FF8000000000002ull)); }, 0},
        EqualCase{"zero_vs_minus_zero", [] { return make_float(0.0); }, [] { return make_float(-0.0); }, 0},
        EqualCase{"inf_same", [] { return make_float(INFINITY); }, [] { return make_float(INFINITY); }, 1},
        EqualCase{"str_same", [] { return make_str("abc"); }, [] { return make_str("abc"); }, 1},
        EqualCase{"str_embedded_nul_vs_prefix", [] { return make_str(bytes_of("a\0b")); },
                  [] { return make_str("a"); }, 0},
        EqualCase{"str_vs_bytes", [] { return make_str("abc"); }, [] { return make_bytes("abc"); }, 0},
        EqualCase{"empty_str_vs_empty_bytes", [] { return make_str(""); }, [] { return make_bytes(""); }, 0},
        EqualCase{"bytes_same", [] { return make_bytes(bytes_of("\0\xFF")); },
                  [] { return make_bytes(bytes_of("\0\xFF")); }, 1},
        EqualCase{"tuple_vs_list_same_items", [] { return tuple_of(make_int(1), make_int(2)); },
                  [] { return list_of(make_int(1), make_int(2)); }, 0},
        EqualCase{"empty_tuple_vs_empty_list", empty_tuple, empty_list, 0},
        EqualCase{"tuple_same", [] { return tuple_of(make_int(1), make_str("a")); },
                  [] { return tuple_of(make_int(1), make_str("a")); }, 1},
        EqualCase{"tuple_other_order", [] { return tuple_of(make_int(1), make_str("a")); },
                  [] { return tuple_of(make_str("a"), make_int(1)); }, 0},
        EqualCase{"list_prefix", [] { return list_of(make_int(1), make_int(2)); },
                  [] { return list_of(make_int(1)); }, 0},
        EqualCase{"nested_same",
                  [] { return list_of(dict_of(make_str("k"), tuple_of(make_float(-0.0), make_none()))); },
                  [] { return list_of(dict_of(make_str("k"), tuple_of(make_float(-0.0), make_none()))); }, 1},
        EqualCase{"nested_differs_deep_inside",
                  [] { return list_of(dict_of(make_str("k"), tuple_of(make_float(-0.0), make_none()))); },
                  [] { return list_of(dict_of(make_str("k"), tuple_of(make_float(0.0), make_none()))); }, 0},
        EqualCase{"dict_same", [] { return dict_of(make_str("a"), make_int(1)); },
                  [] { return dict_of(make_str("a"), make_int(1)); }, 1},
        EqualCase{"dict_other_value", [] { return dict_of(make_str("a"), make_int(1)); },
                  [] { return dict_of(make_str("a"), make_int(2)); }, 0},
        EqualCase{"dict_other_key", [] { return dict_of(make_str("a"), make_int(1)); },
                  [] { return dict_of(make_str("b"), make_int(1)); }, 0},
        EqualCase{"dict_vs_list", empty_dict, empty_list, 0},
        // Entry order is observable through get_entry(), so it is part of
        // the value.
        EqualCase{"dict_other_order", [] { return dict_of(make_str("a"), make_int(1), make_str("b"), make_int(2)); },
                  [] { return dict_of(make_str("b"), make_int(2), make_str("a"), make_int(1)); }, 0}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(DataEqualNull, TwoNullsAreEqualNullAndValueAreNot) {
    const Data none = make_none();
    EXPECT_EQ(subinterp_data_equal(nullptr, nullptr), 1);
    EXPECT_EQ(subinterp_data_equal(none.get(), nullptr), 0);
    EXPECT_EQ(subinterp_data_equal(nullptr, none.get()), 0);
}

// --- repr -----------------------------------------------------------------------------------

struct ReprCase {
    const char* name;
    Data (*make)();
    const char* expected;
};

std::ostream& operator<<(std::ostream& os, const ReprCase& c) { return os << c.name; }

class DataRepr : public ::testing::TestWithParam<ReprCase> {};

TEST_P(DataRepr, IsPythonSyntax) {
    const Data d = GetParam().make();
    ASSERT_NE(d, nullptr);
    Err e;
    char* text = nullptr;
    ASSERT_OK(subinterp_data_repr(d.get(), &text, e.out()), e);
    ASSERT_NE(text, nullptr);
    EXPECT_STREQ(text, GetParam().expected);
    subinterp_free(text);
}

INSTANTIATE_TEST_SUITE_P(
    DataScalars, DataRepr,
    ::testing::Values(ReprCase{"none", make_none, "None"},
                      ReprCase{"true", [] { return make_bool(true); }, "True"},
                      ReprCase{"false", [] { return make_bool(false); }, "False"},
                      ReprCase{"int_zero", [] { return make_int(0); }, "0"},
                      ReprCase{"int_negative", [] { return make_int(-42); }, "-42"},
                      ReprCase{"int_min", [] { return make_int(INT64_MIN); }, "-9223372036854775808"},
                      ReprCase{"int_max", [] { return make_int(INT64_MAX); }, "9223372036854775807"},
                      ReprCase{"float_2_5", [] { return make_float(2.5); }, "2.5"},
                      ReprCase{"float_integral", [] { return make_float(1.0); }, "1.0"},
                      ReprCase{"float_zero", [] { return make_float(0.0); }, "0.0"},
                      ReprCase{"float_minus_zero", [] { return make_float(-0.0); }, "-0.0"},
                      ReprCase{"float_negative", [] { return make_float(-0.5); }, "-0.5"},
                      ReprCase{"float_nan", [] { return make_float(NAN); }, "nan"},
                      ReprCase{"float_negative_nan", [] { return make_float(from_bits(0xFFF8000000000000ull)); },
                               "nan"},
                      ReprCase{"float_inf", [] { return make_float(INFINITY); }, "inf"},
                      ReprCase{"float_minus_inf", [] { return make_float(-INFINITY); }, "-inf"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    DataText, DataRepr,
    ::testing::Values(ReprCase{"str", [] { return make_str("a"); }, "'a'"},
                      ReprCase{"str_empty", [] { return make_str(""); }, "''"},
                      ReprCase{"str_embedded_nul", [] { return make_str(bytes_of("a\0b")); }, "'a\\x00b'"},
                      ReprCase{"str_control", [] { return make_str("\n\t\r\x01\x7F"); }, "'\\n\\t\\r\\x01\\x7f'"},
                      ReprCase{"str_backslash", [] { return make_str("a\\b"); }, "'a\\\\b'"},
                      // As CPython: double quotes for a single quote alone.
                      ReprCase{"str_quote", [] { return make_str("it's"); }, "\"it's\""},
                      ReprCase{"str_non_ascii_kept",
                               [] { return make_str("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"); },
                               "'caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80'"},
                      ReprCase{"bytes_nul", [] { return make_bytes(bytes_of("\0")); }, "b'\\x00'"},
                      ReprCase{"bytes_empty", [] { return make_bytes(""); }, "b''"},
                      ReprCase{"bytes_printable", [] { return make_bytes("abc"); }, "b'abc'"},
                      ReprCase{"bytes_high", [] { return make_bytes("\xFF\x80"); }, "b'\\xff\\x80'"},
                      ReprCase{"bytes_escapes", [] { return make_bytes("\n\\"); }, "b'\\n\\\\'"}),
    [](const auto& info) { return std::string(info.param.name); });

INSTANTIATE_TEST_SUITE_P(
    DataContainers, DataRepr,
    ::testing::Values(
        ReprCase{"tuple_empty", empty_tuple, "()"},
        ReprCase{"tuple_one", [] { return tuple_of(make_int(1)); }, "(1,)"},
        ReprCase{"tuple_three", [] { return tuple_of(make_int(1), make_str("a"), make_none()); }, "(1, 'a', None)"},
        ReprCase{"list_empty", empty_list, "[]"},
        ReprCase{"list_one", [] { return list_of(make_int(1)); }, "[1]"},
        ReprCase{"dict_empty", empty_dict, "{}"},
        ReprCase{"dict_of_list",
                 [] {
                     return dict_of(make_str("a"),
                                    list_of(make_int(1), make_float(2.5), make_none(), make_bool(true)));
                 },
                 "{'a': [1, 2.5, None, True]}"},
        ReprCase{"nested",
                 [] {
                     return tuple_of(tuple_of(make_int(1)), list_of(empty_tuple()),
                                     dict_of(empty_tuple(), make_bytes(""), make_float(-0.0), empty_dict()));
                 },
                 "((1,), [()], {(): b'', -0.0: {}})"}),
    [](const auto& info) { return std::string(info.param.name); });

// Python reads the repr of any finite float back as the same float (and as a
// float, not an int), even where the digits differ from CPython's choice.
TEST(DataReprFloat, ReadsBackAsTheSameFloat) {
    for (double value : {0.1, 1.0 / 3, 1e16, 1e22, 1e100, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                         -1.5e-7, 123456789.0, 9007199254740993.0}) {
        const Data d = make_float(value);
        const std::string text = repr(d.get());
        EXPECT_NE(text.find_first_of(".e"), std::string::npos) << text << " would read as an int";
        char* end = nullptr;
        const double parsed = std::strtod(text.c_str(), &end);
        EXPECT_EQ(*end, '\0') << text;
        EXPECT_EQ(to_bits(parsed), to_bits(value)) << text;
    }
}

TEST(DataReprOwnership, EachCallReturnsItsOwnString) {
    const Data d = make_str("same");
    char* first = nullptr;
    char* second = nullptr;
    ASSERT_EQ(subinterp_data_repr(d.get(), &first, nullptr), SUBINTERP_OK);
    ASSERT_EQ(subinterp_data_repr(d.get(), &second, nullptr), SUBINTERP_OK);
    EXPECT_NE(first, second);
    EXPECT_STREQ(first, second);
    subinterp_free(first);
    subinterp_free(second);
}

// --- deep nesting ---------------------------------------------------------------------------

// Nothing limits how deep a caller may nest containers through the C ABI, so
// every operation on a value so built must either refuse it cleanly or work:
// never overflow the stack. Run in a child process so a crash fails only
// these tests.
constexpr long kDeepNesting = 1000000;

// [[[...[None]...]]] kDeepNesting levels deep, or NULL if construction
// refused some level (acceptable, if it refuses cleanly).
subinterp_data* deeply_nested_list() {
    subinterp_data* current = nullptr;
    if (subinterp_data_new_none(&current, nullptr) != SUBINTERP_OK) return nullptr;
    for (long level = 0; level < kDeepNesting; ++level) {
        const subinterp_data* items[] = {current};
        subinterp_data* next = nullptr;
        const subinterp_status status = subinterp_data_new_list(items, 1, &next, nullptr);
        subinterp_data_free(current);
        if (status != SUBINTERP_OK) return nullptr;
        current = next;
    }
    return current;
}

class DataDeathTest : public ::testing::Test {
protected:
    // The default "fast" style forks a process that may hold other tests'
    // threads; re-executing the binary is safe whatever ran before.
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

TEST_F(DataDeathTest, FreeingADeeplyNestedValueDoesNotOverflowTheStack) {
    EXPECT_EXIT(
        {
            subinterp_data_free(deeply_nested_list());
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

TEST_F(DataDeathTest, ReprOfADeeplyNestedValueDoesNotOverflowTheStack) {
    EXPECT_EXIT(
        {
            subinterp_data* value = deeply_nested_list();
            char* text = nullptr;
            if (value && subinterp_data_repr(value, &text, nullptr) == SUBINTERP_OK) subinterp_free(text);
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

TEST_F(DataDeathTest, ComparingDeeplyNestedValuesDoesNotOverflowTheStack) {
    EXPECT_EXIT(
        {
            subinterp_data* a = deeply_nested_list();
            subinterp_data* b = deeply_nested_list();
            if (a && b && subinterp_data_equal(a, b) != 1) std::exit(1);
            std::exit(0);
        },
        ::testing::ExitedWithCode(0), "");
}

// --- threads --------------------------------------------------------------------------------

// Values have no thread affinity: built on one thread, read and freed on
// another.
TEST(DataThreads, CreatedOnOneThreadReadAndFreedOnAnother) {
    subinterp_data* built = nullptr;
    std::thread producer([&built] {
        built = dict_of(make_str("a"), list_of(make_int(1), make_float(2.5), make_none(), make_bool(true))).release();
    });
    producer.join();
    ASSERT_NE(built, nullptr);

    std::string seen;
    std::thread consumer([built, &seen] {
        seen = repr(built);
        subinterp_data_free(built);
    });
    consumer.join();
    EXPECT_EQ(seen, "{'a': [1, 2.5, None, True]}");
}

// A lost update in the reference count would free the value while threads
// still use it (or never); the final reads then see freed memory.
TEST(DataThreads, ConcurrentRefAndFreeNeverLoseTheValue) {
    constexpr int kThreads = 8;
    constexpr int kIterations = 100000;
    subinterp_data* value = tuple_of(make_str("shared value, long enough to live on the heap"), make_int(77)).release();
    std::atomic<int> ready{0};
    std::atomic<int> wrong_pointer{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            ready.fetch_add(1);
            while (ready.load() < kThreads) std::this_thread::yield();
            for (int n = 0; n < kIterations; ++n) {
                subinterp_data* mine = subinterp_data_ref(value);
                if (mine != value) wrong_pointer.fetch_add(1);
                subinterp_data_free(mine);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wrong_pointer.load(), 0);

    EXPECT_EQ(subinterp_data_get_kind(value), SUBINTERP_DATA_TUPLE);
    EXPECT_EQ(as_str(get_item(value, 0)), "shared value, long enough to live on the heap");
    EXPECT_EQ(as_int(get_item(value, 1)), 77);
    subinterp_data_free(value);
}

TEST(DataThreads, ConcurrentReadsAndContainerBuildsShareItems) {
    constexpr int kThreads = 8;
    const Data item = make_str("item");
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int n = 0; n < 5000; ++n) {
                const subinterp_data* items[] = {item.get(), item.get()};
                subinterp_data* container = nullptr;
                const auto make = (t % 2) ? subinterp_data_new_list : subinterp_data_new_tuple;
                if (make(items, 2, &container, nullptr) != SUBINTERP_OK) {
                    failures.fetch_add(1);
                    continue;
                }
                const char* text = nullptr;
                size_t len = 0;
                const subinterp_data* read = nullptr;
                if (subinterp_data_get_item(container, 1, &read, nullptr) != SUBINTERP_OK ||
                    subinterp_data_get_str(read, &text, &len, nullptr) != SUBINTERP_OK ||
                    std::string(text, len) != "item") {
                    failures.fetch_add(1);
                }
                subinterp_data_free(container);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(as_str(item.get()), "item");
}

}  // namespace

// --- the nesting limit ------------------------------------------------------------------------

TEST(DataDepth, TwoHundredFiftySixLevelsAllowedOneMoreRefused) {
    subinterp_data* current = nullptr;
    ASSERT_EQ(subinterp_data_new_none(&current, nullptr), SUBINTERP_OK);
    for (int level = 1; level <= 256; ++level) {
        const subinterp_data* items[] = {current};
        subinterp_data* next = nullptr;
        ASSERT_EQ(subinterp_data_new_tuple(items, 1, &next, nullptr), SUBINTERP_OK) << "level " << level;
        subinterp_data_free(current);
        current = next;
    }
    const subinterp_data* items[] = {current};
    subinterp_data* too_deep = nullptr;
    subinterp_error* err = nullptr;
    EXPECT_EQ(subinterp_data_new_list(items, 1, &too_deep, &err), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(too_deep, nullptr);
    EXPECT_NE(std::string(subinterp_error_message(err)).find("256"), std::string::npos) << subinterp_error_message(err);
    subinterp_error_free(err);
    // A dict counts its keys and values as one level deeper too.
    subinterp_data* key = nullptr;
    ASSERT_EQ(subinterp_data_new_int(1, &key, nullptr), SUBINTERP_OK);
    const subinterp_data* keys[] = {key};
    subinterp_data* dict = nullptr;
    EXPECT_EQ(subinterp_data_new_dict(keys, items, 1, &dict, nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    subinterp_data_free(key);
    subinterp_data_free(current);
}
