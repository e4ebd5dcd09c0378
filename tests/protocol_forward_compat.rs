//! Forward compatibility, end to end through a guarded call: an informational field with a
//! value this SDK does not know yet parses (the raw string kept) and the approved body runs;
//! a field that decides with an unknown value fails closed, the body never runs.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ledgix::{ConfidenceBucket, Error, LedgixClient, ToolCall};
use serde_json::json;
use support::scripted::{Reply, ScriptedVault, TestIssuer};

async fn call(vault: &ScriptedVault, runs: &Arc<AtomicUsize>) -> Result<String, Error> {
    let client = LedgixClient::new(
        ledgix::Config::builder()
            .vault_url(&vault.url)
            .agent_id("test-agent")
            .build()
            .unwrap(),
    )
    .unwrap();
    let runs = runs.clone();
    ToolCall::new("lookup")
        .arg("id", "c_1")
        .client(&client)
        .run(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            let clearance = ledgix::current_clearance().expect("in the body");
            Ok::<_, Error>(clearance.confidence_bucket.clone().unwrap().to_string())
        })
        .await
}

fn answer(issuer: &TestIssuer, decision_status: &str, bucket: &str) -> Reply {
    let token = issuer.token("jti-1", "lookup", &json!({"id": "c_1"}));
    Reply::json(
        200,
        json!({
            "status": "approved", "token": token, "reason": "ok", "request_id": "r-1",
            "decision_status": decision_status, "confidence_bucket": bucket,
            "minimum_confidence_bucket": "ultra_high",
        }),
    )
}

#[tokio::test]
async fn an_unknown_confidence_bucket_does_not_stop_the_call() {
    let issuer = TestIssuer::new("vault-key-1", 7);
    let vault = ScriptedVault::start(issuer.jwks()).await;
    vault.on_clearance([answer(&issuer, "approved", "very_high")]);
    let runs = Arc::new(AtomicUsize::new(0));
    let seen = call(&vault, &runs).await.unwrap();
    assert_eq!(seen, "very_high", "the raw string is kept");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(
        ConfidenceBucket::from("very_high"),
        ConfidenceBucket::Other("very_high".into())
    );
}

#[tokio::test]
async fn an_unknown_decision_status_fails_closed() {
    let issuer = TestIssuer::new("vault-key-1", 7);
    let vault = ScriptedVault::start(issuer.jwks()).await;
    vault.on_clearance([answer(&issuer, "approved_by_magic", "high")]);
    let runs = Arc::new(AtomicUsize::new(0));
    match call(&vault, &runs).await {
        Err(Error::Protocol(why)) => {
            assert!(why.contains("POST /request-clearance"), "{why}");
            assert!(why.contains("approved_by_magic"), "{why}");
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
    assert_eq!(runs.load(Ordering::SeqCst), 0, "the body never runs");
}
