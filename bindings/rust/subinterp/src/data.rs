//! The bridge between [`Value`] and the library's reference-counted
//! `subinterp_data`: one owned reference ([`Data`]) and the two conversions.

use std::ffi::c_void;
use std::ptr::{self, NonNull};
use std::slice;

use subinterp_sys as sys;

use crate::bigint::BigInt;
use crate::buffer::Buffer;
use crate::error::{check, Error, ErrorKind, Result};
use crate::interpreter::InterpreterId;
use crate::queue::Queue;
use crate::value::Value;

/// One owned reference to an immutable `subinterp_data`.
pub(crate) struct Data(NonNull<sys::subinterp_data>);

// SAFETY: the header guarantees a data value "owns no Python object; may be
// used and freed on any thread": it is immutable and its reference count is
// atomic. Only buffers have mutable contents, and Buffer guards those (its
// slice accessors are unsafe for writable buffers).
unsafe impl Send for Data {}
// SAFETY: as above: every read-only accessor may run concurrently.
unsafe impl Sync for Data {}

impl Data {
    /// Runs a C constructor that writes a new reference to its out-parameter.
    pub(crate) fn create(
        make: impl FnOnce(*mut *mut sys::subinterp_data, *mut *mut sys::subinterp_error) -> sys::subinterp_status,
    ) -> Result<Data> {
        let mut out = ptr::null_mut();
        check(|err| make(&mut out, err))?;
        NonNull::new(out)
            .map(Data)
            .ok_or_else(|| Error::new(ErrorKind::Internal, "constructor returned OK without a value"))
    }

    /// Takes over a new reference; None for NULL.
    ///
    /// # Safety
    /// `ptr` is NULL or a reference the caller owns.
    pub(crate) unsafe fn from_owned(ptr: *mut sys::subinterp_data) -> Option<Data> {
        NonNull::new(ptr).map(Data)
    }

    /// Takes a new reference to a borrowed value.
    ///
    /// # Safety
    /// `ptr` is a live value.
    pub(crate) unsafe fn from_borrowed(ptr: *const sys::subinterp_data) -> Data {
        Data(NonNull::new(unsafe { sys::subinterp_data_ref(ptr) }).expect("subinterp_data_ref of a live value"))
    }

    pub(crate) fn as_ptr(&self) -> *const sys::subinterp_data {
        self.0.as_ptr()
    }

    /// Debug representation in Python syntax.
    pub(crate) fn repr(&self) -> Result<String> {
        let mut text: *mut std::ffi::c_char = ptr::null_mut();
        check(|err| unsafe { sys::subinterp_data_repr(self.as_ptr(), &mut text, err) })?;
        let repr = unsafe { std::ffi::CStr::from_ptr(text) }.to_string_lossy().into_owned();
        unsafe { sys::subinterp_free(text.cast()) };
        Ok(repr)
    }
}

impl Clone for Data {
    fn clone(&self) -> Data {
        unsafe { Data::from_borrowed(self.as_ptr()) }
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        unsafe { sys::subinterp_data_free(self.0.as_ptr()) }
    }
}

impl PartialEq for Data {
    fn eq(&self, other: &Data) -> bool {
        unsafe { sys::subinterp_data_equal(self.as_ptr(), other.as_ptr()) == 1 }
    }
}

