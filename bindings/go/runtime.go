package subinterp

// #include "shim.h"
import "C"

import "unsafe"

// Mode is how the library relates to CPython in this process.
type Mode int

const (
	// ModeNotStarted: nothing has needed Python yet.
	ModeNotStarted Mode = C.SUBINTERP_RUNTIME_NONE
	// ModeEmbedded: the library started CPython (a Go program).
	ModeEmbedded Mode = C.SUBINTERP_RUNTIME_EMBED
	// ModeAttached: CPython was already running (loaded into Python).
	ModeAttached Mode = C.SUBINTERP_RUNTIME_ATTACH
	// ModeFinalized: Finalize ran; CPython cannot restart in this process.
	ModeFinalized Mode = C.SUBINTERP_RUNTIME_FINALIZED
)

// RuntimeOptions are the options of Init. DefaultRuntimeOptions gives the
// library's defaults.
type RuntimeOptions struct {
	// PythonHome is sys.prefix; "" means SUBINTERP_PYTHON_HOME if set, else
	// the prefix of the CPython the library was built against.
	PythonHome string
	// ImportSite imports site at start-up (site-packages visible).
	ImportSite bool
	// InstallSignalHandlers lets CPython take SIGINT and friends from the
	// host. Off by default: the Go runtime owns the process's signals.
	InstallSignalHandlers bool
}

// DefaultRuntimeOptions are the options the first call uses when Init was
// not called.
func DefaultRuntimeOptions() RuntimeOptions {
	var raw C.subinterp_runtime_options
	C.subinterp_runtime_options_init(&raw)
	return RuntimeOptions{ImportSite: raw.import_site != 0, InstallSignalHandlers: raw.install_signal_handlers != 0}
}

// Init starts the runtime with options. Optional: the first call that needs
// Python starts it with DefaultRuntimeOptions. Once started it fails with
// ErrRuntime (the options can no longer apply).
func Init(opts RuntimeOptions) error {
	var raw C.subinterp_runtime_options
	C.subinterp_runtime_options_init(&raw)
	if opts.PythonHome != "" {
		home, err := cString(opts.PythonHome, "python home")
		if err != nil {
			return err
		}
		defer C.free(unsafe.Pointer(home))
		raw.python_home = home
	}
	raw.import_site = cbool(opts.ImportSite)
	raw.install_signal_handlers = cbool(opts.InstallSignalHandlers)
	return check(func(e *C.si_error) C.subinterp_status { return C.si_runtime_init(&raw, e) })
}

// EnsureStarted starts the runtime with the default options if it is not
// running yet (after Finalize: ErrRuntime).
func EnsureStarted() error {
	return check(func(e *C.si_error) C.subinterp_status { return C.si_runtime_init(nil, e) })
}

// RuntimeMode is the current mode; it never starts the runtime.
func RuntimeMode() Mode { return Mode(C.subinterp_runtime_get_mode()) }

// Finalize destroys every interpreter the library created and finalizes
// CPython; later calls that need Python fail with ErrRuntime (queues, which
// need no Python, keep working). ErrBusy, with nothing destroyed, while an
// interpreter runs code. No other goroutine may call into the library while
// it runs. A program may simply exit instead.
func Finalize() error {
	return check(func(e *C.si_error) C.subinterp_status { return C.si_runtime_finalize(e) })
}

// Version is the library's version, e.g. "0.1.0".
func Version() string { return C.GoString(C.subinterp_version_string()) }

// PythonVersion is the CPython version the library was built against, e.g. "3.13.0".
func PythonVersion() string { return C.GoString(C.subinterp_python_version_string()) }
