/* subinterp-conformance-c: the C runner of the conformance suite
 * (docs/conformance.md).
 *
 *   subinterp-conformance-c --library PATH [--case NAME]... [--coverage FILE] FILE...
 *
 * It never links against libsubinterp: it dlopen()s PATH (RTLD_NOW |
 * RTLD_LOCAL) and resolves every function of subinterp.h with dlsym into a
 * table whose calls are counted (values.h), so --coverage can tell which
 * functions the cases reached. stdout carries only the protocol: a hello line,
 * then one JSON line per case, flushed as each case ends; diagnostics go to
 * stderr. Failure details name the step as steps[INDEX] (0-based, as in the
 * case file) and show values as tagged JSON. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "subinterp.h"
#include "values.h"

/* What C can express (docs/conformance.md, "Capabilities"). */
static const char *const kCapabilities[] = {"host-native", "c-pointers", "c-structs",
                                            "raw-utf8",    "data-api",   "queue-holds", "untyped-args"};

/* ------------------------------------------------------------------------ */
/* Per-case state: bindings and what the case created, for cleanup          */
/* ------------------------------------------------------------------------ */

typedef struct queue_hold {
    int64_t id;
    long count; /* holds this case took and has not dropped */
} queue_hold;

/* A pool or future bound by name (not an id: a handle). */
typedef struct named_handle {
    char *name;
    void *handle; /* subinterp_pool * or subinterp_future *; NULL once freed */
} named_handle;

typedef struct case_state {
    bindings names;
    named_handle *pools, *futures;
    size_t n_pools, cap_pools, n_futures, cap_futures;
    int64_t *interps; /* created by the case, in creation order */
    size_t n_interps, cap_interps;
    queue_hold *holds;
    size_t n_holds, cap_holds;
} case_state;

static void track_interp(case_state *cs, int64_t id) {
    cs->interps = xgrow(cs->interps, &cs->cap_interps, cs->n_interps + 1, sizeof *cs->interps);
    cs->interps[cs->n_interps++] = id;
}

static queue_hold *hold_of(case_state *cs, int64_t id) {
    size_t i;
    for (i = 0; i < cs->n_holds; i++)
        if (cs->holds[i].id == id) return &cs->holds[i];
    cs->holds = xgrow(cs->holds, &cs->cap_holds, cs->n_holds + 1, sizeof *cs->holds);
    cs->holds[cs->n_holds].id = id;
    cs->holds[cs->n_holds].count = 0;
    return &cs->holds[cs->n_holds++];
}

static void case_state_init(case_state *cs) {
    memset(cs, 0, sizeof *cs);
    bindings_init(&cs->names);
}

/* The clean slate: pools and futures first (stopped, shut down, freed), then
 * values (they may hold queues), then interpreters
 * (newest first), then the queue holds. Errors are expected here (objects the
 * case already destroyed, a finalized runtime) and ignored. */
static void release_handles(case_state *cs);

static void case_state_cleanup(case_state *cs) {
    size_t i;
    release_handles(cs); /* pools own interpreters and hold values */
    bindings_clear(&cs->names);
    for (i = cs->n_interps; i-- > 0;) {
        subinterp_error *err = NULL;
        API(subinterp_destroy)(cs->interps[i], &err);
        API(subinterp_error_free)(err);
    }
    for (i = 0; i < cs->n_holds; i++) {
        long n;
        for (n = 0; n < cs->holds[i].count; n++) {
            subinterp_error *err = NULL;
            subinterp_status st = API(subinterp_queue_release)(cs->holds[i].id, &err);
            API(subinterp_error_free)(err);
            if (st == SUBINTERP_ERR_NOT_FOUND) break;
        }
    }
    free(cs->interps);
    free(cs->holds);
    case_state_init(cs);
}

/* ------------------------------------------------------------------------ */
/* Steps                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum step_status { STEP_PASS, STEP_FAIL, STEP_ERROR } step_status;

typedef struct step {
    const json_value *json;   /* the step object */
    const json_value *expect; /* its "expect", or NULL: the step must succeed */
    const char *op;
    case_state *cs;
    json_buf *detail;   /* why the step failed or could not run */
    call_result result; /* the call that decides the step */
    int no_error_object; /* the call got err == NULL (null_pointer op) */
    json_buf anomaly;    /* an ABI rule broken on the way, e.g. *err set on success */
} step;

static const json_value *arg(const step *s, const char *key) { return json_get(s->json, key); }
static const json_value *want(const step *s, const char *key) { return json_get(s->expect, key); }

static step_status vreport(step *s, step_status status, const char *format, va_list args) {
    json_buf_vprintf(s->detail, format, args);
    return status;
}

#if defined(__GNUC__) || defined(__clang__)
#define PRINTF_LIKE(n, m) __attribute__((format(printf, n, m)))
#else
#define PRINTF_LIKE(n, m)
#endif

/* The case itself is wrong (missing argument, bad tagged value...): "error". */
static step_status PRINTF_LIKE(2, 3) malformed(step *s, const char *format, ...) {
    va_list args;
    step_status rc;
    va_start(args, format);
    rc = vreport(s, STEP_ERROR, format, args);
    va_end(args);
    return rc;
}

/* An expectation was not met: "fail". */
static step_status PRINTF_LIKE(2, 3) failed(step *s, const char *format, ...) {
    va_list args;
    step_status rc;
    va_start(args, format);
    rc = vreport(s, STEP_FAIL, format, args);
    va_end(args);
    return rc;
}

/* malformed() in helpers that return -1 for "the case is wrong". */
#define MALFORMED(s, ...) (malformed((s), __VA_ARGS__), -1)

/* A message built in a json_buf: "fail" or "error". */
static step_status report_buf(step *s, step_status status, const json_buf *why) {
    json_buf_puts(s->detail, why->data);
    return status;
}

/* Records a call of a function without an `err` parameter (the *_init
 * functions): its failures come without an error object. */
static void record_plain(step *s, const char *function, subinterp_status st) {
    call_result_set(&s->result, function, st, NULL);
    s->no_error_object = 1;
}

/* Records the library call that decides the step. The ABI leaves *err alone
 * on success; an error object there anyway is noted as an anomaly. */
static void record(step *s, const char *function, subinterp_status st, subinterp_error *err) {
    if (st == SUBINTERP_OK && err) {
        json_buf_printf(&s->anomaly, "%s returned OK but set *err", function);
        API(subinterp_error_free)(err);
        err = NULL;
    }
    call_result_set(&s->result, function, st, err);
}

