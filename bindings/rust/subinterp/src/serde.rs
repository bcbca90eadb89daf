//! The `serde` feature: [`to_value`] turns any `Serialize` type into a
//! [`Value`], [`from_value`] turns a [`Value`] into any `Deserialize` type.
//!
//! The mapping is the one a Python function expects: a struct arrives as a
//! `dict` with `str` keys, a `Vec` as a `list`, a tuple as a `tuple`,
//! `Option::None` as `None`, and enums are tagged the way `serde_json` tags
//! them (`"Variant"` or `{"Variant": ...}`). The full tables are on
//! [`to_value`] and [`from_value`].
//!
//! ```
//! # fn main() -> subinterp::Result<()> {
//! use serde::{Deserialize, Serialize};
//! use subinterp::{from_value, to_value, Interpreter, Value};
//!
//! #[derive(Serialize)]
//! struct Order { item: String, quantity: u32, tags: Vec<String> }
//!
//! #[derive(Deserialize, Debug, PartialEq)]
//! struct Receipt { item: String, total: f64 }
//!
//! let order = Order { item: "tea".into(), quantity: 3, tags: vec!["green".into()] };
//! let value = to_value(&order)?;
//! assert_eq!(value.get("quantity"), Some(&Value::Int(3)));
//!
//! let interp = Interpreter::new()?;
//! interp.exec("def bill(order): return {'item': order['item'], 'total': order['quantity'] * 2.5}")?;
//! let receipt: Receipt = from_value(interp.call("bill", (value,))?)?;
//! assert_eq!(receipt, Receipt { item: "tea".into(), total: 7.5 });
//! # Ok(()) }
//! ```
//!
//! Design choices (kept here for maintainers; the user-facing rules are on
//! the two functions):
//!
//! - `is_human_readable()` is `true` (serde's default) in both directions:
//!   types with two forms (`IpAddr`, `SocketAddr`...) become the text Python
//!   code expects (`"127.0.0.1"`), not compact tuples of bytes.
//! - Map keys that serialize as sequences become tuples (recursively), since
//!   a Python `list` cannot be a `dict` key; sequences deserialize from
//!   tuples and lists alike, so such maps round-trip.
//! - `deserialize_any` on an int calls `visit_u64` when it is non-negative and
//!   `visit_i64` when negative (serde_json's convention, which derived
//!   identifier visitors and most hand-written visitors expect); beyond 64
//!   bits it calls `visit_u128` / `visit_i128`, or fails with
//!   [`ErrorKind::Overflow`] beyond 128 bits.
//! - Errors keep a Python-style path to the failing item, e.g.
//!   ``at `["points"][2]["x"]`: expected an int, got str``.

use std::fmt;
use std::vec;

use ::serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, Expected, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use ::serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant,
};

use crate::bigint::BigInt;
use crate::error::{Error, ErrorKind, Result};
use crate::value::Value;

/// Converts any `Serialize` value into a [`Value`].
///
/// | Rust (serde data model) | Value | Python |
/// |---|---|---|
/// | `bool` | `Bool` | `bool` |
/// | `i8`..`i64`, `u8`..`u32` | `Int` | `int` |
/// | `u64`, `i128`, `u128` | `Int` if it fits `i64`, else `BigInt` | `int` |
/// | `f32`, `f64` | `Float` (`f32` widened exactly) | `float` |
/// | `char`, `&str`, `String` | `Str` | `str` |
/// | bytes (`serialize_bytes`, e.g. `serde_bytes`) | `Bytes` | `bytes` |
/// | `()`, unit struct, `None` | `None` | `None` |
/// | `Some(x)`, newtype struct `W(x)` | `x`'s value | |
/// | sequence (`Vec<T>`, `HashSet<T>`, `[T]`, `Vec<u8>` too) | `List` | `list` |
/// | tuple, `[T; N]`, tuple struct | `Tuple` | `tuple` |
/// | map (`HashMap`, `BTreeMap`...) | `Dict` (keys of any kind) | `dict` |
/// | struct | `Dict` with `Str` keys, in field order | `dict` |
/// | unit variant `E::A` | `Str("A")` | `"A"` |
/// | newtype variant `E::B(x)` | `{"B": x}` | `dict` |
/// | tuple variant `E::C(x, y)` | `{"C": (x, y)}` | `dict` |
/// | struct variant `E::D { f }` | `{"D": {"f": f}}` | `dict` |
///
/// Map keys that serialize as sequences become tuples (a Python `list` is not
/// hashable), so `HashMap<Vec<i32>, T>` works. `Option<()>` and
/// `Option<Option<T>>` lose the difference between `None` and `Some(None)`,
/// as in JSON. Other serde attributes (`rename`, `flatten`, `tag`,
/// `untagged`, `skip_serializing_if`...) work as with any format.
///
/// # Errors
///
/// Only those a `Serialize` implementation raises itself
/// ([`ErrorKind::InvalidArgument`], with its message).
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use serde::Serialize;
/// use subinterp::{to_value, Value};
///
/// #[derive(Serialize)]
/// enum Shape { Dot, Circle(f64), Rect { w: u32, h: u32 } }
///
/// assert_eq!(to_value(&Shape::Dot)?, Value::from("Dot"));
/// assert_eq!(to_value(&Shape::Circle(1.5))?, Value::dict([("Circle", 1.5)]));
/// assert_eq!(to_value(&Shape::Rect { w: 2, h: 3 })?,
///            Value::dict([("Rect", Value::dict([("w", 2), ("h", 3)]))]));
/// assert_eq!(to_value(&(1u8, vec![true]))?,
///            Value::Tuple(vec![Value::Int(1), Value::List(vec![Value::Bool(true)])]));
/// # Ok(()) }
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value> {
    value.serialize(ValueSerializer)
}

