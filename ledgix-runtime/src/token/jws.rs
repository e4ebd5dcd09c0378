//! Compact JWS (RFC 7515) parsing for A-JWTs: three base64url segments, a header that must
//! say `EdDSA` and name its key, a 64-byte Ed25519 signature.
//!
//! Parsing checks the shape only; the signature is verified by the caller with the key of the
//! header's `kid`. Error messages describe what is wrong without echoing the token.

use base64::Engine;
use base64::alphabet::URL_SAFE;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ed25519_dalek::Signature;
use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::error::Error;

/// The only `alg` an A-JWT may carry.
pub(crate) const ALG: &str = "EdDSA";
/// The `typ` an A-JWT carries (optional).
pub(crate) const TYP: &str = "JWT";
/// Longest token accepted; the Vault's are well under 1 KiB.
pub(crate) const MAX_TOKEN_LEN: usize = 16 * 1024;

/// base64url exactly as RFC 7515 §2 writes it: no padding, canonical trailing bits.
pub(crate) const B64: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// A token split into its parts: header checked, payload and signature decoded (the payload
/// is parsed only after the signature verified).
pub(crate) struct Compact<'a> {
    /// The `kid` of the header (non-empty).
    pub(crate) kid: String,
    /// `header.payload`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
    /// The decoded payload bytes (JSON, not yet parsed).
    pub(crate) payload: Vec<u8>,
    /// The Ed25519 signature.
    pub(crate) signature: Signature,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    typ: Option<String>,
    crit: Option<IgnoredAny>,
}

/// Splits `token` and checks its header; decodes the signature.
pub(crate) fn parse(token: &str) -> Result<Compact<'_>, Error> {
    let (header_b64, payload_b64, signature_b64) = split(token)?;
    let kid = parse_header(header_b64)?;
    let payload = decode_segment("payload", payload_b64)?;
    let signature = decode_signature(signature_b64)?;
    let signing_input = token
        .get(..header_b64.len() + 1 + payload_b64.len())
        .ok_or_else(|| fail("token is not ASCII"))?;
    Ok(Compact {
        kid,
        signing_input,
        payload,
        signature,
    })
}

/// The three segments of a compact JWS.
pub(crate) fn split(token: &str) -> Result<(&str, &str, &str), Error> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(fail(format!(
            "token is {} bytes, more than the {MAX_TOKEN_LEN} an A-JWT may have",
            token.len()
        )));
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(p), Some(s), None) => Ok((h, p, s)),
        _ => Err(fail(format!(
            "token has {} segments, expected 3 (header.payload.signature)",
            token.split('.').count()
        ))),
    }
}

/// Decodes and checks the header; returns its `kid`.
pub(crate) fn parse_header(header_b64: &str) -> Result<String, Error> {
    let bytes = decode_segment("header", header_b64)?;
    let header: Header = serde_json::from_slice(&bytes)
        .map_err(|e| fail(format!("header is not a valid JOSE header: {e}")))?;
    match header.alg.as_deref() {
        Some(ALG) => {}
        Some(other) => {
            return Err(fail(format!(
                "alg `{}` is not accepted: A-JWTs are EdDSA only",
                shown(other)
            )));
        }
        None => return Err(fail("header has no `alg`: A-JWTs are EdDSA only")),
    }
    if let Some(typ) = header.typ.as_deref()
        && typ != TYP
    {
        return Err(fail(format!(
            "typ `{}` is not accepted, expected `{TYP}`",
            shown(typ)
        )));
    }
    if header.crit.is_some() {
        return Err(fail(
            "header has `crit` extensions; A-JWTs use none and they cannot be honoured",
        ));
    }
    match header.kid {
        Some(kid) if !kid.is_empty() => Ok(kid),
        _ => Err(fail(
            "header has no `kid`: the Vault names its signing key in every A-JWT",
        )),
    }
}

fn decode_signature(signature_b64: &str) -> Result<Signature, Error> {
    let mut bytes = [0u8; 64];
    // 64 bytes are exactly 86 base64url characters; anything else cannot be a signature.
    if signature_b64.len() != 86 {
        let len = B64.decode(signature_b64).map(|b| b.len()).map_err(|e| {
            fail(format!(
                "signature segment is not base64url (no padding): {e}"
            ))
        })?;
        return Err(fail(format!(
            "signature is {len} bytes, an Ed25519 signature is 64"
        )));
    }
    B64.decode_slice(signature_b64, &mut bytes).map_err(|e| {
        fail(format!(
            "signature segment is not base64url (no padding): {e}"
        ))
    })?;
    Ok(Signature::from_bytes(&bytes))
}

