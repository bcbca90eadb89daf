#include "subinterp/execution.hpp"

#include <cmath>
#include <optional>
#include <sstream>
#include <string>

#include "convert.hpp"
#include "output_capture.hpp"
#include "python_error.hpp"
#include "running_call.hpp"
#include "session.hpp"
#include "subinterp/utf8.hpp"
#include "watchdog.hpp"

namespace subinterp {
namespace {

constexpr const char* kSourceName = "<subinterp>";

// Borrowed reference to __main__'s namespace of the current interpreter.
PyObject* main_namespace() {
#if PY_VERSION_HEX >= 0x030D0000
    PyRef module(PyImport_AddModuleRef("__main__"));
    if (!module) throw_python_error();
    return PyModule_GetDict(module.get());  // the module lives in sys.modules
#else
    PyObject* module = PyImport_AddModule("__main__");
    if (!module) throw_python_error();
    return PyModule_GetDict(module);
#endif
}

// "module:qualname" or "qualname", split and checked for shape before any
// Python runs. Each dotted part must be non-empty; identifier rules are left
// to Python (they cover non-ASCII names).
struct CallableName {
    std::optional<std::string> module;
    std::string qualname;
};

bool dotted_parts_non_empty(std::string_view text) {
    if (text.empty()) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = text.find('.', start);
        const std::size_t end = dot == std::string_view::npos ? text.size() : dot;
        if (end == start) return false;
        if (dot == std::string_view::npos) return true;
        start = dot + 1;
    }
}

CallableName parse_callable(std::string_view text) {
    utf8::require_valid(text, "callable name");
    const auto invalid = [&](const char* why) {
        return Error(ErrorCode::InvalidArgument, "callable name '" + std::string(text) + "' " + why +
                                                     " (expected \"module:qualname\" or \"qualname\")");
    };
    const std::size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
        throw invalid("has more than one ':'");
    }
    CallableName name;
    std::string_view qualname = text;
    if (colon != std::string_view::npos) {
        const std::string_view module = text.substr(0, colon);
        if (!dotted_parts_non_empty(module)) throw invalid("has an empty module part");
        name.module = std::string(module);
        qualname = text.substr(colon + 1);
    }
    if (!dotted_parts_non_empty(qualname)) throw invalid("has an empty name part");
    name.qualname = std::string(qualname);
    return name;
}

PyRef get_attribute_path(PyRef object, std::string_view dotted) {
    std::size_t start = 0;
    while (start <= dotted.size()) {
        const std::size_t dot = std::min(dotted.find('.', start), dotted.size());
        const std::string part(dotted.substr(start, dot - start));
        object = PyRef(PyObject_GetAttrString(object.get(), part.c_str()));
        if (!object) throw_python_error();
        start = dot + 1;
    }
    return object;
}

PyRef lookup_in_main(const std::string& qualname) {
    const std::string head = qualname.substr(0, qualname.find('.'));
    PyObject* found = PyDict_GetItemString(main_namespace(), head.c_str());  // borrowed
    if (!found) found = PyDict_GetItemString(PyEval_GetBuiltins(), head.c_str());
    if (!found) {
        PyErr_Format(PyExc_NameError, "name '%s' is not defined in __main__", head.c_str());
        throw_python_error();
    }
    const std::size_t dot = qualname.find('.');
    PyRef object = PyRef::borrow(found);
    return dot == std::string::npos ? std::move(object) : get_attribute_path(std::move(object), qualname.substr(dot + 1));
}

PyRef resolve_callable(const CallableName& name) {
    if (!name.module) return lookup_in_main(name.qualname);
    PyRef module(PyImport_ImportModule(name.module->c_str()));
    if (!module) throw_python_error();
    return get_attribute_path(std::move(module), name.qualname);
}

void require_kind(const Data* data, std::initializer_list<DataKind> kinds, const char* what) {
    if (!data) return;
    for (const DataKind kind : kinds) {
        if (data->kind() == kind) return;
    }
    throw Error(ErrorCode::InvalidArgument, std::string(what) + " has kind '" + kind_name(data->kind()) + "'");
}

