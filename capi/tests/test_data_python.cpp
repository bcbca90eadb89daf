// Python objects crossing interpreters through the C ABI, with real CPython:
// exact round trips from one isolated interpreter to another, the pickle
// fallback, refusals, and buffers shared without copying (and when their
// memory goes back to its owner).
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using namespace subinterp_test;

namespace {

// Run in every interpreter: pickles name classes by module and qualname, so a
// class defined in __main__ unpickles only where __main__ defines it too.
const char* const kSharedClasses = R"PY(
import sys
# The C _datetime (3.12.1, 3.13.0) and _decimal (3.12.1) corrupt memory when
# two isolated interpreters import them and are destroyed -- with CPython's own
# _interpreters module too, so not this library's doing (cf. python/cpython
# gh-136423). Their pure-Python twins are used instead, on both sides, which
# is all pickling needs.
sys.modules['_datetime'] = None
sys.modules['_decimal'] = None
import array, collections, datetime, decimal, enum, fractions, functools, gc, math, operator, sys, uuid

class MyInt(int):
    pass

class MyStr(str):
    pass

class MyTuple(tuple):
    pass

class Color(enum.IntEnum):
    RED = 1
    BLUE = 2

Point = collections.namedtuple('Point', 'x y')
)PY";

// The receiving side compares with `type(...) is` at every level, so a bool
// that became an int or a tuple that became a list fails with its path.
const char* const kHelpers = R"PY(
def make(source):
    return eval(source)

def echo(x):
    return x

def keep(x):
    global kept
    kept = x

def _describe(v):
    try:
        return repr(v)
    except ValueError:  # ints past the str conversion limit
        return f'<{type(v).__qualname__} too long for repr>'

def same(got, want, path='x'):
    assert type(got) is type(want), (
        f'{path}: got type {type(got).__qualname__}, want {type(want).__qualname__}: {_describe(got)}')
    if type(want) is float:
        if math.isnan(want):
            assert math.isnan(got), f'{path}: got {got!r}, want nan'
        else:
            assert got == want and math.copysign(1.0, got) == math.copysign(1.0, want), (
                f'{path}: got {got!r}, want {want!r}')
    elif type(want) in (tuple, list):
        assert len(got) == len(want), f'{path}: got {len(got)} items, want {len(want)}'
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f'{path}[{i}]')
    elif type(want) is dict:
        assert len(got) == len(want), f'{path}: got {len(got)} entries, want {len(want)}'
        for i, (gk, wk) in enumerate(zip(got, want)):
            same(gk, wk, f'{path} key #{i}')
            same(got[gk], want[wk], f'{path}[{_describe(wk)}]')
    else:
        assert got == want, f'{path}: got {_describe(got)}, want {_describe(want)}'

def check(x, source, extra):
    same(x, eval(source))
    if extra:
        assert eval(extra, globals(), {'x': x}), f'{extra} is false for x = {_describe(x)}'
    return True
)PY";

subinterp_status call_with(int64_t id, const char* callable, const subinterp_data* args, uint32_t flags, Err& e,
                           Data& out) {
    subinterp_run_options opts;
    subinterp_run_options_init(&opts);
    opts.flags = flags;
    subinterp_data* raw = nullptr;
    const subinterp_status status = subinterp_call(id, callable, args, nullptr, &opts, &raw, nullptr, e.out());
    out.reset(raw);
    return status;
}

// Hands `value` to the interpreter, whose keep() stores it in the global
// `kept`; the argument tuple is freed before returning.
void keep_in(int64_t id, const Data& value) {
    Data args = make_tuple({value.get()});
    call(id, "keep", args.get());
}

// `source` evaluated in the interpreter's __main__ and converted to data.
subinterp_status make_in(int64_t id, const std::string& source, uint32_t flags, Err& e, Data& out) {
    Data text = make_str(source);
    Data args = make_tuple({text.get()});
    return call_with(id, "make", args.get(), flags, e, out);
}

std::string failure(const Err& e) {
    return std::string(subinterp_status_name(e.code())) + " " + e.exc_qualname() + ": " + e.message() + "\n" +
           e.traceback();
}

// Interpreter `b` checks that `value` equals `source` evaluated there, type
// for type, and that the Python expression `extra` (over x) holds.
::testing::AssertionResult arrives_same(int64_t b, const subinterp_data* value, const std::string& source,
                                        const std::string& extra = "") {
    Data text = make_str(source);
    Data condition = make_str(extra);
    Data args = make_tuple({value, text.get(), condition.get()});
    Err e;
    Data result;
    if (call_with(b, "check", args.get(), 0, e, result) != SUBINTERP_OK) {
        return ::testing::AssertionFailure() << "in the receiving interpreter: " << failure(e);
    }
    int yes = 0;
    if (subinterp_data_get_bool(result.get(), &yes, nullptr) != SUBINTERP_OK || !yes) {
        return ::testing::AssertionFailure() << "check returned " << repr(result.get());
    }
    return ::testing::AssertionSuccess();
}

struct BufferInfo {
    unsigned char* memory = nullptr;
    size_t size = 0;
    int readonly = -1;
};

BufferInfo buffer_of(const subinterp_data* data) {
    BufferInfo info;
    void* memory = nullptr;
    Err e;
    EXPECT_OK(subinterp_data_get_buffer(data, &memory, &info.size, &info.readonly, e.out()), e)
        << "kind " << subinterp_data_kind_name(subinterp_data_get_kind(data));
    info.memory = static_cast<unsigned char*>(memory);
    return info;
}

std::string bytes_of(const BufferInfo& info) {
    return info.memory ? std::string(reinterpret_cast<const char*>(info.memory), info.size) : std::string();
}

std::string pattern(size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>(i % 256);
    return bytes;
}

// Interpreters made by a test are destroyed after it, so that what they hold
// (shared buffers above all) is given back before the next test and before
// the leak checker looks.
class DataPythonTest : public ::testing::Test {
protected:
    int64_t interpreter() {
        const int64_t id = create();
        owned_.push_back(id);
        exec_ok(id, kSharedClasses);
        exec_ok(id, kHelpers);
        return id;
    }
    void TearDown() override {
        for (const int64_t id : owned_) subinterp_destroy(id, nullptr);  // NOT_FOUND if the test destroyed it
    }
    std::vector<int64_t> owned_;
};

}  // namespace

// --- exact round trips ------------------------------------------------------------------

