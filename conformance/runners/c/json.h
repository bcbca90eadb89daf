/* A small, strict JSON (RFC 8259) parser into a DOM, and a JSON writer.
 *
 * The parser takes a length-delimited byte buffer (no NUL terminator needed,
 * any bytes allowed) and either returns a tree or fails with a byte offset
 * and a message. It is meant to survive fuzzing: nesting is limited to
 * JSON_MAX_DEPTH, every allocation failure is reported, nothing leaks.
 *
 * Strictness, beyond the grammar:
 *  - the input must be UTF-8; invalid sequences (overlong forms, encoded
 *    surrogates, code points above U+10FFFF) are errors, and so is a
 *    byte-order mark;
 *  - a \uXXXX escape of a lone surrogate (a high one not followed by a low
 *    one, or a low one alone) is an error: the text it would stand for is not
 *    Unicode and could not be handed on as UTF-8;
 *  - an object with two equal keys is an error (the second would silently
 *    win in most parsers, hiding a mistake in a hand-written case).
 *
 * Numbers keep their source text, so a caller can read integers of any size
 * exactly or parse doubles with strtod; strings are decoded to UTF-8 with
 * their length (they may contain NUL bytes) and are also NUL-terminated. */
#ifndef CONFORMANCE_JSON_H
#define CONFORMANCE_JSON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Deep enough for the nesting tests of the data model: a container level of
 * a tagged value ({"tuple": [...]}) costs two JSON levels, and the library
 * accepts 256 container levels. */
#define JSON_MAX_DEPTH 1024

typedef enum json_type {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_ARRAY,
    JSON_OBJECT
} json_type;

typedef struct json_value json_value;
typedef struct json_member json_member;

struct json_value {
    json_type type;
    /* JSON_STRING: bytes (without the terminator); JSON_NUMBER: text length;
     * JSON_ARRAY: items; JSON_OBJECT: members. */
    size_t len;
    union {
        int boolean;          /* JSON_BOOL */
        char *string;         /* JSON_STRING: UTF-8, NUL-terminated */
        char *number;         /* JSON_NUMBER: the source text, NUL-terminated */
        json_value *items;    /* JSON_ARRAY */
        json_member *members; /* JSON_OBJECT, in source order */
    } u;
};

struct json_member {
    char *key; /* UTF-8, NUL-terminated */
    size_t key_len;
    json_value value;
};

typedef struct json_error {
    size_t offset; /* byte offset of the problem in the input */
    char message[120];
} json_error;

/* Parse `len` bytes. Returns the root (free it with json_free) or NULL with
 * *error filled (error may be NULL). */
json_value *json_parse(const void *data, size_t len, json_error *error);

/* Free a tree returned by json_parse. Accepts NULL. */
void json_free(json_value *root);

/* The value of member `key` of an object; NULL if absent or not an object. */
const json_value *json_get(const json_value *object, const char *key);

/* 1 if `value` is a string equal to `text` (no embedded NUL). */
int json_is_string(const json_value *value, const char *text);

/* 1 for a number written without fraction or exponent. */
int json_is_integer(const json_value *value);

/* An integer number that fits int64_t: 0 and *out set; else -1. */
int json_int64(const json_value *value, int64_t *out);

/* Any number as the nearest double (strtod of the source text). */
double json_double(const json_value *value);

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if the bytes there
 * are not one (n is how many bytes are available). */
size_t json_utf8_sequence(const unsigned char *p, size_t n);

/* 1 if the n bytes are valid UTF-8. */
int json_utf8_valid(const void *p, size_t n);

/* A growable text buffer, always NUL-terminated. Used for output lines and
 * failure details; allocation failure aborts (the runner cannot report
 * anything without memory anyway). */
typedef struct json_buf {
    char *data;
    size_t len;
    size_t cap;
} json_buf;

void json_buf_init(json_buf *b);
void json_buf_free(json_buf *b);
void json_buf_clear(json_buf *b);
void json_buf_append(json_buf *b, const void *bytes, size_t n);
void json_buf_puts(json_buf *b, const char *text);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
void json_buf_printf(json_buf *b, const char *format, ...);
void json_buf_vprintf(json_buf *b, const char *format, va_list args);
/* `n` bytes as a JSON string literal (quotes included). Bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON. */
void json_buf_string(json_buf *b, const void *bytes, size_t n);
/* A tree as compact JSON, members in source order. */
void json_buf_value(json_buf *b, const json_value *value);
/* Lower-case hex of n bytes. */
void json_buf_hex(json_buf *b, const void *bytes, size_t n);

#endif
