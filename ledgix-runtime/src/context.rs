//! The clearance of the running guarded call, held in tokio task-locals.
//!
//! Inside a guarded body, [`current_token()`] is the A-JWT that cleared it; outside, `None`.
//! A nested guarded call shadows the outer clearance and restores it when it ends. Task-locals
//! do not cross `tokio::spawn`: wrap the spawned future in [`propagate`] to carry them.

use std::future::Future;
use std::sync::Arc;

use crate::client::LedgixClient;
use crate::protocol::ClearanceResponse;
use crate::token::TokenClaims;

/// The clearance a guarded body runs under.
#[derive(Debug, Clone)]
pub(crate) struct ActiveClearance {
    pub(crate) response: Arc<ClearanceResponse>,
    pub(crate) claims: Arc<TokenClaims>,
}

tokio::task_local! {
    static CLEARANCE: Option<ActiveClearance>;
    static CLIENT: Option<LedgixClient>;
}

/// The A-JWT of the guarded call running in this task, if any.
pub fn current_token() -> Option<String> {
    CLEARANCE
        .try_with(|c| c.as_ref().and_then(|c| c.response.token.clone()))
        .ok()
        .flatten()
}

/// The Vault's whole answer for the guarded call running in this task, if any.
pub fn current_clearance() -> Option<Arc<ClearanceResponse>> {
    CLEARANCE
        .try_with(|c| c.as_ref().map(|c| c.response.clone()))
        .ok()
        .flatten()
}

/// The verified claims of the current A-JWT, if any.
pub fn current_claims() -> Option<Arc<TokenClaims>> {
    CLEARANCE
        .try_with(|c| c.as_ref().map(|c| c.claims.clone()))
        .ok()
        .flatten()
}

/// Carries this task's clearance and client override into a future that will run elsewhere,
/// typically `tokio::spawn(ledgix::propagate(fut))`.
pub fn propagate<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let clearance = CLEARANCE.try_with(Clone::clone).ok().flatten();
    let client = scoped_client();
    CLIENT.scope(client, CLEARANCE.scope(clearance, fut))
}

/// Runs `fut` with `client` as the client of every guarded call inside it (the highest
/// priority in client resolution; `MockVault::scope` uses it).
pub async fn with_client<F: Future>(client: LedgixClient, fut: F) -> F::Output {
    CLIENT.scope(Some(client), fut).await
}

/// The task-local client override, if any.
pub(crate) fn scoped_client() -> Option<LedgixClient> {
    CLIENT.try_with(Clone::clone).ok().flatten()
}

/// Runs `fut` under `active`.
pub(crate) async fn run_cleared<F: Future>(active: ActiveClearance, fut: F) -> F::Output {
    CLEARANCE.scope(Some(active), fut).await
}