namespace {

struct RoundTrip {
    const char* name;
    const char* source;  // evaluated in A, and again in B for the comparison
    subinterp_data_kind kind;
    const char* extra;  // more Python to hold in B (x is the value), or ""
};

std::ostream& operator<<(std::ostream& os, const RoundTrip& c) { return os << c.name << ": " << c.source; }

class DataPythonRoundTrip : public DataPythonTest, public ::testing::WithParamInterface<RoundTrip> {};

const RoundTrip kModelKinds[] = {
    {"None", "None", SUBINTERP_DATA_NONE, "x is None"},
    {"True", "True", SUBINTERP_DATA_BOOL, "x is True"},
    {"False", "False", SUBINTERP_DATA_BOOL, "x is False"},
    {"Zero", "0", SUBINTERP_DATA_INT, ""},
    {"MinusOne", "-1", SUBINTERP_DATA_INT, ""},
    {"Int64Max", "2**63 - 1", SUBINTERP_DATA_INT, ""},
    {"Int64Min", "-2**63", SUBINTERP_DATA_INT, ""},
    {"Int64MaxPlusOne", "2**63", SUBINTERP_DATA_INT, ""},
    {"Int64MinMinusOne", "-2**63 - 1", SUBINTERP_DATA_INT, ""},
    {"TwoPow64", "2**64", SUBINTERP_DATA_INT, ""},
    {"TwoPow64MinusOne", "2**64 - 1", SUBINTERP_DATA_INT, ""},
    {"MinusTwoPow64", "-2**64", SUBINTERP_DATA_INT, ""},
    // Past CPython's 4300-digit limit for int <-> str: must not go through text.
    {"TenPow5000", "10**5000", SUBINTERP_DATA_INT, "x // 10**4999 == 10 and x % 10**4999 == 0"},
    {"MinusTenPow5000", "-(10**5000)", SUBINTERP_DATA_INT, "-x // 10**4999 == 10 and x % 10**4999 == 0"},
    {"FloatZero", "0.0", SUBINTERP_DATA_FLOAT, "math.copysign(1.0, x) == 1.0"},
    {"NegativeZero", "-0.0", SUBINTERP_DATA_FLOAT, "math.copysign(1.0, x) == -1.0"},
    {"NaN", "float('nan')", SUBINTERP_DATA_FLOAT, "math.isnan(x)"},
    {"Inf", "float('inf')", SUBINTERP_DATA_FLOAT, "math.isinf(x) and x > 0"},
    {"NegativeInf", "float('-inf')", SUBINTERP_DATA_FLOAT, "math.isinf(x) and x < 0"},
    {"SmallestSubnormal", "5e-324", SUBINTERP_DATA_FLOAT, "x == math.ulp(0.0)"},
    {"NegativeSubnormal", "-5e-324", SUBINTERP_DATA_FLOAT, "x == -math.ulp(0.0)"},
    {"LargestFloat", "1.7976931348623157e308", SUBINTERP_DATA_FLOAT, "x == sys.float_info.max"},
    {"PointOne", "0.1", SUBINTERP_DATA_FLOAT, "x.hex() == '0x1.999999999999ap-4'"},
    {"EmptyStr", "''", SUBINTERP_DATA_STR, ""},
    {"NonAsciiStr", "'h\\u00e9llo \\u20ac \\u4e2d\\u6587 \\U0001F40D'", SUBINTERP_DATA_STR, "len(x) == 12"},
    {"StrWithNuls", "'\\x00a\\x00b\\x00'", SUBINTERP_DATA_STR, "len(x) == 5 and x.count('\\x00') == 3"},
    {"LargestCodePoint", "'\\U0010ffff'", SUBINTERP_DATA_STR, "ord(x) == 0x10FFFF"},
    {"LongStr", "'\\u00e9\\U0001F40D' * 100000", SUBINTERP_DATA_STR, "len(x) == 200000"},
    {"AllByteValues", "bytes(range(256))", SUBINTERP_DATA_BYTES, "list(x) == list(range(256))"},
    {"EmptyBytes", "b''", SUBINTERP_DATA_BYTES, ""},
    {"EmptyTuple", "()", SUBINTERP_DATA_TUPLE, ""},
    {"EmptyList", "[]", SUBINTERP_DATA_LIST, ""},
    {"EmptyDict", "{}", SUBINTERP_DATA_DICT, ""},
    {"SingletonTuple", "(1,)", SUBINTERP_DATA_TUPLE, ""},
    {"NestedEmpties", "((), [], {}, ((),), [[]], {'': ()})", SUBINTERP_DATA_TUPLE, ""},
    {"NestedMix", "[(1, [2.5, (None, {'k': [b'x', ('t',)]})]), {'tuple': (True,), 'list': [False], 'dict': {}}]",
     SUBINTERP_DATA_LIST, "type(x[0]) is tuple and type(x[0][1]) is list and type(x[1]['tuple']) is tuple"},
    {"TupleOfLists", "([1], [[2]], ([3],))", SUBINTERP_DATA_TUPLE, ""},
    {"FloatsInContainers", "{'nan': float('nan'), 'zeros': [-0.0, 0.0], 'inf': (float('-inf'),)}",
     SUBINTERP_DATA_DICT, "math.copysign(1.0, x['zeros'][0]) == -1.0"},
    {"DictInsertionOrder", "{'zebra': 1, 'apple': 2, 'mango': 3, 10: 4, 2: 5, -7: 6}", SUBINTERP_DATA_DICT,
     "list(x) == ['zebra', 'apple', 'mango', 10, 2, -7]"},
    {"DictKeysOfManyKinds",
     "{1: 'int', 'k': 'str', (1, 'a', (None, b'')): 'tuple', b'\\x00b': 'bytes', None: 'none', 10**30: 'big',"
     " -2**70: 'big negative', 10**5000: 'huge', 2.5: 'float', False: 'bool'}",
     SUBINTERP_DATA_DICT,
     "[type(k).__name__ for k in x] == ['int', 'str', 'tuple', 'bytes', 'NoneType', 'int', 'int', 'int', 'float',"
     " 'bool'] and x[10**5000] == 'huge'"},
    // 200 levels: the deepest value Python may hand over; it still fits in an
    // argument tuple (the data model allows 256).
    {"DeepestArgument", "functools.reduce(lambda inner, _: [inner], range(199), [0])", SUBINTERP_DATA_LIST,
     "len(repr(x)) == 2 * 200 + 1"},
};

const RoundTrip kPickledKinds[] = {
    {"IntSubclass", "MyInt(7)", SUBINTERP_DATA_PICKLED, "type(x) is MyInt and x == 7"},
    {"IntEnumMember", "Color.BLUE", SUBINTERP_DATA_PICKLED, "x is Color.BLUE"},
    {"StrSubclass", "MyStr('h\\u00e9')", SUBINTERP_DATA_PICKLED, "type(x) is MyStr"},
    {"TupleSubclass", "MyTuple((1, 'a'))", SUBINTERP_DATA_PICKLED, "type(x) is MyTuple"},
    {"NamedTuple", "Point(1, [2])", SUBINTERP_DATA_PICKLED, "type(x) is Point and x.x == 1 and x.y == [2]"},
    {"Bytearray", "bytearray(range(256))", SUBINTERP_DATA_PICKLED, ""},
    {"Array", "array.array('d', [1.5, -0.0, float('inf')])", SUBINTERP_DATA_PICKLED,
     "x.typecode == 'd' and math.copysign(1.0, x[1]) == -1.0"},
    {"Decimal", "decimal.Decimal('-1.10')", SUBINTERP_DATA_PICKLED, "str(x) == '-1.10'"},
    {"Fraction", "fractions.Fraction(-3, 7)", SUBINTERP_DATA_PICKLED, "x.numerator == -3 and x.denominator == 7"},
    {"Date", "datetime.date(2024, 2, 29)", SUBINTERP_DATA_PICKLED, ""},
    {"AwareDatetime",
     "datetime.datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=datetime.timezone(datetime.timedelta(hours=-5)))",
     SUBINTERP_DATA_PICKLED, "x.utcoffset() == datetime.timedelta(hours=-5) and x.microsecond == 999999"},
    {"Set", "{1, 'a', (2, b'3'), None}", SUBINTERP_DATA_PICKLED, ""},
    {"EmptySet", "set()", SUBINTERP_DATA_PICKLED, ""},
    {"Frozenset", "frozenset({1, frozenset({2})})", SUBINTERP_DATA_PICKLED, ""},
    {"Complex", "complex(1.5, -0.0)", SUBINTERP_DATA_PICKLED, "math.copysign(1.0, x.imag) == -1.0"},
    {"OrderedDict", "collections.OrderedDict([('b', 1), ('a', 2)])", SUBINTERP_DATA_PICKLED,
     "list(x) == ['b', 'a']"},
    {"DefaultDict", "collections.defaultdict(list, {'k': [1]})", SUBINTERP_DATA_PICKLED,
     "x.default_factory is list"},
    {"Counter", "collections.Counter('abracadabra')", SUBINTERP_DATA_PICKLED, "x['a'] == 5"},
    {"Uuid", "uuid.UUID(int=2**127 + 1)", SUBINTERP_DATA_PICKLED, ""},
    {"Range", "range(1, 10, 3)", SUBINTERP_DATA_PICKLED, ""},
    {"Ellipsis", "...", SUBINTERP_DATA_PICKLED, "x is ..."},
    {"ClassObject", "collections.OrderedDict", SUBINTERP_DATA_PICKLED, "x is collections.OrderedDict"},
    // Model containers keep model kinds and pickle only the items that need it.
    {"ListOfPickled", "[MyInt(1), {'k': Color.RED}, {2}]", SUBINTERP_DATA_LIST,
     "type(x[0]) is MyInt and x[1]['k'] is Color.RED and type(x[2]) is set"},
    {"PickledDictKeys", "{MyInt(3): 'int', Color.RED: 'enum', MyStr('s'): 'str'}", SUBINTERP_DATA_DICT,
     "[type(k) for k in x] == [MyInt, Color, MyStr]"},
};

std::string case_name(const ::testing::TestParamInfo<RoundTrip>& info) { return info.param.name; }

}  // namespace

