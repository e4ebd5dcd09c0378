//! [`PendingApproval`]: a request parked for human review in detach mode.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value};

use super::transport::Deadline;
use super::{BoundCall, Follow, LedgixClient};
use crate::context::{self, ActiveClearance};
use crate::error::Error;
use crate::protocol::ClearanceResponse;
use crate::token::TokenClaims;

/// A request waiting for a human reviewer ([`ReviewMode::Detach`](crate::ReviewMode::Detach)).
///
/// Keep it (or just its [`request_id`](Self::request_id)) and come back later: [`wait`](Self::wait)
/// resumes polling, [`run`](Self::run) waits and then runs the tool body under the approved
/// clearance, [`cancel`](Self::cancel) withdraws the request.
#[derive(Clone)]
pub struct PendingApproval {
    client: LedgixClient,
    initial: Arc<ClearanceResponse>,
    /// Boxed: `Error::ReviewPending` carries this struct, and every `Result<_, Error>` pays
    /// for its size.
    call: Option<Box<BoundCall>>,
    approval: Arc<Mutex<Approval>>,
}

/// The verified approval, shared by clones: verified once, runs one body.
#[derive(Default)]
struct Approval {
    cleared: Option<(ClearanceResponse, TokenClaims)>,
    ran: bool,
}

impl fmt::Debug for PendingApproval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingApproval")
            .field("request_id", &self.initial.request_id)
            .field("tool", &self.call.as_ref().map(|c| c.tool.as_str()))
            .finish_non_exhaustive()
    }
}

impl PendingApproval {
    pub(crate) fn new(
        client: LedgixClient,
        initial: ClearanceResponse,
        call: Option<BoundCall>,
    ) -> Self {
        PendingApproval {
            client,
            initial: Arc::new(initial),
            call: call.map(Box::new),
            approval: Arc::default(),
        }
    }

    /// Re-attaches to a request by id (e.g. one stored before a restart). Its token will be
    /// verified but, with no arguments known, not bound: [`wait`](Self::wait) works, while
    /// [`run`](Self::run) refuses until [`bind`](Self::bind) names the tool and arguments the
    /// request was made for. Prefer keeping the `PendingApproval`.
    pub fn resume(client: &LedgixClient, request_id: impl Into<String>) -> Result<Self, Error> {
        let request_id = request_id.into();
        let initial: ClearanceResponse = serde_json::from_value(serde_json::json!({
            "status": "pending_review",
            "request_id": request_id,
            "requires_manual_review": true,
        }))
        .map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(PendingApproval::new(client.clone(), initial, None))
    }

    /// Binds a resumed request to the tool and arguments it was made for, so its token is
    /// checked against them before [`run`](Self::run) runs a body.
    pub fn bind(mut self, tool: impl Into<String>, tool_args: Map<String, Value>) -> Self {
        self.call = Some(Box::new(BoundCall {
            tool: tool.into(),
            tool_args,
        }));
        self
    }

    /// The Vault's id of the pending request.
    pub fn request_id(&self) -> &str {
        &self.initial.request_id
    }

    /// The tool the request is for, when known.
    pub fn tool(&self) -> Option<&str> {
        self.call.as_ref().map(|c| c.tool.as_str())
    }

    /// The Vault's answer that parked the request.
    pub fn initial_response(&self) -> &ClearanceResponse {
        &self.initial
    }

    /// Polls until a reviewer decides, for at most the configured `review_timeout`.
    /// Approved: the answer, its token verified (bound to the original call when known) and
    /// its id recorded as used in the replay store: this approval can then run one body,
    /// through [`run`](Self::run) on this value or a clone, and no other client can run it.
    /// Denied: [`Error::Denied`].
    pub async fn wait(&self) -> Result<ClearanceResponse, Error> {
        self.wait_timeout(self.client.config().review_timeout).await
    }

    /// [`wait`](Self::wait) with an explicit timeout.
    pub async fn wait_timeout(&self, timeout: Duration) -> Result<ClearanceResponse, Error> {
        if let Some((response, _)) = &self.approval().cleared {
            return Ok(response.clone());
        }
        let (response, claims) = self.clear(timeout).await?;
        self.approval().cleared = Some((response.clone(), claims));
        Ok(response)
    }

    fn approval(&self) -> MutexGuard<'_, Approval> {
        match self.approval.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    async fn clear(&self, timeout: Duration) -> Result<(ClearanceResponse, TokenClaims), Error> {
        let mut deadline = Deadline::after(timeout);
        let follow = Follow {
            tool: self.tool(),
            detach_with: None,
            held: true,
        };
        let response = self
            .client
            .poll_until_decided(self.request_id(), &mut deadline, Duration::ZERO, follow)
            .await?;
        let claims = self
            .client
            .verify_response(&response, self.call.as_deref())
            .await?;
        Ok((response, claims))
    }

    /// Waits for the decision, then runs `body` under the approved clearance (as a guarded
    /// call would have). Denied, timed out or unverifiable: `body` never runs. A request
    /// [`resume`](Self::resume)d by id must be [`bind`](Self::bind)-ed first: a token is only
    /// good for the tool and arguments it clears, so `body` must do exactly the call that was
    /// parked. After [`wait`](Self::wait) succeeded, `run` uses that verified approval; one
    /// approval runs one body (a second `run`, on a clone, is [`Error::ReplayDetected`], and
    /// so is a `run` through another client sharing the replay store — by default every
    /// client of the process).
    pub async fn run<F, T, E>(self, body: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        let Some(call) = &self.call else {
            return Err(E::from(Error::TokenVerification(format!(
                "request {} was resumed by id without its tool and arguments: bind them with \
                 PendingApproval::bind before running a body under its token",
                self.request_id()
            ))));
        };
        let cached = self.approval().cleared.clone();
        let (response, claims) = match cached {
            // Verified by `wait()`, perhaps before `bind()`: check the binding now.
            Some((response, claims)) => {
                crate::token::check_binding(&claims, &call.tool, &call.tool_args)
                    .map_err(E::from)?;
                (response, claims)
            }
            None => {
                let timeout = self.client.config().review_timeout;
                self.clear(timeout).await.map_err(E::from)?
            }
        };
        {
            let mut approval = self.approval();
            if approval.ran {
                return Err(E::from(Error::ReplayDetected { jti: claims.jti }));
            }
            approval.ran = true;
            approval.cleared = Some((response.clone(), claims.clone()));
        }
        context::run_cleared(
            ActiveClearance::new(response, claims, self.client.clone()),
            body,
        )
        .await
    }

    /// Withdraws the request: posts a denial (`cancelled by agent`) to the review endpoint.
    pub async fn cancel(&self) -> Result<(), Error> {
        self.client
            .submit_review_decision(self.request_id(), false, "cancelled by agent")
            .await
    }
}
