/* Tagged JSON values <-> subinterp_data, bindings and call results. */
#include "values.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* The function table and its counters (filled by runner.c)                 */
/* ------------------------------------------------------------------------ */

subinterp_api api_table;
unsigned long api_calls[API_COUNT];
const char *const api_names[API_COUNT] = {
#define API_NAME(name) #name,
    SUBINTERP_FUNCTIONS(API_NAME)
#undef API_NAME
};

static void out_of_memory(void) {
    fputs("subinterp-conformance-c: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory();
    return p;
}

void *xcalloc(size_t count, size_t size) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory();
    return p;
}

void *xgrow(void *items, size_t *cap, size_t need, size_t size) {
    size_t n = *cap ? *cap * 2 : 8;
    void *bigger;
    if (need <= *cap) return items;
    while (n < need) n *= 2;
    bigger = realloc(items, n * size);
    if (!bigger) out_of_memory();
    *cap = n;
    return bigger;
}

/* ------------------------------------------------------------------------ */
/* Call results                                                             */
/* ------------------------------------------------------------------------ */

void call_result_init(call_result *r) {
    r->status = SUBINTERP_OK;
    r->error = NULL;
    r->function = NULL;
}

void call_result_clear(call_result *r) {
    if (r->error) API(subinterp_error_free)(r->error);
    call_result_init(r);
}

void call_result_set(call_result *r, const char *function, subinterp_status status, subinterp_error *error) {
    call_result_clear(r);
    r->function = function;
    r->status = status;
    r->error = error;
}

const char *status_short_name(subinterp_status status) {
    static const char prefix[] = "SUBINTERP_ERR_";
    const char *name = API(subinterp_status_name)(status);
    if (!name) return "(null)";
    if (strncmp(name, prefix, sizeof prefix - 1) == 0) return name + sizeof prefix - 1;
    if (strcmp(name, "SUBINTERP_OK") == 0) return "OK";
    return name;
}

void call_result_describe(json_buf *out, const call_result *r) {
    json_buf_printf(out, "%s: %s", r->function ? r->function : "call", status_short_name(r->status));
    if (r->error) json_buf_printf(out, ": %s", API(subinterp_error_message)(r->error));
}

/* ------------------------------------------------------------------------ */
/* Bindings                                                                 */
/* ------------------------------------------------------------------------ */

void bindings_init(bindings *b) {
    b->items = NULL;
    b->len = b->cap = 0;
}

static binding *bindings_find(const bindings *b, const char *name) {
    size_t i;
    for (i = 0; i < b->len; i++)
        if (strcmp(b->items[i].name, name) == 0) return &b->items[i];
    return NULL;
}

/* The binding for `name`, emptied (a name may be bound again). */
static binding *bindings_slot(bindings *b, const char *name) {
    binding *slot = bindings_find(b, name);
    if (slot) {
        API(subinterp_data_free)(slot->value);
    } else {
        b->items = xgrow(b->items, &b->cap, b->len + 1, sizeof *b->items);
        slot = &b->items[b->len++];
        slot->name = xmalloc(strlen(name) + 1);
        strcpy(slot->name, name);
    }
    slot->id = 0;
    slot->value = NULL;
    return slot;
}

void bindings_bind_id(bindings *b, const char *name, int64_t id) { bindings_slot(b, name)->id = id; }

void bindings_bind_value(bindings *b, const char *name, const subinterp_data *value) {
    bindings_slot(b, name)->value = API(subinterp_data_ref)(value);
}

void bindings_clear(bindings *b) {
    size_t i;
    for (i = 0; i < b->len; i++) {
        API(subinterp_data_free)(b->items[i].value);
        free(b->items[i].name);
    }
    free(b->items);
    bindings_init(b);
}

/* The id a bound value stands for: an int, or a queue's or interpreter's id. */
static int id_of_value(const subinterp_data *value, int64_t *id) {
    subinterp_error *err = NULL;
    subinterp_status st;
    switch (API(subinterp_data_get_kind)(value)) {
    case SUBINTERP_DATA_INT: st = API(subinterp_data_get_int)(value, id, &err); break;
    case SUBINTERP_DATA_QUEUE: st = API(subinterp_data_get_queue)(value, id, &err); break;
    case SUBINTERP_DATA_INTERPRETER: st = API(subinterp_data_get_interpreter)(value, id, &err); break;
    default: return -1;
    }
    API(subinterp_error_free)(err);
    return st == SUBINTERP_OK ? 0 : -1;
}

int value_resolve_id(const json_value *v, const bindings *b, int64_t *id, json_buf *why) {
    const binding *bound;
    if (v && v->type == JSON_NUMBER) {
        if (json_int64(v, id) == 0) return 0;
        json_buf_puts(why, "an id must be an integer that fits int64");
        return -1;
    }
    if (!v || v->type != JSON_STRING || v->len < 2 || v->u.string[0] != '$' || strlen(v->u.string) != v->len) {
        json_buf_puts(why, "an id must be an integer or \"$name\"");
        return -1;
    }
    bound = bindings_find(b, v->u.string + 1);
    if (!bound) {
        json_buf_printf(why, "unbound name %s", v->u.string);
        return -1;
    }
    if (!bound->value) {
        *id = bound->id;
        return 0;
    }
    if (id_of_value(bound->value, id) == 0) return 0;
    json_buf_printf(why, "%s is bound to a value that is not an id", v->u.string);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Hex and big integers                                                     */
/* ------------------------------------------------------------------------ */

static int lower_hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int hex_decode(const char *hex, size_t n, unsigned char **out, size_t *len) {
    unsigned char *bytes;
    size_t i;
    if (n % 2) return -1;
    bytes = xmalloc(n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        int hi = lower_hex_digit(hex[2 * i]), lo = lower_hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(bytes);
            return -1;
        }
        bytes[i] = (unsigned char)(hi * 16 + lo);
    }
    *out = bytes;
    *len = n / 2;
    return 0;
}