/// Converts a [`Value`] into any `Deserialize` type.
///
/// What each Rust type (serde data model) accepts:
///
/// | Rust | accepts |
/// |---|---|
/// | `bool` | `Bool` |
/// | integers | `Int` or `BigInt` in range (else [`ErrorKind::Overflow`]); also `Interpreter` (its id), as Python's `InterpreterID` is an int |
/// | `f64`, `f32` | `Float`, or an int (converted as Python's `float()` does; `f32` rounds) |
/// | `char` | a `Str` of one character |
/// | `String` | `Str` |
/// | bytes (`serde_bytes`...) | `Bytes`, a read-only `Buffer`'s contents, or a list/tuple of ints |
/// | sequences, tuples, `Vec<u8>` | `List` or `Tuple`; also `Bytes` / read-only `Buffer` as a sequence of `u8` |
/// | `()`, unit struct | `None` |
/// | `Option<T>` | `None`, or a value for `T` |
/// | maps | `Dict` |
/// | structs | `Dict` (fields by `str` key; unknown keys ignored unless `deny_unknown_fields`), or a `Tuple`/`List` of the fields in order |
/// | enums | `Str` (unit variant), or a one-entry `Dict` `{variant: payload}` (payload `None` for a unit variant, a `Tuple`/`List` for a tuple variant, a `Dict` for a struct variant) |
///
/// Self-describing uses (`#[serde(untagged)]`, internally tagged enums,
/// `serde::de::IgnoredAny`...) see `None` as unit, ints as `u64` when
/// non-negative and `i64` when negative (`u128`/`i128` beyond 64 bits), a
/// tuple or list as a sequence, a dict as a map, bytes as bytes. (serde
/// buffers untagged and internally tagged content without 128-bit ints, so
/// ints beyond `i64`/`u64` fail there with [`ErrorKind::Type`].)
///
/// `Queue`, `Pickled` values and writable `Buffer`s have no serde form: they
/// give [`ErrorKind::Type`] (extract them from the `Value` directly, e.g.
/// with [`Value::extract`] or by matching, before converting the rest).
///
/// # Errors
///
/// - [`ErrorKind::Type`]: a value of the wrong kind, or a sequence of the
///   wrong length.
/// - [`ErrorKind::Overflow`]: an int that does not fit the integer type (or
///   too large for a float).
/// - [`ErrorKind::InvalidArgument`]: a value of the right kind rejected for
///   its content: a missing or (with `deny_unknown_fields`) unknown field, an
///   unknown variant, a `str` of several characters for a `char`, or a
///   `Deserialize` implementation's own error.
///
/// Messages start with the path to the failing item, written as Python
/// subscripts: ``at `["points"][2]["x"]`: expected an int, got str``.
///
/// ```
/// # fn main() -> subinterp::Result<()> {
/// use serde::Deserialize;
/// use subinterp::{from_value, ErrorKind, Value};
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// struct Point { x: i32, y: i32 }
///
/// let p: Point = from_value(Value::dict([("x", 1), ("y", 2)]))?;
/// assert_eq!(p, Point { x: 1, y: 2 });
/// let p: Point = from_value(Value::from((3, 4)))?; // a tuple of the fields
/// assert_eq!(p, Point { x: 3, y: 4 });
///
/// let err = from_value::<Point>(Value::dict([("x", 1), ("y", 1i64 << 40)])).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Overflow);
/// assert_eq!(err.message(), "at `[\"y\"]`: int 1099511627776 does not fit i32");
/// # Ok(()) }
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    T::deserialize(ValueDeserializer::new(value))
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::InvalidArgument, msg.to_string())
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Error {
        Error::new(ErrorKind::InvalidArgument, msg.to_string())
    }

    fn invalid_type(unexpected: de::Unexpected<'_>, expected: &dyn Expected) -> Error {
        Error::new(ErrorKind::Type, format!("expected {expected}, got {unexpected}"))
    }

    fn invalid_length(len: usize, expected: &dyn Expected) -> Error {
        Error::new(ErrorKind::Type, format!("expected {expected}, got a sequence of {len}"))
    }
}

