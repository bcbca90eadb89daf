#include "python_types.hpp"

#include <memory>
#include <new>

#include "python_error.hpp"

namespace subinterp {
namespace {

// --- per-interpreter type cache ---------------------------------------------------

// Borrowed: the type created by `spec` in the current interpreter, made on
// first use and owned by the interpreter dict.
PyTypeObject* type_in_this_interpreter(const char* key, PyType_Spec& spec) {
    PyObject* registry = PyInterpreterState_GetDict(PyInterpreterState_Get());
    if (!registry) throw Error(ErrorCode::Internal, "interpreter has no dict for extension state");
    PyObject* found = PyDict_GetItemString(registry, key);
    if (found) return reinterpret_cast<PyTypeObject*>(found);
    PyRef type(PyType_FromSpec(&spec));
    if (!type || PyDict_SetItemString(registry, key, type.get()) < 0) throw_python_error();
    return reinterpret_cast<PyTypeObject*>(type.get());  // the dict keeps it alive
}

// --- buffer exporter ------------------------------------------------------------

struct BufferExporter {
    PyObject_HEAD
    BufferView view;  // constructed in place after tp_alloc
};

int exporter_getbuffer(PyObject* self, Py_buffer* view, int flags) {
    const BufferView& shared = reinterpret_cast<BufferExporter*>(self)->view;
    return PyBuffer_FillInfo(view, self, shared.data(), static_cast<Py_ssize_t>(shared.length),
                             shared.readonly ? 1 : 0, flags);
}

void exporter_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    std::destroy_at(&reinterpret_cast<BufferExporter*>(self)->view);  // may release the memory
    type->tp_free(self);
    Py_DECREF(type);
}

PyType_Slot exporter_slots[] = {
    {Py_bf_getbuffer, reinterpret_cast<void*>(exporter_getbuffer)},
    {Py_tp_dealloc, reinterpret_cast<void*>(exporter_dealloc)},
    {Py_tp_doc, const_cast<char*>("Memory shared by subinterp across interpreters and hosts.")},
    {0, nullptr},
};

PyType_Spec exporter_spec = {
    "subinterp.SharedBuffer", sizeof(BufferExporter), 0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION, exporter_slots};

PyTypeObject* exporter_type() { return type_in_this_interpreter("subinterp.SharedBuffer.v1", exporter_spec); }

// --- interpreter id -----------------------------------------------------------------

struct InterpreterId {
    PyObject_HEAD
    long long id;
};

long long id_value(PyObject* self) { return reinterpret_cast<InterpreterId*>(self)->id; }

PyObject* id_repr(PyObject* self) { return PyUnicode_FromFormat("InterpreterID(%lld)", id_value(self)); }

PyObject* id_index(PyObject* self) { return PyLong_FromLongLong(id_value(self)); }

Py_hash_t id_hash(PyObject* self) {
    const Py_hash_t hash = static_cast<Py_hash_t>(id_value(self));
    return hash == -1 ? -2 : hash;
}

PyObject* id_richcompare(PyObject* self, PyObject* other, int op) {
    if (!Py_IS_TYPE(other, Py_TYPE(self)) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
    const bool equal = id_value(self) == id_value(other);
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

// InterpreterID(id): lets Python code send an interpreter handle (the
// interpreter kind) as hosts do with subinterp_data_new_interpreter. Like the
// C ABI, the id is not checked: handles may go stale.
PyObject* id_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* keywords[] = {"id", nullptr};
    long long id = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "L:InterpreterID", const_cast<char**>(keywords), &id)) {
        return nullptr;
    }
    PyObject* object = type->tp_alloc(type, 0);
    if (object) reinterpret_cast<InterpreterId*>(object)->id = id;
    return object;
}

void id_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);
}

PyMemberDef id_members[] = {
    {"id", Py_T_LONGLONG, offsetof(InterpreterId, id), Py_READONLY, "the interpreter's id"},
    {nullptr, 0, 0, 0, nullptr},
};

PyType_Slot id_slots[] = {
    {Py_tp_repr, reinterpret_cast<void*>(id_repr)},
    {Py_tp_hash, reinterpret_cast<void*>(id_hash)},
    {Py_tp_richcompare, reinterpret_cast<void*>(id_richcompare)},
    {Py_nb_index, reinterpret_cast<void*>(id_index)},
    {Py_nb_int, reinterpret_cast<void*>(id_index)},
    {Py_tp_members, id_members},
    {Py_tp_new, reinterpret_cast<void*>(id_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(id_dealloc)},
    {Py_tp_doc, const_cast<char*>("An interpreter's id, as carried by portable data.")},
    {0, nullptr},
};

PyType_Spec id_spec = {"subinterp.InterpreterID", sizeof(InterpreterId), 0,
                       Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, id_slots};

PyTypeObject* id_type() { return type_in_this_interpreter("subinterp.InterpreterID.v1", id_spec); }

}  // namespace

PyRef memoryview_of(const BufferView& view) {
    PyTypeObject* type = exporter_type();
    PyRef exporter(type->tp_alloc(type, 0));
    if (!exporter) throw_python_error();
    new (&reinterpret_cast<BufferExporter*>(exporter.get())->view) BufferView(view);
    PyRef memoryview(PyMemoryView_FromObject(exporter.get()));
    if (!memoryview) throw_python_error();
    return memoryview;
}

std::optional<BufferView> shared_view_of(PyObject* object) {
    if (!PyMemoryView_Check(object)) return std::nullopt;
    const Py_buffer* view = PyMemoryView_GET_BUFFER(object);
    if (!view->obj || !Py_IS_TYPE(view->obj, exporter_type())) return std::nullopt;
    if (view->itemsize != 1 || !PyBuffer_IsContiguous(view, 'C')) return std::nullopt;
    const BufferView& exported = reinterpret_cast<BufferExporter*>(view->obj)->view;
    const auto* start = static_cast<const std::byte*>(view->buf);
    BufferView window = exported;
    window.offset = exported.offset + static_cast<std::size_t>(start - exported.data());
    window.length = static_cast<std::size_t>(view->len);
    window.readonly = exported.readonly || view->readonly;
    return window;
}

PyTypeObject* interpreter_id_type() { return id_type(); }

PyRef interpreter_id_object(int64_t id) {
    PyTypeObject* type = id_type();
    PyRef object(type->tp_alloc(type, 0));
    if (!object) throw_python_error();
    reinterpret_cast<InterpreterId*>(object.get())->id = id;
    return object;
}

std::optional<int64_t> interpreter_id_of(PyObject* object) {
    if (!Py_IS_TYPE(object, id_type())) return std::nullopt;
    return id_value(object);
}

}  // namespace subinterp
