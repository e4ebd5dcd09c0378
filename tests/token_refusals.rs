//! Every way an A-JWT must be refused: each with a specific error, none with a panic, none
//! echoing the token. Test tokens are real Ed25519 signatures (TokenSigner / ed25519-dalek).

mod support;

use ed25519_dalek::SigningKey;
use ledgix::Error;
use ledgix::token::TokenSigner;
use ledgix::{Audience, TokenVerifier};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use support::token::*;

fn args() -> Map<String, Value> {
    object(json!({"amount": 1000, "currency": "usd", "reason": "duplicate_charge"}))
}

fn payload(jti: &str) -> Value {
    serde_json::to_value(claims(jti, &args())).unwrap()
}

fn verify(token: &str) -> Result<ledgix::TokenClaims, Error> {
    verifier().verify_at(token, at(NOW))
}

/// Refused with a message containing `needle`, not echoing the token or its signature.
fn assert_refused(token: &str, needle: &str) {
    let e = refused(verify(token));
    assert!(e.contains(needle), "expected `{needle}` in: {e}");
    let sig = token.rsplit('.').next().unwrap_or_default();
    assert!(
        sig.len() < 8 || !e.contains(sig),
        "error echoes the signature: {e}"
    );
    assert!(
        token.len() < 8 || !e.contains(token),
        "error echoes the token: {e}"
    );
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    let ih = Sha256::new()
        .chain_update(&inner)
        .chain_update(msg)
        .finalize();
    Sha256::new()
        .chain_update(&outer)
        .chain_update(ih)
        .finalize()
        .to_vec()
}

#[test]
fn a_signed_token_verifies_so_the_refusals_below_mean_something() {
    let token = signer().sign(&claims("ok-1", &args()));
    let c = verify(&token).unwrap();
    assert_eq!(c, claims("ok-1", &args()));
    let forged = forge_payload(&payload("ok-2").to_string());
    verify(&forged).unwrap();
}

#[test]
fn alg_none_hs256_rs256_and_lookalikes_are_refused() {
    let body = payload("alg-1").to_string();
    // alg none, empty signature (the classic), and with a real signature.
    let none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "kid": KID, "typ": "JWT"}).to_string()),
        b64(&body)
    );
    assert_refused(&none, "alg `none` is not accepted: A-JWTs are EdDSA only");
    let none_signed = forge(
        &json!({"alg": "none", "kid": KID}).to_string(),
        &body,
        &signing_key(),
    );
    assert_refused(&none_signed, "alg `none` is not accepted");

    // HS256 keyed with the public key bytes: the algorithm-confusion attack.
    let hs_header = b64(json!({"alg": "HS256", "kid": KID, "typ": "JWT"}).to_string());
    let input = format!("{hs_header}.{}", b64(&body));
    let mac = hmac_sha256(signer().verifying_key().as_bytes(), input.as_bytes());
    assert_refused(
        &format!("{input}.{}", b64(&mac)),
        "alg `HS256` is not accepted",
    );
    let x = serde_json::from_str::<Value>(&signer().jwks_json()).unwrap()["keys"][0]["x"]
        .as_str()
        .unwrap()
        .to_string();
    let mac = hmac_sha256(x.as_bytes(), input.as_bytes());
    assert_refused(
        &format!("{input}.{}", b64(&mac)),
        "alg `HS256` is not accepted",
    );

    // RS256 header, even with a valid Ed25519 signature of the trusted key.
    for alg in ["RS256", "ES256", "PS256", "Ed25519", "eddsa", "EdDSA ", ""] {
        let token = forge(
            &json!({"alg": alg, "kid": KID}).to_string(),
            &body,
            &signing_key(),
        );
        assert_refused(&token, &format!("alg `{alg}` is not accepted"));
    }
    let token = forge(&json!({"kid": KID}).to_string(), &body, &signing_key());
    assert_refused(&token, "header has no `alg`");
}

