/*
 * subinterp.h -- run Python in parallel, in one process, from any language.
 *
 * The stable C ABI of libsubinterp.so.1. Every function is documented where
 * it is declared. Conventions (see docs/abi.md for the long form):
 *
 *  - Fallible functions return a subinterp_status (SUBINTERP_OK == 0) and take
 *    a last argument `subinterp_error **err` that may be NULL. On failure *err
 *    receives a new error object the caller frees with subinterp_error_free().
 *    On success *err is left untouched. Out-parameters are written only on
 *    success unless a function says otherwise.
 *  - Interpreters are named by int64_t ids (CPython's own interpreter ids). An
 *    unknown or destroyed id gives SUBINTERP_ERR_NOT_FOUND, never a crash.
 *  - Data values (subinterp_data) are immutable and reference counted.
 *    Constructors return a new reference; functions that take data borrow it;
 *    subinterp_data_free() drops one reference and accepts NULL.
 *  - Option structs start with `uint32_t struct_size` and have an _init()
 *    function, so fields can be added without breaking callers.
 *  - Any function may be called from any OS thread; no call leaves state
 *    behind that ties a later call to the same thread.
 *  - Strings passed in are NUL-terminated UTF-8 unless a length is given.
 */
#ifndef SUBINTERP_H
#define SUBINTERP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Export macro. Define SUBINTERP_API yourself to override (SWIG, static use).
 * Kept behind #ifndef because SWIG 4.1 cannot parse a bare __attribute__. */
#ifndef SUBINTERP_API
#if defined(__GNUC__) || defined(__clang__)
#define SUBINTERP_API __attribute__((visibility("default")))
#else
#define SUBINTERP_API
#endif
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                 */
/* ------------------------------------------------------------------------ */

#define SUBINTERP_VERSION_MAJOR 0
#define SUBINTERP_VERSION_MINOR 1
#define SUBINTERP_VERSION_PATCH 0
/** MAJOR * 10000 + MINOR * 100 + PATCH, as in zstd.h. */
#define SUBINTERP_VERSION_NUMBER \
    (SUBINTERP_VERSION_MAJOR * 10000 + SUBINTERP_VERSION_MINOR * 100 + SUBINTERP_VERSION_PATCH)

/** The library's SUBINTERP_VERSION_NUMBER at run time (may differ from the
 *  header the caller compiled against). */
SUBINTERP_API unsigned subinterp_version(void);

/** The library's version as a static string, e.g. "0.1.0". */
SUBINTERP_API const char *subinterp_version_string(void);

/** PY_VERSION_HEX of the CPython the library was compiled against
 *  (e.g. 0x030D00F0 for 3.13.0). */
SUBINTERP_API uint32_t subinterp_python_version(void);

/** The CPython version the library was compiled against, e.g. "3.13.0". */
SUBINTERP_API const char *subinterp_python_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                  */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call. Values are part of the ABI and never change. */
typedef int32_t subinterp_status;

/** The values of subinterp_status. The enum is named for bindings (bindgen,
 *  cgo); functions return subinterp_status, a fixed-width int32_t. */
enum subinterp_status_code {
    SUBINTERP_OK = 0,
    /** A NULL pointer, invalid UTF-8, a malformed name, a bad struct_size... */
    SUBINTERP_ERR_INVALID_ARGUMENT = 1,
    /** Unknown or destroyed interpreter or queue id. */
    SUBINTERP_ERR_NOT_FOUND = 2,
    /** The interpreter is running code (or has other live threads). */
    SUBINTERP_ERR_BUSY = 3,
    /** Python code raised; the error carries the exception's type,
     *  message and formatted traceback. */
    SUBINTERP_ERR_PYTHON = 4,
    /** An interpreter config was rejected (before CPython saw it, or by it). */
    SUBINTERP_ERR_CONFIG = 5,
    /** The runtime could not start, was finalized, or is in the wrong mode. */
    SUBINTERP_ERR_RUNTIME = 6,
    /** A data accessor was used on a value of another kind. */
    SUBINTERP_ERR_TYPE = 7,
    /** A value does not fit the requested C type (e.g. int beyond int64). */
    SUBINTERP_ERR_OVERFLOW = 8,
    /** A Python object cannot be turned into portable data. */
    SUBINTERP_ERR_NOT_SHAREABLE = 9,
    /** An index past the end of a container. */
    SUBINTERP_ERR_INDEX = 10,
    /** Out of memory. */
    SUBINTERP_ERR_NO_MEMORY = 11,
    /** A deadline or timeout passed. */
    SUBINTERP_ERR_TIMEOUT = 12,
    /** A queue was empty (non-blocking get or timeout). */
    SUBINTERP_ERR_QUEUE_EMPTY = 13,
    /** A queue was full (non-blocking put or timeout). */
    SUBINTERP_ERR_QUEUE_FULL = 14,
    /** The object (queue, pool) was closed. */
    SUBINTERP_ERR_CLOSED = 15,
    /** The operation was cancelled. */
    SUBINTERP_ERR_CANCELLED = 16,
    /** A queue item's interpreter was destroyed and the item was put with
     *  SUBINTERP_UNBOUND_ERROR (the get consumed it). */
    SUBINTERP_ERR_UNBOUND = 17,
    /** A bug in the library: please report it. */
    SUBINTERP_ERR_INTERNAL = 99
};

/** An error: code, message and, for SUBINTERP_ERR_PYTHON, the exception.
 *  Opaque; read it with the accessors below. Immutable, owned by the caller. */
typedef struct subinterp_error subinterp_error;

/** The status code carried by `err`; SUBINTERP_ERR_INVALID_ARGUMENT if NULL. */
SUBINTERP_API subinterp_status subinterp_error_code(const subinterp_error *err);

/** Human-readable message (never NULL; "" only for a NULL err). For Python
 *  exceptions this is str(exception). Valid until subinterp_error_free(). */
SUBINTERP_API const char *subinterp_error_message(const subinterp_error *err);

/** For SUBINTERP_ERR_PYTHON: the exception type's __module__, e.g.
 *  "builtins". NULL for other errors. Valid until subinterp_error_free(). */
SUBINTERP_API const char *subinterp_error_exc_module(const subinterp_error *err);

/** For SUBINTERP_ERR_PYTHON: the exception type's __qualname__, e.g.
 *  "ZeroDivisionError". NULL for other errors. */
SUBINTERP_API const char *subinterp_error_exc_qualname(const subinterp_error *err);

/** For SUBINTERP_ERR_PYTHON: the formatted exception as printed by
 *  traceback.format_exception() (traceback, SyntaxError caret included).
 *  NULL for other errors. */
SUBINTERP_API const char *subinterp_error_traceback(const subinterp_error *err);

/** Static name of a status code, e.g. "SUBINTERP_ERR_NOT_FOUND". */
SUBINTERP_API const char *subinterp_status_name(subinterp_status status);

/** Free an error. Accepts NULL. */
SUBINTERP_API void subinterp_error_free(subinterp_error *err);

