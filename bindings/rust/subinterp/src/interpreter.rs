//! [`Interpreter`]: create, run code in, call into and destroy interpreters.

use std::ffi::CString;
use std::fmt;
use std::mem;
use std::ptr;
use std::slice;
use std::time::Duration;

use subinterp_sys as sys;

use crate::config::Config;
use crate::data::{from_data, to_data, Data};
use crate::error::{check, Error, ErrorKind, Result};
use crate::value::Value;

/// The id of an interpreter (CPython's own id). Plain data: it does not keep
/// the interpreter alive, and using a stale id gives [`ErrorKind::NotFound`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterpreterId(pub i64);

impl InterpreterId {
    /// The main interpreter's id (0). Starts the runtime if needed.
    pub fn main() -> Result<InterpreterId> {
        let mut id = 0;
        check(|err| unsafe { sys::subinterp_main_id(&mut id, err) })?;
        Ok(InterpreterId(id))
    }

    /// The interpreter the calling thread is running Python code in, if any
    /// (for Rust called back from Python). [`ErrorKind::NotFound`] otherwise.
    pub fn current() -> Result<InterpreterId> {
        let mut id = 0;
        check(|err| unsafe { sys::subinterp_current_id(&mut id, err) })?;
        Ok(InterpreterId(id))
    }

    /// The live interpreters: main first, then those created by the library
    /// in creation order.
    pub fn list() -> Result<Vec<InterpreterId>> {
        let ids = crate::list_ids(|ids, capacity, count, err| unsafe { sys::subinterp_list(ids, capacity, count, err) })?;
        Ok(ids.into_iter().map(InterpreterId).collect())
    }
}

impl fmt::Display for InterpreterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Text written to `sys.stdout` / `sys.stderr` during a run that asked for
/// capture ([`RunOptions`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Captured `sys.stdout` (empty if not captured).
    pub stdout: String,
    /// Captured `sys.stderr` (empty if not captured).
    pub stderr: String,
}

/// Options of one run ([`Interpreter::exec_with`], [`Interpreter::call_with`],
/// and pool tasks: [`Pool::submit_with`](crate::Pool::submit_with)).
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use std::time::Duration;
/// use subinterp::{ErrorKind, Interpreter, RunOptions};
/// let interp = Interpreter::new()?;
/// let output = interp.exec_with("print('hi')", &RunOptions::new().capture_stdout(true))?;
/// assert_eq!(output.stdout, "hi\n");
/// // A deadline: the run is interrupted and fails with Timeout.
/// let deadline = RunOptions::new().timeout(Duration::from_millis(50));
/// let err = interp.exec_with("while True: pass", &deadline).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    flags: u32,
    timeout: Option<Duration>,
}

impl RunOptions {
    /// No capture, results outside the data model pickled, no deadline.
    pub fn new() -> RunOptions {
        RunOptions::default()
    }

    fn flag(mut self, flag: u32, on: bool) -> RunOptions {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
        }
        self
    }

    /// Capture `sys.stdout` into [`Output::stdout`].
    pub fn capture_stdout(self, on: bool) -> RunOptions {
        self.flag(sys::SUBINTERP_RUN_CAPTURE_STDOUT, on)
    }

    /// Capture `sys.stderr` into [`Output::stderr`].
    pub fn capture_stderr(self, on: bool) -> RunOptions {
        self.flag(sys::SUBINTERP_RUN_CAPTURE_STDERR, on)
    }

    /// Fail with [`ErrorKind::NotShareable`] for a result outside the data
    /// model instead of returning it [`Pickled`](Value::Pickled).
    pub fn strict(self, on: bool) -> RunOptions {
        self.flag(sys::SUBINTERP_RUN_STRICT, on)
    }

    /// A deadline for the run, counted from when the code starts (for a pool
    /// task: when a worker takes it). When it passes, the library raises
    /// `subinterp.Interrupted` (a `BaseException`, so `except Exception` does
    /// not swallow it) in the running code and the run fails with
    /// [`ErrorKind::Timeout`], carrying the traceback of where the code was;
    /// the interpreter stays usable.
    ///
    /// What is interrupted when: Python bytecode within a few milliseconds
    /// (one GIL switch interval); a C function holding the GIL when it
    /// returns to Python; a call blocked with the GIL released (`time.sleep`,
    /// socket reads, lock waits) when it returns; a get or put on a
    /// [`Queue`](crate::Queue) within 20 ms. Code that catches the exception
    /// is interrupted again every 100 ms; if it returns a value instead, the
    /// run succeeds with it. [`Duration::ZERO`] means no deadline.
    pub fn timeout(mut self, timeout: Duration) -> RunOptions {
        self.timeout = if timeout.is_zero() { None } else { Some(timeout) };
        self
    }

    /// The deadline set by [`timeout`](RunOptions::timeout), if any.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    pub(crate) fn captures(&self) -> bool {
        self.flags & (sys::SUBINTERP_RUN_CAPTURE_STDOUT | sys::SUBINTERP_RUN_CAPTURE_STDERR) != 0
    }

    pub(crate) fn to_raw(self) -> sys::subinterp_run_options {
        sys::subinterp_run_options {
            struct_size: mem::size_of::<sys::subinterp_run_options>() as u32,
            flags: self.flags,
            timeout: self.timeout.map_or(0.0, |t| t.as_secs_f64()),
        }
    }
}

