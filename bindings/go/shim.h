/* The C side of the Go binding: one shim per C ABI function used (see
 * si_capture). Included by every Go file that calls into the library. */
#ifndef SUBINTERP_GO_SHIM_H
#define SUBINTERP_GO_SHIM_H

#include <stdlib.h>
#include <string.h>
#include <subinterp.h>

// Every call into the library goes through a shim that runs the function and,
// when it fails, reads the error object's fields in the same cgo call: the
// error is built from what that call returned, never from per-thread state
// (a goroutine may run its next cgo call on another OS thread). The Go side
// copies the strings, then frees the error object (si_error_free).
typedef struct {
    subinterp_status code;
    const char *message, *module, *qualname, *traceback;
    subinterp_error *owner;
} si_error;

static subinterp_status si_capture(subinterp_status status, subinterp_error *err, si_error *out) {
    if (status == SUBINTERP_OK) {
        subinterp_error_free(err);
        return status;
    }
    out->code = err ? subinterp_error_code(err) : status;
    out->message = err ? subinterp_error_message(err) : subinterp_status_name(status);
    out->module = err ? subinterp_error_exc_module(err) : NULL;
    out->qualname = err ? subinterp_error_exc_qualname(err) : NULL;
    out->traceback = err ? subinterp_error_traceback(err) : NULL;
    out->owner = err;
    return status;
}

#define SI_SHIM(name, params, args) \
    static subinterp_status si_##name params { \
        subinterp_error *err = NULL; \
        subinterp_status status = subinterp_##name args; /* before reading err */ \
        return si_capture(status, err, e); \
    }

SI_SHIM(runtime_init, (const subinterp_runtime_options *o, si_error *e), (o, &err))
SI_SHIM(runtime_finalize, (si_error *e), (&err))
SI_SHIM(config_validate, (const subinterp_config *c, si_error *e), (c, &err))
SI_SHIM(create, (const subinterp_config *c, int64_t *id, si_error *e), (c, id, &err))
SI_SHIM(destroy, (int64_t id, si_error *e), (id, &err))
SI_SHIM(list, (int64_t *ids, size_t cap, size_t *count, si_error *e), (ids, cap, count, &err))
SI_SHIM(main_id, (int64_t *id, si_error *e), (id, &err))
SI_SHIM(current_id, (int64_t *id, si_error *e), (id, &err))
SI_SHIM(is_running, (int64_t id, int *running, si_error *e), (id, running, &err))
SI_SHIM(get_config, (int64_t id, subinterp_config *c, si_error *e), (id, c, &err))
SI_SHIM(exec, (int64_t id, const char *src, const subinterp_run_options *o, subinterp_output **out, si_error *e),
        (id, src, o, out, &err))
SI_SHIM(call, (int64_t id, const char *name, const subinterp_data *args, const subinterp_data *kwargs,
               const subinterp_run_options *o, subinterp_data **result, subinterp_output **out, si_error *e),
        (id, name, args, kwargs, o, result, out, &err))
SI_SHIM(prepare_main, (int64_t id, const subinterp_data *names, si_error *e), (id, names, &err))
SI_SHIM(data_new_none, (subinterp_data **out, si_error *e), (out, &err))
SI_SHIM(data_new_bool, (int v, subinterp_data **out, si_error *e), (v, out, &err))
SI_SHIM(data_new_int, (int64_t v, subinterp_data **out, si_error *e), (v, out, &err))
SI_SHIM(data_new_int_bytes, (const void *b, size_t n, subinterp_data **out, si_error *e), (b, n, out, &err))
SI_SHIM(data_new_float, (double v, subinterp_data **out, si_error *e), (v, out, &err))
SI_SHIM(data_new_str, (const char *s, size_t n, subinterp_data **out, si_error *e), (s, n, out, &err))
SI_SHIM(data_new_bytes, (const void *b, size_t n, subinterp_data **out, si_error *e), (b, n, out, &err))
SI_SHIM(data_new_tuple, (const subinterp_data *const *items, size_t n, subinterp_data **out, si_error *e),
        (items, n, out, &err))
SI_SHIM(data_new_list, (const subinterp_data *const *items, size_t n, subinterp_data **out, si_error *e),
        (items, n, out, &err))
SI_SHIM(data_new_dict, (const subinterp_data *const *keys, const subinterp_data *const *values, size_t n,
                        subinterp_data **out, si_error *e), (keys, values, n, out, &err))
SI_SHIM(data_new_buffer, (size_t n, void **mem, subinterp_data **out, si_error *e), (n, mem, out, &err))

/* A read-only buffer over a malloc'd copy, which the library frees with the
 * last reference. */
static void si_free_release(void *context, void *data) {
    (void)context;
    free(data);
}

static subinterp_status si_data_new_readonly_copy(const void *bytes, size_t n, subinterp_data **out, si_error *e) {
    void *copy = malloc(n ? n : 1);
    subinterp_error *err = NULL;
    subinterp_status status;
    if (!copy) return si_capture(SUBINTERP_ERR_NO_MEMORY, NULL, e);
    if (n) memcpy(copy, bytes, n);
    status = subinterp_data_new_buffer_external(copy, n, 1, si_free_release, NULL, out, &err);
    if (status != SUBINTERP_OK) free(copy); /* nothing was taken over */
    return si_capture(status, err, e);
}
SI_SHIM(data_new_pickled, (const void *b, size_t n, subinterp_data **out, si_error *e), (b, n, out, &err))
SI_SHIM(data_new_interpreter, (int64_t id, subinterp_data **out, si_error *e), (id, out, &err))
SI_SHIM(data_new_queue, (int64_t id, subinterp_data **out, si_error *e), (id, out, &err))
SI_SHIM(data_get_bool, (const subinterp_data *d, int *v, si_error *e), (d, v, &err))
SI_SHIM(data_get_int, (const subinterp_data *d, int64_t *v, si_error *e), (d, v, &err))
SI_SHIM(data_get_int_bytes, (const subinterp_data *d, void *b, size_t cap, size_t *n, si_error *e),
        (d, b, cap, n, &err))
