//! [`LedgixClient`]: the Vault's HTTP API with retries, polling and token verification.
//!
//! One `reqwest::Client` (rustls, pooled connections) per `LedgixClient`; clones share it, the
//! JWKS cache and the replay cache.

mod jwks;
mod ledger;
mod pending;
pub(crate) mod transport;

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tracing::Instrument;

pub use pending::PendingApproval;

use crate::config::Config;
use crate::context::ActiveClearance;
use crate::error::{Denial, Error};
use crate::jwk::KeySet;
use crate::protocol::{
    ClearanceRequest, ClearanceResponse, ClearanceStatus, PolicyRegistration,
    PolicyRegistrationResponse, ReviewDecision,
};
use crate::token::{self, Expectations, ReplayCache, TokenClaims};
use jwks::{JwksCache, Lookup};
use transport::{Answer, send_with_retry};

const API_KEY_HEADER: &str = "x-vault-api-key";
/// The shortest pause between two polls a `Retry-After` can ask for.
const MIN_POLL_PAUSE: Duration = Duration::from_millis(100);
const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// A client of the Vault. Cheap to clone: clones share one connection pool, one JWKS cache and
/// one replay cache.
#[derive(Clone)]
pub struct LedgixClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    http: reqwest::Client,
    base: Url,
    pinned_keys: Option<Arc<KeySet>>,
    jwks: JwksCache,
    replay: ReplayCache,
    limiter: tokio::sync::Semaphore,
}

impl fmt::Debug for LedgixClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgixClient")
            .field("vault_url", &self.inner.config.vault_url)
            .field("agent_id", &self.inner.config.agent_id)
            .finish_non_exhaustive()
    }
}

/// The tool and arguments a clearance is for, so a token can be checked against them.
#[derive(Debug, Clone)]
pub(crate) struct BoundCall {
    pub(crate) tool: String,
    pub(crate) tool_args: Map<String, Value>,
}

