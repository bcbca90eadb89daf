//! [`Pool`]: worker threads with warm interpreters that run calls, and the
//! [`Task`] each submitted call returns.

use std::ffi::c_void;
use std::fmt;
use std::mem::{self, ManuallyDrop};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::time::Duration;

use subinterp_sys as sys;

use crate::config::Config;
use crate::data::{from_data, to_data, Data};
use crate::error::{check, Error, ErrorKind, Result};
use crate::interpreter::{c_string, call_data, finish, InterpreterId, IntoArgs, Output, OutputGuard, RunOptions};
use crate::value::{FromValue, Value};

/// How a [`Pool`] is made ([`Pool::new`], [`PoolOptions::build`]).
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use subinterp::{Config, PoolOptions};
/// let pool = PoolOptions::new()
///     .workers(2)
///     .config(Config::isolated())
///     .init_source("import math\ndef hyp(a, b): return math.hypot(a, b)")
///     .max_queued(100)
///     .build()?;
/// assert_eq!(pool.call("hyp", (3.0, 4.0))?.extract::<f64>()?, 5.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
pub struct PoolOptions {
    workers: usize,
    config: Option<Config>,
    init_source: Option<String>,
    init_callable: Option<(String, Vec<Value>)>,
    max_queued: usize,
    max_tasks_per_worker: u64,
}

impl PoolOptions {
    /// One worker per online CPU, isolated interpreters, no init, unbounded
    /// submission queue, workers never replaced for age.
    pub fn new() -> PoolOptions {
        PoolOptions::default()
    }

    /// The number of workers (each an OS thread with its own interpreter);
    /// 0: one per online CPU.
    pub fn workers(mut self, workers: usize) -> PoolOptions {
        self.workers = workers;
        self
    }

    /// The config of every worker's interpreter (default: isolated).
    pub fn config(mut self, config: Config) -> PoolOptions {
        self.config = Some(config);
        self
    }

    /// Source run once in each new worker's `__main__`, before any task
    /// (also in the fresh interpreter of a replaced worker).
    pub fn init_source(mut self, source: impl Into<String>) -> PoolOptions {
        self.init_source = Some(source.into());
        self
    }

    /// A callable run once in each new worker after the init source, named
    /// as in [`Interpreter::call`](crate::Interpreter::call), with `args`.
    pub fn init_callable(mut self, callable: impl Into<String>, args: impl IntoArgs) -> PoolOptions {
        self.init_callable = Some((callable.into(), args.into_args()));
        self
    }

    /// The most tasks waiting for a worker; 0 (the default): no limit. When
    /// full, a submit waits or fails as its [`Backpressure`] says.
    pub fn max_queued(mut self, max_queued: usize) -> PoolOptions {
        self.max_queued = max_queued;
        self
    }

    /// Replace a worker's interpreter with a fresh one after this many
    /// tasks; 0 (the default): never.
    pub fn max_tasks_per_worker(mut self, max_tasks: u64) -> PoolOptions {
        self.max_tasks_per_worker = max_tasks;
        self
    }

    /// Makes the pool: [`Pool::new`] with these options.
    pub fn build(&self) -> Result<Pool> {
        Pool::new(self)
    }
}

/// What a submit does when the pool's queue is full
/// ([`PoolOptions::max_queued`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Backpressure {
    /// Wait for room as long as it takes.
    #[default]
    Block,
    /// Fail at once with [`ErrorKind::QueueFull`].
    FailFast,
    /// Wait at most this long, then fail with [`ErrorKind::QueueFull`]
    /// (`Duration::ZERO` is [`Backpressure::FailFast`]).
    Wait(Duration),
}

impl Backpressure {
    fn seconds(self) -> f64 {
        match self {
            Backpressure::Block => sys::SUBINTERP_WAIT_FOREVER,
            Backpressure::FailFast => sys::SUBINTERP_NO_WAIT,
            Backpressure::Wait(wait) => wait.as_secs_f64(),
        }
    }
}

