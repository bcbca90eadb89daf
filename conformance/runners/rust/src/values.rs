//! Tagged JSON values (docs/conformance.md, "Values") <-> `subinterp::Value`:
//! building a value from its tagged form, comparing a value with a tagged
//! expectation by the suite's equality rules, and rendering a value back as
//! tagged JSON for failure details.

use serde_json::{json, Map, Value as Json};
use subinterp::{BigInt, Buffer, InterpreterId, Queue, Value};

use crate::case::{Case, Problem};

/// Every tag a tagged value may have.
const KINDS: &[&str] = &[
    "none", "bool", "int", "float", "str", "str_utf8", "bytes", "tuple", "list", "dict", "buffer", "pickled", "queue",
    "interpreter",
];

/// The largest magnitude a plain JSON integer stands for exactly (2^53 - 1).
const JSON_SAFE_INT: i64 = (1 << 53) - 1;

/// A tagged object's kind and payload: `{"kind": payload}`, plus `readonly`
/// beside a buffer.
fn tag(map: &Map<String, Json>) -> Result<(&str, &Json), Problem> {
    let mut kinds = map.iter().filter(|(key, _)| key.as_str() != "readonly" || !map.contains_key("buffer"));
    match (kinds.next(), kinds.next()) {
        (Some((kind, payload)), None) if KINDS.contains(&kind.as_str()) => Ok((kind.as_str(), payload)),
        _ => Err(Problem::unsupported(format!("not a tagged value: {}", Json::Object(map.clone())))),
    }
}

/// The kind a tagged value (or expectation) names, `str_utf8` counting as str.
fn tagged_kind(tagged: &Json) -> Result<&str, Problem> {
    Ok(match tagged {
        Json::Null => "none",
        Json::Bool(_) => "bool",
        Json::Number(_) => "int",
        Json::String(_) => "str",
        Json::Object(map) => match tag(map)?.0 {
            "str_utf8" => "str",
            kind => kind,
        },
        Json::Array(_) => return Err(Problem::unsupported("a bare JSON array is not a tagged value")),
    })
}

/// An int payload: a JSON integer or a decimal string of any size.
fn int_of(payload: &Json) -> Result<BigInt, Problem> {
    let text = match payload {
        // serde_json keeps a number's digits (arbitrary_precision), so big
        // literals lose nothing.
        Json::Number(n) => n.to_string(),
        Json::String(s) => s.clone(),
        other => return Err(Problem::unsupported(format!("not an int: {other}"))),
    };
    if text.contains(['.', 'e', 'E']) {
        return Err(Problem::unsupported(format!("{text} is not an integer (floats are always tagged)")));
    }
    text.parse::<BigInt>().map_err(|e| Problem::unsupported(format!("bad int {text:?}: {e}")))
}

/// A float payload: a JSON number, or "nan", "inf", "-inf", "-0.0".
pub fn float_of(payload: &Json) -> Result<f64, Problem> {
    match payload {
        Json::Number(n) => n.as_f64().ok_or_else(|| Problem::unsupported(format!("bad float {n}"))),
        Json::String(s) if matches!(s.as_str(), "nan" | "inf" | "-inf" | "-0.0") => {
            Ok(s.parse().expect("Rust parses these four"))
        }
        other => Err(Problem::unsupported(format!("bad float {other}"))),
    }
}

pub fn hex_decode(payload: &Json) -> Result<Vec<u8>, Problem> {
    let text = payload.as_str().ok_or_else(|| Problem::unsupported(format!("not a hex string: {payload}")))?;
    let bad = || Problem::unsupported(format!("bad hex {text:?}"));
    if text.len() % 2 != 0 || !text.is_ascii() {
        return Err(bad());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|_| bad()))
        .collect()
}

pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Text given as a JSON string or `{"str_utf8": hex}`. A Rust `String` is
/// always UTF-8, so only valid UTF-8 can be expressed (raw-utf8 is not a
/// capability of this runner).
pub fn text_of(tagged: &Json) -> Result<String, Problem> {
    match tagged {
        Json::String(s) => Ok(s.clone()),
        Json::Object(map) => match tag(map)? {
            ("str", Json::String(s)) => Ok(s.clone()),
            ("str_utf8", payload) => String::from_utf8(hex_decode(payload)?)
                .map_err(|_| Problem::unsupported("invalid UTF-8 cannot be a Rust String (needs raw-utf8)")),
            _ => Err(Problem::unsupported(format!("not text: {tagged}"))),
        },
        other => Err(Problem::unsupported(format!("not text: {other}"))),
    }
}

