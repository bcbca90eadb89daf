#include "subinterp/interpreters.hpp"

#include <Python.h>

#include <string>

#include "subinterp/error.hpp"
#include "teardown.hpp"
#include "thread_state.hpp"

namespace subinterp {
namespace {

PyInterpreterConfig to_cpython(const Config& config) {
    PyInterpreterConfig result{};
    copy_config_fields(config, result);
    return result;
}

// Creates with no thread state current: on 3.12.1 a failed
// Py_NewInterpreterFromConfig does not re-acquire the caller's GIL. One
// creation at a time (`serial`, taken once the caller's GIL is released): on
// 3.12.1 two at once from two threads fail ("failed to get the Python codec
// of the filesystem encoding"), as a pool starting its workers showed.
PyThreadState* new_interpreter(const Config& config, std::mutex& serial) {
    CallerDetach caller;
    std::lock_guard one_at_a_time(serial);
    GilstateRestore gilstate;
    const PyInterpreterConfig cpython_config = to_cpython(config);
    PyThreadState* tstate = nullptr;
    const PyStatus status = Py_NewInterpreterFromConfig(&tstate, &cpython_config);
    if (PyStatus_Exception(status) || !tstate) {
        std::string message = "CPython refused to create the interpreter";
        if (status.err_msg) message += std::string(": ") + status.err_msg;
        throw Error(ErrorCode::Config, message);
    }
    PyEval_SaveThread();  // keep it, detached, as this thread's cached state
    return tstate;
}

}  // namespace

Interpreters::Interpreters(_is* main_state) {
    const auto main_id = PyInterpreterState_GetID(main_state);
    by_id_.emplace(main_id, std::make_shared<Interpreter>(main_state, main_id, Config::main(), true));
}

int64_t Interpreters::create(const Config& config, bool pooled) {
    config.validate();
    PyThreadState* tstate = new_interpreter(config, creation_mutex_);
    PyInterpreterState* state = PyThreadState_GetInterpreter(tstate);
    const int64_t id = PyInterpreterState_GetID(state);
    auto interpreter = std::make_shared<Interpreter>(state, id, config, false, pooled);
    interpreter->adopt(tstate);
    std::lock_guard lock(mutex_);
    by_id_.emplace(id, std::move(interpreter));
    return id;
}

void Interpreters::destroy(int64_t id, bool pooled) {
    const auto interpreter = find(id);
    if (interpreter->is_main()) throw Error(ErrorCode::InvalidArgument, "the main interpreter cannot be destroyed");
    if (interpreter->is_pooled() && !pooled) {
        throw Error(ErrorCode::Busy, "interpreter " + std::to_string(id) + " is a worker of a pool; shut the pool down");
    }
    end_interpreter(*interpreter);
    std::lock_guard lock(mutex_);
    by_id_.erase(id);
}

void Interpreters::require_idle() const {
    for (const int64_t id : ids()) {
        if (find(id)->is_running()) {
            throw Error(ErrorCode::Busy, "interpreter " + std::to_string(id) + " is running code");
        }
    }
}

void Interpreters::require_endable() const {
    require_idle();
    for (const int64_t id : ids()) {
        const auto interpreter = find(id);
        if (!interpreter->is_main() && !interpreter->is_pooled()) subinterp::require_endable(*interpreter);
    }
}

void Interpreters::destroy_all() {
    require_endable();
    for (const int64_t id : ids()) {
        const auto interpreter = find(id);
        if (!interpreter->is_main()) destroy(id, interpreter->is_pooled());
    }
}

std::shared_ptr<Interpreter> Interpreters::find(int64_t id) const {
    std::lock_guard lock(mutex_);
    const auto found = by_id_.find(id);
    if (found == by_id_.end()) throw Error(ErrorCode::NotFound, "no interpreter with id " + std::to_string(id));
    return found->second;
}

std::shared_ptr<Interpreter> Interpreters::main() const {
    std::lock_guard lock(mutex_);
    for (const auto& [id, interpreter] : by_id_) {
        if (interpreter->is_main()) return interpreter;
    }
    throw Error(ErrorCode::Internal, "the main interpreter is not registered");
}

std::vector<int64_t> Interpreters::ids() const {
    std::lock_guard lock(mutex_);
    std::vector<int64_t> ids;
    ids.reserve(by_id_.size());
    for (const auto& [id, interpreter] : by_id_) ids.push_back(id);
    return ids;
}

std::optional<int64_t> Interpreters::current_id() {
    PyThreadState* tstate = current_thread_state();
    if (!tstate) return std::nullopt;
    return PyInterpreterState_GetID(PyThreadState_GetInterpreter(tstate));
}

}  // namespace subinterp