#define CALL(s, fn, ...)                                       \
    do {                                                       \
        subinterp_error *err_ = NULL;                          \
        subinterp_status st_ = API(fn)(__VA_ARGS__, &err_);    \
        record((s), #fn, st_, err_);                           \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Reading arguments                                                        */
/* ------------------------------------------------------------------------ */

/* Returns 0, or -1 after writing the error detail. */
static int id_arg(step *s, const char *key, int64_t *id) {
    const json_value *v = arg(s, key);
    json_buf why;
    int rc;
    if (!v) {
        malformed(s, "missing \"%s\"", key);
        return -1;
    }
    json_buf_init(&why);
    rc = value_resolve_id(v, &s->cs->names, id, &why);
    if (rc < 0) malformed(s, "\"%s\": %s", key, why.data);
    json_buf_free(&why);
    return rc;
}

static int int_value(const json_value *v, int64_t lo, int64_t hi, int64_t *out) {
    return json_int64(v, out) == 0 && *out >= lo && *out <= hi ? 0 : -1;
}

/* Seconds: a number, "inf", "-inf" or "nan"; absent means forever. */
static int seconds_arg(step *s, const char *key, double *out) {
    const json_value *v = arg(s, key);
    *out = SUBINTERP_WAIT_FOREVER;
    if (!v) return 0;
    if (v->type == JSON_NUMBER) *out = json_double(v);
    else if (json_is_string(v, "inf")) *out = INFINITY;
    else if (json_is_string(v, "-inf")) *out = -INFINITY;
    else if (json_is_string(v, "nan")) *out = NAN;
    else {
        malformed(s, "\"%s\" must be seconds (a number, \"inf\", \"-inf\" or \"nan\")", key);
        return -1;
    }
    return 0;
}

/* Text passed to the C ABI as a NUL-terminated string: a JSON string, or
 * {"str_utf8": hex} for arbitrary bytes. *text is new memory. */
static int text_arg(step *s, const char *key, char **text) {
    const json_value *v = arg(s, key), *hex = json_get(v, "str_utf8");
    unsigned char *bytes;
    size_t len;
    if (v && v->type == JSON_STRING) {
        *text = xmalloc(v->len + 1);
        memcpy(*text, v->u.string, v->len + 1);
        return 0;
    }
    if (v && v->type == JSON_OBJECT && v->len == 1 && hex && hex->type == JSON_STRING &&
        hex_decode(hex->u.string, hex->len, &bytes, &len) == 0) {
        bytes[len] = '\0'; /* hex_decode leaves room for it */
        *text = (char *)bytes;
        return 0;
    }
    malformed(s, "\"%s\" must be a string or {\"str_utf8\": hex}", key);
    return -1;
}

/* Builds a value argument. 0: *out built; 1: the library refused (the step's
 * outcome is recorded); -1: malformed (detail written). */
static int value_arg(step *s, const json_value *v, const char *what, subinterp_data **out) {
    json_buf why;
    call_result r;
    int rc;
    *out = NULL;
    if (!v) {
        malformed(s, "missing \"%s\"", what);
        return -1;
    }
    json_buf_init(&why);
    call_result_init(&r);
    rc = value_build(v, &s->cs->names, out, &r, &why);
    if (rc < 0) malformed(s, "\"%s\": %s", what, why.data);
    if (rc > 0) {
        call_result_set(&s->result, r.function, r.status, r.error); /* takes the error over */
    }
    json_buf_free(&why);
    return rc;
}

/* Run flags: capture_stdout, capture_stderr, strict. */
static int flags_arg(step *s, uint32_t *flags) {
    const json_value *v = arg(s, "flags");
    size_t i;
    *flags = 0;
    if (!v) return 0;
    if (v->type != JSON_ARRAY) {
        malformed(s, "\"flags\" must be an array of flag names");
        return -1;
    }
    for (i = 0; i < v->len; i++) {
        const json_value *f = &v->u.items[i];
        if (json_is_string(f, "capture_stdout")) *flags |= SUBINTERP_RUN_CAPTURE_STDOUT;
        else if (json_is_string(f, "capture_stderr")) *flags |= SUBINTERP_RUN_CAPTURE_STDERR;
        else if (json_is_string(f, "strict")) *flags |= SUBINTERP_RUN_STRICT;
        else {
            malformed(s, "unknown flag in \"flags\" (capture_stdout, capture_stderr, strict)");
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Checking expectations                                                    */
/* ------------------------------------------------------------------------ */

static const char *or_null(const char *text) { return text ? text : "(null)"; }

/* A string expectation, or -1 (malformed) when it is not a string. */
static int want_string(step *s, const char *key, const json_value **v) {
    *v = want(s, key);
    if (!*v || (*v)->type == JSON_STRING) return 0;
    malformed(s, "expect.%s must be a string", key);
    return -1;
}

static step_status check_contains(step *s, const char *key, const char *what, const char *actual) {
    const json_value *v;
    json_buf quoted;
    if (want_string(s, key, &v) < 0) return STEP_ERROR;
    if (!v || (actual && strstr(actual, v->u.string))) return STEP_PASS;
    json_buf_init(&quoted);
    json_buf_string(&quoted, actual ? actual : "", actual ? strlen(actual) : 0);
    failed(s, "expected %s containing \"%s\", got %s", what, v->u.string, actual ? quoted.data : "none");
    json_buf_free(&quoted);
    return STEP_FAIL;
}

static step_status check_exc_type(step *s) {
    const json_value *v;
    const char *module, *qualname;
    json_buf got;
    step_status rc = STEP_PASS;
    if (want_string(s, "exc_type", &v) < 0) return STEP_ERROR;
    if (!v) return STEP_PASS;
    module = API(subinterp_error_exc_module)(s->result.error);
    qualname = API(subinterp_error_exc_qualname)(s->result.error);
    json_buf_init(&got);
    json_buf_printf(&got, "%s.%s", or_null(module), or_null(qualname));
    if (!module || !qualname || strcmp(got.data, v->u.string) != 0)
        rc = failed(s, "expected exc_type %s, got %s", v->u.string, got.data);
    json_buf_free(&got);
    return rc;
}

/* The error object must agree with the status it came with. */
static step_status check_error_object(step *s) {
    subinterp_status code;
    if (s->result.status == SUBINTERP_OK || s->no_error_object) return STEP_PASS;
    if (!s->result.error)
        return failed(s, "%s returned %s without an error object", s->result.function,
                      status_short_name(s->result.status));
    code = API(subinterp_error_code)(s->result.error);
    if (code != s->result.status)
        return failed(s, "%s returned %s but its error object says %s", s->result.function,
                      status_short_name(s->result.status), status_short_name(code));
    return STEP_PASS;
}

static void describe_result(step *s, json_buf *out) {
    const char *traceback = s->result.error ? API(subinterp_error_traceback)(s->result.error) : NULL;
    call_result_describe(out, &s->result);
    if (traceback) json_buf_printf(out, "\n%s", traceback);
}

/* Compares the deciding call with expect.error and the error details.
 * STEP_PASS means the outcome is as expected; *succeeded then says whether
 * the call succeeded (so result expectations apply). */
static step_status check_outcome(step *s, int *succeeded) {
    const json_value *error;
    const char *got = status_short_name(s->result.status);
    step_status rc;
    json_buf text;
    *succeeded = s->result.status == SUBINTERP_OK;
    if (s->anomaly.len) return failed(s, "%s", s->anomaly.data);
    if ((rc = check_error_object(s)) != STEP_PASS) return rc;
    if (want_string(s, "error", &error) < 0) return STEP_ERROR;
    json_buf_init(&text);
    describe_result(s, &text);
    if (error && *succeeded) rc = failed(s, "expected error %s, got success", error->u.string);
    else if (error && !json_is_string(error, got))
        rc = failed(s, "expected error %s, got %s", error->u.string, text.data);
    else if (!error && !*succeeded && !want(s, "message_contains") && !want(s, "exc_type") &&
             !want(s, "traceback_contains"))
        rc = failed(s, "expected success, got %s", text.data);
    json_buf_free(&text);
    if (rc != STEP_PASS) return rc;
    if (*succeeded && (want(s, "message_contains") || want(s, "exc_type") || want(s, "traceback_contains")))
        return failed(s, "expected an error (message_contains/exc_type/traceback_contains), got success");
    if (*succeeded) return STEP_PASS;
    if ((rc = check_contains(s, "message_contains", "an error message",
                             API(subinterp_error_message)(s->result.error))) != STEP_PASS)
        return rc;
    if ((rc = check_exc_type(s)) != STEP_PASS) return rc;
    return check_contains(s, "traceback_contains", "a traceback", API(subinterp_error_traceback)(s->result.error));
}

/* The verdict of a value comparison (value_match's 1, 0 or -1); a failure
 * shows both values as tagged JSON and where they differ. */
static step_status value_verdict(step *s, const char *key, const json_value *expected, int match, const json_buf *got,
                                 const json_buf *why) {
    if (match < 0) return malformed(s, "expect.%s: %s", key, why->data);
    if (match > 0) return STEP_PASS;
    json_buf_printf(s->detail, "expected %s ", key);
    json_buf_value(s->detail, expected);
    json_buf_printf(s->detail, ", got %s (%s)", got->data, why->data);
    return STEP_FAIL;
}

/* expect.value against a result (NULL: the UNBOUND marker). */
static step_status check_value(step *s, const char *key, const json_value *expected, const subinterp_data *actual) {
    json_buf why, got;
    step_status rc;
    int match;
    if (!expected) return STEP_PASS;
    json_buf_init(&why);
    json_buf_init(&got);
    match = value_match(expected, actual, &s->cs->names, &why);
    if (match == 0) value_render(&got, actual);
    rc = value_verdict(s, key, expected, match, &got, &why);
    json_buf_free(&why);
    json_buf_free(&got);
    return rc;
}

/* expect.value against what a typed getter read. */
static step_status check_value_view(step *s, const json_value *expected, const value_view *actual) {
    json_buf why, got;
    step_status rc;
    int match;
    if (!expected) return STEP_PASS;
    json_buf_init(&why);
    json_buf_init(&got);
    match = value_match_view(expected, actual, &s->cs->names, &why);
    if (match == 0) value_render_view(&got, actual);
    rc = value_verdict(s, "value", expected, match, &got, &why);
    json_buf_free(&why);
    json_buf_free(&got);
    return rc;
}

/* An integer expectation (`size`, `len`, config fields...). */
static step_status check_int(step *s, const char *key, const json_value *expected, int64_t actual) {
    int64_t n;
    if (!expected) return STEP_PASS;
    if (json_int64(expected, &n) < 0) return malformed(s, "expect.%s must be an integer", key);
    if (n != actual) return failed(s, "expected %s %lld, got %lld", key, (long long)n, (long long)actual);
    return STEP_PASS;
}

/* A boolean expectation against a C int that must be exactly 0 or 1. */
static step_status check_bool(step *s, const char *key, const json_value *expected, int actual) {
    if (!expected) return STEP_PASS;
    if (expected->type != JSON_BOOL) return malformed(s, "expect.%s must be true or false", key);
    if (actual != 0 && actual != 1) return failed(s, "%s is %d, not 0 or 1", key, actual);
    if (actual != expected->u.boolean)
        return failed(s, "expected %s %s, got %s", key, expected->u.boolean ? "true" : "false",
                      actual ? "true" : "false");
    return STEP_PASS;
}

/* A string expectation compared exactly (the actual may contain NULs). */
static step_status check_text(step *s, const char *key, const char *actual, size_t len) {
    const json_value *v;
    json_buf text;
    if (want_string(s, key, &v) < 0) return STEP_ERROR;
    if (!v || (v->len == len && memcmp(v->u.string, actual, len) == 0)) return STEP_PASS;
    json_buf_init(&text);
    json_buf_printf(&text, "expected %s ", key);
    json_buf_string(&text, v->u.string, v->len);
    json_buf_puts(&text, ", got ");
    json_buf_string(&text, actual, len);
    report_buf(s, STEP_FAIL, &text);
    json_buf_free(&text);
    return STEP_FAIL;
}

/* expect.KEY: a list of ids that must (includes) or must not (excludes)
 * be among `ids`. */
static step_status check_id_set(step *s, const char *key, const int64_t *ids, size_t n, int present) {
    const json_value *list = want(s, key);
    size_t i, j;
    json_buf why;
    if (!list) return STEP_PASS;
    if (list->type != JSON_ARRAY) return malformed(s, "expect.%s must be an array of ids", key);
    json_buf_init(&why);
    for (i = 0; i < list->len; i++) {
        int64_t id;
        int found = 0;
        if (value_resolve_id(&list->u.items[i], &s->cs->names, &id, &why) < 0) {
            step_status rc = malformed(s, "expect.%s[%zu]: %s", key, i, why.data);
            json_buf_free(&why);
            return rc;
        }
        for (j = 0; j < n; j++) found |= ids[j] == id;
        if (found != present) {
            json_buf_free(&why);
            json_buf_printf(s->detail, "expected %lld %s the list, got [", (long long)id, present ? "in" : "not in");
            for (j = 0; j < n; j++) json_buf_printf(s->detail, "%s%lld", j ? ", " : "", (long long)ids[j]);
            json_buf_puts(s->detail, "]");
            return STEP_FAIL;
        }
    }
    json_buf_free(&why);
    return STEP_PASS;
}

static step_status check_id(step *s, const char *key, int64_t actual) {
    const json_value *v = want(s, key);
    int64_t id;
    json_buf why;
    if (!v) return STEP_PASS;
    json_buf_init(&why);
    if (value_resolve_id(v, &s->cs->names, &id, &why) < 0) {
        step_status rc = malformed(s, "expect.%s: %s", key, why.data);
        json_buf_free(&why);
        return rc;
    }
    json_buf_free(&why);
    if (id != actual) return failed(s, "expected %s %lld, got %lld", key, (long long)id, (long long)actual);
    return STEP_PASS;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static step_status check_elapsed(step *s, double elapsed) {
    const json_value *v = want(s, "elapsed_at_least");
    if (!v) return STEP_PASS;
    if (v->type != JSON_NUMBER) return malformed(s, "expect.elapsed_at_least must be seconds (a number)");
    if (elapsed < json_double(v))
        return failed(s, "expected at least %s s to elapse, got %.6f s", v->u.number, elapsed);
    return STEP_PASS;
}

/* Binds the step's result under its "bind" name. */
static void bind_id(step *s, int64_t id) {
    const json_value *name = arg(s, "bind");
    if (name) bindings_bind_id(&s->cs->names, name->u.string, id);
}

static void bind_value(step *s, const subinterp_data *value) {
    const json_value *name = arg(s, "bind");
    if (name && value) bindings_bind_value(&s->cs->names, name->u.string, value);
}

/* Chains checks: the first that does not pass decides. */
#define CHECK(expr)                              \
    do {                                         \
        step_status rc_ = (expr);                \
        if (rc_ != STEP_PASS) return rc_;        \
    } while (0)

/* Checks the outcome; returns from the op unless the call succeeded. */
#define CHECK_OUTCOME(s)                         \
    do {                                         \
        int ok_;                                 \
        CHECK(check_outcome((s), &ok_));         \
        if (!ok_) return STEP_PASS;              \
    } while (0)

/* ------------------------------------------------------------------------ */
/* Ops: versions and runtime                                                */
/* ------------------------------------------------------------------------ */

/* "0.1.0" as the header encodes it: MAJOR * 10000 + MINOR * 100 + PATCH. */
static int version_number(const char *text, unsigned *number) {
    unsigned major, minor, patch;
    int used = 0;
    if (sscanf(text, "%u.%u.%u%n", &major, &minor, &patch, &used) != 3 || text[used] != '\0') return -1;
    *number = major * 10000 + minor * 100 + patch;
    return 0;
}

/* PY_VERSION_HEX agrees with "3.13.0" (or "3.14.0a1", "3.13.0rc2"...). */
static int python_versions_agree(uint32_t hex, const char *text) {
    unsigned major, minor, micro, serial = 0;
    int used = 0;
    unsigned level = (hex >> 4) & 0xF;
    const char *rest;
    if (sscanf(text, "%u.%u.%u%n", &major, &minor, &micro, &used) != 3) return 0;
    if (hex >> 8 != (major << 16 | minor << 8 | micro)) return 0;
    rest = text + used;
    if (level == 0xF) return rest[0] != 'a' && rest[0] != 'b' && rest[0] != 'r';
    if (level == 0xA && sscanf(rest, "a%u", &serial) == 1) return serial == (hex & 0xF);
    if (level == 0xB && sscanf(rest, "b%u", &serial) == 1) return serial == (hex & 0xF);
    if (level == 0xC && sscanf(rest, "rc%u", &serial) == 1) return serial == (hex & 0xF);
    return 0;
}

/* The "3.X" series of a version string is in the expected list. */
static step_status check_series(step *s, const char *python) {
    const json_value *list = want(s, "python_series");
    size_t i;
    if (!list) return STEP_PASS;
    if (list->type != JSON_ARRAY) return malformed(s, "expect.python_series must be an array of \"3.X\"");
    for (i = 0; i < list->len; i++) {
        const json_value *series = &list->u.items[i];
        if (series->type != JSON_STRING) return malformed(s, "expect.python_series must be an array of \"3.X\"");
        if (strncmp(python, series->u.string, series->len) == 0 && python[series->len] == '.') return STEP_PASS;
    }
    return failed(s, "Python %s is not in expect.python_series", python);
}

static step_status op_versions(step *s) {
    unsigned number = API(subinterp_version)(), expected;
    const char *text = API(subinterp_version_string)();
    uint32_t python_hex = API(subinterp_python_version)();
    const char *python = API(subinterp_python_version_string)();
    const json_value *library;
    CHECK_OUTCOME(s);
    if (!text || version_number(text, &expected) < 0) return failed(s, "version_string %s is not X.Y.Z", or_null(text));
    if (number != expected)
        return failed(s, "version() is %u but version_string() is %s (expected %u)", number, text, expected);
    if (!python || !python_versions_agree(python_hex, python))
        return failed(s, "python_version() 0x%08x disagrees with python_version_string() %s", (unsigned)python_hex,
                      or_null(python));
    if (want_string(s, "library", &library) < 0) return STEP_ERROR;
    if (library && strcmp(library->u.string, text) != 0)
        return failed(s, "expected library %s, got %s", library->u.string, text);
    return check_series(s, python);
}

/* One member of runtime "options"; -1 if unknown or of a bad type. Flags
 * take a bool or any int (so invalid values can be written). */
static int runtime_option(const json_member *m, subinterp_runtime_options *opts) {
    int64_t n;
    if (strcmp(m->key, "python_home") == 0) {
        if (m->value.type != JSON_STRING && m->value.type != JSON_NULL) return -1;
        opts->python_home = m->value.type == JSON_STRING ? m->value.u.string : NULL;
        return 0;
    }
    if (strcmp(m->key, "struct_size") == 0) {
        if (int_value(&m->value, 0, UINT32_MAX, &n) < 0) return -1;
        opts->struct_size = (uint32_t)n;
        return 0;
    }
    if (m->value.type == JSON_BOOL) n = m->value.u.boolean;
    else if (int_value(&m->value, INT_MIN, INT_MAX, &n) < 0) return -1;
    if (strcmp(m->key, "import_site") == 0) opts->import_site = (int)n;
    else if (strcmp(m->key, "install_signal_handlers") == 0) opts->install_signal_handlers = (int)n;
    else return -1;
    return 0;
}

/* Builds runtime options over the defaults. 0, 1 (library failed) or -1. */
static int runtime_options_arg(step *s, const json_value *v, subinterp_runtime_options *opts) {
    size_t i;
    subinterp_status st = API(subinterp_runtime_options_init)(opts);
    if (st != SUBINTERP_OK) {
        record_plain(s, "subinterp_runtime_options_init", st);
        return 1;
    }
    if (v->type != JSON_OBJECT) return MALFORMED(s, "\"options\" must be an object");
    for (i = 0; i < v->len; i++)
        if (runtime_option(&v->u.members[i], opts) < 0)
            return MALFORMED(s, "options.%s: unknown option or bad value", v->u.members[i].key);
    return 0;
}

static step_status op_runtime_init(step *s) {
    const json_value *options = arg(s, "options");
    subinterp_runtime_options opts;
    if (!options) {
        CALL(s, subinterp_runtime_init, NULL);
    } else {
        int rc = runtime_options_arg(s, options, &opts);
        if (rc < 0) return STEP_ERROR;
        if (rc == 0) CALL(s, subinterp_runtime_init, &opts);
    }
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static step_status op_runtime_finalize(step *s) {
    subinterp_error *err = NULL;
    subinterp_status st = API(subinterp_runtime_finalize)(&err); /* before reading err */
    record(s, "subinterp_runtime_finalize", st, err);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static const char *mode_name(subinterp_runtime_mode mode) {
    switch (mode) {
    case SUBINTERP_RUNTIME_NONE: return "none";
    case SUBINTERP_RUNTIME_EMBED: return "embed";
    case SUBINTERP_RUNTIME_ATTACH: return "attach";
    case SUBINTERP_RUNTIME_FINALIZED: return "finalized";
    default: return "(unknown mode)";
    }
}

static step_status op_runtime_get_mode(step *s) {
    subinterp_runtime_mode mode = API(subinterp_runtime_get_mode)();
    const json_value *expected;
    const char *name;
    CHECK_OUTCOME(s);
    if (want_string(s, "mode", &expected) < 0) return STEP_ERROR;
    if (!expected) return STEP_PASS;
    /* this runner is a native host: the runtime it starts is embedded */
    name = json_is_string(expected, "started") ? "embed" : expected->u.string;
    if (strcmp(name, mode_name(mode)) != 0)
        return failed(s, "expected mode %s, got %s (%d)", expected->u.string, mode_name(mode), (int)mode);
    return STEP_PASS;
}

/* ------------------------------------------------------------------------ */
/* Ops: configs and interpreters                                            */
/* ------------------------------------------------------------------------ */

static const struct {
    const char *name;
    size_t offset;
} kConfigFields[] = {
    {"use_main_obmalloc", offsetof(subinterp_config, use_main_obmalloc)},
    {"allow_fork", offsetof(subinterp_config, allow_fork)},
    {"allow_exec", offsetof(subinterp_config, allow_exec)},
    {"allow_threads", offsetof(subinterp_config, allow_threads)},
    {"allow_daemon_threads", offsetof(subinterp_config, allow_daemon_threads)},
    {"check_multi_interp_extensions", offsetof(subinterp_config, check_multi_interp_extensions)},
    {"gil", offsetof(subinterp_config, gil)},
};
#define N_CONFIG_FIELDS (sizeof kConfigFields / sizeof kConfigFields[0])

static int *config_field(subinterp_config *config, size_t i) {
    return (int *)((char *)config + kConfigFields[i].offset);
}

/* A preset: "isolated", "legacy" or an integer (invalid ones included). */
static int preset_value(const json_value *v, int *preset) {
    int64_t n;
    if (!v || json_is_string(v, "isolated")) *preset = SUBINTERP_CONFIG_ISOLATED;
    else if (json_is_string(v, "legacy")) *preset = SUBINTERP_CONFIG_LEGACY;
    else if (int_value(v, INT_MIN, INT_MAX, &n) == 0) *preset = (int)n;
    else return -1;
    return 0;
}

/* Sets one CONFIG member (a field or struct_size). */
static int config_member(step *s, const json_member *m, subinterp_config *config) {
    int64_t n;
    size_t i;
    if (strcmp(m->key, "struct_size") == 0) {
        if (int_value(&m->value, 0, UINT32_MAX, &n) < 0) return MALFORMED(s, "config.struct_size: not a uint32");
        config->struct_size = (uint32_t)n;
        return 0;
    }
    for (i = 0; i < N_CONFIG_FIELDS; i++) {
        if (strcmp(m->key, kConfigFields[i].name) != 0) continue;
        if (int_value(&m->value, INT_MIN, INT_MAX, &n) < 0) return MALFORMED(s, "config.%s: not an int", m->key);
        *config_field(config, i) = (int)n;
        return 0;
    }
    return MALFORMED(s, "config: unknown field %s", m->key);
}

/* A CONFIG: its preset, then the fields it overrides. 0, 1 (config_init
 * failed: the step's outcome) or -1 (malformed). */
static int config_arg(step *s, const json_value *v, subinterp_config *config) {
    int preset;
    size_t i;
    subinterp_status st;
    if (v->type != JSON_OBJECT) return MALFORMED(s, "\"config\" must be an object");
    if (preset_value(json_get(v, "preset"), &preset) < 0)
        return MALFORMED(s, "config.preset must be \"isolated\", \"legacy\" or an integer");
    memset(config, 0, sizeof *config);
    st = API(subinterp_config_init)(config, (subinterp_config_preset)preset);
    if (st != SUBINTERP_OK) {
        record_plain(s, "subinterp_config_init", st);
        return 1;
    }
    for (i = 0; i < v->len; i++)
        if (strcmp(v->u.members[i].key, "preset") != 0 && config_member(s, &v->u.members[i], config) < 0) return -1;
    return 0;
}

/* expect.config: the fields given must read back as given. */
static step_status check_config(step *s, const subinterp_config *config) {
    const json_value *v = want(s, "config");
    size_t i;
    if (!v) return STEP_PASS;
    if (v->type != JSON_OBJECT) return malformed(s, "expect.config must be an object");
    for (i = 0; i < v->len; i++) {
        const json_member *m = &v->u.members[i];
        size_t f;
        if (strcmp(m->key, "struct_size") == 0) {
            CHECK(check_int(s, "config.struct_size", &m->value, config->struct_size));
            continue;
        }
        for (f = 0; f < N_CONFIG_FIELDS && strcmp(m->key, kConfigFields[f].name) != 0; f++) continue;
        if (f == N_CONFIG_FIELDS) return malformed(s, "expect.config: unknown field %s", m->key);
        CHECK(check_int(s, m->key, &m->value, *config_field((subinterp_config *)config, f)));
    }
    return STEP_PASS;
}

static step_status op_config_init(step *s) {
    subinterp_config config;
    int preset;
    subinterp_status st;
    if (preset_value(arg(s, "preset"), &preset) < 0)
        return malformed(s, "\"preset\" must be \"isolated\", \"legacy\" or an integer");
    memset(&config, 0xA5, sizeof config); /* so fields left unwritten show */
    st = API(subinterp_config_init)(&config, (subinterp_config_preset)preset);
    record_plain(s, "subinterp_config_init", st);
    CHECK_OUTCOME(s);
    return check_config(s, &config);
}

static step_status op_config_validate(step *s) {
    subinterp_config config;
    int rc;
    if (!arg(s, "config")) return malformed(s, "missing \"config\"");
    rc = config_arg(s, arg(s, "config"), &config);
    if (rc < 0) return STEP_ERROR;
    if (rc == 0) CALL(s, subinterp_config_validate, &config);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static step_status op_create(step *s) {
    subinterp_config config;
    int64_t id = -1;
    if (arg(s, "config")) {
        int rc = config_arg(s, arg(s, "config"), &config);
        if (rc < 0) return STEP_ERROR;
        if (rc == 0) CALL(s, subinterp_create, &config, &id);
    } else {
        CALL(s, subinterp_create, NULL, &id);
    }
    if (s->result.status == SUBINTERP_OK) track_interp(s->cs, id);
    CHECK_OUTCOME(s);
    bind_id(s, id);
    if (id <= 0) return failed(s, "subinterp_create gave id %lld, expected > 0", (long long)id);
    return STEP_PASS;
}

static step_status op_destroy(step *s) {
    int64_t id;
    if (id_arg(s, "interp", &id) < 0) return STEP_ERROR;
    CALL(s, subinterp_destroy, id);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

typedef subinterp_status (*list_function)(int64_t *ids, size_t capacity, size_t *count, subinterp_error **err);

/* Sizes with a first call, then reads; retries if the list grew between. */
static void read_id_list(step *s, list_function list, const char *name, int64_t **ids, size_t *n) {
    size_t capacity = 0, count = 0;
    subinterp_error *err = NULL;
    subinterp_status st = list(NULL, 0, &count, &err);
    *ids = NULL;
    *n = 0;
    while (st == SUBINTERP_OK && count > capacity) {
        free(*ids);
        capacity = count;
        *ids = xmalloc(capacity * sizeof **ids);
        st = list(*ids, capacity, &count, &err);
    }
    record(s, name, st, err);
    *n = st == SUBINTERP_OK ? count : 0;
}

/* Calls through the counted table, with the list signature. */
static subinterp_status list_interps(int64_t *ids, size_t capacity, size_t *count, subinterp_error **err) {
    return API(subinterp_list)(ids, capacity, count, err);
}

static subinterp_status list_queues(int64_t *ids, size_t capacity, size_t *count, subinterp_error **err) {
    return API(subinterp_queue_list)(ids, capacity, count, err);
}

static step_status check_listing(step *s, const int64_t *ids, size_t n) {
    CHECK(check_id_set(s, "includes", ids, n, 1));
    CHECK(check_id_set(s, "excludes", ids, n, 0));
    if (want(s, "first")) {
        if (n == 0) return failed(s, "expected a first id, got an empty list");
        CHECK(check_id(s, "first", ids[0]));
    }
    return STEP_PASS;
}

static step_status op_list_ids(step *s, list_function list, const char *name) {
    int64_t *ids;
    size_t n;
    step_status rc;
    int ok;
    read_id_list(s, list, name, &ids, &n);
    rc = check_outcome(s, &ok);
    if (rc == STEP_PASS && ok) rc = check_listing(s, ids, n);
    free(ids);
    return rc;
}

static step_status op_list(step *s) { return op_list_ids(s, list_interps, "subinterp_list"); }
static step_status op_queue_list(step *s) { return op_list_ids(s, list_queues, "subinterp_queue_list"); }

static step_status op_main_id(step *s) {
    int64_t id = -1;
    CALL(s, subinterp_main_id, &id);
    CHECK_OUTCOME(s);
    bind_id(s, id);
    return check_id(s, "id", id);
}

static step_status op_current_id(step *s) {
    int64_t id = -1;
    CALL(s, subinterp_current_id, &id);
    CHECK_OUTCOME(s);
    bind_id(s, id);
    return check_id(s, "id", id);
}

static step_status op_is_running(step *s) {
    int64_t id;
    int running = -1;
    if (id_arg(s, "interp", &id) < 0) return STEP_ERROR;
    CALL(s, subinterp_is_running, id, &running);
    CHECK_OUTCOME(s);
    return check_bool(s, "running", want(s, "running"), running);
}

static step_status op_get_config(step *s) {
    subinterp_config config;
    int64_t id;
    size_t i;
    if (id_arg(s, "interp", &id) < 0) return STEP_ERROR;
    config.struct_size = sizeof config;
    for (i = 0; i < N_CONFIG_FIELDS; i++) *config_field(&config, i) = -12345; /* shows unwritten fields */
    CALL(s, subinterp_get_config, id, &config);
    CHECK_OUTCOME(s);
    return check_config(s, &config);
}

/* ------------------------------------------------------------------------ */
/* Ops: running code                                                        */
/* ------------------------------------------------------------------------ */

/* Options for exec/call, and whether to ask for the output object: when
 * capturing (it is then required) or when the case checks it. */
static int run_options_arg(step *s, subinterp_run_options *opts, int *want_output, int *capturing) {
    uint32_t flags;
    subinterp_status st;
    if (flags_arg(s, &flags) < 0) return -1;
    st = API(subinterp_run_options_init)(opts);
    if (st != SUBINTERP_OK)
        json_buf_printf(&s->anomaly, "subinterp_run_options_init failed: %s", status_short_name(st));
    opts->flags = flags;
    if (arg(s, "timeout") && seconds_arg(s, "timeout", &opts->timeout) < 0) return -1;
    *capturing = (flags & (SUBINTERP_RUN_CAPTURE_STDOUT | SUBINTERP_RUN_CAPTURE_STDERR)) != 0;
    *want_output = *capturing || want(s, "stdout") || want(s, "stderr");
    return 0;
}

/* expect.stdout / expect.stderr: exact captured text, also after an error.
 * No output object counts as nothing captured, except after a successful
 * run that was asked to capture (the ABI then promises one). */
static step_status check_outputs(step *s, const subinterp_output *output, int capturing) {
    const char *out_text = "", *err_text = "";
    size_t out_len = 0, err_len = 0;
    if (!want(s, "stdout") && !want(s, "stderr")) return STEP_PASS;
    if (output) {
        out_text = API(subinterp_output_stdout)(output, &out_len);
        err_text = API(subinterp_output_stderr)(output, &err_len);
        if (!out_text || !err_text) return failed(s, "subinterp_output_stdout/stderr returned NULL");
    } else if (capturing && s->result.status == SUBINTERP_OK) {
        return failed(s, "capture was requested but *output is NULL");
    }
    CHECK(check_text(s, "stdout", out_text, out_len));
    return check_text(s, "stderr", err_text, err_len);
}

static step_status op_exec(step *s) {
    subinterp_run_options opts;
    subinterp_output *output = NULL;
    char *source = NULL;
    int64_t id;
    int want_output, capturing, ok;
    step_status rc;
    if (id_arg(s, "interp", &id) < 0 || text_arg(s, "source", &source) < 0 ||
        run_options_arg(s, &opts, &want_output, &capturing) < 0) {
        free(source);
        return STEP_ERROR;
    }
    CALL(s, subinterp_exec, id, source, &opts, want_output ? &output : NULL);
    free(source);
    rc = check_outcome(s, &ok);
    if (rc == STEP_PASS) rc = check_outputs(s, output, capturing);
    API(subinterp_output_free)(output);
    return rc;
}

/* `args`: a JSON array is a tuple of values; anything else one tagged value
 * passed as is (so wrong kinds can be tested); absent: NULL. */
static int args_arg(step *s, subinterp_data **out) {
    const json_value *v = arg(s, "args");
    subinterp_data **items;
    size_t i;
    int rc = 0;
    *out = NULL;
    if (!v) return 0;
    if (v->type != JSON_ARRAY) return value_arg(s, v, "args", out);
    items = xcalloc(v->len, sizeof *items);
    for (i = 0; i < v->len && rc == 0; i++) rc = value_arg(s, &v->u.items[i], "args", &items[i]);
    if (rc == 0) {
        subinterp_error *err = NULL;
        subinterp_status st = API(subinterp_data_new_tuple)((const subinterp_data *const *)items, v->len, out, &err);
        record(s, "subinterp_data_new_tuple", st, err);
        rc = st == SUBINTERP_OK ? 0 : 1;
    }
    for (i = 0; i < v->len; i++) API(subinterp_data_free)(items[i]);
    free(items);
    return rc;
}

static step_status call_checks(step *s, const subinterp_output *output, int capturing, const subinterp_data *result) {
    int ok;
    CHECK(check_outcome(s, &ok));
    CHECK(check_outputs(s, output, capturing));
    if (!ok) return STEP_PASS;
    if (!result) return failed(s, "subinterp_call succeeded with *result NULL");
    bind_value(s, result);
    return check_value(s, "value", want(s, "value"), result);
}

/* A call's "callable", "args" and "kwargs" (op call, pool_submit, pool_call),
 * as value_arg(): 0 built; 1 the library refused a value (outcome recorded);
 * -1 malformed. */
static int task_arg(step *s, char **callable, subinterp_data **args, subinterp_data **kwargs) {
    int rc;
    *args = *kwargs = NULL;
    if (text_arg(s, "callable", callable) < 0) return -1;
    rc = args_arg(s, args);
    if (rc == 0 && arg(s, "kwargs")) rc = value_arg(s, arg(s, "kwargs"), "kwargs", kwargs);
    return rc;
}

static step_status op_call(step *s) {
    subinterp_run_options opts;
    subinterp_output *output = NULL;
    subinterp_data *args = NULL, *kwargs = NULL, *result = NULL;
    char *callable = NULL;
    int64_t id;
    int want_output, capturing, rc = 0;
    step_status status = STEP_ERROR;
    if (id_arg(s, "interp", &id) < 0 || run_options_arg(s, &opts, &want_output, &capturing) < 0) goto done;
    rc = task_arg(s, &callable, &args, &kwargs);
    if (rc < 0) goto done;
    if (rc == 0) CALL(s, subinterp_call, id, callable, args, kwargs, &opts, &result, want_output ? &output : NULL);
    status = call_checks(s, output, capturing, result);
done:
    free(callable);
    API(subinterp_data_free)(args);
    API(subinterp_data_free)(kwargs);
    API(subinterp_data_free)(result);
    API(subinterp_output_free)(output);
    return status;
}

static step_status op_prepare_main(step *s) {
    subinterp_data *names = NULL;
    int64_t id;
    int rc;
    if (id_arg(s, "interp", &id) < 0) return STEP_ERROR;
    rc = value_arg(s, arg(s, "names"), "names", &names);
    if (rc < 0) return STEP_ERROR;
    if (rc == 0) CALL(s, subinterp_prepare_main, id, names);
    API(subinterp_data_free)(names);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

/* ------------------------------------------------------------------------ */
/* Ops: portable data                                                       */
/* ------------------------------------------------------------------------ */

static step_status check_kind(step *s, const subinterp_data *d) {
    const json_value *expected;
    const char *name;
    if (want_string(s, "kind", &expected) < 0) return STEP_ERROR;
    if (!expected) return STEP_PASS;
    name = API(subinterp_data_kind_name)(API(subinterp_data_get_kind)(d));
    if (!name || strcmp(name, expected->u.string) != 0)
        return failed(s, "expected kind %s, got %s", expected->u.string, or_null(name));
    return STEP_PASS;
}

static step_status check_repr(step *s, const subinterp_data *d) {
    char *repr = NULL;
    subinterp_error *err = NULL;
    subinterp_status st;
    step_status rc;
    if (!want(s, "repr")) return STEP_PASS;
    st = API(subinterp_data_repr)(d, &repr, &err);
    if (st != SUBINTERP_OK) {
        call_result r;
        call_result_init(&r);
        call_result_set(&r, "subinterp_data_repr", st, err);
        json_buf_puts(s->detail, "expected a repr, got ");
        call_result_describe(s->detail, &r);
        call_result_clear(&r);
        return STEP_FAIL;
    }
    API(subinterp_error_free)(err);
    rc = check_text(s, "repr", repr ? repr : "", repr ? strlen(repr) : 0);
    API(subinterp_free)(repr);
    return rc;
}

static step_status check_len(step *s, const subinterp_data *d) {
    size_t len = 0;
    subinterp_error *err = NULL;
    subinterp_status st;
    if (!want(s, "len")) return STEP_PASS;
    st = API(subinterp_data_get_len)(d, &len, &err);
    if (st != SUBINTERP_OK) {
        failed(s, "expected a len, got subinterp_data_get_len: %s: %s", status_short_name(st),
               API(subinterp_error_message)(err));
        API(subinterp_error_free)(err);
        return STEP_FAIL;
    }
    API(subinterp_error_free)(err);
    return check_int(s, "len", want(s, "len"), (int64_t)len);
}

/* expect.equals: subinterp_data_equal with a second value built from it,
 * both ways round (equality must be symmetric). */
static step_status check_equals(step *s, const subinterp_data *d) {
    const json_value *v = want(s, "equals");
    subinterp_data *other = NULL;
    call_result r;
    json_buf why;
    int rc, forward, backward;
    if (!v) return STEP_PASS;
    json_buf_init(&why);
    call_result_init(&r);
    rc = value_build(v, &s->cs->names, &other, &r, &why);
    if (rc < 0) malformed(s, "expect.equals: %s", why.data);
    if (rc > 0) {
        json_buf_puts(s->detail, "could not build expect.equals: ");
        call_result_describe(s->detail, &r);
        call_result_clear(&r);
    }
    json_buf_free(&why);
    if (rc) return rc < 0 ? STEP_ERROR : STEP_FAIL;
    forward = API(subinterp_data_equal)(d, other);
    backward = API(subinterp_data_equal)(other, d);
    API(subinterp_data_free)(other);
    if (forward == 1 && backward == 1) return STEP_PASS;
    json_buf_printf(s->detail, "subinterp_data_equal gave %d (and %d reversed) for ", forward, backward);
    value_render(s->detail, d);
    json_buf_puts(s->detail, " and ");
    json_buf_value(s->detail, v);
    return STEP_FAIL;
}

static step_status data_checks(step *s, const subinterp_data *d) {
    CHECK_OUTCOME(s);
    CHECK(check_kind(s, d));
    CHECK(check_repr(s, d));
    CHECK(check_len(s, d));
    return check_equals(s, d);
}

static step_status op_data(step *s) {
    subinterp_data *d = NULL;
    step_status rc;
    if (value_arg(s, arg(s, "value"), "value", &d) < 0) return STEP_ERROR;
    rc = data_checks(s, d);
    API(subinterp_data_free)(d);
    return rc;
}

/* One typed getter read into a view (or, for item, a borrowed value). */
typedef struct getter_read {
    value_view view;
    const subinterp_data *item; /* as == "item" */
    int is_item;
} getter_read;

static int index_arg(step *s, size_t *index) {
    int64_t n;
    const json_value *v = arg(s, "index");
    if (v && int_value(v, 0, INT64_MAX, &n) == 0 && (uint64_t)n <= SIZE_MAX) {
        *index = (size_t)n;
        return 0;
    }
    malformed(s, "\"index\" must be a non-negative integer");
    return -1;
}

/* Getters of byte contents share a shape: (data, &bytes, &len, &err). What
 * they read is bytes, pickle bytes included. */
static void read_bytes_kind(step *s, const subinterp_data *d, subinterp_data_kind kind, getter_read *g) {
    const void *bytes = NULL;
    size_t len = 0;
    memset(&g->view, 0, sizeof g->view);
    g->view.kind = SUBINTERP_DATA_BYTES;
    if (kind == SUBINTERP_DATA_BYTES) CALL(s, subinterp_data_get_bytes, d, &bytes, &len);
    else CALL(s, subinterp_data_get_pickled, d, &bytes, &len);
    g->view.bytes = bytes;
    g->view.len = len;
}

static void read_str(step *s, const subinterp_data *d, getter_read *g) {
    const char *utf8 = NULL;
    size_t len = 0;
    memset(&g->view, 0, sizeof g->view);
    g->view.kind = SUBINTERP_DATA_STR;
    CALL(s, subinterp_data_get_str, d, &utf8, &len);
    if (s->result.status == SUBINTERP_OK && (!utf8 || utf8[len] != '\0'))
        json_buf_puts(&s->anomaly, "subinterp_data_get_str gave text that is not NUL-terminated at *len");
    g->view.bytes = (const unsigned char *)utf8;
    g->view.len = len;
}

/* int_bytes reads as a bytes value. */
static void read_int_bytes(step *s, const subinterp_data *d, getter_read *g) {
    size_t len = 0, capacity;
    unsigned char *bytes;
    CALL(s, subinterp_data_get_int_bytes, d, NULL, 0, &len);
    value_view_int_bytes(&g->view, NULL, 0);
    g->view.kind = SUBINTERP_DATA_BYTES;
    if (s->result.status != SUBINTERP_OK) return;
    capacity = len;
    bytes = xmalloc(capacity);
    CALL(s, subinterp_data_get_int_bytes, d, bytes, capacity, &len);
    if (s->result.status == SUBINTERP_OK && len != capacity)
        json_buf_printf(&s->anomaly, "subinterp_data_get_int_bytes sized %zu bytes, then wrote %zu", capacity, len);
    free(g->view.owned);
    g->view.owned = bytes;
    g->view.bytes = bytes;
    g->view.len = len;
}

static void read_scalar(step *s, const subinterp_data *d, const char *as, getter_read *g) {
    value_view *v = &g->view;
    memset(v, 0, sizeof *v);
    if (strcmp(as, "int64") == 0) {
        int64_t n = 0;
        CALL(s, subinterp_data_get_int, d, &n);
        value_view_int64(v, n);
    } else if (strcmp(as, "bool") == 0) {
        v->kind = SUBINTERP_DATA_BOOL;
        CALL(s, subinterp_data_get_bool, d, &v->flag);
        if (s->result.status == SUBINTERP_OK && v->flag != 0 && v->flag != 1)
            json_buf_printf(&s->anomaly, "subinterp_data_get_bool gave %d, not 0 or 1", v->flag);
    } else if (strcmp(as, "float") == 0) {
        v->kind = SUBINTERP_DATA_FLOAT;
        CALL(s, subinterp_data_get_float, d, &v->number);
    } else if (strcmp(as, "buffer") == 0) {
        void *memory = NULL;
        v->kind = SUBINTERP_DATA_BUFFER;
        CALL(s, subinterp_data_get_buffer, d, &memory, &v->len, &v->flag);
        v->bytes = memory;
    } else {
        /* a queue's or interpreter's id: what was read is an int64 */
        int64_t id = 0;
        if (strcmp(as, "queue") == 0) CALL(s, subinterp_data_get_queue, d, &id);
        else CALL(s, subinterp_data_get_interpreter, d, &id);
        value_view_int64(v, id);
    }
}

/* Reads `d` per "as". 0, or -1 (malformed). */
static int read_as(step *s, const subinterp_data *d, getter_read *g) {
    const json_value *as = arg(s, "as");
    static const char *const scalars[] = {"int64", "bool", "float", "buffer", "queue", "interpreter"};
    size_t i, index;
    memset(g, 0, sizeof *g);
    if (!as || as->type != JSON_STRING) return MALFORMED(s, "missing \"as\"");
    for (i = 0; i < sizeof scalars / sizeof scalars[0]; i++)
        if (json_is_string(as, scalars[i])) return read_scalar(s, d, scalars[i], g), 0;
    if (json_is_string(as, "int_bytes")) read_int_bytes(s, d, g);
    else if (json_is_string(as, "str")) read_str(s, d, g);
    else if (json_is_string(as, "bytes")) read_bytes_kind(s, d, SUBINTERP_DATA_BYTES, g);
    else if (json_is_string(as, "pickled")) read_bytes_kind(s, d, SUBINTERP_DATA_PICKLED, g);
    else if (json_is_string(as, "item") || json_is_string(as, "entry")) {
        if (index_arg(s, &index) < 0) return -1;
        if (json_is_string(as, "item")) {
            g->is_item = 1;
            CALL(s, subinterp_data_get_item, d, index, &g->item);
        } else {
            g->view.kind = SUBINTERP_DATA_TUPLE;
            CALL(s, subinterp_data_get_entry, d, index, &g->view.pair[0], &g->view.pair[1]);
        }
    } else {
        return MALFORMED(s, "unknown \"as\" %s", as->u.string);
    }
    return 0;
}

static step_status op_data_get(step *s) {
    subinterp_data *d = NULL;
    getter_read g;
    step_status rc = STEP_ERROR;
    int built = value_arg(s, arg(s, "value"), "value", &d);
    if (built < 0) return STEP_ERROR;
    if (built > 0) {
        CHECK_OUTCOME(s);
        return STEP_PASS;
    }
    if (arg(s, "index") && !json_is_string(arg(s, "as"), "item") && !json_is_string(arg(s, "as"), "entry")) {
        API(subinterp_data_free)(d);
        return malformed(s, "\"index\" is only for \"as\": item or entry");
    }
    if (read_as(s, d, &g) == 0) {
        int ok;
        rc = check_outcome(s, &ok);
        if (rc == STEP_PASS && ok && g.is_item) rc = check_value(s, "value", want(s, "value"), g.item);
        else if (rc == STEP_PASS && ok) rc = check_value_view(s, want(s, "value"), &g.view);
        value_view_free(&g.view);
    }
    API(subinterp_data_free)(d);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Ops: queues                                                              */
/* ------------------------------------------------------------------------ */

static const char *const kUnboundNames[] = {"default", "remove", "error", "replace"};

static const char *unbound_name(int policy) {
    return policy >= 0 && policy < 4 ? kUnboundNames[policy] : "(unknown policy)";
}

/* A policy: a name or an integer (invalid ones included). */
static int unbound_value(const json_value *v, int *policy) {
    int64_t n;
    int i;
    for (i = 0; i < 4; i++)
        if (json_is_string(v, kUnboundNames[i])) return *policy = i, 0;
    if (int_value(v, INT_MIN, INT_MAX, &n) == 0) return *policy = (int)n, 0;
    return -1;
}

static step_status op_queue_create(step *s) {
    subinterp_queue_options opts;
    const json_value *maxsize = arg(s, "maxsize"), *unbound = arg(s, "unbound");
    int64_t id = -1, n;
    int policy;
    subinterp_status st = API(subinterp_queue_options_init)(&opts);
    if (st != SUBINTERP_OK) {
        record_plain(s, "subinterp_queue_options_init", st);
    } else {
        if (maxsize) {
            if (int_value(maxsize, 0, INT64_MAX, &n) < 0 || (uint64_t)n > SIZE_MAX)
                return malformed(s, "\"maxsize\" must be a non-negative integer");
            opts.maxsize = (size_t)n;
        }
        if (unbound) {
            if (unbound_value(unbound, &policy) < 0)
                return malformed(s, "\"unbound\" must be default, remove, error, replace or an integer");
            opts.unbound = (subinterp_unbound)policy;
        }
        CALL(s, subinterp_queue_create, &opts, &id);
    }
    if (s->result.status == SUBINTERP_OK) hold_of(s->cs, id)->count++;
    CHECK_OUTCOME(s);
    bind_id(s, id);
    return STEP_PASS;
}

static step_status op_queue_put(step *s) {
    subinterp_data *item = NULL;
    int64_t id;
    double timeout, start;
    int rc, ok;
    if (id_arg(s, "queue", &id) < 0 || seconds_arg(s, "timeout", &timeout) < 0) return STEP_ERROR;
    rc = value_arg(s, arg(s, "value"), "value", &item);
    if (rc < 0) return STEP_ERROR;
    start = now_seconds();
    if (rc == 0) CALL(s, subinterp_queue_put, id, item, timeout);
    API(subinterp_data_free)(item);
    CHECK(check_outcome(s, &ok));
    return check_elapsed(s, now_seconds() - start);
}

static step_status queue_get_checks(step *s, const subinterp_data *item, double elapsed) {
    const json_value *unbound = want(s, "unbound");
    int ok;
    CHECK(check_outcome(s, &ok));
    CHECK(check_elapsed(s, elapsed));
    if (!ok) return STEP_PASS;
    if (unbound && (unbound->type != JSON_BOOL || !unbound->u.boolean))
        return malformed(s, "expect.unbound must be true (leave it out otherwise)");
    if (unbound && item) {
        json_buf_puts(s->detail, "expected the UNBOUND marker (*item NULL), got ");
        value_render(s->detail, item);
        return STEP_FAIL;
    }
    if (!unbound && !item) return failed(s, "got the UNBOUND marker (*item NULL), expected a value");
    bind_value(s, item);
    return check_value(s, "value", want(s, "value"), item);
}

static step_status op_queue_get(step *s) {
    subinterp_data *item = NULL;
    int64_t id;
    double timeout, start;
    step_status rc;
    if (id_arg(s, "queue", &id) < 0 || seconds_arg(s, "timeout", &timeout) < 0) return STEP_ERROR;
    start = now_seconds();
    CALL(s, subinterp_queue_get, id, timeout, &item);
    rc = queue_get_checks(s, item, now_seconds() - start);
    API(subinterp_data_free)(item);
    return rc;
}

static step_status op_queue_size(step *s) {
    int64_t id;
    size_t size = 0;
    if (id_arg(s, "queue", &id) < 0) return STEP_ERROR;
    CALL(s, subinterp_queue_size, id, &size);
    CHECK_OUTCOME(s);
    return check_int(s, "size", want(s, "size"), (int64_t)size);
}

static step_status check_queue_info(step *s, const subinterp_queue_info *info) {
    const json_value *v = want(s, "info");
    size_t i;
    if (!v) return STEP_PASS;
    if (v->type != JSON_OBJECT) return malformed(s, "expect.info must be an object");
    for (i = 0; i < v->len; i++) {
        const json_member *m = &v->u.members[i];
        int policy;
        if (strcmp(m->key, "maxsize") == 0) CHECK(check_int(s, "info.maxsize", &m->value, (int64_t)info->maxsize));
        else if (strcmp(m->key, "size") == 0) CHECK(check_int(s, "info.size", &m->value, (int64_t)info->size));
        else if (strcmp(m->key, "closed") == 0) CHECK(check_bool(s, "info.closed", &m->value, info->closed));
        else if (strcmp(m->key, "unbound") == 0) {
            if (unbound_value(&m->value, &policy) < 0) return malformed(s, "expect.info.unbound: a policy name");
            if (policy != (int)info->unbound)
                return failed(s, "expected info.unbound %s, got %s (%d)", unbound_name(policy),
                              unbound_name((int)info->unbound), (int)info->unbound);
        } else {
            return malformed(s, "expect.info: unknown field %s", m->key);
        }
    }
    return STEP_PASS;
}

static step_status op_queue_info(step *s) {
    subinterp_queue_info info = SUBINTERP_QUEUE_INFO_INIT;
    int64_t id;
    if (id_arg(s, "queue", &id) < 0) return STEP_ERROR;
    info.id = -1;
    CALL(s, subinterp_queue_get_info, id, &info);
    CHECK_OUTCOME(s);
    if (info.id != id) return failed(s, "info.id is %lld, expected %lld", (long long)info.id, (long long)id);
    return check_queue_info(s, &info);
}

/* What a successful queue op does to the case's holds. */
typedef enum hold_change { HOLD_KEEP, HOLD_ADD, HOLD_DROP, HOLD_CLEAR } hold_change;

/* close, retain, release, destroy: (id, err); holds tracked for cleanup. */
static step_status queue_id_op(step *s, subinterp_status (*fn)(int64_t, subinterp_error **), const char *name,
                               hold_change change) {
    int64_t id;
    subinterp_error *err = NULL;
    subinterp_status st;
    if (id_arg(s, "queue", &id) < 0) return STEP_ERROR;
    st = fn(id, &err); /* before reading err */
    record(s, name, st, err);
    if (s->result.status == SUBINTERP_OK && change != HOLD_KEEP) {
        queue_hold *h = hold_of(s->cs, id);
        if (change == HOLD_ADD) h->count++;
        else if (change == HOLD_DROP && h->count > 0) h->count--; /* a hold the case did not take: not ours */
        else if (change == HOLD_CLEAR) h->count = 0; /* destroyed: nothing left to drop */
    }
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static subinterp_status queue_close(int64_t id, subinterp_error **err) { return API(subinterp_queue_close)(id, err); }
static subinterp_status queue_retain(int64_t id, subinterp_error **err) {
    return API(subinterp_queue_retain)(id, err);
}
static subinterp_status queue_release(int64_t id, subinterp_error **err) {
    return API(subinterp_queue_release)(id, err);
}
static subinterp_status queue_destroy(int64_t id, subinterp_error **err) {
    return API(subinterp_queue_destroy)(id, err);
}

static step_status op_queue_close(step *s) { return queue_id_op(s, queue_close, "subinterp_queue_close", HOLD_KEEP); }
static step_status op_queue_retain(step *s) {
    return queue_id_op(s, queue_retain, "subinterp_queue_retain", HOLD_ADD);
}
static step_status op_queue_release(step *s) {
    return queue_id_op(s, queue_release, "subinterp_queue_release", HOLD_DROP);
}
static step_status op_queue_destroy(step *s) {
    return queue_id_op(s, queue_destroy, "subinterp_queue_destroy", HOLD_CLEAR);
}

static step_status op_status_name(step *s) {
    const json_value *code = arg(s, "code"), *expected;
    const char *name;
    int64_t n;
    if (!code || int_value(code, INT32_MIN, INT32_MAX, &n) < 0) return malformed(s, "\"code\" must be an int32");
    name = API(subinterp_status_name)((subinterp_status)n);
    CHECK_OUTCOME(s);
    if (want_string(s, "name", &expected) < 0) return STEP_ERROR;
    if (expected && (!name || strcmp(name, expected->u.string) != 0))
        return failed(s, "expected name %s, got %s", expected->u.string, or_null(name));
    return STEP_PASS;
}

/* ------------------------------------------------------------------------ */
/* Ops: deadlines, interrupts, import checks, pools and futures             */
/* ------------------------------------------------------------------------ */

/* A bound pool or future: "$name" in later steps. */
static named_handle *handle_named(named_handle *items, size_t n, const char *name) {
    size_t i;
    for (i = n; i-- > 0;)
        if (strcmp(items[i].name, name) == 0) return &items[i];
    return NULL;
}

static void bind_handle(named_handle **items, size_t *n, size_t *cap, const char *name, void *handle) {
    *items = xgrow(*items, cap, *n + 1, sizeof **items);
    (*items)[*n].name = xmalloc(strlen(name) + 1);
    strcpy((*items)[*n].name, name);
    (*items)[*n].handle = handle;
    (*n)++;
}

/* `key`: "$name" of a bound pool (futures: is_future). 0, or -1 (malformed). */
static int handle_arg(step *s, const char *key, int is_future, void **out) {
    const json_value *v = arg(s, key);
    named_handle *h;
    if (!v || v->type != JSON_STRING || v->len < 2 || v->u.string[0] != '$')
        return MALFORMED(s, "\"%s\" must be \"$name\" of a bound %s", key, is_future ? "future" : "pool");
    h = is_future ? handle_named(s->cs->futures, s->cs->n_futures, v->u.string + 1)
                  : handle_named(s->cs->pools, s->cs->n_pools, v->u.string + 1);
    if (!h) return MALFORMED(s, "\"%s\": no %s bound as %s", key, is_future ? "future" : "pool", v->u.string);
    *out = h->handle;
    return 0;
}

static int pool_arg(step *s, subinterp_pool **pool) {
    void *h = NULL;
    if (handle_arg(s, "pool", 0, &h) < 0) return -1;
    *pool = h;
    return 0;
}

static int future_arg(step *s, const subinterp_future **future) {
    void *h = NULL;
    if (handle_arg(s, "future", 1, &h) < 0) return -1;
    *future = h;
    return 0;
}

/* Optional seconds `key` (absent: `fallback`). */
static int optional_seconds(step *s, const char *key, double fallback, double *out) {
    if (!arg(s, key)) {
        *out = fallback;
        return 0;
    }
    return seconds_arg(s, key, out);
}

/* Run options of a pool task: flags and timeout. */
static int task_options_arg(step *s, subinterp_run_options *opts) {
    int want_output, capturing;
    if (run_options_arg(s, opts, &want_output, &capturing) < 0) return -1;
    return 0;
}

/* A JSON array of tagged values as a tuple (kind "list" if as_list). 0, 1
 * (the library refused: outcome recorded) or -1 (malformed). */
static int tuple_of(step *s, const json_value *v, const char *what, int as_list, subinterp_data **out) {
    subinterp_data **items;
    size_t i;
    int rc = 0;
    *out = NULL;
    if (!v || v->type != JSON_ARRAY) return MALFORMED(s, "\"%s\" must be an array of values", what);
    items = xcalloc(v->len + 1, sizeof *items);
    for (i = 0; i < v->len && rc == 0; i++) rc = value_arg(s, &v->u.items[i], what, &items[i]);
    if (rc == 0) {
        subinterp_error *err = NULL;
        subinterp_status st = as_list ? API(subinterp_data_new_list)((const subinterp_data *const *)items, v->len, out, &err)
                                      : API(subinterp_data_new_tuple)((const subinterp_data *const *)items, v->len, out, &err);
        record(s, as_list ? "subinterp_data_new_list" : "subinterp_data_new_tuple", st, err);
        rc = st == SUBINTERP_OK ? 0 : 1;
    }
    for (i = 0; i < v->len; i++) API(subinterp_data_free)(items[i]);
    free(items);
    return rc;
}

/* A boolean argument (absent: fallback). */
static int bool_arg(step *s, const char *key, int fallback, int *out) {
    const json_value *v = arg(s, key);
    *out = fallback;
    if (!v) return 0;
    if (v->type != JSON_BOOL) return MALFORMED(s, "\"%s\" must be true or false", key);
    *out = v->u.boolean;
    return 0;
}

/* Checks a result value made here (an int, a str, a bool) against
 * expect.value. */
static step_status check_made_value(step *s, subinterp_status made, subinterp_data *value) {
    step_status rc;
    if (made != SUBINTERP_OK) {
        API(subinterp_data_free)(value);
        return failed(s, "could not make the result value (%s)", status_short_name(made));
    }
    rc = check_value(s, "value", want(s, "value"), value);
    API(subinterp_data_free)(value);
    return rc;
}

static step_status op_interrupt(step *s) {
    int64_t id;
    size_t interrupted = (size_t)-1;
    subinterp_data *value = NULL;
    subinterp_status made;
    if (id_arg(s, "interp", &id) < 0) return STEP_ERROR;
    CALL(s, subinterp_interrupt, id, &interrupted);
    CHECK_OUTCOME(s);
    made = API(subinterp_data_new_int)((int64_t)interrupted, &value, NULL);
    return check_made_value(s, made, value);
}

static step_status op_check_imports(step *s) {
    const json_value *modules = arg(s, "modules");
    subinterp_config config;
    const char **names;
    subinterp_data *report = NULL;
    size_t i;
    int rc = 0;
    step_status status;
    if (!modules || modules->type != JSON_ARRAY) return malformed(s, "\"modules\" must be an array of strings");
    for (i = 0; i < modules->len; i++)
        if (modules->u.items[i].type != JSON_STRING) return malformed(s, "\"modules\" must be an array of strings");
    if (arg(s, "config")) {
        rc = config_arg(s, arg(s, "config"), &config);
        if (rc < 0) return STEP_ERROR;
    }
    names = xcalloc(modules->len + 1, sizeof *names);
    for (i = 0; i < modules->len; i++) names[i] = modules->u.items[i].u.string;
    if (rc == 0) CALL(s, subinterp_check_imports, arg(s, "config") ? &config : NULL, names, modules->len, &report);
    free(names);
    status = check_outcome(s, &rc);
    if (status == STEP_PASS && rc) {
        if (!report) status = failed(s, "subinterp_check_imports succeeded with *report NULL");
        else status = check_value(s, "value", want(s, "value"), report);
    }
    API(subinterp_data_free)(report);
    return status;
}

static step_status op_pool_create(step *s) {
    subinterp_pool_options opts;
    subinterp_config config;
    subinterp_data *init_args = NULL;
    subinterp_pool *pool = NULL;
    char *init_source = NULL, *init_callable = NULL;
    int64_t n;
    int rc = 0;
    step_status status = STEP_ERROR;
    const json_value *name = arg(s, "bind");
    subinterp_status st = API(subinterp_pool_options_init)(&opts);
    if (st != SUBINTERP_OK) json_buf_printf(&s->anomaly, "subinterp_pool_options_init failed: %s", status_short_name(st));
    if (!name) return malformed(s, "pool_create needs \"bind\"");
    if (arg(s, "workers")) {
        if (int_value(arg(s, "workers"), 0, UINT32_MAX, &n) < 0) return malformed(s, "\"workers\" must be an integer >= 0");
        opts.workers = (uint32_t)n;
    }
    if (arg(s, "max_queued")) {
        if (int_value(arg(s, "max_queued"), 0, INT64_MAX, &n) < 0) return malformed(s, "\"max_queued\" must be an integer >= 0");
        opts.max_queued = (size_t)n;
    }
    if (arg(s, "max_tasks_per_worker")) {
        if (int_value(arg(s, "max_tasks_per_worker"), 0, INT64_MAX, &n) < 0)
            return malformed(s, "\"max_tasks_per_worker\" must be an integer >= 0");
        opts.max_tasks_per_worker = (uint64_t)n;
    }
    if (arg(s, "config")) {
        rc = config_arg(s, arg(s, "config"), &config);
        if (rc < 0) return STEP_ERROR;
        opts.config = &config;
    }
    if (arg(s, "init_source") && text_arg(s, "init_source", &init_source) < 0) goto done;
    if (arg(s, "init_callable") && text_arg(s, "init_callable", &init_callable) < 0) goto done;
    opts.init_source = init_source;
    opts.init_callable = init_callable;
    if (rc == 0 && arg(s, "init_args")) rc = tuple_of(s, arg(s, "init_args"), "init_args", 0, &init_args);
    if (rc < 0) goto done;
    opts.init_args = init_args;
    if (rc == 0) CALL(s, subinterp_pool_create, &opts, &pool);
    if (s->result.status == SUBINTERP_OK && pool) {
        case_state *cs = s->cs;
        bind_handle(&cs->pools, &cs->n_pools, &cs->cap_pools, name->u.string, pool);
    }
    status = check_outcome(s, &rc);
    if (status == STEP_PASS && rc && !pool) status = failed(s, "subinterp_pool_create succeeded with *pool NULL");
done:
    free(init_source);
    free(init_callable);
    API(subinterp_data_free)(init_args);
    return status;
}

/* callable, args (array: a tuple; absent: NULL) and kwargs of a task. */
static step_status op_pool_submit(step *s) {
    subinterp_pool *pool;
    subinterp_run_options opts;
    subinterp_data *args = NULL, *kwargs = NULL;
    subinterp_future *future = NULL;
    char *callable = NULL;
    double wait;
    int rc;
    step_status status = STEP_ERROR;
    if (pool_arg(s, &pool) < 0 || task_options_arg(s, &opts) < 0 ||
        optional_seconds(s, "wait", SUBINTERP_WAIT_FOREVER, &wait) < 0)
        return STEP_ERROR;
    rc = task_arg(s, &callable, &args, &kwargs);
    if (rc < 0) goto done;
    if (rc == 0) CALL(s, subinterp_pool_submit, pool, callable, args, kwargs, &opts, wait, &future);
    if (s->result.status == SUBINTERP_OK && future) {
        const json_value *name = arg(s, "bind");
        case_state *cs = s->cs;
        bind_handle(&cs->futures, &cs->n_futures, &cs->cap_futures, name ? name->u.string : "", future);
    }
    status = check_outcome(s, &rc);
    if (status == STEP_PASS && rc && !future) status = failed(s, "subinterp_pool_submit succeeded with *future NULL");
done:
    free(callable);
    API(subinterp_data_free)(args);
    API(subinterp_data_free)(kwargs);
    return status;
}

static step_status op_pool_call(step *s) {
    subinterp_pool *pool;
    subinterp_run_options opts;
    subinterp_data *args = NULL, *kwargs = NULL, *result = NULL;
    subinterp_output *output = NULL;
    char *callable = NULL;
    int rc, want_output, capturing;
    step_status status = STEP_ERROR;
    if (pool_arg(s, &pool) < 0 || run_options_arg(s, &opts, &want_output, &capturing) < 0)
        return STEP_ERROR;
    rc = task_arg(s, &callable, &args, &kwargs);
    if (rc < 0) goto done;
    if (rc == 0) CALL(s, subinterp_pool_call, pool, callable, args, kwargs, &opts, &result, want_output ? &output : NULL);
    status = call_checks(s, output, capturing, result);
done:
    free(callable);
    API(subinterp_data_free)(args);
    API(subinterp_data_free)(kwargs);
    API(subinterp_data_free)(result);
    API(subinterp_output_free)(output);
    return status;
}

static step_status op_pool_map(step *s) {
    const json_value *lists = arg(s, "args");
    subinterp_pool *pool;
    subinterp_run_options opts;
    subinterp_data **items = NULL, *arg_lists = NULL, *results = NULL;
    char *callable = NULL;
    size_t i, n = 0;
    int rc = 0, want_output, capturing;
    step_status status = STEP_ERROR;
    if (pool_arg(s, &pool) < 0 || run_options_arg(s, &opts, &want_output, &capturing) < 0)
        return STEP_ERROR;
    if (!lists || lists->type != JSON_ARRAY) return malformed(s, "\"args\" must be an array of argument arrays");
    if (text_arg(s, "callable", &callable) < 0) return STEP_ERROR;
    n = lists->len;
    items = xcalloc(n + 1, sizeof *items);
    for (i = 0; i < n && rc == 0; i++) rc = tuple_of(s, &lists->u.items[i], "args", 0, &items[i]);
    if (rc == 0) {
        subinterp_error *err = NULL;
        subinterp_status st = API(subinterp_data_new_list)((const subinterp_data *const *)items, n, &arg_lists, &err);
        record(s, "subinterp_data_new_list", st, err);
        rc = st == SUBINTERP_OK ? 0 : 1;
    }
    if (rc < 0) goto done;
    if (rc == 0) CALL(s, subinterp_pool_map, pool, callable, arg_lists, &opts, &results);
    status = check_outcome(s, &rc);
    if (status == STEP_PASS && rc) {
        if (!results) status = failed(s, "subinterp_pool_map succeeded with *results NULL");
        else {
            bind_value(s, results);
            status = check_value(s, "value", want(s, "value"), results);
        }
    }
done:
    for (i = 0; i < n; i++) API(subinterp_data_free)(items[i]);
    free(items);
    free(callable);
    API(subinterp_data_free)(arg_lists);
    API(subinterp_data_free)(results);
    return status;
}

static step_status op_pool_shutdown(step *s) {
    subinterp_pool *pool;
    int wait, cancel_pending;
    if (pool_arg(s, &pool) < 0 || bool_arg(s, "wait", 1, &wait) < 0 ||
        bool_arg(s, "cancel_pending", 0, &cancel_pending) < 0)
        return STEP_ERROR;
    CALL(s, subinterp_pool_shutdown, pool, wait, cancel_pending);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static step_status op_pool_check(step *s) {
    subinterp_pool *pool;
    if (pool_arg(s, &pool) < 0) return STEP_ERROR;
    CALL(s, subinterp_pool_check, pool);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

/* expect.KEY: {field: expected, ...} against named fields. */
typedef struct field_value {
    const char *name;
    int64_t value;
    int is_bool;
} field_value;

static step_status check_fields(step *s, const char *key, const field_value *fields, size_t n) {
    const json_value *v = want(s, key);
    size_t i, f;
    if (!v) return STEP_PASS;
    if (v->type != JSON_OBJECT) return malformed(s, "expect.%s must be an object", key);
    for (i = 0; i < v->len; i++) {
        const json_member *m = &v->u.members[i];
        for (f = 0; f < n && strcmp(m->key, fields[f].name) != 0; f++) continue;
        if (f == n) return malformed(s, "expect.%s: unknown field %s", key, m->key);
        if (fields[f].is_bool) CHECK(check_bool(s, m->key, &m->value, (int)fields[f].value));
        else if (m->value.type == JSON_STRING) { /* an id: "$name" */
            int64_t id;
            json_buf why;
            json_buf_init(&why);
            if (value_resolve_id(&m->value, &s->cs->names, &id, &why) < 0) {
                step_status rc = malformed(s, "expect.%s.%s: %s", key, m->key, why.data);
                json_buf_free(&why);
                return rc;
            }
            json_buf_free(&why);
            if (id != fields[f].value)
                return failed(s, "expected %s %lld, got %lld", m->key, (long long)id, (long long)fields[f].value);
        } else CHECK(check_int(s, m->key, &m->value, fields[f].value));
    }
    return STEP_PASS;
}

static step_status op_pool_stats(step *s) {
    subinterp_pool *pool;
    subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
    if (pool_arg(s, &pool) < 0) return STEP_ERROR;
    CALL(s, subinterp_pool_get_stats, pool, &stats);
    CHECK_OUTCOME(s);
    {
        const field_value fields[] = {
            {"workers", stats.workers, 0},           {"live_workers", stats.live_workers, 0},
            {"busy_workers", stats.busy_workers, 0}, {"queued", (int64_t)stats.queued, 0},
            {"submitted", (int64_t)stats.submitted, 0}, {"succeeded", (int64_t)stats.succeeded, 0},
            {"failed", (int64_t)stats.failed, 0},    {"timed_out", (int64_t)stats.timed_out, 0},
            {"cancelled", (int64_t)stats.cancelled, 0}, {"replaced", (int64_t)stats.replaced, 0},
        };
        return check_fields(s, "stats", fields, sizeof fields / sizeof fields[0]);
    }
}

static step_status op_pool_worker(step *s) {
    subinterp_pool *pool;
    subinterp_pool_worker worker = SUBINTERP_POOL_WORKER_INIT;
    int64_t index;
    if (pool_arg(s, &pool) < 0) return STEP_ERROR;
    if (int_value(arg(s, "index"), 0, INT64_MAX, &index) < 0) return malformed(s, "\"index\" must be an integer >= 0");
    CALL(s, subinterp_pool_get_worker, pool, (size_t)index, &worker);
    CHECK_OUTCOME(s);
    bind_id(s, worker.interpreter_id);
    {
        const field_value fields[] = {
            {"alive", worker.alive, 1},        {"busy", worker.busy, 1},
            {"interpreter_id", worker.interpreter_id, 0}, {"tasks", (int64_t)worker.tasks, 0},
            {"failed", (int64_t)worker.failed, 0}, {"replaced", (int64_t)worker.replaced, 0},
        };
        return check_fields(s, "worker", fields, sizeof fields / sizeof fields[0]);
    }
}

/* Shuts a pool down for good: pending tasks cancelled, running ones
 * interrupted (a case may leave one blocked), then waits and frees it. */
static void pool_release(subinterp_pool *pool) {
    subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
    subinterp_error *err = NULL;
    size_t i;
    API(subinterp_pool_shutdown)(pool, 0, 1, &err);
    API(subinterp_error_free)(err);
    err = NULL;
    if (API(subinterp_pool_get_stats)(pool, &stats, &err) == SUBINTERP_OK) {
        for (i = 0; i < stats.workers; i++) {
            subinterp_pool_worker worker = SUBINTERP_POOL_WORKER_INIT;
            if (API(subinterp_pool_get_worker)(pool, i, &worker, NULL) == SUBINTERP_OK && worker.busy &&
                worker.interpreter_id >= 0)
                API(subinterp_interrupt)(worker.interpreter_id, NULL, NULL);
        }
    }
    API(subinterp_error_free)(err);
    API(subinterp_pool_free)(pool); /* shutdown(cancel_pending, wait) */
}

static step_status op_pool_free(step *s) {
    const json_value *v = arg(s, "pool");
    named_handle *h;
    subinterp_pool *pool;
    if (pool_arg(s, &pool) < 0) return STEP_ERROR;
    h = handle_named(s->cs->pools, s->cs->n_pools, v->u.string + 1);
    pool_release(pool);
    h->handle = NULL;
    record(s, "subinterp_pool_free", SUBINTERP_OK, NULL);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static step_status op_future_result(step *s) {
    const subinterp_future *future;
    subinterp_data *result = NULL;
    subinterp_output *output = NULL;
    int ok;
    step_status status;
    if (future_arg(s, &future) < 0) return STEP_ERROR;
    CALL(s, subinterp_future_result, future, &result, want(s, "stdout") || want(s, "stderr") ? &output : NULL);
    status = check_outcome(s, &ok);
    if (status == STEP_PASS) status = check_outputs(s, output, 0);
    if (status == STEP_PASS && ok) {
        if (!result) status = failed(s, "subinterp_future_result succeeded with *result NULL");
        else {
            bind_value(s, result);
            status = check_value(s, "value", want(s, "value"), result);
        }
    }
    API(subinterp_data_free)(result);
    API(subinterp_output_free)(output);
    return status;
}

static step_status op_future_wait(step *s) {
    const subinterp_future *future;
    double timeout;
    if (future_arg(s, &future) < 0 || optional_seconds(s, "timeout", SUBINTERP_WAIT_FOREVER, &timeout) < 0)
        return STEP_ERROR;
    CALL(s, subinterp_future_wait, future, timeout);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

static const char *future_state_name(subinterp_future_state state) {
    switch (state) {
        case SUBINTERP_FUTURE_PENDING: return "pending";
        case SUBINTERP_FUTURE_RUNNING: return "running";
        case SUBINTERP_FUTURE_FINISHED: return "finished";
        case SUBINTERP_FUTURE_CANCELLED: return "cancelled";
    }
    return "(unknown state)";
}

static step_status op_future_state(step *s) {
    const subinterp_future *future;
    subinterp_future_state state = (subinterp_future_state)-1;
    subinterp_data *value = NULL;
    subinterp_status made;
    const char *name;
    if (future_arg(s, &future) < 0) return STEP_ERROR;
    CALL(s, subinterp_future_get_state, future, &state);
    CHECK_OUTCOME(s);
    name = future_state_name(state);
    made = API(subinterp_data_new_str)(name, strlen(name), &value, NULL);
    return check_made_value(s, made, value);
}

static step_status op_future_cancel(step *s) {
    const subinterp_future *future;
    subinterp_data *value = NULL;
    subinterp_status made;
    int cancelled = -1;
    if (future_arg(s, &future) < 0) return STEP_ERROR;
    CALL(s, subinterp_future_cancel, (subinterp_future *)future, &cancelled);
    CHECK_OUTCOME(s);
    if (cancelled != 0 && cancelled != 1) return failed(s, "*cancelled is %d, not 0 or 1", cancelled);
    made = API(subinterp_data_new_bool)(cancelled, &value, NULL);
    return check_made_value(s, made, value);
}

/* At the end of a case: futures dropped, pools shut down and freed. */
static void release_handles(case_state *cs) {
    size_t i;
    for (i = 0; i < cs->n_futures; i++) {
        /* a task still running (a case left it blocked) is stopped first */
        API(subinterp_future_cancel)(cs->futures[i].handle, NULL, NULL);
    }
    for (i = cs->n_pools; i-- > 0;) {
        if (cs->pools[i].handle) pool_release(cs->pools[i].handle);
        free(cs->pools[i].name);
    }
    for (i = 0; i < cs->n_futures; i++) {
        API(subinterp_future_free)(cs->futures[i].handle);
        free(cs->futures[i].name);
    }
    free(cs->pools);
    free(cs->futures);
}

/* ------------------------------------------------------------------------ */
/* The null_pointer op: each (function, param) a call with that pointer NULL */
/* ------------------------------------------------------------------------ */

/* What a NULL-pointer call may need besides its NULL: sample values (built
 * on demand from tagged JSON, freed after), a scratch queue, the step. */
typedef struct np_ctx {
    step *s;
    subinterp_error *err;
    subinterp_error **errp; /* &err, or NULL for the `err` parameter */
    subinterp_data *samples[8];
    size_t n_samples;
    int64_t queue; /* a scratch queue, -1 if none */
    subinterp_pool *pool;     /* a scratch pool (one worker), NULL if none */
    subinterp_future *future; /* a finished scratch future, NULL if none */
} np_ctx;

/* A borrowed sample value; NULL if it could not be built (the call then
 * gets NULL twice, which the case's expectation will show). */
static const subinterp_data *sample(np_ctx *c, const char *tagged_json) {
    json_value *v = json_parse(tagged_json, strlen(tagged_json), NULL);
    subinterp_data *d = NULL;
    call_result r;
    json_buf why;
    json_buf_init(&why);
    call_result_init(&r);
    if (v && c->n_samples < sizeof c->samples / sizeof c->samples[0] &&
        value_build(v, &c->s->cs->names, &d, &r, &why) == 0)
        c->samples[c->n_samples++] = d;
    call_result_clear(&r);
    json_buf_free(&why);
    json_free(v);
    return d;
}

/* A scratch queue with one item, destroyed after the call. */
static int64_t scratch_queue(np_ctx *c) {
    subinterp_error *err = NULL;
    if (c->queue < 0 && API(subinterp_queue_create)(NULL, &c->queue, &err) == SUBINTERP_OK)
        API(subinterp_queue_put)(c->queue, sample(c, "1"), 0.0, &err);
    API(subinterp_error_free)(err);
    return c->queue;
}

/* Objects a NULL-pointer call may create without reporting their id (a NULL
 * id out-parameter that the library accepted): found by listing before and
 * after, and tracked for cleanup. */
typedef struct id_snapshot {
    int64_t *ids;
    size_t n;
} id_snapshot;

static void snapshot(list_function list, id_snapshot *snap) {
    size_t capacity = 0, count = 0;
    subinterp_error *err = NULL;
    snap->ids = NULL;
    snap->n = 0;
    if (list(NULL, 0, &count, &err) == SUBINTERP_OK) {
        capacity = count + 16;
        snap->ids = malloc(capacity * sizeof *snap->ids);
        if (snap->ids && list(snap->ids, capacity, &count, &err) == SUBINTERP_OK && count <= capacity) snap->n = count;
    }
    API(subinterp_error_free)(err);
}

static void track_new(case_state *cs, const id_snapshot *before, list_function list, int queues) {
    id_snapshot after;
    size_t i, j;
    snapshot(list, &after);
    for (i = 0; i < after.n; i++) {
        int seen = 0;
        for (j = 0; j < before->n; j++) seen |= before->ids[j] == after.ids[i];
        if (seen) continue;
        if (queues) hold_of(cs, after.ids[i])->count++;
        else track_interp(cs, after.ids[i]);
    }
    free(after.ids);
}

typedef subinterp_status (*np_call)(np_ctx *c);

#define EMPTY_TUPLE "{\"tuple\": []}"

/* Runtime, configs, interpreters. */
static subinterp_status np_runtime_options_init_opts(np_ctx *c) {
    (void)c;
    return API(subinterp_runtime_options_init)(NULL);
}
static subinterp_status np_runtime_init_opts(np_ctx *c) { return API(subinterp_runtime_init)(NULL, c->errp); }
static subinterp_status np_config_init_config(np_ctx *c) {
    (void)c;
    return API(subinterp_config_init)(NULL, SUBINTERP_CONFIG_ISOLATED);
}
static subinterp_status np_config_validate_config(np_ctx *c) { return API(subinterp_config_validate)(NULL, c->errp); }
static subinterp_status np_create_config(np_ctx *c) {
    int64_t id = -1;
    subinterp_status st = API(subinterp_create)(NULL, &id, c->errp);
    if (st == SUBINTERP_OK) track_interp(c->s->cs, id);
    return st;
}
static subinterp_status np_create_id(np_ctx *c) {
    id_snapshot before;
    subinterp_status st;
    snapshot(list_interps, &before);
    st = API(subinterp_create)(NULL, NULL, c->errp);
    if (st == SUBINTERP_OK) track_new(c->s->cs, &before, list_interps, 0);
    free(before.ids);
    return st;
}
static subinterp_status np_create_err(np_ctx *c) { return np_create_config(c); /* c->errp is NULL */ }
static subinterp_status np_destroy_err(np_ctx *c) {
    (void)c;
    return API(subinterp_destroy)(-1, NULL);
}
static subinterp_status np_list_count(np_ctx *c) { return API(subinterp_list)(NULL, 0, NULL, c->errp); }
static subinterp_status np_list_ids(np_ctx *c) {
    size_t n;
    return API(subinterp_list)(NULL, 1, &n, c->errp);
}
static subinterp_status np_main_id_id(np_ctx *c) { return API(subinterp_main_id)(NULL, c->errp); }
static subinterp_status np_main_id_err(np_ctx *c) {
    int64_t id;
    (void)c;
    return API(subinterp_main_id)(&id, NULL);
}
static subinterp_status np_current_id_id(np_ctx *c) { return API(subinterp_current_id)(NULL, c->errp); }
static subinterp_status np_is_running_running(np_ctx *c) { return API(subinterp_is_running)(0, NULL, c->errp); }
static subinterp_status np_get_config_config(np_ctx *c) { return API(subinterp_get_config)(0, NULL, c->errp); }

/* Running code, in the main interpreter. */
static subinterp_status np_run_options_init_opts(np_ctx *c) {
    (void)c;
    return API(subinterp_run_options_init)(NULL);
}
static subinterp_status np_exec_source(np_ctx *c) { return API(subinterp_exec)(0, NULL, NULL, NULL, c->errp); }
static subinterp_status np_exec_opts(np_ctx *c) { return API(subinterp_exec)(0, "pass", NULL, NULL, c->errp); }
static subinterp_status np_exec_output(np_ctx *c) {
    subinterp_run_options opts;
    API(subinterp_run_options_init)(&opts);
    opts.flags = SUBINTERP_RUN_CAPTURE_STDOUT;
    return API(subinterp_exec)(0, "pass", &opts, NULL, c->errp);
}
/* A call whose one NULL is chosen by `which`; a result is freed. */
static subinterp_status call_with_null(np_ctx *c, const char *which) {
    subinterp_run_options opts;
    subinterp_output *output = NULL;
    subinterp_data *result = NULL;
    subinterp_status st;
    const char *callable = strcmp(which, "callable") == 0 ? NULL : "int";
    API(subinterp_run_options_init)(&opts);
    opts.flags = strcmp(which, "output") == 0 ? SUBINTERP_RUN_CAPTURE_STDOUT : 0;
    st = API(subinterp_call)(0, callable, NULL, NULL, strcmp(which, "opts") == 0 ? NULL : &opts,
                             strcmp(which, "result") == 0 ? NULL : &result,
                             strcmp(which, "output") == 0 ? NULL : &output, c->errp);
    API(subinterp_data_free)(result);
    API(subinterp_output_free)(output);
    return st;
}
static subinterp_status np_call_callable(np_ctx *c) { return call_with_null(c, "callable"); }
static subinterp_status np_call_args(np_ctx *c) { return call_with_null(c, "args"); }
static subinterp_status np_call_kwargs(np_ctx *c) { return call_with_null(c, "kwargs"); }
static subinterp_status np_call_opts(np_ctx *c) { return call_with_null(c, "opts"); }
static subinterp_status np_call_result(np_ctx *c) { return call_with_null(c, "result"); }
static subinterp_status np_call_output(np_ctx *c) { return call_with_null(c, "output"); }
static subinterp_status np_prepare_main_names(np_ctx *c) { return API(subinterp_prepare_main)(0, NULL, c->errp); }

/* Constructors: a NULL `out`, or a NULL input with a non-zero length. */
static subinterp_status np_new_none_out(np_ctx *c) { return API(subinterp_data_new_none)(NULL, c->errp); }
static subinterp_status np_new_bool_out(np_ctx *c) { return API(subinterp_data_new_bool)(1, NULL, c->errp); }
static subinterp_status np_new_int_out(np_ctx *c) { return API(subinterp_data_new_int)(1, NULL, c->errp); }
static subinterp_status np_new_int_bytes_out(np_ctx *c) {
    return API(subinterp_data_new_int_bytes)("\x01", 1, NULL, c->errp);
}
static subinterp_status np_new_float_out(np_ctx *c) { return API(subinterp_data_new_float)(1.5, NULL, c->errp); }
static subinterp_status np_new_str_out(np_ctx *c) { return API(subinterp_data_new_str)("a", 1, NULL, c->errp); }
static subinterp_status np_new_bytes_out(np_ctx *c) { return API(subinterp_data_new_bytes)("a", 1, NULL, c->errp); }
static subinterp_status np_new_pickled_out(np_ctx *c) {
    return API(subinterp_data_new_pickled)("N.", 2, NULL, c->errp);
}
static subinterp_status np_new_interpreter_out(np_ctx *c) {
    return API(subinterp_data_new_interpreter)(0, NULL, c->errp);
}
static subinterp_status np_new_queue_out(np_ctx *c) {
    return API(subinterp_data_new_queue)(scratch_queue(c), NULL, c->errp);
}
static subinterp_status np_new_buffer_out(np_ctx *c) {
    void *m;
    return API(subinterp_data_new_buffer)(1, &m, NULL, c->errp);
}
static subinterp_status np_new_buffer_external_out(np_ctx *c) {
    static char memory[1];
    return API(subinterp_data_new_buffer_external)(memory, 1, 1, NULL, NULL, NULL, c->errp);
}
/* Any value a NULL-input constructor returned anyway is dropped. */
static subinterp_status dropped(subinterp_status st, subinterp_data *out) {
    API(subinterp_data_free)(out);
    return st;
}
static subinterp_status np_new_int_bytes_bytes(np_ctx *c) {
    subinterp_data *o = NULL;
    return dropped(API(subinterp_data_new_int_bytes)(NULL, 1, &o, c->errp), o);
}
static subinterp_status np_new_str_utf8(np_ctx *c) {
    subinterp_data *o = NULL;
    return dropped(API(subinterp_data_new_str)(NULL, 1, &o, c->errp), o);
}
static subinterp_status np_new_bytes_bytes(np_ctx *c) {
    subinterp_data *o = NULL;
    return dropped(API(subinterp_data_new_bytes)(NULL, 1, &o, c->errp), o);
}
static subinterp_status np_new_pickled_bytes(np_ctx *c) {
    subinterp_data *o = NULL;
    return dropped(API(subinterp_data_new_pickled)(NULL, 1, &o, c->errp), o);
}
static subinterp_status np_new_buffer_data(np_ctx *c) {
    subinterp_data *o = NULL;
    return dropped(API(subinterp_data_new_buffer)(1, NULL, &o, c->errp), o);
}
static subinterp_status np_new_buffer_external_data(np_ctx *c) {
    subinterp_data *o = NULL;
    return dropped(API(subinterp_data_new_buffer_external)(NULL, 1, 1, NULL, NULL, &o, c->errp), o);
}
/* Containers of one None. */
static subinterp_status container_with_null(np_ctx *c, int kind, const char *which) {
    const subinterp_data *one[1];
    subinterp_data *o = NULL;
    subinterp_data **out = strcmp(which, "out") == 0 ? NULL : &o;
    const subinterp_data *const *items = strcmp(which, "items") == 0 || strcmp(which, "keys") == 0 ? NULL : one;
    const subinterp_data *const *values = strcmp(which, "values") == 0 ? NULL : one;
    subinterp_status st;
    one[0] = sample(c, "null");
    if (kind == SUBINTERP_DATA_TUPLE) st = API(subinterp_data_new_tuple)(items, 1, out, c->errp);
    else if (kind == SUBINTERP_DATA_LIST) st = API(subinterp_data_new_list)(items, 1, out, c->errp);
    else st = API(subinterp_data_new_dict)(items, values, 1, out, c->errp);
    return dropped(st, o);
}
static subinterp_status np_new_tuple_out(np_ctx *c) { return container_with_null(c, SUBINTERP_DATA_TUPLE, "out"); }
static subinterp_status np_new_tuple_items(np_ctx *c) {
    return container_with_null(c, SUBINTERP_DATA_TUPLE, "items");
}
static subinterp_status np_new_list_out(np_ctx *c) { return container_with_null(c, SUBINTERP_DATA_LIST, "out"); }
static subinterp_status np_new_list_items(np_ctx *c) { return container_with_null(c, SUBINTERP_DATA_LIST, "items"); }
static subinterp_status np_new_dict_out(np_ctx *c) { return container_with_null(c, SUBINTERP_DATA_DICT, "out"); }
static subinterp_status np_new_dict_keys(np_ctx *c) { return container_with_null(c, SUBINTERP_DATA_DICT, "keys"); }
static subinterp_status np_new_dict_values(np_ctx *c) {
    return container_with_null(c, SUBINTERP_DATA_DICT, "values");
}

/* Getters: a NULL out-parameter on a value of the right kind, or NULL data. */
static subinterp_status np_get_bool_value(np_ctx *c) {
    return API(subinterp_data_get_bool)(sample(c, "true"), NULL, c->errp);
}
static subinterp_status np_get_bool_data(np_ctx *c) {
    int v;
    return API(subinterp_data_get_bool)(NULL, &v, c->errp);
}
static subinterp_status np_get_int_value(np_ctx *c) {
    return API(subinterp_data_get_int)(sample(c, "1"), NULL, c->errp);
}
static subinterp_status np_get_int_data(np_ctx *c) {
    int64_t v;
    return API(subinterp_data_get_int)(NULL, &v, c->errp);
}
static subinterp_status np_get_int_bytes_len(np_ctx *c) {
    return API(subinterp_data_get_int_bytes)(sample(c, "1"), NULL, 0, NULL, c->errp);
}
static subinterp_status np_get_int_bytes_bytes(np_ctx *c) {
    size_t n;
    return API(subinterp_data_get_int_bytes)(sample(c, "1"), NULL, 8, &n, c->errp);
}
static subinterp_status np_get_int_bytes_data(np_ctx *c) {
    size_t n;
    return API(subinterp_data_get_int_bytes)(NULL, NULL, 0, &n, c->errp);
}
static subinterp_status np_get_float_value(np_ctx *c) {
    return API(subinterp_data_get_float)(sample(c, "{\"float\": 1.5}"), NULL, c->errp);
}
static subinterp_status np_get_float_data(np_ctx *c) {
    double v;
    return API(subinterp_data_get_float)(NULL, &v, c->errp);
}
static subinterp_status np_get_str_utf8(np_ctx *c) {
    size_t n;
    return API(subinterp_data_get_str)(sample(c, "\"a\""), NULL, &n, c->errp);
}
static subinterp_status np_get_str_len(np_ctx *c) {
    const char *t;
    return API(subinterp_data_get_str)(sample(c, "\"a\""), &t, NULL, c->errp);
}
static subinterp_status np_get_str_data(np_ctx *c) {
    const char *t;
    size_t n;
    return API(subinterp_data_get_str)(NULL, &t, &n, c->errp);
}
static subinterp_status np_get_bytes_bytes(np_ctx *c) {
    size_t n;
    return API(subinterp_data_get_bytes)(sample(c, "{\"bytes\": \"00\"}"), NULL, &n, c->errp);
}
static subinterp_status np_get_bytes_len(np_ctx *c) {
    const void *b;
    return API(subinterp_data_get_bytes)(sample(c, "{\"bytes\": \"00\"}"), &b, NULL, c->errp);
}
static subinterp_status np_get_bytes_data(np_ctx *c) {
    const void *b;
    size_t n;
    return API(subinterp_data_get_bytes)(NULL, &b, &n, c->errp);
}
static subinterp_status np_get_buffer_memory(np_ctx *c) {
    size_t n;
    int r;
    return API(subinterp_data_get_buffer)(sample(c, "{\"buffer\": \"00\"}"), NULL, &n, &r, c->errp);
}
static subinterp_status np_get_buffer_size(np_ctx *c) {
    void *m;
    int r;
    return API(subinterp_data_get_buffer)(sample(c, "{\"buffer\": \"00\"}"), &m, NULL, &r, c->errp);
}
static subinterp_status np_get_buffer_readonly(np_ctx *c) {
    void *m;
    size_t n;
    return API(subinterp_data_get_buffer)(sample(c, "{\"buffer\": \"00\"}"), &m, &n, NULL, c->errp);
}
static subinterp_status np_get_buffer_data(np_ctx *c) {
    void *m;
    size_t n;
    int r;
    return API(subinterp_data_get_buffer)(NULL, &m, &n, &r, c->errp);
}
static subinterp_status np_get_pickled_bytes(np_ctx *c) {
    size_t n;
    return API(subinterp_data_get_pickled)(sample(c, "{\"pickled\": \"4e2e\"}"), NULL, &n, c->errp);
}
static subinterp_status np_get_pickled_len(np_ctx *c) {
    const void *b;
    return API(subinterp_data_get_pickled)(sample(c, "{\"pickled\": \"4e2e\"}"), &b, NULL, c->errp);
}
static subinterp_status np_get_pickled_data(np_ctx *c) {
    const void *b;
    size_t n;
    return API(subinterp_data_get_pickled)(NULL, &b, &n, c->errp);
}
static subinterp_status np_get_queue_id(np_ctx *c) {
    const subinterp_data *q;
    char text[64];
    snprintf(text, sizeof text, "{\"queue\": %lld}", (long long)scratch_queue(c));
    q = sample(c, text);
    return API(subinterp_data_get_queue)(q, NULL, c->errp);
}
static subinterp_status np_get_queue_data(np_ctx *c) {
    int64_t id;
    return API(subinterp_data_get_queue)(NULL, &id, c->errp);
}
static subinterp_status np_get_interpreter_id(np_ctx *c) {
    return API(subinterp_data_get_interpreter)(sample(c, "{\"interpreter\": 0}"), NULL, c->errp);
}
static subinterp_status np_get_interpreter_data(np_ctx *c) {
    int64_t id;
    return API(subinterp_data_get_interpreter)(NULL, &id, c->errp);
}
static subinterp_status np_get_len_len(np_ctx *c) {
    return API(subinterp_data_get_len)(sample(c, EMPTY_TUPLE), NULL, c->errp);
}
static subinterp_status np_get_len_data(np_ctx *c) {
    size_t n;
    return API(subinterp_data_get_len)(NULL, &n, c->errp);
}
static subinterp_status np_get_item_item(np_ctx *c) {
    return API(subinterp_data_get_item)(sample(c, "{\"tuple\": [1]}"), 0, NULL, c->errp);
}
static subinterp_status np_get_item_data(np_ctx *c) {
    const subinterp_data *i;
    return API(subinterp_data_get_item)(NULL, 0, &i, c->errp);
}
static subinterp_status np_get_entry_key(np_ctx *c) {
    const subinterp_data *v;
    return API(subinterp_data_get_entry)(sample(c, "{\"dict\": [[1, 2]]}"), 0, NULL, &v, c->errp);
}
static subinterp_status np_get_entry_value(np_ctx *c) {
    const subinterp_data *k;
    return API(subinterp_data_get_entry)(sample(c, "{\"dict\": [[1, 2]]}"), 0, &k, NULL, c->errp);
}
static subinterp_status np_get_entry_data(np_ctx *c) {
    const subinterp_data *k, *v;
    return API(subinterp_data_get_entry)(NULL, 0, &k, &v, c->errp);
}
static subinterp_status np_repr_repr(np_ctx *c) { return API(subinterp_data_repr)(sample(c, "1"), NULL, c->errp); }
static subinterp_status np_repr_data(np_ctx *c) {
    char *repr = NULL;
    subinterp_status st = API(subinterp_data_repr)(NULL, &repr, c->errp);
    API(subinterp_free)(repr);
    return st;
}

/* Queues. */
static subinterp_status np_queue_options_init_opts(np_ctx *c) {
    (void)c;
    return API(subinterp_queue_options_init)(NULL);
}
static subinterp_status np_queue_create_opts(np_ctx *c) {
    int64_t id = -1;
    subinterp_status st = API(subinterp_queue_create)(NULL, &id, c->errp);
    if (st == SUBINTERP_OK) hold_of(c->s->cs, id)->count++;
    return st;
}
static subinterp_status np_queue_create_id(np_ctx *c) {
    id_snapshot before;
    subinterp_status st;
    snapshot(list_queues, &before);
    st = API(subinterp_queue_create)(NULL, NULL, c->errp);
    if (st == SUBINTERP_OK) track_new(c->s->cs, &before, list_queues, 1);
    free(before.ids);
    return st;
}
static subinterp_status np_queue_put_item(np_ctx *c) {
    return API(subinterp_queue_put)(scratch_queue(c), NULL, 0.0, c->errp);
}
static subinterp_status np_queue_get_item(np_ctx *c) {
    return API(subinterp_queue_get)(scratch_queue(c), 0.0, NULL, c->errp);
}
static subinterp_status np_queue_size_size(np_ctx *c) {
    return API(subinterp_queue_size)(scratch_queue(c), NULL, c->errp);
}
static subinterp_status np_queue_get_info_info(np_ctx *c) {
    return API(subinterp_queue_get_info)(scratch_queue(c), NULL, c->errp);
}
static subinterp_status np_queue_list_count(np_ctx *c) { return API(subinterp_queue_list)(NULL, 0, NULL, c->errp); }
static subinterp_status np_queue_list_ids(np_ctx *c) {
    size_t n;
    return API(subinterp_queue_list)(NULL, 1, &n, c->errp);
}


/* Deadlines, interrupts, import checks, pools and futures. */
static subinterp_pool *scratch_pool(np_ctx *c) {
    subinterp_pool_options opts;
    if (c->pool) return c->pool;
    API(subinterp_pool_options_init)(&opts);
    opts.workers = 1;
    API(subinterp_pool_create)(&opts, &c->pool, NULL);
    return c->pool;
}
static subinterp_future *scratch_future(np_ctx *c) {
    if (c->future || !scratch_pool(c)) return c->future;
    if (API(subinterp_pool_submit)(c->pool, "int", NULL, NULL, NULL, SUBINTERP_WAIT_FOREVER, &c->future, NULL) ==
        SUBINTERP_OK)
        API(subinterp_future_wait)(c->future, SUBINTERP_WAIT_FOREVER, NULL);
    return c->future;
}
static subinterp_status np_interrupt_interrupted(np_ctx *c) { return API(subinterp_interrupt)(0, NULL, c->errp); }
static subinterp_status np_check_imports_modules(np_ctx *c) {
    subinterp_data *report = NULL;
    subinterp_status st = API(subinterp_check_imports)(NULL, NULL, 1, &report, c->errp);
    API(subinterp_data_free)(report);
    return st;
}
static subinterp_status np_check_imports_report(np_ctx *c) {
    const char *modules[] = {"math"};
    return API(subinterp_check_imports)(NULL, modules, 1, NULL, c->errp);
}
static subinterp_status np_check_imports_config(np_ctx *c) {
    const char *modules[] = {"math"};
    subinterp_data *report = NULL;
    subinterp_status st = API(subinterp_check_imports)(NULL, modules, 1, &report, c->errp);
    API(subinterp_data_free)(report);
    return st;
}
static subinterp_status np_pool_options_init_opts(np_ctx *c) {
    (void)c;
    return API(subinterp_pool_options_init)(NULL);
}
static subinterp_status np_pool_create_opts(np_ctx *c) {
    subinterp_pool *pool = NULL;
    subinterp_status st = API(subinterp_pool_create)(NULL, &pool, c->errp);
    API(subinterp_pool_free)(pool);
    return st;
}
static subinterp_status np_pool_create_pool(np_ctx *c) { return API(subinterp_pool_create)(NULL, NULL, c->errp); }
static subinterp_status submit_with_null(np_ctx *c, const char *which) {
    subinterp_future *future = NULL;
    subinterp_run_options opts;
    subinterp_status st;
    API(subinterp_run_options_init)(&opts);
#define NP_IS(name) (strcmp(which, name) == 0)
    st = API(subinterp_pool_submit)(NP_IS("pool") ? NULL : scratch_pool(c), NP_IS("callable") ? NULL : "len",
                                    NP_IS("args") ? NULL : sample(c, "{\"tuple\": [{\"list\": [1, 2]}]}"),
                                    NP_IS("kwargs") ? NULL : sample(c, "{\"dict\": []}"), NP_IS("opts") ? NULL : &opts,
                                    SUBINTERP_WAIT_FOREVER, NP_IS("future") ? NULL : &future, c->errp);
#undef NP_IS
    if (future) API(subinterp_future_wait)(future, SUBINTERP_WAIT_FOREVER, NULL);
    API(subinterp_future_free)(future);
    return st;
}
static subinterp_status np_pool_submit_pool(np_ctx *c) { return submit_with_null(c, "pool"); }
static subinterp_status np_pool_submit_callable(np_ctx *c) { return submit_with_null(c, "callable"); }
static subinterp_status np_pool_submit_args(np_ctx *c) { return submit_with_null(c, "args"); }
static subinterp_status np_pool_submit_kwargs(np_ctx *c) { return submit_with_null(c, "kwargs"); }
static subinterp_status np_pool_submit_opts(np_ctx *c) { return submit_with_null(c, "opts"); }
static subinterp_status np_pool_submit_future(np_ctx *c) { return submit_with_null(c, "future"); }
static subinterp_status pool_call_with_null(np_ctx *c, const char *which) {
    subinterp_data *result = NULL;
    subinterp_output *output = NULL;
    subinterp_status st =
        API(subinterp_pool_call)(strcmp(which, "pool") == 0 ? NULL : scratch_pool(c),
                                 strcmp(which, "callable") == 0 ? NULL : "len", sample(c, "{\"tuple\": [{\"list\": [1, 2]}]}"), NULL, NULL,
                                 strcmp(which, "result") == 0 ? NULL : &result,
                                 strcmp(which, "output") == 0 ? NULL : &output, c->errp);
    API(subinterp_data_free)(result);
    API(subinterp_output_free)(output);
    return st;
}
static subinterp_status np_pool_call_pool(np_ctx *c) { return pool_call_with_null(c, "pool"); }
static subinterp_status np_pool_call_callable(np_ctx *c) { return pool_call_with_null(c, "callable"); }
static subinterp_status np_pool_call_result(np_ctx *c) { return pool_call_with_null(c, "result"); }
static subinterp_status np_pool_call_output(np_ctx *c) { return pool_call_with_null(c, "output"); }
static subinterp_status pool_map_with_null(np_ctx *c, const char *which) {
    subinterp_data *results = NULL;
    subinterp_status st = API(subinterp_pool_map)(
        strcmp(which, "pool") == 0 ? NULL : scratch_pool(c), strcmp(which, "callable") == 0 ? NULL : "len",
        strcmp(which, "arg_lists") == 0 ? NULL : sample(c, "{\"list\": [{\"tuple\": [{\"list\": [1]}]}]}"), NULL,
        strcmp(which, "results") == 0 ? NULL : &results, c->errp);
    API(subinterp_data_free)(results);
    return st;
}
static subinterp_status np_pool_map_pool(np_ctx *c) { return pool_map_with_null(c, "pool"); }
static subinterp_status np_pool_map_callable(np_ctx *c) { return pool_map_with_null(c, "callable"); }
static subinterp_status np_pool_map_arg_lists(np_ctx *c) { return pool_map_with_null(c, "arg_lists"); }
static subinterp_status np_pool_map_opts(np_ctx *c) { return pool_map_with_null(c, "opts"); }
static subinterp_status np_pool_map_results(np_ctx *c) { return pool_map_with_null(c, "results"); }
static subinterp_status np_pool_shutdown_pool(np_ctx *c) { return API(subinterp_pool_shutdown)(NULL, 1, 1, c->errp); }
static subinterp_status np_pool_check_pool(np_ctx *c) { return API(subinterp_pool_check)(NULL, c->errp); }
static subinterp_status np_pool_get_stats_pool(np_ctx *c) {
    subinterp_pool_stats stats = SUBINTERP_POOL_STATS_INIT;
    return API(subinterp_pool_get_stats)(NULL, &stats, c->errp);
}
static subinterp_status np_pool_get_stats_stats(np_ctx *c) {
    return API(subinterp_pool_get_stats)(scratch_pool(c), NULL, c->errp);
}
static subinterp_status np_pool_get_worker_pool(np_ctx *c) {
    subinterp_pool_worker worker = SUBINTERP_POOL_WORKER_INIT;
    return API(subinterp_pool_get_worker)(NULL, 0, &worker, c->errp);
}
static subinterp_status np_pool_get_worker_worker(np_ctx *c) {
    return API(subinterp_pool_get_worker)(scratch_pool(c), 0, NULL, c->errp);
}
static subinterp_status np_pool_free_pool(np_ctx *c) {
    (void)c;
    API(subinterp_pool_free)(NULL);
    return SUBINTERP_OK;
}
static subinterp_status np_future_get_state_future(np_ctx *c) {
    subinterp_future_state state;
    return API(subinterp_future_get_state)(NULL, &state, c->errp);
}
static subinterp_status np_future_get_state_state(np_ctx *c) {
    return API(subinterp_future_get_state)(scratch_future(c), NULL, c->errp);
}
static subinterp_status np_future_wait_future(np_ctx *c) { return API(subinterp_future_wait)(NULL, 0.0, c->errp); }
static subinterp_status np_future_result_future(np_ctx *c) {
    subinterp_data *result = NULL;
    subinterp_status st = API(subinterp_future_result)(NULL, &result, NULL, c->errp);
    API(subinterp_data_free)(result);
    return st;
}
static subinterp_status np_future_result_result(np_ctx *c) {
    return API(subinterp_future_result)(scratch_future(c), NULL, NULL, c->errp);
}
static subinterp_status np_future_result_output(np_ctx *c) {
    subinterp_data *result = NULL;
    subinterp_status st = API(subinterp_future_result)(scratch_future(c), &result, NULL, c->errp);
    API(subinterp_data_free)(result);
    return st;
}
static subinterp_status np_future_cancel_future(np_ctx *c) { return API(subinterp_future_cancel)(NULL, NULL, c->errp); }
static subinterp_status np_future_cancel_cancelled(np_ctx *c) {
    return API(subinterp_future_cancel)(scratch_future(c), NULL, c->errp);
}
static void np_ignore_done(void *context, subinterp_future *future) {
    (void)context;
    (void)future;
}
static subinterp_status np_future_on_done_future(np_ctx *c) {
    return API(subinterp_future_on_done)(NULL, np_ignore_done, NULL, c->errp);
}
static subinterp_status np_future_on_done_callback(np_ctx *c) {
    return API(subinterp_future_on_done)(scratch_future(c), NULL, NULL, c->errp);
}
static subinterp_status np_future_free_future(np_ctx *c) {
    (void)c;
    API(subinterp_future_free)(NULL);
    return SUBINTERP_OK;
}

static const struct {
    const char *function;
    const char *param;
    np_call call;
} kNullPointerCalls[] = {
    {"subinterp_runtime_options_init", "opts", np_runtime_options_init_opts},
    {"subinterp_runtime_init", "opts", np_runtime_init_opts},
    {"subinterp_config_init", "config", np_config_init_config},
    {"subinterp_config_validate", "config", np_config_validate_config},
    {"subinterp_create", "config", np_create_config},
    {"subinterp_create", "id", np_create_id},
    {"subinterp_create", "err", np_create_err},
    {"subinterp_destroy", "err", np_destroy_err},
    {"subinterp_list", "count", np_list_count},
    {"subinterp_list", "ids", np_list_ids},
    {"subinterp_main_id", "id", np_main_id_id},
    {"subinterp_main_id", "err", np_main_id_err},
    {"subinterp_current_id", "id", np_current_id_id},
    {"subinterp_is_running", "running", np_is_running_running},
    {"subinterp_get_config", "config", np_get_config_config},
    {"subinterp_run_options_init", "opts", np_run_options_init_opts},
    {"subinterp_exec", "source", np_exec_source},
    {"subinterp_exec", "opts", np_exec_opts},
    {"subinterp_exec", "output", np_exec_output},
    {"subinterp_call", "callable", np_call_callable},
    {"subinterp_call", "args", np_call_args},
    {"subinterp_call", "kwargs", np_call_kwargs},
    {"subinterp_call", "opts", np_call_opts},
    {"subinterp_call", "result", np_call_result},
    {"subinterp_call", "output", np_call_output},
    {"subinterp_prepare_main", "names", np_prepare_main_names},
    {"subinterp_data_new_none", "out", np_new_none_out},
    {"subinterp_data_new_bool", "out", np_new_bool_out},
    {"subinterp_data_new_int", "out", np_new_int_out},
    {"subinterp_data_new_int_bytes", "out", np_new_int_bytes_out},
    {"subinterp_data_new_int_bytes", "bytes", np_new_int_bytes_bytes},
    {"subinterp_data_new_float", "out", np_new_float_out},
    {"subinterp_data_new_str", "out", np_new_str_out},
    {"subinterp_data_new_str", "utf8", np_new_str_utf8},
    {"subinterp_data_new_bytes", "out", np_new_bytes_out},
    {"subinterp_data_new_bytes", "bytes", np_new_bytes_bytes},
    {"subinterp_data_new_tuple", "out", np_new_tuple_out},
    {"subinterp_data_new_tuple", "items", np_new_tuple_items},
    {"subinterp_data_new_list", "out", np_new_list_out},
    {"subinterp_data_new_list", "items", np_new_list_items},
    {"subinterp_data_new_dict", "out", np_new_dict_out},
    {"subinterp_data_new_dict", "keys", np_new_dict_keys},
    {"subinterp_data_new_dict", "values", np_new_dict_values},
    {"subinterp_data_new_buffer", "out", np_new_buffer_out},
    {"subinterp_data_new_buffer", "data", np_new_buffer_data},
    {"subinterp_data_new_buffer_external", "out", np_new_buffer_external_out},
    {"subinterp_data_new_buffer_external", "data", np_new_buffer_external_data},
    {"subinterp_data_new_pickled", "out", np_new_pickled_out},
    {"subinterp_data_new_pickled", "bytes", np_new_pickled_bytes},
    {"subinterp_data_new_interpreter", "out", np_new_interpreter_out},
    {"subinterp_data_new_queue", "out", np_new_queue_out},
    {"subinterp_data_get_bool", "value", np_get_bool_value},
    {"subinterp_data_get_bool", "data", np_get_bool_data},
    {"subinterp_data_get_int", "value", np_get_int_value},
    {"subinterp_data_get_int", "data", np_get_int_data},
    {"subinterp_data_get_int_bytes", "len", np_get_int_bytes_len},
    {"subinterp_data_get_int_bytes", "bytes", np_get_int_bytes_bytes},
    {"subinterp_data_get_int_bytes", "data", np_get_int_bytes_data},
    {"subinterp_data_get_float", "value", np_get_float_value},
    {"subinterp_data_get_float", "data", np_get_float_data},
    {"subinterp_data_get_str", "utf8", np_get_str_utf8},
    {"subinterp_data_get_str", "len", np_get_str_len},
    {"subinterp_data_get_str", "data", np_get_str_data},
    {"subinterp_data_get_bytes", "bytes", np_get_bytes_bytes},
    {"subinterp_data_get_bytes", "len", np_get_bytes_len},
    {"subinterp_data_get_bytes", "data", np_get_bytes_data},
    {"subinterp_data_get_buffer", "memory", np_get_buffer_memory},
    {"subinterp_data_get_buffer", "size", np_get_buffer_size},
    {"subinterp_data_get_buffer", "readonly", np_get_buffer_readonly},
    {"subinterp_data_get_buffer", "data", np_get_buffer_data},
    {"subinterp_data_get_pickled", "bytes", np_get_pickled_bytes},
    {"subinterp_data_get_pickled", "len", np_get_pickled_len},
    {"subinterp_data_get_pickled", "data", np_get_pickled_data},
    {"subinterp_data_get_queue", "id", np_get_queue_id},
    {"subinterp_data_get_queue", "data", np_get_queue_data},
    {"subinterp_data_get_interpreter", "id", np_get_interpreter_id},
    {"subinterp_data_get_interpreter", "data", np_get_interpreter_data},
    {"subinterp_data_get_len", "len", np_get_len_len},
    {"subinterp_data_get_len", "data", np_get_len_data},
    {"subinterp_data_get_item", "item", np_get_item_item},
    {"subinterp_data_get_item", "data", np_get_item_data},
    {"subinterp_data_get_entry", "key", np_get_entry_key},
    {"subinterp_data_get_entry", "value", np_get_entry_value},
    {"subinterp_data_get_entry", "data", np_get_entry_data},
    {"subinterp_data_repr", "repr", np_repr_repr},
    {"subinterp_data_repr", "data", np_repr_data},
    {"subinterp_queue_options_init", "opts", np_queue_options_init_opts},
    {"subinterp_queue_create", "opts", np_queue_create_opts},
    {"subinterp_queue_create", "id", np_queue_create_id},
    {"subinterp_queue_put", "item", np_queue_put_item},
    {"subinterp_queue_get", "item", np_queue_get_item},
    {"subinterp_queue_size", "size", np_queue_size_size},
    {"subinterp_queue_get_info", "info", np_queue_get_info_info},
    {"subinterp_queue_list", "count", np_queue_list_count},
    {"subinterp_queue_list", "ids", np_queue_list_ids},
    {"subinterp_interrupt", "interrupted", np_interrupt_interrupted},
    {"subinterp_check_imports", "config", np_check_imports_config},
    {"subinterp_check_imports", "modules", np_check_imports_modules},
    {"subinterp_check_imports", "report", np_check_imports_report},
    {"subinterp_pool_options_init", "opts", np_pool_options_init_opts},
    {"subinterp_pool_create", "opts", np_pool_create_opts},
    {"subinterp_pool_create", "pool", np_pool_create_pool},
    {"subinterp_pool_submit", "pool", np_pool_submit_pool},
    {"subinterp_pool_submit", "callable", np_pool_submit_callable},
    {"subinterp_pool_submit", "args", np_pool_submit_args},
    {"subinterp_pool_submit", "kwargs", np_pool_submit_kwargs},
    {"subinterp_pool_submit", "opts", np_pool_submit_opts},
    {"subinterp_pool_submit", "future", np_pool_submit_future},
    {"subinterp_pool_call", "pool", np_pool_call_pool},
    {"subinterp_pool_call", "callable", np_pool_call_callable},
    {"subinterp_pool_call", "result", np_pool_call_result},
    {"subinterp_pool_call", "output", np_pool_call_output},
    {"subinterp_pool_map", "pool", np_pool_map_pool},
    {"subinterp_pool_map", "callable", np_pool_map_callable},
    {"subinterp_pool_map", "arg_lists", np_pool_map_arg_lists},
    {"subinterp_pool_map", "opts", np_pool_map_opts},
    {"subinterp_pool_map", "results", np_pool_map_results},
    {"subinterp_pool_shutdown", "pool", np_pool_shutdown_pool},
    {"subinterp_pool_check", "pool", np_pool_check_pool},
    {"subinterp_pool_get_stats", "pool", np_pool_get_stats_pool},
    {"subinterp_pool_get_stats", "stats", np_pool_get_stats_stats},
    {"subinterp_pool_get_worker", "pool", np_pool_get_worker_pool},
    {"subinterp_pool_get_worker", "worker", np_pool_get_worker_worker},
    {"subinterp_pool_free", "pool", np_pool_free_pool},
    {"subinterp_future_get_state", "future", np_future_get_state_future},
    {"subinterp_future_get_state", "state", np_future_get_state_state},
    {"subinterp_future_wait", "future", np_future_wait_future},
    {"subinterp_future_result", "future", np_future_result_future},
    {"subinterp_future_result", "result", np_future_result_result},
    {"subinterp_future_result", "output", np_future_result_output},
    {"subinterp_future_cancel", "future", np_future_cancel_future},
    {"subinterp_future_cancel", "cancelled", np_future_cancel_cancelled},
    {"subinterp_future_on_done", "future", np_future_on_done_future},
    {"subinterp_future_on_done", "callback", np_future_on_done_callback},
    {"subinterp_future_free", "future", np_future_free_future},
};

/* The *_init functions have no `err` parameter. */
static int takes_err(const char *function) {
    static const char *const plain[] = {"subinterp_runtime_options_init", "subinterp_config_init",
                                        "subinterp_run_options_init",     "subinterp_queue_options_init",
                                        "subinterp_pool_options_init",    "subinterp_pool_free",
                                        "subinterp_future_free"};
    size_t i;
    for (i = 0; i < sizeof plain / sizeof plain[0]; i++)
        if (strcmp(function, plain[i]) == 0) return 0;
    return 1;
}

static step_status op_null_pointer(step *s) {
    const json_value *function = arg(s, "function"), *param = arg(s, "param");
    np_ctx c;
    size_t i;
    subinterp_status st;
    if (!function || function->type != JSON_STRING || !param || param->type != JSON_STRING)
        return malformed(s, "null_pointer needs \"function\" and \"param\" strings");
    for (i = 0; i < sizeof kNullPointerCalls / sizeof kNullPointerCalls[0]; i++)
        if (json_is_string(function, kNullPointerCalls[i].function) &&
            json_is_string(param, kNullPointerCalls[i].param))
            break;
    if (i == sizeof kNullPointerCalls / sizeof kNullPointerCalls[0])
        return malformed(s, "no NULL-pointer call for %s(%s = NULL) in this runner", function->u.string,
                         param->u.string);
    memset(&c, 0, sizeof c);
    c.s = s;
    c.errp = strcmp(param->u.string, "err") == 0 ? NULL : &c.err;
    c.queue = -1;
    st = kNullPointerCalls[i].call(&c);
    if (c.errp && takes_err(kNullPointerCalls[i].function)) record(s, kNullPointerCalls[i].function, st, c.err);
    else record_plain(s, kNullPointerCalls[i].function, st);
    for (i = 0; i < c.n_samples; i++) API(subinterp_data_free)(c.samples[i]);
    if (c.queue >= 0) {
        subinterp_error *err = NULL;
        API(subinterp_queue_destroy)(c.queue, &err);
        API(subinterp_error_free)(err);
    }
    API(subinterp_future_free)(c.future);
    API(subinterp_pool_free)(c.pool);
    CHECK_OUTCOME(s);
    return STEP_PASS;
}

/* ------------------------------------------------------------------------ */
/* The op table                                                             */
/* ------------------------------------------------------------------------ */

/* Keys are space-separated lists. `expects` are checked only on success,
 * `always` whatever the outcome (captured output, elapsed time). */
typedef struct op_def {
    const char *name;
    step_status (*run)(step *s);
    const char *args;
    const char *expects;
    const char *always;
    int binds;
} op_def;

static const op_def kOps[] = {
    {"versions", op_versions, "", "library python_series", "", 0},
    {"runtime_init", op_runtime_init, "options", "", "", 0},
    {"runtime_finalize", op_runtime_finalize, "", "", "", 0},
    {"runtime_get_mode", op_runtime_get_mode, "", "mode", "", 0},
    {"config_init", op_config_init, "preset", "config", "", 0},
    {"config_validate", op_config_validate, "config", "", "", 0},
    {"create", op_create, "config", "", "", 1},
    {"destroy", op_destroy, "interp", "", "", 0},
    {"list", op_list, "", "includes excludes first", "", 0},
    {"main_id", op_main_id, "", "id", "", 1},
    {"current_id", op_current_id, "", "id", "", 1},
    {"is_running", op_is_running, "interp", "running", "", 0},
    {"get_config", op_get_config, "interp", "config", "", 0},
    {"exec", op_exec, "interp source flags timeout", "", "stdout stderr", 0},
    {"call", op_call, "interp callable args kwargs flags timeout", "value", "stdout stderr", 1},
    {"interrupt", op_interrupt, "interp", "value", "", 0},
    {"check_imports", op_check_imports, "config modules", "value", "", 0},
    {"prepare_main", op_prepare_main, "interp names", "", "", 0},
    {"data", op_data, "value", "kind repr len equals", "", 0},
    {"data_get", op_data_get, "value as index", "value", "", 0},
    {"queue_create", op_queue_create, "maxsize unbound", "", "", 1},
    {"queue_put", op_queue_put, "queue value timeout", "", "elapsed_at_least", 0},
    {"queue_get", op_queue_get, "queue timeout", "value unbound", "elapsed_at_least", 1},
    {"queue_size", op_queue_size, "queue", "size", "", 0},
    {"queue_info", op_queue_info, "queue", "info", "", 0},
    {"queue_list", op_queue_list, "", "includes excludes", "", 0},
    {"queue_close", op_queue_close, "queue", "", "", 0},
    {"queue_retain", op_queue_retain, "queue", "", "", 0},
    {"queue_release", op_queue_release, "queue", "", "", 0},
    {"queue_destroy", op_queue_destroy, "queue", "", "", 0},
    {"status_name", op_status_name, "code", "name", "", 0},
    {"null_pointer", op_null_pointer, "function param", "", "", 0},
    {"pool_create", op_pool_create,
     "workers config init_source init_callable init_args max_queued max_tasks_per_worker", "", "", 1},
    {"pool_submit", op_pool_submit, "pool callable args kwargs flags timeout wait", "", "", 1},
    {"pool_call", op_pool_call, "pool callable args kwargs flags timeout", "value", "stdout stderr", 1},
    {"pool_map", op_pool_map, "pool callable args flags timeout", "value", "", 1},
    {"pool_shutdown", op_pool_shutdown, "pool wait cancel_pending", "", "", 0},
    {"pool_check", op_pool_check, "pool", "", "", 0},
    {"pool_stats", op_pool_stats, "pool", "stats", "", 0},
    {"pool_worker", op_pool_worker, "pool index", "worker", "", 1},
    {"pool_free", op_pool_free, "pool", "", "", 0},
    {"future_result", op_future_result, "future", "value", "stdout stderr", 1},
    {"future_wait", op_future_wait, "future timeout", "", "", 0},
    {"future_state", op_future_state, "future", "value", "", 0},
    {"future_cancel", op_future_cancel, "future", "value", "", 0},
};

static const char *const kErrorKeys = "error message_contains exc_type traceback_contains";

/* 1 if `key` is a word of the space-separated `words`. */
static int has_word(const char *words, const char *key) {
    size_t n = strlen(key);
    const char *p = words;
    if (n == 0) return 0;
    while ((p = strstr(p, key)) != NULL) {
        if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0')) return 1;
        p += n;
    }
    return 0;
}

static const op_def *find_op(const json_value *name) {
    size_t i;
    for (i = 0; i < sizeof kOps / sizeof kOps[0]; i++)
        if (json_is_string(name, kOps[i].name)) return &kOps[i];
    return NULL;
}

/* Rejects keys the op does not know: a typo must not pass as "no check". */
static step_status check_keys(step *s, const op_def *op) {
    size_t i;
    for (i = 0; i < s->json->len; i++) {
        const json_member *m = &s->json->u.members[i];
        if (has_word("op expect comment description", m->key) || has_word(op->args, m->key)) continue;
        if (strcmp(m->key, "bind") == 0 && op->binds && m->value.type == JSON_STRING && m->value.len > 0 &&
            strlen(m->value.u.string) == m->value.len)
            continue;
        return malformed(s, "%s does not take \"%s\"%s", op->name, m->key,
                         strcmp(m->key, "bind") == 0 && op->binds ? " (bind needs a name)" : "");
    }
    if (!s->expect) return STEP_PASS;
    if (s->expect->type != JSON_OBJECT) return malformed(s, "\"expect\" must be an object");
    for (i = 0; i < s->expect->len; i++) {
        const char *key = s->expect->u.members[i].key;
        if (has_word(kErrorKeys, key) || has_word(op->always, key)) continue;
        if (!has_word(op->expects, key)) return malformed(s, "%s has no expectation \"%s\"", op->name, key);
        if (want(s, "error"))
            return malformed(s, "expect.%s cannot be checked when an error is expected", key);
    }
    return STEP_PASS;
}

static step_status run_step(step *s) {
    const op_def *op;
    step_status rc;
    if (s->json->type != JSON_OBJECT) return malformed(s, "a step must be an object");
    op = find_op(arg(s, "op"));
    if (!op) {
        if (arg(s, "op") && arg(s, "op")->type == JSON_STRING)
            return malformed(s, "unknown op %s", arg(s, "op")->u.string);
        return malformed(s, "a step needs \"op\" (a string)");
    }
    s->op = op->name;
    s->expect = arg(s, "expect");
    if ((rc = check_keys(s, op)) != STEP_PASS) return rc;
    return op->run(s);
}

/* ------------------------------------------------------------------------ */
/* Cases                                                                    */
/* ------------------------------------------------------------------------ */

static const char *const kStatusNames[] = {"pass", "fail", "error"};

static void print_result(FILE *out, const char *name, size_t name_len, const char *status, const char *detail) {
    json_buf line;
    json_buf_init(&line);
    json_buf_puts(&line, "{\"case\": ");
    json_buf_string(&line, name, name_len);
    json_buf_puts(&line, ", \"lang\": \"c\", \"status\": ");
    json_buf_string(&line, status, strlen(status));
    json_buf_puts(&line, ", \"detail\": ");
    json_buf_string(&line, detail, strlen(detail));
    json_buf_puts(&line, "}\n");
    fwrite(line.data, 1, line.len, out);
    fflush(out); /* the driver reads each case as it ends */
    json_buf_free(&line);
}

static int has_capability(const json_value *name) {
    size_t i;
    for (i = 0; i < sizeof kCapabilities / sizeof kCapabilities[0]; i++)
        if (json_is_string(name, kCapabilities[i])) return 1;
    return 0;
}

/* "skip" detail for a missing capability, "" if none is missing; -1 if the
 * requires list is malformed. */
static int missing_capability(const json_value *requires, json_buf *detail) {
    size_t i;
    if (!requires) return 0;
    if (requires->type != JSON_ARRAY) return -1;
    for (i = 0; i < requires->len; i++) {
        const json_value *cap = &requires->u.items[i];
        if (cap->type != JSON_STRING) return -1;
        if (!has_capability(cap)) {
            json_buf_printf(detail, "requires %s", cap->u.string);
            return 1;
        }
    }
    return 0;
}

/* Checks the case's own keys; returns 0 or -1 with detail written. */
static int check_case_shape(const json_value *c, json_buf *detail) {
    size_t i;
    const json_value *isolated = json_get(c, "isolated"), *description = json_get(c, "description");
    for (i = 0; i < c->len; i++)
        if (!has_word("name description requires isolated steps", c->u.members[i].key)) {
            json_buf_printf(detail, "unknown case key \"%s\"", c->u.members[i].key);
            return -1;
        }
    if (!json_get(c, "steps") || json_get(c, "steps")->type != JSON_ARRAY) {
        json_buf_puts(detail, "a case needs \"steps\" (an array)");
        return -1;
    }
    if ((isolated && isolated->type != JSON_BOOL) || (description && description->type != JSON_STRING)) {
        json_buf_puts(detail, "\"isolated\" must be a bool and \"description\" a string");
        return -1;
    }
    return 0;
}

/* Runs the steps; the first that does not pass decides. */
static step_status run_steps(const json_value *steps, case_state *cs, json_buf *detail) {
    size_t i;
    step_status rc = STEP_PASS;
    for (i = 0; i < steps->len && rc == STEP_PASS; i++) {
        step s;
        json_buf message;
        memset(&s, 0, sizeof s);
        json_buf_init(&message);
        json_buf_init(&s.anomaly);
        s.json = &steps->u.items[i];
        s.op = "?";
        s.cs = cs;
        s.detail = &message;
        call_result_init(&s.result);
        rc = run_step(&s);
        if (rc != STEP_PASS) json_buf_printf(detail, "steps[%zu] (%s): %s", i, s.op, message.data);
        call_result_clear(&s.result);
        json_buf_free(&s.anomaly);
        json_buf_free(&message);
    }
    return rc;
}

static void run_case(FILE *out, const json_value *c, const char *name, size_t name_len) {
    json_buf detail;
    case_state cs;
    int missing;
    json_buf_init(&detail);
    if (check_case_shape(c, &detail) < 0) {
        print_result(out, name, name_len, "error", detail.data);
    } else if ((missing = missing_capability(json_get(c, "requires"), &detail)) != 0) {
        print_result(out, name, name_len, missing < 0 ? "error" : "skip",
                     missing < 0 ? "\"requires\" must be an array of capability names" : detail.data);
    } else {
        step_status rc;
        case_state_init(&cs);
        rc = run_steps(json_get(c, "steps"), &cs, &detail);
        case_state_cleanup(&cs);
        if (rc != STEP_PASS && rc != STEP_FAIL && rc != STEP_ERROR) { /* never: a runner bug */
            json_buf_printf(&detail, " (runner bug: step status %d)", (int)rc);
            rc = STEP_ERROR;
        }
        print_result(out, name, name_len, kStatusNames[rc], detail.data);
    }
    json_buf_free(&detail);
}

/* ------------------------------------------------------------------------ */
/* Files, arguments, the library                                            */
/* ------------------------------------------------------------------------ */

typedef struct options {
    FILE *protocol; /* where the hello and case lines go */
    const char *library;
    const char *coverage;
    const char **cases; /* --case names */
    size_t n_cases;
    int *seen; /* per --case name: found in a file */
    const char **files;
    size_t n_files;
} options;

static int usage(void) {
    fputs("usage: subinterp-conformance-c --library PATH [--case NAME]... [--coverage FILE] FILE...\n", stderr);
    return 2;
}

static int parse_options(int argc, char **argv, options *o) {
    int i;
    memset(o, 0, sizeof *o);
    o->cases = xcalloc((size_t)argc, sizeof *o->cases);
    o->seen = xcalloc((size_t)argc, sizeof *o->seen);
    o->files = xcalloc((size_t)argc, sizeof *o->files);
    for (i = 1; i < argc; i++) {
        int has_value = i + 1 < argc;
        if (strcmp(argv[i], "--library") == 0 && has_value) o->library = argv[++i];
        else if (strcmp(argv[i], "--coverage") == 0 && has_value) o->coverage = argv[++i];
        else if (strcmp(argv[i], "--case") == 0 && has_value) o->cases[o->n_cases++] = argv[++i];
        else if (strncmp(argv[i], "--", 2) == 0) return -1;
        else o->files[o->n_files++] = argv[i];
    }
    return o->library && o->n_files ? 0 : -1;
}

static void free_options(options *o) {
    free(o->cases);
    free(o->seen);
    free(o->files);
}

/* Whether the case is selected; notes which --case names were found. */
static int selected(options *o, const char *name) {
    size_t i;
    int found = 0;
    if (o->n_cases == 0) return 1;
    for (i = 0; i < o->n_cases; i++)
        if (strcmp(o->cases[i], name) == 0) found = o->seen[i] = 1;
    return found;
}

static json_value *load_file(const char *path) {
    FILE *f = fopen(path, "rb");
    json_buf text;
    char chunk[65536];
    size_t n;
    json_error error;
    json_value *root;
    if (!f) {
        fprintf(stderr, "subinterp-conformance-c: cannot open %s\n", path);
        return NULL;
    }
    json_buf_init(&text);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) json_buf_append(&text, chunk, n);
    fclose(f);
    root = json_parse(text.data, text.len, &error);
    json_buf_free(&text);
    if (!root) fprintf(stderr, "subinterp-conformance-c: %s: byte %zu: %s\n", path, error.offset, error.message);
    else if (!json_get(root, "cases") || json_get(root, "cases")->type != JSON_ARRAY) {
        fprintf(stderr, "subinterp-conformance-c: %s: no \"cases\" array\n", path);
        json_free(root);
        root = NULL;
    }
    return root;
}

static int write_coverage(const char *path);

/* Runs the selected cases of one file, in file order. */
static void run_file(options *o, const char *path, const json_value *root) {
    const json_value *cases = json_get(root, "cases");
    size_t i;
    for (i = 0; i < cases->len; i++) {
        const json_value *c = &cases->u.items[i], *name = json_get(c, "name");
        if (!name || name->type != JSON_STRING || strlen(name->u.string) != name->len) {
            char where[64];
            snprintf(where, sizeof where, "#%zu", i);
            if (o->n_cases == 0) {
                json_buf label;
                json_buf_init(&label);
                json_buf_printf(&label, "%s%s", path, where);
                print_result(o->protocol, label.data, label.len, "error", "a case needs a \"name\" (a string)");
                json_buf_free(&label);
            }
            continue;
        }
        if (!selected(o, name->u.string)) continue;
        run_case(o->protocol, c, name->u.string, name->len);
        /* after every case, so a later crash loses no counts */
        if (o->coverage) write_coverage(o->coverage);
    }
}

/* dlsym into a function pointer. ISO C has no object-to-function pointer
 * conversion; POSIX guarantees the representations match, so copy the bits. */
static int resolve(void *handle, const char *name, void *function_pointer, size_t size) {
    void *address;
    dlerror();
    address = dlsym(handle, name);
    if (!address || size != sizeof address) {
        const char *why = dlerror();
        fprintf(stderr, "subinterp-conformance-c: symbol %s not found: %s\n", name, why ? why : "NULL");
        return -1;
    }
    memcpy(function_pointer, &address, size);
    return 0;
}

/* Every function of the header; all must be there. */
static int resolve_all(void *handle) {
    int missing = 0;
#define RESOLVE(name) missing += resolve(handle, #name, &api_table.name, sizeof api_table.name) < 0;
    SUBINTERP_FUNCTIONS(RESOLVE)
#undef RESOLVE
    return missing ? -1 : 0;
}

static void print_hello(FILE *out) {
    json_buf line;
    size_t i;
    const char *library = API(subinterp_version_string)();
    const char *python = API(subinterp_python_version_string)();
    json_buf_init(&line);
    json_buf_puts(&line, "{\"runner\": \"c\", \"lang\": \"c\", \"capabilities\": [");
    for (i = 0; i < sizeof kCapabilities / sizeof kCapabilities[0]; i++)
        json_buf_printf(&line, "%s\"%s\"", i ? ", " : "", kCapabilities[i]);
    json_buf_puts(&line, "], \"library\": ");
    json_buf_string(&line, or_null(library), strlen(or_null(library)));
    json_buf_puts(&line, ", \"python\": ");
    json_buf_string(&line, or_null(python), strlen(or_null(python)));
    json_buf_puts(&line, "}\n");
    fwrite(line.data, 1, line.len, out);
    fflush(out);
    json_buf_free(&line);
}

/* The protocol gets a descriptor of its own and fd 1 then points at stderr:
 * whatever the cases' Python (or C) code prints to stdout cannot get in
 * between the lines the driver reads. */
static FILE *protocol_stream(void) {
    int fd;
    FILE *out;
    fflush(stdout);
    fd = dup(STDOUT_FILENO);
    if (fd < 0) return NULL;
    out = fdopen(fd, "w");
    if (!out || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        if (out) fclose(out);
        else close(fd);
        return NULL;
    }
    return out;
}

/* {"subinterp_x": calls, ...} for every function, zeros included. */
static int write_coverage(const char *path) {
    FILE *f = fopen(path, "w");
    size_t i;
    if (!f) {
        fprintf(stderr, "subinterp-conformance-c: cannot write %s\n", path);
        return -1;
    }
    fputs("{\n", f);
    for (i = 0; i < API_COUNT; i++)
        fprintf(f, "  \"%s\": %lu%s\n", api_names[i], api_calls[i], i + 1 < API_COUNT ? "," : "");
    fputs("}\n", f);
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    options o;
    json_value **roots;
    void *handle;
    size_t i;
    int rc = 0;
    if (parse_options(argc, argv, &o) < 0) {
        free_options(&o);
        return usage();
    }
    /* every file first: a broken file stops the run before any case */
    roots = xcalloc(o.n_files, sizeof *roots);
    for (i = 0; i < o.n_files; i++)
        if (!(roots[i] = load_file(o.files[i]))) rc = 2;
    handle = rc ? NULL : dlopen(o.library, RTLD_NOW | RTLD_LOCAL);
    if (!rc && !handle) fprintf(stderr, "subinterp-conformance-c: dlopen %s: %s\n", o.library, dlerror());
    if (!rc && (!handle || resolve_all(handle) < 0)) rc = 2;
    if (!rc && !(o.protocol = protocol_stream())) {
        perror("subinterp-conformance-c: cannot set up the protocol stream");
        rc = 2;
    }
    if (!rc) {
        print_hello(o.protocol);
        for (i = 0; i < o.n_files; i++) run_file(&o, o.files[i], roots[i]);
        for (i = 0; i < o.n_cases; i++)
            if (!o.seen[i])
                print_result(o.protocol, o.cases[i], strlen(o.cases[i]), "error",
                             "no case of this name in the files given");
        if (o.coverage && write_coverage(o.coverage) < 0) rc = 2;
    }
    if (o.protocol && fclose(o.protocol) != 0) rc = 2;
    /* The library stays loaded: CPython may be running in this process. */
    for (i = 0; i < o.n_files; i++) json_free(roots[i]);
    free(roots);
    free_options(&o);
    return rc;
}
