//! The canonical JSON the Vault hashes into `tool_args_hash`.
//!
//! The Vault (Python) binds `sha256(json.dumps(tool_args, sort_keys=True, separators=(",",
//! ":")))`. This module reproduces that text byte for byte for every `serde_json::Value`:
//!
//! - objects: keys sorted by code point at every depth (UTF-8 byte order is code point order),
//!   no whitespace;
//! - strings: `ensure_ascii`: printable ASCII as is, `"` and `\` escaped, `\b \f \n \r \t`,
//!   every other character as `\uXXXX` with lowercase hex, characters above U+FFFF as a
//!   surrogate pair;
//! - integers (`u64`/`i64`) in decimal;
//! - floats as Python's `repr`: the shortest digits that round-trip (ties to even, as Python's
//!   `dtoa` does), positional for decimal exponents -5 < e < 16 with a `.0` when integral,
//!   otherwise `d[.ddd]e±XX` with at least two exponent digits (`1e+16`, `1.5e-07`).
//!
//! Arrays keep their order; `true`, `false`, `null` are literal.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// The canonical text of `value` (see the module docs).
pub(crate) fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(128);
    write_value(&mut out, value);
    out
}

/// The canonical text of a JSON object.
pub(crate) fn object_to_string(map: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(32 + 32 * map.len());
    write_object(&mut out, map);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map),
    }
}

fn write_object(out: &mut String, map: &Map<String, Value>) {
    out.push('{');
    // `Map` is a BTreeMap (sorted) unless serde_json's `preserve_order` is switched on by
    // some crate in the build; sort only then.
    if map.keys().is_sorted() {
        write_members(out, map.iter());
    } else {
        let mut members: Vec<(&String, &Value)> = map.iter().collect();
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        write_members(out, members.into_iter());
    }
    out.push('}');
}

fn write_members<'a>(out: &mut String, members: impl Iterator<Item = (&'a String, &'a Value)>) {
    for (i, (key, value)) in members.enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, key);
        out.push(':');
        write_value(out, value);
    }
}

fn write_number(out: &mut String, n: &Number) {
    if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}"); // writing to a String cannot fail
    } else if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(f) = n.as_f64().filter(|f| f.is_finite()) {
        write_py_float(out, f);
    } else {
        // Only reachable with serde_json's `arbitrary_precision` (not enabled here): keep the
        // number's own text.
        let _ = write!(out, "{n}");
    }
}

/// Python's `json.dumps(s)` with `ensure_ascii=True`.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (i, c) in s.char_indices() {
        if matches!(c, ' '..='~') && c != '"' && c != '\\' {
            continue;
        }
        out.push_str(s.get(plain_from..i).unwrap_or_default());
        plain_from = i + c.len_utf8();
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(out, *unit);
                }
            }
        }
    }
    out.push_str(s.get(plain_from..).unwrap_or_default());
    out.push('"');
}

fn push_u_escape(out: &mut String, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str("\\u");
    for shift in [12, 8, 4, 0] {
        out.push(char::from(HEX[usize::from((unit >> shift) & 0xf)]));
    }
}

/// Python's `repr(f)` for a finite `f`, without heap allocation.
fn write_py_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0.0" } else { "0.0" });
        return;
    }
    if f.is_sign_negative() {
        out.push('-');
    }
    // serde_json's float writer (ryu, or zmij since serde_json 1.0.15x): the shortest digits that read back as `f`, a tie
    // rounded half to even, as Python's repr (the standard library's `{:e}` rounds such a tie
    // up: 250907423955339.125 → …13, not …12). Into a stack buffer: `1.2345`, `1e16`, `5e-324`.
    let mut buf = ShortBuf::default();
    let text = match serde_json::to_writer(&mut buf, &f.abs()) {
        Ok(()) => buf.as_str(),
        Err(_) => "",
    };
    match Decimal::parse(text) {
        Some(d) => d.write_python(out),
        // It writes at most 17 significant digits in `d.ddd[e-x]` form; unreachable, but a
        // wrong text only makes the binding check fail (closed), never pass.
        None => out.push_str(text),
    }
}

/// A fixed stack buffer for one formatted float (no heap allocation).
#[derive(Default)]
struct ShortBuf {
    bytes: [u8; 32],
    len: usize,
}

impl ShortBuf {
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.bytes.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }
}

impl std::io::Write for ShortBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let end = self.len.saturating_add(bytes.len());
        let room = self
            .bytes
            .get_mut(self.len..end)
            .ok_or(std::io::ErrorKind::WriteZero)?;
        room.copy_from_slice(bytes);
        self.len = end;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A positive decimal `0.d1d2d3… × 10^point`, digits without leading or trailing zeros.
struct Decimal {
    digits: [u8; 32],
    len: usize,
    point: i32,
}

