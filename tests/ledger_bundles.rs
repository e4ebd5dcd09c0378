//! `verify_proof_bundle` against the fixture bundles (ledgix-python 0.4.0 hashing, and the
//! canonical_version 2 and 3 layouts) and against bundles written here with real keys.

mod support;

use ledgix::ledger::cbor::{self, KeyOrder};
use ledgix::ledger::hash::{self, EventEncoding, EventLayout};
use ledgix::ledger::merkle::MerkleError;
use ledgix::ledger::{LedgerError, ProofBundle, TrustedKeys, verify_proof_bundle};
use serde_json::{Value, json};
use support::ledger::{
    SETS, Writer, b64, cases, event, integers_a_float_cannot_hold, read, trusted, written,
};

fn bundle(set: &str, file: &str) -> ProofBundle {
    serde_json::from_str(&read(set, file)).unwrap_or_else(|e| panic!("{set}/{file}: {e}"))
}

#[test]
fn every_valid_fixture_bundle_verifies_with_its_body_checked() {
    let (mut count, mut unpinned) = (0, 0);
    for set in SETS {
        let keys = trusted(set);
        for case in cases(set).iter().filter(|c| c.expect == "valid") {
            let b = bundle(set, &case.file);
            let v = verify_proof_bundle(&b, &keys)
                .unwrap_or_else(|e| panic!("{set}/{} ({}): {e}", case.file, case.why));
            // The body is verified unless a hashed integer is not its float64 (the Vault's
            // fixtures carry 2^53 + 1 on purpose): then it says which, never "verified".
            let raw: Value = serde_json::from_str(&read(set, &case.file)).unwrap();
            let expected = integers_a_float_cannot_hold(&raw["event"]);
            assert_eq!(v.unpinned_numbers, expected, "{set}/{}", case.file);
            assert_eq!(
                v.event_body_verified,
                expected.is_empty(),
                "{set}/{}",
                case.file
            );
            let fields: Vec<&str> = ["tool_args", "citations", "evidence_chunks"]
                .into_iter()
                .filter(|f| expected.iter().any(|p| p.starts_with(&format!("/{f}/"))))
                .collect();
            assert_eq!(v.uncommitted_fields, fields, "{set}/{}", case.file);
            unpinned += usize::from(!expected.is_empty());
            assert_eq!(v.event_encoding, Some(EventEncoding::PRIMARY));
            assert_eq!(v.request_id, b.event.request_id);
            assert_eq!(v.event_hash, b.event.event_hash);
            assert_eq!(Some(v.leaf_index), b.event.leaf_index);
            assert_eq!(v.tree_size, b.inclusion.checkpoint.tree_size);
            assert_eq!(v.checkpoint_id, b.inclusion.checkpoint.checkpoint_id);
            assert_eq!(v.root_hash, b.inclusion.checkpoint.root_hash);
            assert_eq!(v.consistency_verified, b.consistency.is_some());
            let latest = b
                .consistency
                .as_ref()
                .map_or(&b.inclusion.checkpoint, |c| &c.to_checkpoint);
            assert_eq!(
                (v.latest_checkpoint_id, v.latest_tree_size),
                (latest.checkpoint_id, latest.tree_size)
            );
            assert_eq!(v.signer_key_ids.len(), 1);
            assert!(
                case.why
                    .contains(&format!("leaf {} of {}", v.leaf_index, v.tree_size)),
                "{}",
                case.why
            );

            // What we serialize verifies again, and parses back to the same bundle.
            let text = serde_json::to_string(&b).unwrap();
            let again: ProofBundle = serde_json::from_str(&text).unwrap();
            assert_eq!(again, b);
            assert_eq!(verify_proof_bundle(&again, &keys).unwrap(), v);
            count += 1;
        }
    }
    assert_eq!(count, 24 + 16 + 16);
    assert!(unpinned > 0, "the fixtures exercise unpinned integers");
}

