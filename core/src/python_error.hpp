// Turning the current Python exception into a subinterp::Error.
#pragma once

#include "subinterp/error.hpp"

namespace subinterp {

// Takes the raised exception (clearing it) and describes it as plain text:
// type module and qualname, str(exc), formatted traceback. Needs the GIL.
Error fetch_python_error();

// fetch_python_error(), thrown.
[[noreturn]] void throw_python_error();

}  // namespace subinterp
