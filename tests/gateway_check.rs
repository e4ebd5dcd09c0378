//! `Gateway::check` for other frameworks, and the layer in process: a body is never read past
//! the limit, and no input — arbitrary headers, bodies, tokens of any size — panics or passes
//! without a valid token bound to the body.

mod support;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request};
use axum::routing::post;
use ledgix::gateway::{Gateway, GatewayError};
use ledgix::token::TokenSigner;
use ledgix::{Audience, TokenClaims, tool_args_hash};
use proptest::prelude::*;
use serde_json::{Map, Value};
use support::gateway::{TOOL, object, payment};
use tower::ServiceExt;

fn signer() -> TokenSigner {
    TokenSigner::from_seed("gw-test-key", [9; 32])
}

fn gateway() -> Gateway {
    Gateway::builder()
        .trusted_keys_json(&signer().jwks_json())
        .tool(TOOL)
        .build()
        .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(jti: &str, args: &Map<String, Value>) -> TokenClaims {
    TokenClaims {
        iss: "alcv-vault".into(),
        sub: "clearance".into(),
        aud: Audience::One("ledgix-sdk".into()),
        exp: now() + 300,
        iat: Some(now()),
        nbf: None,
        jti: jti.into(),
        tool: TOOL.into(),
        agent_id: "agent".into(),
        session_id: "session".into(),
        policy_id: "policy".into(),
        decision: "approved".into(),
        tool_args_hash: tool_args_hash(args),
        extra: Map::new(),
    }
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

#[tokio::test]
async fn check_passes_a_valid_token_once() {
    let gateway = gateway();
    let token = signer().sign(&claims("check-1", &object(&payment())));
    let body = payment().to_string();
    let got = gateway
        .check(&bearer(&token), body.as_bytes())
        .await
        .unwrap();
    assert_eq!(got.jti, "check-1");
    assert_eq!(
        gateway.check(&bearer(&token), body.as_bytes()).await,
        Err(GatewayError::Replayed {
            jti: "check-1".into()
        })
    );
    // A refused check does not use a token up.
    let token = signer().sign(&claims("check-2", &object(&payment())));
    let e = gateway.check(&bearer(&token), b"{}").await.unwrap_err();
    assert_eq!(e.code(), "args_mismatch");
    let e = gateway
        .check(&bearer(&token), &vec![b' '; gateway.max_body_bytes() + 1])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "body_too_large");
    assert!(
        gateway
            .check(&bearer(&token), body.as_bytes())
            .await
            .is_ok()
    );
    // Forwarding: Authorization and X-Ledgix-* replaced.
    let mut headers = bearer(&token);
    headers.append("x-ledgix-tool", HeaderValue::from_static("evil"));
    headers.append("x-ledgix-tool", HeaderValue::from_static("evil2"));
    Gateway::rewrite_headers(&mut headers, &got);
    assert!(headers.get("authorization").is_none());
    assert_eq!(headers.get_all("x-ledgix-tool").iter().count(), 1);
    assert_eq!(headers["x-ledgix-tool"], TOOL);
}

/// A body that never ends, counting the bytes it hands out.
struct Endless {
    served: Arc<AtomicUsize>,
}

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        self.served.fetch_add(4096, Ordering::SeqCst);
        Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(vec![
            b' ';
            4096
        ])))))
    }
}

#[tokio::test]
async fn an_endless_body_is_refused_after_the_limit_not_buffered() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let gateway = Gateway::builder()
        .trusted_keys_json(&signer().jwks_json())
        .max_body_bytes(64 * 1024)
        .build()
        .unwrap();
    let app = axum::Router::new()
        .route(
            "/",
            post(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .layer(gateway.layer());
    let token = signer().sign(&claims("endless-1", &object(&payment())));
    let served = Arc::new(AtomicUsize::new(0));
    let request = Request::post("/")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::new(Endless {
            served: served.clone(),
        }))
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 413);
    assert!(
        served.load(Ordering::SeqCst) <= 64 * 1024 + 4096,
        "read {} bytes",
        served.load(Ordering::SeqCst)
    );
    // An announced size over the limit: refused before reading anything.
    let served = Arc::new(AtomicUsize::new(0));
    let request = Request::post("/")
        .header("authorization", format!("Bearer {token}"))
        .header("content-length", "10000000")
        .body(Body::new(Endless {
            served: served.clone(),
        }))
        .unwrap();
    assert_eq!(app.oneshot(request).await.unwrap().status(), 413);
    assert_eq!(served.load(Ordering::SeqCst), 0);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

