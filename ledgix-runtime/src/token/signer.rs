//! Minting A-JWTs the way the Vault does (the mock Vault and tests use it).

use std::fmt;

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use super::TokenClaims;
use super::jws::{ALG, B64, TYP};
use crate::jwk::KeySet;

/// Signs A-JWTs with one Ed25519 key: header `{"alg":"EdDSA","kid":..,"typ":"JWT"}`,
/// base64url without padding, as the Vault writes them.
///
/// ```
/// use ledgix_runtime::token::TokenSigner;
/// use ledgix_runtime::{Audience, TokenClaims, TokenVerifier};
///
/// let signer = TokenSigner::from_seed("k1", [7; 32]);
/// let claims = TokenClaims {
///     iss: "alcv-vault".into(),
///     sub: "clearance".into(),
///     aud: Audience::from("ledgix-sdk"),
///     exp: 4_070_908_800,
///     iat: None,
///     nbf: None,
///     jti: "req-1".into(),
///     tool: "t".into(),
///     agent_id: String::new(),
///     session_id: String::new(),
///     policy_id: String::new(),
///     decision: "approved".into(),
///     tool_args_hash: ledgix_runtime::tool_args_hash(&Default::default()),
///     extra: Default::default(),
/// };
/// let token = signer.sign(&claims);
/// let verifier = TokenVerifier::from_key_set(signer.key_set(), "alcv-vault", "ledgix-sdk");
/// assert_eq!(verifier.verify(&token).unwrap(), claims);
/// ```
#[derive(Clone)]
pub struct TokenSigner {
    kid: String,
    key: SigningKey,
    /// The base64url header, computed once.
    header_b64: String,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .field(
                "public_key",
                &B64.encode(self.key.verifying_key().as_bytes()),
            )
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A signer for `key`, named `kid` in headers and in its JWKS.
    pub fn new(kid: impl Into<String>, key: SigningKey) -> Self {
        let kid = kid.into();
        let header = serde_json::json!({ "alg": ALG, "kid": kid, "typ": TYP });
        let header_b64 = B64.encode(header.to_string());
        TokenSigner {
            kid,
            key,
            header_b64,
        }
    }

    /// A signer whose key is derived from a 32-byte seed (deterministic, for tests).
    pub fn from_seed(kid: impl Into<String>, seed: [u8; 32]) -> Self {
        TokenSigner::new(kid, SigningKey::from_bytes(&seed))
    }

    /// A signer with a fresh random key.
    pub fn generate(kid: impl Into<String>) -> Self {
        TokenSigner::from_seed(kid, crate::random::seed())
    }

    /// The key id in every header.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key that verifies this signer's tokens.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// A key set holding only this signer's public key.
    pub fn key_set(&self) -> KeySet {
        let mut keys = KeySet::new();
        // Inserting into an empty set cannot conflict.
        let _ = keys.insert(self.kid.clone(), self.verifying_key());
        keys
    }

    /// This signer's public key as a JWKS document, as the Vault serves it.
    pub fn jwks_json(&self) -> String {
        self.key_set().to_jwks_json()
    }

    /// A compact A-JWT carrying `claims`, signed.
    pub fn sign(&self, claims: &TokenClaims) -> String {
        // Strings, integers and JSON values always serialize: this cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let mut token = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 92);
        token.push_str(&self.header_b64);
        token.push('.');
        B64.encode_string(&payload, &mut token);
        let signature = self.key.sign(token.as_bytes());
        token.push('.');
        B64.encode_string(signature.to_bytes(), &mut token);
        token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_the_vaults_and_debug_hides_the_secret() {
        let signer = TokenSigner::from_seed("k-1", [9; 32]);
        let header = B64.decode(&signer.header_b64).unwrap();
        assert_eq!(header, br#"{"alg":"EdDSA","kid":"k-1","typ":"JWT"}"#);
        let debug = format!("{signer:?}");
        assert!(debug.contains("k-1"), "{debug}");
        assert!(!debug.contains(&format!("{:?}", [9u8; 32])), "{debug}");
        assert!(!debug.contains(&B64.encode([9u8; 32])), "{debug}");
        assert_eq!(signer.key_set().kids().collect::<Vec<_>>(), ["k-1"]);
        let jwks = KeySet::from_jwks_json(&signer.jwks_json()).unwrap();
        assert_eq!(jwks.get("k-1"), Some(&signer.verifying_key()));
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            TokenSigner::generate("a").verifying_key(),
            TokenSigner::generate("a").verifying_key()
        );
    }
}
