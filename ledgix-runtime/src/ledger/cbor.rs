//! The deterministic CBOR the Vault hashes and signs (RFC 8949 §4.2, length-first key order).
//!
//! - maps: keys sorted by encoded length, then bytewise ([`KeyOrder::EncodedLength`]);
//! - integers and lengths: shortest form; text: UTF-8; `null` `f6`, `true` `f5`, `false` `f4`;
//! - JSON values from the wire (`tool_args`, `citations`, `evidence_chunks`,
//!   `action_metadata`): every number is a float64 (`fb` + 8 bytes big-endian), integers
//!   included, as ledgix-python normalizes them.
//!
//! Payloads are built as an [`Item`] tree and encoded with [`encode`]; JSON values go through
//! [`encode_json`] first, which is the only fallible step.
//!
//! ```
//! use ledgix_runtime::ledger::cbor::{self, Item, KeyOrder};
//!
//! let args = serde_json::json!({"amount": 5, "ccy": "usd"});
//! let payload = Item::Map(vec![
//!     ("version", Item::Uint(1)),
//!     ("tool_args", Item::Encoded(cbor::encode_json(&args, KeyOrder::EncodedLength).unwrap())),
//! ]);
//! let bytes = cbor::encode(&payload, KeyOrder::EncodedLength);
//! assert_eq!(bytes[0], 0xa2); // a map of two pairs
//! ```

use serde_json::Value;

/// The deepest JSON nesting [`encode_json`] accepts (serde_json's own parse limit is 128).
pub const MAX_JSON_DEPTH: usize = 128;

/// How map keys are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyOrder {
    /// Fewer UTF-8 bytes first, then bytewise: LEDGER.md and RFC 7049 §3.9 canonical CBOR.
    #[default]
    EncodedLength,
    /// Fewer Unicode scalar values first, then by code point: what ledgix-python 0.4.0's
    /// encoder does (`sorted(keys, key=lambda k: (len(k), k))`). Differs from
    /// [`KeyOrder::EncodedLength`] only for maps with non-ASCII keys.
    CodePointLength,
    /// Fewer UTF-16 code units first, then by UTF-16 code units: what ledgix-ts's encoder
    /// does (JavaScript's `length` and `<`). Differs from [`KeyOrder::CodePointLength`] only
    /// for maps with keys outside the Basic Multilingual Plane (emoji, for one).
    Utf16Length,
}

/// Why a JSON value has no deterministic CBOR encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CborError {
    /// A number that is not a finite float64 (only possible with serde_json's
    /// `arbitrary_precision`).
    #[error("number {0} is not a finite float64")]
    NonFiniteNumber(String),
    /// Nesting deeper than [`MAX_JSON_DEPTH`].
    #[error("JSON nested deeper than {MAX_JSON_DEPTH} levels")]
    TooDeep,
}

/// A CBOR data item of a ledger payload.
#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// An unsigned integer (major type 0), shortest form.
    Uint(u64),
    /// A float64 (`fb` + 8 bytes big-endian).
    Float(f64),
    /// A UTF-8 text string.
    Text(&'a str),
    /// `true` / `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An array, in order.
    Array(Vec<Item<'a>>),
    /// A map; keys are sorted when encoded, so the order given here does not matter.
    Map(Vec<(&'a str, Item<'a>)>),
    /// Bytes that already are one encoded CBOR item (from [`encode_json`]).
    Encoded(Vec<u8>),
}

/// Encodes an item deterministically.
pub fn encode(item: &Item<'_>, order: KeyOrder) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    write_item(item, order, &mut out);
    out
}

/// Encodes a JSON value with every number as a float64.
pub fn encode_json(value: &Value, order: KeyOrder) -> Result<Vec<u8>, CborError> {
    let mut out = Vec::with_capacity(128);
    write_json(value, order, 0, &mut out)?;
    Ok(out)
}

/// True when some map key inside `value` is not ASCII (only then do the [`KeyOrder`]s
/// differ).
pub fn has_non_ascii_key(value: &Value) -> bool {
    has_key(value, &|k| !k.is_ascii())
}

/// True when some map key inside `value` has a character outside the Basic Multilingual
/// Plane (only then does [`KeyOrder::Utf16Length`] differ from
/// [`KeyOrder::CodePointLength`]).
pub fn has_astral_key(value: &Value) -> bool {
    has_key(value, &|k| k.chars().any(|c| u32::from(c) > 0xFFFF))
}

fn has_key(value: &Value, test: &dyn Fn(&str) -> bool) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| test(k) || has_key(v, test)),
        Value::Array(items) => items.iter().any(|v| has_key(v, test)),
        _ => false,
    }
}

