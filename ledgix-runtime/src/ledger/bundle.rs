//! The Vault's ledger wire types: entries, checkpoints, proofs and proof bundles.
//!
//! Field names are the Vault's (snake_case). Parsing accepts every alias ledgix-python 0.4.0
//! accepts (`decided_at`, `signer_key_id`, `row_signature`, `manifest_*`, ...), ignores unknown
//! fields, and keeps the JSON values that are hashed (`tool_args`, `citations`,
//! `evidence_chunks`, `action_metadata`) exactly as received. Hashes stay lowercase hex
//! strings here; the verifier parses them, naming the field when one is malformed.
//!
//! # Optional fields on the wire
//!
//! Read: an optional field may be absent or `null`; both mean "not set".
//!
//! Write: as the Vault does. Its ledger answers (the fixtures under `tests/fixtures/ledger*`)
//! hold no `null` at all: a field without a value is left out. ledgix-ts types those fields
//! `.optional()` and refuses `null` where they are not also `.nullable()` (`retiredAt`,
//! `exportedAt`, a bundle's `consistency`), so a `null` there makes it reject the whole
//! bundle. Per type:
//!
//! | type | left out when empty | always written |
//! |---|---|---|
//! | [`LedgerEntry`] | `policy_version_id`, `policy_content_hash`, `action_category` (empty string), `action_metadata` (`{}`), `confidence_bucket`, `decision_status`, the six `canonical_version` 3 fields, `leaf_index` and `checkpoint_id` (not sealed yet) | every other field; `tool_args`, `citations`, `evidence_chunks` and a `null` `action_metadata` exactly as received, because they are hashed raw |
//! | [`LedgerCheckpoint`] | `exported_at` | every other field |
//! | [`LedgerKeyVersion`] | `retired_at`, `attestation_payload`, `attestation_signature`, `attestation_key_id`, `attestation_status` | `key_id`, `algorithm`, `public_jwk`, `active_from` |
//! | [`InclusionProof`] | `root_hash` | every other field (`path` may be `[]`) |
//! | [`ConsistencyProof`] | — | `from_checkpoint`, `to_checkpoint`, `path` |
//! | [`ProofBundle`] | `consistency` | `event`, `inclusion`, `keys` |
//! | [`LedgerPage`], [`CheckpointPage`] | — | `entries`, `checkpoints` |
//!
//! `tests/wire_rules.rs` checks every field of every type against this table.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::numbers::unpinned_in_text;