/// Converts a value into portable data (a new reference).
pub(crate) fn to_data(value: &Value) -> Result<Data> {
    match value {
        Value::None => Data::create(|out, err| unsafe { sys::subinterp_data_new_none(out, err) }),
        Value::Bool(b) => Data::create(|out, err| unsafe { sys::subinterp_data_new_bool(*b as i32, out, err) }),
        Value::Int(n) => Data::create(|out, err| unsafe { sys::subinterp_data_new_int(*n, out, err) }),
        Value::BigInt(n) => {
            let bytes = n.to_signed_bytes_le();
            Data::create(|out, err| unsafe {
                sys::subinterp_data_new_int_bytes(bytes.as_ptr().cast(), bytes.len(), out, err)
            })
        }
        Value::Float(x) => Data::create(|out, err| unsafe { sys::subinterp_data_new_float(*x, out, err) }),
        Value::Str(s) => {
            Data::create(|out, err| unsafe { sys::subinterp_data_new_str(s.as_ptr().cast(), s.len(), out, err) })
        }
        Value::Bytes(b) => {
            Data::create(|out, err| unsafe { sys::subinterp_data_new_bytes(b.as_ptr().cast(), b.len(), out, err) })
        }
        Value::Tuple(items) => sequence(items, sys::subinterp_data_new_tuple),
        Value::List(items) => sequence(items, sys::subinterp_data_new_list),
        Value::Dict(entries) => {
            let keys = entries.iter().map(|(k, _)| to_data(k)).collect::<Result<Vec<_>>>()?;
            let values = entries.iter().map(|(_, v)| to_data(v)).collect::<Result<Vec<_>>>()?;
            let key_ptrs = pointers(&keys);
            let value_ptrs = pointers(&values);
            Data::create(|out, err| unsafe {
                sys::subinterp_data_new_dict(key_ptrs.as_ptr(), value_ptrs.as_ptr(), entries.len(), out, err)
            })
        }
        Value::Buffer(buffer) => Ok(buffer.data().clone()),
        Value::Queue(queue) => Ok(queue.data().clone()),
        Value::Interpreter(id) => {
            Data::create(|out, err| unsafe { sys::subinterp_data_new_interpreter(id.0, out, err) })
        }
        Value::Pickled(b) => {
            Data::create(|out, err| unsafe { sys::subinterp_data_new_pickled(b.as_ptr().cast(), b.len(), out, err) })
        }
    }
}

type SequenceConstructor = unsafe extern "C" fn(
    *const *const sys::subinterp_data,
    usize,
    *mut *mut sys::subinterp_data,
    *mut *mut sys::subinterp_error,
) -> sys::subinterp_status;

fn sequence(items: &[Value], make: SequenceConstructor) -> Result<Data> {
    let items = items.iter().map(to_data).collect::<Result<Vec<_>>>()?;
    let ptrs = pointers(&items);
    Data::create(|out, err| unsafe { make(ptrs.as_ptr(), ptrs.len(), out, err) })
}

fn pointers(items: &[Data]) -> Vec<*const sys::subinterp_data> {
    items.iter().map(Data::as_ptr).collect()
}

/// Converts portable data into a value (copies all but buffers and queues,
/// which keep a reference).
pub(crate) fn from_data(data: &Data) -> Result<Value> {
    unsafe { from_borrowed(data.as_ptr()) }
}

