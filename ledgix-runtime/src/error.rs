//! The one error type of the SDK.
//!
//! Every way a guarded call can fail to run is a variant a caller can match on. None of them
//! runs the tool: a denial, a timeout, a transport failure and a bad token all end the call
//! before the body starts.

use std::fmt;
use std::time::Duration;

use crate::client::PendingApproval;
use crate::ledger::LedgerError;
use crate::protocol::ClearanceResponse;

/// Everything that can stop a clearance, a token check or a ledger verification.
///
/// `#[non_exhaustive]`: match the variants you handle and keep a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Vault (or a reviewer) denied the request. Retrying the same call will not help.
    /// (The reason in this message is cut at [`MAX_REASON_SHOWN`] characters; the whole text is
    /// in [`Denial::reason`].)
    #[error("clearance denied (request_id {}): {}", .0.request_id, shown_reason(&.0.reason))]
    Denied(Denial),

    /// A human review did not finish within `review_timeout`. The request may still be
    /// decided later; look it up with [`LedgixClient::clearance_status`](crate::LedgixClient::clearance_status).
    #[error("human review of request {request_id} did not finish before the review timeout")]
    ReviewTimeout {
        /// The Vault's id of the request under review.
        request_id: String,
    },

    /// `ReviewMode::Detach`: the request waits for a human reviewer. Resume with
    /// [`PendingApproval::wait`] or withdraw it with [`PendingApproval::cancel`].
    #[error("request {} is waiting for human review", .0.request_id())]
    ReviewPending(PendingApproval),

    /// The Vault could not be reached: connection refused or reset, DNS, TLS, or a timeout,
    /// after every retry (or when the call's deadline left no time for another). The transport
    /// error is its [`source()`](std::error::Error::source).
    #[error("could not reach the Vault: {0}")]
    Connection(#[source] ConnectionError),

    /// The Vault answered with an HTTP status that is not retried (4xx other than 429), or a
    /// 5xx after every retry.
    #[error("the Vault answered HTTP {status}{}: {body}", http_hint(*.status))]
    Http {
        /// HTTP status code.
        status: u16,
        /// The answer's body, truncated to 1 KiB.
        body: String,
    },

    /// The Vault kept answering 429 (its clearance queue is full): more than 10 times to one
    /// request, or until the call's deadline left no time to wait for another try.
    #[error("the Vault's clearance queue is saturated: {attempts} answers 429 to one request{}",
        .last_retry_after.map(|d| format!(" (last Retry-After {}s)", d.as_secs_f64())).unwrap_or_default())]
    QueueSaturated {
        /// How many 429 answers the request got (5xx answers in between do not reset it).
        attempts: u32,
        /// The last `Retry-After` the Vault sent, if any.
        last_retry_after: Option<Duration>,
    },

    /// The Vault's answer was malformed or contradicted itself (unknown status, approved
    /// without a token, denied with a token, ...).
    #[error("malformed or contradictory Vault answer: {0}")]
    Protocol(String),

    /// The A-JWT failed verification: signature, algorithm, key, claims, expiry, or its
    /// binding to the tool and arguments that were requested.
    #[error("A-JWT verification failed: {0}")]
    TokenVerification(String),

    /// The A-JWT's `jti` was already used: every token clears exactly one call.
    #[error("A-JWT replay detected: jti {jti} was already used")]
    ReplayDetected {
        /// The replayed token id.
        jti: String,
    },

    /// The replay store (the memory of used token ids, such as Redis) could not answer, so the
    /// token was refused rather than risk a second use (fail closed). Its message names the
    /// store without credentials; the store's own error is its
    /// [`source()`](std::error::Error::source).
    #[error("the replay store could not answer, so the token was refused: {0}")]
    ReplayStore(#[source] ConnectionError),

    /// A ledger proof or ledger verification failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),

    /// The tool's arguments could not be serialized to JSON.
    #[error("tool arguments could not be serialized: {0}")]
    ToolArgs(String),

    /// Invalid configuration (an environment variable, a URL, a key set ...).
    #[error("invalid Ledgix configuration: {0}")]
    Config(String),
}

