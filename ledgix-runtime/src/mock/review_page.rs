//! The mock Vault's review queue: `GET /reviews` (the held calls, as JSON) and `GET /`, a
//! small self-contained page to work the queue while developing — Approve / Deny buttons that
//! use the real `POST /reviews/{id}/decision`, the latest decisions, and the ledger with
//! whether each sealed event's proof bundle verifies.
//!
//! The page is HTML, CSS and a little JS compiled into the binary (no CDN, no build step),
//! served with a Content-Security-Policy that allows only those files, and it builds every
//! piece of data into the DOM as text: tool arguments are attacker-controlled.
//!
//! Access: on a loopback address the page and its data need no API key (a local development
//! tool), but only under a loopback host name (a DNS-rebinding guard). On any other address
//! the data needs the API key like every other endpoint — the page asks for it and keeps it in
//! the tab's `sessionStorage` — and without a configured key the page is not served at all.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Map, Value};

use super::engine::{REVIEW_CONFIDENCE, Vault};
use super::ledger::rfc3339;
use super::server::{error, json_response};
use super::state::Phase;
use crate::ledger::{LedgerEntry, TrustedKeys, verify_proof_bundle};
use crate::reviews::{PendingReview, ReviewQueue};

const PAGE_HTML: &str = include_str!("review_page.html");
const PAGE_JS: &str = include_str!("review_page.js");
const PAGE_CSS: &str = include_str!("review_page.css");

const SCRIPT_PATH: &str = "/review-page/app.js";
const STYLE_PATH: &str = "/review-page/app.css";
const LEDGER_PATH: &str = "/review-page/ledger";
const REVIEWS_PATH: &str = "/reviews";

/// Only the page's own files, and requests to its own origin.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// Held calls listed by default (`GET /reviews?limit=N` for another number).
const DEFAULT_REVIEW_LIMIT: usize = 1000;
/// Ledger events listed (and proofs checked) by default, and at most.
const DEFAULT_EVENT_LIMIT: usize = 20;
const MAX_EVENT_LIMIT: usize = 200;
/// Checkpoints listed.
const CHECKPOINT_LIMIT: usize = 10;

type Shared = State<Arc<Vault>>;
type Params = Query<HashMap<String, String>>;

/// The page's routes (merged into the mock's router, behind its recording middleware).
pub(super) fn routes() -> Router<Arc<Vault>> {
    Router::new()
        .route("/", get(page))
        .route(SCRIPT_PATH, get(script))
        .route(STYLE_PATH, get(style))
        .route(REVIEWS_PATH, get(reviews))
        .route(LEDGER_PATH, get(ledger))
}

/// What a request to the page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PageRoute {
    /// The page's HTML, script or style: no data in them.
    Shell,
    /// The held calls or the ledger.
    Data,
}

fn page_route(method: &Method, path: &str) -> Option<PageRoute> {
    if method != Method::GET {
        return None;
    }
    match path {
        "/" | SCRIPT_PATH | STYLE_PATH => Some(PageRoute::Shell),
        REVIEWS_PATH | LEDGER_PATH => Some(PageRoute::Data),
        _ => None,
    }
}

/// Who may use a page route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Anyone who reaches it: no API key asked.
    Open,
    /// Only with the API key (the mock's usual check).
    WithKey,
    /// Nobody: the page is not offered here (the reason is the answer's detail).
    Refused(&'static str),
}

const REBINDING: &str = "the review page of a mock Vault on loopback answers only to a loopback \
                         host name (localhost, 127.0.0.1, [::1])";
const NO_KEY_ON_NETWORK: &str = "this mock Vault listens on a non-loopback address without an \
                                 API key, so it does not serve its review queue: restart it with \
                                 --api-key KEY (or listen on 127.0.0.1)";

/// The access rule of the page. On loopback everything is open, but only under a loopback
/// host name (a DNS-rebinding guard). Elsewhere the data needs the API key and the files (no
/// data in them) are open so a browser can load the page that asks for the key; without a
/// configured key nothing is offered.
fn access(route: PageRoute, on_loopback: bool, has_key: bool, loopback_host: bool) -> Access {
    match (on_loopback, has_key, route) {
        (true, _, _) if !loopback_host => Access::Refused(REBINDING),
        (true, _, _) => Access::Open,
        (false, false, _) => Access::Refused(NO_KEY_ON_NETWORK),
        (false, true, PageRoute::Shell) => Access::Open,
        (false, true, PageRoute::Data) => Access::WithKey,
    }
}

