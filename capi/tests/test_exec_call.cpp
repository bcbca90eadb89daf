// exec, call, prepare_main and output capture through the C ABI.
#include <cmath>
#include <cstring>
#include <string>

#include "helpers.hpp"

using namespace subinterp_test;

namespace {

class Exec : public ::testing::Test {
protected:
    void SetUp() override { id_ = create(); }
    int64_t id_ = -1;
};

class Call : public Exec {};
class PrepareMain : public Exec {};
class Capture : public Exec {};

subinterp_run_options capture_flags(uint32_t flags) {
    subinterp_run_options opts;
    EXPECT_EQ(subinterp_run_options_init(&opts), SUBINTERP_OK);
    opts.flags = flags;
    return opts;
}

std::string out_text(const subinterp_output* out) {
    size_t n = 0;
    const char* text = subinterp_output_stdout(out, &n);
    return std::string(text, n);
}

std::string err_text(const subinterp_output* out) {
    size_t n = 0;
    const char* text = subinterp_output_stderr(out, &n);
    return std::string(text, n);
}

}  // namespace

TEST_F(Exec, StatePersistsBetweenCalls) {
    exec_ok(id_, "counter = 41");
    exec_ok(id_, "counter += 1");
    EXPECT_EQ(as_int(eval(id_, "counter").get()), 42);
    EXPECT_EQ(as_str(eval(id_, "__name__").get()), "__main__");
}

