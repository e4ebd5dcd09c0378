//! The HTTP face of the mock Vault (axum): routes, the API-key check, request recording,
//! Idempotency-Key replay, and fault injection.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};

use super::conn::ConnKill;
use super::engine::{self, ReviewError, Vault};
use super::faults::{FaultKind, FaultTarget};
use super::ledger::ProofError;
use super::mint::MintError;
use super::review_page;
use super::state::{KeyReused, Recording, StoredAnswer};
use crate::ledger::LedgerError;
use crate::protocol::{
    ClearanceRequest, MintTokenRequest, MintTokenResponse, PolicyRegistration, ReviewDecision,
};

/// The only path served without an API key.
const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Headers whose values never appear in recordings.
const SECRET_HEADERS: [&str; 2] = ["x-vault-api-key", "authorization"];
/// Default `limit` of `/ledger` and `/ledger/checkpoints` (those of the official SDKs).
const DEFAULT_ENTRY_LIMIT: usize = 100;
const DEFAULT_CHECKPOINT_LIMIT: usize = 24;

type Shared = State<Arc<Vault>>;

/// Every route of the Vault protocol, behind recording and the API-key check.
pub(crate) fn router(vault: Arc<Vault>) -> Router {
    Router::new()
        .route("/request-clearance", post(request_clearance))
        .route("/clearance-status/{request_id}", get(clearance_status))
        .route("/reviews/{request_id}/decision", post(review_decision))
        .route(JWKS_PATH, get(jwks))
        .route("/ledger", get(ledger_entries))
        .route("/ledger/checkpoints", get(ledger_checkpoints))
        .route("/ledger/proof/inclusion", get(inclusion_proof))
        .route("/ledger/proof/consistency", get(consistency_proof))
        .route("/ledger/proof/bundle", get(proof_bundle))
        .route("/register-policy", post(register_policy))
        .route("/mint-token", post(mint_token))
        .merge(review_page::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            vault.clone(),
            record_and_authenticate,
        ))
        .with_state(vault)
}

// ------------------------------------------------------------------ plumbing

/// A JSON answer.
pub(super) fn json_response(status: StatusCode, body: &impl Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `{"detail": …}`, the Vault's error shape.
pub(super) fn error(status: StatusCode, detail: impl Into<String>) -> Response {
    json_response(status, &json!({ "detail": detail.into() }))
}

fn stored(status: StatusCode, body: &impl Serialize) -> StoredAnswer {
    StoredAnswer {
        status: status.as_u16(),
        body: Bytes::from(serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec())),
    }
}

fn stored_error(status: StatusCode, detail: impl Into<String>) -> StoredAnswer {
    stored(status, &json!({ "detail": detail.into() }))
}

/// An error answer (`{"detail": …}`); handlers return it with `?`.
#[derive(Debug)]
struct Reject(StatusCode, String);

impl Reject {
    fn unprocessable(detail: impl Into<String>) -> Reject {
        Reject(StatusCode::UNPROCESSABLE_ENTITY, detail.into())
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        error(self.0, self.1)
    }
}

impl From<ProofError> for Reject {
    fn from(e: ProofError) -> Reject {
        let status = match e {
            ProofError::UnknownRequest(_) | ProofError::UnknownCheckpoint(_) => {
                StatusCode::NOT_FOUND
            }
            ProofError::NotSealed(_) => StatusCode::CONFLICT,
            ProofError::BadRange { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Reject(status, e.to_string())
    }
}

impl From<LedgerError> for Reject {
    /// 500: the decision could not be recorded, so none was made.
    fn from(e: LedgerError) -> Reject {
        Reject(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the decision could not be written to the ledger: {e}"),
        )
    }
}

/// Handlers answer either way.
type Answer = Result<Response, Reject>;

impl IntoResponse for StoredAnswer {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            status,
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            self.body,
        )
            .into_response()
    }
}

