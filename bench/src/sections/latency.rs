//! Latency, sequential: a `#[ledgix::guarded]` call through the whole SDK against the floor,
//! on one in-process mock Vault, pairs interleaved (the order flipping every pair); p50 and p99
//! of each round of pairs, and their ratios over the rounds.

use std::time::{Duration, Instant};

use ledgix::mock::MockVault;
use ledgix_bench::calls::{AGENT, guard_call};
use ledgix_bench::floor::Floor;
use ledgix_bench::stats::{Percentiles, Side, Spread, pair_order, ratio};
use ledgix_bench::{Figure, R};

use super::{say, spawned};

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let (warmup, rounds, pairs) = if quick { (100, 2, 250) } else { (500, 8, 500) };
    let vault = MockVault::start().await;
    ledgix::configure(vault.config().to_builder().agent_id(AGENT).build()?)?;
    let floor = Floor::of_mock(&vault)?;
    let (all_guard, all_floor, per_round) =
        spawned(measure(floor, warmup, rounds, pairs)).await?;
    let p50 = Spread::of(&per_round.iter().map(|r| r.0).collect::<Vec<_>>());
    let p99 = Spread::of(&per_round.iter().map(|r| r.1).collect::<Vec<_>>());

    say(format_args!(
        "{:<58} {:>9} {:>9} {:>9}",
        format!("latency, sequential ({} pairs, interleaved)", rounds * pairs),
        "p50 µs",
        "p99 µs",
        "mean µs"
    ));
    for (name, p) in [
        ("  floor: bare POST + JSON parse + 1 Ed25519 verify", all_floor),
        ("  guard: guarded call through the whole SDK", all_guard),
    ] {
        say(format_args!("{name:<58} {:>9.1} {:>9.1} {:>9.1}", p.p50, p.p99, p.mean));
    }
    say(format_args!(
        "{:<58} {:>9.3} {:>9.3} {:>9.3}",
        "  guard / floor, all pairs",
        ratio(all_guard.p50, all_floor.p50),
        ratio(all_guard.p99, all_floor.p99),
        ratio(all_guard.mean, all_floor.mean)
    ));
    say(format_args!(
        "{:<58} {:>9.1} {:>9.1}",
        "  guard - floor (SDK cost per call, µs)",
        all_guard.p50 - all_floor.p50,
        all_guard.p99 - all_floor.p99
    ));
    say(format_args!(
        "  guard / floor over {rounds} rounds of {pairs} pairs: p50 {:.3} ({:.3}–{:.3}), p99 {:.3} ({:.3}–{:.3})   goal p50 <= 1.10",
        p50.median, p50.min, p50.max, p99.median, p99.min, p99.max
    ));
    Ok(vec![
        p50.figure("guard_vs_floor_p50"),
        p99.figure("guard_vs_floor_p99"),
    ])
}

/// Percentiles of all guard and floor samples, and each round's (p50, p99) ratios.
async fn measure(
    floor: Floor,
    warmup: usize,
    rounds: usize,
    pairs: usize,
) -> R<(Percentiles, Percentiles, Vec<(f64, f64)>)> {
    for n in 0..warmup as u64 {
        guard_call(n).await?;
        floor.call(n).await?;
    }
    let (mut all_guard, mut all_floor) = (Vec::new(), Vec::new());
    let mut per_round = Vec::new();
    let mut n = 0u64;
    for _ in 0..rounds {
        let mut guard = Vec::with_capacity(pairs);
        let mut bare = Vec::with_capacity(pairs);
        for pair in 0..pairs {
            for side in pair_order(pair) {
                n += 1;
                let t = Instant::now();
                match side {
                    Side::A => {
                        guard_call(n).await?;
                        guard.push(t.elapsed());
                    }
                    Side::B => {
                        floor.call(n).await?;
                        bare.push(t.elapsed());
                    }
                }
            }
        }
        let (g, f) = (Percentiles::of(&mut guard), Percentiles::of(&mut bare));
        per_round.push((ratio(g.p50, f.p50), ratio(g.p99, f.p99)));
        all_guard.extend(guard);
        all_floor.extend(bare);
    }
    let all: [&mut Vec<Duration>; 2] = [&mut all_guard, &mut all_floor];
    let [g, f] = all.map(|v| Percentiles::of(v));
    Ok((g, f, per_round))
}
