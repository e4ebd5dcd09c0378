//! Numbers the ledger hash cannot pin. The event hash encodes every JSON number as a
//! float64, so editing a number into another with the same float64 (2^53 into 2^53 + 1,
//! `0.1` into `0.10000000000000000001`) keeps every hash and signature intact. The verifier
//! must then say the body is not verified and name the number — never claim it checked it.

mod support;

use ledgix::ledger::{LedgerError, ProofBundle, verify_ledger, verify_proof_bundle};
use serde_json::{Value, json};
use support::ledger::{Ledger, Writer, event};

/// A sealed two-event ledger whose first event carries `tool_args`.
fn ledger_with(tool_args: Value) -> Writer {
    let mut w = Writer::new(3, "numbers-key");
    let mut first = event(0, 1);
    first.tool_args = tool_args;
    w.record(first);
    w.record(event(1, 2));
    w.seal();
    w
}

fn args() -> Value {
    json!({"amount": 9_007_199_254_740_992_u64, "rate": 0.1, "items": [{"qty": 3}]})
}

/// Edits `text` once: `from` must occur exactly once.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from} in {text}");
    text.replace(from, to)
}

#[test]
fn an_edit_to_a_number_with_the_same_float64_is_reported_never_verified() {
    let w = ledger_with(args());
    let keys = w.trusted();
    let text = serde_json::to_string(&w.bundle(0)).unwrap();
    let original: ProofBundle = serde_json::from_str(&text).unwrap();
    let v = verify_proof_bundle(&original, &keys).unwrap();
    assert!(v.event_body_verified, "as written, every number is pinned");
    assert!(v.unpinned_numbers.is_empty() && v.uncommitted_fields.is_empty());

    for (from, to, pointer, field) in [
        (
            "9007199254740992",
            "9007199254740993",
            "/tool_args/amount",
            "tool_args",
        ),
        (
            r#""rate":0.1"#,
            r#""rate":0.10000000000000000001"#,
            "/tool_args/rate",
            "tool_args",
        ),
        (
            r#""qty":3"#,
            r#""qty":3.0000000000000001"#,
            "/tool_args/items/0/qty",
            "tool_args",
        ),
        (
            r#""confidence":0.85"#,
            r#""confidence":0.850000000000000000001"#,
            "/confidence",
            "confidence",
        ),
        (
            r#""line":3"#,
            r#""line":30000000000000000000001e-22"#,
            "/citations/0/line",
            "citations",
        ),
    ] {
        let edited: ProofBundle = serde_json::from_str(&edit(&text, from, to)).unwrap();
        // Every hash and signature still checks out: the edit is invisible to them...
        let v =
            verify_proof_bundle(&edited, &keys).unwrap_or_else(|e| panic!("{from} -> {to}: {e}"));
        assert_eq!(v.event_hash, original.event.event_hash);
        // ...so the body is not claimed verified, and the number is named.
        assert!(!v.event_body_verified, "{from} -> {to}");
        assert_eq!(v.unpinned_numbers, [pointer], "{from} -> {to}");
        assert_eq!(v.uncommitted_fields, [field], "{from} -> {to}");
    }

    // A pinned number edited into another float64 is still an event hash mismatch.
    let edited: ProofBundle =
        serde_json::from_str(&edit(&text, "9007199254740992", "9007199254740994")).unwrap();
    assert!(matches!(
        verify_proof_bundle(&edited, &keys),
        Err(LedgerError::EventHashMismatch { .. })
    ));
}

#[test]
fn verify_ledger_reports_the_same_edit() {
    let w = ledger_with(args());
    let keys = w.trusted();
    let text = serde_json::to_string(&json!({"entries": w.entries, "checkpoints": w.checkpoints}))
        .unwrap();
    let whole = |text: &str| {
        let l: Ledger = serde_json::from_str(text).unwrap();
        verify_ledger(&l.entries, &l.checkpoints, &keys).unwrap()
    };
    let v = whole(&text);
    assert_eq!(v.entries_verified, 2);
    assert!(v.unpinned_numbers.is_empty() && v.uncommitted_fields.is_empty());
    assert!(v.root_checked);

    for (from, to, pointer) in [
        ("9007199254740992", "9007199254740993", "/tool_args/amount"),
        (
            r#""rate":0.1"#,
            r#""rate":0.10000000000000000001"#,
            "/tool_args/rate",
        ),
    ] {
        let v = whole(&edit(&text, from, to));
        assert_eq!(v.entries_verified, 2);
        assert!(v.root_checked);
        assert_eq!(v.unpinned_numbers, [(1, vec![pointer.to_owned()])], "{to}");
        assert_eq!(v.uncommitted_fields, [(1, vec!["tool_args"])], "{to}");
    }
}

#[test]
fn an_entry_built_in_code_is_checked_too() {
    // Not parsed from text: the integers its values hold are checked all the same.
    let w =
        ledger_with(json!({"big": 9_007_199_254_740_993_u64, "fine": 18_014_398_509_481_984_u64}));
    let v = verify_proof_bundle(&w.bundle(0), &w.trusted()).unwrap();
    assert!(!v.event_body_verified);
    assert_eq!(v.unpinned_numbers, ["/tool_args/big"]);
}
