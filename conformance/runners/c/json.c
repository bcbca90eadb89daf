/* The strict JSON parser and writer declared in json.h. */
#include "json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                    */
/* ------------------------------------------------------------------------ */

static int in_range(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

/* Well-formed sequences per the Unicode standard, table 3-7. */
size_t json_utf8_sequence(const unsigned char *p, size_t n) {
    unsigned char c;
    if (n == 0) return 0;
    c = p[0];
    if (c < 0x80) return 1;
    if (in_range(c, 0xC2, 0xDF)) return n >= 2 && in_range(p[1], 0x80, 0xBF) ? 2 : 0;
    if (in_range(c, 0xE0, 0xEF)) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong forms */
        unsigned char hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
        return n >= 3 && in_range(p[1], lo, hi) && in_range(p[2], 0x80, 0xBF) ? 3 : 0;
    }
    if (in_range(c, 0xF0, 0xF4)) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80; /* no overlong forms */
        unsigned char hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
        return n >= 4 && in_range(p[1], lo, hi) && in_range(p[2], 0x80, 0xBF) && in_range(p[3], 0x80, 0xBF)
                   ? 4
                   : 0;
    }
    return 0;
}

int json_utf8_valid(const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    size_t i = 0;
    while (i < n) {
        size_t step = json_utf8_sequence(p + i, n - i);
        if (!step) return 0;
        i += step;
    }
    return 1;
}

static size_t utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------------ */
/* Parser                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct parser {
    const unsigned char *start;
    const unsigned char *p;
    const unsigned char *end;
    int depth;
    json_error *error;
    int failed;
} parser;

/* Records the first error only: later ones are consequences. */
static int fail_at(parser *ps, const unsigned char *where, const char *message) {
    if (!ps->failed) {
        ps->failed = 1;
        if (ps->error) {
            ps->error->offset = (size_t)(where - ps->start);
            snprintf(ps->error->message, sizeof ps->error->message, "%s", message);
        }
    }
    return -1;
}

static int fail(parser *ps, const char *message) { return fail_at(ps, ps->p, message); }

static void skip_whitespace(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int parse_value(parser *ps, json_value *out);
static void free_value(json_value *v);

static int parse_literal(parser *ps, const char *word, json_value *out, json_type type, int boolean) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return fail(ps, "invalid literal");
    ps->p += n;
    out->type = type;
    out->u.boolean = boolean;
    return 0;
}

