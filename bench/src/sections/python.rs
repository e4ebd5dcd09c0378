//! The official Python SDK (ledgix-python 0.4.0) against ours, on one mock Vault in a child
//! process (every client in its own process, as with `ledgix-mock-vault`):
//!
//! - `request_clearance`, sequential, its verification on, in blocks alternating with ours
//!   (each of our calls paired with a floor call): per call (`python_peer_vs_rust`) and on
//!   what the clients themselves cost over that floor (`python_client_cost_ratio`);
//! - `verify_ledger_proof_bundle` against our `verify_proof_bundle` on the same bundle
//!   (`python_verify_ratio`), in alternating blocks, beside both sides' raw Ed25519 work.
//!
//! Without the interpreter or the package the figures are `na` and the table says why.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ledgix::ledger::{ProofBundle, TrustedKeys, verify_proof_bundle};
use ledgix::{ClearanceRequest, LedgixClient};
use ledgix_bench::calls::{AGENT, CHARGE, CURRENCY, TOOL, refund_request_id};
use ledgix_bench::child::ChildVault;
use ledgix_bench::floor::Floor;
use ledgix_bench::ledger_floor::CryptoFloor;
use ledgix_bench::stats::{Percentiles, Side, Spread, micros, nearest_rank, pair_order, ratio};
use ledgix_bench::{BoxError, Figure, R};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use super::{say, spawned};

const KEYS: [&str; 3] = [
    "python_peer_vs_rust",
    "python_client_cost_ratio",
    "python_verify_ratio",
];

pub async fn run(quick: bool) -> R<Vec<Figure>> {
    let python = match python_interpreter() {
        Ok(p) => p,
        Err(why) => return Ok(unavailable(&why)),
    };
    let mut vault = ChildVault::start().await?;
    let (client, floor) = vault.client_and_floor().await?;
    let mut figures = match clearances(&python, &vault, &client, &floor, quick).await {
        Ok(f) => f,
        Err(e) => unavailable(&e.to_string())[..2].to_vec(),
    };
    match bundles(&python, &mut vault, &client, &floor, quick).await {
        Ok(f) => figures.push(f),
        Err(e) => {
            say(format_args!("  verify_ledger_proof_bundle: na ({e})"));
            figures.push((KEYS[2], f64::NAN, f64::NAN, f64::NAN));
        }
    }
    vault.stop().await;
    Ok(figures)
}

fn unavailable(why: &str) -> Vec<Figure> {
    say(format_args!("ledgix-python 0.4.0: na ({why})"));
    KEYS.iter().map(|k| (*k, f64::NAN, f64::NAN, f64::NAN)).collect()
}

// ------------------------------------------------------------------------ request_clearance

/// What bench.py says once warmed up.
#[derive(Deserialize)]
struct Ready {
    version: String,
}

/// What bench.py answers for a block of calls.
#[derive(Deserialize)]
struct Block {
    samples_us: Vec<f64>,
}

