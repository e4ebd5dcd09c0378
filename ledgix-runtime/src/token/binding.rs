//! The binding of an A-JWT to one call: `tool` and `tool_args_hash`, the hash of the canonical
//! JSON of the arguments sent.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::TokenClaims;
use super::canonical;
use super::jws::{fail, shown};
use crate::error::Error;

/// The `tool_args_hash` the Vault binds into an A-JWT: `"sha256:"` + lowercase hex SHA-256 of
/// the canonical JSON of `tool_args`.
///
/// The canonical JSON is what the Vault (Python) computes,
/// `json.dumps(tool_args, sort_keys=True, separators=(",", ":"))`, reproduced byte for byte:
/// keys sorted by code point at every depth, no whitespace, non-ASCII escaped as `\uXXXX`
/// (lowercase hex, surrogate pairs above U+FFFF), integers as integers and floats as Python's
/// `repr` (`1.0`, `0.1`, `1e+16`, `1.5e-07`). The Vault hashes the arguments after parsing the
/// JSON the SDK sent, so this is the hash of exactly the arguments sent — as serialized: a
/// field a `Serialize` implementation skips (`#[serde(skip)]`) is not sent, so not bound. (`serde_json` holds
/// integers beyond 64 bits as floats, sends them as floats and the Vault parses floats: the
/// two sides still agree.) See [`canonical_json`](crate::token::canonical_json).
///
/// ```
/// use serde_json::json;
///
/// let args = json!({"reason": "duplicate_charge", "currency": "usd", "amount": 1000});
/// assert_eq!(
///     ledgix_runtime::tool_args_hash(args.as_object().unwrap()),
///     "sha256:4f8c8b91570c32f3fa64837640b869fd27020591efec8409eddd0a12a4cd6930"
/// );
/// ```
pub fn tool_args_hash(tool_args: &Map<String, Value>) -> String {
    let digest = Sha256::digest(canonical::object_to_string(tool_args).as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest.iter() {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks that the token clears `tool` with exactly `tool_args`.
pub(crate) fn check_binding(
    claims: &TokenClaims,
    tool: &str,
    tool_args: &Map<String, Value>,
) -> Result<(), Error> {
    if claims.tool != tool {
        return Err(fail(format!(
            "token clears tool `{}`, the call is `{}`",
            shown(&claims.tool),
            shown(tool)
        )));
    }
    let actual = tool_args_hash(tool_args);
    if claims.tool_args_hash != actual {
        return Err(if claims.tool_args_hash.is_empty() {
            fail(format!(
                "token has no `tool_args_hash` claim; the call's arguments hash to {actual}"
            ))
        } else {
            fail(format!(
                "tool_args_hash mismatch: token binds {}, the call's arguments hash to {actual}",
                shown(&claims.tool_args_hash)
            ))
        });
    }
    Ok(())
}
