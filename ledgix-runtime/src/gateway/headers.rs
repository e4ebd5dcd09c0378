//! The headers the gateway reads (`Authorization: Bearer`) and the ones it writes
//! (`X-Ledgix-*`) in place of whatever the caller sent.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, CONTENT_LENGTH};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::GatewayError;
use crate::token::TokenClaims;

/// The prefix of every header the gateway owns; inbound ones are removed.
const PREFIX: &str = "x-ledgix-";

/// `X-Ledgix-Tool`: the tool the token clears.
pub(crate) const TOOL: HeaderName = HeaderName::from_static("x-ledgix-tool");
/// `X-Ledgix-Agent-Id`.
pub(crate) const AGENT_ID: HeaderName = HeaderName::from_static("x-ledgix-agent-id");
/// `X-Ledgix-Session-Id`.
pub(crate) const SESSION_ID: HeaderName = HeaderName::from_static("x-ledgix-session-id");
/// `X-Ledgix-Policy-Id`.
pub(crate) const POLICY_ID: HeaderName = HeaderName::from_static("x-ledgix-policy-id");
/// `X-Ledgix-Decision`.
pub(crate) const DECISION: HeaderName = HeaderName::from_static("x-ledgix-decision");
/// `X-Ledgix-Jti`.
pub(crate) const JTI: HeaderName = HeaderName::from_static("x-ledgix-jti");
/// `X-Ledgix-Tool-Args-Hash`.
pub(crate) const TOOL_ARGS_HASH: HeaderName = HeaderName::from_static("x-ledgix-tool-args-hash");

/// The token of the one `Authorization: Bearer <token>` header. Never echoes the header's
/// value in an error (it may be someone's credential of another scheme).
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, GatewayError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(GatewayError::MissingToken);
    };
    if values.next().is_some() {
        return Err(invalid(
            "the request has more than one Authorization header",
        ));
    }
    let text = value
        .to_str()
        .map_err(|_| invalid("the Authorization header is not visible ASCII"))?
        .trim_matches([' ', '\t']);
    if text.is_empty() {
        return Err(invalid("the Authorization header is empty"));
    }
    let Some((scheme, rest)) = text.split_once([' ', '\t']) else {
        return Err(invalid(
            "the Authorization header is not `Bearer <token>` (one word, no scheme)",
        ));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        let named = if scheme.len() <= 16 && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) {
            format!("scheme `{scheme}`")
        } else {
            "an unknown scheme".to_string()
        };
        return Err(invalid(format!(
            "the Authorization header uses {named}, not `Bearer <token>`"
        )));
    }
    let token = rest.trim_start_matches([' ', '\t']);
    if token.is_empty() {
        return Err(invalid(
            "the Authorization header has no token after `Bearer`",
        ));
    }
    if token.contains([' ', '\t']) {
        return Err(invalid(
            "the Authorization header has more than one word after `Bearer`",
        ));
    }
    Ok(token)
}

fn invalid(message: impl Into<String>) -> GatewayError {
    GatewayError::InvalidToken(message.into())
}

/// The size the request announces: the largest of its `Content-Length` headers. An
/// unreadable one is [`GatewayError::InvalidBody`].
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>, GatewayError> {
    let mut largest = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        let n = value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .ok_or_else(|| GatewayError::InvalidBody("Content-Length is not a number".into()))?;
        largest = Some(largest.map_or(n, |m: u64| m.max(n)));
    }
    Ok(largest)
}

/// Removes `Authorization` and every `X-Ledgix-*` header (a caller must not be able to spoof
/// them), then writes the `X-Ledgix-*` headers of `claims`.
pub(crate) fn rewrite(headers: &mut HeaderMap, claims: &TokenClaims) {
    headers.remove(AUTHORIZATION);
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with(PREFIX))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    // A token passes only as a clearance; older Vaults omit the claim (PROTOCOL.md).
    let decision = if claims.decision.is_empty() {
        "approved"
    } else {
        claims.decision.as_str()
    };
    for (name, value) in [
        (TOOL, claims.tool.as_str()),
        (AGENT_ID, claims.agent_id.as_str()),
        (SESSION_ID, claims.session_id.as_str()),
        (POLICY_ID, claims.policy_id.as_str()),
        (DECISION, decision),
        (JTI, claims.jti.as_str()),
        (TOOL_ARGS_HASH, claims.tool_args_hash.as_str()),
    ] {
        headers.insert(name, header_value(value));
    }
}

