//! Signed webhooks: verify that an event came from the Vault (or the mock Vault) before acting
//! on it.
//!
//! The sender signs the raw request body with HMAC-SHA256 under a shared secret (its UTF-8
//! bytes) and sends the digest in the `X-Ledgix-Signature` header as `sha256=<hex>`; the
//! `sha256=` prefix may be absent. Verification here is strict:
//!
//! - exactly 64 **lowercase** hex digits, after an optional `sha256=` prefix, and nothing else
//!   (no whitespace, no uppercase, no trailing characters; stricter than ledgix-ts, which
//!   accepts uppercase and trailing junk);
//! - the digest is compared in constant time;
//! - several secrets may be accepted at once, so a secret can be rotated without dropping
//!   events ([`WebhookVerifier::new`]);
//! - an empty secret never verifies anything.
//!
//! No timestamp is signed: a captured webhook can be replayed, so handle events idempotently
//! (by their `request_id`).
//!
//! ```
//! use ledgix_runtime::webhook::{WebhookVerifier, sign_webhook};
//!
//! let body = br#"{"type":"review.decided","request_id":"r-1","tool_name":"wire_transfer","status":"approved","reason":"ok"}"#;
//! let signature = sign_webhook(body, "whsec_new");
//! // Rotation: the old secret and the new one are both accepted for a while.
//! let verifier = WebhookVerifier::new(["whsec_old", "whsec_new"]);
//! assert!(verifier.verify(body, &signature).is_ok());
//! assert!(ledgix_runtime::verify_webhook(body, &signature, "whsec_new"));
//! assert!(!ledgix_runtime::verify_webhook(body, &signature.to_uppercase(), "whsec_new"));
//! ```
//!
//! # The mock Vault's events
//!
//! The mock Vault (`MockVaultBuilder::webhook`, or `--webhook-url` / `--webhook-secret` on
//! `ledgix-mock-vault` and `ledgix mock-vault`) POSTs a [`WebhookEvent`] as JSON when a call is
//! held for human review (`type` [`REVIEW_HELD`], `status` `pending_review`) and when a
//! reviewer decides it (`type` [`REVIEW_DECIDED`], `status` `approved` or `denied`):
//!
//! ```text
//! POST <url>
//! Content-Type: application/json
//! X-Ledgix-Signature: sha256=<64 lowercase hex digits: HMAC-SHA256(secret, raw body)>
//! X-Ledgix-Event: review.held | review.decided
//!
//! {"type":"review.decided","request_id":"…","tool_name":"wire_transfer","status":"approved","reason":"…"}
//! ```
//!
//! A delivery counts when the receiver answers 2xx; otherwise it is retried a few times with
//! a growing pause, then given up. Deliveries never delay a decision.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

#[cfg(feature = "gateway")]
mod extract;
#[cfg(feature = "gateway")]
pub use extract::VerifiedWebhook;

/// The header carrying the signature: `sha256=<64 lowercase hex digits>` (the prefix may be
/// absent).
pub const SIGNATURE_HEADER: &str = "X-Ledgix-Signature";

/// The header in which the mock Vault names the event type (informative, not signed: read the
/// type from the verified body).
pub const EVENT_HEADER: &str = "X-Ledgix-Event";

/// [`WebhookEvent::event_type`] when a call is held for a human reviewer.
pub const REVIEW_HELD: &str = "review.held";

/// [`WebhookEvent::event_type`] when a reviewer approved or denied a held call.
pub const REVIEW_DECIDED: &str = "review.decided";

/// The largest body the `VerifiedWebhook` extractor (feature `gateway`) reads by default: 1 MiB.
pub const DEFAULT_MAX_WEBHOOK_BODY: usize = 1024 * 1024;

/// Length of the hex digest: SHA-256 is 32 bytes.
const HEX_LEN: usize = 64;

type HmacSha256 = Hmac<Sha256>;

/// The body of the mock Vault's webhooks (the Vault's own events may carry more fields; unknown
/// fields are ignored when parsing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct WebhookEvent {
    /// [`REVIEW_HELD`] or [`REVIEW_DECIDED`].
    #[serde(rename = "type")]
    pub event_type: String,
    /// The Vault's id of the clearance request.
    pub request_id: String,
    /// The tool the request is for.
    pub tool_name: String,
    /// Where the request stands: `pending_review`, `approved` or `denied`.
    pub status: String,
    /// The reviewer's (or the Vault's) reason.
    #[serde(default)]
    pub reason: String,
}