impl LedgixClient {
    /// Builds a client (no network access happens here).
    pub fn new(config: Config) -> Result<Self, Error> {
        let base = Url::parse(&config.vault_url)
            .map_err(|e| Error::Config(format!("vault_url `{}`: {e}", config.vault_url)))?;
        if base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "vault_url `{}` cannot carry a path",
                config.vault_url
            )));
        }
        let mut headers = HeaderMap::new();
        if let Some(key) = &config.api_key {
            let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                Error::Config("api_key contains characters not allowed in an HTTP header".into())
            })?;
            value.set_sensitive(true);
            headers.insert(HeaderName::from_static(API_KEY_HEADER), value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .user_agent(concat!("ledgix-rust/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            // A redirect would carry X-Vault-API-Key to wherever it points (reqwest strips only
            // the standard credential headers) and bypass the http:// refusal: never follow.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))?;
        let pinned_keys = config.trusted_keys.clone().map(Arc::new);
        let limit = config_limit(&config);
        Ok(LedgixClient {
            inner: Arc::new(Inner {
                config,
                http,
                base,
                pinned_keys,
                jwks: JwksCache::default(),
                replay: ReplayCache::new(),
                limiter: tokio::sync::Semaphore::new(limit),
            }),
        })
    }

    /// A client configured from the `LEDGIX_*` environment variables.
    pub fn from_env() -> Result<Self, Error> {
        LedgixClient::new(Config::from_env()?)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    // ---------------------------------------------------------------- clearance

    /// Asks the Vault for clearance and waits through `processing` and `pending_review`.
    ///
    /// `Ok` only when approved (with the token verified, unless `verify_jwt` is off, including
    /// its binding to this tool and these arguments); a denial is [`Error::Denied`]; in
    /// [`ReviewMode::Detach`](crate::ReviewMode::Detach) a pending review is
    /// [`Error::ReviewPending`]. Empty `agent_id` / missing `session_id` are filled from the
    /// configuration.
    pub async fn request_clearance(
        &self,
        request: &ClearanceRequest,
    ) -> Result<ClearanceResponse, Error> {
        let request = self.prepare(request.clone());
        let response = self.decide(&request).await?;
        if self.inner.config.verify_jwt {
            let call = BoundCall {
                tool: request.tool_name,
                tool_args: request.tool_args,
            };
            self.verify_response(&response, Some(&call)).await?;
        }
        Ok(response)
    }

    /// What a guarded call does before its body: decide, then verify the token bound to the
    /// call, always (whatever `verify_jwt` says).
    pub(crate) async fn clear_for_call(
        &self,
        request: ClearanceRequest,
    ) -> Result<ActiveClearance, Error> {
        let request = self.prepare(request);
        let span = tracing::info_span!(
            "ledgix.clearance",
            tool = %request.tool_name,
            request_id = tracing::field::Empty,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let outcome = async {
            let response = self.decide(&request).await?;
            let call = BoundCall {
                tool: request.tool_name,
                tool_args: request.tool_args,
            };
            let claims = self.verify_response(&response, Some(&call)).await?;
            Ok(ActiveClearance {
                response: Arc::new(response),
                claims: Arc::new(claims),
            })
        }
        .instrument(span.clone())
        .await;
        record_outcome(&span, started, &outcome);
        outcome
    }

    /// The current state of a request, whatever it is (no waiting, no token verification).
    pub async fn clearance_status(&self, request_id: &str) -> Result<ClearanceResponse, Error> {
        let (response, _) = self.fetch_status(request_id).await?;
        Ok(response)
    }

    /// Polls a request until it is decided or `timeout` passes ([`Error::ReviewTimeout`]).
    /// Approved: `Ok` with the token verified (not bound: this call does not know the
    /// arguments; see [`PendingApproval::wait`] for the bound form). Denied: [`Error::Denied`].
    pub async fn wait_for_decision(
        &self,
        request_id: &str,
        timeout: Duration,
    ) -> Result<ClearanceResponse, Error> {
        let response = self
            .poll_until_decided(request_id, timeout, Duration::ZERO, None)
            .await?;
        if self.inner.config.verify_jwt {
            self.verify_response(&response, None).await?;
        }
        Ok(response)
    }

    /// Records a reviewer's decision on a pending request (`POST /reviews/{id}/decision`).
    /// 404: unknown request; 409: not pending any more.
    pub async fn submit_review_decision(
        &self,
        request_id: &str,
        approved: bool,
        reason: &str,
    ) -> Result<(), Error> {
        check_request_id(request_id)?;
        let body = ReviewDecision {
            approved,
            review_reason: reason.to_string(),
        };
        self.post_json(
            &["reviews", request_id, "decision"],
            &body,
            "POST /reviews/{id}/decision",
        )
        .await?
        .into_success()?;
        Ok(())
    }

    /// Registers a policy with the Vault (`POST /register-policy`).
    pub async fn register_policy(
        &self,
        policy: &PolicyRegistration,
    ) -> Result<PolicyRegistrationResponse, Error> {
        let body = self
            .post_json(&["register-policy"], policy, "POST /register-policy")
            .await?
            .into_success()?;
        parse_json(&body, "POST /register-policy")
    }

    // ---------------------------------------------------------------- tokens

    /// Fetches the Vault's JWKS (`/.well-known/jwks.json`) and parses its Ed25519 keys.
    pub async fn fetch_jwks(&self) -> Result<KeySet, Error> {
        let body = self
            .get(
                &["", ".well-known", "jwks.json"],
                &[],
                "GET /.well-known/jwks.json",
            )
            .await?
            .into_success()?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| Error::TokenVerification("the Vault's JWKS is not UTF-8 text".into()))?;
        KeySet::from_jwks_json(text)
            .map_err(|e| Error::TokenVerification(format!("the Vault's JWKS is unusable: {e}")))
    }

    /// Verifies an A-JWT: signature under the trusted key of its kid, claims, and that its jti
    /// was never used before (it is recorded as used).
    pub async fn verify_token(&self, token: &str) -> Result<TokenClaims, Error> {
        let claims = self.verify_signature_and_claims(token).await?;
        self.record_jti(&claims)?;
        Ok(claims)
    }

    /// [`verify_token`](Self::verify_token) plus the binding: the token must clear exactly
    /// `tool` with exactly `tool_args`.
    pub async fn verify_token_bound(
        &self,
        token: &str,
        tool: &str,
        tool_args: &Map<String, Value>,
    ) -> Result<TokenClaims, Error> {
        let claims = self.verify_signature_and_claims(token).await?;
        token::check_binding(&claims, tool, tool_args)?;
        self.record_jti(&claims)?;
        Ok(claims)
    }

    /// The keys signatures must verify under: those pinned in the configuration, else the
    /// Vault's JWKS (cached for `jwks_ttl`).
    pub(crate) async fn verification_keys(&self) -> Result<Arc<KeySet>, Error> {
        self.keys_for(None).await
    }

    async fn keys_for(&self, kid: Option<&str>) -> Result<Arc<KeySet>, Error> {
        if let Some(pinned) = &self.inner.pinned_keys {
            return Ok(pinned.clone());
        }
        match self.inner.jwks.lookup(kid, self.inner.config.jwks_ttl) {
            Lookup::Hit(keys) => Ok(keys),
            Lookup::Miss { generation } => {
                self.inner
                    .jwks
                    .refresh(generation, || self.fetch_jwks())
                    .await
            }
        }
    }

    async fn verify_signature_and_claims(&self, token: &str) -> Result<TokenClaims, Error> {
        // Parsed once: the header picks the keys, then the same parts are verified.
        let compact = token::parse_compact(token)?;
        let keys = self.keys_for(Some(&compact.kid)).await?;
        let expect = Expectations {
            issuer: &self.inner.config.jwt_issuer,
            audience: &self.inner.config.jwt_audience,
        };
        token::verify_compact(&compact, &keys, expect, SystemTime::now())
    }

    fn record_jti(&self, claims: &TokenClaims) -> Result<(), Error> {
        self.inner
            .replay
            .check_and_record(&claims.jti, claims.exp, SystemTime::now())
    }

    /// Verifies the token of an approved answer (bound to `call` when known).
    pub(crate) async fn verify_response(
        &self,
        response: &ClearanceResponse,
        call: Option<&BoundCall>,
    ) -> Result<TokenClaims, Error> {
        let token = response.token.as_deref().ok_or_else(|| {
            Error::Protocol(format!(
                "request {} was approved without a token",
                response.request_id
            ))
        })?;
        match call {
            Some(call) => {
                self.verify_token_bound(token, &call.tool, &call.tool_args)
                    .await
            }
            None => self.verify_token(token).await,
        }
    }

    // ---------------------------------------------------------------- decision flow

    fn prepare(&self, mut request: ClearanceRequest) -> ClearanceRequest {
        if request.agent_id.is_empty() {
            request.agent_id = self.inner.config.agent_id.clone();
        }
        if request.session_id.is_none() {
            request.session_id = self.inner.config.session_id.clone();
        }
        request
    }

    /// POSTs the request and settles it: approved → `Ok`, denied → `Err(Denied)`, pending →
    /// polls (or detaches).
    async fn decide(&self, request: &ClearanceRequest) -> Result<ClearanceResponse, Error> {
        let body = self
            .post_json(&["request-clearance"], request, "POST /request-clearance")
            .await?
            .into_success()?;
        let response = ClearanceResponse::from_json(&body)
            .map_err(|e| Error::Protocol(format!("POST /request-clearance: {e}")))?;
        // Not kept while a pending request is polled (a held call would carry it for minutes).
        drop(body);
        tracing::Span::current().record("request_id", response.request_id.as_str());
        match response.status {
            ClearanceStatus::Approved => Ok(response),
            ClearanceStatus::Denied => Err(Error::Denied(Denial::from_response(response))),
            ClearanceStatus::PendingReview | ClearanceStatus::Processing => {
                let call = BoundCall {
                    tool: request.tool_name.clone(),
                    tool_args: request.tool_args.clone(),
                };
                if let Some(detached) = self.detach(&response, &call) {
                    return Err(detached);
                }
                let timeout = self.inner.config.review_timeout;
                let first_wait = self.inner.config.review_poll_interval;
                self.poll_until_decided(&response.request_id, timeout, first_wait, Some(&call))
                    .await
            }
        }
    }

    /// In detach mode, a pending review becomes [`Error::ReviewPending`].
    fn detach(&self, response: &ClearanceResponse, call: &BoundCall) -> Option<Error> {
        let detached = self.inner.config.review_mode == crate::ReviewMode::Detach
            && response.status == ClearanceStatus::PendingReview;
        detached.then(|| {
            Error::ReviewPending(PendingApproval::new(
                self.clone(),
                response.clone(),
                Some(call.clone()),
            ))
        })
    }

    /// Polls `/clearance-status/{id}` every `review_poll_interval` (or the answer's
    /// `Retry-After`) until a terminal status or `timeout`, the first time after `first_wait`
    /// (zero when resuming a request that may already be decided). `call` given: a pending
    /// review detaches in detach mode.
    pub(crate) async fn poll_until_decided(
        &self,
        request_id: &str,
        timeout: Duration,
        first_wait: Duration,
        call: Option<&BoundCall>,
    ) -> Result<ClearanceResponse, Error> {
        let config = &self.inner.config;
        let started = Instant::now();
        // Time is counted both as slept (so an injected sleeper makes timeouts deterministic)
        // and as elapsed on the clock (so slow answers count too).
        let mut slept = Duration::ZERO;
        let mut next_wait = first_wait;
        loop {
            let spent = slept.max(started.elapsed());
            if spent >= timeout {
                return Err(Error::ReviewTimeout {
                    request_id: request_id.to_string(),
                });
            }
            let wait = next_wait.min(timeout - spent);
            if !wait.is_zero() {
                config.sleeper.sleep(wait).await;
                slept += wait;
            }
            let (response, retry_after) = self.fetch_status(request_id).await?;
            // A Retry-After may lengthen or shorten the pause, but never to a busy loop.
            next_wait = retry_after.map_or(config.review_poll_interval, |d| {
                d.max(config.review_poll_interval.min(MIN_POLL_PAUSE))
            });
            match response.status {
                ClearanceStatus::Approved => return Ok(response),
                ClearanceStatus::Denied => {
                    return Err(Error::Denied(Denial::from_response(response)));
                }
                ClearanceStatus::PendingReview | ClearanceStatus::Processing => {
                    if let Some(call) = call
                        && let Some(detached) = self.detach(&response, call)
                    {
                        return Err(detached);
                    }
                }
            }
        }
    }

    async fn fetch_status(
        &self,
        request_id: &str,
    ) -> Result<(ClearanceResponse, Option<Duration>), Error> {
        check_request_id(request_id)?;
        let answer = self
            .get(
                &["clearance-status", request_id],
                &[],
                "GET /clearance-status/{id}",
            )
            .await?;
        let retry_after = answer.retry_after();
        let body = answer.into_success()?;
        let response = ClearanceResponse::from_json(&body)
            .map_err(|e| Error::Protocol(format!("GET /clearance-status/{{id}}: {e}")))?;
        if !response.request_id.is_empty() && response.request_id != request_id {
            return Err(Error::Protocol(format!(
                "GET /clearance-status/{request_id} answered for request {}",
                response.request_id
            )));
        }
        Ok((response, retry_after))
    }

    // ---------------------------------------------------------------- HTTP

    /// `base` + path segments (each percent-encoded). A leading `""` segment is ignored.
    fn endpoint(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments.iter().filter(|s| !s.is_empty()));
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// GET with retries.
    pub(crate) async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        what: &str,
    ) -> Result<Answer, Error> {
        let url = self.endpoint(segments, query);
        send_with_retry(&self.inner.config, &self.inner.limiter, what, || {
            self.inner.http.get(url.clone())
        })
        .await
    }

    /// GET a 2xx JSON answer of type `T`; `path` is like `/ledger/proof/bundle`.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
    ) -> Result<T, Error> {
        let segments: Vec<&str> = path.split('/').collect();
        let body = self.get(&segments, query, what).await?.into_success()?;
        parse_json(&body, what)
    }

    /// POST a JSON body with one Idempotency-Key for all its retries.
    async fn post_json(
        &self,
        segments: &[&str],
        body: &impl serde::Serialize,
        what: &str,
    ) -> Result<Answer, Error> {
        let body = Bytes::from(
            serde_json::to_vec(body)
                .map_err(|e| Error::ToolArgs(format!("{what}: body not serializable: {e}")))?,
        );
        let url = self.endpoint(segments, &[]);
        let key = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .map_err(|_| Error::Protocol("idempotency key".into()))?;
        send_with_retry(&self.inner.config, &self.inner.limiter, what, || {
            self.inner
                .http
                .post(url.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(IDEMPOTENCY_KEY_HEADER, key.clone())
                .body(body.clone())
        })
        .await
    }
}

fn config_limit(config: &Config) -> usize {
    config
        .max_concurrent_requests
        .min(tokio::sync::Semaphore::MAX_PERMITS)
}

/// A request id goes into a URL path: empty, `.` and `..` would name another endpoint.
fn check_request_id(request_id: &str) -> Result<(), Error> {
    if matches!(request_id, "" | "." | "..") {
        return Err(Error::Protocol(format!(
            "`{request_id}` is not a usable request_id"
        )));
    }
    Ok(())
}

fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::Protocol(format!("{what}: {e}")))
}

