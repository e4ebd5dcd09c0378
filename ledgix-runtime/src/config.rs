//! Configuration: [`Config`], its builder, and `from_env()` with the official SDKs' variable
//! names.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::jwk::KeySet;
use crate::sleep::{Sleeper, TokioSleeper};
use crate::token::{MemoryReplayStore, ReplayStore};

/// The longest an A-JWT may live (`exp - iat`, and `exp - now`) before the client refuses
/// it: the official SDKs' `LEDGIX_MAX_TOKEN_LIFETIME_SECONDS` default (the Vault's 300 s plus
/// 30 s of clock skew).
pub(crate) const DEFAULT_MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(330);
/// Default of [`ConfigBuilder::decision_cache_ttl`] (the official SDKs' 60 s).
pub(crate) const DEFAULT_DECISION_CACHE_TTL: Duration = Duration::from_secs(60);
/// Default of [`ConfigBuilder::decision_cache_max_entries`] (the official SDKs' 1000).
pub(crate) const DEFAULT_DECISION_CACHE_MAX_ENTRIES: usize = 1000;

/// How long a fetched JWKS stays fresh (`LEDGIX_JWKS_TTL`), for the client and the gateway.
pub(crate) const DEFAULT_JWKS_TTL: Duration = Duration::from_secs(300);

/// How long after a JWKS fetch a token naming an unknown `kid` may trigger another one.
pub(crate) const DEFAULT_JWKS_REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// What a guarded call does when the Vault sends the request to a human reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReviewMode {
    /// Poll `/clearance-status/{id}` until a decision or `review_timeout` (the default).
    #[default]
    Block,
    /// Return [`Error::ReviewPending`] at once, carrying a
    /// [`PendingApproval`](crate::PendingApproval) to resume or cancel later.
    Detach,
}

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Everything a [`LedgixClient`](crate::LedgixClient) needs. Cheap to clone. `Debug` never
/// shows the API key, nor credentials or query values of a URL.
///
/// Built with [`Config::builder()`] or read from the environment with [`Config::from_env()`]:
///
/// | variable | default | setter |
/// |---|---|---|
/// | `LEDGIX_VAULT_URL` | `http://localhost:8000` | [`vault_url`](ConfigBuilder::vault_url) |
/// | `LEDGIX_VAULT_API_KEY` | unset | [`api_key`](ConfigBuilder::api_key) |
/// | `LEDGIX_VAULT_TIMEOUT` | `30s` | [`timeout`](ConfigBuilder::timeout) |
/// | `LEDGIX_VERIFY_JWT` | `true` | [`verify_jwt`](ConfigBuilder::verify_jwt) |
/// | `LEDGIX_JWT_ISSUER` | `alcv-vault` | [`jwt_issuer`](ConfigBuilder::jwt_issuer) |
/// | `LEDGIX_JWT_AUDIENCE` | `ledgix-sdk` | [`jwt_audience`](ConfigBuilder::jwt_audience) |
/// | `LEDGIX_AGENT_ID` | `default-agent` | [`agent_id`](ConfigBuilder::agent_id) |
/// | `LEDGIX_SESSION_ID` | unset | [`session_id`](ConfigBuilder::session_id) |
/// | `LEDGIX_REVIEW_POLL_INTERVAL` | `2s` | [`review_poll_interval`](ConfigBuilder::review_poll_interval) |
/// | `LEDGIX_REVIEW_TIMEOUT` | `900s` | [`review_timeout`](ConfigBuilder::review_timeout) |
/// | `LEDGIX_REVIEW_MODE` | `block` (or `detach`) | [`review_mode`](ConfigBuilder::review_mode) |
/// | `LEDGIX_MAX_RETRIES` | `3` | [`max_retries`](ConfigBuilder::max_retries) |
/// | `LEDGIX_RETRY_BASE_DELAY` | `500ms` | [`retry_base_delay`](ConfigBuilder::retry_base_delay) |
/// | `LEDGIX_JWKS_TTL` (or `LEDGIX_JWKS_TTL_SECONDS`; `LEDGIX_JWKS_TTL_MS` in milliseconds) | `300s` | [`jwks_ttl`](ConfigBuilder::jwks_ttl) |
/// | `LEDGIX_PRINCIPAL_ID` | unset | [`principal_id`](ConfigBuilder::principal_id) |
/// | `LEDGIX_REPLAY_CACHE_SIZE` | `1048576` | [`replay_cache_size`](ConfigBuilder::replay_cache_size) |
/// | `LEDGIX_MAX_TOKEN_LIFETIME_SECONDS` (`LEDGIX_MAX_TOKEN_LIFETIME_MS` in milliseconds) | `330s` | [`max_token_lifetime`](ConfigBuilder::max_token_lifetime) |
/// | `LEDGIX_COUNTERPARTY_HINTS` | `true` | [`counterparty_hints`](ConfigBuilder::counterparty_hints) |
/// | `LEDGIX_ALLOW_INSECURE_HTTP` | `false` | [`allow_insecure_http`](ConfigBuilder::allow_insecure_http) |
/// | `LEDGIX_PROXY_URL` | unset (no proxy) | [`proxy`](ConfigBuilder::proxy) |
/// | `LEDGIX_DECISION_CACHE_ENABLED` | `false` | [`decision_cache`](ConfigBuilder::decision_cache) |
/// | `LEDGIX_DECISION_CACHE_TTL_SECONDS` (Python) or `LEDGIX_DECISION_CACHE_TTL_MS` (TypeScript) | `60s` | [`decision_cache_ttl`](ConfigBuilder::decision_cache_ttl) |
/// | `LEDGIX_DECISION_CACHE_MAX_ENTRIES` | `1000` | [`decision_cache_max_entries`](ConfigBuilder::decision_cache_max_entries) |
///
/// Durations accept `500ms`, `30s`, `15m`, `1h`; a bare number is seconds, as in the Python
/// SDK (the TypeScript SDK reads bare numbers as milliseconds: write the unit to be safe).
/// The `_MS` spellings are ledgix-ts's: a bare number there is milliseconds. When several
/// spellings of one setting are set, they must agree (else `from_env` names them).
/// An empty variable counts as unset.
#[derive(Clone)]
pub struct Config {
    pub(crate) vault_url: String,
    pub(crate) api_key: Option<Secret>,
    pub(crate) timeout: Duration,
    pub(crate) verify_jwt: bool,
    pub(crate) jwt_issuer: String,
    pub(crate) jwt_audience: String,
    pub(crate) agent_id: String,
    pub(crate) session_id: Option<String>,
    pub(crate) review_poll_interval: Duration,
    pub(crate) review_timeout: Duration,
    pub(crate) review_mode: ReviewMode,
    pub(crate) max_retries: u32,
    pub(crate) retry_base_delay: Duration,
    pub(crate) jwks_ttl: Duration,
    pub(crate) jwks_refetch_cooldown: Duration,
    pub(crate) trusted_keys: Option<KeySet>,
    pub(crate) ledger_keys: Option<KeySet>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) proxy: Option<Secret>,
    pub(crate) http_client: Option<reqwest::Client>,
    pub(crate) max_concurrent_requests: usize,
    pub(crate) replay_store: Arc<dyn ReplayStore>,
    /// Whether `replay_store` is the process-wide default (not one the caller set).
    pub(crate) replay_store_is_default: bool,
    pub(crate) replay_cache_size: Option<usize>,
    pub(crate) max_token_lifetime: Duration,
    pub(crate) principal_id: Option<String>,
    pub(crate) counterparty_hints: bool,
    pub(crate) sleeper: Arc<dyn Sleeper>,
    pub(crate) decision_cache: bool,
    pub(crate) decision_cache_ttl: Duration,
    pub(crate) decision_cache_max_entries: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("vault_url", &redact_url(&self.vault_url))
            .field("api_key", &self.api_key)
            .field("timeout", &self.timeout)
            .field("verify_jwt", &self.verify_jwt)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("agent_id", &self.agent_id)
            .field("session_id", &self.session_id)
            .field("review_poll_interval", &self.review_poll_interval)
            .field("review_timeout", &self.review_timeout)
            .field("review_mode", &self.review_mode)
            .field("max_retries", &self.max_retries)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("jwks_ttl", &self.jwks_ttl)
            .field("jwks_refetch_cooldown", &self.jwks_refetch_cooldown)
            .field("trusted_keys", &self.trusted_keys)
            .field("ledger_keys", &self.ledger_keys)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field(
                "proxy",
                &self.proxy.as_ref().map(|p| redact_url(p.expose())),
            )
            .field("http_client", &self.http_client.as_ref().map(|_| "custom"))
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field("replay_store", &self.replay_store)
            .field("replay_cache_size", &self.replay_cache_size)
            .field("max_token_lifetime", &self.max_token_lifetime)
            .field("principal_id", &self.principal_id)
            .field("counterparty_hints", &self.counterparty_hints)
            .field("decision_cache", &self.decision_cache)
            .field("decision_cache_ttl", &self.decision_cache_ttl)
            .field(
                "decision_cache_max_entries",
                &self.decision_cache_max_entries,
            )
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            vault_url: "http://localhost:8000".into(),
            api_key: None,
            timeout: Duration::from_secs(30),
            verify_jwt: true,
            jwt_issuer: "alcv-vault".into(),
            jwt_audience: "ledgix-sdk".into(),
            agent_id: "default-agent".into(),
            session_id: None,
            review_poll_interval: Duration::from_secs(2),
            review_timeout: Duration::from_secs(900),
            review_mode: ReviewMode::Block,
            max_retries: 3,
            retry_base_delay: Duration::from_millis(500),
            jwks_ttl: DEFAULT_JWKS_TTL,
            jwks_refetch_cooldown: DEFAULT_JWKS_REFETCH_COOLDOWN,
            trusted_keys: None,
            ledger_keys: None,
            allow_insecure_http: false,
            proxy: None,
            http_client: None,
            max_concurrent_requests: 256,
            replay_store: Arc::new(MemoryReplayStore::process()),
            replay_store_is_default: true,
            replay_cache_size: None,
            max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME,
            principal_id: None,
            counterparty_hints: true,
            sleeper: Arc::new(TokioSleeper),
            decision_cache: false,
            decision_cache_ttl: DEFAULT_DECISION_CACHE_TTL,
            decision_cache_max_entries: DEFAULT_DECISION_CACHE_MAX_ENTRIES,
        }
    }
}

