// libFuzzer target: random sequences of C ABI calls (capi/include/subinterp.h)
// against a model of what each must return.
//
// The input is a stream of operations (read from the front; see
// make_seeds.py): create interpreters (valid, preset, NULL and invalid
// configs), destroy them, exec (snippets from a fixed menu, NULL, invalid
// UTF-8, random text after a comment or a control character), call (menu
// callables, malformed and unknown names, arguments of every kind), prepare_main
// (good and bad names), the data constructors and getters, queues (create, put,
// get with no or short waits, close, size, info, retain/release, destroy),
// lists, configs, interrupts, status names and the error accessors. Ids come
// from live objects, destroyed ones, the main interpreter, 0, -1 and random
// int64s; run options, struct sizes and out-pointers are sometimes invalid.
//
// Checked for every call, beyond "no crash, no sanitizer report":
//  - an error object exactly when the status is not OK, with that status, a
//    message, a valid status name, and Python details exactly for PYTHON;
//  - the status the model expects: a destroyed or unknown id is always
//    NOT_FOUND, a bad argument is INVALID_ARGUMENT (never OK), create agrees
//    with config_validate and with the documented config rules, queue
//    operations follow FIFO/size/closed state (puts and gets return exactly
//    the items put), lists name exactly the live objects in creation order,
//    get_config returns the config an interpreter was created with;
//  - output handed back exactly when capture was requested.
// At the end of each input everything it created is destroyed (state does not
// leak into the next input: afterwards only the main interpreter and no queue
// are left) and every host buffer it handed over was released exactly once.
// The runtime is started once per process and never finalized.
//
// Python code never comes from the input: exec runs menu snippets (or text
// that cannot run: invalid UTF-8, a comment, a syntax error), and callables
// outside the menu start with "zz_", so nothing the fuzzer finds can call
// input(), os.system() or loop forever; every run that could block has a
// timeout (run_options.timeout <= 0.1 s).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "subinterp.h"

// Found here: subinterp_data_kind_name() and subinterp_config_init() loaded
// their enum parameter as a C++ enum, and a C caller may pass any int there (C
// enums are ints): UBSan "load of value ..., which is not a valid value for
// type". Regression inputs: crashes/sequence-kind-name-enum-ub and
// crashes/sequence-config-init-enum-ub.
// C callers pass enums as ints (c_callers.c): the harness itself never forms
// an out-of-range C++ enum value.
extern "C" const char* fuzz_kind_name_from_c(int kind);
extern "C" subinterp_status fuzz_config_init_from_c(subinterp_config* config, int preset);