TEST_P(DataPythonRoundTrip, FromOneInterpreterToAnother) {
    const RoundTrip& c = GetParam();
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    Err e;
    Data value;
    ASSERT_OK(make_in(a, c.source, 0, e, value), e) << failure(e);
    ASSERT_EQ(subinterp_data_get_kind(value.get()), c.kind)
        << subinterp_data_kind_name(subinterp_data_get_kind(value.get())) << " " << repr(value.get());
    if (c.kind == SUBINTERP_DATA_PICKLED) {
        const void* bytes = nullptr;
        size_t len = 0;
        ASSERT_OK(subinterp_data_get_pickled(value.get(), &bytes, &len, e.out()), e);
        ASSERT_GE(len, 2u);
        EXPECT_EQ(std::string(static_cast<const char*>(bytes), 2), std::string("\x80\x05", 2))
            << "not pickle protocol 5";
    }
    EXPECT_TRUE(arrives_same(b, value.get(), c.source, c.extra));
    if (c.kind != SUBINTERP_DATA_PICKLED) {
        // And out of B again, unchanged (floats compare by bit pattern here).
        Data args = make_tuple({value.get()});
        Data back = call(b, "echo", args.get());
        EXPECT_EQ(subinterp_data_equal(back.get(), value.get()), 1)
            << repr(value.get()) << " came back from B as " << repr(back.get());
    }
}

INSTANTIATE_TEST_SUITE_P(DataPythonModel, DataPythonRoundTrip, ::testing::ValuesIn(kModelKinds), case_name);
INSTANTIATE_TEST_SUITE_P(DataPythonPickled, DataPythonRoundTrip, ::testing::ValuesIn(kPickledKinds), case_name);

// --- ints as the host sees them -------------------------------------------------------------

namespace {

class DataPythonInts : public DataPythonTest {};

const char* const kIntSources[] = {"0",      "1",       "-1",      "127",    "128",          "-128",
                                   "-129",   "255",     "2**63-1", "-2**63", "2**63",        "-2**63-1",
                                   "2**64",  "-2**64",  "2**64-1", "2**100", "-(2**100)-1", "10**5000",
                                   "-(10**5000)"};

const char* const kMinimalBytes = R"PY(
def minimal_bytes(x):
    if x == 0:
        return b''
    return x.to_bytes((x if x >= 0 else ~x).bit_length() // 8 + 1, 'little', signed=True)
)PY";

}  // namespace

// The host reads exactly Python's two's-complement bytes, and an int the host
// rebuilds from them arrives in another interpreter as the same int.
TEST_F(DataPythonInts, HostSeesPythonsBytesAndCanRebuildTheInt) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(a, kMinimalBytes);
    for (const char* source : kIntSources) {
        SCOPED_TRACE(source);
        Err e;
        Data value;
        ASSERT_OK(make_in(a, source, 0, e, value), e) << failure(e);
        ASSERT_EQ(subinterp_data_get_kind(value.get()), SUBINTERP_DATA_INT);
        Data expected;
        ASSERT_OK(make_in(a, std::string("minimal_bytes(") + source + ")", 0, e, expected), e) << failure(e);
        const void* want = nullptr;
        size_t want_len = 0;
        ASSERT_OK(subinterp_data_get_bytes(expected.get(), &want, &want_len, e.out()), e);

        // Sized with a non-NULL pointer: the NULL form has a test of its own.
        size_t len = 0;
        char scratch = 0;
        ASSERT_OK(subinterp_data_get_int_bytes(value.get(), &scratch, 0, &len, e.out()), e);
        std::string got(len, '\0');
        ASSERT_OK(subinterp_data_get_int_bytes(value.get(), got.data(), got.size(), &len, e.out()), e);
        EXPECT_EQ(got, std::string(static_cast<const char*>(want), want_len));

        int64_t small = 0;
        const subinterp_status status = subinterp_data_get_int(value.get(), &small, e.out());
        e.reset();
        EXPECT_EQ(status, want_len <= 8 ? SUBINTERP_OK : SUBINTERP_ERR_OVERFLOW);

        subinterp_data* rebuilt = nullptr;
        ASSERT_OK(subinterp_data_new_int_bytes(got.data(), got.size(), &rebuilt, e.out()), e);
        Data owned(rebuilt);
        EXPECT_EQ(subinterp_data_equal(owned.get(), value.get()), 1);
        EXPECT_TRUE(arrives_same(b, owned.get(), source));
    }
}

// The documented way to size the output: NULL bytes with capacity 0.
TEST_F(DataPythonInts, SizeQueryWithANullPointer) {
    const int64_t a = interpreter();
    Err e;
    Data huge;
    ASSERT_OK(make_in(a, "-(10**5000)", 0, e, huge), e) << failure(e);
    size_t len = 0;
    ASSERT_OK(subinterp_data_get_int_bytes(huge.get(), nullptr, 0, &len, e.out()), e);
    Data expected;
    ASSERT_OK(make_in(a, "(10**5000).bit_length() // 8 + 1", 0, e, expected), e) << failure(e);
    EXPECT_EQ(static_cast<int64_t>(len), as_int(expected.get()));
}

// --- interpreter handles ----------------------------------------------------------------------

namespace {

class DataPythonInterpreterId : public DataPythonTest {};

const char* const kIdChecks = R"PY(
def check_id(x, n):
    assert type(x).__name__ == 'InterpreterID', type(x)
    assert x.id == n, (x.id, n)
    assert int(x) == n and operator.index(x) == n, (int(x), n)
    assert repr(x) == f'InterpreterID({n})', repr(x)
    assert isinstance(hash(x), int)
    try:
        x.id = n + 1
    except AttributeError:
        pass
    else:
        raise AssertionError('InterpreterID.id is writable')
    return x

def compare_ids(x, same_id, other_id):
    assert x == same_id and not (x != same_id), (x, same_id)
    assert x != other_id and not (x == other_id), (x, other_id)
    assert {x: 'v'}[same_id] == 'v'
    return True
)PY";

}  // namespace

TEST_F(DataPythonInterpreterId, HostHandleArrivesWithIdAndComesBackAsAHandle) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(a, kIdChecks);
    exec_ok(b, kIdChecks);
    for (const int64_t n : {b, int64_t{0}, int64_t{-1}, INT64_MAX}) {
        SCOPED_TRACE(n);
        subinterp_data* raw = nullptr;
        Err e;
        ASSERT_OK(subinterp_data_new_interpreter(n, &raw, e.out()), e);
        Data handle(raw);
        Data number = make_int(n);
        Data args = make_tuple({handle.get(), number.get()});
        Data from_a;
        ASSERT_OK(call_with(a, "check_id", args.get(), 0, e, from_a), e) << failure(e);
        ASSERT_EQ(subinterp_data_get_kind(from_a.get()), SUBINTERP_DATA_INTERPRETER) << repr(from_a.get());
        int64_t id = -2;
        ASSERT_OK(subinterp_data_get_interpreter(from_a.get(), &id, e.out()), e);
        EXPECT_EQ(id, n);
        // The handle Python returned, on into a third interpreter.
        Data onward = make_tuple({from_a.get(), number.get()});
        Data from_b;
        ASSERT_OK(call_with(b, "check_id", onward.get(), 0, e, from_b), e) << failure(e);
        EXPECT_EQ(subinterp_data_equal(from_b.get(), handle.get()), 1) << repr(from_b.get());
    }
}