impl Config {
    /// Reads every `LEDGIX_*` variable (see the table above); an invalid value is an error
    /// naming the variable and the value.
    pub fn from_env() -> Result<Config, Error> {
        ConfigBuilder::from_env()?.build()
    }

    /// A builder starting from the defaults (not from the environment).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder {
            config: Config::default(),
            error: None,
        }
    }

    /// A builder starting from this configuration.
    pub fn to_builder(&self) -> ConfigBuilder {
        ConfigBuilder {
            config: self.clone(),
            error: None,
        }
    }

    /// Base URL of the Vault, without a trailing slash.
    pub fn vault_url(&self) -> &str {
        &self.vault_url
    }
    /// Whether an API key is configured (the key itself is never exposed).
    pub fn has_api_key(&self) -> bool {
        self.api_key.is_some()
    }
    /// Timeout of one HTTP exchange.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
    /// Whether [`LedgixClient::request_clearance`](crate::LedgixClient::request_clearance)
    /// verifies the A-JWT. Guarded calls always do.
    pub fn verify_jwt(&self) -> bool {
        self.verify_jwt
    }
    /// Expected `iss` of A-JWTs.
    pub fn jwt_issuer(&self) -> &str {
        &self.jwt_issuer
    }
    /// Expected `aud` of A-JWTs.
    pub fn jwt_audience(&self) -> &str {
        &self.jwt_audience
    }
    /// Agent id sent with every request.
    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }
    /// Session id sent with every request, if any.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }
    /// Pause between polls of a pending request.
    pub fn review_poll_interval(&self) -> Duration {
        self.review_poll_interval
    }
    /// The deadline of one call: retries, `Retry-After` waits and the wait for a human review
    /// all fit in it.
    pub fn review_timeout(&self) -> Duration {
        self.review_timeout
    }
    /// Block or detach on pending review.
    pub fn review_mode(&self) -> ReviewMode {
        self.review_mode
    }
    /// Retries after a transport error or a 5xx.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }
    /// First backoff step (full jitter, doubling, capped at 30 s).
    pub fn retry_base_delay(&self) -> Duration {
        self.retry_base_delay
    }
    /// How long a fetched JWKS stays fresh.
    pub fn jwks_ttl(&self) -> Duration {
        self.jwks_ttl
    }
    /// The least time between two JWKS fetches caused by tokens or bundles naming a key id the
    /// cached JWKS lacks.
    pub fn jwks_refetch_cooldown(&self) -> Duration {
        self.jwks_refetch_cooldown
    }
    /// Keys pinned for A-JWTs: when set, tokens verify only against these and the Vault's
    /// JWKS endpoint is not consulted for them.
    pub fn trusted_keys(&self) -> Option<&KeySet> {
        self.trusted_keys.as_ref()
    }
    /// Keys pinned for ledger proofs: when set, receipts and checkpoints verify only against
    /// these and the Vault's JWKS endpoint is not consulted for them.
    pub fn ledger_keys(&self) -> Option<&KeySet> {
        self.ledger_keys.as_ref()
    }
    /// Whether plain `http://` to a host other than loopback is allowed.
    pub fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }
    /// Whether an HTTP proxy is configured for the Vault (its URL is never exposed: it may
    /// carry credentials).
    pub fn has_proxy(&self) -> bool {
        self.proxy.is_some()
    }
    /// Whether the caller supplied the `reqwest::Client` (see [`ConfigBuilder::http_client`]).
    pub fn has_http_client(&self) -> bool {
        self.http_client.is_some()
    }
    /// Most HTTP exchanges one client has in flight at once.
    pub fn max_concurrent_requests(&self) -> usize {
        self.max_concurrent_requests
    }
    /// Where used token ids are remembered (by default, one store shared by every client of
    /// the process).
    pub fn replay_store(&self) -> &Arc<dyn ReplayStore> {
        &self.replay_store
    }
    /// The bound asked for the process-wide replay store, if any (see
    /// [`ConfigBuilder::replay_cache_size`]).
    pub fn replay_cache_size(&self) -> Option<usize> {
        self.replay_cache_size
    }
    /// The longest lifetime an A-JWT may have to be accepted (see
    /// [`ConfigBuilder::max_token_lifetime`]).
    pub fn max_token_lifetime(&self) -> Duration {
        self.max_token_lifetime
    }
    /// The principal sent as `human_principal` on requests that set none.
    pub fn principal_id(&self) -> Option<&str> {
        self.principal_id.as_deref()
    }
    /// Whether requests get counterparty hints (see [`ConfigBuilder::counterparty_hints`]).
    pub fn counterparty_hints(&self) -> bool {
        self.counterparty_hints
    }
    /// The sleeper used for backoff and polling.
    pub fn sleeper(&self) -> &Arc<dyn Sleeper> {
        &self.sleeper
    }
    /// Whether approvals are cached ([`ConfigBuilder::decision_cache`]; off by default).
    pub fn decision_cache(&self) -> bool {
        self.decision_cache
    }
    /// How long a cached approval may be reused ([`ConfigBuilder::decision_cache_ttl`]).
    pub fn decision_cache_ttl(&self) -> Duration {
        self.decision_cache_ttl
    }
    /// Most approvals the cache holds ([`ConfigBuilder::decision_cache_max_entries`]).
    pub fn decision_cache_max_entries(&self) -> usize {
        self.decision_cache_max_entries
    }
}

