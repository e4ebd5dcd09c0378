//! The decision cache against the mock Vault, asserting the wire: a cached approval is never a
//! token; a hit asks `POST /mint-token` for a fresh one, verified, bound and used once before
//! the body runs; every field that can change a decision is in the key; expiry, `clear_cache`,
//! eviction, single-flight; every mint failure fails closed.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use ledgix::mock::{Fault, MockVault, RecordedRequest, Rule};
use ledgix::{
    ClearanceRequest, ClearanceResponse, ConfigBuilder, Error, LedgixClient, TokenVerifier,
    ToolCall, current_token, tool_args_hash,
};
use serde_json::{Map, Value, json};

const TOOL: &str = "stripe_refund";

/// A client of `vault` with the decision cache on, tuned by `tune`. Counterparty hints off: the
/// tests compare the wire with exactly the fields they set (the hints have their own tests in
/// parity_fields.rs, and the cache key covers them like any other field).
fn cached(vault: &MockVault, tune: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> LedgixClient {
    let builder = vault
        .config()
        .to_builder()
        .decision_cache(true)
        .counterparty_hints(false);
    LedgixClient::new(tune(builder).build().unwrap()).unwrap()
}

/// The requests to `path`, in order.
fn posts(vault: &MockVault, path: &str) -> Vec<RecordedRequest> {
    vault
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .collect()
}

fn decisions(vault: &MockVault) -> usize {
    posts(vault, "/request-clearance").len()
}

fn mints(vault: &MockVault) -> usize {
    posts(vault, "/mint-token").len()
}

fn refund(amount: i64) -> ToolCall {
    ToolCall::new(TOOL)
        .arg("amount", &amount)
        .arg("charge_id", &"ch_3Pxyz")
        .policy("refund_policy_v1")
}

/// Runs `call` with `client`: the token the body saw and the clearance, counting body runs.
async fn run(
    client: &LedgixClient,
    call: ToolCall,
    runs: &AtomicUsize,
) -> Result<(String, Arc<ClearanceResponse>), Error> {
    call.client(client)
        .run_with_clearance(async {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Error>(current_token().expect("the body runs under a token"))
        })
        .await
}

fn verifier(vault: &MockVault) -> TokenVerifier {
    TokenVerifier::from_jwks_json(&vault.trusted_keys_json(), "alcv-vault", "ledgix-sdk").unwrap()
}

fn args_of(call: &ToolCall) -> Map<String, Value> {
    call.request().tool_args.clone()
}

#[tokio::test]
async fn two_identical_calls_are_one_decision_and_one_mint_with_two_single_use_tokens() {
    let vault = MockVault::start().await;
    let client = cached(&vault, |b| b.agent_id("payments-agent"));
    let runs = AtomicUsize::new(0);

    let (first_token, first) = run(&client, refund(45), &runs).await.unwrap();
    let (second_token, second) = run(&client, refund(45), &runs).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!((decisions(&vault), mints(&vault)), (1, 1));

    // The mint names the cached decision and carries the call, in the peers' shape.
    let mint = posts(&vault, "/mint-token").remove(0);
    let key = mint.header("idempotency-key").expect("an Idempotency-Key");
    assert_eq!(key.len(), 36, "{key}");
    assert_eq!(
        mint.body,
        json!({
            "tool_name": TOOL,
            "tool_args": {"amount": 45, "charge_id": "ch_3Pxyz"},
            "agent_id": "payments-agent",
            "session_id": "",
            "policy_id": "refund_policy_v1",
            "policy_version_id": first.policy_version_id.clone().unwrap(),
            "policy_content_hash": first.policy_content_hash.clone().unwrap(),
            "original_request_id": first.request_id,
            "confidence_bucket": "extra_high",
            "reason": first.reason,
            "destination_uri": "",
            "destination_provider": "",
            "destination_account_ref": "",
            "data_categories": [],
            "purpose": "",
            "processing_register_ref": "",
            "dataset_ref": "",
        })
    );
    assert!(first.policy_version_id.is_some() && first.policy_content_hash.is_some());

    // Two distinct tokens, the second bound to the same tool and arguments.
    assert_ne!(first_token, second_token);
    let check = verifier(&vault);
    let a = check.verify(&first_token).unwrap();
    let b = check.verify(&second_token).unwrap();
    assert_ne!(a.jti, b.jti);
    assert_eq!(b.tool, TOOL);
    assert_eq!(b.tool_args_hash, tool_args_hash(&args_of(&refund(45))));
    assert_eq!(b.tool_args_hash, a.tool_args_hash);
    assert_eq!(second.token.as_deref(), Some(second_token.as_str()));

    // Single use: both already ran a body.
    for token in [&first_token, &second_token] {
        let again = client.verify_token(token).await;
        assert!(
            matches!(again, Err(Error::ReplayDetected { .. })),
            "{again:?}"
        );
    }

    // The mint is a decision of its own in the ledger.
    assert_ne!(second.request_id, first.request_id);
    let entries = vault.ledger_entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].request_id, second.request_id);
    assert!(entries[1].approved);
    assert!(
        entries[1].reason.contains(&first.request_id),
        "{}",
        entries[1].reason
    );
    vault.seal().await;
    let bundle = client
        .fetch_ledger_proof_bundle(&second.request_id)
        .await
        .unwrap();
    let verified = client.verify_ledger_proof_bundle(&bundle).await.unwrap();
    assert_eq!(verified.request_id, second.request_id);
}

