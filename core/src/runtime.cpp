#include "subinterp/runtime.hpp"

#include <Python.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <cstdlib>

#include "subinterp/pool.hpp"
#include "teardown.hpp"
#include "thread_state.hpp"

#ifndef SUBINTERP_DEFAULT_PYTHON_HOME
#error "the build must define SUBINTERP_DEFAULT_PYTHON_HOME (sys.prefix of the CPython built against)"
#endif

extern "C" PyObject* PyInit__subinterp(void);  // python_module.cpp

namespace subinterp {
namespace {

// CPython's extension modules (math, _json, ...) are not linked against
// libpython: they expect Py* symbols in the global namespace. When a host
// dlopen()s us with RTLD_LOCAL, libpython came in locally too; promote it.
void make_libpython_global() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&Py_InitializeFromConfig), &info) == 0 || !info.dli_fname) {
        throw Error(ErrorCode::Runtime, "cannot locate libpython in this process (dladdr failed)");
    }
    if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) {
        throw Error(ErrorCode::Runtime, std::string("cannot make libpython's symbols global: ") + dlerror());
    }
}

// Py_IsInitialized() turns false early in Py_FinalizeEx, while objects are
// still being collected: a call then (a __del__, a GC callback) must not take
// CPython for absent and try to start it.
bool python_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

bool is_file(const std::string& path) {
    struct stat info {};
    return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// Checked before CPython sees the home: a wrong home makes CPython's start-up
// fail half-way, and a half-initialized runtime cannot be retried.
void require_stdlib(const std::string& home) {
    const std::string landmark =
        home + "/lib/python" + std::to_string(PY_MAJOR_VERSION) + "." + std::to_string(PY_MINOR_VERSION) + "/os.py";
    if (!is_file(landmark)) {
        throw Error(ErrorCode::Runtime, "python home '" + home + "' has no standard library for CPython " +
                                            PY_VERSION + " (missing " + landmark + ")");
    }
}

void check(PyStatus status, PyConfig& config, const char* what) {
    if (!PyStatus_Exception(status)) return;
    PyConfig_Clear(&config);
    std::string message = std::string("CPython failed to ") + what;
    if (status.func) message += std::string(" in ") + status.func;
    if (status.err_msg) message += std::string(": ") + status.err_msg;
    throw Error(ErrorCode::Runtime, message);
}

}  // namespace

Runtime& Runtime::instance() {
    static Runtime runtime;
    return runtime;
}

uint32_t Runtime::python_version_hex() noexcept { return PY_VERSION_HEX; }

const char* Runtime::python_version() noexcept { return PY_VERSION; }

std::string Runtime::python_home(const RuntimeOptions& options) {
    if (options.python_home) return *options.python_home;
    if (const char* from_env = std::getenv("SUBINTERP_PYTHON_HOME"); from_env && *from_env) return from_env;
    return SUBINTERP_DEFAULT_PYTHON_HOME;
}

void Runtime::start(const RuntimeOptions* options) {
    std::lock_guard lock(mutex_);
    const RuntimeMode current = mode();
    if (current == RuntimeMode::Embed || current == RuntimeMode::Attach) {
        if (options) throw Error(ErrorCode::Runtime, "the runtime is already started; options can no longer apply");
        return;
    }
    start_locked(options ? *options : RuntimeOptions{});
}

Interpreters& Runtime::interpreters() {
    const RuntimeMode current = mode();
    if (current != RuntimeMode::Embed && current != RuntimeMode::Attach) {
        std::lock_guard lock(mutex_);
        if (mode() == RuntimeMode::None || mode() == RuntimeMode::Finalized) start_locked(RuntimeOptions{});
    }
    return *interpreters_;
}

void Runtime::start_locked(const RuntimeOptions& options) {
    if (mode() == RuntimeMode::Finalized) {
        throw Error(ErrorCode::Runtime, "the runtime was finalized; CPython cannot be safely restarted in one process");
    }
    if (start_failure_) throw *start_failure_;
    if (python_finalizing()) throw Error(ErrorCode::Runtime, "CPython is finalizing; no interpreter can be used now");
    if (Py_IsInitialized()) {
        interpreters_ = std::make_unique<Interpreters>(PyInterpreterState_Main());
        mode_.store(RuntimeMode::Attach, std::memory_order_release);
        return;
    }
    embed(options);
}

void Runtime::embed(const RuntimeOptions& options) {
    const std::string home = python_home(options);
    require_stdlib(home);
    make_libpython_global();
    // Every interpreter can then `import _subinterp` (python_module.cpp).
    if (PyImport_AppendInittab("_subinterp", PyInit__subinterp) < 0) {
        throw Error(ErrorCode::NoMemory, "cannot register the _subinterp module");
    }

    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = options.import_site ? 1 : 0;
    config.install_signal_handlers = options.install_signal_handlers ? 1 : 0;
    check(PyConfig_SetBytesString(&config, &config.home, home.c_str()), config, "set the python home");
    check(PyConfig_SetBytesString(&config, &config.program_name, "subinterp"), config, "set the program name");
    try {
        check(Py_InitializeFromConfig(&config), config, "initialize");
    } catch (const Error& error) {
        start_failure_ = error;  // CPython is half-started now: no retry
        throw;
    }
    PyConfig_Clear(&config);

    interpreters_ = std::make_unique<Interpreters>(PyInterpreterState_Main());
    // The start-up thread state stays alive (detached); Py_FinalizeEx deletes it.
    PyEval_SaveThread();
    mode_.store(RuntimeMode::Embed, std::memory_order_release);
}

void Runtime::finalize() {
    std::lock_guard lock(mutex_);
    const RuntimeMode current = mode();
    if (current != RuntimeMode::Embed && current != RuntimeMode::Attach) return;
    interpreters_->require_endable();  // refuse before anything is destroyed
    shut_down_all_pools();              // their interpreters go with them
    const auto main = interpreters_->main();
    interpreters_->destroy_all();
    if (current == RuntimeMode::Attach) {
        interpreters_.reset();
        mode_.store(RuntimeMode::None, std::memory_order_release);
        return;
    }
    // Finalize on this thread, whichever it is, with its own main thread state.
    attach_for_teardown(*main, main->close());
    Py_FinalizeEx();
    mode_.store(RuntimeMode::Finalized, std::memory_order_release);
}

}  // namespace subinterp
