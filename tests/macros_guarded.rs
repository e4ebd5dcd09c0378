//! `#[ledgix::guarded]` against the mock Vault (a real HTTP server on loopback, real Ed25519
//! tokens): what is sent, when the body runs, which token it sees.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};

use ledgix::mock::{MockVault, RecordedRequest, Rule};
use serde::Serialize;
use serde_json::{Value, json};

#[derive(Debug)]
enum PayError {
    Ledgix(ledgix::Error),
    Declined(String),
}

impl From<ledgix::Error> for PayError {
    fn from(e: ledgix::Error) -> Self {
        PayError::Ledgix(e)
    }
}

/// The clearance requests the Vault received, as JSON bodies.
fn clearances(vault: &MockVault) -> Vec<Value> {
    vault
        .requests()
        .into_iter()
        .filter(|r: &RecordedRequest| r.method == "POST" && r.path == "/request-clearance")
        .map(|r| r.body)
        .collect()
}

fn only_clearance(vault: &MockVault) -> Value {
    let mut all = clearances(vault);
    assert_eq!(
        all.len(),
        1,
        "expected exactly one clearance request: {all:#?}"
    );
    all.remove(0)
}

// ---------------------------------------------------------------------------------------------
// approved / denied

#[ledgix::guarded(
    tool = "create_stripe_payment",
    policy = "payments-prod",
    skip(card_cvc, runs),
    context(risk_level = "high", "max-amount" = 500, strict = true)
)]
async fn create_payment(
    amount: f64,
    customer_id: String,
    card_cvc: String,
    _trace: u64,
    runs: &AtomicUsize,
) -> Result<String, PayError> {
    runs.fetch_add(1, Ordering::SeqCst);
    let token = ledgix::current_token().expect("the body runs inside the clearance scope");
    let claims = ledgix::current_claims().expect("verified claims are in scope");
    assert_eq!(claims.tool, "create_stripe_payment");
    assert!(!token.is_empty());
    if amount > 1000.0 {
        return Err(PayError::Declined(card_cvc));
    }
    Ok(format!("pay_{customer_id}_{token}"))
}

#[tokio::test]
async fn approved_call_sends_exactly_the_unskipped_params_policy_and_context() {
    let vault = MockVault::start().await;
    let runs = AtomicUsize::new(0);
    let out = vault
        .scope(create_payment(45.5, "cus_1".into(), "123".into(), 7, &runs))
        .await
        .expect("approved");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(
        out.starts_with("pay_cus_1_ey"),
        "the body saw the A-JWT: {out}"
    );
    assert_eq!(
        ledgix::current_token(),
        None,
        "no clearance outside the call"
    );

    let sent = only_clearance(&vault);
    assert_eq!(sent["tool_name"], "create_stripe_payment");
    assert_eq!(
        sent["tool_args"],
        json!({"amount": 45.5, "customer_id": "cus_1"}),
        "card_cvc and runs (skipped) and _trace (`_`-prefixed) are not sent"
    );
    assert_eq!(
        sent["context"],
        json!({"policy_id": "payments-prod", "risk_level": "high", "max-amount": 500, "strict": true})
    );
}

#[tokio::test]
async fn body_errors_come_back_unchanged() {
    let vault = MockVault::start().await;
    let runs = AtomicUsize::new(0);
    let err = vault
        .scope(create_payment(
            5000.0,
            "cus_2".into(),
            "999".into(),
            0,
            &runs,
        ))
        .await
        .expect_err("the body declined");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(
        matches!(err, PayError::Declined(ref cvc) if cvc == "999"),
        "{err:?}"
    );
}