#[tokio::test]
async fn the_cache_is_off_by_default() {
    let vault = MockVault::start().await;
    let client = vault.client();
    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        run(&client, refund(45), &runs).await.unwrap();
    }
    assert_eq!(
        (decisions(&vault), mints(&vault), runs.into_inner()),
        (3, 0, 3)
    );
}

/// One field of the request changed from the base call.
type Change = fn(ClearanceRequest) -> ClearanceRequest;

#[tokio::test]
async fn every_field_that_can_change_a_decision_asks_for_a_new_one() {
    let base = || {
        ClearanceRequest::new(TOOL)
            .arg("amount", 45)
            .agent_id("payments-agent")
            .session_id("checkout-1")
            .policy("refund_policy_v1")
    };
    let cases: &[(&str, Change)] = &[
        ("other arguments", |r| r.arg("amount", 46)),
        ("one more argument", |r| r.arg("note", "x")),
        ("another session", |r| r.session_id("checkout-2")),
        ("another agent", |r| r.agent_id("other-agent")),
        ("another policy", |r| r.policy("refund_policy_v2")),
        ("other context", |r| r.context("customer_tier", "gold")),
        ("another principal", |mut r| {
            r.human_principal = Some("user-7".into());
            r
        }),
        ("a parent token", |mut r| {
            r.parent_jti = Some("jti-parent".into());
            r
        }),
        ("another destination", |mut r| {
            r.destination_uri = Some("https://api.stripe.com/v1/refunds".into());
            r
        }),
        ("another provider", |mut r| {
            r.destination_provider = Some("stripe".into());
            r
        }),
        ("another account", |mut r| {
            r.destination_account_ref = Some("acct_1".into());
            r
        }),
        ("data categories", |mut r| {
            r.data_categories = Some(vec!["payment".into()]);
            r
        }),
        ("a purpose", |mut r| {
            r.purpose = Some("refund".into());
            r
        }),
        ("a register", |mut r| {
            r.processing_register_ref = Some("ropa-12".into());
            r
        }),
        ("a dataset", |mut r| {
            r.dataset_ref = Some("charges".into());
            r
        }),
        ("a field a later protocol adds", |mut r| {
            r.extra.insert("risk_tier".into(), json!("high"));
            r
        }),
    ];
    for (case, change) in cases {
        let vault = MockVault::start().await;
        let client = cached(&vault, |b| b);
        client.request_clearance(&base()).await.unwrap();
        client.request_clearance(&base()).await.unwrap();
        assert_eq!((decisions(&vault), mints(&vault)), (1, 1), "{case}: base");
        client.request_clearance(&change(base())).await.unwrap();
        assert_eq!(
            (decisions(&vault), mints(&vault)),
            (2, 1),
            "{case}: a new decision"
        );
        // ... cached on its own: the same changed call again is a mint.
        client.request_clearance(&change(base())).await.unwrap();
        assert_eq!(
            (decisions(&vault), mints(&vault)),
            (2, 2),
            "{case}: then a mint"
        );
        let last = posts(&vault, "/request-clearance").pop().unwrap();
        let changed = serde_json::to_value(change(base())).unwrap();
        assert_eq!(
            last.body, changed,
            "{case}: the field went on the wire as set"
        );
    }

    // A per-attempt field (an id stamped on each attempt) shares the decision.
    let vault = MockVault::start().await;
    let client = cached(&vault, |b| b);
    for attempt in 0..3 {
        let mut request = base();
        request.extra.insert(
            "client_request_id".into(),
            json!(format!("attempt-{attempt}")),
        );
        client.request_clearance(&request).await.unwrap();
    }
    assert_eq!((decisions(&vault), mints(&vault)), (1, 2));
}

