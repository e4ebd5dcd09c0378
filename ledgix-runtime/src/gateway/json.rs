//! The request body as JSON, parsed strictly: an object with a key twice is refused.
//!
//! The gateway forwards the body unchanged, and the service behind it parses it again. With
//! `{"amount": 1, "amount": 100000}` a parser that keeps the last value (serde_json, Python)
//! and one that keeps the first would read different arguments from the same bytes: the hash
//! would match one reading while the service acts on the other. No reading is ambiguous when
//! no key repeats.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parses `body` as one JSON value; an object with a duplicate key is an error.
pub(crate) fn parse(body: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<Strict>(body).map(|s| s.0)
}

/// A JSON value whose objects have no duplicate key.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands a non-finite float; refuse rather than invent a value.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Strict::deserialize(d).map(|s| s.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let mut shown: String = key
                    .chars()
                    .take(64)
                    .flat_map(char::escape_default)
                    .collect();
                if key.chars().nth(64).is_some() {
                    shown.push('…');
                }
                return Err(de::Error::custom(format!(
                    "the key `{shown}` appears twice in one object"
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn parses_like_serde_json_without_duplicates() {
        let text =
            br#"{"a":[1,-2,3.5,1e300,null,true,"x\u00e9"],"b":{"c":{}},"d":18446744073709551615}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_slice::<Value>(text).unwrap()
        );
        assert_eq!(parse(b"5").unwrap(), json!(5));
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        for text in [
            &br#"{"a":1,"a":1}"#[..],
            br#"{"a":1,"b":{"x":1,"x":2}}"#,
            br#"[{"k":1,"k":2}]"#,
            br#"{"\u0061":1,"a":2}"#,
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains("appears twice"), "{e}");
        }
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        for text in [
            &b""[..],
            b"{",
            b"{}x",
            b"\xff",
            br#""\ud800""#,
            b"nan",
            &[b'['; 10_000],
        ] {
            assert!(parse(text).is_err());
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = parse(&bytes);
        }
    }
}
