//! The whole flow in one run: a payment approved with a token that a gateway verifies, a refund
//! denied (its body never runs), a wire transfer held for review and approved by a reviewer,
//! and the payment proven from the ledger offline.
//!
//! ```sh
//! cargo run --example quickstart                  # embedded mock Vault
//! LEDGIX_VAULT_URL=https://vault.example.com \
//! LEDGIX_VAULT_API_KEY=... cargo run --example quickstart   # your Vault
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use ledgix::ledger::{TrustedKeys, verify_proof_bundle};
use ledgix::mock::{MockVault, Rule};
use ledgix::{Config, ConfigBuilder, LedgixClient, TokenVerifier};
use serde_json::{Value, json};

/// What our tools fail with: a Ledgix refusal, or the payment gateway's.
#[derive(Debug)]
enum ToolError {
    Ledgix(ledgix::Error),
    Gateway(String),
}

impl From<ledgix::Error> for ToolError {
    fn from(e: ledgix::Error) -> Self {
        ToolError::Ledgix(e)
    }
}

impl std::fmt::Display for ToolError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ToolError::Ledgix(e) => write!(f, "{e}"),
            ToolError::Gateway(e) => write!(f, "gateway refused: {e}"),
        }
    }
}

/// Counts how often the refund body ran (it must stay 0).
static REFUND_BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

/// Charges a card. Runs only once the Vault approved and its A-JWT verified; the token travels
/// on to the payment gateway as `Authorization: Bearer`.
#[ledgix::guarded(policy = "payments-prod", skip(gateway))]
async fn create_stripe_payment(
    amount: f64,
    currency: &str,
    customer_id: &str,
    payment_method_id: &str,
    order_event_id: &str,
    reasoning: &str,
    gateway: &Gateway,
) -> Result<Payment, ToolError> {
    let clearance = ledgix::current_clearance().expect("a guarded body always has its clearance");
    let token = ledgix::current_token().expect("a guarded body always has its token");
    // The gateway checks the token against exactly the arguments it receives.
    let args = json!({
        "amount": amount, "currency": currency, "customer_id": customer_id,
        "payment_method_id": payment_method_id, "order_event_id": order_event_id,
        "reasoning": reasoning,
    });
    let id = gateway.charge(&token, &args).await?;
    Ok(Payment {
        id,
        request_id: clearance.request_id.clone(),
        confidence: match (clearance.confidence, &clearance.confidence_bucket) {
            (Some(x), Some(b)) => format!("{x:.2} ({})", b.as_str()),
            (Some(x), None) => format!("{x:.2}"),
            (None, Some(b)) => b.as_str().to_string(),
            (None, None) => "n/a".into(),
        },
        token: format!("{}…{}", &token[..12], &token[token.len() - 6..]),
    })
}

/// What the payment body reports.
struct Payment {
    id: String,
    request_id: String,
    confidence: String,
    token: String,
}

/// Refunds a charge. The mock Vault's rules deny it, so this body never runs.
#[ledgix::guarded(policy = "payments-prod")]
async fn stripe_refund(charge_id: &str, amount: f64) -> Result<String, ToolError> {
    REFUND_BODY_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(format!("re_{charge_id}_{amount}"))
}

