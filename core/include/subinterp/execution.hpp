// Running code in an interpreter: exec, call and prepare_main. Each enters the
// interpreter on the calling OS thread for the duration of the call only.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "subinterp/data.hpp"
#include "subinterp/interpreter.hpp"

namespace subinterp {

class RunningCall;

struct RunOptions {
    bool capture_stdout = false;
    bool capture_stderr = false;
    bool strict = false;  // results outside the data model fail instead of being pickled
    // Interrupts the code this long after it starts: Error(Timeout).
    std::optional<std::chrono::nanoseconds> timeout;
    // Called on the running thread, with the interpreter's GIL held, as the
    // code is about to start (a pool future learns what to interrupt).
    std::function<void(const std::shared_ptr<RunningCall>&)> on_start;
    bool captures() const { return capture_stdout || capture_stderr; }
};

// A run's timeout from seconds: 0, negative or infinite is none; NaN throws
// Error(InvalidArgument).
std::optional<std::chrono::nanoseconds> run_timeout_from_seconds(double seconds);

// Text written to sys.stdout / sys.stderr during one run, as UTF-8.
struct Output {
    std::string out;
    std::string err;
};

// Runs `source` in __main__. `output` receives captured text even when the
// code raises. Throws Error (Python for exceptions).
void exec(Interpreter& interpreter, std::string_view source, const RunOptions& options, Output* output);

// Calls "module:qualname" or "qualname" (in __main__, then builtins) with
// `args` (tuple/list or null) and `kwargs` (dict with str keys, or null).
DataPtr call(Interpreter& interpreter, std::string_view callable, const Data* args, const Data* kwargs,
             const RunOptions& options, Output* output);

// Binds each str key of the dict `names` in __main__; all or nothing.
void prepare_main(Interpreter& interpreter, const Data& names);

// The checks call() makes before running anything: the callable name's shape
// and the kinds of args and kwargs. Throws Error(InvalidArgument).
void check_call_arguments(std::string_view callable, const Data* args, const Data* kwargs);

// Interrupts every run in the interpreter now (Error(Cancelled) for each);
// returns how many were running.
std::size_t interrupt(Interpreter& interpreter);

}  // namespace subinterp