fn write_item(item: &Item<'_>, order: KeyOrder, out: &mut Vec<u8>) {
    match item {
        Item::Uint(n) => write_head(0, *n, out),
        Item::Float(f) => write_f64(*f, out),
        Item::Text(s) => write_text(s, out),
        Item::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Item::Null => out.push(0xf6),
        Item::Array(items) => {
            write_head(4, items.len() as u64, out);
            for i in items {
                write_item(i, order, out);
            }
        }
        Item::Map(pairs) => {
            let mut sorted: Vec<&(&str, Item<'_>)> = pairs.iter().collect();
            sorted.sort_by(|a, b| compare_keys(a.0, b.0, order));
            write_head(5, sorted.len() as u64, out);
            for (k, v) in sorted {
                write_text(k, out);
                write_item(v, order, out);
            }
        }
        Item::Encoded(bytes) => out.extend_from_slice(bytes),
    }
}

fn write_json(
    value: &Value,
    order: KeyOrder,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), CborError> {
    if depth > MAX_JSON_DEPTH {
        return Err(CborError::TooDeep);
    }
    match value {
        Value::Null => out.push(0xf6),
        Value::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
        Value::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
            Some(f) => write_f64(f, out),
            None => return Err(CborError::NonFiniteNumber(n.to_string())),
        },
        Value::String(s) => write_text(s, out),
        Value::Array(items) => {
            write_head(4, items.len() as u64, out);
            for i in items {
                write_json(i, order, depth + 1, out)?;
            }
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| compare_keys(a, b, order));
            write_head(5, keys.len() as u64, out);
            for k in keys {
                write_text(k, out);
                if let Some(v) = map.get(k) {
                    write_json(v, order, depth + 1, out)?;
                }
            }
        }
    }
    Ok(())
}

fn compare_keys(a: &str, b: &str, order: KeyOrder) -> std::cmp::Ordering {
    match order {
        // UTF-8 byte order is code point order, so the tie-break is the same for both.
        KeyOrder::EncodedLength => a
            .len()
            .cmp(&b.len())
            .then_with(|| a.as_bytes().cmp(b.as_bytes())),
        KeyOrder::CodePointLength => a
            .chars()
            .count()
            .cmp(&b.chars().count())
            .then_with(|| a.as_bytes().cmp(b.as_bytes())),
        KeyOrder::Utf16Length => a
            .encode_utf16()
            .count()
            .cmp(&b.encode_utf16().count())
            .then_with(|| a.encode_utf16().cmp(b.encode_utf16())),
    }
}

