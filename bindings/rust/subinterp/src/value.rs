//! [`Value`]: the portable data model, and its conversions to and from Rust
//! types ([`From`] into a value, [`FromValue`] / [`Value::extract`] out).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{BuildHasher, Hash};

use crate::bigint::BigInt;
use crate::buffer::Buffer;
use crate::data;
use crate::error::{Error, ErrorKind, Result};
use crate::interpreter::InterpreterId;
use crate::queue::Queue;

/// A value that crosses between interpreters and the host: what Python code
/// receives as arguments and returns as results.
///
/// Each variant is one kind of the C ABI's portable data. Python objects of
/// other types arrive [`Pickled`](Value::Pickled) (unless the run is strict)
/// and are unpickled again when they go back into an interpreter.
///
/// | variant | Python |
/// |---|---|
/// | `None`, `Bool`, `Float`, `Str`, `Bytes` | `None`, `bool`, `float`, `str`, `bytes` |
/// | `Int` (fits `i64`), `BigInt` (any size) | `int` |
/// | `Tuple`, `List` | `tuple`, `list` |
/// | `Dict` (entries in insertion order, any hashable keys) | `dict` |
/// | `Buffer` (zero copy) | `memoryview` |
/// | `Queue` | `subinterp` queue |
/// | `Interpreter` | `subinterp.InterpreterID` |
/// | `Pickled` | the unpickled object |
///
/// ```
/// use subinterp::Value;
/// let v = Value::from((1, "two", 3.0, vec![4u8]));
/// assert_eq!(v, Value::Tuple(vec![Value::Int(1), Value::Str("two".into()),
///                                 Value::Float(3.0), Value::Bytes(vec![4])]));
/// let (a, b, c, d): (i64, String, f64, Vec<u8>) = v.extract().unwrap();
/// assert_eq!((a, b.as_str(), c, d), (1, "two", 3.0, vec![4]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `bool`.
    Bool(bool),
    /// An `int` that fits `i64` (the library always reads those as `Int`).
    Int(i64),
    /// An `int` of any size; values read back are `BigInt` only beyond `i64`.
    BigInt(BigInt),
    /// `float` (NaN, infinities and -0.0 exact).
    Float(f64),
    /// `str`.
    Str(String),
    /// `bytes`.
    Bytes(Vec<u8>),
    /// `tuple`.
    Tuple(Vec<Value>),
    /// `list`.
    List(Vec<Value>),
    /// `dict`, entries in insertion order. Keys must be hashable kinds.
    Dict(Vec<(Value, Value)>),
    /// A `memoryview` of shared memory.
    Buffer(Buffer),
    /// A queue handle (holds the queue while the value lives).
    Queue(Queue),
    /// An interpreter handle (`subinterp.InterpreterID`); ids may go stale.
    Interpreter(InterpreterId),
    /// An object outside the model, as pickle bytes (protocol 5).
    Pickled(Vec<u8>),
}

