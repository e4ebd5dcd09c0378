//! What the agent-framework adapters ([`rmcp`](crate::rmcp), [`rig`](crate::rig)) share: the
//! [`ToolCall`] of a tool name and the arguments object the model sent (with the policy and
//! context of the run-time [`Manifest`]), the input-schema check before the Vault is asked,
//! and how a call that did not run is told apart from the tool's own failure.

pub(crate) mod schema;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::client::LedgixClient;
use crate::error::Error;
use crate::guard::ToolCall;
use crate::manifest::Manifest;

/// How an adapter builds the clearance request of each call: the manifest's rule for the tool
/// name, then the policy and context given to the adapter itself (which win), and the client
/// to ask.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallSettings {
    pub(crate) manifest: Option<Arc<Manifest>>,
    pub(crate) policy: Option<String>,
    pub(crate) context: Map<String, Value>,
    pub(crate) client: Option<LedgixClient>,
}

impl CallSettings {
    /// The guarded call of `tool` with exactly `args`, the object the model sent: the Vault
    /// sees that tool name and those arguments, and the token must bind both.
    ///
    /// Order, later wins: the manifest rule's `context`, its `policyId`, the adapter's own
    /// context entries, its policy.
    pub(crate) fn call(&self, tool: &str, args: Map<String, Value>) -> ToolCall {
        let mut call = ToolCall::new(tool).args(args);
        if let Some(entry) = self.manifest.as_deref().and_then(|m| m.lookup(tool)) {
            for (key, value) in &entry.context {
                call = call.context(key, value.clone());
            }
            if let Some(policy) = &entry.policy_id {
                call = call.policy(policy.clone());
            }
        }
        for (key, value) in &self.context {
            call = call.context(key, value.clone());
        }
        if let Some(policy) = &self.policy {
            call = call.policy(policy.clone());
        }
        if let Some(client) = &self.client {
            call = call.client(client);
        }
        call
    }

    /// The manifest rule for `tool` folded into the adapter's own policy and context (which
    /// keep precedence), for adapters that learn the tool name before the manifest is given.
    pub(crate) fn apply_manifest(&mut self, manifest: &Manifest, tool: &str) {
        if let Some(entry) = manifest.lookup(tool) {
            for (key, value) in &entry.context {
                self.context
                    .entry(key.clone())
                    .or_insert_with(|| value.clone());
            }
            if self.policy.is_none() {
                self.policy = entry.policy_id.clone();
            }
        }
    }
}

/// Why a guarded adapter call ended without the tool's own answer: the clearance stopped it
/// (the tool did not run), or the tool ran and failed with its own error.
#[derive(Debug)]
pub(crate) enum Stopped<E> {
    /// The Vault or the token check stopped the call before the tool ran.
    Ledgix(Error),
    /// The tool ran and failed.
    Tool(E),
}

impl<E> From<Error> for Stopped<E> {
    fn from(e: Error) -> Self {
        Stopped::Ledgix(e)
    }
}

/// A clearance that stopped a call, as an adapter presents it.
pub(crate) enum NotRun {
    /// A decision the model should see as the tool's answer (denied; waiting for, or out of
    /// time for, a human reviewer): the call is fine, the authorization said no (yet).
    Refused(Error),
    /// The authorization could not be obtained or verified (Vault unreachable, bad token,
    /// malformed answer ...): an error of the server, which says the tool did not run.
    Failed(Error),
}

impl NotRun {
    pub(crate) fn of(error: Error, tool: &str) -> NotRun {
        match error {
            Error::Denied(_) | Error::ReviewPending(_) | Error::ReviewTimeout { .. } => {
                tracing::info!(
                    tool,
                    request_id = error.request_id().unwrap_or(""),
                    "ledgix: tool call not run: {}",
                    short_kind(&error)
                );
                NotRun::Refused(error)
            }
            other => {
                tracing::warn!(tool, error = %other, "ledgix: tool call not run");
                NotRun::Failed(other)
            }
        }
    }
}

fn short_kind(error: &Error) -> &'static str {
    match error {
        Error::Denied(_) => "denied",
        Error::ReviewPending(_) => "waiting for a human reviewer",
        Error::ReviewTimeout { .. } => "no review decision in time",
        _ => "not cleared",
    }
}

