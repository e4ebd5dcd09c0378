//! `bench --calls guard|floor N`: N sequential calls of one kind against a mock Vault in a
//! child process, after 50 warm-up calls of that kind; nothing else. Run twice under
//! `valgrind --tool=callgrind` by `bench/callgrind.sh` (the child mock runs natively: callgrind
//! does not follow children by default), the difference of the two profiles per call is where
//! the guard's extra CPU goes.

use ledgix_bench::R;
use ledgix_bench::calls::guard_call_with;
use ledgix_bench::child::ChildVault;

/// Runs `calls` calls of `kind` (`guard` or `floor`).
pub async fn calls(kind: &str, calls: u64) -> R<()> {
    let guard = match kind {
        "guard" => true,
        "floor" => false,
        other => return Err(format!("--calls takes guard or floor, not `{other}`").into()),
    };
    let vault = ChildVault::start().await?;
    // Both kinds fetch the JWKS once, so the setup of the two profiles is the same.
    let (client, floor) = vault.client_and_floor().await?;
    let outcome = tokio::spawn(async move {
        for n in 0..50 + calls {
            if guard {
                guard_call_with(&client, n).await?;
            } else {
                floor.call(n).await?;
            }
        }
        Ok::<_, ledgix_bench::BoxError>(())
    })
    .await?;
    vault.stop().await;
    outcome
}
