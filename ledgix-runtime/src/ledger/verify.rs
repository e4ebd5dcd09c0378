//! `verify_proof_bundle` (the six checks of LEDGER.md, in order) and `verify_ledger`.

use std::collections::{BTreeMap, BTreeSet};

use super::LedgerError;
use super::bundle::{InclusionProof, LedgerCheckpoint, LedgerEntry, ProofBundle};
use super::hash::{self, EventEncoding};
use super::keys::{Signed, TrustedKeys, check_embedded_keys, verify_signature};
use super::merkle::{self, MerkleTree};
use super::numbers;
use super::parse::{clip, decode_b64, parse_hash, parse_path};
use crate::b64;

/// What [`verify_proof_bundle`] established about one decision.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BundleVerification {
    /// The request the decision answered.
    pub request_id: String,
    /// The ledger event's id.
    pub event_uuid: String,
    /// The event hash (lowercase hex), signed in the receipt and proven in the tree.
    pub event_hash: String,
    /// The leaf's index.
    pub leaf_index: u64,
    /// The size of the tree the inclusion was proven in.
    pub tree_size: u64,
    /// True when the event hash was recomputed from the event body, matched, and pins every
    /// value the body shows. False for a redacted row (empty `intent_hash`): its body could
    /// not be checked, only its receipt and its place in the tree. False as well when a
    /// hashed number is not pinned by the hash ([`unpinned_numbers`](Self::unpinned_numbers)).
    pub event_body_verified: bool,
    /// The payload encoding whose hash matched (`None` for a redacted row).
    pub event_encoding: Option<EventEncoding>,
    /// Fields of the event the hash does not vouch for (normally none): non-empty fields the
    /// matched layout does not hash, and the fields holding an unpinned number.
    pub uncommitted_fields: Vec<&'static str>,
    /// JSON pointers (`/tool_args/amount`) of hashed numbers whose text is not the one
    /// number their float64 commits to — an integer above 2^53 that is not its float64, a
    /// decimal longer than its float64's shortest form — so another number with the same
    /// hash could stand in their place. Normally none.
    pub unpinned_numbers: Vec<String>,
    /// The signed checkpoint the inclusion was proven against.
    pub checkpoint_id: u64,
    /// Its root (lowercase hex).
    pub root_hash: String,
    /// True when the bundle carried a consistency proof and it verified.
    pub consistency_verified: bool,
    /// The newest checkpoint verified: the consistency proof's `to_checkpoint`, else the
    /// inclusion checkpoint.
    pub latest_checkpoint_id: u64,
    /// Its tree size.
    pub latest_tree_size: u64,
    /// Its root (lowercase hex).
    pub latest_root_hash: String,
    /// The trusted key ids that signed the receipt and the checkpoints.
    pub signer_key_ids: Vec<String>,
}

/// What [`verify_ledger`] established about a list of entries and checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerVerification {
    /// Entries whose receipt, leaf hash and (unless redacted) event hash verified.
    pub entries_verified: usize,
    /// `seq` of the redacted entries (empty `intent_hash`): their bodies were not checked.
    pub redacted_entries: Vec<u64>,
    /// `seq` and field names of entries showing fields their hash does not cover (or does
    /// not pin, see `unpinned_numbers`).
    pub uncommitted_fields: Vec<(u64, Vec<&'static str>)>,
    /// `seq` and JSON pointers of entries whose hashed numbers are not pinned by their hash
    /// (see [`BundleVerification::unpinned_numbers`]): their bodies are not verified.
    pub unpinned_numbers: Vec<(u64, Vec<String>)>,
    /// Checkpoints whose payload, hash, signature and chain link verified.
    pub checkpoints_verified: usize,
    /// True when the first checkpoint given is the ledger's first (empty
    /// `prev_checkpoint_hash`); false when the list starts mid-chain.
    pub chain_from_genesis: bool,
    /// The newest checkpoint.
    pub latest_checkpoint_id: Option<u64>,
    /// Its hash (lowercase hex).
    pub latest_checkpoint_hash: Option<String>,
    /// Its tree size.
    pub latest_tree_size: Option<u64>,
    /// True when the newest checkpoint's root was recomputed from the entries' leaves (all
    /// of its leaves were given).
    pub root_checked: bool,
    /// How many checkpoints' roots were recomputed from the entries' leaves.
    pub roots_checked: usize,
    /// The leaf hash of the entry with the highest `seq`.
    pub latest_leaf_hash: Option<String>,
}