/// "expected {what}, got {kind}": a value of the wrong kind.
fn type_error(value: &Value, expected: &dyn fmt::Display) -> Error {
    Error::new(ErrorKind::Type, format!("expected {expected}, got {}", describe(value)))
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Buffer(buffer) if !buffer.is_readonly() => "a writable buffer (which has no serde form)",
        Value::Queue(_) => "a queue (which has no serde form)",
        Value::Pickled(_) => "a pickled object (a Python type outside the portable data model)",
        other => other.kind_name(),
    }
}

fn overflow(value: &dyn fmt::Display, target: &str) -> Error {
    Error::new(ErrorKind::Overflow, format!("int {value} does not fit {target}"))
}

/// Prefixes an error from inside a container with the item's subscript, so
/// nested errors read ``at `["a"][0]`: ...``.
fn at(error: Error, subscript: impl FnOnce() -> String) -> Error {
    if error.exception().is_some() || error.output().is_some() {
        return error; // not one of ours: keep it whole
    }
    let message = match error.message().strip_prefix("at `") {
        Some(rest) => format!("at `{}{rest}", subscript()),
        None => format!("at `{}`: {}", subscript(), error.message()),
    };
    Error::new(error.kind(), message)
}

fn key_subscript(key: &Value) -> String {
    match key {
        Value::Str(s) => format!("[{s:?}]"),
        Value::Int(n) => format!("[{n}]"),
        Value::BigInt(n) => format!("[{n}]"),
        Value::Bool(b) => format!("[{}]", if *b { "True" } else { "False" }),
        other => format!("[<{}>]", other.kind_name()),
    }
}

// ---------------------------------------------------------------------------
// Serializer
// ---------------------------------------------------------------------------

struct ValueSerializer;

impl ser::Serializer for ValueSerializer {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqBuilder;
    type SerializeTuple = SeqBuilder;
    type SerializeTupleStruct = SeqBuilder;
    type SerializeTupleVariant = VariantBuilder<SeqBuilder>;
    type SerializeMap = MapBuilder;
    type SerializeStruct = StructBuilder;
    type SerializeStructVariant = VariantBuilder<StructBuilder>;

