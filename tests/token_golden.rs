//! The Vault's golden A-JWTs (fixtures/vault) and the canonical `tool_args` JSON it hashes.

mod support;

use ledgix::Error;
use ledgix::token::canonical_json;
use ledgix::{Audience, TokenClaims};
use serde_json::Value;
use support::token::*;

#[test]
fn golden_token_verifies_and_its_claims_are_the_expected_ones() {
    let exp = expected();
    let verifier = golden_verifier();
    let now = exp["valid_iat_unix"].as_u64().unwrap() + 3600;
    let claims = verifier.verify_at(valid_jwt(), at(now)).unwrap();

    let want = &exp["claims"];
    assert_eq!(claims.iss, want["iss"].as_str().unwrap());
    assert_eq!(claims.sub, want["sub"].as_str().unwrap());
    assert_eq!(claims.tool, want["tool"].as_str().unwrap());
    assert_eq!(claims.agent_id, want["agent_id"].as_str().unwrap());
    assert_eq!(claims.session_id, want["session_id"].as_str().unwrap());
    assert_eq!(claims.policy_id, want["policy_id"].as_str().unwrap());
    assert_eq!(claims.decision, want["decision"].as_str().unwrap());
    assert_eq!(
        claims.tool_args_hash,
        want["tool_args_hash"].as_str().unwrap()
    );
    assert_eq!(
        claims.tool_args_hash,
        exp["tool_args_hash"].as_str().unwrap()
    );
    assert!(claims.aud.contains(want["aud"].as_str().unwrap()));
    // The token carries the audience as an array: kept in that shape.
    assert_eq!(claims.aud, Audience::Many(vec![AUDIENCE.into()]));
    assert_eq!(claims.exp, exp["valid_exp_unix"].as_u64().unwrap());
    assert_eq!(claims.iat, exp["valid_iat_unix"].as_u64());
    assert_eq!(claims.nbf, None);
    assert_eq!(claims.jti, exp["valid_jti"].as_str().unwrap());
    assert!(claims.extra.is_empty(), "{:?}", claims.extra);
}

#[test]
fn golden_token_verifies_on_the_real_clock_once() {
    let verifier = golden_verifier();
    let claims = verifier.verify(valid_jwt()).unwrap();
    assert_eq!(claims.jti, "req-fixture-valid-0001");
    match verifier.verify(valid_jwt()) {
        Err(Error::ReplayDetected { jti }) => assert_eq!(jti, "req-fixture-valid-0001"),
        other => panic!("expected a replay, got {other:?}"),
    }
}

#[test]
fn golden_token_binds_to_the_expected_tool_args() {
    let exp = expected();
    let args = golden_args();
    assert_eq!(
        ledgix::tool_args_hash(&args),
        exp["tool_args_hash"].as_str().unwrap()
    );
    let now = at(exp["valid_iat_unix"].as_u64().unwrap());
    let claims = golden_verifier()
        .verify_bound_at(valid_jwt(), TOOL, &args, now)
        .unwrap();
    assert_eq!(claims.tool, TOOL);

    let e =
        refused(golden_verifier().verify_bound_at(valid_jwt(), "stripe.payout.create", &args, now));
    assert!(
        e.contains("token clears tool `stripe.refund.create`, the call is `stripe.payout.create`"),
        "{e}"
    );
    let mut other = args.clone();
    other.insert("amount".into(), 100_000.into());
    let e = refused(golden_verifier().verify_bound_at(valid_jwt(), TOOL, &other, now));
    assert!(
        e.contains("tool_args_hash mismatch: token binds sha256:4f8c8b91"),
        "{e}"
    );
    assert!(e.contains(&ledgix::tool_args_hash(&other)), "{e}");
}

#[test]
fn golden_claims_serialize_back_to_the_signed_payload() {
    let payload = valid_jwt().split('.').nth(1).unwrap();
    let text = String::from_utf8(
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).unwrap(),
    )
    .unwrap();
    let claims: TokenClaims = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&claims).unwrap(), text);
}

#[test]
fn expired_golden_token_is_refused_as_expired() {
    let exp = expected();
    let expired_at = exp["expired_exp_unix"].as_u64().unwrap();
    let e = refused(golden_verifier().verify(expired_jwt()));
    assert!(
        e.contains(&format!("token expired at {expired_at} (now ")),
        "{e}"
    );
    // The same token, on a clock before its exp: its signature and claims are good.
    let claims = golden_verifier()
        .verify_at(expired_jwt(), at(expired_at - 10))
        .unwrap();
    assert_eq!(claims.jti, exp["expired_jti"].as_str().unwrap());
    // Within the 30 s leeway, still accepted; beyond it, refused.
    golden_verifier()
        .verify_at(expired_jwt(), at(expired_at + 30))
        .unwrap();
    let e = refused(golden_verifier().verify_at(expired_jwt(), at(expired_at + 31)));
    assert!(
        e.contains(&format!(
            "token expired at {expired_at} (now {})",
            expired_at + 31
        )),
        "{e}"
    );
}

#[test]
fn canonical_json_matches_python_for_every_case() {
    let table: Value = serde_json::from_str(CANONICAL_CASES).unwrap();
    let cases = table["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let args = object(case["tool_args"].clone());
        let want = case["canonical"].as_str().unwrap();
        let got = canonical_json(&Value::Object(args.clone()));
        if got != want {
            let at = got
                .bytes()
                .zip(want.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            panic!(
                "case `{name}` differs at byte {at}: got …{}… want …{}…",
                got.get(at.saturating_sub(40)..(at + 40).min(got.len()))
                    .unwrap_or(""),
                want.get(at.saturating_sub(40)..(at + 40).min(want.len()))
                    .unwrap_or("")
            );
        }
        assert_eq!(
            ledgix::tool_args_hash(&args),
            case["tool_args_hash"].as_str().unwrap(),
            "case `{name}`"
        );
    }
}
