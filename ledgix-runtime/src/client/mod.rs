//! [`LedgixClient`]: the Vault's HTTP API with retries, polling and token verification.
//!
//! One `reqwest::Client` (rustls, pooled connections, no proxy unless configured, no
//! redirects) per `LedgixClient`, or the caller's own; clones share it and the JWKS cache.
//! Used token ids go to the configured [`ReplayStore`](crate::ReplayStore), by default one
//! store for every client of the process.

mod cache;
pub(crate) mod jwks;
mod ledger;
mod pending;
mod resolve;
pub(crate) mod transport;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tracing::Instrument;

pub use pending::PendingApproval;
pub use resolve::{configure, propagate, with_client};
pub(crate) use resolve::{default_client, scoped_client};

use crate::config::{Config, is_loopback, redact_url};
use crate::error::{Denial, Error, shown_reason};
use crate::jwk::KeySet;
use crate::protocol::{
    ClearanceRequest, ClearanceResponse, ClearanceStatus, PolicyRegistration,
    PolicyRegistrationResponse, ReviewDecision,
};
use crate::token::{self, Expectations, TokenClaims};
use jwks::JwksCache;
use transport::{Answer, Deadline, send_with_retry};

const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-vault-api-key");
const IDEMPOTENCY_KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// The shortest pause between two polls a `Retry-After` can ask for.
const MIN_POLL_PAUSE: Duration = Duration::from_millis(100);
/// The role prefix of the ids this client records in the replay store: "this token ran a body
/// (or was taken by `request_clearance` / `verify_token`) on the agent side". A gateway records
/// its passes under its own prefix, so one token passes each once.
const REPLAY_ROLE: &str = "run:";

/// A client of the Vault. Cheap to clone: clones share one connection pool and one JWKS cache;
/// every client of the process shares the default replay store. A delegated client
/// ([`delegate`](Self::delegate)) is such a clone plus the `parent_jti` it sends.
#[derive(Clone)]
pub struct LedgixClient {
    inner: Arc<Inner>,
    /// Sent as `parent_jti` on requests that carry none (a delegated client).
    parent_jti: Option<Arc<str>>,
}

struct Inner {
    config: Config,
    http: reqwest::Client,
    base: Url,
    api_key: Option<HeaderValue>,
    token_keys: Option<Arc<KeySet>>,
    ledger_keys: Option<Arc<KeySet>>,
    jwks: JwksCache,
    limiter: tokio::sync::Semaphore,
    /// The decision cache, when configured (shared by clones).
    cache: Option<Arc<cache::DecisionCache>>,
}

impl fmt::Debug for LedgixClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LedgixClient")
            .field("vault_url", &redact_url(&self.inner.config.vault_url))
            .field("agent_id", &self.inner.config.agent_id)
            .field("parent_jti", &self.parent_jti)
            .finish_non_exhaustive()
    }
}

/// The tool and arguments a clearance is for, so a token can be checked against them.
#[derive(Debug, Clone)]
pub(crate) struct BoundCall {
    pub(crate) tool: String,
    pub(crate) tool_args: Map<String, Value>,
}

/// The token of an approved answer; an approval without one is a protocol error.
fn approved_token(response: &ClearanceResponse) -> Result<&str, Error> {
    response.token.as_deref().ok_or_else(|| {
        Error::Protocol(format!(
            "request {} was approved without a token",
            response.request_id
        ))
    })
}

/// How to follow one request while it is not decided.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Follow<'a> {
    /// The tool, for the log lines.
    pub(crate) tool: Option<&'a str>,
    /// The call a pending review detaches with in detach mode (`None`: never detach).
    pub(crate) detach_with: Option<&'a BoundCall>,
    /// Whether the request is already known to be held for review.
    pub(crate) held: bool,
}

