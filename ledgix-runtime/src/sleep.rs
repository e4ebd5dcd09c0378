//! The one place the SDK waits: retry backoff, `Retry-After`, and review polling all sleep
//! through a [`Sleeper`], so tests can record the waits and skip them while still talking to
//! a real server over real sockets.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed, `Send` future of `()`.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Something that can wait for a duration. The default is [`TokioSleeper`].
pub trait Sleeper: Send + Sync + fmt::Debug + 'static {
    /// Waits for `duration` (or pretends to).
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// Sleeps with `tokio::time::sleep`.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}