/// One ledger event: a terminal decision, its receipt, and (once sealed) its leaf position.
///
/// `tool_args`, `action_metadata` (absent → `{}`), `citations` and `evidence_chunks`
/// (absent → `[]`) are kept as received; an explicit `null` stays `null`, because
/// ledgix-python hashes the raw value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawEntry")]
pub struct LedgerEntry {
    /// Position in the Vault's event sequence (not covered by any hash or signature).
    pub seq: u64,
    /// The event's unique id.
    pub event_uuid: String,
    /// The clearance request this decision answers.
    pub request_id: String,
    /// The agent that asked.
    pub agent_id: String,
    /// The policy that decided.
    pub policy_id: String,
    /// The policy version that decided (hashed only by the ledgix-python variant layout).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_version_id: String,
    /// The content hash of that policy version (idem).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub policy_content_hash: String,
    /// Hash of the agent's intent; empty when the row is redacted.
    pub intent_hash: String,
    /// The tool the agent asked to call.
    pub tool_name: String,
    /// The tool's arguments, as received.
    pub tool_args: Value,
    /// Action category (hashed only by the ledgix-python variant layout).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub action_category: String,
    /// Action metadata, as received (idem); `{}` when absent, and then left out on write.
    #[serde(skip_serializing_if = "is_empty_object")]
    pub action_metadata: Value,
    /// The decision's human-readable reason.
    pub reason: String,
    /// Policy citations, as received.
    pub citations: Value,
    /// Evidence chunks, as received.
    pub evidence_chunks: Value,
    /// Legacy confidence score (hashed as float64).
    pub confidence: f64,
    /// Confidence bucket (`canonical_version` ≥ 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence_bucket: Option<String>,
    /// Decision status (`canonical_version` ≥ 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_status: Option<String>,
    /// Whether the call was approved.
    pub approved: bool,
    /// When the decision was accepted (wire alias `decided_at`).
    pub accepted_at: String,
    /// Which event-hash layout the Vault used (1, 2 or 3).
    pub canonical_version: u64,
    /// Hash of the rule set (`canonical_version` 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set_hash: Option<String>,
    /// Ids of the rules that matched (`canonical_version` 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_rule_ids: Option<Vec<String>>,
    /// Hash of the rule engine's inputs (`canonical_version` 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_inputs_hash: Option<String>,
    /// Hash of the rule engine's trace (`canonical_version` 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_trace_hash: Option<String>,
    /// The classifier's label (`canonical_version` 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_label: Option<String>,
    /// The classifier's confidence bucket (`canonical_version` 3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classifier_confidence_bucket: Option<String>,
    /// Lowercase hex SHA-256 of the event payload.
    pub event_hash: String,
    /// Lowercase hex `SHA-256(0x00 || event_hash)`.
    pub leaf_hash: String,
    /// The leaf's index in the Merkle tree, once sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaf_index: Option<u64>,
    /// The checkpoint that sealed the leaf, once sealed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_id: Option<u64>,
    /// Receipt signature algorithm; must be `Ed25519` (wire alias `signature_algorithm`).
    pub receipt_algorithm: String,
    /// Key id of the receipt signature (wire alias `signer_key_id`).
    pub receipt_key_id: String,
    /// base64url Ed25519 signature over the receipt payload (wire alias `row_signature`).
    pub receipt_signature: String,
    /// base64url of the receipt payload's deterministic CBOR.
    pub receipt_payload: String,
    /// JSON pointers (`/tool_args/amount`, `/confidence`) of the hashed numbers whose text,
    /// as received, is not the one number their float64 hash commits to (see
    /// [`BundleVerification::unpinned_numbers`](super::BundleVerification::unpinned_numbers)).
    /// Found when the entry is parsed from JSON text, never read from or written to the wire;
    /// empty for an entry built in code.
    #[serde(skip)]
    pub unpinned_numbers: Vec<String>,
}

/// A signed checkpoint: a tree head, chained to the previous checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawCheckpoint")]
pub struct LedgerCheckpoint {
    /// The checkpoint's id (not covered by its signature).
    pub checkpoint_id: u64,
    /// The Vault's microblock id (not covered by any signature).
    pub microblock_id: u64,
    /// Number of leaves in the tree.
    pub tree_size: u64,
    /// Lowercase hex tree head (wire alias `head_row_hash`).
    pub root_hash: String,
    /// Lowercase hex checkpoint hash (wire alias `manifest_hash`).
    pub checkpoint_hash: String,
    /// The previous checkpoint's hash; empty for the first (wire alias `prev_manifest_hash`).
    pub prev_checkpoint_hash: String,
    /// Signature algorithm; must be `Ed25519`.
    pub signature_algorithm: String,
    /// Key id of the signature.
    pub signer_key_id: String,
    /// base64url Ed25519 signature over the payload (wire alias `manifest_signature`).
    pub checkpoint_signature: String,
    /// base64url of the checkpoint payload's deterministic CBOR (wire alias `manifest_payload`).
    pub checkpoint_payload: String,
    /// When the checkpoint was signed (wire aliases `generated_at`, `period_start`).
    pub signed_at: String,
    /// Maximum merge delay, seconds.
    pub mmd_seconds: u64,
    /// Where the checkpoint is exported to; signed as `export_targets`.
    pub export_target: String,
    /// Export location (not signed).
    pub export_uri: String,
    /// Export status (not signed).
    pub export_status: String,
    /// When it was exported (not signed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exported_at: Option<String>,
}

