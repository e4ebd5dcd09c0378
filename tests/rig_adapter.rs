//! `ledgix::rig::Guarded` through rig's own dispatch (`rig_agent::tool::ToolSet`, as a rig
//! agent runs tools) against the mock Vault on loopback. Every failure path proves the inner
//! tool ran zero times.

mod support;

use std::sync::{Arc, Mutex};

use ledgix::mock::{MockVault, Rule};
use ledgix::rig::Guarded;
use ledgix::{LedgixClient, Manifest};
use rig_agent::core::tool::{PortableTool, Tool, ToolErrorKind, ToolResult};
use rig_agent::tool::{ToolContext, ToolSet};
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// What the inner tool saw in one run: its token and the claims' tool name.
type Seen = (Option<String>, Option<String>);

/// Every run of the inner tool.
#[derive(Clone, Default)]
struct Runs(Arc<Mutex<Vec<Seen>>>);

impl Runs {
    fn record(&self) {
        self.0.lock().unwrap().push((
            ledgix::current_token(),
            ledgix::current_claims().map(|c| c.tool.clone()),
        ));
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

#[derive(Debug)]
struct GatewayDown;

impl std::fmt::Display for GatewayDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("payment gateway down")
    }
}

impl std::error::Error for GatewayDown {}

#[derive(Deserialize)]
struct RefundArgs {
    charge_id: String,
    amount: u64,
}

/// A plain rig tool that knows nothing of Ledgix.
struct Refund {
    runs: Runs,
}

impl PortableTool for Refund {
    const NAME: &'static str = "stripe_refund";
    type Args = RefundArgs;
    type Output = String;
    type Error = GatewayDown;

    fn description(&self) -> String {
        "Refund a Stripe charge".into()
    }

    fn parameters(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "charge_id": {"type": "string", "minLength": 3},
                "amount": {"type": "integer", "minimum": 1},
                "currency": {"type": "string", "enum": ["usd", "eur"]}
            },
            "required": ["charge_id", "amount"]
        })
    }

    async fn call(&self, args: RefundArgs) -> Result<String, GatewayDown> {
        self.runs.record();
        if args.charge_id == "ch_down" {
            return Err(GatewayDown);
        }
        Ok(format!("refunded {} of {}", args.amount, args.charge_id))
    }
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn toolset(runs: &Runs, client: &LedgixClient) -> ToolSet {
    let mut set = ToolSet::default();
    set.add_tool(
        Guarded::new(Refund { runs: runs.clone() })
            .client(client)
            .policy("refunds-v1"),
    );
    set
}

async fn execute(set: &ToolSet, args: Value) -> ToolResult {
    set.execute("stripe_refund", args.to_string(), &mut ToolContext::new())
        .await
}

fn feedback(result: &ToolResult) -> String {
    result.output().as_text().unwrap_or_default().to_string()
}

#[tokio::test]
async fn the_model_sees_the_same_tool() {
    let runs = Runs::default();
    let plain = Refund { runs: runs.clone() };
    let guarded = Guarded::new(Refund { runs });
    assert_eq!(
        <Guarded<Refund> as Tool>::NAME,
        <Refund as PortableTool>::NAME
    );
    assert_eq!(
        Tool::description(&guarded),
        PortableTool::description(&plain)
    );
    assert_eq!(Tool::parameters(&guarded), PortableTool::parameters(&plain));
    let vault = MockVault::start().await;
    let set = toolset(&Runs::default(), &vault.client());
    let defs = set.tool_definitions();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0].name.to_string(), "stripe_refund");
    assert_eq!(defs[0].parameters, PortableTool::parameters(&plain));
}

#[tokio::test]
async fn approved_runs_the_tool_once_under_its_token_with_the_arguments_as_sent() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    let set = toolset(&runs, &vault.client());
    // An extra field the typed arguments drop: the Vault still sees it (and the token binds it).
    let args = json!({"amount": 4500, "charge_id": "ch_1", "reason": "duplicate"});
    let result = execute(&set, args.clone()).await;
    assert!(result.is_success(), "{result:?}: {}", feedback(&result));
    assert_eq!(feedback(&result), "refunded 4500 of ch_1");
    let ran = runs.0.lock().unwrap().clone();
    assert_eq!(ran.len(), 1);
    assert!(
        ran[0].0.is_some(),
        "current_token() works in the inner tool"
    );
    assert_eq!(ran[0].1.as_deref(), Some("stripe_refund"));
    let asked = support::mock::asked(&vault);
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["tool_name"], "stripe_refund");
    assert_eq!(asked[0]["tool_args"], args);
    assert_eq!(asked[0]["context"]["policy_id"], "refunds-v1");
}

