//! Guard the tools of an MCP server built with [`rmcp`], the official Rust MCP SDK.
//!
//! Two ways, which combine:
//!
//! - **The whole server:** [`guard_router`] wraps every route of a `ToolRouter`. Each
//!   `tools/call` asks the Vault with the MCP tool name and the exact `arguments` object the
//!   client sent (policy and context from the run-time [`Manifest`] when given), and the tool
//!   runs only when the Vault approved and the A-JWT verified — inside the clearance scope, so
//!   [`current_token()`](crate::current_token) is the token in the tool. Keep the guarded
//!   router in the server and name it in `#[tool_handler(router = self.tool_router)]`: by
//!   default `#[tool_handler]` (and `#[tool_router(server_handler)]`) route through
//!   `Self::tool_router()`, the unguarded router.
//! - **One `#[tool]` method:** take [`Parameters<P>`] (this module's, in place of rmcp's) and
//!   call [`Parameters::run`]: the arguments reach the body only through `run`, which asks
//!   first. rmcp's `#[tool]` macro finds the type by its name, `Parameters`, so the input schema
//!   is still derived from `P`.
//!
//! **Together** they ask once: inside a guarded router the method's `run` sees the router's
//! clearance for this very tool and these very arguments and runs its body under it (once;
//! a second `run` in the same call asks the Vault again). So guarding the router never makes
//! a guarded method ask twice.
//!
//! What the MCP client sees:
//!
//! | outcome | answer |
//! |---|---|
//! | approved, token verified | the tool's own result |
//! | denied; waiting for a reviewer (`ReviewMode::Detach`); review timed out | a `CallToolResult` with `isError: true` whose text is [`Error::tool_message()`](crate::Error::tool_message) (it says the tool was not run, why, and gives the `request_id`) |
//! | arguments that do not match the tool's input schema | a `CallToolResult` with `isError: true`; the Vault is not asked |
//! | the Vault unreachable or failing, a token that does not verify, a malformed answer | a JSON-RPC error (internal error) whose message says the tool was not run; `data: {"tool_ran": false, "retryable": .., "code": ..}` |
//!
//! A pending human review follows the client's [`ReviewMode`](crate::ReviewMode): `Block` (the
//! default) holds the `tools/call` until a reviewer decides or `review_timeout` passes;
//! `Detach` answers at once that the call waits for a reviewer.
//!
//! The manifest only chooses policy and context: with or without it, and whether or not a
//! rule names the tool, every routed tool asks the Vault.
//!
//! ```no_run
//! use rmcp::handler::server::{tool::ToolRouter, wrapper::Parameters};
//! use rmcp::{ServerHandler, tool, tool_handler, tool_router};
//! use rmcp::schemars;
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct Refund { charge_id: String, amount: u64 }
//!
//! #[derive(Clone)]
//! struct Payments { tool_router: ToolRouter<Self> }
//!
//! #[tool_router]
//! impl Payments {
//!     fn new(manifest: Option<ledgix_runtime::Manifest>) -> Self {
//!         // Every tool of the router asks the Vault before it runs.
//!         Payments { tool_router: ledgix_runtime::rmcp::guard_router(Self::tool_router(), manifest) }
//!     }
//!
//!     #[tool(description = "Refund a charge")]
//!     async fn stripe_refund(&self, Parameters(r): Parameters<Refund>) -> String {
//!         let _token = ledgix_runtime::current_token(); // the A-JWT that cleared this call
//!         format!("refunded {} of {}", r.amount, r.charge_id)
//!     }
//! }
//!
//! // `router = self.tool_router`: the guarded router. Without it, `#[tool_handler]` (and
//! // `#[tool_router(server_handler)]`) call `Self::tool_router()`, the unguarded one.
//! #[tool_handler(router = self.tool_router)]
//! impl ServerHandler for Payments {}
//! # fn main() {}
//! ```

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ::rmcp::ErrorData;
use ::rmcp::handler::server::common::FromContextPart;
use ::rmcp::handler::server::tool::{
    DynCallToolHandler, IntoCallToolResult, ToolCallContext, ToolRoute, ToolRouter,
};
use ::rmcp::model::{CallToolResponse, CallToolResult, ContentBlock, JsonObject};
use ::rmcp::schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::adapter::{CallSettings, NotRun, Stopped, schema};
use crate::client::LedgixClient;
use crate::context::current_claims;
use crate::manifest::Manifest;
use crate::token::binding::tool_args_hash;

/// Wraps every route of `router` so that each `tools/call` asks the Vault first: tool = the MCP
/// tool name, tool_args = the arguments object as sent, policy and context from `manifest`'s
/// first matching rule (when given). See the [module](self) for what the client sees.
///
/// Routes keep their names, schemas and annotations (`tools/list` is unchanged), and disabled
/// routes stay disabled. The client asked is the task-local one, else the one given to
/// [`configure`](crate::configure), else one from the environment; [`Guard::client`] names
/// one instead.
pub fn guard_router<S>(router: ToolRouter<S>, manifest: Option<Manifest>) -> ToolRouter<S>
where
    S: Send + Sync + 'static,
{
    let guard = Guard::new();
    match manifest {
        Some(manifest) => guard.manifest(manifest),
        None => guard,
    }
    .router(router)
}

