//! What a guarded call costs over the physical floor, and against the official Python SDK.
//!
//! ```text
//! cargo run --release --features mock --example bench
//! ```
//!
//! Every figure is a ratio against a floor measured in the same run (see BENCHMARKS.md for the
//! method). Each section runs in a fresh process (this program with `--section NAME`), so none
//! inherits another's heap, connections or mock Vault state:
//!
//! - `latency`: a `#[ledgix::guarded]` call through the whole SDK (arguments serialized,
//!   request, token verified and bound, task-local scope, body) against the floor, a bare
//!   pooled `reqwest` `POST /request-clearance` of the same JSON body + JSON parse + one
//!   Ed25519 `verify_strict` of the returned token, on one in-process mock Vault; samples
//!   interleaved, p50 and p99;
//! - `throughput` at 1, 16 and 256 concurrent tasks, guarded against bare (the floor call);
//! - `verify`: `verify_proof_bundle` against the raw Ed25519 verifications and SHA-256s of the
//!   same bundle;
//! - `python`: ledgix-python 0.4.0's `request_clearance` (its verification on) against ours and
//!   the floor, in alternating blocks, all on one mock Vault in a child process;
//! - `decisions`: the mock Vault's decisions per second with ledger writes and sealing on;
//! - `memory`: resident memory of 10,000 guarded calls held pending review at once (the mock
//!   Vault runs in a child process, so only the client is counted).
//!
//! The last line of the output is machine-readable:
//! `bench: guard_vs_floor_p50=X guard_vs_floor_p99=X throughput_256_vs_bare=X
//! verify_vs_crypto_floor=X python_peer_vs_rust=X vault_decisions_per_s=N` (on one line).
//!
//! Environment: `LEDGIX_BENCH_PYTHON` (a python with ledgix-python 0.4.0; default
//! `<target>/python-peer-venv/bin/python`, which `scripts/python_peer/run.sh --venv-only`
//! creates), `LEDGIX_BENCH_QUICK=1` (fewer samples, for a smoke run).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use ledgix::ledger::hash::{self, EventEncoding};
use ledgix::ledger::{LedgerCheckpoint, ProofBundle, TrustedKeys, merkle, verify_proof_bundle};
use ledgix::mock::{MockVault, Rule};
use ledgix::{ClearanceRequest, Config, LedgixClient};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

type R<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The tool every latency and throughput call clears.
const TOOL: &str = "refund";
const AGENT: &str = "bench-agent";
const CURRENCY: &str = "usd";
const CHARGE: &str = "ch_3PxyzBench";

/// How much of everything to do.
#[derive(Debug, Clone, Copy)]
struct Plan {
    latency_warmup: usize,
    latency_calls: usize,
    throughput_run: Duration,
    throughput_rounds: usize,
    verify_blocks: usize,
    verify_block_iters: usize,
    python_calls: usize,
    vault_run: Duration,
    held_calls: usize,
}

impl Plan {
    fn from_env() -> Plan {
        if std::env::var("LEDGIX_BENCH_QUICK").is_ok_and(|v| v == "1") {
            Plan {
                latency_warmup: 100,
                latency_calls: 500,
                throughput_run: Duration::from_millis(300),
                throughput_rounds: 1,
                verify_blocks: 4,
                verify_block_iters: 50,
                python_calls: 50,
                vault_run: Duration::from_millis(500),
                held_calls: 1_000,
            }
        } else {
            Plan {
                latency_warmup: 500,
                latency_calls: 4_000,
                throughput_run: Duration::from_millis(1_000),
                throughput_rounds: 3,
                verify_blocks: 20,
                verify_block_iters: 200,
                python_calls: 300,
                vault_run: Duration::from_secs(3),
                held_calls: 10_000,
            }
        }
    }
}

