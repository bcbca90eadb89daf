// Unit tests of the portable value model in C++: subinterp::Data (equality,
// hashing, repr, typed access) and DataPtr (intrusive reference counting).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "subinterp/data.hpp"
#include "subinterp/error.hpp"

// --- allocation counting -----------------------------------------------------------
//
// A Data's reference count is private, so whether DataPtr frees a value too
// early, twice or never is only observable through the allocator: every
// value is one `new Data`. These replacements count live allocations for the
// whole core_tests binary; tests compare counts around their own code only.

namespace {
std::atomic<long> live_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
    void* p = std::malloc(size ? size : 1);
    if (!p) throw std::bad_alloc();
    live_allocations.fetch_add(1, std::memory_order_relaxed);
    return p;
}

void operator delete(void* p) noexcept {
    if (!p) return;
    live_allocations.fetch_sub(1, std::memory_order_relaxed);
    std::free(p);
}

void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace {

using subinterp::Data;
using subinterp::DataEntries;
using subinterp::DataItems;
using subinterp::DataKind;
using subinterp::DataPtr;
using subinterp::ErrorCode;

long live() { return live_allocations.load(std::memory_order_relaxed); }

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

DataPtr str(std::string_view s) { return Data::str(s); }
DataPtr i(int64_t v) { return Data::integer(v); }
DataPtr f(double v) { return Data::floating(v); }
DataPtr tuple(DataItems items) { return Data::tuple(std::move(items)); }
DataPtr list(DataItems items) { return Data::list(std::move(items)); }
DataPtr dict(DataEntries entries) { return Data::dict(std::move(entries)); }

// Expects `body` to throw subinterp::Error with `code`; returns its message.
template <class Body>
std::string expect_error(ErrorCode code, Body&& body) {
    try {
        body();
    } catch (const subinterp::Error& e) {
        EXPECT_EQ(e.code(), code) << e.message();
        return e.message();
    }
    ADD_FAILURE() << "no subinterp::Error thrown";
    return "";
}

// --- equality and hashing ---------------------------------------------------------------

// Factories of pairwise distinct values; calling one twice gives two
// separately allocated, equal values.
struct Sample {
    const char* name;
    std::function<DataPtr()> make;
};

const std::vector<Sample>& samples() {
    static const std::vector<Sample> all = {
        {"none", [] { return Data::none(); }},
        {"true", [] { return Data::boolean(true); }},
        {"false", [] { return Data::boolean(false); }},
        {"int_0", [] { return i(0); }},
        {"int_1", [] { return i(1); }},
        {"int_minus1", [] { return i(-1); }},
        {"int_min", [] { return i(std::numeric_limits<int64_t>::min()); }},
        {"int_max", [] { return i(std::numeric_limits<int64_t>::max()); }},
        {"float_0", [] { return f(0.0); }},
        {"float_minus0", [] { return f(-0.0); }},
        {"float_1", [] { return f(1.0); }},
        {"float_nan", [] { return f(std::numeric_limits<double>::quiet_NaN()); }},
        {"float_nan_payload", [] { return f(from_bits(0x7FF8000000000123ull)); }},
        {"float_negative_nan", [] { return f(from_bits(0xFFF8000000000000ull)); }},
        {"float_inf", [] { return f(std::numeric_limits<double>::infinity()); }},
        {"float_minus_inf", [] { return f(-std::numeric_limits<double>::infinity()); }},
        {"str_empty", [] { return str(""); }},
        {"str_a", [] { return str("a"); }},
        {"str_a_nul_b", [] { return str(std::string_view("a\0b", 3)); }},
        {"str_e_acute", [] { return str("\xC3\xA9"); }},
        {"bytes_empty", [] { return Data::bytes(""); }},
        {"bytes_a", [] { return Data::bytes("a"); }},
        {"bytes_nul", [] { return Data::bytes(std::string_view("\0", 1)); }},
        {"tuple_empty", [] { return tuple({}); }},
        {"tuple_1", [] { return tuple({i(1)}); }},
        {"tuple_true", [] { return tuple({Data::boolean(true)}); }},
        {"tuple_1_a", [] { return tuple({i(1), str("a")}); }},
        {"tuple_a_1", [] { return tuple({str("a"), i(1)}); }},
        {"tuple_nested", [] { return tuple({tuple({i(1)}), tuple({})}); }},
        {"list_empty", [] { return list({}); }},
        {"list_1", [] { return list({i(1)}); }},
        {"list_1_a", [] { return list({i(1), str("a")}); }},
        {"list_of_list", [] { return list({list({i(1)})}); }},
        {"dict_empty", [] { return dict({}); }},
        {"dict_a_1", [] { return dict({{str("a"), i(1)}}); }},
        {"dict_a_2", [] { return dict({{str("a"), i(2)}}); }},
        {"dict_b_1", [] { return dict({{str("b"), i(1)}}); }},
        {"dict_a_1_b_2", [] { return dict({{str("a"), i(1)}, {str("b"), i(2)}}); }},
    };
    return all;
}

TEST(DataEquality, SeparatelyBuiltEqualValuesAreEqual) {
    for (const Sample& s : samples()) {
        const DataPtr a = s.make();
        const DataPtr b = s.make();
        ASSERT_NE(a.get(), b.get());
        EXPECT_TRUE(a->equals(*b)) << s.name;
        EXPECT_TRUE(a->equals(*a)) << s.name;
    }
}

// Covers the easy-to-miss pairs: 1 vs True vs 1.0, 0.0 vs -0.0, str vs
// bytes, tuple vs list, NaNs with different bits, item order.
TEST(DataEquality, DistinctSamplesAreNotEqual) {
    const auto& all = samples();
    for (std::size_t x = 0; x < all.size(); ++x) {
        const DataPtr a = all[x].make();
        for (std::size_t y = 0; y < all.size(); ++y) {
            if (x == y) continue;
            EXPECT_FALSE(a->equals(*all[y].make())) << all[x].name << " vs " << all[y].name;
        }
    }
}

TEST(DataEquality, DictEntryOrderMatters) {
    // Entry order is observable (entries(), subinterp_data_get_entry), so two
    // dicts that differ in it are not interchangeable.
    const DataPtr ab = dict({{str("a"), i(1)}, {str("b"), i(2)}});
    const DataPtr ba = dict({{str("b"), i(2)}, {str("a"), i(1)}});
    EXPECT_FALSE(ab->equals(*ba));
}

TEST(DataHash, ConsistentWithEqualsForEveryHashableSample) {
    for (const Sample& s : samples()) {
        const DataPtr a = s.make();
        if (!a->is_hashable()) continue;
        EXPECT_EQ(a->hash(), s.make()->hash()) << s.name;
    }
}

TEST(DataHash, SameNanBitsHashAlike) {
    const double nan = from_bits(0x7FF8000000000ABCull);
    EXPECT_EQ(f(nan)->hash(), f(nan)->hash());
    EXPECT_EQ(tuple({f(nan), str("x")})->hash(), tuple({f(nan), str("x")})->hash());
}

// Not required by the contract, but a hash that ignores contents would make
// building a dict quadratic: distinct samples should nearly all differ.
TEST(DataHash, DistinguishesDistinctValues) {
    std::set<std::size_t> hashes;
    std::size_t hashable = 0;
    for (const Sample& s : samples()) {
        const DataPtr a = s.make();
        if (!a->is_hashable()) continue;
        ++hashable;
        hashes.insert(a->hash());
    }
    EXPECT_GE(hashes.size() * 10, hashable * 9) << hashes.size() << " distinct hashes for " << hashable;
}

TEST(DataHashable, ScalarsAndTuplesOfScalarsAre) {
    for (const DataPtr& d : {Data::none(), Data::boolean(false), i(3), f(NAN), str("s"), Data::bytes("b"),
                             tuple({}), tuple({i(1), tuple({str("x"), Data::none()})})}) {
        EXPECT_TRUE(d->is_hashable()) << d->repr();
    }
}

TEST(DataHashable, ListsDictsAndTuplesHoldingThemAreNot) {
    for (const DataPtr& d : {list({}), dict({}), tuple({list({})}), tuple({i(1), tuple({dict({})})}),
                             tuple({tuple({tuple({list({i(1)})})})})}) {
        EXPECT_FALSE(d->is_hashable()) << d->repr();
    }
}

// --- dict construction -----------------------------------------------------------------

TEST(DataDict, KeepsInsertionOrder) {
    const DataPtr d = dict({{str("z"), i(1)}, {i(5), i(2)}, {str("a"), i(3)}});
    ASSERT_EQ(d->size(), 3u);
    EXPECT_EQ(d->entries()[0].first->as_str(), "z");
    EXPECT_EQ(d->entries()[1].first->as_int(), 5);
    EXPECT_EQ(d->entries()[2].first->as_str(), "a");
    EXPECT_EQ(d->entries()[2].second->as_int(), 3);
}

TEST(DataDict, RejectsKeysEqualToAnEarlierOne) {
    const double nan = from_bits(0x7FF8000000000001ull);
    expect_error(ErrorCode::InvalidArgument, [] { dict({{i(1), i(0)}, {i(2), i(0)}, {i(1), i(0)}}); });
    expect_error(ErrorCode::InvalidArgument, [] { dict({{tuple({str("k")}), i(0)}, {tuple({str("k")}), i(1)}}); });
    expect_error(ErrorCode::InvalidArgument, [&] { dict({{f(nan), i(0)}, {f(nan), i(1)}}); });
    const std::string message = expect_error(ErrorCode::InvalidArgument, [] {
        dict({{str("dup"), i(0)}, {str("dup"), i(1)}});
    });
    EXPECT_NE(message.find("dup"), std::string::npos) << message;
}

// Keys that the data model tells apart (different kinds or float bits) are
// distinct keys, even where Python's == would merge them.
TEST(DataDict, KeysDistinctInTheDataModelAreAccepted) {
    EXPECT_EQ(dict({{i(1), i(0)}, {Data::boolean(true), i(1)}, {f(1.0), i(2)}})->size(), 3u);
    EXPECT_EQ(dict({{f(0.0), i(0)}, {f(-0.0), i(1)}})->size(), 2u);
    EXPECT_EQ(dict({{str("a"), i(0)}, {Data::bytes("a"), i(1)}})->size(), 2u);
    EXPECT_EQ(dict({{tuple({}), i(0)}, {Data::none(), i(1)}})->size(), 2u);
}

TEST(DataDict, RejectsUnhashableKeysNamingTheKind) {
    const std::string message = expect_error(ErrorCode::InvalidArgument, [] { dict({{list({}), i(0)}}); });
    EXPECT_NE(message.find("list"), std::string::npos) << message;
    expect_error(ErrorCode::InvalidArgument, [] { dict({{dict({}), i(0)}}); });
    expect_error(ErrorCode::InvalidArgument, [] { dict({{tuple({i(1), list({})}), i(0)}}); });
}

TEST(DataDict, RejectsNullKeyOrValue) {
    expect_error(ErrorCode::InvalidArgument, [] { dict({{DataPtr(), i(0)}}); });
    expect_error(ErrorCode::InvalidArgument, [] { dict({{i(0), DataPtr()}}); });
}

TEST(DataDict, ValuesMayBeUnhashable) {
    EXPECT_EQ(dict({{i(0), list({})}, {i(1), dict({})}})->size(), 2u);
}

// --- typed access ----------------------------------------------------------------------

TEST(DataAccess, RoundTripsScalars) {
    EXPECT_EQ(Data::none()->kind(), DataKind::None);
    EXPECT_TRUE(Data::boolean(true)->as_bool());
    EXPECT_FALSE(Data::boolean(false)->as_bool());
    EXPECT_EQ(i(std::numeric_limits<int64_t>::min())->as_int(), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(i(std::numeric_limits<int64_t>::max())->as_int(), std::numeric_limits<int64_t>::max());
    for (uint64_t bits : {0x8000000000000000ull, 0x7FF0000000000000ull, 0xFFF0000000000000ull,
                          0x7FF8000000000123ull, 0x7FF0000000000001ull, 0x0000000000000001ull}) {
        EXPECT_EQ(to_bits(f(from_bits(bits))->as_float()), bits) << std::hex << bits;
    }
    EXPECT_EQ(str(std::string_view("a\0b", 3))->as_str(), std::string_view("a\0b", 3));
    EXPECT_EQ(Data::bytes(std::string_view("\xFF\0", 2))->as_bytes(), std::string_view("\xFF\0", 2));
}

TEST(DataAccess, StrRejectsInvalidUtf8) {
    expect_error(ErrorCode::InvalidArgument, [] { Data::str("\xED\xA0\x80"); });
    expect_error(ErrorCode::InvalidArgument, [] { Data::str(std::string_view("ok\0\xC0\x80", 5)); });
}

TEST(DataAccess, WrongKindThrowsTypeErrorNamingBothKinds) {
    struct Case {
        const char* wanted;
        const char* got;
        std::function<void()> access;
    };
    const std::vector<Case> cases = {
        {"bool", "int", [] { i(1)->as_bool(); }},
        {"int", "bool", [] { Data::boolean(true)->as_int(); }},
        {"int", "float", [] { f(1.0)->as_int(); }},
        {"float", "int", [] { i(1)->as_float(); }},
        {"str", "bytes", [] { Data::bytes("x")->as_str(); }},
        {"bytes", "str", [] { str("x")->as_bytes(); }},
        {"list", "dict", [] { dict({})->items(); }},
        {"dict", "tuple", [] { tuple({})->entries(); }},
        {"dict", "none", [] { Data::none()->size(); }},
    };
    for (const Case& c : cases) {
        const std::string message = expect_error(ErrorCode::Type, c.access);
        EXPECT_NE(message.find(c.wanted), std::string::npos) << message;
        EXPECT_NE(message.find(c.got), std::string::npos) << message;
    }
}

TEST(DataAccess, SizeOfContainers) {
    EXPECT_EQ(tuple({})->size(), 0u);
    EXPECT_EQ(list({i(1), i(2)})->size(), 2u);
    EXPECT_EQ(dict({{i(1), i(2)}})->size(), 1u);
}

TEST(DataKindName, NamesEveryKind) {
    EXPECT_STREQ(subinterp::kind_name(DataKind::None), "none");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Bool), "bool");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Int), "int");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Float), "float");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Str), "str");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Bytes), "bytes");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Tuple), "tuple");
    EXPECT_STREQ(subinterp::kind_name(DataKind::List), "list");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Dict), "dict");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Buffer), "buffer");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Queue), "queue");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Interpreter), "interpreter");
    EXPECT_STREQ(subinterp::kind_name(DataKind::Pickled), "pickled");
    EXPECT_STREQ(subinterp::kind_name(static_cast<DataKind>(42)), "invalid");
}

