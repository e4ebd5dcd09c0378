//! `verify_proof_bundle` on fixture bundles, beside its raw floor: the same bundle's
//! distinct Ed25519 `verify_strict` calls and its SHA-256s (event hash, leaf hash,
//! checkpoint hashes, Merkle path nodes) on the same, already decoded bytes. The ratio of
//! the two is what parsing, rebuilding payloads byte-for-byte and the field checks cost.
//!
//! `cargo bench --bench ledger`

use std::hint::black_box;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use ledgix::ledger::hash::{self, EventEncoding};
use ledgix::ledger::merkle;
use ledgix::ledger::{
    LedgerCheckpoint, LedgerEntry, ProofBundle, TrustedKeys, verify_ledger, verify_proof_bundle,
};

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ledger")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn b64(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).unwrap()
}

fn h32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// `(size1, size2, path, root1, root2)` of a consistency proof.
type Consistency = (u64, u64, Vec<[u8; 32]>, [u8; 32], [u8; 32]);

/// The cryptographic work of one bundle, decoded in advance.
struct Floor {
    signatures: Vec<(VerifyingKey, Signature, Vec<u8>)>,
    event_payload: Vec<u8>,
    event_hash: [u8; 32],
    checkpoint_payloads: Vec<Vec<u8>>,
    inclusion: (u64, u64, Vec<[u8; 32]>, [u8; 32]),
    consistency: Option<Consistency>,
}

impl Floor {
    fn new(b: &ProofBundle, keys: &TrustedKeys) -> Floor {
        let key = |kid: &str| *keys.get(kid).unwrap();
        let sig = |s: &str| Signature::from_bytes(&b64(s).try_into().unwrap());
        let mut signatures = vec![(
            key(&b.event.receipt_key_id),
            sig(&b.event.receipt_signature),
            b64(&b.event.receipt_payload),
        )];
        let mut checkpoints: Vec<&LedgerCheckpoint> = vec![&b.inclusion.checkpoint];
        if let Some(c) = &b.consistency {
            checkpoints.push(&c.to_checkpoint); // from_checkpoint is the inclusion checkpoint
        }
        for c in &checkpoints {
            signatures.push((
                key(&c.signer_key_id),
                sig(&c.checkpoint_signature),
                b64(&c.checkpoint_payload),
            ));
        }
        let path = |p: &[String]| p.iter().map(|h| h32(h)).collect::<Vec<_>>();
        Floor {
            signatures,
            event_payload: hash::event_payload(&b.event, EventEncoding::PRIMARY).unwrap(),
            event_hash: h32(&b.event.event_hash),
            checkpoint_payloads: checkpoints
                .iter()
                .map(|c| b64(&c.checkpoint_payload))
                .collect(),
            inclusion: (
                b.inclusion.leaf_index,
                b.inclusion.tree_size,
                path(&b.inclusion.path),
                h32(&b.inclusion.checkpoint.root_hash),
            ),
            consistency: b.consistency.as_ref().map(|c| {
                (
                    c.from_checkpoint.tree_size,
                    c.to_checkpoint.tree_size,
                    path(&c.path),
                    h32(&c.from_checkpoint.root_hash),
                    h32(&c.to_checkpoint.root_hash),
                )
            }),
        }
    }

    fn run(&self) {
        for (key, sig, payload) in &self.signatures {
            key.verify_strict(payload, sig).unwrap();
        }
        black_box(hash::hash_event_payload(&self.event_payload));
        let leaf = merkle::leaf_hash(&self.event_hash);
        for p in &self.checkpoint_payloads {
            black_box(hash::checkpoint_hash(p));
        }
        let (index, size, path, root) = &self.inclusion;
        merkle::verify_inclusion(&leaf, *index, *size, path, root).unwrap();
        if let Some((s1, s2, path, r1, r2)) = &self.consistency {
            merkle::verify_consistency(*s1, *s2, path, r1, r2).unwrap();
        }
    }
}

fn bench(c: &mut Criterion) {
    let keys = TrustedKeys::from_jwks_json(&read("trusted_jwks.json")).unwrap();
    let mut group = c.benchmark_group("verify_proof_bundle");
    for (name, file) in [
        ("inclusion+consistency", "bundles/valid-000.json"),
        ("inclusion", "bundles/valid-023.json"),
    ] {
        let bundle: ProofBundle = serde_json::from_str(&read(file)).unwrap();
        assert!(
            verify_proof_bundle(&bundle, &keys)
                .unwrap()
                .event_body_verified
        );
        let floor = Floor::new(&bundle, &keys);
        floor.run();
        group.bench_function(format!("{name}/full"), |b| {
            b.iter(|| verify_proof_bundle(black_box(&bundle), &keys).unwrap())
        });
        group.bench_function(format!("{name}/floor"), |b| b.iter(|| floor.run()));
    }
    group.finish();

    #[derive(serde::Deserialize)]
    struct Ledger {
        entries: Vec<LedgerEntry>,
        checkpoints: Vec<LedgerCheckpoint>,
    }
    let ledger: Ledger = serde_json::from_str(&read("ledger.json")).unwrap();
    c.bench_function("verify_ledger/24 entries, 3 checkpoints", |b| {
        b.iter(|| verify_ledger(black_box(&ledger.entries), &ledger.checkpoints, &keys).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
