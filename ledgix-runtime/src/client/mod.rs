//! The Vault client (placeholder while the runtime core lands).

mod ledger;

use std::sync::Arc;

use crate::config::Config;
use crate::error::Error;

/// A client of the Vault. Cheap to clone.
#[derive(Clone, Debug)]
pub struct LedgixClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
}

impl LedgixClient {
    /// Builds a client.
    pub fn new(config: Config) -> Result<Self, Error> {
        Ok(LedgixClient {
            inner: Arc::new(Inner { config }),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// A request waiting for human review (detach mode).
#[derive(Debug)]
pub struct PendingApproval {
    request_id: String,
}

impl PendingApproval {
    /// The Vault's id of the pending request.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }
}

pub(crate) fn set_default_client(_client: LedgixClient) {}

pub(crate) fn default_client() -> Result<LedgixClient, Error> {
    Err(Error::Config("placeholder".into()))
}

impl LedgixClient {
    pub(crate) async fn clear_for_call(
        &self,
        _request: crate::protocol::ClearanceRequest,
    ) -> Result<crate::context::ActiveClearance, Error> {
        Err(Error::Config("placeholder".into()))
    }
}
