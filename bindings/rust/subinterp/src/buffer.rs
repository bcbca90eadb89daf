//! [`Buffer`]: memory shared with Python code without copying.

use std::ffi::c_void;
use std::fmt;
use std::ptr;
use std::slice;

use subinterp_sys as sys;

use crate::data::Data;
use crate::error::{check, Result};

/// Bytes shared with Python without copying: Python code receives a
/// `memoryview` of this very memory, in any interpreter.
///
/// The memory lives while any reference does (this handle, its clones, a
/// [`Value`](crate::Value) holding it, or a `memoryview` of it in Python), and
/// is freed, or handed back to its Rust owner, by whichever drops the last.
///
/// # Reading and writing
///
/// A **read-only** buffer can be read safely: nobody may write it
/// ([`Buffer::as_slice`]). A **writable** buffer can be written by Python code
/// at any moment, from any thread, so Rust code can only read or write it
/// through the `unsafe` accessors, whose caller promises that no one writes
/// it concurrently (as `memmap2` does for memory mapped files). Fill a
/// buffer before sharing it with [`Buffer::from_vec`] or
/// [`Buffer::new_with`].
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use subinterp::{Buffer, Interpreter};
///
/// let interp = Interpreter::new()?;
/// let frame = Buffer::from_vec(vec![1, 2, 3, 4]); // no copy
/// interp.exec("def total(view): return sum(view)")?;
/// assert_eq!(interp.call("total", (frame.clone(),))?.extract::<i64>()?, 10);
///
/// interp.exec("def double(view):\n    for i in range(len(view)): view[i] *= 2")?;
/// interp.call("double", (frame.clone(),))?;
/// // SAFETY: the call returned; no Python code holds the view any more.
/// assert_eq!(unsafe { frame.as_slice_unchecked() }, &[2, 4, 6, 8]);
/// # Ok(()) }
/// ```
#[derive(Clone, PartialEq)]
pub struct Buffer {
    data: Data,
    memory: *mut u8,
    len: usize,
    readonly: bool,
}

// SAFETY: the data reference may move between threads and be shared (see
// Data). The raw pointer is an address into memory the data keeps alive;
// every access through it from Rust is either read-only memory (safe to read
// from any thread) or behind an `unsafe` accessor whose contract excludes
// concurrent writes.
unsafe impl Send for Buffer {}
// SAFETY: as for Send: `&Buffer` gives no safe access to writable memory.
unsafe impl Sync for Buffer {}

impl Buffer {
    /// A writable buffer of `len` zero bytes in library memory.
    pub fn new(len: usize) -> Result<Buffer> {
        Buffer::new_with(len, |_| ())
    }

    /// A writable buffer of `len` bytes in library memory, filled by `fill`
    /// (which sees zeros) before anyone else can see it.
    pub fn new_with(len: usize, fill: impl FnOnce(&mut [u8])) -> Result<Buffer> {
        let mut memory: *mut c_void = ptr::null_mut();
        let data = Data::create(|out, err| unsafe { sys::subinterp_data_new_buffer(len, &mut memory, out, err) })?;
        if len > 0 {
            // SAFETY: the library just allocated `len` bytes at `memory`; the
            // value has not been shared, so this is the only access.
            let bytes = unsafe { slice::from_raw_parts_mut(memory.cast::<u8>(), len) };
            bytes.fill(0);
            fill(bytes);
        }
        Buffer::from_data(data)
    }

    /// Shares a vector's memory, writable, without copying. The vector is
    /// dropped when the last reference goes, on that thread.
    pub fn from_vec(bytes: Vec<u8>) -> Buffer {
        Buffer::from_owner(bytes, false)
    }

    /// Shares a vector's memory, read-only (a read-only `memoryview` in
    /// Python), without copying.
    pub fn from_vec_readonly(bytes: Vec<u8>) -> Buffer {
        Buffer::from_owner(bytes, true)
    }

    /// Hands `owner`'s bytes to the library; `release_owner` gets it back.
    fn from_owner(mut owner: Vec<u8>, readonly: bool) -> Buffer {
        let memory = owner.as_mut_ptr();
        let len = owner.len();
        let context = Box::into_raw(Box::new(owner));
        let data = Data::create(|out, err| unsafe {
            sys::subinterp_data_new_buffer_external(
                memory.cast(),
                len,
                readonly as i32,
                Some(release_owner),
                context.cast(),
                out,
                err,
            )
        });
        match data.and_then(Buffer::from_data) {
            Ok(buffer) => buffer,
            Err(error) => {
                // On failure the library took nothing over: the box is ours.
                drop(unsafe { Box::from_raw(context) });
                // Wrapping existing memory allocates only the value itself.
                panic!("subinterp_data_new_buffer_external failed: {error}")
            }
        }
    }

    pub(crate) fn from_data(data: Data) -> Result<Buffer> {
        let (mut memory, mut len, mut readonly) = (ptr::null_mut(), 0usize, 0);
        check(|err| unsafe { sys::subinterp_data_get_buffer(data.as_ptr(), &mut memory, &mut len, &mut readonly, err) })?;
        Ok(Buffer { data, memory: memory.cast(), len, readonly: readonly != 0 })
    }

    pub(crate) fn data(&self) -> &Data {
        &self.data
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for a zero-length buffer.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if Python sees a read-only `memoryview` (nobody may write it).
    pub fn is_readonly(&self) -> bool {
        self.readonly
    }

    /// The address of the first byte: the same memory Python sees.
    pub fn as_ptr(&self) -> *const u8 {
        self.memory
    }

    /// The bytes of a read-only buffer; `None` for a writable one (use
    /// [`Buffer::as_slice_unchecked`]).
    pub fn as_slice(&self) -> Option<&[u8]> {
        // SAFETY: read-only memory is never written while a reference lives.
        self.readonly.then(|| unsafe { self.as_slice_unchecked() })
    }

    /// The bytes, read-only or not.
    ///
    /// # Safety
    /// For a writable buffer, no one (Python code in any interpreter, another
    /// host thread) may write it while the slice lives.
    pub unsafe fn as_slice_unchecked(&self) -> &[u8] {
        if self.len == 0 {
            &[]
        } else {
            unsafe { slice::from_raw_parts(self.memory, self.len) }
        }
    }

    /// The bytes of a writable buffer, for writing in place; `None` for a
    /// read-only one.
    ///
    /// # Safety
    /// No one else (Python code, another thread, another slice of this
    /// buffer) may read or write the memory while the slice lives.
    #[allow(clippy::mut_from_ref)] // shared memory: the contract above is the exclusivity
    pub unsafe fn as_mut_slice_unchecked(&self) -> Option<&mut [u8]> {
        if self.readonly {
            None
        } else if self.len == 0 {
            Some(&mut [])
        } else {
            Some(unsafe { slice::from_raw_parts_mut(self.memory, self.len) })
        }
    }
}

impl fmt::Debug for Buffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Buffer")
            .field("len", &self.len)
            .field("readonly", &self.readonly)
            .field("address", &self.memory)
            .finish()
    }
}

/// The release callback of buffers made from a `Vec<u8>`: gives the vector
/// back to Rust, which frees it. Runs once, on the thread that drops the last
/// reference (a `Vec<u8>` may be dropped on any thread).
unsafe extern "C" fn release_owner(context: *mut c_void, _memory: *mut c_void) {
    drop(unsafe { Box::from_raw(context.cast::<Vec<u8>>()) });
}
