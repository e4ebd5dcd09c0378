//! The mock Vault as its users meet it: guarded calls denied on purpose, approved, reviewed,
//! processing; detach mode; the API key; Idempotency-Key; recordings; shutdown on drop.

mod support;

use std::time::Duration;

use ledgix::mock::{Decision, MockVault, RecordedRequest, Rule, RulesFile};
use ledgix::{ClearanceStatus, Error, TokenVerifier, ToolCall};
use serde_json::{Value, json};
use support::http::status;
use support::mock::{Runs, detached_client, guarded};

#[tokio::test]
async fn a_call_denied_on_purpose_never_runs_its_body() {
    let vault = MockVault::builder()
        .rule(
            Rule::tool("stripe_refund")
                .deny("refunds are frozen")
                .reason_code("refunds_frozen"),
        )
        .start()
        .await;
    let runs = Runs::default();
    let result = vault.scope(guarded("stripe_refund", 45, &runs)).await;
    match result {
        Err(Error::Denied(d)) => {
            assert_eq!(d.reason, "refunds are frozen");
            assert_eq!(d.reason_code.as_deref(), Some("refunds_frozen"));
            assert!(!d.request_id.is_empty());
            // both protocol generations in the answer
            assert_eq!(d.response.approved, Some(false));
            assert_eq!(
                d.response.decision_status,
                Some(ledgix::DecisionStatus::Denied)
            );
            assert!(d.response.confidence.is_some() && d.response.confidence_bucket.is_some());
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    assert_eq!(runs.count(), 0);
    let events = vault.ledger_entries();
    assert_eq!(events.len(), 1);
    assert!(!events[0].approved);
    assert_eq!(events[0].reason, "refunds are frozen");
    assert_eq!(events[0].tool_name, "stripe_refund");
}

#[tokio::test]
async fn an_approved_call_runs_once_with_a_token_the_vault_signed() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    let token = vault
        .scope(guarded("stripe_refund", 45, &runs))
        .await
        .expect("approved");
    assert_eq!(runs.count(), 1);

    let verifier =
        TokenVerifier::from_jwks_json(&vault.trusted_keys_json(), "alcv-vault", "ledgix-sdk")
            .unwrap();
    let args = json!({"amount": 45, "currency": "usd"});
    let claims = verifier
        .verify_bound(&token, "stripe_refund", args.as_object().unwrap())
        .unwrap();
    assert_eq!(claims.iss, "alcv-vault");
    assert_eq!(claims.sub, "clearance");
    assert!(claims.aud.contains("ledgix-sdk"));
    assert_eq!(claims.tool, "stripe_refund");
    assert_eq!(claims.agent_id, "default-agent");
    assert_eq!(claims.policy_id, "refund-policy");
    assert_eq!(claims.decision, "approved");
    assert_eq!(claims.exp - claims.iat.unwrap(), 300);
    assert!(!claims.jti.is_empty());

    let events = vault.ledger_entries();
    assert_eq!(events.len(), 1);
    assert!(events[0].approved);
    assert_eq!(events[0].tool_args, args);
}

#[tokio::test]
async fn every_token_has_its_own_jti_and_the_configured_ttl() {
    let vault = MockVault::builder()
        .token_ttl(Duration::from_secs(42))
        .start()
        .await;
    let (runs, mut jtis) = (Runs::default(), std::collections::HashSet::new());
    let verifier =
        TokenVerifier::from_jwks_json(&vault.trusted_keys_json(), "alcv-vault", "ledgix-sdk")
            .unwrap();
    for amount in 0..5 {
        let token = vault.scope(guarded("t", amount, &runs)).await.unwrap();
        let claims = verifier.verify(&token).unwrap();
        assert_eq!(claims.exp - claims.iat.unwrap(), 42);
        assert!(jtis.insert(claims.jti));
    }
    assert_eq!(runs.count(), 5);
}

/// A mock Vault that holds every `wire_*` call for a human reviewer.
async fn wire_review_vault() -> MockVault {
    MockVault::builder()
        .rule(Rule::tool("wire_*").review())
        .start()
        .await
}

/// How a reviewer decides in [`reviewed_calls_wait_for_the_reviewer`].
#[derive(Debug, Clone, Copy)]
enum Reviewer {
    Method,
    Endpoint,
}

#[tokio::test]
async fn reviewed_calls_wait_for_the_reviewer() {
    for (approve, via) in [
        (true, Reviewer::Method),
        (false, Reviewer::Method),
        (true, Reviewer::Endpoint),
        (false, Reviewer::Endpoint),
    ] {
        let vault = wire_review_vault().await;
        let runs = Runs::default();
        let reviewer = async {
            let id = vault.next_pending_review().await;
            assert_eq!(vault.pending_reviews(), std::slice::from_ref(&id));
            match (via, approve) {
                (Reviewer::Method, true) => vault.approve(&id).await,
                (Reviewer::Method, false) => vault.deny(&id, "too risky").await,
                (Reviewer::Endpoint, _) => {
                    let answer = reqwest::Client::new()
                        .post(format!("{}/reviews/{id}/decision", vault.url()))
                        .json(&json!({"approved": approve, "review_reason": "too risky"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(answer.status(), 200);
                    assert_eq!(answer.json::<Value>().await.unwrap(), json!({}));
                }
            }
            id
        };
        let (result, id) =
            tokio::join!(vault.scope(guarded("wire_transfer", 9000, &runs)), reviewer);
        let case = format!("approve={approve} via {via:?}");
        if approve {
            assert!(result.is_ok(), "{case}: {result:?}");
            assert_eq!(runs.count(), 1, "{case}");
        } else {
            match result {
                Err(Error::Denied(d)) => assert_eq!(d.reason, "too risky", "{case}"),
                other => panic!("{case}: expected a denial, got {other:?}"),
            }
            assert_eq!(runs.count(), 0, "{case}");
        }
        assert!(vault.pending_reviews().is_empty(), "{case}");
        let events = vault.ledger_entries();
        assert_eq!(
            events.len(),
            1,
            "{case}: one event, written when the reviewer decided"
        );
        assert_eq!(events[0].approved, approve, "{case}");
        assert_eq!(events[0].request_id, id, "{case}");
        // A decided review cannot be decided again.
        let again = vault.decide(&id, true, "").await.unwrap_err();
        assert!(again.to_string().contains("not pending review"), "{again}");
    }
}

#[tokio::test]
async fn the_decision_endpoint_answers_404_for_unknown_and_409_for_decided_requests() {
    let vault = MockVault::start().await;
    let http = reqwest::Client::new();
    let decide = |id: String| {
        http.post(format!("{}/reviews/{id}/decision", vault.url()))
            .json(&json!({"approved": true, "review_reason": "ok"}))
            .send()
    };
    assert_eq!(
        decide("no-such-request".into()).await.unwrap().status(),
        404
    );
    let runs = Runs::default();
    vault.scope(guarded("t", 1, &runs)).await.unwrap();
    let id = vault.ledger_entries()[0].request_id.clone();
    assert_eq!(decide(id).await.unwrap().status(), 409);
    let bad = http
        .post(format!("{}/reviews/x/decision", vault.url()))
        .json(&json!({"approve": "yes"}));
    assert_eq!(status(bad).await, 422);
}

#[tokio::test]
async fn a_processing_call_is_approved_after_its_polls() {
    let vault = MockVault::builder()
        .rule(Rule::tool("slow_*").processing(3).approve())
        .start()
        .await;
    let runs = Runs::default();
    vault
        .scope(guarded("slow_report", 1, &runs))
        .await
        .expect("approved after three polls");
    assert_eq!(runs.count(), 1);
    let polls = vault
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/clearance-status/"))
        .count();
    assert_eq!(polls, 3, "processing(3): the third poll gets the outcome");
    assert_eq!(vault.ledger_entries().len(), 1);
}

#[tokio::test]
async fn processing_can_end_in_review() {
    let vault = MockVault::builder()
        .rule(Rule::tool("slow_wire").processing(2).review())
        .start()
        .await;
    let runs = Runs::default();
    let reviewer = async {
        let id = vault.next_pending_review().await;
        vault.approve(&id).await;
    };
    let (result, ()) = tokio::join!(vault.scope(guarded("slow_wire", 1, &runs)), reviewer);
    result.unwrap();
    assert_eq!(runs.count(), 1);
}

#[tokio::test]
async fn detach_mode_parks_the_call_and_resumes_it_after_review() {
    let vault = wire_review_vault().await;
    let client = detached_client(&vault);
    let runs = Runs::default();
    let pending = match ledgix::with_client(client, guarded("wire_transfer", 7, &runs)).await {
        Err(Error::ReviewPending(p)) => p,
        other => panic!("expected a pending review, got {other:?}"),
    };
    assert_eq!(runs.count(), 0);
    assert_eq!(vault.pending_reviews(), [pending.request_id().to_string()]);
    assert!(
        vault.ledger_entries().is_empty(),
        "no event before the decision"
    );
    vault.approve(pending.request_id()).await;
    let token = pending
        .run(async { Ok::<_, Error>(ledgix::current_token()) })
        .await
        .unwrap();
    assert!(token.is_some());
    assert_eq!(vault.ledger_entries().len(), 1);
}

#[tokio::test]
async fn predicates_on_arguments_and_rules_files_decide() {
    let file = RulesFile::from_json(
        r#"{"default": "deny", "rules": [
            {"tool": "create_stripe_payment", "when": {"arg": "amount", "gt": 1000}, "decision": "deny",
             "reason": "over the cap", "reason_code": "spend_cap_exceeded"},
            {"tool": "create_stripe_payment", "decision": "approve"}]}"#,
    )
    .unwrap();
    let vault = MockVault::builder()
        .rule(
            Rule::tool("refund")
                .when(|args| args.get("amount").and_then(Value::as_u64) == Some(13))
                .deny("unlucky"),
        )
        .rule(Rule::tool("refund").approve())
        .rules_file(file)
        .start()
        .await;
    let runs = Runs::default();
    let denied = |r: Result<String, Error>| match r {
        Err(Error::Denied(d)) => d.reason,
        other => panic!("expected a denial, got {other:?}"),
    };
    assert_eq!(
        denied(vault.scope(guarded("refund", 13, &runs)).await),
        "unlucky"
    );
    vault.scope(guarded("refund", 12, &runs)).await.unwrap();
    assert_eq!(
        denied(
            vault
                .scope(guarded("create_stripe_payment", 5000, &runs))
                .await
        ),
        "over the cap"
    );
    vault
        .scope(guarded("create_stripe_payment", 50, &runs))
        .await
        .unwrap();
    // the file's default
    let reason = denied(vault.scope(guarded("anything_else", 1, &runs)).await);
    assert!(reason.contains("default"), "{reason}");
    assert_eq!(runs.count(), 2);
}

#[tokio::test]
async fn default_decision_review_holds_everything() {
    let vault = MockVault::builder()
        .default_decision(Decision::Review)
        .start()
        .await;
    let client = vault.client();
    let detached = detached_client(&vault);
    let err = detached
        .request_clearance(&ledgix::ClearanceRequest::new("x"))
        .await
        .unwrap_err();
    let Error::ReviewPending(p) = err else {
        panic!("expected pending review, got {err:?}");
    };
    let status = client.clearance_status(p.request_id()).await.unwrap();
    assert_eq!(status.status, ClearanceStatus::PendingReview);
    assert!(status.requires_manual_review);
    assert_eq!(
        status.decision_status,
        Some(ledgix::DecisionStatus::ApprovedPendingReview)
    );
}

#[tokio::test]
async fn the_api_key_is_required_and_never_recorded() {
    let vault = MockVault::builder()
        .api_key("sk_test_mock_42")
        .start()
        .await;
    let runs = Runs::default();

    // A client without the key is refused (401), which is not a denial.
    let keyless =
        ledgix::LedgixClient::new(vault.config().to_builder().no_api_key().build().unwrap())
            .unwrap();
    match ledgix::with_client(keyless, guarded("t", 1, &runs)).await {
        Err(Error::Http { status: 401, .. }) => {}
        other => panic!("expected HTTP 401, got {other:?}"),
    }
    assert_eq!(runs.count(), 0);

    // The mock's own config carries the key.
    vault.scope(guarded("t", 1, &runs)).await.unwrap();
    assert_eq!(runs.count(), 1);

    // The JWKS needs no key.
    let jwks = reqwest::get(format!("{}/.well-known/jwks.json", vault.url()))
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);
    let jwks: Value = jwks.json().await.unwrap();
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "token key and ledger key"
    );

    let recorded = vault.requests();
    let posts: Vec<&RecordedRequest> = recorded
        .iter()
        .filter(|r| r.path == "/request-clearance")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].header("x-vault-api-key"), None);
    assert_eq!(posts[1].header("x-vault-api-key"), Some("***"));
    let all = serde_json::to_string(&recorded).unwrap();
    assert!(
        !all.contains("sk_test_mock_42"),
        "the key leaked into a recording"
    );
}

