//! The whole flow in one run: a payment approved with a token that a downstream gateway
//! verifies, a refund denied (its body never runs), a wire transfer held for review and approved
//! by a reviewer, and the payment proven from the ledger offline.
//!
//! ```sh
//! cargo run --example quickstart                  # embedded mock Vault
//! LEDGIX_VAULT_URL=https://vault.example.com \
//! LEDGIX_VAULT_API_KEY=... cargo run --example quickstart   # your Vault
//! ```

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{line, more};
use ledgix::Error;
use ledgix::ledger::{TrustedKeys, verify_proof_bundle};
use ledgix::mock::Rule;
use serde_json::{Value, json};

/// Charges a card. Runs only once the Vault approved and its A-JWT verified; the token travels
/// on to the payment gateway, which checks it against exactly the arguments it receives.
/// Any error type with `From<ledgix::Error>` works, `anyhow::Error` included.
#[ledgix::guarded(policy = "payments-prod", skip(gateway))]
async fn create_stripe_payment(
    amount: f64,
    currency: &str,
    customer_id: &str,
    gateway: &str,
) -> anyhow::Result<(String, String)> {
    // The request id of this call, to find its decision in the ledger later.
    let request_id = ledgix::current_clearance().map(|c| c.request_id.clone());
    let token = ledgix::current_token().expect("a guarded body always has its token");
    let args = json!({"amount": amount, "currency": currency, "customer_id": customer_id});
    let request = reqwest::Client::new().post(gateway).bearer_auth(token);
    let answer: Value = request.json(&args).send().await?.json().await?;
    match answer["id"].as_str() {
        Some(id) => Ok((request_id.unwrap_or_default(), id.to_string())),
        None => anyhow::bail!(
            "gateway refused: {}: {}",
            answer["error"],
            answer["message"]
        ),
    }
}

/// Counts how often the refund body ran (it must stay 0).
static REFUND_BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Refunds a charge. The mock Vault's rules deny it, so this body never runs.
#[ledgix::guarded(policy = "payments-prod")]
async fn stripe_refund(charge_id: &str, amount: f64) -> Result<String, Error> {
    REFUND_BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(format!("(your Vault approved it) re_{charge_id}_{amount}"))
}

/// Sends a wire. The Vault holds it for a human reviewer; the body runs once approved.
#[ledgix::guarded(tool = "wire_transfer", policy = "treasury-dual-control")]
async fn send_wire(amount: f64, iban: &str) -> Result<String, Error> {
    let tail = &iban[iban.len() - 4..];
    Ok(format!("wire of {amount:.2} EUR to …{tail} sent"))
}

const PAY: &str = "create_stripe_payment";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // 1. A Vault (yours, or the embedded mock with these rules) and the default client.
    let rules = [
        Rule::tool("stripe_refund").deny("Refunds over $100 need a human approver."),
        Rule::tool("wire_*").review(),
    ];
    let vault = common::vault("quickstart", rules).await?;
    let client = ledgix::configure(vault.config.agent_id("payments-agent").build()?)?;
    let gateway = start_gateway(client.fetch_jwks().await?).await?;

    // 2. Approved: the body runs with the token, the gateway verifies it.
    let paid = match create_stripe_payment(249.99, "USD", "cus_123", &gateway).await {
        Ok((request_id, payment)) => {
            line("approved", PAY, &request_id, "body ran with the token");
            more(&format!("the gateway verified it → {payment}"));
            Some(request_id)
        }
        // From `anyhow::Error` back to `ledgix::Error` (`is_denied()`, `request_id()`, ..).
        Err(e) => {
            match e.downcast_ref::<Error>() {
                Some(refusal) => common::refused(PAY, refusal),
                None => line("refused", PAY, "", &format!("{e:#}")),
            }
            None
        }
    };

    // 3. Denied: the body never runs; the error says why, and what to tell the model.
    match stripe_refund("ch_3Pxyz", 1250.00).await {
        Ok(receipt) => line("approved", "stripe_refund", "", &receipt),
        Err(e) => common::refused("stripe_refund", &e),
    }
    let runs = REFUND_BODY_RUNS.load(Ordering::SeqCst);
    more(&format!("body ran {runs} times"));

    // 4. Review: the call waits while a reviewer decides through the review decision API
    //    (POST /reviews/{id}/decision with {"approved": true, "review_reason": ".."}).
    let reviewer = async {
        let Some(mock) = &vault.mock else {
            return line("review", "wire_transfer", "", "approve it in your Vault…");
        };
        let id = mock.next_pending_review().await;
        line("review", "wire_transfer", &id, "held for a reviewer");
        let approve = client.submit_review_decision(&id, true, "Verified with the CFO by phone.");
        if let Err(e) = approve.await {
            common::refused("wire_transfer", &e);
        }
    };
    match tokio::join!(send_wire(48_000.00, "DE89370400440532013000"), reviewer).0 {
        Ok(receipt) => line("approved", "wire_transfer", "", &receipt),
        Err(e) => common::refused("wire_transfer", &e),
    }

    // 5. Proof: the payment's decision, proven from the ledger offline.
    let Some(request_id) = paid else {
        return Ok(());
    };
    if let Some(mock) = &vault.mock {
        mock.seal().await; // the real Vault seals on its own schedule
    }
    let bundle = client.wait_for_ledger_proof_bundle(&request_id, Duration::from_secs(60));
    // Pin the ledger keys out of band (your Vault's operator publishes them). Keys fetched from
    // the Vault being checked only prove that its ledger agrees with what it says today.
    let trusted = match &vault.mock {
        Some(mock) => TrustedKeys::from_jwks_json(&mock.trusted_keys_json())?,
        None => TrustedKeys::from_key_set(client.fetch_jwks().await?),
    };
    let v = verify_proof_bundle(&bundle.await?, &trusted)?;
    let at = format!("leaf {} of {}", v.leaf_index, v.tree_size);
    line("ledger", PAY, &request_id, &format!("{at} · verified"));
    Ok(())
}

/// Downstream, the payment API behind `ledgix::gateway`: it takes a charge only with a valid
/// A-JWT of the Vault's `keys` for this tool, bound to the charge's exact JSON body and used
/// once (401/403 and a JSON reason otherwise; the handler never runs). Returns its URL.
async fn start_gateway(keys: ledgix::KeySet) -> anyhow::Result<String> {
    use axum::{Json, routing::post};
    use ledgix::gateway::{Cleared, Gateway};
    let gateway = Gateway::builder().trusted_keys(keys).tool(PAY).build()?;
    let charge = |Cleared(claims): Cleared| async move { Json(json!({"id": claims.jti})) };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/v1/payments", listener.local_addr()?);
    let app = axum::Router::new()
        .route("/v1/payments", post(charge))
        .layer(gateway.layer());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}
