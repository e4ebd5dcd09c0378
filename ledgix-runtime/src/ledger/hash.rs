//! The ledger's hashes and signed payloads, rebuilt byte-for-byte from an entry's or a
//! checkpoint's fields (LEDGER.md "Event hash", "Receipt and checkpoint").
//!
//! These are also the building blocks of a ledger *writer* (the mock Vault): fill a
//! [`LedgerEntry`], set `event_hash` to hex of [`event_hash`], `leaf_hash` to hex of
//! [`merkle::leaf_hash`](super::merkle::leaf_hash) of it, then sign [`receipt_payload`];
//! for a checkpoint, sign [`checkpoint_payload`] and set `checkpoint_hash` to hex of
//! [`checkpoint_hash`] of the same bytes.
//!
//! ```
//! use ledgix_runtime::ledger::{hash, merkle, LedgerEntry};
//!
//! let mut entry: LedgerEntry = serde_json::from_value(serde_json::json!({
//!     "seq": 1, "event_uuid": "e-1", "request_id": "r-1", "tool_name": "refund",
//!     "tool_args": {"amount": 5}, "approved": true, "confidence": 0.9,
//!     "accepted_at": "2026-01-01T00:00:00Z", "canonical_version": 1,
//!     "event_hash": "", "leaf_hash": "", "receipt_key_id": "k1",
//! })).unwrap();
//! let hex = |h: [u8; 32]| h.iter().map(|b| format!("{b:02x}")).collect::<String>();
//! let event_hash = hash::event_hash(&entry).unwrap();
//! entry.event_hash = hex(event_hash);
//! entry.leaf_hash = hex(merkle::leaf_hash(&event_hash));
//! let to_sign = hash::receipt_payload(&entry);   // sign with the key `k1`
//! assert_eq!(to_sign[0], 0xa8); // a CBOR map of 8 pairs
//! ```

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::LedgerError;
use super::bundle::{LedgerCheckpoint, LedgerEntry};
use super::cbor::{self, Item, KeyOrder};

/// Domain prefix of event hashes.
pub const EVENT_HASH_PREFIX: &[u8] = b"ledgix.audit.event.v1\0";
/// Domain prefix of checkpoint hashes.
pub const CHECKPOINT_HASH_PREFIX: &[u8] = b"ledgix.audit.checkpoint.v1\0";

/// The `canonical_version`s whose event layout is known.
pub const SUPPORTED_CANONICAL_VERSIONS: std::ops::RangeInclusive<u64> = 1..=3;

/// Which field set an event hash covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventLayout {
    /// The payload of the entry's `canonical_version` (1, 2 or 3): LEDGER.md's primary layout.
    Canonical,
    /// ledgix-python 0.4.0's variant: the version-1 fields plus `action_category`,
    /// `action_metadata`, `policy_version_id` and `policy_content_hash`.
    PythonVariant,
}

/// Everything that selects one event payload encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventEncoding {
    /// The field set.
    pub layout: EventLayout,
    /// `confidence` as a CBOR integer (ledgix-ts writes whole numbers so) instead of float64;
    /// only a whole number in `[0, 2^53]` has that form, any other stays a float64.
    pub integer_confidence: bool,
    /// Key order inside the JSON values.
    pub key_order: KeyOrder,
}

impl EventEncoding {
    /// The layout a Vault writes today and [`event_hash`] computes.
    pub const PRIMARY: EventEncoding = EventEncoding {
        layout: EventLayout::Canonical,
        integer_confidence: false,
        key_order: KeyOrder::EncodedLength,
    };
}

/// The event hash of an entry in its `canonical_version`'s primary layout (confidence as
/// float64, keys in encoded-length order). Errors on an unknown `canonical_version`, a
/// non-finite confidence or an unencodable JSON value.
pub fn event_hash(entry: &LedgerEntry) -> Result<[u8; 32], LedgerError> {
    Ok(hash_event_payload(&event_payload(
        entry,
        EventEncoding::PRIMARY,
    )?))
}

/// `SHA-256("ledgix.audit.event.v1\0" || payload)`.
pub fn hash_event_payload(payload: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(EVENT_HASH_PREFIX)
        .chain_update(payload)
        .finalize()
        .into()
}

