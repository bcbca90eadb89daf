//! [`BigInt`]: Python ints beyond `i64`, exactly.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// An integer of any size, as Python has them.
///
/// Stored as minimal two's-complement little-endian bytes, the form of
/// Python's `int.to_bytes(n, "little", signed=True)` and of the C ABI. It
/// converts to and from decimal text ([`Display`](fmt::Display),
/// [`FromStr`]), `i128` and `u128`.
///
/// ```
/// use subinterp::BigInt;
/// let n: BigInt = "-170141183460469231731687303715884105729".parse().unwrap();
/// assert_eq!(n.to_string(), "-170141183460469231731687303715884105729");
/// assert_eq!(n.to_i128(), None); // one below i128::MIN
/// assert_eq!(BigInt::from(255u8).to_signed_bytes_le(), [0xff, 0x00]);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BigInt {
    bytes: Vec<u8>,
}

impl BigInt {
    /// From two's-complement little-endian bytes of any length (empty is 0).
    pub fn from_signed_bytes_le(bytes: &[u8]) -> BigInt {
        let mut bytes = bytes.to_vec();
        normalize(&mut bytes);
        BigInt { bytes }
    }

    /// The minimal two's-complement little-endian bytes (empty for 0).
    pub fn to_signed_bytes_le(&self) -> &[u8] {
        &self.bytes
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.bytes.last().is_some_and(|b| b & 0x80 != 0)
    }

    /// The value as an `i64`, if it fits.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_i128().and_then(|n| i64::try_from(n).ok())
    }

    /// The value as an `i128`, if it fits.
    pub fn to_i128(&self) -> Option<i128> {
        if self.bytes.len() > 16 {
            return None;
        }
        let fill = if self.is_negative() { 0xff } else { 0 };
        let mut buf = [fill; 16];
        buf[..self.bytes.len()].copy_from_slice(&self.bytes);
        Some(i128::from_le_bytes(buf))
    }

    /// The value as a `u128`, if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        if self.is_negative() {
            return None;
        }
        let magnitude = trim_zeros(&self.bytes);
        if magnitude.len() > 16 {
            return None;
        }
        let mut buf = [0u8; 16];
        buf[..magnitude.len()].copy_from_slice(magnitude);
        Some(u128::from_le_bytes(buf))
    }

    /// The absolute value as unsigned little-endian bytes.
    fn magnitude(&self) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        if self.is_negative() {
            negate(&mut bytes);
        }
        let len = trim_zeros(&bytes).len();
        bytes.truncate(len);
        bytes
    }

    fn from_magnitude(mut magnitude: Vec<u8>, negative: bool) -> BigInt {
        magnitude.push(0); // room for the sign bit
        if negative {
            negate(&mut magnitude);
        }
        BigInt::from_signed_bytes_le(&magnitude)
    }
}

/// Two's-complement negation in place (the width stays the same).
fn negate(bytes: &mut [u8]) {
    let mut carry = true;
    for byte in bytes.iter_mut() {
        let (sum, overflow) = (!*byte).overflowing_add(carry as u8);
        *byte = sum;
        carry = overflow;
    }
}

fn trim_zeros(bytes: &[u8]) -> &[u8] {
    let len = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    &bytes[..len]
}

/// Drops redundant sign-extension bytes.
fn normalize(bytes: &mut Vec<u8>) {
    while let Some(&last) = bytes.last() {
        let sign_of_rest = bytes.len() >= 2 && bytes[bytes.len() - 2] & 0x80 != 0;
        let redundant = match last {
            0x00 => !sign_of_rest || bytes.len() == 1,
            0xff => bytes.len() >= 2 && sign_of_rest,
            _ => false,
        };
        if !redundant {
            break;
        }
        bytes.pop();
    }
}

macro_rules! bigint_from {
    ($($t:ty => $via:ty),*) => {$(
        impl From<$t> for BigInt {
            fn from(n: $t) -> BigInt {
                BigInt::from_signed_bytes_le(&<$via>::from(n).to_le_bytes())
            }
        }
    )*};
}
bigint_from!(i8 => i128, i16 => i128, i32 => i128, i64 => i128, i128 => i128,
             u8 => i128, u16 => i128, u32 => i128, u64 => i128);

impl From<u128> for BigInt {
    fn from(n: u128) -> BigInt {
        BigInt::from_magnitude(n.to_le_bytes().to_vec(), false)
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Base 10^9 limbs, least significant first, built from the bytes.
        const BASE: u64 = 1_000_000_000;
        let mut limbs: Vec<u64> = Vec::new();
        for &byte in self.magnitude().iter().rev() {
            let mut carry = byte as u64;
            for limb in limbs.iter_mut() {
                let v = *limb * 256 + carry;
                *limb = v % BASE;
                carry = v / BASE;
            }
            while carry > 0 {
                limbs.push(carry % BASE);
                carry /= BASE;
            }
        }
        let mut digits = String::new();
        match limbs.split_last() {
            None => digits.push('0'),
            Some((top, rest)) => {
                digits.push_str(&top.to_string());
                for limb in rest.iter().rev() {
                    digits.push_str(&format!("{limb:09}"));
                }
            }
        }
        f.pad_integral(!self.is_negative(), "", &digits)
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInt({self})")
    }
}

impl FromStr for BigInt {
    type Err = Error;

    /// Parses decimal digits with an optional sign (`-12`, `+7`, `0`).
    fn from_str(text: &str) -> Result<BigInt, Error> {
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::new(ErrorKind::InvalidArgument, format!("not a decimal integer: {text:?}")));
        }
        let mut magnitude: Vec<u8> = Vec::new();
        for digit in digits.bytes() {
            let mut carry = (digit - b'0') as u32;
            for byte in magnitude.iter_mut() {
                let v = *byte as u32 * 10 + carry;
                *byte = v as u8;
                carry = v >> 8;
            }
            if carry > 0 {
                magnitude.push(carry as u8);
            }
        }
        Ok(BigInt::from_magnitude(magnitude, negative))
    }
}