/// Decodes one base64url segment (`what` names it in errors).
pub(crate) fn decode_segment(what: &str, segment: &str) -> Result<Vec<u8>, Error> {
    if segment.is_empty() {
        return Err(fail(format!("{what} segment is empty")));
    }
    B64.decode(segment)
        .map_err(|e| fail(format!("{what} segment is not base64url (no padding): {e}")))
}

/// A value from the token for an error message: at most 96 characters (a whole
/// `sha256:<hex>` fits), escaped.
pub(crate) fn shown(value: &str) -> String {
    let mut out: String = value
        .chars()
        .take(SHOWN_MAX)
        .flat_map(char::escape_default)
        .collect();
    if value.chars().nth(SHOWN_MAX).is_some() {
        out.push('…');
    }
    out
}

const SHOWN_MAX: usize = 96;

/// A verification failure.
pub(crate) fn fail(msg: impl Into<String>) -> Error {
    Error::TokenVerification(msg.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        B64.encode(s)
    }

    fn header_err(json: &str) -> String {
        parse_header(&b64(json)).unwrap_err().to_string()
    }

    #[test]
    fn accepts_the_vault_header() {
        let kid = parse_header(&b64(r#"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#)).unwrap();
        assert_eq!(kid, "k1");
        assert_eq!(
            parse_header(&b64(r#"{"alg":"EdDSA","kid":"k2"}"#)).unwrap(),
            "k2"
        );
    }

    #[test]
    fn refuses_other_headers_with_the_reason() {
        let cases = [
            (r#"{"alg":"none","kid":"k"}"#, "alg `none` is not accepted"),
            (
                r#"{"alg":"HS256","kid":"k"}"#,
                "alg `HS256` is not accepted",
            ),
            (
                r#"{"alg":"eddsa","kid":"k"}"#,
                "alg `eddsa` is not accepted",
            ),
            (r#"{"kid":"k"}"#, "no `alg`"),
            (r#"{"alg":"EdDSA"}"#, "no `kid`"),
            (r#"{"alg":"EdDSA","kid":""}"#, "no `kid`"),
            (
                r#"{"alg":"EdDSA","kid":"k","typ":"at+jwt"}"#,
                "typ `at+jwt`",
            ),
            (r#"{"alg":"EdDSA","kid":"k","crit":["b64"]}"#, "`crit`"),
            (
                r#"{"alg":"EdDSA","alg":"EdDSA","kid":"k"}"#,
                "duplicate field",
            ),
            (r#"{"alg":5,"kid":"k"}"#, "not a valid JOSE header"),
            (r#"["EdDSA"]"#, "not a valid JOSE header"),
            ("{", "not a valid JOSE header"),
        ];
        for (json, needle) in cases {
            let err = header_err(json);
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn segments_and_base64_are_strict() {
        let err = |t: &str| parse(t).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("a.b").contains("has 2 segments"));
        assert!(err("a.b.c.d").contains("has 4 segments"));
        assert!(err("").contains("has 1 segments"));
        assert!(err(".b.c").contains("header segment is empty"));
        let h = b64(r#"{"alg":"EdDSA","kid":"k"}"#);
        assert!(err(&format!("{h}=.p.s")).contains("not base64url"));
        assert!(err(&format!("{h}.p.s")).contains("payload segment is not base64url"));
        assert!(err(&format!("{h}.e30.AAAA")).contains("signature is 3 bytes"));
        assert!(err(&format!("{h}.e30.{}", "A".repeat(85) + "=")).contains("not base64url"));
        assert!(err(&"a".repeat(MAX_TOKEN_LEN + 1)).contains("bytes, more than"));
    }

    #[test]
    fn shown_truncates_and_escapes() {
        assert_eq!(shown("a\nb"), "a\\nb");
        assert_eq!(shown(&"x".repeat(200)).chars().count(), SHOWN_MAX + 1);
        assert_eq!(shown(&"x".repeat(SHOWN_MAX)).chars().count(), SHOWN_MAX);
    }
}
