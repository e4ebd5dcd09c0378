//! The guarded call and its parts, for profiling and regression tracking (the figures with
//! their floors come from the harness, `cargo run --release -p ledgix-bench`;
//! `benches/ledger.rs` covers `verify_proof_bundle`, `benches/mock_vault.rs` the mock Vault's
//! throughput).
//!
//! - `guard_call/*`: one sequential call on an in-process mock Vault, through the whole SDK
//!   (a `#[ledgix::guarded]` function) and the floor beside it (`ledgix_bench::floor`: a bare
//!   pooled `reqwest` POST of the same body, JSON parse, one Ed25519 `verify_strict`);
//! - `guard_256/*`: 256 tasks in flight, guarded and bare;
//! - `sdk_cpu/*`: the CPU the SDK spends per call without the network: building and
//!   serializing the request, parsing the answer, verifying the token bound to the call
//!   (`TokenVerifier::verify_bound`, the checks the client makes), and its parts.
//!
//! `cargo bench -p ledgix-bench --bench guard`

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ledgix::mock::MockVault;
use ledgix::token::TokenSigner;
use ledgix::{
    Audience, ClearanceResponse, LedgixClient, TokenClaims, TokenVerifier, ToolCall, tool_args_hash,
};
use ledgix_bench::calls::{AGENT, CHARGE, CURRENCY, TOOL, refund_with};
use ledgix_bench::floor::{Floor, verify_one_signature};
use serde_json::{Map, Value, json};

fn args(n: u64) -> Map<String, Value> {
    match json!({"amount": n, "currency": CURRENCY, "charge_id": CHARGE}) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// One guarded call, which must run its body.
async fn guarded(client: &LedgixClient, n: u64) -> bool {
    refund_with(client, n, CURRENCY, CHARGE)
        .await
        .expect("the mock Vault approves")
}

/// One floor call, which must verify.
async fn floor_call(floor: &Floor, n: u64) {
    floor.call(n).await.expect("the floor call verifies")
}

fn verify_signature(key: &ed25519_dalek::VerifyingKey, token: &str) {
    verify_one_signature(key, token).expect("the token verifies")
}

fn network(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let vault = runtime.block_on(
        MockVault::builder()
            .seal_every(Duration::from_secs(1))
            .start(),
    );
    let client =
        LedgixClient::new(vault.config().to_builder().agent_id(AGENT).build().unwrap()).unwrap();
    let floor = Floor::of_mock(&vault).unwrap();
    let mut n = 0u64;

    let mut group = c.benchmark_group("guard_call");
    group.bench_function("guarded", |b| {
        b.to_async(&runtime).iter(|| {
            n += 1;
            let client = client.clone();
            async move { assert!(guarded(&client, n).await) }
        })
    });
    group.bench_function("floor", |b| {
        b.to_async(&runtime).iter(|| {
            n += 1;
            let floor = floor.clone();
            async move { floor_call(&floor, n).await }
        })
    });
    group.finish();

    const TASKS: u64 = 256;
    const PER_TASK: u64 = 8;
    let mut group = c.benchmark_group("guard_256");
    group.throughput(Throughput::Elements(TASKS * PER_TASK));
    group.sample_size(10);
    for guard in [true, false] {
        let name = if guard { "guarded" } else { "bare" };
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter_custom(|iters| {
                let (client, floor) = (client.clone(), floor.clone());
                async move {
                    let started = Instant::now();
                    for i in 0..iters {
                        let mut set = tokio::task::JoinSet::new();
                        for t in 0..TASKS {
                            let (client, floor) = (client.clone(), floor.clone());
                            set.spawn(async move {
                                for k in 0..PER_TASK {
                                    let n = (i * TASKS + t) * PER_TASK + k;
                                    if guard {
                                        assert!(guarded(&client, n).await);
                                    } else {
                                        floor_call(&floor, n).await;
                                    }
                                }
                            });
                        }
                        while let Some(done) = set.join_next().await {
                            done.unwrap();
                        }
                    }
                    started.elapsed()
                }
            })
        });
    }
    group.finish();
}