/// A stable machine-readable name of why a call did not run, for adapters' error codes.
pub(crate) fn code(error: &Error) -> &'static str {
    match error {
        Error::Denied(_) => "ledgix_denied",
        Error::ReviewPending(_) => "ledgix_review_pending",
        Error::ReviewTimeout { .. } => "ledgix_review_timeout",
        Error::Connection(_) | Error::QueueSaturated { .. } => "ledgix_vault_unavailable",
        Error::Http { status, .. } if *status >= 500 || *status == 429 => {
            "ledgix_vault_unavailable"
        }
        Error::ToolArgs(_) => "ledgix_tool_args",
        _ => "ledgix_unverified",
    }
}

/// The text a model gets when the arguments do not match the tool's input schema.
pub(crate) fn schema_message(problem: &str) -> String {
    format!(
        "The tool was not run: its arguments do not match its input schema: {problem}. The \
         Ledgix Vault was not asked; correct the arguments and call the tool again."
    )
}

/// The builder methods every adapter wrapper shares (`policy`, `context`, `client`), for a
/// wrapper with a `settings: CallSettings` field.
macro_rules! call_settings_methods {
    () => {
        /// Sets the policy (sent as `context.policy_id`); wins over a manifest's.
        pub fn policy(mut self, policy_id: impl Into<String>) -> Self {
            self.settings.policy = Some(policy_id.into());
            self
        }

        /// Adds a context entry for the Vault's policy judge; wins over a manifest's.
        pub fn context(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
            self.settings.context.insert(key.to_string(), value.into());
            self
        }

        /// Asks this client (a task-local client from [`with_client`](crate::with_client)
        /// still wins).
        pub fn client(mut self, client: &crate::LedgixClient) -> Self {
            self.settings.client = Some(client.clone());
            self
        }
    };
}
pub(crate) use call_settings_methods;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn the_request_carries_the_exact_arguments_and_the_manifest_rule() {
        let manifest = Manifest::from_json(
            r#"{"enforce": [{"tool": "stripe_*", "policyId": "financial", "context": {"risk_level": "high", "team": "billing"}}]}"#,
        )
        .unwrap();
        let mut settings = CallSettings {
            manifest: Some(Arc::new(manifest)),
            ..CallSettings::default()
        };
        let args = obj(json!({"charge_id": "ch_1", "amount": 4500, "nested": {"b": [1, 2.5]}}));
        let call = settings.call("stripe_refund", args.clone());
        let request = call.request();
        assert_eq!(request.tool_name, "stripe_refund");
        assert_eq!(request.tool_args, args);
        assert_eq!(request.context["policy_id"], "financial");
        assert_eq!(request.context["risk_level"], "high");

        // The adapter's own policy and context win over the manifest's.
        settings.policy = Some("override".into());
        settings.context.insert("team".into(), json!("payments"));
        let call = settings.call("stripe_refund", Map::new());
        assert_eq!(call.request().context["policy_id"], "override");
        assert_eq!(call.request().context["team"], "payments");
        assert_eq!(call.request().context["risk_level"], "high");

        // A tool no rule names is still asked about, without policy.
        let call = settings.call("lookup_customer", Map::new());
        assert_eq!(call.request().tool_name, "lookup_customer");
        assert_eq!(call.request().context["policy_id"], "override");
        settings.policy = None;
        let call = settings.call("lookup_customer", Map::new());
        assert!(!call.request().context.contains_key("policy_id"));
    }

    #[test]
    fn apply_manifest_keeps_what_was_given() {
        let manifest = Manifest::from_json(
            r#"{"enforce": [{"tool": "*", "policyId": "p", "context": {"a": 1, "b": 2}}]}"#,
        )
        .unwrap();
        let mut settings = CallSettings {
            context: obj(json!({"a": "mine"})),
            ..CallSettings::default()
        };
        settings.apply_manifest(&manifest, "t");
        assert_eq!(settings.policy.as_deref(), Some("p"));
        assert_eq!(settings.context, obj(json!({"a": "mine", "b": 2})));
        settings.policy = Some("own".into());
        settings.apply_manifest(&manifest, "t");
        assert_eq!(settings.policy.as_deref(), Some("own"));
    }
}
