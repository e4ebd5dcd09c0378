//! `verify_ledger` over whole ledgers: the fixtures' `ledger.json` verify, and editing any
//! field of any entry or checkpoint breaks them (mechanically, field by field).

mod support;

use ledgix::ledger::{LedgerCheckpoint, LedgerEntry, LedgerError, TrustedKeys, verify_ledger};
use serde_json::{Value, json};
use support::ledger::{SETS, Writer, event, integers_a_float_cannot_hold, ledger, read, trusted};

#[test]
fn each_fixture_ledger_verifies_completely() {
    for set in SETS {
        let l = ledger(set);
        let v = verify_ledger(&l.entries, &l.checkpoints, &trusted(set))
            .unwrap_or_else(|e| panic!("{set}: {e}"));
        assert_eq!(v.entries_verified, l.entries.len());
        assert!(v.redacted_entries.is_empty());
        // Only the entries whose hashed integers a float64 cannot hold (the Vault's fixtures
        // carry 2^53 + 1 on purpose) are reported, with those numbers named.
        let raw: Value = serde_json::from_str(&read(set, "ledger.json")).unwrap();
        let expected: Vec<(u64, Vec<String>)> = raw["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["seq"].as_u64().unwrap(), integers_a_float_cannot_hold(e)))
            .filter(|(_, unpinned)| !unpinned.is_empty())
            .collect();
        assert!(!expected.is_empty(), "{set}");
        let mut got = v.unpinned_numbers.clone();
        got.sort();
        assert_eq!(got, expected, "{set}");
        let mut fields = v.uncommitted_fields.clone();
        fields.sort();
        let want: Vec<(u64, Vec<&str>)> = expected
            .iter()
            .map(|(seq, _)| (*seq, vec!["tool_args"]))
            .collect();
        assert_eq!(fields, want, "{set}");
        assert_eq!(v.checkpoints_verified, 3);
        assert!(v.chain_from_genesis);
        assert!(v.root_checked, "{set}: every leaf is given");
        assert_eq!(v.roots_checked, 3);
        let last = l
            .checkpoints
            .iter()
            .max_by_key(|c| c.checkpoint_id)
            .unwrap();
        assert_eq!(v.latest_checkpoint_id, Some(last.checkpoint_id));
        assert_eq!(
            v.latest_checkpoint_hash.as_deref(),
            Some(last.checkpoint_hash.as_str())
        );
        assert_eq!(v.latest_tree_size, Some(l.entries.len() as u64));
        let newest = l.entries.iter().max_by_key(|e| e.seq).unwrap();
        assert_eq!(
            v.latest_leaf_hash.as_deref(),
            Some(newest.leaf_hash.as_str())
        );

        // Input order does not matter.
        let (mut entries, mut checkpoints) = (l.entries.clone(), l.checkpoints.clone());
        entries.reverse();
        checkpoints.reverse();
        assert_eq!(
            verify_ledger(&entries, &checkpoints, &trusted(set)).unwrap(),
            v
        );
    }
}

#[test]
fn partial_lists_verify_and_say_what_was_not_checked() {
    let l = ledger("ledger");
    let keys = trusted("ledger");
    // The newest two checkpoints only: the chain does not start at the ledger's first.
    let v = verify_ledger(&l.entries, &l.checkpoints[1..], &keys).unwrap();
    assert!(!v.chain_from_genesis);
    assert_eq!(v.checkpoints_verified, 2);
    assert!(v.root_checked);
    // The first ten entries: only the first checkpoint's tree (8 leaves) is complete.
    let v = verify_ledger(&l.entries[..10], &l.checkpoints, &keys).unwrap();
    assert_eq!(
        (v.entries_verified, v.roots_checked, v.root_checked),
        (10, 1, false)
    );
    // No entries with a leaf 0: no root can be recomputed.
    let v = verify_ledger(&l.entries[1..], &l.checkpoints, &keys).unwrap();
    assert_eq!((v.roots_checked, v.root_checked), (0, false));
    // Nothing at all.
    let v = verify_ledger(&[], &[], &keys).unwrap();
    assert_eq!(
        (v.entries_verified, v.checkpoints_verified, v.root_checked),
        (0, 0, false)
    );
}

#[test]
fn structural_breaks_are_named() {
    let l = ledger("ledger");
    let keys = trusted("ledger");
    let chain_gap = [l.checkpoints[0].clone(), l.checkpoints[2].clone()];
    assert!(matches!(
        verify_ledger(&l.entries, &chain_gap, &keys),
        Err(LedgerError::ChainBroken {
            checkpoint_id: 3,
            ..
        })
    ));
    let mut twice = l.entries.clone();
    twice.push(l.entries[5].clone());
    assert_eq!(
        verify_ledger(&twice, &l.checkpoints, &keys),
        Err(LedgerError::Duplicate {
            what: "seq",
            value: l.entries[5].seq
        })
    );
    let mut same_leaf = l.entries.clone();
    same_leaf[5].seq = 1000;
    same_leaf.push(l.entries[5].clone());
    assert_eq!(
        verify_ledger(&same_leaf, &l.checkpoints, &keys),
        Err(LedgerError::Duplicate {
            what: "leaf_index",
            value: 5
        })
    );
    let mut cps = l.checkpoints.clone();
    cps.push(l.checkpoints[1].clone());
    assert_eq!(
        verify_ledger(&l.entries, &cps, &keys),
        Err(LedgerError::Duplicate {
            what: "checkpoint_id",
            value: 2
        })
    );
    let mut moved = l.entries.clone();
    moved[3].checkpoint_id = Some(2);
    assert!(matches!(
        verify_ledger(&moved, &l.checkpoints, &keys),
        Err(LedgerError::SealMismatch { seq: 4, .. })
    ));
    let mut unsealed = l.entries.clone();
    unsealed[3].leaf_index = None;
    assert!(matches!(
        verify_ledger(&unsealed, &l.checkpoints, &keys),
        Err(LedgerError::SealMismatch { seq: 4, .. })
    ));
}

#[test]
fn written_ledgers_catch_wrong_roots_shrinking_trees_and_report_redactions() {
    let mut w = Writer::new(11, "k");
    for i in 0..5 {
        let mut e = event(i, 3);
        if i == 2 {
            e.intent_hash.clear();
        }
        w.record(e);
    }
    w.seal();
    w.record(event(5, 3));
    w.seal();
    let keys = w.trusted();
    let v = verify_ledger(&w.entries, &w.checkpoints, &keys).unwrap();
    assert_eq!(v.redacted_entries, [3]);
    assert_eq!((v.roots_checked, v.root_checked), (2, true));

    // A checkpoint that signs a root other than the leaves' (correctly signed and chained).
    let mut wrong = w.checkpoints.clone();
    wrong[1].root_hash = wrong[0].root_hash.clone();
    w.sign_checkpoint(&mut wrong[1]);
    assert!(matches!(
        verify_ledger(&w.entries, &wrong, &keys),
        Err(LedgerError::RootMismatch {
            checkpoint_id: 2,
            tree_size: 6,
            ..
        })
    ));

    // A later checkpoint over a smaller tree.
    let mut shrunk = w.checkpoints.clone();
    let mut third: LedgerCheckpoint = shrunk[1].clone();
    third.checkpoint_id = 3;
    third.tree_size = 5;
    third.root_hash = shrunk[0].root_hash.clone();
    third.prev_checkpoint_hash = shrunk[1].checkpoint_hash.clone();
    w.sign_checkpoint(&mut third);
    shrunk.push(third);
    assert_eq!(
        verify_ledger(&w.entries, &shrunk, &keys),
        Err(LedgerError::TreeShrank {
            checkpoint_id: 3,
            tree_size: 5,
            previous: 6
        })
    );
}

/// Fields the Vault's format does not commit to (no hash or signature covers them). Editing
/// them cannot be detected by anyone; the test below proves it for each, so this list is
/// exactly the format's blind spots, nothing more.
const UNCOMMITTED_ENTRY_FIELDS: [&str; 1] = ["seq"];
const UNCOMMITTED_CHECKPOINT_FIELDS: [&str; 4] = [
    "microblock_id",
    "export_uri",
    "export_status",
    "exported_at",
];

/// A value of the same shape that differs from `v` (one character, one unit, one element).
fn mutate(v: &Value) -> Value {
    match v {
        Value::Null => json!(1),
        Value::Bool(b) => json!(!b),
        Value::Number(n) => match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => json!(u + 1),
            (None, Some(f)) if f != 0.0 => json!(f * 1.5),
            _ => json!(1),
        },
        Value::String(s) => Value::String(mutate_str(s)),
        Value::Array(items) => match items.split_first() {
            None => json!(["tampered"]),
            Some((first, rest)) => {
                let mut out = vec![mutate(first)];
                out.extend(rest.iter().cloned());
                Value::Array(out)
            }
        },
        Value::Object(map) => {
            let mut out = map.clone();
            match map.keys().next() {
                None => {
                    out.insert("tampered".into(), json!(1));
                }
                Some(k) => {
                    out.insert(k.clone(), mutate(&map[k]));
                }
            }
            Value::Object(out)
        }
    }
}

