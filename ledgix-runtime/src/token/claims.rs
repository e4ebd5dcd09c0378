//! The claims of an A-JWT and the checks PROTOCOL.md requires of them.

use std::fmt;

use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::jws::{fail, shown};
use super::{Expectations, LEEWAY, SUBJECT};
use crate::error::Error;

/// Claims of an A-JWT, in the Vault's wire format.
///
/// Claims the Vault always sets but this type does not require (`tool`, `agent_id`, ...)
/// default to `""` when missing; verification then refuses what it needs. Unknown claims are
/// kept in [`extra`](Self::extra). Serializing writes the fields in the Vault's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Issuer (the Vault, e.g. `alcv-vault`).
    #[serde(default)]
    pub iss: String,
    /// Subject; always `clearance`.
    #[serde(default)]
    pub sub: String,
    /// Audience: one string or an array, kept in the shape it arrived in.
    pub aud: Audience,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Token id: unique per clearance, used once.
    #[serde(default)]
    pub jti: String,
    /// The tool this token clears.
    #[serde(default)]
    pub tool: String,
    /// The agent that asked.
    #[serde(default)]
    pub agent_id: String,
    /// The agent's session.
    #[serde(default)]
    pub session_id: String,
    /// The policy that decided.
    #[serde(default)]
    pub policy_id: String,
    /// The decision (`approved`).
    #[serde(default)]
    pub decision: String,
    /// `sha256:<hex>` of the cleared arguments (see [`tool_args_hash`](crate::tool_args_hash)).
    #[serde(default)]
    pub tool_args_hash: String,
    /// Any other claim, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `aud` claim: a single string or an array of strings (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// `"aud": "x"`.
    One(String),
    /// `"aud": ["x", "y"]`.
    Many(Vec<String>),
}

impl Audience {
    /// True when `audience` is (one of) the audience(s).
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(a) => a == audience,
            Audience::Many(list) => list.iter().any(|a| a == audience),
        }
    }

    /// The audiences, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match self {
            Audience::One(a) => (Some(a.as_str()), &[][..]),
            Audience::Many(list) => (None, list.as_slice()),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }
}

impl Default for Audience {
    fn default() -> Self {
        Audience::Many(Vec::new())
    }
}

impl From<&str> for Audience {
    fn from(a: &str) -> Self {
        Audience::One(a.to_string())
    }
}

impl From<String> for Audience {
    fn from(a: String) -> Self {
        Audience::One(a)
    }
}