#[tokio::test]
async fn requests_are_recorded_with_method_path_headers_and_body() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    vault
        .scope(guarded("stripe_refund", 45, &runs))
        .await
        .unwrap();
    let _ = reqwest::get(format!("{}/ledger?limit=5", vault.url()))
        .await
        .unwrap();
    let recorded = vault.requests();
    let post = recorded
        .iter()
        .find(|r| r.method == "POST")
        .expect("the clearance request");
    assert_eq!(post.path, "/request-clearance");
    assert_eq!(post.body["tool_name"], "stripe_refund");
    assert_eq!(
        post.body["tool_args"],
        json!({"amount": 45, "currency": "usd"})
    );
    assert_eq!(post.body["context"]["policy_id"], "refund-policy");
    let key = post.header("idempotency-key").expect("an Idempotency-Key");
    assert_eq!(key.len(), 36, "a UUID: {key}");
    assert!(
        recorded
            .iter()
            .any(|r| r.method == "GET" && r.path == "/ledger?limit=5")
    );
    // Recordings serialize for assertions.
    let v = serde_json::to_value(post).unwrap();
    assert_eq!(v["method"], "POST");
}

#[tokio::test]
async fn idempotency_key_replays_the_answer_and_writes_one_event() {
    let vault = MockVault::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/request-clearance", vault.url());
    let body = json!({"tool_name": "stripe_refund", "tool_args": {"amount": 45}, "agent_id": "a"});
    let post = |key: &'static str, body: Value| {
        http.post(&url)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = post("key-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "approved");
    let second: Value = post("key-1", body.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        first, second,
        "same key, same body: the same answer (same token too)"
    );
    assert_eq!(vault.ledger_entries().len(), 1, "and no second event");

    let other = post(
        "key-1",
        json!({"tool_name": "stripe_refund", "tool_args": {"amount": 46}, "agent_id": "a"}),
    )
    .await
    .unwrap();
    assert_eq!(other.status(), 422);
    let detail: Value = other.json().await.unwrap();
    assert!(
        detail["detail"].as_str().unwrap().contains("key-1"),
        "{detail}"
    );

    // Concurrent retries under one key still decide once.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let request = http
            .post(&url)
            .header("Idempotency-Key", "key-2")
            .json(&body);
        tasks.spawn(async move { request.send().await.unwrap().json::<Value>().await.unwrap() });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(answer) = tasks.join_next().await {
        ids.insert(answer.unwrap()["request_id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(vault.ledger_entries().len(), 2);

    // Without a key every POST is a new decision.
    for _ in 0..2 {
        http.post(&url).json(&body).send().await.unwrap();
    }
    assert_eq!(vault.ledger_entries().len(), 4);
}

#[tokio::test]
async fn malformed_requests_are_refused_with_422() {
    let vault = MockVault::start().await;
    let http = reqwest::Client::new();
    let url = format!("{}/request-clearance", vault.url());
    for (body, needle) in [
        ("not json", "not JSON"),
        (r#"{"tool_args": {}, "agent_id": "a"}"#, "tool_name"),
        (r#"{"tool_name": "t", "agent_id": "a"}"#, "tool_args"),
        (
            r#"{"tool_name": "t", "tool_args": [], "agent_id": "a"}"#,
            "tool_args",
        ),
        (r#"{"tool_name": "t", "tool_args": {}}"#, "agent_id"),
    ] {
        let answer = http.post(&url).body(body).send().await.unwrap();
        assert_eq!(answer.status(), 422, "{body}");
        let detail: Value = answer.json().await.unwrap();
        assert!(
            detail["detail"].as_str().unwrap().contains(needle),
            "{body}: {detail}"
        );
    }
    assert!(vault.ledger_entries().is_empty());
    let unknown = http.get(format!("{}/clearance-status/nope", vault.url()));
    assert_eq!(status(unknown).await, 404);
    let no_route = http.get(format!("{}/nothing-here", vault.url()));
    assert_eq!(status(no_route).await, 404);
}

#[tokio::test]
async fn dropping_the_vault_stops_the_server() {
    let vault = MockVault::start().await;
    let url = format!("{}/.well-known/jwks.json", vault.url());
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    drop(vault);
    // The server task ends once it sees the stop signal; give it a moment to run.
    let mut refused = false;
    for _ in 0..200 {
        let fresh = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        if fresh.get(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(refused, "the mock Vault still answers after it was dropped");
}

#[tokio::test]
async fn instances_are_independent_and_seeds_reproduce_keys() {
    let a = MockVault::builder().seed([1; 32]).start().await;
    let b = MockVault::builder().seed([1; 32]).start().await;
    let c = MockVault::start().await;
    assert_ne!(a.url(), b.url());
    assert_eq!(a.trusted_keys_json(), b.trusted_keys_json());
    assert_ne!(a.trusted_keys_json(), c.trusted_keys_json());
    let runs = Runs::default();
    a.scope(guarded("t", 1, &runs)).await.unwrap();
    assert_eq!(a.ledger_entries().len(), 1);
    assert!(b.ledger_entries().is_empty() && b.requests().is_empty());
    // A token of `a` is not accepted by a client of `c` (other key).
    let token = a.scope(guarded("t", 2, &runs)).await.unwrap();
    let err = c.client().verify_token(&token).await.unwrap_err();
    assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");
    // ToolCall with an explicit client works too.
    ToolCall::new("t")
        .client(&b.client())
        .run(async { Ok::<_, Error>(()) })
        .await
        .unwrap();
    assert_eq!(b.ledger_entries().len(), 1);
}

#[tokio::test]
async fn debug_output_never_shows_the_api_key() {
    let builder = MockVault::builder()
        .api_key("sk_live_do_not_print")
        .seed([9; 32]);
    let text = format!("{builder:?}");
    assert!(!text.contains("sk_live_do_not_print"), "{text}");
    assert!(!text.contains("[9, 9"), "{text}");
    let vault = builder.start().await;
    let text = format!("{vault:?} {:?}", vault.config());
    assert!(!text.contains("sk_live_do_not_print"), "{text}");
}

/// A page open in the reviewer's browser must not be able to decide a review with a
/// cross-origin "simple" request (a `text/plain` or form POST needs no preflight): the decision
/// endpoint takes `application/json` only, and the held call stays held.
#[tokio::test]
async fn a_decision_without_a_json_content_type_is_refused_and_decides_nothing() {
    let vault = wire_review_vault().await;
    let runs = Runs::default();
    let reviewer = async {
        let id = vault.next_pending_review().await;
        let url = format!("{}/reviews/{id}/decision", vault.url());
        let http = reqwest::Client::new();
        let body = r#"{"approved": true, "review_reason": "csrf"}"#;
        for content_type in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=x"),
            Some("application/jsonp"),
        ] {
            let mut post = http.post(&url).body(body);
            if let Some(content_type) = content_type {
                post = post.header("content-type", content_type);
            }
            let answer = post.send().await.unwrap();
            assert_eq!(answer.status(), 415, "{content_type:?}");
            assert_eq!(vault.pending_reviews(), std::slice::from_ref(&id));
        }
        assert_eq!(runs.count(), 0);
        // The same decision as JSON (parameters allowed) is taken.
        let answer = http
            .post(&url)
            .header("content-type", "Application/JSON; charset=utf-8")
            .body(r#"{"approved": false, "review_reason": "json"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    };
    let (result, ()) = tokio::join!(vault.scope(guarded("wire_transfer", 1, &runs)), reviewer);
    assert!(result.unwrap_err().is_denied());
    assert_eq!(runs.count(), 0);
}