/// One version of a Vault signing key, as a proof bundle embeds it. Never trusted on its
/// own: it counts only when the same key id and bytes are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerKeyVersion {
    /// Key id.
    pub key_id: String,
    /// Algorithm, `Ed25519`.
    pub algorithm: String,
    /// base64url of the public JWK's JSON.
    #[serde(default, deserialize_with = "null_as_default")]
    pub public_jwk: String,
    /// Start of validity.
    pub active_from: String,
    /// End of validity, once retired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<String>,
    /// Attestation payload.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub attestation_payload: String,
    /// Attestation signature.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub attestation_signature: String,
    /// Attestation key id.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub attestation_key_id: String,
    /// Attestation status.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "String::is_empty"
    )]
    pub attestation_status: String,
}

/// An RFC 9162 inclusion proof of one event's leaf, against a signed checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// The event the proof is about.
    pub event_uuid: String,
    /// The request the proof is about.
    pub request_id: String,
    /// The event hash the proof is about (lowercase hex).
    pub event_hash: String,
    /// The leaf hash proven (lowercase hex).
    pub leaf_hash: String,
    /// The leaf's index.
    pub leaf_index: u64,
    /// The tree size the proof is for.
    pub tree_size: u64,
    /// Sibling hashes, leaf to root (lowercase hex).
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: Vec<String>,
    /// The tree head, when the Vault states it beside the checkpoint; must equal the
    /// checkpoint's `root_hash`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_hash: Option<String>,
    /// The signed checkpoint whose tree the proof is for.
    pub checkpoint: LedgerCheckpoint,
}

/// An RFC 9162 consistency proof between two signed checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The older checkpoint (the inclusion proof's).
    pub from_checkpoint: LedgerCheckpoint,
    /// The newer checkpoint.
    pub to_checkpoint: LedgerCheckpoint,
    /// Proof hashes (lowercase hex).
    #[serde(default, deserialize_with = "null_as_default")]
    pub path: Vec<String>,
}

/// Everything needed to check one decision offline (`GET /ledger/proof/bundle`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProofBundle {
    /// The ledger event.
    pub event: LedgerEntry,
    /// Its inclusion proof.
    pub inclusion: InclusionProof,
    /// Optionally, a consistency proof from the inclusion checkpoint to a newer one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<ConsistencyProof>,
    /// Signing keys the Vault embeds (informational: see [`LedgerKeyVersion`]).
    #[serde(default, deserialize_with = "null_as_default")]
    pub keys: Vec<LedgerKeyVersion>,
}

/// The Vault's answer to `GET /ledger`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerPage {
    /// The entries.
    #[serde(default, deserialize_with = "null_as_default")]
    pub entries: Vec<LedgerEntry>,
}

/// The Vault's answer to `GET /ledger/checkpoints`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPage {
    /// The checkpoints.
    #[serde(default, deserialize_with = "null_as_default")]
    pub checkpoints: Vec<LedgerCheckpoint>,
}

/// The first alias that is present, in ledgix-python's `AliasChoices` order.
fn first_of(field: &str, choices: [Option<String>; 2]) -> Result<String, String> {
    let [a, b] = choices;
    a.or(b).ok_or_else(|| format!("missing field `{field}`"))
}

fn empty_object() -> Value {
    Value::Object(Map::new())
}

fn is_empty_object(value: &Value) -> bool {
    value.as_object().is_some_and(Map::is_empty)
}

/// Reads an absent or `null` field as the type's default (the wire rule of this module).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn empty_array() -> Value {
    Value::Array(Vec::new())
}

fn default_canonical_version() -> u64 {
    1
}

fn default_mmd_seconds() -> u64 {
    30
}