/// The error a tampered fixture must produce, by the tamper named in its file name.
fn assert_refused_for_the_right_reason(tamper: &str, err: &LedgerError) {
    use LedgerError as L;
    let ok = match tamper {
        "tool-args-changed" | "reason-changed" | "approved-flipped" => {
            matches!(err, L::EventHashMismatch { .. })
        }
        "args-changed-and-rehashed" => matches!(err, L::ReceiptPayloadMismatch { .. }),
        "receipt-signature-flipped" => {
            matches!(err, L::BadSignature { what, .. } if what.contains("receipt"))
        }
        "leaf-index-plus-one" => matches!(
            err,
            L::InclusionMismatch {
                field: "leaf_index",
                ..
            }
        ),
        "path-bit-flipped" => {
            matches!(err, L::Merkle(MerkleError::InclusionRootMismatch { .. }))
        }
        "path-truncated" | "path-extra-hash" => {
            matches!(err, L::Merkle(MerkleError::WrongProofLength { .. }))
        }
        "checkpoint-root-changed" | "consistency-to-root-changed" => {
            matches!(err, L::CheckpointPayloadMismatch { .. })
        }
        "checkpoint-signature-flipped" => {
            matches!(err, L::BadSignature { what, .. } if what.contains("checkpoint"))
        }
        "swapped-event" | "inclusion-names-other-request" => {
            matches!(
                err,
                L::InclusionMismatch {
                    field: "request_id",
                    ..
                }
            )
        }
        "inclusion-event-hash-differs" => {
            matches!(
                err,
                L::InclusionMismatch {
                    field: "event_hash",
                    ..
                }
            )
        }
        "consistency-path-flipped" => {
            matches!(err, L::Merkle(MerkleError::ConsistencyRootMismatch { .. }))
        }
        "forged-with-embedded-attacker-key" => {
            matches!(err, L::UntrustedKey { kid, .. } if kid == "attacker-key")
        }
        "forged-key-reusing-trusted-kid" => matches!(err, L::EmbeddedKeyMismatch { .. }),
        other => panic!("unknown tamper {other}"),
    };
    assert!(ok, "{tamper}: refused with the wrong error: {err:?}");
}

#[test]
fn every_invalid_fixture_bundle_is_refused_for_its_tamper() {
    let (mut count, mut peer_accepted) = (0, 0);
    for set in SETS {
        let keys = trusted(set);
        for case in cases(set).iter().filter(|c| c.expect == "invalid") {
            let b = bundle(set, &case.file);
            let err = verify_proof_bundle(&b, &keys).expect_err(&format!(
                "{set}/{} must be refused: {}",
                case.file, case.why
            ));
            // "bundles/tampered-012-path-bit-flipped.json" -> "path-bit-flipped"
            let tamper = case
                .file
                .trim_start_matches("bundles/tampered-")
                .trim_end_matches(".json");
            assert_refused_for_the_right_reason(&tamper[4..], &err);
            assert!(!err.to_string().is_empty());
            count += 1;
            peer_accepted += usize::from(case.peer_accepts == Some(true));
        }
    }
    assert_eq!(count, 52 + 52 + 50);
    assert_eq!(peer_accepted, 12, "ledgix-python accepts 12 of these");
}

#[test]
fn forged_bundles_are_refused_with_an_error_that_says_so() {
    let keys = trusted("ledger");
    let err = verify_proof_bundle(
        &bundle(
            "ledger",
            "bundles/tampered-000-forged-with-embedded-attacker-key.json",
        ),
        &keys,
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("attacker-key") && text.contains("not a trusted key"),
        "{text}"
    );

    let err = verify_proof_bundle(
        &bundle(
            "ledger",
            "bundles/tampered-000-forged-key-reusing-trusted-kid.json",
        ),
        &keys,
    )
    .unwrap_err();
    assert_eq!(
        err,
        LedgerError::EmbeddedKeyMismatch {
            kid: "vault-key-1".into()
        }
    );
    assert!(
        err.to_string().contains("differ from the trusted key"),
        "{err}"
    );

    let b = bundle(
        "ledger",
        "bundles/tampered-000-inclusion-names-other-request.json",
    );
    let err = verify_proof_bundle(&b, &keys).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&b.event.request_id) && text.contains(&b.inclusion.request_id),
        "{text}"
    );
}