/// [`guard_router`] with more settings: the client to ask, the manifest, and routes one at a
/// time.
///
/// ```no_run
/// # fn demo<S: Send + Sync + 'static>(router: rmcp::handler::server::tool::ToolRouter<S>) -> Result<(), ledgix_runtime::Error> {
/// let client = ledgix_runtime::LedgixClient::from_env()?;
/// let router = ledgix_runtime::rmcp::Guard::new()
///     .manifest(ledgix_runtime::Manifest::from_env()?)
///     .client(&client)
///     .router(router);
/// # let _ = router; Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a Guard does nothing until `.router(..)` or `.route(..)`"]
pub struct Guard {
    settings: CallSettings,
}

impl Guard {
    /// A guard with no manifest, asking the task-local or configured client.
    pub fn new() -> Guard {
        Guard::default()
    }

    /// Policy and context per tool name, from `manifest`'s first matching rule.
    pub fn manifest(mut self, manifest: Manifest) -> Guard {
        self.settings.manifest = Some(Arc::new(manifest));
        self
    }

    /// Asks this client (a task-local client from [`with_client`](crate::with_client) still
    /// wins).
    pub fn client(mut self, client: &LedgixClient) -> Guard {
        self.settings.client = Some(client.clone());
        self
    }

    /// Wraps every route of `router` (see [`guard_router`]).
    pub fn router<S>(&self, mut router: ToolRouter<S>) -> ToolRouter<S>
    where
        S: Send + Sync + 'static,
    {
        for route in router.map.values_mut() {
            self.wrap(route);
        }
        router
    }

    /// Wraps one route: for a router where only some tools ask, or a route added later.
    pub fn route<S>(&self, mut route: ToolRoute<S>) -> ToolRoute<S>
    where
        S: Send + Sync + 'static,
    {
        self.wrap(&mut route);
        route
    }

    fn wrap<S>(&self, route: &mut ToolRoute<S>)
    where
        S: Send + Sync + 'static,
    {
        let guarded = Arc::new(GuardedRoute {
            inner: route.call.clone(),
            input_schema: route.attr.input_schema.clone(),
            settings: self.settings.clone(),
        });
        route.call = Arc::new(move |context: ToolCallContext<'_, S>| {
            let guarded = guarded.clone();
            Box::pin(async move { guarded.call(context).await })
        });
    }
}

/// One guarded route: the route it wraps, its input schema, how to ask.
struct GuardedRoute<S> {
    inner: Arc<DynCallToolHandler<S>>,
    input_schema: Arc<JsonObject>,
    settings: CallSettings,
}

impl<S: Send + Sync + 'static> GuardedRoute<S> {
    async fn call(&self, context: ToolCallContext<'_, S>) -> Result<CallToolResponse, ErrorData> {
        let tool = context.name.to_string();
        let args = context.arguments.clone().unwrap_or_default();
        if let Err(problem) = schema::check(&self.input_schema, &args) {
            return Ok(refusal(crate::adapter::schema_message(&problem)));
        }
        let inner = &self.inner;
        let outcome = self
            .settings
            .call(&tool, args)
            .run(async move {
                let handoff = current_claims().map(|claims| {
                    Arc::new(Handoff {
                        tool: claims.tool.clone(),
                        tool_args_hash: claims.tool_args_hash.clone(),
                        taken: AtomicBool::new(false),
                    })
                });
                HANDOFF
                    .scope(handoff, inner(context))
                    .await
                    .map_err(Stopped::Tool)
            })
            .await;
        answer(outcome, &tool)
    }
}

/// The clearance a guarded router obtained for the call in progress, which one
/// [`Parameters::run`] of the same tool and arguments may run under instead of asking again.
struct Handoff {
    tool: String,
    tool_args_hash: String,
    taken: AtomicBool,
}

tokio::task_local! {
    static HANDOFF: Option<Arc<Handoff>>;
}

/// Takes the router's clearance for `tool` with `args`, when this call is inside a guarded
/// router that cleared exactly them and nobody took it yet.
fn take_handoff(tool: &str, args: &JsonObject) -> bool {
    let Ok(Some(handoff)) = HANDOFF.try_with(Clone::clone) else {
        return false;
    };
    // The clearance in scope must still be the router's (not one of a nested call).
    let in_scope = current_claims().is_some_and(|claims| {
        claims.tool == handoff.tool && claims.tool_args_hash == handoff.tool_args_hash
    });
    in_scope
        && handoff.tool == tool
        && handoff.tool_args_hash == tool_args_hash(args)
        && !handoff.taken.swap(true, Ordering::SeqCst)
}