/** Free a string or buffer the library allocated for the caller (e.g. by
 *  subinterp_data_repr). Accepts NULL. */
SUBINTERP_API void subinterp_free(void *ptr);

/** An immutable, reference-counted value of the portable data model (see
 *  "Portable data" below). Owns no Python object; may be used and freed on
 *  any thread. */
typedef struct subinterp_data subinterp_data;

/* ------------------------------------------------------------------------ */
/* Runtime                                                                  */
/* ------------------------------------------------------------------------ */

/** How the library relates to CPython in this process. */
typedef enum subinterp_runtime_mode {
    /** Not started yet (or finalized in attach mode). */
    SUBINTERP_RUNTIME_NONE = 0,
    /** The library initialized CPython: the host is not Python. */
    SUBINTERP_RUNTIME_EMBED = 1,
    /** CPython was already running (the library was loaded into Python). */
    SUBINTERP_RUNTIME_ATTACH = 2,
    /** subinterp_runtime_finalize() ran; CPython cannot be restarted. */
    SUBINTERP_RUNTIME_FINALIZED = 3
} subinterp_runtime_mode;

/** Options for subinterp_runtime_init(). Initialize with
 *  subinterp_runtime_options_init() and change only what you need. */
typedef struct subinterp_runtime_options {
    /** sizeof(subinterp_runtime_options) as compiled by the caller. */
    uint32_t struct_size;
    /** Python home (sys.prefix) to use in embed mode; NULL means the
     *  environment variable SUBINTERP_PYTHON_HOME if set, else the prefix of
     *  the CPython the library was built against. Copied; ignored in attach
     *  mode. */
    const char *python_home;
    /** Import `site` at start-up (site-packages visible). Default 1. */
    int import_site;
    /** Let CPython install its signal handlers (SIGINT -> KeyboardInterrupt).
     *  Default 0: a library should not take the host's signals. */
    int install_signal_handlers;
} subinterp_runtime_options;

/** Fill `opts` with defaults. Returns SUBINTERP_ERR_INVALID_ARGUMENT if opts
 *  is NULL. */
SUBINTERP_API subinterp_status subinterp_runtime_options_init(subinterp_runtime_options *opts);

/** Start the runtime explicitly. Optional: the first call that needs Python
 *  starts it with default options.
 *
 *  If CPython is not running, initializes it with an isolated PyConfig (embed
 *  mode) and releases the main interpreter's GIL so any thread can work. If
 *  CPython is already running in this process, attaches to it (attach mode)
 *  and never initializes or finalizes it; `opts` is then ignored.
 *  `opts` may be NULL for defaults. Calling it again once started returns
 *  SUBINTERP_OK if opts is NULL, and SUBINTERP_ERR_RUNTIME if options are
 *  given (they can no longer apply). After finalize: SUBINTERP_ERR_RUNTIME. */
SUBINTERP_API subinterp_status subinterp_runtime_init(const subinterp_runtime_options *opts,
                                                      subinterp_error **err);

/** Destroy every interpreter the library created and, in embed mode, finalize
 *  CPython. Fails with SUBINTERP_ERR_BUSY if an interpreter (main included)
 *  is running code; interpreters are checked before any is destroyed. May be
 *  called from any thread, but not concurrently with other calls.
 *
 *  Embed mode: afterwards the runtime is SUBINTERP_RUNTIME_FINALIZED and every
 *  later call that needs Python fails with SUBINTERP_ERR_RUNTIME: CPython
 *  cannot be safely re-initialized in one process. Attach mode: CPython
 *  belongs to the host and keeps running; the mode returns to
 *  SUBINTERP_RUNTIME_NONE and the next call attaches again. A host Python
 *  must call this before it exits: Py_FinalizeEx aborts the process while
 *  sub-interpreters are alive. Finalizing a runtime that never started is a
 *  no-op. */
SUBINTERP_API subinterp_status subinterp_runtime_finalize(subinterp_error **err);

/** The current mode. Never fails, never starts the runtime. */
SUBINTERP_API subinterp_runtime_mode subinterp_runtime_get_mode(void);

/* ------------------------------------------------------------------------ */
/* Interpreter configuration                                                */
/* ------------------------------------------------------------------------ */

/** Values of subinterp_config.gil (same values as CPython's). */
enum subinterp_gil {
    SUBINTERP_GIL_DEFAULT = 0, /* CPython's default: shared */
    SUBINTERP_GIL_SHARED = 1,  /* share the main interpreter's GIL */
    SUBINTERP_GIL_OWN = 2      /* own GIL: runs in parallel */
};

/** Presets for subinterp_config_init(). */
typedef enum subinterp_config_preset {
    /** Own GIL, own obmalloc, no fork/exec/daemon threads, only
     *  multi-phase extension modules. Runs in parallel. The default. */
    SUBINTERP_CONFIG_ISOLATED = 0,
    /** Everything CPython's legacy Py_NewInterpreter() gives: shared GIL,
     *  main obmalloc, fork/exec/daemon threads allowed, any extension. */
    SUBINTERP_CONFIG_LEGACY = 1
} subinterp_config_preset;

/** The seven fields of CPython's PyInterpreterConfig, after struct_size.
 *  Boolean fields must be 0 or 1. */
typedef struct subinterp_config {
    uint32_t struct_size;
    int use_main_obmalloc;
    int allow_fork;
    int allow_exec;
    int allow_threads;
    int allow_daemon_threads;
    int check_multi_interp_extensions;
    /** SUBINTERP_GIL_DEFAULT, SUBINTERP_GIL_SHARED or SUBINTERP_GIL_OWN. */
    int gil;
} subinterp_config;

/** Static initializer equal to the ISOLATED preset. */
#define SUBINTERP_CONFIG_INIT {sizeof(subinterp_config), 0, 0, 0, 1, 0, 1, SUBINTERP_GIL_OWN}

/** Fill `config` with a preset (struct_size included). Returns
 *  SUBINTERP_ERR_INVALID_ARGUMENT for NULL or an unknown preset. */
SUBINTERP_API subinterp_status subinterp_config_init(subinterp_config *config,
                                                     subinterp_config_preset preset);

/** Check a config without creating anything: the same checks as
 *  subinterp_create(). Rejects (SUBINTERP_ERR_CONFIG, message naming the
 *  field): booleans other than 0/1; an unknown gil; use_main_obmalloc=1 with
 *  an own GIL (CPython 3.12/3.13 wrongly accept it); use_main_obmalloc=0
 *  without check_multi_interp_extensions=1; allow_daemon_threads=1 with
 *  allow_threads=0. struct_size smaller than the first version of the struct
 *  gives SUBINTERP_ERR_INVALID_ARGUMENT, as does one larger than this
 *  library's (a caller built against a newer header). */
SUBINTERP_API subinterp_status subinterp_config_validate(const subinterp_config *config,
                                                         subinterp_error **err);

/* ------------------------------------------------------------------------ */
/* Interpreters                                                             */
/* ------------------------------------------------------------------------ */

/** Create a sub-interpreter. `config` may be NULL for the ISOLATED preset.
 *  On success *id receives its id (> 0). Starts the runtime if needed. */
