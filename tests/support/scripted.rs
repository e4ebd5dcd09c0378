//! A scripted Vault for client tests: a real HTTP server on 127.0.0.1:0 that answers from
//! queues the test fills, byte for byte, and records every request. It knows nothing about
//! decisions: it is how the tests put exact (and wrong) answers on the wire. The stateful fake
//! that behaves like the Vault is `ledgix::mock::MockVault`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }
    pub fn raw(status: u16, body: &str) -> Self {
        Reply {
            status,
            headers: vec![],
            body: body.to_string(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

#[derive(Default)]
struct Script {
    clearance: VecDeque<Reply>,
    status: VecDeque<Reply>,
    last_status: Option<Reply>,
    jwks: String,
    seen: Vec<Seen>,
}

/// The server; shuts down when dropped.
pub struct ScriptedVault {
    pub url: String,
    script: Arc<Mutex<Script>>,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// Serves `app` on `127.0.0.1:0`: its base URL, and the sender whose drop shuts it down.
pub async fn serve(app: Router) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (url, tx)
}

impl ScriptedVault {
    pub async fn start(jwks: String) -> ScriptedVault {
        let script = Arc::new(Mutex::new(Script {
            jwks,
            ..Script::default()
        }));
        let app = Router::new().fallback(handle).with_state(script.clone());
        let (url, tx) = serve(app).await;
        ScriptedVault {
            url,
            script,
            _shutdown: tx,
        }
    }

    /// Queues answers to `POST /request-clearance`.
    pub fn on_clearance(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().clearance.extend(replies);
    }

    /// Queues answers to `GET /clearance-status/{id}`; the last one repeats.
    pub fn on_status(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().status.extend(replies);
    }

    pub fn set_jwks(&self, jwks: String) {
        self.script.lock().unwrap().jwks = jwks;
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    pub fn seen_path(&self, prefix: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.path.starts_with(prefix))
            .collect()
    }
}

async fn handle(
    State(script): State<Arc<Mutex<Script>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let reply = {
        let mut s = script.lock().unwrap();
        s.seen.push(Seen {
            method: method.to_string(),
            path: uri.to_string(),
            headers,
            body: body.to_vec(),
        });
        if method == Method::POST && path == "/request-clearance" {
            s.clearance
                .pop_front()
                .unwrap_or_else(|| Reply::raw(500, "script exhausted"))
        } else if method == Method::GET && path.starts_with("/clearance-status/") {
            match s.status.pop_front() {
                Some(r) => {
                    s.last_status = Some(r.clone());
                    r
                }
                None => s
                    .last_status
                    .clone()
                    .unwrap_or_else(|| Reply::raw(404, "no status")),
            }
        } else if method == Method::GET && path == "/.well-known/jwks.json" {
            Reply::raw(200, &s.jwks.clone())
        } else if method == Method::POST && path.starts_with("/reviews/") {
            Reply::json(200, json!({}))
        } else {
            Reply::raw(404, "not found")
        }
    };
    let mut resp = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (k, v) in reply.headers {
        resp.headers_mut().insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    resp
}

/// An Ed25519 key that signs A-JWTs the way the Vault does (independent of the SDK's code).
pub struct TestIssuer {
    pub kid: String,
    key: SigningKey,
}

impl TestIssuer {
    pub fn new(kid: &str, seed: u8) -> Self {
        TestIssuer {
            kid: kid.to_string(),
            key: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    pub fn jwks(&self) -> String {
        json!({"keys": [{
            "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
        }]})
        .to_string()
    }

    /// Signs `claims` under this key, with `kid` in the header.
    pub fn sign(&self, kid: &str, claims: &Value) -> String {
        let header = json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// A token clearing `tool` with `args`, as the Vault mints it.
    pub fn token(&self, jti: &str, tool: &str, args: &Value) -> String {
        self.sign(&self.kid, &claims(jti, tool, args))
    }
}

/// The Vault's claims for a clearance of `tool` with `args`.
pub fn claims(jti: &str, tool: &str, args: &Value) -> Value {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({
        "iss": "alcv-vault", "sub": "clearance", "aud": ["ledgix-sdk"],
        "iat": now, "exp": now + 300, "jti": jti,
        "tool": tool, "agent_id": "test-agent", "session_id": "", "policy_id": "",
        "decision": "approved", "tool_args_hash": args_hash(args),
    })
}

/// `sha256:` + hex of the compact key-sorted JSON (ASCII test values only).
pub fn args_hash(args: &Value) -> String {
    format!(
        "sha256:{}",
        super::hex::encode(Sha256::digest(canonical(args).as_bytes()))
    )
}

fn canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let items: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&m[k])))
                .collect();
            format!("{{{}}}", items.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
}

/// An approved answer carrying `token`.
pub fn approved(request_id: &str, token: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "status": "approved", "token": token, "reason": "within policy",
            "request_id": request_id, "requires_manual_review": false,
            "approved": true, "confidence": 0.93, "minimum_confidence_score": 0.8,
            "decision_status": "approved", "confidence_bucket": "high",
            "minimum_confidence_bucket": "high",
        }),
    )
}

pub fn denied(request_id: &str, reason: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "status": "denied", "reason": reason, "request_id": request_id,
            "approved": false, "decision_status": "denied", "reason_code": "spend_cap_exceeded",
        }),
    )
}

pub fn pending(request_id: &str) -> Reply {
    Reply::json(
        200,
        json!({
            "status": "pending_review", "request_id": request_id, "requires_manual_review": true,
            "decision_status": "approved_pending_review",
        }),
    )
}

pub fn processing(request_id: &str) -> Reply {
    Reply::json(
        200,
        json!({"status": "processing", "request_id": request_id}),
    )
}

/// A sleeper that records each wait and returns at once.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    slept: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl ledgix::Sleeper for RecordingSleeper {
    fn sleep(&self, d: Duration) -> ledgix::SleepFuture {
        self.slept.lock().unwrap().push(d);
        Box::pin(tokio::task::yield_now())
    }
}
