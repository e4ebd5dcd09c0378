//! `ledgix::rmcp` end to end: an rmcp server and an rmcp client connected in-process over a
//! duplex pipe, the server's tools guarded, against the mock Vault (a real HTTP server on
//! loopback). Every failure path proves the tool body ran zero times.

use std::sync::{Arc, Mutex};

use ledgix::mock::{MockVault, Rule};
use ledgix::rmcp::Guard;
use ledgix::{Config, LedgixClient, Manifest, ReviewMode};
use rmcp::handler::server::tool::ToolRouter;
// rmcp's `#[tool]` finds the input schema by the parameter type's name, `Parameters`: an
// alias (`Loose` below) publishes an empty schema, which the tests use on purpose.
use rmcp::handler::server::wrapper::{Parameters, Parameters as Loose};
use rmcp::model::{CallToolRequestParams, CallToolResponse, CallToolResult, ClientConfig};
use rmcp::service::{RoleClient, RunningService};
use rmcp::{ClientHandler, ErrorData, ServerHandler, ServiceError, ServiceExt};
use rmcp::{tool, tool_handler, tool_router};
use serde_json::{Map, Value, json};

/// One run of a tool body: the tool, and the clearance it saw.
#[derive(Debug, Clone)]
struct Run {
    tool: String,
    token: Option<String>,
    claims_tool: Option<String>,
    claims_args_hash: Option<String>,
}

#[derive(Clone, Default)]
struct Runs(Arc<Mutex<Vec<Run>>>);

impl Runs {
    fn record(&self, tool: &str) {
        let claims = ledgix::current_claims();
        self.0.lock().unwrap().push(Run {
            tool: tool.into(),
            token: ledgix::current_token(),
            claims_tool: claims.as_ref().map(|c| c.tool.clone()),
            claims_args_hash: claims.as_ref().map(|c| c.tool_args_hash.clone()),
        });
    }

    fn of(&self, tool: &str) -> Vec<Run> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.tool == tool)
            .cloned()
            .collect()
    }
}

/// The example server's argument types (`Payment`, `Refund`, `Lookup`).
#[path = "../examples/common/payment_args.rs"]
mod payment_args;
use payment_args::{Lookup, Payment, Refund};