/// The deterministic CBOR an event hash covers, in the given encoding.
pub fn event_payload(entry: &LedgerEntry, enc: EventEncoding) -> Result<Vec<u8>, LedgerError> {
    let version = entry.canonical_version;
    if !SUPPORTED_CANONICAL_VERSIONS.contains(&version) {
        return Err(LedgerError::UnsupportedCanonicalVersion {
            seq: entry.seq,
            version,
        });
    }
    let json = |field: &str, value: &Value| {
        cbor::encode_json(value, enc.key_order)
            .map(Item::Encoded)
            .map_err(|e| malformed(entry, field, e.to_string()))
    };
    let mut map: Vec<(&str, Item<'_>)> = vec![
        ("accepted_at", Item::Text(&entry.accepted_at)),
        ("agent_id", Item::Text(&entry.agent_id)),
        ("approved", Item::Bool(entry.approved)),
        ("canonical_version", Item::Uint(version)),
        ("citations", json("citations", &entry.citations)?),
        (
            "confidence",
            confidence_item(entry, enc.integer_confidence)?,
        ),
        ("event_uuid", Item::Text(&entry.event_uuid)),
        (
            "evidence_chunks",
            json("evidence_chunks", &entry.evidence_chunks)?,
        ),
        ("intent_hash", Item::Text(&entry.intent_hash)),
        ("policy_id", Item::Text(&entry.policy_id)),
        ("reason", Item::Text(&entry.reason)),
        ("request_id", Item::Text(&entry.request_id)),
        ("tool_args", json("tool_args", &entry.tool_args)?),
        ("tool_name", Item::Text(&entry.tool_name)),
    ];
    match enc.layout {
        EventLayout::Canonical => {
            if version >= 2 {
                map.push(("confidence_bucket", text_or_empty(&entry.confidence_bucket)));
                map.push(("decision_status", text_or_empty(&entry.decision_status)));
            }
            if version >= 3 {
                let ids = entry.matched_rule_ids.as_deref().unwrap_or_default();
                map.extend([
                    ("rule_set_hash", text_or_empty(&entry.rule_set_hash)),
                    (
                        "matched_rule_ids",
                        Item::Array(ids.iter().map(|s| Item::Text(s)).collect()),
                    ),
                    ("eval_inputs_hash", text_or_empty(&entry.eval_inputs_hash)),
                    ("eval_trace_hash", text_or_empty(&entry.eval_trace_hash)),
                    ("classifier_label", text_or_empty(&entry.classifier_label)),
                    (
                        "classifier_confidence_bucket",
                        text_or_empty(&entry.classifier_confidence_bucket),
                    ),
                ]);
            }
        }
        EventLayout::PythonVariant => {
            map.extend([
                ("action_category", Item::Text(&entry.action_category)),
                (
                    "action_metadata",
                    json("action_metadata", &entry.action_metadata)?,
                ),
                ("policy_version_id", Item::Text(&entry.policy_version_id)),
                (
                    "policy_content_hash",
                    Item::Text(&entry.policy_content_hash),
                ),
            ]);
        }
    }
    Ok(cbor::encode(&Item::Map(map), KeyOrder::EncodedLength))
}

/// Every encoding a verifier accepts for this entry, primary first: the canonical layout,
/// then ledgix-python's variant; for each, confidence as float64 and (when it is a whole
/// number) as an integer; key orders — the Vault's, ledgix-python's, ledgix-ts's — differ
/// only when a JSON value has a non-ASCII key (and the last two only for keys outside the
/// Basic Multilingual Plane).
pub fn accepted_encodings(entry: &LedgerEntry) -> Vec<EventEncoding> {
    let whole = is_whole(entry.confidence);
    let values = [
        &entry.tool_args,
        &entry.citations,
        &entry.evidence_chunks,
        &entry.action_metadata,
    ];
    let non_ascii = values.into_iter().any(cbor::has_non_ascii_key);
    let astral = non_ascii && values.into_iter().any(cbor::has_astral_key);
    let mut out = Vec::new();
    for layout in [EventLayout::Canonical, EventLayout::PythonVariant] {
        for key_order in [
            KeyOrder::EncodedLength,
            KeyOrder::CodePointLength,
            KeyOrder::Utf16Length,
        ] {
            let differs = match key_order {
                KeyOrder::CodePointLength => non_ascii,
                KeyOrder::Utf16Length => astral,
                _ => true,
            };
            if !differs {
                continue;
            }
            for integer_confidence in [false, true] {
                if integer_confidence && !whole {
                    continue;
                }
                out.push(EventEncoding {
                    layout,
                    integer_confidence,
                    key_order,
                });
            }
        }
    }
    out
}

/// The first accepted encoding whose hash is `claimed`, and the primary hash (for the error
/// message when none matches).
pub fn match_event_hash(
    entry: &LedgerEntry,
    claimed: &[u8; 32],
) -> Result<(Option<EventEncoding>, [u8; 32]), LedgerError> {
    let primary = event_hash(entry)?;
    if primary == *claimed {
        return Ok((Some(EventEncoding::PRIMARY), primary));
    }
    for enc in accepted_encodings(entry).into_iter().skip(1) {
        if hash_event_payload(&event_payload(entry, enc)?) == *claimed {
            return Ok((Some(enc), primary));
        }
    }
    Ok((None, primary))
}

