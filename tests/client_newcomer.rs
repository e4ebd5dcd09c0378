//! What a newcomer needs at hand (issue 17): the request id of an approved call, a visible
//! event when a call is held for review and when its review is decided, their own
//! `reqwest::Client`, and a connection error whose cause can be walked.

mod support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use ledgix::mock::{MockVault, Rule};
use ledgix::{Config, Error, LedgixClient, ToolCall};
use tracing::instrument::WithSubscriber;

/// A call of `tool` through `client` whose body counts its runs.
async fn counted_call(tool: &str, client: &LedgixClient, runs: &AtomicUsize) -> Result<(), Error> {
    ToolCall::new(tool)
        .client(client)
        .run(async {
            runs.fetch_add(1, SeqCst);
            Ok::<_, Error>(())
        })
        .await
}

#[tokio::test]
async fn run_with_clearance_hands_back_the_request_id_to_prove_the_call() {
    let vault = MockVault::builder()
        .seal_every(Duration::from_millis(50))
        .start()
        .await;
    let client = vault.client();
    let (receipt, clearance) = ToolCall::new("stripe_refund")
        .arg("charge_id", &"ch_3Pxyz")
        .client(&client)
        .run_with_clearance(async {
            // Inside the body the same answer is at hand.
            let inside = ledgix::current_clearance().expect("inside a guarded body");
            Ok::<_, Error>(format!("re_for_{}", inside.request_id))
        })
        .await
        .unwrap();
    assert_eq!(receipt, format!("re_for_{}", clearance.request_id));
    assert!(clearance.token.is_some());
    let bundle = client
        .wait_for_ledger_proof_bundle(&clearance.request_id, Duration::from_secs(10))
        .await
        .unwrap();
    let proof = client.verify_ledger_proof_bundle(&bundle).await.unwrap();
    assert_eq!(proof.request_id, clearance.request_id);

    // Denied: the error, and the body never ran.
    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("no"))
        .start()
        .await;
    let runs = AtomicUsize::new(0);
    let err = ToolCall::new("stripe_refund")
        .client(&vault.client())
        .run_with_clearance(async {
            runs.fetch_add(1, SeqCst);
            Ok::<_, Error>(())
        })
        .await
        .unwrap_err();
    assert!(err.is_denied());
    assert_eq!(runs.load(SeqCst), 0);
}

/// Log lines written by a `tracing-subscriber` fmt layer, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let out = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_ansi(false)
            .with_writer(move || out.clone())
            .finish()
    }

    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap())
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[tokio::test]
async fn a_held_call_logs_when_it_is_held_and_when_its_review_is_decided() {
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .start()
        .await;
    let logs = Captured::default();
    let client = vault.client();
    let call = ToolCall::new("wire_transfer")
        .arg("amount", &48_000)
        .client(&client)
        .run(async { Ok::<_, Error>(()) })
        .with_subscriber(logs.subscriber());
    let reviewer = async {
        let id = vault.next_pending_review().await;
        vault.approve(&id).await;
        id
    };
    let (outcome, id) = tokio::join!(call, reviewer);
    outcome.unwrap();
    let lines = logs.lines();
    let held: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("held for human review"))
        .collect();
    assert_eq!(held.len(), 1, "{lines:#?}");
    assert!(held[0].contains(" INFO "), "{}", held[0]);
    assert!(held[0].contains(&id) && held[0].contains("tool=wire_transfer"));
    let decided: Vec<_> = lines
        .iter()
        .filter(|l| l.contains("human review decided"))
        .collect();
    assert_eq!(decided.len(), 1, "{lines:#?}");
    assert!(decided[0].contains(&id) && decided[0].contains("outcome=\"approved\""));

    // Detach mode: held when the call returns, decided when it is resumed.
    let logs = Captured::default();
    let detached = support::mock::detached_client(&vault);
    let err = ToolCall::new("wire_transfer")
        .arg("amount", &1)
        .client(&detached)
        .run(async { Ok::<_, Error>(()) })
        .with_subscriber(logs.subscriber())
        .await
        .unwrap_err();
    let Error::ReviewPending(pending) = err else {
        panic!("expected ReviewPending, got {err:?}")
    };
    vault.deny(pending.request_id(), "not this one").await;
    let err = pending
        .wait()
        .with_subscriber(logs.subscriber())
        .await
        .unwrap_err();
    assert!(err.is_denied());
    let lines = logs.lines().join("\n");
    assert_eq!(lines.matches("held for human review").count(), 1, "{lines}");
    assert!(
        lines.contains("human review decided") && lines.contains("outcome=\"denied\""),
        "{lines}"
    );
}

