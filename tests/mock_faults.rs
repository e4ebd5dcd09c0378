//! Every fault of the mock Vault fails closed: the guarded body runs zero times, the error is
//! the variant that names the failure (never a denial), and no ledger event is written.
//! `.times(n)` faults then heal, and the call goes through exactly once.

mod support;

use std::time::Duration;

use ledgix::mock::{Fault, MockVault, Rule};
use ledgix::{Config, Error, LedgixClient};
use serde_json::json;
use support::mock::{Runs, guarded};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The outcome of one guarded call against a mock with `fault` (and `rules`), and the mock.
async fn call_with(
    fault: Fault,
    rules: Vec<Rule>,
    tune: impl FnOnce(ledgix::ConfigBuilder) -> ledgix::ConfigBuilder,
) -> (Result<String, Error>, Runs, MockVault) {
    let vault = MockVault::builder().rules(rules).fault(fault).start().await;
    let config: Config = tune(vault.config().to_builder()).build().unwrap();
    let client = LedgixClient::new(config).unwrap();
    let runs = Runs::default();
    let result = ledgix::with_client(client, guarded("stripe_refund", 45, &runs)).await;
    (result, runs, vault)
}

fn clearance_posts(vault: &MockVault) -> usize {
    vault
        .requests()
        .iter()
        .filter(|r| r.path == "/request-clearance")
        .count()
}

/// The common assertions: no run, no denial, no event.
fn failed_closed(result: &Result<String, Error>, runs: &Runs, vault: &MockVault, case: &str) {
    let err = result.as_ref().expect_err(case);
    assert!(
        !err.is_denied(),
        "{case}: a fault must not look like a denial: {err:?}"
    );
    assert_eq!(runs.count(), 0, "{case}: the body ran");
    assert!(
        vault.ledger_entries().is_empty(),
        "{case}: a faulted answer wrote an event"
    );
}

#[tokio::test]
async fn every_fault_fails_closed_with_its_own_error() {
    let no_rules = Vec::new;
    let same = |b| b;

    let (r, runs, vault) = call_with(Fault::status(503), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "status(503)");
    assert!(matches!(r, Err(Error::Http { status: 503, .. })), "{r:?}");
    assert_eq!(
        clearance_posts(&vault),
        4,
        "503 is retried max_retries (3) times"
    );

    let (r, runs, vault) = call_with(Fault::status(400), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "status(400)");
    assert!(matches!(r, Err(Error::Http { status: 400, .. })), "{r:?}");
    assert_eq!(clearance_posts(&vault), 1, "400 is not retried");

    let (r, runs, vault) = call_with(Fault::retry_after(0), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "retry_after(0)");
    assert!(matches!(r, Err(Error::QueueSaturated { .. })), "{r:?}");
    assert_eq!(
        clearance_posts(&vault),
        11,
        "more than 10 429s in a row saturate"
    );

    let (r, runs, vault) = call_with(Fault::delay(Duration::from_secs(5)), no_rules(), |b| {
        b.timeout(Duration::from_millis(100)).max_retries(1)
    })
    .await;
    failed_closed(&r, &runs, &vault, "delay(5s) with a 100 ms timeout");
    assert!(matches!(r, Err(Error::Connection(_))), "{r:?}");

    let (r, runs, vault) = call_with(Fault::malformed_body(), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "malformed_body");
    assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");

    let (r, runs, vault) = call_with(Fault::drop_connection(), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "drop_connection");
    assert!(matches!(r, Err(Error::Connection(_))), "{r:?}");
    assert_eq!(
        clearance_posts(&vault),
        4,
        "a dropped connection is retried"
    );

    let (r, runs, vault) = call_with(Fault::approve_without_token(), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "approve_without_token");
    assert!(
        matches!(&r, Err(Error::Protocol(m)) if m.contains("without a token")),
        "{r:?}"
    );

    let (r, runs, vault) =
        call_with(Fault::token_for_tool("wire_transfer"), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "token_for_tool");
    assert!(matches!(r, Err(Error::TokenVerification(_))), "{r:?}");

    let (r, runs, vault) = call_with(
        Fault::token_for_args(json!({"amount": 4500, "currency": "usd"})),
        no_rules(),
        same,
    )
    .await;
    failed_closed(&r, &runs, &vault, "token_for_args");
    assert!(matches!(r, Err(Error::TokenVerification(_))), "{r:?}");

    let (r, runs, vault) = call_with(Fault::wrong_signing_key(), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "wrong_signing_key");
    assert!(matches!(r, Err(Error::TokenVerification(_))), "{r:?}");

    let (r, runs, vault) = call_with(Fault::unknown_status("maybe"), no_rules(), same).await;
    failed_closed(&r, &runs, &vault, "unknown_status");
    assert!(
        matches!(&r, Err(Error::Protocol(m)) if m.contains("maybe")),
        "{r:?}"
    );
}