/// Builds a [`Config`]. Setters chain; a bad value is reported by [`build`](Self::build).
#[derive(Clone)]
pub struct ConfigBuilder {
    config: Config,
    /// The first error a setter met, reported by `build()`.
    error: Option<String>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("config", &self.config)
            .field("error", &self.error)
            .finish()
    }
}

impl ConfigBuilder {
    /// A builder holding the values of the `LEDGIX_*` environment variables.
    pub fn from_env() -> Result<ConfigBuilder, Error> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// A builder holding the values `lookup` gives for the `LEDGIX_*` names (testable
    /// without touching the process environment).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<ConfigBuilder, Error> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = Config::builder();
        if let Some(v) = get("LEDGIX_VAULT_URL") {
            b = b.vault_url(v.trim());
        }
        if let Some(v) = get("LEDGIX_VAULT_API_KEY") {
            b = b.api_key(v);
        }
        if let Some(v) = get("LEDGIX_VAULT_TIMEOUT") {
            b = b.timeout(env_duration("LEDGIX_VAULT_TIMEOUT", &v)?);
        }
        if let Some(v) = get("LEDGIX_VERIFY_JWT") {
            b = b.verify_jwt(env_bool("LEDGIX_VERIFY_JWT", &v)?);
        }
        if let Some(v) = get("LEDGIX_JWT_ISSUER") {
            b = b.jwt_issuer(v);
        }
        if let Some(v) = get("LEDGIX_JWT_AUDIENCE") {
            b = b.jwt_audience(v);
        }
        if let Some(v) = get("LEDGIX_AGENT_ID") {
            b = b.agent_id(v);
        }
        if let Some(v) = get("LEDGIX_SESSION_ID") {
            b = b.session_id(v);
        }
        if let Some(v) = get("LEDGIX_REVIEW_POLL_INTERVAL") {
            b = b.review_poll_interval(env_duration("LEDGIX_REVIEW_POLL_INTERVAL", &v)?);
        }
        if let Some(v) = get("LEDGIX_REVIEW_TIMEOUT") {
            b = b.review_timeout(env_duration("LEDGIX_REVIEW_TIMEOUT", &v)?);
        }
        if let Some(v) = get("LEDGIX_REVIEW_MODE") {
            b = b.review_mode(match v.trim().to_ascii_lowercase().as_str() {
                "block" => ReviewMode::Block,
                "detach" => ReviewMode::Detach,
                _ => {
                    return Err(env_error(
                        "LEDGIX_REVIEW_MODE",
                        &v,
                        "expected `block` or `detach`",
                    ));
                }
            });
        }
        if let Some(v) = get("LEDGIX_MAX_RETRIES") {
            let n = v
                .trim()
                .parse::<u32>()
                .map_err(|_| env_error("LEDGIX_MAX_RETRIES", &v, "expected a whole number ≥ 0"))?;
            b = b.max_retries(n);
        }
        if let Some(v) = get("LEDGIX_RETRY_BASE_DELAY") {
            b = b.retry_base_delay(env_duration("LEDGIX_RETRY_BASE_DELAY", &v)?);
        }
        if let Some((_, _, ttl)) = env_one_duration(
            &get,
            &[
                ("LEDGIX_JWKS_TTL", Unit::Seconds),
                ("LEDGIX_JWKS_TTL_SECONDS", Unit::Seconds),
                ("LEDGIX_JWKS_TTL_MS", Unit::Millis),
            ],
        )? {
            b = b.jwks_ttl(ttl);
        }
        if let Some(v) = get("LEDGIX_PRINCIPAL_ID") {
            b = b.principal_id(v.trim());
        }
        if let Some(v) = get("LEDGIX_REPLAY_CACHE_SIZE") {
            b = b.replay_cache_size(env_count("LEDGIX_REPLAY_CACHE_SIZE", &v)?);
        }
        if let Some((_, _, lifetime)) = env_one_duration(
            &get,
            &[
                ("LEDGIX_MAX_TOKEN_LIFETIME_SECONDS", Unit::Seconds),
                ("LEDGIX_MAX_TOKEN_LIFETIME_MS", Unit::Millis),
            ],
        )? {
            if lifetime.is_zero() {
                return Err(Error::Config(
                    "LEDGIX_MAX_TOKEN_LIFETIME_SECONDS / _MS must be greater than zero".into(),
                ));
            }
            b = b.max_token_lifetime(lifetime);
        }
        if let Some(v) = get("LEDGIX_COUNTERPARTY_HINTS") {
            b = b.counterparty_hints(env_bool("LEDGIX_COUNTERPARTY_HINTS", &v)?);
        }
        if let Some(v) = get("LEDGIX_ALLOW_INSECURE_HTTP") {
            b = b.allow_insecure_http(env_bool("LEDGIX_ALLOW_INSECURE_HTTP", &v)?);
        }
        if let Some(v) = get("LEDGIX_PROXY_URL") {
            b = b.proxy(v.trim());
        }
        if let Some(v) = get("LEDGIX_DECISION_CACHE_ENABLED") {
            b = b.decision_cache(env_bool("LEDGIX_DECISION_CACHE_ENABLED", &v)?);
        }
        if let Some((name, v, ttl)) = env_one_duration(
            &get,
            &[
                ("LEDGIX_DECISION_CACHE_TTL_SECONDS", Unit::Seconds),
                ("LEDGIX_DECISION_CACHE_TTL_MS", Unit::Millis),
            ],
        )? {
            if ttl.is_zero() {
                return Err(env_error(name, &v, "must be greater than zero"));
            }
            b = b.decision_cache_ttl(ttl);
        }
        if let Some(v) = get("LEDGIX_DECISION_CACHE_MAX_ENTRIES") {
            b = b.decision_cache_max_entries(env_count("LEDGIX_DECISION_CACHE_MAX_ENTRIES", &v)?);
        }
        Ok(b)
    }

    /// Base URL of the Vault (`https://…`; plain `http://` only to loopback unless
    /// [`allow_insecure_http`](Self::allow_insecure_http)).
    pub fn vault_url(mut self, url: impl Into<String>) -> Self {
        self.config.vault_url = url.into();
        self
    }
    /// API key sent as `X-Vault-API-Key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.config.api_key = (!key.is_empty()).then_some(Secret(key));
        self
    }
    /// Removes the API key.
    pub fn no_api_key(mut self) -> Self {
        self.config.api_key = None;
        self
    }
    /// Timeout of one HTTP exchange (default 30 s; `LEDGIX_VAULT_TIMEOUT`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }
    /// Whether [`LedgixClient::request_clearance`](crate::LedgixClient::request_clearance)
    /// verifies the A-JWT (default true). Guarded calls ([`ToolCall`](crate::ToolCall),
    /// `#[guarded]`) verify the token whatever this says: no tool body ever runs on an
    /// unverified token.
    pub fn verify_jwt(mut self, verify: bool) -> Self {
        self.config.verify_jwt = verify;
        self
    }
    /// Expected `iss` (default `alcv-vault`).
    pub fn jwt_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.config.jwt_issuer = issuer.into();
        self
    }
    /// Expected `aud` (default `ledgix-sdk`).
    pub fn jwt_audience(mut self, audience: impl Into<String>) -> Self {
        self.config.jwt_audience = audience.into();
        self
    }
    /// Agent id (default `default-agent`).
    pub fn agent_id(mut self, agent_id: impl Into<String>) -> Self {
        self.config.agent_id = agent_id.into();
        self
    }
    /// Session id (default none).
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        let s = session_id.into();
        self.config.session_id = (!s.is_empty()).then_some(s);
        self
    }
    /// Pause between polls of a pending request (default 2 s).
    pub fn review_poll_interval(mut self, interval: Duration) -> Self {
        self.config.review_poll_interval = interval;
        self
    }
    /// The deadline of one call (default 900 s): the request with its retries and
    /// `Retry-After` waits, then the wait for a human review, all fit in it. A call still
    /// waiting for a reviewer at the deadline is [`Error::ReviewTimeout`].
    pub fn review_timeout(mut self, timeout: Duration) -> Self {
        self.config.review_timeout = timeout;
        self
    }
    /// Block or detach on pending review (default block).
    pub fn review_mode(mut self, mode: ReviewMode) -> Self {
        self.config.review_mode = mode;
        self
    }
    /// Retries after transport errors and 5xx (default 3).
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.config.max_retries = retries;
        self
    }
    /// First backoff step (default 500 ms).
    pub fn retry_base_delay(mut self, delay: Duration) -> Self {
        self.config.retry_base_delay = delay;
        self
    }
    /// How long a fetched JWKS stays fresh (default 300 s).
    pub fn jwks_ttl(mut self, ttl: Duration) -> Self {
        self.config.jwks_ttl = ttl;
        self
    }
    /// The least time between two JWKS fetches caused by tokens or proof bundles that name a
    /// key id the cached JWKS lacks (default 30 s). A flood of forged tokens with random key
    /// ids then costs at most one fetch per cooldown; a real key rotation is picked up by the
    /// first token signed with the new key once the cooldown has passed (or at the next
    /// `jwks_ttl` refresh). Shorter values are for tests.
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.config.jwks_refetch_cooldown = cooldown;
        self
    }
    /// Pins the keys A-JWTs must verify under, as a JWKS document. When set, the Vault's JWKS
    /// endpoint is not used for tokens. An invalid document fails [`build`](Self::build).
    ///
    /// These keys verify tokens only: ledger proofs verify under
    /// [`ledger_keys`](Self::ledger_keys) (or the Vault's JWKS), so a token key can never vouch
    /// for a checkpoint, nor a ledger key for a token.
    pub fn trusted_keys(mut self, jwks_json: &str) -> Self {
        if let Some(keys) = self.parse_keys("trusted_keys", jwks_json) {
            self.config.trusted_keys = Some(keys);
        }
        self
    }
    /// Pins an already parsed key set for A-JWTs (see [`trusted_keys`](Self::trusted_keys)).
    pub fn trusted_key_set(mut self, keys: KeySet) -> Self {
        self.config.trusted_keys = Some(keys);
        self
    }
    /// Pins the keys ledger receipts and checkpoints must verify under, as a JWKS document.
    /// When set, the Vault's JWKS endpoint is not used for ledger proofs. An invalid document
    /// fails [`build`](Self::build).
    pub fn ledger_keys(mut self, jwks_json: &str) -> Self {
        if let Some(keys) = self.parse_keys("ledger_keys", jwks_json) {
            self.config.ledger_keys = Some(keys);
        }
        self
    }
    /// Pins an already parsed key set for ledger proofs (see [`ledger_keys`](Self::ledger_keys)).
    pub fn ledger_key_set(mut self, keys: KeySet) -> Self {
        self.config.ledger_keys = Some(keys);
        self
    }
    /// Allows plain `http://` to hosts other than loopback (default false: tool arguments,
    /// tokens and the API key must not cross a network in clear).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.config.allow_insecure_http = allow;
        self
    }
    /// Sends Vault traffic through this HTTP proxy (`http://` or `https://`, credentials in the
    /// URL allowed; `LEDGIX_PROXY_URL`).
    ///
    /// The client this crate builds never takes a proxy from the environment (`HTTP_PROXY`,
    /// `HTTPS_PROXY`, `ALL_PROXY`, …): a proxy that answered as the Vault could approve any
    /// call. It uses exactly the proxy named here, and none for a loopback Vault.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.config.proxy = (!url.is_empty()).then_some(Secret(url));
        self
    }
    /// Uses this `reqwest::Client` for every exchange with the Vault, instead of the one this
    /// crate builds: bring your own for a corporate CA, mutual TLS or a required egress proxy.
    ///
    /// Your client's settings then apply, proxy included (the crate's rule of no proxy unless
    /// configured holds for its own client only; [`proxy`](Self::proxy) cannot be combined with
    /// this). The API key, the per-exchange [`timeout`](Self::timeout) and the
    /// `Idempotency-Key` are still set on each request. Build it with
    /// `.redirect(reqwest::redirect::Policy::none())`: an answer that arrives through a
    /// redirect is refused, but the request that followed it has already carried the API key.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.config.http_client = Some(client);
        self
    }
    /// Most HTTP exchanges one client (and its clones) keeps in flight at once (default 256);
    /// more wait for a free slot. Bounds sockets when an agent fires thousands of tool calls.
    pub fn max_concurrent_requests(mut self, max: usize) -> Self {
        self.config.max_concurrent_requests = max;
        self
    }
    /// Where used token ids are remembered, so that one approval runs one body.
    ///
    /// The default is [`MemoryReplayStore::process`]: one store shared by every client of the
    /// process, so an approval resumed by another client (another worker, a client rebuilt
    /// after a restart, `MockVault::client()`) still runs its body once. Across processes or
    /// replicas, single use needs a store they share (the Redis one, feature `redis`).
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.config.replay_store = Arc::new(store);
        self.config.replay_store_is_default = false;
        self
    }
    /// Bounds the process-wide [`MemoryReplayStore`] (`LEDGIX_REPLAY_CACHE_SIZE`): the most
    /// unexpired token ids it remembers. Default [`DEFAULT_REPLAY_CAPACITY`](crate::token::DEFAULT_REPLAY_CAPACITY)
    /// (1,048,576).
    ///
    /// Unlike the official SDKs' cache (10,000 entries, oldest evicted first — which lets an
    /// evicted token run a second time), this store never forgets an unexpired id: when full,
    /// new tokens are refused until some expire (fail closed), so size it for the tokens
    /// verified within one token lifetime.
    ///
    /// The store is one per process, shared by every client so that one approval runs one
    /// body whichever client resumes it; its bound is therefore process-wide too: it takes
    /// effect when a client is built with this configuration, and when several
    /// configurations name a size the largest wins (one client asking for less never starves
    /// another). It does not apply to a store set with [`replay_store`](Self::replay_store)
    /// (size that store yourself, e.g. [`MemoryReplayStore::with_capacity`]). Zero fails
    /// [`build`](Self::build).
    pub fn replay_cache_size(mut self, size: usize) -> Self {
        self.config.replay_cache_size = Some(size);
        self
    }
    /// The longest lifetime an A-JWT may have (`LEDGIX_MAX_TOKEN_LIFETIME_SECONDS`, default
    /// 330 s: the Vault's 300 s tokens plus 30 s of clock skew). A token whose `exp - iat`,
    /// or whose time left (`exp - now`), exceeds it is refused
    /// ([`Error::TokenVerification`]) before any body runs: a long-lived token is a stolen
    /// token's long window. Zero fails [`build`](Self::build).
    pub fn max_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.config.max_token_lifetime = lifetime;
        self
    }
    /// The human on whose behalf the agent acts (`LEDGIX_PRINCIPAL_ID`): sent as
    /// `human_principal` on every request that sets none
    /// ([`ToolCall::principal`](crate::ToolCall::principal) overrides it per call). Advisory:
    /// the Vault records it, it proves nothing. Empty: none.
    pub fn principal_id(mut self, principal_id: impl Into<String>) -> Self {
        let p = principal_id.into();
        self.config.principal_id = (!p.is_empty()).then_some(p);
        self
    }
    /// Whether requests carry counterparty hints (`LEDGIX_COUNTERPARTY_HINTS`, default true):
    /// the `destination_*` fields a request leaves unset are filled from its tool name and
    /// arguments as the official SDKs do ([`extract_counterparty`](crate::extract_counterparty)).
    /// Values the caller sets always win.
    pub fn counterparty_hints(mut self, enabled: bool) -> Self {
        self.config.counterparty_hints = enabled;
        self
    }
    /// Turns the decision cache on or off (default off; `LEDGIX_DECISION_CACHE_ENABLED`).
    ///
    /// On, an approval the Vault gave at once is remembered for
    /// [`decision_cache_ttl`](Self::decision_cache_ttl) under a key covering every field of the
    /// request that can change a decision. An identical call then skips the policy evaluation:
    /// the client asks `POST /mint-token` for a fresh A-JWT, which is verified and bound to the
    /// call's tool and arguments (and used once) before a body runs, exactly as an approval's
    /// token is. A cached approval is never reused as a token. Denials, reviews and answers
    /// without `policy_version_id` are never cached. See
    /// [`LedgixClient::clear_cache`](crate::LedgixClient::clear_cache).
    pub fn decision_cache(mut self, on: bool) -> Self {
        self.config.decision_cache = on;
        self
    }
    /// How long a cached approval may be reused (default 60 s;
    /// `LEDGIX_DECISION_CACHE_TTL_SECONDS`, or ledgix-ts's `LEDGIX_DECISION_CACHE_TTL_MS`).
    /// Must be greater than zero.
    pub fn decision_cache_ttl(mut self, ttl: Duration) -> Self {
        self.config.decision_cache_ttl = ttl;
        self
    }
    /// Most approvals the cache holds (default 1000; `LEDGIX_DECISION_CACHE_MAX_ENTRIES`); the
    /// oldest is evicted first. Must be at least 1.
    pub fn decision_cache_max_entries(mut self, max: usize) -> Self {
        self.config.decision_cache_max_entries = max;
        self
    }
    /// Replaces the sleeper used for backoff, `Retry-After` and polling.
    pub fn sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.config.sleeper = sleeper;
        self
    }

    /// The key set of a JWKS document, or `None` with the error remembered for `build()` (the
    /// first error of a setter wins).
    fn parse_keys(&mut self, setter: &str, jwks_json: &str) -> Option<KeySet> {
        KeySet::from_jwks_json(jwks_json)
            .map_err(|e| {
                self.error.get_or_insert(format!("{setter}: {e}"));
            })
            .ok()
    }

    /// Checks the values and builds the configuration.
    pub fn build(self) -> Result<Config, Error> {
        if let Some(message) = self.error {
            return Err(Error::Config(message));
        }
        let mut c = self.config;
        c.vault_url =
            normalize_vault_url(&c.vault_url, c.allow_insecure_http, c.api_key.is_some())?;
        if let Some(proxy) = &c.proxy {
            check_proxy_url(proxy.expose())?;
            if c.http_client.is_some() {
                return Err(Error::Config(
                    "proxy and http_client are both set: the proxy applies to the client this \
                     crate builds; configure it on your reqwest::Client instead"
                        .into(),
                ));
            }
        }
        if c.timeout.is_zero() {
            return Err(Error::Config("timeout must be greater than zero".into()));
        }
        if c.review_poll_interval.is_zero() {
            return Err(Error::Config(
                "review_poll_interval must be greater than zero".into(),
            ));
        }
        if c.review_timeout.is_zero() {
            return Err(Error::Config(
                "review_timeout must be greater than zero".into(),
            ));
        }
        if c.replay_cache_size == Some(0) {
            return Err(Error::Config("replay_cache_size must be at least 1".into()));
        }
        if c.max_token_lifetime.is_zero() {
            return Err(Error::Config(
                "max_token_lifetime must be greater than zero".into(),
            ));
        }
        if c.max_concurrent_requests == 0 {
            return Err(Error::Config(
                "max_concurrent_requests must be at least 1".into(),
            ));
        }
        if c.decision_cache_ttl.is_zero() {
            return Err(Error::Config(
                "decision_cache_ttl must be greater than zero".into(),
            ));
        }
        if c.decision_cache_max_entries == 0 {
            return Err(Error::Config(
                "decision_cache_max_entries must be at least 1".into(),
            ));
        }
        if c.jwt_issuer.is_empty() || c.jwt_audience.is_empty() {
            return Err(Error::Config(
                "jwt_issuer and jwt_audience must not be empty".into(),
            ));
        }
        if let Some(key) = &c.api_key
            && reqwest::header::HeaderValue::from_str(key.expose()).is_err()
        {
            return Err(Error::Config(
                "api_key contains characters not allowed in an HTTP header".into(),
            ));
        }
        Ok(c)
    }
}