#[tokio::test]
async fn entries_expire_and_clear_cache_forgets_them() {
    let vault = MockVault::start().await;
    let client = cached(&vault, |b| b.decision_cache_ttl(Duration::from_secs(1)));
    let runs = AtomicUsize::new(0);
    run(&client, refund(45), &runs).await.unwrap();
    run(&client, refund(45), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (1, 1));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    run(&client, refund(45), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (2, 1), "expired");
    run(&client, refund(45), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (2, 2));

    // Clones share the cache; clear_cache on one clears it for all.
    let clone = client.clone();
    clone.clear_cache();
    run(&client, refund(45), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (3, 2), "cleared");
    run(&clone, refund(45), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (3, 3));
    assert_eq!(runs.into_inner(), 6);
}

#[tokio::test]
async fn the_cache_is_bounded_and_evicts_the_oldest() {
    let vault = MockVault::start().await;
    let client = cached(&vault, |b| b.decision_cache_max_entries(2));
    let runs = AtomicUsize::new(0);
    for amount in [1, 2, 3] {
        run(&client, refund(amount), &runs).await.unwrap();
    }
    assert_eq!((decisions(&vault), mints(&vault)), (3, 0));
    run(&client, refund(3), &runs).await.unwrap();
    run(&client, refund(2), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (3, 2), "2 and 3 kept");
    run(&client, refund(1), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (4, 2), "1 was evicted");
    // Inserting 1 evicted 2, the oldest then.
    run(&client, refund(2), &runs).await.unwrap();
    assert_eq!((decisions(&vault), mints(&vault)), (5, 2));
}

/// A mint fault and how the failed call must fail.
type Failed = fn(&Error) -> bool;