// --- repr --------------------------------------------------------------------------------

TEST(DataRepr, Scalars) {
    EXPECT_EQ(Data::none()->repr(), "None");
    EXPECT_EQ(Data::boolean(true)->repr(), "True");
    EXPECT_EQ(Data::boolean(false)->repr(), "False");
    EXPECT_EQ(i(std::numeric_limits<int64_t>::min())->repr(), "-9223372036854775808");
    EXPECT_EQ(f(2.5)->repr(), "2.5");
    EXPECT_EQ(f(1.0)->repr(), "1.0");
    EXPECT_EQ(f(-0.0)->repr(), "-0.0");
    EXPECT_EQ(f(NAN)->repr(), "nan");
    EXPECT_EQ(f(-INFINITY)->repr(), "-inf");
    // As CPython: double quotes when the text has a single quote and no double.
    EXPECT_EQ(str("it's \\ \n\t\r\x01\x7F\xC3\xA9")->repr(), "\"it's \\\\ \\n\\t\\r\\x01\\x7f\xC3\xA9\"");
    EXPECT_EQ(Data::bytes(std::string_view("\0a'\xFF", 4))->repr(), "b\"\\x00a'\\xff\"");
    EXPECT_EQ(str("both ' and \"")->repr(), "'both \\' and \"'");
    EXPECT_EQ(f(0.1)->repr(), "0.1");
    EXPECT_EQ(f(1e16)->repr(), "1e+16");
    EXPECT_EQ(f(1e15)->repr(), "1000000000000000.0");
    EXPECT_EQ(f(1e-5)->repr(), "1e-05");
    EXPECT_EQ(f(0.0001)->repr(), "0.0001");
    EXPECT_EQ(f(-1.5e-300)->repr(), "-1.5e-300");
    EXPECT_EQ(f(123.456)->repr(), "123.456");
}