/// A pool's counters ([`Pool::stats`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Workers asked for.
    pub workers: usize,
    /// Workers with a usable interpreter.
    pub live_workers: usize,
    /// Workers running a task now.
    pub busy_workers: usize,
    /// Tasks waiting for a worker.
    pub queued: u64,
    /// Tasks accepted.
    pub submitted: u64,
    /// Tasks that returned a result.
    pub succeeded: u64,
    /// Tasks that failed, timed out ones included.
    pub failed: u64,
    /// Tasks interrupted by their deadline.
    pub timed_out: u64,
    /// Tasks cancelled, before or while running.
    pub cancelled: u64,
    /// Worker interpreters replaced by fresh ones.
    pub replaced: u64,
}

/// One worker of a pool ([`Pool::worker`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerInfo {
    /// True while the worker has a usable interpreter.
    pub alive: bool,
    /// Its interpreter, while it has one. It belongs to the pool: destroying
    /// it fails with [`ErrorKind::Busy`], but [`Interpreter::interrupt`]
    /// works (through [`Interpreter::from_id`]).
    ///
    /// [`Interpreter::interrupt`]: crate::Interpreter::interrupt
    /// [`Interpreter::from_id`]: crate::Interpreter::from_id
    pub interpreter: Option<InterpreterId>,
    /// True while it runs a task.
    pub busy: bool,
    /// Tasks it ran, over all its interpreters.
    pub tasks: u64,
    /// How many of those failed.
    pub failed: u64,
    /// How many times its interpreter was replaced.
    pub replaced: u64,
}

/// Worker threads, each with an interpreter made once and kept warm, that
/// run calls submitted from any thread.
///
/// Tasks (`"module:qualname"` or a name in `__main__`, with arguments) wait
/// in a FIFO queue; an idle worker takes the oldest. [`submit`](Pool::submit)
/// returns a [`Task`]; [`call`](Pool::call) and [`map`](Pool::map) wait for
/// the results.
///
/// Health: a task that fails is followed by a probe of its worker; a worker
/// whose interpreter no longer works is replaced by a fresh one (config and
/// init again), as is one that reached
/// [`max_tasks_per_worker`](PoolOptions::max_tasks_per_worker). When a
/// replacement's init fails, the pool runs with one worker fewer
/// ([`check`](Pool::check) reports it); with none left, tasks fail with
/// [`ErrorKind::Runtime`].
///
/// Dropping a pool cancels the tasks still queued, waits for the running
/// ones and destroys the workers' interpreters (from one of the pool's own
/// workers, e.g. in an [`on_done`](Task::on_done) callback, it does not
/// wait). [`Task`]s stay valid.
///
/// # Threads
///
/// `Pool` is `Send` and `Sync`: every pool function of the C ABI may be
/// called from any thread, concurrently (the pool locks its own state); only
/// freeing it needs exclusive access, which `Drop` has.
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use subinterp::{Pool, PoolOptions};
/// let pool = Pool::new(&PoolOptions::new().workers(2).init_source("def square(n): return n * n"))?;
/// let task = pool.submit("square", (7,))?;
/// assert_eq!(task.extract::<i64>()?, 49);
/// let squares: Vec<i64> = pool.map("square", (0..5).map(|n| (n,)))?
///     .into_iter().map(|v| v.extract()).collect::<subinterp::Result<_>>()?;
/// assert_eq!(squares, [0, 1, 4, 9, 16]);
/// # Ok(()) }
/// ```
pub struct Pool {
    raw: NonNull<sys::subinterp_pool>,
}

// SAFETY: the C ABI lets any thread call any pool function, concurrently:
// the pool's state is behind its own locks (see the type's documentation).
// subinterp_pool_free, the one function that ends the handle, runs only in
// Drop, with exclusive access.
unsafe impl Send for Pool {}
// SAFETY: as above; every method takes &self and is a thread-safe C call.
unsafe impl Sync for Pool {}