SUBINTERP_API subinterp_status subinterp_create(const subinterp_config *config, int64_t *id,
                                                subinterp_error **err);

/** Destroy an interpreter created by subinterp_create(). Errors:
 *  SUBINTERP_ERR_NOT_FOUND for an unknown or already destroyed id;
 *  SUBINTERP_ERR_INVALID_ARGUMENT for the main interpreter;
 *  SUBINTERP_ERR_BUSY while it runs code (on any thread, including a call from
 *  inside itself) or has Python threads still alive (daemon threads of a
 *  legacy interpreter). Non-daemon threading.Thread objects are joined first,
 *  as CPython does. */
SUBINTERP_API subinterp_status subinterp_destroy(int64_t id, subinterp_error **err);

/** List the live interpreters this library knows: the main interpreter first,
 *  then those made by subinterp_create() in creation order. Writes at most
 *  `capacity` ids to `ids` (which may be NULL when capacity is 0) and the
 *  total number to *count, so a caller can size a buffer with a first call. */
SUBINTERP_API subinterp_status subinterp_list(int64_t *ids, size_t capacity, size_t *count,
                                              subinterp_error **err);

/** The main interpreter's id (0 in CPython). Starts the runtime if needed. */
SUBINTERP_API subinterp_status subinterp_main_id(int64_t *id, subinterp_error **err);

/** The id of the interpreter the calling thread is running Python code in
 *  (e.g. when called from Python through a binding). A thread that runs no
 *  Python code gets SUBINTERP_ERR_NOT_FOUND. */
SUBINTERP_API subinterp_status subinterp_current_id(int64_t *id, subinterp_error **err);

/** *running = 1 if the interpreter is executing a subinterp_exec or
 *  subinterp_call right now (on any thread), else 0. */
SUBINTERP_API subinterp_status subinterp_is_running(int64_t id, int *running,
                                                    subinterp_error **err);

/** The config the interpreter was created with. The caller sets
 *  config->struct_size; only fields that fit in it are written. The main interpreter reports what CPython gives it:
 *  use_main_obmalloc=1, allow_fork/exec/threads/daemon_threads=1,
 *  check_multi_interp_extensions=0 and gil=SUBINTERP_GIL_OWN. */
SUBINTERP_API subinterp_status subinterp_get_config(int64_t id, subinterp_config *config,
                                                    subinterp_error **err);

/* ------------------------------------------------------------------------ */
/* Running code                                                             */
/* ------------------------------------------------------------------------ */

/** Flags of subinterp_run_options.flags. */
enum subinterp_run_flag {
    /** Capture sys.stdout of the run into the subinterp_output. */
    SUBINTERP_RUN_CAPTURE_STDOUT = 1u << 0,
    /** Capture sys.stderr of the run into the subinterp_output. */
    SUBINTERP_RUN_CAPTURE_STDERR = 1u << 1,
    /** Strict data: a result outside the portable data model fails with
     *  SUBINTERP_ERR_NOT_SHAREABLE (naming its type) instead of being
     *  pickled into a SUBINTERP_DATA_PICKLED value. */
    SUBINTERP_RUN_STRICT = 1u << 2
};

/** Options for subinterp_exec(), subinterp_call() and pool tasks. NULL
 *  means defaults. */
typedef struct subinterp_run_options {
    uint32_t struct_size;
    /** SUBINTERP_RUN_* flags. Default 0. */
    uint32_t flags;
    /** Deadline of the run in seconds, counted from when the code starts
     *  (for a pool task: when a worker takes it). 0 (the default), negative
     *  or infinite: none. NaN: SUBINTERP_ERR_INVALID_ARGUMENT.
     *
     *  When the deadline passes, the library raises an exception in the
     *  running Python code (type `subinterp.Interrupted`, a BaseException, so
     *  `except Exception` does not swallow it) and the run fails with
     *  SUBINTERP_ERR_TIMEOUT; the error carries the traceback of where the code
     *  was. The interpreter stays usable. What is interrupted when: Python
     *  bytecode within a few milliseconds (one GIL switch interval, 5 ms by
     *  default); a C function holding the GIL (a long regex, a big sum) when it
     *  returns to Python; a call blocked with the GIL released (time.sleep,
     *  socket reads, lock waits) when it returns; a get or put on a subinterp
     *  queue within 20 ms. Code that catches the exception and keeps running is
     *  interrupted again every 100 ms until the run ends; if it returns a
     *  value instead, the run succeeds with it. */
    double timeout;
} subinterp_run_options;

/** Fill `opts` with defaults (struct_size included). */
SUBINTERP_API subinterp_status subinterp_run_options_init(subinterp_run_options *opts);

/** Text captured from sys.stdout / sys.stderr during one run. Captures
 *  writes through Python's sys.stdout/sys.stderr (print, sys.stdout.write,
 *  logging to them), not writes to file descriptors 1 and 2 by C code. */
typedef struct subinterp_output subinterp_output;

/** Captured stdout as UTF-8 (lone surrogates backslash-escaped); *len gets
 *  its length if len is not NULL. "" if not captured. Valid until freed. */
SUBINTERP_API const char *subinterp_output_stdout(const subinterp_output *out, size_t *len);

/** Captured stderr, as subinterp_output_stdout(). */
SUBINTERP_API const char *subinterp_output_stderr(const subinterp_output *out, size_t *len);

/** Free captured output. Accepts NULL. */
SUBINTERP_API void subinterp_output_free(subinterp_output *out);

/** Execute `source` (UTF-8 Python source) in the interpreter's __main__
 *  module; names it defines persist for later calls. `opts` may be NULL.
 *
 *  If opts->flags asks for capture, `output` must not be NULL and *output
 *  receives the captured text -- also when the code raised, so the output
 *  printed before an exception is not lost. Otherwise `output` may be NULL.
 *
 *  Errors: SUBINTERP_ERR_PYTHON for an exception (SyntaxError and SystemExit
 *  included; the interpreter stays usable); SUBINTERP_ERR_INVALID_ARGUMENT
 *  for NULL source or invalid UTF-8; SUBINTERP_ERR_NOT_FOUND for a bad id. */
SUBINTERP_API subinterp_status subinterp_exec(int64_t id, const char *source,
                                              const subinterp_run_options *opts,
                                              subinterp_output **output, subinterp_error **err);

/** Call a Python callable in the interpreter and return its result.
 *
 *  `callable` is "module:qualname" (the module is imported, e.g.
 *  "math:sqrt" or "json:JSONDecoder.decode") or "qualname", looked up in
 *  __main__ and then in builtins (e.g. "f", "Class.method", "len"). The
 *  builtins that read the caller's namespace (eval, exec, globals, locals,
 *  vars, dir) get the interpreter's __main__ when not given one, as at its
 *  prompt: a call from a host runs in no Python frame.
 *  `args` is a tuple or list of positional arguments, or NULL for none.
 *  `kwargs` is a dict with str keys, or NULL for none. The result is
 *  converted to portable data in the interpreter and *result receives a new
 *  reference. `opts` and `output` are as for subinterp_exec().
 *
 *  Errors: as subinterp_exec(), plus SUBINTERP_ERR_NOT_SHAREABLE when the
 *  result cannot be converted and SUBINTERP_ERR_INVALID_ARGUMENT for a
 *  malformed callable name or wrong args/kwargs kinds. */
