//! `ledgix token verify`: the checks the SDK makes before a guarded body runs, on a token in
//! hand — signature (EdDSA only) under a trusted key, claims, and optionally the binding to a
//! tool and its exact arguments.

use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::{ArgGroup, Args};
use ledgix::{TokenClaims, TokenVerifier};
use serde_json::{Map, Value, json};

use super::output::{Failure, Mark, Out, Paint, clean, truncate};
use super::read_file;
use super::vault;

/// `ledgix token verify`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("keys").args(["jwks", "url"])))]
pub(crate) struct VerifyArgs {
    /// The A-JWT, or `-` to read it from stdin (keeps it out of shell history and `ps`).
    #[arg(value_name = "TOKEN")]
    token: String,
    /// Verify offline against the keys of this JWKS file.
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// Verify against the keys this Vault serves at /.well-known/jwks.json [default:
    /// LEDGIX_VAULT_URL].
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// The tool the token must clear (with --args).
    #[arg(long, value_name = "TOOL", requires = "args")]
    tool: Option<String>,
    /// The exact arguments, a JSON object, the token must clear (with --tool).
    #[arg(long, value_name = "JSON", requires = "tool")]
    args: Option<String>,
    /// The issuer to expect [default: LEDGIX_JWT_ISSUER, else alcv-vault].
    #[arg(long, value_name = "ISS")]
    issuer: Option<String>,
    /// The audience to expect [default: LEDGIX_JWT_AUDIENCE, else ledgix-sdk].
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,
    /// Judge expiry at this moment (seconds since the Unix epoch) instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    at: Option<u64>,
}

/// The token's header and claims decoded without any check, to show why it was refused.
fn decode_unverified(token: &str) -> Option<(Value, Value)> {
    let mut parts = token.split('.');
    let (header, payload) = (parts.next()?, parts.next()?);
    let decode = |segment: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    Some((decode(header)?, decode(payload)?))
}

fn read_token(arg: &str) -> Result<String, Failure> {
    let hint = "pass the token (header.payload.signature), or `-` and the token on stdin";
    let token = if arg == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| {
            Failure::bad_input(format!("cannot read the token from stdin: {e}"), hint)
        })?;
        text
    } else {
        arg.to_string()
    };
    let token = token.trim().to_string();
    if token.is_empty() {
        return Err(Failure::bad_input("no token given", hint));
    }
    Ok(token)
}

fn parse_args(text: &str) -> Result<Map<String, Value>, Failure> {
    let hint = "pass the tool's arguments as one JSON object, e.g. --args '{\"amount\": 45}'";
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Failure::bad_input(
            format!(
                "--args must be a JSON object, got `{}`",
                clean(&truncate(text.trim(), 60))
            ),
            hint,
        )),
        Err(e) => Err(Failure::bad_input(format!("--args is not JSON: {e}"), hint)),
    }
}