TEST_F(Exec, InterpretersDoNotShareState) {
    const int64_t other = create();
    exec_ok(id_, "shared = 1");
    Err e;
    EXPECT_EQ(subinterp_exec(other, "shared", nullptr, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_qualname(), "NameError");
}

TEST_F(Exec, ExceptionIsStructuredAndInterpreterStaysUsable) {
    Err e;
    ASSERT_EQ(subinterp_exec(id_, "def inner():\n    raise ValueError('bad value 42')\ninner()\n", nullptr, nullptr,
                             e.out()),
              SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.code(), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_module(), "builtins");
    EXPECT_EQ(e.exc_qualname(), "ValueError");
    EXPECT_EQ(e.message(), "bad value 42");
    const std::string tb = e.traceback();
    EXPECT_NE(tb.find("Traceback (most recent call last)"), std::string::npos) << tb;
    EXPECT_NE(tb.find("in inner"), std::string::npos) << tb;
    EXPECT_NE(tb.find("ValueError: bad value 42"), std::string::npos) << tb;
    exec_ok(id_, "after = 1");
}

TEST_F(Exec, ExceptionFromAModuleKeepsItsModuleName) {
    Err e;
    ASSERT_EQ(subinterp_exec(id_, "import json\njson.loads('{')", nullptr, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_module(), "json.decoder");
    EXPECT_EQ(e.exc_qualname(), "JSONDecodeError");
    e.reset();
    ASSERT_EQ(subinterp_exec(id_, "class Outer:\n    class Problem(Exception): pass\nraise Outer.Problem('x')", nullptr,
                             nullptr, e.out()),
              SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_module(), "__main__");
    EXPECT_EQ(e.exc_qualname(), "Outer.Problem");
}

TEST_F(Exec, SyntaxErrorIsStructured) {
    Err e;
    ASSERT_EQ(subinterp_exec(id_, "x = (1 +\n", nullptr, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_qualname(), "SyntaxError");
    EXPECT_NE(e.traceback().find("SyntaxError"), std::string::npos) << e.traceback();
    e.reset();
    ASSERT_EQ(subinterp_exec(id_, "def f(:\n  pass", nullptr, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_NE(e.traceback().find("^"), std::string::npos) << e.traceback();
    exec_ok(id_, "ok = True");
}

TEST_F(Exec, SystemExitDoesNotExitTheProcess) {
    Err e;
    ASSERT_EQ(subinterp_exec(id_, "import sys\nsys.exit(3)", nullptr, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_qualname(), "SystemExit");
    EXPECT_EQ(e.message(), "3");
    e.reset();
    ASSERT_EQ(subinterp_exec(id_, "raise KeyboardInterrupt", nullptr, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_qualname(), "KeyboardInterrupt");
    exec_ok(id_, "still = 'alive'");
}

TEST_F(Exec, ExceptionWhoseStrFails) {
    Err e;
    ASSERT_EQ(subinterp_exec(id_,
                             "class Nasty(Exception):\n"
                             "    def __str__(self): raise RuntimeError('no str')\n"
                             "raise Nasty()",
                             nullptr, nullptr, e.out()),
              SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_qualname(), "Nasty");
    EXPECT_FALSE(e.message().empty());
    exec_ok(id_, "x = 1");
}

TEST_F(Exec, BadSourceArguments) {
    Err e;
    EXPECT_EQ(subinterp_exec(id_, nullptr, nullptr, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("source"), std::string::npos);
    e.reset();
    EXPECT_EQ(subinterp_exec(id_, "x = '\xff'", nullptr, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("UTF-8"), std::string::npos) << e.message();
    e.reset();
    EXPECT_EQ(subinterp_exec(id_, "x = '\xed\xa0\x80'", nullptr, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    // Errors may be ignored: err == NULL is allowed.
    EXPECT_EQ(subinterp_exec(id_, "raise ValueError", nullptr, nullptr, nullptr), SUBINTERP_ERR_PYTHON);
    exec_ok(id_, "s = 'h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x90\x8d'\nassert len(s) == 9, len(s)");
}

TEST_F(Call, ModuleQualname) {
    Data two = make_float(2.0);
    Data args = make_tuple({two.get()});
    Data root = call(id_, "math:sqrt", args.get());
    double value = 0;
    ASSERT_EQ(subinterp_data_get_float(root.get(), &value, nullptr), SUBINTERP_OK);
    EXPECT_DOUBLE_EQ(value, std::sqrt(2.0));

    Data text = make_str("[1, 2]");
    Data decode_args = make_tuple({text.get()});
    exec_ok(id_, "import json\ndecoder = json.JSONDecoder()");
    Data decoded = call(id_, "decoder.decode", decode_args.get());
    EXPECT_EQ(repr(decoded.get()), "[1, 2]");
    Data dotted = call(id_, "os.path:join", make_tuple({make_str("a").get(), make_str("b").get()}).get());
    EXPECT_EQ(as_str(dotted.get()), "a/b");
}

TEST_F(Call, MainThenBuiltins) {
    exec_ok(id_, "def add(a, b=10, *, scale=1):\n    return (a + b) * scale\n"
                 "class Tool:\n    @staticmethod\n    def name(): return 'tool'\n");
    Data one = make_int(1);
    Data two = make_int(2);
    EXPECT_EQ(as_int(call(id_, "add", make_tuple({one.get(), two.get()}).get()).get()), 3);
    Data scale_key = make_str("scale");
    Data three = make_int(3);
    Data kwargs = make_dict({scale_key.get()}, {three.get()});
    EXPECT_EQ(as_int(call(id_, "add", make_list({one.get()}).get(), kwargs.get()).get()), 33);
    EXPECT_EQ(as_str(call(id_, "Tool.name").get()), "tool");
    Data word = make_str("four");
    EXPECT_EQ(as_int(call(id_, "len", make_tuple({word.get()}).get()).get()), 4);
    // __main__ shadows builtins.
    exec_ok(id_, "def len(x): return -1");
    EXPECT_EQ(as_int(call(id_, "len", make_tuple({word.get()}).get()).get()), -1);
}

TEST_F(Call, ResultsOfEveryKind) {
    exec_ok(id_, "def values():\n"
                 "    return (None, True, False, -2**63, 2**63 - 1, 1.5, -0.0, float('inf'), 'h\\u00e9', b'\\x00\\xff',\n"
                 "            [1, [2, (3,)]], {'k': {'n': None}, 1: 'one', (1, 2): b''}, (), [], {})\n");
    Data result = call(id_, "values");
    EXPECT_EQ(repr(result.get()),
              "(None, True, False, -9223372036854775808, 9223372036854775807, 1.5, -0.0, inf, 'h\xc3\xa9', "
              "b'\\x00\\xff', [1, [2, (3,)]], {'k': {'n': None}, 1: 'one', (1, 2): b''}, (), [], {})");
    Data nan = call(id_, "float", make_tuple({make_str("nan").get()}).get());
    double value = 0;
    ASSERT_EQ(subinterp_data_get_float(nan.get(), &value, nullptr), SUBINTERP_OK);
    EXPECT_TRUE(std::isnan(value));
}

TEST_F(Call, ArgumentsRoundTripExactly) {
    exec_ok(id_, "def echo(*args, **kwargs):\n    return args, kwargs\n"
                 "def types(*args): return [type(a).__name__ for a in args]\n");
    Data t = make_bool(true);
    Data neg = make_float(-0.0);
    Data big = make_int(INT64_MIN);
    Data s = make_str(std::string("a\0b", 3));
    Data b = make_bytes(std::string("\x00\x01", 2));
    Data inner = make_tuple({t.get()});
    Data args = make_tuple({t.get(), neg.get(), big.get(), s.get(), b.get(), inner.get()});
    Data echoed = call(id_, "echo", args.get());
    const subinterp_data* got_args = nullptr;
    ASSERT_EQ(subinterp_data_get_item(echoed.get(), 0, &got_args, nullptr), SUBINTERP_OK);
    EXPECT_EQ(subinterp_data_equal(got_args, args.get()), 1) << repr(got_args);
    EXPECT_EQ(repr(call(id_, "types", args.get()).get()), "['bool', 'float', 'int', 'str', 'bytes', 'tuple']");
}

TEST_F(Call, MalformedCallableNames) {
    for (const char* bad : {"", ":", "a:", ":b", "a::b", "a:b:c", "a.", ".a", "a..b", "m:.f", "m.:f", "\xff"}) {
        Err e;
        subinterp_data* result = nullptr;
        EXPECT_EQ(subinterp_call(id_, bad, nullptr, nullptr, nullptr, &result, nullptr, e.out()),
                  SUBINTERP_ERR_INVALID_ARGUMENT)
            << "callable '" << bad << "'";
        EXPECT_EQ(result, nullptr);
    }
    Err e;
    subinterp_data* result = nullptr;
    EXPECT_EQ(subinterp_call(id_, nullptr, nullptr, nullptr, nullptr, &result, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(subinterp_call(id_, "len", nullptr, nullptr, nullptr, nullptr, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
}

TEST_F(Call, UnknownNamesAreStructuredPythonErrors) {
    struct Case {
        const char* callable;
        const char* exception;
    };
    for (const Case& c : {Case{"nope", "NameError"}, Case{"no_such_module_xyz:f", "ModuleNotFoundError"},
                          Case{"math:nope", "AttributeError"}, Case{"len.nope", "AttributeError"},
                          Case{"math:pi", "TypeError"} /* not callable */}) {
        Err e;
        subinterp_data* result = nullptr;
        EXPECT_EQ(subinterp_call(id_, c.callable, nullptr, nullptr, nullptr, &result, nullptr, e.out()),
                  SUBINTERP_ERR_PYTHON)
            << c.callable;
        EXPECT_EQ(e.exc_qualname(), c.exception) << c.callable << ": " << e.message();
    }
}

TEST_F(Call, WrongArgumentKinds) {
    Data one = make_int(1);
    Data key = make_int(1);
    Data int_keyed = make_dict({key.get()}, {one.get()});
    Err e;
    subinterp_data* result = nullptr;
    EXPECT_EQ(subinterp_call(id_, "len", one.get(), nullptr, nullptr, &result, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("args"), std::string::npos) << e.message();
    e.reset();
    EXPECT_EQ(subinterp_call(id_, "len", nullptr, one.get(), nullptr, &result, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    EXPECT_EQ(subinterp_call(id_, "dict", nullptr, int_keyed.get(), nullptr, &result, nullptr, e.out()),
              SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("keys must be str"), std::string::npos) << e.message();
    e.reset();
    // Python's own argument errors come back as TypeError.
    EXPECT_EQ(subinterp_call(id_, "len", nullptr, nullptr, nullptr, &result, nullptr, e.out()), SUBINTERP_ERR_PYTHON);
    EXPECT_EQ(e.exc_qualname(), "TypeError");
    EXPECT_EQ(result, nullptr);
}

TEST_F(Call, UnshareableResults) {
    exec_ok(id_, "import threading\n"
                 "def lock(): return threading.Lock()\n"
                 "def surrogate(): return '\\ud800'\n"
                 "def nested(): return [threading.Lock()]\n"
                 "def cycle():\n    l = []\n    l.append(l)\n    return l\n"
                 "def deep():\n    v = None\n    for _ in range(10000): v = [v]\n    return v\n");
    struct Case {
        const char* callable;
        const char* mentions;
    };
    for (const Case& c : {Case{"lock", "pickling failed"}, Case{"surrogate", "surrogate"},
                          Case{"nested", "'_thread.lock'"}, Case{"cycle", "deeper"}, Case{"deep", "deeper"}}) {
        Err e;
        subinterp_data* result = nullptr;
        EXPECT_EQ(subinterp_call(id_, c.callable, nullptr, nullptr, nullptr, &result, nullptr, e.out()),
                  SUBINTERP_ERR_NOT_SHAREABLE)
            << c.callable;
        EXPECT_NE(e.message().find(c.mentions), std::string::npos) << c.callable << ": " << e.message();
        EXPECT_EQ(result, nullptr);
    }
    exec_ok(id_, "x = 1");
}

TEST_F(Call, StrictModeRefusesWhatWouldBePickled) {
    exec_ok(id_, "import enum\n"
                 "class Color(enum.IntEnum):\n    RED = 1\n"
                 "def obj(): return object()\n"
                 "def color(): return Color.RED\n"
                 "def fine(): return [1, 'two', 2**70]\n");
    subinterp_run_options strict;
    subinterp_run_options_init(&strict);
    strict.flags = SUBINTERP_RUN_STRICT;
    for (const char* name : {"obj", "color"}) {
        Err e;
        subinterp_data* result = nullptr;
        EXPECT_EQ(subinterp_call(id_, name, nullptr, nullptr, &strict, &result, nullptr, e.out()),
                  SUBINTERP_ERR_NOT_SHAREABLE)
            << name;
        EXPECT_NE(e.message().find("strict"), std::string::npos) << e.message();
        // Without strict mode the same value is pickled.
        Data pickled = call(id_, name);
        EXPECT_EQ(subinterp_data_get_kind(pickled.get()), SUBINTERP_DATA_PICKLED) << name;
    }
    Err e;
    subinterp_data* result = nullptr;
    ASSERT_OK(subinterp_call(id_, "fine", nullptr, nullptr, &strict, &result, nullptr, e.out()), e);
    Data owned(result);
    EXPECT_EQ(repr(owned.get()), "[1, 'two', 1180591620717411303424]");
}

TEST_F(PrepareMain, BindsNamesOfEveryKind) {
    Data k1 = make_str("number");
    Data k2 = make_str("text");
    Data k3 = make_str("items");
    Data v1 = make_int(7);
    Data v2 = make_str("seven");
    Data inner = make_int(1);
    Data v3 = make_list({inner.get(), v2.get()});
    Data names = make_dict({k1.get(), k2.get(), k3.get()}, {v1.get(), v2.get(), v3.get()});
    Err e;
    ASSERT_OK(subinterp_prepare_main(id_, names.get(), e.out()), e);
    exec_ok(id_, "assert number == 7 and text == 'seven' and items == [1, 'seven']");
}

TEST_F(PrepareMain, AllOrNothing) {
    Data good = make_str("good");
    Data bad = make_str("not an identifier");
    Data value = make_int(1);
    Data names = make_dict({good.get(), bad.get()}, {value.get(), value.get()});
    Err e;
    EXPECT_EQ(subinterp_prepare_main(id_, names.get(), e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("identifier"), std::string::npos) << e.message();
    exec_ok(id_, "assert 'good' not in globals()");
}

TEST_F(PrepareMain, BadArguments) {
    Err e;
    EXPECT_EQ(subinterp_prepare_main(id_, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    Data list = make_list({});
    EXPECT_EQ(subinterp_prepare_main(id_, list.get(), e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    e.reset();
    Data key = make_bytes("x");
    Data value = make_int(1);
    Data bytes_keyed = make_dict({key.get()}, {value.get()});
    EXPECT_EQ(subinterp_prepare_main(id_, bytes_keyed.get(), e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
}

TEST_F(Capture, StdoutAndStderr) {
    const subinterp_run_options opts = capture_flags(SUBINTERP_RUN_CAPTURE_STDOUT | SUBINTERP_RUN_CAPTURE_STDERR);
    subinterp_output* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_exec(id_, "import sys\nprint('out', 1)\nprint('err \\u00e9', file=sys.stderr)\n", &opts, &raw,
                             e.out()),
              e);
    Output out(raw);
    EXPECT_EQ(out_text(out.get()), "out 1\n");
    EXPECT_EQ(err_text(out.get()), "err \xc3\xa9\n");
    // Streams are restored afterwards.
    exec_ok(id_, "import sys\nassert sys.stdout is sys.__stdout__ and sys.stderr is sys.__stderr__");
}

TEST_F(Capture, OnlyWhatWasAskedFor) {
    const subinterp_run_options opts = capture_flags(SUBINTERP_RUN_CAPTURE_STDERR);
    subinterp_output* raw = nullptr;
    Err e;
    ASSERT_OK(subinterp_exec(id_, "import sys\nsys.stderr.write('e')", &opts, &raw, e.out()), e);
    Output out(raw);
    EXPECT_EQ(out_text(out.get()), "");
    EXPECT_EQ(err_text(out.get()), "e");
}

TEST_F(Capture, KeptWhenTheCodeRaises) {
    const subinterp_run_options opts = capture_flags(SUBINTERP_RUN_CAPTURE_STDOUT);
    subinterp_output* raw = nullptr;
    Err e;
    ASSERT_EQ(subinterp_exec(id_, "print('before')\n1/0\nprint('after')", &opts, &raw, e.out()), SUBINTERP_ERR_PYTHON);
    Output out(raw);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out_text(out.get()), "before\n");
    EXPECT_EQ(e.exc_qualname(), "ZeroDivisionError");
}

TEST_F(Capture, ForCall) {
    exec_ok(id_, "def shout(word):\n    print(word.upper())\n    return len(word)\n");
    const subinterp_run_options opts = capture_flags(SUBINTERP_RUN_CAPTURE_STDOUT);
    Data word = make_str("hey");
    Data args = make_tuple({word.get()});
    subinterp_output* raw = nullptr;
    subinterp_data* result = nullptr;
    Err e;
    ASSERT_OK(subinterp_call(id_, "shout", args.get(), nullptr, &opts, &result, &raw, e.out()), e);
    Output out(raw);
    Data owned(result);
    EXPECT_EQ(out_text(out.get()), "HEY\n");
    EXPECT_EQ(as_int(owned.get()), 3);
}

TEST_F(Capture, BadOptions) {
    Err e;
    subinterp_run_options opts = capture_flags(SUBINTERP_RUN_CAPTURE_STDOUT);
    EXPECT_EQ(subinterp_exec(id_, "pass", &opts, nullptr, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("output"), std::string::npos) << e.message();
    e.reset();
    opts.flags = 1u << 7;
    subinterp_output* raw = nullptr;
    EXPECT_EQ(subinterp_exec(id_, "pass", &opts, &raw, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_NE(e.message().find("unknown"), std::string::npos) << e.message();
    e.reset();
    opts = capture_flags(0);
    opts.struct_size = 1;
    EXPECT_EQ(subinterp_exec(id_, "pass", &opts, &raw, e.out()), SUBINTERP_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(subinterp_run_options_init(nullptr), SUBINTERP_ERR_INVALID_ARGUMENT);
    // Accessors accept NULL.
    size_t n = 99;
    EXPECT_STREQ(subinterp_output_stdout(nullptr, &n), "");
    EXPECT_EQ(n, 0u);
    subinterp_output_free(nullptr);
}

// Keys distinct in the data model can be one key in Python; converting such a
// dict refuses instead of silently dropping entries.
TEST_F(Call, DictKeysEqualInPythonAreRefused) {
    Data one = make_int(1);
    Data truth = make_bool(true);
    Data one_float = make_float(1.0);
    Data a = make_str("a");
    Data b = make_str("b");
    for (const subinterp_data* second : {truth.get(), one_float.get()}) {
        Data dict = make_dict({one.get(), second}, {a.get(), b.get()});
        Data args = make_tuple({dict.get()});
        Err e;
        subinterp_data* result = nullptr;
        EXPECT_EQ(subinterp_call(id_, "len", args.get(), nullptr, nullptr, &result, nullptr, e.out()),
                  SUBINTERP_ERR_INVALID_ARGUMENT);
        EXPECT_NE(e.message().find("equals an earlier key"), std::string::npos) << e.message();
    }
}

// subinterp_data_repr matches CPython's repr() for numbers and ASCII text.
TEST_F(Call, ReprMatchesCPython) {
    std::vector<Data> values;
    for (double v : {0.1, 1e16, 1e15, 1e-5, 0.0001, -1.5e-300, 123.456, 2.0 / 3, 1e22, 5e-324, -0.0, 1.0, 1e100}) {
        values.push_back(make_float(v));
    }
    for (const char* s : {"it's", "say \"hi\"", "both ' \"", "tab\there", "\\", "\x01\x7f"}) values.push_back(make_str(s));
    values.push_back(make_bytes(std::string("\0a'\xff\"", 5)));
    values.push_back(make_int(INT64_MIN));
    for (const Data& value : values) {
        Data args = make_tuple({value.get()});
        EXPECT_EQ(repr(value.get()), as_str(call(id_, "repr", args.get()).get()));
    }
}
