//! The recursive shapes of `#[ledgix::guarded]`: part of the `ui_pass` target (they compile,
//! their futures are `Send`), and run by `tests/macros_guarded.rs` (each level asks the Vault).

use std::future::Future;
use std::pin::Pin;

/// An async fn boxing its own call: counts down to zero, answers how many levels it went.
#[ledgix::guarded]
pub async fn countdown(n: u32) -> Result<u32, ledgix::Error> {
    if n == 0 {
        return Ok(0);
    }
    Ok(1 + Box::pin(countdown(n - 1)).await?)
}

/// A fn returning its boxed future: `n!`.
#[ledgix::guarded]
pub fn factorial(n: u64) -> Pin<Box<dyn Future<Output = Result<u64, ledgix::Error>> + Send>> {
    Box::pin(async move {
        if n <= 1 {
            return Ok(1);
        }
        Ok(n * factorial(n - 1).await?)
    })
}
