/* A host that loads libsubinterp.so at run time, the way a plugin system or a
 * foreign-function interface does: dlopen(RTLD_NOW | RTLD_LOCAL), no
 * link-time dependency on the library or on libpython.
 *
 * The point: with RTLD_LOCAL, libpython's symbols are not in the global
 * namespace, yet CPython's extension modules in lib-dynload (math, _json,
 * _struct, ...) are not linked against libpython and need them there. If the
 * library does not deal with that, importing them fails with "undefined
 * symbol: PyFloat_Type" or similar.
 *
 *   capi_dlopen_test /path/to/libsubinterp.so
 *
 * The header is included only for types and constants; every function comes
 * from dlsym(). */
#define _GNU_SOURCE /* RTLD_DEFAULT, dlvsym */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "subinterp.h"
#include "check.h"

/* Every function this host calls. */
#define SUBINTERP_FUNCTIONS(X)          \
    X(subinterp_version)                \
    X(subinterp_python_version_string)  \
    X(subinterp_status_name)            \
    X(subinterp_error_code)             \
    X(subinterp_error_message)          \
    X(subinterp_error_exc_module)       \
    X(subinterp_error_exc_qualname)     \
    X(subinterp_error_traceback)        \
    X(subinterp_error_free)             \
    X(subinterp_runtime_get_mode)       \
    X(subinterp_runtime_finalize)       \
    X(subinterp_config_init)            \
    X(subinterp_create)                 \
    X(subinterp_destroy)                \
    X(subinterp_exec)                   \
    X(subinterp_call)                   \
    X(subinterp_data_new_none)          \
    X(subinterp_data_new_bool)          \
    X(subinterp_data_new_int)           \
    X(subinterp_data_new_float)         \
    X(subinterp_data_new_str)           \
    X(subinterp_data_new_tuple)         \
    X(subinterp_data_new_list)          \
    X(subinterp_data_new_dict)          \
    X(subinterp_data_free)              \
    X(subinterp_data_get_kind)          \
    X(subinterp_data_get_str)           \
    X(subinterp_data_get_float)

/* Pointer types come from the header's own declarations (__typeof__), so a
 * prototype change that the host would get wrong fails to compile here. */
static struct {
#define DECLARE_POINTER(name) __typeof__(name) *name;
    SUBINTERP_FUNCTIONS(DECLARE_POINTER)
#undef DECLARE_POINTER
} api;

static int report_failure(const char *file, int line, const char *what, const subinterp_error *err) {
    fprintf(stderr, "dlopen: FAILED at %s:%d: %s\n", file, line, what);
    if (err && api.subinterp_error_code) {
        fprintf(stderr, "  library error: %s: %s\n", api.subinterp_status_name(api.subinterp_error_code(err)),
                api.subinterp_error_message(err));
        if (api.subinterp_error_traceback(err)) fprintf(stderr, "%s", api.subinterp_error_traceback(err));
    }
    return 1;
}


/* dlsym() with a clear message; also checks the symbol is the SUBINTERP_1.0
 * version, the one a host built today binds to. */
static void *resolve(void *handle, const char *name) {
    void *address;
    void *versioned;
    dlerror();
    address = dlsym(handle, name);
    if (!address) {
        const char *why = dlerror();
        fprintf(stderr, "dlopen: FAILED: symbol %s not found in the library: %s\n", name, why ? why : "NULL");
        return NULL;
    }
    versioned = dlvsym(handle, name, "SUBINTERP_1.0");
    if (versioned != address) {
        fprintf(stderr, "dlopen: FAILED: %s is not exported as version SUBINTERP_1.0 (dlvsym gave %p, dlsym %p)\n",
                name, versioned, address);
        return NULL;
    }
    checks++;
    return address;
}

