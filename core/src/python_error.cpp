#include "python_error.hpp"

#include "py_ref.hpp"

namespace subinterp {
namespace {

// str(object) as UTF-8; `fallback` if anything fails (the exception it raised
// is discarded: we are already reporting one).
std::string text_of(PyObject* object, const char* fallback) {
    if (!object) return fallback;
    PyRef text(PyObject_Str(object));
    if (!text) {
        PyErr_Clear();
        return fallback;
    }
    PyRef utf8(PyUnicode_AsEncodedString(text.get(), "utf-8", "backslashreplace"));
    if (!utf8) {
        PyErr_Clear();
        return fallback;
    }
    return std::string(PyBytes_AS_STRING(utf8.get()), PyBytes_GET_SIZE(utf8.get()));
}

std::string attribute_text(PyObject* object, const char* name) {
    PyRef value(PyObject_GetAttrString(object, name));
    if (!value) PyErr_Clear();
    return text_of(value.get(), "?");
}

std::string format_exception(PyObject* exception) {
    PyRef traceback_module(PyImport_ImportModule("traceback"));
    PyRef lines(traceback_module ? PyObject_CallMethod(traceback_module.get(), "format_exception", "O", exception)
                                 : nullptr);
    PyRef empty(PyUnicode_FromString(""));
    PyRef joined(lines && empty ? PyUnicode_Join(empty.get(), lines.get()) : nullptr);
    if (!joined) {
        PyErr_Clear();
        return attribute_text(reinterpret_cast<PyObject*>(Py_TYPE(exception)), "__qualname__") + ": " +
               text_of(exception, "<str() failed>") + "\n";
    }
    return text_of(joined.get(), "");
}

}  // namespace

Error fetch_python_error() {
    PyRef exception(PyErr_GetRaisedException());
    // CPython 3.12 sometimes fails without an exception when it runs out of
    // memory (seen from Py_CompileString under an address-space limit).
    if (!exception) {
        return Error(ErrorCode::NoMemory,
                     "a Python call failed without setting an exception (CPython does this when out of memory)");
    }
    PyObject* type = reinterpret_cast<PyObject*>(Py_TYPE(exception.get()));
    PythonException info{attribute_text(type, "__module__"), attribute_text(type, "__qualname__"),
                         format_exception(exception.get())};
    std::string message = text_of(exception.get(), "<str() of the exception failed>");
    return Error(std::move(message), std::move(info));
}

void throw_python_error() { throw fetch_python_error(); }

}  // namespace subinterp