SUBINTERP_API subinterp_status subinterp_call(int64_t id, const char *callable,
                                              const subinterp_data *args,
                                              const subinterp_data *kwargs,
                                              const subinterp_run_options *opts,
                                              subinterp_data **result,
                                              subinterp_output **output, subinterp_error **err);

/** Bind names in the interpreter's __main__ before running code (PEP 734's
 *  Interpreter.prepare_main). `names` is a dict whose keys are str valid as
 *  Python identifiers; each value is converted to a Python object in the
 *  interpreter. All-or-nothing: on error no name is bound. */
SUBINTERP_API subinterp_status subinterp_prepare_main(int64_t id, const subinterp_data *names,
                                                      subinterp_error **err);

/** Interrupt every subinterp_exec(), subinterp_call() and pool task running
 *  in interpreter `id` right now, from any thread: each gets the exception
 *  described under subinterp_run_options.timeout and fails with
 *  SUBINTERP_ERR_CANCELLED (unless it returns first); the interpreter stays
 *  usable. Waits until the exception is set (a few milliseconds: it takes the
 *  interpreter's GIL), not until the runs end. *interrupted (may be NULL)
 *  receives how many runs were interrupted; 0 when nothing ran. Errors:
 *  SUBINTERP_ERR_NOT_FOUND. */
SUBINTERP_API subinterp_status subinterp_interrupt(int64_t id, size_t *interrupted, subinterp_error **err);

/** Which of `modules` import in an interpreter made with `config` (NULL:
 *  the ISOLATED preset), and why the others do not, so users learn before
 *  production which config their dependencies need.
 *
 *  Each module is imported in a fresh interpreter of that config; a module
 *  that fails is tried again in an interpreter with a shared GIL (own
 *  obmalloc, multi-phase modules only) and then in a LEGACY one, to tell the
 *  reasons apart. *report receives a list with one dict per module, in order:
 *    "module":  str, the name given;
 *    "ok":      bool, whether it imports under `config`;
 *    "reason":  str: "ok"; "no-per-interpreter-gil" (a multi-phase module that
 *               does not declare Py_MOD_PER_INTERPRETER_GIL_SUPPORTED: needs
 *               gil=SHARED); "single-phase" (single-phase init, or declares no
 *               multi-interpreter support: needs the LEGACY preset);
 *               "not-isolated" (CPython 3.12 only: refuses isolated
 *               interpreters, single-phase or no per-interpreter GIL; 3.12
 *               runs a single-phase module's init before refusing it, and
 *               importing some of those again crashes, so it is not retried);
 *               "needs-shared-gil" or "needs-legacy" (fails for another
 *               reason, e.g. it starts a daemon thread or forks at import, but
 *               imports under that config); "not-found" (ModuleNotFoundError);
 *               "error" (fails in every config);
 *    "needs":   str or None: "shared-gil" or "legacy" when another config
 *               imports it, else None;
 *    "error":   str or None: the exception under `config`, as
 *               "Type: message".
 *  Importing runs module code: only check modules you would import anyway.
 *  Known CPython 3.12 bugs: importing _asyncio or ssl in an isolated
 *  interpreter crashes the process at exit; a refused single-phase module
 *  with static state (_testsinglephase, _datetime, _decimal) crashes the
 *  process when imported again in any interpreter. Do not check those on
 *  3.12.
 *  Errors: SUBINTERP_ERR_INVALID_ARGUMENT (NULL modules with count > 0, a
 *  NULL or invalid UTF-8 or empty name), SUBINTERP_ERR_CONFIG. */
SUBINTERP_API subinterp_status subinterp_check_imports(const subinterp_config *config,
                                                       const char *const *modules, size_t count,
                                                       subinterp_data **report, subinterp_error **err);

/* ------------------------------------------------------------------------ */
/* Portable data                                                            */
/* ------------------------------------------------------------------------ */

/** Kinds of portable data. Values are part of the ABI. */
typedef enum subinterp_data_kind {
    SUBINTERP_DATA_INVALID = -1, /* returned for a NULL pointer */
    SUBINTERP_DATA_NONE = 0,
    SUBINTERP_DATA_BOOL = 1,
    SUBINTERP_DATA_INT = 2,
    SUBINTERP_DATA_FLOAT = 3,
    SUBINTERP_DATA_STR = 4,
    SUBINTERP_DATA_BYTES = 5,
    SUBINTERP_DATA_TUPLE = 6,
    SUBINTERP_DATA_LIST = 7,
    SUBINTERP_DATA_DICT = 8,
    SUBINTERP_DATA_BUFFER = 9,
    SUBINTERP_DATA_QUEUE = 10,
    SUBINTERP_DATA_INTERPRETER = 11,
    SUBINTERP_DATA_PICKLED = 12
} subinterp_data_kind;

/* How Python objects become data (in the interpreter that owns them):
 * exactly None, bool, int, float, str, bytes, tuple, list, dict, memoryview
 * and subinterp.InterpreterID map to the kinds of the same name (memoryview ->
 * buffer). Anything else -- subclasses of those types included, so that their
 * type survives the round trip -- is pickled (protocol 5) into a `pickled`
 * value, unless the run is strict (SUBINTERP_RUN_STRICT). Data becomes Python
 * objects of the type it came from; a pickled value is unpickled in the
 * receiving interpreter, so its classes must be importable there. */

/** New None. */
SUBINTERP_API subinterp_status subinterp_data_new_none(subinterp_data **out, subinterp_error **err);
/** New bool (any non-zero `value` is True). */
SUBINTERP_API subinterp_status subinterp_data_new_bool(int value, subinterp_data **out,
                                                       subinterp_error **err);
/** New int from an int64_t. */
SUBINTERP_API subinterp_status subinterp_data_new_int(int64_t value, subinterp_data **out,
                                                      subinterp_error **err);
/** New int of any size from its two's-complement little-endian bytes (the
 *  bytes of Python's int.to_bytes(n, "little", signed=True)); len 0 means 0.
 *  Values that fit in int64_t read back with subinterp_data_get_int. */
SUBINTERP_API subinterp_status subinterp_data_new_int_bytes(const void *bytes, size_t len, subinterp_data **out,
                                                            subinterp_error **err);
/** New float (NaN, infinities and -0.0 are kept exactly). */
SUBINTERP_API subinterp_status subinterp_data_new_float(double value, subinterp_data **out,
                                                        subinterp_error **err);
/** New str from `len` bytes of UTF-8 (embedded NULs allowed). Invalid UTF-8,
 *  surrogate code points included, gives SUBINTERP_ERR_INVALID_ARGUMENT. */
SUBINTERP_API subinterp_status subinterp_data_new_str(const char *utf8, size_t len,
                                                      subinterp_data **out, subinterp_error **err);
