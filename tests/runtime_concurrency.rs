//! 10,000 guarded calls at once against the mock Vault: each body runs exactly once, with the
//! token that clears its own arguments and nobody else's.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ledgix::mock::MockVault;
use ledgix::{Error, ToolCall};
use serde_json::json;

const CALLS: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_concurrent_calls_each_see_only_their_own_token() {
    let vault = MockVault::builder()
        .seal_every(std::time::Duration::ZERO)
        .start()
        .await;
    let client = vault.client();
    let ran = Arc::new(AtomicUsize::new(0));

    let tasks: Vec<_> = (0..CALLS)
        .map(|i| {
            let client = client.clone();
            let ran = ran.clone();
            tokio::spawn(async move {
                let order = format!("ord_{i}");
                ToolCall::new("create_stripe_payment")
                    .arg("amount", &(i as f64 + 0.99))
                    .arg("order_id", &order)
                    .client(&client)
                    .run(async move {
                        // Yield inside the scope so bodies of different calls interleave.
                        tokio::task::yield_now().await;
                        ran.fetch_add(1, SeqCst);
                        let claims = ledgix::current_claims().expect("claims in scope");
                        let token = ledgix::current_token().expect("token in scope");
                        let own =
                            json!({"amount": i as f64 + 0.99, "order_id": format!("ord_{i}")});
                        assert_eq!(
                            claims.tool_args_hash,
                            ledgix::tool_args_hash(own.as_object().unwrap())
                        );
                        tokio::task::yield_now().await;
                        assert_eq!(ledgix::current_token().as_deref(), Some(token.as_str()));
                        Ok::<_, Error>((i, token, claims.jti.clone()))
                    })
                    .await
            })
        })
        .collect();

    let mut tokens = HashSet::new();
    let mut jtis = HashSet::new();
    for (expected, task) in tasks.into_iter().enumerate() {
        let (i, token, jti) = task.await.expect("task").expect("approved");
        assert_eq!(i, expected);
        tokens.insert(token);
        jtis.insert(jti);
    }
    assert_eq!(ran.load(SeqCst), CALLS);
    assert_eq!(tokens.len(), CALLS, "every call got its own token");
    assert_eq!(jtis.len(), CALLS);
    assert_eq!(ledgix::current_token(), None);
}