TEST_F(DataPythonInterpreterId, HandlesCompareAndHashByIdAndNestInContainers) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(a, kIdChecks);
    subinterp_data* raw = nullptr;
    ASSERT_EQ(subinterp_data_new_interpreter(b, &raw, nullptr), SUBINTERP_OK);
    Data handle(raw);
    ASSERT_EQ(subinterp_data_new_interpreter(b, &raw, nullptr), SUBINTERP_OK);
    Data same_id(raw);
    ASSERT_EQ(subinterp_data_new_interpreter(a, &raw, nullptr), SUBINTERP_OK);
    Data other_id(raw);
    Data args = make_tuple({handle.get(), same_id.get(), other_id.get()});
    Err e;
    Data result;
    ASSERT_OK(call_with(a, "compare_ids", args.get(), 0, e, result), e) << failure(e);

    exec_ok(a, "def nest(x):\n    return [x, {x: 'v'}, (x,)]\n");
    Data nest_args = make_tuple({handle.get()});
    Data nested;
    ASSERT_OK(call_with(a, "nest", nest_args.get(), SUBINTERP_RUN_STRICT, e, nested), e) << failure(e);
    const subinterp_data* item = nullptr;
    ASSERT_OK(subinterp_data_get_item(nested.get(), 0, &item, e.out()), e);
    EXPECT_EQ(subinterp_data_get_kind(item), SUBINTERP_DATA_INTERPRETER);
    ASSERT_OK(subinterp_data_get_item(nested.get(), 1, &item, e.out()), e);
    const subinterp_data* key = nullptr;
    ASSERT_OK(subinterp_data_get_entry(item, 0, &key, nullptr, e.out()), e);
    EXPECT_EQ(subinterp_data_equal(key, handle.get()), 1) << repr(key);
    exec_ok(b, "def unnest(l):\n    assert l[1][l[0]] == 'v' and l[2][0] == l[0], l\n    return l[0].id\n");
    Data unnest_args = make_tuple({nested.get()});
    EXPECT_EQ(as_int(call(b, "unnest", unnest_args.get()).get()), b);
}

// --- the pickle fallback ------------------------------------------------------------------------

namespace {

class DataPythonPickle : public DataPythonTest {};

}  // namespace

TEST_F(DataPythonPickle, ClassOnlyInTheSendersMainDoesNotUnpickleElsewhere) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    const char* definition =
        "class OnlyInA:\n"
        "    def __init__(self, v):\n"
        "        self.v = v\n"
        "    def __eq__(self, other):\n"
        "        return type(other) is type(self) and other.v == self.v\n";
    exec_ok(a, definition);
    Err e;
    Data value;
    ASSERT_OK(make_in(a, "OnlyInA([1, 'two'])", 0, e, value), e) << failure(e);
    ASSERT_EQ(subinterp_data_get_kind(value.get()), SUBINTERP_DATA_PICKLED);

    Data args = make_tuple({value.get()});
    Data result;
    ASSERT_EQ(call_with(b, "echo", args.get(), 0, e, result), SUBINTERP_ERR_PYTHON) << repr(result.get());
    EXPECT_EQ(e.exc_qualname(), "AttributeError") << failure(e);
    EXPECT_NE(e.message().find("OnlyInA"), std::string::npos) << e.message();
    e.reset();
    exec_ok(b, "b_is_fine = True");  // the failed unpickle left B usable

    exec_ok(b, definition);
    EXPECT_TRUE(arrives_same(b, value.get(), "OnlyInA([1, 'two'])", "type(x) is OnlyInA and x.v == [1, 'two']"));
}

TEST_F(DataPythonPickle, UnpicklableObjectsAreNotShareable) {
    const int64_t a = interpreter();
    exec_ok(a, "import threading\n");
    struct Case {
        const char* source;
        const char* culprit;  // the object that cannot be pickled
    };
    for (const Case& c : {Case{"threading.Lock()", "threading.Lock()"}, Case{"(i for i in range(3))", "(i for i in ())"},
                          Case{"lambda: 0", "lambda: 0"}, Case{"[1, {'k': threading.Lock()}]", "threading.Lock()"}}) {
        SCOPED_TRACE(c.source);
        Err e;
        Data value;
        ASSERT_EQ(make_in(a, c.source, 0, e, value), SUBINTERP_ERR_NOT_SHAREABLE) << repr(value.get());
        EXPECT_EQ(value.get(), nullptr);
        Data type_name;
        Err type_err;
        ASSERT_OK(make_in(a, std::string("type(") + c.culprit + ").__name__", 0, type_err, type_name), type_err);
        EXPECT_NE(e.message().find(as_str(type_name.get())), std::string::npos) << e.message();
        // ... and pickle's own complaint, after the library's.
        const size_t cause = e.message().find("pickling failed: ");
        ASSERT_NE(cause, std::string::npos) << e.message();
        EXPECT_NE(e.message().find("ickle", cause + 17), std::string::npos) << e.message();
        exec_ok(a, "still_usable = True");
    }
}

TEST_F(DataPythonPickle, StrictModeRefusesWhatWouldBePickled) {
    const int64_t a = interpreter();
    struct Case {
        const char* source;
        const char* type_name;
    };
    for (const Case& c : {Case{"object()", "object"}, Case{"MyInt(1)", "MyInt"}, Case{"{1, 2}", "set"},
                          Case{"[1, {'k': (2, {3})}]", "set"}, Case{"Color.RED", "Color"},
                          Case{"bytearray(b'x')", "bytearray"}}) {
        SCOPED_TRACE(c.source);
        Err e;
        Data value;
        ASSERT_EQ(make_in(a, c.source, SUBINTERP_RUN_STRICT, e, value), SUBINTERP_ERR_NOT_SHAREABLE)
            << repr(value.get());
        EXPECT_NE(e.message().find("strict"), std::string::npos) << e.message();
        EXPECT_NE(e.message().find(c.type_name), std::string::npos) << e.message();
        // Without the flag the same value is pickled.
        e.reset();
        EXPECT_OK(make_in(a, c.source, 0, e, value), e);
    }
}

TEST_F(DataPythonPickle, StrictModeStillConvertsModelKinds) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    const std::string source =
        "(None, True, 0, -2**63, 2**64, 10**5000, -0.0, float('nan'), 'h\\u00e9\\x00', bytes(range(256)),"
        " [(), {}], {(1, b''): [None], 2.5: {'k': False}})";
    Err e;
    Data strict;
    ASSERT_OK(make_in(a, source, SUBINTERP_RUN_STRICT, e, strict), e) << failure(e);
    Data lenient;
    ASSERT_OK(make_in(a, source, 0, e, lenient), e) << failure(e);
    EXPECT_EQ(subinterp_data_equal(strict.get(), lenient.get()), 1) << repr(strict.get());
    EXPECT_TRUE(arrives_same(b, strict.get(), source));

    exec_ok(a, "def view():\n    return memoryview(b'abc')\n");
    Data view;
    ASSERT_OK(call_with(a, "view", nullptr, SUBINTERP_RUN_STRICT, e, view), e) << failure(e);
    EXPECT_EQ(subinterp_data_get_kind(view.get()), SUBINTERP_DATA_BUFFER);
}

TEST_F(DataPythonPickle, HostMadePickleBytesUnpickleInTheInterpreter) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    Err e;
    Data from_a;
    ASSERT_OK(make_in(a, "[fractions.Fraction(1, 3), MyInt(-5)]", 0, e, from_a), e) << failure(e);
    const subinterp_data* item = nullptr;
    ASSERT_OK(subinterp_data_get_item(from_a.get(), 0, &item, e.out()), e);
    const void* bytes = nullptr;
    size_t len = 0;
    ASSERT_OK(subinterp_data_get_pickled(item, &bytes, &len, e.out()), e);
    subinterp_data* raw = nullptr;
    ASSERT_OK(subinterp_data_new_pickled(bytes, len, &raw, e.out()), e);
    Data copy(raw);
    EXPECT_EQ(subinterp_data_equal(copy.get(), item), 1);
    EXPECT_TRUE(arrives_same(b, copy.get(), "fractions.Fraction(1, 3)"));

    for (const std::string& garbage : {std::string(), std::string("\x80\x05garbage", 9), std::string("not a pickle")}) {
        ASSERT_OK(subinterp_data_new_pickled(garbage.data(), garbage.size(), &raw, e.out()), e);
        Data bad(raw);
        Data args = make_tuple({bad.get()});
        Data result;
        EXPECT_EQ(call_with(b, "echo", args.get(), 0, e, result), SUBINTERP_ERR_PYTHON) << repr(result.get());
        e.reset();
    }
    exec_ok(b, "b_is_fine = True");
}

// --- refusals -------------------------------------------------------------------------------------

namespace {

class DataPythonRefused : public DataPythonTest {};

}  // namespace

