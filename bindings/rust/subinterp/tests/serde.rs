//! The `serde` feature: `to_value` / `from_value` for Serialize and
//! Deserialize types, their mapping, errors, and a trip through Python.
#![cfg(feature = "serde")]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr};

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subinterp::{from_value, to_value, BigInt, Buffer, ErrorKind, Interpreter, InterpreterId, Queue, Value};

/// Serializes, checks the value, and deserializes back to the same thing.
#[track_caller]
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(x: T, expected: Value) {
    let value = to_value(&x).unwrap();
    assert_eq!(value, expected, "to_value({x:?})");
    let back: T = from_value(value).unwrap();
    assert_eq!(back, x);
}

#[track_caller]
fn error_kind<T: DeserializeOwned + Debug>(value: Value) -> (ErrorKind, String) {
    let err = from_value::<T>(value).unwrap_err();
    (err.kind(), err.message().to_owned())
}

fn s(text: &str) -> Value {
    Value::from(text)
}

// ---------------------------------------------------------------------------
// Primitives
// ---------------------------------------------------------------------------

#[test]
fn primitives_round_trip() {
    round_trip(true, Value::Bool(true));
    round_trip(i8::MIN, Value::Int(-128));
    round_trip(i16::MAX, Value::Int(32767));
    round_trip(i32::MIN, Value::Int(i32::MIN.into()));
    round_trip(i64::MIN, Value::Int(i64::MIN));
    round_trip(i64::MAX, Value::Int(i64::MAX));
    round_trip(u8::MAX, Value::Int(255));
    round_trip(u16::MAX, Value::Int(65535));
    round_trip(u32::MAX, Value::Int(u32::MAX.into()));
    round_trip(u64::MAX, Value::BigInt(BigInt::from(u64::MAX)));
    round_trip(1u64 << 40, Value::Int(1 << 40));
    round_trip(1.5f32, Value::Float(1.5));
    round_trip(-0.25f64, Value::Float(-0.25));
    round_trip(f64::INFINITY, Value::Float(f64::INFINITY));
    round_trip('é', s("é"));
    round_trip(String::from("héllo ✓"), s("héllo ✓"));
    round_trip((), Value::None);
    round_trip(None::<i32>, Value::None);
    round_trip(Some(5u8), Value::Int(5));
    round_trip(0.1f32, Value::Float(f64::from(0.1f32)));
}

#[test]
fn big_ints_round_trip() {
    round_trip(i128::MIN, Value::from(i128::MIN));
    round_trip(i128::MAX, Value::from(i128::MAX));
    round_trip(u128::MAX, Value::from(u128::MAX));
    assert!(matches!(to_value(&u128::MAX).unwrap(), Value::BigInt(_)));
    // Small wide ints are plain Ints, as the library reads them back.
    round_trip(-5i128, Value::Int(-5));
    round_trip(7u128, Value::Int(7));
    // A BigInt that fits is accepted by any integer type that holds it.
    assert_eq!(from_value::<u8>(Value::BigInt(BigInt::from(200u8))).unwrap(), 200);
    assert_eq!(from_value::<i64>(Value::from(i128::from(i64::MIN))).unwrap(), i64::MIN);
    assert_eq!(from_value::<u128>(Value::Int(42)).unwrap(), 42);
}

#[test]
fn ints_are_accepted_for_floats_but_not_the_reverse() {
    assert_eq!(from_value::<f64>(Value::Int(3)).unwrap(), 3.0);
    assert_eq!(from_value::<f32>(Value::Int(-2)).unwrap(), -2.0);
    assert_eq!(from_value::<f64>(Value::from(u128::MAX)).unwrap(), u128::MAX as f64);
    let huge: BigInt = format!("1{}", "0".repeat(400)).parse().unwrap();
    assert_eq!(error_kind::<f64>(Value::BigInt(huge)).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<i64>(Value::Float(1.0)).0, ErrorKind::Type);
    assert_eq!(error_kind::<f64>(s("1.0")).0, ErrorKind::Type);
}

#[test]
fn chars_take_one_character() {
    assert_eq!(from_value::<char>(s("𝄞")).unwrap(), '𝄞');
    let (kind, message) = error_kind::<char>(s("ab"));
    assert_eq!(kind, ErrorKind::InvalidArgument, "{message}");
    assert_eq!(error_kind::<char>(s("")).0, ErrorKind::InvalidArgument);
    assert_eq!(error_kind::<char>(Value::Int(65)).0, ErrorKind::Type);
}