fn http_hint(status: u16) -> &'static str {
    match status {
        401 => " (the Vault refused the API key: check LEDGIX_VAULT_API_KEY)",
        403 => " (forbidden)",
        404 => " (not found)",
        409 => " (conflict)",
        422 => " (unprocessable request)",
        _ => "",
    }
}

/// Why the Vault could not be reached: what was being done, how it failed, after how many
/// attempts. The transport error (reqwest's, with its own chain down to the OS) is its
/// [`source()`](std::error::Error::source).
#[derive(Debug)]
pub struct ConnectionError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ConnectionError {
    /// An error described by `message`, with no underlying source.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectionError {
            message: message.into(),
            source: None,
        }
    }

    /// An error described by `message`, caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        ConnectionError {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }

    /// The description, without the source's.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectionError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// The most characters of the Vault's `reason` text that go into an error message,
/// [`Error::tool_message`] or a log line (the whole text stays in [`Denial::reason`]).
pub const MAX_REASON_SHOWN: usize = 500;

/// The Vault's `reason` as it may be shown: control characters (newlines included) as spaces,
/// cut at [`MAX_REASON_SHOWN`] characters with `…` appended when cut.
pub(crate) fn shown_reason(reason: &str) -> String {
    let mut out: String = reason
        .trim()
        .chars()
        .take(MAX_REASON_SHOWN)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if reason.trim().chars().nth(MAX_REASON_SHOWN).is_some() {
        out.push('…');
    }
    out
}

/// Details of a denial: who decided, why, and the Vault's whole answer.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Denial {
    /// The Vault's id of the denied request.
    pub request_id: String,
    /// The human-readable reason the Vault or the reviewer gave.
    pub reason: String,
    /// The Vault's machine-readable reason code (0.4 protocol), e.g. `spend_cap_exceeded`.
    pub reason_code: Option<String>,
    /// The Vault's full answer.
    pub response: Box<ClearanceResponse>,
}

impl Denial {
    /// Builds a denial from the Vault's answer.
    pub fn from_response(response: ClearanceResponse) -> Self {
        Denial {
            request_id: response.request_id.clone(),
            reason: response.reason.clone(),
            reason_code: response.reason_code.clone(),
            response: Box::new(response),
        }
    }
}

impl Error {
    /// True when the Vault or a reviewer denied the request (and only then).
    pub fn is_denied(&self) -> bool {
        matches!(self, Error::Denied(_))
    }