#[tokio::test]
async fn denied_call_never_runs_the_body() {
    let vault = MockVault::builder()
        .rule(Rule::tool("create_stripe_payment").deny("card testing suspected"))
        .start()
        .await;
    let runs = AtomicUsize::new(0);
    let err = vault
        .scope(create_payment(10.0, "cus_3".into(), "000".into(), 0, &runs))
        .await
        .expect_err("denied");
    match err {
        PayError::Ledgix(e) => {
            assert!(e.is_denied(), "{e:?}");
            assert!(e.to_string().contains("card testing suspected"), "{e}");
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(clearances(&vault).len(), 1);
    assert_eq!(
        runs.load(Ordering::SeqCst),
        0,
        "the body ran although the Vault denied"
    );
}

// ---------------------------------------------------------------------------------------------
// nothing is sent when an argument cannot be serialized

static MAP_RUN: AtomicUsize = AtomicUsize::new(0);

#[ledgix::guarded]
async fn with_map(weights: BTreeMap<(u8, u8), u8>) -> Result<usize, ledgix::Error> {
    MAP_RUN.fetch_add(1, Ordering::SeqCst);
    Ok(weights.len())
}

#[tokio::test]
async fn an_argument_that_fails_to_serialize_stops_the_call_before_the_vault() {
    let vault = MockVault::start().await;
    let mut weights = BTreeMap::new();
    weights.insert((1, 2), 3);
    let err = vault
        .scope(with_map(weights))
        .await
        .expect_err("JSON keys must be strings");
    assert!(
        matches!(err, ledgix::Error::ToolArgs(ref m) if m.contains("weights")),
        "{err:?}"
    );
    assert_eq!(MAP_RUN.load(Ordering::SeqCst), 0);
    assert!(clearances(&vault).is_empty(), "nothing was sent");
}

// ---------------------------------------------------------------------------------------------
// nested calls and spawned tasks

#[ledgix::guarded]
async fn inner_tool(n: u32) -> Result<(u32, String), ledgix::Error> {
    let claims = ledgix::current_claims().expect("inner claims");
    assert_eq!(claims.tool, "inner_tool");
    Ok((n, ledgix::current_token().expect("inner token")))
}

#[ledgix::guarded]
async fn outer_tool(n: u32) -> Result<(String, String, String), ledgix::Error> {
    let outer = ledgix::current_token().expect("outer token");
    let (_, inner) = inner_tool(n + 1).await?;
    let after = ledgix::current_token().expect("outer token again");
    assert_eq!(ledgix::current_claims().expect("claims").tool, "outer_tool");
    Ok((outer, inner, after))
}

#[tokio::test]
async fn nested_calls_shadow_then_restore_the_outer_clearance() {
    let vault = MockVault::start().await;
    let (outer, inner, after) = vault.scope(outer_tool(1)).await.expect("both approved");
    assert_ne!(outer, inner, "the inner call has its own token");
    assert_eq!(outer, after, "the outer token is back after the inner call");
    let sent = clearances(&vault);
    let tools: Vec<&Value> = sent.iter().map(|b| &b["tool_name"]).collect();
    assert_eq!(tools, [&json!("outer_tool"), &json!("inner_tool")]);
    assert_eq!(sent[1]["tool_args"], json!({"n": 2}));
}

#[ledgix::guarded]
async fn spawns_work(
    label: String,
) -> Result<(String, Option<String>, Option<String>), ledgix::Error> {
    let mine = ledgix::current_token().expect("token");
    let carried = tokio::spawn(ledgix::propagate(async { ledgix::current_token() }))
        .await
        .expect("task");
    let bare = tokio::spawn(async { ledgix::current_token() })
        .await
        .expect("task");
    let _ = label;
    Ok((mine, carried, bare))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagate_carries_the_clearance_into_spawned_tasks() {
    let vault = MockVault::start().await;
    let (mine, carried, bare) = vault
        .scope(spawns_work("x".into()))
        .await
        .expect("approved");
    assert_eq!(carried.as_deref(), Some(mine.as_str()));
    assert_eq!(
        bare, None,
        "task-locals do not cross tokio::spawn by themselves"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guarded_futures_are_send_and_run_on_other_threads() {
    let vault = MockVault::start().await;
    let client = vault.client();
    let handle = tokio::spawn(ledgix::with_client(client, inner_tool(41)));
    let (n, token) = handle.await.expect("task").expect("approved");
    assert_eq!(n, 41);
    assert!(!token.is_empty());
}

// ---------------------------------------------------------------------------------------------
// methods and the explicit client

struct Payments {
    ledgix: ledgix::LedgixClient,
    refunds: u32,
}

impl Payments {
    #[ledgix::guarded(client = self.ledgix.clone(), policy = "refund_policy_v1")]
    async fn refund(&self, charge_id: &str, amount: u64) -> Result<String, ledgix::Error> {
        Ok(format!("re_{charge_id}_{amount}"))
    }

    #[ledgix::guarded(client = &self.ledgix)]
    async fn count_refund(&mut self, by: u32) -> Result<u32, ledgix::Error> {
        self.refunds += by;
        Ok(self.refunds)
    }

    #[ledgix::guarded(client = self.ledgix.clone(), tool = "close_account")]
    async fn close(self, reason: String) -> Result<(u32, String), ledgix::Error> {
        Ok((self.refunds, reason))
    }
}

#[tokio::test]
async fn methods_with_an_explicit_client() {
    let vault = MockVault::start().await;
    let mut payments = Payments {
        ledgix: vault.client(),
        refunds: 0,
    };
    // no scope: the explicit `client = ..` is what reaches this vault
    assert_eq!(
        payments.refund("ch_1", 45).await.expect("approved"),
        "re_ch_1_45"
    );
    assert_eq!(payments.count_refund(2).await.expect("approved"), 2);
    assert_eq!(payments.count_refund(3).await.expect("approved"), 5);
    assert_eq!(
        payments.close("done".into()).await.expect("approved"),
        (5, "done".into())
    );

    let sent = clearances(&vault);
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[0]["tool_name"], "refund");
    assert_eq!(
        sent[0]["tool_args"],
        json!({"charge_id": "ch_1", "amount": 45})
    );
    assert_eq!(sent[0]["context"]["policy_id"], "refund_policy_v1");
    assert_eq!(sent[1]["tool_args"], json!({"by": 2}), "self is not sent");
    assert_eq!(sent[3]["tool_name"], "close_account");
    assert_eq!(sent[3]["tool_args"], json!({"reason": "done"}));
}

#[tokio::test]
async fn a_scoped_client_wins_over_the_explicit_one() {
    let scoped = MockVault::start().await;
    let explicit = MockVault::start().await;
    let payments = Payments {
        ledgix: explicit.client(),
        refunds: 0,
    };
    scoped
        .scope(payments.refund("ch_2", 1))
        .await
        .expect("approved");
    assert_eq!(clearances(&scoped).len(), 1);
    assert!(clearances(&explicit).is_empty());
}

// ---------------------------------------------------------------------------------------------
// generics, impl Trait, references

#[derive(Serialize)]
struct Invoice {
    id: String,
    lines: Vec<u32>,
}

#[ledgix::guarded]
async fn file_invoice<T: Serialize + Send + Sync>(
    invoice: &T,
    note: impl Serialize + Send,
    tags: &[&str],
) -> Result<usize, ledgix::Error> {
    let _ = (invoice, note);
    Ok(tags.len())
}

#[tokio::test]
async fn generic_impl_trait_and_reference_params_are_sent_as_json() {
    let vault = MockVault::start().await;
    let invoice = Invoice {
        id: "inv_1".into(),
        lines: vec![1, 2],
    };
    let n = vault
        .scope(file_invoice(&invoice, Some(3.5), &["a", "b"]))
        .await
        .expect("approved");
    assert_eq!(n, 2);
    assert_eq!(
        only_clearance(&vault)["tool_args"],
        json!({"invoice": {"id": "inv_1", "lines": [1, 2]}, "note": 3.5, "tags": ["a", "b"]})
    );
}

// ---------------------------------------------------------------------------------------------
// traits: native async fn, async_trait (behind `dyn`)

trait Tool {
    async fn call(&self, query: String) -> Result<String, ledgix::Error>;
}

struct Search;

impl Tool for Search {
    #[ledgix::guarded(tool = "web_search")]
    async fn call(&self, query: String) -> Result<String, ledgix::Error> {
        Ok(query.to_uppercase())
    }
}

static DYN_RUN: AtomicUsize = AtomicUsize::new(0);

#[async_trait::async_trait]
trait DynTool: Send + Sync {
    async fn invoke(&self, target: String, api_key: String) -> Result<String, PayError>;
}

struct Transfer;

#[async_trait::async_trait]
impl DynTool for Transfer {
    #[ledgix::guarded(tool = "wire_transfer", skip(api_key), policy = "treasury")]
    async fn invoke(&self, target: String, api_key: String) -> Result<String, PayError> {
        DYN_RUN.fetch_add(1, Ordering::SeqCst);
        assert!(ledgix::current_token().is_some());
        let _ = api_key;
        Ok(format!("sent to {target}"))
    }
}

#[tokio::test]
async fn trait_methods_native_and_async_trait() {
    let vault = MockVault::builder()
        .rule(
            Rule::tool("wire_transfer")
                .when(|args| args["target"] == "mallory")
                .deny("blocked"),
        )
        .start()
        .await;
    assert_eq!(
        vault.scope(Search.call("rust".into())).await.expect("ok"),
        "RUST"
    );

    let tool: Box<dyn DynTool> = Box::new(Transfer);
    let out = vault
        .scope(tool.invoke("alice".into(), "sk_live".into()))
        .await
        .expect("approved");
    assert_eq!(out, "sent to alice");
    assert_eq!(DYN_RUN.load(Ordering::SeqCst), 1);
    let denied = vault
        .scope(tool.invoke("mallory".into(), "sk_live".into()))
        .await
        .expect_err("denied");
    assert!(
        matches!(denied, PayError::Ledgix(ref e) if e.is_denied()),
        "{denied:?}"
    );
    assert_eq!(
        DYN_RUN.load(Ordering::SeqCst),
        1,
        "the denied body did not run"
    );

    let sent = clearances(&vault);
    assert_eq!(sent[0]["tool_name"], "web_search");
    assert_eq!(sent[0]["tool_args"], json!({"query": "rust"}));
    assert_eq!(sent[1]["tool_name"], "wire_transfer");
    assert_eq!(
        sent[1]["tool_args"],
        json!({"target": "alice"}),
        "api_key skipped"
    );
    assert_eq!(sent[1]["context"], json!({"policy_id": "treasury"}));
}

// ---------------------------------------------------------------------------------------------
// recursion

#[path = "ui/pass/recursive.rs"]
mod recursive;
use recursive::{countdown, factorial};

#[tokio::test]
async fn recursive_calls_each_ask_the_vault() {
    let vault = MockVault::start().await;
    assert_eq!(vault.scope(countdown(3)).await.expect("approved"), 3);
    assert_eq!(vault.scope(factorial(4)).await.expect("approved"), 24);
    let sent = clearances(&vault);
    let args: Vec<(&Value, &Value)> = sent
        .iter()
        .map(|b| (&b["tool_name"], &b["tool_args"]))
        .collect();
    assert_eq!(
        args,
        [
            (&json!("countdown"), &json!({"n": 3})),
            (&json!("countdown"), &json!({"n": 2})),
            (&json!("countdown"), &json!({"n": 1})),
            (&json!("countdown"), &json!({"n": 0})),
            (&json!("factorial"), &json!({"n": 4})),
            (&json!("factorial"), &json!({"n": 3})),
            (&json!("factorial"), &json!({"n": 2})),
            (&json!("factorial"), &json!({"n": 1})),
        ]
    );
}

#[tokio::test]
async fn a_denied_inner_call_stops_the_recursion() {
    let vault = MockVault::builder()
        .rule(
            Rule::tool("factorial")
                .when(|args| args["n"] == 2)
                .deny("too deep"),
        )
        .start()
        .await;
    let err = vault
        .scope(factorial(4))
        .await
        .expect_err("denied at n = 2");
    assert!(err.is_denied(), "{err:?}");
    assert_eq!(
        clearances(&vault).len(),
        3,
        "n = 4, 3, 2; n = 1 never asked"
    );
}

// ---------------------------------------------------------------------------------------------
// the body in its own block: one-line bodies, a `use` that shadows the return type, early returns

static ONE_LINE_RUNS: AtomicUsize = AtomicUsize::new(0);
static SHADOW_RUNS: AtomicUsize = AtomicUsize::new(0);

mod shadow {
    pub type Result = std::result::Result<u64, ledgix::Error>;
}

#[rustfmt::skip]
#[ledgix::guarded]
async fn one_line(id: String) -> Result<String, ledgix::Error> { ONE_LINE_RUNS.fetch_add(1, Ordering::SeqCst); Ok(id) }

#[ledgix::guarded]
fn boxed_shadowing(n: u64) -> Pin<Box<dyn Future<Output = Result<u64, ledgix::Error>> + Send>> {
    Box::pin(async move {
        use shadow::Result;
        SHADOW_RUNS.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            return Ok(0);
        }
        let doubled: Result = Ok(n * 2);
        doubled
    })
}

#[tokio::test]
async fn bodies_in_their_own_block_run_only_on_approval_and_return_as_written() {
    let denying = MockVault::builder()
        .rule(Rule::tool("*").deny("no"))
        .start()
        .await;
    let err = denying
        .scope(one_line("a".into()))
        .await
        .expect_err("denied");
    assert!(err.is_denied(), "{err:?}");
    let err = denying.scope(boxed_shadowing(4)).await.expect_err("denied");
    assert!(err.is_denied(), "{err:?}");
    assert_eq!(ONE_LINE_RUNS.load(Ordering::SeqCst), 0);
    assert_eq!(SHADOW_RUNS.load(Ordering::SeqCst), 0);

    let vault = MockVault::start().await;
    let out = vault
        .scope(async {
            Ok::<_, ledgix::Error>((
                one_line("a".into()).await?,
                boxed_shadowing(4).await?,
                boxed_shadowing(0).await?,
            ))
        })
        .await
        .expect("approved");
    assert_eq!(out, ("a".to_string(), 8, 0));
    assert_eq!(ONE_LINE_RUNS.load(Ordering::SeqCst), 1);
    assert_eq!(SHADOW_RUNS.load(Ordering::SeqCst), 2);
}
