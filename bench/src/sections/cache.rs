//! Bench section `cache`: a guarded call on a decision-cache hit against the same call with a
//! full decision, on one in-process mock Vault.
//!
//! - decision: `ToolCall::run` with the cache off — `POST /request-clearance` (the mock's rules,
//!   a ledger event, a token), token verified and bound, body;
//! - hit: `ToolCall::run` with the cache on and the decision cached — `POST /mint-token` (the
//!   mock's checks, a ledger event, a token), token verified and bound, body.
//!
//! Samples interleaved one by one in each round; a round's ratio is median(hit) /
//! median(decision). Returned: `cache_hit_vs_decision` with the median, min and max of the
//! rounds' ratios (below 1: a hit is cheaper).
//!
//! The mock decides by rules in microseconds; the real Vault's decision runs its policy judge,
//! which a hit skips and the mock does not model, so on a real Vault the ratio is lower than
//! here. This measures what the SDK adds on each path (key, mint exchange, verification).

use std::time::{Duration, Instant};

use ledgix::mock::MockVault;
use ledgix::{Error, LedgixClient, ToolCall};
use ledgix_bench::stats::{Spread, micros};

/// Runs the section: `(key, median ratio, min ratio, max ratio)`.
pub async fn run(quick: bool) -> Vec<(&'static str, f64, f64, f64)> {
    let (rounds, per_round) = if quick { (5, 40) } else { (15, 200) };
    match measure(rounds, per_round).await {
        Ok(result) => vec![result],
        Err(e) => {
            eprintln!("cache: error: {e}");
            Vec::new()
        }
    }
}

async fn measure(rounds: usize, per_round: usize) -> Result<(&'static str, f64, f64, f64), Error> {
    let vault = MockVault::builder()
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let base = vault.config().to_builder().agent_id("bench-agent");
    let uncached = LedgixClient::new(base.clone().build()?)?;
    let cached = LedgixClient::new(base.decision_cache(true).build()?)?;
    // Warm-up: connections, JWKS, and the cached decision.
    for _ in 0..20 {
        call(&uncached).await?;
        call(&cached).await?;
    }
    let mut ratios = Vec::with_capacity(rounds);
    let mut medians = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let mut decision = Vec::with_capacity(per_round);
        let mut hit = Vec::with_capacity(per_round);
        for _ in 0..per_round {
            decision.push(timed(&uncached).await?);
            hit.push(timed(&cached).await?);
        }
        let (d, h) = (median(&mut decision), median(&mut hit));
        medians.push((d, h));
        ratios.push(h / d);
    }
    let spread = Spread::of(&ratios);
    let (ratio, min, max) = (spread.median, spread.min, spread.max);
    eprintln!("cache: guarded call, cache hit (mint) vs full decision, mock Vault in-process");
    eprintln!("  round  decision p50 (µs)  hit p50 (µs)  hit/decision");
    for (i, ((d, h), r)) in medians.iter().zip(&ratios).enumerate() {
        eprintln!("  {:>5}  {:>18.1}  {:>12.1}  {:>12.3}", i + 1, d, h, r);
    }
    eprintln!("  cache_hit_vs_decision: median {ratio:.3}, min {min:.3}, max {max:.3}");
    Ok(("cache_hit_vs_decision", ratio, min, max))
}

async fn call(client: &LedgixClient) -> Result<(), Error> {
    ToolCall::new("stripe_refund")
        .arg("amount", &45)
        .arg("charge_id", &"ch_3Pxyz")
        .policy("refund_policy_v1")
        .client(client)
        .run(async { Ok::<_, Error>(()) })
        .await
}

/// One call's duration in microseconds.
async fn timed(client: &LedgixClient) -> Result<f64, Error> {
    let started = Instant::now();
    call(client).await?;
    Ok(micros(started.elapsed()))
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    match samples.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => samples[n / 2],
        n => (samples[n / 2 - 1] + samples[n / 2]) / 2.0,
    }
}
