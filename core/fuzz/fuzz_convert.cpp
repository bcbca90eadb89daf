// libFuzzer target: PyObject <-> portable data conversion (core/src/convert.cpp
// and the data model behind it), driven through the public C ABI.
//
// One isolated interpreter is created once per process. The first input byte
// picks a direction; the rest is a little program for a stack machine (the op
// codes: _make in kDecoder and host_built below; make_seeds.py writes seeds):
//
//  * Python-built (even first byte): the bytes go to the interpreter as a
//    bytes value, and Python code (kDecoder below) decodes them into nested
//    objects: None, bools, ints of any size, floats (NaN payloads, infinities,
//    -0.0), str with any code point (lone surrogates included, also from
//    surrogateescape), bytes, tuples, lists, dicts (NaN keys too), memoryviews
//    (writable, read-only, strided, cast, released), objects outside the model
//    (sets, complex, subclasses of int/str/tuple/dict: the pickle path),
//    unpicklable ones (lambdas, generators), interpreter and queue handles,
//    deep and self-referencing containers, shared references.
//    The decoder also works out, by walking the object in the order the
//    library converts it, how the conversion must end: OK, or the first
//    reason it must fail (lone surrogate, too deep, strict mode, pickling
//    fails, a memoryview as a dict key, a released memoryview).
//    Checked: the call's status is exactly that (NOT_SHAREABLE with the
//    matching message); a converted value sent back into Python equals the
//    original there (same types, floats bit for bit, dict order, memoryview
//    contents and read-only flag), and comes back out equal as data
//    (subinterp_data_equal, pickled values re-pickled as pickled values).
//    Input: [even byte] [strict flag byte] [program...].
//  * Host-built (odd first byte): the bytes drive the subinterp_data_*
//    constructors (ints from any bytes, str from any bytes, dicts with any
//    keys, deep nesting, buffers of library and host memory, pickles that
//    load and pickles that do not, handles). Checked: each constructor's
//    status is the documented one (invalid UTF-8, unhashable or duplicate
//    keys and nesting beyond 256 are INVALID_ARGUMENT, an unknown queue is
//    NOT_FOUND), the getters read back what went in (ints minimal and equal,
//    floats bit for bit, str/bytes byte for byte), and the value sent into the
//    interpreter (as a call argument or through prepare_main) and back is
//    equal -- or fails only as documented: INVALID_ARGUMENT for dict keys
//    equal in Python (1, 1.0, True), PYTHON for a pickle that does not load,
//    NOT_SHAREABLE for a value nested deeper than 200 coming back.
//    Input: [odd byte] [prepare_main flag byte] [ops...]; the top of the stack
//    makes the trip.
//
// Everywhere: no crash, no sanitizer report, an error object exactly when the
// status is not OK, carrying that status; external buffers released exactly
// once.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "subinterp.h"

namespace {

// The input, read from the front: the seeds are op streams (see make_seeds.py).
struct Reader {
    const uint8_t* p;
    size_t n;
    size_t remaining_bytes() const { return n; }
    uint8_t u8() {
        if (!n) return 0;
        n--;
        return *p++;
    }
    bool flag() { return u8() & 1; }
    // 0..max (one byte for max < 256, else two)
    size_t upto(size_t max) {
        if (max < 256) return u8() % (max + 1);
        const size_t v = u8() | (static_cast<size_t>(u8()) << 8);
        return v % (max + 1);
    }
    uint64_t u64() {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) v |= static_cast<uint64_t>(u8()) << (8 * i);
        return v;
    }
    std::string bytes(size_t k) {
        k = std::min(k, n);
        std::string s(reinterpret_cast<const char*>(p), k);
        p += k;
        n -= k;
        return s;
    }
    std::vector<uint8_t> rest() {
        std::vector<uint8_t> v(p, p + n);
        p += n;
        n = 0;
        return v;
    }
};

[[noreturn]] void fail(const char* what, const std::string& detail = {}) {
    std::fprintf(stderr, "fuzz_convert: check failed: %s\n%s\n", what, detail.c_str());
    std::fflush(stderr);
    std::abort();
}

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) fail("line " + std::to_string(__LINE__) + ": " #cond, __VA_ARGS__); \
    } while (0)

[[noreturn]] void fail(const std::string& what, const std::string& detail) { fail(what.c_str(), detail); }

std::string describe(subinterp_status status, const subinterp_error* err) {
    std::string text = subinterp_status_name(status);
    if (err) {
        text += ": ";
        text += subinterp_error_message(err);
        if (const char* tb = subinterp_error_traceback(err)) {
            text += "\n";
            text += tb;
        }
    }
    return text;
}

std::string repr(const subinterp_data* data) {
    char* text = nullptr;
    if (subinterp_data_repr(data, &text, nullptr) != SUBINTERP_OK) return "<no repr>";
    std::string copy = text;
    subinterp_free(text);
    if (copy.size() > 2000) copy = copy.substr(0, 2000) + "...";
    return copy;
}

// The error convention: an error object exactly when the status is not OK,
// carrying that status and a message; Python details exactly for PYTHON (and
// possibly for TIMEOUT/CANCELLED, which carry where the code was).
void check_error(subinterp_status status, subinterp_error* err, const char* call) {
    if (status == SUBINTERP_OK) {
        CHECK(err == nullptr, std::string(call) + ": OK with an error object");
        return;
    }
    CHECK(err != nullptr, std::string(call) + ": " + subinterp_status_name(status) + " without an error object");
    CHECK(subinterp_error_code(err) == status, std::string(call) + ": error code differs from the status");
    CHECK(std::strcmp(subinterp_status_name(status), "SUBINTERP_ERR_UNKNOWN") != 0,
          std::string(call) + ": unknown status " + std::to_string(status));
    CHECK(subinterp_error_message(err) != nullptr, call);
    const bool python = subinterp_error_exc_qualname(err) != nullptr;
    CHECK((subinterp_error_exc_module(err) != nullptr) == python, call);
    CHECK((subinterp_error_traceback(err) != nullptr) == python, call);
    if (status == SUBINTERP_ERR_PYTHON) CHECK(python, std::string(call) + ": PYTHON without the exception");
    if (status != SUBINTERP_ERR_PYTHON && status != SUBINTERP_ERR_TIMEOUT && status != SUBINTERP_ERR_CANCELLED) {
        CHECK(!python, std::string(call) + ": " + describe(status, err) + " carries a Python exception");
    }
}

// Holds one reference; frees it at scope exit.
struct Ref {
    subinterp_data* p = nullptr;
    Ref() = default;
    explicit Ref(subinterp_data* d) : p(d) {}
    Ref(const Ref&) = delete;
    Ref& operator=(const Ref&) = delete;
    Ref(Ref&& o) noexcept : p(o.p) { o.p = nullptr; }
    Ref& operator=(Ref&& o) noexcept {
        std::swap(p, o.p);
        return *this;
    }
    ~Ref() { subinterp_data_free(p); }
};