#[derive(Deserialize)]
struct RawEntry {
    seq: u64,
    event_uuid: String,
    request_id: String,
    #[serde(default)]
    agent_id: String,
    #[serde(default)]
    policy_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    policy_version_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    policy_content_hash: String,
    #[serde(default)]
    intent_hash: String,
    tool_name: String,
    #[serde(default, deserialize_with = "raw_json")]
    tool_args: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "null_as_default")]
    action_category: String,
    #[serde(default, deserialize_with = "raw_json")]
    action_metadata: Option<Box<RawValue>>,
    #[serde(default)]
    reason: String,
    #[serde(default, deserialize_with = "raw_json")]
    citations: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "raw_json")]
    evidence_chunks: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "raw_json")]
    confidence: Option<Box<RawValue>>,
    #[serde(default)]
    confidence_bucket: Option<String>,
    #[serde(default)]
    decision_status: Option<String>,
    #[serde(default)]
    approved: bool,
    #[serde(default)]
    accepted_at: Option<String>,
    #[serde(default)]
    decided_at: Option<String>,
    #[serde(default = "default_canonical_version")]
    canonical_version: u64,
    #[serde(default)]
    rule_set_hash: Option<String>,
    #[serde(default)]
    matched_rule_ids: Option<Vec<String>>,
    #[serde(default)]
    eval_inputs_hash: Option<String>,
    #[serde(default)]
    eval_trace_hash: Option<String>,
    #[serde(default)]
    classifier_label: Option<String>,
    #[serde(default)]
    classifier_confidence_bucket: Option<String>,
    event_hash: String,
    leaf_hash: String,
    #[serde(default)]
    leaf_index: Option<u64>,
    #[serde(default)]
    checkpoint_id: Option<u64>,
    #[serde(default)]
    receipt_algorithm: Option<String>,
    #[serde(default)]
    signature_algorithm: Option<String>,
    #[serde(default)]
    receipt_key_id: Option<String>,
    #[serde(default)]
    signer_key_id: Option<String>,
    #[serde(default)]
    receipt_signature: Option<String>,
    #[serde(default)]
    row_signature: Option<String>,
    #[serde(default)]
    receipt_payload: String,
}

/// A present field as its raw JSON text (`null` included), so hashed numbers keep their text.
fn raw_json<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(deserializer).map(Some)
}

/// A hashed JSON field: its value (`absent` when not sent), with the pointers of its numbers
/// that are not pinned added to `unpinned`.
fn hashed_json(
    raw: Option<Box<RawValue>>,
    field: &str,
    absent: fn() -> Value,
    unpinned: &mut Vec<String>,
) -> Result<Value, String> {
    let Some(raw) = raw else {
        return Ok(absent());
    };
    unpinned_in_text(raw.get(), &format!("/{field}"), unpinned);
    serde_json::from_str(raw.get()).map_err(|e| format!("{field}: {e}"))
}

/// `confidence`: a number (absent: 0), its text checked like the hashed JSON values.
fn hashed_confidence(
    raw: Option<Box<RawValue>>,
    unpinned: &mut Vec<String>,
) -> Result<f64, String> {
    let Some(raw) = raw else {
        return Ok(0.0);
    };
    let confidence: f64 =
        serde_json::from_str(raw.get()).map_err(|e| format!("confidence: {e}"))?;
    unpinned_in_text(raw.get(), "/confidence", unpinned);
    Ok(confidence)
}

impl TryFrom<RawEntry> for LedgerEntry {
    type Error = String;

