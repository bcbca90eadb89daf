/* The control plane of the Python binding: SWIG's wrapping of the C ABI
 * (runtime, interpreters, exec, call, prepare_main, configs, interrupts, import
 * checks, pools and futures) as the module `subinterp.capi`.
 *
 * SWIG 4.1 emits single-phase init, which an isolated interpreter refuses, and
 * later SWIG keeps process-global runtime state: this module is for the main
 * interpreter only. Everything every interpreter needs (queues, data, the
 * current id) is the data plane, `_subinterp`, which is multi-phase.
 *
 * Typemaps carry the ABI's conventions:
 *   - subinterp_status + subinterp_error **err  -> a return, or the Python
 *     exception subinterp._errors.exception_for() makes of the error;
 *   - subinterp_data in and out                 -> Python objects, converted by
 *     the data plane (the capsule of subinterp_python.h);
 *   - out-parameters (ids, flags, configs, output) -> return values.
 * Function names lose their `subinterp_` prefix: capi.create(), capi.exec().
 */
%module(package="subinterp") capi

%{
#define SWIG_FILE_WITH_INIT
#include <Python.h>
#include "subinterp.h"
#include "subinterp_python.h"

static const subinterp_python_api *data_plane = NULL;
static PyObject *exception_for = NULL; /* subinterp._errors.exception_for */

/* Raises the Python exception for `err` (which it frees). */
static void raise_subinterp_error(subinterp_status status, subinterp_error *err) {
    PyObject *exception = NULL;
    if (exception_for) {
        exception = PyObject_CallFunction(
            exception_for, "isssss", (int)status, subinterp_status_name(status),
            err ? subinterp_error_message(err) : "", err ? subinterp_error_exc_module(err) : NULL,
            err ? subinterp_error_exc_qualname(err) : NULL, err ? subinterp_error_traceback(err) : NULL);
    }
    subinterp_error_free(err);
    if (!exception) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, subinterp_status_name(status));
        return;
    }
    PyErr_SetObject((PyObject *)Py_TYPE(exception), exception);
    Py_DECREF(exception);
}

/* A Python str as UTF-8 for a C string parameter; refuses embedded NULs,
 * which the C side would silently cut at. */
static const char *utf8_argument(PyObject *object, const char *name) {
    Py_ssize_t size = 0;
    const char *utf8;
    if (!PyUnicode_Check(object)) {
        PyErr_Format(PyExc_TypeError, "%s must be str, not %.200s", name, Py_TYPE(object)->tp_name);
        return NULL;
    }
    utf8 = PyUnicode_AsUTF8AndSize(object, &size);
    if (utf8 && (size_t)size != strlen(utf8)) {
        PyErr_Format(PyExc_ValueError, "%s contains a null character", name);
        return NULL;
    }
    return utf8;
}

/* Reads the seven fields of PyInterpreterConfig from any object that has them
 * as attributes (subinterp.Config). */
static int config_from_object(PyObject *object, subinterp_config *config) {
    static const char *const names[] = {"use_main_obmalloc", "allow_fork", "allow_exec", "allow_threads",
                                        "allow_daemon_threads", "check_multi_interp_extensions", "gil"};
    int *fields[] = {&config->use_main_obmalloc, &config->allow_fork, &config->allow_exec,
                     &config->allow_threads, &config->allow_daemon_threads,
                     &config->check_multi_interp_extensions, &config->gil};
    size_t i;
    subinterp_config_init(config, SUBINTERP_CONFIG_ISOLATED);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        long value;
        PyObject *field = PyObject_GetAttrString(object, names[i]);
        if (!field) return -1;
        value = PyLong_AsLong(field);
        Py_DECREF(field);
        if (value == -1 && PyErr_Occurred()) return -1;
        if (value < INT_MIN || value > INT_MAX) {
            PyErr_Format(PyExc_OverflowError, "config.%s out of range", names[i]);
            return -1;
        }
        *fields[i] = (int)value;
    }
    return 0;
}

