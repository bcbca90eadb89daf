#include "convert.hpp"

#include <string>

#include "python_error.hpp"

namespace subinterp {
namespace {

PyRef checked(PyObject* object) {
    if (!object) throw_python_error();
    return PyRef(object);
}

PyRef to_python_at(const Data& data, int depth);

PyRef sequence_to_python(const Data& data, int depth) {
    const DataItems& items = data.items();
    const bool is_tuple = data.kind() == DataKind::Tuple;
    const auto size = static_cast<Py_ssize_t>(items.size());
    PyRef sequence = checked(is_tuple ? PyTuple_New(size) : PyList_New(size));
    for (Py_ssize_t i = 0; i < size; ++i) {
        PyObject* item = to_python_at(*items[i], depth + 1).release();
        if (is_tuple) {
            PyTuple_SET_ITEM(sequence.get(), i, item);
        } else {
            PyList_SET_ITEM(sequence.get(), i, item);
        }
    }
    return sequence;
}

PyRef dict_to_python(const Data& data, int depth) {
    PyRef dict = checked(PyDict_New());
    for (const auto& [key, value] : data.entries()) {
        PyRef py_key = to_python_at(*key, depth + 1);
        PyRef py_value = to_python_at(*value, depth + 1);
        const Py_ssize_t size_before = PyDict_GET_SIZE(dict.get());
        if (PyDict_SetItem(dict.get(), py_key.get(), py_value.get()) < 0) throw_python_error();
        if (PyDict_GET_SIZE(dict.get()) == size_before) {
            throw Error(ErrorCode::InvalidArgument, "dict key " + key->repr() +
                                                        " equals an earlier key in Python (e.g. 1, 1.0 and True)");
        }
    }
    return dict;
}

PyRef to_python_at(const Data& data, int depth) {
    if (depth > Data::kMaxDepth) {
        throw Error(ErrorCode::NotShareable, "data nested deeper than " + std::to_string(Data::kMaxDepth) + " levels");
    }
    switch (data.kind()) {
        case DataKind::None: return PyRef::borrow(Py_None);
        case DataKind::Bool: return PyRef::borrow(data.as_bool() ? Py_True : Py_False);
        case DataKind::Int: return checked(PyLong_FromLongLong(data.as_int()));
        case DataKind::Float: return checked(PyFloat_FromDouble(data.as_float()));
        case DataKind::Str: {
            const std::string_view text = data.as_str();
            return checked(PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "strict"));
        }
        case DataKind::Bytes: {
            const std::string_view bytes = data.as_bytes();
            return checked(PyBytes_FromStringAndSize(bytes.data(), static_cast<Py_ssize_t>(bytes.size())));
        }
        case DataKind::Tuple:
        case DataKind::List: return sequence_to_python(data, depth);
        case DataKind::Dict: return dict_to_python(data, depth);
        default:
            throw Error(ErrorCode::NotShareable,
                        std::string("data of kind '") + kind_name(data.kind()) + "' cannot enter Python yet");
    }
}

std::string type_name(PyObject* object) {
    return Py_TYPE(object)->tp_name;
}

DataPtr from_python_at(PyObject* object, int depth);

DataPtr int_from_python(PyObject* object) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(object, &overflow);
    if (overflow) {
        throw Error(ErrorCode::Overflow, "int does not fit in 64 bits (arbitrary-size ints are not portable yet)");
    }
    if (value == -1 && PyErr_Occurred()) throw_python_error();
    return Data::integer(value);
}

DataPtr str_from_python(PyObject* object) {
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(object, &size);
    if (!utf8) {
        PyErr_Clear();
        throw Error(ErrorCode::NotShareable, "str contains a lone surrogate and cannot be encoded as UTF-8");
    }
    return Data::str(std::string_view(utf8, static_cast<std::size_t>(size)));
}

DataPtr sequence_from_python(PyObject* object, int depth) {
    const bool is_tuple = PyTuple_Check(object);
    const Py_ssize_t size = is_tuple ? PyTuple_GET_SIZE(object) : PyList_GET_SIZE(object);
    DataItems items;
    items.reserve(static_cast<std::size_t>(size));
    // No Python code runs during conversion, so a list cannot change size here.
    for (Py_ssize_t i = 0; i < size; ++i) {
        PyObject* item = is_tuple ? PyTuple_GET_ITEM(object, i) : PyList_GET_ITEM(object, i);
        items.push_back(from_python_at(item, depth + 1));
    }
    return is_tuple ? Data::tuple(std::move(items)) : Data::list(std::move(items));
}

DataPtr dict_from_python(PyObject* object, int depth) {
    DataEntries entries;
    entries.reserve(static_cast<std::size_t>(PyDict_GET_SIZE(object)));
    Py_ssize_t position = 0;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    while (PyDict_Next(object, &position, &key, &value)) {
        entries.emplace_back(from_python_at(key, depth + 1), from_python_at(value, depth + 1));
    }
    return Data::dict(std::move(entries));
}

DataPtr from_python_at(PyObject* object, int depth) {
    if (depth > Data::kMaxDepth) {
        throw Error(ErrorCode::NotShareable,
                    "object nested deeper than " + std::to_string(Data::kMaxDepth) + " levels (or self-referencing)");
    }
    if (object == Py_None) return Data::none();
    if (PyBool_Check(object)) return Data::boolean(object == Py_True);
    if (PyLong_Check(object)) return int_from_python(object);
    if (PyFloat_Check(object)) return Data::floating(PyFloat_AS_DOUBLE(object));
    if (PyUnicode_Check(object)) return str_from_python(object);
    if (PyBytes_Check(object)) {
        return Data::bytes(std::string_view(PyBytes_AS_STRING(object), static_cast<std::size_t>(PyBytes_GET_SIZE(object))));
    }
    if (PyTuple_Check(object) || PyList_Check(object)) return sequence_from_python(object, depth);
    if (PyDict_Check(object)) return dict_from_python(object, depth);
    throw Error(ErrorCode::NotShareable, "objects of type '" + type_name(object) + "' are not shareable");
}

}  // namespace

PyRef to_python(const Data& data) { return to_python_at(data, 0); }

DataPtr from_python(PyObject* object) { return from_python_at(object, 0); }

}  // namespace subinterp