#[cfg(feature = "rmcp")]
#[path = "bench_sections/mcp.rs"]
mod mcp_section;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let plan = Plan::from_env();
    let outcome = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--serve-mock"] => serve_mock(),
        ["--section", name] => runtime().and_then(|rt| rt.block_on(run_section(name, plan))),
        [] => runtime().and_then(|rt| rt.block_on(run())),
        other => Err(format!("unknown arguments {other:?}").into()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A multi-threaded tokio runtime, one worker per core (what `#[tokio::main]` builds).
fn runtime() -> R<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Runs every section, each in a fresh process (this program with `--section NAME`), so no
/// section inherits another's heap, connections or mock Vault state; then prints the report.
async fn run() -> R<()> {
    let started = Instant::now();
    let machine = Machine::describe();
    note(&format!("machine: {}", machine.line()));
    let memory = section("memory").await?;
    let latency = section("latency").await?;
    let throughput = section("throughput").await?;
    let verify = section("verify").await?;
    let python = section("python").await?;
    let decisions = section("decisions").await?;
    let report = Report {
        machine,
        latency,
        throughput,
        verify,
        python,
        decisions,
        memory,
        elapsed: started.elapsed(),
    };
    report.print();
    Ok(())
}

/// Runs one section in a child process; its result is the last line of its output, as JSON.
async fn section<T: serde::de::DeserializeOwned>(name: &str) -> R<T> {
    let output = tokio::process::Command::new(std::env::current_exe()?)
        .args(["--section", name])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await?;
    if !output.status.success() {
        return Err(format!("section `{name}` failed ({})", output.status).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .map_err(|e| format!("section `{name}` printed no result ({e}): {last}").into())
}

/// One section, in this process; prints its result as one JSON line.
async fn run_section(name: &str, plan: Plan) -> R<()> {
    let result = match name {
        "memory" => {
            note("memory: guarded calls held pending review (mock Vault in a child process)");
            serde_json::to_string(&held_calls_memory(plan.held_calls).await?)?
        }
        "latency" => {
            note("latency: guard and floor, sequential, interleaved");
            let vault = MockVault::start().await;
            ledgix::configure(vault.config().to_builder().agent_id(AGENT).build()?)?;
            let floor = Floor::of_mock(&vault)?;
            serde_json::to_string(&spawned(latency(floor, plan)).await?)?
        }
        "throughput" => {
            note("throughput: 1, 16, 256 tasks, guard and bare");
            let vault = MockVault::start().await;
            let config = vault.config().to_builder().agent_id(AGENT).build()?;
            serde_json::to_string(&throughput(&config, &Floor::of_mock(&vault)?, plan).await?)?
        }
        "verify" => {
            note("verify_proof_bundle against its crypto floor");
            serde_json::to_string(&bundle_verification(plan).await?)?
        }
        "python" => {
            note("python peer: ledgix-python 0.4.0 and ours on one mock Vault (child process)");
            serde_json::to_string(&python_peer(plan).await)?
        }
        "decisions" => {
            note("mock Vault: decisions per second");
            serde_json::to_string(&vault_decisions(plan).await?)?
        }
        // Lane A's section (issue 13); the lead moves it into the new harness.
        #[cfg(feature = "rmcp")]
        "mcp" => {
            note("mcp: guarded tools/call against unguarded + the Vault floor, in process");
            let quick = std::env::var("LEDGIX_BENCH_QUICK").is_ok_and(|v| v == "1");
            serde_json::to_string(&mcp_section::run(quick).await)?
        }
        other => return Err(format!("no section `{other}`").into()),
    };
    println!("{result}");
    Ok(())
}

fn note(message: &str) {
    eprintln!("bench: {message}");
}

// ------------------------------------------------------------------------------- the calls

/// The guarded tool (tool name = function name). The body reports whether the token is in
/// scope.
#[ledgix::guarded]
async fn refund(amount: u64, currency: &str, charge_id: &str) -> Result<bool, ledgix::Error> {
    Ok(ledgix::current_token().is_some())
}

/// A guarded tool whose body returns the request id it was cleared under.
#[ledgix::guarded(tool = "refund")]
async fn refund_request_id(amount: u64) -> Result<Option<String>, ledgix::Error> {
    Ok(ledgix::current_clearance().map(|c| c.request_id.clone()))
}

/// A guarded tool the memory test's mock Vault sends to review, asking `client`.
#[ledgix::guarded(client = client, skip(client))]
async fn held_refund(client: &LedgixClient, n: u64) -> Result<bool, ledgix::Error> {
    Ok(ledgix::current_token().is_some())
}

/// One guarded call that must run its body with the token in scope.
async fn guard_call(n: u64) -> R<()> {
    if refund(n, CURRENCY, CHARGE).await? {
        Ok(())
    } else {
        Err("the guarded body ran without a token in scope".into())
    }
}

/// The physical floor: a bare pooled `reqwest` POST of the same JSON body, the JSON answer
/// parsed, and one Ed25519 `verify_strict` of the token (split, signature decoded, verified).
#[derive(Clone)]
struct Floor {
    http: reqwest::Client,
    url: Arc<str>,
    key: VerifyingKey,
}

/// What the floor reads of the answer.
#[derive(Deserialize)]
struct FloorAnswer {
    status: String,
    token: Option<String>,
}

impl Floor {
    /// The floor against the Vault at `base_url`, verifying with its token key.
    fn new(base_url: &str, keys: &ledgix::KeySet) -> R<Floor> {
        // The token key is the one whose id is not the ledger key's (`mock-ledger-…`).
        let kid = keys
            .kids()
            .find(|k| !k.starts_with("mock-ledger"))
            .ok_or("the mock Vault's JWKS has no token key")?;
        let key = *keys.get(kid).ok_or("token key vanished")?;
        Ok(Floor {
            http: reqwest::Client::new(),
            url: format!("{base_url}/request-clearance").into(),
            key,
        })
    }

    /// The floor against an in-process mock Vault.
    fn of_mock(vault: &MockVault) -> R<Floor> {
        let keys = ledgix::KeySet::from_jwks_json(&vault.trusted_keys_json())?;
        Floor::new(&vault.url(), &keys)
    }

    async fn call(&self, n: u64) -> R<()> {
        let body = json!({
            "tool_name": TOOL,
            "tool_args": {"amount": n, "currency": CURRENCY, "charge_id": CHARGE},
            "agent_id": AGENT,
            "context": {},
        });
        let answer = self
            .http
            .post(&*self.url)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
            .await?;
        if !answer.status().is_success() {
            return Err(format!("floor: the mock Vault answered {}", answer.status()).into());
        }
        let bytes = answer.bytes().await?;
        let parsed: FloorAnswer = serde_json::from_slice(&bytes)?;
        if parsed.status != "approved" {
            return Err(format!("floor: status {}", parsed.status).into());
        }
        let token = parsed.token.ok_or("floor: approved without a token")?;
        verify_one_signature(&self.key, &token)
    }
}

/// The irreducible crypto of a token: split off the signature, decode it, `verify_strict`.
fn verify_one_signature(key: &VerifyingKey, token: &str) -> R<()> {
    let (signing_input, signature_b64) = token.rsplit_once('.').ok_or("token without '.'")?;
    let mut signature = [0u8; 64];
    let len = URL_SAFE_NO_PAD.decode_slice(signature_b64, &mut signature)?;
    if len != 64 {
        return Err(format!("signature is {len} bytes").into());
    }
    key.verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))?;
    Ok(())
}

// ------------------------------------------------------------------------------- latency

/// Percentiles of one series, in microseconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Percentiles {
    p50: f64,
    p99: f64,
    mean: f64,
}

