//! Helpers shared by the mock Vault's integration tests.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ledgix::{Error, ToolCall};

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