/// Fields the entry shows (non-empty) that a hash in `layout` does not cover. Normally empty.
pub fn uncommitted_fields(entry: &LedgerEntry, layout: EventLayout) -> Vec<&'static str> {
    let version = entry.canonical_version;
    let v2 = [
        ("confidence_bucket", opt_set(&entry.confidence_bucket)),
        ("decision_status", opt_set(&entry.decision_status)),
    ];
    let v3 = [
        ("rule_set_hash", opt_set(&entry.rule_set_hash)),
        (
            "matched_rule_ids",
            entry
                .matched_rule_ids
                .as_ref()
                .is_some_and(|v| !v.is_empty()),
        ),
        ("eval_inputs_hash", opt_set(&entry.eval_inputs_hash)),
        ("eval_trace_hash", opt_set(&entry.eval_trace_hash)),
        ("classifier_label", opt_set(&entry.classifier_label)),
        (
            "classifier_confidence_bucket",
            opt_set(&entry.classifier_confidence_bucket),
        ),
    ];
    let variant = [
        ("action_category", !entry.action_category.is_empty()),
        ("action_metadata", json_set(&entry.action_metadata)),
        ("policy_version_id", !entry.policy_version_id.is_empty()),
        ("policy_content_hash", !entry.policy_content_hash.is_empty()),
    ];
    let mut out: Vec<&'static str> = Vec::new();
    let mut add = |fields: &[(&'static str, bool)]| {
        out.extend(fields.iter().filter(|(_, set)| *set).map(|(name, _)| *name));
    };
    match layout {
        EventLayout::Canonical => {
            add(&variant);
            if version < 2 {
                add(&v2);
            }
            if version < 3 {
                add(&v3);
            }
        }
        EventLayout::PythonVariant => {
            add(&v2);
            add(&v3);
        }
    }
    out
}

/// The receipt payload the Vault signs: CBOR `{accepted_at, event_hash, event_uuid,
/// leaf_hash, receipt_key_id, request_id, type: "event_receipt", version: 1}`.
pub fn receipt_payload(entry: &LedgerEntry) -> Vec<u8> {
    cbor::encode(
        &Item::Map(vec![
            ("accepted_at", Item::Text(&entry.accepted_at)),
            ("event_hash", Item::Text(&entry.event_hash)),
            ("event_uuid", Item::Text(&entry.event_uuid)),
            ("leaf_hash", Item::Text(&entry.leaf_hash)),
            ("receipt_key_id", Item::Text(&entry.receipt_key_id)),
            ("request_id", Item::Text(&entry.request_id)),
            ("type", Item::Text("event_receipt")),
            ("version", Item::Uint(1)),
        ]),
        KeyOrder::EncodedLength,
    )
}

/// The checkpoint payload the Vault signs: CBOR `{export_targets: [export_target] or [],
/// key_id: signer_key_id, mmd_seconds, prev_checkpoint_hash, root_hash, signed_at,
/// tree_size, type: "checkpoint", version: 1}`.
pub fn checkpoint_payload(checkpoint: &LedgerCheckpoint) -> Vec<u8> {
    let targets = if checkpoint.export_target.is_empty() {
        Vec::new()
    } else {
        vec![Item::Text(&checkpoint.export_target)]
    };
    cbor::encode(
        &Item::Map(vec![
            ("export_targets", Item::Array(targets)),
            ("key_id", Item::Text(&checkpoint.signer_key_id)),
            ("mmd_seconds", Item::Uint(checkpoint.mmd_seconds)),
            (
                "prev_checkpoint_hash",
                Item::Text(&checkpoint.prev_checkpoint_hash),
            ),
            ("root_hash", Item::Text(&checkpoint.root_hash)),
            ("signed_at", Item::Text(&checkpoint.signed_at)),
            ("tree_size", Item::Uint(checkpoint.tree_size)),
            ("type", Item::Text("checkpoint")),
            ("version", Item::Uint(1)),
        ]),
        KeyOrder::EncodedLength,
    )
}

/// `SHA-256("ledgix.audit.checkpoint.v1\0" || payload)`.
pub fn checkpoint_hash(payload: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(CHECKPOINT_HASH_PREFIX)
        .chain_update(payload)
        .finalize()
        .into()
}

fn confidence_item(entry: &LedgerEntry, integer: bool) -> Result<Item<'static>, LedgerError> {
    let c = entry.confidence;
    if !c.is_finite() {
        return Err(malformed(
            entry,
            "confidence",
            "is not a finite number".into(),
        ));
    }
    if integer && is_whole(c) {
        // is_whole bounds c to [0, 2^53], so the cast is exact.
        return Ok(Item::Uint(c as u64));
    }
    Ok(Item::Float(c))
}

/// A whole number in `[0, 2^53]`, representable exactly as both float64 and integer.
fn is_whole(c: f64) -> bool {
    c.is_finite() && c.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&c)
}

fn text_or_empty(value: &Option<String>) -> Item<'_> {
    Item::Text(value.as_deref().unwrap_or_default())
}

fn opt_set(value: &Option<String>) -> bool {
    value.as_ref().is_some_and(|s| !s.is_empty())
}

fn json_set(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

fn malformed(entry: &LedgerEntry, field: &str, why: String) -> LedgerError {
    LedgerError::Malformed {
        field: format!("entry seq {}: {field}", entry.seq),
        why,
    }
}