#[test]
fn kid_must_be_present_and_trusted_with_no_fallback() {
    let body = payload("kid-1").to_string();
    let token = forge(
        &json!({"alg": "EdDSA", "typ": "JWT"}).to_string(),
        &body,
        &signing_key(),
    );
    assert_refused(&token, "header has no `kid`");
    let token = forge(&header(""), &body, &signing_key());
    assert_refused(&token, "header has no `kid`");
    // Signed by the trusted key but naming another kid: no fallback to the only key.
    let token = forge(&header("vault-key-rotated"), &body, &signing_key());
    assert_refused(&token, "kid `vault-key-rotated` is not in the Vault's JWKS");
    // An attacker's key under the trusted kid.
    let attacker = TokenSigner::from_seed(KID, [7; 32]);
    assert_refused(
        &attacker.sign(&claims("kid-2", &args())),
        "signature does not verify under key `vault-test-key-001`",
    );
    let token = forge(&header(KID), &body, &SigningKey::from_bytes(&[8; 32]));
    assert_refused(&token, "signature does not verify");
    // typ other than JWT, crit extensions.
    let token = forge(
        &json!({"alg": "EdDSA", "kid": KID, "typ": "JOSE+JSON"}).to_string(),
        &body,
        &signing_key(),
    );
    assert_refused(&token, "typ `JOSE+JSON` is not accepted");
    let token = forge(
        &json!({"alg": "EdDSA", "kid": KID, "crit": ["exp"]}).to_string(),
        &body,
        &signing_key(),
    );
    assert_refused(&token, "`crit`");
}

#[test]
fn wrong_iss_aud_sub_and_missing_jti_are_refused() {
    let sign = |edit: &dyn Fn(&mut ledgix::TokenClaims)| {
        let mut c = claims("claims-1", &args());
        edit(&mut c);
        signer().sign(&c)
    };
    assert_refused(
        &sign(&|c| c.iss = "evil-vault".into()),
        "iss is `evil-vault`, expected `alcv-vault`",
    );
    assert_refused(
        &sign(&|c| c.iss = String::new()),
        "token has no `iss` claim",
    );
    assert_refused(
        &sign(&|c| c.aud = Audience::from("other-sdk")),
        "aud `other-sdk` does not contain `ledgix-sdk`",
    );
    assert_refused(
        &sign(&|c| c.aud = Audience::Many(vec![])),
        "aud [] does not contain `ledgix-sdk`",
    );
    assert_refused(
        &sign(&|c| c.sub = "user".into()),
        "sub is `user`, expected `clearance`",
    );
    assert_refused(
        &sign(&|c| c.jti = String::new()),
        "token has no `jti` claim",
    );
    assert_refused(
        &sign(&|c| c.nbf = Some(NOW + 31)),
        "token is not valid before",
    );
    assert_refused(
        &sign(&|c| c.iat = Some(NOW + 3600)),
        "token was issued in the future",
    );
    // Audience as a plain string and in a list with others both work.
    verify(&sign(&|c| c.aud = Audience::from(AUDIENCE))).unwrap();
    verify(&sign(&|c| {
        c.jti = "claims-2".into();
        c.aud = Audience::Many(vec!["x".into(), AUDIENCE.into()]);
    }))
    .unwrap();

    let mut p = payload("claims-3");
    p.as_object_mut().unwrap().remove("jti");
    assert_refused(&forge_payload(&p.to_string()), "token has no `jti` claim");
    let mut p = payload("claims-4");
    p.as_object_mut().unwrap().remove("exp");
    assert_refused(&forge_payload(&p.to_string()), "missing field `exp`");
    let mut p = payload("claims-5");
    p["exp"] = json!("4070908800");
    assert_refused(
        &forge_payload(&p.to_string()),
        "payload is not valid A-JWT claims",
    );
    let mut p = payload("claims-6");
    p["aud"] = json!(42);
    assert_refused(
        &forge_payload(&p.to_string()),
        "a string or an array of strings",
    );
}

#[test]
fn expiry_is_refused_beyond_the_leeway_and_accepted_within() {
    let mut c = claims("exp-1", &args());
    c.exp = NOW - 31;
    let e = refused(verifier().verify_at(&signer().sign(&c), at(NOW)));
    assert!(
        e.contains(&format!("token expired at {} (now {NOW})", NOW - 31)),
        "{e}"
    );
    c.exp = NOW - 30;
    verifier().verify_at(&signer().sign(&c), at(NOW)).unwrap();
    c.exp = NOW - 1;
    verifier().verify_at(&signer().sign(&c), at(NOW)).unwrap();
}

