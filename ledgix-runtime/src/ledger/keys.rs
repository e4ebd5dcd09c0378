//! The keys a ledger verifier trusts, and how keys embedded in a bundle are judged.

use ed25519_dalek::{Signature, VerifyingKey};

use super::LedgerError;
use super::bundle::LedgerKeyVersion;
use super::parse::clip;
use crate::b64;
use crate::jwk::{Jwk, KeySet};

/// The Ed25519 keys ledger signatures must verify under, chosen by key id: the Vault's
/// JWKS as the caller fetched it from its configured Vault, or keys the caller pinned.
/// Keys a proof bundle carries are never added here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedKeys {
    keys: KeySet,
}

impl TrustedKeys {
    /// Parses a JWKS document `{"keys": [..]}` (see [`KeySet::from_jwks_json`]).
    pub fn from_jwks_json(json: &str) -> Result<Self, LedgerError> {
        KeySet::from_jwks_json(json)
            .map(Self::from_key_set)
            .map_err(|e| LedgerError::TrustedKeys(e.0))
    }

    /// Trusts exactly the keys of this set.
    pub fn from_key_set(keys: KeySet) -> Self {
        TrustedKeys { keys }
    }

    /// The trusted keys.
    pub fn key_set(&self) -> &KeySet {
        &self.keys
    }

    /// The trusted key with this id.
    pub fn get(&self, kid: &str) -> Option<&VerifyingKey> {
        self.keys.get(kid)
    }
}

impl From<KeySet> for TrustedKeys {
    fn from(keys: KeySet) -> Self {
        TrustedKeys::from_key_set(keys)
    }
}

/// Check 1, embedded keys: a key the bundle embeds under a trusted key id must be that very
/// key. Keys under other ids are ignored: they can never verify anything.
pub(crate) fn check_embedded_keys(
    embedded: &[LedgerKeyVersion],
    trusted: &TrustedKeys,
) -> Result<(), LedgerError> {
    for (i, version) in embedded.iter().enumerate() {
        if version.public_jwk.is_empty() {
            continue;
        }
        let field = format!("keys[{i}].public_jwk");
        let jwk = decode_embedded_jwk(&field, version)?;
        // ledgix-python looks keys up by the JWK's own kid, defaulting to key_id: both
        // names must be honest.
        for kid in [version.key_id.as_str(), jwk.kid.as_str()] {
            let Some(trusted_key) = trusted.get(kid) else {
                continue;
            };
            // The same bytes as the trusted key (validated when it was trusted): comparing
            // bytes spares a point decompression.
            let same = version.algorithm == "Ed25519"
                && jwk.kty == "OKP"
                && jwk.crv == "Ed25519"
                && b64::decode(&jwk.x).is_ok_and(|x| x.as_slice() == trusted_key.as_bytes());
            if !same {
                return Err(LedgerError::EmbeddedKeyMismatch {
                    kid: kid.to_owned(),
                });
            }
        }
    }
    Ok(())
}

fn decode_embedded_jwk(field: &str, version: &LedgerKeyVersion) -> Result<Jwk, LedgerError> {
    let malformed = |why: String| LedgerError::Malformed {
        field: field.to_owned(),
        why,
    };
    let bytes = b64::decode(&version.public_jwk)
        .map_err(|e| malformed(format!("is not base64url: {e}")))?;
    let mut jwk: Jwk =
        serde_json::from_slice(&bytes).map_err(|e| malformed(format!("is not a JWK: {e}")))?;
    if jwk.kid.is_empty() {
        jwk.kid = version.key_id.clone();
    }
    Ok(jwk)
}

/// One signature to check: what was signed, by which key id, with which algorithm.
pub(crate) struct Signed<'a> {
    pub what: String,
    pub kid: &'a str,
    pub algorithm: &'a str,
    pub signature_field: String,
    pub signature: &'a str,
}

/// Check 1, signatures: Ed25519 `verify_strict` of `payload` under the trusted key `kid`.
pub(crate) fn verify_signature(
    s: &Signed<'_>,
    payload: &[u8],
    trusted: &TrustedKeys,
) -> Result<(), LedgerError> {
    if s.algorithm != "Ed25519" {
        return Err(LedgerError::UnsupportedAlgorithm {
            what: s.what.clone(),
            algorithm: clip(s.algorithm),
        });
    }
    if s.kid.is_empty() {
        return Err(LedgerError::Malformed {
            field: format!("{}: key id", s.what),
            why: "is empty".into(),
        });
    }
    let key = trusted
        .get(s.kid)
        .ok_or_else(|| LedgerError::UntrustedKey {
            what: s.what.clone(),
            kid: clip(s.kid),
        })?;
    let malformed = |why: String| LedgerError::Malformed {
        field: s.signature_field.clone(),
        why,
    };
    let raw = b64::decode(s.signature).map_err(|e| malformed(format!("is not base64url: {e}")))?;
    let bytes: [u8; 64] = raw.as_slice().try_into().map_err(|_| {
        malformed(format!(
            "is {} bytes, an Ed25519 signature is 64",
            raw.len()
        ))
    })?;
    key.verify_strict(payload, &Signature::from_bytes(&bytes))
        .map_err(|_| LedgerError::BadSignature {
            what: s.what.clone(),
            kid: s.kid.to_owned(),
        })
}