    /// True when trying the same call again later may succeed (transport failures, 5xx,
    /// saturation, a review that is still open). Never true for a denial or a bad token.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Connection(_) | Error::QueueSaturated { .. } | Error::ReviewTimeout { .. } => {
                true
            }
            Error::ReviewPending(_) | Error::ReplayStore(_) => true,
            Error::Http { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    /// The Vault's request id this error is about, when there is one.
    pub fn request_id(&self) -> Option<&str> {
        let id = match self {
            Error::Denied(d) => d.request_id.as_str(),
            Error::ReviewTimeout { request_id } => request_id.as_str(),
            Error::ReviewPending(p) => p.request_id(),
            _ => return None,
        };
        (!id.is_empty()).then_some(id)
    }

    /// A message fit to hand back to a language model as the tool's result: it says the tool
    /// did not run, why, and whether retrying can help. It never contains secrets or the
    /// arguments; the Vault's reason is cut at [`MAX_REASON_SHOWN`] characters, on one line.
    pub fn tool_message(&self) -> String {
        let rid = self
            .request_id()
            .map(|id| format!(" (request_id {id})"))
            .unwrap_or_default();
        match self {
            Error::Denied(d) => {
                let code = d
                    .reason_code
                    .as_deref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default();
                let reason = shown_reason(&d.reason);
                let reason = if reason.is_empty() {
                    "no reason given".to_string()
                } else {
                    reason
                };
                let stop = if reason.ends_with(['.', '!', '?']) {
                    ""
                } else {
                    "."
                };
                format!(
                    "The tool was not run: the Ledgix Vault denied this call{rid}{code}. \
                     Reason: {reason}{stop} Do not retry the same call; change the request or \
                     ask a human."
                )
            }
            Error::ReviewTimeout { .. } => format!(
                "The tool was not run: the call is waiting for a human reviewer{rid} and no decision \
                 arrived in time. It may be approved later; try again after a reviewer has decided."
            ),
            Error::ReviewPending(_) => format!(
                "The tool was not run yet: the call is waiting for a human reviewer{rid}. \
                 Tell the user it needs approval; do not retry it now."
            ),
            Error::Connection(_) | Error::QueueSaturated { .. } => {
                "The tool was not run: the authorization service (Ledgix Vault) is unavailable. \
                 Retrying later may succeed."
                    .to_string()
            }
            Error::Http { status, .. } if *status >= 500 || *status == 429 => {
                "The tool was not run: the authorization service (Ledgix Vault) failed. \
                 Retrying later may succeed."
                    .to_string()
            }
            Error::ReplayStore(_) => {
                "The tool was not run: the single-use check of its authorization is unavailable. \
                 Retrying later may succeed."
                    .to_string()
            }
            Error::ToolArgs(_) => "The tool was not run: its arguments could not be encoded. \
                 Retrying with the same arguments will not help."
                .to_string(),
            _ => "The tool was not run: its authorization could not be verified. \
                  Retrying the same call will not help; report this to an operator."
                .to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_send_sync_static() {
        fn assert_bounds<T: std::error::Error + Send + Sync + 'static>() {}
        assert_bounds::<Error>();
    }

    #[test]
    fn tool_message_for_a_denial_says_not_run_and_no_retry() {
        let resp: ClearanceResponse = serde_json::from_str(
            r#"{"status":"denied","reason":"over limit","request_id":"r-1","reason_code":"spend_cap_exceeded"}"#,
        )
        .unwrap();
        let err = Error::Denied(Denial::from_response(resp));
        assert!(err.is_denied());
        assert!(!err.is_retryable());
        assert_eq!(err.request_id(), Some("r-1"));
        let msg = err.tool_message();
        assert!(msg.contains("not run"), "{msg}");
        assert!(msg.contains("over limit"), "{msg}");
        assert!(msg.contains("r-1"), "{msg}");
        assert!(msg.contains("Do not retry"), "{msg}");
        assert_eq!(
            err.to_string(),
            "clearance denied (request_id r-1): over limit"
        );
    }

    #[test]
    fn transport_errors_are_retryable_and_not_denials() {
        let err = Error::Connection(ConnectionError::new("connection refused"));
        assert!(!err.is_denied());
        assert!(err.is_retryable());
        assert!(err.tool_message().contains("Retrying later may succeed"));
        let err = Error::Http {
            status: 401,
            body: "no".into(),
        };
        assert!(err.to_string().contains("LEDGIX_VAULT_API_KEY"));
        assert!(!err.is_retryable());
    }

    #[test]
    fn a_connection_error_keeps_its_source_out_of_its_message() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused by peer");
        let err = Error::Connection(ConnectionError::with_source(
            "POST /request-clearance: connection failed (after 4 attempts)",
            io,
        ));
        assert_eq!(
            err.to_string(),
            "could not reach the Vault: POST /request-clearance: connection failed (after 4 \
             attempts)"
        );
        let source = std::error::Error::source(&err).expect("the ConnectionError");
        let cause = source.source().expect("the transport error");
        assert_eq!(cause.to_string(), "refused by peer");
    }

    #[test]
    fn the_vaults_reason_is_cut_and_kept_on_one_line() {
        let long = format!("line one\nline two {}", "x".repeat(5_000));
        let resp: ClearanceResponse = serde_json::from_value(serde_json::json!({
            "status": "denied", "reason": long, "request_id": "r-9",
        }))
        .unwrap();
        let err = Error::Denied(Denial::from_response(resp));
        let Error::Denied(d) = &err else {
            unreachable!()
        };
        assert_eq!(d.reason, long, "the whole reason stays available");
        for text in [err.tool_message(), err.to_string()] {
            assert!(!text.contains('\n'), "{text}");
            assert!(text.contains("line one line two"), "{text}");
            assert!(text.contains('…'), "{text}");
            assert!(
                text.chars().count() < MAX_REASON_SHOWN + 400,
                "{}",
                text.len()
            );
        }
        let short = shown_reason("  fine.  ");
        assert_eq!(short, "fine.");
    }
}
