//! Which client a guarded call asks: the task-local override ([`with_client`],
//! `MockVault::scope`) → the explicit `ToolCall::client(..)` → the process-wide default set by
//! [`configure`] → a client built from the environment on first use.

use std::future::Future;
use std::sync::RwLock;

use super::LedgixClient;
use crate::config::Config;
use crate::context;
use crate::error::Error;

tokio::task_local! {
    static CLIENT: Option<LedgixClient>;
}

static DEFAULT_CLIENT: RwLock<Option<LedgixClient>> = RwLock::new(None);

/// Sets the process-wide default client used by guarded calls that have no task-local or
/// explicit client. Returns that client. Calling it again replaces the default.
pub fn configure(config: Config) -> Result<LedgixClient, Error> {
    let client = LedgixClient::new(config)?;
    let mut guard = match DEFAULT_CLIENT.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    *guard = Some(client.clone());
    Ok(client)
}

/// Runs `fut` with `client` as the client of every guarded call inside it (the highest
/// priority in client resolution; `MockVault::scope` uses it).
pub async fn with_client<F: Future>(client: LedgixClient, fut: F) -> F::Output {
    CLIENT.scope(Some(client), fut).await
}

/// Carries this task's clearance and client override into a future that will run elsewhere,
/// typically `tokio::spawn(ledgix::propagate(fut))`.
pub fn propagate<F: Future>(fut: F) -> impl Future<Output = F::Output> {
    CLIENT.scope(scoped_client(), context::carry(fut))
}

/// The task-local client override, if any.
pub(crate) fn scoped_client() -> Option<LedgixClient> {
    CLIENT.try_with(Clone::clone).ok().flatten()
}

/// The process-wide default client: the one `configure()` set, else one built from the
/// environment on first use.
pub(crate) fn default_client() -> Result<LedgixClient, Error> {
    {
        let guard = match DEFAULT_CLIENT.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(client) = guard.as_ref() {
            return Ok(client.clone());
        }
    }
    let client = LedgixClient::from_env().map_err(|e| {
        Error::Config(format!(
            "no Ledgix client for this guarded call: none in scope (with_client / \
             MockVault::scope), none given (client = ..), none configured (ledgix::configure), \
             and the environment gives none: {e}"
        ))
    })?;
    let mut guard = match DEFAULT_CLIENT.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    Ok(guard.get_or_insert(client).clone())
}