/// Checks the Vault URL and returns it without a trailing slash. Errors never show the
/// URL's credentials or query values: credentials are looked for first, and every URL shown
/// is [`redact_url`]-ed.
fn normalize_vault_url(
    raw: &str,
    allow_insecure_http: bool,
    has_api_key: bool,
) -> Result<String, Error> {
    let shown = redact_url(raw);
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("vault_url `{shown}` is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(format!(
            "vault_url `{shown}` carries credentials; remove them from the URL and set api_key \
             (LEDGIX_VAULT_API_KEY) instead"
        )));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::Config(format!(
            "vault_url `{shown}` must not carry a query or fragment; an API key goes in api_key \
             (LEDGIX_VAULT_API_KEY)"
        )));
    }
    match url.scheme() {
        "https" => {}
        "http" => {
            if !allow_insecure_http && !is_loopback(&url) {
                let what = if has_api_key {
                    "the API key, tool arguments and tokens"
                } else {
                    "tool arguments and tokens"
                };
                return Err(Error::Config(format!(
                    "vault_url `{shown}` is plain http:// to a host that is not loopback: {what} \
                     would cross the network in clear. Use https://, or set \
                     allow_insecure_http(true) / LEDGIX_ALLOW_INSECURE_HTTP=true if you must"
                )));
            }
        }
        other => {
            return Err(Error::Config(format!(
                "vault_url `{shown}` has scheme `{other}`; expected https:// (or http:// to \
                 loopback)"
            )));
        }
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// A proxy URL must be `http://` or `https://` with a host.
fn check_proxy_url(raw: &str) -> Result<(), Error> {
    let shown = redact_url(raw);
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("proxy `{shown}` is not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Config(format!(
            "proxy `{shown}` must be an http:// or https:// URL with a host"
        )));
    }
    Ok(())
}