#[tokio::test]
async fn every_mint_failure_fails_closed_and_drops_the_entry() {
    let cases: Vec<(&str, Fault, Failed)> = vec![
        (
            "mint answer without a token",
            Fault::mint_without_token().times(1),
            |e| matches!(e, Error::Protocol(m) if m.contains("without a token")),
        ),
        (
            "minted token for another tool",
            Fault::token_for_tool("stripe_payout").on_mint().times(1),
            |e| matches!(e, Error::TokenVerification(_)),
        ),
        (
            "minted token for other arguments",
            Fault::token_for_args(json!({"amount": 4500, "charge_id": "ch_3Pxyz"}))
                .on_mint()
                .times(1),
            |e| matches!(e, Error::TokenVerification(_)),
        ),
        (
            "minted token under a key outside the JWKS",
            Fault::wrong_signing_key().on_mint().times(1),
            |e| matches!(e, Error::TokenVerification(_)),
        ),
        (
            "mint answer that is not JSON",
            Fault::malformed_body().on_mint().times(1),
            |e| matches!(e, Error::Protocol(_)),
        ),
        (
            "mint keeps failing with 503 (one retry)",
            Fault::status(503).on_mint().times(2),
            |e| matches!(e, Error::Http { status: 503, .. }),
        ),
        (
            "mint refused with 401",
            Fault::status(401).on_mint().times(1),
            |e| matches!(e, Error::Http { status: 401, .. }),
        ),
    ];
    for (case, fault, expected) in cases {
        let vault = MockVault::start().await;
        let client = cached(&vault, |b| b.max_retries(1));
        let runs = AtomicUsize::new(0);
        run(&client, refund(45), &runs).await.unwrap();
        vault.inject(fault);
        let failed = run(&client, refund(45), &runs).await;
        let err = failed.expect_err(case);
        assert!(expected(&err), "{case}: {err:?}");
        assert!(!err.is_denied(), "{case}: not a denial: {err:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{case}: the body ran");
        assert_eq!(
            decisions(&vault),
            1,
            "{case}: no fresh decision on this call"
        );
        assert!(mints(&vault) >= 1, "{case}");
        // The entry is gone: the next call is decided afresh (and runs once).
        let mints_before = mints(&vault);
        run(&client, refund(45), &runs).await.unwrap();
        assert_eq!(decisions(&vault), 2, "{case}: entry dropped");
        assert_eq!(mints(&vault), mints_before, "{case}");
        assert_eq!(runs.load(Ordering::SeqCst), 2, "{case}");
    }
}

#[tokio::test]
async fn a_mint_refusal_drops_the_entry_and_the_call_asks_for_a_fresh_decision() {
    let vault = MockVault::start().await;
    let client = cached(&vault, |b| b);
    let runs = AtomicUsize::new(0);
    let (_, first) = run(&client, refund(45), &runs).await.unwrap();
    vault.inject(Fault::mint_refused().times(1));
    let (_, second) = run(&client, refund(45), &runs).await.unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the body ran once per call");
    let paths: Vec<String> = vault
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path)
        .collect();
    assert_eq!(
        paths,
        ["/request-clearance", "/mint-token", "/request-clearance"],
        "refused, then decided afresh"
    );
    assert_ne!(second.request_id, first.request_id);
    // The fresh decision was cached: the next call mints from it.
    run(&client, refund(45), &runs).await.unwrap();
    let mint = posts(&vault, "/mint-token").pop().unwrap();
    assert_eq!(mint.body["original_request_id"], json!(second.request_id));
}

