//! A-JWT verification (placeholder: the token work fills this module; signatures are the
//! interface the client codes against).

use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::jwk::KeySet;

/// Claims of a verified A-JWT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Issuer.
    pub iss: String,
    /// Subject (`clearance`).
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Token id.
    pub jti: String,
    /// The tool this token clears.
    #[serde(default)]
    pub tool: String,
    /// `sha256:<hex>` of the cleared arguments.
    #[serde(default)]
    pub tool_args_hash: String,
    /// The decision (`approved`).
    #[serde(default)]
    pub decision: String,
}

/// `sha256:` + hex SHA-256 of the compact, key-sorted JSON of `tool_args`.
pub fn tool_args_hash(_tool_args: &Map<String, Value>) -> String {
    unimplemented!("token work")
}

/// Reads the `kid` of a compact JWS after checking `alg` is exactly `EdDSA`.
pub(crate) fn peek_kid(_token: &str) -> Result<String, Error> {
    unimplemented!("token work")
}

/// What the claims must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expectations<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audience: &'a str,
}

/// Verifies signature (key by kid from `keys`) and claims; not replay, not binding.
pub(crate) fn verify_with_keys(
    _token: &str,
    _keys: &KeySet,
    _expect: Expectations<'_>,
    _now: SystemTime,
) -> Result<TokenClaims, Error> {
    unimplemented!("token work")
}

/// Checks `tool` and `tool_args_hash` against what was requested.
pub(crate) fn check_binding(
    _claims: &TokenClaims,
    _tool: &str,
    _tool_args: &Map<String, Value>,
) -> Result<(), Error> {
    unimplemented!("token work")
}

/// Remembers used `jti`s until they expire (+30 s).
#[derive(Debug, Default)]
pub struct ReplayCache {}

impl ReplayCache {
    /// An empty cache.
    pub fn new() -> Self {
        ReplayCache {}
    }

    /// Records `jti`; a second use is [`Error::ReplayDetected`].
    pub fn check_and_record(&self, _jti: &str, _exp: u64, _now: SystemTime) -> Result<(), Error> {
        unimplemented!("token work")
    }
}

/// Offline A-JWT verification.
#[derive(Debug)]
pub struct TokenVerifier {}