static int resolve_all(void *handle) {
#define RESOLVE(name)                                                  \
    api.name = (__typeof__(api.name))resolve(handle, #name);           \
    if (!api.name) return 1;
    SUBINTERP_FUNCTIONS(RESOLVE)
#undef RESOLVE
    return 0;
}

/* The imports that need libpython's symbols global. Asserts they really come
 * from shared objects, or the test would prove nothing. */
static const char *kImports =
    "import math, json, _struct, _json\n"
    "for module in (math, _struct, _json):\n"
    "    location = getattr(module, '__file__', '') or ''\n"
    "    assert 'lib-dynload' in location, (module.__name__, location)\n"
    "assert json.encoder.c_make_encoder is _json.make_encoder\n"
    "assert _struct.pack('<i', 258) == b'\\x02\\x01\\x00\\x00'\n"
    "assert math.isclose(math.tau, 2 * math.pi)\n";

/* json.dumps({"b": [1, 2.5, None], "a": "café"}, sort_keys=True) */
static int check_json_dumps(int64_t id) {
    subinterp_error *err = NULL;
    subinterp_data *one = NULL, *half = NULL, *none = NULL, *list = NULL;
    subinterp_data *key_b = NULL, *key_a = NULL, *cafe = NULL, *dict = NULL, *args = NULL;
    subinterp_data *key_sort = NULL, *yes = NULL, *kwargs = NULL, *result = NULL;
    const char *text = NULL;
    size_t len = 0;

    CHECK_OK(api.subinterp_data_new_int(1, &one, &err));
    CHECK_OK(api.subinterp_data_new_float(2.5, &half, &err));
    CHECK_OK(api.subinterp_data_new_none(&none, &err));
    {
        const subinterp_data *items[3];
        items[0] = one;
        items[1] = half;
        items[2] = none;
        CHECK_OK(api.subinterp_data_new_list(items, 3, &list, &err));
    }
    CHECK_OK(api.subinterp_data_new_str("b", 1, &key_b, &err));
    CHECK_OK(api.subinterp_data_new_str("a", 1, &key_a, &err));
    CHECK_OK(api.subinterp_data_new_str("caf\xc3\xa9", 5, &cafe, &err));
    {
        /* "b" first, so only sort_keys can put "a" first. */
        const subinterp_data *keys[2], *values[2];
        keys[0] = key_b;
        values[0] = list;
        keys[1] = key_a;
        values[1] = cafe;
        CHECK_OK(api.subinterp_data_new_dict(keys, values, 2, &dict, &err));
    }
    {
        const subinterp_data *items[1];
        items[0] = dict;
        CHECK_OK(api.subinterp_data_new_tuple(items, 1, &args, &err));
    }
    CHECK_OK(api.subinterp_data_new_str("sort_keys", 9, &key_sort, &err));
    CHECK_OK(api.subinterp_data_new_bool(1, &yes, &err));
    {
        const subinterp_data *keys[1], *values[1];
        keys[0] = key_sort;
        values[0] = yes;
        CHECK_OK(api.subinterp_data_new_dict(keys, values, 1, &kwargs, &err));
    }

    CHECK_OK(api.subinterp_call(id, "json:dumps", args, kwargs, NULL, &result, NULL, &err));
    CHECK(api.subinterp_data_get_kind(result) == SUBINTERP_DATA_STR);
    CHECK_OK(api.subinterp_data_get_str(result, &text, &len, &err));
    CHECK_STR(text, "{\"a\": \"caf\\u00e9\", \"b\": [1, 2.5, null]}");
    CHECK(len == strlen(text));

    api.subinterp_data_free(result);
    api.subinterp_data_free(kwargs);
    api.subinterp_data_free(yes);
    api.subinterp_data_free(key_sort);
    api.subinterp_data_free(args);
    api.subinterp_data_free(dict);
    api.subinterp_data_free(cafe);
    api.subinterp_data_free(key_a);
    api.subinterp_data_free(key_b);
    api.subinterp_data_free(list);
    api.subinterp_data_free(none);
    api.subinterp_data_free(half);
    api.subinterp_data_free(one);
    return 0;
}

/* A tuple of `count` numbers: ints if `as_int`, else floats. */
static int new_number_tuple(const double *numbers, size_t count, int as_int, subinterp_data **out) {
    subinterp_error *err = NULL;
    subinterp_data *items[2] = {NULL, NULL};
    size_t i;

    CHECK(count <= 2);
    for (i = 0; i < count; i++) {
        if (as_int) {
            CHECK_OK(api.subinterp_data_new_int((int64_t)numbers[i], &items[i], &err));
        } else {
            CHECK_OK(api.subinterp_data_new_float(numbers[i], &items[i], &err));
        }
    }
    CHECK_OK(api.subinterp_data_new_tuple((const subinterp_data *const *)items, count, out, &err));
    for (i = 0; i < count; i++) api.subinterp_data_free(items[i]);
    return 0;
}

/* Calls `callable` with `args`; on success *value receives its float result.
 * *status receives the call's status; *err its error, if any. */
static int call_for_float(int64_t id, const char *callable, const subinterp_data *args, double *value,
                          subinterp_status *status, subinterp_error **err) {
    subinterp_data *result = NULL;

    *status = api.subinterp_call(id, callable, args, NULL, NULL, &result, NULL, err);
    if (*status == SUBINTERP_OK) {
        subinterp_status read;
        CHECK(api.subinterp_data_get_kind(result) == SUBINTERP_DATA_FLOAT);
        read = api.subinterp_data_get_float(result, value, NULL);
        CHECK(read == SUBINTERP_OK);
    }
    api.subinterp_data_free(result);
    return 0;
}

static int check_math_sqrt(int64_t id) {
    const double two = 2.0;
    subinterp_error *err = NULL;
    subinterp_data *args = NULL;
    subinterp_status status;
    double root = 0.0;

    if (new_number_tuple(&two, 1, 0, &args)) return 1;
    if (call_for_float(id, "math:sqrt", args, &root, &status, &err)) return 1;
    CHECK_OK(status);
    CHECK(root == 1.4142135623730951); /* sqrt is correctly rounded */
    api.subinterp_data_free(args);
    return 0;
}

static int check_errors(int64_t id) {
    const double one_by_zero[2] = {1, 0}, one_by_four[2] = {1, 4};
    subinterp_error *err = NULL;
    subinterp_data *args = NULL;
    subinterp_status status;
    double value = -1.0;

    CHECK_OK(api.subinterp_exec(id,
                                "def ratio_of(a, b):\n"
                                "    return a / b\n",
                                NULL, NULL, &err));

    /* int / int: the message is "division by zero" (float / 0 says "float division..."). */
    if (new_number_tuple(one_by_zero, 2, 1, &args)) return 1;
    if (call_for_float(id, "ratio_of", args, &value, &status, &err)) return 1;
    api.subinterp_data_free(args);
    CHECK(status == SUBINTERP_ERR_PYTHON);
    CHECK(err != NULL);
    CHECK(api.subinterp_error_code(err) == SUBINTERP_ERR_PYTHON);
    CHECK_STR(api.subinterp_error_exc_module(err), "builtins");
    CHECK_STR(api.subinterp_error_exc_qualname(err), "ZeroDivisionError");
    CHECK_STR(api.subinterp_error_message(err), "division by zero");
    CHECK_CONTAINS(api.subinterp_error_traceback(err), "Traceback (most recent call last)");
    CHECK_CONTAINS(api.subinterp_error_traceback(err), "in ratio_of");
    CHECK_CONTAINS(api.subinterp_error_traceback(err), "ZeroDivisionError: division by zero");
    CHECK(value == -1.0); /* out-parameters are written only on success */
    api.subinterp_error_free(err);
    err = NULL;

    /* The interpreter is still usable after the exception. */
    if (new_number_tuple(one_by_four, 2, 1, &args)) return 1;
    if (call_for_float(id, "ratio_of", args, &value, &status, &err)) return 1;
    api.subinterp_data_free(args);
    CHECK_OK(status);
    CHECK(value == 0.25);
    CHECK_OK(api.subinterp_exec(id, "assert math.floor(2.5) == 2 and json.loads('[1]') == [1]\n", NULL, NULL, &err));
    return 0;
}

int main(int argc, char **argv) {
    subinterp_error *err = NULL;
    subinterp_config config;
    void *handle;
    int64_t id = -1;

    if (argc != 2) {
        fprintf(stderr, "usage: %s /path/to/libsubinterp.so\n", argv[0]);
        return 2;
    }

    /* Without these the test would not be testing an RTLD_LOCAL load. */
    CHECK(dlsym(RTLD_DEFAULT, "Py_Initialize") == NULL);
    CHECK(dlsym(RTLD_DEFAULT, "subinterp_create") == NULL);

    handle = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "dlopen: FAILED: dlopen(%s): %s\n", argv[1], dlerror());
        return 1;
    }
    checks++;
    CHECK(dlsym(RTLD_DEFAULT, "subinterp_create") == NULL);
    if (resolve_all(handle)) return 1;

    CHECK(api.subinterp_version() == SUBINTERP_VERSION_NUMBER);
    CHECK(api.subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_NONE);

    CHECK_OK(api.subinterp_config_init(&config, SUBINTERP_CONFIG_ISOLATED));
    CHECK_OK(api.subinterp_create(&config, &id, &err));
    CHECK(id > 0);
    CHECK(api.subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_EMBED);

    CHECK_OK(api.subinterp_exec(id, kImports, NULL, NULL, &err));
    if (check_json_dumps(id)) return 1;
    if (check_math_sqrt(id) || check_errors(id)) return 1;

    CHECK_OK(api.subinterp_destroy(id, &err));
    CHECK(api.subinterp_exec(id, "pass", NULL, NULL, &err) == SUBINTERP_ERR_NOT_FOUND);
    CHECK(api.subinterp_error_code(err) == SUBINTERP_ERR_NOT_FOUND);
    api.subinterp_error_free(err);
    err = NULL;

    CHECK_OK(api.subinterp_runtime_finalize(&err));
    CHECK(api.subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_FINALIZED);

    {
        int closed = dlclose(handle);
        if (closed != 0) fprintf(stderr, "dlclose: %s\n", dlerror());
        CHECK(closed == 0);
    }

    printf("dlopen: %d checks passed\n", checks);
    return 0;
}
