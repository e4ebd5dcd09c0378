//! The mock Vault logs each decision and each held review as one INFO event of
//! `ledgix::mock`.
//!
//! A test binary of its own: a scoped `tracing` subscriber (`set_default`) beside other test
//! threads that hit the same callsites without one can have those callsites' interest cached
//! as "never" (a race in tracing-core's callsite registry), and the events go missing.

use ledgix::mock::{MockVault, Rule};

/// A `tracing` writer that keeps what it is given.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn each_decision_and_held_review_is_an_info_event() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_env_filter("ledgix::mock=info")
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("refunds are frozen"))
        .rule(Rule::tool("wire_*").review())
        .start()
        .await;
    let client = vault.client();
    let denied = client
        .request_clearance(&ledgix::ClearanceRequest::new("stripe_refund"))
        .await
        .unwrap_err();
    let denied_id = denied.request_id().unwrap().to_owned();
    let held = tokio::spawn({
        let client = client.clone();
        async move {
            client
                .request_clearance(&ledgix::ClearanceRequest::new("wire_transfer"))
                .await
        }
    });
    let held_id = vault.next_pending_review().await;
    vault.approve(&held_id).await;
    held.await.unwrap().unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let events: Vec<&str> = text.lines().collect();
    assert_eq!(events.len(), 3, "{text}");
    for (event, id, tool, outcome, by) in [
        (events[0], &denied_id, "stripe_refund", "denied", "rules"),
        (
            events[1],
            &held_id,
            "wire_transfer",
            "pending_review",
            "rules",
        ),
        (events[2], &held_id, "wire_transfer", "approved", "reviewer"),
    ] {
        assert!(event.contains(" INFO ledgix::mock:"), "{event}");
        for field in [
            format!("request_id={id}"),
            format!("tool={tool}"),
            format!("outcome=\"{outcome}\""),
            format!("by=\"{by}\""),
        ] {
            assert!(event.contains(&field), "{field} in {event}");
        }
    }
}
