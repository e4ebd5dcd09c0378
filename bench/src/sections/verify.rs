//! `verify_proof_bundle` against its crypto floor (the same bundle's Ed25519 verifications and
//! SHA-256s on bytes decoded in advance), in alternating blocks, on a real bundle: an early
//! event of 4,096 sealed, then 64 more sealed after it, so the bundle carries an inclusion
//! and a consistency proof.

use std::time::{Duration, Instant};

use ledgix::ledger::{ProofBundle, TrustedKeys, verify_proof_bundle};
use ledgix::mock::MockVault;
use ledgix_bench::calls::refund_request_id;
use ledgix_bench::floor::Floor;
use ledgix_bench::ledger_floor::CryptoFloor;
use ledgix_bench::stats::{Spread, micros, pair_order, ratio, Side};
use ledgix_bench::{Figure, R};

use super::say;

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let (blocks, iters) = if quick { (4, 50) } else { (20, 200) };
    let (bundle, keys) = sealed_bundle().await?;
    let checked = verify_proof_bundle(&bundle, &keys)?;
    if !checked.event_body_verified || !checked.consistency_verified {
        return Err("the bundle did not verify in full".into());
    }
    let floor = CryptoFloor::new(&bundle, &keys)?;
    floor.run()?;
    let (mut full, mut raw) = (Vec::new(), Vec::new());
    for block in 0..blocks {
        for side in pair_order(block) {
            let t = Instant::now();
            match side {
                Side::A => {
                    for _ in 0..iters {
                        std::hint::black_box(verify_proof_bundle(
                            std::hint::black_box(&bundle),
                            &keys,
                        )?);
                    }
                    full.push(micros(t.elapsed()) / iters as f64);
                }
                Side::B => {
                    for _ in 0..iters {
                        floor.run()?;
                    }
                    raw.push(micros(t.elapsed()) / iters as f64);
                }
            }
        }
    }
    let ratios: Vec<f64> = full.iter().zip(&raw).map(|(f, r)| ratio(*f, *r)).collect();
    let spread = Spread::of(&ratios);
    say(format_args!(
        "{:<58} {:>9} {:>9} {:>7} {:>13}",
        format!(
            "verify_proof_bundle (tree {}, {} sigs, {} path hashes)",
            checked.latest_tree_size,
            floor.signatures(),
            floor.path_hashes()
        ),
        "full µs",
        "floor µs",
        "ratio",
        "min–max"
    ));
    say(format_args!(
        "{:<58} {:>9.1} {:>9.1} {:>7.3} {:>6.3}–{:<6.3} goal <= 1.30",
        format!("  bundle vs its Ed25519 verifies + SHA-256s ({blocks} blocks)"),
        Spread::of(&full).median,
        Spread::of(&raw).median,
        spread.median,
        spread.min,
        spread.max
    ));
    Ok(vec![spread.figure("verify_vs_crypto_floor")])
}

/// A bundle from a fresh mock Vault (an early event of 4,097, sealed, then 64 more sealed
/// after it) and the Vault's keys.
pub async fn sealed_bundle() -> R<(ProofBundle, TrustedKeys)> {
    const EVENTS: u64 = 4_096;
    let vault = MockVault::builder()
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let client = vault.client();
    let floor = Floor::of_mock(&vault)?;
    let request_id = refund_request_id(&client, 0)
        .await?
        .ok_or("no clearance in scope")?;
    floor.fill(EVENTS).await?;
    vault.seal().await;
    for n in 0..64 {
        floor.call(n).await?;
    }
    vault.seal().await;
    let bundle = client.fetch_ledger_proof_bundle(&request_id).await?;
    let keys = TrustedKeys::from_jwks_json(&vault.trusted_keys_json())?;
    Ok((bundle, keys))
}