impl Pool {
    /// Creates a pool and waits until every worker has its interpreter and
    /// ran the init. If a worker fails to start, no pool is made and the
    /// first failure is returned, its message starting with
    /// `"pool worker N: "` (a Python exception of the init, a bad config...).
    pub fn new(options: &PoolOptions) -> Result<Pool> {
        let workers = u32::try_from(options.workers)
            .map_err(|_| Error::new(ErrorKind::InvalidArgument, format!("{} workers is too many", options.workers)))?;
        let config = options.config.map(Config::to_raw);
        let init_source = options.init_source.as_deref().map(|s| c_string(s, "init source")).transpose()?;
        let (init_callable, init_args) = match &options.init_callable {
            None => (None, None),
            Some((callable, args)) => {
                (Some(c_string(callable, "init callable")?), Some(to_data(&Value::Tuple(args.clone()))?))
            }
        };
        let max_tasks_per_worker = options.max_tasks_per_worker;
        let raw = sys::subinterp_pool_options {
            struct_size: mem::size_of::<sys::subinterp_pool_options>() as u32,
            workers,
            config: config.as_ref().map_or(ptr::null(), |c| c as *const _),
            init_source: init_source.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            init_callable: init_callable.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            init_args: init_args.as_ref().map_or(ptr::null(), Data::as_ptr),
            max_queued: options.max_queued,
            max_tasks_per_worker,
        };
        let mut pool = ptr::null_mut();
        check(|err| unsafe { sys::subinterp_pool_create(&raw, &mut pool, err) })?;
        NonNull::new(pool)
            .map(|raw| Pool { raw })
            .ok_or_else(|| Error::new(ErrorKind::Internal, "pool_create returned OK without a pool"))
    }

    fn ptr(&self) -> *mut sys::subinterp_pool {
        self.raw.as_ptr()
    }

    /// Queues a call of `callable` with positional `args` and returns its
    /// [`Task`], waiting for room if the queue is full.
    pub fn submit(&self, callable: &str, args: impl IntoArgs) -> Result<Task> {
        self.submit_with(callable, args, &[], &RunOptions::new(), Backpressure::Block)
    }

    /// [`submit`](Pool::submit) with keyword arguments, run options (capture,
    /// strict, a deadline counted from when a worker takes the task) and what
    /// to do when the queue is full.
    ///
    /// Errors (of the submit itself, before any task runs):
    /// [`ErrorKind::QueueFull`] (no room in time), [`ErrorKind::Closed`]
    /// after [`shutdown`](Pool::shutdown), [`ErrorKind::Runtime`] when no
    /// worker is left, [`ErrorKind::InvalidArgument`] for a malformed
    /// callable name.
    ///
    /// ```
    /// # fn main() -> subinterp::Result<()> {
    /// use std::time::Duration;
    /// use subinterp::{Backpressure, ErrorKind, PoolOptions, RunOptions};
    /// let pool = PoolOptions::new().workers(1).build()?;
    /// let deadline = RunOptions::new().timeout(Duration::from_millis(100));
    /// let task = pool.submit_with("exec", ("while True: pass",), &[], &deadline, Backpressure::Block)?;
    /// assert_eq!(task.result().unwrap_err().kind(), ErrorKind::Timeout);
    /// # Ok(()) }
    /// ```
    pub fn submit_with(
        &self,
        callable: &str,
        args: impl IntoArgs,
        kwargs: &[(&str, Value)],
        options: &RunOptions,
        backpressure: Backpressure,
    ) -> Result<Task> {
        let callable = c_string(callable, "callable")?;
        let (args, kwargs) = call_data(args, kwargs)?;
        let raw = options.to_raw();
        let mut future = ptr::null_mut();
        check(|err| unsafe {
            sys::subinterp_pool_submit(
                self.ptr(),
                callable.as_ptr(),
                args.as_ptr(),
                kwargs.as_ref().map_or(ptr::null(), Data::as_ptr),
                &raw,
                backpressure.seconds(),
                &mut future,
                err,
            )
        })?;
        let raw = NonNull::new(future)
            .ok_or_else(|| Error::new(ErrorKind::Internal, "pool_submit returned OK without a future"))?;
        Ok(Task::from_raw(raw, options.captures()))
    }

    /// Runs `callable` with `args` on whichever worker is free and returns
    /// its result (waits for room and for the result).
    pub fn call(&self, callable: &str, args: impl IntoArgs) -> Result<Value> {
        self.call_with(callable, args, &[], &RunOptions::new()).map(|(value, _)| value)
    }