void require_str_keys(const Data& dict, const char* what) {
    for (const auto& [key, value] : dict.entries()) {
        if (key->kind() != DataKind::Str) {
            throw Error(ErrorCode::InvalidArgument,
                        std::string(what) + " keys must be str, found " + kind_name(key->kind()) + " " + key->repr());
        }
    }
}

PyRef positional_arguments(const Data* args) {
    if (!args) {
        PyRef empty(PyTuple_New(0));
        if (!empty) throw_python_error();
        return empty;
    }
    PyRef converted = to_python(*args);
    if (PyTuple_Check(converted.get())) return converted;
    PyRef tuple(PyList_AsTuple(converted.get()));
    if (!tuple) throw_python_error();
    return tuple;
}

// Builtins that read the calling frame's namespace. A call from a host runs
// in no Python frame, so they would fail ("frame does not exist"); they get
// the interpreter's __main__ instead, as at its prompt. Returns null when
// `function` is not one of them or its arguments already name a namespace.
PyRef call_frame_builtin(PyObject* function, PyObject* positional, PyObject* keywords) {
    PyObject* builtins = PyEval_GetBuiltins();  // borrowed
    auto is = [&](const char* name) { return function == PyDict_GetItemString(builtins, name); };
    const Py_ssize_t count = PyTuple_GET_SIZE(positional);
    const bool no_keywords = !keywords || PyDict_GET_SIZE(keywords) == 0;
    PyObject* globals = main_namespace();
    if ((is("eval") || is("exec")) && count == 1 && (no_keywords || !PyDict_GetItemString(keywords, "globals"))) {
        PyRef with_globals(PyTuple_Pack(2, PyTuple_GET_ITEM(positional, 0), globals));
        if (!with_globals) throw_python_error();
        return PyRef(PyObject_Call(function, with_globals.get(), keywords));
    }
    if (count != 0 || !no_keywords) return PyRef();
    if (is("globals") || is("locals") || is("vars")) return PyRef(Py_NewRef(globals));
    if (is("dir")) {
        PyRef names(PyDict_Keys(globals));
        if (names && PyList_Sort(names.get()) < 0) return PyRef();
        return names;
    }
    return PyRef();
}

std::string seconds_text(std::chrono::nanoseconds duration) {
    std::ostringstream text;
    text << std::chrono::duration<double>(duration).count() << " s";
    return text.str();
}

// A run registered for interruption (running_call.hpp) for its scope: with
// its interpreter, with the watchdog when it has a deadline, and as the
// thread's current run. Lives inside a Session (the GIL held).
class RunScope {
public:
    RunScope(Interpreter& interpreter, const RunOptions& options)
        : interpreter_(interpreter),
          call_(std::make_shared<RunningCall>(current_thread_state())),
          timeout_(options.timeout),
          current_(call_.get()) {
        interpreter_.add_run(call_);
        if (timeout_) {
            ticket_ = Watchdog::instance().schedule(Watchdog::Clock::now() + *timeout_,
                                                    interpreter_.weak_from_this(), call_);
        }
        if (options.on_start) options.on_start(call_);
    }
    ~RunScope() {
        call_->finish();
        if (ticket_) Watchdog::instance().cancel(*ticket_);
        interpreter_.remove_run(call_.get());
    }
    RunScope(const RunScope&) = delete;
    RunScope& operator=(const RunScope&) = delete;

    // Ends the run and throws the Python exception that ended it. Finishing
    // first keeps a repeated interrupt from landing in the formatting of the
    // traceback.
    [[noreturn]] void fail() {
        call_->finish();
        throw_python_error();
    }

    // The error the run reports for `error`: a Python exception in a run that
    // was interrupted is the interrupt's Timeout or Cancelled (with the
    // exception kept, so the traceback shows where the code was).
    Error explain(const Error& error) {
        const std::optional<InterruptReason> reason = call_->finish();
        if (!reason || error.code() != ErrorCode::Python) return error;
        std::string message = *reason == InterruptReason::Deadline
                                  ? "the code ran past its deadline of " + seconds_text(*timeout_) + " and was interrupted"
                                  : "the code was interrupted (cancelled)";
        const auto& python = *error.python();
        if (python.qualname != "Interrupted" || python.module != "subinterp") {
            message += "; it raised " + python.qualname + ": " + error.message();
        }
        return Error(*reason == InterruptReason::Deadline ? ErrorCode::Timeout : ErrorCode::Cancelled,
                     std::move(message), python);
    }

private:
    Interpreter& interpreter_;
    std::shared_ptr<RunningCall> call_;
    std::optional<std::chrono::nanoseconds> timeout_;
    std::optional<uint64_t> ticket_;
    RunningCall::Current current_;
};