impl Percentiles {
    fn of(samples: &mut [Duration]) -> Percentiles {
        if samples.is_empty() {
            return Percentiles {
                p50: f64::NAN,
                p99: f64::NAN,
                mean: f64::NAN,
            };
        }
        samples.sort_unstable();
        let at = |q: f64| {
            // nearest rank
            let rank = ((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            micros(samples[rank - 1])
        };
        let total: Duration = samples.iter().sum();
        Percentiles {
            p50: at(0.50),
            p99: at(0.99),
            mean: micros(total) / samples.len() as f64,
        }
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

#[derive(Debug, Serialize, Deserialize)]
struct Latency {
    calls: usize,
    guard: Percentiles,
    floor: Percentiles,
}

/// Guard and floor calls alternate (the order flips every pair) so drift hits both alike.
async fn latency(floor: Floor, plan: Plan) -> R<Latency> {
    for n in 0..plan.latency_warmup as u64 {
        guard_call(n).await?;
        floor.call(n).await?;
    }
    let mut guard = Vec::with_capacity(plan.latency_calls);
    let mut bare = Vec::with_capacity(plan.latency_calls);
    for n in 0..plan.latency_calls as u64 {
        let guard_first = n % 2 == 0;
        for turn in 0..2 {
            let t = Instant::now();
            if (turn == 0) == guard_first {
                guard_call(n).await?;
                guard.push(t.elapsed());
            } else {
                floor.call(n).await?;
                bare.push(t.elapsed());
            }
        }
    }
    Ok(Latency {
        calls: plan.latency_calls,
        guard: Percentiles::of(&mut guard),
        floor: Percentiles::of(&mut bare),
    })
}

// ------------------------------------------------------------------------------- throughput

#[derive(Debug, Serialize, Deserialize)]
struct Throughput {
    tasks: usize,
    guard: f64,
    bare: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Guard,
    Bare,
}

/// Calls per second of each kind at 1, 16 and 256 tasks, in ABBA order. The SDK's cap on
/// in-flight exchanges (`max_concurrent_requests`) is set to the task count, as the default
/// (256) is at 256 tasks: every task always has a slot, both sides open as many connections.
async fn throughput(config: &Config, floor: &Floor, plan: Plan) -> R<Vec<Throughput>> {
    let mut rows = Vec::new();
    for tasks in [1usize, 16, 256] {
        let client =
            LedgixClient::new(config.to_builder().max_concurrent_requests(tasks).build()?)?;
        // Warm both pools to `tasks` connections.
        rate(
            Kind::Guard,
            &client,
            floor,
            tasks,
            Duration::from_millis(200),
        )
        .await?;
        rate(
            Kind::Bare,
            &client,
            floor,
            tasks,
            Duration::from_millis(200),
        )
        .await?;
        let (mut guard, mut bare) = (0.0, 0.0);
        for _ in 0..plan.throughput_rounds {
            for kind in [Kind::Guard, Kind::Bare, Kind::Bare, Kind::Guard] {
                let r = rate(kind, &client, floor, tasks, plan.throughput_run).await?;
                match kind {
                    Kind::Guard => guard += r,
                    Kind::Bare => bare += r,
                }
            }
        }
        let runs = 2.0 * plan.throughput_rounds as f64;
        rows.push(Throughput {
            tasks,
            guard: guard / runs,
            bare: bare / runs,
        });
    }
    Ok(rows)
}

/// `tasks` tasks call back to back for `run`; calls completed per second.
async fn rate(
    kind: Kind,
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
        let client = client.clone();
        let work = async move {
            while !stop.load(Ordering::Relaxed) {
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                match kind {
                    Kind::Guard => guard_call(n).await?,
                    Kind::Bare => floor.call(n).await?,
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        };
        // The task's guarded calls resolve this client (what `MockVault::scope` does).
        set.spawn(ledgix::with_client(client, work));
    }
    tokio::time::sleep(run).await;
    stop.store(true, Ordering::Relaxed);
    while let Some(joined) = set.join_next().await {
        joined??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64())
}

// ------------------------------------------------------------------------------- ledger

#[derive(Debug, Serialize, Deserialize)]
struct BundleCost {
    tree_size: u64,
    signatures: usize,
    path_hashes: usize,
    full_us: f64,
    floor_us: f64,
}

/// `(leaf index, tree size, path, root)` of an inclusion proof.
type Inclusion = (u64, u64, Vec<[u8; 32]>, [u8; 32]);
/// `(size1, size2, path, root1, root2)` of a consistency proof.
type Consistency = (u64, u64, Vec<[u8; 32]>, [u8; 32], [u8; 32]);

/// The cryptographic work of one bundle, decoded in advance: its Ed25519 verifications and
/// SHA-256s (event hash, leaf hash, checkpoint hashes, inclusion and consistency paths).
struct CryptoFloor {
    signatures: Vec<(VerifyingKey, Signature, Vec<u8>)>,
    event_payload: Vec<u8>,
    event_hash: [u8; 32],
    checkpoint_payloads: Vec<Vec<u8>>,
    inclusion: Inclusion,
    consistency: Option<Consistency>,
}

impl CryptoFloor {
    fn new(b: &ProofBundle, keys: &TrustedKeys) -> R<CryptoFloor> {
        let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s.trim_end_matches('='));
        let h32 = |s: &str| -> R<[u8; 32]> {
            hex::decode(s)?
                .try_into()
                .map_err(|_| "not 32 bytes".into())
        };
        let path = |p: &[String]| p.iter().map(|h| h32(h)).collect::<R<Vec<_>>>();
        let mut checkpoints: Vec<&LedgerCheckpoint> = vec![&b.inclusion.checkpoint];
        if let Some(c) = &b.consistency {
            checkpoints.push(&c.to_checkpoint); // from_checkpoint is the inclusion checkpoint
        }
        let mut signatures = Vec::new();
        let mut signed = vec![(
            &b.event.receipt_key_id,
            &b.event.receipt_signature,
            &b.event.receipt_payload,
        )];
        for c in &checkpoints {
            signed.push((
                &c.signer_key_id,
                &c.checkpoint_signature,
                &c.checkpoint_payload,
            ));
        }
        for (kid, sig, payload) in signed {
            let key = *keys.get(kid).ok_or("untrusted kid")?;
            let sig: [u8; 64] = b64(sig)?.try_into().map_err(|_| "signature length")?;
            signatures.push((key, Signature::from_bytes(&sig), b64(payload)?));
        }
        Ok(CryptoFloor {
            signatures,
            event_payload: hash::event_payload(&b.event, EventEncoding::PRIMARY)?,
            event_hash: h32(&b.event.event_hash)?,
            checkpoint_payloads: checkpoints
                .iter()
                .map(|c| b64(&c.checkpoint_payload))
                .collect::<Result<_, _>>()?,
            inclusion: (
                b.inclusion.leaf_index,
                b.inclusion.tree_size,
                path(&b.inclusion.path)?,
                h32(&b.inclusion.checkpoint.root_hash)?,
            ),
            consistency: match &b.consistency {
                Some(c) => Some((
                    c.from_checkpoint.tree_size,
                    c.to_checkpoint.tree_size,
                    path(&c.path)?,
                    h32(&c.from_checkpoint.root_hash)?,
                    h32(&c.to_checkpoint.root_hash)?,
                )),
                None => None,
            },
        })
    }

    fn run(&self) -> R<()> {
        for (key, sig, payload) in &self.signatures {
            key.verify_strict(payload, sig)?;
        }
        std::hint::black_box(hash::hash_event_payload(&self.event_payload));
        let leaf = merkle::leaf_hash(&self.event_hash);
        for p in &self.checkpoint_payloads {
            std::hint::black_box(hash::checkpoint_hash(p));
        }
        let (index, size, path, root) = &self.inclusion;
        merkle::verify_inclusion(&leaf, *index, *size, path, root)?;
        if let Some((s1, s2, path, r1, r2)) = &self.consistency {
            merkle::verify_consistency(*s1, *s2, path, r1, r2)?;
        }
        Ok(())
    }

    fn path_hashes(&self) -> usize {
        self.inclusion.2.len() + self.consistency.as_ref().map_or(0, |c| c.2.len())
    }
}

/// `verify_proof_bundle` on a real bundle from the mock (an early event of 4,096, sealed, then
/// 64 more sealed after it so the bundle carries a consistency proof) against its crypto floor,
/// in alternating blocks; medians of the per-call block means.
async fn bundle_verification(plan: Plan) -> R<BundleCost> {
    const EVENTS: u64 = 4_096;
    let vault = MockVault::builder()
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let client = vault.client();
    let floor = Floor::of_mock(&vault)?;
    let request_id = ledgix::with_client(client.clone(), refund_request_id(0))
        .await?
        .ok_or("no clearance in scope")?;
    let mut set = tokio::task::JoinSet::new();
    for t in 0..16 {
        let floor = floor.clone();
        set.spawn(async move {
            for n in (t..EVENTS).step_by(16) {
                floor.call(n).await?;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
    }
    while let Some(joined) = set.join_next().await {
        joined??;
    }
    vault.seal().await;
    for n in 0..64 {
        floor.call(n).await?;
    }
    vault.seal().await;
    let request_id = request_id.as_str();
    let bundle = client.fetch_ledger_proof_bundle(request_id).await?;
    let keys = TrustedKeys::from_jwks_json(&vault.trusted_keys_json())?;
    let checked = verify_proof_bundle(&bundle, &keys)?;
    drop(vault);
    if !checked.event_body_verified || !checked.consistency_verified {
        return Err("the bundle did not verify in full".into());
    }
    let floor = CryptoFloor::new(&bundle, &keys)?;
    floor.run()?;
    let (mut full, mut raw) = (Vec::new(), Vec::new());
    for block in 0..plan.verify_blocks {
        for turn in 0..2 {
            let t = Instant::now();
            if (turn == 0) == (block % 2 == 0) {
                for _ in 0..plan.verify_block_iters {
                    std::hint::black_box(verify_proof_bundle(
                        std::hint::black_box(&bundle),
                        &keys,
                    )?);
                }
                full.push(t.elapsed() / plan.verify_block_iters as u32);
            } else {
                for _ in 0..plan.verify_block_iters {
                    floor.run()?;
                }
                raw.push(t.elapsed() / plan.verify_block_iters as u32);
            }
        }
    }
    Ok(BundleCost {
        tree_size: checked.latest_tree_size,
        signatures: floor.signatures.len(),
        path_hashes: floor.path_hashes(),
        full_us: Percentiles::of(&mut full).p50,
        floor_us: Percentiles::of(&mut raw).p50,
    })
}

// ------------------------------------------------------------------------------- python peer

#[derive(Debug, Serialize, Deserialize)]
enum Python {
    Measured {
        calls: usize,
        python_p50_us: f64,
        rust_p50_us: f64,
        floor_p50_us: f64,
        version: String,
    },
    Unavailable(String),
}

/// ledgix-python's sync `request_clearance` (verify_jwt on) in a child python, against our
/// `LedgixClient::request_clearance` (verification on, in a spawned task), and the floor, all
/// on one mock Vault in a child process (every client in its own process, as the standalone
/// mock would be used); our half runs before and half after the python run.
async fn python_peer(plan: Plan) -> Python {
    let python = match python_interpreter() {
        Ok(p) => p,
        Err(why) => return Python::Unavailable(why),
    };
    match python_peer_on_child(&python, plan).await {
        Ok(measured) => measured,
        Err(e) => Python::Unavailable(e.to_string()),
    }
}

async fn python_peer_on_child(python: &std::path::Path, plan: Plan) -> R<Python> {
    const BLOCKS: usize = 6;
    let vault = ChildVault::start().await?;
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(vault.url.clone())
            .agent_id(AGENT)
            .build()?,
    )?;
    let floor = Floor::new(&vault.url, &client.fetch_jwks().await?)?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/python_peer/bench.py");
    let mut peer = tokio::process::Command::new(python)
        .arg(script)
        .arg(&vault.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let mut to_peer = peer.stdin.take().ok_or("no stdin")?;
    let mut from_peer = tokio::io::BufReader::new(peer.stdout.take().ok_or("no stdout")?).lines();
    let mut read_peer = async || -> R<String> {
        let line = tokio::time::timeout(Duration::from_secs(60), from_peer.next_line())
            .await
            .map_err(|_| "bench.py did not answer within 60 s")??;
        Ok(line.ok_or("bench.py exited (see its error above)")?)
    };
    let ready: PythonReady = serde_json::from_str(&read_peer().await?)?;

    // Our warm-up, then blocks alternating ours and the peer's, the order flipping each time.
    let block = plan.python_calls.div_ceil(BLOCKS);
    let (mut rust, mut bare, mut py) = (Vec::new(), Vec::new(), Vec::new());
    rust_block(&client, &floor, 50).await?;
    for b in 0..BLOCKS {
        for turn in 0..2 {
            if (turn == 0) == (b % 2 == 0) {
                let (r, f) = rust_block(&client, &floor, block).await?;
                rust.extend(r);
                bare.extend(f);
            } else {
                to_peer.write_all(format!("{block}\n").as_bytes()).await?;
                to_peer.flush().await?;
                let answer: PythonBlock = serde_json::from_str(&read_peer().await?)?;
                py.extend(answer.samples_us);
            }
        }
    }
    // End of input stops the peer.
    drop(to_peer);
    let _ = peer.wait().await;
    vault.stop().await;
    py.sort_by(f64::total_cmp);
    let python_p50_us = py
        .get(py.len().div_ceil(2).saturating_sub(1))
        .copied()
        .ok_or("bench.py returned no samples")?;
    Ok(Python::Measured {
        calls: py.len(),
        python_p50_us,
        rust_p50_us: Percentiles::of(&mut rust).p50,
        floor_p50_us: Percentiles::of(&mut bare).p50,
        version: ready.version,
    })
}

/// What bench.py says once warmed up.
#[derive(Deserialize)]
struct PythonReady {
    version: String,
}

/// What bench.py answers for a block of calls.
#[derive(Deserialize)]
struct PythonBlock {
    samples_us: Vec<f64>,
}

/// One block of our calls, in a spawned task: `(request_clearance samples, floor samples)`.
async fn rust_block(
    client: &LedgixClient,
    floor: &Floor,
    calls: usize,
) -> R<(Vec<Duration>, Vec<Duration>)> {
    let (client, floor) = (client.clone(), floor.clone());
    spawned(async move {
        let (mut rust, mut bare) = (Vec::new(), Vec::new());
        rust_clearances(&client, &floor, calls, &mut rust, &mut bare).await?;
        Ok((rust, bare))
    })
    .await
}

/// Runs `fut` in a task of the runtime (as agent code runs), not on the `block_on` thread.
async fn spawned<T: Send + 'static>(
    fut: impl std::future::Future<Output = R<T>> + Send + 'static,
) -> R<T> {
    tokio::spawn(fut).await?
}

/// `calls` sequential `request_clearance` calls (token verified and bound) and as many floor
/// calls, alternating (the order flips every pair), timed one by one.
async fn rust_clearances(
    client: &LedgixClient,
    floor: &Floor,
    calls: usize,
    samples: &mut Vec<Duration>,
    floor_samples: &mut Vec<Duration>,
) -> R<()> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    for pair in 0..calls {
        for turn in 0..2 {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            if (turn == 0) == (pair % 2 == 0) {
                let request = ClearanceRequest::new(TOOL)
                    .agent_id(AGENT)
                    .arg("amount", n)
                    .arg("currency", CURRENCY)
                    .arg("charge_id", CHARGE);
                let t = Instant::now();
                let answer = client.request_clearance(&request).await?;
                samples.push(t.elapsed());
                if answer.token.is_none() {
                    return Err("approved without a token".into());
                }
            } else {
                let t = Instant::now();
                floor.call(n).await?;
                floor_samples.push(t.elapsed());
            }
        }
    }
    Ok(())
}

/// The python to run: `LEDGIX_BENCH_PYTHON`, else the venv `scripts/python_peer/run.sh`
/// creates; it must import ledgix-python 0.4.0.
fn python_interpreter() -> Result<PathBuf, String> {
    let python = match std::env::var_os("LEDGIX_BENCH_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            // <target>/release/examples/bench -> <target>/python-peer-venv/bin/python
            let exe = std::env::current_exe().map_err(|e| format!("no current exe: {e}"))?;
            let target = exe
                .ancestors()
                .nth(3)
                .ok_or("cannot find the target directory")?;
            target.join("python-peer-venv/bin/python")
        }
    };
    if !python.exists() {
        return Err(format!(
            "no python at {} (run scripts/python_peer/run.sh --venv-only, or set \
             LEDGIX_BENCH_PYTHON)",
            python.display()
        ));
    }
    let probe = std::process::Command::new(&python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('ledgix-python'))",
        ])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    let version = String::from_utf8_lossy(&probe.stdout).trim().to_string();
    if !probe.status.success() || version != "0.4.0" {
        return Err(format!(
            "{} has no ledgix-python 0.4.0 (found `{version}`)",
            python.display()
        ));
    }
    Ok(python)
}

// ------------------------------------------------------------------------------- mock Vault

#[derive(Debug, Serialize, Deserialize)]
struct Decisions {
    clients: usize,
    per_s: f64,
    events: usize,
    checkpoints: u64,
}

/// A fresh mock Vault (one in ten denied, sealing every 100 ms) under 128 concurrent bare
/// clients sending what the SDKs send (JSON body, Idempotency-Key); answered decisions per
/// second. The clients share the two cores, so this is a lower bound of the server alone.
async fn vault_decisions(plan: Plan) -> R<Decisions> {
    const CLIENTS: usize = 128;
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
    let run = |duration: Duration| {
        let (url, http) = (url.clone(), http.clone());
        async move {
            let done = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let started = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for w in 0..CLIENTS as u64 {
                let (url, http, done, stop) =
                    (url.clone(), http.clone(), done.clone(), stop.clone());
                set.spawn(async move {
                    let mut n = w;
                    while !stop.load(Ordering::Relaxed) {
                        let body = json!({"tool_name": TOOL, "tool_args": {"amount": n}, "agent_id": AGENT});
                        let answer = http
                            .post(&*url)
                            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
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
                    Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                });
            }
            tokio::time::sleep(duration).await;
            stop.store(true, Ordering::Relaxed);
            while let Some(joined) = set.join_next().await {
                joined??;
            }
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
            )
        }
    };
    run(Duration::from_millis(300)).await?; // connections up, allocator warm
    let per_s = run(plan.vault_run).await?;
    vault.seal().await;
    let entries = vault.ledger_entries();
    let checkpoints = entries
        .iter()
        .filter_map(|e| e.checkpoint_id)
        .max()
        .unwrap_or(0);
    Ok(Decisions {
        clients: CLIENTS,
        per_s,
        events: entries.len(),
        checkpoints,
    })
}

// ------------------------------------------------------------------------------- memory

#[derive(Debug, Serialize, Deserialize)]
struct Memory {
    calls: usize,
    rss_before_kb: Option<u64>,
    rss_held_kb: Option<u64>,
    hwm_after_kb: Option<u64>,
    approved: usize,
    hold: Duration,
}

/// `VmRSS` and `VmHWM` of this process, in kB (Linux).
fn proc_status() -> (Option<u64>, Option<u64>) {
    let Ok(text) = std::fs::read_to_string("/proc/self/status") else {
        return (None, None);
    };
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A mock Vault in a child process (this program with `--serve-mock`), driven over its
/// stdin: its clients' cost is measured without the server's.
struct ChildVault {
    child: tokio::process::Child,
    to_child: tokio::process::ChildStdin,
    from_child: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    url: String,
}

impl ChildVault {
    async fn start() -> R<ChildVault> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("--serve-mock")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let to_child = child.stdin.take().ok_or("no stdin")?;
        let from_child = tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let mut vault = ChildVault {
            child,
            to_child,
            from_child,
            url: String::new(),
        };
        vault.url = vault.ask("url").await?;
        Ok(vault)
    }

    /// Sends one command, returns the one-line answer.
    async fn ask(&mut self, command: &str) -> R<String> {
        self.to_child
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.to_child.flush().await?;
        let line = self.from_child.next_line().await?;
        Ok(line
            .ok_or("the child mock Vault exited")?
            .trim()
            .to_string())
    }

    /// Closes its input (it exits at end of input) and waits for it.
    async fn stop(self) {
        let ChildVault {
            mut child,
            to_child,
            ..
        } = self;
        drop(to_child);
        let _ = child.wait().await;
    }
}

/// `calls` guarded calls, all pending review at once on a mock Vault in a child process (so
/// only the client's memory counts), each polling every 2 s (the default); resident memory
/// before and while they are held; then all approved, and every body must run.
async fn held_calls_memory(calls: usize) -> R<Memory> {
    let mut vault = ChildVault::start().await?;
    let config = Config::builder()
        .vault_url(vault.url.clone())
        .agent_id(AGENT)
        .build()?;
    let client = LedgixClient::new(config)?;
    // One approved call first: JWKS fetched, a connection open, allocator warm.
    ledgix::with_client(client.clone(), guard_call(0)).await?;
    let (rss_before_kb, _) = proc_status();

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
    let (rss_held_kb, _) = proc_status();
    vault.ask("approve-all").await?;
    let mut approved = 0;
    while let Some(joined) = set.join_next().await {
        if joined?? {
            approved += 1;
        }
    }
    let (_, hwm_after_kb) = proc_status();
    vault.stop().await;
    Ok(Memory {
        calls,
        rss_before_kb,
        rss_held_kb,
        hwm_after_kb,
        approved,
        hold,
    })
}

/// Child mode (`--serve-mock`): a mock Vault whose `held_*` tools go to review, driven by
/// one-line commands on stdin: `url`, `pending` (count), `approve-all` (count). Exits at EOF.
fn serve_mock() -> R<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let vault = rt.block_on(
        MockVault::builder()
            .rule(Rule::tool("held_*").review())
            .try_start(),
    )?;
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let answer = match line?.trim() {
            "url" => vault.url(),
            "pending" => vault.pending_reviews().len().to_string(),
            "approve-all" => {
                let ids = vault.pending_reviews();
                rt.block_on(async {
                    for id in &ids {
                        vault.decide(id, true, "approved by the bench").await?;
                    }
                    Ok::<_, ledgix::mock::ReviewError>(())
                })?;
                ids.len().to_string()
            }
            other => format!("unknown command `{other}`"),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}

// ------------------------------------------------------------------------------- report

struct Machine {
    cores: usize,
    cpu: String,
    rustc: String,
}

impl Machine {
    fn describe() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|t| {
                t.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "rustc unknown".into());
        Machine {
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            cpu,
            rustc,
        }
    }

    fn line(&self) -> String {
        format!("{} cores, {}, {}", self.cores, self.cpu, self.rustc)
    }
}

struct Report {
    machine: Machine,
    latency: Latency,
    throughput: Vec<Throughput>,
    verify: BundleCost,
    python: Python,
    decisions: Decisions,
    memory: Memory,
    elapsed: Duration,
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or_else(|| "n/a".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}

impl Report {
    fn print(&self) {
        let l = &self.latency;
        let p50 = ratio(l.guard.p50, l.floor.p50);
        let p99 = ratio(l.guard.p99, l.floor.p99);
        let t256 = self
            .throughput
            .iter()
            .find(|t| t.tasks == 256)
            .map_or(f64::NAN, |t| ratio(t.guard, t.bare));
        let verify = ratio(self.verify.full_us, self.verify.floor_us);
        let python = match &self.python {
            Python::Measured {
                python_p50_us,
                rust_p50_us,
                ..
            } => format!("{:.2}", ratio(*python_p50_us, *rust_p50_us)),
            Python::Unavailable(_) => "na".into(),
        };

        println!();
        println!(
            "ledgix bench ({}; {:.0} s)",
            self.machine.line(),
            self.elapsed.as_secs_f64()
        );
        println!();
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            format!("latency, sequential ({} calls each, interleaved)", l.calls),
            "p50 µs",
            "p99 µs",
            "mean µs"
        );
        for (name, p) in [
            (
                "  floor: bare POST + JSON parse + 1 Ed25519 verify",
                l.floor,
            ),
            ("  guard: guarded call through the whole SDK", l.guard),
        ] {
            println!(
                "{name:<58} {:>10.1} {:>10.1} {:>10.1}",
                p.p50, p.p99, p.mean
            );
        }
        println!(
            "{:<58} {:>10.3} {:>10.3} {:>10.3}   goal p50 <= 1.10",
            "  guard / floor",
            p50,
            p99,
            ratio(l.guard.mean, l.floor.mean)
        );
        println!(
            "{:<58} {:>10.1} {:>10.1}",
            "  guard - floor (SDK cost per call, µs)",
            l.guard.p50 - l.floor.p50,
            l.guard.p99 - l.floor.p99
        );
        println!();
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            "throughput (calls/s, ABBA runs, cap = tasks)", "guard", "bare", "ratio"
        );
        for t in &self.throughput {
            println!(
                "{:<58} {:>10.0} {:>10.0} {:>10.3}{}",
                format!("  {} task{}", t.tasks, if t.tasks == 1 { "" } else { "s" }),
                t.guard,
                t.bare,
                ratio(t.guard, t.bare),
                if t.tasks == 256 {
                    "   goal >= 0.90"
                } else {
                    ""
                }
            );
        }
        println!();
        let v = &self.verify;
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            format!(
                "verify_proof_bundle (tree {}, {} sigs, {} path hashes)",
                v.tree_size, v.signatures, v.path_hashes
            ),
            "full µs",
            "floor µs",
            "ratio"
        );
        println!(
            "{:<58} {:>10.1} {:>10.1} {:>10.3}   goal <= 1.30",
            "  bundle vs its Ed25519 verifies + SHA-256s", v.full_us, v.floor_us, verify
        );
        println!();
        match &self.python {
            Python::Measured {
                calls,
                python_p50_us,
                rust_p50_us,
                floor_p50_us,
                version,
            } => {
                println!(
                    "{:<58} {:>10} {:>10} {:>10}",
                    format!("request_clearance, sequential ({calls} calls, verify on)"),
                    "python µs",
                    "rust µs",
                    "ratio"
                );
                println!(
                    "{:<58} {:>10.1} {:>10.1} {:>10.2}   goal >= 10",
                    format!("  ledgix-python {version} vs ours, p50"),
                    python_p50_us,
                    rust_p50_us,
                    ratio(*python_p50_us, *rust_p50_us)
                );
                println!(
                    "{:<58} {:>10.1} {:>10.2}",
                    "  floor on the same mock (bare POST + parse + 1 verify), p50",
                    floor_p50_us,
                    ratio(*python_p50_us, *floor_p50_us)
                );
                let (py_over, rust_over) =
                    (python_p50_us - floor_p50_us, rust_p50_us - floor_p50_us);
                println!(
                    "{:<58} {:>10.1} {:>10.1} {:>10}",
                    "  client cost over that floor (python, rust, ratio)",
                    py_over,
                    rust_over,
                    if rust_over > 0.0 {
                        format!("{:.0}", py_over / rust_over)
                    } else {
                        "n/a".into()
                    }
                );
            }
            Python::Unavailable(why) => {
                println!("request_clearance vs ledgix-python 0.4.0: na ({why})");
            }
        }
        println!();
        let d = &self.decisions;
        println!(
            "{:<58} {:>10.0}   goal >= 10000",
            format!(
                "mock Vault decisions/s ({} bare clients, ledger + seal 100ms)",
                d.clients
            ),
            d.per_s
        );
        println!(
            "{:<58} {:>10} {:>10}",
            "  ledger events written, checkpoints", d.events, d.checkpoints
        );
        println!();
        let m = &self.memory;
        let delta = match (m.rss_before_kb, m.rss_held_kb) {
            (Some(a), Some(b)) => Some(b.saturating_sub(a)),
            _ => None,
        };
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            format!("memory: {} guarded calls pending review at once", m.calls),
            "before",
            "held",
            "delta"
        );
        println!(
            "{:<58} {:>10} {:>10} {:>10}",
            "  client process VmRSS (mock Vault in a child process)",
            mib(m.rss_before_kb),
            mib(m.rss_held_kb),
            mib(delta)
        );
        println!(
            "{:<58} {:>10}",
            "  per held call",
            delta.map_or_else(
                || "n/a".into(),
                |d| format!("{:.1} KiB", d as f64 / m.calls as f64)
            )
        );
        println!(
            "{:<58} {:>10}",
            "  VmHWM after all approved",
            mib(m.hwm_after_kb)
        );
        println!(
            "{:<58} {:>10}",
            format!(
                "  approved and ran (held after {:.1} s)",
                m.hold.as_secs_f64()
            ),
            format!("{}/{}", m.approved, m.calls)
        );
        println!();
        println!(
            "bench: guard_vs_floor_p50={p50:.2} guard_vs_floor_p99={p99:.2} \
             throughput_256_vs_bare={t256:.2} verify_vs_crypto_floor={verify:.2} \
             python_peer_vs_rust={python} vault_decisions_per_s={:.0}",
            d.per_s
        );
    }
}