#[tokio::test]
async fn a_changed_policy_refuses_the_mint_and_the_fresh_decision_denies_with_no_run() {
    let frozen = Arc::new(AtomicBool::new(false));
    let flag = frozen.clone();
    let vault = MockVault::builder()
        .rule(
            Rule::tool(TOOL)
                .when(move |_| flag.load(Ordering::SeqCst))
                .deny("refunds are frozen"),
        )
        .start()
        .await;
    let client = cached(&vault, |b| b);
    let runs = AtomicUsize::new(0);
    run(&client, refund(45), &runs).await.unwrap();
    // The operator freezes refunds: a new policy version.
    frozen.store(true, Ordering::SeqCst);
    vault.new_policy_version();
    let denied = run(&client, refund(45), &runs).await;
    assert!(
        matches!(&denied, Err(Error::Denied(d)) if d.reason == "refunds are frozen"),
        "{denied:?}"
    );
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "no run under the stale decision"
    );
    assert_eq!((decisions(&vault), mints(&vault)), (2, 1));
    // Denials are not cached: asked again each time.
    assert!(run(&client, refund(45), &runs).await.is_err());
    assert_eq!((decisions(&vault), mints(&vault)), (3, 1));
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_identical_calls_make_one_decision() {
    let vault = MockVault::builder()
        // The first decision is slow, so every call misses while it is under way.
        .fault(Fault::delay(Duration::from_millis(500)).times(1))
        .start()
        .await;
    let client = cached(&vault, |b| b);
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let client = client.clone();
        let runs = runs.clone();
        tasks.push(tokio::spawn(async move {
            run(&client, refund(45), &runs).await
        }));
    }
    let mut tokens = HashSet::new();
    for task in tasks {
        let (token, _) = task.await.unwrap().unwrap();
        tokens.insert(token);
    }
    assert_eq!(runs.load(Ordering::SeqCst), 32);
    assert_eq!(tokens.len(), 32, "a token of its own for each call");
    assert_eq!((decisions(&vault), mints(&vault)), (1, 31));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_denied_calls_are_each_decided_and_none_runs() {
    let vault = MockVault::builder()
        .rule(Rule::tool(TOOL).deny("refunds are frozen"))
        .fault(Fault::delay(Duration::from_millis(200)).times(1))
        .start()
        .await;
    let client = cached(&vault, |b| b);
    let runs = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        let runs = runs.clone();
        tasks.push(tokio::spawn(async move {
            run(&client, refund(45), &runs).await
        }));
    }
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(matches!(outcome, Err(Error::Denied(_))), "{outcome:?}");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    assert_eq!((decisions(&vault), mints(&vault)), (8, 0));
}

