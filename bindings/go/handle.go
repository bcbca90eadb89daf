package subinterp

// #include "shim.h"
import "C"

import (
	"runtime"
	"sync"
)

// handle is the one reference to a C data value that a Go object (a Queue,
// a Buffer) owns: Close drops it, and a cleanup drops it if the owner
// becomes unreachable unclosed (a safety net only).
type handle struct {
	mu      sync.Mutex
	data    *C.subinterp_data
	cleanup runtime.Cleanup
}

// attach gives owner the reference d, with its cleanup.
func attach[T any](owner *T, h *handle, d *C.subinterp_data) {
	h.data = d
	h.cleanup = runtime.AddCleanup(owner, freeData, d)
}

// freeData is the cleanup (a C pointer: it keeps nothing of Go's reachable).
func freeData(p *C.subinterp_data) {
	C.subinterp_data_free(p)
}

// open reports whether Close has not run yet.
func (h *handle) open() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.data != nil
}

// close drops the reference. Idempotent.
func (h *handle) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.data != nil {
		h.cleanup.Stop()
		C.subinterp_data_free(h.data)
		h.data = nil
	}
}

// ref is a new reference for passing the value on; what names the owner in
// the error after Close.
func (h *handle) ref(what string) (*data, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.data == nil {
		return nil, errClosedHandle(what)
	}
	return &data{ptr: C.subinterp_data_ref(h.data)}, nil
}

// errClosedHandle is what a Queue or Buffer handle gives after Close.
func errClosedHandle(what string) error {
	return errorf(StatusInvalidArgument, "the %s handle was closed", what)
}