/// Positional arguments of a call: `()`, tuples of up to 12 values of types
/// that convert into [`Value`], or a `Vec`/slice/array of values.
pub trait IntoArgs {
    /// The arguments, in order.
    fn into_args(self) -> Vec<Value>;
}

impl IntoArgs for () {
    fn into_args(self) -> Vec<Value> {
        Vec::new()
    }
}

impl IntoArgs for Vec<Value> {
    fn into_args(self) -> Vec<Value> {
        self
    }
}

impl IntoArgs for &[Value] {
    fn into_args(self) -> Vec<Value> {
        self.to_vec()
    }
}

impl<const N: usize> IntoArgs for [Value; N] {
    fn into_args(self) -> Vec<Value> {
        self.into()
    }
}

macro_rules! tuple_args {
    ($(($($name:ident),+)),+) => {$(
        impl<$($name: Into<Value>),+> IntoArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Value> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    )+};
}
tuple_args!((A), (A, B), (A, B, C), (A, B, C, D), (A, B, C, D, E), (A, B, C, D, E, F), (A, B, C, D, E, F, G),
            (A, B, C, D, E, F, G, H), (A, B, C, D, E, F, G, H, I), (A, B, C, D, E, F, G, H, I, J),
            (A, B, C, D, E, F, G, H, I, J, K), (A, B, C, D, E, F, G, H, I, J, K, L));

/// A Python interpreter with (by default) its own GIL: code in different
/// interpreters runs in parallel.
///
/// Dropping an `Interpreter` made by [`Interpreter::new`] or
/// [`Interpreter::with_config`] destroys it; [`Interpreter::close`] does the
/// same and reports errors. Handles from [`Interpreter::from_id`] and
/// [`Interpreter::main`] never destroy.
///
/// # Threads
///
/// `Interpreter` is `Send` and `Sync`, and all its methods take `&self`: the
/// C ABI lets any OS thread call any function at any time, and several
/// threads may run code in the same interpreter at once (they take turns on
/// its GIL, each with a thread state of its own). Share one with `Arc` or
/// scoped threads; give each thread its own to run in parallel.
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use subinterp::Interpreter;
/// let interp = Interpreter::new()?;
/// interp.exec("def add(a, b): return a + b")?;
/// let sum: i64 = interp.call("add", (2, 40))?.extract()?;
/// assert_eq!(sum, 42);
/// let root: f64 = interp.call("math:sqrt", (2.0,))?.extract()?;
/// assert!((root - 1.4142).abs() < 1e-4);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Interpreter {
    id: InterpreterId,
    owned: bool,
}
// Send + Sync come from the fields (an id and a flag); the reasoning that
// makes that right is in the type's documentation above.

impl Interpreter {
    /// Creates an isolated interpreter ([`Config::isolated`]). Starts the
    /// runtime if needed.
    pub fn new() -> Result<Interpreter> {
        Interpreter::with_config(&Config::isolated())
    }

    /// Creates an interpreter with `config`.
    pub fn with_config(config: &Config) -> Result<Interpreter> {
        let raw = config.to_raw();
        let mut id = 0;
        check(|err| unsafe { sys::subinterp_create(&raw, &mut id, err) })?;
        Ok(Interpreter { id: InterpreterId(id), owned: true })
    }

    /// A handle to the main interpreter (never destroyed by the handle).
    pub fn main() -> Result<Interpreter> {
        Ok(Interpreter::from_id(InterpreterId::main()?))
    }

    /// A handle to an existing interpreter that does not destroy it on drop.
    /// The id is not checked: calls on a stale id give [`ErrorKind::NotFound`].
    pub fn from_id(id: InterpreterId) -> Interpreter {
        Interpreter { id, owned: false }
    }

    /// The interpreter's id.
    pub fn id(&self) -> InterpreterId {
        self.id
    }