#[test]
fn unit_and_newtype_structs() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Unit;
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Meters(f64);
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Pair(i32, String);

    round_trip(Unit, Value::None);
    round_trip(Meters(2.5), Value::Float(2.5));
    round_trip(Pair(1, "a".into()), Value::Tuple(vec![Value::Int(1), s("a")]));
    round_trip(Some(Meters(1.0)), Value::Float(1.0));
}

// ---------------------------------------------------------------------------
// Containers and structs
// ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Scene {
    name: String,
    points: Vec<Point>,
    weights: HashMap<String, f64>,
    layers: BTreeMap<u32, Vec<String>>,
    origin: Option<Point>,
    note: Option<String>,
    pair: (u8, bool),
    id: u128,
}

fn scene() -> Scene {
    Scene {
        name: "demo".into(),
        points: vec![Point { x: 1, y: -2 }, Point { x: 3, y: 4 }],
        weights: HashMap::from([("a".to_owned(), 0.5), ("b".to_owned(), 2.0)]),
        layers: BTreeMap::from([(2, vec!["top".to_owned()]), (1, vec![])]),
        origin: Some(Point { x: 0, y: 0 }),
        note: None,
        pair: (7, true),
        id: u128::MAX,
    }
}

#[test]
fn nested_structs_round_trip() {
    let scene = scene();
    let value = to_value(&scene).unwrap();

    // A struct is a dict with str keys in field order.
    let keys: Vec<&str> = value.as_dict().unwrap().iter().map(|(k, _)| k.as_str().unwrap()).collect();
    assert_eq!(keys, ["name", "points", "weights", "layers", "origin", "note", "pair", "id"]);
    assert_eq!(
        value.get("points"),
        Some(&Value::List(vec![Value::dict([("x", 1), ("y", -2)]), Value::dict([("x", 3), ("y", 4)])]))
    );
    assert_eq!(
        value.get("layers"),
        Some(&Value::Dict(vec![
            (Value::Int(1), Value::List(vec![])),
            (Value::Int(2), Value::List(vec![s("top")])),
        ]))
    );
    assert_eq!(value.get("note"), Some(&Value::None));
    assert_eq!(value.get("pair"), Some(&Value::Tuple(vec![Value::Int(7), Value::Bool(true)])));
    assert_eq!(value.get("id"), Some(&Value::from(u128::MAX)));

    assert_eq!(from_value::<Scene>(value).unwrap(), scene);
}

#[test]
fn sequences_are_lists_and_accept_tuples() {
    round_trip(vec![1, 2, 3], Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]));
    round_trip([1u8, 2], Value::Tuple(vec![Value::Int(1), Value::Int(2)]));
    round_trip((1, "a".to_owned(), 2.0), Value::Tuple(vec![Value::Int(1), s("a"), Value::Float(2.0)]));
    round_trip(Vec::<String>::new(), Value::List(vec![]));
    let set: HashSet<i32> = from_value(Value::Tuple(vec![Value::Int(4), Value::Int(4), Value::Int(5)])).unwrap();
    assert_eq!(set, HashSet::from([4, 5]));
    let tuple: (i32, String) = from_value(Value::List(vec![Value::Int(1), s("x")])).unwrap();
    assert_eq!(tuple, (1, "x".to_owned()));
    // Vec<u8> is a sequence: a list out, and bytes accepted in.
    assert_eq!(to_value(&vec![1u8, 2]).unwrap(), Value::List(vec![Value::Int(1), Value::Int(2)]));
    assert_eq!(from_value::<Vec<u8>>(Value::Bytes(vec![9, 8])).unwrap(), [9, 8]);
    assert_eq!(from_value::<[u8; 3]>(Value::Bytes(vec![1, 2, 3])).unwrap(), [1, 2, 3]);
}

#[test]
fn structs_accept_a_tuple_of_their_fields() {
    assert_eq!(from_value::<Point>(Value::from((5, 6))).unwrap(), Point { x: 5, y: 6 });
    assert_eq!(from_value::<Point>(Value::list([7, 8])).unwrap(), Point { x: 7, y: 8 });
    assert_eq!(error_kind::<Point>(Value::from((1,))).0, ErrorKind::Type);
    assert_eq!(error_kind::<Point>(Value::from((1, 2, 3))).0, ErrorKind::Type);
}