SI_SHIM(data_get_float, (const subinterp_data *d, double *v, si_error *e), (d, v, &err))
SI_SHIM(data_get_str, (const subinterp_data *d, const char **s, size_t *n, si_error *e), (d, s, n, &err))
SI_SHIM(data_get_bytes, (const subinterp_data *d, const void **b, size_t *n, si_error *e), (d, b, n, &err))
SI_SHIM(data_get_buffer, (const subinterp_data *d, void **mem, size_t *n, int *ro, si_error *e),
        (d, mem, n, ro, &err))
SI_SHIM(data_get_pickled, (const subinterp_data *d, const void **b, size_t *n, si_error *e), (d, b, n, &err))
SI_SHIM(data_get_queue, (const subinterp_data *d, int64_t *id, si_error *e), (d, id, &err))
SI_SHIM(data_get_interpreter, (const subinterp_data *d, int64_t *id, si_error *e), (d, id, &err))
SI_SHIM(data_get_len, (const subinterp_data *d, size_t *n, si_error *e), (d, n, &err))
SI_SHIM(data_get_item, (const subinterp_data *d, size_t i, const subinterp_data **item, si_error *e),
        (d, i, item, &err))
SI_SHIM(data_get_entry, (const subinterp_data *d, size_t i, const subinterp_data **k, const subinterp_data **v,
                         si_error *e), (d, i, k, v, &err))
SI_SHIM(data_repr, (const subinterp_data *d, char **repr, si_error *e), (d, repr, &err))
SI_SHIM(queue_create, (const subinterp_queue_options *o, int64_t *id, si_error *e), (o, id, &err))
SI_SHIM(queue_release, (int64_t id, si_error *e), (id, &err))
SI_SHIM(queue_destroy, (int64_t id, si_error *e), (id, &err))
SI_SHIM(queue_close, (int64_t id, si_error *e), (id, &err))
SI_SHIM(queue_put, (int64_t id, const subinterp_data *item, double timeout, si_error *e), (id, item, timeout, &err))
SI_SHIM(queue_get, (int64_t id, double timeout, subinterp_data **item, si_error *e), (id, timeout, item, &err))
SI_SHIM(queue_size, (int64_t id, size_t *n, si_error *e), (id, n, &err))
SI_SHIM(queue_get_info, (int64_t id, subinterp_queue_info *info, si_error *e), (id, info, &err))
SI_SHIM(queue_list, (int64_t *ids, size_t cap, size_t *count, si_error *e), (ids, cap, count, &err))

SI_SHIM(interrupt, (int64_t id, size_t *n, si_error *e), (id, n, &err))
SI_SHIM(check_imports, (const subinterp_config *c, const char *const *modules, size_t n, subinterp_data **report,
                        si_error *e), (c, modules, n, report, &err))
SI_SHIM(pool_create, (const subinterp_pool_options *o, subinterp_pool **pool, si_error *e), (o, pool, &err))
SI_SHIM(pool_submit, (subinterp_pool *p, const char *name, const subinterp_data *args, const subinterp_data *kwargs,
                      const subinterp_run_options *o, double wait, subinterp_future **f, si_error *e),
        (p, name, args, kwargs, o, wait, f, &err))
SI_SHIM(pool_map, (subinterp_pool *p, const char *name, const subinterp_data *arg_lists,
                   const subinterp_run_options *o, subinterp_data **results, si_error *e),
        (p, name, arg_lists, o, results, &err))
SI_SHIM(pool_shutdown, (subinterp_pool *p, int wait, int cancel_pending, si_error *e), (p, wait, cancel_pending, &err))
SI_SHIM(pool_check, (subinterp_pool *p, si_error *e), (p, &err))
SI_SHIM(pool_get_stats, (subinterp_pool *p, subinterp_pool_stats *s, si_error *e), (p, s, &err))
SI_SHIM(pool_get_worker, (subinterp_pool *p, size_t i, subinterp_pool_worker *w, si_error *e), (p, i, w, &err))
SI_SHIM(future_get_state, (const subinterp_future *f, subinterp_future_state *s, si_error *e), (f, s, &err))
SI_SHIM(future_wait, (const subinterp_future *f, double timeout, si_error *e), (f, timeout, &err))
SI_SHIM(future_result, (const subinterp_future *f, subinterp_data **result, subinterp_output **out, si_error *e),
        (f, result, out, &err))
SI_SHIM(future_cancel, (subinterp_future *f, int *cancelled, si_error *e), (f, cancelled, &err))

/* Completion callbacks: the context is a runtime/cgo.Handle (an integer, not
 * a Go pointer), passed to the Go function siGoFutureDone (future.go). */
extern void siGoFutureDone(uintptr_t handle);

static void si_future_done(void *context, subinterp_future *future) {
    (void)future;
    siGoFutureDone((uintptr_t)context);
}

static subinterp_status si_future_on_done(subinterp_future *f, uintptr_t handle, si_error *e) {
    subinterp_error *err = NULL;
    subinterp_status status = subinterp_future_on_done(f, si_future_done, (void *)handle, &err);
    return si_capture(status, err, e);
}

#endif
