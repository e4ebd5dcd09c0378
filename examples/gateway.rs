//! The protected side: a payment API behind `GatewayLayer` accepts a call only with the Vault's
//! A-JWT for exactly that call, once.
//!
//! ```sh
//! cargo run --example gateway             # embedded mock Vault
//! LEDGIX_VAULT_URL=https://vault.example.com LEDGIX_VAULT_API_KEY=... \
//!     cargo run --example gateway         # your Vault
//! ```

use axum::extract::Json;
use axum::http::HeaderMap;
use axum::routing::post;
use ledgix::gateway::{Cleared, Gateway};
use ledgix::mock::{MockVault, Rule};
use serde_json::{Value, json};

/// The payment API's handler: it runs only for requests the gateway passed.
async fn pay(Cleared(claims): Cleared, headers: HeaderMap, Json(args): Json<Value>) -> Json<Value> {
    let agent = headers["x-ledgix-agent-id"].to_str().unwrap_or("?");
    let id = claims.jti.get(..8).unwrap_or(&claims.jti);
    Json(json!({"id": format!("pay_{id}"), "amount": args["amount"], "agent": agent}))
}

/// The agent's side of the API: POST the arguments with the current token as Bearer.
#[derive(Clone)]
struct PaymentApi {
    url: String,
    http: reqwest::Client,
}

impl PaymentApi {
    async fn post(&self, token: &str, args: &Value) -> anyhow::Result<(u16, Value)> {
        let resp = self
            .http
            .post(&self.url)
            .bearer_auth(token)
            .json(args)
            .send()
            .await?;
        Ok((resp.status().as_u16(), resp.json().await?))
    }
}

/// A guarded tool: the Vault clears it, then its body calls the API with the token. It first
/// tries a tampered body (100× the amount), then the real one; it hands back the token.
#[ledgix::guarded(policy = "payments-prod", skip(api))]
async fn create_payment(
    amount: u64,
    currency: &str,
    customer: &str,
    api: &PaymentApi,
) -> anyhow::Result<String> {
    let token = ledgix::current_token().expect("a guarded body has its token");
    let tampered = json!({"amount": amount * 100, "currency": currency, "customer": customer});
    show(
        "tampered",
        "create_payment",
        api.post(&token, &tampered).await?,
    );
    let args = json!({"amount": amount, "currency": currency, "customer": customer});
    show("approved", "create_payment", api.post(&token, &args).await?);
    Ok(token)
}

/// Approved by the Vault, but the payment API accepts only `create_payment` tokens.
#[ledgix::guarded(skip(api))]
async fn capture_payment(amount: u64, api: &PaymentApi) -> anyhow::Result<()> {
    let token = ledgix::current_token().expect("a guarded body has its token");
    show(
        "other tool",
        "capture_payment",
        api.post(&token, &json!({"amount": amount})).await?,
    );
    Ok(())
}

/// Denied by the Vault: the body (and so the API call) never runs.
#[ledgix::guarded(skip(api))]
async fn stripe_refund(amount: u64, api: &PaymentApi) -> anyhow::Result<()> {
    let token = ledgix::current_token().expect("a guarded body has its token");
    api.post(&token, &json!({"amount": amount})).await?;
    unreachable!("the Vault denies refunds in this demo")
}

fn show(outcome: &str, tool: &str, (status, body): (u16, Value)) {
    let detail = match body["error"].as_str() {
        Some(code) => format!("{code}: {}", body["message"].as_str().unwrap_or_default()),
        None => body.to_string(),
    };
    println!("  {outcome:<11} {tool:<16} HTTP {status} {detail}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. A Vault: yours (LEDGIX_VAULT_URL), or the embedded mock, which denies refunds.
    let mock = match std::env::var("LEDGIX_VAULT_URL") {
        Ok(url) if !url.is_empty() => None,
        _ => Some(
            MockVault::builder()
                .rule(Rule::tool("stripe_refund").deny("Refunds need a human."))
                .start()
                .await,
        ),
    };
    let config = match &mock {
        Some(vault) => vault.config().to_builder(),
        None => ledgix::ConfigBuilder::from_env()?,
    }
    .agent_id("payments-agent")
    .build()?;
    let jwks_url = format!("{}/.well-known/jwks.json", config.vault_url());
    println!("Ledgix gateway demo · Vault at {}\n", config.vault_url());
    ledgix::configure(config)?;

    // 2. The payment API, behind the gateway: the Vault's keys, one tool, the body bound.
    let gateway = Gateway::builder()
        .jwks_url(jwks_url)
        .tool("create_payment")
        .build()?;
    let app = axum::Router::new()
        .route("/v1/payments", post(pay))
        .layer(gateway.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/payments", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let api = PaymentApi {
        url,
        http: reqwest::Client::builder().no_proxy().build()?,
    };

    // 3. Approved: the tampered body is refused, the real one passes.
    let token = create_payment(1000, "usd", "cus_123", &api).await?;
    // 4. The same token again: refused, it passed once already.
    let args = json!({"amount": 1000, "currency": "usd", "customer": "cus_123"});
    show("replayed", "create_payment", api.post(&token, &args).await?);
    // 5. A token for another tool: refused by the API's gateway.
    capture_payment(5, &api).await?;
    // 6. A tool the Vault denies: no token, the API is never called.
    if let Err(e) = stripe_refund(4500, &api).await {
        println!("  {:<11} {:<16} {e}", "denied", "stripe_refund");
    }
    Ok(())
}