static PyObject *config_to_dict(const subinterp_config *config) {
    return Py_BuildValue("{s:i,s:i,s:i,s:i,s:i,s:i,s:i}", "use_main_obmalloc", config->use_main_obmalloc,
                         "allow_fork", config->allow_fork, "allow_exec", config->allow_exec, "allow_threads",
                         config->allow_threads, "allow_daemon_threads", config->allow_daemon_threads,
                         "check_multi_interp_extensions", config->check_multi_interp_extensions, "gil",
                         config->gil);
}

static PyObject *output_to_tuple(const subinterp_output *output) {
    size_t out_len = 0, err_len = 0;
    const char *out = subinterp_output_stdout(output, &out_len);
    const char *err = subinterp_output_stderr(output, &err_len);
    return Py_BuildValue("(s#s#)", out, (Py_ssize_t)out_len, err, (Py_ssize_t)err_len);
}

/* The Python result of exec (has_value 0) or call (1), given its status,
 * error (freed here), value (a new reference or NULL, stolen) and captured
 * output; NULL with an exception set on failure. */
static PyObject *finish_run(subinterp_status status, subinterp_error *err, PyObject *value,
                            const subinterp_output *output, int has_value) {
    PyObject *text = output ? output_to_tuple(output) : NULL;
    if (output && !text) {
        Py_XDECREF(value);
        subinterp_error_free(err);
        return NULL;
    }
    if (status != SUBINTERP_OK) {
        Py_XDECREF(value);
        raise_subinterp_error(status, err);
        if (text) {
            PyObject *exc = PyErr_GetRaisedException();
            if (exc && (PyObject_SetAttrString(exc, "stdout", PyTuple_GET_ITEM(text, 0)) < 0 ||
                        PyObject_SetAttrString(exc, "stderr", PyTuple_GET_ITEM(text, 1)) < 0))
                PyErr_Clear(); /* an exception type without a __dict__: keep the original error */
            PyErr_SetRaisedException(exc);
            Py_DECREF(text);
        }
        return NULL;
    }
    subinterp_error_free(err);
    if (!has_value) {
        Py_XDECREF(value);
        if (text) return text;
        Py_RETURN_NONE;
    }
    if (!text) return value;
    return Py_BuildValue("(NN)", value, text);
}

/* Every interpreter id, as a list (two calls: size, then fill). */
static subinterp_status list_ids(PyObject **ids_out, subinterp_error **err) {
    size_t count = 0, i;
    int64_t *ids;
    PyObject *list;
    subinterp_status status = subinterp_list(NULL, 0, &count, err);
    if (status != SUBINTERP_OK) return status;
    for (;;) {
        size_t written = count;
        ids = (int64_t *)PyMem_Malloc((count ? count : 1) * sizeof(int64_t));
        if (!ids) return SUBINTERP_ERR_NO_MEMORY;
        status = subinterp_list(ids, written, &count, err);
        if (status != SUBINTERP_OK || count <= written) break;
        PyMem_Free(ids); /* grew in between: ask again */
    }
    if (status != SUBINTERP_OK) {
        PyMem_Free(ids);
        return status;
    }
    list = PyList_New((Py_ssize_t)count);
    for (i = 0; list && i < count; ++i) {
        PyObject *id = PyLong_FromLongLong(ids[i]);
        if (!id) Py_CLEAR(list);
        else PyList_SET_ITEM(list, (Py_ssize_t)i, id);
    }
    PyMem_Free(ids);
    *ids_out = list;
    return list ? SUBINTERP_OK : SUBINTERP_ERR_NO_MEMORY;
}

/* ---- pools and futures: completion without Python -------------------------
 * A future's completion callback runs on a pool worker (or the cancelling
 * thread) with no Python thread state: it must not touch Python. It only puts
 * an int tag into a subinterp queue (pure C); a Python thread of the binding
 * waits on that queue (GIL released) and settles the Python future. */
typedef struct done_note {
    int64_t queue;
    int64_t tag;
} done_note;