fn access_of(vault: &Vault, route: PageRoute, headers: &HeaderMap, uri: &Uri) -> Access {
    access(
        route,
        vault.on_loopback,
        vault.api_key.is_some(),
        host_is_loopback(headers, uri),
    )
}

/// True when the API-key check does not apply to this request: a page route that is open
/// here (a refused one is let through to its handler, which answers 403).
pub(super) fn open_without_key(vault: &Vault, parts: &Parts) -> bool {
    match page_route(&parts.method, parts.uri.path()) {
        Some(route) => !matches!(
            access_of(vault, route, &parts.headers, &parts.uri),
            Access::WithKey
        ),
        None => false,
    }
}

/// The 403 answer of a route the page does not offer here.
fn refusal(vault: &Vault, route: PageRoute, headers: &HeaderMap, uri: &Uri) -> Option<Response> {
    match access_of(vault, route, headers, uri) {
        Access::Refused(why) => Some(error(StatusCode::FORBIDDEN, why)),
        Access::Open | Access::WithKey => None,
    }
}

/// True when the request names a loopback host: `localhost`, `127.x.x.x` or `[::1]`, with
/// any port.
fn host_is_loopback(headers: &HeaderMap, uri: &Uri) -> bool {
    let host = match headers.get(HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => host,
        None => match uri.authority() {
            Some(authority) => authority.as_str(),
            None => return false,
        },
    };
    let name = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((v6, _port)) => {
                return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
            }
            None => return false,
        }
    } else {
        host.rsplit_once(':').map_or(host, |(name, _port)| name)
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_ipv4() && ip.is_loopback())
}

/// A static file of the page, with headers that keep it to itself.
fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

async fn page(State(vault): Shared, headers: HeaderMap, uri: Uri) -> Response {
    refusal(&vault, PageRoute::Shell, &headers, &uri)
        .unwrap_or_else(|| asset("text/html; charset=utf-8", PAGE_HTML))
}

async fn script(State(vault): Shared, headers: HeaderMap, uri: Uri) -> Response {
    refusal(&vault, PageRoute::Shell, &headers, &uri)
        .unwrap_or_else(|| asset("text/javascript; charset=utf-8", PAGE_JS))
}

async fn style(State(vault): Shared, headers: HeaderMap, uri: Uri) -> Response {
    refusal(&vault, PageRoute::Shell, &headers, &uri)
        .unwrap_or_else(|| asset("text/css; charset=utf-8", PAGE_CSS))
}

/// A positive integer query parameter, `default` when absent, at most `max`; else the 422
/// answer's detail.
fn limit_param(
    query: &HashMap<String, String>,
    default: usize,
    max: usize,
) -> Result<usize, String> {
    match query.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n.min(max)),
            _ => Err(format!("`limit` must be a positive integer, got `{raw}`")),
        },
    }
}

/// `GET /reviews`: `{"reviews": [PendingReview, ...], "total": N}`, oldest first.
async fn reviews(State(vault): Shared, headers: HeaderMap, uri: Uri, Query(q): Params) -> Response {
    if let Some(refused) = refusal(&vault, PageRoute::Data, &headers, &uri) {
        return refused;
    }
    let limit = match limit_param(&q, DEFAULT_REVIEW_LIMIT, usize::MAX) {
        Ok(limit) => limit,
        Err(detail) => return error(StatusCode::UNPROCESSABLE_ENTITY, detail),
    };
    let (reviews, total) = pending_reviews(&vault, limit).await;
    #[derive(Serialize)]
    struct Body {
        #[serde(flatten)]
        queue: ReviewQueue,
        total: usize,
    }
    json_response(
        StatusCode::OK,
        &Body {
            queue: ReviewQueue { reviews },
            total,
        },
    )
}

