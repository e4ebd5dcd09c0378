//! The gateway over real HTTP: a real mock Vault on loopback issues real tokens to a real
//! guarded call, which sends them to a real axum service behind `GatewayLayer`; the service
//! counts its calls, and every refusal proves it was called zero times.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use ledgix::gateway::{Binding, Gateway};
use ledgix::mock::MockVault;
use ledgix::{MemoryReplayStore, ToolCall, tool_args_hash};
use serde_json::{Value, json};
use support::gateway::*;

fn pinned(vault: &MockVault) -> ledgix::gateway::GatewayBuilder {
    Gateway::builder().trusted_keys_json(&vault.trusted_keys_json())
}

#[tokio::test]
async fn an_approved_call_passes_once_with_the_ledgix_headers() {
    let vault = vault().await;
    let service = service(&pinned(&vault).tool(TOOL).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let claims = claims_of(&token);

    let answer = service.post(&token, &payment()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(service.calls(), 1);
    let seen = service.last_seen();
    let header = |name: &str| {
        let values: Vec<_> = seen.headers.get_all(name).iter().collect();
        assert_eq!(values.len(), 1, "{name}: {values:?}");
        values[0].to_str().unwrap().to_string()
    };
    assert_eq!(header("x-ledgix-tool"), TOOL);
    assert_eq!(header("x-ledgix-agent-id"), "payments-agent");
    assert_eq!(header("x-ledgix-session-id"), "checkout-42");
    assert_eq!(header("x-ledgix-policy-id"), claims.policy_id);
    assert_eq!(header("x-ledgix-decision"), "approved");
    assert_eq!(header("x-ledgix-jti"), claims.jti);
    assert_eq!(
        header("x-ledgix-tool-args-hash"),
        tool_args_hash(&object(&payment()))
    );
    assert!(seen.headers.get("authorization").is_none());
    assert_eq!(seen.body, payment().to_string().as_bytes());
    assert_eq!(seen.claims, claims);

    // The same token again: refused, the service not called.
    let again = service.post(&token, &payment()).await;
    assert_eq!(
        (again.status, again.code()),
        (403, "token_replayed"),
        "{again:?}"
    );
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn missing_and_malformed_authorization_headers_are_401() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let body = payment().to_string().into_bytes();

    let shapes: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![],
        vec![("authorization", b"".to_vec())],
        vec![("authorization", b"Bearer".to_vec())],
        vec![("authorization", b"Bearer ".to_vec())],
        vec![("authorization", token.clone().into_bytes())],
        vec![("authorization", format!("Token {token}").into_bytes())],
        vec![("authorization", format!("Basic {token}").into_bytes())],
        vec![(
            "authorization",
            format!("Bearer {token} extra").into_bytes(),
        )],
        vec![("authorization", format!("Bearer {token}.x").into_bytes())],
        vec![("authorization", format!("Bearer x{token}").into_bytes())],
        vec![("authorization", b"Bearer a.b.c".to_vec())],
        vec![("authorization", b"Bearer ...".to_vec())],
        vec![("authorization", b"Bearer \xff\xfe".to_vec())],
        vec![(
            "authorization",
            format!("Bearer {}", "A".repeat(20_000)).into_bytes(),
        )],
        vec![(
            "authorization",
            format!("Bearer {}", "a.".repeat(5_000)).into_bytes(),
        )],
        // Two Authorization headers, even with the valid token in one of them.
        vec![
            ("authorization", format!("Bearer {token}").into_bytes()),
            ("authorization", format!("Bearer {token}").into_bytes()),
        ],
        // Only a spoofed header where the token should be.
        vec![("x-ledgix-jti", claims_of(&token).jti.into_bytes())],
    ];
    for shape in shapes {
        let headers: Vec<(&str, &[u8])> = shape.iter().map(|(n, v)| (*n, v.as_slice())).collect();
        let answer = service.post_raw(&headers, body.clone()).await;
        assert_eq!(answer.status, 401, "{shape:?}: {answer:?}");
        assert!(
            matches!(answer.code(), "missing_token" | "invalid_token"),
            "{answer:?}"
        );
        assert!(
            !answer.message().contains(&token),
            "the token is echoed: {answer:?}"
        );
    }
    assert_eq!(service.calls(), 0);
    // None of those used the token up.
    assert_eq!(service.post(&token, &payment()).await.status, 200);
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn forged_tampered_and_expired_tokens_are_401() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let claims = serde_json::to_value(claims_of(&token)).unwrap();
    let header: Value = {
        use base64::Engine;
        let h = token.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    let kid = header["kid"].as_str().unwrap().to_string();

    // Bad signature: one character of the signature changed.
    let mut bad_sig = token.clone().into_bytes();
    let i = bad_sig.len() - 10;
    bad_sig[i] = if bad_sig[i] == b'A' { b'B' } else { b'A' };
    let bad_sig = String::from_utf8(bad_sig).unwrap();
    // The payload changed (a larger amount's hash), the signature kept.
    let mut richer = claims.clone();
    richer["tool_args_hash"] = json!(tool_args_hash(&object(&json!({"amount": 99_999}))));
    let tampered = with_payload(&token, &richer);
    // Another Vault's token (another key, another kid).
    let other_vault = MockVault::start().await;
    let foreign = agent_token(&other_vault, TOOL, &payment()).await;
    // The right kid, another key.
    let rogue = ledgix::token::TokenSigner::from_seed(kid.clone(), [1; 32]);
    let rogue_token = rogue.sign(&claims_of(&token));
    // alg none / HS256 headers over the real payload and signature.
    let alg_none = with_header(&token, &json!({"alg": "none", "kid": kid, "typ": "JWT"}));
    let alg_hs = with_header(&token, &json!({"alg": "HS256", "kid": kid, "typ": "JWT"}));
    let no_sig = {
        let mut parts = token.rsplitn(2, '.');
        let _ = parts.next();
        format!("{}.", parts.next().unwrap())
    };
    // Signed by the Vault's key, but expired / not yet valid / another audience / issuer /
    // a decision that is not an approval.
    let signer = vault_signer(&vault);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let resigned = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        c["jti"] = json!(format!("crafted-{}", rand_suffix()));
        edit(&mut c);
        signer.sign(&serde_json::from_value(c).unwrap())
    };
    let expired = resigned(&|c| {
        c["exp"] = json!(now - 120);
        c["iat"] = json!(now - 420);
    });
    let future = resigned(&|c| c["nbf"] = json!(now + 600));
    let other_aud = resigned(&|c| c["aud"] = json!("someone-else"));
    let other_iss = resigned(&|c| c["iss"] = json!("evil-vault"));
    let denied = resigned(&|c| c["decision"] = json!("denied"));
    let other_sub = resigned(&|c| c["sub"] = json!("user"));

    for (what, forged, needle) in [
        ("bad signature", &bad_sig, "signature"),
        ("tampered payload", &tampered, "signature does not verify"),
        ("other vault", &foreign, "is not in the Vault's JWKS"),
        ("rogue key", &rogue_token, "signature does not verify"),
        ("alg none", &alg_none, "alg `none`"),
        ("alg HS256", &alg_hs, "alg `HS256`"),
        ("no signature", &no_sig, "signature"),
        ("expired", &expired, "expired"),
        ("not yet valid", &future, "not valid before"),
        ("other audience", &other_aud, "aud"),
        ("other issuer", &other_iss, "iss"),
        ("denied decision", &denied, "not an approval"),
        ("other sub", &other_sub, "sub"),
    ] {
        let answer = service.post(forged, &payment()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (401, "invalid_token"),
            "{what}: {answer:?}"
        );
        assert!(answer.message().contains(needle), "{what}: {answer:?}");
    }
    assert_eq!(service.calls(), 0);
}

fn rand_suffix() -> String {
    format!("{:?}", std::time::Instant::now())
}

#[tokio::test]
async fn another_tool_or_other_arguments_are_403_and_do_not_use_the_token() {
    let vault = vault().await;
    let service = service(
        &pinned(&vault)
            .tool(TOOL)
            .tool("capture_payment")
            .build()
            .unwrap(),
    )
    .await;

    let refund = agent_token(&vault, "stripe_refund", &payment()).await;
    let answer = service.post(&refund, &payment()).await;
    assert_eq!(
        (answer.status, answer.code()),
        (403, "tool_not_allowed"),
        "{answer:?}"
    );
    assert!(answer.message().contains("stripe_refund"));

    let token = agent_token(&vault, TOOL, &payment()).await;
    for other in [
        json!({"amount": 1001, "currency": "usd", "customer": "cus_123"}),
        json!({"amount": 1000, "currency": "usd"}),
        json!({"amount": 1000, "currency": "usd", "customer": "cus_123", "extra": true}),
        json!({"amount": 1000.0, "currency": "usd", "customer": "cus_123"}),
        json!({}),
    ] {
        let answer = service.post(&token, &other).await;
        assert_eq!(
            (answer.status, answer.code()),
            (403, "args_mismatch"),
            "{other}: {answer:?}"
        );
    }
    assert_eq!(service.calls(), 0);
    // Key order and whitespace are not the arguments: the canonical hash matches.
    let reordered = br#"{ "customer":"cus_123",  "currency":"usd", "amount":1000 }"#.to_vec();
    let auth = format!("Bearer {token}");
    let answer = service
        .post_raw(&[("authorization", auth.as_bytes())], reordered.clone())
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(service.calls(), 1);
    assert_eq!(
        service.last_seen().body,
        reordered,
        "the body is forwarded unchanged"
    );
}

#[tokio::test]
async fn bodies_that_cannot_be_checked_are_400_and_do_not_use_the_token() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let auth = format!("Bearer {token}");
    for body in [
        &b""[..],
        b"not json",
        b"[1,2]",
        b"\"a string\"",
        b"{\"amount\": 1000",
        br#"{"amount":1000,"currency":"usd","customer":"cus_123"} trailing"#,
        br#"{"amount":1,"amount":1000,"currency":"usd","customer":"cus_123"}"#,
        b"\xff\xfe{}",
    ] {
        let answer = service
            .post_raw(&[("authorization", auth.as_bytes())], body.to_vec())
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "invalid_body"),
            "{body:?}: {answer:?}"
        );
    }
    assert_eq!(service.calls(), 0);
    assert_eq!(service.post(&token, &payment()).await.status, 200);
}

