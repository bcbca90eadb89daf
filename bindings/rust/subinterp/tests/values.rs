//! Values: every kind round-trips through Python exactly; Rust conversions;
//! zero-copy buffers.

use std::collections::{BTreeMap, HashMap};

use subinterp::{BigInt, Buffer, ErrorKind, Interpreter, InterpreterId, Queue, Value};

/// An interpreter with `echo` (returns its argument) and `kind` (its type's name).
fn interp() -> Interpreter {
    let interp = Interpreter::new().unwrap();
    interp.exec("def echo(x): return x\ndef kind(x): return type(x).__name__").unwrap();
    interp
}

fn python_type(interp: &Interpreter, value: impl Into<Value>) -> String {
    interp.call("kind", (value.into(),)).unwrap().extract().unwrap()
}

#[test]
fn every_kind_round_trips_exactly() {
    let interp = interp();
    let queue = Queue::new().unwrap();
    let values = vec![
        (Value::None, "NoneType"),
        (Value::Bool(true), "bool"),
        (Value::Int(i64::MIN), "int"),
        (Value::Int(i64::MAX), "int"),
        (Value::from(u128::MAX), "int"),
        (Value::from(i128::MIN), "int"),
        (Value::Float(-0.0), "float"),
        (Value::Float(f64::INFINITY), "float"),
        (Value::Float(1e-310), "float"),
        (Value::from("héllo \0 wörld ✓ 𝄞"), "str"),
        (Value::from(""), "str"),
        (Value::Bytes(vec![0, 255, 10]), "bytes"),
        (Value::Tuple(vec![]), "tuple"),
        (Value::from((1, "a", (2.5, Value::None))), "tuple"),
        (Value::List(vec![Value::Int(1), Value::List(vec![])]), "list"),
        (Value::Dict(vec![(Value::Int(1), Value::from("int key")), (Value::from((1, 2)), Value::from("tuple key"))]), "dict"),
        (Value::Interpreter(InterpreterId(12345)), "InterpreterID"),
        (Value::Queue(queue.clone()), "Queue"),
    ];
    for (value, type_name) in values {
        assert_eq!(interp.call("echo", (value.clone(),)).unwrap(), value, "{value:?}");
        assert_eq!(python_type(&interp, value.clone()), type_name, "{value:?}");
    }
}

#[test]
fn nan_stays_nan_with_its_bits() {
    let interp = interp();
    let back = interp.call("echo", (f64::NAN,)).unwrap().extract::<f64>().unwrap();
    assert!(back.is_nan());
    assert_eq!(back.to_bits(), f64::NAN.to_bits());
    let negative_zero = interp.call("echo", (-0.0,)).unwrap().extract::<f64>().unwrap();
    assert!(negative_zero == 0.0 && negative_zero.is_sign_negative());
}

#[test]
fn big_ints_are_exact_in_both_directions() {
    let interp = interp();
    let huge: BigInt = "-123456789012345678901234567890123456789012345678901234567890".parse().unwrap();
    interp.exec("def double(n): return n * 2").unwrap();
    let back: BigInt = interp.call("double", (huge.clone(),)).unwrap().extract().unwrap();
    assert_eq!(back.to_string(), "-246913578024691357802469135780246913578024691357802469135780");
    assert_eq!(interp.call("str", (huge.clone(),)).unwrap().as_str(), Some(huge.to_string().as_str()));
    // 3963 bits, from Python.
    let big: BigInt = interp.call("eval", ("2 ** 3962 + 1",)).unwrap().extract().unwrap();
    let text: String = interp.call("eval", ("str(2 ** 3962 + 1)",)).unwrap().extract().unwrap();
    assert_eq!(big.to_string(), text);
    assert_eq!(big.to_signed_bytes_le().len(), 3963 / 8 + 1);
    // Values that fit i64 come back as Int.
    assert_eq!(interp.call("eval", ("2 ** 63 - 1",)).unwrap(), Value::Int(i64::MAX));
    assert_eq!(interp.call("eval", ("2 ** 63",)).unwrap(), Value::from(1u64 << 63));
}

#[test]
fn bigint_text_and_bytes() {
    for text in ["0", "1", "-1", "127", "128", "-128", "-129", "255", "256", "-32768", "18446744073709551616",
                 "-340282366920938463463374607431768211456", "99999999999999999999999999999999999999999"] {
        let n: BigInt = text.parse().unwrap();
        assert_eq!(n.to_string(), text);
        assert_eq!(BigInt::from_signed_bytes_le(n.to_signed_bytes_le()), n);
    }
    assert_eq!("+5".parse::<BigInt>().unwrap().to_string(), "5");
    assert_eq!("-0".parse::<BigInt>().unwrap(), BigInt::from(0));
    for bad in ["", "-", "1.5", "0x10", " 1", "1_000"] {
        assert_eq!(bad.parse::<BigInt>().unwrap_err().kind(), ErrorKind::InvalidArgument, "{bad:?}");
    }
    assert_eq!(BigInt::from(-1).to_signed_bytes_le(), [0xff]);
    assert_eq!(BigInt::from(0).to_signed_bytes_le(), [] as [u8; 0]);
    assert_eq!(BigInt::from(128).to_signed_bytes_le(), [0x80, 0x00]);
    assert_eq!(BigInt::from(-128).to_signed_bytes_le(), [0x80]);
    assert_eq!(BigInt::from_signed_bytes_le(&[0xff, 0xff, 0xff]), BigInt::from(-1));
    assert_eq!(BigInt::from(u128::MAX).to_u128(), Some(u128::MAX));
    assert_eq!(BigInt::from(i128::MIN).to_i128(), Some(i128::MIN));
    assert_eq!(BigInt::from(-1).to_u128(), None);
    assert_eq!(format!("{:>6}", BigInt::from(-42)), "   -42");
}

