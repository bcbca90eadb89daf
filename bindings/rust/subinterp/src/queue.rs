//! [`Queue`]: process-wide FIFO queues of values, shared by every
//! interpreter and every host thread.

use std::fmt;
use std::mem;
use std::ptr;
use std::time::Duration;

use subinterp_sys as sys;

use crate::data::{from_data, to_data, Data};
use crate::error::{check, Error, ErrorKind, Result};
use crate::value::Value;

/// What a get returns for an item whose putting interpreter was destroyed
/// (items put by a host are never unbound). PEP 734's `unbounditems`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Unbound {
    /// The item is replaced by the UNBOUND marker: a get returns `None`.
    #[default]
    Replace,
    /// Getting the item fails with [`ErrorKind::Unbound`] (and consumes it).
    Error,
    /// The item disappears from the queue.
    Remove,
}

impl Unbound {
    fn to_c(self) -> sys::subinterp_unbound {
        match self {
            Unbound::Replace => sys::subinterp_unbound::SUBINTERP_UNBOUND_REPLACE,
            Unbound::Error => sys::subinterp_unbound::SUBINTERP_UNBOUND_ERROR,
            Unbound::Remove => sys::subinterp_unbound::SUBINTERP_UNBOUND_REMOVE,
        }
    }

    fn from_c(unbound: sys::subinterp_unbound) -> Result<Unbound> {
        match unbound {
            sys::subinterp_unbound::SUBINTERP_UNBOUND_REPLACE => Ok(Unbound::Replace),
            sys::subinterp_unbound::SUBINTERP_UNBOUND_ERROR => Ok(Unbound::Error),
            sys::subinterp_unbound::SUBINTERP_UNBOUND_REMOVE => Ok(Unbound::Remove),
            other => Err(Error::new(ErrorKind::Type, format!("unknown unbound policy {}", other.0))),
        }
    }
}

/// A queue's description ([`Queue::info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueInfo {
    /// The queue's id.
    pub id: i64,
    /// The most items it holds; 0 for no limit.
    pub maxsize: usize,
    /// Its default policy for unbound items.
    pub unbound: Unbound,
    /// Items now (unbound ones included).
    pub size: usize,
    /// True once closed.
    pub closed: bool,
}

/// A FIFO queue of [`Value`]s, usable from any thread and, as a value passed
/// to Python code, from any interpreter (where it is a `Queue` object).
///
/// A `Queue` holds the queue: it lives while any handle, clone, value or
/// Python object holds it. Blocking puts and gets wait on a condition
/// variable and wake as soon as the queue changes.
///
/// `Send + Sync` with no `unsafe impl` of its own: it is a reference to
/// portable data (see `Data`), and every queue function of the C ABI may be
/// called from any thread at any time.
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use std::time::Duration;
/// use subinterp::{Interpreter, Queue};
///
/// let queue = Queue::new()?;
/// let interp = Interpreter::new()?;
/// interp.prepare_main([("results", &queue)])?;
/// interp.exec("for n in range(3): results.put(n * n)")?;
/// let squares: Vec<i64> = (0..3)
///     .map(|_| queue.get_timeout(Duration::from_secs(5)).map(|v| v.unwrap().extract().unwrap()))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(squares, [0, 1, 4]);
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct Queue {
    data: Data,
    id: i64,
}

impl Queue {
    /// An unbounded queue that replaces unbound items.
    pub fn new() -> Result<Queue> {
        Queue::with_options(0, Unbound::Replace)
    }

    /// A queue holding at most `maxsize` items (0: no limit), with a default
    /// policy for items whose interpreter is destroyed.
    pub fn with_options(maxsize: usize, unbound: Unbound) -> Result<Queue> {
        let opts = sys::subinterp_queue_options {
            struct_size: mem::size_of::<sys::subinterp_queue_options>() as u32,
            maxsize,
            unbound: unbound.to_c(),
        };
        let mut id = 0;
        check(|err| unsafe { sys::subinterp_queue_create(&opts, &mut id, err) })?;
        // Hold the queue through a queue value, then drop create's own hold.
        let queue = Queue::from_id(id);
        check(|err| unsafe { sys::subinterp_queue_release(id, err) })?;
        queue
    }

    /// A handle to the live queue `id` (one made elsewhere, e.g. by Python
    /// code). [`ErrorKind::NotFound`] if there is none.
    pub fn from_id(id: i64) -> Result<Queue> {
        Queue::from_data(Data::create(|out, err| unsafe { sys::subinterp_data_new_queue(id, out, err) })?)
    }

    pub(crate) fn from_data(data: Data) -> Result<Queue> {
        let mut id = 0;
        check(|err| unsafe { sys::subinterp_data_get_queue(data.as_ptr(), &mut id, err) })?;
        Ok(Queue { data, id })
    }

    pub(crate) fn data(&self) -> &Data {
        &self.data
    }

    /// The ids of the live queues, in creation order.
    pub fn list() -> Result<Vec<i64>> {
        crate::list_ids(|ids, capacity, count, err| unsafe { sys::subinterp_queue_list(ids, capacity, count, err) })
    }

    /// The queue's id (never reused).
    pub fn id(&self) -> i64 {
        self.id
    }