/// Verifies one decision offline against trusted keys, making the checks of LEDGER.md in
/// order:
///
/// 1. keys and signatures: a key the bundle embeds under a trusted key id must be that
///    key; the receipt and every checkpoint are signed (Ed25519, strict) by trusted keys;
/// 2. the event hash is recomputed from the body (unless redacted, then reported), the leaf
///    hash from the event hash, and the receipt payload rebuilt byte-for-byte; hashed numbers
///    the float64 hash cannot pin are reported
///    ([`unpinned_numbers`](BundleVerification::unpinned_numbers)), never verified;
/// 3. the inclusion proof is about this event (request id, event id, event and leaf hash,
///    leaf index) and for its checkpoint's tree (tree size, root);
/// 4. the checkpoint payload is rebuilt byte-for-byte and its hash recomputed, then the
///    inclusion proof verified against the signed root;
/// 5. with a consistency proof: both checkpoints checked as in 4, `from_checkpoint` is the
///    inclusion checkpoint, and the proof verifies;
/// 6. nothing panics: every malformed field is a [`LedgerError`] naming it.
pub fn verify_proof_bundle(
    bundle: &ProofBundle,
    keys: &TrustedKeys,
) -> Result<BundleVerification, LedgerError> {
    let event = &bundle.event;
    let inclusion = &bundle.inclusion;

    // 1. Keys and signatures.
    check_embedded_keys(&bundle.keys, keys)?;
    let receipt = verify_receipt_signature(event, keys)?;
    let inclusion_payload =
        verify_checkpoint_signature("inclusion.checkpoint", &inclusion.checkpoint, keys)?;
    let consistency_payloads = match &bundle.consistency {
        Some(c) => {
            // The from_checkpoint normally is the inclusion checkpoint, byte for byte: its
            // signature was just verified.
            let from = if same_signed_bytes(&c.from_checkpoint, &inclusion.checkpoint) {
                inclusion_payload.clone()
            } else {
                verify_checkpoint_signature(
                    "consistency.from_checkpoint",
                    &c.from_checkpoint,
                    keys,
                )?
            };
            let to =
                verify_checkpoint_signature("consistency.to_checkpoint", &c.to_checkpoint, keys)?;
            Some((from, to))
        }
        None => None,
    };

    // 2. The event body, its leaf, its receipt.
    let checked = check_entry(event, &receipt)?;

    // 3. The inclusion proof is about this event, for its checkpoint's tree.
    check_inclusion_is_about(event, &checked, inclusion)?;

    // 4. The checkpoint, then the inclusion proof against its signed root.
    let checkpoint = check_checkpoint(
        "inclusion.checkpoint",
        &inclusion.checkpoint,
        &inclusion_payload,
    )?;
    let path = parse_path("inclusion.path", &inclusion.path)?;
    merkle::verify_inclusion(
        &checked.leaf_hash,
        inclusion.leaf_index,
        inclusion.tree_size,
        &path,
        &checkpoint.root,
    )?;

    // 5. The consistency proof, from the inclusion checkpoint.
    let mut latest = &inclusion.checkpoint;
    let mut signers = vec![event.receipt_key_id.clone(), latest.signer_key_id.clone()];
    if let (Some(c), Some((from_payload, to_payload))) = (&bundle.consistency, consistency_payloads)
    {
        let from = check_checkpoint(
            "consistency.from_checkpoint",
            &c.from_checkpoint,
            &from_payload,
        )?;
        let to = check_checkpoint("consistency.to_checkpoint", &c.to_checkpoint, &to_payload)?;
        if from.hash != checkpoint.hash {
            return Err(LedgerError::ConsistencyNotFromInclusion {
                from_checkpoint: c.from_checkpoint.checkpoint_id,
                from_hash: crate::hex::encode(from.hash),
                inclusion_checkpoint: inclusion.checkpoint.checkpoint_id,
                inclusion_hash: crate::hex::encode(checkpoint.hash),
            });
        }
        let path = parse_path("consistency.path", &c.path)?;
        merkle::verify_consistency(
            c.from_checkpoint.tree_size,
            c.to_checkpoint.tree_size,
            &path,
            &from.root,
            &to.root,
        )?;
        latest = &c.to_checkpoint;
        signers.push(latest.signer_key_id.clone());
    }
    signers.sort();
    signers.dedup();

    Ok(BundleVerification {
        request_id: event.request_id.clone(),
        event_uuid: event.event_uuid.clone(),
        event_hash: event.event_hash.clone(),
        leaf_index: inclusion.leaf_index,
        tree_size: inclusion.tree_size,
        event_body_verified: checked.encoding.is_some() && checked.unpinned.is_empty(),
        event_encoding: checked.encoding,
        uncommitted_fields: checked.uncommitted,
        unpinned_numbers: checked.unpinned,
        checkpoint_id: inclusion.checkpoint.checkpoint_id,
        root_hash: inclusion.checkpoint.root_hash.clone(),
        consistency_verified: bundle.consistency.is_some(),
        latest_checkpoint_id: latest.checkpoint_id,
        latest_tree_size: latest.tree_size,
        latest_root_hash: latest.root_hash.clone(),
        signer_key_ids: signers,
    })
}

