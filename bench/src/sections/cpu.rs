//! Client CPU per call, the figure a noisy machine barely moves: the mock Vault runs in a
//! child process, and this process's CPU time (user + system, every thread, `getrusage`) is
//! read around N guarded calls and around N floor calls, in ABBA rounds, at 1 and 256 tasks.
//! A neighbour's build can delay the calls but hardly changes the work each one does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledgix::{Config, LedgixClient};
use ledgix_bench::calls::{AGENT, guard_call_with};
use ledgix_bench::child::ChildVault;
use ledgix_bench::cpu::CpuTime;
use ledgix_bench::floor::Floor;
use ledgix_bench::stats::{Side, Spread, abba_rounds, micros, ratio};
use ledgix_bench::{BoxError, Figure, R};

use super::say;

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let vault = ChildVault::start().await?;
    let config = Config::builder()
        .vault_url(vault.url.clone())
        .agent_id(AGENT)
        .build()?;
    let jwks = LedgixClient::new(config.clone())?.fetch_jwks().await?;
    let floor = Floor::new(&vault.url, &jwks)?;
    say(format_args!(
        "{:<40} {:>9} {:>9} {:>7} {:>13} {:>9}",
        "client CPU per call (µs, user+sys)", "guard", "floor", "ratio", "min–max", "extra µs"
    ));
    let mut figures = Vec::new();
    for (tasks, key) in [(1usize, "guard_cpu_vs_floor_cpu_1"), (256, "guard_cpu_vs_floor_cpu")] {
        let (rounds, calls) = match (quick, tasks) {
            (true, 1) => (1, 300),
            (true, _) => (2, 1_024),
            (false, 1) => (4, 1_500),
            (false, _) => (8, 4_096),
        };
        let client =
            LedgixClient::new(config.to_builder().max_concurrent_requests(tasks).build()?)?;
        // Warm-up: connections open, JWKS fetched, allocator warm.
        for side in [Side::A, Side::B] {
            cpu_per_call(side, &client, &floor, tasks, (tasks * 4).max(200)).await?;
        }
        let mut user_sys = [(Duration::ZERO, Duration::ZERO); 2];
        let mut wall = [Duration::ZERO; 2];
        let per_round = abba_rounds(rounds, async |side| {
            let m = cpu_per_call(side, &client, &floor, tasks, calls).await?;
            let i = usize::from(side == Side::B);
            user_sys[i].0 += m.cpu.user;
            user_sys[i].1 += m.cpu.system;
            wall[i] += m.wall;
            Ok(micros(m.cpu.total()) / calls as f64)
        })
        .await?;
        let ratios: Vec<f64> = per_round.iter().map(|(g, f)| ratio(*g, *f)).collect();
        let spread = Spread::of(&ratios);
        let total_calls = (2 * rounds * calls) as f64;
        let per_call = |d: Duration| micros(d) / total_calls;
        let (guard, bare) = (
            per_call(user_sys[0].0 + user_sys[0].1),
            per_call(user_sys[1].0 + user_sys[1].1),
        );
        say(format_args!(
            "{:<40} {:>9.1} {:>9.1} {:>7.3} {:>6.3}–{:<6.3} {:>9.1}{}",
            format!(
                "  {tasks} task{}, {rounds}×ABBA of {calls} calls",
                if tasks == 1 { "" } else { "s" }
            ),
            guard,
            bare,
            spread.median,
            spread.min,
            spread.max,
            guard - bare,
            if tasks == 256 { "  goal <= 1.15" } else { "" }
        ));
        say(format_args!(
            "{:<40} {:>9} {:>9}",
            "    user / sys µs",
            format!("{:.1}/{:.1}", per_call(user_sys[0].0), per_call(user_sys[0].1)),
            format!("{:.1}/{:.1}", per_call(user_sys[1].0), per_call(user_sys[1].1)),
        ));
        say(format_args!(
            "{:<40} {:>9.0} {:>9.0}",
            "    calls/s meanwhile (wall clock)",
            total_calls / wall[0].as_secs_f64(),
            total_calls / wall[1].as_secs_f64(),
        ));
        figures.push(spread.figure(key));
    }
    vault.stop().await;
    Ok(figures)
}

/// CPU and wall-clock time of one run.
struct Measured {
    cpu: CpuTime,
    wall: Duration,
}

/// `calls` calls shared by `tasks` tasks, guarded (A) or floor (B); this process's CPU time
/// over the whole run.
async fn cpu_per_call(
    side: Side,
    client: &LedgixClient,
    floor: &Floor,
    tasks: usize,
    calls: usize,
) -> R<Measured> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let per_task = calls.div_ceil(tasks);
    let mut set = tokio::task::JoinSet::new();
    let before = CpuTime::now()?;
    let started = Instant::now();
    for t in 0..tasks {
        let count = per_task.min(calls.saturating_sub(t * per_task));
        let (client, floor) = (client.clone(), floor.clone());
        set.spawn(async move {
            for _ in 0..count {
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                match side {
                    Side::A => guard_call_with(&client, n).await?,
                    Side::B => floor.call(n).await?,
                }
            }
            Ok::<_, BoxError>(())
        });
    }
    while let Some(joined) = set.join_next().await {
        joined??;
    }
    let wall = started.elapsed();
    Ok(Measured {
        cpu: CpuTime::now()?.since(before),
        wall,
    })
}