impl WebhookEvent {
    /// An event of `event_type` about a request.
    pub fn new(
        event_type: impl Into<String>,
        request_id: impl Into<String>,
        tool_name: impl Into<String>,
        status: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        WebhookEvent {
            event_type: event_type.into(),
            request_id: request_id.into(),
            tool_name: tool_name.into(),
            status: status.into(),
            reason: reason.into(),
        }
    }
}

/// Why a webhook was refused. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// No `X-Ledgix-Signature` header (or more than one).
    #[error("missing X-Ledgix-Signature header{}", if *.duplicate { " (sent more than once)" } else { "" })]
    MissingSignature {
        /// True when the header was sent more than once (refused as ambiguous).
        duplicate: bool,
    },
    /// The signature is not `sha256=` followed by 64 lowercase hex digits (or those digits
    /// alone).
    #[error("malformed webhook signature: expected `sha256=` and 64 lowercase hex digits")]
    MalformedSignature,
    /// The signature is well formed but matches none of the secrets.
    #[error("webhook signature does not match the body under any configured secret")]
    Mismatch,
    /// The verifier has no usable (non-empty) secret, so it accepts nothing.
    #[error("no webhook secret is configured: every webhook is refused")]
    NoSecret,
    /// The body is larger than the limit; it was not read to the end.
    #[error("webhook body is larger than {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The body could not be read.
    #[error("webhook body could not be read: {0}")]
    Body(String),
    /// The signature verified but the body is not the JSON expected.
    #[error("webhook body is not the JSON expected: {0}")]
    InvalidJson(String),
}

impl WebhookError {
    /// A short machine-readable code: `missing_signature`, `malformed_signature`,
    /// `bad_signature`, `no_secret`, `body_too_large`, `unreadable_body` or `invalid_json`.
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::MissingSignature { .. } => "missing_signature",
            WebhookError::MalformedSignature => "malformed_signature",
            WebhookError::Mismatch => "bad_signature",
            WebhookError::NoSecret => "no_secret",
            WebhookError::TooLarge { .. } => "body_too_large",
            WebhookError::Body(_) => "unreadable_body",
            WebhookError::InvalidJson(_) => "invalid_json",
        }
    }
}

/// A secret, never shown.
#[derive(Clone)]
struct Secret(Box<[u8]>);

/// Verifies `X-Ledgix-Signature` against one or several secrets (rotation: any of them).
///
/// Cheap to clone. `Debug` shows how many secrets it holds, never the secrets. Empty secrets
/// are ignored; with none left, every webhook is refused ([`WebhookError::NoSecret`]).
#[derive(Clone)]
pub struct WebhookVerifier {
    secrets: std::sync::Arc<[Secret]>,
    max_body_bytes: usize,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("max_body_bytes", &self.max_body_bytes)
            .finish()
    }
}

impl WebhookVerifier {
    /// A verifier accepting a signature made with any of `secrets` (the UTF-8 bytes of each).
    pub fn new(secrets: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let secrets: Vec<Secret> = secrets
            .into_iter()
            .map(Into::into)
            .filter(|s: &String| !s.is_empty())
            .map(|s| Secret(s.into_bytes().into_boxed_slice()))
            .collect();
        WebhookVerifier {
            secrets: secrets.into(),
            max_body_bytes: DEFAULT_MAX_WEBHOOK_BODY,
        }
    }

    /// The largest body the `VerifiedWebhook` extractor reads (default 1 MiB); a larger one is
    /// refused (413) without being read to the end.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// The body limit of the `VerifiedWebhook` extractor, in bytes.
    pub fn body_limit(&self) -> usize {
        self.max_body_bytes
    }

    /// How many (non-empty) secrets it accepts.
    pub fn secret_count(&self) -> usize {
        self.secrets.len()
    }

    /// Checks `signature` (the `X-Ledgix-Signature` value) against the raw `body`: `Ok` when it
    /// is well formed and made with one of the secrets.
    pub fn verify(&self, body: &[u8], signature: &str) -> Result<(), WebhookError> {
        if self.secrets.is_empty() {
            return Err(WebhookError::NoSecret);
        }
        let digest = parse_signature(signature).ok_or(WebhookError::MalformedSignature)?;
        // Every secret is tried (no early exit), each comparison in constant time.
        let mut matched = false;
        for secret in self.secrets.iter() {
            matched |= mac_matches(&secret.0, body, &digest);
        }
        if matched {
            Ok(())
        } else {
            Err(WebhookError::Mismatch)
        }
    }
}