// ---------------------------------------------------------------- properties

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Header names the properties draw from: the ones that matter, and arbitrary ones.
fn header_name() -> impl Strategy<Value = HeaderName> {
    prop_oneof![
        Just(HeaderName::from_static("authorization")),
        Just(HeaderName::from_static("x-ledgix-jti")),
        Just(HeaderName::from_static("x-ledgix-tool")),
        Just(HeaderName::from_static("content-length")),
        "[a-z][a-z0-9-]{0,20}".prop_map(|n| HeaderName::from_bytes(n.as_bytes()).unwrap()),
    ]
}

/// Header values: arbitrary bytes (those `HeaderValue` accepts), bearer-ish text, and the
/// valid token mutated.
fn header_value(valid: String) -> impl Strategy<Value = Vec<u8>> {
    let bearer = format!("Bearer {valid}");
    let mutated =
        (any::<prop::sample::Index>(), any::<u8>(), 0usize..3).prop_map(move |(at, byte, how)| {
            let mut t = bearer.clone().into_bytes();
            let i = at.index(t.len());
            match how {
                0 => {
                    t[i] = if t[i] == byte {
                        byte.wrapping_add(1)
                    } else {
                        byte
                    }
                }
                1 => t.truncate(i),
                _ => t.insert(i, byte),
            }
            t
        });
    let exact = format!("Bearer {valid}").into_bytes();
    prop_oneof![
        Just(exact),
        proptest::collection::vec(any::<u8>(), 0..128),
        "(Bearer|bearer|Basic|) ?[A-Za-z0-9._=-]{0,300}".prop_map(String::into_bytes),
        (0usize..40_000).prop_map(|n| format!("Bearer {}", "A".repeat(n)).into_bytes()),
        mutated,
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        Just(payment().to_string().into_bytes()),
        "\\{\"amount\": ?[0-9]{1,5}, ?\"currency\": ?\"usd\", ?\"customer\": ?\"cus_123\"\\}"
            .prop_map(String::into_bytes),
    ]
}

/// One case of the `check` property: `Ok(true)` when it passed.
fn check_case(headers: &[(HeaderName, Vec<u8>)], body: &[u8]) -> Result<bool, TestCaseError> {
    let gateway = gateway();
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            map.append(name.clone(), value);
        }
    }
    let Ok(claims) = runtime().block_on(gateway.check(&map, body)) else {
        return Ok(false);
    };
    let auth: Vec<_> = map.get_all("authorization").iter().collect();
    prop_assert_eq!(auth.len(), 1);
    let text = auth[0].to_str().unwrap().trim();
    let token = text.split_whitespace().nth(1).unwrap();
    prop_assert_eq!(token, VALID.with(|v| v.clone()));
    let args: Value = serde_json::from_slice(body).unwrap();
    prop_assert_eq!(
        tool_args_hash(args.as_object().unwrap()),
        claims.tool_args_hash
    );
    Ok(true)
}

/// Arbitrary headers (the valid token, mutated or not, among them) and bodies: never a panic,
/// never `Ok` unless the Authorization header holds exactly the valid token and the body
/// hashes to its arguments. Both outcomes must occur, so the property is not vacuous.
#[test]
fn check_never_panics_and_never_passes_without_a_valid_token() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 768,
        ..ProptestConfig::default()
    });
    let strategy = (
        proptest::collection::vec(
            (header_name(), header_value(VALID.with(|v| v.clone()))),
            0..6,
        ),
        body(),
    );
    let passes = AtomicUsize::new(0);
    let refusals = AtomicUsize::new(0);
    runner
        .run(&strategy, |(headers, body)| {
            let counter = if check_case(&headers, &body)? {
                &passes
            } else {
                &refusals
            };
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap();
    assert!(passes.load(Ordering::SeqCst) > 0, "no case passed");
    assert!(refusals.load(Ordering::SeqCst) > 0, "no case was refused");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The same through the layer (what an axum app runs): never a panic, never a call of the
    /// service without a pass.
    #[test]
    fn the_layer_never_calls_the_service_on_a_refusal(
        headers in proptest::collection::vec(
            (header_name(), header_value(VALID.with(|v| v.clone()))), 0..6),
        body in body(),
    ) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let app = axum::Router::new()
            .route("/", post(move || async move { counted.fetch_add(1, Ordering::SeqCst); }))
            .layer(gateway().layer());
        let mut request = Request::post("/").body(Body::from(body)).unwrap();
        for (name, value) in &headers {
            if let Ok(value) = HeaderValue::from_bytes(value) {
                request.headers_mut().append(name.clone(), value);
            }
        }
        let response = runtime().block_on(app.oneshot(request)).unwrap();
        let passed = response.status().is_success();
        prop_assert_eq!(calls.load(Ordering::SeqCst), usize::from(passed));
        if !passed {
            prop_assert!(response.status().is_client_error(), "{}", response.status());
        }
    }
}

thread_local! {
    /// One valid token for the payment arguments (each property case gets a fresh gateway, so
    /// it is never a replay).
    static VALID: String = signer().sign(&claims("prop-valid", &object(&payment())));
}
