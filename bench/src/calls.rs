//! The guarded tools the benchmarks call, and the constants of every call.

use ledgix::LedgixClient;

/// The tool every latency, throughput and CPU call clears.
pub const TOOL: &str = "refund";
/// The agent id of every call.
pub const AGENT: &str = "bench-agent";
/// The `currency` argument of every call.
pub const CURRENCY: &str = "usd";
/// The `charge_id` argument of every call.
pub const CHARGE: &str = "ch_3PxyzBench";

/// The guarded tool (tool name = function name), resolving its client from the scope or the
/// process default. The body reports whether the token is in scope.
#[ledgix::guarded]
pub async fn refund(amount: u64, currency: &str, charge_id: &str) -> Result<bool, ledgix::Error> {
    Ok(ledgix::current_token().is_some())
}

/// The same tool, asking `client`.
#[ledgix::guarded(tool = "refund", client = client, skip(client))]
pub async fn refund_with(
    client: &LedgixClient,
    amount: u64,
    currency: &str,
    charge_id: &str,
) -> Result<bool, ledgix::Error> {
    Ok(ledgix::current_token().is_some())
}

/// A guarded `refund` whose body returns the request id it was cleared under.
#[ledgix::guarded(tool = "refund", client = client, skip(client))]
pub async fn refund_request_id(
    client: &LedgixClient,
    amount: u64,
) -> Result<Option<String>, ledgix::Error> {
    Ok(ledgix::current_clearance().map(|c| c.request_id.clone()))
}

/// A guarded tool a [`ChildVault`](crate::child::ChildVault) sends to review, asking `client`.
#[ledgix::guarded(client = client, skip(client))]
pub async fn held_refund(client: &LedgixClient, n: u64) -> Result<bool, ledgix::Error> {
    Ok(ledgix::current_token().is_some())
}

/// One guarded call (client from the scope or the default) that must run its body with the
/// token in scope.
pub async fn guard_call(n: u64) -> crate::R<()> {
    if refund(n, CURRENCY, CHARGE).await? {
        Ok(())
    } else {
        Err("the guarded body ran without a token in scope".into())
    }
}

/// [`guard_call`] asking `client`.
pub async fn guard_call_with(client: &LedgixClient, n: u64) -> crate::R<()> {
    if refund_with(client, n, CURRENCY, CHARGE).await? {
        Ok(())
    } else {
        Err("the guarded body ran without a token in scope".into())
    }
}