/// Verifies a list of ledger entries and checkpoints offline against trusted keys:
///
/// - every entry as in check 2 of [`verify_proof_bundle`], plus its receipt signature;
///   `seq` and `leaf_index` unique;
/// - every checkpoint as in check 4 (payload, hash, signature), ids unique, each chained to
///   the previous one by `prev_checkpoint_hash`, tree sizes never shrinking;
/// - each sealed entry's `checkpoint_id` is the checkpoint that first covers its leaf;
/// - every checkpoint whose leaves are all given has its root recomputed from them (so the
///   newest root is checked whenever the entries cover its whole tree).
///
/// Order of the inputs does not matter. What could not be checked is reported in the
/// [`LedgerVerification`], never passed over silently.
pub fn verify_ledger(
    entries: &[LedgerEntry],
    checkpoints: &[LedgerCheckpoint],
    keys: &TrustedKeys,
) -> Result<LedgerVerification, LedgerError> {
    let mut out = LedgerVerification {
        entries_verified: 0,
        redacted_entries: Vec::new(),
        uncommitted_fields: Vec::new(),
        unpinned_numbers: Vec::new(),
        checkpoints_verified: 0,
        chain_from_genesis: false,
        latest_checkpoint_id: None,
        latest_checkpoint_hash: None,
        latest_tree_size: None,
        root_checked: false,
        roots_checked: 0,
        latest_leaf_hash: None,
    };

    // Entries, in seq order.
    let mut sorted: Vec<&LedgerEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.seq);
    let mut leaves: BTreeMap<u64, [u8; 32]> = BTreeMap::new();
    let mut previous_seq = None;
    for entry in &sorted {
        if previous_seq == Some(entry.seq) {
            return Err(LedgerError::Duplicate {
                what: "seq",
                value: entry.seq,
            });
        }
        previous_seq = Some(entry.seq);
        let receipt = verify_receipt_signature(entry, keys)?;
        let checked = check_entry(entry, &receipt)?;
        if checked.encoding.is_none() {
            out.redacted_entries.push(entry.seq);
        }
        if !checked.uncommitted.is_empty() {
            out.uncommitted_fields
                .push((entry.seq, checked.uncommitted));
        }
        if !checked.unpinned.is_empty() {
            out.unpinned_numbers.push((entry.seq, checked.unpinned));
        }
        match (entry.leaf_index, entry.checkpoint_id) {
            (Some(index), _) => {
                if leaves.insert(index, checked.leaf_hash).is_some() {
                    return Err(LedgerError::Duplicate {
                        what: "leaf_index",
                        value: index,
                    });
                }
            }
            (None, Some(id)) => {
                return Err(LedgerError::SealMismatch {
                    seq: entry.seq,
                    why: format!("names checkpoint {id} but has no leaf_index"),
                });
            }
            (None, None) => {}
        }
        out.entries_verified += 1;
        out.latest_leaf_hash = Some(entry.leaf_hash.clone());
    }

    // Checkpoints, in id order, chained.
    let mut chain: Vec<(&LedgerCheckpoint, CheckedCheckpoint)> = Vec::new();
    let mut sorted_checkpoints: Vec<&LedgerCheckpoint> = checkpoints.iter().collect();
    sorted_checkpoints.sort_by_key(|c| c.checkpoint_id);
    for cp in sorted_checkpoints {
        let name = format!("checkpoint {}", cp.checkpoint_id);
        let payload = verify_checkpoint_signature(&name, cp, keys)?;
        let checked = check_checkpoint(&name, cp, &payload)?;
        match chain.last() {
            None => out.chain_from_genesis = cp.prev_checkpoint_hash.is_empty(),
            Some((prev, _)) => {
                if prev.checkpoint_id == cp.checkpoint_id {
                    return Err(LedgerError::Duplicate {
                        what: "checkpoint_id",
                        value: cp.checkpoint_id,
                    });
                }
                if cp.prev_checkpoint_hash != prev.checkpoint_hash {
                    return Err(LedgerError::ChainBroken {
                        checkpoint_id: cp.checkpoint_id,
                        prev: clip(&cp.prev_checkpoint_hash),
                        expected: prev.checkpoint_hash.clone(),
                    });
                }
                if cp.tree_size < prev.tree_size {
                    return Err(LedgerError::TreeShrank {
                        checkpoint_id: cp.checkpoint_id,
                        tree_size: cp.tree_size,
                        previous: prev.tree_size,
                    });
                }
            }
        }
        chain.push((cp, checked));
        out.checkpoints_verified += 1;
    }

    check_seals(&sorted, &chain, out.chain_from_genesis)?;

    // Roots, over the leaves given contiguously from index 0.
    let prefix: Vec<[u8; 32]> = leaves
        .iter()
        .enumerate()
        .take_while(|(i, (index, _))| *i as u64 == **index)
        .map(|(_, (_, leaf))| *leaf)
        .collect();
    let tree = MerkleTree::from_leaves(&prefix);
    for (cp, checked) in &chain {
        let Some(computed) = tree.root_at(cp.tree_size) else {
            continue; // Not all of its leaves were given.
        };
        if computed != checked.root {
            return Err(LedgerError::RootMismatch {
                checkpoint_id: cp.checkpoint_id,
                tree_size: cp.tree_size,
                computed: crate::hex::encode(computed),
                claimed: cp.root_hash.clone(),
            });
        }
        out.roots_checked += 1;
    }

    if let Some((latest, _)) = chain.last() {
        out.root_checked = latest.tree_size <= tree.len();
        out.latest_checkpoint_id = Some(latest.checkpoint_id);
        out.latest_checkpoint_hash = Some(latest.checkpoint_hash.clone());
        out.latest_tree_size = Some(latest.tree_size);
    }
    Ok(out)
}