static void notify_done(void *context, subinterp_future *future) {
    done_note *note = (done_note *)context;
    subinterp_data *item = NULL;
    (void)future;
    if (subinterp_data_new_int(note->tag, &item, NULL) == SUBINTERP_OK) {
        /* The queue is unbounded: never blocks. A queue already destroyed
         * (the Python side gave up) is not an error here. */
        subinterp_queue_put(note->queue, item, SUBINTERP_NO_WAIT, NULL);
        subinterp_data_free(item);
    }
    free(note);
}

/* Registers notify_done(queue, tag) on `future`. */
static subinterp_status notify_when_done(subinterp_future *future, int64_t queue, int64_t tag,
                                         subinterp_error **err) {
    subinterp_status status;
    done_note *note = (done_note *)malloc(sizeof(done_note));
    if (!note) return SUBINTERP_ERR_NO_MEMORY;
    note->queue = queue;
    note->tag = tag;
    status = subinterp_future_on_done(future, notify_done, note, err);
    if (status != SUBINTERP_OK) free(note);
    return status;
}

static PyObject *pool_stats_to_dict(const subinterp_pool_stats *s) {
    return Py_BuildValue("{s:I,s:I,s:I,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "workers", s->workers, "live_workers",
                         s->live_workers, "busy_workers", s->busy_workers, "queued",
                         (unsigned long long)s->queued, "submitted", (unsigned long long)s->submitted,
                         "succeeded", (unsigned long long)s->succeeded, "failed",
                         (unsigned long long)s->failed, "timed_out", (unsigned long long)s->timed_out,
                         "cancelled", (unsigned long long)s->cancelled, "replaced",
                         (unsigned long long)s->replaced);
}

static PyObject *pool_worker_to_dict(const subinterp_pool_worker *w) {
    return Py_BuildValue("{s:O,s:L,s:O,s:K,s:K,s:K}", "alive", w->alive ? Py_True : Py_False,
                         "interpreter_id", (long long)w->interpreter_id, "busy", w->busy ? Py_True : Py_False,
                         "tasks", (unsigned long long)w->tasks, "failed", (unsigned long long)w->failed,
                         "replaced", (unsigned long long)w->replaced);
}

/* None or a str argument as a C string (NULL for None). */
static int optional_utf8(PyObject *object, const char *name, const char **out) {
    *out = NULL;
    if (object == Py_None) return 0;
    *out = utf8_argument(object, name);
    return *out ? 0 : -1;
}
%}

%init %{
    data_plane = (const subinterp_python_api *)PyCapsule_Import(SUBINTERP_PYTHON_API_CAPSULE, 0);
    if (!data_plane) return NULL;
    {
        PyObject *errors = PyImport_ImportModule("subinterp._errors");
        if (!errors) return NULL;
        exception_for = PyObject_GetAttrString(errors, "exception_for");
        Py_DECREF(errors);
        if (!exception_for) return NULL;
    }
%}

%include <stdint.i>

/* ---- status + error -> return or exception ------------------------------ */

%typemap(out) subinterp_status "$result = SWIG_Py_Void();"

%typemap(in, numinputs=0) subinterp_error **err (subinterp_error *error = NULL) "$1 = &error;"
/* Last parameter, so its argout runs after every other one. */
%typemap(argout) subinterp_error **err {
    if (result != SUBINTERP_OK) {
        Py_XDECREF($result);
        $result = NULL;
        if (PyErr_Occurred()) subinterp_error_free(*$1); /* a typemap of ours already raised */
        else raise_subinterp_error(result, *$1);
        SWIG_fail;
    }
}

/* ---- inputs ------------------------------------------------------------- */

%typemap(in) const char *source, const char *callable {
    $1 = (char *)utf8_argument($input, "$1_name");
    if (!$1) SWIG_fail;
}

%typemap(in) const subinterp_data * (subinterp_data *converted = NULL) {
    if ($input != Py_None) {
        converted = data_plane->data_from_object($input, 0);
        if (!converted) SWIG_fail;
    }
    $1 = converted;
}
%typemap(freearg) const subinterp_data * "subinterp_data_free(converted$argnum);"

%typemap(in) const subinterp_config *config (subinterp_config converted) {
    $1 = NULL;
    if ($input != Py_None) {
        if (config_from_object($input, &converted) < 0) SWIG_fail;
        $1 = &converted;
    }
}
/* Without this, the argout of the non-const out-parameter below would apply. */
%typemap(argout) const subinterp_config *config ""

