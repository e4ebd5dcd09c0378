//! Input from the network and the environment never panics: arbitrary bytes and arbitrary JSON
//! into the clearance-answer parser, arbitrary strings into the duration and JWKS parsers.

use ledgix::KeySet;
use ledgix::{ClearanceResponse, ConfidenceBucket, ProtocolError};
use proptest::prelude::*;
use serde_json::{Value, json};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("approved"),
            Just("denied"),
            Just("pending_review"),
            Just("processing"),
            Just("approved_pending_review"),
            Just("extra_high"),
            Just("none"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("status".to_string()),
                    Just("token".to_string()),
                    Just("request_id".to_string()),
                    Just("decision_status".to_string()),
                    Just("approved".to_string()),
                    Just("confidence".to_string()),
                    Just("confidence_bucket".to_string()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..8,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn clearance_answers_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ClearanceResponse::from_json(&bytes);
    }

    #[test]
    fn clearance_json_parses_or_is_a_protocol_error(v in json_value()) {
        match ClearanceResponse::from_json(v.to_string().as_bytes()) {
            Ok(r) => {
                // Whatever parsed is self-consistent: an approval always carries a token, and
                // what we write back parses to the same answer.
                if r.is_approved() {
                    prop_assert!(r.token.as_deref().is_some_and(|t| !t.is_empty()));
                }
                let again = ClearanceResponse::from_json(&serde_json::to_vec(&r).unwrap());
                prop_assert_eq!(again, Ok(r));
            }
            Err(ProtocolError::Malformed(_) | ProtocolError::Contradiction(_)) => {}
            Err(other) => prop_assert!(false, "unexpected error {other:?}"),
        }
    }

    #[test]
    fn any_confidence_bucket_string_parses_and_round_trips(s in "\\PC{0,24}") {
        let text = serde_json::to_string(&s).unwrap();
        let b: ConfidenceBucket = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(b.as_str(), s.as_str());
        prop_assert_eq!(serde_json::to_string(&b).unwrap(), text);
    }

    #[test]
    fn jwks_never_panic(v in json_value(), x in "[A-Za-z0-9_-]{0,60}") {
        let _ = KeySet::from_jwks_json(&v.to_string());
        let doc = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": x}]});
        let _ = KeySet::from_jwks_json(&doc.to_string());
    }
}