#[test]
fn only_trusted_keys_count() {
    let b = bundle("ledger", "bundles/valid-003.json");
    // Another Vault's key set: the bundle's own embedded key does not help.
    let other = Writer::new(1, "vault-key-1").trusted();
    assert!(matches!(
        verify_proof_bundle(&b, &other),
        Err(LedgerError::EmbeddedKeyMismatch { .. })
    ));
    let mut no_keys = b.clone();
    no_keys.keys.clear();
    assert!(matches!(
        verify_proof_bundle(&no_keys, &other),
        Err(LedgerError::BadSignature { .. })
    ));
    let stranger = Writer::new(1, "someone-else").trusted();
    assert!(matches!(
        verify_proof_bundle(&no_keys, &stranger),
        Err(LedgerError::UntrustedKey { kid, .. }) if kid == "vault-key-1"
    ));
    // Without embedded keys, or with extra embedded keys of other ids, it verifies.
    let keys = trusted("ledger");
    verify_proof_bundle(&no_keys, &keys).unwrap();
    let mut extra = b.clone();
    extra.keys.push(Writer::new(2, "retired-key").key_version());
    verify_proof_bundle(&extra, &keys).unwrap();
    // A garbled embedded key under the trusted id is named.
    let mut garbled = b.clone();
    garbled.keys[0].public_jwk = "!!".into();
    let err = verify_proof_bundle(&garbled, &keys).unwrap_err();
    assert!(
        matches!(&err, LedgerError::Malformed { field, .. } if field == "keys[0].public_jwk"),
        "{err:?}"
    );
    // An embedded key claiming another algorithm under the trusted id is refused.
    let mut alg = b;
    alg.keys[0].algorithm = "RS256".into();
    assert!(matches!(
        verify_proof_bundle(&alg, &keys),
        Err(LedgerError::EmbeddedKeyMismatch { .. })
    ));
}

#[test]
fn written_bundles_verify_for_every_version_and_position() {
    for version in 1..=3 {
        let w = written(11, 4, version);
        let keys = w.trusted();
        for i in 0..11 {
            let b = w.bundle(i);
            let v =
                verify_proof_bundle(&b, &keys).unwrap_or_else(|e| panic!("v{version} #{i}: {e}"));
            assert!(v.event_body_verified);
            assert_eq!(v.leaf_index, i as u64);
            assert_eq!(v.consistency_verified, i < 8, "#{i}");
            assert_eq!(v.latest_tree_size, 11);
        }
    }
}

#[test]
fn a_redacted_row_is_reported_never_claimed() {
    let mut w = Writer::new(3, "k");
    let mut e = event(0, 1);
    e.intent_hash.clear();
    w.record(e);
    w.record(event(1, 1));
    w.seal();
    let keys = w.trusted();
    let v = verify_proof_bundle(&w.bundle(0), &keys).unwrap();
    assert!(!v.event_body_verified);
    assert_eq!(v.event_encoding, None);
    assert!(
        verify_proof_bundle(&w.bundle(1), &keys)
            .unwrap()
            .event_body_verified
    );

    // Its receipt and leaf are still checked.
    let mut b = w.bundle(0);
    b.event.leaf_hash = b.event.event_hash.clone();
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::LeafHashMismatch { .. })
    ));
    let mut b = w.bundle(0);
    b.event.accepted_at.push('x');
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::ReceiptPayloadMismatch { .. })
    ));
}

