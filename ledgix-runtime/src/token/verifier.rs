//! Offline A-JWT verification for gateways and services that receive a token with a call.

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{Expectations, ReplayCache, TokenClaims, check_binding, verify_with_keys};
use crate::error::Error;
use crate::jwk::KeySet;

/// Verifies A-JWTs against trusted keys, without network access: the same checks the client
/// makes (signature under the key of the token's `kid`, `iss`, `aud`, `sub`, `exp`, `jti`),
/// and each token is accepted once (replay cache).
///
/// Cloning is cheap and clones share one replay cache.
///
/// ```
/// use ledgix_runtime::TokenVerifier;
///
/// let jwks = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"vault-test-key-001",
///     "x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg","use":"sig","alg":"EdDSA"}]}"#;
/// let verifier = TokenVerifier::from_jwks_json(jwks, "alcv-vault", "my-gateway")?;
/// assert!(verifier.verify("not.a.token").is_err());
/// # Ok::<(), ledgix_runtime::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TokenVerifier {
    keys: KeySet,
    issuer: String,
    audience: String,
    replay: Arc<ReplayCache>,
}

impl TokenVerifier {
    /// A verifier trusting the Ed25519 keys of a JWKS document, for tokens issued by `issuer`
    /// to `audience`. A malformed JWKS (a key that is not 32 bytes, ...) or an empty issuer
    /// or audience is [`Error::Config`].
    pub fn from_jwks_json(jwks: &str, issuer: &str, audience: &str) -> Result<Self, Error> {
        if issuer.is_empty() || audience.is_empty() {
            return Err(Error::Config(
                "a token verifier needs a non-empty issuer and audience".into(),
            ));
        }
        let keys = KeySet::from_jwks_json(jwks).map_err(|e| Error::Config(format!("JWKS: {e}")))?;
        Ok(TokenVerifier::from_key_set(keys, issuer, audience))
    }

    /// A verifier trusting `keys`. (An empty issuer or audience makes every token fail.)
    pub fn from_key_set(
        keys: KeySet,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Self {
        TokenVerifier {
            keys,
            issuer: issuer.into(),
            audience: audience.into(),
            replay: Arc::new(ReplayCache::new()),
        }
    }

    /// Uses `cache` to remember used token ids (share one cache between verifiers).
    pub fn with_replay_cache(mut self, cache: Arc<ReplayCache>) -> Self {
        self.replay = cache;
        self
    }

    /// The trusted keys.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Verifies `token` now and records its `jti` as used.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, Error> {
        self.verify_at(token, SystemTime::now())
    }

    /// [`verify`](Self::verify) with the clock at `now`.
    pub fn verify_at(&self, token: &str, now: SystemTime) -> Result<TokenClaims, Error> {
        let claims = verify_with_keys(token, &self.keys, self.expectations(), now)?;
        self.replay.check_and_record(&claims.jti, claims.exp, now)?;
        Ok(claims)
    }

    /// [`verify`](Self::verify) plus the binding: the token must clear exactly `tool` with
    /// exactly `tool_args`. A token that fails the binding is not recorded as used.
    pub fn verify_bound(
        &self,
        token: &str,
        tool: &str,
        tool_args: &Map<String, Value>,
    ) -> Result<TokenClaims, Error> {
        self.verify_bound_at(token, tool, tool_args, SystemTime::now())
    }

    /// [`verify_bound`](Self::verify_bound) with the clock at `now`.
    pub fn verify_bound_at(
        &self,
        token: &str,
        tool: &str,
        tool_args: &Map<String, Value>,
        now: SystemTime,
    ) -> Result<TokenClaims, Error> {
        let claims = verify_with_keys(token, &self.keys, self.expectations(), now)?;
        check_binding(&claims, tool, tool_args)?;
        self.replay.check_and_record(&claims.jti, claims.exp, now)?;
        Ok(claims)
    }

    fn expectations(&self) -> Expectations<'_> {
        Expectations {
            issuer: &self.issuer,
            audience: &self.audience,
        }
    }
}
