//! The mock Vault's ledger (LEDGER.md): every terminal decision becomes an event with its
//! event hash, leaf hash and a receipt signed at once; the sealer appends unsealed leaves to
//! an RFC 6962 tree and signs a checkpoint chained to the previous one; proofs are served
//! from the tree's cached subtree hashes.
//!
//! Locks are held only to copy or push: hashing and signing happen outside them, so
//! decisions keep flowing while a seal is in progress.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::faults::lock;
use super::tokens::{Seeds, key_id};
use crate::b64;
use crate::jwk::Jwk;
use crate::ledger::merkle::{self, MerkleTree};
use crate::ledger::{
    ConsistencyProof, InclusionProof, LedgerCheckpoint, LedgerEntry, LedgerError, LedgerKeyVersion,
    ProofBundle, hash,
};
use crate::protocol::{ClearanceRequest, ConfidenceBucket, DecisionStatus};
use crate::token::tool_args_hash;

/// Signature algorithm of receipts and checkpoints.
const ALGORITHM: &str = "Ed25519";

/// What the engine knows about a terminal decision.
#[derive(Debug)]
pub(crate) struct EventInput<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) request: &'a ClearanceRequest,
    pub(crate) approved: bool,
    pub(crate) reason: &'a str,
    pub(crate) confidence: f64,
    pub(crate) confidence_bucket: ConfidenceBucket,
    pub(crate) decision_status: DecisionStatus,
}

/// Why a proof cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ProofError {
    #[error("no ledger event for request `{0}`")]
    UnknownRequest(String),
    #[error("the ledger event of request `{0}` is not sealed into a checkpoint yet")]
    NotSealed(String),
    #[error("no checkpoint has id {0}")]
    UnknownCheckpoint(u64),
    #[error("a consistency proof needs from ≤ to, got from {from}, to {to}")]
    BadRange { from: u64, to: u64 },
}

#[derive(Debug, Default)]
struct State {
    entries: Vec<LedgerEntry>,
    /// Leaf hash of each entry, in sequence order.
    leaves: Vec<[u8; 32]>,
    by_request: HashMap<String, usize>,
    checkpoints: Vec<LedgerCheckpoint>,
}

/// One instance's ledger.
pub(crate) struct Ledger {
    key: SigningKey,
    kid: String,
    key_version: LedgerKeyVersion,
    canonical_version: u64,
    mmd_seconds: u64,
    state: Mutex<State>,
    /// The sealed leaves (only the sealer appends).
    tree: Mutex<MerkleTree>,
    /// One seal at a time.
    sealing: tokio::sync::Mutex<()>,
}

impl Ledger {
    pub(crate) fn new(seeds: &Seeds, canonical_version: u32, mmd_seconds: u64) -> Ledger {
        let key = SigningKey::from_bytes(&seeds.ledger);
        let kid = key_id("mock-ledger", &seeds.ledger);
        let jwk = serde_json::to_string(&Jwk::from_key(kid.clone(), &key.verifying_key()))
            .unwrap_or_default();
        let key_version = LedgerKeyVersion {
            key_id: kid.clone(),
            algorithm: ALGORITHM.into(),
            public_jwk: b64::encode(jwk.as_bytes()),
            active_from: rfc3339(SystemTime::now(), false),
            retired_at: None,
            attestation_payload: String::new(),
            attestation_signature: String::new(),
            attestation_key_id: String::new(),
            attestation_status: String::new(),
        };
        Ledger {
            key,
            kid,
            key_version,
            canonical_version: u64::from(canonical_version),
            mmd_seconds,
            state: Mutex::new(State::default()),
            tree: Mutex::new(MerkleTree::new()),
            sealing: tokio::sync::Mutex::new(()),
        }
    }

    /// The ledger key's id (in the JWKS beside the token key).
    pub(crate) fn key_id(&self) -> &str {
        &self.kid
    }