#[tokio::test]
async fn reviewed_and_processing_approvals_are_not_cached() {
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .rule(Rule::tool("slow_tool").processing(2).approve())
        .start()
        .await;
    let client = cached(&vault, |b| b);
    let runs = Arc::new(AtomicUsize::new(0));
    for round in 1..=2 {
        let task = {
            let client = client.clone();
            let runs = runs.clone();
            tokio::spawn(async move {
                run(
                    &client,
                    ToolCall::new("wire_transfer").arg("amount", &9),
                    &runs,
                )
                .await
            })
        };
        let id = vault.next_pending_review().await;
        vault.approve(&id).await;
        task.await.unwrap().unwrap();
        assert_eq!(
            (decisions(&vault), mints(&vault)),
            (round, 0),
            "review {round}"
        );
    }
    for round in 3..=4 {
        run(&client, ToolCall::new("slow_tool"), &runs)
            .await
            .unwrap();
        assert_eq!((decisions(&vault), mints(&vault)), (round, 0), "processing");
    }
    assert_eq!(runs.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn large_arguments_are_never_cached() {
    let vault = MockVault::start().await;
    let client = cached(&vault, |b| b);
    let runs = AtomicUsize::new(0);
    let big = "x".repeat(70 * 1024);
    for _ in 0..2 {
        run(&client, ToolCall::new("upload").arg("blob", &big), &runs)
            .await
            .unwrap();
    }
    assert_eq!((decisions(&vault), mints(&vault)), (2, 0));
}

/// The mock's `/mint-token` itself: what it refuses, with which status.
#[tokio::test]
async fn the_mock_vault_checks_each_mint_against_what_it_decided() {
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .rule(Rule::tool("stripe_payout").deny("no payouts"))
        .start()
        .await;
    // No counterparty hints: the hand-written mint bodies below carry no destination.
    let config = vault.config().to_builder().counterparty_hints(false);
    let client = LedgixClient::new(config.build().unwrap()).unwrap();
    let approved = client
        .request_clearance(&ClearanceRequest::new(TOOL).arg("amount", 45).policy("p1"))
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/mint-token", vault.url());
    let mint_body = |change: &dyn Fn(&mut Value)| {
        let mut body = json!({
            "tool_name": TOOL, "tool_args": {"amount": 45}, "agent_id": "default-agent",
            "session_id": "", "policy_id": "p1",
            "policy_version_id": approved.policy_version_id.clone().unwrap(),
            "policy_content_hash": approved.policy_content_hash.clone().unwrap(),
            "original_request_id": approved.request_id, "reason": approved.reason,
        });
        change(&mut body);
        body
    };
    let post = |body: Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let answer = http.post(url).json(&body).send().await.unwrap();
            let status = answer.status().as_u16();
            (status, answer.json::<Value>().await.unwrap())
        }
    };

    // As decided: 200, a fresh token bound to the call.
    let (status, answer) = post(mint_body(&|_| {})).await;
    assert_eq!(status, 200, "{answer}");
    let claims = verifier(&vault)
        .verify_bound(
            answer["token"].as_str().unwrap(),
            TOOL,
            json!({"amount": 45}).as_object().unwrap(),
        )
        .unwrap();
    assert_eq!(claims.policy_id, "p1");
    assert!(
        answer["request_id"]
            .as_str()
            .is_some_and(|id| id != approved.request_id)
    );

    let reviewed = {
        let task = {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .request_clearance(&ClearanceRequest::new("wire_transfer"))
                    .await
            })
        };
        let id = vault.next_pending_review().await;
        vault.approve(&id).await;
        task.await.unwrap().unwrap().request_id
    };
    let denied = client
        .request_clearance(&ClearanceRequest::new("stripe_payout"))
        .await
        .unwrap_err()
        .request_id()
        .unwrap()
        .to_string();

    let cases: Vec<(&str, Value, u16)> = vec![
        (
            "other arguments",
            mint_body(&|b| b["tool_args"]["amount"] = json!(46)),
            403,
        ),
        (
            "another tool",
            mint_body(&|b| b["tool_name"] = json!("stripe_payout")),
            403,
        ),
        (
            "another agent",
            mint_body(&|b| b["agent_id"] = json!("x")),
            403,
        ),
        (
            "another session",
            mint_body(&|b| b["session_id"] = json!("s")),
            403,
        ),
        (
            "another policy",
            mint_body(&|b| b["policy_id"] = json!("p2")),
            403,
        ),
        (
            "a principal",
            mint_body(&|b| b["human_principal"] = json!("u")),
            403,
        ),
        ("a purpose", mint_body(&|b| b["purpose"] = json!("x")), 403),
        (
            "another policy version",
            mint_body(&|b| b["policy_version_id"] = json!("v9")),
            403,
        ),
        (
            "unknown decision",
            mint_body(&|b| b["original_request_id"] = json!("nope")),
            404,
        ),
        (
            "a denial",
            mint_body(&|b| b["original_request_id"] = json!(denied)),
            409,
        ),
        (
            "a reviewer's approval",
            mint_body(&|b| b["original_request_id"] = json!(reviewed)),
            409,
        ),
        (
            "no tool_args",
            mint_body(&|b| {
                b.as_object_mut().unwrap().remove("tool_args");
            }),
            422,
        ),
        ("not an object", json!([1, 2]), 422),
    ];
    let events = vault.ledger_entries().len();
    for (case, body, expected) in cases {
        let (status, answer) = post(body).await;
        assert_eq!(status, expected, "{case}: {answer}");
        assert!(answer.get("token").is_none(), "{case}: {answer}");
        assert!(answer["detail"].is_string(), "{case}: {answer}");
    }
    assert_eq!(
        vault.ledger_entries().len(),
        events,
        "a refused mint writes nothing"
    );

    // A new policy version: the old decision no longer mints (409).
    vault.new_policy_version();
    let (status, answer) = post(mint_body(&|_| {})).await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer["detail"]
            .as_str()
            .unwrap()
            .contains("policy changed"),
        "{answer}"
    );
    // ... and new approvals carry the new version.
    let fresh = client
        .request_clearance(&ClearanceRequest::new(TOOL).arg("amount", 45).policy("p1"))
        .await
        .unwrap();
    assert_ne!(fresh.policy_version_id, approved.policy_version_id);
    assert_ne!(fresh.policy_content_hash, approved.policy_content_hash);
}
