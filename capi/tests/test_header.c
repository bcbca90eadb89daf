/* The public header used from strict C99 (built with -Wpedantic -Werror) and
 * the basic life cycle driven from C: versions, option structs, an
 * interpreter, exec, call, captured output, a Python exception, finalize.
 *
 * No test framework on purpose: this is what a plain C consumer writes.
 * Stops at the first failed check (later checks depend on earlier ones). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "subinterp.h"
#include "check.h"

/* Reports the failed expression and, if the library gave one, its error. */
static int report_failure(const char *file, int line, const char *what, const subinterp_error *err) {
    fprintf(stderr, "c_header: FAILED at %s:%d: %s\n", file, line, what);
    if (err) {
        fprintf(stderr, "  library error: %s: %s\n", subinterp_status_name(subinterp_error_code(err)),
                subinterp_error_message(err));
        if (subinterp_error_traceback(err)) fprintf(stderr, "%s", subinterp_error_traceback(err));
    }
    return 1;
}


static int check_versions(void) {
    char expected[32];
    unsigned major = 0, minor = 0, micro = 0;
    uint32_t hex = subinterp_python_version();
    const char *python = subinterp_python_version_string();

    CHECK(SUBINTERP_VERSION_NUMBER ==
          SUBINTERP_VERSION_MAJOR * 10000 + SUBINTERP_VERSION_MINOR * 100 + SUBINTERP_VERSION_PATCH);
    CHECK(subinterp_version() == SUBINTERP_VERSION_NUMBER);
    snprintf(expected, sizeof expected, "%d.%d.%d", SUBINTERP_VERSION_MAJOR, SUBINTERP_VERSION_MINOR,
             SUBINTERP_VERSION_PATCH);
    CHECK(subinterp_version_string() != NULL);
    CHECK(strcmp(subinterp_version_string(), expected) == 0);

    /* The library needs a per-interpreter GIL: CPython 3.12 or later. */
    CHECK(hex >= 0x030C0000u);
    CHECK(python != NULL && python[0] != '\0');
    CHECK(sscanf(python, "%u.%u.%u", &major, &minor, &micro) == 3);
    CHECK(major == ((hex >> 24) & 0xFFu));
    CHECK(minor == ((hex >> 16) & 0xFFu));
    CHECK(micro == ((hex >> 8) & 0xFFu));
    return 0;
}

static int check_option_structs(void) {
    subinterp_config from_macro = SUBINTERP_CONFIG_INIT;
    subinterp_config isolated, legacy;
    subinterp_runtime_options runtime_options;
    subinterp_run_options run_options;
    subinterp_error *err = NULL;

    /* Garbage first, so the _init() functions must really write each field. */
    memset(&isolated, 0x5A, sizeof isolated);
    memset(&legacy, 0x5A, sizeof legacy);
    memset(&runtime_options, 0x5A, sizeof runtime_options);
    memset(&run_options, 0x5A, sizeof run_options);

    CHECK_OK(subinterp_config_init(&isolated, SUBINTERP_CONFIG_ISOLATED));
    CHECK(isolated.struct_size == sizeof(subinterp_config));
    CHECK(from_macro.struct_size == isolated.struct_size);
    CHECK(from_macro.use_main_obmalloc == isolated.use_main_obmalloc);
    CHECK(from_macro.allow_fork == isolated.allow_fork);
    CHECK(from_macro.allow_exec == isolated.allow_exec);
    CHECK(from_macro.allow_threads == isolated.allow_threads);
    CHECK(from_macro.allow_daemon_threads == isolated.allow_daemon_threads);
    CHECK(from_macro.check_multi_interp_extensions == isolated.check_multi_interp_extensions);
    CHECK(from_macro.gil == isolated.gil);
    CHECK(isolated.gil == SUBINTERP_GIL_OWN);
    CHECK(isolated.use_main_obmalloc == 0);
    CHECK(isolated.check_multi_interp_extensions == 1);

    /* As documented: shared GIL, main obmalloc, fork/exec/daemon threads, any extension. */
    CHECK_OK(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY));
    CHECK(legacy.struct_size == sizeof(subinterp_config));
    CHECK(legacy.gil == SUBINTERP_GIL_SHARED);
    CHECK(legacy.use_main_obmalloc == 1);
    CHECK(legacy.allow_fork == 1);
    CHECK(legacy.allow_exec == 1);
    CHECK(legacy.allow_threads == 1);
    CHECK(legacy.allow_daemon_threads == 1);
    CHECK(legacy.check_multi_interp_extensions == 0);

    CHECK(subinterp_config_init(NULL, SUBINTERP_CONFIG_ISOLATED) == SUBINTERP_ERR_INVALID_ARGUMENT);
    CHECK(subinterp_config_init(&legacy, (subinterp_config_preset)42) == SUBINTERP_ERR_INVALID_ARGUMENT);

    /* Both presets pass the library's own validation. */
    CHECK_OK(subinterp_config_validate(&from_macro, &err));
    CHECK_OK(subinterp_config_init(&legacy, SUBINTERP_CONFIG_LEGACY));
    CHECK_OK(subinterp_config_validate(&legacy, &err));
    CHECK(err == NULL);

    CHECK_OK(subinterp_runtime_options_init(&runtime_options));
    CHECK(runtime_options.struct_size == sizeof(subinterp_runtime_options));
    CHECK(runtime_options.python_home == NULL);
    CHECK(runtime_options.import_site == 1);
    CHECK(runtime_options.install_signal_handlers == 0);
    CHECK(subinterp_runtime_options_init(NULL) == SUBINTERP_ERR_INVALID_ARGUMENT);

    CHECK_OK(subinterp_run_options_init(&run_options));
    CHECK(run_options.struct_size == sizeof(subinterp_run_options));
    CHECK(run_options.flags == 0);
    CHECK(subinterp_run_options_init(NULL) == SUBINTERP_ERR_INVALID_ARGUMENT);
    return 0;
}

