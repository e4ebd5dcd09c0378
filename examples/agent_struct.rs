//! An agent struct that owns its `ledgix::LedgixClient` and guards its own methods with it:
//! `#[ledgix::guarded(client = self.ledgix.clone(), ..)]` on a `&self` method (approved) and on a
//! `&mut self` method (denied: the body never runs, so the agent's state is unchanged). The
//! methods fail with the agent's own error enum, which wraps `ledgix::Error`.
//!
//! ```sh
//! cargo run --example agent_struct                 # embedded mock Vault
//! LEDGIX_VAULT_URL=https://vault.example.com \
//! LEDGIX_VAULT_API_KEY=... cargo run --example agent_struct   # your Vault
//! ```

mod common;

use std::time::Instant;

use common::line;
use ledgix::mock::Rule;
use ledgix::{ConfigBuilder, LedgixClient};

/// What the agent's tools fail with: a Ledgix refusal, or the agent's own reasons.
#[derive(Debug)]
enum AgentError {
    /// The Vault did not clear the call (denied, unreachable, bad token ...): nothing ran.
    Ledgix(ledgix::Error),
    /// The payment API refused the call after the Vault cleared it.
    Gateway(String),
}

// What `#[ledgix::guarded]` needs: every Ledgix failure converts into the tool's error.
impl From<ledgix::Error> for AgentError {
    fn from(e: ledgix::Error) -> Self {
        AgentError::Ledgix(e)
    }
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Ledgix(e) => write!(f, "{e}"),
            AgentError::Gateway(why) => write!(f, "payment API refused: {why}"),
        }
    }
}

impl std::error::Error for AgentError {}

/// A payments agent: its own Vault client (agent id = its name) and some state.
struct PaymentsAgent {
    ledgix: LedgixClient,
    refunds_issued: u32,
}

/// What a cleared call reports.
struct Cleared {
    request_id: String,
    text: String,
}

impl PaymentsAgent {
    /// Builds the agent with a client of its own, identified to the Vault as `name`.
    fn new(name: &str, vault: ConfigBuilder) -> Result<Self, ledgix::Error> {
        let ledgix = LedgixClient::new(vault.agent_id(name).session_id("checkout-42").build()?)?;
        Ok(PaymentsAgent {
            ledgix,
            refunds_issued: 0,
        })
    }

    /// Charges a card. `&self`: the agent's own client asks the Vault (cloning it is cheap, an
    /// `Arc`; `client = &self.ledgix` works too); `self` is never sent as an argument.
    #[ledgix::guarded(client = self.ledgix.clone(), policy = "payments-prod")]
    async fn create_stripe_payment(
        &self,
        amount: f64,
        currency: &str,
        customer_id: &str,
    ) -> Result<Cleared, AgentError> {
        // A stand-in for the payment API call, which would carry `ledgix::current_token()`.
        if !["USD", "EUR"].contains(&currency) {
            return Err(AgentError::Gateway(format!(
                "unsupported currency {currency}"
            )));
        }
        Ok(Cleared {
            request_id: cleared_request_id(),
            text: format!("charged {amount:.2} {currency} to {customer_id}"),
        })
    }

    /// Refunds a charge and counts it. `&mut self` works the same way; the mock Vault denies
    /// refunds, so this body (and its mutation) never runs.
    #[ledgix::guarded(client = self.ledgix.clone(), policy = "payments-prod")]
    async fn stripe_refund(&mut self, charge_id: &str, amount: f64) -> Result<Cleared, AgentError> {
        self.refunds_issued += 1;
        Ok(Cleared {
            request_id: cleared_request_id(),
            text: format!("refunded {amount:.2} on {charge_id}"),
        })
    }
}

/// The request id of the clearance the current guarded body runs under.
fn cleared_request_id() -> String {
    ledgix::current_clearance()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();

    // A Vault: yours (LEDGIX_VAULT_URL), or the embedded mock, which denies refunds.
    let deny = Rule::tool("stripe_refund").deny("Refunds over $100 need a human approver.");
    let vault = common::vault("agent struct", [deny]).await?; // keep it: dropping stops the mock

    // No `ledgix::configure`: the agent's own client is the one its methods ask.
    let mut agent = PaymentsAgent::new("payments-agent", vault.config)?;

    // Approved: `&self` method.
    match agent.create_stripe_payment(249.99, "USD", "cus_123").await {
        Ok(done) => line(
            "approved",
            "create_stripe_payment",
            &done.request_id,
            &done.text,
        ),
        Err(e) => outcome("create_stripe_payment", &e),
    }

    // Denied: `&mut self` method. The error is the agent's own enum, wrapping the denial.
    match agent.stripe_refund("ch_3Pxyz", 1250.00).await {
        Ok(done) => line("approved", "stripe_refund", &done.request_id, &done.text),
        Err(e) => outcome("stripe_refund", &e),
    }
    line(
        "",
        "",
        "",
        &format!(
            "body did not run: agent.refunds_issued is still {}",
            agent.refunds_issued
        ),
    );

    println!("\ndone in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Prints a refused call: the Vault's refusal (with the message for the LLM), or the agent's own.
fn outcome(tool: &str, e: &AgentError) {
    match e {
        AgentError::Ledgix(inner) => common::refused(tool, inner),
        AgentError::Gateway(_) => line("refused", tool, "", &e.to_string()),
    }
}