namespace {

// --- failing -----------------------------------------------------------------------------

std::string g_trace;  // the operations of the current input, for failure reports

[[noreturn]] void fail(const std::string& what) {
    std::fprintf(stderr, "fuzz_sequence: check failed: %s\noperations of this input:\n%s\n", what.c_str(),
                 g_trace.c_str());
    std::fflush(stderr);
    std::abort();
}

#define CHECK(cond, ...)                                                                        \
    do {                                                                                        \
        if (!(cond)) fail("line " + std::to_string(__LINE__) + ": " #cond ": " + std::string(__VA_ARGS__)); \
    } while (0)

void trace(const std::string& line) {
    if (g_trace.size() < 20000) g_trace += "  " + line + "\n";
}

// --- the input -------------------------------------------------------------------------------

struct Reader {
    const uint8_t* p;
    size_t n;
    uint8_t u8() {
        if (!n) return 0;
        n--;
        return *p++;
    }
    bool flag() { return u8() & 1; }
    size_t upto(size_t max) { return u8() % (max + 1); }  // 0..max, max < 256
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
};

// --- statuses ----------------------------------------------------------------------------------

using Mask = uint64_t;  // a set of statuses
constexpr Mask bit(subinterp_status s) { return s == SUBINTERP_ERR_INTERNAL ? (Mask{1} << 63) : (Mask{1} << s); }
constexpr Mask OK = bit(SUBINTERP_OK);
constexpr Mask INVALID = bit(SUBINTERP_ERR_INVALID_ARGUMENT);
constexpr Mask NOT_FOUND = bit(SUBINTERP_ERR_NOT_FOUND);
constexpr Mask PYTHON = bit(SUBINTERP_ERR_PYTHON);
constexpr Mask CONFIG = bit(SUBINTERP_ERR_CONFIG);
constexpr Mask TYPE = bit(SUBINTERP_ERR_TYPE);
constexpr Mask OVERFLOW_ = bit(SUBINTERP_ERR_OVERFLOW);
constexpr Mask NOT_SHAREABLE = bit(SUBINTERP_ERR_NOT_SHAREABLE);
constexpr Mask INDEX = bit(SUBINTERP_ERR_INDEX);
constexpr Mask TIMEOUT = bit(SUBINTERP_ERR_TIMEOUT);
constexpr Mask QUEUE_EMPTY = bit(SUBINTERP_ERR_QUEUE_EMPTY);
constexpr Mask QUEUE_FULL = bit(SUBINTERP_ERR_QUEUE_FULL);
constexpr Mask CLOSED = bit(SUBINTERP_ERR_CLOSED);
constexpr Mask CANCELLED = bit(SUBINTERP_ERR_CANCELLED);
constexpr Mask UNBOUND = bit(SUBINTERP_ERR_UNBOUND);
constexpr Mask RUNTIME = bit(SUBINTERP_ERR_RUNTIME);
constexpr Mask NO_MEMORY = bit(SUBINTERP_ERR_NO_MEMORY);

std::string names_of(Mask m) {
    std::string out;
    for (int s = 0; s <= 99; s++) {
        if (s > 17 && s < 99) continue;
        if (m & bit(s)) out += std::string(out.empty() ? "" : "|") + subinterp_status_name(s);
    }
    return out;
}

// One call's error: NULL-able out-pointer, freed at scope exit.
struct Err {
    subinterp_error* e = nullptr;
    bool pass_null = false;  // the caller passed err == NULL
    subinterp_error** out() { return pass_null ? nullptr : &e; }
    ~Err() { subinterp_error_free(e); }
    std::string text(subinterp_status st) const {
        std::string t = subinterp_status_name(st);
        if (e) t += std::string(": ") + subinterp_error_message(e);
        return t;
    }
};

// The error convention, and the status against the expected set.
void verify(const char* call, subinterp_status st, const Err& err, Mask expected) {
    const std::string where = std::string(call) + " -> " + err.text(st);
    CHECK(std::strcmp(subinterp_status_name(st), "SUBINTERP_ERR_UNKNOWN") != 0, where + " (unknown status)");
    CHECK(st != SUBINTERP_ERR_INTERNAL, where + " (a library bug by its own account)");
    if (!err.pass_null) {
        if (st == SUBINTERP_OK) {
            CHECK(err.e == nullptr, where + " (OK with an error object)");
        } else {
            CHECK(err.e != nullptr, where + " (failed without an error object)");
            CHECK(subinterp_error_code(err.e) == st, where + " (error code differs from the status)");
            CHECK(subinterp_error_message(err.e) != nullptr, where);
            const bool python = subinterp_error_exc_qualname(err.e) != nullptr;
            CHECK((subinterp_error_exc_module(err.e) != nullptr) == python, where);
            CHECK((subinterp_error_traceback(err.e) != nullptr) == python, where);
            if (st == SUBINTERP_ERR_PYTHON) CHECK(python, where + " (PYTHON without the exception)");
            if (st != SUBINTERP_ERR_PYTHON && st != SUBINTERP_ERR_TIMEOUT && st != SUBINTERP_ERR_CANCELLED)
                CHECK(!python, where + " (carries a Python exception)");
        }
    }
    // Allocation failure is always a possible answer; nothing else unexpected.
    CHECK((expected | NO_MEMORY) & bit(st), where + ", expected " + names_of(expected));
    trace(where);
}

bool python_is(const Err& err, const char* qualname) {
    const char* q = err.e ? subinterp_error_exc_qualname(err.e) : nullptr;
    return q && std::strcmp(q, qualname) == 0;
}

// --- the model -------------------------------------------------------------------------------

constexpr int64_t kMainId = 0;

struct Interp {
    int64_t id;
    subinterp_config config;  // as created (NULL config: the ISOLATED preset)
};

struct Queue {
    int64_t id;
    size_t maxsize;
    int unbound;
    int holds = 1;               // the host's holds (create + retains - releases)
    bool handles = false;        // queue values exist (they hold it too)
    bool tainted = false;        // Python may use it: contents and state unknown
    bool closed = false;
    bool destroyed = false;      // by queue_destroy: NOT_FOUND from now on, whoever holds it
    std::deque<subinterp_data*> items;  // what the host put (own references), oldest first
    bool gone() const { return destroyed || (holds == 0 && !handles); }
    bool maybe_gone() const { return destroyed || holds == 0; }
};

struct Released {
    int count = 0;
};

std::vector<Interp> g_live;
std::vector<int64_t> g_dead_interps;  // across inputs (ids are never reused)
std::vector<Queue> g_queues;          // this input's queues, live or not
std::vector<int64_t> g_dead_queues;   // across inputs
std::vector<subinterp_data*> g_pool;  // this input's values
std::vector<Released*> g_released;    // this input's host buffers
std::vector<std::string>& g_pickles = *new std::vector<std::string>;  // pickles that load
int g_creates = 0;
subinterp_data* g_default_value = nullptr;  // an int, for when the pool is empty

void remember_dead(std::vector<int64_t>& dead, int64_t id) {
    dead.push_back(id);
    if (dead.size() > 64) dead.erase(dead.begin());
}

Interp* live_interp(int64_t id) {
    for (Interp& i : g_live)
        if (i.id == id) return &i;
    return nullptr;
}

Queue* model_queue(int64_t id) {
    for (Queue& q : g_queues)
        if (q.id == id) return &q;
    return nullptr;
}

// An interpreter id and what the model knows of it.
enum class IdKind { Live, Main, Dead, Unknown };
struct Id {
    int64_t id;
    IdKind kind;
};

Id classify_interp(int64_t id) {
    if (live_interp(id)) return {id, IdKind::Live};
    if (id == kMainId) return {id, IdKind::Main};
    return {id, IdKind::Unknown};  // dead or never made: NOT_FOUND alike
}

// The index byte is read even when the list is empty, so an input reads the
// same bytes whatever earlier inputs left (the dead ids span inputs).
Id pick_interp(Reader& in) {
    switch (in.upto(7)) {
        case 0:
        case 1:
        case 2: {
            const size_t k = in.upto(255);
            return classify_interp(g_live.empty() ? kMainId : g_live[k % g_live.size()].id);
        }
        case 3: {
            const size_t k = in.upto(255);
            return classify_interp(g_dead_interps.empty() ? -1 : g_dead_interps[k % g_dead_interps.size()]);
        }
        case 4: return classify_interp(kMainId);
        case 5: return classify_interp(-1);
        case 6: return classify_interp(static_cast<int64_t>(in.u64()));
        default: return classify_interp(static_cast<int64_t>(in.upto(40)));
    }
}

int64_t pick_queue_id(Reader& in) {
    switch (in.upto(5)) {
        case 0:
        case 1:
        case 2: {
            const size_t k = in.upto(255);
            return g_queues.empty() ? 1 : g_queues[k % g_queues.size()].id;
        }
        case 3: {
            const size_t k = in.upto(255);
            return g_dead_queues.empty() ? 0 : g_dead_queues[k % g_dead_queues.size()];
        }
        case 4: return -1;
        default: return static_cast<int64_t>(in.u64());
    }
}

// Queue status for an id: live (a model queue not gone), maybe, or gone.
enum class QState { Live, Maybe, Gone };
QState queue_state(int64_t id) {
    const Queue* q = model_queue(id);
    if (!q) return QState::Gone;  // dead in an earlier input, or never made here
    if (q->gone()) return QState::Gone;
    if (q->maybe_gone()) return QState::Maybe;
    return QState::Live;
}

// --- values ----------------------------------------------------------------------------------

const subinterp_data* pick_value(Reader& in, bool allow_null = true) {
    const size_t k = in.upto(255);
    if (allow_null && k == 255) return nullptr;
    if (g_pool.empty()) return g_default_value;
    return g_pool[k % g_pool.size()];
}

void pool_add(subinterp_data* d) {
    if (!d) return;
    if (g_pool.size() >= 24) {
        subinterp_data_free(g_pool.front());
        g_pool.erase(g_pool.begin());
    }
    g_pool.push_back(d);
}

std::vector<const subinterp_data*> children(const subinterp_data* d) {
    std::vector<const subinterp_data*> out;
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    if (kind != SUBINTERP_DATA_TUPLE && kind != SUBINTERP_DATA_LIST && kind != SUBINTERP_DATA_DICT) return out;
    size_t len = 0;
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

// Expanded tree size (values share items), saturating: the harness keeps every
// value small enough that walking it, or converting it, stays cheap.
constexpr size_t kMaxExpanded = 2000;
size_t expanded_size(const subinterp_data* d) {
    size_t size = 1;
    for (const subinterp_data* c : children(d)) {
        size += expanded_size(c);
        if (size > kMaxExpanded) return kMaxExpanded + 1;
    }
    return size;
}

int depth_of(const subinterp_data* d) {
    int deepest = -1;
    for (const subinterp_data* c : children(d)) deepest = std::max(deepest, depth_of(c));
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    if (kind == SUBINTERP_DATA_TUPLE || kind == SUBINTERP_DATA_LIST || kind == SUBINTERP_DATA_DICT)
        return std::max(deepest, 0) + 1;
    return 0;
}

bool hashable(const subinterp_data* d) {
    switch (subinterp_data_get_kind(d)) {
        case SUBINTERP_DATA_LIST:
        case SUBINTERP_DATA_DICT:
        case SUBINTERP_DATA_BUFFER: return false;
        case SUBINTERP_DATA_TUPLE:
            for (const subinterp_data* c : children(d))
                if (!hashable(c)) return false;
            return true;
        default: return true;
    }
}

// Queues a value refers to (its queue handles, nested).
void queues_in(const subinterp_data* d, std::vector<int64_t>& out) {
    if (subinterp_data_get_kind(d) == SUBINTERP_DATA_QUEUE) {
        int64_t id = 0;
        if (subinterp_data_get_queue(d, &id, nullptr) == SUBINTERP_OK) out.push_back(id);
    }
    for (const subinterp_data* c : children(d)) queues_in(c, out);
}

// A value goes into Python: the queues it names may be used there.
void taint_queues_of(const subinterp_data* d) {
    if (!d) return;
    std::vector<int64_t> ids;
    queues_in(d, ids);
    for (int64_t id : ids)
        if (Queue* q = model_queue(id)) q->tainted = true;
}

// What sending a value into Python may fail with, beyond OK: keys equal in
// Python (INVALID_ARGUMENT), pickles that do not load or keys that load as
// unhashable objects (PYTHON).
Mask conversion_risks(const subinterp_data* d) {
    Mask m = 0;
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    if (kind == SUBINTERP_DATA_PICKLED) m |= PYTHON;
    if (kind == SUBINTERP_DATA_DICT) {
        size_t len = 0;
        subinterp_data_get_len(d, &len, nullptr);
        if (len >= 2) m |= INVALID;
    }
    for (const subinterp_data* c : children(d)) m |= conversion_risks(c);
    return m;
}

bool valid_utf8(const std::string& s) {
    size_t i = 0;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    while (i < s.size()) {
        const unsigned c = p[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            n = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
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

// ASCII identifiers are certain; anything non-ASCII is left to Python.
enum class Ident { Yes, No, Unsure };
Ident identifier(const std::string& s) {
    if (s.empty()) return Ident::No;
    for (size_t i = 0; i < s.size(); i++) {
        const unsigned char c = s[i];
        if (c >= 0x80) return Ident::Unsure;
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        const bool digit = c >= '0' && c <= '9';
        if (!alpha && !(digit && i > 0)) return Ident::No;
    }
    return Ident::Yes;
}

// --- run options -----------------------------------------------------------------------------

struct Opts {
    subinterp_run_options o;
    const subinterp_run_options* ptr = nullptr;  // NULL: defaults (no timeout)
    bool valid = true;
    bool captures = false;
    bool has_timeout = false;
};

Opts pick_opts(Reader& in) {
    Opts opts;
    subinterp_run_options_init(&opts.o);
    opts.o.timeout = 0.001 * (1 + static_cast<double>(in.upto(99)));  // 1..100 ms
    switch (in.upto(9)) {
        case 0: opts.ptr = nullptr; return opts;  // defaults: no deadline
        case 1: opts.o.struct_size = in.flag() ? 0 : sizeof(subinterp_run_options) + 8; opts.valid = false; break;
        case 2: opts.o.flags = 1u << (3 + in.upto(28)); opts.valid = false; break;  // unknown flag
        case 3: opts.o.timeout = NAN; opts.valid = false; break;
        default: opts.o.flags = static_cast<uint32_t>(in.upto(7)); break;  // capture bits, strict
    }
    opts.ptr = &opts.o;
    opts.captures = opts.o.flags & (SUBINTERP_RUN_CAPTURE_STDOUT | SUBINTERP_RUN_CAPTURE_STDERR);
    opts.has_timeout = opts.valid;
    return opts;
}

// --- exec and call ---------------------------------------------------------------------------

struct Snippet {
    const char* source;
    Mask expected;        // with a live id and valid arguments
    bool needs_timeout;   // may block or run long without a deadline
    uint32_t prints = 0;  // writes to these streams: run only when they are captured
};

// Python never comes from the input: these, or text that cannot run.
const Snippet kSnippets[] = {
    {"x = 1", OK, false},
    {"def f(*a, **k):\n    return (a, k)\n", OK, false},
    {"def boom():\n    raise ValueError('boom')\n", OK, false},
    {"raise KeyError('k')", PYTHON, false},
    {"1/0", PYTHON, false},
    {"def spin(n):\n    i = 0\n    while i < n:\n        i += 1\n    return i\n", OK, false},
    {"print('hello')", OK, false, SUBINTERP_RUN_CAPTURE_STDOUT},
    {"import sys; sys.stderr.write('oops')", OK, false, SUBINTERP_RUN_CAPTURE_STDERR},
    {"import sys; sys.exit(3)", PYTHON, false},
    {"def (", PYTHON, false},
    {"Qv.put_nowait(1)", OK | PYTHON, false},
    {"Qv.get(timeout=0.01)", OK | PYTHON | TIMEOUT, true},
    {"y = v", OK | PYTHON, false},
    {"import math; z = math.sqrt(2)", OK, false},
    {"spin(10**5)", OK | PYTHON | TIMEOUT, true},
    {"del x", OK | PYTHON, false},
    {"class C:\n    pass\nc = C()", OK, false},
    {"raise SystemExit", PYTHON, false},
    {"import _subinterp", OK | PYTHON, false},
    {"print('x' * 100000)", OK, false, SUBINTERP_RUN_CAPTURE_STDOUT},
    {"Qv.close()", OK | PYTHON, false},
    {"import sys; sys.stdout.write('\\udcff')", OK, false, SUBINTERP_RUN_CAPTURE_STDOUT},
    {"raise KeyboardInterrupt", PYTHON | CANCELLED, false},
    {"Qv.put(v, timeout=0.01)", OK | PYTHON | TIMEOUT, true},
    {"w = [v] * 3", OK | PYTHON, false},
};
constexpr size_t kSnippetCount = sizeof kSnippets / sizeof kSnippets[0];

// Which statuses exec may end with, given the id and the arguments.
Mask expect_run(const Id& id, const Opts& opts, bool output_null, Mask arg_problems, Mask run_outcomes) {
    Mask m = 0;
    const bool capture_without_output = opts.valid && opts.captures && output_null;
    if (!opts.valid || capture_without_output) m |= INVALID;  // checked before anything else
    if (!opts.valid || capture_without_output) return m;
    if (arg_problems & INVALID) m |= INVALID;
    if (id.kind == IdKind::Unknown || id.kind == IdKind::Dead) {
        // checks of the arguments' shape may come before or after the lookup
        return m | NOT_FOUND;
    }
    // the shape of every argument is checked before any Python runs
    if (arg_problems & INVALID) return m | INVALID;
    return m | run_outcomes;
}

void check_output(const char* call, subinterp_status st, const Opts& opts, subinterp_output* out, bool output_null,
                  const char* expect_stdout) {
    if (output_null) return;
    const bool handed = opts.valid && opts.captures;
    if (!handed) {
        CHECK(out == nullptr, std::string(call) + ": output without capture");
        return;
    }
    CHECK(out != nullptr, std::string(call) + ": capture asked but no output (" + subinterp_status_name(st) + ")");
    size_t len = 0;
    const char* text = subinterp_output_stdout(out, &len);
    CHECK(text && std::strlen(text) == len, call);
    const char* errtext = subinterp_output_stderr(out, &len);
    CHECK(errtext && std::strlen(errtext) == len, call);
    CHECK(valid_utf8(std::string(text)) && valid_utf8(std::string(errtext)), std::string(call) + ": output is not UTF-8");
    if (expect_stdout && st == SUBINTERP_OK && (opts.o.flags & SUBINTERP_RUN_CAPTURE_STDOUT))
        CHECK(std::strcmp(text, expect_stdout) == 0, std::string(call) + ": captured '" + text + "'");
    subinterp_output_free(out);
}

void op_exec(Reader& in) {
    const Id id = pick_interp(in);
    const Opts opts = pick_opts(in);
    const bool output_null = in.upto(7) == 0;
    std::string source;
    const char* src = nullptr;
    Mask problems = 0, outcomes = 0;
    const char* expect_stdout = nullptr;
    const size_t kind = in.upto(9);
    if (kind == 0) {
        problems = INVALID;  // NULL source
    } else if (kind == 1) {  // invalid UTF-8
        source = in.bytes(in.upto(24));
        source.erase(std::remove(source.begin(), source.end(), '\0'), source.end());
        source.insert(source.begin() + static_cast<long>(in.upto(255) % (source.size() + 1)), '\xff');
        src = source.c_str();
        problems = INVALID;
    } else if (kind == 2 || kind == 3) {  // random text that cannot run
        source = in.bytes(in.upto(40));
        source.erase(std::remove(source.begin(), source.end(), '\0'), source.end());
        if (kind == 2) {
            // a comment: no line break may end it
            for (char& c : source)
                if (c == '\n' || c == '\r') c = ' ';
            source.insert(source.begin(), '#');
            outcomes = OK | PYTHON;  // a coding cookie in the comment may be refused
            if (opts.has_timeout) outcomes |= TIMEOUT;
        } else {
            source.insert(source.begin(), '\x01');  // not valid Python anywhere
            outcomes = PYTHON;
            // A deadline that passes while the SyntaxError is formatted makes
            // it TIMEOUT (the SyntaxError kept as the error's exception).
            if (opts.has_timeout) outcomes |= TIMEOUT;
        }
        src = source.c_str();
        if (!valid_utf8(source)) problems = INVALID, outcomes = 0;
    } else {
        const Snippet& s = kSnippets[in.upto(255) % kSnippetCount];
        if (s.needs_timeout && !opts.has_timeout) return;  // would block without a deadline
        if (s.prints && !(opts.valid && opts.ptr && (opts.o.flags & s.prints) == s.prints && !output_null))
            return;  // would write to the fuzzer's own stdout/stderr
        src = s.source;
        outcomes = s.expected;
        if (opts.has_timeout) outcomes |= TIMEOUT;  // a deadline of 1 ms can pass anywhere
        if (std::strcmp(src, "print('hello')") == 0) expect_stdout = "hello\n";
    }
    const Mask expected = expect_run(id, opts, output_null, problems, outcomes);
    Err err;
    err.pass_null = in.upto(7) == 0;
    subinterp_output* out = nullptr;
    const subinterp_status st = subinterp_exec(id.id, src, opts.ptr, output_null ? nullptr : &out, err.out());
    verify(("exec(" + std::to_string(id.id) + ", " + (src ? "\"" + std::string(src).substr(0, 40) + "\"" : "NULL") +
            ")").c_str(),
           st, err, expected);
    if ((st == SUBINTERP_ERR_PYTHON || st == SUBINTERP_ERR_TIMEOUT) && !err.pass_null && kind == 3)
        CHECK(python_is(err, "SyntaxError"), "not a SyntaxError");
    check_output("exec", st, opts, out, output_null, expect_stdout);
}

const char* const kCallables[] = {"f", "len", "math:sqrt", "json:dumps", "boom", "spin", "repr", "math:pi",
                                  "os.path:join", "C"};
const char* const kMalformed[] = {"", ":", "a:", ":b", "a..b", "a:b:c", ".x", "x.", "a:.b", "math:sqrt."};

void op_call(Reader& in) {
    const Id id = pick_interp(in);
    const Opts opts = pick_opts(in);
    const bool output_null = in.upto(7) == 0;
    std::string name;
    const char* callable = nullptr;
    Mask problems = 0;
    Mask outcomes = OK | PYTHON | NOT_SHAREABLE;  // the callable's own result and errors
    if (opts.has_timeout) outcomes |= TIMEOUT;
    bool may_block = false;
    switch (in.upto(5)) {
        case 0: problems |= INVALID; break;  // NULL
        case 1:
        case 2:
            callable = kCallables[in.upto(255) % (sizeof kCallables / sizeof kCallables[0])];
            may_block = std::strcmp(callable, "spin") == 0;
            break;
        case 3:
            callable = kMalformed[in.upto(255) % (sizeof kMalformed / sizeof kMalformed[0])];
            problems |= INVALID;
            break;
        default:
            // unknown names: never a builtin or a module that exists
            name = "zz_" + in.bytes(in.upto(16));
            name.erase(std::remove(name.begin(), name.end(), '\0'), name.end());
            callable = name.c_str();
            if (!valid_utf8(name)) problems |= INVALID;
            outcomes |= INVALID;  // a malformed shape (':' twice, empty parts)
            break;
    }
    if (may_block && !opts.has_timeout) return;
    // arguments: NULL, or pool values of any kind (only tuple/list and a dict
    // with str keys are accepted)
    const subinterp_data* args = in.flag() ? pick_value(in) : nullptr;
    const subinterp_data* kwargs = in.upto(3) == 0 ? pick_value(in) : nullptr;
    if (id.kind == IdKind::Main && (args || kwargs)) return;  // nothing of an input stays in main
    if (args) {
        const subinterp_data_kind k = subinterp_data_get_kind(args);
        if (k != SUBINTERP_DATA_TUPLE && k != SUBINTERP_DATA_LIST) problems |= INVALID;
        else outcomes |= conversion_risks(args);
    }
    if (kwargs) {
        if (subinterp_data_get_kind(kwargs) != SUBINTERP_DATA_DICT) {
            problems |= INVALID;
        } else {
            for (const subinterp_data* c : children(kwargs)) outcomes |= conversion_risks(c);
            size_t len = 0;
            subinterp_data_get_len(kwargs, &len, nullptr);
            for (size_t i = 0; i < len; i++) {
                const subinterp_data* key = nullptr;
                subinterp_data_get_entry(kwargs, i, &key, nullptr, nullptr);
                if (subinterp_data_get_kind(key) != SUBINTERP_DATA_STR) problems |= INVALID;
            }
        }
    }
    const bool null_result = in.upto(15) == 0;
    if (null_result) problems |= INVALID;
    Mask expected = expect_run(id, opts, output_null, problems, outcomes);
    taint_queues_of(args);
    taint_queues_of(kwargs);
    Err err;
    err.pass_null = in.upto(7) == 0;
    subinterp_output* out = nullptr;
    subinterp_data* result = nullptr;
    const subinterp_status st = subinterp_call(id.id, callable, args, kwargs, opts.ptr, null_result ? nullptr : &result,
                                               output_null ? nullptr : &out, err.out());
    verify(("call(" + std::to_string(id.id) + ", " + (callable ? "\"" + std::string(callable) + "\"" : "NULL") + ")")
               .c_str(),
           st, err, expected);
    if (st == SUBINTERP_OK) {
        CHECK(result != nullptr, "call OK without a result");
        taint_queues_of(result);  // handles that came out of Python
        if (expanded_size(result) <= kMaxExpanded) pool_add(result);
        else subinterp_data_free(result);
    } else {
        CHECK(result == nullptr, "call failed but wrote a result");
    }
    check_output("call", st, opts, out, output_null, nullptr);
}

void op_prepare_main(Reader& in) {
    const Id id = pick_interp(in);
    if (id.kind == IdKind::Main) return;  // nothing of an input stays in main
    static const char* const kNames[] = {"v", "Qv", "x", "_ok", "for", "\xc3\xa9t\xc3\xa9", "1bad", "a b", "", "a.b"};
    const subinterp_data* names = nullptr;
    subinterp_data* built = nullptr;
    // shape: checked before anything is converted; after conversion: the
    // values' own risks (equal keys, pickles) and then the names' identifier check
    bool bad_shape = false;
    Mask outcomes = OK;
    bool bad_name = false;
    std::vector<std::string> texts;
    const size_t shape = in.upto(4);
    if (shape == 0) {
        bad_shape = true;  // NULL
    } else if (shape == 1) {
        names = pick_value(in, false);  // any value: only a dict of str keys that are identifiers passes
        if (subinterp_data_get_kind(names) != SUBINTERP_DATA_DICT) {
            bad_shape = true;
        } else {
            size_t len = 0;
            subinterp_data_get_len(names, &len, nullptr);
            for (size_t i = 0; i < len; i++) {
                const subinterp_data *key = nullptr, *value = nullptr;
                subinterp_data_get_entry(names, i, &key, &value, nullptr);
                outcomes |= conversion_risks(value);
                if (subinterp_data_get_kind(key) != SUBINTERP_DATA_STR) {
                    bad_shape = true;
                    continue;
                }
                const char* text = nullptr;
                size_t n = 0;
                subinterp_data_get_str(key, &text, &n, nullptr);
                texts.emplace_back(text, n);
            }
        }
    } else {
        const size_t n = 1 + in.upto(2);
        std::vector<subinterp_data*> keys;
        std::vector<const subinterp_data*> values;
        for (size_t i = 0; i < n; i++) {
            std::string text = in.upto(7) == 0 ? in.bytes(in.upto(8)) : kNames[in.upto(255) % 10];
            subinterp_data* key = nullptr;
            if (std::find(texts.begin(), texts.end(), text) != texts.end()) continue;
            if (subinterp_data_new_str(text.data(), text.size(), &key, nullptr) != SUBINTERP_OK) continue;
            texts.push_back(text);
            keys.push_back(key);
            values.push_back(pick_value(in, false));
            outcomes |= conversion_risks(values.back());
        }
        const subinterp_status st =
            subinterp_data_new_dict(const_cast<const subinterp_data* const*>(keys.data()), values.data(), keys.size(),
                                    &built, nullptr);
        for (subinterp_data* k : keys) subinterp_data_free(k);
        if (st != SUBINTERP_OK) return;
        names = built;
    }
    for (const std::string& t : texts) {
        const Ident ident = identifier(t);
        if (ident == Ident::No) bad_name = true;
        if (ident == Ident::Unsure) outcomes |= INVALID;
    }
    Mask expected;
    if (id.kind != IdKind::Live) expected = NOT_FOUND | (bad_shape ? INVALID : 0);
    else if (bad_shape) expected = INVALID;
    else if (bad_name) expected = INVALID | (outcomes & ~OK);  // conversion errors come first
    else expected = outcomes;
    taint_queues_of(names);
    Err err;
    err.pass_null = in.upto(7) == 0;
    const subinterp_status st = subinterp_prepare_main(id.id, names, err.out());
    verify(("prepare_main(" + std::to_string(id.id) + ")").c_str(), st, err, expected);
    subinterp_data_free(built);
}

// --- interpreters ------------------------------------------------------------------------------

// The documented config rules (subinterp_config_validate).
Mask config_rules(const subinterp_config& c) {
    if (c.struct_size != sizeof(subinterp_config)) return INVALID;
    const int bools[] = {c.use_main_obmalloc, c.allow_fork, c.allow_exec, c.allow_threads, c.allow_daemon_threads,
                         c.check_multi_interp_extensions};
    for (int b : bools)
        if (b != 0 && b != 1) return CONFIG;
    if (c.gil < 0 || c.gil > 2) return CONFIG;
    if (c.use_main_obmalloc && c.gil == SUBINTERP_GIL_OWN) return CONFIG;
    if (!c.use_main_obmalloc && !c.check_multi_interp_extensions) return CONFIG;
    if (c.allow_daemon_threads && !c.allow_threads) return CONFIG;
    return OK;
}

subinterp_config random_config(Reader& in) {
    subinterp_config c;
    subinterp_config_init(&c, in.flag() ? SUBINTERP_CONFIG_LEGACY : SUBINTERP_CONFIG_ISOLATED);
    static const int kValues[] = {0, 1, 0, 1, 0, 1, 2, -1};
    const size_t changes = in.upto(3);
    for (size_t i = 0; i < changes; i++) {
        const int v = kValues[in.upto(7)];
        switch (in.upto(7)) {
            case 0: c.use_main_obmalloc = v; break;
            case 1: c.allow_fork = v; break;
            case 2: c.allow_exec = v; break;
            case 3: c.allow_threads = v; break;
            case 4: c.allow_daemon_threads = v; break;
            case 5: c.check_multi_interp_extensions = v; break;
            case 6: c.gil = in.flag() ? v : static_cast<int>(in.upto(4)) - 1; break;
            default: {
                static const uint32_t kSizes[] = {0, 4, sizeof(subinterp_config) - 4, sizeof(subinterp_config) + 4};
                c.struct_size = kSizes[in.upto(3)];
                break;
            }
        }
    }
    return c;
}

bool same_config(const subinterp_config& a, const subinterp_config& b) {
    return a.use_main_obmalloc == b.use_main_obmalloc && a.allow_fork == b.allow_fork && a.allow_exec == b.allow_exec &&
           a.allow_threads == b.allow_threads && a.allow_daemon_threads == b.allow_daemon_threads &&
           a.check_multi_interp_extensions == b.check_multi_interp_extensions && a.gil == b.gil;
}

void op_create(Reader& in) {
    // Interpreters are slow to make, and CPython 3.12/3.13 keep about 1.7 MB
    // of every isolated interpreter after it is destroyed (165 kB of a legacy
    // one; measured with CPython's own _interpreters module too): at most two
    // per input. ci/fuzz runs this fuzzer in fork mode, which restarts the
    // process when it reaches the memory limit.
    if (g_live.size() >= 2 || g_creates >= 2) return;
    const size_t mode = in.upto(3);
    subinterp_config c;
    subinterp_config_init(&c, SUBINTERP_CONFIG_ISOLATED);
    const subinterp_config* ptr = &c;
    Mask expected;
    if (mode == 0) {
        ptr = nullptr;
        expected = OK;
    } else {
        c = random_config(in);
        expected = config_rules(c);
        Err verr;
        const subinterp_status vst = subinterp_config_validate(&c, verr.out());
        verify("config_validate", vst, verr, expected);
    }
    const bool null_id = in.upto(15) == 0;
    if (null_id) expected = INVALID | (expected & ~OK);
    if (expected & OK) g_creates++;
    Err err;
    err.pass_null = in.upto(7) == 0;
    int64_t id = -12345;
    const subinterp_status st = subinterp_create(ptr, null_id ? nullptr : &id, err.out());
    verify("create", st, err, expected);
    if (st != SUBINTERP_OK) {
        CHECK(id == -12345, "create failed but wrote the id");
        return;
    }
    CHECK(id > 0, "new id " + std::to_string(id));
    CHECK(!live_interp(id), "id of a live interpreter handed out again");
    CHECK(std::find(g_dead_interps.begin(), g_dead_interps.end(), id) == g_dead_interps.end(), "a dead id reused");
    Interp made{id, c};
    if (!ptr) subinterp_config_init(&made.config, SUBINTERP_CONFIG_ISOLATED);
    g_live.push_back(made);
    trace("  -> interpreter " + std::to_string(id));
}

void op_destroy(Reader& in) {
    const Id id = pick_interp(in);
    Mask expected = id.kind == IdKind::Live ? OK : id.kind == IdKind::Main ? INVALID : NOT_FOUND;
    Err err;
    err.pass_null = in.upto(7) == 0;
    const subinterp_status st = subinterp_destroy(id.id, err.out());
    verify(("destroy(" + std::to_string(id.id) + ")").c_str(), st, err, expected);
    if (st == SUBINTERP_OK) {
        g_live.erase(std::find_if(g_live.begin(), g_live.end(), [&](const Interp& i) { return i.id == id.id; }));
        remember_dead(g_dead_interps, id.id);
    }
}

void op_list(Reader& in) {
    const size_t capacity = in.upto(5);
    std::vector<int64_t> ids(capacity + 1, -7);
    size_t count = 999;
    const bool null_ids = capacity > 0 && in.upto(7) == 0;
    const bool null_count = in.upto(15) == 0;
    Err err;
    const subinterp_status st = subinterp_list(null_ids ? nullptr : (capacity ? ids.data() : nullptr), capacity,
                                               null_count ? nullptr : &count, err.out());
    verify("list", st, err, (null_ids || null_count) ? INVALID : OK);
    if (st != SUBINTERP_OK) return;
    std::vector<int64_t> want{kMainId};
    for (const Interp& i : g_live) want.push_back(i.id);
    CHECK(count == want.size(), "list count " + std::to_string(count) + " != " + std::to_string(want.size()));
    for (size_t i = 0; i < std::min(capacity, want.size()); i++)
        CHECK(ids[i] == want[i], "list order: " + std::to_string(ids[i]) + " != " + std::to_string(want[i]));
    CHECK(ids[capacity] == -7, "list wrote past the capacity");
}

void op_query(Reader& in) {
    const Id id = pick_interp(in);
    const bool known = id.kind == IdKind::Live || id.kind == IdKind::Main;
    Err err;
    err.pass_null = in.upto(7) == 0;
    switch (in.upto(4)) {
        case 0: {
            int running = -1;
            const bool null_out = in.upto(7) == 0;
            const subinterp_status st = subinterp_is_running(id.id, null_out ? nullptr : &running, err.out());
            verify("is_running", st, err, null_out ? (INVALID | (known ? 0 : NOT_FOUND)) : known ? OK : NOT_FOUND);
            if (st == SUBINTERP_OK) CHECK(running == 0, "running while nothing runs");
            break;
        }
        case 1: {
            subinterp_config c;
            std::memset(&c, 0x55, sizeof c);
            const size_t size_kind = in.upto(3);
            c.struct_size = size_kind == 0 ? 0 : size_kind == 1 ? sizeof c + 4 : sizeof c;
            const bool bad = c.struct_size != sizeof c;
            const subinterp_status st = subinterp_get_config(id.id, &c, err.out());
            verify("get_config", st, err, bad ? (INVALID | (known ? 0 : NOT_FOUND)) : known ? OK : NOT_FOUND);
            if (st != SUBINTERP_OK) break;
            if (id.kind == IdKind::Live) {
                CHECK(same_config(c, live_interp(id.id)->config), "get_config differs from the config made with");
            } else {
                const subinterp_config main_config = {sizeof c, 1, 1, 1, 1, 1, 0, SUBINTERP_GIL_OWN};
                CHECK(same_config(c, main_config), "main interpreter's config");
            }
            break;
        }
        case 2: {
            size_t interrupted = 99;
            const subinterp_status st = subinterp_interrupt(id.id, in.flag() ? nullptr : &interrupted, err.out());
            verify("interrupt", st, err, known ? OK : NOT_FOUND);
            if (st == SUBINTERP_OK) CHECK(interrupted == 0 || interrupted == 99, "interrupted a run while none ran");
            break;
        }
        case 3: {
            int64_t main_id = -1, current = -1;
            subinterp_status st = subinterp_main_id(&main_id, err.out());
            verify("main_id", st, err, OK);
            CHECK(main_id == kMainId, "main id");
            Err err2;
            st = subinterp_current_id(&current, err2.out());
            verify("current_id", st, err2, NOT_FOUND);  // this thread runs no Python
            break;
        }
        default: {
            CHECK(subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_EMBED, "runtime mode");
            subinterp_status st = subinterp_runtime_init(nullptr, err.out());
            verify("runtime_init(NULL) again", st, err, OK);
            subinterp_runtime_options opts;
            subinterp_runtime_options_init(&opts);
            Err err2;
            st = subinterp_runtime_init(&opts, err2.out());
            verify("runtime_init(opts) again", st, err2, RUNTIME);
            break;
        }
    }
}

// --- data --------------------------------------------------------------------------------------

void release_external(void* context, void* data) {
    static_cast<Released*>(context)->count++;
    std::free(data);
}

void op_new_data(Reader& in) {
    Err err;
    err.pass_null = in.upto(7) == 0;
    subinterp_data* out = nullptr;
    const bool null_out = in.upto(15) == 0;
    subinterp_data** outp = null_out ? nullptr : &out;
    subinterp_status st;
    Mask expected = OK;
    const char* what = "";
    switch (in.upto(13)) {
        case 0: what = "new_none"; st = subinterp_data_new_none(outp, err.out()); break;
        case 1: what = "new_bool"; st = subinterp_data_new_bool(in.u8(), outp, err.out()); break;
        case 2: what = "new_int"; st = subinterp_data_new_int(static_cast<int64_t>(in.u64()), outp, err.out()); break;
        case 3: {
            what = "new_int_bytes";
            const std::string b = in.bytes(in.upto(24));
            const bool null_bytes = !b.empty() && in.upto(7) == 0;
            if (null_bytes) expected = INVALID;
            st = subinterp_data_new_int_bytes(null_bytes ? nullptr : b.data(), b.size(), outp, err.out());
            break;
        }
        case 4: {
            what = "new_float";
            const uint64_t bits = in.u64();
            double v;
            std::memcpy(&v, &bits, 8);
            st = subinterp_data_new_float(v, outp, err.out());
            break;
        }
        case 5: {
            what = "new_str";
            const std::string s = in.bytes(in.upto(24));
            const bool null_text = !s.empty() && in.upto(7) == 0;
            expected = null_text || !valid_utf8(s) ? INVALID : OK;
            st = subinterp_data_new_str(null_text ? nullptr : s.data(), s.size(), outp, err.out());
            break;
        }
        case 6: {
            what = "new_bytes";
            const std::string s = in.bytes(in.upto(24));
            st = subinterp_data_new_bytes(s.empty() && in.flag() ? nullptr : s.data(), s.size(), outp, err.out());
            break;
        }
        case 7:
        case 8: {  // tuple or list of pool values (a NULL item is refused)
            what = "new_tuple/list";
            std::vector<const subinterp_data*> items;
            const size_t n = in.upto(4);
            size_t size = 1;
            int deepest = -1;
            for (size_t i = 0; i < n; i++) {
                items.push_back(pick_value(in));
                if (!items.back()) {
                    expected = INVALID;
                    continue;
                }
                size += expanded_size(items.back());
                deepest = std::max(deepest, depth_of(items.back()));
            }
            if (size > kMaxExpanded) return;
            if (deepest + 1 >= 256) expected = INVALID;
            const bool null_items = n > 0 && in.upto(15) == 0;
            if (null_items) expected = INVALID;
            const subinterp_data* const* p = null_items ? nullptr : items.data();
            st = in.flag() ? subinterp_data_new_tuple(p, n, outp, err.out()) : subinterp_data_new_list(p, n, outp, err.out());
            break;
        }
        case 9: {  // dict of pool values
            what = "new_dict";
            std::vector<const subinterp_data*> keys, values;
            const size_t n = in.upto(3);
            size_t size = 1;
            for (size_t i = 0; i < n; i++) {
                keys.push_back(pick_value(in));
                values.push_back(pick_value(in));
                if (!keys.back() || !values.back()) {
                    expected = INVALID;
                    continue;
                }
                size += expanded_size(keys.back()) + expanded_size(values.back());
                if (depth_of(keys.back()) + 1 > 256 || depth_of(values.back()) + 1 > 256) expected = INVALID;
                if (!hashable(keys.back())) expected = INVALID;
                for (size_t j = 0; j + 1 < keys.size(); j++)
                    if (keys[j] && subinterp_data_equal(keys[j], keys.back())) expected = INVALID;
            }
            if (size > kMaxExpanded) return;
            st = subinterp_data_new_dict(keys.data(), values.data(), n, outp, err.out());
            break;
        }
        case 10: {
            what = "new_buffer";
            void* memory = nullptr;
            const size_t size = in.upto(64);
            const bool null_memory = in.upto(15) == 0;
            if (null_memory) expected = INVALID;
            st = subinterp_data_new_buffer(size, null_memory ? nullptr : &memory, outp, err.out());
            if (st == SUBINTERP_OK && size) std::memset(memory, 0xAB, size);
            break;
        }
        case 11: {
            what = "new_buffer_external";
            const size_t size = in.upto(64);
            void* memory = std::malloc(size + 1);
            auto* released = new Released;
            st = subinterp_data_new_buffer_external(memory, size, in.flag(), release_external, released, outp,
                                                    err.out());
            if (st == SUBINTERP_OK) {
                g_released.push_back(released);
            } else {
                CHECK(released->count == 0, "a refused buffer was released");
                delete released;
                std::free(memory);
                if (null_out) expected = INVALID;
            }
            break;
        }
        case 12: {
            what = "new_pickled";
            std::string blob;
            if (in.flag()) blob = g_pickles[in.upto(255) % g_pickles.size()];
            else blob = "\xff" + in.bytes(in.upto(8));  // 0xff is no pickle opcode: never loads
            st = subinterp_data_new_pickled(blob.data(), blob.size(), outp, err.out());
            break;
        }
        default: {
            if (in.flag()) {
                what = "new_interpreter";
                st = subinterp_data_new_interpreter(pick_interp(in).id, outp, err.out());
            } else {
                what = "new_queue";
                const int64_t qid = pick_queue_id(in);
                const QState state = queue_state(qid);
                expected = state == QState::Live ? OK : state == QState::Maybe ? (OK | NOT_FOUND) : NOT_FOUND;
                if (null_out) expected |= INVALID;
                st = subinterp_data_new_queue(qid, outp, err.out());
                if (st == SUBINTERP_OK)
                    if (Queue* q = model_queue(qid)) q->handles = true;
            }
            break;
        }
    }
    if (null_out) expected = INVALID | (expected & NOT_FOUND);
    verify(what, st, err, expected);
    if (st == SUBINTERP_OK) {
        CHECK(out != nullptr, std::string(what) + " OK without a value");
        CHECK(subinterp_data_equal(out, out) == 1, "a value differs from itself");
        pool_add(out);
    }
}

void op_get_data(Reader& in) {
    const subinterp_data* d = pick_value(in);
    const subinterp_data_kind kind = subinterp_data_get_kind(d);
    CHECK(std::strlen(subinterp_data_kind_name(kind)) > 0, "kind name");
    const auto want = [&](subinterp_data_kind k) -> Mask { return !d ? INVALID : kind == k ? OK : TYPE; };
    Err err;
    err.pass_null = in.upto(7) == 0;
    subinterp_status st;
    switch (in.upto(12)) {
        case 0: {
            int v;
            st = subinterp_data_get_bool(d, &v, err.out());
            verify("get_bool", st, err, want(SUBINTERP_DATA_BOOL));
            break;
        }
        case 1: {
            int64_t v;
            Mask m = want(SUBINTERP_DATA_INT);
            if (m == OK) m = OK | OVERFLOW_;
            st = subinterp_data_get_int(d, &v, err.out());
            verify("get_int", st, err, m);
            break;
        }
        case 2: {
            size_t len = 0;
            const size_t capacity = in.upto(12);
            std::vector<unsigned char> buf(capacity + 1, 0xEE);
            st = subinterp_data_get_int_bytes(d, capacity ? buf.data() : nullptr, capacity, &len, err.out());
            verify("get_int_bytes", st, err, want(SUBINTERP_DATA_INT));
            if (st == SUBINTERP_OK) CHECK(buf[capacity] == 0xEE, "get_int_bytes wrote past the capacity");
            break;
        }
        case 3: {
            double v;
            st = subinterp_data_get_float(d, &v, err.out());
            verify("get_float", st, err, want(SUBINTERP_DATA_FLOAT));
            break;
        }
        case 4: {
            const char* text = nullptr;
            size_t len = 0;
            st = subinterp_data_get_str(d, &text, in.flag() ? nullptr : &len, err.out());
            verify("get_str", st, err, want(SUBINTERP_DATA_STR));
            if (st == SUBINTERP_OK) CHECK(text != nullptr, "get_str");
            break;
        }
        case 5: {
            const void* bytes = nullptr;
            size_t len = 0;
            const bool null_len = in.upto(7) == 0;
            st = subinterp_data_get_bytes(d, &bytes, null_len ? nullptr : &len, err.out());
            verify("get_bytes", st, err, null_len ? INVALID : want(SUBINTERP_DATA_BYTES));
            break;
        }
        case 6: {
            void* memory = nullptr;
            size_t size = 0;
            int ro = 0;
            st = subinterp_data_get_buffer(d, &memory, &size, &ro, err.out());
            verify("get_buffer", st, err, want(SUBINTERP_DATA_BUFFER));
            break;
        }
        case 7: {
            const void* bytes = nullptr;
            size_t len = 0;
            st = subinterp_data_get_pickled(d, &bytes, &len, err.out());
            verify("get_pickled", st, err, want(SUBINTERP_DATA_PICKLED));
            break;
        }
        case 8: {
            int64_t id;
            if (in.flag()) {
                st = subinterp_data_get_queue(d, &id, err.out());
                verify("get_queue", st, err, want(SUBINTERP_DATA_QUEUE));
            } else {
                st = subinterp_data_get_interpreter(d, &id, err.out());
                verify("get_interpreter", st, err, want(SUBINTERP_DATA_INTERPRETER));
            }
            break;
        }
        case 9: {
            size_t len = 0;
            const bool container =
                kind == SUBINTERP_DATA_TUPLE || kind == SUBINTERP_DATA_LIST || kind == SUBINTERP_DATA_DICT;
            st = subinterp_data_get_len(d, &len, err.out());
            verify("get_len", st, err, !d ? INVALID : container ? OK : TYPE);
            break;
        }
        case 10: {
            const subinterp_data* item = nullptr;
            const size_t index = in.upto(4);
            size_t len = 0;
            const bool seq = kind == SUBINTERP_DATA_TUPLE || kind == SUBINTERP_DATA_LIST;
            if (seq) subinterp_data_get_len(d, &len, nullptr);
            st = subinterp_data_get_item(d, index, &item, err.out());
            verify("get_item", st, err, !d ? INVALID : !seq ? TYPE : index < len ? OK : INDEX);
            break;
        }
        case 11: {
            const subinterp_data *k = nullptr, *v = nullptr;
            const size_t index = in.upto(4);
            size_t len = 0;
            if (kind == SUBINTERP_DATA_DICT) subinterp_data_get_len(d, &len, nullptr);
            st = subinterp_data_get_entry(d, index, &k, in.flag() ? nullptr : &v, err.out());
            verify("get_entry", st, err,
                   !d ? INVALID : kind != SUBINTERP_DATA_DICT ? TYPE : index < len ? OK : INDEX);
            break;
        }
        default: {
            char* text = nullptr;
            const bool null_out = in.upto(7) == 0;
            st = subinterp_data_repr(d, null_out ? nullptr : &text, err.out());
            verify("repr", st, err, (!d || null_out) ? INVALID : OK);
            if (st == SUBINTERP_OK) CHECK(text != nullptr, "repr");
            subinterp_free(text);
            const subinterp_data* other = pick_value(in);
            CHECK(subinterp_data_equal(d, other) == subinterp_data_equal(other, d), "equality is not symmetric");
            subinterp_data_free(subinterp_data_ref(d));  // one more reference, dropped
            break;
        }
    }
}

// --- queues --------------------------------------------------------------------------------------

Mask queue_id_status(int64_t id) {
    switch (queue_state(id)) {
        case QState::Live: return OK;
        case QState::Maybe: return OK | NOT_FOUND;
        default: return NOT_FOUND;
    }
}

void op_queue_create(Reader& in) {
    if (g_queues.size() >= 6) return;
    subinterp_queue_options opts;
    subinterp_queue_options_init(&opts);
    const subinterp_queue_options* ptr = &opts;
    Mask expected = OK;
    switch (in.upto(4)) {
        case 0: ptr = nullptr; break;
        case 1: opts.struct_size = in.flag() ? 0 : sizeof opts + 8; expected = INVALID; break;
        case 2: {
            static const int kBad[] = {4, -1, 100};
            const int v = kBad[in.upto(2)];
            std::memcpy(&opts.unbound, &v, sizeof v);  // out of the enum's range, as C allows
            expected = INVALID;
            break;
        }
        default:
            opts.maxsize = in.upto(3);
            opts.unbound = static_cast<subinterp_unbound>(in.upto(3));
            break;
    }
    const bool null_id = in.upto(15) == 0;
    if (null_id) expected = INVALID;
    int64_t id = -5;
    Err err;
    err.pass_null = in.upto(7) == 0;
    const subinterp_status st = subinterp_queue_create(ptr, null_id ? nullptr : &id, err.out());
    verify("queue_create", st, err, expected);
    if (st != SUBINTERP_OK) return;
    CHECK(!model_queue(id) && std::find(g_dead_queues.begin(), g_dead_queues.end(), id) == g_dead_queues.end(),
          "queue id reused");
    Queue q;
    q.id = id;
    q.maxsize = ptr ? opts.maxsize : 0;
    int unbound = ptr ? static_cast<int>(opts.unbound) : SUBINTERP_UNBOUND_REPLACE;
    q.unbound = unbound == SUBINTERP_UNBOUND_DEFAULT ? SUBINTERP_UNBOUND_REPLACE : unbound;
    g_queues.push_back(q);
    trace("  -> queue " + std::to_string(id));
}

void op_queue_io(Reader& in) {
    const int64_t id = pick_queue_id(in);
    Queue* q = model_queue(id);
    const QState state = queue_state(id);
    const bool exact = state == QState::Live && q && !q->tainted;  // the model knows its contents
    static const double kTimeouts[] = {0.0, 0.0, 0.001, 0.002};
    const bool nan = in.upto(15) == 0;
    const double timeout = nan ? NAN : kTimeouts[in.upto(3)];
    Err err;
    err.pass_null = in.upto(7) == 0;
    if (in.flag()) {  // put
        const subinterp_data* item = pick_value(in);
        if (item && expanded_size(item) > kMaxExpanded) return;
        Mask expected;
        if (nan || !item) {
            expected = INVALID;
        } else if (state == QState::Gone) {
            expected = NOT_FOUND;
        } else if (!exact) {
            expected = OK | QUEUE_FULL | CLOSED | NOT_FOUND;
        } else if (q->closed) {
            expected = CLOSED;
        } else if (q->maxsize && q->items.size() >= q->maxsize) {
            expected = QUEUE_FULL;
        } else {
            expected = OK;
        }
        const subinterp_status st = subinterp_queue_put(id, item, timeout, err.out());
        verify(("queue_put(" + std::to_string(id) + ")").c_str(), st, err, expected);
        if (st == SUBINTERP_OK && q) {
            q->items.push_back(subinterp_data_ref(item));
            std::vector<int64_t> inner;
            queues_in(item, inner);  // a queue inside a queue: it may come out anywhere
            for (int64_t qid : inner)
                if (Queue* iq = model_queue(qid)) iq->handles = true;
        }
    } else {  // get
        const bool null_item = in.upto(15) == 0;
        Mask expected;
        if (nan || null_item) {
            expected = INVALID;
        } else if (state == QState::Gone) {
            expected = NOT_FOUND;
        } else if (!exact) {
            expected = OK | QUEUE_EMPTY | CLOSED | UNBOUND | NOT_FOUND;
        } else if (q->items.empty()) {
            expected = q->closed ? CLOSED : QUEUE_EMPTY;
        } else {
            expected = OK;
        }
        subinterp_data* item = nullptr;
        const subinterp_status st = subinterp_queue_get(id, timeout, null_item ? nullptr : &item, err.out());
        verify(("queue_get(" + std::to_string(id) + ")").c_str(), st, err, expected);
        if (st == SUBINTERP_OK) {
            if (exact) {
                CHECK(item != nullptr, "host items are never unbound");
                CHECK(subinterp_data_equal(item, q->items.front()) == 1, "queue_get returned another item than the oldest");
            }
            if (q && !q->items.empty()) {
                subinterp_data_free(q->items.front());
                q->items.pop_front();
            }
            pool_add(item);
        } else {
            CHECK(item == nullptr, "queue_get failed but wrote an item");
        }
    }
}

void op_queue_admin(Reader& in) {
    const int64_t id = pick_queue_id(in);
    Queue* q = model_queue(id);
    const QState state = queue_state(id);
    const bool exact = state == QState::Live && q && !q->tainted;
    Err err;
    err.pass_null = in.upto(7) == 0;
    switch (in.upto(6)) {
        case 0: {
            const subinterp_status st = subinterp_queue_close(id, err.out());
            verify("queue_close", st, err, queue_id_status(id));
            if (st == SUBINTERP_OK && q) q->closed = true;
            break;
        }
        case 1: {
            size_t size = 999;
            const bool null_size = in.upto(15) == 0;
            const subinterp_status st = subinterp_queue_size(id, null_size ? nullptr : &size, err.out());
            verify("queue_size", st, err, null_size ? (INVALID | (queue_id_status(id) & NOT_FOUND)) : queue_id_status(id));
            if (st == SUBINTERP_OK && exact) CHECK(size == q->items.size(), "queue_size " + std::to_string(size));
            break;
        }
        case 2: {
            subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
            const bool bad = in.upto(7) == 0;
            if (bad) info.struct_size = in.flag() ? 0 : sizeof info + 8;
            const subinterp_status st = subinterp_queue_get_info(id, &info, err.out());
            verify("queue_get_info", st, err, bad ? INVALID : queue_id_status(id));
            if (st == SUBINTERP_OK && exact) {
                CHECK(info.id == id && info.maxsize == q->maxsize && static_cast<int>(info.unbound) == q->unbound &&
                          info.size == q->items.size() && info.closed == (q->closed ? 1 : 0),
                      "queue_get_info differs from the model");
            }
            break;
        }
        case 3: {
            const subinterp_status st = subinterp_queue_retain(id, err.out());
            verify("queue_retain", st, err, queue_id_status(id));
            if (st == SUBINTERP_OK && q) q->holds++;
            break;
        }
        case 4: {
            Mask expected = queue_id_status(id);
            if (q && q->holds == 0 && !q->destroyed) expected = OK | NOT_FOUND;  // only other holders keep it
            const subinterp_status st = subinterp_queue_release(id, err.out());
            verify("queue_release", st, err, expected);
            if (st == SUBINTERP_OK && q && q->holds > 0) q->holds--;
            break;
        }
        case 5: {
            const subinterp_status st = subinterp_queue_destroy(id, err.out());
            verify("queue_destroy", st, err, queue_id_status(id));
            if (st == SUBINTERP_OK && q) q->destroyed = true;
            if (st == SUBINTERP_OK) remember_dead(g_dead_queues, id);
            break;
        }
        default: {
            std::vector<int64_t> ids(16, -3);
            size_t count = 0;
            const subinterp_status st = subinterp_queue_list(ids.data(), ids.size(), &count, err.out());
            verify("queue_list", st, err, OK);
            for (const Queue& mq : g_queues) {
                const bool listed = std::find(ids.begin(), ids.begin() + std::min(count, ids.size()), mq.id) !=
                                    ids.begin() + std::min(count, ids.size());
                if (queue_state(mq.id) == QState::Live) CHECK(listed || count > ids.size(), "live queue not listed");
                if (queue_state(mq.id) == QState::Gone) CHECK(!listed, "a destroyed queue is listed");
            }
            break;
        }
    }
}

// --- odds and ends: configs, names, NULL arguments ------------------------------------------------

void op_misc(Reader& in) {
    switch (in.upto(4)) {
        case 0: {
            const subinterp_config c = random_config(in);
            const bool null_config = in.upto(15) == 0;
            Err err;
            const subinterp_status st = subinterp_config_validate(null_config ? nullptr : &c, err.out());
            verify("config_validate", st, err, null_config ? INVALID : config_rules(c));
            break;
        }
        case 1: {
            const int32_t status = static_cast<int32_t>(in.u64());
            const char* name = subinterp_status_name(status);
            CHECK(name != nullptr && std::strncmp(name, "SUBINTERP_", 10) == 0, "status name");
            const bool known = (status >= 0 && status <= 17) || status == 99;
            CHECK(known == (std::strcmp(name, "SUBINTERP_ERR_UNKNOWN") != 0), "status name of " + std::to_string(status));
            const char* kind_name = fuzz_kind_name_from_c(status);
            const bool known_kind = status >= SUBINTERP_DATA_NONE && status <= SUBINTERP_DATA_PICKLED;
            CHECK(kind_name != nullptr && (std::strcmp(kind_name, "invalid") != 0) == known_kind,
                  "kind name of " + std::to_string(status));
            break;
        }
        case 2: {
            CHECK(subinterp_error_code(nullptr) == SUBINTERP_ERR_INVALID_ARGUMENT, "error_code(NULL)");
            CHECK(std::strcmp(subinterp_error_message(nullptr), "") == 0, "error_message(NULL)");
            CHECK(!subinterp_error_exc_module(nullptr) && !subinterp_error_exc_qualname(nullptr) &&
                      !subinterp_error_traceback(nullptr),
                  "error accessors of NULL");
            subinterp_error_free(nullptr);
            subinterp_free(nullptr);
            subinterp_data_free(nullptr);
            subinterp_output_free(nullptr);
            CHECK(subinterp_data_ref(nullptr) == nullptr, "data_ref(NULL)");
            CHECK(subinterp_data_get_kind(nullptr) == SUBINTERP_DATA_INVALID, "kind of NULL");
            CHECK(subinterp_data_equal(nullptr, nullptr) == 1, "NULL == NULL");
            size_t len = 5;
            CHECK(std::strcmp(subinterp_output_stdout(nullptr, &len), "") == 0 && len == 0, "output of NULL");
            break;
        }
        case 3: {
            CHECK(subinterp_run_options_init(nullptr) == SUBINTERP_ERR_INVALID_ARGUMENT, "run_options_init(NULL)");
            CHECK(subinterp_queue_options_init(nullptr) == SUBINTERP_ERR_INVALID_ARGUMENT, "queue_options_init(NULL)");
            CHECK(subinterp_runtime_options_init(nullptr) == SUBINTERP_ERR_INVALID_ARGUMENT, "runtime_options_init(NULL)");
            CHECK(subinterp_config_init(nullptr, SUBINTERP_CONFIG_ISOLATED) == SUBINTERP_ERR_INVALID_ARGUMENT,
                  "config_init(NULL)");
            subinterp_config c;
            const int preset = static_cast<int>(in.u8()) - 2;
            const subinterp_status st = fuzz_config_init_from_c(&c, preset);
            CHECK(st == ((preset == 0 || preset == 1) ? SUBINTERP_OK : SUBINTERP_ERR_INVALID_ARGUMENT),
                  "config_init(preset " + std::to_string(preset) + ")");
            if (st == SUBINTERP_OK) CHECK(config_rules(c) == OK, "a preset fails validation");
            break;
        }
        default: {
            CHECK(subinterp_version() == SUBINTERP_VERSION_NUMBER, "version");
            CHECK(subinterp_python_version() >= 0x030C0000, "python version");
            CHECK(std::strlen(subinterp_version_string()) > 0 && std::strlen(subinterp_python_version_string()) > 0,
                  "version strings");
            break;
        }
    }
}

// --- one input ---------------------------------------------------------------------------------

void cleanup() {
    for (const Interp& i : g_live) {
        Err err;
        const subinterp_status st = subinterp_destroy(i.id, err.out());
        verify(("cleanup destroy(" + std::to_string(i.id) + ")").c_str(), st, err, OK);
        remember_dead(g_dead_interps, i.id);
    }
    g_live.clear();
    for (Queue& q : g_queues) {
        for (subinterp_data* d : q.items) subinterp_data_free(d);
        q.items.clear();
    }
    for (subinterp_data* d : g_pool) subinterp_data_free(d);
    g_pool.clear();
    for (Queue& q : g_queues) {
        Err err;
        const subinterp_status st = subinterp_queue_destroy(q.id, err.out());
        verify(("cleanup queue_destroy(" + std::to_string(q.id) + ")").c_str(), st, err, queue_id_status(q.id));
        if (st == SUBINTERP_OK) remember_dead(g_dead_queues, q.id);
    }
    g_queues.clear();

    // Nothing of this input is left.
    int64_t ids[4];
    size_t count = 0;
    CHECK(subinterp_list(ids, 4, &count, nullptr) == SUBINTERP_OK && count == 1 && ids[0] == kMainId,
          "interpreters left after cleanup: " + std::to_string(count));
    CHECK(subinterp_queue_list(nullptr, 0, &count, nullptr) == SUBINTERP_OK && count == 0,
          "queues left after cleanup: " + std::to_string(count));
    for (Released* r : g_released) {
        CHECK(r->count == 1, "a host buffer was released " + std::to_string(r->count) + " times");
        delete r;
    }
    g_released.clear();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    subinterp_error* err = nullptr;
    if (subinterp_runtime_init(nullptr, &err) != SUBINTERP_OK) fail(std::string("runtime_init: ") + subinterp_error_message(err));
    // Pickles that load, made by Python (in the main interpreter, once).
    if (subinterp_exec(kMainId,
                       "import pickle\n"
                       "_fuzz_pickles = [pickle.dumps(o, p) for p in (2, 5) for o in "
                       "({1, 2}, frozenset('ab'), complex(1, -2), bytearray(b'ab'), range(3), [1, 2.5], 'x')]",
                       nullptr, nullptr, &err) != SUBINTERP_OK)
        fail(std::string("setup: ") + subinterp_error_message(err));
    subinterp_data* list = nullptr;
    if (subinterp_call(kMainId, "_fuzz_pickles.copy", nullptr, nullptr, nullptr, &list, nullptr, &err) != SUBINTERP_OK)
        fail(std::string("setup: ") + subinterp_error_message(err));
    size_t len = 0;
    subinterp_data_get_len(list, &len, nullptr);
    for (size_t i = 0; i < len; i++) {
        const subinterp_data* item = nullptr;
        const void* bytes = nullptr;
        size_t n = 0;
        subinterp_data_get_item(list, i, &item, nullptr);
        subinterp_data_get_bytes(item, &bytes, &n, nullptr);
        g_pickles.emplace_back(static_cast<const char*>(bytes), n);
    }
    subinterp_data_free(list);
    subinterp_data_new_int(7, &g_default_value, nullptr);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Reader in{data, size};
    g_trace.clear();
    g_creates = 0;
    for (int step = 0; in.n > 0 && step < 64; step++) {
        switch (in.upto(15)) {
            case 0: op_create(in); break;
            case 1: op_destroy(in); break;
            case 2:
            case 3: op_exec(in); break;
            case 4:
            case 5: op_call(in); break;
            case 6: op_prepare_main(in); break;
            case 7:
            case 8: op_new_data(in); break;
            case 9: op_get_data(in); break;
            case 10: op_queue_create(in); break;
            case 11:
            case 12: op_queue_io(in); break;
            case 13: op_queue_admin(in); break;
            case 14: op_list(in); op_query(in); break;
            default: op_misc(in); break;
        }
    }
    cleanup();
    if (std::getenv("FUZZ_VERBOSE")) std::fprintf(stderr, "operations:\n%s", g_trace.c_str());
    return 0;
}