#[test]
fn a_replayed_jti_is_refused_the_second_time() {
    let v = verifier();
    let token = signer().sign(&claims("replay-1", &args()));
    v.verify_at(&token, at(NOW)).unwrap();
    match v.verify_at(&token, at(NOW + 1)) {
        Err(Error::ReplayDetected { jti }) => assert_eq!(jti, "replay-1"),
        other => panic!("expected ReplayDetected, got {other:?}"),
    }
    // Another token carrying the same jti is a replay too.
    let mut c = claims("replay-1", &args());
    c.tool = "other".into();
    assert!(matches!(
        v.verify_at(&signer().sign(&c), at(NOW)),
        Err(Error::ReplayDetected { .. })
    ));
    // Clones share the cache.
    assert!(matches!(
        v.clone().verify_at(&token, at(NOW)),
        Err(Error::ReplayDetected { .. })
    ));
}

#[test]
fn malformed_tokens_are_refused_without_panicking() {
    let good = signer().sign(&claims("shape-1", &args()));
    let parts: Vec<&str> = good.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    assert_refused(&format!("{h}.{p}"), "token has 2 segments, expected 3");
    assert_refused(
        &format!("{h}.{p}.{s}.{s}"),
        "token has 4 segments, expected 3",
    );
    assert_refused(&format!("{h}.{p}.{s}."), "token has 4 segments, expected 3");
    assert_refused("", "token has 1 segments");
    assert_refused("..", "header segment is empty");
    assert_refused(&format!("{h}..{s}"), "payload segment is empty");
    assert_refused(&format!("{h}.{p}."), "signature is 0 bytes");
    // bad base64: other alphabet, padding, junk, whitespace
    assert_refused(
        &format!("{}.{p}.{s}", h.replacen('e', "+", 1)),
        "header segment is not base64url",
    );
    assert_refused(&format!("{h}=.{p}.{s}"), "header segment is not base64url");
    assert_refused(&format!("{h}.{p}=.{s}"), "payload segment is not base64url");
    assert_refused(
        &format!("{h}.{p}.{s}=="),
        "signature segment is not base64url",
    );
    assert_refused(
        &format!(
            "{h}.{p}.{}",
            s.replacen(|c: char| c.is_ascii_alphanumeric(), "/", 1)
        ),
        "signature segment is not base64url",
    );
    assert_refused(&format!(" {good}"), "header segment is not base64url");
    assert_refused(&format!("{good}\n"), "signature");
    let sig = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, s).unwrap();
    assert_refused(
        &format!("{h}.{p}.{}", b64(&sig[..61])),
        "signature is 61 bytes",
    );
    assert_refused(
        &format!("{h}.{p}.{}", &s[..s.len() - 4]),
        "signature segment is not base64url",
    );
    assert_refused(&format!("{h}.{p}.{s}AAAA"), "signature is 67 bytes");
    // The payload segment with bad base64 but a matching signature: the signature covers
    // the text, so it verifies, and decoding then fails.
    let bad_payload = {
        use ed25519_dalek::Signer;
        let input = format!("{h}.{}", "@@@@");
        let sig = signing_key().sign(input.as_bytes());
        format!("{input}.{}", b64(sig.to_bytes()))
    };
    assert_refused(&bad_payload, "payload segment is not base64url");
    // bad JSON
    assert_refused(
        &forge("{\"alg\":", &payload("j-1").to_string(), &signing_key()),
        "header is not a valid JOSE header",
    );
    assert_refused(
        &forge("[]", &payload("j-2").to_string(), &signing_key()),
        "header is not a valid JOSE header",
    );
    assert_refused(
        &forge(&header(KID), "{\"iss\":", &signing_key()),
        "payload is not valid A-JWT claims",
    );
    assert_refused(
        &forge(&header(KID), "[1,2]", &signing_key()),
        "payload is not valid A-JWT claims",
    );
    assert_refused(
        &forge(&header(KID), "\u{0}\u{ff}", &signing_key()),
        "payload is not valid A-JWT claims",
    );
    // Duplicate claims: a JSON parser differential must not pick one silently.
    let dup = payload("dup-1")
        .to_string()
        .replacen("{", "{\"tool\":\"anything\",", 1);
    assert_refused(
        &forge(&header(KID), &dup, &signing_key()),
        "duplicate field `tool`",
    );
    let dup = payload("dup-2")
        .to_string()
        .replacen("{", "{\"exp\":9999999999,", 1);
    assert_refused(
        &forge(&header(KID), &dup, &signing_key()),
        "duplicate field `exp`",
    );
    let dup_header = format!("{{\"alg\":\"none\",{}", &header(KID)[1..]);
    assert_refused(
        &forge(&dup_header, &payload("dup-3").to_string(), &signing_key()),
        "duplicate field `alg`",
    );
}