/// Changes the middle character within its class (hex stays hex, base64url stays base64url,
/// a date stays a date).
fn mutate_str(s: &str) -> String {
    if s.is_empty() {
        return "x".into();
    }
    let mut chars: Vec<char> = s.chars().collect();
    let i = chars.len() / 2;
    let c = chars[i];
    let rotate = |c: char, lo: char, n: u8| ((c as u8 - lo as u8 + 1) % n + lo as u8) as char;
    chars[i] = match c {
        '0'..='9' => rotate(c, '0', 10),
        'a'..='f' => rotate(c, 'a', 6),
        'g'..='z' => rotate(c, 'g', 20),
        'A'..='Z' => rotate(c, 'A', 26),
        _ => 'x',
    };
    chars.into_iter().collect()
}

/// A value `verify_ledger` cannot tie to anything (for the uncommitted fields).
fn fresh(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_u64().unwrap_or(0) + 1_000_000),
        _ => json!("edited"),
    }
}

#[test]
fn editing_any_field_of_any_entry_or_checkpoint_breaks_the_ledger() {
    let mut edits = 0;
    for set in SETS {
        let l = ledger(set);
        let keys: TrustedKeys = trusted(set);
        let raw: Value = serde_json::from_str(&read(set, "ledger.json")).unwrap();

        for (i, original) in raw["entries"].as_array().unwrap().iter().enumerate() {
            for (field, value) in original.as_object().unwrap() {
                let uncommitted = UNCOMMITTED_ENTRY_FIELDS.contains(&field.as_str());
                let mut edited = original.clone();
                edited[field] = if uncommitted {
                    fresh(value)
                } else {
                    mutate(value)
                };
                assert_ne!(&edited, original);
                let result = serde_json::from_value::<LedgerEntry>(edited)
                    .map_err(|e| e.to_string())
                    .and_then(|entry| {
                        let mut entries = l.entries.clone();
                        entries[i] = entry;
                        verify_ledger(&entries, &l.checkpoints, &keys).map_err(|e| e.to_string())
                    });
                assert_eq!(
                    result.is_ok(),
                    uncommitted,
                    "{set}: entry #{i} field {field}: {result:?}"
                );
                edits += 1;
            }
        }

        for (i, original) in raw["checkpoints"].as_array().unwrap().iter().enumerate() {
            let mut fields: Vec<String> = original.as_object().unwrap().keys().cloned().collect();
            fields.push("exported_at".into()); // absent in the fixtures: setting it is an edit
            for field in fields {
                let uncommitted = UNCOMMITTED_CHECKPOINT_FIELDS.contains(&field.as_str());
                let value = original.get(&field).cloned().unwrap_or(Value::Null);
                let mut edited = original.clone();
                edited[&field] = if uncommitted {
                    fresh(&value)
                } else {
                    mutate(&value)
                };
                let result = serde_json::from_value::<LedgerCheckpoint>(edited)
                    .map_err(|e| e.to_string())
                    .and_then(|cp| {
                        let mut cps = l.checkpoints.clone();
                        cps[i] = cp;
                        verify_ledger(&l.entries, &cps, &keys).map_err(|e| e.to_string())
                    });
                assert_eq!(
                    result.is_ok(),
                    uncommitted,
                    "{set}: checkpoint #{i} field {field}: {result:?}"
                );
                edits += 1;
            }
        }
    }
    assert!(edits > 1000, "{edits}");
}

#[test]
fn fields_a_layout_does_not_hash_are_reported_not_vouched_for() {
    // The canonical_version 1 layout does not hash the fields ledgix-python's variant adds,
    // nor the version 2 fields: showing them is not an edit anyone can detect, so the
    // verifier lists them instead of passing them off as verified.
    let l = ledger("ledger");
    let mut entries = l.entries.clone();
    entries[4].action_category = "payments".into();
    entries[4].decision_status = Some("denied".into());
    let v = verify_ledger(&entries, &l.checkpoints, &trusted("ledger")).unwrap();
    let shown = v
        .uncommitted_fields
        .iter()
        .find(|(seq, _)| *seq == entries[4].seq)
        .unwrap();
    // Its `tool_args` also holds 2^53 + 1, which no float64 hash pins.
    assert_eq!(shown.1, ["action_category", "decision_status", "tool_args"]);
}