/** New bytes (copied). `bytes` may be NULL when len is 0. */
SUBINTERP_API subinterp_status subinterp_data_new_bytes(const void *bytes, size_t len,
                                                        subinterp_data **out, subinterp_error **err);
/** New tuple of `len` items (borrowed; the tuple takes its own references).
 *  Containers nest at most 256 levels deep (a scalar has depth 0, an empty
 *  container 1): deeper gives SUBINTERP_ERR_INVALID_ARGUMENT, as does a NULL
 *  item. Values converted from Python nest at most 200 levels (deeper is
 *  SUBINTERP_ERR_NOT_SHAREABLE), so a host can always wrap them further. */
SUBINTERP_API subinterp_status subinterp_data_new_tuple(const subinterp_data *const *items,
                                                        size_t len, subinterp_data **out,
                                                        subinterp_error **err);
/** New list of `len` items, as subinterp_data_new_tuple(). */
SUBINTERP_API subinterp_status subinterp_data_new_list(const subinterp_data *const *items,
                                                       size_t len, subinterp_data **out,
                                                       subinterp_error **err);
/** New dict of `len` key/value pairs in insertion order. Keys must be
 *  hashable kinds (none, bool, int, float, str, bytes, pickled, interpreter,
 *  queue, tuples of those); a
 *  key equal to an earlier one gives SUBINTERP_ERR_INVALID_ARGUMENT. Keys
 *  that differ here but are equal in Python (1, 1.0, True) are refused with
 *  SUBINTERP_ERR_INVALID_ARGUMENT when the dict is converted to Python. */
SUBINTERP_API subinterp_status subinterp_data_new_dict(const subinterp_data *const *keys,
                                                       const subinterp_data *const *values,
                                                       size_t len, subinterp_data **out,
                                                       subinterp_error **err);

/** Called once, on whichever thread drops the last reference, to give memory
 *  handed over with subinterp_data_new_buffer_external back to its owner. */
typedef void (*subinterp_buffer_release)(void *context, void *data);

/** New writable buffer of `size` bytes of library memory (uninitialized).
 *  *data receives its address: fill it before sharing. The memory lives until
 *  the last reference is dropped -- by the host or by any memoryview of it in
 *  any interpreter -- and is shared without copying: Python code receives a
 *  memoryview of this very memory. */
SUBINTERP_API subinterp_status subinterp_data_new_buffer(size_t size, void **data, subinterp_data **out,
                                                         subinterp_error **err);
/** New buffer over host memory, shared without copying. `release` (may be
 *  NULL) is called exactly once with (`context`, `data`) when the last
 *  reference is dropped, on that thread. A read-only buffer appears in Python
 *  as a read-only memoryview. On failure nothing is taken over and `release`
 *  is not called. */
SUBINTERP_API subinterp_status subinterp_data_new_buffer_external(void *data, size_t size, int readonly,
                                                                  subinterp_buffer_release release,
                                                                  void *context, subinterp_data **out,
                                                                  subinterp_error **err);
/** New pickled value from pickle bytes (a host may pass on what it received,
 *  or make its own). Unpickled when it enters an interpreter. */
SUBINTERP_API subinterp_status subinterp_data_new_pickled(const void *bytes, size_t len, subinterp_data **out,
                                                          subinterp_error **err);
/** New interpreter handle for `id` (not checked: ids may go stale). Python
 *  code receives a subinterp.InterpreterID. */
SUBINTERP_API subinterp_status subinterp_data_new_interpreter(int64_t id, subinterp_data **out,
                                                              subinterp_error **err);

/** Add a reference; returns `data`. Accepts NULL (returns NULL). */
SUBINTERP_API subinterp_data *subinterp_data_ref(const subinterp_data *data);
/** Drop a reference. Accepts NULL. */
SUBINTERP_API void subinterp_data_free(subinterp_data *data);

/** The kind of `data`; SUBINTERP_DATA_INVALID for NULL. */
SUBINTERP_API subinterp_data_kind subinterp_data_get_kind(const subinterp_data *data);
/** Static name of a kind, e.g. "tuple". */
SUBINTERP_API const char *subinterp_data_kind_name(subinterp_data_kind kind);

/** Read a bool (0 or 1). SUBINTERP_ERR_TYPE for other kinds. */
SUBINTERP_API subinterp_status subinterp_data_get_bool(const subinterp_data *data, int *value,
                                                       subinterp_error **err);
/** Read an int. SUBINTERP_ERR_OVERFLOW if it does not fit int64_t (read it
 *  with subinterp_data_get_int_bytes). */
SUBINTERP_API subinterp_status subinterp_data_get_int(const subinterp_data *data, int64_t *value,
                                                      subinterp_error **err);
/** Read any int as two's-complement little-endian bytes of minimal length
 *  (0 is zero bytes). Writes at most `capacity` bytes to `bytes` (may be NULL
 *  when capacity is 0) and the length needed to *len, so a first call can
 *  size the buffer; the bytes are complete only when *len <= capacity. */
SUBINTERP_API subinterp_status subinterp_data_get_int_bytes(const subinterp_data *data, void *bytes,
                                                            size_t capacity, size_t *len, subinterp_error **err);
/** Read a float. */
SUBINTERP_API subinterp_status subinterp_data_get_float(const subinterp_data *data, double *value,
                                                        subinterp_error **err);
/** Borrow a str's UTF-8 (NUL-terminated; *len excludes the NUL). Valid while
 *  `data` lives. */
SUBINTERP_API subinterp_status subinterp_data_get_str(const subinterp_data *data, const char **utf8,
                                                      size_t *len, subinterp_error **err);
/** Borrow a bytes value's contents and length (`len` must not be NULL: bytes
 *  have no terminator). Valid while `data` lives. */
SUBINTERP_API subinterp_status subinterp_data_get_bytes(const subinterp_data *data,
                                                        const void **bytes, size_t *len,
                                                        subinterp_error **err);
/** A buffer's memory: address, length and whether it is read-only
 *  (`memory` must not be NULL; `size` and `readonly` may be). Valid while
 *  `data` lives; the contents are shared, so others may write them. */
SUBINTERP_API subinterp_status subinterp_data_get_buffer(const subinterp_data *data, void **memory, size_t *size,
                                                         int *readonly, subinterp_error **err);
/** Borrow a pickled value's pickle bytes. Valid while `data` lives. */
SUBINTERP_API subinterp_status subinterp_data_get_pickled(const subinterp_data *data, const void **bytes,
                                                          size_t *len, subinterp_error **err);
/** New queue handle for the live queue `id` (SUBINTERP_ERR_NOT_FOUND
 *  otherwise). The value holds the queue: it lives at least as long as the
 *  value, wherever the value goes. Python code receives a _subinterp.Queue. */
SUBINTERP_API subinterp_status subinterp_data_new_queue(int64_t id, subinterp_data **out, subinterp_error **err);
/** Read a queue handle's queue id. The id stays valid while `data` lives; to
 *  keep the queue longer, subinterp_queue_retain() it. */
