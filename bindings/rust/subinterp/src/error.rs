//! [`Error`]: what every fallible call returns, with the C status, the
//! message and, for Python exceptions, the exception's type and traceback.

use std::ffi::{c_char, CStr};
use std::fmt;
use std::ptr;

use subinterp_sys as sys;
use sys::subinterp_status as Status;

use crate::interpreter::Output;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, one kind per C status code.
///
/// New kinds may be added in minor releases: match with a `_` arm.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A malformed argument: a NUL inside a string, a bad name, a bad size...
    InvalidArgument,
    /// An unknown or destroyed interpreter or queue.
    NotFound,
    /// The interpreter is running code (or has other live threads).
    Busy,
    /// Python code raised: see [`Error::exception`].
    Python,
    /// An interpreter [`Config`](crate::Config) was rejected.
    Config,
    /// The runtime could not start, was finalized, or is in the wrong mode.
    Runtime,
    /// A value of another kind than the one asked for.
    Type,
    /// A number that does not fit the type asked for.
    Overflow,
    /// A Python object that cannot become portable data (strict runs).
    NotShareable,
    /// An index past the end of a container.
    Index,
    /// Out of memory.
    NoMemory,
    /// A deadline or timeout passed.
    Timeout,
    /// A queue was empty: nothing came before the timeout.
    QueueEmpty,
    /// A queue was full: no room came before the timeout.
    QueueFull,
    /// The queue was closed.
    Closed,
    /// The operation was cancelled.
    Cancelled,
    /// A queue item's interpreter was destroyed and the item was put with
    /// [`Unbound::Error`](crate::Unbound::Error); the get consumed it.
    Unbound,
    /// A bug in the library: please report it.
    Internal,
    /// A status this version of the crate does not know (a newer library);
    /// [`Error::code`] has it.
    Unknown,
}

impl ErrorKind {
    fn from_status(status: Status) -> ErrorKind {
        match status {
            Status::SUBINTERP_ERR_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
            Status::SUBINTERP_ERR_NOT_FOUND => ErrorKind::NotFound,
            Status::SUBINTERP_ERR_BUSY => ErrorKind::Busy,
            Status::SUBINTERP_ERR_PYTHON => ErrorKind::Python,
            Status::SUBINTERP_ERR_CONFIG => ErrorKind::Config,
            Status::SUBINTERP_ERR_RUNTIME => ErrorKind::Runtime,
            Status::SUBINTERP_ERR_TYPE => ErrorKind::Type,
            Status::SUBINTERP_ERR_OVERFLOW => ErrorKind::Overflow,
            Status::SUBINTERP_ERR_NOT_SHAREABLE => ErrorKind::NotShareable,
            Status::SUBINTERP_ERR_INDEX => ErrorKind::Index,
            Status::SUBINTERP_ERR_NO_MEMORY => ErrorKind::NoMemory,
            Status::SUBINTERP_ERR_TIMEOUT => ErrorKind::Timeout,
            Status::SUBINTERP_ERR_QUEUE_EMPTY => ErrorKind::QueueEmpty,
            Status::SUBINTERP_ERR_QUEUE_FULL => ErrorKind::QueueFull,
            Status::SUBINTERP_ERR_CLOSED => ErrorKind::Closed,
            Status::SUBINTERP_ERR_CANCELLED => ErrorKind::Cancelled,
            Status::SUBINTERP_ERR_UNBOUND => ErrorKind::Unbound,
            Status::SUBINTERP_ERR_INTERNAL => ErrorKind::Internal,
            _ => ErrorKind::Unknown,
        }
    }