fn claims_for(n: u64, exp: u64) -> TokenClaims {
    TokenClaims {
        iss: "alcv-vault".into(),
        sub: "clearance".into(),
        aud: Audience::Many(vec!["ledgix-sdk".into()]),
        exp,
        iat: Some(exp - 3_600),
        nbf: None,
        jti: format!("jti-{n}"),
        tool: TOOL.into(),
        agent_id: AGENT.into(),
        session_id: String::new(),
        policy_id: "mock-default-policy".into(),
        decision: "approved".into(),
        tool_args_hash: tool_args_hash(&args(n)),
        extra: Map::new(),
    }
}

fn sdk_cpu(c: &mut Criterion) {
    let signer = TokenSigner::from_seed("mock-vault-bench", [7; 32]);
    let verifier = TokenVerifier::from_key_set(signer.key_set(), "alcv-vault", "ledgix-sdk");
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3_600;
    let token = signer.sign(&claims_for(1, exp));
    let answer = serde_json::to_vec(&json!({
        "status": "approved", "token": token, "reason": "approved by rule",
        "request_id": "5f0c3f3e-8d4c-4f7e-9a37-2f4d3b1f6a10", "requires_manual_review": false,
        "approved": true, "decision_status": "approved", "confidence": 0.95,
        "minimum_confidence_score": 0.8, "confidence_bucket": "extra_high",
        "minimum_confidence_bucket": "high", "policy_version_id": "mock-policy-version:x",
        "policy_content_hash": "sha256:00"
    }))
    .unwrap();

    let mut group = c.benchmark_group("sdk_cpu");
    group.bench_function("request: ToolCall with 3 args, serialized", |b| {
        b.iter(|| {
            let call = ToolCall::new(TOOL)
                .arg("amount", &black_box(45u64))
                .arg("currency", "usd")
                .arg("charge_id", CHARGE);
            serde_json::to_vec(call.request()).unwrap()
        })
    });
    group.bench_function("answer: ClearanceResponse::from_json", |b| {
        b.iter(|| ClearanceResponse::from_json(black_box(&answer)).unwrap())
    });
    let mut n = 1_000_000u64;
    group.bench_function(
        "token: verify_bound (signature, claims, binding, replay)",
        |b| {
            b.iter_batched(
                || {
                    n += 1;
                    (signer.sign(&claims_for(n, exp)), args(n))
                },
                |(token, args)| verifier.verify_bound(&token, TOOL, &args).unwrap(),
                BatchSize::SmallInput,
            )
        },
    );
    let key = signer.verifying_key();
    group.bench_function(
        "token: Ed25519 verify_strict alone (the floor's crypto)",
        |b| b.iter(|| verify_signature(&key, black_box(&token))),
    );
    let payload = URL_SAFE_NO_PAD
        .decode(token.split('.').nth(1).unwrap())
        .unwrap();
    group.bench_function("token: claims JSON parse", |b| {
        b.iter(|| serde_json::from_slice::<TokenClaims>(black_box(&payload)).unwrap())
    });
    // Ids of tokens already expired, so the cache sweeps them as it grows and millions of
    // iterations stay within its capacity (a live cache holds fewer than that).
    let replay = ledgix::token::ReplayCache::new();
    let expired = exp - 7_200;
    let mut j = 0u64;
    group.bench_function("token: replay cache check_and_record", |b| {
        b.iter(|| {
            j += 1;
            let jti = format!("5f0c3f3e-8d4c-4f7e-9a37-{j:012}");
            replay
                .check_and_record(&jti, expired, SystemTime::now())
                .unwrap()
        })
    });
    let a = args(45);
    group.bench_function("token: tool_args_hash of 3 args", |b| {
        b.iter(|| tool_args_hash(black_box(&a)))
    });
    group.finish();
}

criterion_group!(benches, sdk_cpu, network);
criterion_main!(benches);