#[test]
fn every_flipped_signature_bit_is_refused() {
    let good = signer().sign(&claims("flip-1", &args()));
    let (input, sig_b64) = good.rsplit_once('.').unwrap();
    let sig =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, sig_b64).unwrap();
    assert_eq!(sig.len(), 64);
    for bit in 0..512 {
        let mut s = sig.clone();
        s[bit / 8] ^= 1 << (bit % 8);
        assert_refused(
            &format!("{input}.{}", b64(&s)),
            "signature does not verify under key",
        );
    }
    // A flipped bit in the signed header or payload text.
    for i in [0, 10, input.len() / 2, input.len() - 1] {
        let mut bytes = input.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let token = format!("{}.{sig_b64}", String::from_utf8(bytes).unwrap());
        refused(verify(&token));
    }
    verify(&good).unwrap();
}

#[test]
fn a_jwks_key_that_is_not_32_bytes_is_refused() {
    for (x, len) in [
        (b64([1u8; 31]), 31),
        (b64([1u8; 33]), 33),
        (String::new(), 0),
    ] {
        let jwks =
            json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": KID}]}).to_string();
        match TokenVerifier::from_jwks_json(&jwks, ISSUER, AUDIENCE) {
            Err(Error::Config(m)) => assert!(
                m.contains(&format!("is {len} bytes, an Ed25519 public key is 32")),
                "{m}"
            ),
            other => panic!("expected a config error, got {other:?}"),
        }
    }
    for bad in ["", "{}", "{\"keys\":[]}", "not json"] {
        assert!(matches!(
            TokenVerifier::from_jwks_json(bad, ISSUER, AUDIENCE),
            Err(Error::Config(_))
        ));
    }
    assert!(matches!(
        TokenVerifier::from_jwks_json(JWKS, "", AUDIENCE),
        Err(Error::Config(_))
    ));
    assert!(matches!(
        TokenVerifier::from_jwks_json(JWKS, ISSUER, ""),
        Err(Error::Config(_))
    ));
    // A verifier built from a key set with an empty audience refuses every token.
    let v = TokenVerifier::from_key_set(signer().key_set(), ISSUER, "");
    let e = refused(v.verify_at(&signer().sign(&claims("empty-aud", &args())), at(NOW)));
    assert!(e.contains("no issuer or audience"), "{e}");
}

#[test]
fn another_tool_or_other_arguments_are_refused_and_do_not_burn_the_token() {
    let v = verifier();
    let token = signer().sign(&claims("bind-1", &args()));
    let e = refused(v.verify_bound_at(&token, "stripe.payout.create", &args(), at(NOW)));
    assert!(
        e.contains("token clears tool `stripe.refund.create`, the call is `stripe.payout.create`"),
        "{e}"
    );

    let mut changed = args();
    changed.insert("amount".into(), json!(1001));
    let mut extra = args();
    extra.insert("note".into(), json!(""));
    let mut missing = args();
    missing.remove("reason");
    let mut retyped = args();
    retyped.insert("amount".into(), json!(1000.0));
    for other in [changed, extra, missing, retyped, Map::new()] {
        let e = refused(v.verify_bound_at(&token, TOOL, &other, at(NOW)));
        let want = format!(
            "tool_args_hash mismatch: token binds {}, the call's arguments hash to {}",
            ledgix::tool_args_hash(&args()),
            ledgix::tool_args_hash(&other)
        );
        assert!(e.contains(&want), "{e}");
    }
    // Binding failures did not record the jti: the right call still goes through, once.
    let c = v.verify_bound_at(&token, TOOL, &args(), at(NOW)).unwrap();
    assert_eq!(c.jti, "bind-1");
    assert!(matches!(
        v.verify_bound_at(&token, TOOL, &args(), at(NOW)),
        Err(Error::ReplayDetected { .. })
    ));

    let mut c = claims("bind-2", &args());
    c.tool_args_hash = String::new();
    let e = refused(v.verify_bound_at(&signer().sign(&c), TOOL, &args(), at(NOW)));
    assert!(e.contains("token has no `tool_args_hash` claim"), "{e}");
}