/// `value` as a header value: unchanged when it is printable ASCII without `%` and without
/// leading or trailing spaces; otherwise percent-encoded (every byte outside `!`..`~`, and
/// `%` itself, as `%XX`), so that control characters, line breaks and non-ASCII text in a
/// claim can neither break the header nor be mistaken for another value.
pub(crate) fn header_value(value: &str) -> HeaderValue {
    let text = encode(value);
    // Only printable ASCII and spaces remain: always a valid value.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn encode(value: &str) -> Cow<'_, str> {
    let plain = value
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'%')
        && !value.starts_with(' ')
        && !value.ends_with(' ');
    if plain {
        return Cow::Borrowed(value);
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if (b'!'..=b'~').contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn with_auth(values: &[&[u8]]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_bytes(v).unwrap());
        }
        headers
    }

    #[test]
    fn bearer_shapes() {
        let ok = |v: &[u8]| bearer_token(&with_auth(&[v])).map(str::to_string);
        assert_eq!(ok(b"Bearer a.b.c").unwrap(), "a.b.c");
        assert_eq!(ok(b"bearer a.b.c").unwrap(), "a.b.c");
        assert_eq!(ok(b"BEARER   a.b.c ").unwrap(), "a.b.c");
        assert_eq!(ok(b"Bearer\ta.b.c").unwrap(), "a.b.c");
        assert_eq!(
            bearer_token(&HeaderMap::new()),
            Err(GatewayError::MissingToken)
        );
        for (value, needle) in [
            (&b""[..], "empty"),
            (b"   ", "empty"),
            (b"Bearer", "one word"),
            (b"Bearer ", "one word"),
            (b"a.b.c", "one word"),
            (b"Basic dXNlcjpwYXNz", "scheme `Basic`"),
            (b"Token a.b.c", "scheme `Token`"),
            (b"Bearer a.b.c extra", "more than one word"),
            (b"Bearer a.b.\xff", "not visible ASCII"),
            (b"Bear\xe9r a.b.c", "not visible ASCII"),
        ] {
            let e = ok(value).unwrap_err().to_string();
            assert!(e.contains(needle), "{value:?}: {e}");
            assert!(!e.contains("dXNlcjpwYXNz") && !e.contains("a.b.c"), "{e}");
        }
        let two = with_auth(&[b"Bearer a.b.c", b"Bearer d.e.f"]);
        let e = bearer_token(&two).unwrap_err().to_string();
        assert!(e.contains("more than one"), "{e}");
    }

    #[test]
    fn content_lengths() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h), Ok(None));
        h.append(CONTENT_LENGTH, HeaderValue::from_static("10"));
        h.append(CONTENT_LENGTH, HeaderValue::from_static("99"));
        assert_eq!(content_length(&h), Ok(Some(99)));
        h.append(CONTENT_LENGTH, HeaderValue::from_static("-1"));
        assert!(content_length(&h).is_err());
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("stripe.refund.create"), "stripe.refund.create");
        assert_eq!(encode("a b"), "a b");
        assert_eq!(encode(" a"), "%20a");
        assert_eq!(encode("a\r\nX-Evil: 1"), "a%0D%0AX-Evil:%201");
        assert_eq!(encode("100%"), "100%25");
        assert_eq!(encode("é"), "%C3%A9");
        assert_eq!(encode(""), "");
    }

    proptest! {
        #[test]
        fn every_claim_makes_a_valid_header_that_decodes_back(value in any::<String>()) {
            let text = encode(&value).into_owned();
            prop_assert!(HeaderValue::from_str(&text).is_ok());
            let header = header_value(&value);
            prop_assert_eq!(header.to_str().unwrap(), text.as_str());
            // Percent-decoding the encoded form gives the claim back (a plain value is its
            // own encoding unless it holds no `%`, which plain values never do).
            if text != value {
                let bytes = text.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%' {
                        let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
                        out.push(u8::from_str_radix(hex, 16).unwrap());
                        i += 3;
                    } else {
                        out.push(bytes[i]);
                        i += 1;
                    }
                }
                prop_assert_eq!(String::from_utf8(out).unwrap(), value);
            }
        }

        #[test]
        fn bearer_parsing_never_panics(values in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..64), 0..3)) {
            let mut headers = HeaderMap::new();
            for v in &values {
                if let Ok(v) = HeaderValue::from_bytes(v) {
                    headers.append(AUTHORIZATION, v);
                }
            }
            let _ = bearer_token(&headers);
        }
    }
}
