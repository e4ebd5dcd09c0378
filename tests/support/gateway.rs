//! Helpers of the `gateway_*` tests: a real mock Vault issuing real tokens, a real axum
//! service behind the gateway on loopback that counts its calls, and raw HTTP requests.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ledgix::gateway::{Cleared, Gateway};
use ledgix::mock::MockVault;
use ledgix::token::TokenSigner;
use ledgix::{Error, KeySet, TokenClaims, ToolCall};
use serde_json::{Map, Value, json};

/// The seed of the mock Vault's token key, so tests can sign crafted tokens with its key.
pub const SEED: [u8; 32] = [0x5e; 32];
/// The tool the payment service accepts.
pub const TOOL: &str = "create_payment";

/// A mock Vault with a known token key.
pub async fn vault() -> MockVault {
    MockVault::builder().seed(SEED).start().await
}

/// The mock Vault's own signer (same key, same kid), to craft tokens it could have issued.
pub fn vault_signer(vault: &MockVault) -> TokenSigner {
    let keys = KeySet::from_jwks_json(&vault.trusted_keys_json()).expect("the mock's JWKS parses");
    let key = TokenSigner::from_seed("probe", SEED).verifying_key();
    let kid = keys
        .kids()
        .find(|kid| keys.get(kid) == Some(&key))
        .expect("the token key is in the mock's JWKS")
        .to_string();
    TokenSigner::from_seed(kid, SEED)
}

/// The payment arguments every happy test sends.
pub fn payment() -> Value {
    json!({"amount": 1000, "currency": "usd", "customer": "cus_123"})
}

pub fn object(v: &Value) -> Map<String, Value> {
    v.as_object().cloned().expect("a JSON object")
}

/// A real token: the agent side runs a guarded call of `tool(args)` against `vault`, and its
/// body hands back the token it holds (its `run:` use is recorded by the agent's client).
pub async fn agent_token(vault: &MockVault, tool: &str, args: &Value) -> String {
    vault
        .scope(
            ToolCall::new(tool)
                .args(object(args))
                .policy("payments-prod")
                .agent_id("payments-agent")
                .session_id("checkout-42")
                .run(async { Ok::<_, Error>(ledgix::current_token().expect("in scope")) }),
        )
        .await
        .expect("the mock Vault approves")
}

/// The claims of a token (no verification: for building expectations and crafted tokens).
pub fn claims_of(token: &str) -> TokenClaims {
    let payload = token.split('.').nth(1).expect("three segments");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("claims")
}

/// `token` with its payload replaced by `claims`, the header and signature kept.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let mut parts = token.split('.');
    let header = parts.next().unwrap_or_default();
    let _ = parts.next();
    let sig = parts.next().unwrap_or_default();
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{payload}.{sig}")
}

/// `token` with its header replaced.
pub fn with_header(token: &str, header: &Value) -> String {
    let rest = token.split_once('.').map(|(_, r)| r).unwrap_or_default();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// What the protected service saw of one call.
#[derive(Debug, Clone)]
pub struct Seen {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub claims: TokenClaims,
}

/// The protected payment service, behind the gateway, on loopback.
#[derive(Clone)]
pub struct Service {
    pub url: String,
    pub calls: Arc<AtomicUsize>,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    http: reqwest::Client,
}

#[derive(Clone, Default)]
struct Record {
    calls: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn pay(
    State(record): State<Record>,
    Cleared(claims): Cleared,
    headers: HeaderMap,
    body: Bytes,
) -> axum::Json<Value> {
    record.calls.fetch_add(1, Ordering::SeqCst);
    let id = format!("pay_{}", claims.jti.get(..8).unwrap_or(&claims.jti));
    record
        .seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Seen {
            headers,
            body,
            claims,
        });
    axum::Json(json!({"id": id}))
}

/// A service counting its calls at `POST /v1/payments`, behind `gateway`.
pub async fn service(gateway: &Gateway) -> Service {
    let record = Record::default();
    let app = Router::new()
        .route("/v1/payments", post(pay))
        .with_state(record.clone())
        .layer(gateway.layer());
    serve(app, record).await
}

/// A service whose route is NOT behind the gateway (the `Cleared` extractor must refuse).
pub async fn unguarded_service() -> Service {
    let record = Record::default();
    let app = Router::new()
        .route("/v1/payments", post(pay))
        .with_state(record.clone());
    serve(app, record).await
}

async fn serve(app: Router, record: Record) -> Service {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!(
        "http://{}/v1/payments",
        listener.local_addr().expect("addr")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Service {
        url,
        calls: record.calls,
        seen: record.seen,
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
    }
}

/// An answer: status and JSON body (Null when not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    /// The `error` code of a refusal.
    pub fn code(&self) -> &str {
        self.body["error"].as_str().unwrap_or_default()
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }
}

impl Service {
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn last_seen(&self) -> Seen {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last()
            .cloned()
            .expect("the service saw a call")
    }

    /// POSTs `body` with these headers (appended, so duplicates are sent as given).
    pub async fn post_raw(&self, headers: &[(&str, &[u8])], body: Vec<u8>) -> Answer {
        let mut request = self.http.post(&self.url).body(body);
        for (name, value) in headers {
            request = request.header(
                *name,
                reqwest::header::HeaderValue::from_bytes(value).expect("a valid header value"),
            );
        }
        let response = request.send().await.expect("the service answers");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("a body");
        Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// POSTs `args` as JSON with `Authorization: Bearer <token>`.
    pub async fn post(&self, token: &str, args: &Value) -> Answer {
        let auth = format!("Bearer {token}");
        self.post_raw(
            &[
                ("authorization", auth.as_bytes()),
                ("content-type", b"application/json"),
            ],
            args.to_string().into_bytes(),
        )
        .await
    }
}