impl Decimal {
    /// Parses serde_json's float text (`123.45`, `0.0001`, `1e16`, `1.5e-7`).
    fn parse(text: &str) -> Option<Decimal> {
        let (mantissa, exp) = match text.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().ok()?),
            None => (text, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let mut d = Decimal {
            digits: [0; 32],
            len: 0,
            point: i32::try_from(int_part.len()).ok()?.checked_add(exp)?,
        };
        for b in int_part.bytes().chain(frac_part.bytes()) {
            if !b.is_ascii_digit() {
                return None;
            }
            if d.len == 0 && b == b'0' {
                d.point = d.point.checked_sub(1)?; // a leading zero moves the point
                continue;
            }
            *d.digits.get_mut(d.len)? = b;
            d.len += 1;
        }
        while d.len > 0 && d.digits[d.len - 1] == b'0' {
            d.len -= 1;
        }
        (d.len > 0).then_some(d)
    }

    fn digits(&self) -> &[u8] {
        self.digits.get(..self.len).unwrap_or_default()
    }

    /// CPython's `format_float_short(x, 'r', 0, Py_DTSF_ADD_DOT_0)`.
    fn write_python(&self, out: &mut String) {
        let digits = self.digits();
        let n = i32::try_from(digits.len()).unwrap_or(i32::MAX);
        let point = self.point;
        if point <= -4 || point > 16 {
            let (first, rest) = digits.split_at(1);
            push_ascii(out, first);
            if !rest.is_empty() {
                out.push('.');
                push_ascii(out, rest);
            }
            let exp = point - 1;
            out.push('e');
            out.push(if exp < 0 { '-' } else { '+' });
            let abs = exp.unsigned_abs();
            if abs < 10 {
                out.push('0');
            }
            let _ = write!(out, "{abs}");
        } else if point <= 0 {
            out.push_str("0.");
            push_zeros(out, point.unsigned_abs());
            push_ascii(out, digits);
        } else if point >= n {
            push_ascii(out, digits);
            push_zeros(out, point.abs_diff(n));
            out.push_str(".0");
        } else {
            let (int_digits, frac_digits) = digits.split_at(point.unsigned_abs() as usize);
            push_ascii(out, int_digits);
            out.push('.');
            push_ascii(out, frac_digits);
        }
    }
}

fn push_ascii(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().map(|&b| char::from(b)));
}

fn push_zeros(out: &mut String, n: u32) {
    out.extend(std::iter::repeat_n('0', n as usize));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn py(v: Value) -> String {
        to_string(&v)
    }

    #[test]
    #[allow(clippy::excessive_precision)] // literals written as Python users write them
    fn floats_print_as_python_repr() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5e-7, "1.5e-07"),
            (1e-5, "1e-05"),
            (1e-4, "0.0001"),
            (0.00012, "0.00012"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (1e22, "1e+22"),
            (250907423955339.125, "250907423955339.12"), // tie: round half to even
            (12.5, "12.5"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
        ];
        for &(f, want) in cases {
            let mut out = String::new();
            write_py_float(&mut out, f);
            assert_eq!(out, want, "{f:e}");
        }
    }

    proptest::proptest! {
        /// The Python text reads back as the same float, with as few digits as the standard
        /// library's shortest form (the two differ only in the last digit of an exact tie).
        #[test]
        fn floats_round_trip_in_the_fewest_digits(bits in proptest::prelude::any::<u64>()) {
            let f = f64::from_bits(bits);
            proptest::prop_assume!(f.is_finite() && f != 0.0);
            let mut py = String::new();
            write_py_float(&mut py, f);
            proptest::prop_assert_eq!(py.parse::<f64>().unwrap(), f, "{}", py);
            let mut ours = ShortBuf::default();
            serde_json::to_writer(&mut ours, &f.abs()).unwrap();
            let shortest = format!("{:e}", f.abs());
            let (a, b) = (Decimal::parse(ours.as_str()).unwrap(), Decimal::parse(&shortest).unwrap());
            proptest::prop_assert_eq!(a.len, b.len, "{} vs {}", ours.as_str(), shortest);
            proptest::prop_assert_eq!(a.point, b.point);
        }
    }

    #[test]
    fn integers_stay_integers() {
        assert_eq!(
            py(json!([0, -1, u64::MAX, i64::MIN])),
            "[0,-1,18446744073709551615,-9223372036854775808]"
        );
    }

    #[test]
    fn strings_escape_like_ensure_ascii() {
        assert_eq!(
            py(json!("a\"b\\c/\n\r\t\u{8}\u{c}\u{1}\u{7f}é😀~ ")),
            r#""a\"b\\c/\n\r\t\b\f\u0001\u007f\u00e9\ud83d\ude00~ ""#
        );
        assert_eq!(py(json!("")), r#""""#);
    }

    #[test]
    fn keys_sort_by_code_point_at_every_depth() {
        let v = json!({"b": {"z": 1, "a": [ {"y": null, "x": true} ]}, "a": false, "é": 1, "Z": 2});
        assert_eq!(
            py(v),
            r#"{"Z":2,"a":false,"b":{"a":[{"x":true,"y":null}],"z":1},"\u00e9":1}"#
        );
    }

    #[test]
    fn decimal_parse_refuses_garbage_without_panicking() {
        for s in ["", "e", "1e", "x", "1.2.3", "1e99999999999", "0.0", "00"] {
            let _ = Decimal::parse(s);
        }
        assert!(Decimal::parse("0.0").is_none());
        let d = Decimal::parse("0.00120").unwrap();
        assert_eq!((d.digits(), d.point), (&b"12"[..], -2));
    }
}
