//! Guard [rig](https://rig.rs) tools: [`Guarded<T>`] is a rig [`Tool`] that asks the Vault
//! before the tool it wraps runs.
//!
//! **Compiler:** this module builds on rig-core 0.44, which needs rustc 1.95 or newer; the rest
//! of the crate keeps its MSRV (1.88). rig-core 0.45 and later need rustc 1.97.
//!
//! `Guarded::new(tool)` has the same name, description and parameter schema as `tool`, so the
//! model sees the same tool. When the model calls it, the Vault is asked with the tool's name
//! and exactly the arguments object the model sent (not a re-serialization of the parsed
//! arguments); the inner tool runs only when the Vault approved and the A-JWT verified, inside
//! the clearance scope ([`current_token()`](crate::current_token) is the token there).
//!
//! | outcome | what rig gets |
//! |---|---|
//! | approved, token verified | the inner tool's output (its errors as the inner tool maps them) |
//! | denied; waiting for a reviewer; review timed out | a **refusal** ([`ToolExecutionError::refused`], kind `permission_denied`) whose model feedback is [`Error::tool_message()`](crate::Error::tool_message), with the `request_id` |
//! | arguments that do not parse as the tool's `Args` or do not match its schema | rig's `invalid_args` error; the Vault is not asked |
//! | the Vault unreachable or failing, a bad token | an error (kind `network` when retrying may help, else `other`) whose feedback says the tool did not run |
//!
//! Every error carries a code (`ledgix_denied`, `ledgix_review_pending`, ...) and the
//! [`Error`] as its source, for operators: `error.downcast_ref::<ledgix_runtime::Error>()`.
//!
//! ```no_run
//! use rig_core::tool::{PortableTool, Tool};
//!
//! # #[derive(Debug, thiserror::Error)] #[error("x")] struct E;
//! struct Refund;
//! impl PortableTool for Refund {
//!     const NAME: &'static str = "stripe_refund";
//!     type Args = serde_json::Value;
//!     type Output = String;
//!     type Error = E;
//!     fn description(&self) -> String { "Refund a charge".into() }
//!     fn parameters(&self) -> serde_json::Value { serde_json::json!({"type": "object"}) }
//!     async fn call(&self, _args: Self::Args) -> Result<String, E> { Ok("re_1".into()) }
//! }
//!
//! let tool = ledgix_runtime::rig::Guarded::new(Refund).policy("refunds-v1");
//! assert_eq!(<ledgix_runtime::rig::Guarded<Refund> as Tool>::NAME, "stripe_refund");
//! // add `tool` to an agent or a ToolSet as any other rig tool
//! # let _ = tool;
//! ```

use rig_core::tool::{Tool, ToolContext, ToolErrorKind, ToolExecutionError};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::adapter::{CallSettings, NotRun, Stopped, schema};
use crate::error::Error;
use crate::manifest::Manifest;

/// A rig tool that asks the Vault before `T` runs; the same name, description and schema as
/// `T`. See the [module](self).
#[derive(Debug, Clone)]
pub struct Guarded<T> {
    inner: T,
    settings: CallSettings,
}

impl<T: Tool> Guarded<T> {
    /// Guards `tool`: asks about [`T::NAME`](Tool::NAME) with no policy until one is given.
    pub fn new(tool: T) -> Self {
        Guarded {
            inner: tool,
            settings: CallSettings::default(),
        }
    }

    crate::adapter::call_settings_methods!();

    /// Policy and context from `manifest`'s first rule matching the tool's name (what
    /// [`policy`](Self::policy) and [`context`](Self::context) set keeps precedence).
    pub fn manifest(mut self, manifest: &Manifest) -> Self {
        self.settings.apply_manifest(manifest, T::NAME);
        self
    }

    /// The tool it guards.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The tool it guards, unguarded.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// The arguments of a [`Guarded`] tool: the object the model sent, as sent, and `A` parsed from
/// it. Deserializes from what rig hands a tool; the object is what the Vault sees.
pub struct GuardedArgs<A> {
    raw: Map<String, Value>,
    args: A,
}

impl<A> GuardedArgs<A> {
    /// The arguments object as the model sent it.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }
}

impl<A> std::fmt::Debug for GuardedArgs<A> {
    /// The argument names only: values may be secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GuardedArgs")
            .field("arguments", &self.raw.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl<'de, A: DeserializeOwned> Deserialize<'de> for GuardedArgs<A> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = match Value::deserialize(deserializer)? {
            Value::Object(map) => map,
            // rig reads a missing argument list as `null`; the Vault sees no arguments.
            Value::Null => Map::new(),
            other => {
                return Err(D::Error::custom(format!(
                    "tool arguments must be a JSON object, found {}",
                    match other {
                        Value::Bool(_) => "a boolean",
                        Value::Number(_) => "a number",
                        Value::String(_) => "a string",
                        _ => "an array",
                    }
                )));
            }
        };
        let args = A::deserialize(Value::Object(raw.clone())).map_err(D::Error::custom)?;
        Ok(GuardedArgs { raw, args })
    }
}

/// Serializes as the object the model sent.
impl<A> Serialize for GuardedArgs<A> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(serializer)
    }
}

impl<T> Tool for Guarded<T>
where
    T: Tool,
    T::Args: DeserializeOwned,
{
    const NAME: &'static str = T::NAME;
    type Args = GuardedArgs<T::Args>;
    type Output = T::Output;
    type Error = ToolExecutionError;

    fn description(&self) -> String {
        self.inner.description()
    }

    fn parameters(&self) -> Value {
        self.inner.parameters()
    }

    fn map_error(&self, error: ToolExecutionError) -> ToolExecutionError {
        error
    }

    async fn call(
        &self,
        context: &mut ToolContext,
        args: Self::Args,
    ) -> Result<T::Output, ToolExecutionError> {
        let GuardedArgs { raw, args } = args;
        if let Value::Object(schema) = self.inner.parameters()
            && let Err(problem) = schema::check(&schema, &raw)
        {
            return Err(
                ToolExecutionError::invalid_args(crate::adapter::schema_message(&problem))
                    .with_code("ledgix_schema"),
            );
        }
        let inner = &self.inner;
        let outcome = self
            .settings
            .call(T::NAME, raw)
            .run(async move {
                inner
                    .call(context, args)
                    .await
                    .map_err(|e| Stopped::Tool(inner.map_error(e)))
            })
            .await;
        match outcome {
            Ok(output) => Ok(output),
            Err(Stopped::Tool(e)) => Err(e),
            Err(Stopped::Ledgix(e)) => Err(not_run(e, T::NAME)),
        }
    }
}

/// A call stopped by its clearance, as rig's error: a refusal for a decision, an error for a
/// failure; both say the tool did not run.
fn not_run(error: Error, tool: &str) -> ToolExecutionError {
    match NotRun::of(error, tool) {
        NotRun::Refused(e) => ToolExecutionError::refused(e.tool_message())
            .with_retryable(e.is_retryable())
            .with_code(crate::adapter::code(&e))
            .with_source(e),
        NotRun::Failed(e) => {
            let kind = if e.is_retryable() {
                ToolErrorKind::Network
            } else {
                ToolErrorKind::Other
            };
            ToolExecutionError::new(kind, e.tool_message())
                .with_retryable(e.is_retryable())
                .with_code(crate::adapter::code(&e))
                .with_source(e)
        }
    }
}