/// Whether `url` names this machine (`localhost`, 127.0.0.0/8, `::1`).
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A URL as it may be shown in an error, a log line or `Debug`: user info replaced by `***`,
/// query and fragment values by `***` (the names stay, they help find the mistake). Works on
/// text that does not parse as a URL too.
pub(crate) fn redact_url(raw: &str) -> String {
    let raw = raw.trim();
    let (scheme, rest) = match raw.find("://") {
        Some(i) => raw.split_at(i + 3),
        None => ("", raw),
    };
    // The authority ends at the first `/`, `?` or `#`; user info is everything up to its last `@`.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(at) => format!("***@{}", &authority[at + 1..]),
        None => authority.to_string(),
    };
    let (path, query_and_fragment) = match tail.find(['?', '#']) {
        Some(i) => tail.split_at(i),
        None => (tail, ""),
    };
    let mut out = format!("{scheme}{host}{path}");
    if !query_and_fragment.is_empty() {
        out.push_str(&redact_query(query_and_fragment));
    }
    out
}

/// `?a=1&b=2#frag` → `?a=***&b=***#***`.
fn redact_query(text: &str) -> String {
    let (query, fragment) = match text.find('#') {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let mut out = String::new();
    if let Some(q) = query.strip_prefix('?') {
        out.push('?');
        let names: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) => format!("{name}=***"),
                None if pair.is_empty() => String::new(),
                None => "***".to_string(),
            })
            .collect();
        out.push_str(&names.join("&"));
    }
    if !fragment.is_empty() {
        out.push_str("#***");
    }
    out
}