/// Checks the API key from the headers alone — a request without it is refused (401)
/// before a byte of its body is read — then reads the body up to the size limit (413 over
/// it, refused from `Content-Length` alone when that says so), and records the request
/// (secrets redacted; a refused request without its body).
async fn record_and_authenticate(State(vault): Shared, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let record = |body: Bytes| record(&parts.method, &parts.uri, &parts.headers, body);
    if parts.uri.path() != JWKS_PATH
        && !review_page::open_without_key(&vault, &parts)
        && !api_key_ok(vault.api_key.as_deref(), &parts.headers)
    {
        vault.requests.push(record(Bytes::new()));
        return error(
            StatusCode::UNAUTHORIZED,
            "missing or invalid X-Vault-API-Key",
        );
    }
    let limit = vault.max_body_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request bodies are limited to {limit} bytes"),
        )
    };
    let announced = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        vault.requests.push(record(Bytes::new()));
        return too_large();
    }
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => {
            vault.requests.push(record(Bytes::new()));
            return too_large();
        }
    };
    vault.requests.push(record(bytes.clone()));
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn record(
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Recording {
    let mut recorded: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let name = name.as_str();
        let value = if SECRET_HEADERS.contains(&name) {
            "***".to_string()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        recorded
            .entry(name.to_string())
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    Recording {
        method: method.as_str().to_string(),
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string()),
        headers: recorded,
        body,
    }
}

/// True when no key is configured, or the request carries exactly it (compared in constant
/// time).
fn api_key_ok(expected: Option<&str>, headers: &HeaderMap) -> bool {
    let Some(expected) = expected else {
        return true;
    };
    let Some(given) = headers.get("x-vault-api-key") else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Answers from the slot of the request's Idempotency-Key when it has one (computing it with
/// `answer` the first time; an `Err` answer is sent but not stored, so a retry under the same
/// key tries again); 422 when the key came before with another body.
async fn idempotent<F, Fut>(
    vault: &Vault,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
    answer: F,
) -> Answer
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<StoredAnswer, Reject>>,
{
    let key = headers
        .get("idempotency-key")
        .and_then(|k| k.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        return Ok(answer().await?.into_response());
    };
    let slot = vault
        .idempotency
        .slot(path, key, body)
        .map_err(|KeyReused| {
            Reject::unprocessable(format!(
                "Idempotency-Key `{key}` was already used with a different request body"
            ))
        })?;
    Ok(slot
        .answer
        .get_or_try_init(answer)
        .await?
        .clone()
        .into_response())
}

/// Parses a JSON body.
fn json_body(bytes: &[u8]) -> Result<Value, Reject> {
    serde_json::from_slice(bytes)
        .map_err(|e| Reject::unprocessable(format!("the body is not JSON: {e}")))
}

/// Checks and reads a clearance request: `tool_name` a non-empty string, `tool_args` an
/// object, `agent_id` a string.
fn clearance_request(body: &Value) -> Result<ClearanceRequest, Reject> {
    if !body.is_object() {
        return Err(Reject::unprocessable("the body must be a JSON object"));
    }
    if body
        .get("tool_name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(Reject::unprocessable(
            "`tool_name` is required and must be a non-empty string",
        ));
    }
    if !body.get("tool_args").is_some_and(Value::is_object) {
        return Err(Reject::unprocessable(
            "`tool_args` is required and must be an object",
        ));
    }
    if !body.get("agent_id").is_some_and(Value::is_string) {
        return Err(Reject::unprocessable(
            "`agent_id` is required and must be a string",
        ));
    }
    serde_json::from_value(body.clone())
        .map_err(|e| Reject::unprocessable(format!("not a clearance request: {e}")))
}

// ------------------------------------------------------------------ faults

/// What a fault does to the request in hand.
enum FaultAction {
    /// Answer this instead.
    Respond(Response),
    /// Handle the request normally.
    Proceed,
    /// Answer a forged clearance response for the request.
    Forge(FaultKind),
}

