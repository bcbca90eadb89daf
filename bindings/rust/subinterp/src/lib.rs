//! Run Python functions in parallel, in one process, from Rust.
//!
//! `subinterp` gives each [`Interpreter`] its own GIL (CPython 3.12+
//! sub-interpreters), so Python code in different interpreters runs on
//! different cores at once. Values cross between Rust and Python as
//! [`Value`]s of a portable data model (copied, except [`Buffer`]s, which are
//! shared without copying); [`Queue`]s connect interpreters and Rust threads.
//! A [`Pool`] keeps warm worker interpreters and runs calls submitted from
//! any thread, returning a [`Task`] for each.
//!
//! ```
//! # fn main() -> subinterp::Result<()> {
//! use std::thread;
//! use subinterp::Interpreter;
//!
//! let source = "def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)";
//! let results: Vec<i64> = thread::scope(|s| {
//!     let workers: Vec<_> = (0..2).map(|_| s.spawn(|| -> subinterp::Result<i64> {
//!         let interp = Interpreter::new()?;   // one interpreter per thread
//!         interp.exec(source)?;
//!         interp.call("fib", (20,))?.extract()
//!     })).collect();
//!     workers.into_iter().map(|w| w.join().unwrap()).collect::<subinterp::Result<_>>()
//! })?;
//! assert_eq!(results, [6765, 6765]);
//! # Ok(()) }
//! ```
//!
//! # Errors
//!
//! Every fallible call returns [`Result`]; an [`Error`] has an [`ErrorKind`]
//! (one per C status code), a message and, for Python exceptions, the
//! exception's type and traceback ([`Error::exception`]).
//!
//! # Deadlines and interruption
//!
//! [`RunOptions::timeout`] gives a run (or a pool task) a deadline: the code
//! is interrupted and the run fails with [`ErrorKind::Timeout`].
//! [`Interpreter::interrupt`] and [`Task::cancel`] interrupt running code from
//! another thread ([`ErrorKind::Cancelled`]). [`check_imports`] tells which
//! modules import under a config, and which config the others need.
//!
//! # Threads
//!
//! Any thread may call anything: the C ABI keeps no per-thread state between
//! calls. [`Interpreter`], [`Queue`], [`Value`], [`Buffer`], [`Pool`],
//! [`Task`] and [`Error`] are `Send + Sync`; each type's documentation gives the reason. The one
//! function with a threading precondition, [`runtime::finalize`], is
//! `unsafe`.
//!
//! # The runtime
//!
//! The first call that needs Python starts CPython (embedded mode) with the
//! defaults of [`runtime::Options`]; [`runtime::init`] starts it with other
//! options. A program may exit without finalizing.
//!
//! # Features
//!
//! - `serde`: [`to_value`] and [`from_value`] convert any `Serialize` /
//!   `Deserialize` type.
//! - `async`: [`Task`] implements `std::future::Future`, so pool tasks can be
//!   awaited in any executor; the library wakes them from its worker threads
//!   and the crate depends on no runtime.
#![warn(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

mod bigint;
mod buffer;
mod config;
mod data;
mod error;
mod imports;
mod interpreter;
mod pool;
mod queue;
pub mod runtime;
#[cfg(feature = "serde")]
mod serde;
mod value;

pub use bigint::BigInt;
pub use buffer::Buffer;
pub use config::{Config, Gil};
pub use error::{Error, ErrorKind, PythonException, Result};
pub use imports::{check_imports, ImportCheck, ImportNeeds, ImportReason};
pub use interpreter::{IntoArgs, Interpreter, InterpreterId, Output, RunOptions};
pub use pool::{Backpressure, Pool, PoolOptions, PoolStats, Task, TaskState, WorkerInfo};
pub use queue::{Iter, Queue, QueueInfo, Unbound};
#[cfg(feature = "serde")]
pub use serde::{from_value, to_value};
pub use value::{FromValue, Value};

/// Reads a list of ids with the C ABI's two-call protocol (size, then fill),
/// retrying if the list grew in between.
pub(crate) fn list_ids(
    list: impl Fn(*mut i64, usize, *mut usize, *mut *mut subinterp_sys::subinterp_error) -> subinterp_sys::subinterp_status,
) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    loop {
        let mut count = 0;
        error::check(|err| list(ids.as_mut_ptr(), ids.len(), &mut count, err))?;
        if count <= ids.len() {
            ids.truncate(count);
            return Ok(ids);
        }
        ids.resize(count, 0);
    }
}
