//! Every wire type writes its optional fields as the Vault does: present when set, left out
//! when empty — never `null`, which ledgix-ts refuses wherever its zod schema says
//! `.optional()` without `.nullable()` — and reads a field absent or `null` alike.
//!
//! One table row per field of every type, with what ledgix-ts's `src/models.ts` declares for
//! it, checked field by field: the table covers exactly the fields the type writes; a field
//! ledgix-ts requires is always written; a field left out when empty is one ledgix-ts lets
//! be absent; `null` and absent read the same; everything round-trips. Then the Vault's own
//! fixtures round-trip to the very same JSON.

mod support;

use std::collections::BTreeSet;
use std::fmt::Debug;

use ledgix::ReviewDecision;
use ledgix::ledger::{
    CheckpointPage, ConsistencyProof, InclusionProof, LedgerCheckpoint, LedgerEntry,
    LedgerKeyVersion, LedgerPage, ProofBundle,
};
use ledgix::{ClearanceRequest, ClearanceResponse, PolicyRegistration, PolicyRegistrationResponse};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use support::ledger::{SETS, cases, read};

/// How we write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Present in every answer (possibly `""`, `[]`, `{}`), never `null`.
    Always,
    /// Present when set, left out when empty; never `null`.
    OmitEmpty,
}

/// What ledgix-ts's zod schema declares for the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ts {
    /// No `.optional()` and no `.default()`: must be present.
    Required,
    /// `.optional()` or `.default(..)`: may be absent; `null` refused.
    Optional,
    /// `.nullable().optional()` / `.nullable().default(null)`: absent or `null`.
    Nullable,
    /// Not in the schema (zod drops it), or not a type ledgix-ts parses.
    NotInSchema,
}

use Ts::{NotInSchema, Nullable, Optional, Required};
use Write::{Always, OmitEmpty};

type Fields = &'static [(&'static str, Write, Ts)];

/// One wire type: the smallest JSON it reads, a JSON with every field set, its table, and a
/// parse-then-write of a JSON value as that type.
struct WireType {
    name: &'static str,
    minimal: Value,
    full: Value,
    fields: Fields,
    rewrite: fn(&Value) -> Result<Value, String>,
}

/// Parses `value` as `T` and writes it back; what is written parses to the same `T`.
fn rewrite<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    value: &Value,
) -> Result<Value, String> {
    let parsed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    let written = serde_json::to_value(&parsed).map_err(|e| e.to_string())?;
    let again: T = serde_json::from_value(written.clone()).map_err(|e| e.to_string())?;
    assert_eq!(again, parsed, "round trip of {value}");
    Ok(written)
}

fn hash(c: char) -> String {
    c.to_string().repeat(64)
}

fn checkpoint(id: u64) -> Value {
    json!({
        "checkpoint_id": id, "microblock_id": id, "tree_size": 4 * id, "root_hash": hash('a'),
        "checkpoint_hash": hash('b'), "prev_checkpoint_hash": hash('c'),
        "signature_algorithm": "Ed25519", "signer_key_id": "k1", "checkpoint_signature": "c2ln",
        "checkpoint_payload": "cGw", "signed_at": "2026-01-01T00:00:00Z", "mmd_seconds": 30,
        "export_target": "s3", "export_uri": "s3://b/k", "export_status": "exported",
        "exported_at": "2026-01-01T00:01:00Z",
    })
}

fn minimal_checkpoint() -> Value {
    json!({"checkpoint_id": 1, "tree_size": 1, "root_hash": hash('a'),
           "checkpoint_hash": hash('b'), "signed_at": "2026-01-01T00:00:00Z"})
}

fn entry() -> Value {
    json!({
        "seq": 7, "event_uuid": "e-7", "request_id": "r-7", "agent_id": "agent",
        "policy_id": "p", "policy_version_id": "pv", "policy_content_hash": "sha256:00",
        "intent_hash": hash('d'), "tool_name": "refund", "tool_args": {"amount": 5},
        "action_category": "payment.refund", "action_metadata": {"ccy": "usd"},
        "reason": "ok", "citations": [{"doc": "p.md"}], "evidence_chunks": [{"rank": 1}],
        "confidence": 0.9, "confidence_bucket": "extra_high", "decision_status": "approved",
        "approved": true, "accepted_at": "2026-01-01T00:00:00Z", "canonical_version": 3,
        "rule_set_hash": hash('e'), "matched_rule_ids": ["r1"], "eval_inputs_hash": hash('f'),
        "eval_trace_hash": hash('0'), "classifier_label": "refund",
        "classifier_confidence_bucket": "high", "event_hash": hash('1'), "leaf_hash": hash('2'),
        "leaf_index": 6, "checkpoint_id": 2, "receipt_algorithm": "Ed25519",
        "receipt_key_id": "k1", "receipt_signature": "c2ln", "receipt_payload": "cGw",
    })
}

