//! Bench section `gateway`: requests per second through `GatewayLayer` against a bare axum
//! handler that does the same Ed25519 verification, at 64 concurrent clients.
//!
//! Both servers run on loopback in this process, answer `POST /pay` with an empty 200 and get
//! the same requests: a JSON body of payment arguments and `Authorization: Bearer <A-JWT>`,
//! each token unique (the gateway passes a token once). The bare handler takes the bearer
//! token, decodes its signature and runs `verify_strict` over `header.payload` — the floor a
//! hand-written gateway cannot go under. The gateway path adds everything else it checks: the
//! header and claims, the tool, the canonical-JSON hash of the body against `tool_args_hash`,
//! the replay store, the header rewrite and its tracing span. Tokens are minted before each
//! round, outside the timing. Rounds are short and many, alternating which server goes first,
//! so that both see the same background load on a shared machine; the figure is the ratio
//! gateway / bare per round (median, min, max). Goal: ≥ 0.90.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use ledgix::gateway::Gateway;
use ledgix::token::TokenSigner;
use ledgix::{Audience, TokenClaims, tool_args_hash};
use ledgix_bench::stats::{Side, Spread, pair_order};
use serde_json::{Map, Value, json};

/// Concurrent clients.
const CLIENTS: usize = 64;
const TOOL: &str = "create_payment";

/// Runs the section; returns `("gateway_vs_bare", median, min, max)` of gateway / bare
/// requests per second.
pub async fn run(quick: bool) -> Vec<(&'static str, f64, f64, f64)> {
    let (rounds, window) = if quick {
        (4, Duration::from_millis(200))
    } else {
        (25, Duration::from_millis(300))
    };
    let signer = TokenSigner::from_seed("bench-gateway-key", [7; 32]);
    let args = json!({"amount": 1000, "currency": "usd", "customer": "cus_123"});
    let args_map = args.as_object().cloned().unwrap_or_default();
    let body = Bytes::from(args.to_string());

    let gateway = Gateway::builder()
        .trusted_keys(signer.key_set())
        .tool(TOOL)
        .build()
        .expect("the bench gateway builds");
    let gateway_url = serve(
        Router::new()
            .route("/pay", post(cleared))
            .layer(gateway.layer()),
    )
    .await;
    let bare_url = serve(
        Router::new()
            .route("/pay", post(bare))
            .with_state(Arc::new(signer.verifying_key())),
    )
    .await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .expect("an HTTP client");

    // Warm both up and size the token pools from the bare rate.
    let warm = mint(&signer, &args_map, "warm", 4_000);
    let _ = load(&http, &bare_url, &body, &warm, Duration::from_millis(300)).await;
    let warm_rate = load(
        &http,
        &gateway_url,
        &body,
        &warm,
        Duration::from_millis(300),
    )
    .await
    .rate;
    let per_round = ((warm_rate * window.as_secs_f64() * 2.0) as usize).clamp(2_000, 200_000);

    eprintln!("gateway: {CLIENTS} clients, {rounds} rounds of {window:?} per server");
    eprintln!(
        "  {:>5} {:>12} {:>12} {:>7}",
        "round", "bare req/s", "gateway req/s", "ratio"
    );
    let mut ratios = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let tokens = mint(&signer, &args_map, &format!("r{round}"), per_round);
        // Side A is the bare handler, B the gateway, in the harness's alternating order.
        let (bare_run, gateway_run) = if pair_order(round)[0] == Side::A {
            let b = load(&http, &bare_url, &body, &tokens, window).await;
            (b, load(&http, &gateway_url, &body, &tokens, window).await)
        } else {
            let g = load(&http, &gateway_url, &body, &tokens, window).await;
            (load(&http, &bare_url, &body, &tokens, window).await, g)
        };
        if gateway_run.refused > 0 || bare_run.refused > 0 {
            eprintln!(
                "  round {round}: {} gateway and {} bare requests refused (a bench bug)",
                gateway_run.refused, bare_run.refused
            );
        }
        let ratio = gateway_run.rate / bare_run.rate.max(f64::MIN_POSITIVE);
        eprintln!(
            "  {round:>5} {:>12.0} {:>12.0} {ratio:>7.3}",
            bare_run.rate, gateway_run.rate
        );
        ratios.push(ratio);
    }
    let spread = Spread::of(&ratios);
    eprintln!(
        "  gateway_vs_bare median {:.3} (min {:.3}, max {:.3}; goal ≥ 0.90)",
        spread.median, spread.min, spread.max
    );
    vec![spread.figure("gateway_vs_bare")]
}

/// What the gateway's inner handler does: read the body, answer.
async fn cleared(body: Bytes) -> StatusCode {
    std::hint::black_box(body);
    StatusCode::OK
}

/// The floor: bearer token, signature decoded, `verify_strict` over `header.payload`.
async fn bare(State(key): State<Arc<VerifyingKey>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    std::hint::black_box(body);
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some((input, sig)) = token.and_then(|t| t.rsplit_once('.')) else {
        return StatusCode::UNAUTHORIZED;
    };
    let Some(sig) = URL_SAFE_NO_PAD
        .decode(sig)
        .ok()
        .and_then(|s| Signature::from_slice(&s).ok())
    else {
        return StatusCode::UNAUTHORIZED;
    };
    match key.verify_strict(input.as_bytes(), &sig) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::UNAUTHORIZED,
    }
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let url = format!(
        "http://{}/pay",
        listener.local_addr().expect("a local address")
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// `n` valid tokens for `args`, each with its own `jti`.
fn mint(signer: &TokenSigner, args: &Map<String, Value>, tag: &str, n: usize) -> Arc<Vec<String>> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let hash = tool_args_hash(args);
    let tokens = (0..n)
        .map(|i| {
            signer.sign(&TokenClaims {
                iss: "alcv-vault".into(),
                sub: "clearance".into(),
                aud: Audience::One("ledgix-sdk".into()),
                exp: now + 900,
                iat: Some(now),
                nbf: None,
                jti: format!("bench-{tag}-{i}"),
                tool: TOOL.into(),
                agent_id: "bench-agent".into(),
                session_id: "bench".into(),
                policy_id: "payments".into(),
                decision: "approved".into(),
                tool_args_hash: hash.clone(),
                extra: Map::new(),
            })
        })
        .collect();
    Arc::new(tokens)
}

/// One timed run against one server.
struct Run {
    rate: f64,
    refused: usize,
}

/// `CLIENTS` tasks POST for `window` (or until the tokens run out), each request with the next
/// token; the rate is the 200 answers per second of the run.
async fn load(
    http: &reqwest::Client,
    url: &str,
    body: &Bytes,
    tokens: &Arc<Vec<String>>,
    window: Duration,
) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + window;
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, url, body) = (http.clone(), url.to_string(), body.clone());
            let (tokens, next, done, refused) =
                (tokens.clone(), next.clone(), done.clone(), refused.clone());
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    let Some(token) = tokens.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let sent = http
                        .post(&url)
                        .header(AUTHORIZATION, format!("Bearer {token}"))
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(resp) if resp.status() == StatusCode::OK => {
                            let _ = resp.bytes().await;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            refused.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    Run {
        rate: done.load(Ordering::Relaxed) as f64 / elapsed,
        refused: refused.load(Ordering::Relaxed),
    }
}