SUBINTERP_API subinterp_status subinterp_data_get_queue(const subinterp_data *data, int64_t *id,
                                                        subinterp_error **err);
/** Read an interpreter handle's id. */
SUBINTERP_API subinterp_status subinterp_data_get_interpreter(const subinterp_data *data, int64_t *id,
                                                              subinterp_error **err);
/** Number of items of a tuple, list or dict. */
SUBINTERP_API subinterp_status subinterp_data_get_len(const subinterp_data *data, size_t *len,
                                                      subinterp_error **err);
/** Borrow item `index` of a tuple or list (valid while the container lives;
 *  take a reference with subinterp_data_ref to keep it longer). */
SUBINTERP_API subinterp_status subinterp_data_get_item(const subinterp_data *data, size_t index,
                                                       const subinterp_data **item,
                                                       subinterp_error **err);
/** Borrow the key and value of entry `index` of a dict, in insertion order.
 *  Either out-pointer may be NULL. */
SUBINTERP_API subinterp_status subinterp_data_get_entry(const subinterp_data *data, size_t index,
                                                        const subinterp_data **key,
                                                        const subinterp_data **value,
                                                        subinterp_error **err);

/** Structural equality: same kind and equal contents (floats compare by bit
 *  pattern, so NaN equals the same NaN and -0.0 differs from 0.0; dicts
 *  compare entry by entry in insertion order; 1, 1.0 and True differ;
 *  buffers are equal only as the same window on the same memory; pickled
 *  values by their bytes).
 *  Returns 1 or 0; two NULLs are equal. */
SUBINTERP_API int subinterp_data_equal(const subinterp_data *a, const subinterp_data *b);

/** A debug representation in Python syntax, e.g. "(1, 'a', None)", equal to
 *  Python's repr() for ASCII text and all numbers. *repr
 *  receives a NUL-terminated string to free with subinterp_free(). */
SUBINTERP_API subinterp_status subinterp_data_repr(const subinterp_data *data, char **repr,
                                                   subinterp_error **err);

/* ------------------------------------------------------------------------ */
/* Queues                                                                   */
/* ------------------------------------------------------------------------ */

/* Process-wide FIFO queues of portable data, shared by every interpreter
 * (through the _subinterp.Queue Python type) and every host thread. They need
 * no Python: a host can use them before the runtime starts or after it ends.
 * Semantics follow PEP 734 (Python 3.14's concurrent.interpreters.Queue). A
 * blocked put or get waits on a condition variable, woken by the operation
 * that unblocks it, and releases the caller's GIL (attach mode) meanwhile.
 *
 * A queue lives while anyone holds it: the host (subinterp_queue_create and
 * subinterp_queue_retain each count one hold), a queue value of portable
 * data, or a Queue object in any interpreter. When the last hold goes the
 * queue is destroyed with the items it still has. */

/** What get returns for an item whose putting interpreter was destroyed.
 *  Items put by hosts (this C ABI) belong to no interpreter and are never
 *  unbound; the policy matters for items put by Python code. Values are part
 *  of the ABI (and equal CPython's own). */
typedef enum subinterp_unbound {
    /** Per item: the queue's default. As a queue's default: REPLACE. */
    SUBINTERP_UNBOUND_DEFAULT = 0,
    /** The item disappears from the queue. */
    SUBINTERP_UNBOUND_REMOVE = 1,
    /** Getting the item fails with SUBINTERP_ERR_UNBOUND (Python:
     *  ItemInterpreterDestroyed) and consumes it. */
    SUBINTERP_UNBOUND_ERROR = 2,
    /** Getting the item succeeds with *item = NULL (Python: the UNBOUND
     *  marker). */
    SUBINTERP_UNBOUND_REPLACE = 3
} subinterp_unbound;

/** Timeouts are seconds as a double: fractions are honoured (to the
 *  nanosecond, on a monotonic clock). */
#define SUBINTERP_WAIT_FOREVER (-1.0) /* any negative or infinite value */
#define SUBINTERP_NO_WAIT 0.0

/** Options of subinterp_queue_create(). */
typedef struct subinterp_queue_options {
    /** sizeof(subinterp_queue_options), set by the _INIT macro or _init(). */
    uint32_t struct_size;
    /** The most items the queue holds; 0 (the default) for no limit. */
    size_t maxsize;
    /** Default policy for items put without one (REPLACE by default). */
    subinterp_unbound unbound;
} subinterp_queue_options;

#define SUBINTERP_QUEUE_OPTIONS_INIT {sizeof(subinterp_queue_options), 0, SUBINTERP_UNBOUND_REPLACE}

/** Fill `opts` with defaults. SUBINTERP_ERR_INVALID_ARGUMENT if opts is NULL. */
SUBINTERP_API subinterp_status subinterp_queue_options_init(subinterp_queue_options *opts);

/** Create a queue; *id receives its id (ids are never reused). `opts` may be
 *  NULL for defaults. The caller holds the queue once: drop the hold with
 *  subinterp_queue_release(). SUBINTERP_ERR_INVALID_ARGUMENT for a bad
 *  struct_size or policy. */
SUBINTERP_API subinterp_status subinterp_queue_create(const subinterp_queue_options *opts, int64_t *id,
                                                      subinterp_error **err);

/** Take one more hold on queue `id` (e.g. one received inside a value). */
SUBINTERP_API subinterp_status subinterp_queue_retain(int64_t id, subinterp_error **err);

/** Drop one hold taken by create or retain; the last hold destroys the queue.
 *  SUBINTERP_ERR_NOT_FOUND if the queue is gone. */
SUBINTERP_API subinterp_status subinterp_queue_release(int64_t id, subinterp_error **err);

/** Destroy queue `id` now, whoever holds it: its items are dropped, blocked
 *  putters and getters wake with SUBINTERP_ERR_NOT_FOUND, and every later use
 *  of the id (Queue objects included) is SUBINTERP_ERR_NOT_FOUND. */
SUBINTERP_API subinterp_status subinterp_queue_destroy(int64_t id, subinterp_error **err);

/** Close queue `id`: puts fail with SUBINTERP_ERR_CLOSED (blocked putters
 *  wake with it); gets still return the items left, then fail with
 *  SUBINTERP_ERR_CLOSED (blocked getters wake with it). Closing twice is OK. */
SUBINTERP_API subinterp_status subinterp_queue_close(int64_t id, subinterp_error **err);

/** Append `item` (borrowed: the queue takes its own reference), waiting up to
 *  `timeout` seconds while the queue is full. Errors: SUBINTERP_ERR_QUEUE_FULL
 *  when no room came in time (at once for SUBINTERP_NO_WAIT),
 *  SUBINTERP_ERR_CLOSED, SUBINTERP_ERR_NOT_FOUND, SUBINTERP_ERR_INVALID_ARGUMENT
 *  for a NULL item or a NaN timeout. */
SUBINTERP_API subinterp_status subinterp_queue_put(int64_t id, const subinterp_data *item, double timeout,
                                                   subinterp_error **err);

