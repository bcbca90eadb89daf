// Redirects sys.stdout / sys.stderr of the current interpreter to StringIO
// for a scope; the text lands in an Output when the scope ends, also when it
// ends with an exception.
#pragma once

#include "py_ref.hpp"
#include "subinterp/execution.hpp"

namespace subinterp {

class OutputCapture {
public:
    OutputCapture(const RunOptions& options, Output* sink);
    ~OutputCapture();
    OutputCapture(const OutputCapture&) = delete;
    OutputCapture& operator=(const OutputCapture&) = delete;

private:
    struct Redirect {
        const char* name = nullptr;  // "stdout" or "stderr"
        PyRef original;
        PyRef buffer;
        std::string* sink = nullptr;
    };
    void start(Redirect& redirect, const char* name, std::string* sink);
    static void finish(Redirect& redirect) noexcept;

    Redirect stdout_;
    Redirect stderr_;
};

}  // namespace subinterp
