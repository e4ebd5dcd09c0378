//! Resident memory of guarded calls held pending review at once. The mock Vault runs in a
//! child process, so only the client is counted; each call polls every 2 s (the default).
//! `VmRSS` once the mock reports every call pending, against `VmRSS` after one warm call; then
//! all are approved and every body must run.

use std::time::{Duration, Instant};

use ledgix::{Config, LedgixClient};
use ledgix_bench::calls::{AGENT, guard_call_with, held_refund};
use ledgix_bench::child::ChildVault;
use ledgix_bench::machine::proc_status;
use ledgix_bench::stats::Spread;
use ledgix_bench::{Figure, R};

use super::say;

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let calls: usize = if quick { 1_000 } else { 10_000 };
    let mut vault = ChildVault::start().await?;
    let config = Config::builder()
        .vault_url(vault.url.clone())
        .agent_id(AGENT)
        .build()?;
    let client = LedgixClient::new(config)?;
    // One approved call first: JWKS fetched, a connection open, allocator warm.
    guard_call_with(&client, 0).await?;
    let (rss_before, _) = proc_status();

    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for n in 0..calls as u64 {
        let client = client.clone();
        set.spawn(async move { held_refund(&client, n).await });
    }
    loop {
        let pending: usize = vault.ask("pending").await?.parse()?;
        if pending >= calls {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("only {pending} of {calls} calls became pending in 60 s").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hold = started.elapsed();
    let (rss_held, _) = proc_status();
    vault.ask("approve-all").await?;
    let mut approved = 0;
    while let Some(joined) = set.join_next().await {
        if joined?? {
            approved += 1;
        }
    }
    let (_, hwm_after) = proc_status();
    vault.stop().await;
    if approved != calls {
        return Err(format!("only {approved} of {calls} held calls ran their body").into());
    }
    let mib = |kb: Option<u64>| {
        kb.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
    };
    let delta = match (rss_before, rss_held) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    let per_call_kib = delta.map_or(f64::NAN, |d| d as f64 / calls as f64);
    say(format_args!(
        "memory: {calls} guarded calls pending review at once (mock Vault in a child process)"
    ));
    say(format_args!(
        "  client VmRSS before {}, held {}, delta {}; per held call {per_call_kib:.1} KiB",
        mib(rss_before),
        mib(rss_held),
        mib(delta)
    ));
    say(format_args!(
        "  VmHWM after all approved {}; approved and ran {approved}/{calls} (held after {:.1} s)",
        mib(hwm_after),
        hold.as_secs_f64()
    ));
    Ok(vec![Spread::single(per_call_kib).figure("memory_kib_per_held_call")])
}
