//! The quickstart's tools declared once inside `ledgix::instrument!` and guarded from the
//! repository's `ledgix.json`, the manifest the official TypeScript and Python SDKs read: each
//! `async fn` gets the policy and context of the first rule its name matches, with no attribute
//! in the code. A helper marked `#[ledgix(skip)]` stays unguarded.
//!
//! ```sh
//! cargo run --example instrument                  # embedded mock Vault
//! LEDGIX_VAULT_URL=https://vault.example.com \
//! LEDGIX_VAULT_API_KEY=... cargo run --example instrument   # your Vault
//! ```
//!
//! The manifest (`ledgix.json`, read at compile time; editing it rebuilds the example):
//!
//! ```json
//! {"enforce": [
//!   {"tool": "create_stripe_payment", "policyId": "payments-prod", "context": {"risk_level": "high"}},
//!   {"tool": "stripe*", "policyId": "financial-high-risk", "context": {"risk_level": "high"}},
//!   {"tool": "wire_*", "policy_id": "treasury-dual-control"},
//!   {"tool": "*"}
//! ]}
//! ```

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::line;
use ledgix::mock::{MockVault, Rule};
use ledgix::{ClearanceRequest, Config};

/// Counts how often the refund body ran (the mock Vault denies it, so it stays 0).
static REFUND_BODY_RUNS: AtomicUsize = AtomicUsize::new(0);