    /// The ledger key.
    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Writes one event: hashes and receipt computed here, then appended under the lock.
    pub(crate) fn append(&self, input: EventInput<'_>) -> Result<(), LedgerError> {
        let mut entry = self.entry(&input);
        let event_hash = hash::event_hash(&entry)?;
        let leaf = merkle::leaf_hash(&event_hash);
        entry.event_hash = crate::hex::encode(event_hash);
        entry.leaf_hash = crate::hex::encode(leaf);
        let receipt = hash::receipt_payload(&entry);
        entry.receipt_signature = b64::encode(self.key.sign(&receipt).to_bytes());
        entry.receipt_payload = b64::encode(&receipt);

        let mut state = lock(&self.state);
        let index = state.entries.len();
        entry.seq = index as u64 + 1;
        state.by_request.insert(input.request_id.to_string(), index);
        state.entries.push(entry);
        state.leaves.push(leaf);
        Ok(())
    }

    /// The entry for a decision, hashes and receipt still empty.
    fn entry(&self, input: &EventInput<'_>) -> LedgerEntry {
        let request = input.request;
        let v2 = self.canonical_version >= 2;
        LedgerEntry {
            seq: 0,
            event_uuid: crate::random::uuid_v4(),
            request_id: input.request_id.to_string(),
            agent_id: request.agent_id.clone(),
            policy_id: request.policy_id().unwrap_or_default().to_string(),
            policy_version_id: String::new(),
            policy_content_hash: String::new(),
            intent_hash: intent_hash(request),
            tool_name: request.tool_name.clone(),
            tool_args: Value::Object(request.tool_args.clone()),
            action_category: String::new(),
            action_metadata: Value::Object(Map::new()),
            reason: input.reason.to_string(),
            citations: Value::Array(Vec::new()),
            evidence_chunks: Value::Array(Vec::new()),
            confidence: input.confidence,
            confidence_bucket: v2.then(|| input.confidence_bucket.as_str().to_string()),
            decision_status: v2.then(|| decision_status(input.decision_status).to_string()),
            approved: input.approved,
            accepted_at: rfc3339(SystemTime::now(), true),
            canonical_version: self.canonical_version,
            rule_set_hash: None,
            matched_rule_ids: None,
            eval_inputs_hash: None,
            eval_trace_hash: None,
            classifier_label: None,
            classifier_confidence_bucket: None,
            event_hash: String::new(),
            leaf_hash: String::new(),
            leaf_index: None,
            checkpoint_id: None,
            receipt_algorithm: ALGORITHM.into(),
            receipt_key_id: self.kid.clone(),
            receipt_signature: String::new(),
            receipt_payload: String::new(),
            unpinned_numbers: Vec::new(),
        }
    }

    /// Seals every unsealed event into a new signed checkpoint; nothing when there is none.
    pub(crate) async fn seal(&self) {
        let _one_at_a_time = self.sealing.lock().await;
        let sealed = usize::try_from(lock(&self.tree).len()).unwrap_or(usize::MAX);
        let (new_leaves, checkpoint_id, prev) = {
            let state = lock(&self.state);
            let new_leaves = state.leaves.get(sealed..).unwrap_or_default().to_vec();
            let prev = state
                .checkpoints
                .last()
                .map(|c| c.checkpoint_hash.clone())
                .unwrap_or_default();
            (new_leaves, state.checkpoints.len() as u64 + 1, prev)
        };
        if new_leaves.is_empty() {
            return;
        }
        let (tree_size, root) = {
            let mut tree = lock(&self.tree);
            for leaf in &new_leaves {
                tree.push(*leaf);
            }
            (tree.len(), tree.root())
        };
        let checkpoint = self.sign_checkpoint(checkpoint_id, tree_size, &root, prev);
        let mut state = lock(&self.state);
        for entry in state.entries.iter_mut().skip(sealed).take(new_leaves.len()) {
            entry.leaf_index = Some(entry.seq - 1);
            entry.checkpoint_id = Some(checkpoint_id);
        }
        state.checkpoints.push(checkpoint);
    }