/// The first `limit` held calls (oldest first) and how many are held in all.
pub(super) async fn pending_reviews(vault: &Vault, limit: usize) -> (Vec<PendingReview>, usize) {
    let waiting = vault.clearances.pending_since();
    let total = waiting.len();
    let mut out = Vec::with_capacity(total.min(limit));
    for (request_id, since) in waiting {
        if out.len() == limit {
            break;
        }
        let Some(record) = vault.clearances.get(&request_id) else {
            continue;
        };
        let record = record.lock().await;
        if !matches!(record.phase, Phase::PendingReview) {
            continue; // decided since the list was taken
        }
        let request = &record.request;
        out.push(PendingReview {
            request_id,
            tool_name: request.tool_name.clone(),
            tool_args: request.tool_args.clone(),
            agent_id: request.agent_id.clone(),
            session_id: request.session_id.clone(),
            reason: record.verdict.reason.clone(),
            confidence: Some(REVIEW_CONFIDENCE.0),
            confidence_bucket: Some(REVIEW_CONFIDENCE.1),
            held_since: rfc3339(since, false),
        });
    }
    (out, total)
}

/// One ledger event as the page shows it.
#[derive(Debug, Serialize)]
struct EventView {
    seq: u64,
    request_id: String,
    tool_name: String,
    tool_args: Value,
    approved: bool,
    reason: String,
    accepted_at: String,
    event_hash: String,
    leaf_index: Option<u64>,
    checkpoint_id: Option<u64>,
    /// `verified`, `not_sealed` or `failed`.
    proof: &'static str,
    /// Why it failed, or what was verified.
    proof_detail: String,
}

/// One checkpoint as the page shows it.
#[derive(Debug, Serialize)]
struct CheckpointView {
    checkpoint_id: u64,
    tree_size: u64,
    root_hash: String,
    checkpoint_hash: String,
    signed_at: String,
}

/// `GET /review-page/ledger?limit=N`: the newest events (newest first), each sealed one's
/// proof bundle checked with `verify_proof_bundle` against this mock's own keys, and the
/// newest checkpoints.
async fn ledger(State(vault): Shared, headers: HeaderMap, uri: Uri, Query(q): Params) -> Response {
    if let Some(refused) = refusal(&vault, PageRoute::Data, &headers, &uri) {
        return refused;
    }
    let limit = match limit_param(&q, DEFAULT_EVENT_LIMIT, MAX_EVENT_LIMIT) {
        Ok(limit) => limit,
        Err(detail) => return error(StatusCode::UNPROCESSABLE_ENTITY, detail),
    };
    let keys = match TrustedKeys::from_jwks_json(&vault.jwks) {
        Ok(keys) => keys,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the mock's own keys: {e}"),
            );
        }
    };
    let entries = vault.ledger.entries(limit);
    let total_events = entries.last().map_or(0, |e| e.seq);
    let events: Vec<EventView> = entries
        .into_iter()
        .rev()
        .map(|entry| event_view(&vault, &keys, entry))
        .collect();
    let checkpoints = vault.ledger.checkpoints(CHECKPOINT_LIMIT);
    let total_checkpoints = checkpoints.last().map_or(0, |c| c.checkpoint_id);
    let checkpoints: Vec<CheckpointView> = checkpoints
        .into_iter()
        .rev()
        .map(|c| CheckpointView {
            checkpoint_id: c.checkpoint_id,
            tree_size: c.tree_size,
            root_hash: c.root_hash,
            checkpoint_hash: c.checkpoint_hash,
            signed_at: c.signed_at,
        })
        .collect();
    let kids: Vec<&str> = keys.key_set().kids().collect();
    let mut body = Map::new();
    body.insert(
        "verified_with".into(),
        Value::String(format!(
            "this mock Vault's own keys ({}), by the mock itself: a development aid. An auditor \
             verifies with keys obtained independently (ledgix verify bundle, ledgix verify \
             ledger).",
            kids.join(", ")
        )),
    );
    body.insert("total_events".into(), total_events.into());
    body.insert("total_checkpoints".into(), total_checkpoints.into());
    body.insert(
        "events".into(),
        serde_json::to_value(events).unwrap_or_default(),
    );
    body.insert(
        "checkpoints".into(),
        serde_json::to_value(checkpoints).unwrap_or_default(),
    );
    json_response(StatusCode::OK, &body)
}