TEST_F(DataPythonRefused, LoneSurrogates) {
    const int64_t a = interpreter();
    for (const char* source : {"'a\\ud800b'", "'\\udfff'", "['ok', {'k': '\\udc80'}]", "{'\\ud83d': 1}"}) {
        SCOPED_TRACE(source);
        Err e;
        Data value;
        ASSERT_EQ(make_in(a, source, 0, e, value), SUBINTERP_ERR_NOT_SHAREABLE) << repr(value.get());
        EXPECT_NE(e.message().find("surrogate"), std::string::npos) << e.message();
    }
    // A properly paired emoji is fine, and no exception was left pending.
    Err e;
    Data fine;
    ASSERT_OK(make_in(a, "'\\U0001F40D'", 0, e, fine), e) << failure(e);
    EXPECT_EQ(as_str(fine.get()), "\xf0\x9f\x90\x8d");
}

TEST_F(DataPythonRefused, SelfReferencingContainers) {
    const int64_t a = interpreter();
    exec_ok(a,
            "loop = []\nloop.append(loop)\n"
            "d = {}\nd['d'] = d\n"
            "x = []\nx.append([x])\n"
            "t = ([],)\nt[0].append(t)\n");
    for (const char* source : {"loop", "d", "x", "t", "[1, loop]"}) {
        SCOPED_TRACE(source);
        Err e;
        Data value;
        EXPECT_EQ(make_in(a, source, 0, e, value), SUBINTERP_ERR_NOT_SHAREABLE) << repr(value.get());
        e.reset();
        EXPECT_EQ(make_in(a, source, SUBINTERP_RUN_STRICT, e, value), SUBINTERP_ERR_NOT_SHAREABLE);
    }
    exec_ok(a, "still_usable = True");
}

TEST_F(DataPythonRefused, NestingDeeperThan200Levels) {
    const int64_t a = interpreter();
    // 201 containers, with and without a scalar at the bottom.
    for (const char* source : {"functools.reduce(lambda inner, _: [inner], range(200), [0])",
                               "functools.reduce(lambda inner, _: [inner], range(200), [])",
                               "functools.reduce(lambda inner, _: (inner,), range(200), ())",
                               "functools.reduce(lambda inner, _: {'k': inner}, range(200), {})"}) {
        SCOPED_TRACE(source);
        Err e;
        Data value;
        EXPECT_EQ(make_in(a, source, 0, e, value), SUBINTERP_ERR_NOT_SHAREABLE)
            << subinterp_status_name(e.code()) << ": " << e.message();
    }
}

// A result may be 200 levels deep (the most conversion from Python allows) and
// a host can still wrap it: the data model allows 256 levels.
TEST_F(DataPythonRefused, TwoHundredLevelsComeBackAndCanBeWrappedFurther) {
    const int64_t a = interpreter();
    Err e;
    Data deepest;
    ASSERT_OK(make_in(a, "functools.reduce(lambda inner, _: [inner], range(199), [0])", 0, e, deepest), e)
        << failure(e);
    ASSERT_EQ(subinterp_data_get_kind(deepest.get()), SUBINTERP_DATA_LIST);
    const subinterp_data* items[] = {deepest.get()};
    subinterp_data* args = nullptr;
    EXPECT_EQ(subinterp_data_new_tuple(items, 1, &args, e.out()), SUBINTERP_OK) << e.message();
    subinterp_data_free(args);
}

TEST_F(DataPythonRefused, DictKeysDistinctForTheHostButEqualInPython) {
    const int64_t b = interpreter();
    Data one = make_int(1);
    Data yes = make_bool(true);
    Data one_float = make_float(1.0);
    Data first = make_str("first");
    Data second = make_str("second");
    const std::vector<std::pair<const subinterp_data*, const subinterp_data*>> pairs = {
        {one.get(), yes.get()}, {yes.get(), one.get()}, {one.get(), one_float.get()}, {yes.get(), one_float.get()}};
    for (const auto& [k1, k2] : pairs) {
        SCOPED_TRACE(repr(k1) + " and " + repr(k2));
        Data dict = make_dict({k1, k2}, {first.get(), second.get()});
        ASSERT_NE(dict.get(), nullptr);
        Data nested = make_list({dict.get()});
        for (const subinterp_data* arg : {dict.get(), nested.get()}) {
            Data args = make_tuple({arg});
            Err e;
            Data result;
            EXPECT_EQ(call_with(b, "echo", args.get(), 0, e, result), SUBINTERP_ERR_INVALID_ARGUMENT)
                << repr(result.get());
        }
    }
    exec_ok(b, "b_is_fine = True");
}

TEST_F(DataPythonRefused, ReleasedMemoryview) {
    const int64_t a = interpreter();
    exec_ok(a, "def released(mv=None):\n    mv = memoryview(b'abc') if mv is None else mv\n    mv.release()\n"
               "    return mv\n");
    Err e;
    Data value;
    ASSERT_EQ(call_with(a, "released", nullptr, 0, e, value), SUBINTERP_ERR_PYTHON) << repr(value.get());
    EXPECT_EQ(e.exc_qualname(), "ValueError") << e.message();
    // Also a released view of memory the library shares.
    e.reset();
    void* memory = nullptr;
    subinterp_data* raw = nullptr;
    ASSERT_OK(subinterp_data_new_buffer(16, &memory, &raw, e.out()), e);
    Data buffer(raw);
    std::memset(memory, 0, 16);
    Data args = make_tuple({buffer.get()});
    ASSERT_EQ(call_with(a, "released", args.get(), 0, e, value), SUBINTERP_ERR_PYTHON) << repr(value.get());
    EXPECT_EQ(e.exc_qualname(), "ValueError") << e.message();
}

// Pickling runs Python code, which may change the container being converted.
TEST_F(DataPythonRefused, ContainerMutatedWhileItIsConverted) {
    const int64_t a = interpreter();
    exec_ok(a,
            "class Clears:\n"
            "    def __init__(self, target):\n"
            "        self.target = target\n"
            "    def __reduce__(self):\n"
            "        self.target.clear()\n"
            "        return (int, (5,))\n"
            "def cleared_list():\n"
            "    l = [0, 1, 2, 3]\n"
            "    l.insert(1, Clears(l))\n"
            "    return l\n"
            "def cleared_dict():\n"
            "    d = {'a': 0}\n"
            "    d['b'] = Clears(d)\n"
            "    d['c'] = [1]\n"
            "    return d\n");
    // Refused, as Python's own iteration refuses a container that changes
    // size under it: sending part of it would lose data silently.
    for (const char* name : {"cleared_list", "cleared_dict"}) {
        Err e;
        Data value;
        EXPECT_EQ(call_with(a, name, nullptr, 0, e, value), SUBINTERP_ERR_NOT_SHAREABLE) << name;
        EXPECT_NE(e.message().find("changed size"), std::string::npos) << e.message();
    }
    exec_ok(a, "still_usable = True");
}

// --- buffers: zero copy ---------------------------------------------------------------------------

namespace {

class DataPythonBuffer : public DataPythonTest {
protected:
    // A buffer of library memory filled with 0, 1, 2, ...
    Data host_buffer(size_t size, unsigned char** memory) {
        void* raw_memory = nullptr;
        subinterp_data* raw = nullptr;
        Err e;
        EXPECT_OK(subinterp_data_new_buffer(size, &raw_memory, &raw, e.out()), e);
        *memory = static_cast<unsigned char*>(raw_memory);
        if (*memory) std::memcpy(*memory, pattern(size).data(), size);
        return Data(raw);
    }
};

const char* const kBufferHelpers = R"PY(
def inspect_shared(mv, size):
    assert type(mv) is memoryview, type(mv)
    assert not mv.readonly
    assert (mv.format, mv.itemsize, mv.ndim, mv.nbytes) == ('B', 1, 1, size), (mv.format, mv.itemsize, mv.ndim, mv.nbytes)
    assert mv.c_contiguous
    assert mv.tobytes() == bytes(i % 256 for i in range(size)), mv.tobytes()
    mv[0] = 0xAA
    mv[-1] = 0x55
    keep(mv)
    return True

def try_write(mv):
    assert type(mv) is memoryview and mv.readonly, mv.readonly
    try:
        mv[0] = 1
    except TypeError:
        return True
    raise AssertionError('wrote into a read-only buffer')
)PY";

}  // namespace

