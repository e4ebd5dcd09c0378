//! `verify_proof_bundle` on fixture bundles, beside its raw floor: the same bundle's
//! distinct Ed25519 `verify_strict` calls and its SHA-256s (event hash, leaf hash,
//! checkpoint hashes, Merkle path nodes) on the same, already decoded bytes. The ratio of
//! the two is what parsing, rebuilding payloads byte-for-byte and the field checks cost.
//!
//! `cargo bench -p ledgix-bench --bench ledger` (the floor is `ledgix_bench::ledger_floor`)

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use ledgix::ledger::{
    LedgerCheckpoint, LedgerEntry, ProofBundle, TrustedKeys, verify_ledger, verify_proof_bundle,
};
use ledgix_bench::ledger_floor::CryptoFloor;

fn read(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/ledger")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
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
        let floor = CryptoFloor::new(&bundle, &keys).unwrap();
        floor.run().unwrap();
        group.bench_function(format!("{name}/full"), |b| {
            b.iter(|| verify_proof_bundle(black_box(&bundle), &keys).unwrap())
        });
        group.bench_function(format!("{name}/floor"), |b| b.iter(|| floor.run().unwrap()));
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
