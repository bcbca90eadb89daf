package subinterp

// #include "shim.h"
import "C"

import "unsafe"

// Buffer is memory shared with Python code without copying: Python receives
// a memoryview of this very memory, in any interpreter. The memory belongs
// to the library (a Go []byte could not be kept by C), so fill it through
// Bytes instead of building a slice first.
//
// The memory lives while any reference does: this Buffer until Close, a
// value holding it in a queue, a memoryview in Python. A cleanup releases
// the Buffer's reference if it becomes unreachable unclosed; keep the Buffer
// reachable (runtime.KeepAlive) while you use the slice from Bytes.
type Buffer struct {
	handle
	memory   unsafe.Pointer
	size     int
	readonly bool
}

// NewBuffer allocates a writable buffer of size zero bytes in library memory.
func NewBuffer(size int) (*Buffer, error) {
	if size < 0 {
		return nil, errorf(StatusInvalidArgument, "negative buffer size %d", size)
	}
	var memory unsafe.Pointer
	d, err := create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return C.si_data_new_buffer(C.size_t(size), &memory, o, e)
	})
	if err != nil {
		return nil, err
	}
	if size > 0 {
		clear(unsafe.Slice((*byte)(memory), size))
	}
	return newBuffer(d), nil
}

// NewBufferFrom copies b into a new writable buffer (one copy; after it
// Python and Go share the buffer's memory).
func NewBufferFrom(b []byte) (*Buffer, error) {
	buffer, err := NewBuffer(len(b))
	if err != nil {
		return nil, err
	}
	copy(buffer.Bytes(), b)
	return buffer, nil
}

// NewReadOnlyBuffer copies b into a read-only buffer: Python sees a
// read-only memoryview, and nobody may write the memory (nor the slice from
// Bytes).
func NewReadOnlyBuffer(b []byte) (*Buffer, error) {
	d, err := create(func(o **C.subinterp_data, e *C.si_error) C.subinterp_status {
		return C.si_data_new_readonly_copy(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)), o, e)
	})
	if err != nil {
		return nil, err
	}
	return newBuffer(d), nil
}

// bufferOf takes a new reference to a buffer value read from C.
func bufferOf(p *C.subinterp_data) (*Buffer, error) {
	return newBuffer(&data{ptr: C.subinterp_data_ref(p)}), nil
}

func newBuffer(d *data) *Buffer {
	var memory unsafe.Pointer
	var size C.size_t
	var readonly C.int
	// A buffer value always describes itself; failure would be a library bug.
	if err := check(func(e *C.si_error) C.subinterp_status {
		return C.si_data_get_buffer(d.ptr, &memory, &size, &readonly, e)
	}); err != nil {
		panic("subinterp: " + err.Error())
	}
	b := &Buffer{memory: memory, size: int(size), readonly: readonly != 0}
	attach(b, &b.handle, d.ptr)
	return b
}

// Bytes is the shared memory itself, valid until Close. Python code may
// write it at any time if it holds a writable memoryview: coordinate (for
// example through a Queue) before reading what Python wrote. Writing a
// read-only buffer's slice is not allowed.
func (b *Buffer) Bytes() []byte {
	if b.size == 0 || b.memory == nil {
		return []byte{}
	}
	return unsafe.Slice((*byte)(b.memory), b.size)
}

// Len is the size in bytes.
func (b *Buffer) Len() int { return b.size }

// ReadOnly reports whether Python sees a read-only memoryview.
func (b *Buffer) ReadOnly() bool { return b.readonly }

// Close drops this handle's reference (the memory lives on while Python or
// a queue holds it). Idempotent.
func (b *Buffer) Close() error {
	b.close()
	return nil
}
