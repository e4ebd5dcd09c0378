//! Ed25519 JSON Web Keys (RFC 8037 `OKP` keys) and key sets, as the Vault serves them at
//! `/.well-known/jwks.json`.
//!
//! One parser for every place that trusts a key: A-JWT verification and ledger verification.
//! A key is accepted only when it is exactly an Ed25519 public key: `kty` `OKP`, `crv`
//! `Ed25519`, a 32-byte `x` that decodes to a valid, non-weak curve point, a non-empty `kid`,
//! and (when present) `alg` `EdDSA` and `use` `sig`.

use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::b64;

/// Why a JWK or JWKS was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JwkError(pub String);

/// One Ed25519 public JWK, in the wire format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type; `OKP` for Ed25519.
    pub kty: String,
    /// Curve; `Ed25519`.
    #[serde(default)]
    pub crv: String,
    /// base64url of the 32-byte public key.
    #[serde(default)]
    pub x: String,
    /// Key id.
    #[serde(default)]
    pub kid: String,
    /// Intended use; `sig`.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Algorithm; `EdDSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

impl Jwk {
    /// The public JWK of an Ed25519 key.
    pub fn from_key(kid: impl Into<String>, key: &VerifyingKey) -> Self {
        Jwk {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64::encode(key.as_bytes()),
            kid: kid.into(),
            use_: Some("sig".into()),
            alg: Some("EdDSA".into()),
        }
    }

    /// Checks every field and decodes the key.
    pub fn to_key(&self) -> Result<VerifyingKey, JwkError> {
        let kid = &self.kid;
        if kid.is_empty() {
            return Err(JwkError("JWK without a `kid`".into()));
        }
        if self.kty != "OKP" {
            return Err(JwkError(format!(
                "JWK `{kid}`: kty is `{}`, expected `OKP`",
                self.kty
            )));
        }
        if self.crv != "Ed25519" {
            return Err(JwkError(format!(
                "JWK `{kid}`: crv is `{}`, expected `Ed25519`",
                self.crv
            )));
        }
        if let Some(alg) = &self.alg
            && alg != "EdDSA"
        {
            return Err(JwkError(format!(
                "JWK `{kid}`: alg is `{alg}`, expected `EdDSA`"
            )));
        }
        if let Some(u) = &self.use_
            && u != "sig"
        {
            return Err(JwkError(format!(
                "JWK `{kid}`: use is `{u}`, expected `sig`"
            )));
        }
        let bytes = b64::decode(&self.x)
            .map_err(|e| JwkError(format!("JWK `{kid}`: `x` is not base64url: {e}")))?;
        let arr: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
            JwkError(format!(
                "JWK `{kid}`: `x` is {} bytes, an Ed25519 public key is 32",
                bytes.len()
            ))
        })?;
        let key = VerifyingKey::from_bytes(&arr)
            .map_err(|_| JwkError(format!("JWK `{kid}`: `x` is not a valid Ed25519 point")))?;
        if key.is_weak() {
            return Err(JwkError(format!(
                "JWK `{kid}`: `x` is a small-order (weak) Ed25519 point"
            )));
        }
        Ok(key)
    }
}

/// A set of trusted Ed25519 keys, looked up by key id. Never falls back to another key.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: BTreeMap<String, VerifyingKey>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        KeySet::default()
    }

    /// Parses a JWKS document `{"keys": [..]}`. Keys of other types (RSA, EC, ...) are skipped;
    /// a key that claims to be Ed25519 but is malformed, a duplicated kid, or a set with no
    /// Ed25519 key at all is an error.
    pub fn from_jwks_json(json: &str) -> Result<Self, JwkError> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| JwkError(format!("JWKS is not valid JSON: {e}")))?;
        Self::from_jwks_value(&value)
    }

    /// Same as [`KeySet::from_jwks_json`], from parsed JSON.
    pub fn from_jwks_value(value: &Value) -> Result<Self, JwkError> {
        let keys = value
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| JwkError("JWKS has no `keys` array".into()))?;
        let mut set = KeySet::new();
        for (i, raw) in keys.iter().enumerate() {
            let kty = raw.get("kty").and_then(Value::as_str).unwrap_or_default();
            if kty != "OKP" && !kty.is_empty() {
                continue; // RSA / EC keys cannot verify EdDSA; they are not ours to judge.
            }
            let jwk: Jwk = serde_json::from_value(raw.clone())
                .map_err(|e| JwkError(format!("JWKS key #{i} is malformed: {e}")))?;
            let key = jwk.to_key()?;
            set.insert(jwk.kid.clone(), key)?;
        }
        if set.is_empty() {
            return Err(JwkError("JWKS contains no Ed25519 key".into()));
        }
        Ok(set)
    }

    /// Adds a key; the same kid twice with different bytes is an error.
    pub fn insert(&mut self, kid: impl Into<String>, key: VerifyingKey) -> Result<(), JwkError> {
        let kid = kid.into();
        if let Some(existing) = self.keys.get(&kid) {
            if existing != &key {
                return Err(JwkError(format!(
                    "JWKS lists kid `{kid}` twice with different keys"
                )));
            }
            return Ok(());
        }
        self.keys.insert(kid, key);
        Ok(())
    }

    /// The key with this id, if trusted.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key ids, sorted.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// The set as a JWKS document.
    pub fn to_jwks_json(&self) -> String {
        let keys: Vec<Jwk> = self
            .keys
            .iter()
            .map(|(kid, k)| Jwk::from_key(kid.clone(), k))
            .collect();
        serde_json::json!({ "keys": keys }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VAULT_JWKS: &str = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg","use":"sig","kid":"vault-test-key-001","alg":"EdDSA"}]}"#;

    #[test]
    fn parses_the_vault_jwks_and_round_trips() {
        let set = KeySet::from_jwks_json(VAULT_JWKS).unwrap();
        assert_eq!(set.kids().collect::<Vec<_>>(), ["vault-test-key-001"]);
        assert!(set.get("other").is_none());
        let again = KeySet::from_jwks_json(&set.to_jwks_json()).unwrap();
        assert_eq!(again, set);
    }

    #[test]
    fn refuses_malformed_keys_with_a_reason() {
        let cases = [
            (
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"k"}]}"#,
                "3 bytes",
            ),
            (
                r#"{"keys":[{"kty":"OKP","crv":"X25519","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg","kid":"k"}]}"#,
                "crv",
            ),
            (
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]}"#,
                "without a `kid`",
            ),
            (
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"HS256","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg","kid":"k"}]}"#,
                "alg",
            ),
            (
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"!!","kid":"k"}]}"#,
                "base64url",
            ),
            (
                // the identity point: small order
                r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","kid":"k"}]}"#,
                "weak",
            ),
            (r#"{"keys":[]}"#, "no Ed25519 key"),
            (
                r#"{"keys":[{"kty":"RSA","n":"x","e":"AQAB","kid":"r"}]}"#,
                "no Ed25519 key",
            ),
            (r#"{"nokeys":1}"#, "no `keys` array"),
            (r#"[1,2"#, "not valid JSON"),
        ];
        for (json, needle) in cases {
            let err = KeySet::from_jwks_json(json).unwrap_err();
            assert!(err.0.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn duplicate_kid_with_other_bytes_is_refused() {
        let a = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
        let b = ed25519_dalek::SigningKey::from_bytes(&[2; 32]).verifying_key();
        let mut set = KeySet::new();
        set.insert("k", a).unwrap();
        set.insert("k", a).unwrap();
        assert!(set.insert("k", b).is_err());
    }
}