/// A python script of `scripts/python_peer`, one JSON line per line it is sent.
struct Peer {
    child: tokio::process::Child,
    to_peer: tokio::process::ChildStdin,
    from_peer: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl Peer {
    async fn start(python: &Path, script: &str, args: &[&str]) -> R<Peer> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../scripts/python_peer")
            .join(script);
        let mut child = tokio::process::Command::new(python)
            .arg(&path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        let to_peer = child.stdin.take().ok_or("no stdin")?;
        let from_peer = tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        Ok(Peer {
            child,
            to_peer,
            from_peer,
        })
    }

    async fn read<T: serde::de::DeserializeOwned>(&mut self) -> R<T> {
        let line = tokio::time::timeout(Duration::from_secs(120), self.from_peer.next_line())
            .await
            .map_err(|_| "the python peer did not answer within 120 s")??
            .ok_or("the python peer exited (see its error above)")?;
        Ok(serde_json::from_str(&line)?)
    }

    async fn ask<T: serde::de::DeserializeOwned>(&mut self, count: usize) -> R<T> {
        self.to_peer
            .write_all(format!("{count}\n").as_bytes())
            .await?;
        self.to_peer.flush().await?;
        self.read().await
    }

    /// End of input stops the peer.
    async fn stop(self) {
        let Peer {
            mut child, to_peer, ..
        } = self;
        drop(to_peer);
        let _ = child.wait().await;
    }
}

async fn clearances(
    python: &Path,
    vault: &ChildVault,
    client: &LedgixClient,
    floor: &Floor,
    quick: bool,
) -> R<Vec<Figure>> {
    let (blocks, block) = if quick { (2, 25) } else { (8, 60) };
    let mut peer = Peer::start(python, "bench.py", &[&vault.url]).await?;
    let ready: Ready = peer.read().await?;
    rust_block(client, floor, 50).await?; // our warm-up
    let mut per_block = Vec::new();
    let (mut py_all, mut rust_all, mut floor_all) = (Vec::new(), Vec::new(), Vec::new());
    let (mut py_block, mut rust_block_p50, mut floor_block_p50) = (0.0, 0.0, 0.0);
    for b in 0..blocks {
        for side in pair_order(b) {
            match side {
                Side::A => {
                    let (mut r, mut f) = rust_block(client, floor, block).await?;
                    rust_block_p50 = Percentiles::of(&mut r).p50;
                    floor_block_p50 = Percentiles::of(&mut f).p50;
                    rust_all.extend(r);
                    floor_all.extend(f);
                }
                Side::B => {
                    let mut answer: Block = peer.ask(block).await?;
                    answer.samples_us.sort_by(f64::total_cmp);
                    py_block = nearest_rank(&answer.samples_us, 0.5);
                    py_all.extend(answer.samples_us);
                }
            }
        }
        per_block.push((py_block, rust_block_p50, floor_block_p50));
    }
    peer.stop().await;
    py_all.sort_by(f64::total_cmp);
    let py = nearest_rank(&py_all, 0.5);
    let rust = Percentiles::of(&mut rust_all).p50;
    let bare = Percentiles::of(&mut floor_all).p50;
    let per_call = Spread::of(&per_block.iter().map(|(p, r, _)| ratio(*p, *r)).collect::<Vec<_>>());
    let cost = Spread::of(
        &per_block
            .iter()
            .map(|(p, r, f)| ratio(p - f, r - f))
            .collect::<Vec<_>>(),
    );
    let calls = py_all.len();
    say(format_args!(
        "{:<58} {:>9} {:>9} {:>7} {:>15}",
        format!("request_clearance, sequential ({calls} calls each, verify on)"),
        "python µs",
        "rust µs",
        "ratio",
        "min–max"
    ));
    say(format_args!(
        "{:<58} {py:>9.1} {rust:>9.1} {:>7.2} {:>7.2}–{:<7.2} goal >= 10",
        format!("  ledgix-python {} vs ours, p50", ready.version),
        per_call.median,
        per_call.min,
        per_call.max
    ));
    say(format_args!(
        "{:<58} {bare:>9.1}",
        "  floor on the same mock (bare POST + parse + 1 verify), p50"
    ));
    say(format_args!(
        "{:<58} {:>9.1} {:>9.1} {:>7.0} {:>7.0}–{:<7.0} goal >= 50",
        format!("  client cost over that floor ({blocks} block pairs)"),
        py - bare,
        rust - bare,
        cost.median,
        cost.min,
        cost.max
    ));
    Ok(vec![per_call.figure(KEYS[0]), cost.figure(KEYS[1])])
}

/// One block of our calls, in a spawned task: `(request_clearance samples, floor samples)`,
/// the two kinds alternating (the order flips every pair).
async fn rust_block(
    client: &LedgixClient,
    floor: &Floor,
    calls: usize,
) -> R<(Vec<Duration>, Vec<Duration>)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let (client, floor) = (client.clone(), floor.clone());
    spawned(async move {
        let (mut rust, mut bare) = (Vec::new(), Vec::new());
        for pair in 0..calls {
            for side in pair_order(pair) {
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                match side {
                    Side::A => {
                        let request = ClearanceRequest::new(TOOL)
                            .agent_id(AGENT)
                            .arg("amount", n)
                            .arg("currency", CURRENCY)
                            .arg("charge_id", CHARGE);
                        let t = Instant::now();
                        let answer = client.request_clearance(&request).await?;
                        rust.push(t.elapsed());
                        if answer.token.is_none() {
                            return Err("approved without a token".into());
                        }
                    }
                    Side::B => {
                        let t = Instant::now();
                        floor.call(n).await?;
                        bare.push(t.elapsed());
                    }
                }
            }
        }
        Ok((rust, bare))
    })
    .await
}

// ------------------------------------------------------------------------ ledger bundles

/// What bench_verify.py says once it checked the bundle.
#[derive(Deserialize)]
struct VerifyReady {
    signatures: usize,
}

/// What bench_verify.py answers for a block.
#[derive(Deserialize)]
struct VerifyBlock {
    verify_us: f64,
    crypto_us: f64,
}

