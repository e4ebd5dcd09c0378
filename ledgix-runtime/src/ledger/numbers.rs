//! Numbers the event hash pins, and numbers it cannot.
//!
//! The event hash encodes every JSON number of the hashed values (`tool_args`, `citations`,
//! `evidence_chunks`, `action_metadata`) and `confidence` as a float64, integers included.
//! Many number texts round to the same float64: `9007199254740993` and `9007199254740992`
//! (2^53 + 1 and 2^53), or `0.1` and `0.10000000000000000001`. An edit from one to the other
//! leaves the hash unchanged, so a verifier must not claim it checked such a number.
//!
//! A number is **pinned** when no other number with the same float64 can stand in its place:
//!
//! - an integer written without fraction or exponent must equal its float64 exactly
//!   (`45`, `9007199254740992`, `18014398509481984`; not `9007199254740993`);
//! - any other number must denote the shortest decimal that rounds to its float64 — the text
//!   Python's `repr`, JavaScript and serde_json write (`19.99`, `1e21`, `0.5`; not
//!   `19.990000000000000001`, not `0.1000000000000000055511151231257827`).
//!
//! Either way, one float64 has exactly one pinned integer spelling (when it is whole) and one
//! pinned decimal value, so a pinned number is the number the Vault hashed.

use serde_json::Value;

use super::bundle::LedgerEntry;
use super::cbor::MAX_JSON_DEPTH;
use super::hash::EventLayout;

/// The hashed fields whose numbers can be unpinned, as [`uncommitted`] names them.
const NUMBER_FIELDS: [&str; 5] = [
    "tool_args",
    "citations",
    "evidence_chunks",
    "action_metadata",
    "confidence",
];

