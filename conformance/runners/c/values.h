/* The conformance runner's view of the library: the table of every C ABI
 * function (resolved with dlsym, calls counted per symbol), named bindings,
 * and the tagged JSON values of docs/conformance.md turned into
 * subinterp_data, compared with it and rendered back. */
#ifndef CONFORMANCE_VALUES_H
#define CONFORMANCE_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include "json.h"
#include "subinterp.h" /* types and constants only: functions come from dlsym */

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

/* The runner cannot report anything without memory: these print a message
 * and abort instead of returning NULL (the driver reports the case). A size
 * of 0 allocates one byte, so the result is never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
/* `items` grown (by doubling) to hold at least `need` elements of `size`
 * bytes; *cap is updated. */
void *xgrow(void *items, size_t *cap, size_t need, size_t size);

/* ------------------------------------------------------------------------ */
/* The function table                                                       */
/* ------------------------------------------------------------------------ */

/* Every function declared in subinterp.h, in header order. A function added
 * to the header but not here is caught by the driver's coverage check (it
 * compares the coverage file with the header). */
#define SUBINTERP_FUNCTIONS(X) \
    X(subinterp_version) \
    X(subinterp_version_string) \
    X(subinterp_python_version) \
    X(subinterp_python_version_string) \
    X(subinterp_error_code) \
    X(subinterp_error_message) \
    X(subinterp_error_exc_module) \
    X(subinterp_error_exc_qualname) \
    X(subinterp_error_traceback) \
    X(subinterp_status_name) \
    X(subinterp_error_free) \
    X(subinterp_free) \
    X(subinterp_runtime_options_init) \
    X(subinterp_runtime_init) \
    X(subinterp_runtime_finalize) \
    X(subinterp_runtime_get_mode) \
    X(subinterp_config_init) \
    X(subinterp_config_validate) \
    X(subinterp_create) \
    X(subinterp_destroy) \
    X(subinterp_list) \
    X(subinterp_main_id) \
    X(subinterp_current_id) \
    X(subinterp_is_running) \
    X(subinterp_get_config) \
    X(subinterp_run_options_init) \
    X(subinterp_output_stdout) \
    X(subinterp_output_stderr) \
    X(subinterp_output_free) \
    X(subinterp_exec) \
    X(subinterp_call) \
    X(subinterp_prepare_main) \
    X(subinterp_data_new_none) \
    X(subinterp_data_new_bool) \
    X(subinterp_data_new_int) \
    X(subinterp_data_new_int_bytes) \
    X(subinterp_data_new_float) \
    X(subinterp_data_new_str) \
    X(subinterp_data_new_bytes) \
    X(subinterp_data_new_tuple) \
    X(subinterp_data_new_list) \
    X(subinterp_data_new_dict) \
    X(subinterp_data_new_buffer) \
    X(subinterp_data_new_buffer_external) \
    X(subinterp_data_new_pickled) \
    X(subinterp_data_new_interpreter) \
    X(subinterp_data_ref) \
    X(subinterp_data_free) \
    X(subinterp_data_get_kind) \
    X(subinterp_data_kind_name) \
    X(subinterp_data_get_bool) \
    X(subinterp_data_get_int) \
    X(subinterp_data_get_int_bytes) \
    X(subinterp_data_get_float) \
    X(subinterp_data_get_str) \
    X(subinterp_data_get_bytes) \
    X(subinterp_data_get_buffer) \
    X(subinterp_data_get_pickled) \
    X(subinterp_data_new_queue) \
    X(subinterp_data_get_queue) \
    X(subinterp_data_get_interpreter) \
    X(subinterp_data_get_len) \
    X(subinterp_data_get_item) \
    X(subinterp_data_get_entry) \
    X(subinterp_data_equal) \
    X(subinterp_data_repr) \
    X(subinterp_queue_options_init) \
    X(subinterp_queue_create) \
    X(subinterp_queue_retain) \
    X(subinterp_queue_release) \
    X(subinterp_queue_destroy) \
    X(subinterp_queue_close) \
    X(subinterp_queue_put) \
    X(subinterp_queue_get) \
    X(subinterp_queue_size) \
    X(subinterp_queue_get_info) \
    X(subinterp_queue_list) \
    X(subinterp_interrupt) \
    X(subinterp_check_imports) \
    X(subinterp_pool_options_init) \
    X(subinterp_pool_create) \
    X(subinterp_pool_submit) \
    X(subinterp_pool_call) \
    X(subinterp_pool_map) \
    X(subinterp_pool_shutdown) \
    X(subinterp_pool_check) \
    X(subinterp_pool_get_stats) \
    X(subinterp_pool_get_worker) \
    X(subinterp_pool_free) \
    X(subinterp_future_get_state) \
    X(subinterp_future_wait) \
    X(subinterp_future_result) \
    X(subinterp_future_cancel) \
    X(subinterp_future_on_done) \
    X(subinterp_future_free)

enum api_index {
#define API_INDEX(name) API_INDEX_##name,
    SUBINTERP_FUNCTIONS(API_INDEX)
#undef API_INDEX
    API_COUNT
};