/// Each sealed entry names the checkpoint that first covers its leaf: the one whose tree
/// holds it while the previous checkpoint's does not.
fn check_seals(
    entries: &[&LedgerEntry],
    chain: &[(&LedgerCheckpoint, CheckedCheckpoint)],
    from_genesis: bool,
) -> Result<(), LedgerError> {
    let ids: BTreeSet<u64> = chain.iter().map(|(c, _)| c.checkpoint_id).collect();
    for entry in entries {
        let (Some(index), Some(id)) = (entry.leaf_index, entry.checkpoint_id) else {
            continue;
        };
        let mismatch = |why: String| LedgerError::SealMismatch {
            seq: entry.seq,
            why,
        };
        let position = chain.iter().position(|(c, _)| c.checkpoint_id == id);
        match position {
            Some(pos) => {
                let Some((cp, _)) = chain.get(pos) else {
                    continue;
                };
                let lower = match pos.checked_sub(1).and_then(|p| chain.get(p)) {
                    Some((prev, _)) => Some(prev.tree_size),
                    None if from_genesis => Some(0),
                    None => None,
                };
                let below = lower.is_some_and(|lo| index < lo);
                if index >= cp.tree_size || below {
                    return Err(mismatch(format!(
                        "leaf {index} is said to be sealed by checkpoint {id}, which covers leaves {}..{}",
                        lower.map_or_else(|| "?".to_owned(), |l| l.to_string()),
                        cp.tree_size
                    )));
                }
            }
            None if from_genesis => {
                // The chain is complete up to its newest checkpoint: a leaf inside that tree
                // must be sealed by one of the given checkpoints.
                if let Some((sealer, _)) = chain.iter().find(|(c, _)| index < c.tree_size) {
                    return Err(mismatch(format!(
                        "leaf {index} is said to be sealed by checkpoint {id}, but checkpoint {} sealed it{}",
                        sealer.checkpoint_id,
                        if ids.contains(&id) {
                            ""
                        } else {
                            " (and no such checkpoint was given)"
                        }
                    )));
                }
            }
            None => {}
        }
    }
    Ok(())
}