#[test]
fn the_python_variant_and_integer_confidence_layouts_are_accepted_and_reported() {
    let w = Writer::new(4, "k");
    let keys = w.trusted();
    let single = |e: ledgix::ledger::LedgerEntry| {
        let mut w2 = Writer::new(4, "k");
        w2.entries.push(e);
        w2.seal();
        verify_proof_bundle(&w2.bundle(0), &keys)
    };

    // ledgix-python's variant payload, with the action fields it commits to.
    let mut e = event(0, 1);
    e.action_category = "payments".into();
    e.action_metadata = json!({"risk": 3, "tags": ["a"]});
    e.policy_version_id = "pv-1".into();
    let enc = EventEncoding {
        layout: EventLayout::PythonVariant,
        ..EventEncoding::PRIMARY
    };
    let h = hash::hash_event_payload(&hash::event_payload(&e, enc).unwrap());
    w.finish_with_hash(&mut e, h);
    let v = single(e.clone()).unwrap();
    assert_eq!(v.event_encoding, Some(enc));
    assert!(v.uncommitted_fields.is_empty());
    // ... and an edit to a field only it covers is caught.
    let mut edited = e.clone();
    edited.action_category = "other".into();
    assert!(matches!(
        single(edited),
        Err(LedgerError::EventHashMismatch { .. })
    ));

    // The canonical layout with action fields shown: verified, and they are reported.
    let mut e = event(1, 1);
    e.action_category = "payments".into();
    let e = w.finish(e);
    let v = single(e).unwrap();
    assert_eq!(v.event_encoding, Some(EventEncoding::PRIMARY));
    assert_eq!(v.uncommitted_fields, ["action_category"]);

    // A whole-number confidence hashed as a CBOR integer (ledgix-ts).
    for version in 1..=3 {
        let mut e = event(2, version);
        e.confidence = 1.0;
        let enc = EventEncoding {
            integer_confidence: true,
            ..EventEncoding::PRIMARY
        };
        let h = hash::hash_event_payload(&hash::event_payload(&e, enc).unwrap());
        assert_ne!(h, hash::event_hash(&e).unwrap());
        w.finish_with_hash(&mut e, h);
        assert_eq!(single(e).unwrap().event_encoding, Some(enc), "v{version}");
    }
    // A fractional confidence has no integer form: it stays a float64.
    let e = event(3, 1);
    let enc = EventEncoding {
        integer_confidence: true,
        ..EventEncoding::PRIMARY
    };
    assert_eq!(
        hash::event_payload(&e, enc).unwrap(),
        hash::event_payload(&e, EventEncoding::PRIMARY).unwrap()
    );
}

#[test]
fn json_encoding_matches_ledgix_python_byte_for_byte() {
    #[derive(serde::Deserialize)]
    struct Vectors {
        vectors: Vec<Vector>,
    }
    #[derive(serde::Deserialize)]
    struct Vector {
        json: String,
        python_cbor_hex: String,
    }
    let file: Vectors = serde_json::from_str(&read("ledger", "peer_cbor_vectors.json")).unwrap();
    assert_eq!(file.vectors.len(), 4);
    let mut orders_differed = 0;
    for v in file.vectors {
        let value: serde_json::Value = serde_json::from_str(&v.json).unwrap();
        let python =
            support::hex::encode(cbor::encode_json(&value, KeyOrder::CodePointLength).unwrap());
        assert_eq!(python, v.python_cbor_hex, "{}", v.json);
        let spec =
            support::hex::encode(cbor::encode_json(&value, KeyOrder::EncodedLength).unwrap());
        orders_differed += usize::from(spec != python);
    }
    assert_eq!(
        orders_differed, 2,
        "the two non-ASCII-key vectors sort differently"
    );
}

#[test]
fn non_ascii_argument_names_verify_in_either_key_order() {
    let w = Writer::new(5, "k");
    let keys = w.trusted();
    // The Vault's order, ledgix-python's and ledgix-ts's: all three differ on these keys.
    for order in [
        KeyOrder::EncodedLength,
        KeyOrder::CodePointLength,
        KeyOrder::Utf16Length,
    ] {
        let mut e = event(0, 1);
        e.tool_args = json!({"é": 1, "ab": 2, "z": "x", "😀": 3, "abc": 4});
        let enc = EventEncoding {
            key_order: order,
            ..EventEncoding::PRIMARY
        };
        let h = hash::hash_event_payload(&hash::event_payload(&e, enc).unwrap());
        w.finish_with_hash(&mut e, h);
        let mut w2 = Writer::new(5, "k");
        w2.entries.push(e);
        w2.seal();
        let v = verify_proof_bundle(&w2.bundle(0), &keys).unwrap();
        assert_eq!(v.event_encoding, Some(enc));
    }
}