/** Take the oldest item, waiting up to `timeout` seconds while the queue is
 *  empty. *item receives a new reference -- or NULL, with SUBINTERP_OK, for
 *  an item unbound under SUBINTERP_UNBOUND_REPLACE. Errors:
 *  SUBINTERP_ERR_QUEUE_EMPTY when nothing came in time,
 *  SUBINTERP_ERR_CLOSED once closed and drained, SUBINTERP_ERR_UNBOUND,
 *  SUBINTERP_ERR_NOT_FOUND, SUBINTERP_ERR_INVALID_ARGUMENT. */
SUBINTERP_API subinterp_status subinterp_queue_get(int64_t id, double timeout, subinterp_data **item,
                                                   subinterp_error **err);

/** The number of items in queue `id` (unbound items included). */
SUBINTERP_API subinterp_status subinterp_queue_size(int64_t id, size_t *size, subinterp_error **err);

/** A description of a queue, filled by subinterp_queue_get_info(). */
typedef struct subinterp_queue_info {
    /** sizeof(subinterp_queue_info), set by the caller (_INIT macro). */
    uint32_t struct_size;
    int64_t id;
    size_t maxsize;            /* 0: unbounded */
    subinterp_unbound unbound; /* the queue's default policy */
    size_t size;               /* items now */
    int closed;                /* 1 once closed */
} subinterp_queue_info;

#define SUBINTERP_QUEUE_INFO_INIT {sizeof(subinterp_queue_info), 0, 0, SUBINTERP_UNBOUND_DEFAULT, 0, 0}

/** Describe queue `id` into *info (whose struct_size the caller sets). */
SUBINTERP_API subinterp_status subinterp_queue_get_info(int64_t id, subinterp_queue_info *info,
                                                        subinterp_error **err);

/** List the live queues in creation order, as subinterp_list() does: at most
 *  `capacity` ids to `ids` (NULL when capacity is 0), the total to *count. */
SUBINTERP_API subinterp_status subinterp_queue_list(int64_t *ids, size_t capacity, size_t *count,
                                                    subinterp_error **err);


/* ------------------------------------------------------------------------ */
/* Pools and futures                                                        */
/* ------------------------------------------------------------------------ */

/* A pool is N workers, each an OS thread that owns one interpreter, created
 * once and kept warm. Tasks ("module:qualname" + args) go to a FIFO
 * submission queue; an idle worker takes the oldest. Every call returns a
 * future. Worker interpreters appear in subinterp_list() but belong to the
 * pool: subinterp_destroy() on one fails with SUBINTERP_ERR_BUSY.
 *
 * Health: a task that fails is followed by a probe of its worker (a trivial
 * run with an import); a worker whose interpreter no longer passes is
 * replaced by a fresh interpreter (config and init again). So is a worker
 * that reached max_tasks_per_worker. A replacement whose init fails leaves
 * the pool degraded: one worker fewer, reported by subinterp_pool_check()
 * and the stats; when no worker is left, queued and later tasks fail with
 * SUBINTERP_ERR_RUNTIME naming the cause. */

typedef struct subinterp_pool subinterp_pool;
typedef struct subinterp_future subinterp_future;

/** Options for subinterp_pool_create(). */
typedef struct subinterp_pool_options {
    /** sizeof(subinterp_pool_options), set by the _init() function. */
    uint32_t struct_size;
    /** Number of workers; 0 (default): one per online CPU. */
    uint32_t workers;
    /** Each worker's interpreter config (copied); NULL: ISOLATED. */
    const subinterp_config *config;
    /** Source run once in each new worker's __main__ before any task (copied);
     *  NULL: none. */
    const char *init_source;
    /** Callable run once in each new worker after init_source, as
     *  subinterp_call() names it (copied); NULL: none. */
    const char *init_callable;
    /** Positional arguments for init_callable: tuple, list or NULL
     *  (referenced). */
    const subinterp_data *init_args;
    /** Most tasks waiting for a worker; 0 (default): unbounded. A full queue
     *  makes subinterp_pool_submit() wait or fail (its `wait` argument). */
    size_t max_queued;
    /** Replace a worker's interpreter with a fresh one after this many tasks;
     *  0 (default): never. */
    uint64_t max_tasks_per_worker;
} subinterp_pool_options;

/** Fill `opts` with defaults. SUBINTERP_ERR_INVALID_ARGUMENT if NULL. */
SUBINTERP_API subinterp_status subinterp_pool_options_init(subinterp_pool_options *opts);

/** Create a pool and wait until every worker has its interpreter and has run
 *  init_source and init_callable. If any worker fails to start, no pool is
 *  made and the first failure is returned, its message prefixed with
 *  "pool worker N: " (SUBINTERP_ERR_PYTHON with the init's traceback,
 *  SUBINTERP_ERR_CONFIG, ...). Also SUBINTERP_ERR_INVALID_ARGUMENT for bad
 *  options. `opts` may be NULL. Free the pool with subinterp_pool_free(). */
SUBINTERP_API subinterp_status subinterp_pool_create(const subinterp_pool_options *opts,
                                                     subinterp_pool **pool, subinterp_error **err);

/** Queue a call of `callable` with `args`/`kwargs` (as subinterp_call();
 *  referenced, not copied) and return its future in *future. `opts` (flags
 *  and timeout) apply to the task; NULL: defaults. `wait`: seconds to wait
 *  for room when max_queued tasks are waiting -- SUBINTERP_NO_WAIT (0) fails
 *  at once with SUBINTERP_ERR_QUEUE_FULL, negative waits as long as it takes.
 *  Errors: SUBINTERP_ERR_QUEUE_FULL, SUBINTERP_ERR_CLOSED after shutdown,
 *  SUBINTERP_ERR_RUNTIME when no worker is left,
 *  SUBINTERP_ERR_INVALID_ARGUMENT (NULL pool/callable/future, a malformed
 *  callable name, wrong args/kwargs kinds: checked before queueing). */
SUBINTERP_API subinterp_status subinterp_pool_submit(subinterp_pool *pool, const char *callable,
                                                     const subinterp_data *args,
                                                     const subinterp_data *kwargs,
                                                     const subinterp_run_options *opts, double wait,
                                                     subinterp_future **future, subinterp_error **err);

/** Submit (waiting for room as long as it takes) and wait for the result:
 *  subinterp_call() on whichever worker is free. Returns the task's status;
 *  *result and *output as for subinterp_call(). */
SUBINTERP_API subinterp_status subinterp_pool_call(subinterp_pool *pool, const char *callable,
                                                   const subinterp_data *args,
                                                   const subinterp_data *kwargs,
                                                   const subinterp_run_options *opts,
                                                   subinterp_data **result, subinterp_output **output,
                                                   subinterp_error **err);

/** Call `callable` once per element of `arg_lists` (a tuple or list whose
 *  elements are tuples or lists of positional arguments), spread over the
 *  workers, and return the results in *results as a list in the same order.
 *  On the first failure in order, the calls not yet started are cancelled
 *  and that failure is returned, its message prefixed with "item N: ". */