#[test]
fn dict_keys_of_any_kind() {
    let map = HashMap::from([(vec![1, 2], "a".to_owned()), (vec![], "b".to_owned())]);
    let value = to_value(&map).unwrap();
    // List keys become tuples: Python can hash those.
    for (key, _) in value.as_dict().unwrap() {
        assert!(matches!(key, Value::Tuple(_)), "{key:?}");
    }
    assert_eq!(from_value::<HashMap<Vec<i32>, String>>(value).unwrap(), map);

    round_trip(BTreeMap::from([(-1i64, true)]), Value::Dict(vec![(Value::Int(-1), Value::Bool(true))]));
    round_trip(
        BTreeMap::from([((1, 'a'), 0u8)]),
        Value::Dict(vec![(Value::Tuple(vec![Value::Int(1), s("a")]), Value::Int(0))]),
    );
    round_trip(HashMap::from([(true, ())]), Value::Dict(vec![(Value::Bool(true), Value::None)]));
}

#[test]
fn extra_dict_keys_are_ignored_unless_denied() {
    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        x: i32,
    }
    let value = Value::dict([("x", 1), ("y", 2)]);
    assert_eq!(from_value::<Point>(Value::dict([("y", 2), ("x", 1), ("z", 3)])).unwrap(), Point { x: 1, y: 2 });
    let (kind, message) = error_kind::<Strict>(value);
    assert_eq!(kind, ErrorKind::InvalidArgument);
    assert!(message.contains("unknown field `y`"), "{message}");
}

// ---------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Shape {
    Dot,
    Circle(f64),
    Segment(Point, Point),
    Rect { w: u32, h: u32 },
}

#[test]
fn every_enum_variant_shape() {
    round_trip(Shape::Dot, s("Dot"));
    round_trip(Shape::Circle(1.5), Value::dict([("Circle", 1.5)]));
    round_trip(
        Shape::Segment(Point { x: 0, y: 0 }, Point { x: 1, y: 1 }),
        Value::dict([(
            "Segment",
            Value::Tuple(vec![Value::dict([("x", 0), ("y", 0)]), Value::dict([("x", 1), ("y", 1)])]),
        )]),
    );
    round_trip(
        Shape::Rect { w: 2, h: 3 },
        Value::dict([("Rect", Value::dict([("w", 2), ("h", 3)]))]),
    );
    // Python-side spellings that also work.
    assert_eq!(from_value::<Shape>(Value::dict([("Dot", Value::None)])).unwrap(), Shape::Dot);
    assert_eq!(
        from_value::<Shape>(Value::dict([("Segment", Value::list([Value::from((1, 2)), Value::from((3, 4))]))])).unwrap(),
        Shape::Segment(Point { x: 1, y: 2 }, Point { x: 3, y: 4 })
    );
    assert_eq!(from_value::<Shape>(Value::dict([("Circle", 2)])).unwrap(), Shape::Circle(2.0));
}

#[test]
fn enum_errors() {
    let (kind, message) = error_kind::<Shape>(s("Hexagon"));
    assert_eq!(kind, ErrorKind::InvalidArgument);
    assert!(message.contains("unknown variant `Hexagon`"), "{message}");
    assert_eq!(error_kind::<Shape>(s("Circle")).0, ErrorKind::Type); // payload missing
    assert_eq!(error_kind::<Shape>(Value::dict([("Dot", 1)])).0, ErrorKind::Type);
    assert_eq!(error_kind::<Shape>(Value::dict([("Dot", 1), ("Circle", 2)])).0, ErrorKind::Type);
    assert_eq!(error_kind::<Shape>(Value::Int(0)).0, ErrorKind::Type);
}

