//! The CPython runtime the library runs: start it with options, ask its
//! mode, finalize it; versions.

use std::ffi::CStr;
use std::mem;
use std::path::PathBuf;
use std::ptr;

use subinterp_sys as sys;

use crate::error::{check, Result};
use crate::interpreter::c_string;

/// How the library relates to CPython in this process.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Not started yet.
    NotStarted,
    /// The library started CPython (the host is not Python): Rust programs.
    Embedded,
    /// CPython was already running (the library was loaded into Python).
    Attached,
    /// Finalized; CPython cannot be restarted in this process.
    Finalized,
}

/// Options for [`init`]. The defaults suit a library: `site` imported, no
/// signal handlers taken from the host, the Python home of the CPython the
/// library was built against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Python home (`sys.prefix`); `None`: `SUBINTERP_PYTHON_HOME` if set,
    /// else the build's prefix.
    pub python_home: Option<PathBuf>,
    /// Import `site` at start-up (site-packages visible).
    pub import_site: bool,
    /// Let CPython install its signal handlers (SIGINT -> KeyboardInterrupt).
    pub install_signal_handlers: bool,
}

/// The library's default options, as C sees them.
fn raw_defaults() -> sys::subinterp_runtime_options {
    let mut raw: sys::subinterp_runtime_options = unsafe { mem::zeroed() };
    let status = unsafe { sys::subinterp_runtime_options_init(&mut raw) };
    assert_eq!(status, sys::subinterp_status::SUBINTERP_OK, "options_init refuses only NULL");
    raw
}

impl Default for Options {
    fn default() -> Options {
        let raw = raw_defaults();
        Options {
            python_home: None,
            import_site: raw.import_site != 0,
            install_signal_handlers: raw.install_signal_handlers != 0,
        }
    }
}

/// Starts the runtime with `options`. Optional: the first call that needs
/// Python starts it with the defaults. Once started, [`ErrorKind::Runtime`](crate::ErrorKind::Runtime)
/// (the options can no longer apply); call [`ensure_started`] instead to
/// start it if needed.
pub fn init(options: &Options) -> Result<()> {
    let home = match &options.python_home {
        Some(path) => Some(c_string(&path.to_string_lossy(), "python_home")?),
        None => None,
    };
    let mut raw = raw_defaults();
    raw.python_home = home.as_ref().map_or(ptr::null(), |home| home.as_ptr());
    raw.import_site = options.import_site.into();
    raw.install_signal_handlers = options.install_signal_handlers.into();
    check(|err| unsafe { sys::subinterp_runtime_init(&raw, err) })
}

/// Starts the runtime with the defaults if it is not running yet.
pub fn ensure_started() -> Result<()> {
    check(|err| unsafe { sys::subinterp_runtime_init(ptr::null(), err) })
}

/// The current mode. Never starts the runtime.
pub fn mode() -> Mode {
    match unsafe { sys::subinterp_runtime_get_mode() } {
        sys::subinterp_runtime_mode::SUBINTERP_RUNTIME_EMBED => Mode::Embedded,
        sys::subinterp_runtime_mode::SUBINTERP_RUNTIME_ATTACH => Mode::Attached,
        sys::subinterp_runtime_mode::SUBINTERP_RUNTIME_FINALIZED => Mode::Finalized,
        _ => Mode::NotStarted,
    }
}

/// Destroys every interpreter the library created and, in a Rust program,
/// finalizes CPython; later calls that need Python fail with
/// [`ErrorKind::Runtime`](crate::ErrorKind::Runtime). [`ErrorKind::Busy`](crate::ErrorKind::Busy) (and nothing destroyed) while
/// any interpreter runs code. Optional: a program may simply exit.
///
/// # Safety
/// No other thread may call into the library (through this crate or
/// otherwise) while this runs: the C ABI allows finalize on any thread but
/// not concurrently with other calls.
pub unsafe fn finalize() -> Result<()> {
    check(|err| unsafe { sys::subinterp_runtime_finalize(err) })
}

/// The library's version at run time, e.g. `"0.1.0"`.
pub fn version() -> &'static str {
    static_str(unsafe { sys::subinterp_version_string() })
}

/// The CPython version the library was built against, e.g. `"3.13.0"`.
pub fn python_version() -> &'static str {
    static_str(unsafe { sys::subinterp_python_version_string() })
}

/// `PY_VERSION_HEX` of the CPython the library was built against.
pub fn python_version_hex() -> u32 {
    unsafe { sys::subinterp_python_version() }
}

fn static_str(ptr: *const std::ffi::c_char) -> &'static str {
    // The library returns static ASCII strings.
    unsafe { CStr::from_ptr(ptr) }.to_str().unwrap_or("")
}
