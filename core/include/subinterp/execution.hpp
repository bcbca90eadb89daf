// Running code in an interpreter: exec, call and prepare_main. Each enters the
// interpreter on the calling OS thread for the duration of the call only.
#pragma once

#include <string>
#include <string_view>

#include "subinterp/data.hpp"
#include "subinterp/interpreter.hpp"

namespace subinterp {

struct RunOptions {
    bool capture_stdout = false;
    bool capture_stderr = false;
    bool strict = false;  // results outside the data model fail instead of being pickled
    bool captures() const { return capture_stdout || capture_stderr; }
};

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

}  // namespace subinterp
