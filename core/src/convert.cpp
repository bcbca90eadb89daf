#include "convert.hpp"

#include <string>

#include "python_error.hpp"
#include "python_queue.hpp"
#include "python_types.hpp"

namespace subinterp {
namespace {

PyRef checked(PyObject* object) {
    if (!object) throw_python_error();
    return PyRef(object);
}

std::string type_name(PyObject* object) { return Py_TYPE(object)->tp_name; }

// --- ints of any size -----------------------------------------------------------------

PyRef int_to_python(const Data& data) {
    if (!data.is_big_int()) return checked(PyLong_FromLongLong(data.as_int()));
    const std::string bytes = data.int_bytes();
#if PY_VERSION_HEX >= 0x030D0000
    return checked(PyLong_FromNativeBytes(bytes.data(), bytes.size(), Py_ASNATIVEBYTES_LITTLE_ENDIAN));
#else
    return checked(_PyLong_FromByteArray(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                         /*little_endian=*/1, /*is_signed=*/1));
#endif
}

DataPtr int_from_python(PyObject* object) {
    int overflow = 0;
    const long long value = PyLong_AsLongLongAndOverflow(object, &overflow);
    if (!overflow) {
        if (value == -1 && PyErr_Occurred()) throw_python_error();
        return Data::integer(value);
    }
#if PY_VERSION_HEX >= 0x030D0000
    const Py_ssize_t size = PyLong_AsNativeBytes(object, nullptr, 0, Py_ASNATIVEBYTES_LITTLE_ENDIAN);
    if (size < 0) throw_python_error();
    std::string bytes(static_cast<std::size_t>(size), '\0');
    if (PyLong_AsNativeBytes(object, bytes.data(), size, Py_ASNATIVEBYTES_LITTLE_ENDIAN) < 0) throw_python_error();
#else
    const std::size_t size = _PyLong_NumBits(object) / 8 + 1;  // + room for the sign bit
    std::string bytes(size, '\0');
    if (_PyLong_AsByteArray(reinterpret_cast<PyLongObject*>(object), reinterpret_cast<unsigned char*>(bytes.data()),
                            size, /*little_endian=*/1, /*is_signed=*/1) < 0) {
        throw_python_error();
    }
#endif
    return Data::integer_from_bytes(bytes);
}

// --- buffers ----------------------------------------------------------------------------

// A memoryview of library memory is shared as it is (zero copy); any other
// memoryview is copied once into library memory, keeping its read-only flag.
DataPtr memoryview_from_python(PyObject* object) {
    Py_buffer view;
    if (PyObject_GetBuffer(object, &view, PyBUF_FULL_RO) < 0) throw_python_error();  // e.g. released
    struct Release {
        Py_buffer* view;
        ~Release() { PyBuffer_Release(view); }
    } release{&view};
    if (auto shared = shared_view_of(object)) return Data::buffer(std::move(*shared));
    auto copy = Buffer::allocate(static_cast<std::size_t>(view.len));
    if (PyBuffer_ToContiguous(copy->data(), &view, view.len, 'C') < 0) throw_python_error();
    return Data::buffer(BufferView{std::move(copy), 0, static_cast<std::size_t>(view.len), view.readonly != 0});
}

// --- pickle ------------------------------------------------------------------------------

PyRef pickle_function(const char* name) {
    PyRef pickle = checked(PyImport_ImportModule("pickle"));
    return checked(PyObject_GetAttrString(pickle.get(), name));
}

DataPtr pickled_from_python(PyObject* object, Sharing sharing) {
    if (sharing == Sharing::Strict) {
        throw Error(ErrorCode::NotShareable, "objects of type '" + type_name(object) +
                                                 "' are not shareable (strict mode: no pickle fallback)");
    }
    PyRef dumps = pickle_function("dumps");
    PyRef blob(PyObject_CallFunction(dumps.get(), "Oi", object, 5));
    if (!blob) {
        const Error cause = fetch_python_error();
        throw Error(ErrorCode::NotShareable, "objects of type '" + type_name(object) +
                                                 "' are not shareable: pickling failed: " +
                                                 (cause.python() ? cause.python()->qualname + ": " : "") +
                                                 cause.message());
    }
    return Data::pickled(std::string_view(PyBytes_AS_STRING(blob.get()), PyBytes_GET_SIZE(blob.get())));
}

PyRef pickled_to_python(const Data& data) {
    const std::string_view blob = data.as_pickled();
    PyRef bytes = checked(PyBytes_FromStringAndSize(blob.data(), static_cast<Py_ssize_t>(blob.size())));
    PyRef loads = pickle_function("loads");
    return checked(PyObject_CallOneArg(loads.get(), bytes.get()));
}

// --- containers and dispatch ---------------------------------------------------------------

PyRef sequence_to_python(const Data& data) {
    const DataItems& items = data.items();
    const bool is_tuple = data.kind() == DataKind::Tuple;
    const auto size = static_cast<Py_ssize_t>(items.size());
    PyRef sequence = checked(is_tuple ? PyTuple_New(size) : PyList_New(size));
    for (Py_ssize_t i = 0; i < size; ++i) {
        PyObject* item = to_python(*items[i]).release();
        if (is_tuple) {
            PyTuple_SET_ITEM(sequence.get(), i, item);
        } else {
            PyList_SET_ITEM(sequence.get(), i, item);
        }
    }
    return sequence;
}

PyRef dict_to_python(const Data& data) {
    PyRef dict = checked(PyDict_New());
    for (const auto& [key, value] : data.entries()) {
        PyRef py_key = to_python(*key);
        PyRef py_value = to_python(*value);
        const Py_ssize_t size_before = PyDict_GET_SIZE(dict.get());
        if (PyDict_SetItem(dict.get(), py_key.get(), py_value.get()) < 0) throw_python_error();
        if (PyDict_GET_SIZE(dict.get()) == size_before) {
            throw Error(ErrorCode::InvalidArgument, "dict key " + key->repr() +
                                                        " equals an earlier key in Python (e.g. 1, 1.0 and True)");
        }
    }
    return dict;
}

}  // namespace

// Recursion is bounded: Data refuses to nest deeper than Data::kMaxDepth.
PyRef to_python(const Data& data) {
    switch (data.kind()) {
        case DataKind::None: return PyRef::borrow(Py_None);
        case DataKind::Bool: return PyRef::borrow(data.as_bool() ? Py_True : Py_False);
        case DataKind::Int: return int_to_python(data);
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
        case DataKind::List: return sequence_to_python(data);
        case DataKind::Dict: return dict_to_python(data);
        case DataKind::Buffer: return memoryview_of(data.as_buffer());
        case DataKind::Pickled: return pickled_to_python(data);
        case DataKind::Interpreter: return interpreter_id_object(data.as_interpreter());
        case DataKind::Queue: return queue_object(data.as_queue());
    }
    throw Error(ErrorCode::NotShareable,
                std::string("data of kind '") + kind_name(data.kind()) + "' cannot enter Python yet");
}

namespace {

DataPtr from_python_at(PyObject* object, Sharing sharing, int depth);

DataPtr str_from_python(PyObject* object) {
    Py_ssize_t size = 0;
    const char* utf8 = PyUnicode_AsUTF8AndSize(object, &size);
    if (!utf8) {
        PyErr_Clear();
        throw Error(ErrorCode::NotShareable, "str contains a lone surrogate and cannot be encoded as UTF-8");
    }
    return Data::str_from_valid_utf8(std::string_view(utf8, static_cast<std::size_t>(size)));
}

DataPtr sequence_from_python(PyObject* object, Sharing sharing, int depth) {
    const bool is_tuple = PyTuple_Check(object);
    const Py_ssize_t size = is_tuple ? PyTuple_GET_SIZE(object) : PyList_GET_SIZE(object);
    DataItems items;
    items.reserve(static_cast<std::size_t>(size));
    for (Py_ssize_t i = 0; i < size; ++i) {
        // Pickling an item runs Python code, which may change a list: hold the
        // item, and refuse a list that changed size (rather than send part).
        PyRef item = PyRef::borrow(is_tuple ? PyTuple_GET_ITEM(object, i) : PyList_GET_ITEM(object, i));
        items.push_back(from_python_at(item.get(), sharing, depth + 1));
        if (!is_tuple && PyList_GET_SIZE(object) != size) {
            throw Error(ErrorCode::NotShareable, "list changed size while it was being converted");
        }
    }
    return is_tuple ? Data::tuple(std::move(items)) : Data::list(std::move(items));
}

DataPtr dict_from_python(PyObject* object, Sharing sharing, int depth) {
    const Py_ssize_t size = PyDict_GET_SIZE(object);
    DataEntries entries;
    entries.reserve(static_cast<std::size_t>(size));
    Py_ssize_t position = 0;
    PyObject* key = nullptr;
    PyObject* value = nullptr;
    while (PyDict_Next(object, &position, &key, &value)) {
        // Pickling a key or value runs Python code, which may change the dict:
        // hold what we convert, and refuse a dict that changed size.
        PyRef held_key = PyRef::borrow(key);
        PyRef held_value = PyRef::borrow(value);
        DataPtr converted_key = from_python_at(held_key.get(), sharing, depth + 1);
        if (!converted_key->is_hashable()) {  // a memoryview is hashable in Python, a buffer is not data's key
            throw Error(ErrorCode::NotShareable, "dict key of type '" + type_name(held_key.get()) +
                                                     "' converts to " + kind_name(converted_key->kind()) +
                                                     ", which cannot be a key of portable data");
        }
        DataPtr converted_value = from_python_at(held_value.get(), sharing, depth + 1);
        if (PyDict_GET_SIZE(object) != size) {
            throw Error(ErrorCode::NotShareable, "dict changed size while it was being converted");
        }
        entries.emplace_back(std::move(converted_key), std::move(converted_value));
    }
    return Data::dict_of_distinct_keys(std::move(entries));
}

[[noreturn]] void too_deep() {
    throw Error(ErrorCode::NotShareable, "object nested deeper than " + std::to_string(Data::kMaxPythonDepth) +
                                             " levels (or self-referencing)");
}

DataPtr from_python_at(PyObject* object, Sharing sharing, int depth) {
    // Exact types only: a subclass would come back as its base type, so it
    // takes the pickle path, which keeps it.
    PyTypeObject* type = Py_TYPE(object);
    if (object == Py_None) return Data::none();
    if (type == &PyBool_Type) return Data::boolean(object == Py_True);
    if (type == &PyLong_Type) return int_from_python(object);
    if (type == &PyFloat_Type) return Data::floating(PyFloat_AS_DOUBLE(object));
    if (type == &PyUnicode_Type) return str_from_python(object);
    if (type == &PyBytes_Type) {
        return Data::bytes(std::string_view(PyBytes_AS_STRING(object), static_cast<std::size_t>(PyBytes_GET_SIZE(object))));
    }
    if (type == &PyTuple_Type || type == &PyList_Type || type == &PyDict_Type) {
        // The only place depth grows: a container at `depth` is at least
        // depth + 1 deep, empty or not.
        if (depth + 1 > Data::kMaxPythonDepth) too_deep();
        return type == &PyDict_Type ? dict_from_python(object, sharing, depth)
                                    : sequence_from_python(object, sharing, depth);
    }
    if (type == &PyMemoryView_Type) return memoryview_from_python(object);
    if (auto queue = queue_handle_of(object)) return Data::queue(std::move(*queue));
    if (const auto id = interpreter_id_of(object)) return Data::interpreter(*id);
    return pickled_from_python(object, sharing);
}

}  // namespace

DataPtr from_python(PyObject* object, Sharing sharing) { return from_python_at(object, sharing, 0); }

}  // namespace subinterp
