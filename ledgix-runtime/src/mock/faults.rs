//! Misbehaviour on demand: each [`Fault`] replaces the mock Vault's next answers on one
//! endpoint, so every failure path of a client can be tested.

use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

/// One way the mock Vault misbehaves, applied to the next matching requests.
///
/// By default a fault applies to every `POST /request-clearance` (`.times(n)` limits it to the
/// next `n`; [`on_status_polls`](Fault::on_status_polls) moves it to
/// `GET /clearance-status/{id}`, [`on_mint`](Fault::on_mint) to `POST /mint-token`, where the
/// two mint faults, [`mint_without_token`](Fault::mint_without_token) and
/// [`mint_refused`](Fault::mint_refused), apply from the start). Faults queue in the order they were added: a request takes
/// the first one that still has uses. A faulted answer is not a decision: it writes no ledger
/// event and is not remembered under the request's Idempotency-Key.
///
/// ```
/// use std::time::Duration;
/// use ledgix_runtime::mock::Fault;
///
/// let faults = [
///     Fault::status(503).times(2),          // two 503s, then normal answers
///     Fault::retry_after(1).times(1),       // one 429 with Retry-After: 1
///     Fault::delay(Duration::from_millis(50)),
///     Fault::token_for_tool("other_tool"),  // approved, but the token clears another tool
/// ];
/// # let _ = faults;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a Fault does nothing until it is given to MockVault::builder().fault(..)"]
pub struct Fault {
    pub(crate) kind: FaultKind,
    pub(crate) times: Option<u32>,
    pub(crate) target: FaultTarget,
}

/// What a fault does.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultKind {
    Status(u16),
    RetryAfter(u64),
    Delay(Duration),
    MalformedBody,
    DropConnection,
    ApproveWithoutToken,
    TokenForTool(String),
    TokenForArgs(Value),
    WrongSigningKey,
    UnknownStatus(String),
    MintWithoutToken,
    MintRefused,
}

/// Which endpoint a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FaultTarget {
    Clearance,
    StatusPoll,
    Mint,
}

impl Fault {
    fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            times: None,
            target: FaultTarget::Clearance,
        }
    }

    /// Answers with HTTP `code` (a code outside 100–999 is sent as 500) and a JSON error body.
    pub fn status(code: u16) -> Fault {
        Fault::new(FaultKind::Status(code))
    }

    /// Answers 429 with `Retry-After: secs`.
    pub fn retry_after(secs: u64) -> Fault {
        Fault::new(FaultKind::RetryAfter(secs))
    }

    /// Waits `delay` before handling the request normally.
    pub fn delay(delay: Duration) -> Fault {
        Fault::new(FaultKind::Delay(delay))
    }

    /// Answers 200 with a body that is not JSON.
    pub fn malformed_body() -> Fault {
        Fault::new(FaultKind::MalformedBody)
    }

    /// Closes the connection without sending any answer.
    pub fn drop_connection() -> Fault {
        Fault::new(FaultKind::DropConnection)
    }

    /// Answers `approved` without a token.
    pub fn approve_without_token() -> Fault {
        Fault::new(FaultKind::ApproveWithoutToken)
    }

    /// Answers `approved` with a valid token that clears `tool` instead of the requested one.
    pub fn token_for_tool(tool: impl Into<String>) -> Fault {
        Fault::new(FaultKind::TokenForTool(tool.into()))
    }

    /// Answers `approved` with a valid token whose `tool_args_hash` is that of `args`
    /// instead of the requested arguments (if they happen to be equal, the token is good).
    pub fn token_for_args(args: Value) -> Fault {
        Fault::new(FaultKind::TokenForArgs(args))
    }

    /// Answers `approved` with a token carrying the right claims and the mock's key id, but
    /// signed by a key that is not in its JWKS.
    pub fn wrong_signing_key() -> Fault {
        Fault::new(FaultKind::WrongSigningKey)
    }

    /// Answers a well-formed clearance response whose `status` is `status` (e.g. `"maybe"`).
    pub fn unknown_status(status: impl Into<String>) -> Fault {
        Fault::new(FaultKind::UnknownStatus(status.into()))
    }

    /// Answers `POST /mint-token` with 200 and `{"request_id", "reason"}` but no token (applies
    /// to `/mint-token`; a client must not take that for an approval).
    pub fn mint_without_token() -> Fault {
        Fault::new(FaultKind::MintWithoutToken).on_mint()
    }

    /// Refuses `POST /mint-token` with 409 (`{"detail": ..}`), as the Vault does when the cached
    /// decision no longer holds (applies to `/mint-token`).
    pub fn mint_refused() -> Fault {
        Fault::new(FaultKind::MintRefused).on_mint()
    }

    /// Applies to `POST /mint-token` instead of `POST /request-clearance`. The forging faults
    /// ([`token_for_tool`](Fault::token_for_tool), [`token_for_args`](Fault::token_for_args),
    /// [`wrong_signing_key`](Fault::wrong_signing_key),
    /// [`approve_without_token`](Fault::approve_without_token)) then forge the mint's answer.
    pub fn on_mint(mut self) -> Fault {
        self.target = FaultTarget::Mint;
        self
    }

    /// Applies to the next `n` matching requests only (default: all of them).
    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    /// Applies to `GET /clearance-status/{id}` instead of `POST /request-clearance`.
    pub fn on_status_polls(mut self) -> Fault {
        self.target = FaultTarget::StatusPoll;
        self
    }
}

