#include "python_arguments.hpp"

namespace subinterp {

bool parse_arguments(const Parameters& parameters, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames,
                     PyObject** values) {
    const std::size_t positional = static_cast<std::size_t>(PyVectorcall_NARGS(nargs));
    if (positional > parameters.positional) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zu positional arguments (%zu given)", parameters.function,
                     parameters.positional, positional);
        return false;
    }
    for (std::size_t i = 0; i < parameters.count; ++i) values[i] = i < positional ? args[i] : nullptr;
    const Py_ssize_t keywords = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < keywords; ++k) {
        PyObject* name = PyTuple_GET_ITEM(kwnames, k);
        std::size_t i = 0;
        while (i < parameters.count && PyUnicode_CompareWithASCIIString(name, parameters.names[i]) != 0) ++i;
        if (i == parameters.count) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", parameters.function, name);
            return false;
        }
        if (values[i]) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", parameters.function,
                         parameters.names[i]);
            return false;
        }
        values[i] = args[positional + static_cast<std::size_t>(k)];
    }
    for (std::size_t i = 0; i < parameters.required; ++i) {
        if (!values[i]) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", parameters.function,
                         parameters.names[i]);
            return false;
        }
    }
    return true;
}

}  // namespace subinterp