static int is_digit(const parser *ps) { return ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9'; }

static void skip_digits(parser *ps) {
    while (is_digit(ps)) ps->p++;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? ; keeps the text. */
static int parse_number(parser *ps, json_value *out) {
    const unsigned char *begin = ps->p;
    size_t n;
    if (ps->p < ps->end && *ps->p == '-') ps->p++;
    if (!is_digit(ps)) return fail(ps, "expected a digit");
    if (*ps->p == '0') {
        ps->p++;
        if (is_digit(ps)) return fail(ps, "leading zero in a number");
    } else {
        skip_digits(ps);
    }
    if (ps->p < ps->end && *ps->p == '.') {
        ps->p++;
        if (!is_digit(ps)) return fail(ps, "expected a digit after the decimal point");
        skip_digits(ps);
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (!is_digit(ps)) return fail(ps, "expected a digit in the exponent");
        skip_digits(ps);
    }
    n = (size_t)(ps->p - begin);
    out->u.number = malloc(n + 1);
    if (!out->u.number) return fail_at(ps, begin, "out of memory");
    memcpy(out->u.number, begin, n);
    out->u.number[n] = '\0';
    out->type = JSON_NUMBER;
    out->len = n;
    return 0;
}

static int hex_digit(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The four hex digits after "\u" at ps->p (which points at the 'u'). */
static int read_hex4(parser *ps, uint32_t *unit) {
    int i;
    *unit = 0;
    if (ps->end - ps->p < 5) return fail(ps, "truncated \\u escape");
    for (i = 1; i <= 4; i++) {
        int d = hex_digit(ps->p[i]);
        if (d < 0) return fail_at(ps, ps->p + i, "invalid hex digit in \\u escape");
        *unit = *unit * 16 + (uint32_t)d;
    }
    ps->p += 5;
    return 0;
}

/* A \uXXXX escape (ps->p at the 'u'), a surrogate pair as one code point. */
static int read_unicode_escape(parser *ps, uint32_t *cp) {
    const unsigned char *escape = ps->p - 1;
    uint32_t low;
    if (read_hex4(ps, cp) < 0) return -1;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) return fail_at(ps, escape, "lone low surrogate in \\u escape");
    if (*cp < 0xD800 || *cp > 0xDBFF) return 0;
    if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
        return fail_at(ps, escape, "high surrogate not followed by a low surrogate");
    ps->p++;
    if (read_hex4(ps, &low) < 0) return -1;
    if (low < 0xDC00 || low > 0xDFFF) return fail_at(ps, escape, "high surrogate not followed by a low surrogate");
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
    return 0;
}

/* One escape sequence (ps->p just past the backslash) into `out`. */
static int read_escape(parser *ps, char *out, size_t *written) {
    uint32_t cp;
    unsigned char c;
    if (ps->p >= ps->end) return fail(ps, "unterminated string");
    c = *ps->p;
    switch (c) {
    case '"': case '\\': case '/': *out = (char)c; break;
    case 'b': *out = '\b'; break;
    case 'f': *out = '\f'; break;
    case 'n': *out = '\n'; break;
    case 'r': *out = '\r'; break;
    case 't': *out = '\t'; break;
    case 'u':
        if (read_unicode_escape(ps, &cp) < 0) return -1;
        *written = utf8_encode(cp, out);
        return 0;
    default: return fail_at(ps, ps->p - 1, "invalid escape");
    }
    ps->p++;
    *written = 1;
    return 0;
}

/* The raw length up to the closing quote, so one allocation suffices: a
 * decoded string is never longer than its source. */
static int string_extent(const parser *ps, size_t *raw) {
    const unsigned char *q = ps->p;
    while (q < ps->end && *q != '"') {
        if (*q == '\\' && ps->end - q < 2) return -1; /* never step past the end */
        q += *q == '\\' ? 2 : 1;
    }
    if (q >= ps->end) return -1;
    *raw = (size_t)(q - ps->p);
    return 0;
}

/* A string (ps->p just past the opening quote) into a new buffer. */
static int parse_string_bytes(parser *ps, char **text, size_t *len) {
    const unsigned char *open = ps->p - 1;
    size_t raw, n = 0;
    char *buf;
    if (string_extent(ps, &raw) < 0) return fail_at(ps, open, "unterminated string");
    buf = malloc(raw + 1);
    if (!buf) return fail_at(ps, open, "out of memory");
    while (*ps->p != '"') {
        unsigned char c = *ps->p;
        if (c == '\\') {
            size_t written;
            ps->p++;
            if (read_escape(ps, buf + n, &written) < 0) goto error;
            n += written;
        } else if (c < 0x20) {
            fail(ps, "control character in string");
            goto error;
        } else {
            size_t step = json_utf8_sequence(ps->p, (size_t)(ps->end - ps->p));
            if (!step) {
                fail(ps, "invalid UTF-8 in string");
                goto error;
            }
            memcpy(buf + n, ps->p, step);
            n += step;
            ps->p += step;
        }
    }
    ps->p++; /* the closing quote */
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
error:
    free(buf);
    return -1;
}

static int parse_string(parser *ps, json_value *out) {
    ps->p++; /* the opening quote */
    if (parse_string_bytes(ps, &out->u.string, &out->len) < 0) return -1;
    out->type = JSON_STRING;
    return 0;
}

/* Grows *items (of `size` bytes each) to hold at least need elements. */
static int grow(void **items, size_t *cap, size_t need, size_t size) {
    size_t n;
    void *bigger;
    if (need <= *cap) return 0;
    n = *cap ? *cap * 2 : 4;
    if (n < need || n > SIZE_MAX / size) return -1;
    bigger = realloc(*items, n * size);
    if (!bigger) return -1;
    *items = bigger;
    *cap = n;
    return 0;
}

/* Enters a nested container; the limit keeps recursion bounded. */
static int enter(parser *ps) {
    if (++ps->depth > JSON_MAX_DEPTH) return fail(ps, "nesting deeper than JSON_MAX_DEPTH (1024)");
    return 0;
}

static int parse_array(parser *ps, json_value *out) {
    size_t cap = 0;
    out->type = JSON_ARRAY; /* from here on out owns what was parsed */
    out->u.items = NULL;
    out->len = 0;
    if (enter(ps) < 0) return -1;
    ps->p++;
    skip_whitespace(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        void *items = out->u.items;
        int rc = grow(&items, &cap, out->len + 1, sizeof(json_value));
        out->u.items = items;
        if (rc < 0) return fail(ps, "out of memory");
        skip_whitespace(ps);
        /* counted before parsing so a half-parsed item is freed too */
        if (parse_value(ps, &out->u.items[out->len++]) < 0) return -1;
        skip_whitespace(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') break;
        return fail(ps, ps->p < ps->end ? "expected ',' or ']'" : "unterminated array");
    }
    ps->p++;
    ps->depth--;
    return 0;
}

static int compare_members(const void *a, const void *b) {
    const json_member *x = *(const json_member *const *)a;
    const json_member *y = *(const json_member *const *)b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Sorting makes the duplicate check O(n log n), so a fuzzer's object with
 * many keys cannot make it quadratic. */
static int check_duplicate_keys(parser *ps, const json_value *object, const unsigned char *where) {
    const json_member **sorted;
    size_t i;
    int rc = 0;
    if (object->len < 2) return 0;
    sorted = malloc(object->len * sizeof *sorted);
    if (!sorted) return fail_at(ps, where, "out of memory");
    for (i = 0; i < object->len; i++) sorted[i] = &object->u.members[i];
    qsort(sorted, object->len, sizeof *sorted, compare_members);
    for (i = 1; i < object->len && rc == 0; i++)
        if (compare_members(&sorted[i - 1], &sorted[i]) == 0) rc = fail_at(ps, where, "duplicate key in object");
    free(sorted);
    return rc;
}

static int parse_member(parser *ps, json_member *m) {
    m->key = NULL;
    m->value.type = JSON_NULL;
    if (ps->p >= ps->end) return fail(ps, "unterminated object");
    if (*ps->p != '"') return fail(ps, "expected a string key");
    ps->p++;
    if (parse_string_bytes(ps, &m->key, &m->key_len) < 0) return -1;
    skip_whitespace(ps);
    if (ps->p >= ps->end || *ps->p != ':') return fail(ps, "expected ':'");
    ps->p++;
    skip_whitespace(ps);
    return parse_value(ps, &m->value);
}

static int parse_object(parser *ps, json_value *out) {
    const unsigned char *open = ps->p;
    size_t cap = 0;
    out->type = JSON_OBJECT;
    out->u.members = NULL;
    out->len = 0;
    if (enter(ps) < 0) return -1;
    ps->p++;
    skip_whitespace(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->depth--;
        return 0;
    }
    for (;;) {
        void *members = out->u.members;
        int rc = grow(&members, &cap, out->len + 1, sizeof(json_member));
        out->u.members = members;
        if (rc < 0) return fail(ps, "out of memory");
        /* counted before parsing so a half-parsed member is freed too */
        rc = parse_member(ps, &out->u.members[out->len++]);
        if (rc < 0) return -1;
        skip_whitespace(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_whitespace(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') break;
        return fail(ps, ps->p < ps->end ? "expected ',' or '}'" : "unterminated object");
    }
    ps->p++;
    ps->depth--;
    return check_duplicate_keys(ps, out, open);
}

/* On failure `out` is left as a tree json_free/free_value can release. */
static int parse_value(parser *ps, json_value *out) {
    out->type = JSON_NULL;
    out->len = 0;
    if (ps->p >= ps->end) return fail(ps, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_object(ps, out);
    case '[': return parse_array(ps, out);
    case '"': return parse_string(ps, out);
    case 't': return parse_literal(ps, "true", out, JSON_BOOL, 1);
    case 'f': return parse_literal(ps, "false", out, JSON_BOOL, 0);
    case 'n': return parse_literal(ps, "null", out, JSON_NULL, 0);
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, out);
        return fail(ps, "unexpected character");
    }
}

json_value *json_parse(const void *data, size_t len, json_error *error) {
    parser ps;
    json_value *root = malloc(sizeof *root);
    ps.start = ps.p = data;
    ps.end = ps.start + len;
    ps.depth = 0;
    ps.error = error;
    ps.failed = 0;
    if (!root) {
        fail(&ps, "out of memory");
        return NULL;
    }
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        fail(&ps, "byte-order mark not allowed");
        free(root);
        return NULL;
    }
    skip_whitespace(&ps);
    if (parse_value(&ps, root) == 0) {
        skip_whitespace(&ps);
        if (ps.p != ps.end) fail(&ps, "unexpected data after the value");
    }
    if (ps.failed) {
        json_free(root);
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------------------------ */
/* Freeing and reading                                                      */
/* ------------------------------------------------------------------------ */

static void free_value(json_value *v) {
    size_t i;
    switch (v->type) {
    case JSON_STRING: free(v->u.string); break;
    case JSON_NUMBER: free(v->u.number); break;
    case JSON_ARRAY:
        for (i = 0; i < v->len; i++) free_value(&v->u.items[i]);
        free(v->u.items);
        break;
    case JSON_OBJECT:
        for (i = 0; i < v->len; i++) {
            free(v->u.members[i].key);
            free_value(&v->u.members[i].value);
        }
        free(v->u.members);
        break;
    default: break;
    }
}

void json_free(json_value *root) {
    if (!root) return;
    free_value(root);
    free(root);
}

const json_value *json_get(const json_value *object, const char *key) {
    size_t i, n = strlen(key);
    if (!object || object->type != JSON_OBJECT) return NULL;
    for (i = 0; i < object->len; i++) {
        const json_member *m = &object->u.members[i];
        if (m->key_len == n && memcmp(m->key, key, n) == 0) return &m->value;
    }
    return NULL;
}

int json_is_string(const json_value *value, const char *text) {
    return value && value->type == JSON_STRING && value->len == strlen(text) &&
           memcmp(value->u.string, text, value->len) == 0;
}

int json_is_integer(const json_value *value) {
    return value && value->type == JSON_NUMBER && !strpbrk(value->u.number, ".eE");
}

int json_int64(const json_value *value, int64_t *out) {
    long long n;
    char *end;
    if (!json_is_integer(value)) return -1;
    errno = 0;
    n = strtoll(value->u.number, &end, 10);
    if (errno == ERANGE || *end != '\0') return -1;
    *out = (int64_t)n;
    return 0;
}

double json_double(const json_value *value) { return strtod(value->u.number, NULL); }

/* ------------------------------------------------------------------------ */
/* Writer                                                                   */
/* ------------------------------------------------------------------------ */

static void reserve(json_buf *b, size_t extra) {
    size_t need = b->len + extra + 1, cap = b->cap ? b->cap : 64;
    char *bigger;
    if (extra > SIZE_MAX - b->len - 1) abort();
    if (need <= b->cap) return;
    while (cap < need) cap *= 2;
    bigger = realloc(b->data, cap);
    if (!bigger) {
        fputs("subinterp-conformance-c: out of memory\n", stderr);
        abort();
    }
    b->data = bigger;
    b->cap = cap;
}

void json_buf_init(json_buf *b) {
    b->data = NULL;
    b->len = b->cap = 0;
    reserve(b, 0);
    b->data[0] = '\0';
}

void json_buf_free(json_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void json_buf_clear(json_buf *b) {
    b->len = 0;
    b->data[0] = '\0';
}

void json_buf_append(json_buf *b, const void *bytes, size_t n) {
    reserve(b, n);
    if (n) memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void json_buf_puts(json_buf *b, const char *text) { json_buf_append(b, text, strlen(text)); }

void json_buf_vprintf(json_buf *b, const char *format, va_list args) {
    va_list again;
    int n;
    va_copy(again, args); /* formatted twice: to size, then to write */
    n = vsnprintf(NULL, 0, format, args);
    if (n >= 0) {
        reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, format, again);
        b->len += (size_t)n;
    }
    va_end(again);
}

void json_buf_printf(json_buf *b, const char *format, ...) {
    va_list args;
    va_start(args, format);
    json_buf_vprintf(b, format, args);
    va_end(args);
}

void json_buf_string(json_buf *b, const void *bytes, size_t n) {
    const unsigned char *p = bytes;
    size_t i = 0;
    json_buf_puts(b, "\"");
    while (i < n) {
        unsigned char c = p[i];
        size_t step;
        if (c == '"' || c == '\\') {
            char escaped[2] = {'\\', (char)c};
            json_buf_append(b, escaped, 2);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': json_buf_puts(b, "\\n"); break;
            case '\r': json_buf_puts(b, "\\r"); break;
            case '\t': json_buf_puts(b, "\\t"); break;
            default: json_buf_printf(b, "\\u%04x", c); break;
            }
            i++;
        } else if ((step = json_utf8_sequence(p + i, n - i)) != 0) {
            json_buf_append(b, p + i, step);
            i += step;
        } else {
            json_buf_puts(b, "\\ufffd");
            i++;
        }
    }
    json_buf_puts(b, "\"");
}

void json_buf_value(json_buf *b, const json_value *v) {
    size_t i;
    switch (v->type) {
    case JSON_NULL: json_buf_puts(b, "null"); break;
    case JSON_BOOL: json_buf_puts(b, v->u.boolean ? "true" : "false"); break;
    case JSON_NUMBER: json_buf_append(b, v->u.number, v->len); break;
    case JSON_STRING: json_buf_string(b, v->u.string, v->len); break;
    case JSON_ARRAY:
        json_buf_puts(b, "[");
        for (i = 0; i < v->len; i++) {
            if (i) json_buf_puts(b, ", ");
            json_buf_value(b, &v->u.items[i]);
        }
        json_buf_puts(b, "]");
        break;
    case JSON_OBJECT:
        json_buf_puts(b, "{");
        for (i = 0; i < v->len; i++) {
            if (i) json_buf_puts(b, ", ");
            json_buf_string(b, v->u.members[i].key, v->u.members[i].key_len);
            json_buf_puts(b, ": ");
            json_buf_value(b, &v->u.members[i].value);
        }
        json_buf_puts(b, "}");
        break;
    }
}

void json_buf_hex(json_buf *b, const void *bytes, size_t n) {
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = bytes;
    size_t i;
    reserve(b, n * 2);
    for (i = 0; i < n; i++) {
        b->data[b->len++] = digits[p[i] >> 4];
        b->data[b->len++] = digits[p[i] & 15];
    }
    b->data[b->len] = '\0';
}