/// The bytes of a buffer, copied.
pub fn buffer_bytes(buffer: &Buffer) -> Vec<u8> {
    match buffer.as_slice() {
        Some(bytes) => bytes.to_vec(),
        // SAFETY: the runner runs one step at a time on one thread and reads a
        // writable buffer only after the call that shared it returned; no
        // case leaves Python code running that writes a buffer.
        None => unsafe { buffer.as_slice_unchecked() }.to_vec(),
    }
}

/// The `subinterp::Value` a tagged value stands for. Library errors (a queue
/// handle of a queue that does not exist) are the step's outcome.
pub fn build(case: &Case, tagged: &Json) -> Result<Value, Problem> {
    let (kind, payload) = match tagged {
        Json::Null => return Ok(Value::None),
        Json::Bool(b) => return Ok(Value::Bool(*b)),
        Json::Number(_) => return Ok(Value::from(int_of(tagged)?)),
        Json::String(s) => return Ok(Value::Str(s.clone())),
        Json::Array(_) => return Err(Problem::unsupported("a bare JSON array is not a tagged value")),
        Json::Object(map) => tag(map)?,
    };
    let items = |payload: &Json| -> Result<Vec<Value>, Problem> {
        let items = payload.as_array().ok_or_else(|| Problem::unsupported(format!("{kind} needs an array")))?;
        items.iter().map(|item| build(case, item)).collect()
    };
    Ok(match kind {
        "none" => Value::None,
        "bool" => Value::Bool(payload.as_bool().ok_or_else(|| Problem::unsupported("bool needs true or false"))?),
        // Value::from(BigInt) is Int when it fits i64, as the library reads ints back.
        "int" => Value::from(int_of(payload)?),
        "float" => Value::Float(float_of(payload)?),
        "str" | "str_utf8" => Value::Str(text_of(tagged)?),
        "bytes" => Value::Bytes(hex_decode(payload)?),
        "tuple" => Value::Tuple(items(payload)?),
        "list" => Value::List(items(payload)?),
        "dict" => {
            let entries = payload.as_array().ok_or_else(|| Problem::unsupported("dict needs an array of pairs"))?;
            let mut pairs = Vec::with_capacity(entries.len());
            for entry in entries {
                match entry.as_array().map(Vec::as_slice) {
                    Some([key, value]) => pairs.push((build(case, key)?, build(case, value)?)),
                    _ => return Err(Problem::unsupported(format!("not a dict entry [key, value]: {entry}"))),
                }
            }
            Value::Dict(pairs)
        }
        "buffer" => {
            let bytes = hex_decode(payload)?;
            let readonly = match tagged.get("readonly") {
                None => false,
                Some(Json::Bool(b)) => *b,
                Some(other) => return Err(Problem::unsupported(format!("readonly must be a bool, got {other}"))),
            };
            // Shares the vector's memory without copying.
            Value::Buffer(if readonly { Buffer::from_vec_readonly(bytes) } else { Buffer::from_vec(bytes) })
        }
        "pickled" => Value::Pickled(hex_decode(payload)?),
        "queue" => Value::Queue(Queue::from_id(case.resolve(payload)?)?),
        "interpreter" => Value::Interpreter(InterpreterId(case.resolve(payload)?)),
        _ => unreachable!("tag() accepts only KINDS"),
    })
}

/// The int a value holds, as a BigInt (Int and BigInt are one kind).
fn int_value(value: &Value) -> Option<BigInt> {
    match value {
        Value::Int(n) => Some(BigInt::from(*n)),
        Value::BigInt(n) => Some(n.clone()),
        _ => None,
    }
}

/// Fails the step unless `actual` equals the tagged `expected`.
pub fn check(case: &Case, expected: &Json, actual: &Value, what: &str) -> Result<(), Problem> {
    if equal(case, expected, actual)? {
        Ok(())
    } else {
        Err(Problem::failed(format!("{what}: expected {expected}, got {}", render(actual))))
    }
}