#[test]
fn serde_enum_representations() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(tag = "type", rename_all = "snake_case")]
    enum Event {
        KeyPress { key: char },
        Click { x: u16, y: u16 },
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(untagged)]
    enum Number {
        Small(u8),
        Negative(i64),
        Text(String),
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(tag = "t", content = "c")]
    enum Adjacent {
        A(Vec<i32>),
    }

    round_trip(Event::Click { x: 3, y: 4 }, Value::dict([("type", s("click")), ("x", Value::Int(3)), ("y", Value::Int(4))]));
    round_trip(Event::KeyPress { key: 'q' }, Value::dict([("type", "key_press"), ("key", "q")]));
    round_trip(Number::Small(200), Value::Int(200));
    round_trip(Number::Negative(-1), Value::Int(-1));
    // serde buffers untagged content without 128-bit ints: its limit, not ours.
    assert_eq!(error_kind::<Number>(Value::from(u128::MAX)).0, ErrorKind::Type);
    round_trip(Number::Text("x".into()), s("x"));
    assert_eq!(from_value::<Number>(Value::Int(300)).unwrap(), Number::Negative(300));
    round_trip(Adjacent::A(vec![1]), Value::dict([("t", s("A")), ("c", Value::list([1]))]));
}

// ---------------------------------------------------------------------------
// Bytes
// ---------------------------------------------------------------------------

/// Bytes through `serialize_bytes` / `deserialize_byte_buf`, as `serde_bytes`
/// does it.
#[derive(Debug, PartialEq)]
struct Blob(Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.0)
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Blob, D::Error> {
        struct BlobVisitor;
        impl<'de> Visitor<'de> for BlobVisitor {
            type Value = Blob;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Blob, E> {
                Ok(Blob(v.to_vec()))
            }
            fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Blob, E> {
                Ok(Blob(v))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Blob, A::Error> {
                let mut bytes = Vec::new();
                while let Some(b) = seq.next_element()? {
                    bytes.push(b);
                }
                Ok(Blob(bytes))
            }
        }
        deserializer.deserialize_byte_buf(BlobVisitor)
    }
}

#[test]
fn bytes_buffers_and_lists_of_ints() {
    round_trip(Blob(vec![0, 255, 10]), Value::Bytes(vec![0, 255, 10]));
    round_trip(Blob(vec![]), Value::Bytes(vec![]));
    let readonly = Buffer::from_vec_readonly(vec![1, 2, 3]);
    assert_eq!(from_value::<Blob>(Value::Buffer(readonly.clone())).unwrap(), Blob(vec![1, 2, 3]));
    assert_eq!(from_value::<Vec<u8>>(Value::Buffer(readonly)).unwrap(), [1, 2, 3]);
    assert_eq!(from_value::<Blob>(Value::list([4, 5])).unwrap(), Blob(vec![4, 5]));
    assert_eq!(error_kind::<Blob>(Value::list([256])).0, ErrorKind::Overflow);

    let writable = Buffer::from_vec(vec![1, 2, 3]);
    let (kind, message) = error_kind::<Blob>(Value::Buffer(writable.clone()));
    assert_eq!(kind, ErrorKind::Type);
    assert!(message.contains("writable buffer"), "{message}");
    assert_eq!(error_kind::<Vec<u8>>(Value::Buffer(writable)).0, ErrorKind::Type);
    assert_eq!(error_kind::<Blob>(s("abc")).0, ErrorKind::Type);
}

// ---------------------------------------------------------------------------
// Errors and kinds without a serde form
// ---------------------------------------------------------------------------

#[test]
fn wrong_kinds_are_type_errors() {
    assert_eq!(error_kind::<i32>(s("1")).0, ErrorKind::Type);
    assert_eq!(error_kind::<bool>(Value::Int(1)).0, ErrorKind::Type);
    assert_eq!(error_kind::<String>(Value::Bytes(b"x".to_vec())).0, ErrorKind::Type);
    assert_eq!(error_kind::<Vec<i32>>(Value::dict([(1, 2)])).0, ErrorKind::Type);
    assert_eq!(error_kind::<HashMap<String, i32>>(Value::list([1])).0, ErrorKind::Type);
    assert_eq!(error_kind::<()>(Value::Int(0)).0, ErrorKind::Type);
    assert_eq!(error_kind::<(i32, i32)>(Value::from((1, 2, 3))).0, ErrorKind::Type);
    assert_eq!(error_kind::<(i32, i32, i32)>(Value::from((1, 2))).0, ErrorKind::Type);
    let (kind, message) = error_kind::<Point>(s("nope"));
    assert_eq!(kind, ErrorKind::Type);
    assert_eq!(message, "expected a dict for struct Point, got str");
}