    /// [`call`](Pool::call) with keyword arguments and options; returns the
    /// result and the captured output.
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
            sys::subinterp_pool_call(
                self.ptr(),
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
            .ok_or_else(|| Error::new(ErrorKind::Internal, "pool_call returned OK without a result"))?;
        Ok((from_data(&result)?, output))
    }

    /// Calls `callable` once per item of `arg_lists` (each the positional
    /// arguments of one call), spread over the workers, and returns the
    /// results in the same order. On the first failure in order, the calls
    /// not yet started are cancelled and that error is returned, its message
    /// starting with `"item N: "`.
    pub fn map<A: IntoArgs>(&self, callable: &str, arg_lists: impl IntoIterator<Item = A>) -> Result<Vec<Value>> {
        self.map_with(callable, arg_lists, &RunOptions::new())
    }

    /// [`map`](Pool::map) with options for every call (a deadline applies
    /// to each call on its own).
    pub fn map_with<A: IntoArgs>(
        &self,
        callable: &str,
        arg_lists: impl IntoIterator<Item = A>,
        options: &RunOptions,
    ) -> Result<Vec<Value>> {
        let callable = c_string(callable, "callable")?;
        let lists = Value::List(arg_lists.into_iter().map(|args| Value::Tuple(args.into_args())).collect());
        let lists = to_data(&lists)?;
        let raw = options.to_raw();
        let mut results = ptr::null_mut();
        check(|err| unsafe { sys::subinterp_pool_map(self.ptr(), callable.as_ptr(), lists.as_ptr(), &raw, &mut results, err) })?;
        let results = unsafe { Data::from_owned(results) }
            .ok_or_else(|| Error::new(ErrorKind::Internal, "pool_map returned OK without results"))?;
        match from_data(&results)? {
            Value::List(items) | Value::Tuple(items) => Ok(items),
            other => Err(Error::new(ErrorKind::Internal, format!("pool_map returned a {}", other.kind_name()))),
        }
    }

    /// Stops accepting tasks (later submits fail with [`ErrorKind::Closed`]).
    /// `cancel_pending` cancels the queued tasks (their tasks end
    /// [`TaskState::Cancelled`]); otherwise the workers finish them. `wait`
    /// returns once every worker has finished and destroyed its interpreter.
    /// Running tasks are not interrupted ([`Task::cancel`] does that).
    /// Calling it again is fine. With `wait` from one of the pool's own
    /// workers (an [`on_done`](Task::on_done) callback) it fails with
    /// [`ErrorKind::Busy`] instead of deadlocking.
    pub fn shutdown(&self, wait: bool, cancel_pending: bool) -> Result<()> {
        check(|err| unsafe { sys::subinterp_pool_shutdown(self.ptr(), wait.into(), cancel_pending.into(), err) })
    }

    /// `Ok` while every worker is alive; [`ErrorKind::Runtime`] with the
    /// cause when a worker could not be replaced or the pool is shut down.
    pub fn check(&self) -> Result<()> {
        check(|err| unsafe { sys::subinterp_pool_check(self.ptr(), err) })
    }

    /// The pool's counters now.
    pub fn stats(&self) -> Result<PoolStats> {
        let mut raw = sys::subinterp_pool_stats {
            struct_size: mem::size_of::<sys::subinterp_pool_stats>() as u32,
            ..Default::default()
        };
        check(|err| unsafe { sys::subinterp_pool_get_stats(self.ptr(), &mut raw, err) })?;
        Ok(PoolStats {
            workers: raw.workers as usize,
            live_workers: raw.live_workers as usize,
            busy_workers: raw.busy_workers as usize,
            queued: raw.queued,
            submitted: raw.submitted,
            succeeded: raw.succeeded,
            failed: raw.failed,
            timed_out: raw.timed_out,
            cancelled: raw.cancelled,
            replaced: raw.replaced,
        })
    }

    /// Worker `index` (0 <= index < [`PoolStats::workers`]);
    /// [`ErrorKind::Index`] past the end.
    pub fn worker(&self, index: usize) -> Result<WorkerInfo> {
        let mut raw = sys::subinterp_pool_worker {
            struct_size: mem::size_of::<sys::subinterp_pool_worker>() as u32,
            interpreter_id: -1,
            ..Default::default()
        };
        check(|err| unsafe { sys::subinterp_pool_get_worker(self.ptr(), index, &mut raw, err) })?;
        Ok(WorkerInfo {
            alive: raw.alive != 0,
            interpreter: (raw.interpreter_id >= 0).then_some(InterpreterId(raw.interpreter_id)),
            busy: raw.busy != 0,
            tasks: raw.tasks,
            failed: raw.failed,
            replaced: raw.replaced,
        })
    }