// The callable's name, once it and the arguments' kinds pass the checks.
CallableName checked_call(std::string_view callable, const Data* args, const Data* kwargs) {
    CallableName name = parse_callable(callable);
    require_kind(args, {DataKind::Tuple, DataKind::List}, "call arguments (args)");
    require_kind(kwargs, {DataKind::Dict}, "call keyword arguments (kwargs)");
    if (kwargs) require_str_keys(*kwargs, "kwargs");
    return name;
}

// Runs `body` in the interpreter on this thread, interruptible, with output
// captured as asked.
template <class Body>
auto run_in(Interpreter& interpreter, const RunOptions& options, Output* output, Body&& body) {
    Session session(interpreter);
    OutputCapture capture(options, output);
    RunScope run(interpreter, options);
    try {
        return body(run);
    } catch (const Error& error) {
        throw run.explain(error);
    }
}

}  // namespace

std::optional<std::chrono::nanoseconds> run_timeout_from_seconds(double seconds) {
    if (std::isnan(seconds)) throw Error(ErrorCode::InvalidArgument, "timeout is NaN");
    if (seconds <= 0 || std::isinf(seconds) || seconds > 9e9) return std::nullopt;
    return std::chrono::nanoseconds(static_cast<int64_t>(std::ceil(seconds * 1e9)));
}

void check_call_arguments(std::string_view callable, const Data* args, const Data* kwargs) {
    checked_call(callable, args, kwargs);
}

std::size_t interrupt(Interpreter& interpreter) {
    std::size_t interrupted = 0;
    for (const auto& call : interpreter.runs()) {
        if (interrupt_run(interpreter, call, InterruptReason::Cancel)) ++interrupted;
    }
    return interrupted;
}

void exec(Interpreter& interpreter, std::string_view source, const RunOptions& options, Output* output) {
    utf8::require_valid(source, "source");
    const std::string text(source);
    run_in(interpreter, options, output, [&](RunScope& run) {
        PyRef code(Py_CompileString(text.c_str(), kSourceName, Py_file_input));
        if (!code) throw_python_error();
        PyObject* globals = main_namespace();
        PyRef result(PyEval_EvalCode(code.get(), globals, globals));
        if (!result) run.fail();
    });
}

DataPtr call(Interpreter& interpreter, std::string_view callable, const Data* args, const Data* kwargs,
             const RunOptions& options, Output* output) {
    const CallableName name = checked_call(callable, args, kwargs);
    return run_in(interpreter, options, output, [&](RunScope& run) {
        PyRef function = resolve_callable(name);
        PyRef positional = positional_arguments(args);
        PyRef keywords = kwargs ? to_python(*kwargs) : PyRef();
        PyRef result = call_frame_builtin(function.get(), positional.get(), keywords.get());
        if (!result && !PyErr_Occurred()) {
            result = PyRef(PyObject_Call(function.get(), positional.get(), keywords.get()));
        }
        if (!result) run.fail();
        return from_python(result.get(), options.strict ? Sharing::Strict : Sharing::PickleFallback);
    });
}

void prepare_main(Interpreter& interpreter, const Data& names) {
    require_kind(&names, {DataKind::Dict}, "prepare_main names");
    require_str_keys(names, "prepare_main names");

    Session session(interpreter);
    PyRef converted = to_python(names);  // all values first: all or nothing
    Py_ssize_t position = 0;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    while (PyDict_Next(converted.get(), &position, &key, &value)) {
        if (!PyUnicode_IsIdentifier(key)) {
            throw Error(ErrorCode::InvalidArgument, "prepare_main name " + from_python(key, Sharing::Strict)->repr() +
                                                        " is not a valid Python identifier");
        }
    }
    if (PyDict_Update(main_namespace(), converted.get()) < 0) throw_python_error();
}

}  // namespace subinterp