fn event_view(vault: &Vault, keys: &TrustedKeys, entry: LedgerEntry) -> EventView {
    let (proof, proof_detail) = if entry.checkpoint_id.is_none() {
        ("not_sealed", "waiting for the next seal".to_string())
    } else {
        match vault.ledger.proof_bundle(&entry.request_id) {
            Err(e) => ("failed", e.to_string()),
            Ok(bundle) => match verify_proof_bundle(&bundle, keys) {
                Ok(v) => (
                    "verified",
                    format!(
                        "leaf {} of {} in checkpoint {}{}",
                        v.leaf_index,
                        v.tree_size,
                        v.checkpoint_id,
                        if v.consistency_verified {
                            format!(", consistent with checkpoint {}", v.latest_checkpoint_id)
                        } else {
                            String::new()
                        }
                    ),
                ),
                Err(e) => ("failed", e.to_string()),
            },
        }
    };
    EventView {
        seq: entry.seq,
        request_id: entry.request_id,
        tool_name: entry.tool_name,
        tool_args: entry.tool_args,
        approved: entry.approved,
        reason: entry.reason,
        accepted_at: entry.accepted_at,
        event_hash: entry.event_hash,
        leaf_index: entry.leaf_index,
        checkpoint_id: entry.checkpoint_id,
        proof,
        proof_detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loopback(host: Option<&str>, uri: &str) -> bool {
        let mut headers = HeaderMap::new();
        if let Some(host) = host {
            headers.insert(HOST, HeaderValue::from_str(host).unwrap());
        }
        host_is_loopback(&headers, &uri.parse().unwrap())
    }

    #[test]
    fn loopback_host_names() {
        for host in [
            "localhost",
            "LOCALHOST:8000",
            "127.0.0.1",
            "127.0.0.1:8000",
            "127.1.2.3:1",
            "[::1]",
            "[::1]:8000",
        ] {
            assert!(loopback(Some(host), "/"), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8000",
            "localhost.evil.example",
            "10.0.0.1:8000",
            "[::2]:80",
            "[::1",
            "",
        ] {
            assert!(!loopback(Some(host), "/"), "{host}");
        }
        assert!(!loopback(None, "/"));
        assert!(loopback(None, "http://127.0.0.1:9/"));
    }

    #[test]
    fn access_rule() {
        use Access::*;
        use PageRoute::*;
        for route in [Shell, Data] {
            for has_key in [false, true] {
                // Loopback: open under a loopback host name, refused under any other.
                assert_eq!(access(route, true, has_key, true), Open);
                assert_eq!(access(route, true, has_key, false), Refused(REBINDING));
                // The network without a key: never offered.
                for host in [false, true] {
                    assert_eq!(
                        access(route, false, false, host),
                        Refused(NO_KEY_ON_NETWORK)
                    );
                }
            }
            // The network with a key: the files are open, the data needs the key.
            let expected = if route == Shell { Open } else { WithKey };
            assert_eq!(access(route, false, true, false), expected);
            assert_eq!(access(route, false, true, true), expected);
        }
    }

    proptest::proptest! {
        /// Any Host header parses without a panic; any 127.x.y.z with a port is loopback.
        #[test]
        fn host_parsing_never_panics(host in "[ -~]{0,64}", a: u8, b: u8, c: u8, port: u16) {
            if let Ok(value) = HeaderValue::from_str(&host) {
                let mut headers = HeaderMap::new();
                headers.insert(HOST, value);
                let _ = host_is_loopback(&headers, &Uri::from_static("/"));
            }
            let v4 = format!("127.{a}.{b}.{c}:{port}");
            proptest::prop_assert!(loopback(Some(&v4), "/"));
        }
    }

    #[test]
    fn page_routes() {
        assert_eq!(page_route(&Method::GET, "/"), Some(PageRoute::Shell));
        assert_eq!(
            page_route(&Method::GET, SCRIPT_PATH),
            Some(PageRoute::Shell)
        );
        assert_eq!(page_route(&Method::GET, "/reviews"), Some(PageRoute::Data));
        assert_eq!(page_route(&Method::GET, LEDGER_PATH), Some(PageRoute::Data));
        assert_eq!(page_route(&Method::POST, "/reviews"), None);
        assert_eq!(page_route(&Method::GET, "/reviews/x/decision"), None);
        assert_eq!(page_route(&Method::GET, "/ledger"), None);
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere_and_renders_data_as_text() {
        for text in [PAGE_HTML, PAGE_JS, PAGE_CSS] {
            assert!(!text.contains("http://") && !text.contains("https://"));
        }
        assert!(PAGE_HTML.contains(SCRIPT_PATH) && PAGE_HTML.contains(STYLE_PATH));
        assert!(!PAGE_HTML.contains("<script>"), "no inline script");
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!PAGE_JS.contains(sink), "the page script uses {sink}");
        }
    }
}