fn minimal_entry() -> Value {
    json!({"seq": 1, "event_uuid": "e", "request_id": "r", "tool_name": "t",
           "accepted_at": "2026-01-01T00:00:00Z", "event_hash": hash('1'), "leaf_hash": hash('2')})
}

fn key_version() -> Value {
    json!({"key_id": "k1", "algorithm": "Ed25519", "public_jwk": "e30",
           "active_from": "2026-01-01T00:00:00Z", "retired_at": "2026-06-01T00:00:00Z",
           "attestation_payload": "a", "attestation_signature": "s",
           "attestation_key_id": "root", "attestation_status": "attested"})
}

fn minimal_key_version() -> Value {
    json!({"key_id": "k1", "algorithm": "Ed25519", "active_from": "2026-01-01T00:00:00Z"})
}

fn inclusion(checkpoint: Value) -> Value {
    json!({"event_uuid": "e-7", "request_id": "r-7", "event_hash": hash('1'),
           "leaf_hash": hash('2'), "leaf_index": 6, "tree_size": 8, "path": [hash('3')],
           "root_hash": hash('a'), "checkpoint": checkpoint})
}

fn minimal_inclusion() -> Value {
    json!({"event_uuid": "e", "request_id": "r", "event_hash": hash('1'),
           "leaf_hash": hash('2'), "leaf_index": 0, "tree_size": 1,
           "checkpoint": minimal_checkpoint()})
}

fn consistency() -> Value {
    json!({"from_checkpoint": checkpoint(1), "to_checkpoint": checkpoint(2),
           "path": [hash('4')]})
}