// Defined with the host-built checks below.
bool same_after_trip(const subinterp_data* a, const subinterp_data* b);
bool g_any_pickle_trip = false;  // same_after_trip: any pickled value is fine as long as it stays pickled

// FUZZ_VERBOSE=1 in the environment: print each input's outcome (to see what
// a seed does).
const bool g_verbose = std::getenv("FUZZ_VERBOSE") != nullptr;

int64_t g_interp = 0;
int64_t g_queue = 0;
subinterp_run_options g_opts;
subinterp_run_options g_strict_opts;
std::vector<std::string> g_good_pickles;  // pickle bytes that load in the interpreter
// What each becomes after a trip through Python. Never destroyed, so the
// values stay reachable (not leaks) when LeakSanitizer looks at exit.
std::vector<subinterp_data*>& g_good_trips = *new std::vector<subinterp_data*>;

// The decoder run in the interpreter's __main__ once: build(b) makes an object
// from the bytes and remembers it with the expected outcome of converting it;
// outcome() returns that; check(x) compares x with the remembered object.
const char* kDecoder = R"PY(
import math, pickle, struct

MAX_DEPTH = 200       # Data::kMaxPythonDepth
VISIT_BUDGET = 20000  # objects the conversion may visit (shared references expand)

class MyInt(int): pass
class MyStr(str): pass
class MyTuple(tuple): pass
class MyDict(dict): pass

InterpreterID = type(IID)
Queue = type(Q)

last = None
last_outcome = None
strict = False

class TooBig(Exception): pass

def _outcome(obj):
    """(reason, visited): why converting obj must fail first, in the order the
    library walks it (None: it must succeed)."""
    visited = 0
    def walk(o, depth):
        nonlocal visited
        visited += 1
        if visited > VISIT_BUDGET:
            raise TooBig
        t = type(o)
        if o is None or t is bool or t is int or t is float or t is bytes:
            return None
        if t is str:
            try:
                o.encode('utf-8')
            except UnicodeEncodeError:
                return 'surrogate'
            return None
        if t is tuple or t is list or t is dict:
            if depth + 1 > MAX_DEPTH:
                return 'deep'
            if t is dict:
                for k, v in o.items():
                    r = walk(k, depth + 1)
                    if r:
                        return r
                    # a key that is or holds a memoryview: hashable in
                    # Python, but a buffer cannot be a key of portable data
                    # (regression input crashes/convert-memoryview-dict-key)
                    if _holds_memoryview(k):
                        return 'buffer-key'
                    r = walk(v, depth + 1)
                    if r:
                        return r
            else:
                for x in o:
                    r = walk(x, depth + 1)
                    if r:
                        return r
            return None
        if t is memoryview:
            try:
                o.tobytes()
            except ValueError:
                return 'released'
            return None
        if t is InterpreterID or t is Queue:
            return None
        if strict:
            return 'strict'
        try:
            pickle.dumps(o, 5)
        except Exception:
            return 'pickle'
        return None
    return walk(obj, 0)

def _holds_memoryview(key):
    t = type(key)
    if t is memoryview:
        return True
    return t is tuple and any(_holds_memoryview(x) for x in key)

def _hashable(x):
    try:
        hash(x)
        return True
    except Exception:  # TypeError; ValueError for a memoryview of another format
        return False

SPECIAL_FLOATS = [math.nan, -math.nan, math.inf, -math.inf, -0.0, 0.0, 5e-324, 1.7976931348623157e308,
                  struct.unpack('<d', b'\x01\x00\x00\x00\x00\x00\xf8\x7f')[0]]

# Bounds on what _make builds: CPython itself recurses without a guard when
# hashing nested tuples (a million levels crash it), and shared references
# expand: a tuple of the same tuple twice, 100 times over, is 2**100 objects
# to hash, compare or convert.
MAKE_DEPTH = 500
MAKE_SIZE = 5000