    fn serialize_bool(self, v: bool) -> Result<Value> {
        Ok(Value::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_i128(self, v: i128) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_u8(self, v: u8) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_u128(self, v: u128) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_f32(self, v: f32) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<Value> {
        Ok(Value::Float(v))
    }

    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::from(v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        Ok(Value::Bytes(v.to_vec()))
    }

    fn serialize_none(self) -> Result<Value> {
        Ok(Value::None)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::None)
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<Value> {
        Ok(Value::None)
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<Value> {
        Ok(Value::from(variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<Value> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value> {
        Ok(Value::Dict(vec![(Value::from(variant), value.serialize(self)?)]))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder> {
        Ok(SeqBuilder::new(len.unwrap_or(0), false))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqBuilder> {
        Ok(SeqBuilder::new(len, true))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<SeqBuilder> {
        Ok(SeqBuilder::new(len, true))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<SeqBuilder>> {
        Ok(VariantBuilder { variant, inner: SeqBuilder::new(len, true) })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapBuilder> {
        Ok(MapBuilder { entries: Vec::with_capacity(len.unwrap_or(0)), key: None })
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<StructBuilder> {
        Ok(StructBuilder { entries: Vec::with_capacity(len) })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantBuilder<StructBuilder>> {
        Ok(VariantBuilder { variant, inner: StructBuilder { entries: Vec::with_capacity(len) } })
    }
}

/// Builds a `List` (sequences) or a `Tuple` (tuples, tuple structs).
struct SeqBuilder {
    items: Vec<Value>,
    tuple: bool,
}

impl SeqBuilder {
    fn new(capacity: usize, tuple: bool) -> SeqBuilder {
        // A size hint is only a hint: cap it rather than trust it.
        SeqBuilder { items: Vec::with_capacity(capacity.min(4096)), tuple }
    }

    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.items.push(value.serialize(ValueSerializer)?);
        Ok(())
    }

    fn finish(self) -> Value {
        if self.tuple {
            Value::Tuple(self.items)
        } else {
            Value::List(self.items)
        }
    }
}

impl SerializeSeq for SeqBuilder {
    type Ok = Value;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }

    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl SerializeTuple for SeqBuilder {
    type Ok = Value;
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }

    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

impl SerializeTupleStruct for SeqBuilder {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }

    fn end(self) -> Result<Value> {
        Ok(self.finish())
    }
}

/// Builds a `Dict` from a map; keys that are lists become tuples.
struct MapBuilder {
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.key = Some(hashable(key.serialize(ValueSerializer)?));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "serialize_value called before serialize_key"))?;
        self.entries.push((key, value.serialize(ValueSerializer)?));
        Ok(())
    }

    fn end(self) -> Result<Value> {
        match self.key {
            None => Ok(Value::Dict(self.entries)),
            Some(_) => Err(Error::new(ErrorKind::InvalidArgument, "a map key was serialized without its value")),
        }
    }
}

/// A map key as Python can hash it: lists (a Rust `Vec` key) become tuples.
fn hashable(key: Value) -> Value {
    match key {
        Value::List(items) | Value::Tuple(items) => Value::Tuple(items.into_iter().map(hashable).collect()),
        other => other,
    }
}

/// Builds a `Dict` with the fields' names as `Str` keys, in order.
struct StructBuilder {
    entries: Vec<(Value, Value)>,
}

impl SerializeStruct for StructBuilder {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.entries.push((Value::from(key), value.serialize(ValueSerializer)?));
        Ok(())
    }

    fn end(self) -> Result<Value> {
        Ok(Value::Dict(self.entries))
    }
}

/// `{variant: payload}` for tuple and struct variants.
struct VariantBuilder<B> {
    variant: &'static str,
    inner: B,
}

impl SerializeTupleVariant for VariantBuilder<SeqBuilder> {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.inner.push(value)
    }

    fn end(self) -> Result<Value> {
        Ok(Value::Dict(vec![(Value::from(self.variant), self.inner.finish())]))
    }
}

impl SerializeStructVariant for VariantBuilder<StructBuilder> {
    type Ok = Value;
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        SerializeStruct::serialize_field(&mut self.inner, key, value)
    }

    fn end(self) -> Result<Value> {
        Ok(Value::Dict(vec![(Value::from(self.variant), SerializeStruct::end(self.inner)?)]))
    }
}

// ---------------------------------------------------------------------------
// Deserializer
// ---------------------------------------------------------------------------

/// Consumes one value.
struct ValueDeserializer {
    value: Value,
}

impl ValueDeserializer {
    fn new(value: Value) -> ValueDeserializer {
        ValueDeserializer { value }
    }
}

/// An int of any size, read from `Int`, `BigInt` or `Interpreter` (its id).
enum Integer {
    Small(i64),
    Big(BigInt),
}

impl Integer {
    fn from_value(value: Value, expected: &dyn fmt::Display) -> Result<Integer> {
        match value {
            Value::Int(n) => Ok(Integer::Small(n)),
            Value::BigInt(n) => Ok(match n.to_i64() {
                Some(n) => Integer::Small(n),
                None => Integer::Big(n),
            }),
            Value::Interpreter(id) => Ok(Integer::Small(id.0)),
            other => Err(type_error(&other, expected)),
        }
    }

    fn to_i128(&self) -> Option<i128> {
        match self {
            Integer::Small(n) => Some(i128::from(*n)),
            Integer::Big(n) => n.to_i128(),
        }
    }

    fn to_u128(&self) -> Option<u128> {
        match self {
            Integer::Small(n) => u128::try_from(*n).ok(),
            Integer::Big(n) => n.to_u128(),
        }
    }

    fn overflow(&self, target: &str) -> Error {
        match self {
            Integer::Small(n) => overflow(n, target),
            Integer::Big(n) => overflow(n, target),
        }
    }
}

/// `deserialize_<int>`: range-checked, [`ErrorKind::Overflow`] when it does
/// not fit.
macro_rules! deserialize_int {
    ($($method:ident => $visit:ident: $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let n = Integer::from_value(self.value, &"an int")?;
            let fits = n.to_i128().and_then(|m| <$t>::try_from(m).ok());
            match fits {
                Some(m) => visitor.$visit(m),
                None => Err(n.overflow(stringify!($t))),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDeserializer {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            value @ (Value::Int(_) | Value::BigInt(_) | Value::Interpreter(_)) => {
                match Integer::from_value(value, &"an int")? {
                    Integer::Small(n) => match u64::try_from(n) {
                        Ok(n) => visitor.visit_u64(n),
                        Err(_) => visitor.visit_i64(n),
                    },
                    Integer::Big(n) => match (n.to_u128(), n.to_i128()) {
                        (Some(n), _) => visitor.visit_u128(n),
                        (None, Some(n)) => visitor.visit_i128(n),
                        (None, None) => Err(overflow(&n, "128 bits")),
                    },
                }
            }
            Value::Float(x) => visitor.visit_f64(x),
            Value::Str(s) => visitor.visit_string(s),
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::Tuple(items) | Value::List(items) => visit_seq(items, visitor),
            Value::Dict(entries) => visit_map(entries, visitor),
            Value::Buffer(ref buffer) => match buffer.as_slice() {
                Some(bytes) => visitor.visit_bytes(bytes),
                None => Err(type_error(&self.value, &"a value with a serde form")),
            },
            other => Err(type_error(&other, &"a value with a serde form")),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Bool(b) => visitor.visit_bool(b),
            other => Err(type_error(&other, &"a bool")),
        }
    }

    deserialize_int! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let n = Integer::from_value(self.value, &"an int")?;
        match n.to_i128() {
            Some(m) => visitor.visit_i128(m),
            None => Err(n.overflow("i128")),
        }
    }

    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let n = Integer::from_value(self.value, &"an int")?;
        match n.to_u128() {
            Some(m) => visitor.visit_u128(m),
            None => Err(n.overflow("u128")),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let x = float(self.value)?;
        visitor.visit_f32(x as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_f64(float(self.value)?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Str(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(de::Error::invalid_value(de::Unexpected::Str(&s), &"a str of one character")),
                }
            }
            other => Err(type_error(&other, &"a str of one character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Str(s) => visitor.visit_string(s),
            other => Err(type_error(&other, &"a str")),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Bytes(b) => visitor.visit_byte_buf(b),
            Value::Buffer(ref buffer) if buffer.is_readonly() => match buffer.as_slice() {
                Some(bytes) => visitor.visit_bytes(bytes),
                None => Err(type_error(&self.value, &"bytes")),
            },
            Value::Tuple(items) | Value::List(items) => visit_seq(items, visitor),
            other => Err(type_error(&other, &"bytes")),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::None => visitor.visit_unit(),
            other => Err(type_error(&other, &"None")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Tuple(items) | Value::List(items) => visit_seq(items, visitor),
            Value::Bytes(bytes) => visit_seq(bytes.into_iter().map(Value::from).collect(), visitor),
            Value::Buffer(ref buffer) => match buffer.as_slice() {
                Some(bytes) => visit_seq(bytes.iter().copied().map(Value::from).collect(), visitor),
                None => Err(type_error(&self.value, &"a list or tuple")),
            },
            other => Err(type_error(&other, &"a list or tuple")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _name: &'static str, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            Value::Dict(entries) => visit_map(entries, visitor),
            other => Err(type_error(&other, &"a dict")),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Dict(entries) => visit_map(entries, visitor),
            Value::Tuple(items) | Value::List(items) => visit_seq(items, visitor),
            other => Err(type_error(&other, &format_args!("a dict for struct {name}"))),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            Value::Str(variant) => visitor.visit_enum(EnumDeserializer { variant: Value::Str(variant), payload: None }),
            Value::Dict(entries) if entries.len() == 1 => {
                let (variant, payload) = entries.into_iter().next().expect("length checked");
                let subscript = key_subscript(&variant);
                visitor
                    .visit_enum(EnumDeserializer { variant, payload: Some(payload) })
                    .map_err(|e| at(e, || subscript))
            }
            other => Err(type_error(
                &other,
                &format_args!("a str or a dict of one entry for enum {name}"),
            )),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Anything can be ignored, including values without a serde form.
        visitor.visit_unit()
    }
}

/// A float from `Float` or from an int (as Python's `float()`).
fn float(value: Value) -> Result<f64> {
    match value {
        Value::Float(x) => Ok(x),
        Value::Int(n) => Ok(n as f64),
        Value::BigInt(n) => {
            // Decimal text parses with correct rounding.
            let x: f64 = n.to_string().parse().map_err(|_| overflow(&n, "f64"))?;
            if x.is_finite() {
                Ok(x)
            } else {
                Err(Error::new(ErrorKind::Overflow, format!("int {n} is too large for a float")))
            }
        }
        other => Err(type_error(&other, &"a float")),
    }
}

fn visit_seq<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value> {
    let len = items.len();
    let mut seq = SeqDeserializer { items: items.into_iter(), index: 0 };
    let value = visitor.visit_seq(&mut seq)?;
    match seq.items.len() {
        0 => Ok(value),
        // The visitor stopped early: too many items for a tuple.
        _ => Err(de::Error::invalid_length(len, &ExpectedLen(seq.index))),
    }
}

struct ExpectedLen(usize);

impl Expected for ExpectedLen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a sequence of {}", self.0)
    }
}

struct SeqDeserializer {
    items: vec::IntoIter<Value>,
    index: usize,
}

impl<'de> SeqAccess<'de> for SeqDeserializer {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(ValueDeserializer::new(item))
            .map(Some)
            .map_err(|e| at(e, || format!("[{index}]")))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

fn visit_map<'de, V: Visitor<'de>>(entries: Vec<(Value, Value)>, visitor: V) -> Result<V::Value> {
    let mut map = MapDeserializer { entries: entries.into_iter(), pending: None };
    let value = visitor.visit_map(&mut map)?;
    match map.entries.len() {
        0 => Ok(value),
        left => Err(Error::new(ErrorKind::Type, format!("{left} dict entries were left unread"))),
    }
}

struct MapDeserializer {
    entries: vec::IntoIter<(Value, Value)>,
    /// The value of the key just read, and that key's subscript for errors.
    pending: Option<(Value, String)>,
}

impl<'de> MapAccess<'de> for MapDeserializer {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        let subscript = key_subscript(&key);
        self.pending = Some((value, subscript.clone()));
        seed.deserialize(ValueDeserializer::new(key))
            .map(Some)
            .map_err(|e| at(e, || format!("{subscript} (the key)")))
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value> {
        let (value, subscript) = self
            .pending
            .take()
            .ok_or_else(|| Error::new(ErrorKind::InvalidArgument, "next_value called before next_key"))?;
        seed.deserialize(ValueDeserializer::new(value)).map_err(|e| at(e, || subscript))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum as `"Variant"` (payload `None`) or `{"Variant": payload}`.
struct EnumDeserializer {
    variant: Value,
    payload: Option<Value>,
}

impl<'de> EnumAccess<'de> for EnumDeserializer {
    type Error = Error;
    type Variant = VariantDeserializer;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantDeserializer)> {
        let variant = seed.deserialize(ValueDeserializer::new(self.variant))?;
        Ok((variant, VariantDeserializer { payload: self.payload }))
    }
}

struct VariantDeserializer {
    payload: Option<Value>,
}

impl VariantDeserializer {
    fn payload(self, shape: &str) -> Result<ValueDeserializer> {
        match self.payload {
            Some(value) => Ok(ValueDeserializer::new(value)),
            None => Err(Error::new(
                ErrorKind::Type,
                format!("expected a dict {{variant: payload}} for a {shape} variant, got str"),
            )),
        }
    }
}

impl<'de> VariantAccess<'de> for VariantDeserializer {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        match self.payload {
            None | Some(Value::None) => Ok(()),
            Some(other) => Err(type_error(&other, &"None for a unit variant")),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self.payload("newtype")?)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(self.payload("tuple")?, len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_struct(self.payload("struct")?, "variant", fields, visitor)
    }
}
