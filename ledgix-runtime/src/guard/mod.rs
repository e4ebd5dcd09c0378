//! [`ToolCall`]: ask the Vault, then run. The one code path both macros expand to.

mod finite;

use std::future::Future;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::client::{self, LedgixClient};
use crate::context::{self, ActiveClearance};
use crate::error::Error;
use crate::protocol::{ClearanceRequest, ClearanceResponse};

/// One guarded tool call: the tool, its arguments, its policy and context, and optionally the
/// client to ask. [`run`](ToolCall::run) asks the Vault and runs the body only when the Vault
/// approved and the A-JWT verified, bound to exactly this tool and these arguments.
///
/// ```no_run
/// # async fn demo() -> Result<(), ledgix_runtime::Error> {
/// use ledgix_runtime::ToolCall;
///
/// let receipt = ToolCall::new("stripe_refund")
///     .arg("amount", &45)
///     .arg("charge_id", &"ch_3Pxyz")
///     .policy("refund_policy_v1")
///     .run(async {
///         // runs only when approved; ledgix_runtime::current_token() is the A-JWT here
///         Ok::<_, ledgix_runtime::Error>("re_123")
///     })
///     .await?;
/// # let _ = receipt; Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[must_use = "a ToolCall does nothing until `.run(body).await`"]
pub struct ToolCall {
    request: ClearanceRequest,
    client: Option<LedgixClient>,
    args_error: Option<String>,
}

impl ToolCall {
    /// A call of `tool_name` with no arguments yet.
    pub fn new(tool_name: impl Into<String>) -> Self {
        ToolCall {
            request: ClearanceRequest::new(tool_name),
            client: None,
            args_error: None,
        }
    }

    /// Adds an argument, serialized now: the Vault approves exactly these values. A
    /// serialization error is reported by [`run`](ToolCall::run) as [`Error::ToolArgs`],
    /// before anything is sent.
    ///
    /// The token binds the *serialized* arguments (`tool_args_hash` of their JSON): what a
    /// `Serialize` implementation leaves out (`#[serde(skip)]`, a custom `serialize`) is
    /// neither seen by the Vault nor bound, so a body must not act on it as if approved.
    pub fn arg(mut self, name: &str, value: &(impl Serialize + ?Sized)) -> Self {
        match to_tool_arg(value) {
            Ok(v) => {
                self.request.tool_args.insert(name.to_string(), v);
            }
            Err(e) => {
                if self.args_error.is_none() {
                    self.args_error = Some(format!("argument `{name}`: {e}"));
                }
            }
        }
        self
    }

    /// Adds arguments already in JSON form (bound as they are).
    pub fn args(mut self, args: Map<String, Value>) -> Self {
        self.request.tool_args.extend(args);
        self
    }

    /// Sets the policy (sent as `context.policy_id`).
    pub fn policy(mut self, policy_id: impl Into<String>) -> Self {
        self.request
            .context
            .insert("policy_id".into(), Value::String(policy_id.into()));
        self
    }

    /// Adds a context entry for the Vault's policy judge.
    pub fn context(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.request.context.insert(key.to_string(), value.into());
        self
    }

    /// Overrides the agent id of the configuration for this call.
    pub fn agent_id(mut self, agent_id: impl Into<String>) -> Self {
        self.request.agent_id = agent_id.into();
        self
    }