/// Applies the transport-level part of the next fault for `target`.
async fn apply_fault(vault: &Vault, target: FaultTarget, kill: &ConnKill) -> FaultAction {
    let Some(kind) = vault.faults.take(target) else {
        return FaultAction::Proceed;
    };
    match kind {
        FaultKind::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            FaultAction::Respond(error(status, format!("mock Vault fault: HTTP {code}")))
        }
        FaultKind::RetryAfter(secs) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "mock Vault fault: the clearance queue is full",
            );
            if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert(RETRY_AFTER, value);
            }
            FaultAction::Respond(response)
        }
        FaultKind::Delay(delay) => {
            tokio::time::sleep(delay).await;
            FaultAction::Proceed
        }
        FaultKind::MalformedBody => FaultAction::Respond(
            (
                StatusCode::OK,
                [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
                r#"{"status": "approved", "token": "eyJhbGciOiJFZERTQSJ9.trunc"#,
            )
                .into_response(),
        ),
        FaultKind::DropConnection => {
            kill.cut();
            // Never sent: the connection fails before hyper writes a byte.
            FaultAction::Respond(StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        forged => FaultAction::Forge(forged),
    }
}

/// A clearance answer shaped by a forging fault, for a request the mock did not decide.
fn forged_answer(
    vault: &Vault,
    kind: &FaultKind,
    request_id: &str,
    request: &ClearanceRequest,
) -> Response {
    let token = match kind {
        FaultKind::ApproveWithoutToken | FaultKind::UnknownStatus(_) => None,
        FaultKind::TokenForTool(tool) => Some(vault.tokens.mint_bound(
            request,
            tool,
            &request.tool_args,
            false,
        )),
        FaultKind::TokenForArgs(args) => Some(vault.tokens.mint_bound(
            request,
            &request.tool_name,
            &engine::as_args(args),
            false,
        )),
        FaultKind::WrongSigningKey => Some(vault.tokens.mint_bound(
            request,
            &request.tool_name,
            &request.tool_args,
            true,
        )),
        _ => None,
    };
    let answer = engine::faulty_approval(request_id, request, token);
    let mut value = serde_json::to_value(&answer).unwrap_or(Value::Null);
    if let (FaultKind::UnknownStatus(status), Value::Object(map)) = (kind, &mut value) {
        map.insert("status".into(), Value::String(status.clone()));
        map.insert("reason".into(), json!("mock Vault fault: unknown status"));
    }
    json_response(StatusCode::OK, &value)
}

// ------------------------------------------------------------------ clearance

async fn request_clearance(
    State(vault): Shared,
    ConnectInfo(kill): ConnectInfo<ConnKill>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let forge = match apply_fault(&vault, FaultTarget::Clearance, &kill).await {
        FaultAction::Respond(response) => return Ok(response),
        FaultAction::Proceed => None,
        FaultAction::Forge(kind) => Some(kind),
    };
    let value = json_body(&body)?;
    let request = clearance_request(&value)?;
    if let Some(kind) = forge {
        let request_id = crate::random::uuid_v4();
        return Ok(forged_answer(&vault, &kind, &request_id, &request));
    }
    let vault_ref = &vault;
    let decide = || async move { Ok(stored(StatusCode::OK, &vault_ref.submit(request)?)) };
    idempotent(&vault, "/request-clearance", &headers, &value, decide).await
}

// ------------------------------------------------------------------ mint

/// Checks and reads a mint request: `tool_name` a non-empty string, `tool_args` an object,
/// `original_request_id` a non-empty string.
fn mint_request(body: &Value) -> Result<MintTokenRequest, Reject> {
    if !body.is_object() {
        return Err(Reject::unprocessable("the body must be a JSON object"));
    }
    for field in ["tool_name", "original_request_id"] {
        if body
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(Reject::unprocessable(format!(
                "`{field}` is required and must be a non-empty string"
            )));
        }
    }
    if !body.get("tool_args").is_some_and(Value::is_object) {
        return Err(Reject::unprocessable(
            "`tool_args` is required and must be an object",
        ));
    }
    serde_json::from_value(body.clone())
        .map_err(|e| Reject::unprocessable(format!("not a mint-token request: {e}")))
}

/// A mint answer shaped by a fault (no ledger event, nothing remembered).
fn forged_mint(vault: &Vault, kind: &FaultKind, mint: &MintTokenRequest) -> Response {
    if *kind == FaultKind::MintRefused {
        return error(
            StatusCode::CONFLICT,
            "mock Vault fault: the cached decision no longer holds; ask for a decision",
        );
    }
    let mut request = ClearanceRequest::new(mint.tool_name.clone())
        .args(mint.tool_args.clone())
        .agent_id(mint.agent_id.clone());
    if !mint.session_id.is_empty() {
        request = request.session_id(mint.session_id.clone());
    }
    if !mint.policy_id.is_empty() {
        request = request.policy(mint.policy_id.clone());
    }
    let token = match kind {
        FaultKind::TokenForTool(tool) => Some(vault.tokens.mint_bound(
            &request,
            tool,
            &request.tool_args,
            false,
        )),
        FaultKind::TokenForArgs(args) => Some(vault.tokens.mint_bound(
            &request,
            &request.tool_name,
            &engine::as_args(args),
            false,
        )),
        FaultKind::WrongSigningKey => Some(vault.tokens.mint_bound(
            &request,
            &request.tool_name,
            &request.tool_args,
            true,
        )),
        _ => None,
    };
    let reason = if token.is_some() {
        "minted (mock fault)"
    } else {
        "mock Vault fault: minted without a token"
    };
    json_response(
        StatusCode::OK,
        &MintTokenResponse {
            token,
            reason: Some(reason.into()),
            request_id: Some(crate::random::uuid_v4()),
        },
    )
}

