//! Helpers of the tests that run calls against the mock Vault: a guarded call that counts its
//! body's runs, a client of the vault in detach mode or with its own replay store.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ledgix::mock::MockVault;
use ledgix::{Error, LedgixClient, PendingApproval, ReplayStore, ReviewMode, ToolCall};

/// Counts how many times a guarded body ran.
#[derive(Debug, Clone, Default)]
pub struct Runs(Arc<AtomicUsize>);

impl Runs {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A guarded call of `tool(amount)` whose body counts its runs and returns the token it sees.
pub async fn guarded(tool: &str, amount: u64, runs: &Runs) -> Result<String, Error> {
    let runs = runs.clone();
    ToolCall::new(tool)
        .arg("amount", &amount)
        .arg("currency", "usd")
        .policy("refund-policy")
        .run(async move {
            runs.bump();
            Ok(ledgix::current_token().expect("inside the body the token is in scope"))
        })
        .await
}

/// Makes `call` through `client` (in detach mode) with a body that does nothing, and returns
/// the pending approval of the review that holds it; panics on any other outcome.
pub async fn held(call: ToolCall, client: &LedgixClient) -> PendingApproval {
    let err = call
        .client(client)
        .run(async { Ok::<_, Error>(()) })
        .await
        .unwrap_err();
    let Error::ReviewPending(pending) = err else {
        panic!("expected ReviewPending, got {err:?}")
    };
    pending
}

/// A client of `vault` in detach mode: a call held for review returns
/// `Error::ReviewPending` at once instead of waiting for the decision.
pub fn detached_client(vault: &MockVault) -> LedgixClient {
    let config = vault
        .config()
        .to_builder()
        .review_mode(ReviewMode::Detach)
        .build()
        .expect("the mock's config in detach mode");
    LedgixClient::new(config).expect("a client of the mock Vault")
}

/// A client of `vault` that records the tokens it used in `store` (instead of the
/// process-wide memory store).
pub fn client_with_replay_store(vault: &MockVault, store: impl ReplayStore) -> LedgixClient {
    let config = vault
        .config()
        .to_builder()
        .replay_store(store)
        .build()
        .expect("the mock's config with a replay store");
    LedgixClient::new(config).expect("a client of the mock Vault")
}

/// Every one of `clients` resumes the approved request `id` (bound to `tool` and `args`) at
/// once, each with a body that counts its runs. Returns how many bodies ran and how many
/// resumptions were refused as replays; any other outcome panics.
pub async fn resume_everywhere(
    clients: &[LedgixClient],
    id: &str,
    tool: &str,
    args: &serde_json::Map<String, serde_json::Value>,
) -> (usize, usize) {
    let runs = Runs::default();
    let tasks: Vec<_> = clients
        .iter()
        .map(|client| {
            let resumed = PendingApproval::resume(client, id.to_string())
                .unwrap()
                .bind(tool, args.clone());
            let runs = runs.clone();
            tokio::spawn(resumed.run(async move {
                runs.bump();
                Ok::<_, Error>(())
            }))
        })
        .collect();
    let mut replays = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => {}
            Err(Error::ReplayDetected { .. }) => replays += 1,
            Err(other) => panic!("expected a run or a replay, got {other:?}"),
        }
    }
    (runs.count(), replays)
}

/// The bodies of the clearance requests `vault` received, oldest first.
pub fn asked(vault: &MockVault) -> Vec<serde_json::Value> {
    vault
        .requests()
        .into_iter()
        .filter(|r| r.path == "/request-clearance")
        .map(|r| r.body)
        .collect()
}