    /// Every worker, in order.
    pub fn workers(&self) -> Result<Vec<WorkerInfo>> {
        (0..self.stats()?.workers).map(|index| self.worker(index)).collect()
    }
}

impl Drop for Pool {
    /// Cancels the queued tasks, waits for the running ones (not from one of
    /// the pool's own workers) and destroys the workers' interpreters.
    fn drop(&mut self) {
        unsafe { sys::subinterp_pool_free(self.ptr()) }
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Pool");
        if let Ok(stats) = self.stats() {
            debug.field("workers", &stats.workers).field("live_workers", &stats.live_workers).field("queued", &stats.queued);
        }
        debug.finish_non_exhaustive()
    }
}

/// Where a [`Task`] is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TaskState {
    /// Queued, not started.
    Pending,
    /// A worker is running it.
    Running,
    /// It ran: a result or an error.
    Finished,
    /// Cancelled before it started: it never ran.
    Cancelled,
}

impl TaskState {
    /// Finished or cancelled: its result is ready.
    pub fn is_done(self) -> bool {
        matches!(self, TaskState::Finished | TaskState::Cancelled)
    }
}

/// A call submitted to a [`Pool`]: its state, and its result once done.
///
/// Dropping a `Task` does not cancel the call ([`cancel`](Task::cancel)
/// does). The result may be read any number of times.
///
/// With the `async` feature, `Task` is a [`Future`](std::future::Future)
/// whose output is the result: `task.await` in any executor (the library
/// wakes the task from the worker that finishes it; no runtime needed).
///
/// # Threads
///
/// `Task` is `Send` and `Sync`: the C future is reference counted and
/// locked inside; any thread may wait for it, read it or cancel it, and its
/// completion callbacks run on whichever thread completes it.
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use std::time::Duration;
/// use subinterp::{PoolOptions, TaskState};
/// let pool = PoolOptions::new().workers(1).build()?;
/// let task = pool.submit("time:sleep", (0.05,))?;
/// assert!(!task.wait(Some(Duration::ZERO)));              // not done yet
/// assert!(task.wait(None));                               // done now
/// assert_eq!(task.state()?, TaskState::Finished);
/// assert!(task.result()?.is_none());
/// # Ok(()) }
/// ```
pub struct Task {
    raw: NonNull<sys::subinterp_future>,
    /// The task was submitted with capture flags: read its output.
    captures: bool,
    /// The waker shared with the completion callback, once polled.
    #[cfg(feature = "async")]
    wake: Option<std::sync::Arc<asynch::Wake>>,
}

// SAFETY: a subinterp_future is a handle to a reference-counted C++ future
// whose state is behind a mutex; every future function may be called from
// any thread, concurrently, and subinterp_future_free (Drop, exclusive) may
// run on any thread.
unsafe impl Send for Task {}
// SAFETY: as above; the methods taking &self are thread-safe C calls.
unsafe impl Sync for Task {}

impl Task {
    fn from_raw(raw: NonNull<sys::subinterp_future>, captures: bool) -> Task {
        Task {
            raw,
            captures,
            #[cfg(feature = "async")]
            wake: None,
        }
    }

    fn ptr(&self) -> *mut sys::subinterp_future {
        self.raw.as_ptr()
    }

    /// Where the task is now.
    pub fn state(&self) -> Result<TaskState> {
        let mut state = sys::subinterp_future_state::SUBINTERP_FUTURE_PENDING;
        check(|err| unsafe { sys::subinterp_future_get_state(self.ptr(), &mut state, err) })?;
        use sys::subinterp_future_state as S;
        match state {
            S::SUBINTERP_FUTURE_PENDING => Ok(TaskState::Pending),
            S::SUBINTERP_FUTURE_RUNNING => Ok(TaskState::Running),
            S::SUBINTERP_FUTURE_FINISHED => Ok(TaskState::Finished),
            S::SUBINTERP_FUTURE_CANCELLED => Ok(TaskState::Cancelled),
            other => Err(Error::new(ErrorKind::Internal, format!("unknown future state {}", other.0))),
        }
    }