impl From<Vec<String>> for Audience {
    fn from(list: Vec<String>) -> Self {
        Audience::Many(list)
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Audience::One(a) => write!(f, "`{}`", shown(a)),
            Audience::Many(list) => {
                f.write_str("[")?;
                for (i, a) in list.iter().take(8).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{}`", shown(a))?;
                }
                if list.len() > 8 {
                    f.write_str(", …")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Audience::One(a) => s.serialize_str(a),
            Audience::Many(list) => list.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AudienceVisitor;
        impl<'de> Visitor<'de> for AudienceVisitor {
            type Value = Audience;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Audience, E> {
                Ok(Audience::One(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Audience, E> {
                Ok(Audience::One(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(16));
                while let Some(a) = seq.next_element::<String>()? {
                    list.push(a);
                }
                Ok(Audience::Many(list))
            }
        }
        d.deserialize_any(AudienceVisitor)
    }
}

/// Checks `iss`, `aud`, `sub`, `exp`, `nbf`, `iat` and `jti` at `now` (Unix seconds).
pub(crate) fn check(claims: &TokenClaims, expect: Expectations<'_>, now: u64) -> Result<(), Error> {
    if expect.issuer.is_empty() || expect.audience.is_empty() {
        return Err(fail(
            "no issuer or audience is configured to check the token against",
        ));
    }
    if claims.iss != expect.issuer {
        return Err(if claims.iss.is_empty() {
            fail("token has no `iss` claim")
        } else {
            fail(format!(
                "iss is `{}`, expected `{}`",
                shown(&claims.iss),
                expect.issuer
            ))
        });
    }
    if !claims.aud.contains(expect.audience) {
        return Err(fail(format!(
            "aud {} does not contain `{}`",
            claims.aud, expect.audience
        )));
    }
    if claims.sub != SUBJECT {
        return Err(fail(format!(
            "sub is `{}`, expected `{SUBJECT}`",
            shown(&claims.sub)
        )));
    }
    if claims.exp.saturating_add(LEEWAY) < now {
        return Err(fail(format!(
            "token expired at {} (now {now}), beyond the {LEEWAY} s leeway",
            claims.exp
        )));
    }
    let horizon = now.saturating_add(LEEWAY);
    if let Some(nbf) = claims.nbf
        && nbf > horizon
    {
        return Err(fail(format!(
            "token is not valid before {nbf} (now {now}), beyond the {LEEWAY} s leeway"
        )));
    }
    if let Some(iat) = claims.iat
        && iat > horizon
    {
        return Err(fail(format!(
            "token was issued in the future at {iat} (now {now}), beyond the {LEEWAY} s leeway"
        )));
    }
    if claims.jti.is_empty() {
        return Err(fail(
            "token has no `jti` claim: every A-JWT must be usable once",
        ));
    }
    // An A-JWT is a clearance; older Vaults omit `decision`.
    match claims.decision.as_str() {
        "" | "approved" | "approved_pending_review" => {}
        other => {
            return Err(fail(format!(
                "the token's decision is `{}`, not an approval",
                shown(other)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;

    #[test]
    fn a_decision_other_than_an_approval_is_refused() {
        let expect = Expectations {
            issuer: "alcv-vault",
            audience: "ledgix-sdk",
        };
        for (decision, ok) in [
            ("", true),
            ("approved", true),
            ("approved_pending_review", true),
            ("denied", false),
            ("pending_review", false),
        ] {
            let mut c = claims();
            c.decision = decision.into();
            assert_eq!(check(&c, expect, NOW).is_ok(), ok, "{decision}");
        }
    }

    fn claims() -> TokenClaims {
        serde_json::from_value(json!({
            "iss": "alcv-vault", "sub": "clearance", "aud": "ledgix-sdk", "exp": NOW + 300,
            "iat": NOW, "jti": "j-1", "tool": "t", "tool_args_hash": "sha256:00"
        }))
        .unwrap()
    }

    fn expect() -> Expectations<'static> {
        Expectations {
            issuer: "alcv-vault",
            audience: "ledgix-sdk",
        }
    }

    fn err(c: &TokenClaims, now: u64) -> String {
        check(c, expect(), now).unwrap_err().to_string()
    }

    #[test]
    fn good_claims_pass() {
        check(&claims(), expect(), NOW).unwrap();
    }

    #[test]
    fn each_claim_is_checked_with_a_specific_message() {
        let mut c = claims();
        c.iss = "evil".into();
        assert!(err(&c, NOW).contains("iss is `evil`, expected `alcv-vault`"));
        c.iss = String::new();
        assert!(err(&c, NOW).contains("no `iss` claim"));

        let mut c = claims();
        c.aud = Audience::Many(vec!["a".into(), "b".into()]);
        assert!(err(&c, NOW).contains("aud [`a`, `b`] does not contain `ledgix-sdk`"));
        c.aud = Audience::Many(vec!["a".into(), "ledgix-sdk".into()]);
        check(&c, expect(), NOW).unwrap();

        let mut c = claims();
        c.sub = "user".into();
        assert!(err(&c, NOW).contains("sub is `user`, expected `clearance`"));

        let mut c = claims();
        c.jti = String::new();
        assert!(err(&c, NOW).contains("no `jti` claim"));

        let mut c = claims();
        c.nbf = Some(NOW + LEEWAY + 1);
        assert!(err(&c, NOW).contains("not valid before"));
        c.nbf = Some(NOW + LEEWAY);
        check(&c, expect(), NOW).unwrap();

        let mut c = claims();
        c.iat = Some(NOW + LEEWAY + 1);
        assert!(err(&c, NOW).contains("issued in the future"));
    }

    #[test]
    fn expiry_has_a_leeway_of_thirty_seconds() {
        let c = claims();
        check(&c, expect(), c.exp + LEEWAY).unwrap();
        let e = err(&c, c.exp + LEEWAY + 1);
        assert!(e.contains(&format!("token expired at {}", c.exp)), "{e}");
        let mut c = claims();
        c.exp = u64::MAX;
        check(&c, expect(), NOW).unwrap();
    }

    #[test]
    fn empty_expectations_never_match_missing_claims() {
        let mut c = claims();
        c.iss = String::new();
        let e = check(
            &c,
            Expectations {
                issuer: "",
                audience: "ledgix-sdk",
            },
            NOW,
        )
        .unwrap_err();
        assert!(e.to_string().contains("no issuer or audience"));
    }

    #[test]
    fn audience_keeps_its_shape() {
        for text in [r#""x""#, r#"["x","y"]"#, "[]"] {
            let a: Audience = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&a).unwrap(), text);
        }
        assert!(serde_json::from_str::<Audience>("5").is_err());
        assert!(serde_json::from_str::<Audience>("[5]").is_err());
        let a = Audience::from(vec!["x".to_string(), "y".to_string()]);
        assert_eq!(a.iter().collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(Audience::from("x").iter().collect::<Vec<_>>(), ["x"]);
    }

    #[test]
    fn missing_string_claims_default_and_unknown_ones_are_kept() {
        let c: TokenClaims =
            serde_json::from_value(json!({"aud": "a", "exp": 1, "custom": {"k": 1}})).unwrap();
        assert_eq!(c.tool, "");
        assert_eq!(c.iat, None);
        assert_eq!(c.extra.get("custom"), Some(&json!({"k": 1})));
        let back = serde_json::to_value(&c).unwrap();
        assert_eq!(back["custom"], json!({"k": 1}));
        assert!(serde_json::from_value::<TokenClaims>(json!({"aud": "a"})).is_err());
        assert!(serde_json::from_value::<TokenClaims>(json!({"aud": "a", "exp": -1})).is_err());
        assert!(serde_json::from_value::<TokenClaims>(json!({"aud": "a", "exp": 1.5})).is_err());
    }
}