#[test]
fn malformed_fields_are_named() {
    let keys = trusted("ledger");
    let base = bundle("ledger", "bundles/valid-010.json");
    type Edit = Box<dyn Fn(&mut ProofBundle)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "entry seq 11: event_hash",
            Box::new(|b| b.event.event_hash = b.event.event_hash.to_uppercase()),
        ),
        (
            "inclusion.path[1]",
            Box::new(|b| b.inclusion.path[1].truncate(63)),
        ),
        (
            "inclusion.event_hash",
            Box::new(|b| b.inclusion.event_hash.push('0')),
        ),
        (
            "inclusion.checkpoint.root_hash",
            Box::new(|b| b.inclusion.checkpoint.root_hash = "zz".into()),
        ),
        (
            "entry seq 11: receipt_payload",
            Box::new(|b| b.event.receipt_payload = "%%".into()),
        ),
        (
            "entry seq 11: receipt_signature",
            Box::new(|b| b.event.receipt_signature = b64(&[1; 63])),
        ),
        (
            "inclusion.checkpoint.checkpoint_payload",
            Box::new(|b| b.inclusion.checkpoint.checkpoint_payload.clear()),
        ),
    ];
    for (field, edit) in cases {
        let mut b = base.clone();
        edit(&mut b);
        match verify_proof_bundle(&b, &keys) {
            Err(LedgerError::Malformed { field: f, why }) => assert_eq!(f, field, "{why}"),
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn other_refusals_name_the_check() {
    let keys = trusted("ledger");
    let base = bundle("ledger", "bundles/valid-010.json");

    let mut b = base.clone();
    b.event.receipt_algorithm = "HS256".into();
    assert!(
        matches!(verify_proof_bundle(&b, &keys), Err(LedgerError::UnsupportedAlgorithm { algorithm, .. }) if algorithm == "HS256")
    );

    let mut b = base.clone();
    b.event.canonical_version = 4;
    assert_eq!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::UnsupportedCanonicalVersion {
            seq: 11,
            version: 4
        })
    );

    let mut b = base.clone();
    b.inclusion.tree_size += 1;
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::CheckpointMismatch {
            field: "tree_size",
            ..
        })
    ));

    let mut b = base.clone();
    b.inclusion.root_hash = Some("00".repeat(32));
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::CheckpointMismatch {
            field: "root_hash",
            ..
        })
    ));
    b.inclusion.root_hash = Some(base.inclusion.checkpoint.root_hash.clone());
    verify_proof_bundle(&b, &keys).unwrap();

    let mut b = base.clone();
    b.event.leaf_index = None;
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::InclusionMismatch {
            field: "leaf_index",
            ..
        })
    ));

    let mut b = base.clone();
    b.inclusion.event_uuid = "other".into();
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::InclusionMismatch {
            field: "event_uuid",
            ..
        })
    ));

    // A consistency proof that does not start at the inclusion checkpoint.
    let mut b = base.clone();
    let c = b.consistency.as_mut().unwrap();
    c.from_checkpoint = c.to_checkpoint.clone();
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::ConsistencyNotFromInclusion { .. })
    ));

    // A consistency proof backwards.
    let w = written(9, 3, 2);
    let wkeys = w.trusted();
    let mut b = w.bundle(0);
    let c = b.consistency.as_mut().unwrap();
    std::mem::swap(&mut c.from_checkpoint, &mut c.to_checkpoint);
    b.inclusion = w.bundle(8).inclusion;
    b.event = w.bundle(8).event;
    c.from_checkpoint = b.inclusion.checkpoint.clone();
    assert!(matches!(
        verify_proof_bundle(&b, &wkeys),
        Err(LedgerError::Merkle(MerkleError::SizesOutOfOrder {
            size1: 9,
            size2: 3
        }))
    ));

    // An absurdly long path is refused before parsing.
    let mut b = base;
    b.inclusion.path = vec!["00".repeat(32); 65];
    assert!(matches!(
        verify_proof_bundle(&b, &keys),
        Err(LedgerError::Merkle(MerkleError::ProofTooLong { .. }))
    ));
}

#[test]
fn trusted_keys_come_from_a_jwks_or_a_key_set() {
    let w = Writer::new(6, "k6");
    let from_set = TrustedKeys::from(w.key_set());
    let from_json = TrustedKeys::from_jwks_json(&w.key_set().to_jwks_json()).unwrap();
    assert_eq!(from_set, from_json);
    assert!(from_json.get("k6").is_some());
    assert!(matches!(
        TrustedKeys::from_jwks_json("{}"),
        Err(LedgerError::TrustedKeys(_))
    ));
    assert!(matches!(
        TrustedKeys::from_jwks_json(r#"{"keys":[]}"#),
        Err(LedgerError::TrustedKeys(_))
    ));
}