/* Run options: `flags` (SUBINTERP_RUN_*, an int) or `(flags, timeout)`, timeout
 * in seconds (None or 0: no deadline). */
%typemap(in) const subinterp_run_options *opts (subinterp_run_options run_opts) {
    PyObject *flags_object = $input, *timeout_object = Py_None;
    unsigned long flags;
    subinterp_run_options_init(&run_opts);
    if (PyTuple_Check($input)) {
        if (!PyArg_ParseTuple($input, "OO;expected flags or (flags, timeout)", &flags_object,
                              &timeout_object)) SWIG_fail;
    }
    flags = PyLong_AsUnsignedLong(flags_object);
    if (flags == (unsigned long)-1 && PyErr_Occurred()) SWIG_fail;
    if (timeout_object != Py_None) {
        run_opts.timeout = PyFloat_AsDouble(timeout_object);
        if (run_opts.timeout == -1.0 && PyErr_Occurred()) SWIG_fail;
    }
    run_opts.flags = (uint32_t)flags;
    $1 = &run_opts;
}

/* Module names for check_imports: any sequence of str. */
%typemap(in) (const char *const *modules, size_t count) (PyObject *sequence = NULL, const char **names = NULL) {
    Py_ssize_t n, i;
    sequence = PySequence_Fast($input, "modules must be a sequence of str");
    if (!sequence) SWIG_fail;
    n = PySequence_Fast_GET_SIZE(sequence);
    names = (const char **)PyMem_Calloc(n ? (size_t)n : 1, sizeof(char *));
    if (!names) { PyErr_NoMemory(); SWIG_fail; }
    $1 = ($1_ltype)names;
    $2 = (size_t)n;
    for (i = 0; i < n; ++i) {
        names[i] = utf8_argument(PySequence_Fast_GET_ITEM(sequence, i), "module name");
        if (!names[i]) SWIG_fail;
    }
}
%typemap(freearg) (const char *const *modules, size_t count) "PyMem_Free((void *)names$argnum); Py_XDECREF(sequence$argnum);"

/* ---- outputs ------------------------------------------------------------ */

%typemap(in, numinputs=0) int64_t *id (int64_t value = 0) "$1 = &value;"
%typemap(argout) int64_t *id "$result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong(*$1));"

%typemap(in, numinputs=0) int *running (int value = 0) "$1 = &value;"
%typemap(argout) int *running "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, PyBool_FromLong(*$1));"

%typemap(in, numinputs=0) subinterp_config *config (subinterp_config value) {
    subinterp_config_init(&value, SUBINTERP_CONFIG_ISOLATED);
    $1 = &value;
}
%typemap(argout) subinterp_config *config "$result = SWIG_Python_AppendOutput($result, config_to_dict($1));"

/* A run's outputs and its error are handled together (multi-argument
 * typemaps): exec returns None, or (stdout, stderr) when capture was asked;
 * call returns its result, or (result, (stdout, stderr)). SWIG's own
 * AppendOutput would drop a None result and extend a list result. On failure
 * the captured text is not lost: the exception gets .stdout and .stderr. */
%typemap(in, numinputs=0) (subinterp_output **output, subinterp_error **err)
    (subinterp_output *captured = NULL, subinterp_error *error = NULL) "$1 = &captured; $2 = &error;"
%typemap(argout) (subinterp_output **output, subinterp_error **err) {
    $result = finish_run(result, *$2, $result, *$1, 0);
    *$2 = NULL;
    if (!$result) SWIG_fail;
}
%typemap(freearg) (subinterp_output **output, subinterp_error **err) "subinterp_output_free(*$1);"

%typemap(in, numinputs=0) (subinterp_data **result, subinterp_output **output, subinterp_error **err)
    (subinterp_data *value = NULL, subinterp_output *captured = NULL, subinterp_error *error = NULL)
    "$1 = &value; $2 = &captured; $3 = &error;"