/// The suite's equality: same kind and equal contents; NaN equals NaN, -0.0
/// differs from 0.0; 1, 1.0 and True differ; dicts entry by entry in order;
/// buffers by contents (and readonly if given); queues and interpreters by id.
pub fn equal(case: &Case, expected: &Json, actual: &Value) -> Result<bool, Problem> {
    if let Some(kind) = expected.get("any") {
        let kind = kind.as_str().ok_or_else(|| Problem::unsupported("\"any\" needs a kind name"))?;
        return Ok(actual.kind_name() == kind);
    }
    let kind = tagged_kind(expected)?;
    if kind != actual.kind_name() {
        return Ok(false);
    }
    let payload = match expected {
        Json::Object(map) => tag(map)?.1,
        untagged => untagged,
    };
    let sequence = |items: &[Value]| -> Result<bool, Problem> {
        let want = payload.as_array().ok_or_else(|| Problem::unsupported(format!("{kind} needs an array")))?;
        if want.len() != items.len() {
            return Ok(false);
        }
        for (want, got) in want.iter().zip(items) {
            if !equal(case, want, got)? {
                return Ok(false);
            }
        }
        Ok(true)
    };
    Ok(match actual {
        Value::None => true,
        Value::Bool(b) => payload.as_bool() == Some(*b),
        Value::Int(_) | Value::BigInt(_) => int_value(actual) == Some(int_of(payload)?),
        Value::Float(x) => {
            let want = float_of(payload)?;
            if want.is_nan() {
                x.is_nan()
            } else {
                want == *x && want.is_sign_negative() == x.is_sign_negative()
            }
        }
        Value::Str(s) => text_of(expected)? == *s,
        Value::Bytes(b) => hex_decode(payload)? == *b,
        Value::Tuple(items) | Value::List(items) => sequence(items)?,
        Value::Dict(entries) => {
            let want = payload.as_array().ok_or_else(|| Problem::unsupported("dict needs an array of pairs"))?;
            if want.len() != entries.len() {
                return Ok(false);
            }
            for (entry, (key, value)) in want.iter().zip(entries) {
                let Some([want_key, want_value]) = entry.as_array().map(Vec::as_slice) else {
                    return Err(Problem::unsupported(format!("not a dict entry [key, value]: {entry}")));
                };
                if !equal(case, want_key, key)? || !equal(case, want_value, value)? {
                    return Ok(false);
                }
            }
            true
        }
        Value::Buffer(buffer) => {
            let readonly_ok = match expected.get("readonly") {
                None => true,
                Some(Json::Bool(b)) => *b == buffer.is_readonly(),
                Some(other) => return Err(Problem::unsupported(format!("readonly must be a bool, got {other}"))),
            };
            readonly_ok && hex_decode(payload)? == buffer_bytes(buffer)
        }
        Value::Queue(queue) => queue.id() == case.resolve(payload)?,
        Value::Interpreter(id) => id.0 == case.resolve(payload)?,
        Value::Pickled(bytes) => hex_decode(payload)? == *bytes,
    })
}

/// A value as tagged JSON, for failure details.
pub fn render(value: &Value) -> String {
    to_json(value).to_string()
}

fn to_json(value: &Value) -> Json {
    let items = |items: &[Value]| Json::Array(items.iter().map(to_json).collect());
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(n) if (-JSON_SAFE_INT..=JSON_SAFE_INT).contains(n) => json!(n),
        Value::Int(n) => json!({"int": n.to_string()}),
        Value::BigInt(n) => json!({"int": n.to_string()}),
        Value::Float(x) if x.is_finite() && (*x != 0.0 || x.is_sign_positive()) => {
            json!({"float": serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number)})
        }
        Value::Float(x) => {
            let name = if x.is_nan() {
                "nan"
            } else if *x == 0.0 {
                "-0.0"
            } else if *x > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            json!({ "float": name })
        }
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!({"bytes": hex_encode(b)}),
        Value::Tuple(v) => json!({"tuple": items(v)}),
        Value::List(v) => json!({"list": items(v)}),
        Value::Dict(entries) => {
            json!({"dict": entries.iter().map(|(k, v)| json!([to_json(k), to_json(v)])).collect::<Vec<_>>()})
        }
        Value::Buffer(buffer) => json!({"buffer": hex_encode(&buffer_bytes(buffer)), "readonly": buffer.is_readonly()}),
        Value::Queue(queue) => json!({"queue": queue.id()}),
        Value::Interpreter(id) => json!({"interpreter": id.0}),
        Value::Pickled(bytes) => json!({"pickled": hex_encode(bytes)}),
    }
}
