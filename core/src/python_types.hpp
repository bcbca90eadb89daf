// The Python types the data model needs inside every interpreter: a buffer
// exporter behind the memoryviews of shared buffers, and an interpreter-id
// handle. They are heap types created once per interpreter and kept in its
// interpreter dict: a static type shared by interpreters with their own GILs
// would have its reference count raced.
#pragma once

#include <cstdint>
#include <optional>

#include "py_ref.hpp"
#include "subinterp/buffer.hpp"

namespace subinterp {

// A new memoryview over `view` (writable unless the view is read-only).
PyRef memoryview_of(const BufferView& view);

// If `object` is a memoryview of library memory (a whole or part of what
// memoryview_of exported, C-contiguous bytes), the window it shows.
std::optional<BufferView> shared_view_of(PyObject* object);

// This interpreter's subinterp.InterpreterID type (borrowed).
PyTypeObject* interpreter_id_type();

// A new subinterp.InterpreterID for `id`.
PyRef interpreter_id_object(int64_t id);

// The id if `object` is a subinterp.InterpreterID of this interpreter.
std::optional<int64_t> interpreter_id_of(PyObject* object);

}  // namespace subinterp