    fn sign_checkpoint(
        &self,
        checkpoint_id: u64,
        tree_size: u64,
        root: &[u8; 32],
        prev_checkpoint_hash: String,
    ) -> LedgerCheckpoint {
        let mut checkpoint = LedgerCheckpoint {
            checkpoint_id,
            microblock_id: checkpoint_id,
            tree_size,
            root_hash: crate::hex::encode(root),
            checkpoint_hash: String::new(),
            prev_checkpoint_hash,
            signature_algorithm: ALGORITHM.into(),
            signer_key_id: self.kid.clone(),
            checkpoint_signature: String::new(),
            checkpoint_payload: String::new(),
            signed_at: rfc3339(SystemTime::now(), false),
            mmd_seconds: self.mmd_seconds,
            export_target: String::new(),
            export_uri: String::new(),
            export_status: String::new(),
            exported_at: None,
        };
        let payload = hash::checkpoint_payload(&checkpoint);
        checkpoint.checkpoint_hash = crate::hex::encode(hash::checkpoint_hash(&payload));
        checkpoint.checkpoint_signature = b64::encode(self.key.sign(&payload).to_bytes());
        checkpoint.checkpoint_payload = b64::encode(&payload);
        checkpoint
    }

    /// The last `limit` entries, oldest first.
    pub(crate) fn entries(&self, limit: usize) -> Vec<LedgerEntry> {
        let state = lock(&self.state);
        let skip = state.entries.len().saturating_sub(limit);
        state.entries.get(skip..).unwrap_or_default().to_vec()
    }

    /// The last `limit` checkpoints, oldest first.
    pub(crate) fn checkpoints(&self, limit: usize) -> Vec<LedgerCheckpoint> {
        let state = lock(&self.state);
        let skip = state.checkpoints.len().saturating_sub(limit);
        state.checkpoints.get(skip..).unwrap_or_default().to_vec()
    }

    /// The sealed entry of `request_id` and the checkpoint that sealed it.
    fn sealed_entry(
        &self,
        request_id: &str,
    ) -> Result<(LedgerEntry, LedgerCheckpoint), ProofError> {
        let state = lock(&self.state);
        let entry = state
            .by_request
            .get(request_id)
            .and_then(|i| state.entries.get(*i))
            .ok_or_else(|| ProofError::UnknownRequest(request_id.to_string()))?;
        let checkpoint = entry
            .checkpoint_id
            .and_then(|id| checkpoint_by_id(&state.checkpoints, id))
            .ok_or_else(|| ProofError::NotSealed(request_id.to_string()))?;
        Ok((entry.clone(), checkpoint.clone()))
    }

    /// The inclusion proof of `request_id`'s event in the checkpoint that sealed it.
    pub(crate) fn inclusion_proof(&self, request_id: &str) -> Result<InclusionProof, ProofError> {
        let (entry, checkpoint) = self.sealed_entry(request_id)?;
        let not_sealed = || ProofError::NotSealed(request_id.to_string());
        let leaf_index = entry.leaf_index.ok_or_else(not_sealed)?;
        let path = lock(&self.tree)
            .inclusion_proof(leaf_index, checkpoint.tree_size)
            .ok_or_else(not_sealed)?;
        Ok(InclusionProof {
            event_uuid: entry.event_uuid,
            request_id: entry.request_id,
            event_hash: entry.event_hash,
            leaf_hash: entry.leaf_hash,
            leaf_index,
            tree_size: checkpoint.tree_size,
            path: path.iter().map(crate::hex::encode).collect(),
            root_hash: None,
            checkpoint,
        })
    }

    /// The consistency proof between checkpoints `from` and `to` (ids).
    pub(crate) fn consistency_proof(
        &self,
        from: u64,
        to: u64,
    ) -> Result<ConsistencyProof, ProofError> {
        if from > to {
            return Err(ProofError::BadRange { from, to });
        }
        let (from_checkpoint, to_checkpoint) = {
            let state = lock(&self.state);
            let get = |id| {
                checkpoint_by_id(&state.checkpoints, id)
                    .cloned()
                    .ok_or(ProofError::UnknownCheckpoint(id))
            };
            (get(from)?, get(to)?)
        };
        let path = lock(&self.tree)
            .consistency_proof(from_checkpoint.tree_size, to_checkpoint.tree_size)
            .ok_or(ProofError::UnknownCheckpoint(to))?;
        Ok(ConsistencyProof {
            from_checkpoint,
            to_checkpoint,
            path: path.iter().map(crate::hex::encode).collect(),
        })
    }