/* Drops sign-extension bytes: the minimal two's complement form that
 * subinterp_data_get_int_bytes returns (0 is no bytes at all). */
static size_t int_minimal(const unsigned char *b, size_t len) {
    while (len > 0) {
        unsigned char top = b[len - 1];
        int below_negative = len > 1 && (b[len - 2] & 0x80);
        if (top == 0x00 && !below_negative) len--;
        else if (top == 0xFF && below_negative) len--;
        else break;
    }
    return len;
}

/* Two's complement negation in place: invert and add one. */
static void int_negate(unsigned char *b, size_t len) {
    unsigned carry = 1;
    size_t i;
    for (i = 0; i < len; i++) {
        unsigned v = (unsigned char)~b[i] + carry;
        b[i] = (unsigned char)v;
        carry = v >> 8;
    }
}

/* "-?[0-9]+" to minimal two's complement little-endian bytes. */
static int int_from_decimal(const char *text, size_t n, unsigned char **out, size_t *out_len) {
    size_t i = 0, len = 0, k;
    int negative = n > 0 && text[0] == '-';
    unsigned char *b;
    if (negative) i = 1;
    if (i == n) return -1;
    /* a decimal digit is < 4 bits: n/2 bytes, plus one for the sign */
    b = xcalloc(n / 2 + 2, 1);
    for (; i < n; i++) {
        unsigned carry;
        if (text[i] < '0' || text[i] > '9') {
            free(b);
            return -1;
        }
        carry = (unsigned)(text[i] - '0');
        for (k = 0; k < len; k++) {
            unsigned v = b[k] * 10u + carry;
            b[k] = (unsigned char)v;
            carry = v >> 8;
        }
        if (carry) b[len++] = (unsigned char)carry;
    }
    len++; /* a zero sign byte: the magnitude as a non-negative number */
    if (negative) int_negate(b, len);
    *out = b;
    *out_len = int_minimal(b, len);
    return 0;
}

/* Two's complement little-endian bytes as decimal text. */
static void int_to_decimal(json_buf *out, const unsigned char *bytes, size_t len) {
    unsigned char *mag = xmalloc(len + 1);
    char *digits = xmalloc(len * 3 + 2);
    size_t n = 0, top = len;
    int negative = len > 0 && (bytes[len - 1] & 0x80);
    if (len) memcpy(mag, bytes, len);
    if (negative) int_negate(mag, len); /* as unsigned: -128 -> 0x80 = 128 */
    while (top > 0 && mag[top - 1] == 0) top--;
    while (top > 0) {
        unsigned rem = 0;
        size_t k;
        for (k = top; k-- > 0;) {
            unsigned v = rem * 256 + mag[k];
            mag[k] = (unsigned char)(v / 10);
            rem = v % 10;
        }
        digits[n++] = (char)('0' + rem);
        while (top > 0 && mag[top - 1] == 0) top--;
    }
    if (n == 0) digits[n++] = '0';
    if (negative) json_buf_puts(out, "-");
    while (n > 0) json_buf_append(out, &digits[--n], 1);
    free(mag);
    free(digits);
}

static size_t int64_to_bytes(int64_t v, unsigned char out[8]) {
    uint64_t u = (uint64_t)v;
    int i;
    for (i = 0; i < 8; i++) out[i] = (unsigned char)(u >> (8 * i));
    return int_minimal(out, 8);
}

/* ------------------------------------------------------------------------ */
/* Reading the tagged form                                                  */
/* ------------------------------------------------------------------------ */

#define KIND_ANY (-2) /* {"any": KIND} in an expectation */

/* The spec's kind names, by subinterp_data_kind. */
static const char *const kKindNames[] = {"none", "bool",   "int",  "float", "str",         "bytes",  "tuple",
                                         "list", "dict", "buffer", "queue", "interpreter", "pickled"};

static const char *kind_name(int kind) {
    if (kind >= 0 && kind < (int)(sizeof kKindNames / sizeof kKindNames[0])) return kKindNames[kind];
    return kind == KIND_ANY ? "any" : "invalid";
}

static int kind_from_name(const json_value *v) {
    size_t i;
    for (i = 0; i < sizeof kKindNames / sizeof kKindNames[0]; i++)
        if (json_is_string(v, kKindNames[i])) return (int)i;
    return -1;
}

/* A tagged value, classified. */
typedef struct tagged {
    int kind;                   /* subinterp_data_kind, or KIND_ANY */
    const json_value *payload;  /* the value under the tag, or the bare value */
    int raw_utf8;               /* str given as {"str_utf8": hex} */
    const json_value *readonly; /* buffer: the optional "readonly" member */
} tagged;

/* Integers JSON parsers of every language read exactly. */
#define MAX_BARE_INT 9007199254740991LL /* 2^53 - 1 */

