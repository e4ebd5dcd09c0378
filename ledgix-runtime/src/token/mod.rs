//! A-JWTs: the Vault's Ed25519-signed clearance tokens, verified offline and bound to the exact
//! tool call they clear.
//!
//! Verification (PROTOCOL.md, "The A-JWT") in the order it runs:
//! 1. shape: a compact JWS of exactly three base64url segments (no padding);
//! 2. header: `alg` exactly `EdDSA` (nothing else, ever), a non-empty `kid`, `typ` `JWT` if
//!    present, no `crit`;
//! 3. signature: `verify_strict` under the trusted key of that `kid` only (no fallback);
//! 4. claims: `iss`, `aud` (string or array) contains the audience, `sub` = `clearance`,
//!    `exp` not passed by more than [`LEEWAY`], `nbf`/`iat` not in the future beyond it,
//!    `jti` present;
//! 5. binding: `tool` = the requested tool and `tool_args_hash` = [`tool_args_hash`] of the
//!    arguments sent;
//! 6. replay: the `jti` was never accepted before (the client asks its [`ReplayStore`],
//!    [`TokenVerifier`](crate::TokenVerifier) its own [`ReplayCache`]).
//!
//! The client runs these against the Vault's JWKS; [`TokenVerifier`](crate::TokenVerifier) runs them offline, for a
//! gateway that receives a token with a call. `TokenSigner` (feature `test-util`, also on with
//! `mock`) mints tokens as the Vault does, for the mock Vault and tests: a client does not mint
//! tokens.
//!
//! The binding covers the arguments as serialized to JSON: what a `Serialize` implementation
//! leaves out (`#[serde(skip)]`) is not bound.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::error::Error;
use crate::jwk::KeySet;

// The modules of items re-exported at the crate root are crate-visible only: one public path
// per item (`ledgix::TokenVerifier`, not also `ledgix::token::TokenVerifier`).
pub(crate) mod binding;
mod canonical;
pub(crate) mod claims;
mod jws;
mod replay;
#[cfg(any(test, feature = "test-util"))]
mod signer;
pub(crate) mod store;
pub(crate) mod verifier;

pub(crate) use binding::check_binding;
// Crate-internal paths the mock Vault mints tokens with.
#[cfg_attr(not(feature = "mock"), allow(unused_imports))]
pub(crate) use binding::tool_args_hash;
#[cfg_attr(not(feature = "mock"), allow(unused_imports))]
pub(crate) use claims::Audience;
pub(crate) use claims::TokenClaims;
pub use replay::ReplayCache;
#[cfg(any(test, feature = "test-util"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub use signer::TokenSigner;
pub use store::DEFAULT_REPLAY_CAPACITY;
pub(crate) use store::{MemoryReplayStore, ReplayStore};

pub(crate) use jws::{fail, shown};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY: u64 = 30;

/// The `sub` of every A-JWT.
pub const SUBJECT: &str = "clearance";

/// The canonical JSON [`tool_args_hash`] hashes: Python's
/// `json.dumps(value, sort_keys=True, separators=(",", ":"))`, byte for byte.
///
/// ```
/// use serde_json::json;
///
/// let text = ledgix_runtime::token::canonical_json(&json!({"b": 1.0, "a": "é", "c": 1e16}));
/// assert_eq!(text, r#"{"a":"\u00e9","b":1.0,"c":1e+16}"#);
/// ```
pub fn canonical_json(value: &Value) -> String {
    canonical::to_string(value)
}

pub(crate) use jws::{Compact, parse as parse_compact};

/// What the claims must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expectations<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
}

/// Verifies the signature (with the key of the token's `kid` in `keys`, nothing else) and the
/// claims at `now`. Neither the replay cache nor the binding.
pub(crate) fn verify_with_keys(
    token: &str,
    keys: &KeySet,
    expect: Expectations<'_>,
    now: SystemTime,
) -> Result<TokenClaims, Error> {
    verify_compact(&jws::parse(token)?, keys, expect, now)
}

/// [`verify_with_keys`] on a token already split and header-checked (the client parses it
/// once, picks the keys by its `kid`, then verifies).
pub(crate) fn verify_compact(
    compact: &Compact<'_>,
    keys: &KeySet,
    expect: Expectations<'_>,
    now: SystemTime,
) -> Result<TokenClaims, Error> {
    let key = keys.get(&compact.kid).ok_or_else(|| {
        fail(format!(
            "kid `{}` is not in the Vault's JWKS",
            shown(&compact.kid)
        ))
    })?;
    key.verify_strict(compact.signing_input.as_bytes(), &compact.signature)
        .map_err(|_| {
            fail(format!(
                "signature does not verify under key `{}`",
                shown(&compact.kid)
            ))
        })?;
    let claims: TokenClaims = serde_json::from_slice(&compact.payload)
        .map_err(|e| fail(format!("payload is not valid A-JWT claims: {e}")))?;
    claims::check(&claims, expect, unix_seconds(now)?)?;
    Ok(claims)
}

/// Refuses a token that lives longer than `max`: `exp - iat` (when `iat` is present) or the
/// time it has left at `now` (`exp - now`). No leeway: `max` already allows for clock skew.
pub(crate) fn check_lifetime(
    claims: &TokenClaims,
    max: std::time::Duration,
    now: SystemTime,
) -> Result<(), Error> {
    let max_secs = max.as_secs_f64();
    let now = unix_seconds(now)?;
    let issued = claims.iat.map(|iat| claims.exp.saturating_sub(iat));
    let left = claims.exp.saturating_sub(now);
    for (what, secs) in [
        ("lifetime (exp - iat)", issued),
        ("time left (exp - now)", Some(left)),
    ] {
        if let Some(secs) = secs
            && secs as f64 > max_secs
        {
            return Err(fail(format!(
                "token {what} is {secs} s, longer than max_token_lifetime ({max_secs} s); \
                 a token is refused when it could be used for longer than that"
            )));
        }
    }
    Ok(())
}