SUBINTERP_API subinterp_status subinterp_pool_map(subinterp_pool *pool, const char *callable,
                                                  const subinterp_data *arg_lists,
                                                  const subinterp_run_options *opts,
                                                  subinterp_data **results, subinterp_error **err);

/** Stop accepting tasks (later submits fail with SUBINTERP_ERR_CLOSED).
 *  cancel_pending=1 cancels the queued tasks (their futures end CANCELLED);
 *  otherwise workers finish them. wait=1 returns once every worker has
 *  finished and destroyed its interpreter; wait=0 returns at once. Running
 *  tasks are not interrupted (cancel their futures for that). Calling it
 *  again is OK. wait=1 from one of the pool's own workers (a completion
 *  callback) fails with SUBINTERP_ERR_BUSY instead of deadlocking. */
SUBINTERP_API subinterp_status subinterp_pool_shutdown(subinterp_pool *pool, int wait, int cancel_pending,
                                                       subinterp_error **err);

/** SUBINTERP_OK while every worker is alive; SUBINTERP_ERR_RUNTIME with the
 *  cause when a worker could not be replaced (degraded) or the pool is shut
 *  down. */
SUBINTERP_API subinterp_status subinterp_pool_check(subinterp_pool *pool, subinterp_error **err);

/** Counters of a pool, filled by subinterp_pool_get_stats(). */
typedef struct subinterp_pool_stats {
    /** sizeof(subinterp_pool_stats), set by the caller (_INIT macro). */
    uint32_t struct_size;
    uint32_t workers;      /* workers asked for */
    uint32_t live_workers; /* workers with a usable interpreter */
    uint32_t busy_workers; /* workers running a task now */
    uint64_t queued;       /* tasks waiting for a worker */
    uint64_t submitted;    /* tasks accepted */
    uint64_t succeeded;    /* tasks that returned a result */
    uint64_t failed;       /* tasks that failed, timed out included */
    uint64_t timed_out;    /* tasks interrupted by their deadline */
    uint64_t cancelled;    /* tasks cancelled, before or while running */
    uint64_t replaced;     /* worker interpreters replaced by fresh ones */
} subinterp_pool_stats;

#define SUBINTERP_POOL_STATS_INIT {sizeof(subinterp_pool_stats), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}

/** Fill *stats (whose struct_size the caller sets) with current counters. */
SUBINTERP_API subinterp_status subinterp_pool_get_stats(subinterp_pool *pool, subinterp_pool_stats *stats,
                                                    subinterp_error **err);

/** One worker of a pool, filled by subinterp_pool_get_worker(). */
typedef struct subinterp_pool_worker {
    /** sizeof(subinterp_pool_worker), set by the caller (_INIT macro). */
    uint32_t struct_size;
    /** 1 while the worker has a usable interpreter. */
    int alive;
    /** Its interpreter's id; -1 while it has none. */
    int64_t interpreter_id;
    /** 1 while it runs a task. */
    int busy;
    /** Tasks it ran (over all its interpreters), and how many of them failed. */
    uint64_t tasks;
    uint64_t failed;
    /** How many times its interpreter was replaced. */
    uint64_t replaced;
} subinterp_pool_worker;

#define SUBINTERP_POOL_WORKER_INIT {sizeof(subinterp_pool_worker), 0, -1, 0, 0, 0, 0}

/** Describe worker `index` (0 <= index < stats.workers) into *worker.
 *  SUBINTERP_ERR_INDEX for an index out of range. */
SUBINTERP_API subinterp_status subinterp_pool_get_worker(subinterp_pool *pool, size_t index,
                                                          subinterp_pool_worker *worker,
                                                          subinterp_error **err);

/** Shut the pool down (cancel_pending=1, wait=1 -- or wait=0 when called from
 *  one of its own workers) and free the handle. Futures stay valid. Accepts
 *  NULL. */
SUBINTERP_API void subinterp_pool_free(subinterp_pool *pool);

/** States of a future. */
typedef enum subinterp_future_state {
    SUBINTERP_FUTURE_PENDING = 0,  /* queued, not started */
    SUBINTERP_FUTURE_RUNNING = 1,  /* a worker is running it */
    SUBINTERP_FUTURE_FINISHED = 2, /* ran: a result or an error */
    SUBINTERP_FUTURE_CANCELLED = 3 /* cancelled before it started: never ran */
} subinterp_future_state;

/** The future's state now. */
SUBINTERP_API subinterp_status subinterp_future_get_state(const subinterp_future *future,
                                                          subinterp_future_state *state,
                                                          subinterp_error **err);

/** Wait up to `timeout` seconds (negative: as long as it takes; 0: just
 *  look) for the future to be FINISHED or CANCELLED. SUBINTERP_OK when it
 *  is, SUBINTERP_ERR_TIMEOUT when not yet. */
SUBINTERP_API subinterp_status subinterp_future_wait(const subinterp_future *future, double timeout,
                                                     subinterp_error **err);

/** Wait for the future, then return its outcome as its status: SUBINTERP_OK
 *  with *result (a new reference; may be called again), or the task's error
 *  (SUBINTERP_ERR_PYTHON, SUBINTERP_ERR_TIMEOUT for its deadline,
 *  SUBINTERP_ERR_CANCELLED when cancelled before or while running, ...).
 *  If `output` is not NULL, *output receives the text the task captured
 *  (empty unless it was submitted with capture flags); free it. */
SUBINTERP_API subinterp_status subinterp_future_result(const subinterp_future *future,
                                                       subinterp_data **result, subinterp_output **output,
                                                       subinterp_error **err);

/** Cancel: a PENDING task never runs (the future is CANCELLED at once); a
 *  RUNNING task is interrupted as by subinterp_interrupt() (its result is
 *  SUBINTERP_ERR_CANCELLED unless it returns first; this call waits until the
 *  exception is set, not until the task ends); a finished one is left as it
 *  is. *cancelled (may be NULL) receives 1 if the task was stopped or will
 *  be, 0 if it had already finished. */
SUBINTERP_API subinterp_status subinterp_future_cancel(subinterp_future *future, int *cancelled,
                                                       subinterp_error **err);

/** Completion callback: `future` is borrowed for the duration of the call. */
typedef void (*subinterp_future_callback)(void *context, subinterp_future *future);

/** Call `callback(context, future)` exactly once when the future is FINISHED
 *  or CANCELLED -- at once, on this thread, if it already is. Otherwise it
 *  runs on the thread that completes the future (a pool worker, or the
 *  thread that cancels it), with no library lock held and no Python thread
 *  state attached, so it may call any subinterp function (except
 *  subinterp_pool_shutdown(wait=1) on its own pool). Keep it short: the
 *  worker waits for it. Several callbacks run in registration order. */
SUBINTERP_API subinterp_status subinterp_future_on_done(subinterp_future *future,
                                                        subinterp_future_callback callback, void *context,
                                                        subinterp_error **err);

/** Drop the handle (the task is not cancelled). Accepts NULL. */
SUBINTERP_API void subinterp_future_free(subinterp_future *future);

#ifdef __cplusplus
}
#endif

#endif /* SUBINTERP_H */