static int classify_bare(const json_value *v, tagged *t, json_buf *why) {
    int64_t n;
    t->payload = v;
    switch (v->type) {
    case JSON_NULL: t->kind = SUBINTERP_DATA_NONE; return 0;
    case JSON_BOOL: t->kind = SUBINTERP_DATA_BOOL; return 0;
    case JSON_STRING: t->kind = SUBINTERP_DATA_STR; return 0;
    case JSON_NUMBER:
        if (json_int64(v, &n) < 0 || n > MAX_BARE_INT || n < -MAX_BARE_INT) {
            json_buf_printf(why, "bare number %s: only integers with abs <= 2^53-1 may be bare "
                                 "(floats are {\"float\": ...}, big ints {\"int\": \"...\"})",
                            v->u.number);
            return -1;
        }
        t->kind = SUBINTERP_DATA_INT;
        return 0;
    default:
        json_buf_puts(why, "a bare array is not a value: tag it ({\"list\": [...]} or {\"tuple\": [...]})");
        return -1;
    }
}

static const struct {
    const char *tag;
    int kind;
    int raw_utf8;
} kTags[] = {
    {"none", SUBINTERP_DATA_NONE, 0},   {"bool", SUBINTERP_DATA_BOOL, 0},
    {"int", SUBINTERP_DATA_INT, 0},     {"float", SUBINTERP_DATA_FLOAT, 0},
    {"str", SUBINTERP_DATA_STR, 0},     {"str_utf8", SUBINTERP_DATA_STR, 1},
    {"bytes", SUBINTERP_DATA_BYTES, 0}, {"tuple", SUBINTERP_DATA_TUPLE, 0},
    {"list", SUBINTERP_DATA_LIST, 0},   {"dict", SUBINTERP_DATA_DICT, 0},
    {"buffer", SUBINTERP_DATA_BUFFER, 0}, {"pickled", SUBINTERP_DATA_PICKLED, 0},
    {"queue", SUBINTERP_DATA_QUEUE, 0}, {"interpreter", SUBINTERP_DATA_INTERPRETER, 0},
    {"any", KIND_ANY, 0},
};

/* Checks the payload's JSON type; deeper checks happen where it is used. */
static int check_payload(const tagged *t, const char *tag, json_buf *why) {
    json_type want;
    const json_value *p = t->payload;
    switch (t->kind) {
    case SUBINTERP_DATA_NONE: want = JSON_NULL; break;
    case SUBINTERP_DATA_BOOL: want = JSON_BOOL; break;
    case SUBINTERP_DATA_INT:
    case SUBINTERP_DATA_FLOAT:
        if (p->type == JSON_NUMBER || p->type == JSON_STRING) return 0;
        json_buf_printf(why, "{\"%s\": ...} takes a number or a string", tag);
        return -1;
    case SUBINTERP_DATA_TUPLE:
    case SUBINTERP_DATA_LIST:
    case SUBINTERP_DATA_DICT: want = JSON_ARRAY; break;
    case SUBINTERP_DATA_QUEUE:
    case SUBINTERP_DATA_INTERPRETER: return 0; /* an id, resolved later */
    default: want = JSON_STRING; break;         /* str, hex, kind names */
    }
    if (p->type == want) return 0;
    json_buf_printf(why, "{\"%s\": ...} has a payload of the wrong JSON type", tag);
    return -1;
}

static int classify(const json_value *v, tagged *t, json_buf *why) {
    const json_member *m;
    size_t i;
    t->raw_utf8 = 0;
    t->readonly = NULL;
    if (v->type != JSON_OBJECT) return classify_bare(v, t, why);
    if (v->len == 0) {
        json_buf_puts(why, "empty object is not a tagged value");
        return -1;
    }
    m = &v->u.members[0];
    t->readonly = json_get(v, "readonly");
    if (v->len == 2 && t->readonly && json_get(v, "buffer")) {
        m = json_get(v, "buffer") == &v->u.members[0].value ? &v->u.members[0] : &v->u.members[1];
        if (t->readonly->type != JSON_BOOL) {
            json_buf_puts(why, "\"readonly\" must be true or false");
            return -1;
        }
    } else if (v->len != 1) {
        json_buf_puts(why, "a tagged value has exactly one key (a buffer may add \"readonly\")");
        return -1;
    }
    for (i = 0; i < sizeof kTags / sizeof kTags[0]; i++) {
        if (strcmp(m->key, kTags[i].tag) != 0 || strlen(m->key) != m->key_len) continue;
        t->kind = kTags[i].kind;
        t->raw_utf8 = kTags[i].raw_utf8;
        t->payload = &m->value;
        return check_payload(t, kTags[i].tag, why);
    }
    json_buf_puts(why, "unknown tag ");
    json_buf_string(why, m->key, m->key_len);
    return -1;
}

/* The int payload (a number or a decimal string) as minimal bytes. */
static int int_payload(const json_value *p, unsigned char **bytes, size_t *len, json_buf *why) {
    int64_t n;
    if (p->type == JSON_NUMBER) {
        if (json_int64(p, &n) == 0) {
            *bytes = xmalloc(8);
            *len = int64_to_bytes(n, *bytes);
            return 0;
        }
        json_buf_printf(why, "{\"int\": %s}: a number must be an integer that fits int64 (else a decimal string)",
                        p->u.number);
        return -1;
    }
    if (strlen(p->u.string) == p->len && int_from_decimal(p->u.string, p->len, bytes, len) == 0) return 0;
    json_buf_puts(why, "{\"int\": \"...\"} needs a decimal integer string, got ");
    json_buf_string(why, p->u.string, p->len);
    return -1;
}