TEST(DataRepr, NestedStructures) {
    const DataPtr value = dict({
        {str("a"), list({i(1), f(2.5), Data::none(), Data::boolean(true)})},
        {tuple({i(1), str("x")}), dict({{Data::bytes("k"), tuple({tuple({})})}})},
        {Data::none(), list({list({}), tuple({i(-1)}), dict({})})},
    });
    EXPECT_EQ(value->repr(),
              "{'a': [1, 2.5, None, True], (1, 'x'): {b'k': ((),)}, None: [[], (-1,), {}]}");
}

TEST(DataRepr, OneTupleHasTrailingComma) {
    EXPECT_EQ(tuple({i(1)})->repr(), "(1,)");
    EXPECT_EQ(tuple({i(1), i(2)})->repr(), "(1, 2)");
    EXPECT_EQ(list({i(1)})->repr(), "[1]");
}

// --- DataPtr reference counting ------------------------------------------------------------

TEST(DataPtrRefcount, DefaultIsEmpty) {
    const DataPtr p;
    EXPECT_FALSE(p);
    EXPECT_EQ(p.get(), nullptr);
    EXPECT_FALSE(DataPtr::share(nullptr));
}

TEST(DataPtrRefcount, LastOwnerFreesTheValueOnce) {
    const long before = live();
    {
        const DataPtr p = i(7);
        EXPECT_EQ(live(), before + 1);
    }
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, CopyKeepsValueAliveUntilEveryCopyIsGone) {
    const long before = live();
    {
        DataPtr a = i(7);
        {
            const DataPtr b = a;  // NOLINT(performance-unnecessary-copy-initialization)
            EXPECT_EQ(b.get(), a.get());
            a = DataPtr();
            EXPECT_EQ(live(), before + 1);
            EXPECT_EQ(b->as_int(), 7);
        }
        EXPECT_EQ(live(), before);
    }
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, MoveTransfersWithoutAddingAReference) {
    const long before = live();
    {
        DataPtr a = i(7);
        const Data* raw = a.get();
        DataPtr b = std::move(a);
        EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is documented empty
        EXPECT_EQ(b.get(), raw);
        DataPtr c;
        c = std::move(b);
        EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(c.get(), raw);
        EXPECT_EQ(live(), before + 1);
    }
    // A move that added a reference would leak the value here.
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, CopyAssignmentReleasesTheOldValue) {
    const long before = live();
    {
        DataPtr a = i(1);
        const DataPtr b = i(2);
        EXPECT_EQ(live(), before + 2);
        a = b;
        EXPECT_EQ(live(), before + 1);
        EXPECT_EQ(a.get(), b.get());
        EXPECT_EQ(a->as_int(), 2);
    }
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, SelfAssignmentKeepsTheValue) {
    const long before = live();
    {
        DataPtr a = i(5);
        DataPtr& alias = a;
        a = alias;
        EXPECT_EQ(a->as_int(), 5);
        a = std::move(alias);
        ASSERT_TRUE(a);
        EXPECT_EQ(a->as_int(), 5);
        EXPECT_EQ(live(), before + 1);
    }
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, ReleaseAndAdoptHandOverOneReference) {
    const long before = live();
    Data* raw = i(9).release();
    EXPECT_EQ(live(), before + 1);
    {
        const DataPtr shared = DataPtr::share(raw);  // now two references
        DataPtr::adopt(raw);                         // drops the released one
        EXPECT_EQ(live(), before + 1);
        EXPECT_EQ(shared->as_int(), 9);
    }
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, RetainAndReleaseBalance) {
    const long before = live();
    {
        const DataPtr p = i(3);
        p->retain();
        p->retain();
        p->release();
        p->release();
        EXPECT_EQ(live(), before + 1);
        EXPECT_EQ(p->as_int(), 3);
    }
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, ContainersOwnTheirItems) {
    const long before = live();
    {
        DataPtr item = i(42);
        const Data* raw = item.get();
        const DataPtr container = tuple({item, item});
        item = DataPtr();
        EXPECT_EQ(container->items()[0].get(), raw);
        EXPECT_EQ(container->items()[1]->as_int(), 42);
    }
    // Item and tuple both freed: nothing retained by the container.
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, FailedDictConstructionLeaksNothing) {
    const long before = live();
    expect_error(ErrorCode::InvalidArgument, [] { dict({{i(1), str("a")}, {i(1), str("b")}}); });
    EXPECT_EQ(live(), before);
}

TEST(DataPtrRefcount, ConcurrentCopiesBalance) {
    const long before = live();
    {
        const DataPtr shared = tuple({str("shared value long enough to allocate"), i(1)});
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&shared] {
                for (int n = 0; n < 100000; ++n) {
                    DataPtr copy = shared;
                    DataPtr moved = std::move(copy);
                }
            });
        }
        for (auto& thread : threads) thread.join();
        EXPECT_EQ(shared->items()[0]->as_str(), "shared value long enough to allocate");
    }
    EXPECT_EQ(live(), before);
}

}  // namespace
