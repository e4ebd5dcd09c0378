//! Which client a guarded call asks: task-local override (`with_client`) → explicit
//! `.client(..)` → `configure()` → the environment. One test in this binary, because
//! `configure()` sets process-wide state.

mod support;

use ledgix::{Error, LedgixClient, ToolCall};
use serde_json::json;
use support::scripted::*;

async fn vault_approving(name: &str, issuer: &TestIssuer, times: usize) -> ScriptedVault {
    let vault = ScriptedVault::start(issuer.jwks()).await;
    vault.on_clearance((0..times).map(|i| {
        approved(
            name,
            &issuer.token(&format!("{name}-{i}"), "ping", &json!({})),
        )
    }));
    vault
}

fn client_of(vault: &ScriptedVault) -> LedgixClient {
    LedgixClient::new(
        ledgix::Config::builder()
            .vault_url(&vault.url)
            .build()
            .unwrap(),
    )
    .unwrap()
}

async fn ping(explicit: Option<&LedgixClient>) -> Result<String, Error> {
    let mut call = ToolCall::new("ping");
    if let Some(c) = explicit {
        call = call.client(c);
    }
    call.run(async { Ok(ledgix::current_clearance().unwrap().request_id.clone()) })
        .await
}

#[tokio::test]
async fn task_local_then_explicit_then_configured() {
    let issuer = TestIssuer::new("k", 3);
    let configured = vault_approving("configured", &issuer, 2).await;
    let explicit = vault_approving("explicit", &issuer, 1).await;
    let scoped = vault_approving("scoped", &issuer, 2).await;

    ledgix::configure(
        ledgix::Config::builder()
            .vault_url(&configured.url)
            .build()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(ping(None).await.unwrap(), "configured");

    let explicit_client = client_of(&explicit);
    assert_eq!(ping(Some(&explicit_client)).await.unwrap(), "explicit");

    let scoped_client = client_of(&scoped);
    let (a, b) = ledgix::with_client(scoped_client, async {
        (
            ping(None).await.unwrap(),
            ping(Some(&explicit_client)).await.unwrap(),
        )
    })
    .await;
    assert_eq!(
        (a.as_str(), b.as_str()),
        ("scoped", "scoped"),
        "the task-local override wins"
    );

    assert_eq!(
        ping(None).await.unwrap(),
        "configured",
        "the override ended with its scope"
    );
    assert_eq!(configured.seen_path("/request-clearance").len(), 2);
    assert_eq!(explicit.seen_path("/request-clearance").len(), 1);
    assert_eq!(scoped.seen_path("/request-clearance").len(), 2);
}