impl LedgixClient {
    /// Builds a client (no network access happens here).
    pub fn new(config: Config) -> Result<Self, Error> {
        let base = Url::parse(&config.vault_url).map_err(|e| {
            Error::Config(format!(
                "vault_url `{}`: {e}",
                redact_url(&config.vault_url)
            ))
        })?;
        if base.cannot_be_a_base() {
            return Err(Error::Config(format!(
                "vault_url `{}` cannot carry a path",
                redact_url(&config.vault_url)
            )));
        }
        let api_key = match &config.api_key {
            Some(key) => {
                let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
                    Error::Config(
                        "api_key contains characters not allowed in an HTTP header".into(),
                    )
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let http = match &config.http_client {
            Some(http) => http.clone(),
            None => build_http_client(&config, &base)?,
        };
        let token_keys = config.trusted_keys.clone().map(Arc::new);
        let ledger_keys = config.ledger_keys.clone().map(Arc::new);
        let jwks = JwksCache::new(config.jwks_ttl, config.jwks_refetch_cooldown);
        let limit = config_limit(&config);
        if let Some(size) = config.replay_cache_size {
            if config.replay_store_is_default {
                crate::token::MemoryReplayStore::ask_process_capacity(size);
            } else {
                tracing::debug!(
                    "replay_cache_size bounds the process-wide replay store only; this client \
                     uses its own store"
                );
            }
        }
        let cache = config.decision_cache.then(|| {
            Arc::new(cache::DecisionCache::new(
                config.decision_cache_ttl,
                config.decision_cache_max_entries,
            ))
        });
        Ok(LedgixClient {
            inner: Arc::new(Inner {
                config,
                http,
                base,
                api_key,
                token_keys,
                ledger_keys,
                jwks,
                limiter: tokio::sync::Semaphore::new(limit),
                cache,
            }),
            parent_jti: None,
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

    /// A client for a sub-agent acting under the A-JWT `parent_jti`: it sends `parent_jti` on
    /// every request that carries none, so the Vault links the sub-agent's calls to the call
    /// that spawned them.
    ///
    /// Unlike the official SDKs' `create_delegated_client` (a whole new client), it shares
    /// everything with this one — connection pool, JWKS cache, replay store, limiter and any
    /// other cache — and costs one `Arc` clone. Delegating a delegated client replaces the
    /// parent. Inside a guarded body, [`delegated_client()`](crate::delegated_client) delegates
    /// from the running call's own token in one call.
    ///
    /// ```no_run
    /// # async fn demo(client: ledgix_runtime::LedgixClient) -> Result<(), ledgix_runtime::Error> {
    /// let sub_agent = client.delegate("jti-of-the-parent-token");
    /// ledgix_runtime::ToolCall::new("send_email")
    ///     .client(&sub_agent)
    ///     .run(async { Ok::<_, ledgix_runtime::Error>(()) })
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn delegate(&self, parent_jti: impl Into<String>) -> LedgixClient {
        let parent: String = parent_jti.into();
        LedgixClient {
            inner: self.inner.clone(),
            parent_jti: (!parent.is_empty()).then(|| Arc::from(parent)),
        }
    }

    /// The `parent_jti` this client sends on requests that carry none (a delegated client).
    pub fn parent_jti(&self) -> Option<&str> {
        self.parent_jti.as_deref()
    }

    /// Whether `self` and `other` share one pool, JWKS cache and configuration (clones and
    /// delegates of one client do).
    pub fn shares_state_with(&self, other: &LedgixClient) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    // ---------------------------------------------------------------- clearance

    /// Asks the Vault for clearance and waits through `processing` and `pending_review`, all
    /// within `review_timeout`.
    ///
    /// `Ok` only when approved (with the token verified, unless `verify_jwt` is off, including
    /// its binding to this tool and these arguments, and its id recorded as used); a denial is
    /// [`Error::Denied`]; in [`ReviewMode::Detach`](crate::ReviewMode::Detach) a pending review
    /// is [`Error::ReviewPending`]. Empty `agent_id` / missing `session_id` are filled from the
    /// configuration.
    pub async fn request_clearance(
        &self,
        request: &ClearanceRequest,
    ) -> Result<ClearanceResponse, Error> {
        let request = self.prepare(request.clone());
        let mut deadline = Deadline::after(self.inner.config.review_timeout);
        let verify = self.inner.config.verify_jwt;
        let (response, _) = self
            .decide_and_verify(&request, &mut deadline, verify)
            .await?;
        Ok(response)
    }

    /// What a guarded call does before its body: decide, then verify the token bound to the
    /// call, always (whatever `verify_jwt` says), and record its id as used. The guard runs
    /// the body under the answer and claims returned.
    pub(crate) async fn clear_for_call(
        &self,
        request: ClearanceRequest,
    ) -> Result<(ClearanceResponse, TokenClaims), Error> {
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
            let mut deadline = Deadline::after(self.inner.config.review_timeout);
            let (response, claims) = self
                .decide_and_verify(&request, &mut deadline, true)
                .await?;
            let claims = claims.ok_or_else(|| {
                Error::TokenVerification("the token of the approval was not verified".into())
            })?;
            Ok((response, claims))
        }
        .instrument(span.clone())
        .await;
        record_outcome(&span, started, &outcome);
        outcome
    }

    /// The current state of a request, whatever it is (no waiting, no token verification).
    pub async fn clearance_status(&self, request_id: &str) -> Result<ClearanceResponse, Error> {
        let mut deadline = Deadline::after(self.inner.config.review_timeout);
        let (response, _) = self.fetch_status(request_id, &mut deadline).await?;
        Ok(response)
    }

    /// Polls a request until it is decided or `timeout` passes ([`Error::ReviewTimeout`]).
    /// Approved: `Ok` with the token verified and its id recorded as used (not bound: this
    /// call does not know the arguments; see [`PendingApproval::wait`] for the bound form).
    /// Denied: [`Error::Denied`].
    pub async fn wait_for_decision(
        &self,
        request_id: &str,
        timeout: Duration,
    ) -> Result<ClearanceResponse, Error> {
        let mut deadline = Deadline::after(timeout);
        let follow = Follow {
            tool: None,
            detach_with: None,
            held: false,
        };
        let response = self
            .poll_until_decided(request_id, &mut deadline, Duration::ZERO, follow)
            .await?;
        if self.inner.config.verify_jwt {
            self.verify_response(&response, None).await?;
        }
        Ok(response)
    }

    /// Records a reviewer's decision on a pending request (`POST /reviews/{id}/decision`,
    /// body `{"approved": bool, "review_reason": ".."}`). 404: unknown request; 409: not
    /// pending any more.
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
        let mut deadline = Deadline::after(self.inner.config.review_timeout);
        self.post_json(
            &["reviews", request_id, "decision"],
            &body,
            "POST /reviews/{id}/decision",
            &mut deadline,
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
        let mut deadline = Deadline::after(self.inner.config.review_timeout);
        let body = self
            .post_json(
                &["register-policy"],
                policy,
                "POST /register-policy",
                &mut deadline,
            )
            .await?
            .into_success()?;
        parse_json(&body, "POST /register-policy")
    }

    // ---------------------------------------------------------------- tokens

    /// Fetches the Vault's JWKS (`/.well-known/jwks.json`) and parses its Ed25519 keys.
    ///
    /// Keys fetched from the Vault prove only that they are the keys this Vault serves now;
    /// to check the Vault itself (an auditor's view), pin keys obtained another way
    /// ([`ConfigBuilder::trusted_keys`](crate::ConfigBuilder::trusted_keys),
    /// [`ConfigBuilder::ledger_keys`](crate::ConfigBuilder::ledger_keys)).
    pub async fn fetch_jwks(&self) -> Result<KeySet, Error> {
        let mut deadline = Deadline::after(self.inner.config.review_timeout);
        let body = self
            .get(
                &["", ".well-known", "jwks.json"],
                &[],
                "GET /.well-known/jwks.json",
                &mut deadline,
            )
            .await?
            .into_success()?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| Error::TokenVerification("the Vault's JWKS is not UTF-8 text".into()))?;
        KeySet::from_jwks_json(text)
            .map_err(|e| Error::TokenVerification(format!("the Vault's JWKS is unusable: {e}")))
    }

    /// Verifies an A-JWT: signature under the trusted key of its kid, claims, and that its jti
    /// was never used before (it is recorded as used in the replay store, so the token can no
    /// longer clear a guarded body in any client sharing that store).
    pub async fn verify_token(&self, token: &str) -> Result<TokenClaims, Error> {
        let claims = self.verify_signature_and_claims(token).await?;
        self.record_use(&claims).await?;
        Ok(claims)
    }

    /// [`verify_token`](Self::verify_token) plus the binding: the token must clear exactly
    /// `tool` with exactly `tool_args` (their serialized JSON form). A token that fails the
    /// binding is not recorded as used.
    pub async fn verify_token_bound(
        &self,
        token: &str,
        tool: &str,
        tool_args: &Map<String, Value>,
    ) -> Result<TokenClaims, Error> {
        let claims = self.verify_signature_and_claims(token).await?;
        token::check_binding(&claims, tool, tool_args)?;
        self.record_use(&claims).await?;
        Ok(claims)
    }

    /// The keys to verify a signature by `kid` under, for `pinned` keys (returned as they are)
    /// or else the Vault's JWKS through the cache (fetched when empty or stale, refetched for an
    /// unknown `kid` at most once per cooldown).
    pub(crate) async fn keys_for(
        &self,
        pinned: Option<&Arc<KeySet>>,
        kid: Option<&str>,
    ) -> Result<Arc<KeySet>, Error> {
        if let Some(pinned) = pinned {
            return Ok(pinned.clone());
        }
        self.inner
            .jwks
            .keys_for(kid, Instant::now(), || self.fetch_jwks())
            .await
    }

    async fn verify_signature_and_claims(&self, token: &str) -> Result<TokenClaims, Error> {
        // Parsed once: the header picks the keys, then the same parts are verified.
        let compact = token::parse_compact(token)?;
        let keys = self
            .keys_for(self.inner.token_keys.as_ref(), Some(&compact.kid))
            .await?;
        let expect = Expectations {
            issuer: &self.inner.config.jwt_issuer,
            audience: &self.inner.config.jwt_audience,
        };
        let now = SystemTime::now();
        let claims = token::verify_compact(&compact, &keys, expect, now)?;
        token::check_lifetime(&claims, self.inner.config.max_token_lifetime, now)?;
        Ok(claims)
    }

    /// Records the token's id as used in the replay store; a second use is
    /// [`Error::ReplayDetected`], a store that cannot answer an error (fail closed).
    async fn record_use(&self, claims: &TokenClaims) -> Result<(), Error> {
        let key = format!("{REPLAY_ROLE}{}", claims.jti);
        let forget_after = token::forget_after(claims.exp);
        if self
            .inner
            .config
            .replay_store
            .first_use(&key, forget_after)
            .await?
        {
            Ok(())
        } else {
            Err(Error::ReplayDetected {
                jti: claims.jti.clone(),
            })
        }
    }

    /// Verifies the token of an approved answer (bound to `call` when known) and records it
    /// as used.
    pub(crate) async fn verify_response(
        &self,
        response: &ClearanceResponse,
        call: Option<&BoundCall>,
    ) -> Result<TokenClaims, Error> {
        match call {
            Some(call) => {
                self.verify_response_bound(response, &call.tool, &call.tool_args)
                    .await
            }
            None => self.verify_token(approved_token(response)?).await,
        }
    }

    /// [`verify_response`](Self::verify_response) bound to `tool` and `tool_args`.
    pub(crate) async fn verify_response_bound(
        &self,
        response: &ClearanceResponse,
        tool: &str,
        tool_args: &Map<String, Value>,
    ) -> Result<TokenClaims, Error> {
        self.verify_token_bound(approved_token(response)?, tool, tool_args)
            .await
    }

    // ---------------------------------------------------------------- decision flow

    /// Fills what the request leaves unset: agent and session ids and `human_principal` from
    /// the configuration, `parent_jti` from a delegated client, and the `destination_*`
    /// fields from the counterparty hint (when on). What the request sets always wins.
    pub(crate) fn prepare(&self, mut request: ClearanceRequest) -> ClearanceRequest {
        let config = &self.inner.config;
        if request.agent_id.is_empty() {
            request.agent_id = config.agent_id.clone();
        }
        if request.session_id.is_none() {
            request.session_id = config.session_id.clone();
        }
        if request.human_principal.is_none() {
            request.human_principal = config.principal_id.clone();
        }
        if request.parent_jti.is_none() {
            request.parent_jti = self.parent_jti.as_deref().map(str::to_string);
        }
        let unset = request.destination_uri.is_none()
            || request.destination_provider.is_none()
            || request.destination_account_ref.is_none();
        if config.counterparty_hints && unset {
            let hint =
                crate::counterparty::extract_counterparty(&request.tool_name, &request.tool_args);
            request.destination_uri = request.destination_uri.or(hint.destination_uri);
            request.destination_provider =
                request.destination_provider.or(hint.destination_provider);
            request.destination_account_ref = request
                .destination_account_ref
                .or(hint.destination_account_ref);
        }
        request
    }

    /// POSTs the request and settles it within `deadline`: approved → `Ok`, denied →
    /// `Err(Denied)`, pending → polls (or detaches).
    async fn decide(
        &self,
        request: &ClearanceRequest,
        deadline: &mut Deadline,
    ) -> Result<ClearanceResponse, Error> {
        let first = self.post_clearance(request, deadline).await?;
        self.settle(request, first, deadline).await
    }

    /// `POST /request-clearance`: the Vault's first answer, checked.
    async fn post_clearance(
        &self,
        request: &ClearanceRequest,
        deadline: &mut Deadline,
    ) -> Result<ClearanceResponse, Error> {
        let body = self
            .post_json(
                &["request-clearance"],
                request,
                "POST /request-clearance",
                deadline,
            )
            .await?
            .into_success()?;
        let response = ClearanceResponse::from_json(&body)
            .map_err(|e| Error::Protocol(format!("POST /request-clearance: {e}")))?;
        // Not kept while a pending request is polled (a held call would carry it for minutes).
        drop(body);
        tracing::Span::current().record("request_id", response.request_id.as_str());
        Ok(response)
    }

    /// Settles the first answer to `request`: approved → `Ok`, denied → `Err(Denied)`,
    /// pending → polls (or detaches) within `deadline`.
    async fn settle(
        &self,
        request: &ClearanceRequest,
        response: ClearanceResponse,
        deadline: &mut Deadline,
    ) -> Result<ClearanceResponse, Error> {
        match response.status {
            ClearanceStatus::Approved => Ok(response),
            ClearanceStatus::Denied => Err(Error::Denied(Denial::from_response(response))),
            ClearanceStatus::PendingReview | ClearanceStatus::Processing => {
                let call = BoundCall {
                    tool: request.tool_name.clone(),
                    tool_args: request.tool_args.clone(),
                };
                let held = response.status == ClearanceStatus::PendingReview;
                if held {
                    log_held(&response, Some(&call.tool));
                }
                if let Some(detached) = self.detach(&response, &call) {
                    return Err(detached);
                }
                let follow = Follow {
                    tool: Some(&call.tool),
                    detach_with: Some(&call),
                    held,
                };
                let first_wait = self.inner.config.review_poll_interval;
                self.poll_until_decided(&response.request_id, deadline, first_wait, follow)
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
    /// `Retry-After`) until a terminal status or the deadline ([`Error::ReviewTimeout`]), the
    /// first time after `first_wait` (zero when resuming a request that may already be
    /// decided). Logs at `info` when the request is held for review and when a held request is
    /// decided.
    pub(crate) async fn poll_until_decided(
        &self,
        request_id: &str,
        deadline: &mut Deadline,
        first_wait: Duration,
        follow: Follow<'_>,
    ) -> Result<ClearanceResponse, Error> {
        let config = &self.inner.config;
        let timeout = || Error::ReviewTimeout {
            request_id: request_id.to_string(),
        };
        let mut held = follow.held;
        let mut next_wait = first_wait;
        loop {
            if deadline.is_over() {
                return Err(timeout());
            }
            deadline.pause(config, next_wait).await;
            let (response, retry_after) = match self.fetch_status(request_id, deadline).await {
                Ok(answer) => answer,
                // The deadline cut the poll's retries short: the review did not finish in time.
                Err(_) if deadline.was_cut() => return Err(timeout()),
                Err(e) => return Err(e),
            };
            // A Retry-After may lengthen or shorten the pause, but never to a busy loop.
            next_wait = retry_after.map_or(config.review_poll_interval, |d| {
                d.max(config.review_poll_interval.min(MIN_POLL_PAUSE))
            });
            match response.status {
                ClearanceStatus::Approved | ClearanceStatus::Denied => {
                    if held {
                        log_decided(&response, follow.tool);
                    }
                    if response.status == ClearanceStatus::Denied {
                        return Err(Error::Denied(Denial::from_response(response)));
                    }
                    return Ok(response);
                }
                ClearanceStatus::PendingReview | ClearanceStatus::Processing => {
                    if !held && response.status == ClearanceStatus::PendingReview {
                        held = true;
                        log_held(&response, follow.tool);
                    }
                    if let Some(call) = follow.detach_with
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
        deadline: &mut Deadline,
    ) -> Result<(ClearanceResponse, Option<Duration>), Error> {
        check_request_id(request_id)?;
        let answer = self
            .get(
                &["clearance-status", request_id],
                &[],
                "GET /clearance-status/{id}",
                deadline,
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

    /// A request to `url` with the API key (marked sensitive) when one is configured.
    fn request(&self, method: reqwest::Method, url: &Url) -> reqwest::RequestBuilder {
        let builder = self.inner.http.request(method, url.clone());
        match &self.inner.api_key {
            Some(key) => builder.header(API_KEY_HEADER, key.clone()),
            None => builder,
        }
    }

    /// GET with retries, within `deadline`.
    pub(crate) async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        what: &str,
        deadline: &mut Deadline,
    ) -> Result<Answer, Error> {
        let url = self.endpoint(segments, query);
        self.send(deadline, what, &url, || {
            self.request(reqwest::Method::GET, &url)
        })
        .await
    }

    /// GET a 2xx JSON answer of type `T`; `path` is like `/ledger/proof/bundle`.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        what: &str,
        deadline: &mut Deadline,
    ) -> Result<T, Error> {
        let segments: Vec<&str> = path.split('/').collect();
        let body = self
            .get(&segments, query, what, deadline)
            .await?
            .into_success()?;
        parse_json(&body, what)
    }

    /// POST a JSON body with one Idempotency-Key for all its retries, within `deadline`.
    async fn post_json(
        &self,
        segments: &[&str],
        body: &impl serde::Serialize,
        what: &str,
        deadline: &mut Deadline,
    ) -> Result<Answer, Error> {
        let body = Bytes::from(
            serde_json::to_vec(body)
                .map_err(|e| Error::ToolArgs(format!("{what}: body not serializable: {e}")))?,
        );
        let url = self.endpoint(segments, &[]);
        let key = HeaderValue::from_str(&crate::random::uuid_v4())
            .map_err(|_| Error::Protocol("idempotency key".into()))?;
        self.send(deadline, what, &url, || {
            self.request(reqwest::Method::POST, &url)
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(IDEMPOTENCY_KEY_HEADER, key.clone())
                .body(body.clone())
        })
        .await
    }

    /// Sends what `build` makes to `url` with this client's retry rules and limiter.
    async fn send(
        &self,
        deadline: &mut Deadline,
        what: &str,
        url: &Url,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Answer, Error> {
        send_with_retry(
            &self.inner.config,
            &self.inner.limiter,
            deadline,
            what,
            url,
            build,
        )
        .await
    }
}

/// The `reqwest::Client` this crate builds: rustls, pooled, no redirects, and no proxy but the
/// one the configuration names (never one from the environment, never for a loopback Vault).
fn build_http_client(config: &Config, base: &Url) -> Result<reqwest::Client, Error> {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("ledgix-rust/", env!("CARGO_PKG_VERSION")))
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(90))
        // A redirect would carry X-Vault-API-Key to wherever it points (reqwest strips only
        // the standard credential headers) and bypass the http:// refusal: never follow.
        .redirect(reqwest::redirect::Policy::none())
        // HTTP_PROXY / HTTPS_PROXY / ALL_PROXY are not ours to follow: a proxy that answered
        // as the Vault would approve any call.
        .no_proxy();
    if let Some(proxy) = &config.proxy {
        if is_loopback(base) {
            tracing::debug!("the Vault is on loopback: the configured proxy is not used");
        } else {
            let proxy = reqwest::Proxy::all(proxy.expose()).map_err(|_| {
                Error::Config(format!(
                    "proxy `{}` is not usable",
                    redact_url(proxy.expose())
                ))
            })?;
            builder = builder.proxy(proxy);
        }
    }
    builder
        .build()
        .map_err(|e| Error::Config(format!("could not build the HTTP client: {e}")))
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

/// The `info` event of a call held for human review.
fn log_held(response: &ClearanceResponse, tool: Option<&str>) {
    tracing::info!(
        request_id = %response.request_id,
        tool = tool.unwrap_or("-"),
        reason = %shown_reason(&response.reason),
        "ledgix: call held for human review; a reviewer decides through \
         POST /reviews/{{request_id}}/decision"
    );
}

/// The `info` event of a held call whose review was decided.
fn log_decided(response: &ClearanceResponse, tool: Option<&str>) {
    let outcome = if response.status == ClearanceStatus::Approved {
        "approved"
    } else {
        "denied"
    };
    tracing::info!(
        request_id = %response.request_id,
        tool = tool.unwrap_or("-"),
        outcome,
        reason = %shown_reason(&response.reason),
        "ledgix: human review decided"
    );
}

fn record_outcome(
    span: &tracing::Span,
    started: Instant,
    outcome: &Result<(ClearanceResponse, TokenClaims), Error>,
) {
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("elapsed_ms", elapsed_ms);
    let _entered = span.enter();
    match outcome {
        Ok((response, _)) => {
            span.record("status", "approved");
            tracing::debug!(request_id = %response.request_id, "clearance approved");
        }
        Err(Error::Denied(d)) => {
            span.record("status", "denied");
            tracing::warn!(
                request_id = %d.request_id,
                reason = %shown_reason(&d.reason),
                "clearance denied"
            );
        }
        Err(Error::ReviewPending(_)) => {
            // The held event was logged when the answer came.
            span.record("status", "pending_review");
        }
        Err(e) => {
            span.record("status", "error");
            tracing::warn!(error = %e, "clearance failed; the tool did not run");
        }
    }
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
    fn replay_cache_size_bounds_the_process_store_and_the_largest_ask_wins() {
        use crate::token::MemoryReplayStore;
        let build = |b: crate::ConfigBuilder| LedgixClient::new(b.build().unwrap()).unwrap();
        // Asks stay at or above the default so other tests of this binary keep their room.
        let big = crate::token::DEFAULT_REPLAY_CAPACITY + 4096;
        let _c = build(Config::builder().replay_cache_size(big));
        assert_eq!(MemoryReplayStore::process().capacity(), big);
        // A smaller ask never shrinks what another client asked for.
        let _c = build(Config::builder().replay_cache_size(10));
        assert_eq!(MemoryReplayStore::process().capacity(), big);
        let _c = build(Config::builder().replay_cache_size(big + 1));
        assert_eq!(MemoryReplayStore::process().capacity(), big + 1);
        // A store of the caller's own is not resized, nor is the process store for it.
        let own = MemoryReplayStore::with_capacity(7);
        let _c = build(
            Config::builder()
                .replay_store(own.clone())
                .replay_cache_size(big + 2),
        );
        assert_eq!(own.capacity(), 7);
        assert_eq!(MemoryReplayStore::process().capacity(), big + 1);
    }

    #[test]
    fn a_delegate_is_the_same_client_plus_a_parent() {
        let client = LedgixClient::new(Config::builder().build().unwrap()).unwrap();
        let child = client.delegate("p1");
        assert!(child.shares_state_with(&client));
        assert_eq!(child.parent_jti(), Some("p1"));
        assert_eq!(child.delegate("p2").parent_jti(), Some("p2"));
        assert_eq!(client.delegate("").parent_jti(), None);
        let prepared = child.prepare(ClearanceRequest::new("t"));
        assert_eq!(prepared.parent_jti.as_deref(), Some("p1"));
        let prepared = child.prepare(ClearanceRequest::new("t").parent_jti("own"));
        assert_eq!(prepared.parent_jti.as_deref(), Some("own"));
    }

    proptest::proptest! {
        /// Whatever the tool and arguments, fields the caller set are sent as set.
        #[test]
        fn the_callers_values_always_win(
            tool in "(stripe|slack|gpt|fetch|x)[a-z_]{0,6}",
            url in "(https://[a-z]{1,8}\\.io/[a-z]{0,4}|[a-z]{0,6})",
            uri in proptest::option::of("[a-z:/.]{1,12}"),
            provider in proptest::option::of("[a-z]{1,8}"),
            account in proptest::option::of("[a-z0-9_]{1,8}"),
            principal in proptest::option::of("[a-z]{1,8}"),
        ) {
            let client = LedgixClient::new(
                Config::builder().principal_id("configured").build().unwrap(),
            )
            .unwrap();
            let mut request = ClearanceRequest::new(tool.as_str())
                .arg("url", url.as_str())
                .arg("account", "acct_hint")
                .arg("team_id", "T_hint");
            if let Some(u) = &uri { request = request.destination_uri(u.as_str()); }
            if let Some(p) = &provider { request = request.destination_provider(p.as_str()); }
            if let Some(a) = &account { request = request.destination_account_ref(a.as_str()); }
            if let Some(p) = &principal { request = request.principal(p.as_str()); }
            let sent = client.prepare(request.clone());
            let hint = crate::extract_counterparty(&request.tool_name, &request.tool_args);
            proptest::prop_assert_eq!(sent.destination_uri, uri.or(hint.destination_uri));
            proptest::prop_assert_eq!(
                sent.destination_provider,
                provider.or(hint.destination_provider)
            );
            proptest::prop_assert_eq!(
                sent.destination_account_ref,
                account.or(hint.destination_account_ref)
            );
            proptest::prop_assert_eq!(
                sent.human_principal,
                Some(principal.unwrap_or_else(|| "configured".to_string()))
            );
        }
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