%typemap(argout) (subinterp_data **result, subinterp_output **output, subinterp_error **err) {
    Py_XDECREF($result);
    $result = NULL;
    if (result == SUBINTERP_OK) {
        $result = data_plane->object_from_data(*$1);
        if (!$result) {
            subinterp_error_free(*$3);
            SWIG_fail;
        }
    }
    $result = finish_run(result, *$3, $result, *$2, 1);
    *$3 = NULL;
    if (!$result) SWIG_fail;
}
%typemap(freearg) (subinterp_data **result, subinterp_output **output, subinterp_error **err)
    "subinterp_data_free(*$1); subinterp_output_free(*$2);"


/* ---- pools and futures: handles and outputs ------------------------------ */

%typemap(in, numinputs=0) subinterp_pool **pool (subinterp_pool *value = NULL) "$1 = &value;"
%typemap(argout) subinterp_pool **pool
    "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, SWIGTYPE_p_subinterp_pool, 0));"
%typemap(in, numinputs=0) subinterp_future **future (subinterp_future *value = NULL) "$1 = &value;"
%typemap(argout) subinterp_future **future
    "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, SWIG_NewPointerObj(*$1, SWIGTYPE_p_subinterp_future, 0));"

%typemap(in, numinputs=0) subinterp_data **results (subinterp_data *value = NULL),
                          subinterp_data **report (subinterp_data *value = NULL) "$1 = &value;"
%typemap(argout) subinterp_data **results, subinterp_data **report {
    PyObject *converted;
    if (result != SUBINTERP_OK) goto $1_done;
    converted = data_plane->object_from_data(*$1);
    if (!converted) SWIG_fail;
    $result = SWIG_Python_AppendOutput($result, converted);
    $1_done:;
}
%typemap(freearg) subinterp_data **results, subinterp_data **report "subinterp_data_free(*$1);"

%typemap(in, numinputs=0) int *cancelled (int value = 0) "$1 = &value;"
%typemap(argout) int *cancelled "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, PyBool_FromLong(*$1));"
%typemap(in, numinputs=0) size_t *interrupted (size_t value = 0) "$1 = &value;"
%typemap(argout) size_t *interrupted "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, PyLong_FromSize_t(*$1));"
%typemap(in, numinputs=0) subinterp_future_state *state (subinterp_future_state value = SUBINTERP_FUTURE_PENDING)
    "$1 = &value;"
%typemap(argout) subinterp_future_state *state "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, PyLong_FromLong((long)*$1));"
%typemap(in, numinputs=0) subinterp_pool_stats *stats (subinterp_pool_stats value = SUBINTERP_POOL_STATS_INIT)
    "$1 = &value;"
%typemap(argout) subinterp_pool_stats *stats "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, pool_stats_to_dict($1));"
%typemap(in, numinputs=0) subinterp_pool_worker *worker (subinterp_pool_worker value = SUBINTERP_POOL_WORKER_INIT)
    "$1 = &value;"
%typemap(argout) subinterp_pool_worker *worker "if (result == SUBINTERP_OK) $result = SWIG_Python_AppendOutput($result, pool_worker_to_dict($1));"

%typemap(in, numinputs=0) PyObject **ids_out (PyObject *value = NULL) "$1 = &value;"
%typemap(argout) PyObject **ids_out "$result = SWIG_Python_AppendOutput($result, *$1);"

/* ---- what is wrapped ---------------------------------------------------- */

%rename("%(strip:[subinterp_])s") "";
%rename(exec_source) subinterp_exec; /* `exec` is a keyword to SWIG */

/* The control plane only: data and queues belong to the data plane
 * (_subinterp), which every interpreter can import. */
