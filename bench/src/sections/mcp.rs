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

use ledgix::mock::MockVault;
use ledgix_bench::floor::Floor;
use ledgix_bench::stats::{Side, Spread, pair_order};
use rmcp::handler::server::{tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{CallToolRequestParams, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::{ClientHandler, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde_json::{Map, Value, json};

const TOOL: &str = "create_stripe_payment";

/// The example server's argument types.
#[path = "../../../examples/common/payment_args.rs"]
#[allow(dead_code)]
mod payment_args;
use payment_args::Payment;

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
    let floor = Floor::of_mock(&vault).expect("the floor's token key");

    let mut n = 0u64;
    let mut next = || {
        n += 1;
        n
    };
    for _ in 0..warmup {
        tools_call(&guarded, next()).await;
        tools_call(&plain, next()).await;
        floor.call(next()).await.expect("floor call");
    }

    let mut ratios = Vec::with_capacity(blocks);
    let (mut guarded_total, mut floor_total) = (Duration::ZERO, Duration::ZERO);
    for block in 0..blocks {
        let (mut g, mut f) = (Duration::ZERO, Duration::ZERO);
        for i in 0..per_block {
            for side in pair_order(block + i) {
                let started = Instant::now();
                if side == Side::A {
                    tools_call(&guarded, next()).await;
                    g += started.elapsed();
                } else {
                    tools_call(&plain, next()).await;
                    floor.call(next()).await.expect("floor call");
                    f += started.elapsed();
                }
            }
        }
        guarded_total += g;
        floor_total += f;
        ratios.push(g.as_secs_f64() / f.as_secs_f64());
    }
    let Spread {
        median: med,
        min,
        max,
    } = Spread::of(&ratios);
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
