//! The denied path, the test to copy into your own crate: a guarded tool, a mock Vault rule
//! that denies it, and the two things to assert — the body never ran, and the error is a
//! denial with the Vault's reason. Rename the tool and the rule; keep the assertions.

use std::sync::atomic::{AtomicBool, Ordering};

use ledgix::mock::{MockVault, Rule};

static REFUND_RAN: AtomicBool = AtomicBool::new(false);

#[ledgix::guarded]
async fn stripe_refund(charge_id: &str, amount: f64) -> Result<String, ledgix::Error> {
    REFUND_RAN.store(true, Ordering::SeqCst);
    Ok(format!("refunded {amount} on {charge_id}"))
}

#[tokio::test]
async fn a_denied_refund_never_runs() {
    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("Refunds over $100 need a human approver."))
        .start()
        .await;
    let result = vault.scope(stripe_refund("ch_123", 1250.0)).await;
    let Err(ledgix::Error::Denied(denial)) = result else {
        panic!("expected a denial, got {result:?}");
    };
    assert_eq!(denial.reason, "Refunds over $100 need a human approver.");
    assert!(!REFUND_RAN.load(Ordering::SeqCst), "the body must not run");
}
