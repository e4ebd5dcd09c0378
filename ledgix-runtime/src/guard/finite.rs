//! Finds non-finite floats in a value before it becomes `tool_args`.
//!
//! JSON has no NaN or infinity: `serde_json` turns them into `null`, so the Vault would approve
//! `{"amount": null}` while the body runs with `inf`. [`check`] walks the value with serde and
//! names the first non-finite float, so the call is refused instead.

use std::fmt;

use serde::ser::{self, Serialize};

/// The path of the first non-finite float, e.g. `.items[2].price`, or `""` at the top.
#[derive(Debug)]
pub(crate) struct NonFinite(String);

impl fmt::Display for NonFinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NonFinite {}

impl ser::Error for NonFinite {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        NonFinite(msg.to_string())
    }
}

/// `Ok` when every float in `value` is finite; else a message naming where.
pub(crate) fn check<T: Serialize + ?Sized>(value: &T) -> Result<(), String> {
    value
        .serialize(Checker)
        .map_err(|e| format!("{e}: JSON has no NaN or infinity, it would be sent as null"))
}

#[derive(Clone, Copy)]
struct Checker;

fn float(v: f64) -> Result<(), NonFinite> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(NonFinite(format!("non-finite number {v}")))
    }
}

macro_rules! ok_scalars {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name(self, _: $ty) -> Result<(), NonFinite> { Ok(()) })*
    };
}

/// Serializer methods that start a compound value: the checker itself walks its elements.
macro_rules! compound {
    ($($name:ident($($arg:ty),*)),*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<Checker, NonFinite> { Ok(self) })*
    };
}

impl ser::Serializer for Checker {
    type Ok = ();
    type Error = NonFinite;
    type SerializeSeq = Checker;
    type SerializeTuple = Checker;
    type SerializeTupleStruct = Checker;
    type SerializeTupleVariant = Checker;
    type SerializeMap = Checker;
    type SerializeStruct = Checker;
    type SerializeStructVariant = Checker;

    ok_scalars!(serialize_bool: bool, serialize_i8: i8, serialize_i16: i16, serialize_i32: i32,
        serialize_i64: i64, serialize_i128: i128, serialize_u8: u8, serialize_u16: u16,
        serialize_u32: u32, serialize_u64: u64, serialize_u128: u128, serialize_char: char,
        serialize_str: &str, serialize_bytes: &[u8]);

    fn serialize_f32(self, v: f32) -> Result<(), NonFinite> {
        float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<(), NonFinite> {
        float(v)
    }
    fn serialize_none(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result<(), NonFinite> {
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), NonFinite> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        v: &T,
    ) -> Result<(), NonFinite> {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<(), NonFinite> {
        v.serialize(self).map_err(|e| at(&format!(".{variant}"), e))
    }
    compound!(
        serialize_seq(Option<usize>),
        serialize_tuple(usize),
        serialize_tuple_struct(&'static str, usize),
        serialize_tuple_variant(&'static str, u32, &'static str, usize),
        serialize_map(Option<usize>),
        serialize_struct(&'static str, usize),
        serialize_struct_variant(&'static str, u32, &'static str, usize)
    );
}

/// Prefixes the location of a failure.
fn at(place: &str, e: NonFinite) -> NonFinite {
    if e.0.starts_with("non-finite") {
        NonFinite(format!("{} at {place}", e.0))
    } else {
        e
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Checker {
            type Ok = ();
            type Error = NonFinite;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
                v.serialize(*self)
            }
            fn end(self) -> Result<(), NonFinite> {
                Ok(())
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Checker {
    type Ok = ();
    type Error = NonFinite;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, k: &T) -> Result<(), NonFinite> {
        k.serialize(*self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), NonFinite> {
        v.serialize(*self)
    }
    fn end(self) -> Result<(), NonFinite> {
        Ok(())
    }
}

macro_rules! fields {
    ($($trait:ident),*) => {$(
        impl ser::$trait for Checker {
            type Ok = ();
            type Error = NonFinite;
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> Result<(), NonFinite> {
                v.serialize(*self).map_err(|e| at(&format!(".{key}"), e))
            }
            fn end(self) -> Result<(), NonFinite> {
                Ok(())
            }
        }
    )*};
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::check;
    use std::collections::BTreeMap;

    #[derive(serde::Serialize)]
    struct Line {
        sku: String,
        price: f64,
    }

    #[test]
    fn finite_values_pass() {
        assert!(check(&1.5f64).is_ok());
        assert!(check(&vec![Some(1.0f32), None]).is_ok());
        assert!(
            check(&Line {
                sku: "a".into(),
                price: 2.0
            })
            .is_ok()
        );
        assert!(check("text").is_ok());
    }

    #[test]
    fn non_finite_floats_are_found_and_located() {
        assert!(check(&f64::NAN).unwrap_err().contains("NaN"));
        assert!(check(&f32::INFINITY).unwrap_err().contains("inf"));
        let err = check(&Line {
            sku: "a".into(),
            price: f64::NEG_INFINITY,
        })
        .unwrap_err();
        assert!(err.contains(".price") && err.contains("-inf"), "{err}");
        let mut map = BTreeMap::new();
        map.insert("x", vec![1.0, f64::NAN]);
        assert!(check(&map).is_err());
        assert!(check(&Some((1u8, f64::NAN))).is_err());
    }
}