/* combine(21, "ab", repeat=3, sep="-") == ("ab-ab-ab", 42) */
static int check_call(int64_t id) {
    subinterp_error *err = NULL;
    subinterp_data *n = NULL, *text = NULL, *args = NULL;
    subinterp_data *key_repeat = NULL, *key_sep = NULL, *repeat = NULL, *sep = NULL, *kwargs = NULL;
    subinterp_data *result = NULL;
    const subinterp_data *item = NULL;
    const char *joined = NULL;
    size_t len = 0;
    int64_t doubled = 0;

    CHECK_OK(subinterp_data_new_int(21, &n, &err));
    CHECK_OK(subinterp_data_new_str("ab", 2, &text, &err));
    {
        const subinterp_data *items[2];
        items[0] = n;
        items[1] = text;
        CHECK_OK(subinterp_data_new_tuple(items, 2, &args, &err));
    }
    CHECK_OK(subinterp_data_new_str("repeat", 6, &key_repeat, &err));
    CHECK_OK(subinterp_data_new_str("sep", 3, &key_sep, &err));
    CHECK_OK(subinterp_data_new_int(3, &repeat, &err));
    CHECK_OK(subinterp_data_new_str("-", 1, &sep, &err));
    {
        const subinterp_data *keys[2], *values[2];
        keys[0] = key_repeat;
        keys[1] = key_sep;
        values[0] = repeat;
        values[1] = sep;
        CHECK_OK(subinterp_data_new_dict(keys, values, 2, &kwargs, &err));
    }
    CHECK(subinterp_data_get_kind(args) == SUBINTERP_DATA_TUPLE);
    CHECK(subinterp_data_get_kind(kwargs) == SUBINTERP_DATA_DICT);

    CHECK_OK(subinterp_call(id, "combine", args, kwargs, NULL, &result, NULL, &err));
    CHECK(err == NULL);
    CHECK(subinterp_data_get_kind(result) == SUBINTERP_DATA_TUPLE);
    CHECK_OK(subinterp_data_get_len(result, &len, &err));
    CHECK(len == 2);
    CHECK_OK(subinterp_data_get_item(result, 0, &item, &err));
    CHECK(subinterp_data_get_kind(item) == SUBINTERP_DATA_STR);
    CHECK_OK(subinterp_data_get_str(item, &joined, &len, &err));
    CHECK(len == 8);
    CHECK_STR(joined, "ab-ab-ab");
    CHECK_OK(subinterp_data_get_item(result, 1, &item, &err));
    CHECK_OK(subinterp_data_get_int(item, &doubled, &err));
    CHECK(doubled == 42);

    subinterp_data_free(result);
    subinterp_data_free(kwargs);
    subinterp_data_free(sep);
    subinterp_data_free(repeat);
    subinterp_data_free(key_sep);
    subinterp_data_free(key_repeat);
    subinterp_data_free(args);
    subinterp_data_free(text);
    subinterp_data_free(n);
    return 0;
}

static int check_capture(int64_t id) {
    subinterp_error *err = NULL;
    subinterp_run_options opts;
    subinterp_output *out = NULL;
    size_t len = 0;

    CHECK_OK(subinterp_run_options_init(&opts));
    opts.flags = SUBINTERP_RUN_CAPTURE_STDOUT;
    CHECK_OK(subinterp_exec(id, "import sys\nprint('hello from', 'C')\nsys.stdout.write('x=%d\\n' % 7)\n", &opts,
                            &out, &err));
    CHECK(out != NULL);
    CHECK_STR(subinterp_output_stdout(out, &len), "hello from C\nx=7\n");
    CHECK(len == strlen("hello from C\nx=7\n"));
    /* stderr was not asked for. */
    CHECK_STR(subinterp_output_stderr(out, &len), "");
    CHECK(len == 0);
    subinterp_output_free(out);
    out = NULL;

    /* Text printed before an exception is still handed back. */
    CHECK(subinterp_exec(id, "print('before')\nraise RuntimeError('after')\n", &opts, &out, &err) ==
          SUBINTERP_ERR_PYTHON);
    CHECK(out != NULL);
    CHECK_STR(subinterp_output_stdout(out, NULL), "before\n");
    CHECK_STR(subinterp_error_message(err), "after");
    subinterp_output_free(out);
    subinterp_error_free(err);
    return 0;
}

