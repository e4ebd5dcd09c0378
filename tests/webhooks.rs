//! Signed webhooks end to end: the mock Vault (in process and as the `ledgix-mock-vault`
//! binary) POSTs `review.held` and `review.decided` to a real axum receiver that takes them
//! with `VerifiedWebhook`; a wrong secret is refused by the receiver, a receiver that is down
//! is retried then given up while the Vault keeps deciding; the extractor's refusals; and
//! property tests of the verifier (arbitrary signatures never panic, only the right one passes).

mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::routing::post;
use ledgix::mock::{MockVault, Rule, WebhookDelivery};
use ledgix::webhook::{
    REVIEW_DECIDED, REVIEW_HELD, VerifiedWebhook, WebhookError, WebhookEvent, WebhookVerifier,
    sign_webhook,
};
use ledgix::{Error, ToolCall, verify_webhook};
use proptest::prelude::*;
use serde_json::{Value, json};
use support::http::json_answer;
use tokio::sync::mpsc;

// ------------------------------------------------------------------ a real receiver

#[derive(Clone)]
struct Receiver {
    verifier: WebhookVerifier,
    events: mpsc::UnboundedSender<WebhookEvent>,
    handled: Arc<AtomicUsize>,
}

impl FromRef<Receiver> for WebhookVerifier {
    fn from_ref(state: &Receiver) -> WebhookVerifier {
        state.verifier.clone()
    }
}

async fn on_event(
    State(receiver): State<Receiver>,
    VerifiedWebhook(event): VerifiedWebhook<WebhookEvent>,
) -> &'static str {
    receiver.handled.fetch_add(1, SeqCst);
    let _ = receiver.events.send(event);
    "ok"
}

