package subinterp

// #include "shim.h"
import "C"

import "unsafe"

// ImportCheck is what CheckImports found for one module.
type ImportCheck struct {
	// Module is the name given.
	Module string
	// OK reports whether it imports under the config checked.
	OK bool
	// Reason is "ok"; "no-per-interpreter-gil" (a multi-phase module that
	// does not declare per-interpreter GIL support: needs GILShared);
	// "single-phase" (single-phase init or no multi-interpreter support:
	// needs LegacyConfig); "needs-shared-gil" or "needs-legacy" (fails for
	// another reason but imports under that config); "not-found"; or
	// "error" (fails in every config).
	Reason string
	// Needs is "shared-gil" or "legacy" when another config imports it,
	// else "".
	Needs string
	// Error is the exception under the config checked, as "Type: message";
	// "" when it imports.
	Error string
}

// CheckImports tells which of modules import in an interpreter made with
// config, and why the others do not, so that a program learns before
// production which config its dependencies need. Each module is imported in
// a fresh interpreter (a module that fails is tried again under a shared GIL
// and under LegacyConfig, to tell the reasons apart): importing runs module
// code, so check only modules you would import anyway. On CPython 3.12,
// importing _asyncio or ssl in an isolated interpreter crashes the process
// at exit: do not check those there.
func CheckImports(config Config, modules ...string) ([]ImportCheck, error) {
	names := make([]*C.char, 0, len(modules))
	defer func() {
		for _, name := range names {
			C.free(unsafe.Pointer(name))
		}
	}()
	for _, module := range modules {
		name, err := cString(module, "module name")
		if err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	// The array of names lives in C memory (it holds C pointers only).
	var array **C.char
	if len(names) > 0 {
		array = (**C.char)(C.malloc(C.size_t(len(names)) * C.size_t(unsafe.Sizeof((*C.char)(nil)))))
		defer C.free(unsafe.Pointer(array))
		copy(unsafe.Slice(array, len(names)), names)
	}
	raw := config.toC()
	var report *C.subinterp_data
	err := check(func(e *C.si_error) C.subinterp_status {
		return C.si_check_imports(&raw, array, C.size_t(len(names)), &report, e)
	})
	if err != nil {
		return nil, err
	}
	items, err := takeList(report, "check_imports")
	if err != nil {
		return nil, err
	}
	checks := make([]ImportCheck, len(items))
	for n, item := range items {
		dict, ok := item.(Dict)
		if !ok {
			return nil, errorf(StatusInternal, "check_imports gave a %T item, not a dict", item)
		}
		text := func(key string) string {
			v, _ := dict.Get(key)
			s, _ := v.(string)
			return s
		}
		passed, _ := dict.Get("ok")
		checks[n] = ImportCheck{
			Module: text("module"),
			OK:     passed == true,
			Reason: text("reason"),
			Needs:  text("needs"),
			Error:  text("error"),
		}
	}
	return checks, nil
}