static int check_python_errors(int64_t id) {
    subinterp_error *err = NULL;

    CHECK(subinterp_exec(id,
                         "def parse_setting(value):\n"
                         "    raise ValueError('bad setting: ' + value)\n"
                         "parse_setting('x')\n",
                         NULL, NULL, &err) == SUBINTERP_ERR_PYTHON);
    CHECK(err != NULL);
    CHECK(subinterp_error_code(err) == SUBINTERP_ERR_PYTHON);
    CHECK_STR(subinterp_status_name(subinterp_error_code(err)), "SUBINTERP_ERR_PYTHON");
    CHECK_STR(subinterp_error_message(err), "bad setting: x");
    CHECK_STR(subinterp_error_exc_module(err), "builtins");
    CHECK_STR(subinterp_error_exc_qualname(err), "ValueError");
    CHECK_CONTAINS(subinterp_error_traceback(err), "Traceback (most recent call last)");
    CHECK_CONTAINS(subinterp_error_traceback(err), "parse_setting");
    CHECK_CONTAINS(subinterp_error_traceback(err), "ValueError: bad setting: x");
    subinterp_error_free(err);
    err = NULL;

    /* A user-defined, nested exception class: module and qualname come from the type. */
    CHECK(subinterp_exec(id,
                         "class Parser:\n"
                         "    class Failure(Exception):\n"
                         "        pass\n"
                         "raise Parser.Failure('nested')\n",
                         NULL, NULL, &err) == SUBINTERP_ERR_PYTHON);
    CHECK_STR(subinterp_error_exc_module(err), "__main__");
    CHECK_STR(subinterp_error_exc_qualname(err), "Parser.Failure");
    CHECK_STR(subinterp_error_message(err), "nested");
    subinterp_error_free(err);
    err = NULL;

    /* A non-Python error has no exception fields. */
    CHECK(subinterp_exec(id, NULL, NULL, NULL, &err) == SUBINTERP_ERR_INVALID_ARGUMENT);
    CHECK(subinterp_error_code(err) == SUBINTERP_ERR_INVALID_ARGUMENT);
    CHECK(subinterp_error_exc_module(err) == NULL);
    CHECK(subinterp_error_exc_qualname(err) == NULL);
    CHECK(subinterp_error_traceback(err) == NULL);
    CHECK(subinterp_error_message(err)[0] != '\0');
    subinterp_error_free(err);

    /* A NULL err is allowed: only the status comes back. */
    CHECK(subinterp_exec(id, "1/0", NULL, NULL, NULL) == SUBINTERP_ERR_PYTHON);
    return 0;
}

int main(void) {
    subinterp_error *err = NULL;
    subinterp_runtime_options runtime_options;
    subinterp_config config = SUBINTERP_CONFIG_INIT;
    subinterp_config actual;
    int64_t id = -1, again = -1;

    if (check_versions() || check_option_structs()) return 1;

    CHECK(subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_NONE);
    CHECK_OK(subinterp_runtime_options_init(&runtime_options));
    CHECK_OK(subinterp_runtime_init(&runtime_options, &err));
    CHECK(subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_EMBED);
    /* Started: a second init without options is fine, with options it is not. */
    CHECK_OK(subinterp_runtime_init(NULL, &err));
    CHECK(subinterp_runtime_init(&runtime_options, &err) == SUBINTERP_ERR_RUNTIME);
    subinterp_error_free(err);
    err = NULL;

    CHECK_OK(subinterp_create(&config, &id, &err));
    CHECK(id > 0);
    actual.struct_size = sizeof actual;
    CHECK_OK(subinterp_get_config(id, &actual, &err));
    CHECK(actual.gil == SUBINTERP_GIL_OWN && actual.use_main_obmalloc == 0);

    CHECK_OK(subinterp_exec(id,
                            "def combine(n, text, *, repeat=1, sep=''):\n"
                            "    return sep.join([text] * repeat), n * 2\n",
                            NULL, NULL, &err));
    if (check_call(id) || check_capture(id) || check_python_errors(id)) return 1;

    /* Errors left the interpreter usable, and __main__ kept its names. */
    CHECK_OK(subinterp_exec(id, "assert combine(1, 'z') == ('z', 2)\n", NULL, NULL, &err));

    CHECK_OK(subinterp_destroy(id, &err));
    CHECK(subinterp_destroy(id, &err) == SUBINTERP_ERR_NOT_FOUND);
    subinterp_error_free(err);
    err = NULL;

    CHECK_OK(subinterp_runtime_finalize(&err));
    CHECK(subinterp_runtime_get_mode() == SUBINTERP_RUNTIME_FINALIZED);
    /* CPython cannot come back in this process. */
    CHECK(subinterp_create(NULL, &again, &err) == SUBINTERP_ERR_RUNTIME);
    CHECK(again == -1);
    subinterp_error_free(err);

    printf("c_header: %d checks passed\n", checks);
    return 0;
}