#[test]
fn rust_types_convert_in_and_out() {
    let interp = interp();
    let mut scores = HashMap::new();
    scores.insert("ann".to_string(), 3i64);
    scores.insert("bob".to_string(), 5i64);
    let back: HashMap<String, i64> = interp.call("echo", (scores.clone(),)).unwrap().extract().unwrap();
    assert_eq!(back, scores);

    let ordered: BTreeMap<i64, Vec<u8>> = [(2, vec![2u8]), (1, vec![1u8])].into_iter().collect();
    let value = interp.call("echo", (ordered.clone(),)).unwrap();
    assert_eq!(value.as_dict().unwrap()[0].0, Value::Int(1), "BTreeMap keys go in order");
    assert_eq!(value.extract::<BTreeMap<i64, Vec<u8>>>().unwrap(), ordered);

    let list: Vec<f64> = interp.call("eval", ("[x / 2 for x in range(3)]",)).unwrap().extract().unwrap();
    assert_eq!(list, [0.0, 0.5, 1.0]);
    let tuple: (bool, Option<String>, Option<i32>) =
        interp.call("eval", ("(True, None, 7)",)).unwrap().extract().unwrap();
    assert_eq!(tuple, (true, None, Some(7)));
    assert_eq!(Value::from(Some("x")), Value::from("x"));
    assert_eq!(Value::from(None::<i32>), Value::None);
    assert_eq!(Value::list([1, 2]), Value::List(vec![Value::Int(1), Value::Int(2)]));
    assert_eq!(Value::tuple(["a"]), Value::Tuple(vec![Value::from("a")]));
    assert_eq!(Value::dict([("k", 1)]).get("k"), Some(&Value::Int(1)));
    assert_eq!(vec![Value::Int(1)].into_iter().collect::<Value>(), Value::List(vec![Value::Int(1)]));
    assert_eq!(Value::from(b"raw".as_slice()), Value::Bytes(b"raw".to_vec()));
    assert_eq!(Value::from('é'), Value::from("é"));
    assert_eq!(Value::from(()), Value::None);
    assert_eq!(i64::try_from(Value::Int(3)).unwrap(), 3);
    assert_eq!(String::try_from(Value::from("s")).unwrap(), "s");
}

#[test]
fn conversions_out_are_exact() {
    assert_eq!(Value::Int(300).extract::<i8>().unwrap_err().kind(), ErrorKind::Overflow);
    assert_eq!(Value::Int(-1).extract::<u32>().unwrap_err().kind(), ErrorKind::Overflow);
    assert_eq!(Value::from(u128::MAX).extract::<i64>().unwrap_err().kind(), ErrorKind::Overflow);
    assert_eq!(Value::from(u128::MAX).extract::<u128>().unwrap(), u128::MAX);
    assert_eq!(Value::from(1u64 << 63).extract::<u64>().unwrap(), 1u64 << 63);
    assert_eq!(Value::Float(1.0).extract::<i64>().unwrap_err().kind(), ErrorKind::Type);
    assert_eq!(Value::Int(1).extract::<f64>().unwrap_err().kind(), ErrorKind::Type);
    assert_eq!(Value::Bool(true).extract::<i64>().unwrap_err().kind(), ErrorKind::Type);
    assert_eq!(Value::from("x").extract::<Vec<u8>>().unwrap_err().kind(), ErrorKind::Type);
    assert_eq!(Value::from((1, 2)).extract::<(i64, i64, i64)>().unwrap_err().kind(), ErrorKind::Type);
    assert_eq!(Value::from((1, "x")).extract::<Vec<i64>>().unwrap_err().kind(), ErrorKind::Type);
    let err = Value::from("x").extract::<bool>().unwrap_err();
    assert_eq!(err.message(), "expected bool, got str");
}