static int float_payload(const json_value *p, double *out, json_buf *why) {
    if (p->type == JSON_NUMBER) {
        *out = json_double(p);
        if (!isinf(*out)) return 0;
        json_buf_printf(why, "{\"float\": %s} overflows a double (write \"inf\")", p->u.number);
        return -1;
    }
    if (json_is_string(p, "nan")) *out = NAN;
    else if (json_is_string(p, "inf")) *out = INFINITY;
    else if (json_is_string(p, "-inf")) *out = -INFINITY;
    else if (json_is_string(p, "-0.0")) *out = -0.0;
    else {
        json_buf_puts(why, "{\"float\": \"...\"} must be \"nan\", \"inf\", \"-inf\" or \"-0.0\"");
        return -1;
    }
    return 0;
}

/* The contents of a str (text or raw hex) or of a hex kind, as new bytes. */
static int bytes_payload(const tagged *t, unsigned char **bytes, size_t *len, json_buf *why) {
    const json_value *p = t->payload;
    if (t->kind == SUBINTERP_DATA_STR && !t->raw_utf8) {
        *bytes = xmalloc(p->len + 1);
        memcpy(*bytes, p->u.string, p->len + 1);
        *len = p->len;
        return 0;
    }
    if (hex_decode(p->u.string, p->len, bytes, len) == 0) return 0;
    json_buf_printf(why, "bad hex for %s: lower-case hex digits, even length", kind_name(t->kind));
    return -1;
}

static int dict_entry_shape(const json_value *entry, json_buf *why) {
    if (entry->type == JSON_ARRAY && entry->len == 2) return 0;
    json_buf_puts(why, "a dict entry is a [KEY, VALUE] array");
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Building values                                                          */
/* ------------------------------------------------------------------------ */

typedef struct build_ctx {
    const bindings *b;
    call_result *result;
    json_buf *why;
} build_ctx;

static int build(build_ctx *c, const json_value *v, subinterp_data **out);

/* Records a constructor's status: 0 on success, 1 on failure. */
static int constructed(build_ctx *c, const char *function, subinterp_status st, subinterp_error *err) {
    if (st == SUBINTERP_OK) {
        API(subinterp_error_free)(err); /* the ABI leaves it untouched; be safe */
        return 0;
    }
    call_result_set(c->result, function, st, err);
    return 1;
}

static void free_all(subinterp_data **items, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) API(subinterp_data_free)(items[i]);
}

/* Builds items[i] from the array's elements; on failure frees what it built. */
static int build_each(build_ctx *c, const json_value *array, subinterp_data **items) {
    size_t i;
    for (i = 0; i < array->len; i++) {
        int rc = build(c, &array->u.items[i], &items[i]);
        if (rc) {
            free_all(items, i);
            return rc;
        }
    }
    return 0;
}

static int build_sequence(build_ctx *c, const tagged *t, subinterp_data **out) {
    const json_value *array = t->payload;
    subinterp_data **items = xcalloc(array->len, sizeof *items);
    subinterp_error *err = NULL;
    subinterp_status st;
    int rc = build_each(c, array, items);
    if (rc == 0) {
        const subinterp_data *const *borrowed = (const subinterp_data *const *)items;
        if (t->kind == SUBINTERP_DATA_TUPLE) {
            st = API(subinterp_data_new_tuple)(borrowed, array->len, out, &err);
            rc = constructed(c, "subinterp_data_new_tuple", st, err);
        } else {
            st = API(subinterp_data_new_list)(borrowed, array->len, out, &err);
            rc = constructed(c, "subinterp_data_new_list", st, err);
        }
        free_all(items, array->len); /* the container took its own references */
    }
    free(items);
    return rc;
}

static int build_dict(build_ctx *c, const json_value *entries, subinterp_data **out) {
    size_t n = entries->len, i;
    subinterp_data **keys = xcalloc(n, sizeof *keys), **values = xcalloc(n, sizeof *values);
    subinterp_error *err = NULL;
    int rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        const json_value *entry = &entries->u.items[i];
        if (dict_entry_shape(entry, c->why) < 0) rc = -1;
        else if ((rc = build(c, &entry->u.items[0], &keys[i])) == 0 &&
                 (rc = build(c, &entry->u.items[1], &values[i])) != 0) {
            API(subinterp_data_free)(keys[i]);
            keys[i] = NULL;
        }
    }
    if (rc == 0) {
        subinterp_status st = API(subinterp_data_new_dict)((const subinterp_data *const *)keys,
                                                           (const subinterp_data *const *)values, n, out, &err);
        rc = constructed(c, "subinterp_data_new_dict", st, err);
    }
    free_all(keys, n); /* NULL slots are fine: subinterp_data_free accepts NULL */
    free_all(values, n);
    free(keys);
    free(values);
    return rc;
}

static void release_copy(void *context, void *data) {
    (void)context;
    free(data);
}

/* A writable buffer is library memory (subinterp_data_new_buffer); a
 * read-only one is host memory handed over (..._buffer_external), which is
 * the only way to make one read-only. */
static int build_buffer(build_ctx *c, const tagged *t, subinterp_data **out) {
    unsigned char *bytes;
    size_t len;
    subinterp_error *err = NULL;
    subinterp_status st;
    void *memory = NULL;
    if (bytes_payload(t, &bytes, &len, c->why) < 0) return -1;
    if (t->readonly && t->readonly->u.boolean) {
        st = API(subinterp_data_new_buffer_external)(bytes, len, 1, release_copy, NULL, out, &err);
        if (st != SUBINTERP_OK) free(bytes); /* on failure nothing was taken over */
        return constructed(c, "subinterp_data_new_buffer_external", st, err);
    }
    st = API(subinterp_data_new_buffer)(len, &memory, out, &err);
    if (st == SUBINTERP_OK && len) memcpy(memory, bytes, len);
    free(bytes);
    return constructed(c, "subinterp_data_new_buffer", st, err);
}

