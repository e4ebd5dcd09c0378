//! Check 6 of LEDGER.md: no panic on any input. Arbitrary bytes, arbitrary JSON and
//! randomly mutated fixture JSON go through parsing and verification (bounded case counts,
//! so the suite stays fast; raise `PROPTEST_CASES` for a longer run).

mod support;

use ledgix::ledger::{
    LedgerCheckpoint, LedgerEntry, ProofBundle, TrustedKeys, verify_ledger, verify_proof_bundle,
};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::ledger::{SETS, read, trusted};

fn keys() -> TrustedKeys {
    trusted("ledger")
}

/// Parses and verifies whatever it is given; only a panic can fail.
fn exercise(text: &[u8], keys: &TrustedKeys) {
    if let Ok(bundle) = serde_json::from_slice::<ProofBundle>(text) {
        let _ = verify_proof_bundle(&bundle, keys);
    }
    if let Ok(value) = serde_json::from_slice::<Value>(text) {
        exercise_value(&value, keys);
    }
}

fn exercise_value(value: &Value, keys: &TrustedKeys) {
    if let Ok(bundle) = serde_json::from_value::<ProofBundle>(value.clone()) {
        let _ = verify_proof_bundle(&bundle, keys);
    }
    let entries = value.get("entries").cloned().unwrap_or(Value::Null);
    let checkpoints = value.get("checkpoints").cloned().unwrap_or(Value::Null);
    if let (Ok(e), Ok(c)) = (
        serde_json::from_value::<Vec<LedgerEntry>>(entries),
        serde_json::from_value::<Vec<LedgerCheckpoint>>(checkpoints),
    ) {
        let _ = verify_ledger(&e, &c, keys);
    }
}

/// Values that tend to break parsers and arithmetic.
fn nasty() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e300)),
        Just(json!(-0.0)),
        Just(json!(0.5)),
        Just(json!("")),
        Just(json!("Ed25519")),
        Just(json!("0".repeat(64))),
        Just(json!("F".repeat(64))),
        Just(json!("é".repeat(40))),
        Just(json!([])),
        Just(json!({})),
        Just(Value::Array(vec![json!("00".repeat(32)); 70])),
        any::<u64>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9_=+/-]{0,90}".prop_map(Value::String),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    nasty().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("event".to_owned()),
                    Just("inclusion".to_owned()),
                    Just("checkpoint".to_owned()),
                    Just("path".to_owned()),
                    Just("tree_size".to_owned()),
                    "[a-z_]{1,12}".prop_map(String::from),
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces (or removes) the node reached by following `steps` into `value`.
fn mutate_at(value: &mut Value, steps: &[usize], replacement: Value, remove: bool) {
    let Some((&step, rest)) = steps.split_first() else {
        *value = replacement;
        return;
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(step % map.len())
                .cloned()
                .unwrap_or_default();
            if rest.is_empty() && remove {
                map.remove(&key);
            } else if let Some(child) = map.get_mut(&key) {
                mutate_at(child, rest, replacement, remove);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let len = items.len();
            if rest.is_empty() && remove {
                items.remove(step % len);
            } else if let Some(child) = items.get_mut(step % len) {
                mutate_at(child, rest, replacement, remove);
            }
        }
        other => *other = replacement,
    }
}

fn fixture_texts() -> Vec<String> {
    let mut out = Vec::new();
    for set in SETS {
        out.push(read(set, "ledger.json"));
        out.push(read(set, "bundles/valid-000.json"));
        out.push(read(set, "bundles/valid-010.json"));
        out.push(read(
            set,
            "bundles/tampered-000-forged-key-reusing-trusted-kid.json",
        ));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        exercise(&bytes, &keys());
    }

    #[test]
    fn arbitrary_json_never_panics(value in arbitrary_json()) {
        let keys = keys();
        exercise_value(&value, &keys);
        exercise_value(&json!({"event": value.clone(), "inclusion": value.clone()}), &keys);
        exercise_value(&json!({"entries": [value.clone()], "checkpoints": [value]}), &keys);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        which in any::<usize>(),
        edits in proptest::collection::vec(
            (proptest::collection::vec(any::<usize>(), 1..7), nasty(), any::<bool>()),
            1..5,
        ),
    ) {
        let texts = fixture_texts();
        let text = &texts[which % texts.len()];
        let mut value: Value = serde_json::from_str(text).unwrap();
        for (steps, replacement, remove) in edits {
            mutate_at(&mut value, &steps, replacement, remove);
        }
        exercise_value(&value, &keys());
        // Byte-level damage to the text too.
        let mut bytes = text.clone().into_bytes();
        let cut = which % bytes.len();
        bytes.truncate(cut);
        exercise(&bytes, &keys());
    }
}

#[test]
fn deeply_nested_arguments_are_an_error_not_a_stack_overflow() {
    let mut bundle: Value =
        serde_json::from_str(&read("ledger", "bundles/valid-000.json")).unwrap();
    let mut deep = json!(1);
    for _ in 0..200 {
        deep = json!([deep]);
    }
    let mut parsed: ProofBundle = serde_json::from_value(bundle.clone()).unwrap();
    // As received: the parser refuses it, naming the field.
    bundle["event"]["tool_args"] = json!({ "a": deep });
    let err = serde_json::from_value::<ProofBundle>(bundle).unwrap_err();
    assert!(err.to_string().contains("tool_args"), "{err}");
    // Built in code: the verifier refuses it, naming the field.
    parsed.event.tool_args = json!({ "a": deep });
    let err = verify_proof_bundle(&parsed, &keys()).unwrap_err();
    assert!(err.to_string().contains("tool_args"), "{err}");
}