    /// The C status code of this kind (`None` for [`ErrorKind::Unknown`]).
    pub fn code(self) -> Option<i32> {
        let status = match self {
            ErrorKind::InvalidArgument => Status::SUBINTERP_ERR_INVALID_ARGUMENT,
            ErrorKind::NotFound => Status::SUBINTERP_ERR_NOT_FOUND,
            ErrorKind::Busy => Status::SUBINTERP_ERR_BUSY,
            ErrorKind::Python => Status::SUBINTERP_ERR_PYTHON,
            ErrorKind::Config => Status::SUBINTERP_ERR_CONFIG,
            ErrorKind::Runtime => Status::SUBINTERP_ERR_RUNTIME,
            ErrorKind::Type => Status::SUBINTERP_ERR_TYPE,
            ErrorKind::Overflow => Status::SUBINTERP_ERR_OVERFLOW,
            ErrorKind::NotShareable => Status::SUBINTERP_ERR_NOT_SHAREABLE,
            ErrorKind::Index => Status::SUBINTERP_ERR_INDEX,
            ErrorKind::NoMemory => Status::SUBINTERP_ERR_NO_MEMORY,
            ErrorKind::Timeout => Status::SUBINTERP_ERR_TIMEOUT,
            ErrorKind::QueueEmpty => Status::SUBINTERP_ERR_QUEUE_EMPTY,
            ErrorKind::QueueFull => Status::SUBINTERP_ERR_QUEUE_FULL,
            ErrorKind::Closed => Status::SUBINTERP_ERR_CLOSED,
            ErrorKind::Cancelled => Status::SUBINTERP_ERR_CANCELLED,
            ErrorKind::Unbound => Status::SUBINTERP_ERR_UNBOUND,
            ErrorKind::Internal => Status::SUBINTERP_ERR_INTERNAL,
            ErrorKind::Unknown => return None,
        };
        Some(status.0 as i32)
    }
}

/// A Python exception raised by code run in an interpreter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonException {
    module: String,
    qualname: String,
    traceback: String,
}

impl PythonException {
    /// The exception type's `__module__`, e.g. `"builtins"`.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The exception type's `__qualname__`, e.g. `"ZeroDivisionError"`.
    pub fn qualname(&self) -> &str {
        &self.qualname
    }

    /// `module.qualname`, e.g. `"builtins.ValueError"` or `"json.decoder.JSONDecodeError"`.
    pub fn type_name(&self) -> String {
        format!("{}.{}", self.module, self.qualname)
    }

    /// The exception formatted as `traceback.format_exception()` prints it.
    pub fn traceback(&self) -> &str {
        &self.traceback
    }
}

/// An error from the library or from Python code.
///
/// Carries the [`ErrorKind`], the C status code, the message (for a Python
/// exception: `str(exception)`), the exception itself for
/// [`ErrorKind::Python`], and any output captured before the failure.
///
/// One pointer wide (the details are boxed), so `Result<T>` stays small.
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, Debug)]
struct Inner {
    kind: ErrorKind,
    code: i32,
    message: String,
    exception: Option<PythonException>,
    output: Option<Output>,
}