/// The faults still to apply, in order.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    slots: Mutex<Vec<Fault>>,
}

impl FaultQueue {
    pub(crate) fn new(faults: Vec<Fault>) -> Self {
        FaultQueue {
            slots: Mutex::new(faults),
        }
    }

    /// Adds a fault after those already queued.
    pub(crate) fn push(&self, fault: Fault) {
        lock(&self.slots).push(fault);
    }

    /// Takes one use of the first fault for `target` that has uses left.
    pub(crate) fn take(&self, target: FaultTarget) -> Option<FaultKind> {
        let mut slots = lock(&self.slots);
        let index = slots
            .iter()
            .position(|f| f.target == target && f.times != Some(0))?;
        let slot = slots.get_mut(index)?;
        let kind = slot.kind.clone();
        match slot.times {
            Some(1) => {
                let _used_up = slots.remove(index);
            }
            Some(n) => slot.times = Some(n - 1),
            None => {}
        }
        Some(kind)
    }
}

/// Locks a mutex, recovering it when a panicking holder poisoned it (the data is still
/// consistent: every critical section here is a single update).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_apply_in_order_and_run_out() {
        let q = FaultQueue::new(vec![
            Fault::status(503).times(2),
            Fault::malformed_body().on_status_polls(),
            Fault::retry_after(3).times(1),
            Fault::drop_connection().times(0),
        ]);
        assert_eq!(q.take(FaultTarget::Clearance), Some(FaultKind::Status(503)));
        assert_eq!(
            q.take(FaultTarget::StatusPoll),
            Some(FaultKind::MalformedBody)
        );
        assert_eq!(q.take(FaultTarget::Clearance), Some(FaultKind::Status(503)));
        assert_eq!(
            q.take(FaultTarget::Clearance),
            Some(FaultKind::RetryAfter(3))
        );
        assert_eq!(q.take(FaultTarget::Clearance), None);
        // without `.times`, forever
        assert_eq!(
            q.take(FaultTarget::StatusPoll),
            Some(FaultKind::MalformedBody)
        );
        assert_eq!(
            q.take(FaultTarget::StatusPoll),
            Some(FaultKind::MalformedBody)
        );
        q.push(Fault::mint_refused().times(1));
        q.push(Fault::status(503).on_mint().times(1));
        assert_eq!(q.take(FaultTarget::Mint), Some(FaultKind::MintRefused));
        assert_eq!(q.take(FaultTarget::Mint), Some(FaultKind::Status(503)));
        assert_eq!(q.take(FaultTarget::Mint), None);
        assert_eq!(
            q.take(FaultTarget::Clearance),
            None,
            "mint faults stay on mint"
        );
        q.push(Fault::unknown_status("maybe").times(1));
        assert_eq!(
            q.take(FaultTarget::Clearance),
            Some(FaultKind::UnknownStatus("maybe".into()))
        );
        assert_eq!(q.take(FaultTarget::Clearance), None);
    }
}