fn env_error(name: &str, value: &str, what: &str) -> Error {
    Error::Config(format!("{name}=`{value}` is invalid: {what}"))
}

fn env_bool(name: &str, value: &str) -> Result<bool, Error> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(env_error(name, value, "expected true or false")),
    }
}

/// A whole number ≥ 1 (a count: cache sizes).
fn env_count(name: &str, value: &str) -> Result<usize, Error> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| env_error(name, value, "expected a whole number ≥ 1"))
}

fn env_duration(name: &str, value: &str) -> Result<Duration, Error> {
    parse_duration(value).map_err(|why| env_error(name, value, &why))
}

/// What a bare number means in a variable.
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// Seconds (the Python SDK's variables, and ours).
    Seconds,
    /// Milliseconds (the TypeScript SDK's `_MS` variables).
    Millis,
}

/// A duration in `value`: with a unit it is read as written; a bare number in `unit`.
fn env_duration_in(name: &str, value: &str, unit: Unit) -> Result<Duration, Error> {
    let bare = value.trim();
    let is_bare = !bare.is_empty() && bare.chars().all(|c| c.is_ascii_digit() || c == '.');
    match unit {
        Unit::Millis if is_bare => {
            let ms = parse_duration(bare).map_err(|why| env_error(name, value, &why))?;
            // A bare number read as seconds, scaled to milliseconds.
            Ok(ms / 1000)
        }
        _ => env_duration(name, value),
    }
}