/// `ledgix token verify TOKEN`.
pub(crate) async fn verify(args: &VerifyArgs, out: &Out) -> Result<(), Failure> {
    let token = read_token(&args.token)?;
    let binding = match (&args.tool, &args.args) {
        (Some(tool), Some(json)) => Some((tool.clone(), parse_args(json)?)),
        _ => None,
    };
    let mut settings = vault::settings_from_env(args.url.as_deref())?;
    if let Some(issuer) = &args.issuer {
        settings = settings.jwt_issuer(issuer);
    }
    if let Some(audience) = &args.audience {
        settings = settings.jwt_audience(audience);
    }
    let client = vault::client_from(settings)?;
    let (issuer, audience) = (
        client.config().jwt_issuer().to_string(),
        client.config().jwt_audience().to_string(),
    );
    let (expect_issuer, expect_audience) = (issuer.clone(), audience.clone());
    let (verifier, key_source) = match &args.jwks {
        Some(path) => {
            let hint = "pass the Vault's public keys as a JWKS file ({\"keys\": [...]})";
            let text = read_file(path, "JWKS file", hint)?;
            let verifier = TokenVerifier::from_jwks_json(&text, &issuer, &audience)
                .map_err(|e| Failure::bad_input(format!("{}: {e}", path.display()), hint))?;
            (verifier, path.display().to_string())
        }
        None => {
            let base = client.config().vault_url().to_string();
            let keys = client
                .fetch_jwks()
                .await
                .map_err(|e| vault::failure(e, &base, "GET /.well-known/jwks.json"))?;
            (
                TokenVerifier::from_key_set(keys, issuer, audience),
                format!("{base}/.well-known/jwks.json"),
            )
        }
    };
    let now = match args.at {
        Some(secs) => UNIX_EPOCH + Duration::from_secs(secs),
        None => SystemTime::now(),
    };
    let outcome = match &binding {
        Some((tool, tool_args)) => verifier.verify_bound_at(&token, tool, tool_args, now),
        None => verifier.verify_at(&token, now),
    };
    let unverified = decode_unverified(&token);
    let claims = match outcome {
        Ok(claims) => claims,
        Err(e) => {
            // The binding failed exactly when the token verifies without it (a fresh verifier:
            // its own replay cache).
            let unbound = TokenVerifier::from_key_set(
                verifier.keys().clone(),
                expect_issuer,
                expect_audience,
            );
            let check = if binding.is_some() && unbound.verify_at(&token, now).is_ok() {
                "binding"
            } else {
                check_of(&e.to_string())
            };
            let mut failure = Failure::refused(Some(check.into()), e.to_string());
            if let Some((header, claims)) = unverified {
                if !out.json {
                    println!(
                        "claims as the token states them (NOT verified; shown to find the cause):"
                    );
                    print_claim_rows(out, &claims, now);
                }
                failure = failure
                    .with_detail("header_unverified", header)
                    .with_detail("claims_unverified", claims);
            }
            return Err(failure);
        }
    };
    let kid = unverified
        .as_ref()
        .and_then(|(header, _)| {
            header
                .get("kid")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .unwrap_or_default();
    if out.json {
        out.print_json(&json!({
            "result": "verified",
            "kid": kid,
            "keys": key_source,
            "claims": claims,
            "binding_checked": binding.is_some(),
            "single_use": "not consumed: single use is enforced where the token is spent",
        }));
    } else {
        print_verified(out, &claims, &kid, &key_source, binding.as_ref(), now);
    }
    Ok(())
}

/// The check a refusal of signature or claims belongs to, from the verifier's message: the
/// token's shape and header, its signature, or its claims.
fn check_of(message: &str) -> &'static str {
    const FORMAT: [&str; 6] = [
        "segment",
        "header",
        "alg `",
        "typ `",
        "bytes, more than",
        "payload is not",
    ];
    const SIGNATURE: [&str; 2] = ["signature does not verify", "kid `"];
    if FORMAT.iter().any(|m| message.contains(m)) {
        "format"
    } else if SIGNATURE.iter().any(|m| message.contains(m)) {
        "signature"
    } else {
        "claims"
    }
}

fn when(secs: u64, now: SystemTime) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(secs.min(253_402_300_799));
    let date = httpdate::fmt_http_date(at);
    let relative = match at.duration_since(now) {
        Ok(ahead) => format!("in {}", span(ahead)),
        Err(e) => format!("{} ago", span(e.duration())),
    };
    format!("{date} ({relative}; unix {secs})")
}

fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

/// Prints claims (verified or not) as aligned rows.
fn print_claim_rows(out: &Out, claims: &Value, now: SystemTime) {
    let text = |key: &str| -> String {
        match claims.get(key) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            Some(Value::String(_) | Value::Null) | None => "-".into(),
            Some(other) => other.to_string(),
        }
    };
    let time = |key: &str| -> String {
        claims
            .get(key)
            .and_then(Value::as_u64)
            .map_or_else(|| text(key), |secs| when(secs, now))
    };
    let mut rows = vec![
        ("issuer", text("iss")),
        ("subject", text("sub")),
        ("audience", text("aud")),
        ("expires", time("exp")),
        ("issued", time("iat")),
        ("token id", text("jti")),
        ("tool", text("tool")),
        ("agent", text("agent_id")),
        ("session", text("session_id")),
        ("policy", text("policy_id")),
        ("decision", text("decision")),
        ("args hash", text("tool_args_hash")),
    ];
    let known = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "tool",
        "agent_id",
        "session_id",
        "policy_id",
        "decision",
        "tool_args_hash",
    ];
    let extra: Vec<String> = claims
        .as_object()
        .map(|map| {
            map.iter()
                .filter(|(k, _)| !known.contains(&k.as_str()))
                .map(|(k, v)| format!("{k}={v}"))
                .collect()
        })
        .unwrap_or_default();
    if !extra.is_empty() {
        rows.push(("other", extra.join(", ")));
    }
    out.fields(&rows);
}