TEST_F(DataPythonBuffer, HostBufferArrivesAsAWritableViewOfTheSameMemory) {
    const int64_t a = interpreter();
    exec_ok(a, kBufferHelpers);
    unsigned char* memory = nullptr;
    Data buffer = host_buffer(64, &memory);
    ASSERT_NE(memory, nullptr);
    Data size = make_int(64);
    Data args = make_tuple({buffer.get(), size.get()});
    Err e;
    Data result;
    ASSERT_OK(call_with(a, "inspect_shared", args.get(), 0, e, result), e) << failure(e);
    EXPECT_EQ(memory[0], 0xAA);  // written by Python
    EXPECT_EQ(memory[63], 0x55);
    memory[1] = 0x77;  // written by the host, read by the view A kept
    exec_ok(a, "assert kept[1] == 0x77, kept[1]\nassert kept[2] == 2");

    Data echo_args = make_tuple({buffer.get()});
    Data back = call(a, "echo", echo_args.get());
    ASSERT_EQ(subinterp_data_get_kind(back.get()), SUBINTERP_DATA_BUFFER);
    const BufferInfo info = buffer_of(back.get());
    EXPECT_EQ(info.memory, memory);
    EXPECT_EQ(info.size, 64u);
    EXPECT_EQ(info.readonly, 0);
    EXPECT_EQ(subinterp_data_equal(back.get(), buffer.get()), 1);
}

TEST_F(DataPythonBuffer, OneBufferSharedByTwoInterpreters) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    unsigned char* memory = nullptr;
    Data buffer = host_buffer(32, &memory);
    keep_in(a, buffer);
    keep_in(b, buffer);
    exec_ok(a, "kept[0:5] = b'hello'");
    exec_ok(b, "assert bytes(kept[0:5]) == b'hello', bytes(kept[0:5])\nkept[5:11] = b' world'");
    exec_ok(a, "assert bytes(kept[0:11]) == b'hello world', bytes(kept[0:11])");
    EXPECT_EQ(std::string(reinterpret_cast<char*>(memory), 11), "hello world");
    EXPECT_EQ(memory[11], 11);
}

TEST_F(DataPythonBuffer, ReadOnlyExternalBufferArrivesReadOnly) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(a, kBufferHelpers);
    exec_ok(b, kBufferHelpers);
    static const unsigned char constant[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    subinterp_data* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_new_buffer_external(const_cast<unsigned char*>(constant), sizeof constant, 1, nullptr,
                                                 nullptr, &raw, e.out()),
              e);
    Data buffer(raw);
    Data args = make_tuple({buffer.get()});
    Data result;
    ASSERT_OK(call_with(a, "try_write", args.get(), 0, e, result), e) << failure(e);
    exec_ok(a, "def first(mv):\n    return mv[0], bytes(mv)\n");
    EXPECT_EQ(repr(call(a, "first", args.get()).get()), "(9, b'\\t\\x08\\x07\\x06\\x05\\x04\\x03\\x02')");

    Data back = call(a, "echo", args.get());
    const BufferInfo info = buffer_of(back.get());
    EXPECT_EQ(info.memory, constant);
    EXPECT_EQ(info.readonly, 1);
    Data onward = make_tuple({back.get()});
    ASSERT_OK(call_with(b, "try_write", onward.get(), 0, e, result), e) << failure(e);
    EXPECT_EQ(constant[0], 9);
}

TEST_F(DataPythonBuffer, ViewsOfLibraryMemoryComeBackWithoutCopying) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(b, kBufferHelpers);
    unsigned char* memory = nullptr;
    Data buffer = host_buffer(64, &memory);
    keep_in(a, buffer);

    struct Case {
        const char* source;
        size_t offset;
        size_t size;
        int readonly;
    };
    for (const Case& c : {Case{"kept", 0, 64, 0}, Case{"kept[10:20]", 10, 10, 0}, Case{"kept[63:]", 63, 1, 0},
                          Case{"kept[64:]", 64, 0, 0}, Case{"memoryview(kept)", 0, 64, 0},
                          Case{"kept.toreadonly()", 0, 64, 1}, Case{"kept[5:9].toreadonly()", 5, 4, 1},
                          Case{"kept[:32].cast('B', (4, 8))", 0, 32, 0}}) {
        SCOPED_TRACE(c.source);
        Err e;
        Data view;
        ASSERT_OK(make_in(a, c.source, 0, e, view), e) << failure(e);
        ASSERT_EQ(subinterp_data_get_kind(view.get()), SUBINTERP_DATA_BUFFER);
        const BufferInfo info = buffer_of(view.get());
        EXPECT_EQ(info.memory, memory + c.offset);
        EXPECT_EQ(info.size, c.size);
        EXPECT_EQ(info.readonly, c.readonly);
    }

    // A window passed on keeps its place: a slice of a slice is offset twice.
    Err e;
    Data window;
    ASSERT_OK(make_in(a, "kept[10:20]", 0, e, window), e) << failure(e);
    exec_ok(b, "def narrow(mv):\n    assert bytes(mv) == bytes(range(10, 20)), bytes(mv)\n    return mv[2:4]\n");
    Data window_args = make_tuple({window.get()});
    Data narrowed = call(b, "narrow", window_args.get());
    const BufferInfo info = buffer_of(narrowed.get());
    EXPECT_EQ(info.memory, memory + 12);
    EXPECT_EQ(info.size, 2u);

    // A read-only window stays read-only in the next interpreter.
    Data readonly_window;
    ASSERT_OK(make_in(a, "kept.toreadonly()", 0, e, readonly_window), e) << failure(e);
    Data readonly_args = make_tuple({readonly_window.get()});
    Data result;
    EXPECT_OK(call_with(b, "try_write", readonly_args.get(), 0, e, result), e) << failure(e);
}

// Views that are not one contiguous run of bytes cannot be shared as a
// window; they still come back with the right bytes and flag.
TEST_F(DataPythonBuffer, StridedAndTypedViewsComeBackWithTheirBytes) {
    const int64_t a = interpreter();
    unsigned char* memory = nullptr;
    Data buffer = host_buffer(64, &memory);
    keep_in(a, buffer);
    Err e;
    Data strided;
    ASSERT_OK(make_in(a, "kept[::2]", 0, e, strided), e) << failure(e);
    BufferInfo info = buffer_of(strided.get());
    std::string even;
    for (int i = 0; i < 64; i += 2) even.push_back(static_cast<char>(i));
    EXPECT_EQ(bytes_of(info), even);
    EXPECT_EQ(info.readonly, 0);
    EXPECT_TRUE(info.memory < memory || info.memory >= memory + 64) << "a strided view cannot be a window";

    Data typed;
    ASSERT_OK(make_in(a, "kept.cast('I')", 0, e, typed), e) << failure(e);
    info = buffer_of(typed.get());
    EXPECT_EQ(bytes_of(info), pattern(64));
    EXPECT_EQ(info.readonly, 0);
}

TEST_F(DataPythonBuffer, ViewsOfPythonObjectsAreCopiedOnce) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(b, kBufferHelpers);
    exec_ok(a, "ba = bytearray(b'abcdef')\n");
    Err e;
    Data copy;
    ASSERT_OK(make_in(a, "memoryview(ba)", 0, e, copy), e) << failure(e);
    ASSERT_EQ(subinterp_data_get_kind(copy.get()), SUBINTERP_DATA_BUFFER);
    BufferInfo info = buffer_of(copy.get());
    EXPECT_EQ(bytes_of(info), "abcdef");
    EXPECT_EQ(info.readonly, 0);
    // Separate memory both ways.
    exec_ok(a, "ba[0] = ord('z')");
    EXPECT_EQ(info.memory[0], 'a');
    info.memory[1] = 'Y';
    exec_ok(a, "assert ba == bytearray(b'zbcdef'), ba");
    // The copy is itself shared memory now: B gets a writable view of it.
    Data args = make_tuple({copy.get()});
    exec_ok(b, "def look(mv):\n    assert type(mv) is memoryview and not mv.readonly\n"
               "    assert bytes(mv) == b'aYcdef', bytes(mv)\n    mv[2] = ord('Q')\n");
    call(b, "look", args.get());
    EXPECT_EQ(info.memory[2], 'Q');

    struct Case {
        const char* source;
        std::string bytes;
        int readonly;
    };
    for (const Case& c : {Case{"memoryview(b'xyz')", "xyz", 1}, Case{"memoryview(ba).toreadonly()", "zbcdef", 1},
                          Case{"memoryview(ba)[1:3]", "bc", 0}, Case{"memoryview(b'')", "", 1},
                          Case{"memoryview(array.array('H', [1, 2]))", std::string("\x01\x00\x02\x00", 4), 0}}) {
        SCOPED_TRACE(c.source);
        Data view;
        ASSERT_OK(make_in(a, c.source, 0, e, view), e) << failure(e);
        ASSERT_EQ(subinterp_data_get_kind(view.get()), SUBINTERP_DATA_BUFFER);
        const BufferInfo got = buffer_of(view.get());
        EXPECT_EQ(bytes_of(got), c.bytes);
        EXPECT_EQ(got.readonly, c.readonly);
    }
}