/// What check 2 established about one entry.
struct CheckedEntry {
    event_hash: [u8; 32],
    leaf_hash: [u8; 32],
    encoding: Option<EventEncoding>,
    uncommitted: Vec<&'static str>,
    unpinned: Vec<String>,
}

/// What check 4 established about one checkpoint.
struct CheckedCheckpoint {
    root: [u8; 32],
    hash: [u8; 32],
}

/// Check 1 for a receipt: decodes the signed payload and verifies its signature.
fn verify_receipt_signature(
    entry: &LedgerEntry,
    keys: &TrustedKeys,
) -> Result<Vec<u8>, LedgerError> {
    let ctx = format!("entry seq {}", entry.seq);
    let payload = decode_b64(&format!("{ctx}: receipt_payload"), &entry.receipt_payload)?;
    let signed = Signed {
        what: format!("the receipt of {ctx}"),
        kid: &entry.receipt_key_id,
        algorithm: &entry.receipt_algorithm,
        signature_field: format!("{ctx}: receipt_signature"),
        signature: &entry.receipt_signature,
    };
    verify_signature(&signed, &payload, keys)?;
    Ok(payload)
}

/// Check 2: event hash from the body (unless redacted), leaf hash from the event hash,
/// receipt payload rebuilt byte-for-byte.
fn check_entry(entry: &LedgerEntry, receipt: &[u8]) -> Result<CheckedEntry, LedgerError> {
    let ctx = format!("entry seq {}", entry.seq);
    let event_hash = parse_hash(&format!("{ctx}: event_hash"), &entry.event_hash)?;
    let claimed_leaf = parse_hash(&format!("{ctx}: leaf_hash"), &entry.leaf_hash)?;

    let (encoding, uncommitted, unpinned) = if entry.intent_hash.is_empty() {
        (None, Vec::new(), Vec::new())
    } else {
        let (found, primary) = hash::match_event_hash(entry, &event_hash)?;
        let encoding = found.ok_or_else(|| LedgerError::EventHashMismatch {
            seq: entry.seq,
            computed: crate::hex::encode(primary),
            claimed: entry.event_hash.clone(),
        })?;
        let unpinned = numbers::unpinned_numbers(entry, encoding.layout);
        let mut uncommitted = hash::uncommitted_fields(entry, encoding.layout);
        for field in numbers::uncommitted(&unpinned) {
            if !uncommitted.contains(&field) {
                uncommitted.push(field);
            }
        }
        (Some(encoding), uncommitted, unpinned)
    };

    let leaf_hash = merkle::leaf_hash(&event_hash);
    if leaf_hash != claimed_leaf {
        return Err(LedgerError::LeafHashMismatch {
            seq: entry.seq,
            computed: crate::hex::encode(leaf_hash),
            claimed: entry.leaf_hash.clone(),
        });
    }
    let rebuilt = hash::receipt_payload(entry);
    if rebuilt != receipt {
        return Err(LedgerError::ReceiptPayloadMismatch {
            seq: entry.seq,
            rebuilt: clip_payload(&rebuilt),
            received: clip_payload(receipt),
        });
    }
    Ok(CheckedEntry {
        event_hash,
        leaf_hash,
        encoding,
        uncommitted,
        unpinned,
    })
}