impl Value {
    /// The kind's name as the C ABI spells it: `"none"`, `"int"`, `"dict"`...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::None => "none",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Buffer(_) => "buffer",
            Value::Queue(_) => "queue",
            Value::Interpreter(_) => "interpreter",
            Value::Pickled(_) => "pickled",
        }
    }

    /// Converts into a Rust type: see [`FromValue`] for what converts.
    pub fn extract<T: FromValue>(self) -> Result<T> {
        T::from_value(self)
    }

    /// A list from any items that convert into values.
    pub fn list<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }

    /// A tuple from any items that convert into values.
    pub fn tuple<T: Into<Value>>(items: impl IntoIterator<Item = T>) -> Value {
        Value::Tuple(items.into_iter().map(Into::into).collect())
    }

    /// A dict from key/value pairs that convert into values, in order.
    pub fn dict<K: Into<Value>, V: Into<Value>>(entries: impl IntoIterator<Item = (K, V)>) -> Value {
        Value::Dict(entries.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    /// True for `None`.
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The int, if this is one that fits `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::BigInt(n) => n.to_i64(),
            _ => None,
        }
    }

    /// The float, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// The text, if this is a str.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is bytes.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The items, if this is a tuple or a list.
    pub fn as_slice(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(items) | Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a dict.
    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under a str key, if this is a dict that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_dict()?.iter().find(|(k, _)| k.as_str() == Some(key)).map(|(_, v)| v)
    }

    /// The representation Python's `repr()` gives (for ASCII text and all
    /// numbers), computed by the library.
    pub fn repr(&self) -> Result<String> {
        data::to_data(self)?.repr()
    }

    fn type_error(&self, wanted: &str) -> Error {
        Error::new(ErrorKind::Type, format!("expected {wanted}, got {}", self.kind_name()))
    }
}

impl fmt::Display for Value {
    /// Python's `repr()` of the value (see [`Value::repr`]); the Debug form if
    /// the library cannot make one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.repr() {
            Ok(repr) => f.write_str(&repr),
            Err(_) => write!(f, "{self:?}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Into a value
// ---------------------------------------------------------------------------

impl From<()> for Value {
    fn from(_: ()) -> Value {
        Value::None
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                Value::Int(n.into())
            }
        }
    )*};
}
from_small_int!(i8, i16, i32, i64, u8, u16, u32);

macro_rules! from_wide_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Value {
                match i64::try_from(n) {
                    Ok(small) => Value::Int(small),
                    Err(_) => Value::BigInt(BigInt::from(n)),
                }
            }
        }
    )*};
}
from_wide_int!(u64, i128, u128);

impl From<isize> for Value {
    fn from(n: isize) -> Value {
        Value::Int(n as i64)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Value {
        Value::from(n as u64)
    }
}

impl From<BigInt> for Value {
    /// `Int` when it fits `i64`, as the library reads it back.
    fn from(n: BigInt) -> Value {
        match n.to_i64() {
            Some(small) => Value::Int(small),
            None => Value::BigInt(n),
        }
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<f32> for Value {
    fn from(x: f32) -> Value {
        Value::Float(x.into())
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}

impl From<char> for Value {
    fn from(c: char) -> Value {
        Value::Str(c.to_string())
    }
}

/// `bytes` (use [`Value::list`] for a list of small ints).
impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Value {
        Value::Bytes(b)
    }
}

/// `bytes`.
impl From<&[u8]> for Value {
    fn from(b: &[u8]) -> Value {
        Value::Bytes(b.to_vec())
    }
}

/// `bytes`.
impl<const N: usize> From<[u8; N]> for Value {
    fn from(b: [u8; N]) -> Value {
        Value::Bytes(b.to_vec())
    }
}

/// A list.
impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(items)
    }
}

/// A list.
impl From<&[Value]> for Value {
    fn from(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }
}

/// A list.
impl FromIterator<Value> for Value {
    fn from_iter<I: IntoIterator<Item = Value>>(items: I) -> Value {
        Value::List(items.into_iter().collect())
    }
}

/// `None` for `None`, else the value.
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(option: Option<T>) -> Value {
        option.map_or(Value::None, Into::into)
    }
}

/// A dict (in the map's iteration order).
impl<K: Into<Value>, V: Into<Value>, S: BuildHasher> From<HashMap<K, V, S>> for Value {
    fn from(map: HashMap<K, V, S>) -> Value {
        Value::dict(map)
    }
}

/// A dict, keys in order.
impl<K: Into<Value>, V: Into<Value>> From<BTreeMap<K, V>> for Value {
    fn from(map: BTreeMap<K, V>) -> Value {
        Value::dict(map)
    }
}

impl From<Buffer> for Value {
    fn from(buffer: Buffer) -> Value {
        Value::Buffer(buffer)
    }
}

impl From<Queue> for Value {
    fn from(queue: Queue) -> Value {
        Value::Queue(queue)
    }
}

impl From<&Queue> for Value {
    fn from(queue: &Queue) -> Value {
        Value::Queue(queue.clone())
    }
}

impl From<InterpreterId> for Value {
    fn from(id: InterpreterId) -> Value {
        Value::Interpreter(id)
    }
}

macro_rules! tuple_conversions {
    ($(($($name:ident),+)),+) => {$(
        /// A tuple.
        impl<$($name: Into<Value>),+> From<($($name,)+)> for Value {
            #[allow(non_snake_case)]
            fn from(($($name,)+): ($($name,)+)) -> Value {
                Value::Tuple(vec![$($name.into()),+])
            }
        }

        /// From a tuple or list of exactly this many items.
        impl<$($name: FromValue),+> FromValue for ($($name,)+) {
            #[allow(non_snake_case)]
            fn from_value(value: Value) -> Result<Self> {
                const LEN: usize = [$(stringify!($name)),+].len();
                let items = match value {
                    Value::Tuple(items) | Value::List(items) if items.len() == LEN => items,
                    other => return Err(other.type_error(&format!("a tuple of {LEN}"))),
                };
                let mut items = items.into_iter();
                $(let $name = $name::from_value(items.next().expect("length checked"))?;)+
                Ok(($($name,)+))
            }
        }
    )+};
}
tuple_conversions!(
    (A),
    (A, B),
    (A, B, C),
    (A, B, C, D),
    (A, B, C, D, E),
    (A, B, C, D, E, F),
    (A, B, C, D, E, F, G),
    (A, B, C, D, E, F, G, H),
    (A, B, C, D, E, F, G, H, I),
    (A, B, C, D, E, F, G, H, I, J),
    (A, B, C, D, E, F, G, H, I, J, K),
    (A, B, C, D, E, F, G, H, I, J, K, L)
);

// ---------------------------------------------------------------------------
// Out of a value
// ---------------------------------------------------------------------------

/// Types a [`Value`] converts into, with [`Value::extract`].
///
/// Conversions are exact: an int converts to an integer type only if it fits
/// (else [`ErrorKind::Overflow`]), a float only to `f64`/`f32`, and a value of
/// another kind gives [`ErrorKind::Type`]. `Vec<u8>` takes bytes (or a
/// read-only buffer's contents); `Vec<T>` for other `T` takes a list or tuple;
/// `Option<T>` takes `None` or a `T`; maps take a dict.
pub trait FromValue: Sized {
    /// Converts, or says why not.
    fn from_value(value: Value) -> Result<Self>;
}

impl FromValue for Value {
    fn from_value(value: Value) -> Result<Value> {
        Ok(value)
    }
}

impl FromValue for () {
    fn from_value(value: Value) -> Result<()> {
        match value {
            Value::None => Ok(()),
            other => Err(other.type_error("None")),
        }
    }
}

impl FromValue for bool {
    fn from_value(value: Value) -> Result<bool> {
        value.as_bool().ok_or_else(|| value.type_error("bool"))
    }
}

impl FromValue for BigInt {
    fn from_value(value: Value) -> Result<BigInt> {
        match value {
            Value::Int(n) => Ok(n.into()),
            Value::BigInt(n) => Ok(n),
            other => Err(other.type_error("int")),
        }
    }
}

macro_rules! int_from_value {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: Value) -> Result<$t> {
                let overflow = || Error::new(ErrorKind::Overflow, format!("int does not fit {}", stringify!($t)));
                match value {
                    Value::Int(n) => <$t>::try_from(n).map_err(|_| overflow()),
                    Value::BigInt(n) => n.to_i128().and_then(|n| <$t>::try_from(n).ok()).ok_or_else(overflow),
                    other => Err(other.type_error("int")),
                }
            }
        }
    )*};
}
int_from_value!(i8, i16, i32, i64, i128, isize, u16, u32, u64, usize);

impl FromValue for u128 {
    fn from_value(value: Value) -> Result<u128> {
        BigInt::from_value(value)?
            .to_u128()
            .ok_or_else(|| Error::new(ErrorKind::Overflow, "int does not fit u128"))
    }
}

impl FromValue for f64 {
    fn from_value(value: Value) -> Result<f64> {
        value.as_f64().ok_or_else(|| value.type_error("float"))
    }
}

impl FromValue for f32 {
    /// Rounds to the nearest `f32`.
    fn from_value(value: Value) -> Result<f32> {
        f64::from_value(value).map(|x| x as f32)
    }
}

impl FromValue for String {
    fn from_value(value: Value) -> Result<String> {
        match value {
            Value::Str(s) => Ok(s),
            other => Err(other.type_error("str")),
        }
    }
}

/// Bytes, or the contents of a read-only buffer.
impl FromValue for Vec<u8> {
    fn from_value(value: Value) -> Result<Vec<u8>> {
        match value {
            Value::Bytes(b) => Ok(b),
            Value::Buffer(buffer) => match buffer.as_slice() {
                Some(bytes) => Ok(bytes.to_vec()),
                None => Err(Error::new(
                    ErrorKind::Type,
                    "a writable buffer cannot be read safely; extract a Buffer instead",
                )),
            },
            other => Err(other.type_error("bytes")),
        }
    }
}

/// The items of a list or tuple (`T` = `u8` is bytes, above).
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: Value) -> Result<Vec<T>> {
        match value {
            Value::List(items) | Value::Tuple(items) => items.into_iter().map(T::from_value).collect(),
            other => Err(other.type_error("list or tuple")),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: Value) -> Result<Option<T>> {
        match value {
            Value::None => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl<K: FromValue + Eq + Hash, V: FromValue, S: BuildHasher + Default> FromValue for HashMap<K, V, S> {
    fn from_value(value: Value) -> Result<HashMap<K, V, S>> {
        dict_entries(value)?.map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?))).collect()
    }
}

impl<K: FromValue + Ord, V: FromValue> FromValue for BTreeMap<K, V> {
    fn from_value(value: Value) -> Result<BTreeMap<K, V>> {
        dict_entries(value)?.map(|(k, v)| Ok((K::from_value(k)?, V::from_value(v)?))).collect()
    }
}

fn dict_entries(value: Value) -> Result<impl Iterator<Item = (Value, Value)>> {
    match value {
        Value::Dict(entries) => Ok(entries.into_iter()),
        other => Err(other.type_error("dict")),
    }
}

impl FromValue for Buffer {
    fn from_value(value: Value) -> Result<Buffer> {
        match value {
            Value::Buffer(buffer) => Ok(buffer),
            other => Err(other.type_error("buffer")),
        }
    }
}

impl FromValue for Queue {
    fn from_value(value: Value) -> Result<Queue> {
        match value {
            Value::Queue(queue) => Ok(queue),
            other => Err(other.type_error("queue")),
        }
    }
}

impl FromValue for InterpreterId {
    fn from_value(value: Value) -> Result<InterpreterId> {
        match value {
            Value::Interpreter(id) => Ok(id),
            other => Err(other.type_error("interpreter")),
        }
    }
}

/// `TryFrom<Value>` for the common concrete types, so `value.try_into()`
/// works where the target type is known.
macro_rules! try_from_value {
    ($($t:ty),*) => {$(
        impl TryFrom<Value> for $t {
            type Error = Error;
            fn try_from(value: Value) -> Result<$t> {
                <$t>::from_value(value)
            }
        }
    )*};
}
try_from_value!(bool, i8, i16, i32, i64, i128, isize, u16, u32, u64, u128, usize, f32, f64,
                String, Vec<u8>, BigInt, Buffer, Queue, InterpreterId);

/// An int in `0..=255`. (`u8` is no [`FromValue`] type, so that `Vec<u8>`
/// can mean bytes.)
impl TryFrom<Value> for u8 {
    type Error = Error;
    fn try_from(value: Value) -> Result<u8> {
        u8::try_from(u16::from_value(value)?).map_err(|_| Error::new(ErrorKind::Overflow, "int does not fit u8"))
    }
}