/// # Safety
/// `data` is a live value, borrowed for the duration of the call.
unsafe fn from_borrowed(data: *const sys::subinterp_data) -> Result<Value> {
    use sys::subinterp_data_kind as Kind;
    let kind = unsafe { sys::subinterp_data_get_kind(data) };
    Ok(match kind {
        Kind::SUBINTERP_DATA_NONE => Value::None,
        Kind::SUBINTERP_DATA_BOOL => {
            let mut b = 0;
            check(|err| unsafe { sys::subinterp_data_get_bool(data, &mut b, err) })?;
            Value::Bool(b != 0)
        }
        Kind::SUBINTERP_DATA_INT => read_int(data)?,
        Kind::SUBINTERP_DATA_FLOAT => {
            let mut x = 0.0;
            check(|err| unsafe { sys::subinterp_data_get_float(data, &mut x, err) })?;
            Value::Float(x)
        }
        Kind::SUBINTERP_DATA_STR => {
            let (mut ptr, mut len) = (ptr::null(), 0);
            check(|err| unsafe { sys::subinterp_data_get_str(data, &mut ptr, &mut len, err) })?;
            let bytes = unsafe { borrowed_bytes(ptr.cast(), len) };
            Value::Str(
                String::from_utf8(bytes.to_vec())
                    .map_err(|e| Error::new(ErrorKind::Type, format!("str value is not UTF-8: {e}")))?,
            )
        }
        Kind::SUBINTERP_DATA_BYTES => {
            let (mut ptr, mut len) = (ptr::null(), 0);
            check(|err| unsafe { sys::subinterp_data_get_bytes(data, &mut ptr, &mut len, err) })?;
            Value::Bytes(unsafe { borrowed_bytes(ptr.cast(), len) }.to_vec())
        }
        Kind::SUBINTERP_DATA_PICKLED => {
            let (mut ptr, mut len) = (ptr::null(), 0);
            check(|err| unsafe { sys::subinterp_data_get_pickled(data, &mut ptr, &mut len, err) })?;
            Value::Pickled(unsafe { borrowed_bytes(ptr.cast(), len) }.to_vec())
        }
        Kind::SUBINTERP_DATA_TUPLE => Value::Tuple(unsafe { items(data) }?),
        Kind::SUBINTERP_DATA_LIST => Value::List(unsafe { items(data) }?),
        Kind::SUBINTERP_DATA_DICT => {
            let len = unsafe { length(data) }?;
            let mut entries = Vec::with_capacity(len);
            for index in 0..len {
                let (mut key, mut value) = (ptr::null(), ptr::null());
                check(|err| unsafe { sys::subinterp_data_get_entry(data, index, &mut key, &mut value, err) })?;
                entries.push((unsafe { from_borrowed(key) }?, unsafe { from_borrowed(value) }?));
            }
            Value::Dict(entries)
        }
        Kind::SUBINTERP_DATA_BUFFER => Value::Buffer(Buffer::from_data(unsafe { Data::from_borrowed(data) })?),
        Kind::SUBINTERP_DATA_QUEUE => Value::Queue(Queue::from_data(unsafe { Data::from_borrowed(data) })?),
        Kind::SUBINTERP_DATA_INTERPRETER => {
            let mut id = 0;
            check(|err| unsafe { sys::subinterp_data_get_interpreter(data, &mut id, err) })?;
            Value::Interpreter(InterpreterId(id))
        }
        other => return Err(Error::new(ErrorKind::Type, format!("unknown data kind {}", other.0))),
    })
}

fn read_int(data: *const sys::subinterp_data) -> Result<Value> {
    let mut n = 0;
    match check(|err| unsafe { sys::subinterp_data_get_int(data, &mut n, err) }) {
        Ok(()) => return Ok(Value::Int(n)),
        Err(e) if e.kind() == ErrorKind::Overflow => {}
        Err(e) => return Err(e),
    }
    let mut len = 0;
    check(|err| unsafe { sys::subinterp_data_get_int_bytes(data, ptr::null_mut(), 0, &mut len, err) })?;
    let mut bytes = vec![0u8; len];
    check(|err| unsafe {
        sys::subinterp_data_get_int_bytes(data, bytes.as_mut_ptr().cast(), len, &mut len, err)
    })?;
    Ok(Value::BigInt(BigInt::from_signed_bytes_le(&bytes)))
}

/// # Safety
/// `data` is a live tuple or list.
unsafe fn items(data: *const sys::subinterp_data) -> Result<Vec<Value>> {
    let len = unsafe { length(data) }?;
    let mut items = Vec::with_capacity(len);
    for index in 0..len {
        let mut item = ptr::null();
        check(|err| unsafe { sys::subinterp_data_get_item(data, index, &mut item, err) })?;
        items.push(unsafe { from_borrowed(item) }?);
    }
    Ok(items)
}

/// # Safety
/// `data` is a live container.
unsafe fn length(data: *const sys::subinterp_data) -> Result<usize> {
    let mut len = 0;
    check(|err| unsafe { sys::subinterp_data_get_len(data, &mut len, err) })?;
    Ok(len)
}

/// # Safety
/// `ptr` points at `len` bytes that outlive the returned slice (or len is 0).
unsafe fn borrowed_bytes<'a>(ptr: *const c_void, len: usize) -> &'a [u8] {
    if len == 0 {
        &[]
    } else {
        unsafe { slice::from_raw_parts(ptr.cast(), len) }
    }
}