/// The one duration set among several spellings of a setting (`None`: none set), with the
/// variable and value it was read from. Two spellings set to different durations are an error
/// naming both.
fn env_one_duration<'n>(
    get: &impl Fn(&str) -> Option<String>,
    names: &[(&'n str, Unit)],
) -> Result<Option<(&'n str, String, Duration)>, Error> {
    let mut found: Option<(&str, String, Duration)> = None;
    for &(name, unit) in names {
        let Some(v) = get(name) else { continue };
        let d = env_duration_in(name, &v, unit)?;
        match &found {
            Some((first, first_value, first_d)) if *first_d != d => {
                return Err(Error::Config(format!(
                    "{first}=`{first_value}` and {name}=`{v}` disagree; set one of them"
                )));
            }
            Some(_) => {}
            None => found = Some((name, v, d)),
        }
    }
    Ok(found)
}

/// Parses `500ms`, `30s`, `15m`, `1h`, or a bare number of seconds (fractions allowed).
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let v = value.trim();
    let (number, unit_secs) = if let Some(n) = v.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = v.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (v, 1.0)
    };
    let number = number.trim();
    let ok_chars = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|&c| c == '.').count() <= 1;
    let n: f64 = if ok_chars { number.parse().ok() } else { None }.ok_or_else(|| {
        "expected a duration such as `500ms`, `30s`, `15m`, or a number of seconds".to_string()
    })?;
    Duration::try_from_secs_f64(n * unit_secs).map_err(|_| "duration out of range".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(vars: &[(&str, &str)]) -> Result<Config, Error> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ConfigBuilder::from_lookup(|n| map.get(n).cloned())?.build()
    }

    #[test]
    fn defaults_match_the_protocol() {
        let c = from(&[]).unwrap();
        assert_eq!(c.vault_url(), "http://localhost:8000");
        assert!(!c.has_api_key());
        assert_eq!(c.timeout(), Duration::from_secs(30));
        assert!(c.verify_jwt());
        assert_eq!(c.jwt_issuer(), "alcv-vault");
        assert_eq!(c.jwt_audience(), "ledgix-sdk");
        assert_eq!(c.agent_id(), "default-agent");
        assert_eq!(c.session_id(), None);
        assert_eq!(c.review_poll_interval(), Duration::from_secs(2));
        assert_eq!(c.review_timeout(), Duration::from_secs(900));
        assert_eq!(c.review_mode(), ReviewMode::Block);
        assert_eq!(c.max_retries(), 3);
        assert_eq!(c.retry_base_delay(), Duration::from_millis(500));
        assert_eq!(c.jwks_ttl(), Duration::from_secs(300));
    }

    #[test]
    fn every_variable_is_read() {
        let c = from(&[
            ("LEDGIX_VAULT_URL", "https://vault.example.com/api/"),
            ("LEDGIX_VAULT_API_KEY", "sk_live_secret"),
            ("LEDGIX_VAULT_TIMEOUT", "5s"),
            ("LEDGIX_VERIFY_JWT", "false"),
            ("LEDGIX_JWT_ISSUER", "iss"),
            ("LEDGIX_JWT_AUDIENCE", "aud"),
            ("LEDGIX_AGENT_ID", "payments-agent"),
            ("LEDGIX_SESSION_ID", "checkout-42"),
            ("LEDGIX_REVIEW_POLL_INTERVAL", "250ms"),
            ("LEDGIX_REVIEW_TIMEOUT", "15m"),
            ("LEDGIX_REVIEW_MODE", "detach"),
            ("LEDGIX_MAX_RETRIES", "7"),
            ("LEDGIX_RETRY_BASE_DELAY", "0.25"),
            ("LEDGIX_JWKS_TTL", "60"),
        ])
        .unwrap();
        assert_eq!(c.vault_url(), "https://vault.example.com/api");
        assert!(c.has_api_key());
        assert_eq!(c.timeout(), Duration::from_secs(5));
        assert!(!c.verify_jwt());
        assert_eq!((c.jwt_issuer(), c.jwt_audience()), ("iss", "aud"));
        assert_eq!(c.agent_id(), "payments-agent");
        assert_eq!(c.session_id(), Some("checkout-42"));
        assert_eq!(c.review_poll_interval(), Duration::from_millis(250));
        assert_eq!(c.review_timeout(), Duration::from_secs(900));
        assert_eq!(c.review_mode(), ReviewMode::Detach);
        assert_eq!(c.max_retries(), 7);
        assert_eq!(c.retry_base_delay(), Duration::from_millis(250));
        assert_eq!(c.jwks_ttl(), Duration::from_secs(60));
        let c = from(&[("LEDGIX_JWKS_TTL_SECONDS", "10")]).unwrap();
        assert_eq!(c.jwks_ttl(), Duration::from_secs(10));
    }

    #[test]
    fn invalid_values_name_the_variable_and_value() {
        for (name, value) in [
            ("LEDGIX_VAULT_TIMEOUT", "soon"),
            ("LEDGIX_VAULT_TIMEOUT", "-1"),
            ("LEDGIX_REVIEW_POLL_INTERVAL", "2 weeks"),
            ("LEDGIX_VERIFY_JWT", "maybe"),
            ("LEDGIX_REVIEW_MODE", "wait"),
            ("LEDGIX_MAX_RETRIES", "-3"),
            ("LEDGIX_RETRY_BASE_DELAY", "1.2.3s"),
            ("LEDGIX_JWKS_TTL", "1e9999"),
        ] {
            let err = from(&[(name, value)]).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains(value),
                "{name}={value}: {err}"
            );
        }
        let err = from(&[("LEDGIX_VAULT_URL", "not a url")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a url"), "{err}");
    }

    #[test]
    fn parity_variables_are_read() {
        let c = from(&[
            ("LEDGIX_PRINCIPAL_ID", " user-42 "),
            ("LEDGIX_REPLAY_CACHE_SIZE", "20000"),
            ("LEDGIX_MAX_TOKEN_LIFETIME_SECONDS", "120"),
            ("LEDGIX_JWKS_TTL_MS", "1500"),
            ("LEDGIX_COUNTERPARTY_HINTS", "off"),
        ])
        .unwrap();
        assert_eq!(c.principal_id(), Some("user-42"));
        assert_eq!(c.replay_cache_size(), Some(20_000));
        assert_eq!(c.max_token_lifetime(), Duration::from_secs(120));
        assert_eq!(c.jwks_ttl(), Duration::from_millis(1500));
        assert!(!c.counterparty_hints());
        // Defaults.
        let c = from(&[]).unwrap();
        assert_eq!(c.principal_id(), None);
        assert_eq!(c.replay_cache_size(), None);
        assert_eq!(c.max_token_lifetime(), Duration::from_secs(330));
        assert!(c.counterparty_hints());
        // The TypeScript spellings: bare numbers are milliseconds, units read as written.
        let c = from(&[("LEDGIX_MAX_TOKEN_LIFETIME_MS", "330000")]).unwrap();
        assert_eq!(c.max_token_lifetime(), Duration::from_secs(330));
        let c = from(&[("LEDGIX_JWKS_TTL_MS", "2s")]).unwrap();
        assert_eq!(c.jwks_ttl(), Duration::from_secs(2));
        // Several spellings that agree are fine.
        let c = from(&[
            ("LEDGIX_JWKS_TTL_SECONDS", "60"),
            ("LEDGIX_JWKS_TTL_MS", "60000"),
        ])
        .unwrap();
        assert_eq!(c.jwks_ttl(), Duration::from_secs(60));
    }

    #[test]
    fn bad_parity_values_are_clear_errors() {
        for (name, value, says) in [
            ("LEDGIX_REPLAY_CACHE_SIZE", "0", "≥ 1"),
            ("LEDGIX_REPLAY_CACHE_SIZE", "-5", "≥ 1"),
            ("LEDGIX_REPLAY_CACHE_SIZE", "lots", "≥ 1"),
            ("LEDGIX_MAX_TOKEN_LIFETIME_SECONDS", "soon", "duration"),
            ("LEDGIX_MAX_TOKEN_LIFETIME_MS", "-1", "duration"),
            ("LEDGIX_JWKS_TTL_MS", "1e3", "duration"),
            ("LEDGIX_COUNTERPARTY_HINTS", "sometimes", "true or false"),
        ] {
            let err = from(&[(name, value)]).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains(value) && err.contains(says),
                "{name}={value}: {err}"
            );
        }
        let err = from(&[("LEDGIX_MAX_TOKEN_LIFETIME_SECONDS", "0")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("greater than zero"), "{err}");
        let err = from(&[("LEDGIX_JWKS_TTL", "30s"), ("LEDGIX_JWKS_TTL_MS", "30")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("LEDGIX_JWKS_TTL=`30s`")
                && err.contains("LEDGIX_JWKS_TTL_MS=`30`")
                && err.contains("disagree"),
            "{err}"
        );
        for bad in [
            Config::builder().replay_cache_size(0).build(),
            Config::builder().max_token_lifetime(Duration::ZERO).build(),
        ] {
            assert!(matches!(bad, Err(Error::Config(_))), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("2").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("2.5").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse_duration(" 10s ").unwrap(), Duration::from_secs(10));
        for bad in ["", "s", "ms", "1.2.3", "-1s", "1x", "NaN", "inf", "1e3"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn debug_hides_the_api_key_and_url_credentials() {
        let c = Config::builder()
            .vault_url("https://vault.example.com")
            .api_key("sk_live_51Hsecret")
            .agent_id("payments-agent")
            .proxy("http://proxyuser:proxypass@proxy.corp:3128")
            .build()
            .unwrap();
        let dbg = format!("{c:?}");
        // The replay store's size depends on the other tests of this binary: not compared.
        let expected = "Config { vault_url: \"https://vault.example.com\", api_key: Some(\"***\"), \
             timeout: 30s, verify_jwt: true, jwt_issuer: \"alcv-vault\", jwt_audience: \
             \"ledgix-sdk\", agent_id: \"payments-agent\", session_id: None, \
             review_poll_interval: 2s, review_timeout: 900s, review_mode: Block, max_retries: 3, \
             retry_base_delay: 500ms, jwks_ttl: 300s, jwks_refetch_cooldown: 30s, \
             trusted_keys: None, ledger_keys: None, allow_insecure_http: false, \
             proxy: Some(\"http://***@proxy.corp:3128\"), http_client: None, \
             max_concurrent_requests: 256, replay_store: MemoryReplayStore { len: ";
        assert!(dbg.starts_with(expected), "{dbg}");
        assert!(
            dbg.ends_with(
                ", .. }, replay_cache_size: None, max_token_lifetime: 330s, principal_id: None, \
                 counterparty_hints: true, decision_cache: false, decision_cache_ttl: 60s, \
                 decision_cache_max_entries: 1000, .. }"
            ),
            "{dbg}"
        );
        let pretty = format!("{c:#?}");
        for secret in ["sk_live", "proxyuser", "proxypass"] {
            assert!(!pretty.contains(secret), "{secret}: {pretty}");
        }
        // Before build() too: a builder holding a URL with credentials never shows them.
        let builder =
            Config::builder().vault_url("http://admin:hunter2@vault.example.com/?api_key=k1");
        let dbg = format!("{builder:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("k1"), "{dbg}");
        assert!(
            dbg.contains("http://***@vault.example.com/?api_key=***"),
            "{dbg}"
        );
    }

    #[test]
    fn url_errors_never_echo_credentials_or_query_values() {
        let cases = [
            "http://admin:hunter2@vault.example.com",
            "https://admin:hunter2@vault.example.com/api",
            "http://admin:hunter2@10.0.0.1:8000",
            "https://vault.example.com/?api_key=hunter2",
            "https://vault.example.com/#hunter2",
            "http://vault.example.com/?api_key=hunter2",
            "ftp://admin:hunter2@vault",
            "http://admin:hunter2@[::1",
            "admin:hunter2@vault.example.com",
            "not a url ?api_key=hunter2",
        ];
        for raw in cases {
            let err = Config::builder().vault_url(raw).build().unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::Config(_)), "{raw}: {err:?}");
            assert!(!text.contains("hunter2"), "{raw}: {text}");
            // (Credentials are fine in a proxy URL; they still never show.)
            match Config::builder().proxy(raw).build() {
                Err(e) => assert!(!e.to_string().contains("hunter2"), "proxy {raw}: {e}"),
                Ok(c) => assert!(!format!("{c:?}").contains("hunter2"), "proxy {raw}"),
            }
            let lookup = |n: &str| (n == "LEDGIX_VAULT_URL").then(|| raw.to_string());
            let err = ConfigBuilder::from_lookup(lookup)
                .and_then(ConfigBuilder::build)
                .unwrap_err()
                .to_string();
            assert!(!err.contains("hunter2"), "env {raw}: {err}");
        }
        // Credentials are named before any other problem of the URL.
        let err = Config::builder()
            .vault_url("http://admin:hunter2@vault.example.com/?x=1")
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("carries credentials"), "{err}");
    }

    #[test]
    fn redaction_keeps_what_helps_find_the_mistake() {
        for (raw, shown) in [
            (
                "https://vault.example.com/api",
                "https://vault.example.com/api",
            ),
            (
                "http://u:p@host:8000/x?a=1&b=2#f",
                "http://***@host:8000/x?a=***&b=***#***",
            ),
            ("http://u@h", "http://***@h"),
            ("host/path?token", "host/path?***"),
            ("", ""),
        ] {
            assert_eq!(redact_url(raw), shown, "{raw}");
        }
    }

    #[test]
    fn the_plain_http_refusal_names_the_api_key_only_when_one_is_set() {
        let without = Config::builder()
            .vault_url("http://vault.example.com")
            .build()
            .unwrap_err()
            .to_string();
        assert!(!without.contains("API key"), "{without}");
        assert!(without.contains("tool arguments and tokens"), "{without}");
        let with = Config::builder()
            .vault_url("http://vault.example.com")
            .api_key("k")
            .build()
            .unwrap_err()
            .to_string();
        assert!(with.contains("the API key"), "{with}");
    }

    #[test]
    fn proxy_settings_are_checked() {
        let c = from(&[("LEDGIX_PROXY_URL", "http://proxy.corp:3128")]).unwrap();
        assert!(c.has_proxy());
        for bad in ["socks5://proxy:1080", "proxy.corp:3128", "http://"] {
            assert!(Config::builder().proxy(bad).build().is_err(), "{bad}");
        }
        let err = Config::builder()
            .proxy("http://proxy.corp:3128")
            .http_client(reqwest::Client::new())
            .build()
            .unwrap_err()
            .to_string();
        assert!(err.contains("http_client"), "{err}");
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        for ok in [
            "http://localhost:8000",
            "http://127.0.0.1:9",
            "http://127.8.9.1",
            "http://[::1]:8000",
            "https://vault.example.com",
        ] {
            Config::builder().vault_url(ok).build().unwrap();
        }
        for bad in [
            "http://vault.example.com",
            "http://10.0.0.1:8000",
            "http://localhost.evil.com",
        ] {
            let err = Config::builder().vault_url(bad).build().unwrap_err();
            assert!(
                err.to_string().contains("allow_insecure_http"),
                "{bad}: {err}"
            );
            Config::builder()
                .vault_url(bad)
                .allow_insecure_http(true)
                .build()
                .unwrap();
        }
        for bad in ["ftp://vault", "https://u:p@vault", "https://vault/?x=1"] {
            assert!(Config::builder().vault_url(bad).build().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_bad_key_document_is_reported_by_build_and_the_chain_goes_on() {
        for bad in ["{\"keys\":[]}", "not json"] {
            let err = Config::builder()
                .trusted_keys(bad)
                .agent_id("still chaining")
                .build()
                .unwrap_err();
            assert!(
                matches!(&err, Error::Config(m) if m.starts_with("trusted_keys:")),
                "{err:?}"
            );
            let err = Config::builder().ledger_keys(bad).build().unwrap_err();
            assert!(
                matches!(&err, Error::Config(m) if m.starts_with("ledger_keys:")),
                "{err:?}"
            );
        }
        // The first error wins; a later good document does not hide it.
        let good = r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k","x":"A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"}]}"#;
        let err = Config::builder()
            .trusted_keys("[]")
            .trusted_keys(good)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)));
        let c = Config::builder().trusted_keys(good).build().unwrap();
        assert_eq!(c.trusted_keys().map(KeySet::len), Some(1));
        assert!(
            c.ledger_keys().is_none(),
            "token keys never pin ledger keys"
        );
    }

    #[test]
    fn decision_cache_settings_in_both_official_spellings() {
        let c = from(&[]).unwrap();
        assert!(!c.decision_cache(), "off by default");
        assert_eq!(c.decision_cache_ttl(), Duration::from_secs(60));
        assert_eq!(c.decision_cache_max_entries(), 1000);
        let c = from(&[
            ("LEDGIX_DECISION_CACHE_ENABLED", "true"),
            ("LEDGIX_DECISION_CACHE_TTL_SECONDS", "2.5"),
            ("LEDGIX_DECISION_CACHE_MAX_ENTRIES", "7"),
        ])
        .unwrap();
        assert!(c.decision_cache());
        assert_eq!(c.decision_cache_ttl(), Duration::from_millis(2500));
        assert_eq!(c.decision_cache_max_entries(), 7);
        // ledgix-ts: a bare number is milliseconds; a unit is read as written.
        let c = from(&[("LEDGIX_DECISION_CACHE_TTL_MS", "1500")]).unwrap();
        assert_eq!(c.decision_cache_ttl(), Duration::from_millis(1500));
        let c = from(&[("LEDGIX_DECISION_CACHE_TTL_MS", "3s")]).unwrap();
        assert_eq!(c.decision_cache_ttl(), Duration::from_secs(3));
        // Both spellings: fine when they agree, an error naming both when not.
        let c = from(&[
            ("LEDGIX_DECISION_CACHE_TTL_SECONDS", "2"),
            ("LEDGIX_DECISION_CACHE_TTL_MS", "2000"),
        ])
        .unwrap();
        assert_eq!(c.decision_cache_ttl(), Duration::from_secs(2));
        let err = from(&[
            ("LEDGIX_DECISION_CACHE_TTL_SECONDS", "2"),
            ("LEDGIX_DECISION_CACHE_TTL_MS", "2"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("LEDGIX_DECISION_CACHE_TTL_SECONDS")
                && err.contains("LEDGIX_DECISION_CACHE_TTL_MS"),
            "{err}"
        );
        for (name, value) in [
            ("LEDGIX_DECISION_CACHE_ENABLED", "sometimes"),
            ("LEDGIX_DECISION_CACHE_TTL_SECONDS", "a minute"),
            ("LEDGIX_DECISION_CACHE_TTL_SECONDS", "0"),
            ("LEDGIX_DECISION_CACHE_TTL_MS", "-5"),
            ("LEDGIX_DECISION_CACHE_TTL_MS", "0"),
            ("LEDGIX_DECISION_CACHE_MAX_ENTRIES", "0"),
            ("LEDGIX_DECISION_CACHE_MAX_ENTRIES", "1e3"),
            ("LEDGIX_DECISION_CACHE_MAX_ENTRIES", "-1"),
        ] {
            let err = from(&[(name, value)]).unwrap_err().to_string();
            assert!(
                err.contains(name) && err.contains(value),
                "{name}={value}: {err}"
            );
        }
        for bad in [
            Config::builder().decision_cache_ttl(Duration::ZERO),
            Config::builder().decision_cache_max_entries(0),
        ] {
            let err = bad.decision_cache(true).build().unwrap_err();
            assert!(
                matches!(&err, Error::Config(m) if m.starts_with("decision_cache")),
                "{err:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn durations_never_panic(s in "\\PC{0,16}") {
            let _ = parse_duration(&s);
        }

        #[test]
        fn redaction_never_panics_and_hides_userinfo(
            user in "[a-z]{1,8}",
            pass in "[a-z0-9]{6,12}",
            host in "[a-z]{1,10}(\\.[a-z]{2,5})?",
            tail in "\\PC{0,24}",
        ) {
            let raw = format!("https://{user}:{pass}@{host}{tail}");
            let shown = redact_url(&raw);
            proptest::prop_assert!(!shown.contains(&format!(":{pass}@")), "{}", shown);
        }
    }
}
