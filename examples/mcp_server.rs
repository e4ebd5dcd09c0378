//! An MCP server on stdio whose three tools ask the Ledgix Vault before they run.
//!
//! `create_stripe_payment`, `stripe_refund` and `lookup_customer` are ordinary rmcp `#[tool]`
//! methods; `ledgix::rmcp::guard_router` wraps the router, so every `tools/call` asks the Vault
//! with the MCP tool name and the exact arguments, and a denial comes back to the model as a
//! tool result with `isError: true` that says why and gives the request_id.
//!
//! ```sh
//! cargo run --example mcp_server --features rmcp,mock        # embedded mock Vault:
//!                                                            # stripe_refund denied, the rest approved
//! LEDGIX_VAULT_URL=https://vault.example.com LEDGIX_VAULT_API_KEY=... \
//!     cargo run --example mcp_server --features rmcp,mock    # your Vault
//! ```
//!
//! stdout is the MCP protocol; logs go to stderr (`RUST_LOG=debug` for more). Policies come
//! from the manifest `LEDGIX_MANIFEST` names, else from the one below.

use ledgix::mock::{MockVault, Rule};
use ledgix::{LedgixClient, Manifest};
use rmcp::handler::server::{tool::ToolRouter, wrapper::Parameters};
use rmcp::transport::stdio;
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde_json::json;

/// The tools' argument types, `Payment`, `Refund` and `Lookup` (in `examples/common/`, shared
/// with the tests and the bench): their field docs are the input schema the MCP peer sees.
#[path = "common/payment_args.rs"]
mod payment_args;
use payment_args::{Lookup, Payment, Refund};

/// Policy and context per tool, when `LEDGIX_MANIFEST` names no file.
const MANIFEST: &str = r#"{"enforce": [
    {"tool": "create_stripe_payment", "policyId": "payments-prod", "context": {"risk_level": "high"}},
    {"tool": "stripe_*", "policyId": "financial-high-risk", "context": {"risk_level": "high"}},
    {"tool": "lookup_*", "policyId": "customer-data", "context": {"risk_level": "low"}}
]}"#;

#[derive(Clone)]
struct Payments {
    /// The guarded router: `#[tool_handler(router = self.tool_router)]` routes through it.
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Payments {
    fn new(client: &LedgixClient, manifest: Manifest) -> Self {
        let guard = ledgix::rmcp::Guard::new().client(client).manifest(manifest);
        Payments {
            tool_router: guard.router(Self::tool_router()),
        }
    }

    #[tool(description = "Charge a Stripe customer")]
    async fn create_stripe_payment(&self, Parameters(p): Parameters<Payment>) -> String {
        json!({
            "payment_id": format!("pi_{}", cleared_by()),
            "status": "succeeded",
            "amount": p.amount,
            "currency": p.currency,
            "customer_id": p.customer_id,
        })
        .to_string()
    }

    #[tool(description = "Refund a Stripe charge")]
    async fn stripe_refund(&self, Parameters(r): Parameters<Refund>) -> String {
        json!({
            "refund_id": format!("re_{}", cleared_by()),
            "status": "succeeded",
            "charge_id": r.charge_id,
            "amount": r.amount,
        })
        .to_string()
    }

    #[tool(description = "Look up a Stripe customer")]
    async fn lookup_customer(&self, Parameters(l): Parameters<Lookup>) -> String {
        json!({
            "customer_id": l.customer_id,
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "cleared_by": cleared_by(),
        })
        .to_string()
    }
}

#[tool_handler(router = self.tool_router, name = "ledgix-payments-example")]
impl ServerHandler for Payments {}

/// The id (`jti`) of the A-JWT this tool call runs under: every tool body runs inside its
/// clearance.
fn cleared_by() -> String {
    ledgix::current_claims()
        .map(|claims| claims.jti.clone())
        .unwrap_or_else(|| "not-cleared".into())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let manifest = match std::env::var_os("LEDGIX_MANIFEST") {
        Some(_) => Manifest::from_env()?,
        None => Manifest::from_json(MANIFEST)?,
    };
    // The embedded mock Vault lives as long as `_vault`.
    let (client, _vault) = match std::env::var("LEDGIX_VAULT_URL") {
        Ok(url) if !url.is_empty() => {
            tracing::info!(%url, "asking the Vault at LEDGIX_VAULT_URL");
            (LedgixClient::from_env()?, None)
        }
        _ => {
            let vault =
                MockVault::builder()
                    .rule(Rule::tool("stripe_refund").deny(
                        "refunds are not issued by agents; a human issues them in the dashboard",
                    ))
                    .start()
                    .await;
            tracing::info!(
                url = %vault.url(),
                "LEDGIX_VAULT_URL not set: embedded mock Vault (stripe_refund denied, the rest approved)"
            );
            (vault.client(), Some(vault))
        }
    };

    let server = Payments::new(&client, manifest).serve(stdio()).await?;
    server.waiting().await?;
    Ok(())
}