    /// Overrides the session id of the configuration for this call.
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.request.session_id = Some(session_id.into());
        self
    }

    /// Sets `human_principal` for this call, overriding the configured
    /// [`principal_id`](crate::ConfigBuilder::principal_id) (see
    /// [`ClearanceRequest::principal`]).
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.request = self.request.principal(principal);
        self
    }

    /// Sets `parent_jti`: this call is made by a sub-agent under that token (see
    /// [`ClearanceRequest::parent_jti`]; a delegated client sets it for you).
    pub fn parent_jti(mut self, parent_jti: impl Into<String>) -> Self {
        self.request = self.request.parent_jti(parent_jti);
        self
    }

    /// Sets the counterparty: `destination_uri`, `destination_provider`,
    /// `destination_account_ref` (see [`ClearanceRequest::destination`]; an empty string
    /// leaves a field to the counterparty hint).
    pub fn destination(
        mut self,
        uri: impl Into<String>,
        provider: impl Into<String>,
        account_ref: impl Into<String>,
    ) -> Self {
        self.request = self.request.destination(uri, provider, account_ref);
        self
    }

    /// Sets `destination_uri` alone.
    pub fn destination_uri(mut self, uri: impl Into<String>) -> Self {
        self.request = self.request.destination_uri(uri);
        self
    }

    /// Sets `destination_provider` alone.
    pub fn destination_provider(mut self, provider: impl Into<String>) -> Self {
        self.request = self.request.destination_provider(provider);
        self
    }

    /// Sets `destination_account_ref` alone.
    pub fn destination_account_ref(mut self, account_ref: impl Into<String>) -> Self {
        self.request = self.request.destination_account_ref(account_ref);
        self
    }

    /// Sets `data_categories`, the personal-data categories the call touches (see
    /// [`ClearanceRequest::data_categories`]).
    pub fn data_categories(
        mut self,
        categories: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        self.request = self.request.data_categories(categories);
        self
    }

    /// Sets `purpose`, the purpose of processing.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.request = self.request.purpose(purpose);
        self
    }

    /// Sets `processing_register_ref`, the processing register the call anchors to.
    pub fn processing_register_ref(mut self, register_ref: impl Into<String>) -> Self {
        self.request = self.request.processing_register_ref(register_ref);
        self
    }

    /// Sets `dataset_ref`, the dataset the call reads or writes.
    pub fn dataset_ref(mut self, dataset_ref: impl Into<String>) -> Self {
        self.request = self.request.dataset_ref(dataset_ref);
        self
    }

    /// Asks this client (unless a task-local override from
    /// [`with_client`](crate::with_client) is active, which wins; a `parent_jti` of a
    /// delegated client given here is sent either way).
    pub fn client(mut self, client: &LedgixClient) -> Self {
        self.client = Some(client.clone());
        self
    }

    /// The request as it will be sent (before the client fills in agent and session ids).
    pub fn request(&self) -> &ClearanceRequest {
        &self.request
    }

    /// Asks the Vault for clearance and, only when approved with a verified token bound to this
    /// tool and these arguments, runs `body` inside the clearance scope
    /// ([`current_token()`](crate::current_token) returns the token there). Every other
    /// outcome returns the error without polling `body` at all.
    pub async fn run<F, T, E>(self, body: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        // Boxed: the clearance (retries, polling, the cache's mint, verification) is a large
        // state machine, and a body that runs guarded calls of its own nests it; inline, a few
        // levels overflow a debug build's 2 MiB thread stack.
        let active = Box::pin(self.clear()).await.map_err(E::from)?;
        context::run_cleared(active, body).await
    }

    /// [`run`](Self::run), and hands back the Vault's answer with the body's output: its
    /// `request_id` names the decision in the ledger (for
    /// [`LedgixClient::wait_for_ledger_proof_bundle`]), its `token` is the A-JWT the body ran
    /// under.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), ledgix_runtime::Error> {
    /// let (receipt, clearance) = ledgix_runtime::ToolCall::new("stripe_refund")
    ///     .arg("charge_id", &"ch_3Pxyz")
    ///     .run_with_clearance(async { Ok::<_, ledgix_runtime::Error>("re_123") })
    ///     .await?;
    /// println!("{receipt} ran under request {}", clearance.request_id);
    /// # Ok(()) }
    /// ```
    pub async fn run_with_clearance<F, T, E>(
        self,
        body: F,
    ) -> Result<(T, Arc<ClearanceResponse>), E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<Error>,
    {
        // Boxed: the clearance (retries, polling, the cache's mint, verification) is a large
        // state machine, and a body that runs guarded calls of its own nests it; inline, a few
        // levels overflow a debug build's 2 MiB thread stack.
        let active = Box::pin(self.clear()).await.map_err(E::from)?;
        let clearance = active.response.clone();
        let output = context::run_cleared(active, body).await?;
        Ok((output, clearance))
    }

    /// Asks for clearance and verifies the token; what `run` does before the body.
    async fn clear(self) -> Result<ActiveClearance, Error> {
        if let Some(e) = self.args_error {
            return Err(Error::ToolArgs(e));
        }
        let mut request = self.request;
        // A delegated client given with `.client(..)` delegates even when a task-local
        // override (`with_client`, `MockVault::scope`) is the client that asks.
        if request.parent_jti.is_none() {
            request.parent_jti = self
                .client
                .as_ref()
                .and_then(|c| c.parent_jti().map(str::to_string));
        }
        let client = match client::scoped_client().or(self.client) {
            Some(c) => c,
            None => client::default_client()?,
        };
        let (response, claims) = client.clear_for_call(request).await?;
        Ok(ActiveClearance::new(response, claims, client))
    }
}

/// The JSON form of one argument. NaN and infinities (which JSON writes as `null`, so the Vault
/// would approve a value other than the one the body gets) are refused.
fn to_tool_arg(value: &(impl Serialize + ?Sized)) -> Result<Value, String> {
    let v = serde_json::to_value(value).map_err(|e| e.to_string())?;
    // Only a value holding a null can hide a non-finite float: check those alone.
    if contains_null(&v) {
        finite::check(value)?;
    }
    Ok(v)
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(m) => m.values().any(contains_null),
        _ => false,
    }
}