    /// Runs `source` in the interpreter's `__main__`; names it defines stay
    /// for later calls. A Python exception is [`ErrorKind::Python`] (the
    /// interpreter stays usable).
    pub fn exec(&self, source: &str) -> Result<()> {
        self.exec_with(source, &RunOptions::new()).map(drop)
    }

    /// [`exec`](Interpreter::exec) with options; returns the captured output
    /// (empty unless asked for). A failed run's error carries its output too.
    pub fn exec_with(&self, source: &str, options: &RunOptions) -> Result<Output> {
        let source = c_string(source, "source")?;
        let raw = options.to_raw();
        let mut output = OutputGuard::new();
        let result = check(|err| unsafe { sys::subinterp_exec(self.id.0, source.as_ptr(), &raw, output.slot(), err) });
        finish(result, output, options)
    }

    /// Calls `callable` with positional `args` and returns its result.
    ///
    /// `callable` is `"module:qualname"` (the module is imported, e.g.
    /// `"math:sqrt"`) or a name looked up in `__main__`, then in builtins
    /// (`"f"`, `"Class.method"`, `"len"`).
    pub fn call(&self, callable: &str, args: impl IntoArgs) -> Result<Value> {
        self.call_with(callable, args, &[], &RunOptions::new()).map(|(value, _)| value)
    }

    /// [`call`](Interpreter::call) with keyword arguments and options;
    /// returns the result and the captured output.
    ///
    /// ```
    /// # fn main() -> subinterp::Result<()> {
    /// use subinterp::{Interpreter, RunOptions, Value};
    /// let interp = Interpreter::new()?;
    /// let (value, output) = interp.call_with(
    ///     "print", ("a", "b"), &[("sep", Value::from("-"))], &RunOptions::new().capture_stdout(true))?;
    /// assert!(value.is_none());
    /// assert_eq!(output.stdout, "a-b\n");
    /// # Ok(()) }
    /// ```
    pub fn call_with(
        &self,
        callable: &str,
        args: impl IntoArgs,
        kwargs: &[(&str, Value)],
        options: &RunOptions,
    ) -> Result<(Value, Output)> {
        let callable = c_string(callable, "callable")?;
        let (args, kwargs) = call_data(args, kwargs)?;
        let raw = options.to_raw();
        let mut result = ptr::null_mut();
        let mut output = OutputGuard::new();
        let status = check(|err| unsafe {
            sys::subinterp_call(
                self.id.0,
                callable.as_ptr(),
                args.as_ptr(),
                kwargs.as_ref().map_or(ptr::null(), Data::as_ptr),
                &raw,
                &mut result,
                output.slot(),
                err,
            )
        });
        let output = finish(status, output, options)?;
        let result = unsafe { Data::from_owned(result) }
            .ok_or_else(|| Error::new(ErrorKind::Internal, "call returned OK without a result"))?;
        Ok((from_data(&result)?, output))
    }

    /// Binds names in `__main__` before running code (PEP 734's
    /// `prepare_main`). All or nothing: on error no name is bound.
    ///
    /// ```
    /// # fn main() -> subinterp::Result<()> {
    /// use subinterp::{Interpreter, Value};
    /// let interp = Interpreter::new()?;
    /// interp.prepare_main([("x", Value::from(20)), ("y", Value::from(22))])?;
    /// assert_eq!(interp.call("eval", ("x + y",))?.extract::<i64>()?, 42);
    /// # Ok(()) }
    /// ```
    pub fn prepare_main<K: Into<String>, V: Into<Value>>(&self, names: impl IntoIterator<Item = (K, V)>) -> Result<()> {
        let names = to_data(&Value::Dict(names.into_iter().map(|(k, v)| (Value::Str(k.into()), v.into())).collect()))?;
        check(|err| unsafe { sys::subinterp_prepare_main(self.id.0, names.as_ptr(), err) })
    }

    /// Interrupts every run (exec, call, pool task) in this interpreter right
    /// now, from any thread: each gets `subinterp.Interrupted` raised in its
    /// code and fails with [`ErrorKind::Cancelled`] (unless it returns
    /// first; see [`RunOptions::timeout`] for what is interrupted when). The
    /// interpreter stays usable. Returns once the exception is set (a few
    /// milliseconds), not when the runs end, with how many runs it
    /// interrupted: 0 when nothing ran.
    ///
    /// ```
    /// # fn main() -> subinterp::Result<()> {
    /// use std::{thread, time::Duration};
    /// use subinterp::{ErrorKind, Interpreter};
    /// let interp = Interpreter::new()?;
    /// thread::scope(|s| {
    ///     let run = s.spawn(|| interp.exec("while True: pass"));
    ///     while !interp.is_running().unwrap() { thread::sleep(Duration::from_millis(1)); }
    ///     assert_eq!(interp.interrupt().unwrap(), 1);
    ///     assert_eq!(run.join().unwrap().unwrap_err().kind(), ErrorKind::Cancelled);
    /// });
    /// interp.exec("x = 1")?;   // still usable
    /// # Ok(()) }
    /// ```
    pub fn interrupt(&self) -> Result<usize> {
        let mut interrupted = 0;
        check(|err| unsafe { sys::subinterp_interrupt(self.id.0, &mut interrupted, err) })?;
        Ok(interrupted)
    }