static int build_int(build_ctx *c, const json_value *p, subinterp_data **out) {
    subinterp_error *err = NULL;
    subinterp_status st;
    unsigned char *bytes;
    size_t len;
    int64_t n;
    /* numbers through new_int, decimal strings through new_int_bytes: both
     * constructors get exercised, and ints of any size are possible */
    if (p->type == JSON_NUMBER && json_int64(p, &n) == 0) {
        st = API(subinterp_data_new_int)(n, out, &err);
        return constructed(c, "subinterp_data_new_int", st, err);
    }
    if (int_payload(p, &bytes, &len, c->why) < 0) return -1;
    st = API(subinterp_data_new_int_bytes)(bytes, len, out, &err);
    free(bytes);
    return constructed(c, "subinterp_data_new_int_bytes", st, err);
}

static int build_bytes_kind(build_ctx *c, const tagged *t, subinterp_data **out) {
    subinterp_error *err = NULL;
    subinterp_status st;
    unsigned char *bytes;
    size_t len;
    int rc;
    if (bytes_payload(t, &bytes, &len, c->why) < 0) return -1;
    switch (t->kind) {
    case SUBINTERP_DATA_STR:
        st = API(subinterp_data_new_str)((const char *)bytes, len, out, &err);
        rc = constructed(c, "subinterp_data_new_str", st, err);
        break;
    case SUBINTERP_DATA_BYTES:
        st = API(subinterp_data_new_bytes)(bytes, len, out, &err);
        rc = constructed(c, "subinterp_data_new_bytes", st, err);
        break;
    default:
        st = API(subinterp_data_new_pickled)(bytes, len, out, &err);
        rc = constructed(c, "subinterp_data_new_pickled", st, err);
        break;
    }
    free(bytes);
    return rc;
}

static int build_handle(build_ctx *c, const tagged *t, subinterp_data **out) {
    subinterp_error *err = NULL;
    subinterp_status st;
    int64_t id;
    if (value_resolve_id(t->payload, c->b, &id, c->why) < 0) return -1;
    if (t->kind == SUBINTERP_DATA_QUEUE) {
        st = API(subinterp_data_new_queue)(id, out, &err);
        return constructed(c, "subinterp_data_new_queue", st, err);
    }
    st = API(subinterp_data_new_interpreter)(id, out, &err);
    return constructed(c, "subinterp_data_new_interpreter", st, err);
}

static int build(build_ctx *c, const json_value *v, subinterp_data **out) {
    subinterp_error *err = NULL;
    subinterp_status st;
    tagged t;
    double f;
    *out = NULL;
    if (classify(v, &t, c->why) < 0) return -1;
    switch (t.kind) {
    case SUBINTERP_DATA_NONE:
        st = API(subinterp_data_new_none)(out, &err);
        return constructed(c, "subinterp_data_new_none", st, err);
    case SUBINTERP_DATA_BOOL:
        st = API(subinterp_data_new_bool)(t.payload->u.boolean, out, &err);
        return constructed(c, "subinterp_data_new_bool", st, err);
    case SUBINTERP_DATA_INT: return build_int(c, t.payload, out);
    case SUBINTERP_DATA_FLOAT:
        if (float_payload(t.payload, &f, c->why) < 0) return -1;
        st = API(subinterp_data_new_float)(f, out, &err);
        return constructed(c, "subinterp_data_new_float", st, err);
    case SUBINTERP_DATA_STR:
    case SUBINTERP_DATA_BYTES:
    case SUBINTERP_DATA_PICKLED: return build_bytes_kind(c, &t, out);
    case SUBINTERP_DATA_TUPLE:
    case SUBINTERP_DATA_LIST: return build_sequence(c, &t, out);
    case SUBINTERP_DATA_DICT: return build_dict(c, t.payload, out);
    case SUBINTERP_DATA_BUFFER: return build_buffer(c, &t, out);
    case SUBINTERP_DATA_QUEUE:
    case SUBINTERP_DATA_INTERPRETER: return build_handle(c, &t, out);
    default: json_buf_puts(c->why, "{\"any\": ...} is only allowed in expectations"); return -1;
    }
}

int value_build(const json_value *tagged_value, const bindings *b, subinterp_data **out, call_result *result,
                json_buf *why) {
    build_ctx c;
    c.b = b;
    c.result = result;
    c.why = why;
    return build(&c, tagged_value, out);
}

/* ------------------------------------------------------------------------ */
/* Views: what a value holds, read with the typed getters                   */
/* ------------------------------------------------------------------------ */

static void view_init(value_view *v, subinterp_data_kind kind) {
    memset(v, 0, sizeof *v);
    v->kind = kind;
}

void value_view_int64(value_view *v, int64_t n) {
    view_init(v, SUBINTERP_DATA_INT);
    v->owned = xmalloc(8);
    v->len = int64_to_bytes(n, v->owned);
    v->bytes = v->owned;
}

void value_view_int_bytes(value_view *v, const void *bytes, size_t len) {
    view_init(v, SUBINTERP_DATA_INT);
    v->owned = xmalloc(len);
    if (len) memcpy(v->owned, bytes, len);
    v->len = len;
    v->bytes = v->owned;
}

void value_view_free(value_view *v) {
    free(v->owned);
    v->owned = NULL;
    v->bytes = NULL;
}