/* Pointer types come from the header's own prototypes (__typeof__, as in
 * capi/tests/test_dlopen.c): a prototype change is a compile error here,
 * never a silently wrong call. */
typedef struct subinterp_api {
#define API_POINTER(name) __typeof__(name) *name;
    SUBINTERP_FUNCTIONS(API_POINTER)
#undef API_POINTER
} subinterp_api;

extern subinterp_api api_table;             /* filled once by runner.c */
extern unsigned long api_calls[API_COUNT]; /* calls per function, for --coverage */
extern const char *const api_names[API_COUNT];

/* Every call goes through this, so each one is counted:
 *   API(subinterp_create)(&config, &id, &err); */
#define API(name) (api_calls[API_INDEX_##name]++, api_table.name)

/* ------------------------------------------------------------------------ */
/* Call results                                                             */
/* ------------------------------------------------------------------------ */

/* The outcome of the library call that decides a step. */
typedef struct call_result {
    subinterp_status status;
    subinterp_error *error; /* owned; NULL on success */
    const char *function;   /* which call failed, for failure details */
} call_result;

void call_result_init(call_result *r);
/* Frees the error and resets to success. */
void call_result_clear(call_result *r);
/* Records a finished call: keeps `error` (taking ownership) if status failed. */
void call_result_set(call_result *r, const char *function, subinterp_status status, subinterp_error *error);
/* "NOT_FOUND" for SUBINTERP_ERR_NOT_FOUND, "OK" for SUBINTERP_OK: the
 * library's subinterp_status_name without its prefix. */
const char *status_short_name(subinterp_status status);
/* "subinterp_x: NOT_FOUND: message" for details. */
void call_result_describe(json_buf *out, const call_result *r);

/* ------------------------------------------------------------------------ */
/* Bindings                                                                 */
/* ------------------------------------------------------------------------ */

/* A name bound by a step's "bind": an id, or a value (value != NULL, holding
 * its own reference). */
typedef struct binding {
    char *name;
    int64_t id;
    subinterp_data *value;
} binding;

typedef struct bindings {
    binding *items;
    size_t len;
    size_t cap;
} bindings;

void bindings_init(bindings *b);
void bindings_bind_id(bindings *b, const char *name, int64_t id);
/* Takes its own reference (subinterp_data_ref): the caller keeps its own. */
void bindings_bind_value(bindings *b, const char *name, const subinterp_data *value);
/* Drops every binding (and the references they hold). */
void bindings_clear(bindings *b);

/* An id: a literal integer, or "$name" bound to an id (or to an int, queue
 * or interpreter value). 0 on success, -1 with `why` if malformed/unbound. */
int value_resolve_id(const json_value *v, const bindings *b, int64_t *id, json_buf *why);

/* ------------------------------------------------------------------------ */
/* Tagged values                                                            */
/* ------------------------------------------------------------------------ */

/* Builds a new value from its tagged form. Returns 0 (*out is a new
 * reference), -1 if the tagged form is malformed (why says how), or 1 if the
 * library refused a constructor (`result` holds its status and error). */
int value_build(const json_value *tagged, const bindings *b, subinterp_data **out, call_result *result,
                json_buf *why);

/* What a typed getter read, as a value to compare (data_get). Scalars are
 * stored in the view itself; `item`/`entry` reads are plain values. */
typedef struct value_view {
    subinterp_data_kind kind;
    const unsigned char *bytes; /* INT: two's complement little-endian, minimal;
                                   STR, BYTES, BUFFER, PICKLED: contents */
    size_t len;
    unsigned char *owned; /* storage behind `bytes` when the view made it */
    double number;        /* FLOAT */
    int flag;             /* BOOL: the value; BUFFER: read-only */
    int64_t id;           /* QUEUE, INTERPRETER */
    const subinterp_data *data;    /* TUPLE, LIST, DICT read from a value */
    const subinterp_data *pair[2]; /* TUPLE of two values (a dict entry), data NULL */
} value_view;

void value_view_int64(value_view *v, int64_t n);
void value_view_int_bytes(value_view *v, const void *bytes, size_t len);
void value_view_free(value_view *v);

/* Compares with an expectation (equality rules of docs/conformance.md,
 * {"any": KIND} included). 1: equal; 0: different (why says where and how);
 * -1: the expectation is malformed (why). `actual` may be NULL (the UNBOUND
 * marker), which equals nothing. */
int value_match(const json_value *expected, const subinterp_data *actual, const bindings *b, json_buf *why);
int value_match_view(const json_value *expected, const value_view *actual, const bindings *b, json_buf *why);

/* A value as tagged JSON text, for failure details. NULL renders as
 * {"unbound": true}. */
void value_render(json_buf *out, const subinterp_data *data);
void value_render_view(json_buf *out, const value_view *view);

/* Decodes lower-case hex of even length into a new buffer (at least one
 * byte is allocated, so the pointer is never NULL). -1 if malformed. */
int hex_decode(const char *hex, size_t n, unsigned char **out, size_t *len);

#endif