/// The pointers of the numbers an entry's hash in `layout` covers but does not pin: those
/// found in its text when it was parsed, and the integers its values hold that are not their
/// float64. Sorted, without duplicates.
pub(crate) fn unpinned_numbers(entry: &LedgerEntry, layout: EventLayout) -> Vec<String> {
    let hashes_metadata = layout == EventLayout::PythonVariant;
    let mut out: Vec<String> = entry
        .unpinned_numbers
        .iter()
        .filter(|p| hashes_metadata || field_of(p) != Some("action_metadata"))
        .cloned()
        .collect();
    unpinned_in_value(&entry.tool_args, "/tool_args", &mut out);
    unpinned_in_value(&entry.citations, "/citations", &mut out);
    unpinned_in_value(&entry.evidence_chunks, "/evidence_chunks", &mut out);
    if hashes_metadata {
        unpinned_in_value(&entry.action_metadata, "/action_metadata", &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// The top-level fields the pointers fall in, in [`NUMBER_FIELDS`] order.
pub(crate) fn uncommitted(pointers: &[String]) -> Vec<&'static str> {
    NUMBER_FIELDS
        .into_iter()
        .filter(|field| pointers.iter().any(|p| field_of(p) == Some(*field)))
        .collect()
}

/// `tool_args` for `/tool_args/amount`.
fn field_of(pointer: &str) -> Option<&str> {
    pointer.strip_prefix('/')?.split('/').next()
}

/// True when `text` (a JSON number) is the only number of its kind with its float64 (see the
/// module docs). A text that is not a finite number is never pinned.
pub(crate) fn is_pinned(text: &str) -> bool {
    let Ok(float) = text.parse::<f64>() else {
        return false;
    };
    if !float.is_finite() {
        return false;
    }
    if text.bytes().all(|b| b == b'-' || b.is_ascii_digit()) {
        // An integer: exactly the float's value (`{:.0}` prints every digit of it).
        return float.fract() == 0.0 && format!("{float:.0}") == text;
    }
    match (decimal(text), decimal(&format!("{float:e}"))) {
        (Some(given), Some(shortest)) => given == shortest,
        _ => false,
    }
}

/// A decimal number as (negative, significant digits without leading or trailing zeros,
/// exponent of the last digit); zero has no digits and exponent 0.
fn decimal(text: &str) -> Option<(bool, String, i64)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (unsigned.get(..at)?, unsigned.get(at + 1..)?),
        None => (unsigned, "0"),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if !(int.bytes().chain(frac.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    if significant.is_empty() {
        return Some((negative, String::new(), 0));
    }
    let trailing = i64::try_from(digits.len() - significant.len()).ok()?;
    let frac_len = i64::try_from(frac.len()).ok()?;
    let exponent: i64 = exponent
        .strip_prefix('+')
        .unwrap_or(exponent)
        .parse()
        .ok()?;
    let exponent = exponent.checked_sub(frac_len)?.checked_add(trailing)?;
    Some((negative, significant.to_owned(), exponent))
}

/// Adds the JSON pointers (under `pointer`) of the numbers in `value` that are not pinned.
///
/// Without serde_json's `arbitrary_precision` a [`Value`] keeps integers exactly and other
/// numbers as their float64, so this finds integers that are not their float64; the texts
/// of other numbers are checked when an entry is parsed ([`unpinned_in_text`]).
pub(crate) fn unpinned_in_value(value: &Value, pointer: &str, out: &mut Vec<String>) {
    match value {
        Value::Number(n) => {
            if !is_pinned(&n.to_string()) {
                out.push(pointer.to_owned());
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                unpinned_in_value(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                unpinned_in_value(item, &format!("{pointer}/{}", escape(key)), out);
            }
        }
        Value::Null | Value::Bool(_) | Value::String(_) => {}
    }
}

/// Adds the JSON pointers (under `pointer`) of the numbers in `text` — one JSON value, as
/// received — that are not pinned. Text this walker cannot follow reports `pointer` itself:
/// what cannot be checked is never passed as checked.
pub(crate) fn unpinned_in_text(text: &str, pointer: &str, out: &mut Vec<String>) {
    let mut walker = Walker { text, pos: 0 };
    let before = out.len();
    if walker.value(pointer, 0, out).is_none() {
        out.truncate(before);
        out.push(pointer.to_owned());
    }
}

/// RFC 6901: `~` as `~0`, `/` as `~1`.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A reader of one JSON value that visits its numbers with their JSON pointers.
struct Walker<'a> {
    text: &'a str,
    pos: usize,
}

impl Walker<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn expect(&mut self, literal: &str) -> Option<()> {
        let rest = self.text.get(self.pos..)?;
        rest.starts_with(literal).then(|| self.pos += literal.len())
    }

    fn value(&mut self, pointer: &str, depth: usize, out: &mut Vec<String>) -> Option<()> {
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Some(());
                }
                loop {
                    self.skip_ws();
                    let key = self.string()?;
                    self.skip_ws();
                    self.expect(":")?;
                    self.value(&format!("{pointer}/{}", escape(&key)), depth + 1, out)?;
                    self.skip_ws();
                    match self.next()? {
                        b',' => {}
                        b'}' => return Some(()),
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                self.skip_ws();
                if self.peek()? == b']' {
                    self.pos += 1;
                    return Some(());
                }
                for index in 0usize.. {
                    self.value(&format!("{pointer}/{index}"), depth + 1, out)?;
                    self.skip_ws();
                    match self.next()? {
                        b',' => {}
                        b']' => return Some(()),
                        _ => return None,
                    }
                }
                None
            }
            b'"' => self.string().map(|_| ()),
            b't' => self.expect("true"),
            b'f' => self.expect("false"),
            b'n' => self.expect("null"),
            b'-' | b'0'..=b'9' => {
                let start = self.pos;
                while matches!(
                    self.peek(),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                ) {
                    self.pos += 1;
                }
                if !is_pinned(self.text.get(start..self.pos)?) {
                    out.push(pointer.to_owned());
                }
                Some(())
            }
            _ => None,
        }
    }

    /// A JSON string, decoded.
    fn string(&mut self) -> Option<String> {
        let start = self.pos;
        if self.next()? != b'"' {
            return None;
        }
        loop {
            match self.next()? {
                b'\\' => {
                    self.next()?;
                }
                b'"' => break,
                _ => {}
            }
        }
        serde_json::from_str(self.text.get(start..self.pos)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_must_be_their_float64() {
        for pinned in [
            "0",
            "-0",
            "45",
            "-3",
            "9007199254740992",
            "-9007199254740992",
            "18014398509481984",
            "1152921504606846976",
            "18446744073709551616",
            "10000000000000000000000",
        ] {
            assert!(is_pinned(pinned), "{pinned}");
        }
        for not in [
            "9007199254740993",
            "-9007199254740993",
            "18014398509481985",
            "1152921504606847000",
            "18446744073709551615",
            "99999999999999999999999",
        ] {
            assert!(!is_pinned(not), "{not}");
        }
    }

    #[test]
    fn other_numbers_must_be_the_shortest_decimal_of_their_float64() {
        for pinned in [
            "0.1",
            "19.99",
            "-0.5",
            "5.0",
            "5.50",
            "1e21",
            "1E+21",
            "1.5e-7",
            "0.0",
            "-0.0",
            "0e10",
            "1.152921504606847e18",
            "2.5E0",
            "123.456e1",
        ] {
            assert!(is_pinned(pinned), "{pinned}");
        }
        for not in [
            "0.10000000000000000001",
            "0.1000000000000000055511151231257827021181583404541015625",
            "19.990000000000000001",
            "1.1529215046068469e18",
            "9007199254740993.0",
            "1e-400",
            "1e400",
            "-",
            "1.2.3",
        ] {
            assert!(!is_pinned(not), "{not}");
        }
    }

    #[test]
    fn pointers_name_each_unpinned_number() {
        let text = r#" {"amount": 9007199254740993, "ok": 1.5, "items": [1, {"p/x": 0.10000000000000000001}],
                       "s": "9007199254740993 \" ]", "t": true, "n": null, "e": {}, "a": []} "#;
        let mut out = Vec::new();
        unpinned_in_text(text, "/tool_args", &mut out);
        assert_eq!(out, ["/tool_args/amount", "/tool_args/items/1/p~1x"]);

        let value: Value = serde_json::from_str(text).unwrap();
        let mut from_value = Vec::new();
        unpinned_in_value(&value, "/tool_args", &mut from_value);
        // A Value keeps integers exactly, but has already rounded the long decimal.
        assert_eq!(from_value, ["/tool_args/amount"]);
    }

    /// Arguments as tools get them: named numbers (any integer, any finite float), strings
    /// and flags, in lists and one level of nesting; names with `/`, `~` and non-ASCII.
    fn arguments() -> impl Strategy<Value = Value> {
        let number = prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
        ];
        let scalar = prop_oneof![
            4 => number,
            1 => Just(Value::Null),
            1 => any::<bool>().prop_map(Value::Bool),
            1 => "[a-z0-9\"\\ é]{0,5}".prop_map(Value::String),
        ];
        let field = prop_oneof![
            scalar.clone(),
            proptest::collection::vec(scalar.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z/~é]{1,3}", scalar, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ];
        proptest::collection::btree_map("[a-z_/~é]{1,6}", field, 0..6)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn what_serializers_write_is_pinned(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
            prop_assert!(is_pinned(&format!("{f:e}")), "{f:e}");
            prop_assert!(is_pinned(&serde_json::to_string(&f).unwrap()), "{f}");
            prop_assert!(is_pinned(&format!("{f:E}")), "{f:E}");
        }

        #[test]
        fn integers_are_pinned_exactly_when_their_float64_equals_them(n in any::<i64>(), u in any::<u64>()) {
            prop_assert_eq!(is_pinned(&n.to_string()), (n as f64) as i128 == i128::from(n));
            prop_assert_eq!(is_pinned(&u.to_string()), (u as f64) as u128 == u128::from(u));
        }

        #[test]
        fn a_longer_decimal_of_the_same_float_is_not_pinned(f in any::<f64>().prop_filter("finite, non-zero", |f| f.is_finite() && *f != 0.0)) {
            // One more significant digit that does not change the float64.
            let text = format!("{f:e}");
            let (mantissa, exp) = text.split_once('e').unwrap();
            let digits = if mantissa.contains('.') { "00000000000000000001" } else { ".00000000000000000001" };
            let longer = format!("{mantissa}{digits}e{exp}");
            // 1e-20 relative is far below a float64's resolution: the same float64, unless the
            // shortest decimal sits exactly on a rounding tie (then any nudge flips it).
            prop_assume!(longer.parse::<f64>().unwrap() == f);
            prop_assert!(!is_pinned(&longer), "{longer}");
        }

        #[test]
        fn the_walker_never_panics(text in "\\PC{0,64}") {
            let mut out = Vec::new();
            unpinned_in_text(&text, "/x", &mut out);
            let _ = is_pinned(&text);
        }

        #[test]
        fn text_and_value_agree_on_what_serde_json_writes(v in arguments()) {
            let mut from_text = Vec::new();
            unpinned_in_text(&serde_json::to_string(&v).unwrap(), "/v", &mut from_text);
            let mut from_value = Vec::new();
            unpinned_in_value(&v, "/v", &mut from_value);
            from_text.sort();
            from_value.sort();
            prop_assert_eq!(from_text, from_value);
        }
    }

    #[test]
    fn text_the_walker_cannot_follow_is_reported_whole() {
        for bad in ["{", "[1,", "{\"a\" 1}", "nul", "{\"a\": 1]", "@"] {
            let mut out = vec!["/before".to_owned()];
            unpinned_in_text(bad, "/x", &mut out);
            assert_eq!(out, ["/before", "/x"], "{bad}");
        }
    }
}