async fn mint_token(
    State(vault): Shared,
    ConnectInfo(kill): ConnectInfo<ConnKill>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    let forge = match apply_fault(&vault, FaultTarget::Mint, &kill).await {
        FaultAction::Respond(response) => return Ok(response),
        FaultAction::Proceed => None,
        FaultAction::Forge(kind) => Some(kind),
    };
    let value = json_body(&body)?;
    let mint = mint_request(&value)?;
    if let Some(kind) = forge {
        return Ok(forged_mint(&vault, &kind, &mint));
    }
    let vault_ref = &vault;
    let answer = || async move {
        match vault_ref.mint_token(&mint).await {
            Ok(minted) => Ok(stored(StatusCode::OK, &minted)),
            Err(MintError::Refused(status, detail)) => Ok(stored_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT),
                detail,
            )),
            Err(MintError::Ledger(e)) => Err(Reject::from(e)),
        }
    };
    idempotent(&vault, "/mint-token", &headers, &value, answer).await
}

async fn clearance_status(
    State(vault): Shared,
    ConnectInfo(kill): ConnectInfo<ConnKill>,
    Path(request_id): Path<String>,
) -> Answer {
    let unknown = || {
        Reject(
            StatusCode::NOT_FOUND,
            format!("no clearance request has id `{request_id}`"),
        )
    };
    match apply_fault(&vault, FaultTarget::StatusPoll, &kill).await {
        FaultAction::Respond(response) => Ok(response),
        FaultAction::Forge(kind) => {
            let request = vault.request_of(&request_id).await.ok_or_else(unknown)?;
            Ok(forged_answer(&vault, &kind, &request_id, &request))
        }
        FaultAction::Proceed => {
            let answer = vault.poll(&request_id).await?.ok_or_else(unknown)?;
            Ok(json_response(StatusCode::OK, &answer))
        }
    }
}

async fn review_decision(
    State(vault): Shared,
    Path(request_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Answer {
    require_json_content_type(&headers)?;
    let value = json_body(&body)?;
    let decision: ReviewDecision = serde_json::from_value(value.clone()).map_err(|e| {
        Reject::unprocessable(format!(
            "expected {{\"approved\": bool, \"review_reason\": string}}: {e}"
        ))
    })?;
    let path = format!("/reviews/{request_id}/decision");
    let vault_ref = &vault;
    let decide = || async move {
        let outcome = vault_ref
            .review(&request_id, decision.approved, &decision.review_reason)
            .await;
        match outcome {
            Ok(_) => Ok(stored(StatusCode::OK, &json!({}))),
            Err(e @ ReviewError::Unknown(_)) => {
                Ok(stored_error(StatusCode::NOT_FOUND, e.to_string()))
            }
            Err(e @ ReviewError::NotPending { .. }) => {
                Ok(stored_error(StatusCode::CONFLICT, e.to_string()))
            }
            Err(e) => Err(Reject(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())),
        }
    };
    idempotent(&vault, &path, &headers, &value, decide).await
}

/// A decision changes state, so it must not be a "simple" cross-origin request: a web page
/// the reviewer has open elsewhere could otherwise POST a `text/plain` form at the local mock
/// Vault (no preflight). `application/json` makes the browser ask first, and the mock answers
/// no CORS preflight, so only same-origin pages (the review page) and non-browser clients can
/// decide.
fn require_json_content_type(headers: &HeaderMap) -> Result<(), Reject> {
    let is_json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(Reject(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a review decision must be sent with `Content-Type: application/json`".into(),
        ))
    }
}

async fn register_policy(State(vault): Shared, headers: HeaderMap, body: Bytes) -> Answer {
    let value = json_body(&body)?;
    let policy: PolicyRegistration = serde_json::from_value(value.clone())
        .map_err(|e| Reject::unprocessable(format!("not a policy registration: {e}")))?;
    let register = || async move {
        Ok(stored(
            StatusCode::OK,
            &json!({
                "policy_id": policy.policy_id,
                "status": "registered",
                "message": "registered with the mock Vault (its rules decide, not this policy)",
            }),
        ))
    };
    idempotent(&vault, "/register-policy", &headers, &value, register).await
}

// ------------------------------------------------------------------ keys and ledger

async fn jwks(State(vault): Shared) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        vault.jwks.clone(),
    )
        .into_response()
}

