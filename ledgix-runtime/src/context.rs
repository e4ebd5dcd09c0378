//! The clearance of the running guarded call, held in a tokio task-local.
//!
//! Inside a guarded body, [`current_token()`] is the A-JWT that cleared it; outside, `None`.
//! A nested guarded call shadows the outer clearance and restores it when it ends. Task-locals
//! do not cross `tokio::spawn`: wrap the spawned future in [`propagate`](crate::propagate) to
//! carry them.
//!
//! The client and the guard build an [`ActiveClearance`] (the answer, its verified claims and
//! the client that cleared it) and run a body under it.

use std::future::Future;
use std::sync::Arc;

use crate::client::LedgixClient;
use crate::error::Error;
use crate::protocol::ClearanceResponse;
use crate::token::TokenClaims;

/// The clearance a guarded body runs under.
#[derive(Debug, Clone)]
pub(crate) struct ActiveClearance {
    pub(crate) response: Arc<ClearanceResponse>,
    pub(crate) claims: Arc<TokenClaims>,
    /// The client that asked for it (a sub-agent delegates from it).
    pub(crate) client: LedgixClient,
}

impl ActiveClearance {
    /// The clearance of a verified approval obtained by `client`.
    pub(crate) fn new(
        response: ClearanceResponse,
        claims: TokenClaims,
        client: LedgixClient,
    ) -> Self {
        ActiveClearance {
            response: Arc::new(response),
            claims: Arc::new(claims),
            client,
        }
    }
}

tokio::task_local! {
    static CLEARANCE: Option<ActiveClearance>;
}

/// The A-JWT of the guarded call running in this task, if any.
pub fn current_token() -> Option<String> {
    CLEARANCE
        .try_with(|c| c.as_ref().and_then(|c| c.response.token.clone()))
        .ok()
        .flatten()
}

/// The Vault's whole answer for the guarded call running in this task, if any.
///
/// Inside a guarded body this is how to learn the call's `request_id` (to fetch its ledger
/// proof later, or to log it next to the tool's own result):
///
/// ```no_run
/// # async fn demo() -> Result<(), ledgix_runtime::Error> {
/// let (receipt, request_id) = ledgix_runtime::ToolCall::new("stripe_refund")
///     .arg("charge_id", &"ch_3Pxyz")
///     .run(async {
///         let clearance = ledgix_runtime::current_clearance().expect("inside a guarded body");
///         Ok::<_, ledgix_runtime::Error>(("re_123", clearance.request_id.clone()))
///     })
///     .await?;
/// # let _ = (receipt, request_id); Ok(()) }
/// ```
///
/// [`ToolCall::run_with_clearance`](crate::ToolCall::run_with_clearance) hands it back with
/// the body's output instead.
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

/// The client that cleared the guarded call running in this task, delegated from that call's
/// token: every request it sends without a `parent_jti` carries the running call's `jti`
/// (see [`LedgixClient::delegate`]). It shares the clearing client's pool and caches.
///
/// Outside a guarded body it is an [`Error::Config`] saying so. To have every guarded call of
/// a sub-agent's code delegate without handing it a client, run that code under
/// [`with_delegation`].
///
/// ```no_run
/// # async fn demo() -> Result<(), ledgix_runtime::Error> {
/// use ledgix_runtime::ToolCall;
///
/// ToolCall::new("plan_trip")
///     .run(async {
///         let sub_agent = ledgix_runtime::delegated_client()?;   // parent_jti = this call's jti
///         ToolCall::new("book_hotel")
///             .client(&sub_agent)
///             .run(async { Ok::<_, ledgix_runtime::Error>(()) })
///             .await
///     })
///     .await?;
/// # Ok(()) }
/// ```
pub fn delegated_client() -> Result<LedgixClient, Error> {
    CLEARANCE
        .try_with(|c| c.as_ref().map(|c| c.client.delegate(c.claims.jti.clone())))
        .ok()
        .flatten()
        .ok_or_else(|| {
            Error::Config(
                "delegated_client() was called outside a guarded body: there is no running \
                 call to delegate from (use LedgixClient::delegate(parent_jti) with a known jti)"
                    .into(),
            )
        })
}

/// Runs `fut` with [`delegated_client()`] as the client of every guarded call inside it (a
/// task-local override, as [`with_client`](crate::with_client)), so a sub-agent's calls carry
/// the running call's `jti` as `parent_jti` without the sub-agent knowing of clients.
///
/// Outside a guarded body it returns the [`Error::Config`] of [`delegated_client()`] and
/// does not poll `fut`.
pub async fn with_delegation<F: Future>(fut: F) -> Result<F::Output, Error> {
    let client = delegated_client()?;
    Ok(crate::client::with_client(client, fut).await)
}

/// Wraps `fut` so that it runs under this task's clearance (if any), wherever it is polled.
pub(crate) fn carry<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    let clearance = CLEARANCE.try_with(Clone::clone).ok().flatten();
    CLEARANCE.scope(clearance, fut)
}

/// Runs `fut` under `active`.
pub(crate) async fn run_cleared<F: Future>(active: ActiveClearance, fut: F) -> F::Output {
    CLEARANCE.scope(Some(active), fut).await
}