fn record_outcome(
    span: &tracing::Span,
    started: Instant,
    outcome: &Result<ActiveClearance, Error>,
) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("elapsed_ms", elapsed_ms);
    let _entered = span.enter();
    match outcome {
        Ok(active) => {
            span.record("status", "approved");
            tracing::debug!(request_id = %active.response.request_id, "clearance approved");
        }
        Err(Error::Denied(d)) => {
            span.record("status", "denied");
            tracing::warn!(request_id = %d.request_id, reason = %d.reason, "clearance denied");
        }
        Err(Error::ReviewPending(p)) => {
            span.record("status", "pending_review");
            tracing::info!(request_id = %p.request_id(), "clearance waits for human review");
        }
        Err(e) => {
            span.record("status", "error");
            tracing::warn!(error = %e, "clearance failed; the tool did not run");
        }
    }
}

static DEFAULT_CLIENT: RwLock<Option<LedgixClient>> = RwLock::new(None);

/// Replaces the process-wide default client.
pub(crate) fn set_default_client(client: LedgixClient) {
    let mut guard = match DEFAULT_CLIENT.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    *guard = Some(client);
}

/// The process-wide default client: the one `configure()` set, else one built from the
/// environment on first use.
pub(crate) fn default_client() -> Result<LedgixClient, Error> {
    {
        let guard = match DEFAULT_CLIENT.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(client) = guard.as_ref() {
            return Ok(client.clone());
        }
    }
    let client = LedgixClient::from_env().map_err(|e| {
        Error::Config(format!(
            "no Ledgix client for this guarded call: none in scope (with_client / \
             MockVault::scope), none given (client = ..), none configured (ledgix::configure), \
             and the environment gives none: {e}"
        ))
    })?;
    let mut guard = match DEFAULT_CLIENT.write() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    Ok(guard.get_or_insert(client).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_the_base_path_and_encode_segments() {
        let client = LedgixClient::new(
            Config::builder()
                .vault_url("https://vault.example.com/api/v1/")
                .build()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            client
                .endpoint(&["clearance-status", "a/b?c"], &[])
                .as_str(),
            "https://vault.example.com/api/v1/clearance-status/a%2Fb%3Fc"
        );
        assert_eq!(
            client
                .endpoint(
                    &["", "ledger", "proof", "bundle"],
                    &[("request_id", "r 1&x".into())]
                )
                .as_str(),
            "https://vault.example.com/api/v1/ledger/proof/bundle?request_id=r+1%26x"
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let client = LedgixClient::new(
            Config::builder()
                .api_key("sk_live_very_secret")
                .build()
                .unwrap(),
        )
        .unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("sk_live"), "{dbg}");
    }
}