ledgix::instrument! {
    /// The agent's tools. None carries an attribute: `ledgix.json` decides how each is guarded.
    mod tools {
        use std::sync::atomic::Ordering;

        /// What a tool reports: the Vault decision that allowed it, and what it did.
        pub struct Receipt {
            pub request_id: String,
            pub policy_signed: String,
            pub text: String,
        }

        /// Rule 0 names it exactly: policy `payments-prod`, context `risk_level: high`. Every
        /// parameter goes to the Vault as `tool_args`, `reasoning` included.
        pub async fn create_stripe_payment(
            amount: f64,
            currency: &str,
            customer_id: &str,
            payment_method_id: &str,
            order_event_id: &str,
            reasoning: &str,
        ) -> Result<Receipt, ledgix::Error> {
            // A real tool calls the payment API here, with `ledgix::current_token()`.
            let eur = amount * fx_rate(currency).await?;
            Ok(receipt(format!(
                "charged {amount:.2} {currency} (≈ {eur:.2} EUR) to {customer_id} \
                 for {order_event_id}"
            )))
        }

        /// Rule 1, `stripe*`: policy `financial-high-risk`, context `risk_level: high`.
        pub async fn stripe_refund(
            charge_id: &str,
            amount: f64,
        ) -> Result<Receipt, ledgix::Error> {
            super::REFUND_BODY_RUNS.fetch_add(1, Ordering::SeqCst);
            Ok(receipt(format!("refunded {amount:.2} on {charge_id}")))
        }

        /// Rule 2, `wire_*` (spelled `policy_id` in the file): policy `treasury-dual-control`.
        pub async fn wire_transfer(
            amount: f64,
            beneficiary_iban: &str,
        ) -> Result<Receipt, ledgix::Error> {
            let tail = beneficiary_iban
                .get(beneficiary_iban.len().saturating_sub(4)..)
                .unwrap_or("");
            Ok(receipt(format!("wire of {amount:.2} EUR to …{tail} sent")))
        }

        /// A local lookup with no side effect. The catch-all `*` rule would guard it too (a
        /// Vault round trip inside every payment); `#[ledgix(skip)]` opts it out.
        #[ledgix(skip)]
        pub async fn fx_rate(currency: &str) -> Result<f64, ledgix::Error> {
            Ok(if currency == "USD" { 0.92 } else { 1.0 })
        }

        /// Not async, so the `*` rule leaves it alone. Called inside a guarded body, it reads
        /// the clearance that body runs under.
        fn receipt(text: String) -> Receipt {
            let request_id = ledgix::current_clearance().map(|c| c.request_id.clone());
            let policy_signed = ledgix::current_claims().map(|c| c.policy_id.clone());
            Receipt {
                request_id: request_id.unwrap_or_default(),
                policy_signed: policy_signed.unwrap_or_default(),
                text,
            }
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();

    // A Vault: yours (LEDGIX_VAULT_URL), or the embedded mock with the quickstart's rules.
    let rules = [
        Rule::tool("stripe_refund").deny("Refunds over $100 need a human approver."),
        Rule::tool("wire_*").review(),
    ];
    let vault = common::vault("instrument!", rules).await?;
    let (base, mock) = (vault.config, vault.mock);
    let config: Config = base
        .agent_id("payments-agent")
        .session_id("checkout-42")
        .build()?;
    // The instrumented tools ask this client (they have no `client = ..` of their own).
    let client = ledgix::configure(config)?;
    let mock = mock.as_ref();

    // Approved (rule 0). Its body calls the skipped helper, which asks nobody.
    let payment = tools::create_stripe_payment(
        249.99,
        "USD",
        "cus_123",
        "pm_123",
        "ord_evt_2048",
        "Customer cus_123 checked out order ord_evt_2048; charge the card on file.",
    )
    .await;
    report("create_stripe_payment", payment, mock, "");

    // The helper on its own: not guarded, no request to the Vault.
    let before = mock.map(clearance_requests);
    let rate = tools::fx_rate("USD").await?;
    let sent = match (before, mock.map(clearance_requests)) {
        (Some(before), Some(after)) => {
            format!("{} clearance requests sent", after.len() - before.len())
        }
        _ => "nothing sent to the Vault".into(),
    };
    line(
        "skipped",
        "fx_rate",
        "",
        &format!("#[ledgix(skip)] · rate {rate} · {sent}"),
    );

    // Denied (rule 1). The body never runs.
    let refund = tools::stripe_refund("ch_3Pxyz", 1250.00).await;
    let runs = REFUND_BODY_RUNS.load(Ordering::SeqCst);
    report(
        "stripe_refund",
        refund,
        mock,
        &format!(" · body ran {runs} times"),
    );

    // Held for review (rule 2): the call waits while a reviewer approves it.
    let reviewer = async {
        let Some(vault) = mock else {
            line(
                "review",
                "wire_transfer",
                "",
                "waiting for a reviewer in your Vault (up to 2 min)…",
            );
            return;
        };
        let request_id = vault.next_pending_review().await;
        line(
            "review",
            "wire_transfer",
            &request_id,
            "pending · a reviewer approves via POST /reviews/{id}/decision",
        );
        if let Err(e) = client
            .submit_review_decision(&request_id, true, "Verified with the CFO by phone.")
            .await
        {
            line("error", "wire_transfer", &request_id, &e.to_string());
        }
    };
    let (wire, ()) = tokio::join!(
        tools::wire_transfer(48_000.00, "DE89370400440532013000"),
        reviewer
    );
    report("wire_transfer", wire, mock, " · after review");

    println!("\ndone in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Prints a call's outcome and the policy it carried: what the client sent, read back from the
/// mock Vault; with your own Vault, the `policy_id` it signed into the token (approved calls).
fn report(
    tool: &str,
    result: Result<tools::Receipt, ledgix::Error>,
    mock: Option<&MockVault>,
    note: &str,
) {
    let sent = mock.and_then(|vault| clearance_requests(vault).pop());
    let carried = |signed: Option<&str>| match &sent {
        Some(request) => describe_policy(request),
        None => format!("policy {}", signed.filter(|p| !p.is_empty()).unwrap_or("-")),
    };
    match result {
        Ok(receipt) => {
            let policy = carried(Some(&receipt.policy_signed));
            line("approved", tool, &receipt.request_id, &policy);
            line("", "", "", &format!("{}{note}", receipt.text));
        }
        Err(ledgix::Error::Denied(denial)) => {
            line("denied", tool, &denial.request_id, &carried(None));
            line("", "", "", &format!("reason: {}{note}", denial.reason));
        }
        Err(e) => {
            line(
                "refused",
                tool,
                e.request_id().unwrap_or(""),
                &carried(None),
            );
            line("", "", "", &e.to_string());
        }
    }
}

/// `policy <id> · context k=v`: the policy and the rule's context a request carried.
fn describe_policy(request: &ClearanceRequest) -> String {
    let mut text = format!("policy {}", request.policy_id().unwrap_or("- (none)"));
    let extra: Vec<String> = request
        .context
        .iter()
        .filter(|(key, _)| key.as_str() != "policy_id")
        .map(|(key, value)| match value.as_str() {
            Some(s) => format!("{key}={s}"),
            None => format!("{key}={value}"),
        })
        .collect();
    if !extra.is_empty() {
        text.push_str(&format!(" · context {}", extra.join(", ")));
    }
    text
}

/// The clearance requests the mock Vault received, oldest first, as the client sent them.
fn clearance_requests(vault: &MockVault) -> Vec<ClearanceRequest> {
    vault
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/request-clearance")
        // The client sent these bodies itself; one that does not parse is simply not listed.
        .filter_map(|r| serde_json::from_value(r.body).ok())
        .collect()
}