TEST_F(DataPythonBuffer, NestedInContainersStillOneMemory) {
    const int64_t a = interpreter();
    unsigned char* memory = nullptr;
    Data buffer = host_buffer(16, &memory);
    Data key = make_str("k");
    Data inner = make_dict({key.get()}, {buffer.get()});
    Data list = make_list({buffer.get(), inner.get()});
    Data args = make_tuple({list.get()});
    exec_ok(a, "def both(l):\n    l[0][3] = 0xEE\n    assert l[1]['k'][3] == 0xEE\n    return (l[1]['k'], l[0][4:])\n");
    Data back = call(a, "both", args.get());
    EXPECT_EQ(memory[3], 0xEE);
    const subinterp_data* item = nullptr;
    ASSERT_EQ(subinterp_data_get_item(back.get(), 0, &item, nullptr), SUBINTERP_OK);
    EXPECT_EQ(buffer_of(item).memory, memory);
    ASSERT_EQ(subinterp_data_get_item(back.get(), 1, &item, nullptr), SUBINTERP_OK);
    EXPECT_EQ(buffer_of(item).memory, memory + 4);
}

TEST(DataPythonLargeBuffer, SixtyFourMiBIsNotCopied) {
    const int64_t a = create();
    exec_ok(a, "def look(mv):\n    assert type(mv) is memoryview and mv.nbytes == 64 << 20, mv.nbytes\n"
               "    assert mv[0] == 1 and mv[-1] == 2 and mv[1 << 25] == 3\n    mv[7] = 4\n    return mv\n");
    constexpr size_t kSize = size_t{64} << 20;
    void* raw_memory = nullptr;
    subinterp_data* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_data_new_buffer(kSize, &raw_memory, &raw, e.out()), e);
    Data buffer(raw);
    auto* memory = static_cast<unsigned char*>(raw_memory);
    memory[0] = 1;
    memory[kSize - 1] = 2;
    memory[kSize / 2] = 3;
    Data args = make_tuple({buffer.get()});
    Data back = call(a, "look", args.get());
    const BufferInfo info = buffer_of(back.get());
    EXPECT_EQ(info.memory, memory);
    EXPECT_EQ(info.size, kSize);
    EXPECT_EQ(memory[7], 4);
    back.reset();
    EXPECT_OK(subinterp_destroy(a, e.out()), e);
}

// --- buffers: when the memory goes back -----------------------------------------------------------

namespace {

class DataPythonBufferLifetime : public DataPythonTest {
protected:
    Data external(int readonly = 0) {
        std::memcpy(storage_, pattern(sizeof storage_).data(), sizeof storage_);
        subinterp_data* raw = nullptr;
        Err e;
        EXPECT_OK(subinterp_data_new_buffer_external(storage_, sizeof storage_, readonly, record_release, &log_, &raw,
                                                     e.out()),
                  e);
        return Data(raw);
    }
    int releases() const { return log_.calls.load(); }
    std::thread::id release_thread() { return log_.releasing_thread(); }
    void expect_released_once_here() {
        EXPECT_EQ(releases(), 1);
        EXPECT_EQ(log_.released_data(), static_cast<void*>(storage_));
        EXPECT_EQ(log_.releasing_thread(), std::this_thread::get_id());
    }
    // With the host's references gone (the test body's locals) and every
    // interpreter destroyed, nothing can hold the memory any more.
    void TearDown() override {
        DataPythonTest::TearDown();
        EXPECT_EQ(releases(), 1) << "once the host and every interpreter let go";
    }
    unsigned char storage_[256];
    ReleaseLog log_;
};

}  // namespace

TEST_F(DataPythonBufferLifetime, HostDropsFirstThenPython) {
    const int64_t a = interpreter();
    Data buffer = external();
    keep_in(a, buffer);
    buffer.reset();
    EXPECT_EQ(releases(), 0) << "released while interpreter A still holds a memoryview";
    exec_ok(a, "assert kept[3] == 3 and len(kept) == 256\nkept[0] = 0xFE");
    EXPECT_EQ(storage_[0], 0xFE);
    exec_ok(a, "del kept\ngc.collect()");
    expect_released_once_here();
    exec_ok(a, "gc.collect()");
    EXPECT_EQ(releases(), 1);
}

TEST_F(DataPythonBufferLifetime, PythonDropsFirstThenHost) {
    const int64_t a = interpreter();
    Data buffer = external();
    Data args = make_tuple({buffer.get()});
    call(a, "keep", args.get());
    exec_ok(a, "derived = kept[1:]\ndel kept\ngc.collect()");
    EXPECT_EQ(releases(), 0);
    exec_ok(a, "del derived\ngc.collect()");
    EXPECT_EQ(releases(), 0) << "released while the host still holds the buffer";
    args.reset();
    EXPECT_EQ(releases(), 0);
    buffer.reset();
    expect_released_once_here();
}

TEST_F(DataPythonBufferLifetime, CallThatRaisesNeitherKeepsNorReleases) {
    const int64_t a = interpreter();
    Data buffer = external();
    Data args = make_tuple({buffer.get()});
    exec_ok(a, "def fail(mv):\n    raise ValueError(len(mv))\n");
    Err e;
    Data result;
    ASSERT_EQ(call_with(a, "fail", args.get(), 0, e, result), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.message(), "256");
    exec_ok(a, "gc.collect()");
    EXPECT_EQ(releases(), 0);
    args.reset();
    buffer.reset();
    expect_released_once_here();
}

TEST_F(DataPythonBufferLifetime, BoundByPrepareMain) {
    const int64_t a = interpreter();
    Data buffer = external();
    Data name = make_str("bound");
    Data names = make_dict({name.get()}, {buffer.get()});
    Err e;
    ASSERT_OK(subinterp_prepare_main(a, names.get(), e.out()), e);
    names.reset();
    buffer.reset();
    EXPECT_EQ(releases(), 0);
    exec_ok(a, "assert bytes(bound[:3]) == b'\\x00\\x01\\x02'\ndel bound");
    expect_released_once_here();
}

TEST_F(DataPythonBufferLifetime, DestroyingTheInterpreterReleasesItsOnlyView) {
    const int64_t a = interpreter();
    Data buffer = external();
    keep_in(a, buffer);
    buffer.reset();
    EXPECT_EQ(releases(), 0);
    Err e;
    ASSERT_OK(subinterp_destroy(a, e.out()), e);
    expect_released_once_here();
}

// Only the cycle collector frees a view caught in a reference cycle; destroy
// must still find it.
TEST_F(DataPythonBufferLifetime, DestroyingTheInterpreterReleasesAViewInACycle) {
    const int64_t a = interpreter();
    Data buffer = external();
    Data args = make_tuple({buffer.get()});
    call(a, "keep", args.get());
    exec_ok(a, "gc.disable()\nclass Holder:\n    pass\nh = Holder()\nh.me = h\nh.view = kept[2:]\ndel h, kept\n");
    args.reset();
    buffer.reset();
    EXPECT_EQ(releases(), 0);
    Err e;
    ASSERT_OK(subinterp_destroy(a, e.out()), e);
    expect_released_once_here();
}

TEST_F(DataPythonBufferLifetime, DestroyingTheInterpreterWhileTheHostHolds) {
    const int64_t a = interpreter();
    Data buffer = external();
    Data args = make_tuple({buffer.get()});
    call(a, "keep", args.get());
    Err e;
    ASSERT_OK(subinterp_destroy(a, e.out()), e);
    EXPECT_EQ(releases(), 0);
    EXPECT_EQ(storage_[5], 5);
    args.reset();
    buffer.reset();
    expect_released_once_here();
}