/// Check 3: the proof names this event and this checkpoint's tree.
fn check_inclusion_is_about(
    event: &LedgerEntry,
    checked: &CheckedEntry,
    inclusion: &InclusionProof,
) -> Result<(), LedgerError> {
    let mismatch = |field: &'static str, event: &str, proof: &str| {
        Err(LedgerError::InclusionMismatch {
            field,
            event: clip(event),
            proof: clip(proof),
        })
    };
    if inclusion.request_id != event.request_id {
        return mismatch("request_id", &event.request_id, &inclusion.request_id);
    }
    if inclusion.event_uuid != event.event_uuid {
        return mismatch("event_uuid", &event.event_uuid, &inclusion.event_uuid);
    }
    let event_hash = parse_hash("inclusion.event_hash", &inclusion.event_hash)?;
    if event_hash != checked.event_hash {
        return mismatch("event_hash", &event.event_hash, &inclusion.event_hash);
    }
    let leaf_hash = parse_hash("inclusion.leaf_hash", &inclusion.leaf_hash)?;
    if leaf_hash != checked.leaf_hash {
        return mismatch("leaf_hash", &event.leaf_hash, &inclusion.leaf_hash);
    }
    if event.leaf_index != Some(inclusion.leaf_index) {
        let shown = event
            .leaf_index
            .map_or_else(|| "none".to_owned(), |i| i.to_string());
        return mismatch("leaf_index", &shown, &inclusion.leaf_index.to_string());
    }
    let checkpoint = &inclusion.checkpoint;
    if inclusion.tree_size != checkpoint.tree_size {
        return Err(LedgerError::CheckpointMismatch {
            field: "tree_size",
            proof: inclusion.tree_size.to_string(),
            checkpoint: checkpoint.tree_size.to_string(),
        });
    }
    if let Some(root) = &inclusion.root_hash {
        let proof_root = parse_hash("inclusion.root_hash", root)?;
        let signed_root = parse_hash("inclusion.checkpoint.root_hash", &checkpoint.root_hash)?;
        if proof_root != signed_root {
            return Err(LedgerError::CheckpointMismatch {
                field: "root_hash",
                proof: root.clone(),
                checkpoint: checkpoint.root_hash.clone(),
            });
        }
    }
    Ok(())
}

/// A payload as base64url for an error message, at most 1 KiB of it.
fn clip_payload(bytes: &[u8]) -> String {
    let shown = bytes.get(..768).unwrap_or(bytes);
    let mut text = b64::encode(shown);
    if shown.len() < bytes.len() {
        text.push('…');
    }
    text
}

/// Check 1 for a checkpoint: decodes the signed payload and verifies its signature.
fn verify_checkpoint_signature(
    name: &str,
    checkpoint: &LedgerCheckpoint,
    keys: &TrustedKeys,
) -> Result<Vec<u8>, LedgerError> {
    let payload = decode_b64(
        &format!("{name}.checkpoint_payload"),
        &checkpoint.checkpoint_payload,
    )?;
    let signed = Signed {
        what: format!("{name} (checkpoint {})", checkpoint.checkpoint_id),
        kid: &checkpoint.signer_key_id,
        algorithm: &checkpoint.signature_algorithm,
        signature_field: format!("{name}.checkpoint_signature"),
        signature: &checkpoint.checkpoint_signature,
    };
    verify_signature(&signed, &payload, keys)?;
    Ok(payload)
}

/// True when two checkpoints carry the same signed payload, signature, key id and algorithm,
/// so verifying one signature verifies both.
fn same_signed_bytes(a: &LedgerCheckpoint, b: &LedgerCheckpoint) -> bool {
    a.checkpoint_payload == b.checkpoint_payload
        && a.checkpoint_signature == b.checkpoint_signature
        && a.signer_key_id == b.signer_key_id
        && a.signature_algorithm == b.signature_algorithm
}

/// Check 4 for a checkpoint: the payload rebuilt byte-for-byte, its hash recomputed.
fn check_checkpoint(
    name: &str,
    checkpoint: &LedgerCheckpoint,
    payload: &[u8],
) -> Result<CheckedCheckpoint, LedgerError> {
    let root = parse_hash(&format!("{name}.root_hash"), &checkpoint.root_hash)?;
    let claimed = parse_hash(
        &format!("{name}.checkpoint_hash"),
        &checkpoint.checkpoint_hash,
    )?;
    if !checkpoint.prev_checkpoint_hash.is_empty() {
        parse_hash(
            &format!("{name}.prev_checkpoint_hash"),
            &checkpoint.prev_checkpoint_hash,
        )?;
    }
    let rebuilt = hash::checkpoint_payload(checkpoint);
    if rebuilt != payload {
        return Err(LedgerError::CheckpointPayloadMismatch {
            checkpoint_id: checkpoint.checkpoint_id,
            rebuilt: clip_payload(&rebuilt),
            received: clip_payload(payload),
        });
    }
    let hash = hash::checkpoint_hash(payload);
    if hash != claimed {
        return Err(LedgerError::CheckpointHashMismatch {
            checkpoint_id: checkpoint.checkpoint_id,
            computed: crate::hex::encode(hash),
            claimed: checkpoint.checkpoint_hash.clone(),
        });
    }
    Ok(CheckedCheckpoint { root, hash })
}