    /// True while the interpreter runs an exec or call, on any thread.
    pub fn is_running(&self) -> Result<bool> {
        let mut running = 0;
        check(|err| unsafe { sys::subinterp_is_running(self.id.0, &mut running, err) })?;
        Ok(running != 0)
    }

    /// The config the interpreter was created with.
    pub fn config(&self) -> Result<Config> {
        let mut raw = sys::subinterp_config {
            struct_size: mem::size_of::<sys::subinterp_config>() as u32,
            ..Default::default()
        };
        check(|err| unsafe { sys::subinterp_get_config(self.id.0, &mut raw, err) })?;
        Config::from_raw(&raw)
    }

    /// Destroys the interpreter now and reports why not: [`ErrorKind::Busy`]
    /// while it runs code, [`ErrorKind::NotFound`] if already gone,
    /// [`ErrorKind::InvalidArgument`] for the main interpreter. On error the
    /// interpreter is left as it was (and no longer destroyed on drop).
    pub fn close(mut self) -> Result<()> {
        self.owned = false;
        check(|err| unsafe { sys::subinterp_destroy(self.id.0, err) })
    }
}

impl Drop for Interpreter {
    /// Destroys an owned interpreter. Errors cannot be reported here: an
    /// interpreter still running code on another thread (possible only
    /// through another handle or from Python) stays alive.
    fn drop(&mut self) {
        if self.owned {
            let _ = check(|err| unsafe { sys::subinterp_destroy(self.id.0, err) });
        }
    }
}

/// The portable data of a call's arguments: a tuple, and a dict or nothing.
pub(crate) fn call_data(args: impl IntoArgs, kwargs: &[(&str, Value)]) -> Result<(Data, Option<Data>)> {
    let args = to_data(&Value::Tuple(args.into_args()))?;
    let kwargs = match kwargs {
        [] => None,
        pairs => Some(to_data(&Value::Dict(pairs.iter().map(|(k, v)| (Value::from(*k), v.clone())).collect()))?),
    };
    Ok((args, kwargs))
}

/// A NUL-terminated copy of `text` for the C ABI.
pub(crate) fn c_string(text: &str, what: &str) -> Result<CString> {
    CString::new(text).map_err(|e| {
        Error::new(ErrorKind::InvalidArgument, format!("{what} contains a NUL byte at {}", e.nul_position()))
    })
}

/// The `subinterp_output` out-parameter of one run, freed on drop.
pub(crate) struct OutputGuard(*mut sys::subinterp_output);

impl OutputGuard {
    pub(crate) fn new() -> OutputGuard {
        OutputGuard(ptr::null_mut())
    }

    pub(crate) fn slot(&mut self) -> *mut *mut sys::subinterp_output {
        &mut self.0
    }

    pub(crate) fn read(&self) -> Output {
        let text = |get: unsafe extern "C" fn(*const sys::subinterp_output, *mut usize) -> *const std::ffi::c_char| {
            let mut len = 0;
            let ptr = unsafe { get(self.0, &mut len) };
            if ptr.is_null() || len == 0 {
                return String::new();
            }
            let bytes = unsafe { slice::from_raw_parts(ptr.cast::<u8>(), len) };
            String::from_utf8_lossy(bytes).into_owned()
        };
        Output { stdout: text(sys::subinterp_output_stdout), stderr: text(sys::subinterp_output_stderr) }
    }
}

impl Drop for OutputGuard {
    fn drop(&mut self) {
        unsafe { sys::subinterp_output_free(self.0) }
    }
}

/// The captured output of a run, attached to its error if it failed.
pub(crate) fn finish(result: Result<()>, output: OutputGuard, options: &RunOptions) -> Result<Output> {
    let output = if options.captures() { output.read() } else { Output::default() };
    match result {
        Ok(()) => Ok(output),
        Err(error) if options.captures() => Err(error.with_output(output)),
        Err(error) => Err(error),
    }
}