    /// The event, its inclusion proof in the checkpoint that sealed it, a consistency proof
    /// from there to the latest checkpoint (when newer), and the ledger key.
    pub(crate) fn proof_bundle(&self, request_id: &str) -> Result<ProofBundle, ProofError> {
        let inclusion = self.inclusion_proof(request_id)?;
        let (event, _) = self.sealed_entry(request_id)?;
        let latest = lock(&self.state)
            .checkpoints
            .last()
            .map_or(0, |c| c.checkpoint_id);
        let from = inclusion.checkpoint.checkpoint_id;
        let consistency = if latest > from {
            Some(self.consistency_proof(from, latest)?)
        } else {
            None
        };
        Ok(ProofBundle {
            event,
            inclusion,
            consistency,
            keys: vec![self.key_version.clone()],
        })
    }
}

/// Checkpoint ids are 1, 2, 3, ... in order.
fn checkpoint_by_id(checkpoints: &[LedgerCheckpoint], id: u64) -> Option<&LedgerCheckpoint> {
    let index = usize::try_from(id.checked_sub(1)?).ok()?;
    checkpoints.get(index)
}

fn decision_status(status: DecisionStatus) -> &'static str {
    match status {
        DecisionStatus::Approved => "approved",
        DecisionStatus::Denied => "denied",
        DecisionStatus::ApprovedPendingReview => "approved_pending_review",
    }
}

/// Hex SHA-256 of the tool and its canonical arguments: what the agent meant to do.
fn intent_hash(request: &ClearanceRequest) -> String {
    let mut h = Sha256::new();
    h.update(request.tool_name.as_bytes());
    h.update([0u8]);
    h.update(tool_args_hash(&request.tool_args).as_bytes());
    crate::hex::encode(h.finalize())
}

/// `2026-11-19T03:57:20.032075Z` (with `micros`) or `2026-11-19T03:57:20Z`, UTC.
pub(crate) fn rfc3339(time: SystemTime, micros: bool) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if micros {
        let us = since.subsec_micros();
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{us:06}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    }
}