#[tokio::test]
async fn a_denial_is_a_refusal_the_model_sees_and_the_tool_never_runs() {
    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("refunds are frozen"))
        .start()
        .await;
    let runs = Runs::default();
    let set = toolset(&runs, &vault.client());
    let result = execute(&set, json!({"charge_id": "ch_1", "amount": 5})).await;
    assert!(result.is_refused(), "{result:?}");
    let refusal = result.refusal().unwrap();
    assert_eq!(refusal.kind(), ToolErrorKind::PermissionDenied);
    assert_eq!(refusal.code(), Some("ledgix_denied"));
    assert_eq!(refusal.retryable(), Some(false));
    let text = feedback(&result);
    assert!(text.contains("The tool was not run"), "{text}");
    assert!(text.contains("refunds are frozen"), "{text}");
    let request_id = vault.ledger_entries()[0].request_id.clone();
    assert!(text.contains(&format!("request_id {request_id}")), "{text}");
    assert_eq!(runs.count(), 0, "the inner tool ran zero times");
}

#[tokio::test]
async fn a_review_approved_through_the_mock_runs_the_tool_once() {
    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").review())
        .start()
        .await;
    let runs = Runs::default();
    let set = toolset(&runs, &vault.client());
    let (result, ()) = tokio::join!(
        execute(&set, json!({"charge_id": "ch_7", "amount": 70})),
        async {
            let id = vault.next_pending_review().await;
            assert_eq!(runs.count(), 0, "nothing runs before the reviewer decides");
            vault.approve(&id).await;
        }
    );
    assert!(result.is_success(), "{}", feedback(&result));
    assert_eq!(runs.count(), 1);
}

#[tokio::test]
async fn wrong_arguments_never_reach_the_vault() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    let set = toolset(&runs, &vault.client());
    for (args, expected) in [
        // Does not parse as the tool's arguments.
        (json!({"charge_id": "ch_1", "amount": "5"}), "invalid type"),
        (json!({"charge_id": "ch_1"}), "missing field `amount`"),
        (json!(["ch_1", 5]), "must be a JSON object"),
        // Parses, but the published schema rules it out.
        (
            json!({"charge_id": "ch", "amount": 5}),
            "argument /charge_id: shorter than 3",
        ),
        (
            json!({"charge_id": "ch_1", "amount": 0}),
            "argument /amount: less than the minimum 1",
        ),
        (
            json!({"charge_id": "ch_1", "amount": 5, "currency": "gbp"}),
            "not one of the allowed values",
        ),
    ] {
        let result = execute(&set, args.clone()).await;
        assert!(result.is_error(), "{args}: {result:?}");
        assert!(
            result.is_error_kind(ToolErrorKind::InvalidArgs),
            "{args}: {result:?}"
        );
        assert!(
            feedback(&result).contains(expected),
            "{args}: {}",
            feedback(&result)
        );
    }
    assert!(
        support::mock::asked(&vault).is_empty(),
        "the Vault was never asked"
    );
    assert_eq!(runs.count(), 0);
}

#[tokio::test]
async fn the_inner_tools_own_error_passes_through_after_approval() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    let set = toolset(&runs, &vault.client());
    let result = execute(&set, json!({"charge_id": "ch_down", "amount": 5})).await;
    assert!(result.is_error() && !result.is_refused(), "{result:?}");
    assert_eq!(runs.count(), 1, "it ran, and failed on its own");
    assert_ne!(result.error().unwrap().code(), Some("ledgix_denied"));
}

#[tokio::test]
async fn an_unreachable_vault_is_an_error_saying_the_tool_did_not_run() {
    let vault = MockVault::start().await;
    let config = vault.config().to_builder().max_retries(1).build().unwrap();
    vault.shutdown().await;
    let runs = Runs::default();
    let set = toolset(&runs, &LedgixClient::new(config).unwrap());
    let result = execute(&set, json!({"charge_id": "ch_1", "amount": 5})).await;
    assert!(result.is_error() && !result.is_refused(), "{result:?}");
    let error = result.error().unwrap();
    assert_eq!(error.kind(), ToolErrorKind::Network);
    assert_eq!(error.retryable(), Some(true));
    assert_eq!(error.code(), Some("ledgix_vault_unavailable"));
    assert!(
        feedback(&result).contains("The tool was not run"),
        "{}",
        feedback(&result)
    );
    assert_eq!(runs.count(), 0);
}

#[tokio::test]
async fn policy_and_context_come_from_the_manifest_unless_given() {
    let vault = MockVault::start().await;
    let manifest = Manifest::from_json(
        r#"{"enforce": [{"tool": "stripe_*", "policyId": "financial-high-risk", "context": {"risk_level": "high"}}]}"#,
    )
    .unwrap();
    let runs = Runs::default();
    let mut set = ToolSet::default();
    set.add_tool(
        Guarded::new(Refund { runs: runs.clone() })
            .client(&vault.client())
            .manifest(&manifest)
            .context("ticket", "T-1"),
    );
    let result = execute(&set, json!({"charge_id": "ch_1", "amount": 5})).await;
    assert!(result.is_success(), "{}", feedback(&result));
    let asked = support::mock::asked(&vault);
    assert_eq!(asked[0]["context"]["policy_id"], "financial-high-risk");
    assert_eq!(asked[0]["context"]["risk_level"], "high");
    assert_eq!(asked[0]["context"]["ticket"], "T-1");
    assert_eq!(
        ledgix::tool_args_hash(&obj(asked[0]["tool_args"].clone())),
        ledgix::tool_args_hash(&obj(json!({"charge_id": "ch_1", "amount": 5})))
    );
}