fn types() -> Vec<WireType> {
    vec![
        WireType {
            name: "ClearanceRequest",
            minimal: json!({"tool_name": "refund"}),
            full: json!({
                "tool_name": "refund", "tool_args": {"amount": 5}, "agent_id": "agent",
                "session_id": "s", "context": {"policy_id": "p"}, "human_principal": "auth0|1",
                "parent_jti": "j", "destination_uri": "https://api.stripe.com/v1/refunds",
                "destination_provider": "stripe", "destination_account_ref": "acct_1",
                "data_categories": ["financial"], "purpose": "refund",
                "processing_register_ref": "reg", "dataset_ref": "ds",
            }),
            fields: &[
                ("tool_name", Always, Required),
                ("tool_args", Always, Optional),
                ("agent_id", Always, Optional),
                ("session_id", OmitEmpty, Optional),
                ("context", Always, Optional),
                ("human_principal", OmitEmpty, Optional),
                ("parent_jti", OmitEmpty, Optional),
                ("destination_uri", OmitEmpty, Optional),
                ("destination_provider", OmitEmpty, Optional),
                ("destination_account_ref", OmitEmpty, Optional),
                ("data_categories", OmitEmpty, Optional),
                ("purpose", OmitEmpty, Optional),
                ("processing_register_ref", OmitEmpty, Optional),
                ("dataset_ref", OmitEmpty, Optional),
            ],
            rewrite: rewrite::<ClearanceRequest>,
        },
        WireType {
            name: "ClearanceResponse",
            minimal: json!({"status": "processing"}),
            full: json!({
                "status": "approved", "token": "eyJ.x.y", "reason": "ok", "request_id": "r",
                "requires_manual_review": false, "approved": true,
                "decision_status": "approved", "confidence": 0.9,
                "minimum_confidence_score": 0.8, "confidence_bucket": "extra_high",
                "minimum_confidence_bucket": "high", "reason_code": "ok",
                "policy_version_id": "pv", "policy_content_hash": "sha256:00",
            }),
            fields: &[
                ("status", Always, Optional),
                ("token", OmitEmpty, Nullable),
                ("reason", Always, Optional),
                ("request_id", Always, Optional),
                ("requires_manual_review", Always, Optional),
                ("approved", OmitEmpty, NotInSchema),
                ("decision_status", OmitEmpty, Optional),
                ("confidence", OmitEmpty, NotInSchema),
                ("minimum_confidence_score", OmitEmpty, NotInSchema),
                ("confidence_bucket", OmitEmpty, Optional),
                ("minimum_confidence_bucket", OmitEmpty, Optional),
                ("reason_code", OmitEmpty, Nullable),
                ("policy_version_id", OmitEmpty, Nullable),
                ("policy_content_hash", OmitEmpty, Nullable),
            ],
            rewrite: rewrite::<ClearanceResponse>,
        },
        WireType {
            name: "ReviewDecision",
            minimal: json!({"approved": false}),
            full: json!({"approved": true, "review_reason": "looks fine"}),
            fields: &[
                ("approved", Always, NotInSchema),
                ("review_reason", Always, NotInSchema),
            ],
            rewrite: rewrite::<ReviewDecision>,
        },
        WireType {
            name: "PolicyRegistration",
            minimal: json!({"policy_id": "p"}),
            full: json!({"policy_id": "p", "description": "d", "rules": ["r"], "tools": ["t"]}),
            fields: &[
                ("policy_id", Always, Required),
                ("description", Always, Optional),
                ("rules", Always, Optional),
                ("tools", Always, Optional),
            ],
            rewrite: rewrite::<PolicyRegistration>,
        },
        WireType {
            name: "PolicyRegistrationResponse",
            minimal: json!({"policy_id": "p"}),
            full: json!({"policy_id": "p", "status": "registered", "message": "m"}),
            fields: &[
                ("policy_id", Always, Required),
                ("status", Always, Optional),
                ("message", Always, Optional),
            ],
            rewrite: rewrite::<PolicyRegistrationResponse>,
        },
        WireType {
            name: "LedgerEntry",
            minimal: minimal_entry(),
            full: entry(),
            fields: &[
                ("seq", Always, Required),
                ("event_uuid", Always, Required),
                ("request_id", Always, Required),
                ("agent_id", Always, Required),
                ("policy_id", Always, Required),
                ("policy_version_id", OmitEmpty, NotInSchema),
                ("policy_content_hash", OmitEmpty, NotInSchema),
                ("intent_hash", Always, Optional),
                ("tool_name", Always, Required),
                ("tool_args", Always, Optional),
                ("action_category", OmitEmpty, NotInSchema),
                ("action_metadata", OmitEmpty, NotInSchema),
                ("reason", Always, Optional),
                ("citations", Always, Optional),
                ("evidence_chunks", Always, Optional),
                ("confidence", Always, Optional),
                ("confidence_bucket", OmitEmpty, Nullable),
                ("decision_status", OmitEmpty, Nullable),
                ("approved", Always, Optional),
                ("accepted_at", Always, Required),
                ("canonical_version", Always, Optional),
                ("rule_set_hash", OmitEmpty, Nullable),
                ("matched_rule_ids", OmitEmpty, Nullable),
                ("eval_inputs_hash", OmitEmpty, Nullable),
                ("eval_trace_hash", OmitEmpty, Nullable),
                ("classifier_label", OmitEmpty, Nullable),
                ("classifier_confidence_bucket", OmitEmpty, Nullable),
                ("event_hash", Always, Required),
                ("leaf_hash", Always, Required),
                ("leaf_index", OmitEmpty, Nullable),
                ("checkpoint_id", OmitEmpty, Nullable),
                ("receipt_algorithm", Always, Optional),
                ("receipt_key_id", Always, Optional),
                ("receipt_signature", Always, Optional),
                ("receipt_payload", Always, Optional),
            ],
            rewrite: rewrite::<LedgerEntry>,
        },
        WireType {
            name: "LedgerCheckpoint",
            minimal: minimal_checkpoint(),
            full: checkpoint(2),
            fields: &[
                ("checkpoint_id", Always, Required),
                ("microblock_id", Always, Required),
                ("tree_size", Always, Required),
                ("root_hash", Always, Required),
                ("checkpoint_hash", Always, Required),
                ("prev_checkpoint_hash", Always, Optional),
                ("signature_algorithm", Always, Optional),
                ("signer_key_id", Always, Optional),
                ("checkpoint_signature", Always, Optional),
                ("checkpoint_payload", Always, Optional),
                ("signed_at", Always, Required),
                ("mmd_seconds", Always, Optional),
                ("export_target", Always, Optional),
                ("export_uri", Always, Optional),
                ("export_status", Always, Optional),
                ("exported_at", OmitEmpty, Optional),
            ],
            rewrite: rewrite::<LedgerCheckpoint>,
        },
        WireType {
            name: "LedgerKeyVersion",
            minimal: minimal_key_version(),
            full: key_version(),
            fields: &[
                ("key_id", Always, Required),
                ("algorithm", Always, Required),
                ("public_jwk", Always, Optional),
                ("active_from", Always, Required),
                ("retired_at", OmitEmpty, Optional),
                ("attestation_payload", OmitEmpty, Optional),
                ("attestation_signature", OmitEmpty, Optional),
                ("attestation_key_id", OmitEmpty, Optional),
                ("attestation_status", OmitEmpty, Optional),
            ],
            rewrite: rewrite::<LedgerKeyVersion>,
        },
        WireType {
            name: "InclusionProof",
            minimal: minimal_inclusion(),
            full: inclusion(checkpoint(2)),
            fields: &[
                ("event_uuid", Always, Required),
                ("request_id", Always, Required),
                ("event_hash", Always, Required),
                ("leaf_hash", Always, Required),
                ("leaf_index", Always, Required),
                ("tree_size", Always, Required),
                ("path", Always, Optional),
                ("root_hash", OmitEmpty, NotInSchema),
                ("checkpoint", Always, Required),
            ],
            rewrite: rewrite::<InclusionProof>,
        },
        WireType {
            name: "ConsistencyProof",
            minimal: json!({"from_checkpoint": minimal_checkpoint(),
                            "to_checkpoint": minimal_checkpoint()}),
            full: consistency(),
            fields: &[
                ("from_checkpoint", Always, Required),
                ("to_checkpoint", Always, Required),
                ("path", Always, Optional),
            ],
            rewrite: rewrite::<ConsistencyProof>,
        },
        WireType {
            name: "ProofBundle",
            minimal: json!({"event": minimal_entry(), "inclusion": minimal_inclusion()}),
            full: json!({"event": entry(), "inclusion": inclusion(checkpoint(1)),
                         "consistency": consistency(), "keys": [key_version()]}),
            fields: &[
                ("event", Always, Required),
                ("inclusion", Always, Required),
                ("consistency", OmitEmpty, Optional),
                ("keys", Always, Optional),
            ],
            rewrite: rewrite::<ProofBundle>,
        },
        WireType {
            name: "LedgerPage",
            minimal: json!({}),
            full: json!({"entries": [entry(), minimal_entry()]}),
            fields: &[("entries", Always, Optional)],
            rewrite: rewrite::<LedgerPage>,
        },
        WireType {
            name: "CheckpointPage",
            minimal: json!({}),
            full: json!({"checkpoints": [checkpoint(1), minimal_checkpoint()]}),
            fields: &[("checkpoints", Always, Optional)],
            rewrite: rewrite::<CheckpointPage>,
        },
    ]
}