    /// Waits until the task is finished or cancelled, at most `timeout`
    /// (`None`: as long as it takes; `Some(Duration::ZERO)`: just look).
    /// True if it is done.
    pub fn wait(&self, timeout: Option<Duration>) -> bool {
        let seconds = timeout.map_or(sys::SUBINTERP_WAIT_FOREVER, |t| t.as_secs_f64());
        check(|err| unsafe { sys::subinterp_future_wait(self.ptr(), seconds, err) }).is_ok()
    }

    /// True once finished or cancelled (never waits).
    pub fn is_done(&self) -> bool {
        self.wait(Some(Duration::ZERO))
    }

    /// Waits for the task and returns its result, or its error: the call's
    /// ([`ErrorKind::Python`] with the exception...), [`ErrorKind::Timeout`]
    /// for its deadline, [`ErrorKind::Cancelled`] when cancelled before or
    /// while running, [`ErrorKind::Runtime`] when the pool lost every
    /// worker. May be called again.
    pub fn result(&self) -> Result<Value> {
        self.result_with_output().map(|(value, _)| value)
    }

    /// [`result`](Task::result) with the output captured (empty unless
    /// submitted with capture options); a failed task's error carries it too.
    pub fn result_with_output(&self) -> Result<(Value, Output)> {
        let mut result = ptr::null_mut();
        let mut output = OutputGuard::new();
        let slot = if self.captures { output.slot() } else { ptr::null_mut() };
        let status = check(|err| unsafe { sys::subinterp_future_result(self.ptr(), &mut result, slot, err) });
        let output = match status {
            Ok(()) if self.captures => output.read(),
            Ok(()) => Output::default(),
            Err(error) if self.captures => return Err(error.with_output(output.read())),
            Err(error) => return Err(error),
        };
        let result = unsafe { Data::from_owned(result) }
            .ok_or_else(|| Error::new(ErrorKind::Internal, "future_result returned OK without a result"))?;
        Ok((from_data(&result)?, output))
    }

    /// Waits for the result and converts it ([`Value::extract`]).
    pub fn extract<T: FromValue>(&self) -> Result<T> {
        self.result()?.extract()
    }

    /// Cancels the task: a pending one never runs (it is
    /// [`TaskState::Cancelled`] at once); a running one is interrupted as by
    /// [`Interpreter::interrupt`](crate::Interpreter::interrupt) (its result
    /// is [`ErrorKind::Cancelled`] unless it returns first; this waits until
    /// the exception is set, not until the task ends). True if the task was
    /// stopped or will be, false if it had already finished.
    pub fn cancel(&self) -> Result<bool> {
        let mut cancelled = 0;
        check(|err| unsafe { sys::subinterp_future_cancel(self.ptr(), &mut cancelled, err) })?;
        Ok(cancelled != 0)
    }