fn print_verified(
    out: &Out,
    claims: &TokenClaims,
    kid: &str,
    key_source: &str,
    binding: Option<&(String, Map<String, Value>)>,
    now: SystemTime,
) {
    out.headline(
        Paint::Good,
        "VERIFIED",
        &format!("A-JWT clearing {}", clean(&claims.tool)),
    );
    print_claim_rows(out, &serde_json::to_value(claims).unwrap_or_default(), now);
    println!("checks");
    let width = 9;
    out.check(
        Mark::Pass,
        "signature",
        width,
        &format!("EdDSA under trusted key {} ({key_source})", clean(kid)),
    );
    out.check(
        Mark::Pass,
        "claims",
        width,
        "issuer, audience, subject, expiry, not-before and token id",
    );
    match binding {
        Some((tool, _)) => out.check(
            Mark::Pass,
            "binding",
            width,
            &format!(
                "clears exactly {} with these arguments (tool_args_hash)",
                clean(tool)
            ),
        ),
        None => out.check(
            Mark::Skip,
            "binding",
            width,
            "not checked: pass --tool and --args to check the call it clears",
        ),
    }
    println!(
        "note: single use is enforced where the token is spent (the SDK, a gateway); this check \
         does not consume it"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_must_be_an_object() {
        assert!(parse_args(r#"{"amount": 45}"#).is_ok());
        for bad in ["[1]", "45", "\"x\"", "{", "null"] {
            let err = parse_args(bad).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{bad}");
        }
    }

    #[test]
    fn unverified_decoding_never_panics() {
        assert!(decode_unverified("").is_none());
        assert!(decode_unverified("a.b.c").is_none());
        assert!(decode_unverified("e30.e30.x").is_some()); // {} . {}
        assert!(decode_unverified("e30").is_none());
    }

    proptest::proptest! {
        /// Arbitrary text as a token or as --args: an answer, never a panic.
        #[test]
        fn token_and_arguments_parsing_never_panic(text in "\\PC{0,200}", dots in "[A-Za-z0-9_.-]{0,120}") {
            let _ = decode_unverified(&text);
            let _ = decode_unverified(&dots);
            let _ = parse_args(&text);
        }
    }

    #[test]
    fn refusals_name_a_check() {
        for claims in [
            "token expired at 1 (now 100), beyond the 30 s leeway",
            "token has no `iss` claim",
            "token is not valid before 200 (now 100), beyond the 30 s leeway",
            "aud `x` does not contain `ledgix-sdk`",
        ] {
            assert_eq!(check_of(claims), "claims", "{claims}");
        }
        assert_eq!(
            check_of("A-JWT verification failed: alg `none` is not accepted"),
            "format"
        );
        assert_eq!(
            check_of("A-JWT verification failed: signature does not verify under key `k`"),
            "signature"
        );
        assert_eq!(
            check_of("A-JWT verification failed: kid `x` is not in the Vault's JWKS"),
            "signature"
        );
        assert_eq!(
            check_of("A-JWT verification failed: signature segment is not base64url"),
            "format"
        );
        assert_eq!(
            check_of("A-JWT verification failed: token has 2 segments"),
            "format"
        );
        assert_eq!(span(Duration::from_secs(90)), "90 s");
        assert_eq!(span(Duration::from_secs(3 * 86_400)), "3 days");
    }
}