#[test]
fn dict_keys_that_python_merges_are_refused() {
    let interp = interp();
    let keys = Value::Dict(vec![(Value::Int(1), Value::from("a")), (Value::Float(1.0), Value::from("b"))]);
    assert_eq!(interp.call("echo", (keys,)).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let duplicate = Value::Dict(vec![(Value::from("k"), Value::None), (Value::from("k"), Value::None)]);
    assert_eq!(interp.call("echo", (duplicate,)).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let unhashable = Value::Dict(vec![(Value::List(vec![]), Value::None)]);
    assert_eq!(interp.call("echo", (unhashable,)).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let interp = interp();
    let mut value = Value::None;
    for _ in 0..300 {
        value = Value::List(vec![value]);
    }
    assert_eq!(interp.call("echo", (value,)).unwrap_err().kind(), ErrorKind::InvalidArgument);
    interp.exec("def deep():\n    v = []\n    for _ in range(250): v = [v]\n    return v").unwrap();
    let err = interp.call("deep", ()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotShareable);
}

#[test]
fn repr_and_display_follow_python() {
    assert_eq!(Value::from((1, "a", Value::None)).repr().unwrap(), "(1, 'a', None)");
    assert_eq!(Value::from(vec![Value::Float(0.5)]).to_string(), "[0.5]");
    assert_eq!(Value::from(1u128 << 100).to_string(), "1267650600228229401496703205376");
    assert_eq!(Value::from("x").kind_name(), "str");
}

#[test]
fn buffers_share_memory_with_python() {
    let interp = interp();
    let bytes: Vec<u8> = (0..16).collect();
    let address = bytes.as_ptr();
    let buffer = Buffer::from_vec(bytes);
    assert_eq!(buffer.as_ptr(), address, "the vector's own memory, not a copy");
    interp.exec("def fill(view, byte):\n    view[:] = bytes([byte]) * len(view)\n    return len(view)").unwrap();
    assert_eq!(interp.call("fill", (buffer.clone(), 7)).unwrap(), Value::Int(16));
    // SAFETY: the call returned and kept no view.
    assert_eq!(unsafe { buffer.as_slice_unchecked() }, &[7u8; 16]);
    assert_eq!(buffer.as_ptr(), address, "no copy");
    assert_eq!(python_type(&interp, buffer.clone()), "memoryview");
    assert!(!buffer.is_readonly() && buffer.as_slice().is_none());

    // A writable buffer written by Rust before sharing.
    let made = Buffer::new_with(4, |bytes| bytes.copy_from_slice(b"abcd")).unwrap();
    assert_eq!(interp.call("bytes", (made.clone(),)).unwrap(), Value::Bytes(b"abcd".to_vec()));
    let zeros = Buffer::new(3).unwrap();
    assert_eq!(interp.call("bytes", (zeros,)).unwrap(), Value::Bytes(vec![0, 0, 0]));

    // A buffer that comes back is the same memory.
    let back: Buffer = interp.call("echo", (made.clone(),)).unwrap().extract().unwrap();
    assert_eq!(back.as_ptr(), made.as_ptr());
    assert_eq!(back, made);
    // SAFETY: nobody else writes it.
    unsafe { back.as_mut_slice_unchecked().unwrap()[0] = b'z' };
    assert_eq!(interp.call("bytes", (made,)).unwrap(), Value::Bytes(b"zbcd".to_vec()));
}

#[test]
fn readonly_buffers_refuse_writes_and_read_safely() {
    let interp = interp();
    let buffer = Buffer::from_vec_readonly(b"frozen".to_vec());
    assert!(buffer.is_readonly());
    assert_eq!(buffer.as_slice(), Some(&b"frozen"[..]));
    let err = interp.call("fill", (buffer.clone(), 0)).unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "NameError");
    interp.exec("def poke(view): view[0] = 0").unwrap();
    let err = interp.call("poke", (buffer.clone(),)).unwrap_err();
    assert_eq!(err.exception().unwrap().qualname(), "TypeError");
    assert_eq!(buffer.as_slice(), Some(&b"frozen"[..]));
    assert!(unsafe { buffer.as_mut_slice_unchecked() }.is_none());
    assert_eq!(Value::Buffer(buffer).extract::<Vec<u8>>().unwrap(), b"frozen");
    let writable = Value::Buffer(Buffer::from_vec(vec![1]));
    assert_eq!(writable.extract::<Vec<u8>>().unwrap_err().kind(), ErrorKind::Type);
}

#[test]
fn empty_buffers_work() {
    let interp = interp();
    for buffer in [Buffer::from_vec(Vec::new()), Buffer::new(0).unwrap(), Buffer::from_vec_readonly(Vec::new())] {
        assert!(buffer.is_empty());
        assert_eq!(interp.call("len", (buffer.clone(),)).unwrap(), Value::Int(0));
        assert_eq!(unsafe { buffer.as_slice_unchecked() }, &[] as &[u8]);
    }
}

#[test]
fn memoryviews_of_bytes_made_in_python_arrive_as_buffers() {
    let interp = interp();
    let value = interp.call("eval", ("memoryview(b'abc')",)).unwrap();
    let buffer: Buffer = value.extract().unwrap();
    assert_eq!(buffer.len(), 3);
    // SAFETY: nobody writes it (it views Python bytes or a copy).
    assert_eq!(unsafe { buffer.as_slice_unchecked() }, b"abc");
}