/// Year, month, day of the proleptic Gregorian calendar for days since 1970-01-01
/// (H. Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::KeySet;
    use crate::ledger::{TrustedKeys, verify_ledger, verify_proof_bundle};
    use std::time::Duration;

    fn ledger(version: u32) -> Ledger {
        Ledger::new(&Seeds::new(Some([7; 32])), version, 1)
    }

    fn trusted(ledger: &Ledger) -> TrustedKeys {
        let mut keys = KeySet::new();
        keys.insert(ledger.key_id(), ledger.verifying_key())
            .unwrap();
        TrustedKeys::from_key_set(keys)
    }

    fn write(ledger: &Ledger, n: usize) -> Vec<String> {
        (0..n)
            .map(|i| {
                let request_id = format!("req-{i}");
                let request = ClearanceRequest::new("refund")
                    .arg("amount", i as u64 * 3 + 1)
                    .arg("note", "x")
                    .agent_id("agent")
                    .policy("p1");
                ledger
                    .append(EventInput {
                        request_id: &request_id,
                        request: &request,
                        approved: i % 3 != 0,
                        reason: "because",
                        confidence: 0.95,
                        confidence_bucket: ConfidenceBucket::ExtraHigh,
                        decision_status: if i % 3 != 0 {
                            DecisionStatus::Approved
                        } else {
                            DecisionStatus::Denied
                        },
                    })
                    .unwrap();
                request_id
            })
            .collect()
    }

    #[tokio::test]
    async fn proofs_match_the_reference_and_every_bundle_verifies() {
        for version in [1, 2] {
            let ledger = ledger(version);
            let keys = trusted(&ledger);
            let mut ids = Vec::new();
            // Several seals of uneven sizes, then bundles for every event.
            for batch in [1, 4, 3, 9, 1] {
                ids.extend(write(&ledger, batch));
                assert!(matches!(
                    ledger.proof_bundle(ids.last().unwrap()),
                    Err(ProofError::NotSealed(_))
                ));
                ledger.seal().await;
            }
            ledger.seal().await; // nothing new: no empty checkpoint
            let checkpoints = ledger.checkpoints(usize::MAX);
            assert_eq!(checkpoints.len(), 5);
            assert_eq!(checkpoints[0].prev_checkpoint_hash, "");
            for pair in checkpoints.windows(2) {
                assert_eq!(pair[1].prev_checkpoint_hash, pair[0].checkpoint_hash);
            }
            let entries = ledger.entries(usize::MAX);
            let leaves: Vec<[u8; 32]> = entries
                .iter()
                .map(|e| {
                    let mut leaf = [0u8; 32];
                    crate::hex::decode_to_slice(&e.leaf_hash, &mut leaf).unwrap();
                    leaf
                })
                .collect();
            for id in &ids {
                let bundle = ledger.proof_bundle(id).unwrap();
                let size = bundle.inclusion.tree_size;
                let index = bundle.inclusion.leaf_index;
                let reference = merkle::inclusion_proof(&leaves[..size as usize], index);
                let served: Vec<String> = reference.iter().map(crate::hex::encode).collect();
                assert_eq!(bundle.inclusion.path, served, "{id}");
                let verified = verify_proof_bundle(&bundle, &keys).unwrap();
                assert!(verified.event_body_verified);
                assert_eq!(verified.consistency_verified, bundle.consistency.is_some());
                assert_eq!(bundle.event.canonical_version, u64::from(version));
            }
            let result = verify_ledger(&entries, &checkpoints, &keys).unwrap();
            assert_eq!(result.entries_verified, 18);
            assert!(result.root_checked);
            for from in 1..=5u64 {
                for to in from..=5 {
                    let proof = ledger.consistency_proof(from, to).unwrap();
                    let (a, b) = (&proof.from_checkpoint, &proof.to_checkpoint);
                    let reference =
                        merkle::consistency_proof(&leaves[..b.tree_size as usize], a.tree_size);
                    let served: Vec<String> = reference.iter().map(crate::hex::encode).collect();
                    if from < to {
                        assert_eq!(proof.path, served);
                    } else {
                        assert!(proof.path.is_empty());
                    }
                }
            }
            assert_eq!(
                ledger.consistency_proof(3, 2),
                Err(ProofError::BadRange { from: 3, to: 2 })
            );
            assert_eq!(
                ledger.consistency_proof(0, 2),
                Err(ProofError::UnknownCheckpoint(0))
            );
            assert_eq!(
                ledger.consistency_proof(1, 6),
                Err(ProofError::UnknownCheckpoint(6))
            );
            assert_eq!(
                ledger.inclusion_proof("nope"),
                Err(ProofError::UnknownRequest("nope".into()))
            );
        }
    }

    #[test]
    fn version_2_commits_bucket_and_decision_status() {
        let v2 = ledger(2);
        write(&v2, 1);
        let e = &v2.entries(1)[0];
        assert_eq!(e.confidence_bucket.as_deref(), Some("extra_high"));
        assert_eq!(e.decision_status.as_deref(), Some("denied"));
        let v1 = ledger(1);
        write(&v1, 1);
        let e = &v1.entries(1)[0];
        assert_eq!(
            (e.confidence_bucket.as_deref(), e.decision_status.as_deref()),
            (None, None)
        );
        assert_eq!(e.intent_hash.len(), 64);
        assert_eq!(e.seq, 1);
    }

    #[test]
    fn limits_return_the_most_recent() {
        let l = ledger(1);
        write(&l, 5);
        let seqs: Vec<u64> = l.entries(2).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [4, 5]);
        assert!(l.entries(0).is_empty());
        assert_eq!(l.entries(99).len(), 5);
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        let at = |secs: u64, micros: u32| UNIX_EPOCH + Duration::new(secs, micros * 1000);
        assert_eq!(rfc3339(at(0, 0), false), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(at(951_782_400, 5), true),
            "2000-02-29T00:00:00.000005Z"
        );
        assert_eq!(rfc3339(at(1_767_225_600, 0), false), "2026-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(at(4_070_908_799, 999_999), true),
            "2098-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            rfc3339(at(1_795_406_240, 32_075), true),
            "2026-11-23T03:57:20.032075Z"
        );
    }
}