/// The head of a data item: major type and argument, shortest form.
fn write_head(major: u8, n: u64, out: &mut Vec<u8>) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if let Ok(b) = u8::try_from(n) {
        out.extend_from_slice(&[m | 24, b]);
    } else if let Ok(h) = u16::try_from(n) {
        out.push(m | 25);
        out.extend_from_slice(&h.to_be_bytes());
    } else if let Ok(w) = u32::try_from(n) {
        out.push(m | 26);
        out.extend_from_slice(&w.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn write_text(s: &str, out: &mut Vec<u8>) {
    write_head(3, s.len() as u64, out);
    out.extend_from_slice(s.as_bytes());
}

fn write_f64(f: f64, out: &mut Vec<u8>) {
    out.push(0xfb);
    out.extend_from_slice(&f.to_bits().to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hexed(item: &Item<'_>) -> String {
        crate::hex::encode(encode(item, KeyOrder::EncodedLength))
    }

    #[test]
    fn integers_and_lengths_use_the_shortest_form() {
        let cases: [(u64, &str); 9] = [
            (0, "00"),
            (23, "17"),
            (24, "1818"),
            (255, "18ff"),
            (256, "190100"),
            (65535, "19ffff"),
            (65536, "1a00010000"),
            (4294967296, "1b0000000100000000"),
            (u64::MAX, "1bffffffffffffffff"),
        ];
        for (n, want) in cases {
            assert_eq!(hexed(&Item::Uint(n)), want, "{n}");
        }
        assert_eq!(hexed(&Item::Text("")), "60");
        assert_eq!(
            hexed(&Item::Text(&"a".repeat(24))),
            format!("7818{}", "61".repeat(24))
        );
        assert_eq!(hexed(&Item::Array(vec![])), "80");
        assert_eq!(hexed(&Item::Null), "f6");
        assert_eq!(hexed(&Item::Bool(true)), "f5");
        assert_eq!(hexed(&Item::Bool(false)), "f4");
        assert_eq!(hexed(&Item::Float(0.5)), "fb3fe0000000000000");
    }

    #[test]
    fn map_keys_sort_by_length_then_bytes() {
        let map = Item::Map(vec![
            ("bb", Item::Uint(1)),
            ("a", Item::Uint(2)),
            ("ab", Item::Uint(3)),
            ("c", Item::Uint(4)),
        ]);
        // a, c, ab, bb
        assert_eq!(hexed(&map), "a46161026163046261620362626201");
    }

    #[test]
    fn json_numbers_are_all_float64() {
        let v = json!({"n": 5, "neg": -3, "f": 1.5, "big": 9007199254740993u64});
        let bytes = encode_json(&v, KeyOrder::EncodedLength).unwrap();
        let h = crate::hex::encode(bytes);
        assert!(h.contains("616efb4014000000000000"), "{h}"); // "n": 5.0
        assert!(h.contains("636e6567fbc008000000000000"), "{h}"); // "neg": -3.0
        // 2^53 + 1 rounds to 2^53, as Python's float(int) does.
        assert!(h.contains("fb4340000000000000"), "{h}");
    }

    #[test]
    fn non_ascii_keys_order_differs_between_the_two_rules() {
        // "é" is 1 code point but 2 UTF-8 bytes; "ab" is 2 of each.
        let v = json!({"ab": 1, "é": 2});
        assert!(has_non_ascii_key(&v));
        assert!(!has_non_ascii_key(&json!({"ab": [{"c": "é"}]})));
        let enc = crate::hex::encode(encode_json(&v, KeyOrder::EncodedLength).unwrap());
        let py = crate::hex::encode(encode_json(&v, KeyOrder::CodePointLength).unwrap());
        assert!(enc.starts_with("a2626162"), "{enc}"); // "ab" first: same length, 'a' < 0xc3
        assert!(py.starts_with("a262c3a9"), "{py}"); // "é" first: 1 code point
    }

    #[test]
    fn astral_keys_order_differs_between_code_points_and_utf16() {
        // "😀" is 1 code point, 2 UTF-16 units, 4 UTF-8 bytes; "ab" is 2 of each.
        let v = json!({"ab": 1, "😀": 2});
        assert!(has_astral_key(&v) && !has_astral_key(&json!({"é": 1})));
        let first_key =
            |order| crate::hex::encode(encode_json(&v, order).unwrap())[2..6].to_owned();
        assert_eq!(first_key(KeyOrder::EncodedLength), "6261"); // "ab": 2 bytes < 4
        assert_eq!(first_key(KeyOrder::CodePointLength), "64f0"); // "😀": 1 code point
        assert_eq!(first_key(KeyOrder::Utf16Length), "6261"); // "ab" < 0xd83d at 2 units
        // Same UTF-16 length: JavaScript compares code units, so U+FF5E (one unit, 0xff5e)
        // sorts after U+1F600 (0xd83d 0xde00) there, and before it by code point.
        let w = json!({"\u{ff5e}a": 1, "😀": 2});
        let js = crate::hex::encode(encode_json(&w, KeyOrder::Utf16Length).unwrap());
        assert!(js.starts_with("a264f09f9880"), "{js}");
    }

    #[test]
    fn too_deep_json_is_an_error() {
        let mut v = json!(1);
        for _ in 0..=MAX_JSON_DEPTH {
            v = json!([v]);
        }
        assert_eq!(
            encode_json(&v, KeyOrder::EncodedLength),
            Err(CborError::TooDeep)
        );
    }
}
