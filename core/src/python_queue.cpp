#include "python_queue.hpp"
#include "running_call.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <new>
#include <string>

#include "convert.hpp"
#include "python_arguments.hpp"
#include "python_error.hpp"

namespace subinterp {
namespace {

constexpr const char* kObjectsKey = "subinterp.queue_objects.v1";

PyRef checked(PyObject* object) {
    if (!object) throw_python_error();
    return PyRef(object);
}

// --- the Queue type ---------------------------------------------------------------------

struct QueueObject {
    PyObject_HEAD
    PyObject* weakrefs;  // the identity cache holds weak references
    QueueHandle handle;  // constructed in place after tp_alloc
};

QueueHandle& handle_of(PyObject* self) { return reinterpret_cast<QueueObject*>(self)->handle; }

// A Python caller blocks with its GIL released. In the main interpreter it
// wakes every 50 ms to run signal handlers, so Ctrl-C ends a wait.
class PythonBlocking final : public Blocking {
public:
    PythonBlocking() : main_interpreter_(PyInterpreterState_Get() == PyInterpreterState_Main()) {}
    void release() noexcept override { saved_ = PyEval_SaveThread(); }
    void reacquire() noexcept override { PyEval_RestoreThread(saved_); }
    // The main interpreter's signal handlers, and an interrupt of the run
    // this code is part of (a deadline, a cancel), end the wait.
    std::optional<std::chrono::nanoseconds> check_interval() const override {
        if (RunningCall::current()) return std::chrono::milliseconds(20);
        if (!main_interpreter_) return std::nullopt;
        return std::chrono::milliseconds(50);
    }
    bool interrupted() override {
        if (const RunningCall* run = RunningCall::current(); run && run->reason()) return true;
        return PyErr_CheckSignals() < 0;
    }

private:
    bool main_interpreter_;
    PyThreadState* saved_ = nullptr;
};

// `block` and `timeout` as put() and get() take them (PEP 734 semantics, but
// fractional seconds are honoured).
Timeout timeout_argument(PyObject* block, PyObject* timeout) {
    if (block) {
        const int blocking = PyObject_IsTrue(block);
        if (blocking < 0) throw_python_error();
        if (!blocking) return std::chrono::nanoseconds(0);
    }
    if (!timeout || timeout == Py_None) return std::nullopt;
    const double seconds = PyFloat_AsDouble(timeout);
    if (seconds == -1.0 && PyErr_Occurred()) throw_python_error();
    if (std::isnan(seconds) || seconds < 0) throw Error(ErrorCode::InvalidArgument, "timeout value must be non-negative");
    return timeout_from_seconds(seconds);
}

PyObject* unbound_marker(UnboundPolicy policy) {
    const QueueObjects& objects = queue_objects();
    switch (policy) {
        case UnboundPolicy::Error: return Py_NewRef(objects.unbound_error.get());
        case UnboundPolicy::Remove: return Py_NewRef(objects.unbound_remove.get());
        default: return Py_NewRef(objects.unbound.get());
    }
}

int64_t current_interpreter() { return PyInterpreterState_GetID(PyInterpreterState_Get()); }

void put(PyObject* self, PyObject* item, PyObject* block, PyObject* timeout, PyObject* unbounditems) {
    const Timeout wait = timeout_argument(block, timeout);
    const UnboundPolicy policy = unbound_policy_of(unbounditems, UnboundPolicy::QueueDefault);
    DataPtr data;
    try {
        data = from_python(item, Sharing::PickleFallback);
    } catch (const Error& error) {
        throw Error(ErrorCode::NotShareable, error.message());
    }
    PythonBlocking blocking;
    handle_of(self)->put(std::move(data), current_interpreter(), policy, wait, blocking);
}

PyObject* get(PyObject* self, PyObject* block, PyObject* timeout) {
    const Timeout wait = timeout_argument(block, timeout);
    PythonBlocking blocking;
    const DataPtr item = handle_of(self)->get(wait, blocking);
    if (!item) return Py_NewRef(queue_objects().unbound.get());
    return to_python(*item).release();
}

const Parameters kPut{"put", {"obj", "block", "timeout", "unbounditems"}, 4, 3, 1};
const Parameters kPutNowait{"put_nowait", {"obj", "unbounditems"}, 2, 1, 1};
const Parameters kGet{"get", {"block", "timeout"}, 2, 2, 0};

PyObject* queue_put(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* values[4];
    if (!parse_arguments(kPut, args, nargs, kwnames, values)) return nullptr;
    return python_guarded([&] {
        put(self, values[0], values[1], values[2], values[3]);
        Py_RETURN_NONE;
    });
}

PyObject* queue_put_nowait(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* values[2];
    if (!parse_arguments(kPutNowait, args, nargs, kwnames, values)) return nullptr;
    return python_guarded([&] {
        put(self, values[0], Py_False, nullptr, values[1]);
        Py_RETURN_NONE;
    });
}

PyObject* queue_get(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* values[2];
    if (!parse_arguments(kGet, args, nargs, kwnames, values)) return nullptr;
    return python_guarded([&] { return get(self, values[0], values[1]); });
}

PyObject* queue_get_nowait(PyObject* self, PyObject*) {
    return python_guarded([&] { return get(self, Py_False, nullptr); });
}

PyObject* queue_qsize(PyObject* self, PyObject*) {
    return python_guarded([&] { return PyLong_FromSize_t(handle_of(self)->size()); });
}

PyObject* queue_empty(PyObject* self, PyObject*) {
    return python_guarded([&] { return PyBool_FromLong(handle_of(self)->size() == 0); });
}

PyObject* queue_full(PyObject* self, PyObject*) {
    return python_guarded([&] { return PyBool_FromLong(handle_of(self)->full()); });
}

PyObject* queue_close(PyObject* self, PyObject*) {
    return python_guarded([&] {
        handle_of(self)->close();
        Py_RETURN_NONE;
    });
}

PyObject* queue_reduce(PyObject* self, PyObject*) {
    return Py_BuildValue("O(L)", reinterpret_cast<PyObject*>(Py_TYPE(self)), handle_of(self).id());
}

PyObject* queue_id(PyObject* self, void*) { return PyLong_FromLongLong(handle_of(self).id()); }

PyObject* queue_maxsize(PyObject* self, void*) { return PyLong_FromSize_t(handle_of(self)->maxsize()); }

PyObject* queue_unbounditems(PyObject* self, void*) {
    return python_guarded([&] { return unbound_marker(handle_of(self)->unbound_policy()); });
}

PyObject* queue_closed(PyObject* self, void*) {
    return python_guarded([&] { return PyBool_FromLong(handle_of(self)->closed()); });
}

PyObject* queue_repr(PyObject* self) { return PyUnicode_FromFormat("Queue(%lld)", handle_of(self).id()); }

Py_hash_t queue_hash(PyObject* self) {
    const Py_hash_t hash = static_cast<Py_hash_t>(handle_of(self).id());
    return hash == -1 ? -2 : hash;
}

PyObject* queue_richcompare(PyObject* self, PyObject* other, int op) {
    if (!Py_IS_TYPE(other, Py_TYPE(self)) || (op != Py_EQ && op != Py_NE)) Py_RETURN_NOTIMPLEMENTED;
    const bool equal = handle_of(self).id() == handle_of(other).id();
    return PyBool_FromLong(op == Py_EQ ? equal : !equal);
}

// Queue(id): the interpreter's object for the live queue `id` (as unpickling does).
PyObject* queue_new(PyTypeObject*, PyObject* args, PyObject* kwargs) {
    long long id = 0;
    static const char* keywords[] = {"id", nullptr};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "L:Queue", const_cast<char**>(keywords), &id)) return nullptr;
    return python_guarded([&] { return queue_object(QueueHandle::open(id)).release(); });
}