    /// Appends `item`, waiting while the queue is full.
    pub fn put(&self, item: impl Into<Value>) -> Result<()> {
        self.put_raw(item.into(), sys::SUBINTERP_WAIT_FOREVER)
    }

    /// Appends `item`, waiting at most `timeout` for room
    /// ([`ErrorKind::QueueFull`] after that).
    pub fn put_timeout(&self, item: impl Into<Value>, timeout: Duration) -> Result<()> {
        self.put_raw(item.into(), timeout.as_secs_f64())
    }

    /// Appends `item` if there is room now, else [`ErrorKind::QueueFull`].
    pub fn try_put(&self, item: impl Into<Value>) -> Result<()> {
        self.put_raw(item.into(), sys::SUBINTERP_NO_WAIT)
    }

    fn put_raw(&self, item: Value, timeout: f64) -> Result<()> {
        let item = to_data(&item)?;
        check(|err| unsafe { sys::subinterp_queue_put(self.id, item.as_ptr(), timeout, err) })
    }

    /// Takes the oldest item, waiting while the queue is empty.
    ///
    /// `Ok(None)` is PEP 734's UNBOUND marker: the item was put by an
    /// interpreter since destroyed, under [`Unbound::Replace`]. Once the
    /// queue is closed and drained: [`ErrorKind::Closed`].
    pub fn get(&self) -> Result<Option<Value>> {
        self.get_raw(sys::SUBINTERP_WAIT_FOREVER)
    }

    /// Takes the oldest item, waiting at most `timeout`
    /// ([`ErrorKind::QueueEmpty`] after that).
    pub fn get_timeout(&self, timeout: Duration) -> Result<Option<Value>> {
        self.get_raw(timeout.as_secs_f64())
    }

    /// Takes the oldest item if there is one now, else [`ErrorKind::QueueEmpty`].
    pub fn try_get(&self) -> Result<Option<Value>> {
        self.get_raw(sys::SUBINTERP_NO_WAIT)
    }

    fn get_raw(&self, timeout: f64) -> Result<Option<Value>> {
        let mut item = ptr::null_mut();
        check(|err| unsafe { sys::subinterp_queue_get(self.id, timeout, &mut item, err) })?;
        match unsafe { Data::from_owned(item) } {
            Some(item) => from_data(&item).map(Some),
            None => Ok(None),
        }
    }

    /// The number of items now.
    pub fn len(&self) -> Result<usize> {
        let mut size = 0;
        check(|err| unsafe { sys::subinterp_queue_size(self.id, &mut size, err) })?;
        Ok(size)
    }

    /// True if the queue has no items now.
    pub fn is_empty(&self) -> Result<bool> {
        self.len().map(|n| n == 0)
    }

    /// The queue's description.
    pub fn info(&self) -> Result<QueueInfo> {
        let mut raw = sys::subinterp_queue_info {
            struct_size: mem::size_of::<sys::subinterp_queue_info>() as u32,
            ..Default::default()
        };
        check(|err| unsafe { sys::subinterp_queue_get_info(self.id, &mut raw, err) })?;
        Ok(QueueInfo {
            id: raw.id,
            maxsize: raw.maxsize,
            unbound: Unbound::from_c(raw.unbound)?,
            size: raw.size,
            closed: raw.closed != 0,
        })
    }

    /// Closes the queue: puts fail with [`ErrorKind::Closed`]; gets return
    /// the items left, then fail with it. Blocked callers wake. Idempotent.
    pub fn close(&self) -> Result<()> {
        check(|err| unsafe { sys::subinterp_queue_close(self.id, err) })
    }

    /// Destroys the queue now, whoever holds it: items are dropped, blocked
    /// callers wake with [`ErrorKind::NotFound`], and every later use of it
    /// (by any handle, in any interpreter) is [`ErrorKind::NotFound`].
    pub fn destroy(&self) -> Result<()> {
        check(|err| unsafe { sys::subinterp_queue_destroy(self.id, err) })
    }

    /// A blocking iterator over the items: each `next` waits for one. It ends
    /// when the queue is closed and drained, or destroyed; other errors are
    /// yielded.
    pub fn iter(&self) -> Iter<'_> {
        Iter { queue: self, timeout: sys::SUBINTERP_WAIT_FOREVER }
    }

    /// An iterator over the items there now: it ends when the queue is empty
    /// (or closed, or destroyed).
    pub fn try_iter(&self) -> Iter<'_> {
        Iter { queue: self, timeout: sys::SUBINTERP_NO_WAIT }
    }
}

impl fmt::Debug for Queue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue").field("id", &self.id).finish()
    }
}

/// An iterator over a queue's items ([`Queue::iter`], [`Queue::try_iter`]).
#[derive(Debug)]
pub struct Iter<'a> {
    queue: &'a Queue,
    timeout: f64,
}

impl Iterator for Iter<'_> {
    type Item = Result<Option<Value>>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.queue.get_raw(self.timeout) {
            Ok(item) => Some(Ok(item)),
            Err(e) if matches!(e.kind(), ErrorKind::Closed | ErrorKind::NotFound | ErrorKind::QueueEmpty) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

impl<'a> IntoIterator for &'a Queue {
    type Item = Result<Option<Value>>;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
