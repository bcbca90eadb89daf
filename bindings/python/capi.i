/* The control plane of the Python binding: SWIG's wrapping of the C ABI
 * (runtime, interpreters, exec, call, prepare_main, configs) as the module
 * `subinterp.capi`.
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

/* Run flags (SUBINTERP_RUN_*) stand for the options struct. */
%typemap(in) const subinterp_run_options *opts (subinterp_run_options options) {
    unsigned long flags = PyLong_AsUnsignedLong($input);
    if (flags == (unsigned long)-1 && PyErr_Occurred()) SWIG_fail;
    subinterp_run_options_init(&options);
    options.flags = (uint32_t)flags;
    $1 = &options;
}

/* ---- outputs ------------------------------------------------------------ */

%typemap(in, numinputs=0) int64_t *id (int64_t value = 0) "$1 = &value;"
%typemap(argout) int64_t *id "$result = SWIG_Python_AppendOutput($result, PyLong_FromLongLong(*$1));"

%typemap(in, numinputs=0) int *running (int value = 0) "$1 = &value;"
%typemap(argout) int *running "$result = SWIG_Python_AppendOutput($result, PyBool_FromLong(*$1));"

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

#define SUBINTERP_API
%include "subinterp.h"

subinterp_status list_ids(PyObject **ids_out, subinterp_error **err);

%inline %{
/* Starts the runtime (attach mode in a Python process). */
subinterp_status runtime_start(subinterp_error **err) { return subinterp_runtime_init(NULL, err); }
%}