#[tokio::test]
async fn a_pointer_binding_checks_the_object_at_the_pointer() {
    let vault = vault().await;
    let gateway = pinned(&vault)
        .bind(Binding::Pointer("/tool_args"))
        .build()
        .unwrap();
    let service = service(&gateway).await;
    let token = agent_token(&vault, TOOL, &payment()).await;

    let other = json!({"tool_args": {"amount": 5, "currency": "usd", "customer": "cus_123"}});
    let answer = service.post(&token, &other).await;
    assert_eq!(
        (answer.status, answer.code()),
        (403, "args_mismatch"),
        "{answer:?}"
    );
    for bad in [
        json!({"args": payment()}),
        json!({"tool_args": [1]}),
        payment(),
    ] {
        let answer = service.post(&token, &bad).await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "invalid_body"),
            "{bad}: {answer:?}"
        );
    }
    assert_eq!(service.calls(), 0);

    let wrapped = json!({"tool_args": payment(), "idempotency": "ord_1"});
    assert_eq!(service.post(&token, &wrapped).await.status, 200);
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn binding_none_checks_the_token_but_not_the_body() {
    let vault = vault().await;
    let service = service(&pinned(&vault).bind(Binding::None).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let answer = service
        .post_raw(
            &[("authorization", format!("Bearer {token}").as_bytes())],
            b"any bytes".to_vec(),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(service.last_seen().body, &b"any bytes"[..]);
    assert_eq!(
        service.post(&token, &payment()).await.code(),
        "token_replayed"
    );
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn spoofed_and_duplicate_ledgix_headers_are_replaced() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let claims = claims_of(&token);
    let auth = format!("Bearer {token}");
    let answer = service
        .post_raw(
            &[
                ("authorization", auth.as_bytes()),
                ("x-ledgix-tool", b"wire_transfer"),
                ("X-Ledgix-Decision", b"approved"),
                ("x-ledgix-decision", b"denied"),
                ("X-LEDGIX-POLICY-ID", b"admin-override"),
                ("x-ledgix-agent-id", b"root"),
                ("x-ledgix-amount-limit", b"unlimited"),
                ("x-ledgix-jti", b"forged"),
                ("x-other", b"kept"),
            ],
            payment().to_string().into_bytes(),
        )
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let seen = service.last_seen();
    let all = |name: &str| -> Vec<String> {
        seen.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(all("x-ledgix-tool"), [TOOL]);
    assert_eq!(all("x-ledgix-decision"), ["approved"]);
    assert_eq!(all("x-ledgix-policy-id"), [claims.policy_id.as_str()]);
    assert_eq!(all("x-ledgix-agent-id"), ["payments-agent"]);
    assert_eq!(all("x-ledgix-jti"), [claims.jti.as_str()]);
    assert!(all("x-ledgix-amount-limit").is_empty());
    assert_eq!(all("x-other"), ["kept"]);
    let ledgix_headers = seen
        .headers
        .keys()
        .filter(|n| n.as_str().starts_with("x-ledgix-"))
        .count();
    assert_eq!(ledgix_headers, 7);
}

#[tokio::test]
async fn hostile_claim_values_become_valid_encoded_headers() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let signer = vault_signer(&vault);
    let mut claims =
        serde_json::to_value(claims_of(&agent_token(&vault, TOOL, &payment()).await)).unwrap();
    claims["jti"] = json!("hostile-1");
    claims["agent_id"] = json!("agent\r\nX-Evil: 1\u{0}é");
    claims["session_id"] = json!(" 100% ");
    let token = signer.sign(&serde_json::from_value(claims).unwrap());
    let answer = service.post(&token, &payment()).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let seen = service.last_seen();
    assert_eq!(
        seen.headers["x-ledgix-agent-id"],
        "agent%0D%0AX-Evil:%201%00%C3%A9"
    );
    assert_eq!(seen.headers["x-ledgix-session-id"], "%20100%25%20");
    assert!(seen.headers.get("x-evil").is_none());
    assert_eq!(seen.claims.agent_id, "agent\r\nX-Evil: 1\u{0}é");
}

#[tokio::test]
async fn bodies_over_the_limit_are_413() {
    let vault = vault().await;
    let service = service(&pinned(&vault).max_body_bytes(1024).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let auth = format!("Bearer {token}");
    let mut huge = payment();
    huge["memo"] = json!("x".repeat(64 * 1024));
    let answer = service
        .post_raw(
            &[("authorization", auth.as_bytes())],
            huge.to_string().into_bytes(),
        )
        .await;
    assert_eq!(
        (answer.status, answer.code()),
        (413, "body_too_large"),
        "{answer:?}"
    );
    // Also without a token: the size is refused before anything else.
    let answer = service.post_raw(&[], vec![b' '; 4096]).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    assert_eq!(service.calls(), 0);
    assert_eq!(service.post(&token, &payment()).await.status, 200);
}

#[tokio::test]
async fn the_vaults_jwks_is_fetched_and_a_jwks_that_is_down_refuses() {
    let vault = vault().await;
    let jwks = format!("{}/.well-known/jwks.json", vault.url());
    let service_ok = service(&Gateway::builder().jwks_url(jwks).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    assert_eq!(service_ok.post(&token, &payment()).await.status, 200);

    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let down = service(
        &Gateway::builder()
            .jwks_url(format!("http://{closed}/.well-known/jwks.json"))
            .build()
            .unwrap(),
    )
    .await;
    // A JWKS endpoint answering 500, and one answering nonsense.
    let broken = axum::Router::new()
        .route(
            "/500",
            axum::routing::get(|| async {
                (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "down")
            }),
        )
        .route("/junk", axum::routing::get(|| async { "{\"keys\": 5}" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, broken).await });
    let failing = service(
        &Gateway::builder()
            .jwks_url(format!("http://{addr}/500"))
            .build()
            .unwrap(),
    )
    .await;
    let junk = service(
        &Gateway::builder()
            .jwks_url(format!("http://{addr}/junk"))
            .build()
            .unwrap(),
    )
    .await;

    let token = agent_token(&vault, TOOL, &payment()).await;
    for (what, svc, needle) in [
        ("down", &down, "could not be fetched"),
        ("500", &failing, "HTTP 500"),
        ("junk", &junk, "unusable"),
    ] {
        let answer = svc.post(&token, &payment()).await;
        assert_eq!(
            (answer.status, answer.code()),
            (503, "verification_unavailable"),
            "{what}: {answer:?}"
        );
        assert!(answer.message().contains(needle), "{what}: {answer:?}");
        assert_eq!(svc.calls(), 0);
    }
    // The token was not used up by the refusals.
    assert_eq!(service_ok.post(&token, &payment()).await.status, 200);
}

#[tokio::test]
async fn a_token_passes_each_gateway_store_once_and_clones_share_theirs() {
    let vault = vault().await;
    let gateway = pinned(&vault).build().unwrap();
    let a = service(&gateway).await;
    let b = service(&gateway.clone()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    assert_eq!(a.post(&token, &payment()).await.status, 200);
    assert_eq!(b.post(&token, &payment()).await.code(), "token_replayed");
    assert_eq!(a.calls() + b.calls(), 1);
}

#[tokio::test]
async fn agent_and_gateway_sharing_one_store_each_use_the_token_once() {
    let vault = vault().await;
    let store = MemoryReplayStore::new();
    let client = support::mock::client_with_replay_store(&vault, store.clone());
    let gateway = pinned(&vault).replay_store(store.clone()).build().unwrap();
    let service = service(&gateway).await;
    let token = ToolCall::new(TOOL)
        .args(object(&payment()))
        .client(&client)
        .run(async { Ok::<_, ledgix::Error>(ledgix::current_token().unwrap()) })
        .await
        .unwrap();
    assert_eq!(store.len(), 1, "the agent recorded its run");
    // The body ran in the agent; the token still passes the gateway, once.
    assert_eq!(service.post(&token, &payment()).await.status, 200);
    assert_eq!(store.len(), 2);
    assert_eq!(
        service.post(&token, &payment()).await.code(),
        "token_replayed"
    );
    // And the agent side still refuses it a second run.
    let again = client.verify_token(&token).await;
    assert!(
        matches!(again, Err(ledgix::Error::ReplayDetected { .. })),
        "{again:?}"
    );
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn the_cleared_extractor_refuses_a_route_the_gateway_does_not_guard() {
    let vault = vault().await;
    let service = unguarded_service().await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let answer = service.post(&token, &payment()).await;
    assert_eq!(
        (answer.status, answer.code()),
        (500, "not_cleared"),
        "{answer:?}"
    );
    assert_eq!(service.calls(), 0);
}

#[tokio::test]
async fn many_concurrent_replays_of_one_token_pass_exactly_once() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let (service, token) = (service.clone(), token.clone());
            tokio::spawn(async move { service.post(&token, &payment()).await.status })
        })
        .collect();
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            200 => ok += 1,
            403 => {}
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(service.calls(), 1);
}

#[tokio::test]
async fn a_token_expired_long_ago_or_with_an_absurd_expiry_is_handled() {
    let vault = vault().await;
    let service = service(&pinned(&vault).build().unwrap()).await;
    let signer = vault_signer(&vault);
    let mut claims =
        serde_json::to_value(claims_of(&agent_token(&vault, TOOL, &payment()).await)).unwrap();
    claims["jti"] = json!("expired-1");
    claims["exp"] = json!(1_000_000_000u64);
    let token = signer.sign(&serde_json::from_value(claims.clone()).unwrap());
    let answer = service.post(&token, &payment()).await;
    assert_eq!(
        (answer.status, answer.code()),
        (401, "invalid_token"),
        "{answer:?}"
    );
    assert_eq!(service.calls(), 0);
    // An expiry beyond what the clock can hold: no panic in the replay store, one pass.
    claims["jti"] = json!("forever-1");
    claims["exp"] = json!(u64::MAX);
    let token = signer.sign(&serde_json::from_value(claims).unwrap());
    assert_eq!(service.post(&token, &payment()).await.status, 200);
    assert_eq!(
        service.post(&token, &payment()).await.code(),
        "token_replayed"
    );
    assert_eq!(service.calls(), 1);
}