async fn bundles(
    python: &Path,
    vault: &mut ChildVault,
    client: &LedgixClient,
    floor: &Floor,
    quick: bool,
) -> R<Figure> {
    let (blocks, iters) = if quick { (2, 20) } else { (8, 100) };
    let (text, jwks) = bundle_of_child(vault, client, floor).await?;
    let bundle: ProofBundle = serde_json::from_str(&text)?;
    let keys = TrustedKeys::from_jwks_json(&jwks)?;
    verify_proof_bundle(&bundle, &keys)?;
    let crypto = CryptoFloor::new(&bundle, &keys)?;
    let file = std::env::temp_dir().join(format!("ledgix-bench-bundle-{}.json", std::process::id()));
    std::fs::write(&file, &text)?;
    let outcome = async {
        let mut peer = Peer::start(python, "bench_verify.py", &[&vault.url, &file.to_string_lossy()]).await?;
        let ready: VerifyReady = peer.read().await?;
        let (mut ratios, mut py_v, mut py_c, mut rust_v, mut rust_c) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut py_block, mut rust_block) = (f64::NAN, f64::NAN);
        for b in 0..blocks {
            for side in pair_order(b) {
                match side {
                    Side::A => {
                        let t = Instant::now();
                        for _ in 0..iters {
                            std::hint::black_box(verify_proof_bundle(std::hint::black_box(&bundle), &keys)?);
                        }
                        rust_block = micros(t.elapsed()) / iters as f64;
                        rust_v.push(rust_block);
                        let t = Instant::now();
                        for _ in 0..iters {
                            crypto.run()?;
                        }
                        rust_c.push(micros(t.elapsed()) / iters as f64);
                    }
                    Side::B => {
                        let answer: VerifyBlock = peer.ask(iters).await?;
                        py_block = answer.verify_us;
                        py_v.push(answer.verify_us);
                        py_c.push(answer.crypto_us);
                    }
                }
            }
            ratios.push(ratio(py_block, rust_block));
        }
        peer.stop().await;
        Ok::<_, BoxError>((ready, ratios, py_v, py_c, rust_v, rust_c))
    }
    .await;
    let _ = std::fs::remove_file(&file);
    let (ready, ratios, py_v, py_c, rust_v, rust_c) = outcome?;
    let spread = Spread::of(&ratios);
    let med = |v: &[f64]| Spread::of(v).median;
    say(format_args!(
        "{:<58} {:>9} {:>9} {:>7} {:>15}",
        format!(
            "verify a proof bundle (tree {}, {} sigs, {blocks} block pairs)",
            bundle.inclusion.tree_size.max(
                bundle
                    .consistency
                    .as_ref()
                    .map_or(0, |c| c.to_checkpoint.tree_size)
            ),
            ready.signatures
        ),
        "python µs",
        "rust µs",
        "ratio",
        "min–max"
    ));
    say(format_args!(
        "{:<58} {:>9.1} {:>9.1} {:>7.2} {:>7.2}–{:<7.2} goal >= 20",
        "  verify_ledger_proof_bundle vs verify_proof_bundle",
        med(&py_v),
        med(&rust_v),
        spread.median,
        spread.min,
        spread.max
    ));
    say(format_args!(
        "{:<58} {:>9.1} {:>9.1} {:>7.2}",
        "  their raw Ed25519 verifies (OpenSSL; ed25519-dalek +SHA)",
        med(&py_c),
        med(&rust_c),
        ratio(med(&py_c), med(&rust_c))
    ));
    say(format_args!(
        "{:<58} {:>9.1} {:>9.1} {:>7.2}",
        "  the rest (parsing, payloads, checks), over each crypto",
        med(&py_v) - med(&py_c),
        med(&rust_v) - med(&rust_c),
        ratio(med(&py_v) - med(&py_c), med(&rust_v) - med(&rust_c))
    ));
    say(format_args!(
        "  bound: even a verifier costing only its own crypto scores at most {:.1}",
        ratio(med(&py_v), med(&rust_c))
    ));
    Ok(spread.figure(KEYS[2]))
}

/// The JSON text of a proof bundle from the child mock Vault (an early event of 4,097, sealed,
/// then 64 more sealed after it, so it carries an inclusion and a consistency proof) and the
/// Vault's JWKS.
async fn bundle_of_child(
    vault: &mut ChildVault,
    client: &LedgixClient,
    floor: &Floor,
) -> R<(String, String)> {
    const EVENTS: u64 = 4_096;
    let request_id = refund_request_id(client, 0)
        .await?
        .ok_or("no clearance in scope")?;
    floor.fill(EVENTS).await?;
    vault.ask("seal").await?;
    for n in 0..64 {
        floor.call(n).await?;
    }
    vault.ask("seal").await?;
    let http = reqwest::Client::new();
    let get = async |path: &str| -> R<String> {
        let answer = http.get(format!("{}{path}", vault.url)).send().await?;
        if !answer.status().is_success() {
            return Err(format!("GET {path}: {}", answer.status()).into());
        }
        Ok(answer.text().await?)
    };
    let bundle = get(&format!("/ledger/proof/bundle?request_id={request_id}")).await?;
    let jwks = get("/.well-known/jwks.json").await?;
    Ok((bundle, jwks))
}

/// The python to run: `LEDGIX_BENCH_PYTHON`, else the venv `scripts/python_peer/run.sh
/// --venv-only` creates in the target directory; it must import ledgix-python 0.4.0.
fn python_interpreter() -> Result<PathBuf, String> {
    let python = match std::env::var_os("LEDGIX_BENCH_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => {
            // <target>/release/bench: the venv is in an ancestor (the target directory).
            let exe = std::env::current_exe().map_err(|e| format!("no current exe: {e}"))?;
            exe.ancestors()
                .map(|dir| dir.join("python-peer-venv/bin/python"))
                .find(|p| p.exists())
                .ok_or(
                    "no python-peer-venv in the target directory (run \
                     scripts/python_peer/run.sh --venv-only, or set LEDGIX_BENCH_PYTHON)",
                )?
        }
    };
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