#[test]
fn ints_out_of_range_are_overflow_errors() {
    assert_eq!(error_kind::<u8>(Value::Int(256)).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<i8>(Value::Int(-129)).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<u32>(Value::Int(-1)).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<u64>(Value::Int(-1)).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<i64>(Value::from(u64::MAX)).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<u128>(Value::from(i128::MIN)).0, ErrorKind::Overflow);
    let too_big: BigInt = "340282366920938463463374607431768211456".parse().unwrap(); // 2**128
    assert_eq!(error_kind::<u128>(Value::BigInt(too_big.clone())).0, ErrorKind::Overflow);
    assert_eq!(error_kind::<i128>(Value::BigInt(too_big.clone())).0, ErrorKind::Overflow);
    // Self-describing deserialization of an int beyond 128 bits.
    assert_eq!(error_kind::<Number>(Value::BigInt(too_big)).0, ErrorKind::Overflow);
    let (kind, message) = error_kind::<u8>(Value::Int(1000));
    assert_eq!((kind, message.as_str()), (ErrorKind::Overflow, "int 1000 does not fit u8"));

    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Number {
        N(i64),
    }
}

#[test]
fn missing_fields_name_the_field() {
    let (kind, message) = error_kind::<Point>(Value::dict([("x", 1)]));
    assert_eq!(kind, ErrorKind::InvalidArgument);
    assert_eq!(message, "missing field `y`");
    // Missing Option fields are None.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Maybe {
        a: Option<i32>,
    }
    assert_eq!(from_value::<Maybe>(Value::Dict(vec![])).unwrap(), Maybe { a: None });
}

#[test]
fn errors_carry_the_path_to_the_item() {
    let mut value = to_value(&scene()).unwrap();
    let Value::Dict(entries) = &mut value else { panic!() };
    let points = &mut entries.iter_mut().find(|(k, _)| k.as_str() == Some("points")).unwrap().1;
    let Value::List(items) = points else { panic!() };
    items[1] = Value::dict([("x", s("3")), ("y", Value::Int(4))]);
    let (kind, message) = error_kind::<Scene>(value);
    assert_eq!(kind, ErrorKind::Type);
    assert_eq!(message, "at `[\"points\"][1][\"x\"]`: expected an int, got str");

    let (kind, message) = error_kind::<Vec<Point>>(Value::list([Value::dict([("x", 1)])]));
    assert_eq!((kind, message.as_str()), (ErrorKind::InvalidArgument, "at `[0]`: missing field `y`"));
    let (kind, message) = error_kind::<HashMap<i32, u8>>(Value::dict([(5, 300)]));
    assert_eq!((kind, message.as_str()), (ErrorKind::Overflow, "at `[5]`: int 300 does not fit u8"));
}

#[test]
fn kinds_without_a_serde_form_are_type_errors() {
    let queue = Queue::new().unwrap();
    let (kind, message) = error_kind::<Point>(Value::Queue(queue.clone()));
    assert_eq!(kind, ErrorKind::Type);
    assert!(message.contains("queue"), "{message}");
    let (kind, message) = error_kind::<String>(Value::Pickled(vec![0x80, 5, b'N', b'.']));
    assert_eq!(kind, ErrorKind::Type);
    assert!(message.contains("pickled"), "{message}");
    assert_eq!(error_kind::<Number>(Value::Queue(queue.clone())).0, ErrorKind::Type);
    // Ignored fields may hold anything.
    let value = Value::dict([("x", Value::Int(1)), ("y", Value::Int(2)), ("q", Value::Queue(queue))]);
    assert_eq!(from_value::<Point>(value).unwrap(), Point { x: 1, y: 2 });

    #[derive(Deserialize, Debug)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum Number {
        N(i64),
    }
}

#[test]
fn interpreter_ids_read_as_ints() {
    assert_eq!(from_value::<i64>(Value::Interpreter(InterpreterId(7))).unwrap(), 7);
    assert_eq!(from_value::<u32>(Value::Interpreter(InterpreterId(7))).unwrap(), 7);
    assert_eq!(error_kind::<String>(Value::Interpreter(InterpreterId(7))).0, ErrorKind::Type);
}