#[tokio::test]
async fn a_callers_own_http_client_carries_the_api_key_and_never_a_redirect() {
    let vault = MockVault::builder().api_key("sk_test_own").start().await;
    let own = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let config = vault
        .config()
        .to_builder()
        .http_client(own)
        .build()
        .unwrap();
    assert!(config.has_http_client());
    let runs = AtomicUsize::new(0);
    counted_call("t", &LedgixClient::new(config).unwrap(), &runs)
        .await
        .unwrap();
    assert_eq!(runs.load(SeqCst), 1);
    let post = vault
        .requests()
        .into_iter()
        .find(|r| r.path == "/request-clearance")
        .unwrap();
    assert!(post.header("x-vault-api-key").is_some(), "{post:?}");

    // A client that follows redirects: an answer from elsewhere is not the Vault's.
    let target = format!("{}/", vault.url());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let redirecting = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = Router::new().fallback(move |uri: axum::http::Uri| {
            let to = format!("{}{}", target.trim_end_matches('/'), uri.path());
            async move { (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, to)]).into_response() }
        });
        axum::serve(listener, app).await.unwrap();
    });
    let following = Config::builder()
        .vault_url(redirecting)
        .http_client(reqwest::Client::new())
        .build()
        .unwrap();
    let err = counted_call("t", &LedgixClient::new(following).unwrap(), &runs)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Protocol(m) if m.contains("redirect")),
        "{err:?}"
    );
    assert_eq!(runs.load(SeqCst), 1);
}

static REFUND_RAN: AtomicUsize = AtomicUsize::new(0);

#[ledgix::guarded]
async fn refund_with_anyhow(charge_id: String, amount: f64) -> anyhow::Result<String> {
    REFUND_RAN.fetch_add(1, SeqCst);
    Ok(format!("refunded {amount} on {charge_id}"))
}

#[tokio::test]
async fn anyhow_result_works_and_the_denial_is_one_downcast_away() {
    let vault = MockVault::builder()
        .rule(Rule::tool("refund_with_anyhow").deny("over the limit"))
        .start()
        .await;
    let err = vault
        .scope(refund_with_anyhow("ch_1".into(), 1250.0))
        .await
        .unwrap_err();
    let ledgix_error = err
        .downcast_ref::<ledgix::Error>()
        .expect("the guard's error inside anyhow");
    assert!(ledgix_error.is_denied());
    assert!(ledgix_error.tool_message().contains("over the limit"));
    assert_eq!(REFUND_RAN.load(SeqCst), 0);
}

#[tokio::test]
async fn a_connection_error_carries_its_cause() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(format!("http://127.0.0.1:{port}"))
            .max_retries(0)
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client.clearance_status("req-1").await.unwrap_err();
    let Error::Connection(connection) = &err else {
        panic!("expected a connection error, got {err:?}")
    };
    assert!(connection.message().contains("after 1 attempt"), "{err}");
    let mut chain = Vec::new();
    let mut source = std::error::Error::source(&err);
    while let Some(e) = source {
        chain.push(e.to_string());
        source = e.source();
    }
    assert!(chain.len() >= 2, "{chain:?}");
    assert!(
        chain
            .iter()
            .any(|c| c.to_ascii_lowercase().contains("connect")),
        "{chain:?}"
    );
}