#[derive(Clone)]
struct Shop {
    runs: Runs,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Shop {
    /// `guard: None`: the router as rmcp builds it (only `Parameters::run` asks).
    fn new(runs: Runs, guard: Option<Guard>) -> Self {
        let router = Self::tool_router();
        Shop {
            runs,
            tool_router: match guard {
                Some(guard) => guard.router(router),
                None => router,
            },
        }
    }

    #[tool(description = "Charge a customer")]
    async fn create_stripe_payment(&self, Parameters(p): Parameters<Payment>) -> String {
        self.runs.record("create_stripe_payment");
        format!("paid {} {} by {}", p.amount, p.currency, p.customer_id)
    }

    #[tool(description = "Refund a charge")]
    async fn stripe_refund(&self, Parameters(r): Parameters<Refund>) -> String {
        self.runs.record("stripe_refund");
        format!("refunded {} of {}", r.amount, r.charge_id)
    }

    /// A tool whose published schema is empty (the alias hides `Parameters` from `#[tool]`):
    /// only its own deserialization checks the arguments.
    #[tool(description = "Refund a charge, schema not published")]
    async fn loose_refund(&self, Loose(r): Loose<Refund>) -> String {
        self.runs.record("loose_refund");
        format!("refunded {} of {}", r.amount, r.charge_id)
    }

    /// The single-method path: this method asks the Vault itself.
    #[tool(description = "Look up a customer")]
    async fn lookup_customer(
        &self,
        args: ledgix::rmcp::Parameters<Lookup>,
    ) -> Result<CallToolResponse, ErrorData> {
        lookup(&self.runs, args).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Shop {}

/// The single-method path's body, `lookup_customer` of both servers: asks the Vault under
/// the `customer-data` policy and, when cleared, records the run.
async fn lookup(
    runs: &Runs,
    args: ledgix::rmcp::Parameters<Lookup>,
) -> Result<CallToolResponse, ErrorData> {
    let runs = runs.clone();
    args.policy("customer-data")
        .run(|l| async move {
            runs.record("lookup_customer");
            format!("customer {}", l.customer_id)
        })
        .await
}

#[derive(Clone, Default)]
struct Client;

impl ClientHandler for Client {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

/// Serves `shop` and connects a client to it over an in-process pipe.
/// Serves `server` to a new client over an in-process duplex pipe.
async fn connect<S: ServerHandler>(server: S) -> RunningService<RoleClient, Client> {
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        let server = server.serve(server_io).await.expect("server starts");
        let _ = server.waiting().await;
    });
    Client.serve(client_io).await.expect("client connects")
}

/// A [`Shop`] guarded by `guard`, connected: its runs and its client.
async fn guarded_shop(guard: Guard) -> (Runs, RunningService<RoleClient, Client>) {
    let runs = Runs::default();
    let client = connect(Shop::new(runs.clone(), Some(guard))).await;
    (runs, client)
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

async fn call(
    client: &RunningService<RoleClient, Client>,
    tool: &'static str,
    args: Value,
) -> Result<CallToolResult, ServiceError> {
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(obj(args)))
        .await
}

/// Asserts `result` is a tool error (`isError: true`) whose text says `says`.
fn assert_tool_error(result: &CallToolResult, says: &str) {
    assert_eq!(result.is_error, Some(true), "{}", text(result));
    assert!(text(result).contains(says), "{}", text(result));
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The clearance requests the mock received, as `(tool_name, tool_args, context)`.
fn asked(vault: &MockVault) -> Vec<(String, Value, Value)> {
    vault
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/request-clearance")
        .map(|r| {
            (
                r.body["tool_name"].as_str().unwrap_or_default().to_string(),
                r.body["tool_args"].clone(),
                r.body["context"].clone(),
            )
        })
        .collect()
}

fn refund_denied() -> Rule {
    Rule::tool("stripe_refund").deny("refunds are frozen")
}

/// A mock Vault that holds every `stripe_refund` for a human reviewer.
async fn refund_review_vault() -> MockVault {
    MockVault::builder()
        .rule(Rule::tool("stripe_refund").review())
        .start()
        .await
}

#[tokio::test]
async fn an_approved_tool_runs_once_under_its_token_bound_to_the_exact_arguments() {
    let vault = MockVault::builder().rule(refund_denied()).start().await;
    let manifest =
        Manifest::from_json(r#"{"enforce": [{"tool": "create_*", "policyId": "payments-prod", "context": {"risk_level": "high"}}]}"#)
            .unwrap();
    let (runs, client) =
        guarded_shop(Guard::new().client(&vault.client()).manifest(manifest)).await;

    // Extra fields and key order as the model wrote them: the Vault sees this very object.
    let args =
        json!({"customer_id": "cus_1", "amount": 1200, "currency": "usd", "note": "first order"});
    let result = call(&client, "create_stripe_payment", args.clone())
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(text(&result), "paid 1200 usd by cus_1");

    let ran = runs.of("create_stripe_payment");
    assert_eq!(ran.len(), 1, "the body ran exactly once");
    assert!(ran[0].token.is_some(), "current_token() works in the tool");
    assert_eq!(ran[0].claims_tool.as_deref(), Some("create_stripe_payment"));
    assert_eq!(
        ran[0].claims_args_hash.as_deref(),
        Some(ledgix::tool_args_hash(&obj(args.clone())).as_str())
    );

    let asked = asked(&vault);
    assert_eq!(asked.len(), 1);
    assert_eq!(
        asked[0].0, "create_stripe_payment",
        "the MCP tool name, unchanged"
    );
    assert_eq!(asked[0].1, args, "the arguments object exactly as sent");
    assert_eq!(
        asked[0].2["policy_id"], "payments-prod",
        "policy from the manifest"
    );
    assert_eq!(
        asked[0].2["risk_level"], "high",
        "context from the manifest"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_denied_tool_is_an_is_error_result_with_the_request_id_and_never_runs() {
    let vault = MockVault::builder().rule(refund_denied()).start().await;
    let (runs, client) = guarded_shop(Guard::new().client(&vault.client())).await;

    let result = call(
        &client,
        "stripe_refund",
        json!({"charge_id": "ch_1", "amount": 500}),
    )
    .await
    .expect("a denial is a tool result, not a protocol error");
    assert_eq!(result.is_error, Some(true));
    let message = text(&result);
    assert!(message.contains("The tool was not run"), "{message}");
    assert!(message.contains("refunds are frozen"), "{message}");
    let request_id = vault
        .ledger_entries()
        .into_iter()
        .map(|e| e.request_id)
        .find(|id| message.contains(&format!("request_id {id}")))
        .unwrap_or_else(|| panic!("no ledger request_id in {message}"));
    assert!(!request_id.is_empty());
    assert!(
        runs.of("stripe_refund").is_empty(),
        "the body ran zero times"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_review_approved_through_the_mock_runs_the_tool_once() {
    let vault = Arc::new(refund_review_vault().await);
    let (runs, client) = guarded_shop(Guard::new().client(&vault.client())).await;
    let client = Arc::new(client);

    let pending = {
        let client = client.clone();
        tokio::spawn(async move {
            call(
                &client,
                "stripe_refund",
                json!({"charge_id": "ch_9", "amount": 90}),
            )
            .await
        })
    };
    let request_id = vault.next_pending_review().await;
    assert!(
        runs.of("stripe_refund").is_empty(),
        "nothing runs before the reviewer decides"
    );
    vault.approve(&request_id).await;
    let result = pending.await.unwrap().unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(text(&result), "refunded 90 of ch_9");
    let ran = runs.of("stripe_refund");
    assert_eq!(ran.len(), 1);
    assert!(ran[0].token.is_some());
}

#[tokio::test]
async fn a_review_denied_through_the_mock_never_runs_the_tool() {
    let vault = refund_review_vault().await;
    let (runs, client) = guarded_shop(Guard::new().client(&vault.client())).await;
    let (result, ()) = tokio::join!(
        call(
            &client,
            "stripe_refund",
            json!({"charge_id": "ch_9", "amount": 90})
        ),
        async {
            let id = vault.next_pending_review().await;
            vault.deny(&id, "not this one").await;
        }
    );
    let result = result.unwrap();
    assert_tool_error(&result, "not this one");
    assert!(runs.of("stripe_refund").is_empty());
}

#[tokio::test]
async fn detach_mode_answers_at_once_that_a_reviewer_must_decide() {
    let vault = refund_review_vault().await;
    let config = vault
        .config()
        .to_builder()
        .review_mode(ReviewMode::Detach)
        .build()
        .unwrap();
    let (runs, client) =
        guarded_shop(Guard::new().client(&LedgixClient::new(config).unwrap())).await;
    let result = call(
        &client,
        "stripe_refund",
        json!({"charge_id": "ch_9", "amount": 90}),
    )
    .await
    .unwrap();
    assert_eq!(result.is_error, Some(true));
    let message = text(&result);
    let pending = vault.pending_reviews();
    assert_eq!(pending.len(), 1);
    assert!(
        message.contains("waiting for a human reviewer"),
        "{message}"
    );
    assert!(message.contains(&pending[0]), "{message}");
    assert!(runs.of("stripe_refund").is_empty());
}

#[tokio::test]
async fn wrong_typed_arguments_never_reach_the_vault() {
    let vault = MockVault::start().await;
    let (runs, client) = guarded_shop(Guard::new().client(&vault.client())).await;

    for (tool, args, problem) in [
        (
            "create_stripe_payment",
            json!({"amount": "1200", "currency": "usd", "customer_id": "c"}),
            "argument /amount: expected integer, found a string",
        ),
        (
            "create_stripe_payment",
            json!({"amount": -5, "currency": "usd", "customer_id": "c"}),
            "argument /amount: less than the minimum 0",
        ),
        (
            "stripe_refund",
            json!({"amount": 5}),
            "missing required argument `charge_id`",
        ),
        (
            "lookup_customer",
            json!({"customer_id": 42}),
            "argument /customer_id: expected string, found an integer",
        ),
    ] {
        let result = call(&client, tool, args.clone()).await.unwrap();
        assert_eq!(result.is_error, Some(true), "{tool} {args}");
        let message = text(&result);
        assert!(message.contains(problem), "{tool} {args}: {message}");
        assert!(message.contains("was not asked"), "{message}");
    }
    assert!(asked(&vault).is_empty(), "the Vault was never asked");
    assert!(runs.0.lock().unwrap().is_empty(), "no body ran");
}

#[tokio::test]
async fn without_a_published_schema_wrong_arguments_may_be_asked_about_but_never_run() {
    let vault = MockVault::start().await;
    let (runs, client) = guarded_shop(Guard::new().client(&vault.client())).await;
    let result = call(
        &client,
        "loose_refund",
        json!({"charge_id": 12, "amount": "x"}),
    )
    .await
    .unwrap();
    assert_tool_error(&result, "failed to deserialize parameters");
    assert_eq!(
        asked(&vault).len(),
        1,
        "nothing in the schema to check before asking"
    );
    assert!(runs.of("loose_refund").is_empty(), "the body never ran");
}

#[tokio::test]
async fn an_unreachable_vault_is_a_protocol_error_saying_the_tool_did_not_run() {
    let vault = MockVault::start().await;
    let config: Config = vault.config().to_builder().max_retries(1).build().unwrap();
    vault.shutdown().await;
    let (runs, client) =
        guarded_shop(Guard::new().client(&LedgixClient::new(config).unwrap())).await;
    let err = call(
        &client,
        "create_stripe_payment",
        json!({"amount": 1, "currency": "usd", "customer_id": "c"}),
    )
    .await
    .expect_err("an infrastructure failure is an error");
    let ServiceError::McpError(data) = err else {
        panic!("expected a JSON-RPC error, got {err:?}");
    };
    assert!(
        data.message.contains("The tool was not run"),
        "{}",
        data.message
    );
    assert!(data.message.contains("unavailable"), "{}", data.message);
    let extra = data.data.expect("data");
    assert_eq!(extra["tool_ran"], false);
    assert_eq!(extra["retryable"], true);
    assert_eq!(extra["code"], "ledgix_vault_unavailable");
    assert!(runs.0.lock().unwrap().is_empty());
}

/// A server whose only tool is the single-method path with its client given explicitly.
#[derive(Clone)]
struct Lookups {
    runs: Runs,
    client: LedgixClient,
    tool_router: ToolRouter<Self>,
}

#[tool_router]
impl Lookups {
    fn new(runs: Runs, client: LedgixClient, guard: Option<Guard>) -> Self {
        let router = Self::tool_router();
        Lookups {
            runs,
            client,
            tool_router: match guard {
                Some(guard) => guard.router(router),
                None => router,
            },
        }
    }

    #[tool(description = "Look up a customer")]
    async fn lookup_customer(
        &self,
        args: ledgix::rmcp::Parameters<Lookup>,
    ) -> Result<CallToolResponse, ErrorData> {
        assert_eq!(args.tool_name(), "lookup_customer");
        lookup(&self.runs, args.client(&self.client)).await
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Lookups {}

#[tokio::test]
async fn the_single_method_path_approves_denies_and_refuses_bad_arguments() {
    let vault = MockVault::builder()
        .rule(
            Rule::tool("lookup_customer")
                .when(|args| args["customer_id"] == "cus_blocked")
                .deny("blocked customer"),
        )
        .start()
        .await;
    let runs = Runs::default();
    let client = connect(Lookups::new(runs.clone(), vault.client(), None)).await;

    let result = call(&client, "lookup_customer", json!({"customer_id": "cus_1"}))
        .await
        .unwrap();
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(text(&result), "customer cus_1");
    let ran = runs.of("lookup_customer");
    assert_eq!(ran.len(), 1);
    assert!(ran[0].token.is_some());
    assert_eq!(ran[0].claims_tool.as_deref(), Some("lookup_customer"));

    let result = call(
        &client,
        "lookup_customer",
        json!({"customer_id": "cus_blocked"}),
    )
    .await
    .unwrap();
    assert_tool_error(&result, "blocked customer");
    assert!(text(&result).contains("request_id "), "{}", text(&result));

    let result = call(&client, "lookup_customer", json!({"customer_id": 7}))
        .await
        .unwrap();
    assert_tool_error(&result, "failed to deserialize parameters");

    assert_eq!(
        runs.of("lookup_customer").len(),
        1,
        "only the approved call ran"
    );
    let asked = asked(&vault);
    assert_eq!(
        asked.len(),
        2,
        "the wrong-typed call never reached the Vault"
    );
    assert!(asked.iter().all(|a| a.2["policy_id"] == "customer-data"));
}

#[tokio::test]
async fn router_and_method_together_ask_once() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    let guard = Guard::new().client(&vault.client());
    let client = connect(Lookups::new(runs.clone(), vault.client(), Some(guard))).await;

    for i in 0..3 {
        let result = call(
            &client,
            "lookup_customer",
            json!({"customer_id": format!("cus_{i}")}),
        )
        .await
        .unwrap();
        assert_eq!(result.is_error, Some(false), "{}", text(&result));
    }
    assert_eq!(runs.of("lookup_customer").len(), 3);
    assert_eq!(
        asked(&vault).len(),
        3,
        "one clearance per call: the method ran under the router's"
    );
}

#[tokio::test]
async fn tools_list_is_unchanged_by_the_guard() {
    let plain = Shop::tool_router().list_all();
    let guarded = Guard::new().router(Shop::tool_router()).list_all();
    assert_eq!(
        serde_json::to_value(&plain).unwrap(),
        serde_json::to_value(&guarded).unwrap()
    );
    let names: Vec<_> = guarded.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(
        names,
        [
            "create_stripe_payment",
            "lookup_customer",
            "loose_refund",
            "stripe_refund"
        ]
    );
    // The guarded single-method path publishes the schema of its arguments type.
    let lookup = guarded
        .iter()
        .find(|t| t.name == "lookup_customer")
        .unwrap();
    assert_eq!(
        lookup.input_schema["properties"]["customer_id"]["type"],
        "string"
    );
    assert_eq!(lookup.input_schema["required"], json!(["customer_id"]));
}

#[tokio::test]
async fn guard_router_keeps_disabled_routes_disabled() {
    let mut router = Shop::tool_router();
    router.disable_route("stripe_refund");
    let guarded = ledgix::rmcp::guard_router(router, None);
    assert!(!guarded.has_route("stripe_refund"));
    assert!(guarded.has_route("create_stripe_payment"));
}
