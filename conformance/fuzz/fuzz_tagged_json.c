/* libFuzzer target: the C conformance runner's strict JSON parser and its
 * tagged-value decoder (conformance/runners/c/json.c and values.c).
 *
 * The input is any bytes, treated as a JSON document. Checked, for every
 * input (a failed check aborts with a message, which libFuzzer reports as a
 * crash):
 *
 *  1. json_parse never crashes; a rejected input gets an error whose offset
 *     lies within the input and whose message is not empty.
 *  2. JSON writer round trip: a parsed tree written with json_buf_value
 *     parses again, into the same tree, and writing that tree gives the same
 *     text (the writer's output is a fixed point).
 *  3. Tagged decode (value_build): -1 (malformed) comes with a reason; 1 (the
 *     library refused a constructor) with a failed status and an error object
 *     carrying that status and a message; 0 with a value.
 *  4. A decoded value matches the tagged form it was decoded from
 *     (value_match == 1).
 *  5. Decode -> render -> parse -> decode: the rendered text is valid JSON, it
 *     decodes again (the library accepts it), both values match the rendered
 *     text, equal values stay equal (subinterp_data_equal, where it compares
 *     contents: buffers compare by identity, so not for those) and rendering
 *     the second value gives the same text.
 *  6. The matcher itself: the input used as an expectation against a few fixed
 *     values returns -1, 0 or 1, with a reason whenever it is not 1.
 *
 * No Python runs: the data constructors and queues need no runtime. The
 * library is linked directly; the runner's function table (normally filled
 * with dlsym by runner.c) is filled with the linked functions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "values.h"

#define CHECK(cond, ...)                                                           \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz_tagged_json: check failed at line %d: %s\n  ", \
                    __LINE__, #cond);                                              \
            fprintf(stderr, __VA_ARGS__);                                          \
            fputc('\n', stderr);                                                   \
            abort();                                                               \
        }                                                                          \
    } while (0)

static bindings fuzz_bindings;
static subinterp_data *fixed_values[4];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    int64_t queue_id = 0;
    subinterp_data *items[2];
    (void)argc;
    (void)argv;
#define FILL(name) api_table.name = name;
    SUBINTERP_FUNCTIONS(FILL)
#undef FILL
    /* Names a case could bind: an id, a live queue (so {"queue": "$q"}
     * decodes), and a value. */
    bindings_init(&fuzz_bindings);
    bindings_bind_id(&fuzz_bindings, "i", 7);
    if (subinterp_queue_create(NULL, &queue_id, NULL) != SUBINTERP_OK) abort();
    bindings_bind_id(&fuzz_bindings, "q", queue_id);
    if (subinterp_data_new_int(5, &fixed_values[0], NULL) != SUBINTERP_OK) abort();
    bindings_bind_value(&fuzz_bindings, "v", fixed_values[0]);
    if (subinterp_data_new_str("a\0b", 3, &items[0], NULL) != SUBINTERP_OK) abort();
    if (subinterp_data_new_float(-0.0, &items[1], NULL) != SUBINTERP_OK) abort();
    if (subinterp_data_new_tuple((const subinterp_data *const *)items, 2, &fixed_values[1], NULL) != SUBINTERP_OK)
        abort();
    if (subinterp_data_new_dict((const subinterp_data *const *)items, (const subinterp_data *const *)items + 1, 1,
                                &fixed_values[2], NULL) != SUBINTERP_OK)
        abort();
    if (subinterp_data_new_none(&fixed_values[3], NULL) != SUBINTERP_OK) abort();
    subinterp_data_free(items[0]);
    subinterp_data_free(items[1]);
    return 0;
}

/* Structural equality of two parsed trees (numbers by their text). */
static int json_same(const json_value *a, const json_value *b) {
    size_t i;
    if (a->type != b->type || a->len != b->len) return 0;
    switch (a->type) {
    case JSON_NULL: return 1;
    case JSON_BOOL: return !a->u.boolean == !b->u.boolean;
    case JSON_NUMBER: return strcmp(a->u.number, b->u.number) == 0;
    case JSON_STRING: return memcmp(a->u.string, b->u.string, a->len) == 0 && b->u.string[b->len] == '\0';
    case JSON_ARRAY:
        for (i = 0; i < a->len; i++)
            if (!json_same(&a->u.items[i], &b->u.items[i])) return 0;
        return 1;
    case JSON_OBJECT:
        for (i = 0; i < a->len; i++) {
            const json_member *x = &a->u.members[i], *y = &b->u.members[i];
            if (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0) return 0;
            if (!json_same(&x->value, &y->value)) return 0;
        }
        return 1;
    }
    return 0;
}

static json_value *parse_or_die(const char *what, const char *text, size_t len) {
    json_error error;
    json_value *tree;
    memset(&error, 0, sizeof error);
    tree = json_parse(text, len, &error);
    CHECK(tree != NULL, "%s does not parse (offset %zu: %s): %s", what, error.offset, error.message, text);
    return tree;
}

/* 1 if the value holds a buffer anywhere (buffers compare by identity). */
static int holds_buffer(const subinterp_data *d) {
    size_t len = 0, i;
    switch (subinterp_data_get_kind(d)) {
    case SUBINTERP_DATA_BUFFER: return 1;
    case SUBINTERP_DATA_TUPLE:
    case SUBINTERP_DATA_LIST:
        if (subinterp_data_get_len(d, &len, NULL) != SUBINTERP_OK) return 1;
        for (i = 0; i < len; i++) {
            const subinterp_data *item = NULL;
            if (subinterp_data_get_item(d, i, &item, NULL) != SUBINTERP_OK || holds_buffer(item)) return 1;
        }
        return 0;
    case SUBINTERP_DATA_DICT:
        if (subinterp_data_get_len(d, &len, NULL) != SUBINTERP_OK) return 1;
        for (i = 0; i < len; i++) {
            const subinterp_data *key = NULL, *value = NULL;
            if (subinterp_data_get_entry(d, i, &key, &value, NULL) != SUBINTERP_OK) return 1;
            if (holds_buffer(key) || holds_buffer(value)) return 1;
        }
        return 0;
    default: return 0;
    }
}

