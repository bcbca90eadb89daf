//! [`Config`]: how an interpreter is isolated (CPython's `PyInterpreterConfig`).

use std::mem;

use subinterp_sys as sys;

use crate::error::{check, Error, ErrorKind, Result};

/// Which GIL an interpreter uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gil {
    /// CPython's default (shared).
    Default,
    /// Share the main interpreter's GIL: no parallelism.
    Shared,
    /// Its own GIL: runs in parallel with other interpreters.
    Own,
}

impl Gil {
    fn to_c(self) -> i32 {
        (match self {
            Gil::Default => sys::SUBINTERP_GIL_DEFAULT,
            Gil::Shared => sys::SUBINTERP_GIL_SHARED,
            Gil::Own => sys::SUBINTERP_GIL_OWN,
        }) as i32
    }

    fn from_c(gil: i32) -> Result<Gil> {
        match gil as u32 {
            sys::SUBINTERP_GIL_DEFAULT => Ok(Gil::Default),
            sys::SUBINTERP_GIL_SHARED => Ok(Gil::Shared),
            sys::SUBINTERP_GIL_OWN => Ok(Gil::Own),
            _ => Err(Error::new(ErrorKind::Config, format!("unknown gil value {gil}"))),
        }
    }
}

/// The configuration of a new interpreter: every field of CPython's
/// `PyInterpreterConfig`, starting from a preset.
///
/// Fields are public to read and write; the methods of the same names set
/// them in a chain. [`Interpreter::with_config`](crate::Interpreter::with_config)
/// and [`Config::validate`] refuse inconsistent combinations with
/// [`ErrorKind::Config`] naming the field.
///
/// ```
/// use subinterp::{Config, Gil};
/// let config = Config::isolated().allow_threads(false).allow_daemon_threads(false);
/// assert!(config.validate().is_ok());
/// assert_eq!(config.gil, Gil::Own);
/// // An own GIL needs an own allocator: refused before CPython sees it.
/// let err = Config::isolated().use_main_obmalloc(true).validate().unwrap_err();
/// assert_eq!(err.kind(), subinterp::ErrorKind::Config);
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Config {
    /// Share the main interpreter's object allocator.
    pub use_main_obmalloc: bool,
    /// Allow `os.fork()`.
    pub allow_fork: bool,
    /// Allow `os.exec*()`.
    pub allow_exec: bool,
    /// Allow Python threads.
    pub allow_threads: bool,
    /// Allow daemon threads.
    pub allow_daemon_threads: bool,
    /// Refuse extension modules that do not support several interpreters.
    pub check_multi_interp_extensions: bool,
    /// Which GIL.
    pub gil: Gil,
}

macro_rules! setters {
    ($($field:ident: $t:ty),*) => {$(
        #[doc = concat!("Sets `", stringify!($field), "`.")]
        pub fn $field(mut self, value: $t) -> Config {
            self.$field = value;
            self
        }
    )*};
}

impl Config {
    /// Own GIL, own allocator, no fork/exec/daemon threads, only extension
    /// modules that support isolation. Runs in parallel. The default.
    pub fn isolated() -> Config {
        Config::preset(sys::subinterp_config_preset::SUBINTERP_CONFIG_ISOLATED)
    }

    /// What CPython's legacy `Py_NewInterpreter()` gives: shared GIL, main
    /// allocator, fork/exec/daemon threads allowed, any extension.
    pub fn legacy() -> Config {
        Config::preset(sys::subinterp_config_preset::SUBINTERP_CONFIG_LEGACY)
    }

    fn preset(preset: sys::subinterp_config_preset) -> Config {
        let mut raw = sys::subinterp_config::default();
        let status = unsafe { sys::subinterp_config_init(&mut raw, preset) };
        assert_eq!(status, sys::subinterp_status::SUBINTERP_OK, "the library knows both presets");
        Config::from_raw(&raw).expect("presets are valid")
    }

    setters!(use_main_obmalloc: bool, allow_fork: bool, allow_exec: bool, allow_threads: bool,
             allow_daemon_threads: bool, check_multi_interp_extensions: bool, gil: Gil);

    /// Checks the config as creating an interpreter would, without creating one.
    pub fn validate(&self) -> Result<()> {
        let raw = self.to_raw();
        check(|err| unsafe { sys::subinterp_config_validate(&raw, err) })
    }

    pub(crate) fn to_raw(self) -> sys::subinterp_config {
        sys::subinterp_config {
            struct_size: mem::size_of::<sys::subinterp_config>() as u32,
            use_main_obmalloc: self.use_main_obmalloc.into(),
            allow_fork: self.allow_fork.into(),
            allow_exec: self.allow_exec.into(),
            allow_threads: self.allow_threads.into(),
            allow_daemon_threads: self.allow_daemon_threads.into(),
            check_multi_interp_extensions: self.check_multi_interp_extensions.into(),
            gil: self.gil.to_c(),
        }
    }

    pub(crate) fn from_raw(raw: &sys::subinterp_config) -> Result<Config> {
        Ok(Config {
            use_main_obmalloc: raw.use_main_obmalloc != 0,
            allow_fork: raw.allow_fork != 0,
            allow_exec: raw.allow_exec != 0,
            allow_threads: raw.allow_threads != 0,
            allow_daemon_threads: raw.allow_daemon_threads != 0,
            check_multi_interp_extensions: raw.check_multi_interp_extensions != 0,
            gil: Gil::from_c(raw.gil)?,
        })
    }
}

impl Default for Config {
    /// [`Config::isolated`].
    fn default() -> Config {
        Config::isolated()
    }
}
