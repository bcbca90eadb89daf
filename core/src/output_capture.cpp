#include "output_capture.hpp"

#include "python_error.hpp"

namespace subinterp {

OutputCapture::OutputCapture(const RunOptions& options, Output* sink) {
    if (options.captures() && !sink) throw Error(ErrorCode::InvalidArgument, "output capture requested without an output");
    if (options.capture_stdout) start(stdout_, "stdout", &sink->out);
    if (options.capture_stderr) start(stderr_, "stderr", &sink->err);
}

OutputCapture::~OutputCapture() {
    finish(stderr_);
    finish(stdout_);
}

void OutputCapture::start(Redirect& redirect, const char* name, std::string* sink) {
    PyRef io(PyImport_ImportModule("io"));
    PyRef buffer(io ? PyObject_CallMethod(io.get(), "StringIO", nullptr) : nullptr);
    if (!buffer) throw_python_error();
    redirect.original = PyRef::borrow(PySys_GetObject(name));
    if (PySys_SetObject(name, buffer.get()) < 0) throw_python_error();
    redirect.name = name;
    redirect.buffer = std::move(buffer);
    redirect.sink = sink;
}

void OutputCapture::finish(Redirect& redirect) noexcept {
    if (!redirect.name) return;
    // Keep whatever exception is in flight; this code must not disturb it.
    PyObject* in_flight = PyErr_GetRaisedException();
    PyRef text(PyObject_CallMethod(redirect.buffer.get(), "getvalue", nullptr));
    PyRef utf8(text ? PyUnicode_AsEncodedString(text.get(), "utf-8", "backslashreplace") : nullptr);
    if (utf8) {
        redirect.sink->assign(PyBytes_AS_STRING(utf8.get()), static_cast<std::size_t>(PyBytes_GET_SIZE(utf8.get())));
    }
    PyErr_Clear();
    if (PySys_SetObject(redirect.name, redirect.original.get()) < 0) PyErr_Clear();
    PyErr_SetRaisedException(in_flight);
}

}  // namespace subinterp