/// True when `signature` (`sha256=<hex>` or bare hex) is the HMAC-SHA256 of `body` under
/// `secret`: 64 lowercase hex digits exactly, compared in constant time. An empty secret never
/// verifies. The same as ledgix-python's and ledgix-ts's `verify_webhook`, but strict.
pub fn verify_webhook(body: &[u8], signature: &str, secret: &str) -> bool {
    if secret.is_empty() {
        return false;
    }
    parse_signature(signature).is_some_and(|digest| mac_matches(secret.as_bytes(), body, &digest))
}

/// The `X-Ledgix-Signature` value for `body` under `secret`: `sha256=` and 64 lowercase hex
/// digits (what the mock Vault sends; handy to test a receiver).
pub fn sign_webhook(body: &[u8], secret: &str) -> String {
    let mut mac = new_mac(secret.as_bytes());
    mac.update(body);
    format!("sha256={}", crate::hex::encode(mac.finalize().into_bytes()))
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length: this never fails.
    match <HmacSha256 as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    }
}

fn mac_matches(key: &[u8], body: &[u8], digest: &[u8; 32]) -> bool {
    let mut mac = new_mac(key);
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(digest).is_ok()
}

/// `sha256=` + 64 lowercase hex digits, or the digits alone; anything else is `None`.
fn parse_signature(signature: &str) -> Option<[u8; 32]> {
    let hex = signature.strip_prefix("sha256=").unwrap_or(signature);
    let bytes = hex.as_bytes();
    if bytes.len() != HEX_LEN {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (lower_hex_value(pair[0])? << 4) | lower_hex_value(pair[1])?;
    }
    Some(out)
}

fn lower_hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    const RFC4231_2: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn rfc_4231_vector() {
        let body = b"what do ya want for nothing?";
        assert_eq!(sign_webhook(body, "Jefe"), format!("sha256={RFC4231_2}"));
        assert!(verify_webhook(body, RFC4231_2, "Jefe"));
        assert!(verify_webhook(body, &format!("sha256={RFC4231_2}"), "Jefe"));
    }

    #[test]
    fn strict_format() {
        let body = b"what do ya want for nothing?";
        let upper = RFC4231_2.to_uppercase();
        for bad in [
            upper.as_str(),
            &format!("sha256={upper}"),
            &format!("sha256={RFC4231_2}0"),
            &format!("{RFC4231_2} "),
            &format!(" {RFC4231_2}"),
            &format!("SHA256={RFC4231_2}"),
            &format!("sha256= {RFC4231_2}"),
            &format!("sha256=sha256={RFC4231_2}"),
            &RFC4231_2[..63],
            "",
            "sha256=",
        ] {
            assert!(!verify_webhook(body, bad, "Jefe"), "{bad:?}");
        }
        assert!(!verify_webhook(body, RFC4231_2, ""), "an empty secret");
        assert!(!verify_webhook(b"other", RFC4231_2, "Jefe"));
        assert!(!verify_webhook(body, RFC4231_2, "jefe"));
    }

    #[test]
    fn rotation_and_errors() {
        let body = b"{}";
        let sig = sign_webhook(body, "new");
        let v = WebhookVerifier::new(["old", "", "new"]);
        assert_eq!(v.secret_count(), 2);
        assert_eq!(v.verify(body, &sig), Ok(()));
        assert_eq!(
            WebhookVerifier::new(["old"]).verify(body, &sig),
            Err(WebhookError::Mismatch)
        );
        assert_eq!(
            v.verify(body, "sha256=zz"),
            Err(WebhookError::MalformedSignature)
        );
        assert_eq!(
            WebhookVerifier::new(Vec::<String>::new()).verify(body, &sig),
            Err(WebhookError::NoSecret)
        );
        assert_eq!(
            WebhookVerifier::new([""]).verify(body, &sig),
            Err(WebhookError::NoSecret)
        );
    }

    #[test]
    fn secrets_never_in_debug() {
        let v = WebhookVerifier::new(["whsec_topsecret_1", "whsec_topsecret_2"]);
        let shown = format!("{v:?} {v:#?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        assert!(shown.contains("2 redacted"), "{shown}");
    }

    #[test]
    fn event_wire_shape() {
        let event = WebhookEvent::new(REVIEW_HELD, "r-1", "wire", "pending_review", "held");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "review.held", "request_id": "r-1", "tool_name": "wire",
                "status": "pending_review", "reason": "held"})
        );
        let back: WebhookEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