#[test]
fn custom_errors_are_invalid_argument() {
    struct Refuses;
    impl Serialize for Refuses {
        fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("not today"))
        }
    }
    let err = to_value(&vec![Refuses]).unwrap_err();
    assert_eq!((err.kind(), err.message()), (ErrorKind::InvalidArgument, "not today"));

    #[derive(Deserialize, Debug)]
    #[serde(try_from = "i32")]
    struct Even(#[allow(dead_code)] i32);
    impl TryFrom<i32> for Even {
        type Error = String;
        fn try_from(n: i32) -> Result<Even, String> {
            if n % 2 == 0 {
                Ok(Even(n))
            } else {
                Err(format!("{n} is odd"))
            }
        }
    }
    let (kind, message) = error_kind::<Even>(Value::Int(3));
    assert_eq!((kind, message.as_str()), (ErrorKind::InvalidArgument, "3 is odd"));
}

#[test]
fn human_readable_forms() {
    let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
    round_trip(ip, s("127.0.0.1"));
}

// ---------------------------------------------------------------------------
// Through Python
// ---------------------------------------------------------------------------

#[test]
fn structs_cross_into_python_as_dicts() {
    let interp = Interpreter::new().unwrap();
    interp
        .exec(
            r#"
def describe(scene):
    assert type(scene) is dict, type(scene)
    assert type(scene["points"]) is list and type(scene["points"][0]) is dict
    assert type(scene["pair"]) is tuple and scene["note"] is None
    assert scene["id"] == 2**128 - 1
    return {
        "count": len(scene["points"]),
        "xs": [p["x"] for p in scene["points"]],
        "total_weight": sum(scene["weights"].values()),
        "layer_names": {k: ",".join(v) for k, v in scene["layers"].items()},
        "id": scene["id"],
    }

def shapes():
    return ["Dot", {"Circle": 2}, {"Segment": ([0, 1], {"x": 2, "y": 3})}, {"Rect": {"h": 5, "w": 4}}]

def keys(d):
    return sorted(d)
"#,
        )
        .unwrap();

    #[derive(Deserialize, Debug, PartialEq)]
    struct Summary {
        count: usize,
        xs: Vec<i32>,
        total_weight: f64,
        layer_names: BTreeMap<u32, String>,
        id: u128,
    }

    let result = interp.call("describe", (to_value(&scene()).unwrap(),)).unwrap();
    let summary: Summary = from_value(result).unwrap();
    assert_eq!(
        summary,
        Summary {
            count: 2,
            xs: vec![1, 3],
            total_weight: 2.5,
            layer_names: BTreeMap::from([(1, String::new()), (2, "top".to_owned())]),
            id: u128::MAX,
        }
    );

    let shapes: Vec<Shape> = from_value(interp.call("shapes", ()).unwrap()).unwrap();
    assert_eq!(
        shapes,
        [
            Shape::Dot,
            Shape::Circle(2.0),
            Shape::Segment(Point { x: 0, y: 1 }, Point { x: 2, y: 3 }),
            Shape::Rect { w: 4, h: 5 },
        ]
    );

    // Python ints beyond u128 are overflow errors.
    let (kind, _) = error_kind::<u128>(interp.call("eval", ("2**128",)).unwrap());
    assert_eq!(kind, ErrorKind::Overflow);

    // Vec keys arrive as tuples, which Python can hash and sort.
    let map = HashMap::from([(vec![2, 1], 0), (vec![1, 2], 0)]);
    let sorted: Vec<Vec<i32>> = from_value(interp.call("keys", (to_value(&map).unwrap(),)).unwrap()).unwrap();
    assert_eq!(sorted, [vec![1, 2], vec![2, 1]]);
}

#[test]
fn python_values_round_trip_through_rust_types() {
    let interp = Interpreter::new().unwrap();
    interp.exec("def echo(x): return x").unwrap();
    let scene = scene();
    let back: Scene = from_value(interp.call("echo", (to_value(&scene).unwrap(),)).unwrap()).unwrap();
    assert_eq!(back, scene);
    for shape in [Shape::Dot, Shape::Circle(0.5), Shape::Rect { w: 1, h: 2 }] {
        let back: Shape = from_value(interp.call("echo", (to_value(&shape).unwrap(),)).unwrap()).unwrap();
        assert_eq!(back, shape);
    }
    let blob: Blob = from_value(interp.call("bytes", (Value::list([104, 105]),)).unwrap()).unwrap();
    assert_eq!(blob, Blob(b"hi".to_vec()));
}
