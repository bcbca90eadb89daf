// `_subinterp`: the data plane for Python code -- queues and their exceptions
// -- importable in the main interpreter and in every isolated interpreter
// (multi-phase init, heap types, per-interpreter GIL). It lives in
// libsubinterp.so itself, so every interpreter reaches the one process-wide
// queue registry: embed mode registers it as a built-in module; a Python
// process imports it through a `_subinterp<EXT_SUFFIX>` link to the library
// (the dynamic loader maps the same library once).
#include <Python.h>

#include "convert.hpp"
#include "python_arguments.hpp"
#include "python_queue.hpp"
#include "python_types.hpp"
#include "subinterp/interpreter.hpp"
#include "subinterp/interpreters.hpp"
#include "subinterp/runtime.hpp"
#include "subinterp_python.h"

namespace subinterp {
namespace {

const Parameters kCreateQueue{"create_queue", {"maxsize", "unbounditems"}, 2, 1, 0};

PyObject* create_queue(PyObject*, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
    PyObject* values[2];
    if (!parse_arguments(kCreateQueue, args, nargs, kwnames, values)) return nullptr;
    Py_ssize_t maxsize = 0;
    if (values[0]) {
        maxsize = PyNumber_AsSsize_t(values[0], PyExc_OverflowError);
        if (maxsize == -1 && PyErr_Occurred()) return nullptr;
    }
    return python_guarded([&] {
        const UnboundPolicy unbound = unbound_policy_of(values[1], UnboundPolicy::Replace);
        const QueueHandle handle = Queues::instance().create(maxsize > 0 ? static_cast<std::size_t>(maxsize) : 0, unbound);
        return queue_object(handle).release();
    });
}

PyObject* list_queues(PyObject*, PyObject*) {
    return python_guarded([&] {
        PyRef list(PyList_New(0));
        if (!list) return static_cast<PyObject*>(nullptr);
        for (const QueueInfo& info : Queues::instance().list()) {
            QueueHandle handle;
            try {
                handle = QueueHandle::open(info.id);
            } catch (const Error& error) {
                if (error.code() == ErrorCode::NotFound) continue;  // destroyed since listed
                throw;
            }
            PyRef queue = queue_object(handle);
            if (PyList_Append(list.get(), queue.get()) < 0) return static_cast<PyObject*>(nullptr);
        }
        return list.release();
    });
}

PyObject* is_shareable(PyObject*, PyObject* object) {
    return python_guarded([&]() -> PyObject* {
        try {
            (void)from_python(object, Sharing::Strict);
        } catch (const Error& error) {
            if (error.code() != ErrorCode::NotShareable) throw;
            PyErr_Clear();  // what the refused conversion may have left set
            Py_RETURN_FALSE;
        }
        Py_RETURN_TRUE;
    });
}

// --- interpreters, as far as any interpreter may look --------------------------------------

PyObject* current_interpreter_id(PyObject*, PyObject*) {
    return python_guarded([&] {
        const std::optional<int64_t> id = Interpreters::current_id();
        if (!id) throw Error(ErrorCode::Internal, "the calling thread runs Python but has no interpreter");
        return PyLong_FromLongLong(*id);
    });
}

PyObject* main_interpreter_id(PyObject*, PyObject*) {
    return python_guarded([&] { return PyLong_FromLongLong(Runtime::instance().interpreters().main()->id()); });
}

PyObject* interpreter_ids(PyObject*, PyObject*) {
    return python_guarded([&] {
        const std::vector<int64_t> ids = Runtime::instance().interpreters().ids();
        PyRef list(PyList_New(static_cast<Py_ssize_t>(ids.size())));
        if (!list) return static_cast<PyObject*>(nullptr);
        for (std::size_t i = 0; i < ids.size(); ++i) {
            PyObject* id = PyLong_FromLongLong(ids[i]);
            if (!id) return static_cast<PyObject*>(nullptr);
            PyList_SET_ITEM(list.get(), static_cast<Py_ssize_t>(i), id);
        }
        return list.release();
    });
}

// None for an id the library does not know (never made, or destroyed).
PyObject* interpreter_is_running(PyObject*, PyObject* argument) {
    const long long id = PyLong_AsLongLong(argument);
    if (id == -1 && PyErr_Occurred()) return nullptr;
    return python_guarded([&]() -> PyObject* {
        try {
            return PyBool_FromLong(Runtime::instance().interpreters().find(id)->is_running());
        } catch (const Error& error) {
            if (error.code() != ErrorCode::NotFound) throw;
            Py_RETURN_NONE;
        }
    });
}

// --- the C API capsule: subinterp_python_api of subinterp_python.h, so the
// table and the header cannot drift apart (the C ABI's subinterp_data * is a
// Data *) ------------------------------------------------------------------------

subinterp_data* data_from_object(PyObject* object, int strict) {
    return python_guarded([&] {
        Data* data = from_python(object, strict ? Sharing::Strict : Sharing::PickleFallback).release();
        return reinterpret_cast<subinterp_data*>(data);
    });
}

PyObject* object_from_data(const subinterp_data* data) {
    if (!data) {
        PyErr_SetString(PyExc_ValueError, "subinterp: NULL data");
        return nullptr;
    }
    return python_guarded([&] { return to_python(*reinterpret_cast<const Data*>(data)).release(); });
}

const subinterp_python_api kPythonApi{sizeof(subinterp_python_api), data_from_object, object_from_data};

PyMethodDef module_functions[] = {
    {"create_queue", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(create_queue)),
     METH_FASTCALL | METH_KEYWORDS,
     "create_queue(maxsize=0, *, unbounditems=UNBOUND)\n--\n\n"
     "A new cross-interpreter queue holding at most maxsize items (0 or less: unbounded). unbounditems is the "
     "default for Queue.put()."},
    {"list_queues", list_queues, METH_NOARGS, "list_queues()\n--\n\nEvery live queue of the process."},
    {"is_shareable", is_shareable, METH_O,
     "is_shareable(obj)\n--\n\nTrue if obj converts to portable data without pickling."},
    {"current_interpreter_id", current_interpreter_id, METH_NOARGS,
     "current_interpreter_id()\n--\n\nThe id of the interpreter running the caller."},
    {"main_interpreter_id", main_interpreter_id, METH_NOARGS, "main_interpreter_id()\n--\n\nThe main interpreter's id."},
    {"interpreter_ids", interpreter_ids, METH_NOARGS,
     "interpreter_ids()\n--\n\nIds of the live interpreters the library knows: main first, then creation order."},
    {"interpreter_is_running", interpreter_is_running, METH_O,
     "interpreter_is_running(id)\n--\n\nTrue while the interpreter runs code, False when idle, None if unknown."},
    {nullptr, nullptr, 0, nullptr},
};

int add(PyObject* module, const char* name, const PyRef& object) {
    return PyModule_AddObjectRef(module, name, object.get());
}

int module_exec(PyObject* module) {
    try {
        const QueueObjects& objects = queue_objects();
        const bool failed = add(module, "Queue", objects.queue_type) < 0 ||
                            add(module, "UnboundItem", objects.unbound_type) < 0 ||
                            add(module, "UNBOUND", objects.unbound) < 0 ||
                            add(module, "UNBOUND_ERROR", objects.unbound_error) < 0 ||
                            add(module, "UNBOUND_REMOVE", objects.unbound_remove) < 0 ||
                            add(module, "QueueError", objects.queue_error) < 0 ||
                            add(module, "QueueNotFoundError", objects.not_found) < 0 ||
                            add(module, "QueueEmpty", objects.empty) < 0 ||
                            add(module, "QueueFull", objects.full) < 0 ||
                            add(module, "QueueClosedError", objects.closed) < 0 ||
                            add(module, "ItemInterpreterDestroyed", objects.item_destroyed) < 0 ||
                            add(module, "NotShareableError", objects.not_shareable) < 0 ||
                            PyModule_AddObjectRef(module, "InterpreterID",
                                                  reinterpret_cast<PyObject*>(interpreter_id_type())) < 0;
        if (failed) return -1;
        PyRef capsule(PyCapsule_New(const_cast<subinterp_python_api*>(&kPythonApi), SUBINTERP_PYTHON_API_CAPSULE, nullptr));
        return capsule ? add(module, "_C_API", capsule) : -1;
    } catch (const Error& error) {
        raise_python_error(error);
        return -1;
    }
}

PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(module_exec)},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, nullptr},
};

PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    "_subinterp",
    "The subinterp data plane: cross-interpreter queues shared by every interpreter and host thread of the process.",
    0,
    module_functions,
    module_slots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace subinterp

extern "C" __attribute__((visibility("default"))) PyObject* PyInit__subinterp(void) {
    return PyModuleDef_Init(&subinterp::module_def);
}
