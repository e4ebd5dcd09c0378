//! `ReviewMode::Detach`: a call the Vault sends to human review does not block. The guarded
//! function returns `Err(Error::ReviewPending(pending))` at once, without running its body; the
//! agent keeps the `PendingApproval` (and its request id), a reviewer decides later, and
//! `pending.run(..)` runs the work under the approved clearance. A second pending call is
//! withdrawn with `pending.cancel()`, after which it can never run.
//!
//! ```sh
//! cargo run --example detach                       # embedded mock Vault
//! LEDGIX_VAULT_URL=https://vault.example.com \
//! LEDGIX_VAULT_API_KEY=... cargo run --example detach   # your Vault (approve the first wire there)
//! ```

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::outcome;
use ledgix::mock::Rule;
use ledgix::{Error, PendingApproval, ReviewMode};

/// Counts how often a wire was actually sent.
static WIRES_SENT: AtomicUsize = AtomicUsize::new(0);

/// Sends a wire once the Vault approves. The mock Vault sends every wire to review; in detach
/// mode that means this returns `Err(Error::ReviewPending(..))` at once, body not run.
#[ledgix::guarded(tool = "wire_transfer", policy = "treasury-dual-control")]
async fn wire_transfer(amount: f64, beneficiary_iban: &str) -> Result<String, Error> {
    execute_wire(amount, beneficiary_iban).await
}

/// The work itself. Run it only under an approved clearance: from the guarded function, or
/// through `PendingApproval::run` with the same arguments that were approved.
async fn execute_wire(amount: f64, beneficiary_iban: &str) -> Result<String, Error> {
    WIRES_SENT.fetch_add(1, Ordering::SeqCst);
    let token = if ledgix::current_token().is_some() {
        "with its token"
    } else {
        "WITHOUT a token"
    };
    let tail = beneficiary_iban
        .get(beneficiary_iban.len().saturating_sub(4)..)
        .unwrap_or("");
    Ok(format!("wire of {amount:.2} EUR to …{tail} sent {token}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();

    // A Vault: yours (LEDGIX_VAULT_URL), or the embedded mock, which sends wires to review.
    let vault = common::vault("detach", [Rule::tool("wire_*").review()]).await?;
    let (base, mock) = (vault.config, vault.mock);
    // Detach: a review returns at once instead of polling until a decision
    // (also `LEDGIX_REVIEW_MODE=detach`).
    let config = base
        .agent_id("treasury-agent")
        .session_id("payouts-7")
        .review_mode(ReviewMode::Detach)
        .build()?;
    let client = ledgix::configure(config)?;

    // 1. The call returns at once; the body did not run.
    let (amount, iban) = (48_000.00, "DE89370400440532013000");
    let asked = Instant::now();
    let pending = match wire_transfer(amount, iban).await {
        Err(Error::ReviewPending(pending)) => pending,
        other => return unexpected("wire_transfer", other),
    };
    // A real agent stores the id (a restarted process re-attaches with
    // `PendingApproval::resume(&client, id)`); keeping `pending` also binds the token to these
    // exact arguments.
    let stored_id = pending.request_id().to_string();
    line(
        "pending",
        &stored_id,
        &format!(
            "returned after {} ms · wires sent {} · request id stored",
            asked.elapsed().as_millis(),
            WIRES_SENT.load(Ordering::SeqCst)
        ),
    );

    // 2. A reviewer decides, through the review decision API (POST /reviews/{id}/decision);
    //    in tests, `MockVault::approve(&id)` does the same.
    if mock.is_some() {
        client
            .submit_review_decision(&stored_id, true, "Verified with the CFO by phone.")
            .await?;
        line(
            "review",
            &stored_id,
            "approved by a reviewer via POST /reviews/{id}/decision",
        );
    } else {
        line(
            "review",
            &stored_id,
            &format!("approve request {stored_id} in your Vault (waiting up to 2 min)…"),
        );
    }

    // 3. Resume: wait for the decision, then run the work under the approved clearance.
    match pending.run(execute_wire(amount, iban)).await {
        Ok(receipt) => line("approved", &stored_id, &format!("pending.run → {receipt}")),
        Err(e) => line(outcome(&e), &stored_id, &e.to_string()),
    }

    // 4. A second wire, withdrawn by the agent before anyone reviews it.
    let (amount, iban) = (1_200_000.00, "GB33BUKB20201555555555");
    let pending: PendingApproval = match wire_transfer(amount, iban).await {
        Err(Error::ReviewPending(pending)) => pending,
        other => return unexpected("wire_transfer", other),
    };
    let second_id = pending.request_id().to_string();
    line(
        "pending",
        &second_id,
        &format!(
            "returned at once · wires sent {}",
            WIRES_SENT.load(Ordering::SeqCst)
        ),
    );
    pending.cancel().await?;
    let status = client.clearance_status(&second_id).await?;
    line(
        "cancelled",
        &second_id,
        &format!(
            "pending.cancel() · the Vault now says {}: {}",
            status.status.as_str(),
            status.reason
        ),
    );
    // Cancelled means denied: resuming it refuses, and the work never runs.
    match pending.run(execute_wire(amount, iban)).await {
        Ok(receipt) => line("approved", &second_id, &format!("UNEXPECTED: {receipt}")),
        Err(e) => {
            let why = match &e {
                Error::Denied(denial) => denial.reason.clone(),
                other => other.to_string(),
            };
            line(
                outcome(&e),
                &second_id,
                &format!(
                    "pending.run refused ({why}) · wires sent {} in all",
                    WIRES_SENT.load(Ordering::SeqCst)
                ),
            );
        }
    }

    println!("\ndone in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Reports a result other than the pending review this example expects, and stops.
fn unexpected(tool: &str, result: Result<String, Error>) -> Result<(), Box<dyn std::error::Error>> {
    match result {
        Ok(receipt) => line(
            "approved",
            "",
            &format!("{tool}: not held for review → {receipt}"),
        ),
        Err(e) => line(outcome(&e), e.request_id().unwrap_or(""), &e.to_string()),
    }
    Err(
        format!("{tool} was not held for review; this example needs a Vault that reviews wires")
            .into(),
    )
}

/// One aligned output line about a wire: outcome, request id, detail.
fn line(outcome: &str, request_id: &str, detail: &str) {
    common::line(outcome, "wire_transfer", request_id, detail);
}