    fn try_from(r: RawEntry) -> Result<Self, String> {
        let mut unpinned = Vec::new();
        let tool_args = hashed_json(r.tool_args, "tool_args", empty_object, &mut unpinned)?;
        let action_metadata = hashed_json(
            r.action_metadata,
            "action_metadata",
            empty_object,
            &mut unpinned,
        )?;
        let citations = hashed_json(r.citations, "citations", empty_array, &mut unpinned)?;
        let evidence_chunks = hashed_json(
            r.evidence_chunks,
            "evidence_chunks",
            empty_array,
            &mut unpinned,
        )?;
        let confidence = hashed_confidence(r.confidence, &mut unpinned)?;
        unpinned.sort();
        Ok(LedgerEntry {
            accepted_at: first_of("accepted_at", [r.accepted_at, r.decided_at])?,
            receipt_algorithm: first_of("", [r.receipt_algorithm, r.signature_algorithm])
                .unwrap_or_default(),
            receipt_key_id: first_of("", [r.receipt_key_id, r.signer_key_id]).unwrap_or_default(),
            receipt_signature: first_of("", [r.receipt_signature, r.row_signature])
                .unwrap_or_default(),
            seq: r.seq,
            event_uuid: r.event_uuid,
            request_id: r.request_id,
            agent_id: r.agent_id,
            policy_id: r.policy_id,
            policy_version_id: r.policy_version_id,
            policy_content_hash: r.policy_content_hash,
            intent_hash: r.intent_hash,
            tool_name: r.tool_name,
            tool_args,
            action_category: r.action_category,
            action_metadata,
            reason: r.reason,
            citations,
            evidence_chunks,
            confidence,
            confidence_bucket: r.confidence_bucket,
            decision_status: r.decision_status,
            approved: r.approved,
            canonical_version: r.canonical_version,
            rule_set_hash: r.rule_set_hash,
            matched_rule_ids: r.matched_rule_ids,
            eval_inputs_hash: r.eval_inputs_hash,
            eval_trace_hash: r.eval_trace_hash,
            classifier_label: r.classifier_label,
            classifier_confidence_bucket: r.classifier_confidence_bucket,
            event_hash: r.event_hash,
            leaf_hash: r.leaf_hash,
            leaf_index: r.leaf_index,
            checkpoint_id: r.checkpoint_id,
            receipt_payload: r.receipt_payload,
            unpinned_numbers: unpinned,
        })
    }
}

#[derive(Deserialize)]
struct RawCheckpoint {
    checkpoint_id: u64,
    #[serde(default)]
    microblock_id: u64,
    tree_size: u64,
    #[serde(default)]
    root_hash: Option<String>,
    #[serde(default)]
    head_row_hash: Option<String>,
    #[serde(default)]
    checkpoint_hash: Option<String>,
    #[serde(default)]
    manifest_hash: Option<String>,
    #[serde(default)]
    prev_checkpoint_hash: Option<String>,
    #[serde(default)]
    prev_manifest_hash: Option<String>,
    #[serde(default)]
    signature_algorithm: String,
    #[serde(default)]
    signer_key_id: String,
    #[serde(default)]
    checkpoint_signature: Option<String>,
    #[serde(default)]
    manifest_signature: Option<String>,
    #[serde(default)]
    checkpoint_payload: Option<String>,
    #[serde(default)]
    manifest_payload: Option<String>,
    #[serde(default)]
    signed_at: Option<String>,
    #[serde(default)]
    generated_at: Option<String>,
    #[serde(default)]
    period_start: Option<String>,
    #[serde(default = "default_mmd_seconds")]
    mmd_seconds: u64,
    #[serde(default)]
    export_target: String,
    #[serde(default)]
    export_uri: String,
    #[serde(default)]
    export_status: String,
    #[serde(default)]
    exported_at: Option<String>,
}

impl TryFrom<RawCheckpoint> for LedgerCheckpoint {
    type Error = String;