/* Any int as bytes: size with a first call, then read. */
static subinterp_status read_int(const subinterp_data *d, value_view *v, subinterp_error **err) {
    size_t len = 0;
    subinterp_status st = API(subinterp_data_get_int_bytes)(d, NULL, 0, &len, err);
    view_init(v, SUBINTERP_DATA_INT);
    if (st != SUBINTERP_OK) return st;
    v->owned = xmalloc(len);
    st = API(subinterp_data_get_int_bytes)(d, v->owned, len, &len, err);
    v->bytes = v->owned;
    v->len = len;
    return st;
}

/* Reads `d` into a view. 0, or 1 with `r` holding the getter's failure. */
static int view_of(const subinterp_data *d, value_view *v, call_result *r) {
    subinterp_error *err = NULL;
    subinterp_status st = SUBINTERP_OK;
    const char *fn = NULL;
    const void *bytes = NULL;
    const char *utf8 = NULL;
    void *memory = NULL;
    subinterp_data_kind kind = API(subinterp_data_get_kind)(d);
    view_init(v, kind);
    switch (kind) {
    case SUBINTERP_DATA_BOOL:
        fn = "subinterp_data_get_bool";
        st = API(subinterp_data_get_bool)(d, &v->flag, &err);
        break;
    case SUBINTERP_DATA_INT:
        fn = "subinterp_data_get_int_bytes";
        st = read_int(d, v, &err);
        break;
    case SUBINTERP_DATA_FLOAT:
        fn = "subinterp_data_get_float";
        st = API(subinterp_data_get_float)(d, &v->number, &err);
        break;
    case SUBINTERP_DATA_STR:
        fn = "subinterp_data_get_str";
        st = API(subinterp_data_get_str)(d, &utf8, &v->len, &err);
        bytes = utf8;
        break;
    case SUBINTERP_DATA_BYTES:
        fn = "subinterp_data_get_bytes";
        st = API(subinterp_data_get_bytes)(d, &bytes, &v->len, &err);
        break;
    case SUBINTERP_DATA_PICKLED:
        fn = "subinterp_data_get_pickled";
        st = API(subinterp_data_get_pickled)(d, &bytes, &v->len, &err);
        break;
    case SUBINTERP_DATA_BUFFER:
        fn = "subinterp_data_get_buffer";
        st = API(subinterp_data_get_buffer)(d, &memory, &v->len, &v->flag, &err);
        bytes = memory;
        break;
    case SUBINTERP_DATA_QUEUE:
        fn = "subinterp_data_get_queue";
        st = API(subinterp_data_get_queue)(d, &v->id, &err);
        break;
    case SUBINTERP_DATA_INTERPRETER:
        fn = "subinterp_data_get_interpreter";
        st = API(subinterp_data_get_interpreter)(d, &v->id, &err);
        break;
    case SUBINTERP_DATA_TUPLE:
    case SUBINTERP_DATA_LIST:
    case SUBINTERP_DATA_DICT: v->data = d; break; /* items are read as they are compared */
    default: break;
    }
    if (bytes) v->bytes = bytes;
    if (st == SUBINTERP_OK) {
        API(subinterp_error_free)(err);
        return 0;
    }
    value_view_free(v);
    call_result_set(r, fn, st, err);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* Comparing with expectations                                              */
/* ------------------------------------------------------------------------ */

typedef struct match_ctx {
    const bindings *b;
    json_buf *why;
    json_buf path; /* where in the value we are, e.g. "[1][key 0]" */
} match_ctx;

static int match_view(match_ctx *m, const json_value *expected, const value_view *actual);

static int mismatch(match_ctx *m, const char *what) {
    if (m->path.len) json_buf_printf(m->why, "at %s: ", m->path.data);
    json_buf_puts(m->why, what);
    return 0;
}

static int kind_mismatch(match_ctx *m, int expected, int actual) {
    char text[80];
    snprintf(text, sizeof text, "expected kind %s, got %s", kind_name(expected), kind_name(actual));
    return mismatch(m, text);
}

static int getter_failed(match_ctx *m, call_result *r) {
    json_buf text;
    json_buf_init(&text);
    call_result_describe(&text, r);
    call_result_clear(r);
    mismatch(m, text.data);
    json_buf_free(&text);
    return 0;
}

/* Matches a value at path + segment (e.g. "[2]"; "" at the root). */
static int match_value_at(match_ctx *m, const json_value *expected, const subinterp_data *actual,
                          const char *segment) {
    size_t mark = m->path.len;
    value_view view;
    call_result r;
    int rc;
    call_result_init(&r);
    json_buf_puts(&m->path, segment);
    if (view_of(actual, &view, &r)) rc = getter_failed(m, &r);
    else rc = match_view(m, expected, &view);
    value_view_free(&view);
    m->path.len = mark;
    m->path.data[mark] = '\0';
    return rc;
}

/* Floats per the spec: NaN equals NaN, -0.0 differs from 0.0. */
static int float_equal(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static int bytes_equal(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen) {
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int match_contents(match_ctx *m, const tagged *t, const value_view *actual) {
    unsigned char *bytes;
    size_t len;
    int equal;
    if (t->kind == SUBINTERP_DATA_INT) {
        if (int_payload(t->payload, &bytes, &len, m->why) < 0) return -1;
    } else if (bytes_payload(t, &bytes, &len, m->why) < 0) {
        return -1;
    }
    equal = bytes_equal(bytes, len, actual->bytes, actual->len);
    free(bytes);
    if (!equal) return mismatch(m, t->kind == SUBINTERP_DATA_INT ? "different int" : "different contents");
    if (t->kind == SUBINTERP_DATA_BUFFER && t->readonly && !t->readonly->u.boolean != !actual->flag)
        return mismatch(m, actual->flag ? "buffer is read-only" : "buffer is writable");
    return 1;
}

/* Item i of a container view: from the value, or from a pair. */
static int container_len(match_ctx *m, const value_view *v, size_t *len) {
    subinterp_error *err = NULL;
    subinterp_status st;
    call_result r;
    if (!v->data) {
        *len = 2;
        return 1;
    }
    st = API(subinterp_data_get_len)(v->data, len, &err);
    if (st == SUBINTERP_OK) return 1;
    call_result_init(&r);
    call_result_set(&r, "subinterp_data_get_len", st, err);
    return getter_failed(m, &r);
}

static int match_sequence(match_ctx *m, const json_value *items, const value_view *actual) {
    size_t len, i;
    int rc = container_len(m, actual, &len);
    if (rc != 1) return rc;
    if (len != items->len) {
        json_buf text;
        json_buf_init(&text);
        json_buf_printf(&text, "expected %zu items, got %zu", items->len, len);
        mismatch(m, text.data);
        json_buf_free(&text);
        return 0;
    }
    for (i = 0; i < len && rc == 1; i++) {
        const subinterp_data *item = NULL;
        if (!actual->data) {
            item = actual->pair[i];
        } else {
            subinterp_error *err = NULL;
            subinterp_status st = API(subinterp_data_get_item)(actual->data, i, &item, &err);
            if (st != SUBINTERP_OK) {
                call_result r;
                call_result_init(&r);
                call_result_set(&r, "subinterp_data_get_item", st, err);
                return getter_failed(m, &r);
            }
        }
        char segment[32];
        snprintf(segment, sizeof segment, "[%zu]", i);
        rc = match_value_at(m, &items->u.items[i], item, segment);
    }
    return rc;
}

static int match_dict(match_ctx *m, const json_value *entries, const value_view *actual) {
    size_t len, i;
    int rc = container_len(m, actual, &len);
    if (rc != 1) return rc;
    for (i = 0; i < entries->len; i++)
        if (dict_entry_shape(&entries->u.items[i], m->why) < 0) return -1;
    if (len != entries->len) {
        json_buf text;
        json_buf_init(&text);
        json_buf_printf(&text, "expected %zu entries, got %zu", entries->len, len);
        mismatch(m, text.data);
        json_buf_free(&text);
        return 0;
    }
    for (i = 0; i < len && rc == 1; i++) {
        const subinterp_data *key = NULL, *value = NULL;
        const json_value *entry = &entries->u.items[i];
        subinterp_error *err = NULL;
        subinterp_status st = API(subinterp_data_get_entry)(actual->data, i, &key, &value, &err);
        if (st != SUBINTERP_OK) {
            call_result r;
            call_result_init(&r);
            call_result_set(&r, "subinterp_data_get_entry", st, err);
            return getter_failed(m, &r);
        }
        char segment[40];
        snprintf(segment, sizeof segment, "[key %zu]", i);
        rc = match_value_at(m, &entry->u.items[0], key, segment);
        snprintf(segment, sizeof segment, "[value %zu]", i);
        if (rc == 1) rc = match_value_at(m, &entry->u.items[1], value, segment);
    }
    return rc;
}

static int match_handle(match_ctx *m, const tagged *t, const value_view *actual) {
    int64_t id;
    if (value_resolve_id(t->payload, m->b, &id, m->why) < 0) return -1;
    if (id == actual->id) return 1;
    return mismatch(m, "different id");
}

static int match_view(match_ctx *m, const json_value *expected, const value_view *actual) {
    tagged t;
    double f;
    if (classify(expected, &t, m->why) < 0) return -1;
    if (t.kind == KIND_ANY) {
        int want = kind_from_name(t.payload);
        if (want < 0) {
            json_buf_puts(m->why, "{\"any\": KIND} needs a kind name");
            return -1;
        }
        return (int)actual->kind == want ? 1 : kind_mismatch(m, want, (int)actual->kind);
    }
    if ((int)actual->kind != t.kind) return kind_mismatch(m, t.kind, (int)actual->kind);
    switch (t.kind) {
    case SUBINTERP_DATA_NONE: return 1;
    case SUBINTERP_DATA_BOOL: return !t.payload->u.boolean == !actual->flag ? 1 : mismatch(m, "different bool");
    case SUBINTERP_DATA_FLOAT:
        if (float_payload(t.payload, &f, m->why) < 0) return -1;
        return float_equal(f, actual->number) ? 1 : mismatch(m, "different float");
    case SUBINTERP_DATA_TUPLE:
    case SUBINTERP_DATA_LIST: return match_sequence(m, t.payload, actual);
    case SUBINTERP_DATA_DICT: return match_dict(m, t.payload, actual);
    case SUBINTERP_DATA_QUEUE:
    case SUBINTERP_DATA_INTERPRETER: return match_handle(m, &t, actual);
    default: return match_contents(m, &t, actual);
    }
}

int value_match_view(const json_value *expected, const value_view *actual, const bindings *b, json_buf *why) {
    match_ctx m;
    int rc;
    m.b = b;
    m.why = why;
    json_buf_init(&m.path);
    rc = match_view(&m, expected, actual);
    json_buf_free(&m.path);
    return rc;
}

int value_match(const json_value *expected, const subinterp_data *actual, const bindings *b, json_buf *why) {
    match_ctx m;
    int rc;
    if (!actual) {
        tagged t;
        if (classify(expected, &t, why) < 0) return -1;
        json_buf_puts(why, "got the UNBOUND marker (no value)");
        return 0;
    }
    m.b = b;
    m.why = why;
    json_buf_init(&m.path);
    rc = match_value_at(&m, expected, actual, "");
    json_buf_free(&m.path);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Rendering                                                                */
/* ------------------------------------------------------------------------ */

/* The shortest %.Ng that reads back as the same double. */
static void render_double(json_buf *out, double x) {
    char text[40];
    int digits;
    if (isnan(x)) {
        json_buf_puts(out, "\"nan\"");
        return;
    }
    if (isinf(x)) {
        json_buf_puts(out, x > 0 ? "\"inf\"" : "\"-inf\"");
        return;
    }
    if (x == 0 && signbit(x)) {
        json_buf_puts(out, "\"-0.0\"");
        return;
    }
    for (digits = 15; digits < 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, x);
        if (strtod(text, NULL) == x) break;
    }
    snprintf(text, sizeof text, "%.*g", digits, x);
    json_buf_puts(out, text);
}

/* Bare within 2^53 - 1, as cases write ints; {"int": "..."} beyond. */
static void render_int(json_buf *out, const unsigned char *bytes, size_t len) {
    if (len <= 7) {
        uint64_t u = len && (bytes[len - 1] & 0x80) ? UINT64_MAX : 0; /* the sign, extended */
        int64_t n;
        size_t i;
        for (i = len; i-- > 0;) u = (u << 8) | bytes[i];
        n = (int64_t)u;
        if (n <= MAX_BARE_INT && n >= -MAX_BARE_INT) {
            json_buf_printf(out, "%lld", (long long)n);
            return;
        }
    }
    json_buf_puts(out, "{\"int\": \"");
    int_to_decimal(out, bytes, len);
    json_buf_puts(out, "\"}");
}

static void render_hex_kind(json_buf *out, const char *tag, const value_view *v) {
    json_buf_printf(out, "{\"%s\": \"", tag);
    json_buf_hex(out, v->bytes, v->len);
    json_buf_puts(out, "\"");
    if (v->kind == SUBINTERP_DATA_BUFFER && v->flag) json_buf_puts(out, ", \"readonly\": true");
    json_buf_puts(out, "}");
}

static void render_container(json_buf *out, const value_view *v) {
    subinterp_error *err = NULL;
    size_t len = 2, i;
    if (v->data && API(subinterp_data_get_len)(v->data, &len, &err) != SUBINTERP_OK) {
        API(subinterp_error_free)(err);
        json_buf_puts(out, "\"<unreadable container>\"");
        return;
    }
    json_buf_printf(out, "{\"%s\": [", kind_name(v->kind));
    for (i = 0; i < len; i++) {
        const subinterp_data *key = NULL, *item = NULL;
        if (i) json_buf_puts(out, ", ");
        if (!v->data) item = v->pair[i];
        else if (v->kind == SUBINTERP_DATA_DICT) API(subinterp_data_get_entry)(v->data, i, &key, &item, &err);
        else API(subinterp_data_get_item)(v->data, i, &item, &err);
        API(subinterp_error_free)(err);
        err = NULL;
        if (v->kind == SUBINTERP_DATA_DICT) {
            json_buf_puts(out, "[");
            value_render(out, key);
            json_buf_puts(out, ", ");
            value_render(out, item);
            json_buf_puts(out, "]");
        } else {
            value_render(out, item);
        }
    }
    json_buf_puts(out, "]}");
}

void value_render_view(json_buf *out, const value_view *v) {
    switch (v->kind) {
    case SUBINTERP_DATA_NONE: json_buf_puts(out, "null"); break;
    case SUBINTERP_DATA_BOOL: json_buf_puts(out, v->flag ? "true" : "false"); break;
    case SUBINTERP_DATA_INT: render_int(out, v->bytes, v->len); break;
    case SUBINTERP_DATA_FLOAT:
        json_buf_puts(out, "{\"float\": ");
        render_double(out, v->number);
        json_buf_puts(out, "}");
        break;
    case SUBINTERP_DATA_STR:
        if (json_utf8_valid(v->bytes, v->len)) json_buf_string(out, v->bytes, v->len);
        else render_hex_kind(out, "str_utf8", v);
        break;
    case SUBINTERP_DATA_BYTES: render_hex_kind(out, "bytes", v); break;
    case SUBINTERP_DATA_BUFFER: render_hex_kind(out, "buffer", v); break;
    case SUBINTERP_DATA_PICKLED: render_hex_kind(out, "pickled", v); break;
    case SUBINTERP_DATA_QUEUE: json_buf_printf(out, "{\"queue\": %lld}", (long long)v->id); break;
    case SUBINTERP_DATA_INTERPRETER: json_buf_printf(out, "{\"interpreter\": %lld}", (long long)v->id); break;
    case SUBINTERP_DATA_TUPLE:
    case SUBINTERP_DATA_LIST:
    case SUBINTERP_DATA_DICT: render_container(out, v); break;
    default: json_buf_printf(out, "\"<invalid kind %d>\"", (int)v->kind); break;
    }
}

void value_render(json_buf *out, const subinterp_data *data) {
    value_view view;
    call_result r;
    if (!data) {
        json_buf_puts(out, "{\"unbound\": true}");
        return;
    }
    call_result_init(&r);
    if (view_of(data, &view, &r)) {
        json_buf text;
        json_buf_init(&text);
        json_buf_puts(&text, "<unreadable: ");
        call_result_describe(&text, &r);
        json_buf_puts(&text, ">");
        json_buf_string(out, text.data, text.len);
        json_buf_free(&text);
        call_result_clear(&r);
        return;
    }
    value_render_view(out, &view);
    value_view_free(&view);
}