/// A non-negative integer query parameter (`default` when absent).
fn usize_param(
    query: &HashMap<String, String>,
    name: &str,
    default: Option<usize>,
) -> Result<usize, Reject> {
    match (query.get(name), default) {
        (Some(raw), _) => raw.trim().parse::<usize>().map_err(|_| {
            Reject::unprocessable(format!(
                "`{name}` must be a non-negative integer, got `{raw}`"
            ))
        }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Reject::unprocessable(format!(
            "query parameter `{name}` is required"
        ))),
    }
}

fn string_param<'q>(query: &'q HashMap<String, String>, name: &str) -> Result<&'q str, Reject> {
    query
        .get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Reject::unprocessable(format!("query parameter `{name}` is required")))
}

type Params = Query<HashMap<String, String>>;

async fn ledger_entries(State(vault): Shared, Query(q): Params) -> Answer {
    let limit = usize_param(&q, "limit", Some(DEFAULT_ENTRY_LIMIT))?;
    let entries = vault.ledger.entries(limit);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "entries": entries }),
    ))
}

async fn ledger_checkpoints(State(vault): Shared, Query(q): Params) -> Answer {
    let limit = usize_param(&q, "limit", Some(DEFAULT_CHECKPOINT_LIMIT))?;
    let checkpoints = vault.ledger.checkpoints(limit);
    Ok(json_response(
        StatusCode::OK,
        &json!({ "checkpoints": checkpoints }),
    ))
}

async fn inclusion_proof(State(vault): Shared, Query(q): Params) -> Answer {
    let proof = vault
        .ledger
        .inclusion_proof(string_param(&q, "request_id")?)?;
    Ok(json_response(StatusCode::OK, &proof))
}

async fn consistency_proof(State(vault): Shared, Query(q): Params) -> Answer {
    let from = usize_param(&q, "from", None)? as u64;
    let to = usize_param(&q, "to", None)? as u64;
    let proof = vault.ledger.consistency_proof(from, to)?;
    Ok(json_response(StatusCode::OK, &proof))
}

async fn proof_bundle(State(vault): Shared, Query(q): Params) -> Answer {
    let bundle = vault.ledger.proof_bundle(string_param(&q, "request_id")?)?;
    Ok(json_response(StatusCode::OK, &bundle))
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "the mock Vault has no route {} {}",
            request.method(),
            request.uri().path()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_check() {
        let mut h = HeaderMap::new();
        assert!(api_key_ok(None, &h));
        assert!(!api_key_ok(Some("k1"), &h));
        h.insert("x-vault-api-key", HeaderValue::from_static("k2"));
        assert!(!api_key_ok(Some("k1"), &h));
        assert!(!api_key_ok(Some("k22"), &h));
        h.insert("x-vault-api-key", HeaderValue::from_static("k1"));
        assert!(api_key_ok(Some("k1"), &h));
    }

    #[test]
    fn recordings_redact_secrets_and_keep_the_query() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-vault-api-key",
            HeaderValue::from_static("sk_live_secret"),
        );
        h.insert("authorization", HeaderValue::from_static("Bearer abc"));
        h.append("accept", HeaderValue::from_static("a"));
        h.append("accept", HeaderValue::from_static("b"));
        let uri: axum::http::Uri = "/ledger?limit=5".parse().unwrap();
        let rec = |body: &'static [u8]| {
            let r = record(&axum::http::Method::GET, &uri, &h, Bytes::from_static(body));
            let ring = super::super::state::Recordings::new(1, 1024);
            ring.push(r);
            ring.snapshot().remove(0)
        };
        let r = rec(b"{\"x\":1}");
        assert_eq!(r.path, "/ledger?limit=5");
        assert_eq!(r.header("x-vault-api-key"), Some("***"));
        assert_eq!(r.header("authorization"), Some("***"));
        assert_eq!(r.header("accept"), Some("a, b"));
        assert_eq!(r.body, json!({"x": 1}));
        let text = serde_json::to_string(&r).unwrap();
        assert!(
            !text.contains("sk_live_secret") && !text.contains("abc"),
            "{text}"
        );
        assert_eq!(rec(b"not json").body, json!("not json"));
        assert_eq!(rec(b"").body, Value::Null);
    }
}
