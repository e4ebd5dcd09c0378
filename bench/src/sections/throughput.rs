//! Throughput at 1, 16 and 256 concurrent tasks, guarded calls against bare floor calls, in
//! ABBA rounds (more rounds at 256 tasks, where the scheduler's noise is largest). The SDK's
//! cap on in-flight exchanges (`max_concurrent_requests`) is set to the task count, as the
//! default (256) is at 256 tasks: every task always has a slot (the semaphore is still
//! acquired on every call, and its cost counted) and neither side is throttled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledgix::LedgixClient;
use ledgix::mock::MockVault;
use ledgix_bench::calls::{AGENT, guard_call};
use ledgix_bench::floor::Floor;
use ledgix_bench::stats::{Side, Spread, abba_rounds, ratio};
use ledgix_bench::{BoxError, Figure, R};

use super::say;

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let vault = MockVault::start().await;
    let config = vault.config().to_builder().agent_id(AGENT).build()?;
    let floor = Floor::of_mock(&vault)?;
    say(format_args!(
        "{:<44} {:>8} {:>8} {:>7} {:>15}",
        "throughput (calls/s, ABBA rounds, cap = tasks)", "guard", "bare", "ratio", "min–max"
    ));
    let mut figures = Vec::new();
    for (tasks, key) in [
        (1usize, "throughput_1_vs_bare"),
        (16, "throughput_16_vs_bare"),
        (256, "throughput_256_vs_bare"),
    ] {
        let (rounds, run_for) = match (quick, tasks) {
            (true, 256) => (2, Duration::from_millis(300)),
            (true, _) => (1, Duration::from_millis(300)),
            (false, 256) => (8, Duration::from_millis(600)),
            (false, _) => (4, Duration::from_millis(500)),
        };
        let client =
            LedgixClient::new(config.to_builder().max_concurrent_requests(tasks).build()?)?;
        // Warm both pools to `tasks` connections.
        for side in [Side::A, Side::B] {
            rate(side, &client, &floor, tasks, Duration::from_millis(200)).await?;
        }
        let per_round = abba_rounds(rounds, async |side| {
            rate(side, &client, &floor, tasks, run_for).await
        })
        .await?;
        let ratios: Vec<f64> = per_round.iter().map(|(g, b)| ratio(*g, *b)).collect();
        let spread = Spread::of(&ratios);
        let mean = |f: fn(&(f64, f64)) -> f64| {
            per_round.iter().map(f).sum::<f64>() / per_round.len() as f64
        };
        say(format_args!(
            "{:<44} {:>8.0} {:>8.0} {:>7.3} {:>7.3}–{:<7.3}{}",
            format!(
                "  {tasks} task{} ({rounds} rounds)",
                if tasks == 1 { "" } else { "s" }
            ),
            mean(|r| r.0),
            mean(|r| r.1),
            spread.median,
            spread.min,
            spread.max,
            if tasks == 256 { "  goal >= 0.90" } else { "" }
        ));
        figures.push(spread.figure(key));
    }
    Ok(figures)
}

/// `tasks` tasks call back to back for `run`, guarded (A) or bare (B); calls per second.
async fn rate(
    side: Side,
    client: &LedgixClient,
    floor: &Floor,
    tasks: usize,
    run: Duration,
) -> R<f64> {
    static NEXT: AtomicU64 = AtomicU64::new(1_000_000);
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let (done, stop, floor) = (done.clone(), stop.clone(), floor.clone());
        let work = async move {
            while !stop.load(Ordering::Relaxed) {
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                match side {
                    Side::A => guard_call(n).await?,
                    Side::B => floor.call(n).await?,
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, BoxError>(())
        };
        // The task's guarded calls resolve this client (what `MockVault::scope` does).
        set.spawn(ledgix::with_client(client.clone(), work));
    }
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(joined) = set.join_next().await {
        joined??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