/// Until when a replay store must remember the id of a token expiring at `exp` (Unix seconds):
/// `exp` + [`LEEWAY`], capped at about 34,000 years from 1970 so that the time is one every
/// platform's `SystemTime` can hold (a signed `exp` of `u64::MAX` must not panic).
pub(crate) fn forget_after(exp: u64) -> SystemTime {
    const FAR_FUTURE: u64 = 1 << 40;
    let secs = exp.saturating_add(LEEWAY).min(FAR_FUTURE);
    UNIX_EPOCH
        .checked_add(std::time::Duration::from_secs(secs))
        .unwrap_or(UNIX_EPOCH + std::time::Duration::from_secs(u64::from(u32::MAX)))
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_seconds(now: SystemTime) -> Result<u64, Error> {
    now.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .map_err(|_| fail("the system clock is before 1970; cannot check token times"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;
    use serde_json::json;
    use std::time::Duration;

    const NOW: u64 = 1_800_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn args(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn claims(signer_args: &Map<String, Value>) -> TokenClaims {
        TokenClaims {
            iss: "alcv-vault".into(),
            sub: SUBJECT.into(),
            aud: Audience::Many(vec!["ledgix-sdk".into()]),
            exp: NOW + 60,
            iat: Some(NOW),
            nbf: None,
            jti: "req-1".into(),
            tool: "stripe.refund.create".into(),
            agent_id: "agent".into(),
            session_id: "sess".into(),
            policy_id: "pol".into(),
            decision: "approved".into(),
            tool_args_hash: tool_args_hash(signer_args),
            extra: Map::new(),
        }
    }

    const EXPECT: Expectations<'static> = Expectations {
        issuer: "alcv-vault",
        audience: "ledgix-sdk",
    };

    #[test]
    fn signed_tokens_verify_and_bind() {
        let signer = TokenSigner::from_seed("k1", [1; 32]);
        let a = args(json!({"amount": 1000, "currency": "usd"}));
        let token = signer.sign(&claims(&a));
        assert_eq!(parse_compact(&token).unwrap().kid, "k1");
        let got = verify_with_keys(&token, &signer.key_set(), EXPECT, at(NOW)).unwrap();
        assert_eq!(got, claims(&a));
        check_binding(&got, "stripe.refund.create", &a).unwrap();

        let e = check_binding(&got, "other", &a).unwrap_err().to_string();
        assert!(
            e.contains("token clears tool `stripe.refund.create`, the call is `other`"),
            "{e}"
        );
        let b = args(json!({"amount": 1001, "currency": "usd"}));
        let e = check_binding(&got, "stripe.refund.create", &b)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(&format!(
                "tool_args_hash mismatch: token binds {}, the call's arguments hash to {}",
                tool_args_hash(&a),
                tool_args_hash(&b)
            )),
            "{e}"
        );
    }

    #[test]
    fn only_the_key_of_the_kid_is_used() {
        let signer = TokenSigner::from_seed("k1", [1; 32]);
        let other = TokenSigner::from_seed("k2", [2; 32]);
        let mut keys = other.key_set();
        let token = signer.sign(&claims(&Map::new()));
        let e = verify_with_keys(&token, &keys, EXPECT, at(NOW)).unwrap_err();
        assert!(
            e.to_string()
                .contains("kid `k1` is not in the Vault's JWKS"),
            "{e}"
        );
        // The right kid with another key's bytes: refused, no fallback to k2's key.
        keys.insert("k1", other.verifying_key()).unwrap();
        let e = verify_with_keys(&token, &keys, EXPECT, at(NOW)).unwrap_err();
        assert!(
            e.to_string()
                .contains("signature does not verify under key `k1`"),
            "{e}"
        );
    }

    #[test]
    fn errors_never_echo_the_token_or_signature() {
        let signer = TokenSigner::from_seed("k1", [1; 32]);
        let token = signer.sign(&claims(&Map::new()));
        let sig = token.rsplit('.').next().unwrap_or_default().to_string();
        let wrong_keys = TokenSigner::from_seed("k1", [3; 32]).key_set();
        for e in [
            verify_with_keys(&token, &wrong_keys, EXPECT, at(NOW)).unwrap_err(),
            verify_with_keys(&token, &signer.key_set(), EXPECT, at(NOW + 10_000)).unwrap_err(),
        ] {
            let text = e.to_string();
            assert!(!text.contains(&sig) && !text.contains(&token), "{text}");
        }
    }

    #[test]
    fn shared_types_are_send_and_sync() {
        fn assert_bounds<T: Send + Sync + 'static>() {}
        assert_bounds::<ReplayCache>();
        assert_bounds::<verifier::TokenVerifier>();
        assert_bounds::<TokenSigner>();
        assert_bounds::<TokenClaims>();
    }

    #[test]
    fn tool_args_hash_is_of_the_canonical_json() {
        let a = args(json!({"reason": "duplicate_charge", "currency": "usd", "amount": 1000}));
        assert_eq!(
            tool_args_hash(&a),
            "sha256:4f8c8b91570c32f3fa64837640b869fd27020591efec8409eddd0a12a4cd6930"
        );
        assert_eq!(
            tool_args_hash(&Map::new()),
            // sha256("{}")
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