    fn try_from(r: RawCheckpoint) -> Result<Self, String> {
        Ok(LedgerCheckpoint {
            root_hash: first_of("root_hash", [r.root_hash, r.head_row_hash])?,
            checkpoint_hash: first_of("checkpoint_hash", [r.checkpoint_hash, r.manifest_hash])?,
            prev_checkpoint_hash: first_of("", [r.prev_checkpoint_hash, r.prev_manifest_hash])
                .unwrap_or_default(),
            checkpoint_signature: first_of("", [r.checkpoint_signature, r.manifest_signature])
                .unwrap_or_default(),
            checkpoint_payload: first_of("", [r.checkpoint_payload, r.manifest_payload])
                .unwrap_or_default(),
            signed_at: first_of(
                "signed_at",
                [r.signed_at, r.generated_at.or(r.period_start)],
            )?,
            checkpoint_id: r.checkpoint_id,
            microblock_id: r.microblock_id,
            tree_size: r.tree_size,
            signature_algorithm: r.signature_algorithm,
            signer_key_id: r.signer_key_id,
            mmd_seconds: r.mmd_seconds,
            export_target: r.export_target,
            export_uri: r.export_uri,
            export_status: r.export_status,
            exported_at: r.exported_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_aliases_and_defaults_parse_like_ledgix_python() {
        let e: LedgerEntry = serde_json::from_str(
            r#"{"seq": 3, "event_uuid": "u", "request_id": "r", "tool_name": "t",
                "decided_at": "2026-01-01T00:00:00Z", "signature_algorithm": "Ed25519",
                "signer_key_id": "k", "row_signature": "sig", "event_hash": "e",
                "leaf_hash": "l", "tool_args": null, "something_new": {"x": 1}}"#,
        )
        .unwrap();
        assert_eq!(e.accepted_at, "2026-01-01T00:00:00Z");
        assert_eq!(e.receipt_algorithm, "Ed25519");
        assert_eq!(e.receipt_key_id, "k");
        assert_eq!(e.receipt_signature, "sig");
        assert_eq!(e.canonical_version, 1);
        assert_eq!(
            e.tool_args,
            Value::Null,
            "null is kept: ledgix-python hashes it raw"
        );
        assert_eq!(e.action_metadata, empty_object());
        assert_eq!(e.citations, empty_array());
        assert_eq!(e.leaf_index, None);
        let again: LedgerEntry = serde_json::from_str(&serde_json::to_string(&e).unwrap()).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn the_first_alias_wins_when_both_are_present() {
        let e: LedgerEntry = serde_json::from_str(
            r#"{"seq": 1, "event_uuid": "u", "request_id": "r", "tool_name": "t",
                "accepted_at": "a", "decided_at": "d", "event_hash": "e", "leaf_hash": "l",
                "receipt_key_id": "k1", "signer_key_id": "k2"}"#,
        )
        .unwrap();
        assert_eq!(e.accepted_at, "a");
        assert_eq!(e.receipt_key_id, "k1");
    }

    #[test]
    fn missing_required_fields_are_named() {
        let err = serde_json::from_str::<LedgerEntry>(
            r#"{"seq": 1, "event_uuid": "u", "request_id": "r", "tool_name": "t",
                "event_hash": "e", "leaf_hash": "l"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("accepted_at"), "{err}");
        let err = serde_json::from_str::<LedgerCheckpoint>(
            r#"{"checkpoint_id": 1, "tree_size": 1, "root_hash": "r", "signed_at": "s"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("checkpoint_hash"), "{err}");
    }

    #[test]
    fn checkpoint_manifest_aliases_parse() {
        let c: LedgerCheckpoint = serde_json::from_str(
            r#"{"checkpoint_id": 2, "tree_size": 5, "head_row_hash": "h", "manifest_hash": "m",
                "prev_manifest_hash": "p", "manifest_signature": "s", "manifest_payload": "pl",
                "period_start": "t"}"#,
        )
        .unwrap();
        assert_eq!(
            (
                c.root_hash.as_str(),
                c.checkpoint_hash.as_str(),
                c.prev_checkpoint_hash.as_str()
            ),
            ("h", "m", "p")
        );
        assert_eq!(
            (
                c.checkpoint_signature.as_str(),
                c.checkpoint_payload.as_str()
            ),
            ("s", "pl")
        );
        assert_eq!((c.signed_at.as_str(), c.mmd_seconds), ("t", 30));
    }
}
