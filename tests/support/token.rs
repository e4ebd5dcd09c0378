//! Helpers shared by the `token_*` integration tests: fixtures, claims, forged tokens.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use ledgix::token::TokenSigner;
use ledgix::{Audience, TokenClaims, TokenVerifier};
use serde_json::{Map, Value, json};

pub const VALID_JWT: &str = include_str!("../fixtures/vault/ajwt_token_valid.jwt");
pub const EXPIRED_JWT: &str = include_str!("../fixtures/vault/ajwt_token_expired.jwt");
pub const JWKS: &str = include_str!("../fixtures/vault/ajwt_jwks.json");
pub const EXPECTED: &str = include_str!("../fixtures/vault/ajwt_expected.json");
pub const CANONICAL_CASES: &str = include_str!("../fixtures/vault/canonical_json_cases.json");

pub const ISSUER: &str = "alcv-vault";
pub const AUDIENCE: &str = "ledgix-sdk";
pub const KID: &str = "vault-test-key-001";
pub const TOOL: &str = "stripe.refund.create";
/// A fixed clock for signed test tokens.
pub const NOW: u64 = 1_800_000_000;

/// The golden valid token, without the file's trailing newline.
pub fn valid_jwt() -> &'static str {
    VALID_JWT.trim_end()
}

/// The golden expired token, without the file's trailing newline.
pub fn expired_jwt() -> &'static str {
    EXPIRED_JWT.trim_end()
}

/// `ajwt_expected.json`, parsed.
pub fn expected() -> Value {
    serde_json::from_str(EXPECTED).expect("ajwt_expected.json is JSON")
}

/// The golden `tool_args`.
pub fn golden_args() -> Map<String, Value> {
    object(expected()["tool_args"].clone())
}

pub fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("not a JSON object: {other}"),
    }
}

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A verifier for the golden fixtures.
pub fn golden_verifier() -> TokenVerifier {
    TokenVerifier::from_jwks_json(JWKS, ISSUER, AUDIENCE).expect("the golden JWKS parses")
}

/// The Vault's test signer stand-in (the golden key's secret is not published).
pub fn signer() -> TokenSigner {
    TokenSigner::from_seed(KID, [42; 32])
}

/// A verifier trusting only `signer()`.
pub fn verifier() -> TokenVerifier {
    TokenVerifier::from_jwks_json(&signer().jwks_json(), ISSUER, AUDIENCE).unwrap()
}

/// Valid claims at `NOW` for `TOOL` and `args`.
pub fn claims(jti: &str, args: &Map<String, Value>) -> TokenClaims {
    TokenClaims {
        iss: ISSUER.into(),
        sub: "clearance".into(),
        aud: Audience::Many(vec![AUDIENCE.into()]),
        exp: NOW + 300,
        iat: Some(NOW),
        nbf: None,
        jti: jti.into(),
        tool: TOOL.into(),
        agent_id: "agent-1".into(),
        session_id: "sess-1".into(),
        policy_id: "policy-1".into(),
        decision: "approved".into(),
        tool_args_hash: ledgix::tool_args_hash(args),
        extra: Map::new(),
    }
}

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with this exact header and payload text, Ed25519-signed by `key`.
pub fn forge(header: &str, payload: &str, key: &SigningKey) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", b64(sig.to_bytes()))
}

/// `forge` with the Vault's header for `KID` and `signer()`'s key.
pub fn forge_payload(payload: &str) -> String {
    forge(&header(KID), payload, &signing_key())
}

pub fn header(kid: &str) -> String {
    json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"}).to_string()
}

pub fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[42; 32])
}

/// The verification error text of `result`, or a panic when it verified.
pub fn refused<T: std::fmt::Debug>(result: Result<T, ledgix::Error>) -> String {
    match result {
        Ok(v) => panic!("expected a refusal, it verified: {v:?}"),
        Err(e) => e.to_string(),
    }
}