def _make(b):
    n = len(b)
    pos = 0
    stack = []   # [value, depth, size]: nesting depth and expanded object count
    def byte():
        nonlocal pos
        if pos < n:
            pos += 1
            return b[pos - 1]
        return 0
    def take(k):
        nonlocal pos
        s = b[pos:pos + k]
        pos += k
        return s
    def push(v, depth=0, size=1):
        if depth > MAKE_DEPTH or size > MAKE_SIZE:
            stack.append(['over the limits', 0, 1])
        else:
            stack.append([v, depth, size])
    def pop(k):
        k = min(k, len(stack))
        entries = stack[len(stack) - k:]
        del stack[len(stack) - k:]
        return entries
    def top():
        return stack.pop() if stack else [None, 0, 1]
    def container(make, entries):
        push(make([e[0] for e in entries]), 1 + max([e[1] for e in entries], default=0),
             1 + sum(e[2] for e in entries))
    steps = 0
    while pos < n and steps < 300 and len(stack) < 64:
        steps += 1
        op = byte() % 26
        if op == 0:
            push(None)
        elif op == 1:
            push(bool(byte() & 1))
        elif op == 2:
            push(byte() - 128)
        elif op == 3:
            push(int.from_bytes(take(byte() % 48), 'little', signed=True))
        elif op == 4:
            push(struct.unpack('<d', take(8).ljust(8, b'\0'))[0])
        elif op == 5:
            push(SPECIAL_FLOATS[byte() % len(SPECIAL_FLOATS)])
        elif op == 6:
            chars = []
            for _ in range(byte() % 16):
                c = byte()
                chars.append(chr(c) if c < 0x80 else chr(int.from_bytes(take(3), 'little') % 0x110000))
            push(''.join(chars))
        elif op == 7:
            push(take(byte() % 32).decode('utf-8', 'surrogateescape'))
        elif op == 8:
            push(take(byte() % 64))
        elif op == 9:
            container(tuple, pop(byte() % 8))
        elif op == 10:
            container(list, pop(byte() % 8))
        elif op == 11:
            entries = pop(2 * (byte() % 5))
            def make_dict(items):
                d = {}
                for i in range(0, len(items) - 1, 2):
                    k = items[i]
                    d[k if _hashable(k) else repr(k)[:100]] = items[i + 1]
                return d
            container(make_dict, entries)
        elif op == 12:
            v = top()[0]
            data = v if isinstance(v, bytes) else take(byte() % 32)
            kind = byte() % 6
            if kind == 0:
                m = memoryview(data)
            elif kind == 1:
                m = memoryview(bytearray(data))
            elif kind == 2:
                m = memoryview(data)[::2]
            elif kind == 3:
                m = memoryview(data[:len(data) // 4 * 4]).cast('I')
            elif kind == 4:
                m = memoryview(bytearray(data)).toreadonly()
            else:
                m = memoryview(data)
                m.release()
            push(m)
        elif op == 13:
            entries = [e for e in pop(byte() % 6) if _hashable(e[0])]
            container(frozenset if byte() & 1 else set, entries)
        elif op == 14:
            kind = byte() % 7
            if kind == 0:
                push(complex(byte(), -byte()))
            elif kind == 1:
                push(bytearray(take(byte() % 16)))
            elif kind == 2:
                push(range(byte()))
            elif kind == 3:
                push(MyInt(byte() - 128))
            elif kind == 4:
                v = top()[0]
                push(MyStr(v) if isinstance(v, str) else MyStr('s'))
            elif kind == 5:
                container(MyTuple, pop(byte() % 4))
            else:
                def make_mydict(items):
                    d = MyDict()
                    d['k'] = items[0]
                    return d
                container(make_mydict, [top()])
        elif op == 15:
            push([lambda: 0, (x for x in ()), type('Local', (), {})()][byte() % 3])
        elif op == 16 or op == 22:
            v, depth, size = top()
            k = byte()
            for _ in range(min(k, MAKE_DEPTH + 1 - depth)):
                v = [v] if op == 16 else (v,)
            push(v, depth + k, size + k)
        elif op == 17:
            # a container holding itself (walks that expand it stop at 200 levels)
            if stack and type(stack[-1][0]) is list:
                stack[-1][0].append(stack[-1][0])
                stack[-1][2] *= 2
            elif stack and type(stack[-1][0]) is dict:
                stack[-1][0]['self'] = stack[-1][0]
                stack[-1][2] *= 2
        elif op == 18:
            if stack:
                stack.append(list(stack[-1]))  # the same object again: shared
        elif op == 19:
            push([IID, Q, InterpreterID(int.from_bytes(take(8), 'little', signed=True))][byte() % 3])
        elif op == 20:
            k = byte()
            push(['x' * (k * 64), '\u20ac' * k, '\U0001F600' * k, '\udfff' * (k % 3)][byte() % 4])
        elif op == 21:
            push((1 << (byte() * 8)) - byte())
        elif op == 23:
            push({math.nan: 1, float('nan'): 2, 0.0: 3}, 1, 7)
        elif op == 24:
            push({1: 'int', 2.5: 'float', True: 'bool', b'k': 'bytes', 'k': 'str', (1, 'a'): 'tuple',
                  None: 'none', IID: 'interp', Q: 'queue', frozenset({1}): 'frozenset'}, 2, 25)
        else:
            try:
                push(Queue(int.from_bytes(take(2), 'little')))
            except Exception as e:
                push(type(e).__name__)
    if len(stack) == 1:
        return stack[0][0]
    return tuple(e[0] for e in stack)

def build(b, strict_mode):
    global last, last_outcome, strict
    strict = strict_mode
    value = _make(b)
    try:
        last_outcome = _outcome(value)
    except TooBig:
        value = 'too big'
        last_outcome = None
    last = value
    return value

def outcome():
    return last_outcome

def _same(a, b):
    """Equal as the library promises: same types, floats bit for bit, dicts in
    order; objects outside the model as their type compares them (NaNs in
    sets by bits). Iterative, and safe on cycles inside pickled objects."""
    work = [(a, b)]
    seen = set()
    while work:
        a, b = work.pop()
        ta = type(a)
        if ta is not type(b):
            return False
        if ta is float:
            if struct.pack('<d', a) != struct.pack('<d', b):
                return False
        elif ta is tuple or ta is list or ta is MyTuple or ta is dict or ta is MyDict:
            if (id(a), id(b)) in seen:
                continue
            seen.add((id(a), id(b)))
            if len(a) != len(b):
                return False
            if ta is dict or ta is MyDict:
                for (ka, va), (kb, vb) in zip(a.items(), b.items()):
                    work.append((ka, kb))
                    work.append((va, vb))
            else:
                work.extend(zip(a, b))
        elif ta is memoryview:
            if a.tobytes() != b.tobytes() or a.readonly != b.readonly:
                return False
        elif ta is set or ta is frozenset:
            if sorted(_canon(x) for x in a) != sorted(_canon(x) for x in b):
                return False
        elif a != b:
            return False
    return True

def _canon(x):
    """A canonical text of a hashable object (a set element), NaNs by bits."""
    t = type(x)
    if t is float:
        return 'f' + struct.pack('<d', x).hex()
    if t is tuple or t is MyTuple:
        return t.__name__ + '(' + ','.join([_canon(i) for i in x]) + ')'
    if t is frozenset:
        return 'frozenset{' + ','.join(sorted([_canon(i) for i in x])) + '}'
    if t is memoryview:
        return 'm' + x.tobytes().hex()
    return t.__name__ + ':' + repr(x)

def check(x):
    if not _same(last, x):
        raise AssertionError('round trip changed the value: %.2000r -> %.2000r' % (last, x))
    return x

def echo(x):
    return x

def get_v():
    global v
    x, v = v, None  # nothing of the value stays behind in __main__
    return x
)PY";

void run_ok(const char* source) {
    subinterp_error* err = nullptr;
    const subinterp_status st = subinterp_exec(g_interp, source, nullptr, nullptr, &err);
    if (st != SUBINTERP_OK) fail("setup exec failed", describe(st, err));
}

// subinterp_call with one positional argument.
subinterp_status call1(const char* name, const subinterp_data* arg, const subinterp_run_options* opts, Ref& result,
                       subinterp_error** err) {
    Ref args;
    subinterp_status st;
    if (arg) {
        st = subinterp_data_new_tuple(&arg, 1, &args.p, err);
        if (st != SUBINTERP_OK) return st;
    }
    subinterp_data* out = nullptr;
    st = subinterp_call(g_interp, name, args.p, nullptr, opts, &out, nullptr, err);
    check_error(st, err ? *err : nullptr, name);
    if (st == SUBINTERP_OK) CHECK(out != nullptr, std::string(name) + " returned OK without a result");
    result = Ref(out);
    return st;
}

// --- Python-built values ---------------------------------------------------------------------

void python_built(Reader& in) {
    const bool strict = in.flag();
    const std::vector<uint8_t> program = in.rest();
    Ref bytes, flag, args;
    if (subinterp_data_new_bytes(program.data(), program.size(), &bytes.p, nullptr) != SUBINTERP_OK) fail("new_bytes");
    if (subinterp_data_new_bool(strict, &flag.p, nullptr) != SUBINTERP_OK) fail("new_bool");
    const subinterp_data* items[] = {bytes.p, flag.p};
    if (subinterp_data_new_tuple(items, 2, &args.p, nullptr) != SUBINTERP_OK) fail("new_tuple");

    subinterp_error* err = nullptr;
    subinterp_data* out = nullptr;
    const subinterp_status st =
        subinterp_call(g_interp, "build", args.p, nullptr, strict ? &g_strict_opts : &g_opts, &out, nullptr, &err);
    check_error(st, err, "build");
    Ref value(out);

    Ref expected;
    subinterp_error* err2 = nullptr;
    const subinterp_status st2 = call1("outcome", nullptr, &g_opts, expected, &err2);
    if (st2 != SUBINTERP_OK) fail("outcome() failed", describe(st2, err2));
    std::string reason;
    if (subinterp_data_get_kind(expected.p) == SUBINTERP_DATA_STR) {
        const char* text = nullptr;
        size_t len = 0;
        subinterp_data_get_str(expected.p, &text, &len, nullptr);
        reason.assign(text, len);
    }

    const std::string detail = describe(st, err);
    if (g_verbose) {
        std::fprintf(stderr, "python-built: expected %s, got %s\n", reason.empty() ? "OK" : reason.c_str(),
                     detail.c_str());
    }
    if (reason.empty()) {
        CHECK(st == SUBINTERP_OK, "the conversion should succeed but: " + detail);
    } else if (reason == "released") {
        // A memoryview whose buffer was released: Python's own ValueError.
        CHECK(st == SUBINTERP_ERR_PYTHON || st == SUBINTERP_ERR_NOT_SHAREABLE,
              "released memoryview: " + detail);
    } else {
        CHECK(st == SUBINTERP_ERR_NOT_SHAREABLE, "expected NOT_SHAREABLE (" + reason + "), got " + detail);
        const char* message = subinterp_error_message(err);
        // A memoryview key once gave INVALID_ARGUMENT, as if the caller had
        // passed something invalid (found here; crashes/convert-memoryview-dict-key).
        const char* fragment = reason == "surrogate"    ? "surrogate"
                               : reason == "deep"       ? "nested deeper than 200"
                               : reason == "strict"     ? "strict mode"
                               : reason == "buffer-key" ? "cannot be a key of portable data"
                                                        : "pickling failed";
        CHECK(std::strstr(message, fragment) != nullptr,
              "expected a message about '" + std::string(fragment) + "' (" + reason + "), got " + detail);
    }
    subinterp_error_free(err);
    if (st != SUBINTERP_OK) return;

    // Data -> Python -> compare with the original there -> data again.
    CHECK(subinterp_data_equal(value.p, value.p) == 1, "a value differs from itself: " + repr(value.p));
    Ref back;
    subinterp_error* err3 = nullptr;
    const subinterp_status st3 = call1("check", value.p, &g_opts, back, &err3);
    if (st3 != SUBINTERP_OK) fail("sending the value back into Python failed", describe(st3, err3) + "\nvalue: " + repr(value.p));
    // Equal, except that objects outside the model are pickled again, maybe
    // into other bytes (a set's order, pickle's memo): Python compared those.
    g_any_pickle_trip = true;
    const bool same = same_after_trip(value.p, back.p);
    g_any_pickle_trip = false;
    CHECK(same, "data -> Python -> data changed the value:\n" + repr(value.p) + "\n" + repr(back.p));
}

// --- Host-built values -----------------------------------------------------------------------

struct Released {
    int count = 0;
};
std::vector<Released*> g_released;  // contexts of this input's external buffers

void release_external(void* context, void* data) {
    static_cast<Released*>(context)->count++;
    std::free(data);
}

bool valid_utf8(const std::string& s) {
    // Independent of the library's validator: decode, then check ranges.
    size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    while (i < s.size()) {
        const unsigned c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; }
        else return false;
        if (i + n > s.size()) return false;
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

// Two's complement little-endian value of `b` sign-extended to `len` bytes.
std::string sign_extend(const std::string& b, size_t len) {
    std::string out = b;
    const char fill = !b.empty() && (static_cast<unsigned char>(b.back()) & 0x80) ? '\xff' : '\0';
    out.resize(len, fill);
    return out;
}

// Minimal: no top byte that only repeats the sign (0 is no bytes at all).
bool minimal_int(const std::string& b) {
    if (b.empty()) return true;
    const unsigned char top = b.back();
    const bool below_negative = b.size() > 1 && (static_cast<unsigned char>(b[b.size() - 2]) & 0x80);
    return !(top == 0x00 && !below_negative) && !(top == 0xFF && below_negative);
}

// The items of a tuple or list, or keys and values of a dict (borrowed).
std::vector<const subinterp_data*> children(const subinterp_data* d) {
    std::vector<const subinterp_data*> out;
    size_t len = 0;
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    if (kind != SUBINTERP_DATA_TUPLE && kind != SUBINTERP_DATA_LIST && kind != SUBINTERP_DATA_DICT) return out;
    subinterp_data_get_len(d, &len, nullptr);
    for (size_t i = 0; i < len; i++) {
        const subinterp_data *k = nullptr, *v = nullptr;
        if (kind == SUBINTERP_DATA_DICT) {
            subinterp_data_get_entry(d, i, &k, &v, nullptr);
            out.push_back(k);
        } else {
            subinterp_data_get_item(d, i, &v, nullptr);
        }
        out.push_back(v);
    }
    return out;
}

// Values share items (the same value twice in a tuple, nested): walks over
// them are memoized per value, and the harness never builds a value whose
// expanded tree (what Python would get) has more than kMaxExpanded nodes.
constexpr size_t kMaxExpanded = 20000;
std::unordered_map<const subinterp_data*, int> g_depths;
std::unordered_map<const subinterp_data*, size_t> g_sizes;
std::unordered_map<const subinterp_data*, bool> g_hashable;

int depth_of(const subinterp_data* d) {
    if (auto it = g_depths.find(d); it != g_depths.end()) return it->second;
    const auto items = children(d);
    int depth = 0;
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    if (kind == SUBINTERP_DATA_TUPLE || kind == SUBINTERP_DATA_LIST || kind == SUBINTERP_DATA_DICT) {
        int deepest = 0;
        for (const subinterp_data* item : items) deepest = std::max(deepest, depth_of(item));
        depth = deepest + 1;
    }
    g_depths[d] = depth;
    return depth;
}

// Nodes of the expanded tree, saturating past kMaxExpanded.
size_t expanded_size(const subinterp_data* d) {
    if (auto it = g_sizes.find(d); it != g_sizes.end()) return it->second;
    size_t size = 1;
    for (const subinterp_data* item : children(d)) size = std::min(kMaxExpanded + 1, size + expanded_size(item));
    g_sizes[d] = size;
    return size;
}

bool hashable(const subinterp_data* d) {
    if (auto it = g_hashable.find(d); it != g_hashable.end()) return it->second;
    bool result = true;
    switch (subinterp_data_get_kind(d)) {
        case SUBINTERP_DATA_LIST:
        case SUBINTERP_DATA_DICT:
        case SUBINTERP_DATA_BUFFER: result = false; break;
        case SUBINTERP_DATA_TUPLE:
            for (const subinterp_data* item : children(d)) result = result && hashable(item);
            break;
        default: break;
    }
    g_hashable[d] = result;
    return result;
}

// What a value sent into Python and back may end as.
struct Risks {
    bool multi_key_dict = false;  // a dict of 2+ keys: keys may be equal in Python
    bool bad_pickle = false;      // a pickle that cannot load
    bool pickled_key = false;     // a pickle in a dict key: may load as an unhashable object
};

std::vector<const subinterp_data*> g_bad_pickles;  // this input's bad pickles (borrowed from the stack)
// this input's good pickles (borrowed) and the index of their bytes in g_good_pickles
std::vector<std::pair<const subinterp_data*, size_t>> g_pickles;

bool is_bad_pickle(const subinterp_data* d) {
    for (const subinterp_data* bad : g_bad_pickles)
        if (bad == d) return true;
    return false;
}

// Nesting as Python sees it: a good pickle counts as what it unpickles into.
std::unordered_map<const subinterp_data*, int> g_py_depths;

int python_depth(const subinterp_data* d) {
    if (auto it = g_py_depths.find(d); it != g_py_depths.end()) return it->second;
    int depth = 0;
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    if (kind == SUBINTERP_DATA_PICKLED) {
        for (const auto& [pickled, index] : g_pickles)
            if (pickled == d) depth = depth_of(g_good_trips[index]);
    } else if (kind == SUBINTERP_DATA_TUPLE || kind == SUBINTERP_DATA_LIST || kind == SUBINTERP_DATA_DICT) {
        int deepest = 0;
        for (const subinterp_data* item : children(d)) deepest = std::max(deepest, python_depth(item));
        depth = deepest + 1;
    }
    g_py_depths[d] = depth;
    return depth;
}

bool same_after_trip(const subinterp_data* a, const subinterp_data* b);

// A good pickle after the trip: what the same pickle became at start-up (a
// pickled set comes back pickled, a pickled list comes back a list).
bool pickle_trip_matches(const subinterp_data* a, const subinterp_data* b) {
    if (g_any_pickle_trip) return subinterp_data_get_kind(b) == SUBINTERP_DATA_PICKLED;
    for (const auto& [pickled, index] : g_pickles) {
        if (pickled != a) continue;
        const subinterp_data* trip = g_good_trips[index];
        if (subinterp_data_get_kind(trip) == SUBINTERP_DATA_PICKLED) return subinterp_data_get_kind(b) == SUBINTERP_DATA_PICKLED;
        return same_after_trip(trip, b);
    }
    return false;
}

std::set<std::pair<const subinterp_data*, bool>> g_risks_seen;

void risks_of(const subinterp_data* d, Risks& r, bool in_key = false) {
    if (!g_risks_seen.emplace(d, in_key).second) return;
    size_t len = 0;
    switch (subinterp_data_get_kind(d)) {
        case SUBINTERP_DATA_PICKLED:
            if (is_bad_pickle(d)) r.bad_pickle = true;
            if (in_key) r.pickled_key = true;
            return;
        case SUBINTERP_DATA_TUPLE:
        case SUBINTERP_DATA_LIST:
            subinterp_data_get_len(d, &len, nullptr);
            for (size_t i = 0; i < len; i++) {
                const subinterp_data* item = nullptr;
                subinterp_data_get_item(d, i, &item, nullptr);
                risks_of(item, r, in_key);
            }
            return;
        case SUBINTERP_DATA_DICT:
            subinterp_data_get_len(d, &len, nullptr);
            if (len >= 2) r.multi_key_dict = true;
            for (size_t i = 0; i < len; i++) {
                const subinterp_data *k = nullptr, *v = nullptr;
                subinterp_data_get_entry(d, i, &k, &v, nullptr);
                risks_of(k, r, true);
                risks_of(v, r, in_key);
            }
            return;
        default: return;
    }
}

// Equal after a trip through Python: structurally, except that a pickled
// value is pickled again (its bytes may differ) or, for a pickle of a type of
// the model, becomes that type.
bool same_after_trip(const subinterp_data* a, const subinterp_data* b) {
    const subinterp_data_kind kind = subinterp_data_get_kind(a);
    if (kind == SUBINTERP_DATA_PICKLED) return pickle_trip_matches(a, b);
    if (kind != subinterp_data_get_kind(b)) return false;
    size_t la = 0, lb = 0;
    switch (kind) {
        case SUBINTERP_DATA_TUPLE:
        case SUBINTERP_DATA_LIST:
            subinterp_data_get_len(a, &la, nullptr);
            subinterp_data_get_len(b, &lb, nullptr);
            if (la != lb) return false;
            for (size_t i = 0; i < la; i++) {
                const subinterp_data *x = nullptr, *y = nullptr;
                subinterp_data_get_item(a, i, &x, nullptr);
                subinterp_data_get_item(b, i, &y, nullptr);
                if (!same_after_trip(x, y)) return false;
            }
            return true;
        case SUBINTERP_DATA_DICT:
            subinterp_data_get_len(a, &la, nullptr);
            subinterp_data_get_len(b, &lb, nullptr);
            if (la != lb) return false;
            for (size_t i = 0; i < la; i++) {
                const subinterp_data *ka = nullptr, *va = nullptr, *kb = nullptr, *vb = nullptr;
                subinterp_data_get_entry(a, i, &ka, &va, nullptr);
                subinterp_data_get_entry(b, i, &kb, &vb, nullptr);
                if (!same_after_trip(ka, kb) || !same_after_trip(va, vb)) return false;
            }
            return true;
        default: return subinterp_data_equal(a, b) == 1;
    }
}

// Runs a constructor that must succeed.
template <class F>
Ref make_ok(const char* what, F&& f) {
    subinterp_data* out = nullptr;
    subinterp_error* err = nullptr;
    const subinterp_status st = f(&out, &err);
    check_error(st, err, what);
    if (st != SUBINTERP_OK) fail(std::string(what) + " failed", describe(st, err));
    CHECK(out != nullptr, what);
    return Ref(out);
}

void host_built(Reader& in) {
    const bool via_prepare_main = in.flag();  // else as a call argument
    std::vector<Ref> stack;
    g_bad_pickles.clear();
    g_pickles.clear();
    g_depths.clear();
    g_py_depths.clear();
    g_sizes.clear();
    g_hashable.clear();
    g_risks_seen.clear();
    const auto push = [&](Ref r) {
        if (r.p) stack.push_back(std::move(r));
    };
    int steps = 0;
    while (in.remaining_bytes() > 0 && steps++ < 200 && stack.size() < 64) {
        const int op = static_cast<int>(in.upto(17));
        switch (op) {
            case 0: push(make_ok("new_none", [](auto o, auto e) { return subinterp_data_new_none(o, e); })); break;
            case 1: {
                const int v = static_cast<int>(in.u8()) - 1;
                Ref r = make_ok("new_bool", [&](auto o, auto e) { return subinterp_data_new_bool(v, o, e); });
                int got = -1;
                CHECK(subinterp_data_get_bool(r.p, &got, nullptr) == SUBINTERP_OK && got == (v != 0), "bool");
                push(std::move(r));
                break;
            }
            case 2: {
                const int64_t v = static_cast<int64_t>(in.u64());
                Ref r = make_ok("new_int", [&](auto o, auto e) { return subinterp_data_new_int(v, o, e); });
                int64_t got = 0;
                CHECK(subinterp_data_get_int(r.p, &got, nullptr) == SUBINTERP_OK && got == v, "int64");
                push(std::move(r));
                break;
            }
            case 3: {
                const std::string b = in.bytes(in.upto(40));
                Ref r = make_ok("new_int_bytes",
                                [&](auto o, auto e) { return subinterp_data_new_int_bytes(b.data(), b.size(), o, e); });
                size_t len = 0;
                CHECK(subinterp_data_get_int_bytes(r.p, nullptr, 0, &len, nullptr) == SUBINTERP_OK, "int_bytes size");
                std::string m(len, '\0');
                CHECK(subinterp_data_get_int_bytes(r.p, m.data(), len, &len, nullptr) == SUBINTERP_OK, "int_bytes");
                CHECK(minimal_int(m), "get_int_bytes is not minimal");
                const size_t width = std::max(m.size(), b.size());
                CHECK(sign_extend(m, width) == sign_extend(b, width), "get_int_bytes changed the value");
                int64_t small = 0;
                subinterp_error* err = nullptr;
                const subinterp_status st = subinterp_data_get_int(r.p, &small, &err);
                check_error(st, err, "get_int");
                subinterp_error_free(err);
                CHECK(st == (m.size() <= 8 ? SUBINTERP_OK : SUBINTERP_ERR_OVERFLOW), "get_int status");
                if (st == SUBINTERP_OK) {
                    std::string s(8, '\0');
                    std::memcpy(s.data(), &small, 8);
                    CHECK(sign_extend(m, 8) == s, "get_int value");
                }
                push(std::move(r));
                break;
            }
            case 4: {
                double v;
                if (in.flag()) {
                    const uint64_t bits = in.u64();
                    std::memcpy(&v, &bits, 8);
                } else {
                    static const double kSpecial[] = {NAN, -NAN, INFINITY, -INFINITY, -0.0, 0.0, 1.0, 5e-324};
                    v = kSpecial[in.upto(7)];
                }
                Ref r = make_ok("new_float", [&](auto o, auto e) { return subinterp_data_new_float(v, o, e); });
                double got = 0;
                CHECK(subinterp_data_get_float(r.p, &got, nullptr) == SUBINTERP_OK && std::memcmp(&got, &v, 8) == 0,
                      "float bits");
                push(std::move(r));
                break;
            }
            case 5: {
                const std::string s = in.bytes(in.upto(48));
                subinterp_data* out = nullptr;
                subinterp_error* err = nullptr;
                const subinterp_status st = subinterp_data_new_str(s.data(), s.size(), &out, &err);
                check_error(st, err, "new_str");
                CHECK(st == (valid_utf8(s) ? SUBINTERP_OK : SUBINTERP_ERR_INVALID_ARGUMENT),
                      "new_str of " + std::string(valid_utf8(s) ? "valid" : "invalid") + " UTF-8: " + describe(st, err));
                subinterp_error_free(err);
                Ref r(out);
                if (st == SUBINTERP_OK) {
                    const char* text = nullptr;
                    size_t len = 0;
                    CHECK(subinterp_data_get_str(r.p, &text, &len, nullptr) == SUBINTERP_OK && len == s.size() &&
                              std::memcmp(text, s.data(), len) == 0 && text[len] == '\0',
                          "get_str");
                }
                push(std::move(r));
                break;
            }
            case 6: {
                const std::string s = in.bytes(in.upto(64));
                Ref r = make_ok("new_bytes",
                                [&](auto o, auto e) { return subinterp_data_new_bytes(s.data(), s.size(), o, e); });
                const void* got = nullptr;
                size_t len = 0;
                CHECK(subinterp_data_get_bytes(r.p, &got, &len, nullptr) == SUBINTERP_OK && len == s.size() &&
                          (len == 0 || std::memcmp(got, s.data(), len) == 0),
                      "get_bytes");
                push(std::move(r));
                break;
            }
            case 7:
            case 8: {  // tuple / list of the top n
                const size_t n = std::min(stack.size(), in.upto(6));
                std::vector<const subinterp_data*> items;
                int deepest = 0;
                size_t size = 1;
                for (size_t i = stack.size() - n; i < stack.size(); i++) {
                    items.push_back(stack[i].p);
                    deepest = std::max(deepest, depth_of(stack[i].p));
                    size += expanded_size(stack[i].p);
                }
                if (size > kMaxExpanded) break;
                subinterp_data* out = nullptr;
                subinterp_error* err = nullptr;
                const subinterp_status st = op == 7 ? subinterp_data_new_tuple(items.data(), n, &out, &err)
                                                    : subinterp_data_new_list(items.data(), n, &out, &err);
                check_error(st, err, "new_tuple/list");
                CHECK(st == (deepest + 1 > 256 ? SUBINTERP_ERR_INVALID_ARGUMENT : SUBINTERP_OK),
                      "container of depth " + std::to_string(deepest + 1) + ": " + describe(st, err));
                subinterp_error_free(err);
                Ref r(out);
                if (st == SUBINTERP_OK) {
                    stack.resize(stack.size() - n);
                    size_t len = 99;
                    CHECK(subinterp_data_get_len(r.p, &len, nullptr) == SUBINTERP_OK && len == n, "get_len");
                    const subinterp_data* item = nullptr;
                    CHECK(subinterp_data_get_item(r.p, n, &item, nullptr) == SUBINTERP_ERR_INDEX, "index past the end");
                    CHECK(depth_of(r.p) == deepest + 1, "depth");
                }
                push(std::move(r));
                break;
            }
            case 9: {  // dict of the top 2n
                const size_t n = std::min(stack.size() / 2, in.upto(4));
                std::vector<const subinterp_data*> keys, values;
                const size_t base = stack.size() - 2 * n;
                bool all_hashable = true, duplicate = false;
                int deepest = 0;
                size_t size = 1;
                for (size_t i = base; i < stack.size(); i++) size += expanded_size(stack[i].p);
                if (size > kMaxExpanded) break;
                for (size_t i = 0; i < n; i++) {
                    keys.push_back(stack[base + 2 * i].p);
                    values.push_back(stack[base + 2 * i + 1].p);
                    all_hashable = all_hashable && hashable(keys.back());
                    deepest = std::max({deepest, depth_of(keys.back()), depth_of(values.back())});
                    for (size_t j = 0; j + 1 < keys.size(); j++)
                        if (subinterp_data_equal(keys[j], keys.back())) duplicate = true;
                }
                subinterp_data* out = nullptr;
                subinterp_error* err = nullptr;
                const subinterp_status st = subinterp_data_new_dict(keys.data(), values.data(), n, &out, &err);
                check_error(st, err, "new_dict");
                const bool ok = all_hashable && !duplicate && deepest + 1 <= 256;
                CHECK(st == (ok ? SUBINTERP_OK : SUBINTERP_ERR_INVALID_ARGUMENT),
                      "new_dict (hashable " + std::to_string(all_hashable) + ", duplicate " +
                          std::to_string(duplicate) + ", depth " + std::to_string(deepest + 1) + "): " +
                          describe(st, err));
                subinterp_error_free(err);
                Ref r(out);
                if (st == SUBINTERP_OK) {
                    stack.resize(base);
                    const subinterp_data* k = nullptr;
                    CHECK(subinterp_data_get_entry(r.p, n, &k, nullptr, nullptr) == SUBINTERP_ERR_INDEX, "entry index");
                }
                push(std::move(r));
                break;
            }
            case 10: {  // library buffer
                const std::string s = in.bytes(in.upto(64));
                void* memory = nullptr;
                Ref r = make_ok("new_buffer",
                                [&](auto o, auto e) { return subinterp_data_new_buffer(s.size(), &memory, o, e); });
                CHECK(memory != nullptr || s.empty(), "buffer memory");
                if (!s.empty()) std::memcpy(memory, s.data(), s.size());
                push(std::move(r));
                break;
            }
            case 11: {  // host buffer, released exactly once
                const std::string s = in.bytes(in.upto(64));
                const int readonly = in.flag();
                void* memory = std::malloc(s.size() + 1);
                if (!s.empty()) std::memcpy(memory, s.data(), s.size());
                auto* released = new Released;
                g_released.push_back(released);
                Ref r = make_ok("new_buffer_external", [&](auto o, auto e) {
                    return subinterp_data_new_buffer_external(memory, s.size(), readonly, release_external, released,
                                                              o, e);
                });
                void* got = nullptr;
                size_t size = 0;
                int ro = -1;
                CHECK(subinterp_data_get_buffer(r.p, &got, &size, &ro, nullptr) == SUBINTERP_OK && got == memory &&
                          size == s.size() && ro == readonly,
                      "get_buffer");
                push(std::move(r));
                break;
            }
            case 12: {  // pickles: good ones, and ones that cannot load
                const int kind = static_cast<int>(in.upto(2));
                std::string blob;
                bool bad = true;
                const size_t index = in.upto(g_good_pickles.size() - 1);
                const std::string& good = g_good_pickles[index];
                if (kind == 0) {
                    blob = good;
                    bad = false;
                } else if (kind == 1) {
                    // A strict prefix of a good pickle never reaches its STOP.
                    blob = good.substr(0, in.upto(good.size() - 1));
                } else {
                    // 0xff is no pickle opcode: loading stops at the first byte.
                    blob = "\xff" + in.bytes(in.upto(16));
                }
                Ref r = make_ok("new_pickled", [&](auto o, auto e) {
                    return subinterp_data_new_pickled(blob.data(), blob.size(), o, e);
                });
                if (bad) g_bad_pickles.push_back(r.p);
                else g_pickles.emplace_back(r.p, index);
                push(std::move(r));
                break;
            }
            case 13: {
                static const int64_t kIds[] = {0, -1, INT64_MIN, INT64_MAX, 1};
                const int64_t id = in.flag() ? g_interp : kIds[in.upto(4)];
                Ref r = make_ok("new_interpreter",
                                [&](auto o, auto e) { return subinterp_data_new_interpreter(id, o, e); });
                int64_t got = 0;
                CHECK(subinterp_data_get_interpreter(r.p, &got, nullptr) == SUBINTERP_OK && got == id, "interp id");
                push(std::move(r));
                break;
            }
            case 14: {
                const bool live = in.flag();
                const int64_t id = live ? g_queue : static_cast<int64_t>(in.u64());
                subinterp_data* out = nullptr;
                subinterp_error* err = nullptr;
                const subinterp_status st = subinterp_data_new_queue(id, &out, &err);
                check_error(st, err, "new_queue");
                CHECK(st == (id == g_queue ? SUBINTERP_OK : SUBINTERP_ERR_NOT_FOUND), "new_queue: " + describe(st, err));
                subinterp_error_free(err);
                push(Ref(out));
                break;
            }
            case 15: {  // nest the top in n tuples or lists
                if (stack.empty()) break;
                int n = 1 + static_cast<int>(in.upto(254));
                const bool tuple = in.flag();
                Ref v = std::move(stack.back());
                stack.pop_back();
                n = static_cast<int>(std::min<size_t>(n, kMaxExpanded - std::min(kMaxExpanded, expanded_size(v.p))));
                int depth = depth_of(v.p);
                for (int i = 0; i < n; i++) {
                    subinterp_data* out = nullptr;
                    subinterp_error* err = nullptr;
                    const subinterp_data* item = v.p;
                    const subinterp_status st = tuple ? subinterp_data_new_tuple(&item, 1, &out, &err)
                                                      : subinterp_data_new_list(&item, 1, &out, &err);
                    check_error(st, err, "nest");
                    CHECK(st == (depth + 1 > 256 ? SUBINTERP_ERR_INVALID_ARGUMENT : SUBINTERP_OK),
                          "nesting at depth " + std::to_string(depth + 1) + ": " + describe(st, err));
                    subinterp_error_free(err);
                    if (st != SUBINTERP_OK) break;
                    v = Ref(out);
                    depth++;
                }
                push(std::move(v));
                break;
            }
            case 16:
                if (!stack.empty()) push(Ref(subinterp_data_ref(stack.back().p)));
                break;
            default: {  // keys that differ as data but are equal in Python (or not)
                static const double kKeys[][2] = {{1.0, 1.0}, {0.0, -0.0}, {NAN, -NAN}, {2.0, 3.0}};
                const size_t which = in.upto(3);
                Ref a = make_ok("new_int", [](auto o, auto e) { return subinterp_data_new_int(1, o, e); });
                Ref b = make_ok("new_float",
                                [&](auto o, auto e) { return subinterp_data_new_float(kKeys[which][0], o, e); });
                Ref c = make_ok("new_float",
                                [&](auto o, auto e) { return subinterp_data_new_float(kKeys[which][1], o, e); });
                Ref t = make_ok("new_bool", [](auto o, auto e) { return subinterp_data_new_bool(1, o, e); });
                const subinterp_data* keys[] = {which == 0 ? a.p : b.p, which == 0 ? t.p : c.p};
                const subinterp_data* values[] = {a.p, t.p};
                subinterp_data* out = nullptr;
                subinterp_error* err = nullptr;
                const subinterp_status st = subinterp_data_new_dict(keys, values, 2, &out, &err);
                check_error(st, err, "new_dict");
                // as data: 1 and True differ, 0.0 and -0.0 differ, NaN and -NaN differ
                CHECK(st == SUBINTERP_OK, "dict of keys distinct as data: " + describe(st, err));
                push(Ref(out));
                break;
            }
        }
    }
    if (stack.empty()) return;

    // Every value on the stack equals itself; the top one goes into Python.
    for (const Ref& r : stack) CHECK(subinterp_data_equal(r.p, r.p) == 1, "not equal to itself: " + repr(r.p));
    const subinterp_data* value = stack.back().p;
    const int depth = depth_of(value);
    const int py_depth = python_depth(value);  // a pickled list unpickles into nesting of its own
    Risks risks;
    risks_of(value, risks);

    Ref back;
    subinterp_error* err = nullptr;
    subinterp_status st;
    const char* how;
    if (via_prepare_main || depth + 2 > 256) {
        how = "prepare_main + get_v";
        Ref key = make_ok("new_str", [](auto o, auto e) { return subinterp_data_new_str("v", 1, o, e); });
        subinterp_data* names = nullptr;
        const subinterp_data* k = key.p;
        st = subinterp_data_new_dict(&k, &value, 1, &names, &err);
        if (st == SUBINTERP_OK) {
            Ref holder(names);
            st = subinterp_prepare_main(g_interp, names, &err);
            check_error(st, err, "prepare_main");
            if (st == SUBINTERP_OK) st = call1("get_v", nullptr, &g_opts, back, &err);
        } else {
            CHECK(depth + 1 > 256, "names dict refused: " + describe(st, err));
            subinterp_error_free(err);
            return;
        }
    } else {
        how = "echo(value)";
        st = call1("echo", value, &g_opts, back, &err);
    }
    const auto detail = [&] { return std::string(how) + ": " + describe(st, err) + "\nvalue: " + repr(value); };
    if (g_verbose) std::fprintf(stderr, "host-built: %s\n", detail().c_str());
    switch (st) {
        case SUBINTERP_OK:
            CHECK(py_depth <= 200, "a value nested " + std::to_string(py_depth) + " deep came back: " + detail());
            CHECK(!risks.bad_pickle, "a bad pickle loaded: " + detail());
            CHECK(same_after_trip(value, back.p), "host -> Python -> host changed the value:\n" + detail() +
                                                      "\nback:  " + repr(back.p));
            break;
        case SUBINTERP_ERR_INVALID_ARGUMENT:
            CHECK(risks.multi_key_dict && std::strstr(subinterp_error_message(err), "equals an earlier key"),
                  "unexpected INVALID_ARGUMENT: " + detail());
            break;
        case SUBINTERP_ERR_PYTHON: {
            // a pickle that does not load, or a key that loads as an
            // unhashable object (a pickled bytearray): Python's TypeError
            const char* qualname = subinterp_error_exc_qualname(err);
            CHECK(risks.bad_pickle || (risks.pickled_key && qualname && std::strcmp(qualname, "TypeError") == 0),
                  "unexpected PYTHON error: " + detail());
            break;
        }
        case SUBINTERP_ERR_NOT_SHAREABLE:
            CHECK(py_depth > 200 && std::strstr(subinterp_error_message(err), "nested deeper than 200"),
                  "unexpected NOT_SHAREABLE: " + detail());
            break;
        default: fail("unexpected status", detail());
    }
    subinterp_error_free(err);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    subinterp_error* err = nullptr;
    subinterp_status st = subinterp_runtime_init(nullptr, &err);
    if (st != SUBINTERP_OK) fail("runtime_init", describe(st, err));
    st = subinterp_create(nullptr, &g_interp, &err);
    if (st != SUBINTERP_OK) fail("create", describe(st, err));
    st = subinterp_queue_create(nullptr, &g_queue, &err);
    if (st != SUBINTERP_OK) fail("queue_create", describe(st, err));
    subinterp_run_options_init(&g_opts);
    g_opts.timeout = 5.0;  // nothing here runs long; a hang becomes a failed call, not a stuck fuzzer
    g_strict_opts = g_opts;
    g_strict_opts.flags = SUBINTERP_RUN_STRICT;

    // IID and Q for the decoder: handles bound through prepare_main.
    Ref names;
    {
        Ref k1 = make_ok("str", [](auto o, auto e) { return subinterp_data_new_str("IID", 3, o, e); });
        Ref k2 = make_ok("str", [](auto o, auto e) { return subinterp_data_new_str("Q", 1, o, e); });
        Ref v1 = make_ok("interp", [](auto o, auto e) { return subinterp_data_new_interpreter(g_interp, o, e); });
        Ref v2 = make_ok("queue", [](auto o, auto e) { return subinterp_data_new_queue(g_queue, o, e); });
        const subinterp_data* keys[] = {k1.p, k2.p};
        const subinterp_data* values[] = {v1.p, v2.p};
        names = make_ok("dict", [&](auto o, auto e) { return subinterp_data_new_dict(keys, values, 2, o, e); });
    }
    st = subinterp_prepare_main(g_interp, names.p, &err);
    if (st != SUBINTERP_OK) fail("prepare_main", describe(st, err));
    run_ok(kDecoder);

    // Pickles that load here, made by Python itself.
    run_ok("GOOD = [pickle.dumps(o, p) for p in (2, 5) for o in ({1, 2}, frozenset({'a'}), complex(1, -2),"
           " bytearray(b'ab'), range(3), MyInt(7), MyStr('s'), MyTuple((1, None)), [1, [2.5]], 'x')]");
    Ref good;
    st = call1("GOOD.copy", nullptr, &g_opts, good, &err);
    if (st != SUBINTERP_OK) fail("GOOD", describe(st, err));
    size_t len = 0;
    subinterp_data_get_len(good.p, &len, nullptr);
    for (size_t i = 0; i < len; i++) {
        const subinterp_data* item = nullptr;
        const void* bytes = nullptr;
        size_t n = 0;
        subinterp_data_get_item(good.p, i, &item, nullptr);
        if (subinterp_data_get_bytes(item, &bytes, &n, nullptr) != SUBINTERP_OK) fail("GOOD item");
        g_good_pickles.emplace_back(static_cast<const char*>(bytes), n);
        Ref pickled = make_ok("pickled", [&](auto o, auto e) { return subinterp_data_new_pickled(bytes, n, o, e); });
        Ref trip;
        st = call1("echo", pickled.p, &g_opts, trip, &err);
        if (st != SUBINTERP_OK) fail("echo of a good pickle", describe(st, err));
        g_good_trips.push_back(trip.p);
        trip.p = nullptr;
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    Reader in{data + 1, size - 1};
    if (data[0] & 1) {
        host_built(in);
    } else {
        python_built(in);
    }
    // Host buffers of this input: every holder is gone (the host's stack,
    // and in Python the call's arguments and `v`, which get_v unbinds), so
    // each was released exactly once.
    for (Released* r : g_released) {
        CHECK(r->count == 1, "a host buffer was released " + std::to_string(r->count) + " times");
        delete r;
    }
    g_released.clear();
    return 0;
}
