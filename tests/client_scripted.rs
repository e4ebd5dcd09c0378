//! The client against exact answers on the wire: every outcome of a guarded call, with a
//! counter proving whether the body ran. Real HTTP on 127.0.0.1:0, real Ed25519 tokens; waits
//! go through a recording sleeper, so retry and polling schedules are asserted without waiting.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use ledgix::{ConfigBuilder, Error, LedgixClient, ReviewMode, ToolCall};
use serde_json::{Value, json};
use support::scripted::*;

struct Harness {
    vault: ScriptedVault,
    issuer: TestIssuer,
    sleeper: Arc<RecordingSleeper>,
    client: LedgixClient,
    ran: Arc<AtomicUsize>,
}

async fn harness_with(configure: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Harness {
    let issuer = TestIssuer::new("vault-key-1", 7);
    let vault = ScriptedVault::start(issuer.jwks()).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let builder = ledgix::Config::builder()
        .vault_url(&vault.url)
        .api_key("test-api-key")
        .agent_id("test-agent")
        .sleeper(sleeper.clone());
    let client = LedgixClient::new(configure(builder).build().unwrap()).unwrap();
    Harness {
        vault,
        issuer,
        sleeper,
        client,
        ran: Arc::new(AtomicUsize::new(0)),
    }
}

async fn harness() -> Harness {
    harness_with(|b| b).await
}

/// A detach-mode harness whose `refund(10)` the Vault holds for review as `request_id`, and
/// the pending approval that call returned.
async fn held_refund(request_id: &str) -> (Harness, ledgix::PendingApproval) {
    let h = harness_with(|b| b.review_mode(ReviewMode::Detach)).await;
    h.vault.on_clearance([pending(request_id)]);
    match h.refund(10).await {
        Err(Error::ReviewPending(p)) => (h, p),
        other => panic!("expected ReviewPending, got {other:?}"),
    }
}

fn refund_args(amount: u64) -> Value {
    json!({ "amount": amount, "currency": "usd" })
}

impl Harness {
    /// A guarded `stripe_refund(amount, "usd")` whose body counts its runs and returns the token
    /// it sees.
    async fn refund(&self, amount: u64) -> Result<String, Error> {
        let ran = self.ran.clone();
        ToolCall::new("stripe_refund")
            .arg("amount", &amount)
            .arg("currency", "usd")
            .policy("refund-policy")
            .client(&self.client)
            .run(async move {
                ran.fetch_add(1, SeqCst);
                Ok(ledgix::current_token().expect("the token is in scope inside the body"))
            })
            .await
    }

    /// A guarded `stripe_refund` with the one argument `name` = `value` (which may have no
    /// JSON form), whose body counts its runs.
    async fn refund_with_arg<T: serde::Serialize + ?Sized>(
        &self,
        name: &str,
        value: &T,
    ) -> Result<(), Error> {
        ToolCall::new("stripe_refund")
            .arg(name, value)
            .client(&self.client)
            .run(self.counted_body())
            .await
    }

    /// A body that counts its runs and does nothing else.
    fn counted_body(&self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let ran = self.ran.clone();
        async move {
            ran.fetch_add(1, SeqCst);
            Ok(())
        }
    }

    fn token(&self, jti: &str, amount: u64) -> String {
        self.issuer
            .token(jti, "stripe_refund", &refund_args(amount))
    }

    fn runs(&self) -> usize {
        self.ran.load(SeqCst)
    }

    fn clearance_posts(&self) -> Vec<Seen> {
        self.vault.seen_path("/request-clearance")
    }
}

#[tokio::test]
async fn approved_body_runs_once_with_its_bound_token() {
    let h = harness().await;
    let token = h.token("jti-1", 45);
    h.vault.on_clearance([approved("req-1", &token)]);

    assert_eq!(ledgix::current_token(), None);
    let seen_token = h.refund(45).await.unwrap();
    assert_eq!(seen_token, token);
    assert_eq!(h.runs(), 1);
    assert_eq!(
        ledgix::current_token(),
        None,
        "the scope ends with the body"
    );

    let posts = h.clearance_posts();
    assert_eq!(posts.len(), 1);
    let body = posts[0].json();
    assert_eq!(body["tool_name"], "stripe_refund");
    assert_eq!(body["tool_args"], refund_args(45));
    assert_eq!(body["agent_id"], "test-agent");
    assert_eq!(body["context"]["policy_id"], "refund-policy");
    assert_eq!(
        posts[0].header("x-vault-api-key").as_deref(),
        Some("test-api-key")
    );
    let key = posts[0].header("idempotency-key").unwrap();
    // A random UUID (version 4, variant 10), lowercase.
    let groups: Vec<&str> = key.split('-').collect();
    assert_eq!(
        groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
        [8, 4, 4, 4, 12],
        "{key}"
    );
    assert!(
        key.bytes()
            .all(|b| b == b'-' || matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "{key}"
    );
    assert!(
        groups[2].starts_with('4') && matches!(&groups[3][..1], "8" | "9" | "a" | "b"),
        "{key}"
    );
}

#[tokio::test]
async fn denied_body_never_runs_and_the_error_carries_reason_and_request_id() {
    let h = harness().await;
    h.vault
        .on_clearance([denied("req-2", "Refund exceeds the $100 limit.")]);
    let err = h.refund(5000).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    assert!(err.is_denied());
    assert_eq!(err.request_id(), Some("req-2"));
    match &err {
        Error::Denied(d) => {
            assert_eq!(d.reason, "Refund exceeds the $100 limit.");
            assert_eq!(d.reason_code.as_deref(), Some("spend_cap_exceeded"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.tool_message()
            .contains("Refund exceeds the $100 limit.")
    );
}

#[tokio::test]
async fn processing_twice_then_approved_polls_at_the_interval() {
    let h = harness().await;
    h.vault.on_clearance([processing("req-3")]);
    h.vault.on_status([
        processing("req-3"),
        approved("req-3", &h.token("jti-3", 10)),
    ]);
    h.refund(10).await.unwrap();
    assert_eq!(h.runs(), 1);
    assert_eq!(h.vault.seen_path("/clearance-status/req-3").len(), 2);
    assert_eq!(h.sleeper.slept(), vec![Duration::from_secs(2); 2]);
}

#[tokio::test]
async fn pending_review_then_reviewer_approves() {
    let h = harness().await;
    h.vault.on_clearance([pending("req-4")]);
    h.vault.on_status([
        pending("req-4"),
        pending("req-4"),
        approved("req-4", &h.token("jti-4", 10)),
    ]);
    h.refund(10).await.unwrap();
    assert_eq!(h.runs(), 1);
    assert_eq!(h.vault.seen_path("/clearance-status/").len(), 3);
}

#[tokio::test]
async fn pending_review_then_reviewer_denies() {
    let h = harness().await;
    h.vault.on_clearance([pending("req-5")]);
    h.vault
        .on_status([pending("req-5"), denied("req-5", "reviewer said no")]);
    let err = h.refund(10).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    assert!(err.is_denied());
    assert_eq!(err.request_id(), Some("req-5"));
}

#[tokio::test]
async fn review_timeout_after_the_configured_wait() {
    let h = harness_with(|b| {
        b.review_timeout(Duration::from_secs(10))
            .review_poll_interval(Duration::from_secs(2))
    })
    .await;
    h.vault.on_clearance([pending("req-6")]);
    h.vault.on_status([pending("req-6")]);
    let err = h.refund(10).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    assert!(
        matches!(&err, Error::ReviewTimeout { request_id } if request_id == "req-6"),
        "{err:?}"
    );
    assert!(!err.is_denied());
    assert_eq!(
        h.sleeper.slept().iter().sum::<Duration>(),
        Duration::from_secs(10)
    );
    assert_eq!(h.vault.seen_path("/clearance-status/").len(), 5);
}

#[tokio::test]
async fn poll_honours_retry_after_on_status_answers() {
    assert_eq!(
        waits_with_status_retry_after(7, "7").await,
        vec![Duration::from_secs(2), Duration::from_secs(7)]
    );
}

/// The waits of a `refund(10)` held for review as `req-{n}` whose first status answer says
/// `Retry-After: {retry_after}` and whose second approves it (token `jti-{n}`: the replay
/// store is process-wide, so each test has its own).
async fn waits_with_status_retry_after(n: u32, retry_after: &str) -> Vec<Duration> {
    let h = harness().await;
    let id = format!("req-{n}");
    h.vault.on_clearance([pending(&id)]);
    h.vault.on_status([
        pending(&id).header("retry-after", retry_after),
        approved(&id, &h.token(&format!("jti-{n}"), 10)),
    ]);
    h.refund(10).await.unwrap();
    h.sleeper.slept()
}

#[tokio::test]
async fn detach_returns_pending_approval_and_wait_resumes() {
    let h = harness_with(|b| b.review_mode(ReviewMode::Detach)).await;
    h.vault.on_clearance([pending("req-8")]);
    let err = h.refund(10).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    let Error::ReviewPending(pending_approval) = err else {
        panic!("expected ReviewPending")
    };
    assert_eq!(pending_approval.request_id(), "req-8");
    assert_eq!(pending_approval.tool(), Some("stripe_refund"));
    assert!(
        h.vault.seen_path("/clearance-status/").is_empty(),
        "detach does not poll"
    );

    h.vault
        .on_status([pending("req-8"), approved("req-8", &h.token("jti-8", 10))]);
    let resp = pending_approval.wait().await.unwrap();
    assert_eq!(resp.request_id, "req-8");
    assert_eq!(
        h.sleeper.slept(),
        vec![Duration::from_secs(2)],
        "a resume polls at once, then at the interval"
    );
    assert_eq!(h.runs(), 0, "wait() does not run the tool");
}

#[tokio::test]
async fn detach_then_run_executes_the_body_under_the_approval() {
    let (h, p) = held_refund("req-9").await;
    let token = h.token("jti-9", 10);
    h.vault.on_status([approved("req-9", &token)]);
    let ran = h.ran.clone();
    let seen: Result<String, Error> = p
        .run(async move {
            ran.fetch_add(1, SeqCst);
            Ok(ledgix::current_token().unwrap())
        })
        .await;
    assert_eq!(seen.unwrap(), token);
    assert_eq!(h.runs(), 1);
    assert!(
        h.sleeper.slept().is_empty(),
        "an already decided request resumes without waiting"
    );
}

#[tokio::test]
async fn detach_approval_bound_to_other_arguments_never_runs() {
    let (h, p) = held_refund("req-10").await;
    h.vault
        .on_status([approved("req-10", &h.token("jti-10", 9999))]);
    let out = p.run(h.counted_body()).await;
    assert!(matches!(out, Err(Error::TokenVerification(_))), "{out:?}");
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn cancel_posts_a_denial_to_the_review_endpoint() {
    let (h, p) = held_refund("req-11").await;
    p.cancel().await.unwrap();
    let posts = h.vault.seen_path("/reviews/req-11/decision");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts[0].json(),
        json!({"approved": false, "review_reason": "cancelled by agent"})
    );
    assert!(posts[0].header("idempotency-key").is_some());
}

#[tokio::test]
async fn two_503_then_success_reuse_one_idempotency_key() {
    let h = harness().await;
    h.vault.on_clearance([
        Reply::raw(503, "busy"),
        Reply::raw(503, "busy"),
        approved("req-12", &h.token("jti-12", 10)),
    ]);
    h.refund(10).await.unwrap();
    assert_eq!(h.runs(), 1);
    let posts = h.clearance_posts();
    assert_eq!(posts.len(), 3);
    let keys: Vec<_> = posts
        .iter()
        .map(|p| p.header("idempotency-key").unwrap())
        .collect();
    assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
    assert!(posts.iter().all(|p| p.body == posts[0].body));
    // Full jitter under base 500 ms, doubling.
    let slept = h.sleeper.slept();
    assert_eq!(slept.len(), 2);
    assert!(
        slept[0] <= Duration::from_millis(500) && slept[1] <= Duration::from_secs(1),
        "{slept:?}"
    );
}

#[tokio::test]
async fn a_new_call_gets_a_new_idempotency_key() {
    let h = harness().await;
    h.vault.on_clearance([
        approved("a", &h.token("jti-a", 1)),
        approved("b", &h.token("jti-b", 2)),
    ]);
    h.refund(1).await.unwrap();
    h.refund(2).await.unwrap();
    let posts = h.clearance_posts();
    assert_ne!(
        posts[0].header("idempotency-key"),
        posts[1].header("idempotency-key")
    );
}

#[tokio::test]
async fn persistent_503_is_an_http_error_after_max_retries_plus_one_attempts() {
    let h = harness().await;
    h.vault
        .on_clearance(std::iter::repeat_n(Reply::raw(503, "down"), 10));
    let err = h.refund(10).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    assert!(matches!(err, Error::Http { status: 503, .. }), "{err:?}");
    assert!(!err.is_denied());
    assert!(err.is_retryable());
    assert_eq!(h.clearance_posts().len(), 4);
}

#[tokio::test]
async fn other_4xx_are_not_retried_and_401_says_the_key_was_refused() {
    let h = harness().await;
    h.vault
        .on_clearance([Reply::raw(401, "{\"detail\":\"invalid api key\"}")]);
    let err = h.refund(10).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    assert!(matches!(&err, Error::Http { status: 401, body } if body.contains("invalid api key")));
    assert!(err.to_string().contains("refused the API key"), "{err}");
    assert_eq!(h.clearance_posts().len(), 1);
    assert!(h.sleeper.slept().is_empty());
}

#[tokio::test]
async fn retry_after_429_is_honoured_and_does_not_use_up_retries() {
    let h = harness_with(|b| b.max_retries(0)).await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
    h.vault.on_clearance([
        Reply::raw(429, "slow down").header("retry-after", "3"),
        Reply::raw(429, "slow down").header("retry-after", &date),
        Reply::raw(429, "slow down").header("retry-after", "3600"),
        approved("req-13", &h.token("jti-13", 10)),
    ]);
    h.refund(10).await.unwrap();
    assert_eq!(h.runs(), 1);
    let slept = h.sleeper.slept();
    assert_eq!(slept[0], Duration::from_secs(3));
    assert!(
        slept[1] > Duration::from_secs(25) && slept[1] <= Duration::from_secs(30),
        "{slept:?}"
    );
    assert_eq!(
        slept[2],
        Duration::from_secs(60),
        "Retry-After is capped at 60 s"
    );
}

#[tokio::test]
async fn more_than_ten_429_in_a_row_is_queue_saturated() {
    let h = harness().await;
    h.vault.on_clearance(std::iter::repeat_n(
        Reply::raw(429, "full").header("retry-after", "1"),
        20,
    ));
    let err = h.refund(10).await.unwrap_err();
    assert_eq!(h.runs(), 0);
    match err {
        Error::QueueSaturated {
            attempts,
            last_retry_after,
        } => {
            assert_eq!(attempts, 11);
            assert_eq!(last_retry_after, Some(Duration::from_secs(1)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(h.clearance_posts().len(), 11);
}

#[tokio::test]
async fn malformed_and_contradictory_answers_are_protocol_errors() {
    let h = harness().await;
    let token = h.token("jti-14", 10);
    let cases: Vec<(Reply, &str)> = vec![
        (
            Reply::raw(200, "{\"status\": \"approved\", "),
            "not a clearance response",
        ),
        (
            Reply::raw(200, "<html>gateway</html>"),
            "not a clearance response",
        ),
        (
            Reply::json(200, json!({"status": "escalated", "request_id": "r"})),
            "escalated",
        ),
        (
            Reply::json(200, json!({"status": "approved", "request_id": "r"})),
            "without a token",
        ),
        (
            Reply::json(
                200,
                json!({"status": "approved", "token": token, "decision_status": "denied"}),
            ),
            "decision_status `denied`",
        ),
        (
            Reply::json(
                200,
                json!({"status": "denied", "token": token, "reason": "no"}),
            ),
            "carries a token",
        ),
        (
            Reply::json(200, json!({"status": "processing"})),
            "without a request_id",
        ),
    ];
    for (reply, needle) in cases {
        h.vault.on_clearance([reply]);
        match h.refund(10).await {
            Err(Error::Protocol(msg)) => assert!(msg.contains(needle), "{needle}: {msg}"),
            other => panic!("{needle}: expected a protocol error, got {other:?}"),
        }
    }
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn a_status_answer_about_another_request_is_a_protocol_error() {
    let h = harness().await;
    h.vault.on_clearance([pending("req-15")]);
    h.vault
        .on_status([approved("someone-else", &h.token("jti-15", 10))]);
    let err = h.refund(10).await.unwrap_err();
    assert!(
        matches!(err, Error::Protocol(ref m) if m.contains("someone-else")),
        "{err:?}"
    );
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn a_token_for_another_tool_or_other_arguments_never_runs() {
    let h = harness().await;
    let other_tool = h.issuer.token("jti-16", "stripe_payout", &refund_args(10));
    let other_args = h.token("jti-17", 11);
    let extra_arg = h.issuer.token(
        "jti-18",
        "stripe_refund",
        &json!({"amount": 10, "currency": "usd", "x": 1}),
    );
    for (token, needle) in [
        (other_tool, "stripe_payout"),
        (other_args, "tool_args_hash"),
        (extra_arg, "tool_args_hash"),
    ] {
        h.vault.on_clearance([approved("req", &token)]);
        match h.refund(10).await {
            Err(Error::TokenVerification(msg)) => assert!(msg.contains(needle), "{msg}"),
            other => panic!("expected a token error, got {other:?}"),
        }
    }
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn a_token_signed_by_a_key_outside_the_jwks_never_runs() {
    let h = harness().await;
    h.vault
        .on_clearance([approved("req-18", &h.token("jti-18", 10))]);
    h.refund(10).await.unwrap();
    assert_eq!(h.vault.seen_path("/.well-known/jwks.json").len(), 1);
    let stranger = TestIssuer::new("attacker-key", 99);
    // Unknown kid right after a fetch: no refetch within the cooldown; refused.
    h.vault.on_clearance([approved(
        "req-19",
        &stranger.token("jti-19", "stripe_refund", &refund_args(10)),
    )]);
    let err = h.refund(10).await.unwrap_err();
    assert!(
        matches!(&err, Error::TokenVerification(m) if m.contains("attacker-key")),
        "{err:?}"
    );
    assert_eq!(h.vault.seen_path("/.well-known/jwks.json").len(), 1);

    // Trusted kid, other key: the signature fails, no fallback to another key.
    let forged = stranger.sign(
        "vault-key-1",
        &claims("jti-20", "stripe_refund", &refund_args(10)),
    );
    h.vault.on_clearance([approved("req-20", &forged)]);
    let err = h.refund(10).await.unwrap_err();
    assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");
    assert_eq!(h.runs(), 1, "only the honest call ran");
}

#[tokio::test]
async fn the_jwks_is_fetched_once_and_refetched_on_rotation() {
    // No cooldown: the rotation is picked up by the first token of the new key.
    let h = harness_with(|b| b.jwks_refetch_cooldown(Duration::ZERO)).await;
    h.vault.on_clearance([
        approved("a", &h.token("jti-21", 1)),
        approved("b", &h.token("jti-22", 2)),
    ]);
    h.refund(1).await.unwrap();
    h.refund(2).await.unwrap();
    assert_eq!(h.vault.seen_path("/.well-known/jwks.json").len(), 1);

    let rotated = TestIssuer::new("vault-key-2", 8);
    h.vault.set_jwks(rotated.jwks());
    h.vault.on_clearance([approved(
        "c",
        &rotated.token("jti-23", "stripe_refund", &refund_args(3)),
    )]);
    h.refund(3).await.unwrap();
    assert_eq!(h.vault.seen_path("/.well-known/jwks.json").len(), 2);
    assert_eq!(h.runs(), 3);
}

#[tokio::test]
async fn a_replayed_token_is_refused_the_second_time() {
    let h = harness().await;
    let token = h.token("jti-24", 10);
    h.vault
        .on_clearance([approved("a", &token), approved("b", &token)]);
    h.refund(10).await.unwrap();
    let err = h.refund(10).await.unwrap_err();
    assert!(
        matches!(&err, Error::ReplayDetected { jti } if jti == "jti-24"),
        "{err:?}"
    );
    assert_eq!(h.runs(), 1);
}

#[tokio::test]
async fn an_unreachable_vault_is_a_connection_error_after_retries() {
    // A port nobody listens on: bind, read the port, close.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = LedgixClient::new(
        ledgix::Config::builder()
            .vault_url(format!("http://127.0.0.1:{port}"))
            .sleeper(sleeper.clone())
            .build()
            .unwrap(),
    )
    .unwrap();
    let ran = AtomicUsize::new(0);
    let err = ToolCall::new("stripe_refund")
        .arg("amount", &10)
        .client(&client)
        .run(async {
            ran.fetch_add(1, SeqCst);
            Ok::<_, Error>(())
        })
        .await
        .unwrap_err();
    assert_eq!(ran.load(SeqCst), 0);
    assert!(
        matches!(&err, Error::Connection(m) if m.message().contains("4 attempts")),
        "{err:?}"
    );
    assert!(!err.is_denied());
    assert_eq!(sleeper.slept().len(), 3);
}

#[tokio::test]
async fn a_transient_poll_failure_is_retried_not_a_denial() {
    let h = harness().await;
    h.vault.on_clearance([pending("req-25")]);
    h.vault.on_status([
        Reply::raw(502, "bad gateway"),
        approved("req-25", &h.token("jti-25", 10)),
    ]);
    h.refund(10).await.unwrap();
    assert_eq!(h.runs(), 1);
}

#[tokio::test]
async fn verify_jwt_off_affects_request_clearance_but_never_a_guarded_body() {
    let h = harness_with(|b| b.verify_jwt(false)).await;
    let wrong_tool = h.issuer.token("jti-26", "something_else", &json!({}));
    h.vault.on_clearance([
        approved("req-26", &wrong_tool),
        approved("req-27", &wrong_tool),
    ]);
    let req = ledgix::ClearanceRequest::new("stripe_refund").arg("amount", 10);
    let resp = h.client.request_clearance(&req).await.unwrap();
    assert_eq!(resp.request_id, "req-26");
    let err = h.refund(10).await.unwrap_err();
    assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn arguments_that_do_not_serialize_fail_before_anything_is_sent() {
    let h = harness().await;
    let mut bad = std::collections::HashMap::new();
    bad.insert(vec![1u8], 1); // a map with non-string keys has no JSON form
    let err = h.refund_with_arg("weird", &bad).await.unwrap_err();
    assert!(
        matches!(&err, Error::ToolArgs(m) if m.contains("weird")),
        "{err:?}"
    );
    assert_eq!(h.runs(), 0);
    assert!(h.vault.seen().is_empty());
}

#[tokio::test]
async fn nested_calls_shadow_and_restore_the_outer_clearance() {
    let h = harness().await;
    let outer = h.token("jti-outer", 1);
    let inner = h
        .issuer
        .token("jti-inner", "lookup_customer", &json!({"id": "cus_1"}));
    h.vault
        .on_clearance([approved("o", &outer), approved("i", &inner)]);
    let client = h.client.clone();
    let (o1, i, o2) = ToolCall::new("stripe_refund")
        .arg("amount", &1u64)
        .arg("currency", "usd")
        .client(&h.client)
        .run(async move {
            let before = ledgix::current_token().unwrap();
            let inside = ToolCall::new("lookup_customer")
                .arg("id", "cus_1")
                .client(&client)
                .run(async { Ok::<_, Error>(ledgix::current_token().unwrap()) })
                .await?;
            let after = ledgix::current_token().unwrap();
            Ok::<_, Error>((before, inside, after))
        })
        .await
        .unwrap();
    assert_eq!(
        (o1.as_str(), i.as_str(), o2.as_str()),
        (outer.as_str(), inner.as_str(), outer.as_str())
    );
}

#[tokio::test]
async fn propagate_carries_the_clearance_into_a_spawned_task() {
    let h = harness().await;
    let token = h.token("jti-spawn", 1);
    h.vault.on_clearance([approved("s", &token)]);
    let (plain, propagated) = ToolCall::new("stripe_refund")
        .arg("amount", &1u64)
        .arg("currency", "usd")
        .client(&h.client)
        .run(async {
            let plain = tokio::spawn(async { ledgix::current_token() })
                .await
                .unwrap();
            let propagated = tokio::spawn(ledgix::propagate(async { ledgix::current_token() }))
                .await
                .unwrap();
            Ok::<_, Error>((plain, propagated))
        })
        .await
        .unwrap();
    assert_eq!(
        plain, None,
        "task-locals do not cross tokio::spawn by themselves"
    );
    assert_eq!(propagated, Some(token));
}

#[tokio::test]
async fn current_clearance_and_claims_describe_the_approval() {
    let h = harness().await;
    h.vault
        .on_clearance([approved("req-28", &h.token("jti-28", 10))]);
    let ran = h.ran.clone();
    ToolCall::new("stripe_refund")
        .arg("amount", &10u64)
        .arg("currency", "usd")
        .client(&h.client)
        .run(async move {
            let clearance = ledgix::current_clearance().unwrap();
            assert_eq!(clearance.request_id, "req-28");
            assert_eq!(clearance.confidence, Some(0.93));
            let claims = ledgix::current_claims().unwrap();
            assert_eq!(claims.tool, "stripe_refund");
            assert_eq!(claims.jti, "jti-28");
            ran.fetch_add(1, SeqCst);
            Ok::<_, Error>(())
        })
        .await
        .unwrap();
    assert_eq!(h.runs(), 1);
}

#[tokio::test]
async fn wait_then_run_uses_the_verified_approval_once() {
    let (h, p) = held_refund("req-29").await;
    h.vault
        .on_status([approved("req-29", &h.token("jti-29", 10))]);
    p.wait().await.unwrap();
    let twin = p.clone();
    let first = p.run(h.counted_body()).await;
    first.unwrap();
    let second = twin.run(h.counted_body()).await;
    assert!(
        matches!(&second, Err(Error::ReplayDetected { jti }) if jti == "jti-29"),
        "{second:?}"
    );
    assert_eq!(h.runs(), 1, "one approval runs one body");
}

#[tokio::test]
async fn non_finite_arguments_are_refused_before_anything_is_sent() {
    let h = harness().await;
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = h.refund_with_arg("amount", &bad).await.unwrap_err();
        assert!(
            matches!(&err, Error::ToolArgs(m) if m.contains("amount") && m.contains("null")),
            "{err:?}"
        );
    }
    assert_eq!(h.runs(), 0);
    assert!(h.vault.seen().is_empty());
}

#[tokio::test]
async fn a_zero_retry_after_on_polls_is_not_a_busy_loop() {
    assert_eq!(
        waits_with_status_retry_after(30, "0").await,
        vec![Duration::from_secs(2), Duration::from_millis(100)]
    );
}

#[tokio::test]
async fn consecutive_429_without_retry_after_back_off_further() {
    let h = harness().await;
    let mut replies: Vec<Reply> = std::iter::repeat_n(Reply::raw(429, "full"), 10).collect();
    replies.push(approved("req-31", &h.token("jti-31", 10)));
    h.vault.on_clearance(replies);
    h.refund(10).await.unwrap();
    let slept = h.sleeper.slept();
    assert_eq!(slept.len(), 10);
    // Ceilings 0.5 s, 1 s, 2 s, … 30 s with full jitter: the sum is far above the 5 s that ten
    // waits under a fixed 0.5 s ceiling could reach (failing by chance: ~1 in 200,000).
    assert!(
        slept.iter().sum::<Duration>() > Duration::from_secs(5),
        "{slept:?}"
    );
    for (i, d) in slept.iter().enumerate() {
        let ceiling = Duration::from_millis(500)
            .saturating_mul(1 << i)
            .min(Duration::from_secs(30));
        assert!(*d <= ceiling, "wait {i}: {d:?} > {ceiling:?}");
    }
}

#[tokio::test]
async fn a_token_whose_decision_is_not_an_approval_never_runs() {
    let h = harness().await;
    let mut c = claims("jti-32", "stripe_refund", &refund_args(10));
    c["decision"] = json!("denied");
    h.vault
        .on_clearance([approved("req-32", &h.issuer.sign("vault-key-1", &c))]);
    let err = h.refund(10).await.unwrap_err();
    assert!(
        matches!(&err, Error::TokenVerification(m) if m.contains("decision")),
        "{err:?}"
    );
    assert_eq!(h.runs(), 0);
}

#[tokio::test]
async fn request_ids_that_would_change_the_path_are_refused() {
    let h = harness().await;
    for id in ["", ".", ".."] {
        assert!(
            matches!(h.client.clearance_status(id).await, Err(Error::Protocol(_))),
            "{id}"
        );
        assert!(matches!(
            h.client.submit_review_decision(id, true, "ok").await,
            Err(Error::Protocol(_))
        ));
    }
    assert!(h.vault.seen().is_empty());
}