/// Sends a wire. The Vault holds it for a human reviewer; the body runs once approved.
#[ledgix::guarded(tool = "wire_transfer", policy = "treasury-dual-control")]
async fn send_wire(amount: f64, beneficiary_iban: &str) -> Result<(String, String), ToolError> {
    let clearance = ledgix::current_clearance().expect("a guarded body always has its clearance");
    let iban_tail = &beneficiary_iban[beneficiary_iban.len().saturating_sub(4)..];
    Ok((
        clearance.request_id.clone(),
        format!("wire of {amount:.2} EUR to …{iban_tail} sent"),
    ))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();

    // 1. A Vault: yours (LEDGIX_VAULT_URL), or the embedded mock with the demo's rules.
    let external = std::env::var("LEDGIX_VAULT_URL").is_ok_and(|v| !v.is_empty());
    let mock = if external {
        None
    } else {
        Some(
            MockVault::builder()
                .rule(Rule::tool("stripe_refund").deny("Refunds over $100 need a human approver."))
                .rule(Rule::tool("wire_*").review())
                .start()
                .await,
        )
    };
    let base: ConfigBuilder = match &mock {
        Some(vault) => {
            println!(
                "Ledgix quickstart · embedded mock Vault at {} (set LEDGIX_VAULT_URL to use yours)\n",
                vault.url()
            );
            vault.config().to_builder()
        }
        None => {
            let builder = ConfigBuilder::from_env()?;
            let config = builder.clone().build()?;
            println!("Ledgix quickstart · your Vault at {}\n", config.vault_url());
            builder.review_timeout(Duration::from_secs(120))
        }
    };
    let config: Config = base
        .agent_id("payments-agent")
        .session_id("checkout-42")
        .build()?;
    let client: LedgixClient = ledgix::configure(config)?;

    // 2. A payment gateway that trusts only tokens from this Vault.
    let verifier =
        TokenVerifier::from_key_set(client.fetch_jwks().await?, "alcv-vault", "ledgix-sdk");
    let gateway = Gateway::start(verifier).await;

    // 3. Approved: the body runs with the token, the gateway verifies it.
    let reasoning = "Customer cus_123 checked out order ord_evt_2048; charge the card on file.";
    let payment = create_stripe_payment(
        249.99,
        "USD",
        "cus_123",
        "pm_123",
        "ord_evt_2048",
        reasoning,
        &gateway,
    )
    .await;
    let payment_request = match payment {
        Ok(p) => {
            line(
                "approved",
                "create_stripe_payment",
                &p.request_id,
                &format!("confidence {} · token {}", p.confidence, p.token),
            );
            line(
                "",
                "",
                "",
                &format!(
                    "gateway verified the token, bound to these arguments → {}",
                    p.id
                ),
            );
            Some(p.request_id)
        }
        Err(e) => {
            line(
                "refused",
                "create_stripe_payment",
                e_request_id(&e),
                &e.to_string(),
            );
            None
        }
    };

    // 4. Denied: the body never runs; the error says why, and what to tell the model.
    match stripe_refund("ch_3Pxyz", 1250.00).await {
        Err(ToolError::Ledgix(e)) if e.is_denied() => {
            let ledgix::Error::Denied(denial) = &e else {
                unreachable!()
            };
            line(
                "denied",
                "stripe_refund",
                &denial.request_id,
                &format!("reason: {}", denial.reason),
            );
            line(
                "",
                "",
                "",
                &format!(
                    "body ran {} times · tool_message() for the model:",
                    REFUND_BODY_RUNS.load(Ordering::SeqCst)
                ),
            );
            for text in wrap(&e.tool_message(), 64) {
                line("", "", "", &format!("  │ {text}"));
            }
        }
        Ok(receipt) => line(
            "approved",
            "stripe_refund",
            "-",
            &format!("(your Vault approved it) → {receipt}"),
        ),
        Err(e) => line("refused", "stripe_refund", e_request_id(&e), &e.to_string()),
    }

    // 5. Review: the call waits while a reviewer approves through the review decision API.
    let reviewer = async {
        let Some(vault) = &mock else {
            println!(
                "  {:<9} {:<22} waiting for a reviewer in your Vault (up to 2 min)…",
                "review", "wire_transfer"
            );
            return;
        };
        let request_id = vault.next_pending_review().await;
        line(
            "review",
            "wire_transfer",
            &request_id,
            "pending · reviewer approves via POST /reviews/{id}/decision",
        );
        if let Err(e) = client
            .submit_review_decision(&request_id, true, "Verified with the CFO by phone.")
            .await
        {
            line("error", "wire_transfer", &request_id, &e.to_string());
        }
    };
    let (wire, ()) = tokio::join!(send_wire(48_000.00, "DE89370400440532013000"), reviewer);
    match wire {
        Ok((request_id, receipt)) => line(
            "approved",
            "wire_transfer",
            &request_id,
            &format!("after review · body ran → {receipt}"),
        ),
        Err(e) => line("refused", "wire_transfer", e_request_id(&e), &e.to_string()),
    }

    // 6. Proof: the payment's decision, proven from the ledger offline.
    if let Some(request_id) = payment_request {
        if let Some(vault) = &mock {
            vault.seal().await; // the real Vault seals on its own schedule
        }
        let bundle = client
            .wait_for_ledger_proof_bundle(&request_id, Duration::from_secs(60))
            .await?;
        // Offline: nothing but the bundle and the keys we already trust.
        let trusted = TrustedKeys::from_key_set(client.fetch_jwks().await?);
        match verify_proof_bundle(&bundle, &trusted) {
            Ok(v) => {
                line(
                    "ledger",
                    "create_stripe_payment",
                    &request_id,
                    &format!(
                        "leaf {} of {} · checkpoint {} · root {}… · verified{}",
                        v.leaf_index,
                        v.tree_size,
                        v.checkpoint_id,
                        &v.root_hash[..12],
                        if v.event_body_verified {
                            " (event body, receipt, inclusion, checkpoint)"
                        } else {
                            " (redacted body)"
                        }
                    ),
                );
            }
            Err(e) => line(
                "ledger",
                "create_stripe_payment",
                &request_id,
                &format!("NOT verified: {e}"),
            ),
        }
    }

    println!("\ndone in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// One aligned output line: outcome, tool, request id, detail.
fn line(outcome: &str, tool: &str, request_id: &str, detail: &str) {
    let rid = if request_id.is_empty() {
        String::new()
    } else {
        format!("request_id {}", short(request_id))
    };
    println!("  {outcome:<9} {tool:<22} {rid:<22} {detail}");
}

/// Splits `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let current = lines.last_mut().expect("never empty");
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    lines
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn e_request_id(e: &ToolError) -> &str {
    match e {
        ToolError::Ledgix(e) => e.request_id().unwrap_or("-"),
        ToolError::Gateway(_) => "-",
    }
}

/// A stand-in for a payment API: it accepts a charge only with a valid A-JWT bound to the
/// charge's exact arguments.
struct Gateway {
    url: String,
    http: reqwest::Client,
}

impl Gateway {
    async fn start(verifier: TokenVerifier) -> Gateway {
        let app = axum::Router::new()
            .route("/v1/payments", post(charge))
            .with_state(verifier);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the gateway");
        let url = format!("http://{}", listener.local_addr().expect("gateway address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Gateway {
            url,
            http: reqwest::Client::new(),
        }
    }

    async fn charge(&self, token: &str, args: &Value) -> Result<String, ToolError> {
        let resp = self
            .http
            .post(format!("{}/v1/payments", self.url))
            .bearer_auth(token)
            .json(args)
            .send()
            .await
            .map_err(|e| ToolError::Gateway(e.to_string()))?;
        let status = resp.status();
        let body: Value = resp
            .json()
            .await
            .map_err(|e| ToolError::Gateway(e.to_string()))?;
        if status.is_success() {
            Ok(body["id"].as_str().unwrap_or_default().to_string())
        } else {
            Err(ToolError::Gateway(
                body["error"].as_str().unwrap_or_default().to_string(),
            ))
        }
    }
}

async fn charge(
    State(verifier): State<TokenVerifier>,
    headers: HeaderMap,
    Json(args): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let Some(args) = args.as_object() else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "body must be a JSON object"})),
        );
    };
    match verifier.verify_bound(token, "create_stripe_payment", args) {
        Ok(claims) => (
            StatusCode::OK,
            Json(json!({"id": format!("pay_{}", short(&claims.jti))})),
        ),
        Err(e) => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": e.to_string()})),
        ),
    }
}