/// The ledger entry's hashed JSON values: written exactly as received, a `null` included.
const HASHED_AS_RECEIVED: [&str; 4] = [
    "tool_args",
    "citations",
    "evidence_chunks",
    "action_metadata",
];

/// JSON pointers of every `null` inside `value`.
fn nulls(value: &Value, at: &str, out: &mut Vec<String>) {
    match value {
        Value::Null => out.push(at.to_owned()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                nulls(item, &format!("{at}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                nulls(item, &format!("{at}/{k}"), out);
            }
        }
        _ => {}
    }
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_field_of_every_wire_type_follows_the_rule() {
    let mut rows = 0;
    let all = types();
    assert_eq!(all.len(), 13, "every wire type has its table");
    for t in all {
        let name = t.name;
        let table: BTreeSet<&str> = t.fields.iter().map(|(f, _, _)| *f).collect();
        assert_eq!(table.len(), t.fields.len(), "{name}: a field listed twice");

        // A value for every field: the table names exactly the fields the type writes.
        let full = (t.rewrite)(&t.full).unwrap_or_else(|e| panic!("{name} full: {e}"));
        assert_eq!(keys(&full), table, "{name}: fields written vs the table");
        let empty = (t.rewrite)(&t.minimal).unwrap_or_else(|e| panic!("{name} minimal: {e}"));

        for &(field, write, ts) in t.fields {
            rows += 1;
            let row = format!("{name}.{field} ({write:?}, ledgix-ts {ts:?})");
            // ledgix-ts must be able to read what we write.
            if ts == Required {
                assert_eq!(write, Always, "{row}: ledgix-ts requires it");
            }
            // Set: present, not null.
            assert!(full.get(field).is_some_and(|v| !v.is_null()), "{row}: set");
            // Empty: present (never null) or absent, as the rule says.
            match (write, empty.get(field)) {
                (Always, Some(v)) => assert!(!v.is_null(), "{row}: written as null"),
                (Always, None) => panic!("{row}: left out"),
                (OmitEmpty, Some(v)) => panic!("{row}: written as {v} when empty"),
                (OmitEmpty, None) => {}
            }
            // Read: null means absent — except in a hashed JSON value, kept exactly as
            // received (ledgix-python hashes a `null` there as `null`).
            let hashed = name == "LedgerEntry" && HASHED_AS_RECEIVED.contains(&field);
            if write == OmitEmpty || hashed {
                let mut with_null = t.minimal.clone();
                with_null[field] = Value::Null;
                let read = (t.rewrite)(&with_null)
                    .unwrap_or_else(|e| panic!("{row}: null is not read: {e}"));
                let mut expected = empty.clone();
                if hashed {
                    expected[field] = Value::Null;
                }
                assert_eq!(read, expected, "{row}: null read as {:?}", read.get(field));
            }
        }
        let mut found = Vec::new();
        nulls(&full, "", &mut found);
        nulls(&empty, "", &mut found);
        assert!(found.is_empty(), "{name} writes null at {found:?}");
    }
    assert_eq!(rows, 115);
}

#[test]
fn the_vaults_fixtures_round_trip_to_the_same_json() {
    // What the Vault sent is what we write: no field added (no null), none dropped, no
    // value changed — for every ledger page and every proof bundle, valid or tampered.
    let mut documents = 0;
    for set in SETS {
        let ledger: Value = serde_json::from_str(&read(set, "ledger.json")).unwrap();
        for (part, rewrite) in [
            (
                "entries",
                rewrite::<LedgerPage> as fn(&Value) -> Result<Value, String>,
            ),
            ("checkpoints", rewrite::<CheckpointPage>),
        ] {
            let page = json!({ part: ledger[part].clone() });
            assert_eq!(rewrite(&page).unwrap(), page, "{set}/ledger.json {part}");
            documents += 1;
        }
        for case in cases(set) {
            let text = read(set, &case.file);
            let original: Value = serde_json::from_str(&text).unwrap();
            let Ok(written) = rewrite::<ProofBundle>(&original) else {
                continue; // a malformed tamper: refused at parse, nothing to write
            };
            assert_eq!(written, original, "{set}/{}", case.file);
            documents += 1;
        }
    }
    assert!(documents > 100, "{documents}");
}

#[tokio::test]
async fn nothing_the_mock_vault_serves_holds_a_null() {
    use ledgix::ledger::{TrustedKeys, verify_proof_bundle};
    use ledgix::mock::{MockVault, Rule};

    for version in [1, 2] {
        let vault = MockVault::builder()
            .canonical_version(version)
            .seal_every(std::time::Duration::ZERO)
            .rule(Rule::tool("stripe_refund").deny("refunds are frozen"))
            .rule(Rule::tool("wire_*").review())
            .rule(Rule::tool("slow").processing(2).approve())
            .start()
            .await;
        let http = reqwest::Client::new();
        let url = vault.url();
        let mut answers: Vec<(String, Value)> = Vec::new();
        let mut keep = |what: String, answer: Value| {
            answers.push((what, answer.clone()));
            answer
        };
        let mut ids = Vec::new();
        for tool in ["lookup", "stripe_refund", "wire_transfer", "slow"] {
            let body = json!({"tool_name": tool, "tool_args": {"amount": 5, "note": "x"},
                              "agent_id": "wire-rules"});
            let a = http
                .post(format!("{url}/request-clearance"))
                .json(&body)
                .send();
            let a = keep(
                format!("POST /request-clearance {tool}"),
                a.await.unwrap().json().await.unwrap(),
            );
            ids.push(a["request_id"].as_str().unwrap().to_owned());
        }
        for id in &ids {
            let a = http.get(format!("{url}/clearance-status/{id}")).send();
            keep(
                format!("GET /clearance-status {id}"),
                a.await.unwrap().json().await.unwrap(),
            );
        }
        for (id, approved) in [(ids[2].as_str(), true), ("unknown", true)] {
            let a = http
                .post(format!("{url}/reviews/{id}/decision"))
                .json(&json!({"approved": approved, "review_reason": "ok"}))
                .send();
            keep(
                format!("POST /reviews/{id}/decision"),
                a.await.unwrap().json().await.unwrap(),
            );
        }
        let a = http
            .get(format!("{url}/clearance-status/{}", ids[3]))
            .send();
        keep(
            "GET /clearance-status slow".into(),
            a.await.unwrap().json().await.unwrap(),
        );
        let a = http
            .post(format!("{url}/register-policy"))
            .json(&json!({"policy_id": "p", "rules": ["r"]}))
            .send();
        keep(
            "POST /register-policy".into(),
            a.await.unwrap().json().await.unwrap(),
        );
        vault.seal().await;
        // One more decision, sealed later: the first events' bundles carry a consistency
        // proof, this one's does not.
        let body = json!({"tool_name": "lookup", "tool_args": {}, "agent_id": "wire-rules"});
        let a = http
            .post(format!("{url}/request-clearance"))
            .json(&body)
            .send();
        let last = keep(
            "POST /request-clearance last".into(),
            a.await.unwrap().json().await.unwrap(),
        );
        // Not sealed yet: its entry has no leaf_index and no checkpoint_id (not null).
        let page = keep(
            "GET /ledger".into(),
            http.get(format!("{url}/ledger"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap(),
        );
        let unsealed = page["entries"].as_array().unwrap().last().unwrap().clone();
        assert!(unsealed.get("leaf_index").is_none() && unsealed.get("checkpoint_id").is_none());
        vault.seal().await;
        ids.push(last["request_id"].as_str().unwrap().to_owned());

        let trusted = TrustedKeys::from_jwks_json(&vault.trusted_keys_json()).unwrap();
        for path in [
            "/.well-known/jwks.json".to_owned(),
            "/ledger".to_owned(),
            "/ledger/checkpoints".to_owned(),
            "/ledger/proof/consistency?from=1&to=2".to_owned(),
            "/nowhere".to_owned(),
        ] {
            let a = http.get(format!("{url}{path}")).send();
            keep(
                format!("GET {path}"),
                a.await.unwrap().json().await.unwrap(),
            );
        }
        let mut with_consistency = 0;
        for id in &ids {
            let a = http
                .get(format!("{url}/ledger/proof/inclusion?request_id={id}"))
                .send();
            keep(
                format!("GET inclusion {id}"),
                a.await.unwrap().json().await.unwrap(),
            );
            let a = http
                .get(format!("{url}/ledger/proof/bundle?request_id={id}"))
                .send();
            let bundle = keep(
                format!("GET bundle {id}"),
                a.await.unwrap().json().await.unwrap(),
            );
            assert!(
                bundle.get("event").is_some(),
                "every request was decided: {bundle}"
            );
            assert!(bundle["keys"][0].get("retired_at").is_none(), "{bundle}");
            with_consistency += usize::from(bundle.get("consistency").is_some());
            let parsed: ProofBundle = serde_json::from_value(bundle).unwrap();
            assert!(
                verify_proof_bundle(&parsed, &trusted)
                    .unwrap()
                    .event_body_verified
            );
        }
        assert_eq!(
            with_consistency,
            ids.len() - 1,
            "all but the newest event's bundle"
        );

        assert!(answers.len() > 20, "{}", answers.len());
        for (what, answer) in &answers {
            let mut found = Vec::new();
            nulls(answer, "", &mut found);
            assert!(
                found.is_empty(),
                "v{version} {what}: null at {found:?} in {answer}"
            );
        }
    }
}
