//! The physical floor of a guarded call: a bare, pooled `reqwest` POST of the same JSON body
//! (with an `Idempotency-Key`, as the SDK sends, so the Vault does the same work), the JSON
//! answer parsed into `{status, token}`, and one Ed25519 `verify_strict` of the token. Nothing
//! else: no claims, no binding, no replay check, no retries.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use serde_json::json;

use crate::R;
use crate::calls::{AGENT, CHARGE, CURRENCY, TOOL};

/// The floor call against one Vault (cheap to clone: clones share the connection pool).
#[derive(Clone)]
pub struct Floor {
    http: reqwest::Client,
    url: Arc<str>,
    key: VerifyingKey,
}

/// What the floor reads of the answer.
#[derive(Deserialize)]
struct FloorAnswer {
    status: String,
    token: Option<String>,
}

impl Floor {
    /// The floor against the Vault at `base_url`, verifying with its token key (the key whose
    /// id is not the ledger key's, `mock-ledger-…`).
    pub fn new(base_url: &str, keys: &ledgix::KeySet) -> R<Floor> {
        let kid = keys
            .kids()
            .find(|k| !k.starts_with("mock-ledger"))
            .ok_or("the mock Vault's JWKS has no token key")?;
        let key = *keys.get(kid).ok_or("token key vanished")?;
        Ok(Floor {
            http: reqwest::Client::new(),
            url: format!("{}/request-clearance", base_url.trim_end_matches('/')).into(),
            key,
        })
    }

    /// The floor against an in-process mock Vault.
    pub fn of_mock(vault: &ledgix::mock::MockVault) -> R<Floor> {
        let keys = ledgix::KeySet::from_jwks_json(&vault.trusted_keys_json())?;
        Floor::new(&vault.url(), &keys)
    }

    /// Fills the Vault's ledger with `events` floor calls from 16 tasks at once (what a
    /// proof bundle needs a large tree for).
    pub async fn fill(&self, events: u64) -> R<()> {
        let mut set = tokio::task::JoinSet::new();
        for t in 0..16 {
            let floor = self.clone();
            set.spawn(async move {
                for n in (t..events).step_by(16) {
                    floor.call(n).await?;
                }
                Ok::<_, crate::BoxError>(())
            });
        }
        while let Some(joined) = set.join_next().await {
            joined??;
        }
        Ok(())
    }

    /// One floor call clearing `refund` with amount `n`: POST, parse, one signature check.
    pub async fn call(&self, n: u64) -> R<()> {
        let body = json!({
            "tool_name": TOOL,
            "tool_args": {"amount": n, "currency": CURRENCY, "charge_id": CHARGE},
            "agent_id": AGENT,
            "context": {},
        });
        let answer = self
            .http
            .post(&*self.url)
            .header("idempotency-key", idempotency_key()?)
            .json(&body)
            .send()
            .await?;
        if !answer.status().is_success() {
            return Err(format!("floor: the Vault answered {}", answer.status()).into());
        }
        let bytes = answer.bytes().await?;
        let parsed: FloorAnswer = serde_json::from_slice(&bytes)?;
        if parsed.status != "approved" {
            return Err(format!("floor: status {}", parsed.status).into());
        }
        let token = parsed.token.ok_or("floor: approved without a token")?;
        verify_one_signature(&self.key, &token)
    }
}

/// The irreducible crypto of a token: split off the signature, decode it, `verify_strict`.
pub fn verify_one_signature(key: &VerifyingKey, token: &str) -> R<()> {
    let (signing_input, signature_b64) = token.rsplit_once('.').ok_or("token without '.'")?;
    let mut signature = [0u8; 64];
    let len = URL_SAFE_NO_PAD.decode_slice(signature_b64, &mut signature)?;
    if len != 64 {
        return Err(format!("signature is {len} bytes").into());
    }
    key.verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))?;
    Ok(())
}

/// A fresh random key in the form the SDK sends (a UUID v4 string), from the OS's generator.
pub fn idempotency_key() -> R<String> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| format!("getrandom: {e}"))?;
    b[6] = (b[6] & 0x0f) | 0x40; // version 4
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let mut s = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(char::from(HEX[usize::from(byte >> 4)]));
        s.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Ok(s)
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// The bytes of a hex string (either case); `None` when it is not hex of even length.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| char::from(c).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_distinct_uuid_v4_strings() {
        let a = idempotency_key().unwrap();
        let b = idempotency_key().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!(matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'));
        assert!(hex_decode(&a.replace('-', "")).is_some());
    }

    #[test]
    fn hex_decodes_and_refuses() {
        assert_eq!(hex_decode("00fFa1"), Some(vec![0, 255, 161]));
        assert_eq!(hex_decode(""), Some(vec![]));
        assert_eq!(hex_decode("abc"), None);
        assert_eq!(hex_decode("zz"), None);
        assert_eq!(hex_decode("+1"), None);
    }
}
