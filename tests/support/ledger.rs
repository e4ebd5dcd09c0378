//! Shared helpers of the ledger tests: fixture loading, and a small ledger *writer* built
//! only from the public building blocks (`ledger::hash`, `ledger::merkle`) with real Ed25519
//! keys — what a Vault (or the mock Vault) does to write entries, checkpoints and bundles.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use ledgix::ledger::merkle::{self, MerkleTree};
use ledgix::ledger::{
    ConsistencyProof, InclusionProof, LedgerCheckpoint, LedgerEntry, LedgerKeyVersion, ProofBundle,
    TrustedKeys, hash,
};
use ledgix::{Jwk, KeySet};
use serde::Deserialize;
use serde_json::{Value, json};

/// The fixture sets, each with `cases.json`, `trusted_jwks.json`, `ledger.json`.
pub const SETS: [&str; 3] = ["ledger", "ledger-v2", "ledger-v3"];

pub fn fixture_dir(set: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(set)
}

pub fn read(set: &str, file: &str) -> String {
    let path = fixture_dir(set).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn trusted(set: &str) -> TrustedKeys {
    TrustedKeys::from_jwks_json(&read(set, "trusted_jwks.json")).unwrap()
}

#[derive(Debug, Deserialize)]
pub struct Case {
    pub file: String,
    pub expect: String,
    pub peer_accepts: Option<bool>,
    pub why: String,
}

#[derive(Deserialize)]
struct Cases {
    cases: Vec<Case>,
}

pub fn cases(set: &str) -> Vec<Case> {
    serde_json::from_str::<Cases>(&read(set, "cases.json"))
        .unwrap()
        .cases
}

#[derive(Deserialize)]
pub struct Ledger {
    pub entries: Vec<LedgerEntry>,
    pub checkpoints: Vec<LedgerCheckpoint>,
}

pub fn ledger(set: &str) -> Ledger {
    serde_json::from_str(&read(set, "ledger.json")).unwrap()
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// An event body as the Vault would record it (hashes and receipt not yet set).
pub fn event(i: u64, canonical_version: u64) -> LedgerEntry {
    serde_json::from_value(json!({
        "seq": i + 1,
        "event_uuid": format!("00000000-0000-4000-8000-{i:012}"),
        "request_id": format!("req-{i}"),
        "agent_id": "agent-7",
        "policy_id": "refunds",
        "intent_hash": super::hex::encode([i as u8; 32]),
        "tool_name": "stripe_refund",
        "tool_args": {"amount": 100 + i, "currency": "usd", "note": "café"},
        "reason": "under the limit",
        "citations": [{"doc": "policy.md", "line": 3}],
        "evidence_chunks": [],
        "confidence": 0.85,
        "confidence_bucket": if canonical_version >= 2 { json!("high") } else { Value::Null },
        "decision_status": if canonical_version >= 2 { json!("approved") } else { Value::Null },
        "approved": true,
        "accepted_at": format!("2026-03-01T12:00:{:02}Z", i % 60),
        "canonical_version": canonical_version,
        "event_hash": "",
        "leaf_hash": "",
    }))
    .unwrap()
}

/// A ledger writer: records events (event hash, leaf hash, signed receipt), seals them into
/// signed checkpoints, and answers proof bundles.
pub struct Writer {
    pub key: SigningKey,
    pub kid: String,
    pub entries: Vec<LedgerEntry>,
    pub checkpoints: Vec<LedgerCheckpoint>,
    tree: MerkleTree,
}

impl Writer {
    pub fn new(seed: u8, kid: &str) -> Self {
        Writer {
            key: SigningKey::from_bytes(&[seed; 32]),
            kid: kid.to_owned(),
            entries: Vec::new(),
            checkpoints: Vec::new(),
            tree: MerkleTree::new(),
        }
    }

    pub fn key_set(&self) -> KeySet {
        let mut set = KeySet::new();
        set.insert(self.kid.clone(), self.key.verifying_key())
            .unwrap();
        set
    }

    pub fn trusted(&self) -> TrustedKeys {
        TrustedKeys::from_key_set(self.key_set())
    }

    /// The key as a bundle embeds it.
    pub fn key_version(&self) -> LedgerKeyVersion {
        let jwk = Jwk::from_key(self.kid.clone(), &self.key.verifying_key());
        LedgerKeyVersion {
            key_id: self.kid.clone(),
            algorithm: "Ed25519".into(),
            public_jwk: b64(serde_json::to_string(&jwk).unwrap().as_bytes()),
            active_from: "2026-01-01T00:00:00Z".into(),
            retired_at: None,
            attestation_payload: String::new(),
            attestation_signature: String::new(),
            attestation_key_id: String::new(),
            attestation_status: String::new(),
        }
    }

    /// Sets the event hash (primary layout), leaf hash and signed receipt.
    pub fn finish(&self, mut e: LedgerEntry) -> LedgerEntry {
        let event_hash = hash::event_hash(&e).unwrap();
        self.finish_with_hash(&mut e, event_hash);
        e
    }

    /// Sets the given event hash, its leaf hash and the signed receipt.
    pub fn finish_with_hash(&self, e: &mut LedgerEntry, event_hash: [u8; 32]) {
        e.event_hash = super::hex::encode(event_hash);
        e.leaf_hash = super::hex::encode(merkle::leaf_hash(&event_hash));
        e.receipt_algorithm = "Ed25519".into();
        e.receipt_key_id = self.kid.clone();
        self.sign_receipt(e);
    }

    /// Re-signs the receipt over the entry's current fields.
    pub fn sign_receipt(&self, e: &mut LedgerEntry) {
        let payload = hash::receipt_payload(e);
        e.receipt_signature = b64(&self.key.sign(&payload).to_bytes());
        e.receipt_payload = b64(&payload);
    }

    pub fn record(&mut self, e: LedgerEntry) {
        let e = self.finish(e);
        self.entries.push(e);
    }

    /// Sets the signed payload, hash and signature of a checkpoint from its fields.
    pub fn sign_checkpoint(&self, c: &mut LedgerCheckpoint) {
        c.signer_key_id = self.kid.clone();
        c.signature_algorithm = "Ed25519".into();
        let payload = hash::checkpoint_payload(c);
        c.checkpoint_hash = super::hex::encode(hash::checkpoint_hash(&payload));
        c.checkpoint_signature = b64(&self.key.sign(&payload).to_bytes());
        c.checkpoint_payload = b64(&payload);
    }

    /// Appends every unsealed entry to the tree and signs a checkpoint over it.
    pub fn seal(&mut self) -> LedgerCheckpoint {
        let id = self.checkpoints.len() as u64 + 1;
        for e in self.entries.iter_mut().filter(|e| e.leaf_index.is_none()) {
            let leaf = super::hex::hash32(&e.leaf_hash);
            e.leaf_index = Some(self.tree.len());
            e.checkpoint_id = Some(id);
            self.tree.push(leaf);
        }
        let mut c: LedgerCheckpoint = serde_json::from_value(json!({
            "checkpoint_id": id,
            "microblock_id": id,
            "tree_size": self.tree.len(),
            "root_hash": super::hex::encode(self.tree.root()),
            "checkpoint_hash": "",
            "prev_checkpoint_hash": self.checkpoints.last().map_or("", |c| c.checkpoint_hash.as_str()),
            "signed_at": format!("2026-03-01T13:00:{:02}Z", id % 60),
            "mmd_seconds": 30,
        }))
        .unwrap();
        self.sign_checkpoint(&mut c);
        self.checkpoints.push(c.clone());
        c
    }

    /// The proof bundle of entry `i`: inclusion at its sealing checkpoint, and consistency
    /// to the latest checkpoint when that is a later one.
    pub fn bundle(&self, i: usize) -> ProofBundle {
        let e = self.entries[i].clone();
        let index = e.leaf_index.expect("sealed");
        let cp = self.checkpoints[e.checkpoint_id.unwrap() as usize - 1].clone();
        let path = self.tree.inclusion_proof(index, cp.tree_size).unwrap();
        let latest = self.checkpoints.last().unwrap().clone();
        let consistency = (latest.checkpoint_id != cp.checkpoint_id).then(|| ConsistencyProof {
            path: self
                .tree
                .consistency_proof(cp.tree_size, latest.tree_size)
                .unwrap()
                .iter()
                .map(super::hex::encode)
                .collect(),
            from_checkpoint: cp.clone(),
            to_checkpoint: latest,
        });
        ProofBundle {
            inclusion: InclusionProof {
                event_uuid: e.event_uuid.clone(),
                request_id: e.request_id.clone(),
                event_hash: e.event_hash.clone(),
                leaf_hash: e.leaf_hash.clone(),
                leaf_index: index,
                tree_size: cp.tree_size,
                path: path.iter().map(super::hex::encode).collect(),
                root_hash: None,
                checkpoint: cp,
            },
            event: e,
            consistency,
            keys: vec![self.key_version()],
        }
    }
}

/// A writer with `n` events of `canonical_version`, sealed every `every` events.
pub fn written(n: u64, every: u64, canonical_version: u64) -> Writer {
    let mut w = Writer::new(9, "test-key-1");
    for i in 0..n {
        w.record(event(i, canonical_version));
        if (i + 1).is_multiple_of(every) {
            w.seal();
        }
    }
    if !n.is_multiple_of(every) {
        w.seal();
    }
    w
}

/// An independent oracle for the fixtures' unpinned numbers: the integers (serde_json keeps
/// them exactly) in the hashed values that a float64 cannot hold. The fixtures' other numbers
/// come from Python's `repr`, the shortest form of their float64.
pub fn integers_a_float_cannot_hold(event: &Value) -> Vec<String> {
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Number(n) => {
                let exact = n.as_i64().map(i128::from).or(n.as_u64().map(i128::from));
                if exact.is_some_and(|i| (i as f64) as i128 != i) {
                    out.push(at);
                }
            }
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(x, format!("{at}/{i}"), out)),
            Value::Object(m) => m
                .iter()
                .for_each(|(k, x)| walk(x, format!("{at}/{k}"), out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for field in ["tool_args", "citations", "evidence_chunks"] {
        walk(&event[field], format!("/{field}"), &mut out);
    }
    out.sort();
    out
}
