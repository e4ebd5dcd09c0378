//! Throughput of the mock Vault: clearance decisions per second over HTTP, each one minting an
//! A-JWT and writing a signed ledger event, with 64 requests in flight (the client shares the
//! two cores, so this is a lower bound of the server's capacity).
//!
//! `cargo bench -p ledgix-bench --bench mock_vault`

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ledgix::mock::{MockVault, Rule};
use serde_json::json;

const IN_FLIGHT: usize = 64;
const BATCH: usize = 2_048;

fn decisions(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let vault = runtime.block_on(
        MockVault::builder()
            .rule(
                Rule::tool("refund")
                    .when(|a| {
                        a.get("n")
                            .and_then(serde_json::Value::as_u64)
                            .is_some_and(|n| n % 10 == 0)
                    })
                    .deny("tenth"),
            )
            .seal_every(Duration::from_millis(100))
            .start(),
    );
    let url = Arc::new(format!("{}/request-clearance", vault.url()));
    let http = reqwest::Client::new();

    let mut group = c.benchmark_group("mock_vault");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    group.bench_function("decisions_over_http_64_in_flight", |b| {
        b.to_async(&runtime).iter_custom(|iters| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let started = Instant::now();
                for _ in 0..iters {
                    let mut tasks = tokio::task::JoinSet::new();
                    for w in 0..IN_FLIGHT {
                        let (http, url) = (http.clone(), url.clone());
                        tasks.spawn(async move {
                            for n in (w..BATCH).step_by(IN_FLIGHT) {
                                let body = json!({"tool_name": "refund", "tool_args": {"n": n}, "agent_id": "bench"});
                                let answer = http.post(url.as_str()).json(&body).send().await.unwrap();
                                assert_eq!(answer.status(), 200);
                                answer.bytes().await.unwrap();
                            }
                        });
                    }
                    while let Some(done) = tasks.join_next().await {
                        done.unwrap();
                    }
                }
                started.elapsed()
            }
        });
    });
    group.finish();
    runtime.block_on(vault.seal());
    eprintln!("ledger events written: {}", vault.ledger_entries().len());
}

criterion_group!(benches, decisions);
criterion_main!(benches);
