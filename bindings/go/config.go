package subinterp

// #include "shim.h"
import "C"

import "unsafe"

// GIL says which GIL an interpreter uses.
type GIL int

const (
	// GILDefault is CPython's default (shared).
	GILDefault GIL = C.SUBINTERP_GIL_DEFAULT
	// GILShared shares the main interpreter's GIL: no parallelism.
	GILShared GIL = C.SUBINTERP_GIL_SHARED
	// GILOwn gives the interpreter its own GIL: it runs in parallel.
	GILOwn GIL = C.SUBINTERP_GIL_OWN
)

// Config is how a new interpreter is isolated: every field of CPython's
// PyInterpreterConfig. Start from IsolatedConfig or LegacyConfig and change
// fields; New refuses inconsistent combinations with ErrConfig naming the
// field (Validate checks without creating).
type Config struct {
	UseMainObmalloc            bool
	AllowFork                  bool
	AllowExec                  bool
	AllowThreads               bool
	AllowDaemonThreads         bool
	CheckMultiInterpExtensions bool
	GIL                        GIL
}

// IsolatedConfig is the default: own GIL, own allocator, no fork, exec or
// daemon threads, only extension modules that support isolation. Runs in
// parallel.
func IsolatedConfig() Config { return preset(C.SUBINTERP_CONFIG_ISOLATED) }

// LegacyConfig is what CPython's Py_NewInterpreter() gives: shared GIL, main
// allocator, fork, exec and daemon threads allowed, any extension module.
func LegacyConfig() Config { return preset(C.SUBINTERP_CONFIG_LEGACY) }

func preset(p C.subinterp_config_preset) Config {
	var raw C.subinterp_config
	if C.subinterp_config_init(&raw, p) != C.SUBINTERP_OK {
		panic("subinterp: the library does not know a preset")
	}
	return configFromC(&raw)
}

// Validate checks the config as New would, without creating an interpreter.
func (c Config) Validate() error {
	raw := c.toC()
	return check(func(e *C.si_error) C.subinterp_status { return C.si_config_validate(&raw, e) })
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func (c Config) toC() C.subinterp_config {
	return C.subinterp_config{
		struct_size:                   C.uint32_t(unsafe.Sizeof(C.subinterp_config{})),
		use_main_obmalloc:             cbool(c.UseMainObmalloc),
		allow_fork:                    cbool(c.AllowFork),
		allow_exec:                    cbool(c.AllowExec),
		allow_threads:                 cbool(c.AllowThreads),
		allow_daemon_threads:          cbool(c.AllowDaemonThreads),
		check_multi_interp_extensions: cbool(c.CheckMultiInterpExtensions),
		gil:                           C.int(c.GIL),
	}
}

func configFromC(raw *C.subinterp_config) Config {
	return Config{
		UseMainObmalloc:            raw.use_main_obmalloc != 0,
		AllowFork:                  raw.allow_fork != 0,
		AllowExec:                  raw.allow_exec != 0,
		AllowThreads:               raw.allow_threads != 0,
		AllowDaemonThreads:         raw.allow_daemon_threads != 0,
		CheckMultiInterpExtensions: raw.check_multi_interp_extensions != 0,
		GIL:                        GIL(raw.gil),
	}
}