%rename("$ignore", regextarget=1) "^subinterp_data_";
%rename("$ignore", regextarget=1) "^subinterp_queue_";
%rename("$ignore", regextarget=1) "^subinterp_error_";
%rename("$ignore", regextarget=1) "^subinterp_output_";
%ignore subinterp_free;
%ignore subinterp_list;
%ignore subinterp_config_init;
%ignore subinterp_run_options_init;
%ignore subinterp_runtime_options_init;
%ignore subinterp_runtime_init;
%ignore subinterp_config;
%ignore subinterp_run_options;
%ignore subinterp_runtime_options;
%ignore subinterp_queue_options;
%ignore subinterp_queue_info;
%ignore subinterp_pool_options;
%ignore subinterp_pool_options_init;
%ignore subinterp_pool_create;   /* pool_new() below takes keywords */
%ignore subinterp_pool_stats;
%ignore subinterp_pool_worker;
%ignore subinterp_future_on_done; /* a C callback: see future_notify() */
%ignore subinterp_future_callback;
%ignore subinterp_future_result;  /* future_outcome() below: one shape of result */
%ignore subinterp_buffer_release;

#define SUBINTERP_API
%include "subinterp.h"

subinterp_status list_ids(PyObject **ids_out, subinterp_error **err);

%inline %{
/* Starts the runtime (attach mode in a Python process). */
subinterp_status runtime_start(subinterp_error **err) { return subinterp_runtime_init(NULL, err); }
%}

%inline %{
/* subinterp_pool_create with its options as arguments. `init_source` and
 * `init_callable` are str or None. */
subinterp_status pool_new(unsigned int workers, const subinterp_config *config, PyObject *init_source_obj,
                          PyObject *init_callable_obj, const subinterp_data *init_args, size_t max_queued,
                          unsigned long long max_tasks_per_worker, subinterp_pool **pool,
                          subinterp_error **err) {
    subinterp_pool_options options;
    const char *init_source = NULL, *init_callable = NULL;
    subinterp_pool_options_init(&options);
    if (optional_utf8(init_source_obj, "init_source", &init_source) < 0 ||
        optional_utf8(init_callable_obj, "init_callable", &init_callable) < 0)
        return SUBINTERP_ERR_INVALID_ARGUMENT; /* the Python exception is set: the typemap keeps it */
    options.workers = workers;
    options.config = config;
    options.init_source = init_source;
    options.init_callable = init_callable;
    options.init_args = init_args;
    options.max_queued = max_queued;
    options.max_tasks_per_worker = (uint64_t)max_tasks_per_worker;
    return subinterp_pool_create(&options, pool, err);
}

/* When `future` is done, the int `tag` is put into queue `queue` -- by C code
 * on whichever thread completes it (no Python involved); at once if done. */
subinterp_status future_notify(subinterp_future *handle, int64_t queue, int64_t tag, subinterp_error **err) {
    return notify_when_done(handle, queue, tag, err);
}

/* subinterp_pool_submit, then future_notify(queue, tag) on its future:
 * one call per task from Python. */
subinterp_status pool_submit_notify(subinterp_pool *handle, const char *callable, const subinterp_data *args,
                                    const subinterp_data *kwargs, const subinterp_run_options *opts,
                                    double wait, int64_t queue, int64_t tag, subinterp_future **future,
                                    subinterp_error **err) {
    subinterp_status status = subinterp_pool_submit(handle, callable, args, kwargs, opts, wait, future, err);
    if (status != SUBINTERP_OK) return status;
    status = notify_when_done(*future, queue, tag, err);
    if (status != SUBINTERP_OK) {
        subinterp_future_free(*future);
        *future = NULL;
    }
    return status;
}

/* The outcome of a future (waits for it, GIL released): its value, or
 * (value, (stdout, stderr)) when `capture` is true; or the task's error raised
 * as subinterp_exec's are (with .stdout/.stderr when captured). */
PyObject *future_outcome(subinterp_future *handle, int capture) {
    subinterp_data *value = NULL;
    subinterp_output *output = NULL;
    subinterp_error *error = NULL;
    PyObject *object = NULL, *outcome;
    subinterp_status status = subinterp_future_result(handle, &value, capture ? &output : NULL, &error);
    if (status == SUBINTERP_OK) {
        object = data_plane->object_from_data(value);
        subinterp_data_free(value);
        if (!object) {
            subinterp_error_free(error);
            subinterp_output_free(output);
            return NULL;
        }
    }
    outcome = finish_run(status, error, object, capture ? output : NULL, 1);
    subinterp_output_free(output);
    return outcome;
}
%}
