//! Bench section `mcp`: a guarded MCP `tools/call` against the same call unguarded plus the
//! Vault floor, in process.
//!
//! One rmcp server and client pair over an in-process duplex pipe per side, one in-process mock
//! Vault for both:
//!
//! - **guarded**: `tools/call` of a tool whose router went through `ledgix::rmcp::Guard`
//!   (schema check, clearance request, token verified and bound, replay record, task-local
//!   scope, the tool);
//! - **floor**: the same `tools/call` on the unguarded router, then what any guard must do at
//!   least: a bare pooled `reqwest` `POST /request-clearance` of the same arguments to the same
//!   mock Vault, the JSON answer parsed, one Ed25519 `verify_strict` of the token.
//!
//! Calls run in blocks, guarded and floor alternating (ABBA), with fresh arguments each call;
//! the ratio of each block's means is one sample. Key `mcp_guarded_vs_unguarded`: median, min
//! and max of the block ratios (1.0 = the adapter costs nothing over the floor).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use ledgix::mock::MockVault;
use rmcp::handler::server::{tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::{ClientHandler, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde_json::{Map, Value, json};

const TOOL: &str = "create_stripe_payment";

#[derive(serde::Deserialize, schemars::JsonSchema)]
struct Payment {
    amount: u64,
    currency: String,
    customer_id: String,
}

#[derive(Clone)]
struct Payments {
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Payments {
    #[tool(description = "Charge a customer")]
    async fn create_stripe_payment(&self, Parameters(p): Parameters<Payment>) -> String {
        format!("{} {} {}", p.amount, p.currency, p.customer_id)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Payments {}

#[derive(Clone)]
struct Client;

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

async fn connect(server: Payments) -> RunningService<RoleClient, Client> {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    Client
        .serve(client_io)
        .await
        .expect("in-process MCP client connects")
}

fn args(n: u64) -> Map<String, Value> {
    match json!({"amount": n, "currency": "usd", "customer_id": "cus_bench"}) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

/// One `tools/call`; panics unless it succeeded (a bench of failures measures nothing).
async fn tools_call(client: &RunningService<RoleClient, Client>, n: u64) {
    let result = client
        .call_tool(CallToolRequestParams::new(TOOL).with_arguments(args(n)))
        .await
        .expect("tools/call answers");
    assert_eq!(
        result.is_error,
        Some(false),
        "tools/call failed: {result:?}"
    );
}

/// The Vault floor: POST, parse, one signature check.
struct Floor {
    http: reqwest::Client,
    url: String,
    key: VerifyingKey,
}

impl Floor {
    fn of(vault: &MockVault) -> Floor {
        let keys = ledgix::KeySet::from_jwks_json(&vault.trusted_keys_json()).expect("JWKS");
        let kid = keys
            .kids()
            .find(|k| !k.starts_with("mock-ledger"))
            .expect("a token key")
            .to_string();
        Floor {
            http: reqwest::Client::new(),
            url: format!("{}/request-clearance", vault.url()),
            key: *keys.get(&kid).expect("token key"),
        }
    }

    async fn call(&self, n: u64) {
        let body =
            json!({"tool_name": TOOL, "tool_args": args(n), "agent_id": "bench", "context": {}});
        let answer = self
            .http
            .post(&self.url)
            .json(&body)
            .send()
            .await
            .expect("POST");
        assert!(answer.status().is_success(), "floor: {}", answer.status());
        let parsed: Value =
            serde_json::from_slice(&answer.bytes().await.expect("body")).expect("JSON");
        assert_eq!(parsed["status"], "approved");
        let token = parsed["token"].as_str().expect("a token");
        let (input, signature) = token.rsplit_once('.').expect("a JWS");
        let mut raw = [0u8; 64];
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode_slice(signature, &mut raw)
                .expect("b64"),
            64
        );
        self.key
            .verify_strict(input.as_bytes(), &Signature::from_bytes(&raw))
            .expect("signature verifies");
    }
}

fn median(sorted: &[f64]) -> f64 {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// Runs the section; returns `("mcp_guarded_vs_unguarded", median, min, max)` of the block
/// ratios guarded / floor, and prints a table to stderr.
pub async fn run(quick: bool) -> Vec<(&'static str, f64, f64, f64)> {
    let (blocks, per_block, warmup) = if quick { (6, 20, 20) } else { (30, 100, 200) };
    let vault = MockVault::start().await;
    let guard = ledgix::rmcp::Guard::new().client(&vault.client());
    let guarded = connect(Payments {
        tool_router: guard.router(Payments::tool_router()),
    })
    .await;
    let plain = connect(Payments {
        tool_router: Payments::tool_router(),
    })
    .await;
    let floor = Floor::of(&vault);

    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n
    };
    for _ in 0..warmup {
        tools_call(&guarded, next()).await;
        tools_call(&plain, next()).await;
        floor.call(next()).await;
    }

    let mut ratios = Vec::with_capacity(blocks);
    let (mut guarded_total, mut floor_total) = (Duration::ZERO, Duration::ZERO);
    for block in 0..blocks {
        let (mut g, mut f) = (Duration::ZERO, Duration::ZERO);
        for i in 0..per_block {
            let guarded_first = (block + i) % 2 == 0;
            for side in [guarded_first, !guarded_first] {
                let started = Instant::now();
                if side {
                    tools_call(&guarded, next()).await;
                    g += started.elapsed();
                } else {
                    tools_call(&plain, next()).await;
                    floor.call(next()).await;
                    f += started.elapsed();
                }
            }
        }
        guarded_total += g;
        floor_total += f;
        ratios.push(g.as_secs_f64() / f.as_secs_f64());
    }
    ratios.sort_by(f64::total_cmp);
    let (med, min, max) = (median(&ratios), ratios[0], ratios[ratios.len() - 1]);
    let calls = (blocks * per_block) as f64;
    eprintln!(
        "mcp: guarded tools/call vs unguarded tools/call + Vault floor ({blocks} blocks of {per_block}, in process)"
    );
    eprintln!(
        "  {:<34} {:>10.1} us/call",
        "guarded tools/call",
        guarded_total.as_secs_f64() * 1e6 / calls
    );
    eprintln!(
        "  {:<34} {:>10.1} us/call",
        "unguarded tools/call + floor",
        floor_total.as_secs_f64() * 1e6 / calls
    );
    eprintln!(
        "  {:<34} {:>10.3} (min {min:.3}, max {max:.3})",
        "mcp_guarded_vs_unguarded", med
    );
    let _ = guarded.cancel().await;
    let _ = plain.cancel().await;
    vec![("mcp_guarded_vs_unguarded", med, min, max)]
}