struct Running {
    url: String,
    events: mpsc::UnboundedReceiver<WebhookEvent>,
    handled: Arc<AtomicUsize>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An axum app on a free loopback port, taking `VerifiedWebhook<WebhookEvent>` at `/ledgix`.
async fn receiver(verifier: WebhookVerifier) -> Running {
    let (tx, events) = mpsc::unbounded_channel();
    let handled = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/ledgix", post(on_event))
        .with_state(Receiver {
            verifier,
            events: tx,
            handled: handled.clone(),
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ledgix", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Running {
        url,
        events,
        handled,
        server,
    }
}

async fn next_event(events: &mut mpsc::UnboundedReceiver<WebhookEvent>) -> WebhookEvent {
    tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("no webhook within 20 s")
        .expect("the receiver stopped")
}

/// Waits until the Vault reports `n` deliveries (delivered or given up).
async fn deliveries(vault: &MockVault, n: usize) -> Vec<WebhookDelivery> {
    for _ in 0..400 {
        let done = vault.webhook_deliveries();
        if done.len() >= n {
            return done;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "the mock Vault reported {:?}, expected {n} deliveries",
        vault.webhook_deliveries()
    );
}

/// Holds a `wire_transfer` for review, approves it, and returns the request id and how many
/// times the body ran.
async fn held_then_approved(vault: &MockVault) -> (String, usize) {
    let runs = Arc::new(AtomicUsize::new(0));
    let client = vault.client();
    let counter = runs.clone();
    let call = tokio::spawn(async move {
        ToolCall::new("wire_transfer")
            .arg("amount", &48_000)
            .client(&client)
            .run(async move {
                counter.fetch_add(1, SeqCst);
                Ok::<_, Error>(())
            })
            .await
    });
    let id = vault.next_pending_review().await;
    vault.approve(&id).await;
    tokio::time::timeout(Duration::from_secs(20), call)
        .await
        .expect("the held call finished within 20 s after approval")
        .unwrap()
        .expect("an approved call runs");
    (id, runs.load(SeqCst))
}

// ------------------------------------------------------------------ end to end

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_then_approved_call_sends_both_events_signed() {
    let mut hook = receiver(WebhookVerifier::new(["whsec_old", "whsec_current"])).await;
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .webhook(&hook.url, "whsec_current")
        .start()
        .await;
    let (id, runs) = held_then_approved(&vault).await;
    assert_eq!(runs, 1);

    let held = next_event(&mut hook.events).await;
    assert_eq!(held.event_type, REVIEW_HELD);
    assert_eq!(held.request_id, id);
    assert_eq!(held.tool_name, "wire_transfer");
    assert_eq!(held.status, "pending_review");
    let decided = next_event(&mut hook.events).await;
    assert_eq!(decided.event_type, REVIEW_DECIDED);
    assert_eq!(decided.request_id, id);
    assert_eq!(decided.status, "approved");
    assert_eq!(decided.reason, "approved by a human reviewer");

    let done = deliveries(&vault, 2).await;
    assert!(
        done.iter().all(|d| d.delivered && d.attempts == 1),
        "{done:?}"
    );
    // Rule decisions (no review) send nothing.
    ToolCall::new("lookup")
        .client(&vault.client())
        .run(async { Ok::<_, Error>(()) })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(vault.webhook_deliveries().len(), 2);
    assert_eq!(hook.handled.load(SeqCst), 2);

    // A denial by the reviewer is an event too.
    let client = vault.client();
    let call = tokio::spawn(async move {
        ToolCall::new("wire_transfer")
            .arg("amount", &1)
            .client(&client)
            .run(async { Ok::<_, Error>(()) })
            .await
    });
    let id = vault.next_pending_review().await;
    vault.deny(&id, "not this month").await;
    assert!(call.await.unwrap().unwrap_err().is_denied());
    assert_eq!(next_event(&mut hook.events).await.event_type, REVIEW_HELD);
    let denied = next_event(&mut hook.events).await;
    assert_eq!(
        (denied.status.as_str(), denied.reason.as_str()),
        ("denied", "not this month")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_secret_is_refused_by_the_receiver_and_the_vault_keeps_working() {
    let hook = receiver(WebhookVerifier::new(["whsec_right"])).await;
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .webhook(&hook.url, "whsec_wrong")
        .start()
        .await;
    let (_, runs) = held_then_approved(&vault).await;
    assert_eq!(runs, 1, "the Vault decided regardless");
    let done = deliveries(&vault, 2).await;
    for d in &done {
        assert!(!d.delivered, "{d:?}");
        assert_eq!(d.attempts, 4, "{d:?}");
        assert_eq!(d.error.as_deref(), Some("HTTP 401"), "{d:?}");
    }
    assert_eq!(hook.handled.load(SeqCst), 0, "the handler never ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_is_down_is_retried_then_given_up_without_stopping_decisions() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .webhook(format!("http://127.0.0.1:{port}/ledgix"), "whsec_x")
        .start()
        .await;
    let (_, runs) = held_then_approved(&vault).await;
    assert_eq!(runs, 1);
    // More decisions while deliveries are failing in the background.
    for _ in 0..5 {
        ToolCall::new("lookup")
            .client(&vault.client())
            .run(async { Ok::<_, Error>(()) })
            .await
            .unwrap();
    }
    let done = deliveries(&vault, 2).await;
    assert_eq!(done[0].event.event_type, REVIEW_HELD);
    assert_eq!(done[1].event.event_type, REVIEW_DECIDED);
    for d in &done {
        assert!(!d.delivered);
        assert_eq!(d.attempts, 4, "{d:?}");
        let error = d.error.as_deref().unwrap_or_default();
        assert!(error.starts_with("connection failed"), "{error}");
    }
}

#[tokio::test]
async fn the_mock_vault_refuses_a_bad_webhook_configuration() {
    for (url, secret, needle) in [
        ("ftp://127.0.0.1/hook", "s", "http:// or https://"),
        ("not a url", "s", "not a URL"),
        ("http://user:pw@127.0.0.1/hook", "s", "credentials"),
        ("http://127.0.0.1/hook", "", "must not be empty"),
    ] {
        let err = MockVault::builder()
            .webhook(url, secret)
            .try_start()
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config(m) if m.contains(needle)),
            "{url}: {err}"
        );
    }
    let builder = MockVault::builder().webhook("http://127.0.0.1/h", "whsec_hidden");
    assert!(!format!("{builder:?}").contains("whsec_hidden"));
}

// ------------------------------------------------------------------ the binary

const BIN: &str = env!("CARGO_BIN_EXE_ledgix-mock-vault");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standalone_mock_vault_sends_webhooks_when_asked() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let mut hook = receiver(WebhookVerifier::new(["whsec_cli"])).await;
    let rules =
        std::env::temp_dir().join(format!("ledgix-webhook-rules-{}.json", std::process::id()));
    std::fs::write(
        &rules,
        r#"{"default": "approve", "rules": [{"tool": "wire_transfer", "decision": "review"}]}"#,
    )
    .unwrap();
    let mut child = tokio::process::Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--seal-every", "0", "--rules"])
        .arg(&rules)
        .args(["--webhook-url", &hook.url])
        .env("LEDGIX_WEBHOOK_SECRET", "whsec_cli")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the mock Vault printed nothing within 30 s")
        .unwrap()
        .unwrap();
    let url = first
        .strip_prefix("ledgix-mock-vault listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let _ = std::fs::remove_file(&rules);

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let answer: Value = json_answer(http.post(format!("{url}/request-clearance")).json(
        &json!({"tool_name": "wire_transfer", "tool_args": {"amount": 5},
            "agent_id": "a", "session_id": "s"}),
    ))
    .await;
    assert_eq!(answer["status"], "pending_review", "{answer}");
    let id = answer["request_id"].as_str().unwrap().to_string();
    let held = next_event(&mut hook.events).await;
    assert_eq!(
        (held.event_type.as_str(), held.request_id.as_str()),
        (REVIEW_HELD, id.as_str())
    );

    let decided = http
        .post(format!("{url}/reviews/{id}/decision"))
        .json(&json!({"approved": false, "review_reason": "no"}))
        .send()
        .await
        .unwrap();
    assert!(decided.status().is_success(), "{}", decided.status());
    let event = next_event(&mut hook.events).await;
    assert_eq!(event.event_type, REVIEW_DECIDED);
    assert_eq!(event.status, "denied");
    // It says so on its standard output.
    let mut said = Vec::new();
    while said.len() < 10 {
        match tokio::time::timeout(Duration::from_secs(5), lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                let done = line.starts_with("webhook review.decided");
                said.push(line);
                if done {
                    break;
                }
            }
            _ => break,
        }
    }
    assert!(
        said.iter()
            .any(|l| l.starts_with(&format!("webhook review.held request_id={id} delivered"))),
        "{said:?}"
    );
    let _ = child.kill().await;
}

// ------------------------------------------------------------------ the extractor

#[tokio::test]
async fn the_extractor_refuses_with_a_status_and_a_json_reason_and_never_runs_the_handler() {
    let hook = receiver(WebhookVerifier::new(["whsec_a", "whsec_b"]).max_body_bytes(4096)).await;
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let event = br#"{"type":"review.held","request_id":"r-1","tool_name":"t","status":"pending_review","reason":""}"#;
    let good = sign_webhook(event, "whsec_a");
    let bare = good.strip_prefix("sha256=").unwrap().to_string();
    let post = |body: Vec<u8>, signatures: Vec<String>| {
        let mut request = http.post(&hook.url).body(body);
        for s in signatures {
            request = request.header("X-Ledgix-Signature", s);
        }
        async move {
            let answer = request.send().await.unwrap();
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    };
    let big = vec![b' '; 10_000];
    let not_json = b"not json".to_vec();
    for (body, signatures, expect) in [
        (event.to_vec(), vec![], (401, "missing_signature")),
        (
            event.to_vec(),
            vec![good.clone(), good.clone()],
            (401, "missing_signature"),
        ),
        (
            event.to_vec(),
            vec![good.to_uppercase()],
            (401, "malformed_signature"),
        ),
        (
            event.to_vec(),
            vec![format!("{good}0")],
            (401, "malformed_signature"),
        ),
        (
            event.to_vec(),
            vec![sign_webhook(event, "whsec_c")],
            (401, "bad_signature"),
        ),
        (b"{}".to_vec(), vec![good.clone()], (401, "bad_signature")),
        (
            big.clone(),
            vec![sign_webhook(&big, "whsec_a")],
            (413, "body_too_large"),
        ),
        (
            not_json.clone(),
            vec![sign_webhook(&not_json, "whsec_b")],
            (400, "invalid_json"),
        ),
        (
            br#"{"type":"x"}"#.to_vec(),
            vec![sign_webhook(br#"{"type":"x"}"#, "whsec_b")],
            (400, "invalid_json"),
        ),
    ] {
        let (status, code) = post(body, signatures.clone()).await;
        assert_eq!((status, code.as_str()), expect, "{signatures:?}");
    }
    assert_eq!(
        hook.handled.load(SeqCst),
        0,
        "no refusal reached the handler"
    );
    // Both forms of the right signature, under either secret, pass.
    for signature in [good, bare, sign_webhook(event, "whsec_b")] {
        assert_eq!(post(event.to_vec(), vec![signature]).await.0, 200);
    }
    assert_eq!(hook.handled.load(SeqCst), 3);
}

#[test]
fn refusal_codes_are_stable() {
    assert_eq!(WebhookError::Mismatch.code(), "bad_signature");
    assert_eq!(
        WebhookError::NoSecret.to_string(),
        "no webhook secret is configured: every webhook is refused"
    );
}

// ------------------------------------------------------------------ properties

fn hex_string() -> impl Strategy<Value = String> {
    "[0-9a-fA-F]{0,70}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any signature text: no panic, and it passes only when it is the right digest.
    #[test]
    fn arbitrary_signatures_never_panic_and_only_the_right_one_passes(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        secret in "[ -~]{0,40}",
        signature in prop_oneof![any::<String>(), hex_string(), hex_string().prop_map(|h| format!("sha256={h}"))],
    ) {
        let right = sign_webhook(&body, &secret);
        let expected = !secret.is_empty()
            && (signature == right || Some(signature.as_str()) == right.strip_prefix("sha256="));
        prop_assert_eq!(verify_webhook(&body, &signature, &secret), expected);
        let verifier = WebhookVerifier::new([secret.clone()]);
        prop_assert_eq!(verifier.verify(&body, &signature).is_ok(), expected);
    }

    /// The right signature passes; changing any one character of it (or the body) fails.
    #[test]
    fn one_changed_character_fails(
        body in proptest::collection::vec(any::<u8>(), 0..256),
        secret in "[ -~]{1,40}",
        at in 7usize..71,
        with in any::<char>(),
        other_secret in "[ -~]{1,40}",
    ) {
        let right = sign_webhook(&body, &secret);
        prop_assert!(verify_webhook(&body, &right, &secret));
        let verifier = WebhookVerifier::new([other_secret.clone(), secret.clone()]);
        prop_assert!(verifier.verify(&body, &right).is_ok());
        let mut changed: Vec<char> = right.chars().collect();
        prop_assume!(changed[at] != with);
        changed[at] = with;
        let changed: String = changed.into_iter().collect();
        prop_assert!(!verify_webhook(&body, &changed, &secret));
        prop_assert!(verifier.verify(&body, &changed).is_err());
        let mut other_body = body.clone();
        other_body.push(0);
        prop_assert!(!verify_webhook(&other_body, &right, &secret));
        if other_secret != secret {
            prop_assert!(!verify_webhook(&body, &right, &other_secret));
        }
    }
}