    /// Calls `callback` exactly once when the task is finished or cancelled:
    /// at once, on this thread, if it already is; otherwise on the thread
    /// that completes it (a pool worker, or the thread that cancels it),
    /// which waits for it: keep it short. It may call anything but
    /// [`Pool::shutdown`] with `wait` on its own pool. Several callbacks run
    /// in registration order. A panic in the callback aborts the process (it
    /// must not unwind into the library).
    ///
    /// ```
    /// # fn main() -> subinterp::Result<()> {
    /// use std::sync::mpsc;
    /// use subinterp::PoolOptions;
    /// let pool = PoolOptions::new().workers(1).build()?;
    /// let task = pool.submit("pow", (2, 10))?;
    /// let (send, receive) = mpsc::channel();
    /// task.on_done(move |done| send.send(done.extract::<i64>()).unwrap())?;
    /// assert_eq!(receive.recv().unwrap()?, 1024);
    /// # Ok(()) }
    /// ```
    pub fn on_done(&self, callback: impl FnOnce(&Task) + Send + 'static) -> Result<()> {
        struct Context {
            callback: Box<dyn FnOnce(&Task) + Send>,
            captures: bool,
        }
        unsafe extern "C" fn trampoline(context: *mut c_void, future: *mut sys::subinterp_future) {
            // SAFETY: `context` is the Box leaked below, given to the library
            // for this one call ("exactly once").
            let context = unsafe { Box::from_raw(context.cast::<Context>()) };
            let Some(raw) = NonNull::new(future) else { return };
            // The future is borrowed for the call: a Task that never frees it.
            let task = ManuallyDrop::new(Task::from_raw(raw, context.captures));
            let callback = context.callback;
            if panic::catch_unwind(AssertUnwindSafe(|| callback(&task))).is_err() {
                eprintln!("subinterp: a Task::on_done callback panicked; aborting");
                std::process::abort();
            }
        }
        let context = Box::into_raw(Box::new(Context { callback: Box::new(callback), captures: self.captures }));
        let registered = check(|err| unsafe { sys::subinterp_future_on_done(self.ptr(), Some(trampoline), context.cast(), err) });
        if registered.is_err() {
            // Not registered: the library will never call it.
            drop(unsafe { Box::from_raw(context) });
        }
        registered
    }
}

impl Drop for Task {
    /// Drops the handle; the call goes on (it is not cancelled).
    fn drop(&mut self) {
        unsafe { sys::subinterp_future_free(self.ptr()) }
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("state", &self.state().ok()).finish_non_exhaustive()
    }
}

#[cfg(feature = "async")]
mod asynch {
    //! `impl Future for Task`: the completion callback wakes the stored waker.

    use std::ffi::c_void;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};
    use std::task::{Context, Poll, Waker};

    use subinterp_sys as sys;

    use super::Task;
    use crate::error::{check, Result};
    use crate::value::Value;

    /// Shared by a polled Task and its one completion callback.
    pub(super) struct Wake {
        done: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }

    /// The completion callback: takes back the Arc leaked into `context`
    /// (called exactly once), marks the task done and wakes its waker.
    unsafe extern "C" fn wake(context: *mut c_void, _future: *mut sys::subinterp_future) {
        // SAFETY: `context` is the Arc::into_raw of `register`, handed to
        // the library for this one call.
        let wake = unsafe { Arc::from_raw(context.cast_const().cast::<Wake>()) };
        wake.done.store(true, Ordering::SeqCst);
        let waker = wake.waker.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(waker) = waker {
            if std::panic::catch_unwind(move || waker.wake()).is_err() {
                eprintln!("subinterp: a Waker panicked in a pool worker; aborting");
                std::process::abort();
            }
        }
    }

    impl Future for Task {
        type Output = Result<Value>;

        /// Ready with [`Task::result`] once the task is done; until then
        /// the worker that completes it wakes the last waker given.
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Value>> {
            let this = &mut *self;
            if let Some(wake) = &this.wake {
                if wake.done.load(Ordering::SeqCst) {
                    return Poll::Ready(this.result());
                }
                *wake.waker.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
                // The callback sets `done` before it takes the waker: if it
                // has not set it by now, it will find the waker just stored.
                if wake.done.load(Ordering::SeqCst) {
                    return Poll::Ready(this.result());
                }
                return Poll::Pending;
            }
            if this.is_done() {
                return Poll::Ready(this.result());
            }
            // First poll of a task not done: store the waker, then register
            // (a task finished meanwhile runs the callback here at once, and
            // the callback takes the waker lock, so it is not held now).
            let wake = Wake { done: AtomicBool::new(false), waker: Mutex::new(Some(cx.waker().clone())) };
            let wake = Arc::new(wake);
            let context = Arc::into_raw(wake.clone()).cast_mut().cast::<c_void>();
            let registered =
                check(|err| unsafe { sys::subinterp_future_on_done(this.ptr(), Some(self::wake), context, err) });
            if let Err(error) = registered {
                drop(unsafe { Arc::from_raw(context.cast_const().cast::<Wake>()) });
                return Poll::Ready(Err(error));
            }
            let done = wake.done.load(Ordering::SeqCst);
            this.wake = Some(wake);
            if done {
                Poll::Ready(this.result())
            } else {
                Poll::Pending
            }
        }
    }
}