/// The answer to a guarded call: the tool's own when it ran; when its clearance stopped it, a
/// decision as an `isError` result the model reads, a failure as a JSON-RPC error (both say
/// the tool was not run).
fn answer(
    outcome: Result<CallToolResponse, Stopped<ErrorData>>,
    tool: &str,
) -> Result<CallToolResponse, ErrorData> {
    let error = match outcome {
        Ok(response) => return Ok(response),
        Err(Stopped::Tool(e)) => return Err(e),
        Err(Stopped::Ledgix(e)) => e,
    };
    match NotRun::of(error, tool) {
        NotRun::Refused(e) => Ok(refusal(e.tool_message())),
        NotRun::Failed(e) => Err(ErrorData::internal_error(
            e.tool_message(),
            Some(json!({
                "tool_ran": false,
                "retryable": e.is_retryable(),
                "code": crate::adapter::code(&e),
            })),
        )),
    }
}

fn refusal(text: String) -> CallToolResponse {
    CallToolResult::error(vec![ContentBlock::text(text)]).into()
}

/// The arguments of one `#[tool]` method, reachable only through [`run`](Self::run), which
/// asks the Vault first: the guarded path for a single tool.
///
/// Use it in place of rmcp's `Parameters<P>`. rmcp's `#[tool]` macro recognises a parameter
/// type named `Parameters` (by name: write `ledgix_runtime::rmcp::Parameters<P>` or import it
/// unrenamed; an alias publishes an empty schema) and derives the tool's input schema from
/// `P`, so the published schema is unchanged. It takes the whole `arguments` object of the call: the Vault sees the
/// MCP tool name and exactly that object, and `P` is deserialized from it before anything is
/// asked (wrong-typed arguments are answered as rmcp answers them, `isError`, and never reach
/// the Vault).
///
/// ```no_run
/// use rmcp::model::CallToolResponse;
/// use rmcp::{ErrorData, handler::server::tool::ToolRouter, schemars, tool, tool_router};
///
/// #[derive(serde::Deserialize, schemars::JsonSchema)]
/// struct Refund { charge_id: String, amount: u64 }
///
/// struct Payments { tool_router: ToolRouter<Self> }
///
/// #[tool_router]
/// impl Payments {
///     #[tool(description = "Refund a charge")]
///     async fn stripe_refund(
///         &self,
///         args: ledgix_runtime::rmcp::Parameters<Refund>,
///     ) -> Result<CallToolResponse, ErrorData> {
///         args.policy("refunds-v1")
///             .run(|r| async move { format!("refunded {} of {}", r.amount, r.charge_id) })
///             .await
///     }
/// }
/// # fn main() {}
/// ```
pub struct Parameters<P> {
    tool: Cow<'static, str>,
    raw: JsonObject,
    value: P,
    settings: CallSettings,
}

impl<P> std::fmt::Debug for Parameters<P> {
    /// The tool name and the argument names only: argument values may be secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parameters")
            .field("tool", &self.tool)
            .field("arguments", &self.raw.keys().collect::<Vec<_>>())
            .field("policy", &self.settings.policy)
            .finish_non_exhaustive()
    }
}

impl<S, P> FromContextPart<ToolCallContext<'_, S>> for Parameters<P>
where
    P: DeserializeOwned,
{
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, ErrorData> {
        let raw = context.arguments.take().unwrap_or_default();
        let value = serde_json::from_value(Value::Object(raw.clone())).map_err(|e| {
            // rmcp's own prefix: its router answers this as an `isError` result.
            ErrorData::invalid_params(format!("failed to deserialize parameters: {e}"), None)
        })?;
        Ok(Parameters {
            tool: context.name.clone(),
            raw,
            value,
            settings: CallSettings::default(),
        })
    }
}

impl<P: JsonSchema> JsonSchema for Parameters<P> {
    fn schema_name() -> Cow<'static, str> {
        P::schema_name()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        P::json_schema(generator)
    }
}

impl<P> Parameters<P> {
    /// The MCP tool name of the call (what the Vault is asked about).
    pub fn tool_name(&self) -> &str {
        &self.tool
    }

    crate::adapter::call_settings_methods!();

    /// Policy and context from `manifest`'s first rule matching this tool's name (what
    /// [`policy`](Self::policy) and [`context`](Self::context) set keeps precedence).
    pub fn manifest(mut self, manifest: &Manifest) -> Self {
        self.settings.apply_manifest(manifest, &self.tool);
        self
    }

    /// Asks the Vault about this tool with these arguments and, only when approved with a
    /// verified token, runs `body` with the arguments inside the clearance scope. Answers as
    /// the [module](self) describes: the body's own result, an `isError` result when denied
    /// or held for review, a JSON-RPC error when the authorization failed.
    ///
    /// Inside a [`guard_router`] route that already cleared this tool and these arguments, the
    /// body runs under that clearance without asking again.
    pub async fn run<F, Fut, R>(self, body: F) -> Result<CallToolResponse, ErrorData>
    where
        F: FnOnce(P) -> Fut,
        Fut: Future<Output = R>,
        R: IntoCallToolResult,
    {
        let Parameters {
            tool,
            raw,
            value,
            settings,
        } = self;
        if take_handoff(&tool, &raw) {
            return body(value).await.into_call_tool_result();
        }
        let outcome = settings
            .call(&tool, raw)
            .run(async move {
                body(value)
                    .await
                    .into_call_tool_result()
                    .map_err(Stopped::Tool)
            })
            .await;
        answer(outcome, &tool)
    }
}