#[tokio::test]
async fn faults_on_status_polls_fail_closed_too() {
    let slow = || vec![Rule::tool("stripe_refund").processing(2).approve()];
    let same = |b| b;

    let (r, runs, vault) = call_with(Fault::malformed_body().on_status_polls(), slow(), same).await;
    failed_closed(&r, &runs, &vault, "malformed poll");
    assert!(matches!(r, Err(Error::Protocol(_))), "{r:?}");

    let (r, runs, vault) =
        call_with(Fault::drop_connection().on_status_polls(), slow(), same).await;
    failed_closed(&r, &runs, &vault, "dropped poll");
    assert!(matches!(r, Err(Error::Connection(_))), "{r:?}");

    let (r, runs, vault) = call_with(
        Fault::token_for_tool("other").on_status_polls(),
        slow(),
        same,
    )
    .await;
    failed_closed(&r, &runs, &vault, "poll with a token for another tool");
    assert!(matches!(r, Err(Error::TokenVerification(_))), "{r:?}");

    let review = || vec![Rule::tool("stripe_refund").review()];
    let (r, runs, vault) = call_with(Fault::status(503).on_status_polls(), review(), same).await;
    failed_closed(&r, &runs, &vault, "503 while waiting for review");
    assert!(matches!(r, Err(Error::Http { status: 503, .. })), "{r:?}");
}

#[tokio::test]
async fn faults_with_times_heal_and_the_call_runs_once() {
    let same = |b| b;
    for (fault, posts) in [
        (Fault::status(503).times(2), 3),
        (Fault::drop_connection().times(1), 2),
        (Fault::retry_after(0).times(3), 4),
        (Fault::delay(Duration::from_millis(20)).times(1), 1),
    ] {
        let case = format!("{fault:?}");
        let (r, runs, vault) = call_with(fault, Vec::new(), same).await;
        assert!(r.is_ok(), "{case}: {r:?}");
        assert_eq!(runs.count(), 1, "{case}");
        assert_eq!(clearance_posts(&vault), posts, "{case}");
        assert_eq!(
            vault.ledger_entries().len(),
            1,
            "{case}: one decision, one event"
        );
    }

    // Polls heal too.
    let slow = vec![Rule::tool("stripe_refund").processing(2).approve()];
    let (r, runs, _vault) =
        call_with(Fault::status(502).on_status_polls().times(2), slow, same).await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(runs.count(), 1);
}

#[tokio::test]
async fn faults_queue_in_order_and_can_be_injected_later() {
    let vault = MockVault::builder()
        .fault(Fault::status(502).times(1))
        .fault(Fault::unknown_status("later").times(1))
        .start()
        .await;
    let runs = Runs::default();
    // 502 (retried), then the unknown status: a protocol error, not retried.
    let r = vault.scope(guarded("t", 1, &runs)).await;
    assert!(
        matches!(&r, Err(Error::Protocol(m)) if m.contains("later")),
        "{r:?}"
    );
    assert_eq!(clearance_posts(&vault), 2);
    // The queue is empty: normal service.
    vault.scope(guarded("t", 1, &runs)).await.unwrap();
    vault.inject(Fault::wrong_signing_key().times(1));
    let r = vault.scope(guarded("t", 1, &runs)).await;
    assert!(matches!(r, Err(Error::TokenVerification(_))), "{r:?}");
    vault.scope(guarded("t", 1, &runs)).await.unwrap();
    assert_eq!(runs.count(), 2);
    assert_eq!(vault.ledger_entries().len(), 2);
}

#[tokio::test]
async fn drop_connection_closes_the_socket_without_a_byte() {
    let vault = MockVault::builder()
        .fault(Fault::drop_connection())
        .start()
        .await;
    let mut socket = tokio::net::TcpStream::connect(vault.addr()).await.unwrap();
    let body = r#"{"tool_name":"t","tool_args":{},"agent_id":"a"}"#;
    let request = format!(
        "POST /request-clearance HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // EOF or a reset: either way, nothing was sent.
    let _ = socket.read_to_end(&mut answer).await;
    assert!(
        answer.is_empty(),
        "got an answer: {}",
        String::from_utf8_lossy(&answer)
    );
    assert_eq!(clearance_posts(&vault), 1);
}