TEST_F(DataPythonBufferLifetime, PythonDropsTheLastReferenceOnAnotherThread) {
    const int64_t a = interpreter();
    Data buffer = external();
    keep_in(a, buffer);
    buffer.reset();
    std::thread::id dropper;
    std::thread worker([&] {
        dropper = std::this_thread::get_id();
        exec_ok(a, "del kept\ngc.collect()");
    });
    worker.join();
    EXPECT_EQ(releases(), 1);
    EXPECT_EQ(release_thread(), dropper);
}

TEST_F(DataPythonBufferLifetime, HostDropsTheLastReferenceOnAnotherThread) {
    const int64_t a = interpreter();
    Data buffer = external();
    keep_in(a, buffer);
    exec_ok(a, "del kept\ngc.collect()");
    EXPECT_EQ(releases(), 0);
    std::thread::id dropper;
    std::thread worker([&, owned = buffer.release()] {
        dropper = std::this_thread::get_id();
        subinterp_data_free(owned);
    });
    worker.join();
    EXPECT_EQ(releases(), 1);
    EXPECT_EQ(release_thread(), dropper);
}

TEST_F(DataPythonBufferLifetime, DestroyOnAnotherThreadReleasesThere) {
    const int64_t a = interpreter();
    Data buffer = external();
    keep_in(a, buffer);
    buffer.reset();
    std::thread::id destroyer;
    subinterp_status status = -1;
    std::thread worker([&] {
        destroyer = std::this_thread::get_id();
        status = subinterp_destroy(a, nullptr);
    });
    worker.join();
    EXPECT_EQ(status, SUBINTERP_OK);
    EXPECT_EQ(releases(), 1);
    EXPECT_EQ(release_thread(), destroyer);
}

TEST_F(DataPythonBufferLifetime, DerivedViewInAnotherInterpreterAOutlivesB) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    Data buffer = external();
    Data args = make_tuple({buffer.get()});
    call(a, "keep", args.get());
    Err e;
    Data derived;
    ASSERT_OK(make_in(a, "kept[8:24]", 0, e, derived), e) << failure(e);
    EXPECT_EQ(buffer_of(derived.get()).memory, storage_ + 8);
    Data derived_args = make_tuple({derived.get()});
    call(b, "keep", derived_args.get());
    args.reset();
    buffer.reset();
    derived_args.reset();
    derived.reset();
    EXPECT_EQ(releases(), 0);
    exec_ok(b, "assert bytes(kept) == bytes(range(8, 24)), bytes(kept)\ndel kept\ngc.collect()");
    EXPECT_EQ(releases(), 0) << "released while A still holds the original view";
    exec_ok(a, "assert kept[255] == 255\ndel kept\ngc.collect()");
    expect_released_once_here();
}

TEST_F(DataPythonBufferLifetime, DerivedViewInAnotherInterpreterBOutlivesA) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    Data buffer = external();
    Data args = make_tuple({buffer.get()});
    call(a, "keep", args.get());
    Err e;
    Data derived;
    ASSERT_OK(make_in(a, "kept[8:24]", 0, e, derived), e) << failure(e);
    Data derived_args = make_tuple({derived.get()});
    call(b, "keep", derived_args.get());
    args.reset();
    buffer.reset();
    derived_args.reset();
    derived.reset();
    exec_ok(a, "del kept\ngc.collect()");
    EXPECT_EQ(releases(), 0) << "released while B still holds a view derived from A's";
    exec_ok(b, "assert bytes(kept) == bytes(range(8, 24)), bytes(kept)");
    ASSERT_OK(subinterp_destroy(a, e.out()), e);
    EXPECT_EQ(releases(), 0);
    exec_ok(b, "del kept\ngc.collect()");
    expect_released_once_here();
}

// Finalizing ends the runtime for the whole process, so these run in a child
// process of their own (re-executed, so whatever ran before is irrelevant).
namespace {

[[noreturn]] void finalize_with_a_view_alive(bool host_keeps_its_reference) {
    static unsigned char storage[64];
    static ReleaseLog log;
    auto fail = [](const char* what, const subinterp_error* err) {
        std::fprintf(stderr, "FAILED: %s (releases=%d) %s\n", what, log.calls.load(),
                     err ? subinterp_error_message(err) : "");
        std::exit(1);
    };
    subinterp_error* err = nullptr;
    subinterp_data* buffer = nullptr;
    if (subinterp_data_new_buffer_external(storage, sizeof storage, 0, record_release, &log, &buffer, &err) !=
        SUBINTERP_OK) {
        fail("new_buffer_external", err);
    }
    int64_t id = -1;
    if (subinterp_create(nullptr, &id, &err) != SUBINTERP_OK) fail("create", err);
    if (subinterp_exec(id, "def keep(x):\n    global kept\n    kept = x\n", nullptr, nullptr, &err) != SUBINTERP_OK) {
        fail("exec", err);
    }
    subinterp_data* args = nullptr;
    const subinterp_data* items[] = {buffer};
    if (subinterp_data_new_tuple(items, 1, &args, &err) != SUBINTERP_OK) fail("tuple", err);
    subinterp_data* result = nullptr;
    if (subinterp_call(id, "keep", args, nullptr, nullptr, &result, nullptr, &err) != SUBINTERP_OK) fail("keep", err);
    subinterp_data_free(result);
    subinterp_data_free(args);
    if (!host_keeps_its_reference) subinterp_data_free(buffer);
    if (log.calls.load() != 0) fail("released before finalize", nullptr);
    if (subinterp_runtime_finalize(&err) != SUBINTERP_OK) fail("finalize", err);
    if (host_keeps_its_reference) {
        if (log.calls.load() != 0) fail("released by finalize while the host still holds the buffer", nullptr);
        subinterp_data_free(buffer);
    }
    if (log.calls.load() != 1) fail("not released exactly once", nullptr);
    if (log.released_data() != storage) fail("released with the wrong pointer", nullptr);
    std::exit(0);
}

class DataPythonFinalizeDeathTest : public ::testing::Test {
protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
};

}  // namespace

TEST_F(DataPythonFinalizeDeathTest, FinalizeReleasesTheOnlyViewOnce) {
    EXPECT_EXIT(finalize_with_a_view_alive(false), ::testing::ExitedWithCode(0), "");
}

TEST_F(DataPythonFinalizeDeathTest, HostReferenceOutlivesFinalize) {
    EXPECT_EXIT(finalize_with_a_view_alive(true), ::testing::ExitedWithCode(0), "");
}

// Keys distinct in Python but equal in the data model's structural equality
// (two NaN objects, equal pickles of objects without __eq__) are valid dicts:
// they convert, and come back with as many keys.
TEST_F(DataPythonRefused, PythonDictsWithStructurallyEqualKeysConvert) {
    const int64_t a = interpreter();
    const int64_t b = interpreter();
    exec_ok(a, "class K:\n    pass\n"
               "import pickle\n"
               "def nan_keys(): return {float('nan'): 1, float('nan'): 2}\n"
               "def nan_tuple_keys(): return {(float('nan'),): 1, (float('nan'),): 2}\n");
    exec_ok(b, "def count(d): return len(d)\n");
    for (const char* maker : {"nan_keys", "nan_tuple_keys"}) {
        Err e;
        Data value;
        ASSERT_OK(call_with(a, maker, nullptr, 0, e, value), e) << maker << ": " << failure(e);
        Data args = make_tuple({value.get()});
        EXPECT_EQ(as_int(call(b, "count", args.get()).get()), 2) << maker;
    }
}

// A memoryview is hashable in Python but converts to a buffer, which portable
// data cannot use as a dict key: nothing the caller passed was invalid, so the
// value is NOT_SHAREABLE (it was INVALID_ARGUMENT; found by core/fuzz, input
// core/fuzz/crashes/convert-memoryview-dict-key).
TEST_F(DataPythonPickle, DictWithAMemoryviewKeyIsNotShareable) {
    const int64_t a = interpreter();
    for (const char* source : {"{memoryview(b'k'): 1}", "{(1, memoryview(b'k')): 1}", "[{memoryview(b''): None}]"}) {
        SCOPED_TRACE(source);
        Err e;
        Data value;
        ASSERT_EQ(make_in(a, source, 0, e, value), SUBINTERP_ERR_NOT_SHAREABLE) << repr(value.get());
        EXPECT_NE(std::string(e.message()).find("cannot be a key"), std::string::npos) << e.message();
    }
}