impl Error {
    /// An error made on the Rust side (e.g. a NUL inside a string, a value of
    /// the wrong kind), with the C code of its kind.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::from_inner(Inner {
            kind,
            code: kind.code().unwrap_or(-1),
            message: message.into(),
            exception: None,
            output: None,
        })
    }

    fn from_inner(inner: Inner) -> Error {
        Error { inner: Box::new(inner) }
    }

    /// Takes ownership of a C error object (frees it) for a failed `status`.
    ///
    /// # Safety
    /// `err` is NULL or an error object returned by the library and not freed.
    pub(crate) unsafe fn from_raw(status: Status, err: *mut sys::subinterp_error) -> Error {
        let inner = if err.is_null() {
            Inner {
                kind: ErrorKind::from_status(status),
                code: status.0 as i32,
                message: text(unsafe { sys::subinterp_status_name(status) }).unwrap_or_default(),
                exception: None,
                output: None,
            }
        } else {
            let status = unsafe { sys::subinterp_error_code(err) };
            let exception = match (
                text(unsafe { sys::subinterp_error_exc_module(err) }),
                text(unsafe { sys::subinterp_error_exc_qualname(err) }),
            ) {
                (Some(module), Some(qualname)) => Some(PythonException {
                    module,
                    qualname,
                    traceback: text(unsafe { sys::subinterp_error_traceback(err) }).unwrap_or_default(),
                }),
                _ => None,
            };
            Inner {
                kind: ErrorKind::from_status(status),
                code: status.0 as i32,
                message: text(unsafe { sys::subinterp_error_message(err) }).unwrap_or_default(),
                exception,
                output: None,
            }
        };
        unsafe { sys::subinterp_error_free(err) };
        Error::from_inner(inner)
    }

    pub(crate) fn with_output(mut self, output: Output) -> Error {
        self.inner.output = Some(output);
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The C status code (`SUBINTERP_ERR_*`), also for kinds this crate
    /// does not know.
    pub fn code(&self) -> i32 {
        self.inner.code
    }

    /// The C name of the status, e.g. `"SUBINTERP_ERR_NOT_FOUND"`.
    pub fn code_name(&self) -> &'static str {
        let name = unsafe { sys::subinterp_status_name(sys::subinterp_status_code(self.inner.code as u32)) };
        if name.is_null() {
            return "SUBINTERP_ERR_UNKNOWN";
        }
        // The library returns static strings.
        unsafe { CStr::from_ptr(name) }.to_str().unwrap_or("SUBINTERP_ERR_UNKNOWN")
    }

    /// The message; for a Python exception, `str(exception)`.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The Python exception, for [`ErrorKind::Python`].
    pub fn exception(&self) -> Option<&PythonException> {
        self.inner.exception.as_ref()
    }

    /// Output captured before the failure, when the run asked for capture.
    pub fn output(&self) -> Option<&Output> {
        self.inner.output.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner.exception {
            Some(exception) => write!(f, "{}: {}", exception.type_name(), self.inner.message),
            None => write!(f, "{}: {}", self.code_name(), self.inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl std::error::Error for Error {}

/// Copies a C string the library owns; None for NULL.
fn text(ptr: *const c_char) -> Option<String> {
    if ptr.is_null() {
        None
    } else {
        Some(unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned())
    }
}

/// Runs one fallible C call with an error out-parameter and turns its status
/// into a `Result`.
pub(crate) fn check(call: impl FnOnce(*mut *mut sys::subinterp_error) -> Status) -> Result<()> {
    let mut err = ptr::null_mut();
    let status = call(&mut err);
    if status == Status::SUBINTERP_OK {
        // The header promises *err is untouched on success; free anyway.
        unsafe { sys::subinterp_error_free(err) };
        Ok(())
    } else {
        Err(unsafe { Error::from_raw(status, err) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every C status maps to its own kind and back, with the C name; a code
    /// the crate does not know is Unknown and keeps its number.
    #[test]
    fn every_status_has_a_kind() {
        let mut kinds = std::collections::HashSet::new();
        for code in (1..=17).chain([99]) {
            let error = unsafe { Error::from_raw(sys::subinterp_status_code(code), ptr::null_mut()) };
            assert_ne!(error.kind(), ErrorKind::Unknown, "code {code}");
            assert_eq!(error.kind().code(), Some(code as i32));
            assert_eq!(error.code(), code as i32);
            assert!(error.code_name().starts_with("SUBINTERP_ERR_"), "{}", error.code_name());
            assert_eq!(error.message(), error.code_name());
            assert!(kinds.insert(error.kind()), "two codes map to {:?}", error.kind());
        }
        let unknown = unsafe { Error::from_raw(sys::subinterp_status_code(1234), ptr::null_mut()) };
        assert_eq!((unknown.kind(), unknown.code(), unknown.kind().code()), (ErrorKind::Unknown, 1234, None));
        assert!(unknown.exception().is_none() && unknown.output().is_none());
    }

    #[test]
    fn errors_are_small_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn rust_side_errors_carry_the_kind_code() {
        let error = Error::new(ErrorKind::Type, "expected int, got str");
        assert_eq!(error.code_name(), "SUBINTERP_ERR_TYPE");
        assert_eq!(error.to_string(), "SUBINTERP_ERR_TYPE: expected int, got str");
    }
}