/* value_build with the checks of its documented outcomes. */
static int build_checked(const json_value *tagged, subinterp_data **out, const char *text) {
    call_result result;
    json_buf why;
    int rc;
    call_result_init(&result);
    json_buf_init(&why);
    rc = value_build(tagged, &fuzz_bindings, out, &result, &why);
    CHECK(rc == -1 || rc == 0 || rc == 1, "value_build returned %d", rc);
    if (rc == -1) {
        CHECK(why.len > 0, "malformed without a reason");
        CHECK(*out == NULL, "malformed but a value was returned");
    } else if (rc == 1) {
        const char *name = subinterp_status_name(result.status);
        CHECK(result.status != SUBINTERP_OK, "refused with SUBINTERP_OK");
        CHECK(result.error != NULL, "%s: refused without an error object", result.function);
        CHECK(subinterp_error_code(result.error) == result.status, "error code %d != status %d",
              subinterp_error_code(result.error), result.status);
        CHECK(strcmp(name, "SUBINTERP_ERR_UNKNOWN") != 0, "unknown status %d", result.status);
        CHECK(subinterp_error_message(result.error)[0] != '\0', "%s: empty error message", name);
        CHECK(subinterp_error_exc_qualname(result.error) == NULL, "a constructor error carries a Python exception");
        CHECK(*out == NULL, "refused but a value was returned");
    } else {
        CHECK(*out != NULL, "decoded without a value: %s", text);
    }
    call_result_clear(&result);
    json_buf_free(&why);
    return rc;
}

static void match_checked(const json_value *expected, const subinterp_data *actual, int want_match,
                          const char *expected_text) {
    json_buf why;
    int rc;
    json_buf_init(&why);
    rc = value_match(expected, actual, &fuzz_bindings, &why);
    CHECK(rc == -1 || rc == 0 || rc == 1, "value_match returned %d", rc);
    if (rc != 1) CHECK(why.len > 0, "value_match %d without a reason", rc);
    if (want_match) {
        json_buf got;
        json_buf_init(&got);
        value_render(&got, actual);
        CHECK(rc == 1, "a value does not match its own tagged form %s (rc %d: %s); rendered: %s", expected_text,
              rc, why.data, got.data);
        json_buf_free(&got);
    }
    json_buf_free(&why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_error error;
    json_value *root, *again, *rendered_tree, *rendered_again;
    json_buf text, text2, rendered, rendered2;
    subinterp_data *value = NULL, *value2 = NULL;
    size_t i;
    int rc;

    /* 1. parse */
    memset(&error, 0, sizeof error);
    root = json_parse(data, size, &error);
    if (!root) {
        CHECK(error.offset <= size, "error offset %zu beyond the input (%zu bytes)", error.offset, size);
        CHECK(memchr(error.message, '\0', sizeof error.message) != NULL, "error message not terminated");
        CHECK(error.message[0] != '\0', "parse failed without a message");
        return 0;
    }

    /* 2. writer round trip */
    json_buf_init(&text);
    json_buf_init(&text2);
    json_buf_value(&text, root);
    CHECK(json_utf8_valid(text.data, text.len), "the writer produced invalid UTF-8");
    again = parse_or_die("the written tree", text.data, text.len);
    CHECK(json_same(root, again), "written and parsed again, the tree differs: %s", text.data);
    json_buf_value(&text2, again);
    CHECK(text.len == text2.len && memcmp(text.data, text2.data, text.len) == 0,
          "writing is not a fixed point:\n  %s\n  %s", text.data, text2.data);
    json_free(again);

    /* 3-5. tagged decode, match, render round trip */
    rc = build_checked(root, &value, text.data);
    if (rc == 0) {
        match_checked(root, value, 1, text.data);
        json_buf_init(&rendered);
        json_buf_init(&rendered2);
        value_render(&rendered, value);
        rendered_tree = parse_or_die("the rendered value", rendered.data, rendered.len);
        rc = build_checked(rendered_tree, &value2, rendered.data);
        CHECK(rc == 0, "the rendered form of a value does not decode (rc %d): %s", rc, rendered.data);
        match_checked(rendered_tree, value, 1, rendered.data);
        match_checked(rendered_tree, value2, 1, rendered.data);
        match_checked(root, value2, 1, text.data);
        if (!holds_buffer(value)) {
            CHECK(subinterp_data_equal(value, value2), "decode(render(v)) != v: %s", rendered.data);
        }
        value_render(&rendered2, value2);
        CHECK(rendered.len == rendered2.len && memcmp(rendered.data, rendered2.data, rendered.len) == 0,
              "rendering is not a fixed point:\n  %s\n  %s", rendered.data, rendered2.data);
        rendered_again = parse_or_die("the rendered value", rendered2.data, rendered2.len);
        json_free(rendered_again);
        json_free(rendered_tree);
        json_buf_free(&rendered);
        json_buf_free(&rendered2);
        subinterp_data_free(value2);
    }

    /* 6. the input as an expectation for fixed values */
    for (i = 0; i < sizeof fixed_values / sizeof fixed_values[0]; i++) match_checked(root, fixed_values[i], 0, NULL);
    match_checked(root, NULL, 0, NULL); /* the UNBOUND marker equals nothing */

    subinterp_data_free(value);
    json_free(root);
    json_buf_free(&text);
    json_buf_free(&text2);
    return 0;
}