void queue_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    if (reinterpret_cast<QueueObject*>(self)->weakrefs) PyObject_ClearWeakRefs(self);
    std::destroy_at(&handle_of(self));  // the last hold destroys the queue (no Python involved)
    type->tp_free(self);
    Py_DECREF(type);
}

PyMethodDef queue_methods[] = {
    {"put", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(queue_put)), METH_FASTCALL | METH_KEYWORDS,
     "put($self, obj, block=True, timeout=None, *, unbounditems=None)\n--\n\n"
     "Add obj to the queue, waiting (up to timeout seconds) while it is full."},
    {"put_nowait", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(queue_put_nowait)),
     METH_FASTCALL | METH_KEYWORDS, "put_nowait($self, obj, *, unbounditems=None)\n--\n\nput() without waiting."},
    {"get", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(queue_get)), METH_FASTCALL | METH_KEYWORDS,
     "get($self, block=True, timeout=None)\n--\n\n"
     "Remove and return the oldest item, waiting (up to timeout seconds) while the queue is empty."},
    {"get_nowait", queue_get_nowait, METH_NOARGS, "get() without waiting."},
    {"qsize", queue_qsize, METH_NOARGS, "The number of items in the queue."},
    {"empty", queue_empty, METH_NOARGS, "True if the queue holds no items."},
    {"full", queue_full, METH_NOARGS, "True if the queue holds maxsize items."},
    {"close", queue_close, METH_NOARGS,
     "No more puts: blocked and later put() calls raise QueueClosedError; get() drains what is left, then raises "
     "QueueClosedError."},
    {"__reduce__", queue_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyMemberDef queue_members[] = {
    {"__weaklistoffset__", Py_T_PYSSIZET, offsetof(QueueObject, weakrefs), Py_READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr},
};

PyGetSetDef queue_getset[] = {
    {"id", queue_id, nullptr, "The queue's process-wide id.", nullptr},
    {"maxsize", queue_maxsize, nullptr, "The most items the queue holds (0: unbounded).", nullptr},
    {"unbounditems", queue_unbounditems, nullptr, "The queue's default for put(unbounditems=...).", nullptr},
    {"closed", queue_closed, nullptr, "True once close() was called.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr},
};

PyType_Slot queue_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(queue_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(queue_dealloc)},
    {Py_tp_repr, reinterpret_cast<void*>(queue_repr)},
    {Py_tp_hash, reinterpret_cast<void*>(queue_hash)},
    {Py_tp_richcompare, reinterpret_cast<void*>(queue_richcompare)},
    {Py_tp_methods, queue_methods},
    {Py_tp_getset, queue_getset},
    {Py_tp_members, queue_members},
    {Py_tp_doc, const_cast<char*>("Queue(id)\n--\n\nA cross-interpreter queue, shared by every interpreter and "
                                  "host thread in the process.")},
    {0, nullptr},
};

PyType_Spec queue_spec = {"_subinterp.Queue", sizeof(QueueObject), 0,
                          Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE, queue_slots};

// --- the UNBOUND markers ------------------------------------------------------------------

struct UnboundMarker {
    PyObject_HEAD
    const char* name;
};

PyObject* marker_repr(PyObject* self) { return PyUnicode_FromString(reinterpret_cast<UnboundMarker*>(self)->name); }

PyObject* marker_reduce(PyObject* self, PyObject*) {  // pickles as the module attribute
    return PyUnicode_FromString(reinterpret_cast<UnboundMarker*>(self)->name);
}

void marker_dealloc(PyObject* self) {
    PyTypeObject* type = Py_TYPE(self);
    type->tp_free(self);
    Py_DECREF(type);
}

PyMethodDef marker_methods[] = {
    {"__reduce__", marker_reduce, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

PyType_Slot marker_slots[] = {
    {Py_tp_repr, reinterpret_cast<void*>(marker_repr)},
    {Py_tp_dealloc, reinterpret_cast<void*>(marker_dealloc)},
    {Py_tp_methods, marker_methods},
    {Py_tp_doc, const_cast<char*>("What happens to a queue item whose interpreter is destroyed.")},
    {0, nullptr},
};

PyType_Spec marker_spec = {"_subinterp.UnboundItem", sizeof(UnboundMarker), 0,
                           Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
                           marker_slots};

PyRef new_marker(PyObject* type, const char* name) {
    auto* cls = reinterpret_cast<PyTypeObject*>(type);
    PyRef marker = checked(cls->tp_alloc(cls, 0));
    reinterpret_cast<UnboundMarker*>(marker.get())->name = name;
    return marker;
}

// --- per-interpreter set ------------------------------------------------------------------

PyRef new_exception(const char* name, const char* doc, PyObject* bases) {
    return checked(PyErr_NewExceptionWithDoc(name, doc, bases, nullptr));
}

// QueueObjects live in the interpreter's own memory (PyMem), like the
// objects they hold, and go with it.
struct PyMemDelete {
    void operator()(QueueObjects* objects) const noexcept {
        std::destroy_at(objects);
        PyMem_Free(objects);
    }
};
using QueueObjectsPtr = std::unique_ptr<QueueObjects, PyMemDelete>;

QueueObjectsPtr make_queue_objects() {
    void* memory = PyMem_Malloc(sizeof(QueueObjects));
    if (!memory) throw std::bad_alloc();
    QueueObjectsPtr objects(new (memory) QueueObjects());
    objects->interpreter = current_interpreter();
    objects->queue_type = checked(PyType_FromSpec(&queue_spec));
    objects->unbound_type = checked(PyType_FromSpec(&marker_spec));
    objects->unbound = new_marker(objects->unbound_type.get(), "UNBOUND");
    objects->unbound_error = new_marker(objects->unbound_type.get(), "UNBOUND_ERROR");
    objects->unbound_remove = new_marker(objects->unbound_type.get(), "UNBOUND_REMOVE");

    PyRef queue_module = checked(PyImport_ImportModule("queue"));
    PyRef std_empty = checked(PyObject_GetAttrString(queue_module.get(), "Empty"));
    PyRef std_full = checked(PyObject_GetAttrString(queue_module.get(), "Full"));
    objects->queue_error = new_exception("_subinterp.QueueError", "A cross-interpreter queue failed.",
                                         PyExc_RuntimeError);
    PyObject* base = objects->queue_error.get();
    objects->not_found = new_exception("_subinterp.QueueNotFoundError", "The queue does not exist (any more).", base);
    PyRef empty_bases = checked(PyTuple_Pack(2, base, std_empty.get()));
    objects->empty = new_exception("_subinterp.QueueEmpty",
                                   "Raised by get_nowait(), and by get() when it times out.", empty_bases.get());
    PyRef full_bases = checked(PyTuple_Pack(2, base, std_full.get()));
    objects->full = new_exception("_subinterp.QueueFull",
                                  "Raised by put_nowait(), and by put() when it times out.", full_bases.get());
    objects->closed = new_exception("_subinterp.QueueClosedError", "The queue was closed.", base);
    objects->item_destroyed = new_exception(
        "_subinterp.ItemInterpreterDestroyed",
        "Raised by get() for an item put with UNBOUND_ERROR by an interpreter since destroyed.", base);
    // TypeError as in Python 3.14; ValueError as in 3.12/3.13's _interpreters.
    PyRef not_shareable_bases = checked(PyTuple_Pack(2, PyExc_TypeError, PyExc_ValueError));
    objects->not_shareable = new_exception("_subinterp.NotShareableError",
                                           "The object cannot be shared between interpreters.",
                                           not_shareable_bases.get());
    objects->known_queues = checked(PyDict_New());
    return objects;
}

// Freed with the interpreter's dict, as the interpreter is torn down: the
// moment the items it put become unbound.
void destroy_queue_objects(PyObject* capsule) {
    QueueObjectsPtr objects(
        static_cast<QueueObjects*>(PyCapsule_GetPointer(capsule, kObjectsKey)));
    if (!objects) {
        PyErr_Clear();
        return;
    }
    const int64_t interpreter = objects->interpreter;
    objects.reset();
    Queues::instance().interpreter_destroyed(interpreter);
}

PyObject* python_exception_for(ErrorCode code, const QueueObjects& objects) {
    switch (code) {
        case ErrorCode::NotFound: return objects.not_found.get();
        case ErrorCode::QueueEmpty: return objects.empty.get();
        case ErrorCode::QueueFull: return objects.full.get();
        case ErrorCode::Closed: return objects.closed.get();
        case ErrorCode::Unbound: return objects.item_destroyed.get();
        case ErrorCode::NotShareable: return objects.not_shareable.get();
        case ErrorCode::InvalidArgument: return PyExc_ValueError;
        case ErrorCode::Type: return PyExc_TypeError;
        case ErrorCode::Overflow: return PyExc_OverflowError;
        case ErrorCode::Index: return PyExc_IndexError;
        case ErrorCode::NoMemory: return PyExc_MemoryError;
        default: return PyExc_RuntimeError;
    }
}

// A builtin exception class named like the one `error` was captured from.
PyObject* builtin_exception(const Error& error) {
    if (!error.python() || error.python()->module != "builtins") return nullptr;
    PyObject* found = PyDict_GetItemString(PyEval_GetBuiltins(), error.python()->qualname.c_str());
    if (!found || !PyType_Check(found) || !PyType_IsSubtype(reinterpret_cast<PyTypeObject*>(found),
                                                            reinterpret_cast<PyTypeObject*>(PyExc_Exception))) {
        return nullptr;
    }
    return found;
}

}  // namespace

QueueObjects& queue_objects() {
    PyObject* registry = PyInterpreterState_GetDict(PyInterpreterState_Get());
    if (!registry) throw Error(ErrorCode::Internal, "interpreter has no dict for extension state");
    if (PyObject* found = PyDict_GetItemString(registry, kObjectsKey)) {
        return *static_cast<QueueObjects*>(PyCapsule_GetPointer(found, kObjectsKey));
    }
    QueueObjectsPtr objects = make_queue_objects();
    PyRef capsule(PyCapsule_New(objects.get(), kObjectsKey, destroy_queue_objects));
    if (!capsule) throw_python_error();
    QueueObjects& made = *objects.release();  // the capsule owns it now
    if (PyDict_SetItemString(registry, kObjectsKey, capsule.get()) < 0) {
        // Freed here, not by the capsule: its destructor would unbind the
        // items of an interpreter that is still alive.
        PyCapsule_SetDestructor(capsule.get(), nullptr);
        QueueObjectsPtr unused(&made);
        throw_python_error();
    }
    return made;
}

// What a weak reference points to, or nothing if it died.
PyRef referent(PyObject* weak) {
#if PY_VERSION_HEX >= 0x030D0000
    PyObject* object = nullptr;
    if (PyWeakref_GetRef(weak, &object) < 0) throw_python_error();
    return PyRef(object);
#else
    PyObject* object = PyWeakref_GetObject(weak);  // borrowed
    if (!object) throw_python_error();
    return object == Py_None ? PyRef() : PyRef::borrow(object);
#endif
}

// Dead entries go when the cache has doubled since the last sweep.
void sweep_dead_queues(QueueObjects& objects) {
    const Py_ssize_t size = PyDict_Size(objects.known_queues.get());
    if (size < objects.sweep_at) return;
    PyRef dead = checked(PyList_New(0));
    PyObject *id, *weak;
    Py_ssize_t position = 0;
    while (PyDict_Next(objects.known_queues.get(), &position, &id, &weak)) {
        if (!referent(weak) && PyList_Append(dead.get(), id) < 0) throw_python_error();
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dead.get()); ++i) {
        if (PyDict_DelItem(objects.known_queues.get(), PyList_GET_ITEM(dead.get(), i)) < 0) throw_python_error();
    }
    objects.sweep_at = std::max<Py_ssize_t>(64, 2 * PyDict_Size(objects.known_queues.get()));
}

PyRef queue_object(const QueueHandle& handle) {
    QueueObjects& objects = queue_objects();
    PyRef id = checked(PyLong_FromLongLong(handle.id()));
    if (PyObject* weak = PyDict_GetItemWithError(objects.known_queues.get(), id.get())) {
        if (PyRef alive = referent(weak)) return alive;
    } else if (PyErr_Occurred()) {
        throw_python_error();
    }
    auto* type = reinterpret_cast<PyTypeObject*>(objects.queue_type.get());
    PyRef queue = checked(type->tp_alloc(type, 0));
    new (&handle_of(queue.get())) QueueHandle(handle);
    PyRef weak = checked(PyWeakref_NewRef(queue.get(), nullptr));
    sweep_dead_queues(objects);
    if (PyDict_SetItem(objects.known_queues.get(), id.get(), weak.get()) < 0) throw_python_error();
    return queue;
}

std::optional<QueueHandle> queue_handle_of(PyObject* object) {
    if (!Py_IS_TYPE(object, reinterpret_cast<PyTypeObject*>(queue_objects().queue_type.get()))) return std::nullopt;
    return handle_of(object);
}

UnboundPolicy unbound_policy_of(PyObject* marker, UnboundPolicy if_absent) {
    if (!marker || marker == Py_None) return if_absent;
    const QueueObjects& objects = queue_objects();
    if (marker == objects.unbound.get()) return UnboundPolicy::Replace;
    if (marker == objects.unbound_error.get()) return UnboundPolicy::Error;
    if (marker == objects.unbound_remove.get()) return UnboundPolicy::Remove;
    throw Error(ErrorCode::InvalidArgument, "unbounditems must be UNBOUND, UNBOUND_ERROR or UNBOUND_REMOVE");
}

void raise_python_error(const Error& error) {
    if (error.code() == ErrorCode::Cancelled && PyErr_Occurred()) return;  // e.g. KeyboardInterrupt
    if (const RunningCall* run = RunningCall::current(); error.code() == ErrorCode::Cancelled && run && run->reason()) {
        set_interrupted_error(error.message().c_str());  // the run's interrupt, not an error of the queue
        return;
    }
    PyObject* type = builtin_exception(error);
    try {
        if (!type) type = python_exception_for(error.code(), queue_objects());
    } catch (const Error&) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, error.message().c_str());
        return;
    }
    PyErr_SetString(type, error.message().c_str());
}

}  // namespace subinterp
