//! The mock Vault's decisions per second: a fresh in-process mock (one call in ten denied,
//! sealing every 100 ms) under 128 concurrent bare clients sending what the SDKs send (JSON
//! body, Idempotency-Key). The clients share the cores, so this is a lower bound of the
//! server alone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledgix::mock::{MockVault, Rule};
use ledgix_bench::calls::{AGENT, TOOL};
use ledgix_bench::floor::idempotency_key;
use ledgix_bench::stats::Spread;
use ledgix_bench::{BoxError, Figure, R};
use serde_json::json;

use super::say;

const CLIENTS: usize = 128;

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let (runs, each) = if quick {
        (1, Duration::from_millis(500))
    } else {
        (3, Duration::from_secs(1))
    };
    let vault = MockVault::builder()
        .rule(
            Rule::tool(TOOL)
                .when(|a| {
                    a.get("amount")
                        .and_then(serde_json::Value::as_u64)
                        .is_some_and(|n| n % 10 == 0)
                })
                .deny("every tenth"),
        )
        .seal_every(Duration::from_millis(100))
        .start()
        .await;
    let url: Arc<str> = format!("{}/request-clearance", vault.url()).into();
    let http = reqwest::Client::new();
    load(&http, &url, Duration::from_millis(300)).await?; // connections up, allocator warm
    let mut rates = Vec::new();
    for _ in 0..runs {
        rates.push(load(&http, &url, each).await?);
    }
    vault.seal().await;
    let entries = vault.ledger_entries();
    let checkpoints = entries
        .iter()
        .filter_map(|e| e.checkpoint_id)
        .max()
        .unwrap_or(0);
    let spread = Spread::of(&rates);
    say(format_args!(
        "mock Vault decisions/s ({CLIENTS} bare clients, ledger + seal 100 ms, {runs} runs): \
         {:.0} ({:.0}–{:.0})   goal >= 10000",
        spread.median, spread.min, spread.max
    ));
    say(format_args!(
        "  ledger events written {}, checkpoints {checkpoints}",
        entries.len()
    ));
    Ok(vec![spread.figure("vault_decisions_per_s")])
}

/// `CLIENTS` bare clients posting back to back for `duration`; answers per second.
async fn load(http: &reqwest::Client, url: &Arc<str>, duration: Duration) -> R<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for w in 0..CLIENTS as u64 {
        let (url, http, done, stop) = (url.clone(), http.clone(), done.clone(), stop.clone());
        set.spawn(async move {
            let mut n = w;
            while !stop.load(Ordering::Relaxed) {
                let body = json!({"tool_name": TOOL, "tool_args": {"amount": n}, "agent_id": AGENT});
                let answer = http
                    .post(&*url)
                    .header("idempotency-key", idempotency_key()?)
                    .json(&body)
                    .send()
                    .await?;
                if answer.status() != 200 {
                    return Err(format!("mock Vault answered {}", answer.status()).into());
                }
                answer.bytes().await?;
                done.fetch_add(1, Ordering::Relaxed);
                n += CLIENTS as u64;
            }
            Ok::<_, BoxError>(())
        });
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(joined) = set.join_next().await {
        joined??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}
