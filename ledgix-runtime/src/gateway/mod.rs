//! Verify the A-JWT where the protected call arrives (feature `gateway`).
//!
//! The agent's guarded tool body holds the Vault's token ([`current_token`](crate::current_token))
//! and sends it with the call it makes, as `Authorization: Bearer <token>`. The service that
//! call reaches — a payment API, an internal gateway — puts a [`Gateway`] in front of its
//! routes, so that nothing passes unless the Vault cleared exactly this call:
//!
//! ```no_run
//! use axum::{Json, Router, routing::post};
//! use ledgix_runtime::gateway::{Binding, Cleared, Gateway};
//!
//! async fn refund(Cleared(claims): Cleared, Json(args): Json<serde_json::Value>) -> String {
//!     format!("refund {} cleared by policy {}", args["amount"], claims.policy_id)
//! }
//!
//! # async fn serve(jwks_json: &str) -> Result<(), Box<dyn std::error::Error>> {
//! let gateway = Gateway::builder()
//!     .trusted_keys_json(jwks_json)       // or .jwks_url("https://vault.example.com/.well-known/jwks.json")
//!     .tool("stripe_refund")
//!     .bind(Binding::ToolArgs)            // the JSON body is the tool's arguments
//!     .build()?;
//! let app = Router::new()
//!     .route("/v1/refunds", post(refund))
//!     .layer(gateway.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! # What is checked, in order
//!
//! 1. the announced body size (`Content-Length`) is within the limit, else 413;
//! 2. exactly one `Authorization: Bearer <token>` header, else 401;
//! 3. the token, exactly as the client verifies it: `alg` `EdDSA` only, a `kid` the trusted
//!    keys (pinned, or the Vault's JWKS, cached like the client's) hold, the Ed25519 signature,
//!    `iss`, `aud`, `sub`, `exp`, `nbf`, `iat` (30 s leeway), `jti`, and a `decision` that is
//!    an approval, else 401 (503 when the JWKS cannot be fetched);
//! 4. the token's `tool` is one this gateway accepts ([`GatewayBuilder::tool`]), else 403;
//! 5. the binding ([`Binding`]): the arguments in the body hash to the token's
//!    `tool_args_hash`, with the same canonical JSON as [`tool_args_hash`](crate::tool_args_hash),
//!    else 403 (400 when the body is not a JSON object, or has a key twice; 413 when it is
//!    larger than the limit, read no further than that);
//! 6. single use: the token's `jti` was never passed before, through the [`ReplayStore`],
//!    else 403 (503 when the store cannot answer). Only a request that got this far uses the
//!    token up.
//!
//! A refused request gets the JSON body `{"error": "<code>", "message": "<what and why>"}`
//! ([`GatewayError`]) and the inner service is never called.
//!
//! # What a passed request carries
//!
//! `Authorization` and every inbound `X-Ledgix-*` header are removed (a caller cannot spoof
//! them), then these are added; the body is forwarded unchanged and the verified
//! [`TokenClaims`] are in the request extensions (the [`Cleared`] extractor):
//!
//! | Header | Claim |
//! |---|---|
//! | `X-Ledgix-Tool` | `tool` |
//! | `X-Ledgix-Agent-Id` | `agent_id` |
//! | `X-Ledgix-Session-Id` | `session_id` |
//! | `X-Ledgix-Policy-Id` | `policy_id` |
//! | `X-Ledgix-Decision` | `decision` (`approved` when an older Vault omitted it) |
//! | `X-Ledgix-Jti` | `jti` |
//! | `X-Ledgix-Tool-Args-Hash` | `tool_args_hash` |
//!
//! A claim value that is not printable ASCII (a control character, a line break, non-ASCII
//! text), has a `%` or leading or trailing spaces is percent-encoded (`%XX` per byte); the
//! exact values are in the claims.
//!
//! # Single use, twice
//!
//! The agent's client records "this token ran a body" and the gateway "this token passed the
//! gateway": the two never share a key (the gateway prefixes the `jti` with `gateway:`), so a
//! token whose body ran in the agent passes the gateway once, even in one process or with one
//! shared store. A [`Gateway`]'s default store is its own [`MemoryReplayStore`], shared by its
//! clones; for several replicas plug a shared store ([`GatewayBuilder::replay_store`]).
//!
//! Other frameworks call [`Gateway::check`] with the headers and the body, then
//! [`Gateway::rewrite_headers`] on what they forward.

mod error;
mod extract;
mod headers;
mod json;
mod keys;
mod layer;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;
use tracing::Instrument;

pub use error::GatewayError;
pub use extract::Cleared;
pub use layer::{GatewayLayer, GatewayService};

use crate::config::{DEFAULT_JWKS_REFETCH_COOLDOWN, DEFAULT_JWKS_TTL, is_loopback, redact_url};
use crate::error::Error;
use crate::jwk::KeySet;
use crate::token::{
    self, Expectations, MemoryReplayStore, ReplayStore, TokenClaims, check_binding, shown,
};
use keys::{JwksSource, KeySource};

/// The role prefix of the ids a gateway records in its replay store ("this token passed the
/// gateway"); the client records "run:" + jti.
const REPLAY_ROLE: &str = "gateway:";
/// Default largest body read to check the binding: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// What of the request the token's `tool_args_hash` must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Binding {
    /// The JSON body is the tool's arguments: it must be a JSON object whose canonical hash is
    /// the token's `tool_args_hash` (the default).
    #[default]
    ToolArgs,
    /// The JSON object at this JSON pointer (RFC 6901, e.g. `"/tool_args"`) of the body is the
    /// tool's arguments.
    Pointer(&'static str),
    /// The body is not checked (the token still must verify, clear an accepted tool and be
    /// unused). For calls whose arguments are not in the body; the body is then streamed, not
    /// read by the gateway (past the size limit, the stream ends in an error).
    None,
}

/// Verifies A-JWTs where the protected call arrives. Cheap to clone: clones share the keys,
/// the JWKS cache and the replay store.
///
/// Use [`layer`](Self::layer) with axum (or any tower stack), or [`check`](Self::check) from
/// another framework. See the [module documentation](self) for what is checked and what a
/// passed request carries.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

struct Inner {
    keys: KeySource,
    issuer: String,
    audience: String,
    /// Accepted tools; empty: any.
    tools: Vec<String>,
    binding: Binding,
    store: Arc<dyn ReplayStore>,
    max_body_bytes: usize,
}

impl fmt::Debug for Gateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        f.debug_struct("Gateway")
            .field("keys", &inner.keys)
            .field("issuer", &inner.issuer)
            .field("audience", &inner.audience)
            .field("tools", &inner.tools)
            .field("binding", &inner.binding)
            .field("replay_store", &inner.store)
            .field("max_body_bytes", &inner.max_body_bytes)
            .finish()
    }
}

impl Gateway {
    /// A builder; it needs the trusted keys ([`trusted_keys_json`](GatewayBuilder::trusted_keys_json))
    /// or the Vault's JWKS ([`jwks_url`](GatewayBuilder::jwks_url)).
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    /// The tower layer that puts this gateway in front of a service (axum `Router::layer`,
    /// `Route::layer`, or any `tower::ServiceBuilder`).
    pub fn layer(&self) -> GatewayLayer {
        GatewayLayer::new(self.clone())
    }

    /// Checks a request given as its headers and whole body, for frameworks other than axum:
    /// `Ok` with the verified claims when it may pass (its token is then used up), else the
    /// refusal to answer with ([`GatewayError::status`], [`GatewayError::to_json`]). Forward
    /// a passed request with [`rewrite_headers`](Self::rewrite_headers) applied.
    pub async fn check(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<TokenClaims, GatewayError> {
        let span = request_span("-", "-");
        async {
            let outcome = async {
                let claims = self.authenticate(headers, &span).await?;
                if body.len() > self.inner.max_body_bytes {
                    return Err(self.too_large());
                }
                self.bind(&claims, body)?;
                self.record_use(&claims).await?;
                Ok(claims)
            }
            .await;
            record_outcome(&span, &outcome);
            outcome
        }
        .instrument(span.clone())
        .await
    }

    /// Removes `Authorization` and every `X-Ledgix-*` header from `headers`, then adds the
    /// `X-Ledgix-*` headers of `claims` (see the [module documentation](self)). The layer does
    /// this to every request it passes.
    pub fn rewrite_headers(headers: &mut HeaderMap, claims: &TokenClaims) {
        headers::rewrite(headers, claims);
    }

    /// The binding this gateway checks.
    pub fn binding(&self) -> Binding {
        self.inner.binding
    }

    /// The largest body this gateway reads.
    pub fn max_body_bytes(&self) -> usize {
        self.inner.max_body_bytes
    }

    /// Steps 2–4: the bearer token verified, its tool accepted.
    async fn authenticate(
        &self,
        headers: &HeaderMap,
        span: &tracing::Span,
    ) -> Result<TokenClaims, GatewayError> {
        let token = headers::bearer_token(headers)?;
        let compact = token::parse_compact(token).map_err(invalid_token)?;
        let keys = self
            .inner
            .keys
            .keys_for(&compact.kid)
            .await
            .map_err(|e| GatewayError::Unavailable(message(e)))?;
        let expect = Expectations {
            issuer: &self.inner.issuer,
            audience: &self.inner.audience,
        };
        let claims = token::verify_compact(&compact, &keys, expect, SystemTime::now())
            .map_err(invalid_token)?;
        // Only formatted when a subscriber keeps the span.
        if !span.is_disabled() {
            span.record("jti", shown(&claims.jti));
            span.record("tool", shown(&claims.tool));
        }
        if !self.inner.tools.is_empty() && !self.inner.tools.contains(&claims.tool) {
            return Err(GatewayError::ToolNotAllowed {
                tool: shown(&claims.tool),
            });
        }
        Ok(claims)
    }

    /// Step 5: the body's arguments hash to the token's `tool_args_hash`.
    fn bind(&self, claims: &TokenClaims, body: &[u8]) -> Result<(), GatewayError> {
        let pointer = match self.inner.binding {
            Binding::None => return Ok(()),
            Binding::ToolArgs => "",
            Binding::Pointer(pointer) => pointer,
        };
        let value = json::parse(body)
            .map_err(|e| GatewayError::InvalidBody(format!("the body is not JSON: {e}")))?;
        let args = match value.pointer(pointer) {
            Some(Value::Object(args)) => args,
            Some(_) if pointer.is_empty() => {
                return Err(GatewayError::InvalidBody(
                    "the body is not a JSON object (the tool's arguments)".into(),
                ));
            }
            Some(_) => {
                return Err(GatewayError::InvalidBody(format!(
                    "the value at `{pointer}` is not a JSON object (the tool's arguments)"
                )));
            }
            None => {
                return Err(GatewayError::InvalidBody(format!(
                    "the body has no value at `{pointer}` (the tool's arguments)"
                )));
            }
        };
        // The token's own tool: whether this gateway accepts it was checked before.
        check_binding(claims, &claims.tool, args)
            .map_err(|e| GatewayError::ArgsMismatch(message(e)))
    }

    /// Step 6: the token's first pass through this gateway.
    async fn record_use(&self, claims: &TokenClaims) -> Result<(), GatewayError> {
        let key = format!("{REPLAY_ROLE}{}", claims.jti);
        match self
            .inner
            .store
            .first_use(&key, token::forget_after(claims.exp))
            .await
        {
            Ok(true) => Ok(()),
            Ok(false) => Err(GatewayError::Replayed {
                jti: shown(&claims.jti),
            }),
            Err(e) => Err(GatewayError::Unavailable(format!(
                "the replay store did not answer: {}",
                message(e)
            ))),
        }
    }

    fn too_large(&self) -> GatewayError {
        GatewayError::BodyTooLarge {
            limit: self.inner.max_body_bytes,
        }
    }

    /// The whole admission of a request the layer received: `Ok` with the request to pass on
    /// (headers rewritten, claims in its extensions, body unchanged).
    async fn admit<B>(
        &self,
        request: http::Request<B>,
        span: &tracing::Span,
    ) -> Result<http::Request<axum::body::Body>, GatewayError>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let (mut parts, body) = request.into_parts();
        let max = self.inner.max_body_bytes;
        let announced = headers::content_length(&parts.headers)?;
        let hinted = http_body::Body::size_hint(&body).lower();
        if announced.is_some_and(|n| n > max as u64) || hinted > max as u64 {
            return Err(self.too_large());
        }
        let claims = self.authenticate(&parts.headers, span).await?;
        let body = if self.inner.binding == Binding::None {
            axum::body::Body::new(http_body_util::Limited::new(body, max))
        } else {
            let bytes = layer::read_limited(body, max).await?;
            self.bind(&claims, &bytes)?;
            axum::body::Body::from(bytes)
        };
        self.record_use(&claims).await?;
        headers::rewrite(&mut parts.headers, &claims);
        parts.extensions.insert(claims);
        Ok(http::Request::from_parts(parts, body))
    }
}

/// The span of one request the gateway judges.
fn request_span(method: &str, path: &str) -> tracing::Span {
    tracing::info_span!(
        "ledgix.gateway",
        method,
        path,
        jti = tracing::field::Empty,
        tool = tracing::field::Empty,
        outcome = tracing::field::Empty,
        status = tracing::field::Empty,
    )
}

/// Records the outcome on the request's span, with one event.
fn record_outcome<T>(span: &tracing::Span, outcome: &Result<T, GatewayError>) {
    match outcome {
        Ok(_) => {
            span.record("outcome", "passed");
            tracing::debug!("ledgix gateway: passed");
        }
        Err(e) => {
            span.record("outcome", e.code());
            span.record("status", e.status().as_u16());
            tracing::info!(error = %e, "ledgix gateway: refused; the inner service was not called");
        }
    }
}

fn invalid_token(e: Error) -> GatewayError {
    GatewayError::InvalidToken(message(e))
}

/// The text of a verification error without the variant's prefix.
fn message(e: Error) -> String {
    match e {
        Error::TokenVerification(m) | Error::Config(m) => m,
        other => other.to_string(),
    }
}

/// Builds a [`Gateway`]. Errors (a bad key document, no keys at all, a bad URL) are reported
/// by [`build`](Self::build).
#[derive(Default)]
pub struct GatewayBuilder {
    pinned: Option<Result<KeySet, String>>,
    jwks_url: Option<String>,
    http_client: Option<reqwest::Client>,
    allow_insecure_http: bool,
    issuer: Option<String>,
    audience: Option<String>,
    tools: Vec<String>,
    binding: Binding,
    store: Option<Arc<dyn ReplayStore>>,
    max_body_bytes: Option<usize>,
    jwks_ttl: Option<Duration>,
    jwks_refetch_cooldown: Option<Duration>,
}

impl fmt::Debug for GatewayBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayBuilder")
            .field(
                "pinned",
                &self.pinned.as_ref().map(|k| k.as_ref().map(KeySet::len)),
            )
            .field("jwks_url", &self.jwks_url.as_deref().map(redact_url))
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("tools", &self.tools)
            .field("binding", &self.binding)
            .field("replay_store", &self.store)
            .field("max_body_bytes", &self.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl GatewayBuilder {
    /// Trusts the Ed25519 keys of this JWKS document (`{"keys": [...]}`), and only them: no
    /// network access. A malformed document, or one with no Ed25519 key, fails
    /// [`build`](Self::build).
    pub fn trusted_keys_json(mut self, jwks: &str) -> Self {
        self.pinned = Some(KeySet::from_jwks_json(jwks).map_err(|e| e.to_string()));
        self
    }

    /// Trusts these keys, and only them (the same as [`trusted_keys_json`](Self::trusted_keys_json)).
    pub fn trusted_keys(mut self, keys: KeySet) -> Self {
        self.pinned = Some(Ok(keys));
        self
    }

    /// Trusts the keys the Vault serves at this URL (its `/.well-known/jwks.json`), fetched
    /// when first needed and cached like the client's: fresh for 5 minutes
    /// ([`jwks_ttl`](Self::jwks_ttl)), fetched again for an unknown `kid` at most once per
    /// 30 s ([`jwks_refetch_cooldown`](Self::jwks_refetch_cooldown)). `https://`, or plain
    /// `http://` to loopback only (unless [`allow_insecure_http`](Self::allow_insecure_http)).
    /// While the keys cannot be fetched, requests are refused (503).
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.jwks_url = Some(url.into());
        self
    }

    /// The `reqwest::Client` to fetch the JWKS with (your own TLS roots or proxy). Build it with
    /// `reqwest::redirect::Policy::none()`: an answer that came through a redirect is refused.
    /// By default the gateway builds one: rustls, no redirects, no proxy.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Allows a plain `http://` JWKS URL to a host other than loopback (default false: anyone
    /// on the path could hand the gateway their own keys).
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The issuer tokens must carry (default `alcv-vault`, as the client's).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The audience tokens must be for (default `ledgix-sdk`, as the client's).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Accepts tokens that clear this tool (repeat for several). With none configured, a token
    /// for any tool is accepted.
    pub fn tool(mut self, tool: impl Into<String>) -> Self {
        self.tools.push(tool.into());
        self
    }

    /// What the token's `tool_args_hash` must match (default [`Binding::ToolArgs`]).
    pub fn bind(mut self, binding: Binding) -> Self {
        self.binding = binding;
        self
    }

    /// Where the ids of passed tokens are remembered (default: a [`MemoryReplayStore`] of this
    /// gateway's own, shared by its clones). Use a shared store for several replicas.
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The largest body read to check the binding (default [`DEFAULT_MAX_BODY_BYTES`], 1 MiB);
    /// a larger one is refused with 413, without being read past the limit.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = Some(max);
        self
    }

    /// How long fetched JWKS keys stay fresh (default 5 minutes).
    pub fn jwks_ttl(mut self, ttl: Duration) -> Self {
        self.jwks_ttl = Some(ttl);
        self
    }

    /// The shortest time between two JWKS fetches for an unknown `kid` (default 30 s).
    pub fn jwks_refetch_cooldown(mut self, cooldown: Duration) -> Self {
        self.jwks_refetch_cooldown = Some(cooldown);
        self
    }

    /// Checks the settings and builds the gateway (no network access happens here).
    pub fn build(self) -> Result<Gateway, Error> {
        let keys = match (self.pinned, self.jwks_url) {
            (Some(_), Some(_)) => {
                return Err(Error::Config(
                    "gateway: pinned keys and a jwks_url are both set; choose one".into(),
                ));
            }
            (None, None) => {
                return Err(Error::Config(
                    "gateway: no trusted keys; set trusted_keys_json (pinned keys) or jwks_url \
                     (the Vault's JWKS)"
                        .into(),
                ));
            }
            (Some(Err(e)), None) => {
                return Err(Error::Config(format!("gateway: trusted keys: {e}")));
            }
            (Some(Ok(keys)), None) => {
                if keys.is_empty() {
                    return Err(Error::Config(
                        "gateway: the trusted key set is empty".into(),
                    ));
                }
                KeySource::Pinned(Arc::new(keys))
            }
            (None, Some(raw)) => {
                let url = jwks_url(&raw, self.allow_insecure_http)?;
                let http = match self.http_client {
                    Some(http) => http,
                    None => keys::http_client()?,
                };
                let ttl = self.jwks_ttl.unwrap_or(DEFAULT_JWKS_TTL);
                let cooldown = self
                    .jwks_refetch_cooldown
                    .unwrap_or(DEFAULT_JWKS_REFETCH_COOLDOWN);
                KeySource::Jwks(Box::new(JwksSource {
                    url,
                    http,
                    cache: crate::client::jwks::JwksCache::new(ttl, cooldown),
                }))
            }
        };
        let issuer = self.issuer.unwrap_or_else(|| "alcv-vault".into());
        let audience = self.audience.unwrap_or_else(|| "ledgix-sdk".into());
        if issuer.is_empty() || audience.is_empty() {
            return Err(Error::Config(
                "gateway: the issuer and audience must not be empty".into(),
            ));
        }
        if self.tools.iter().any(String::is_empty) {
            return Err(Error::Config("gateway: a tool name is empty".into()));
        }
        if let Binding::Pointer(pointer) = self.binding
            && !pointer.is_empty()
            && !pointer.starts_with('/')
        {
            return Err(Error::Config(format!(
                "gateway: `{}` is not a JSON pointer (RFC 6901): it must start with `/`",
                shown(pointer)
            )));
        }
        let store = self
            .store
            .unwrap_or_else(|| Arc::new(MemoryReplayStore::new()));
        Ok(Gateway {
            inner: Arc::new(Inner {
                keys,
                issuer,
                audience,
                tools: self.tools,
                binding: self.binding,
                store,
                max_body_bytes: self.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
            }),
        })
    }
}

/// Checks a JWKS URL: an absolute `https://` URL without credentials, or `http://` to
/// loopback (or anywhere when allowed).
fn jwks_url(raw: &str, allow_insecure_http: bool) -> Result<reqwest::Url, Error> {
    let shown = redact_url(raw);
    let url = reqwest::Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("gateway: jwks_url `{shown}` is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::Config(format!(
            "gateway: jwks_url `{shown}` carries credentials"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&url) => Ok(url),
        "http" => Err(Error::Config(format!(
            "gateway: jwks_url `{shown}` is plain http:// to a host other than loopback; use \
             https:// (or allow_insecure_http(true))"
        ))),
        other => Err(Error::Config(format!(
            "gateway: jwks_url `{shown}` has scheme `{other}`, expected https"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::TokenSigner;

    fn jwks() -> String {
        TokenSigner::from_seed("k1", [7; 32]).jwks_json()
    }

    #[test]
    fn build_errors_name_the_setting() {
        let err = |b: GatewayBuilder| b.build().unwrap_err().to_string();
        assert!(err(Gateway::builder()).contains("no trusted keys"));
        assert!(err(Gateway::builder().trusted_keys_json("{")).contains("trusted keys"));
        assert!(
            err(Gateway::builder().trusted_keys_json(r#"{"keys":[]}"#)).contains("no Ed25519 key")
        );
        assert!(
            err(Gateway::builder()
                .trusted_keys_json(&jwks())
                .jwks_url("https://v.example/jwks"))
            .contains("choose one")
        );
        assert!(err(Gateway::builder().jwks_url("http://v.example/jwks")).contains("plain http"));
        assert!(err(Gateway::builder().jwks_url("ftp://v.example/jwks")).contains("scheme `ftp`"));
        assert!(err(Gateway::builder().jwks_url("not a url")).contains("not a URL"));
        let e = err(Gateway::builder().jwks_url("https://user:pw@v.example/jwks"));
        assert!(e.contains("credentials") && !e.contains("pw@"), "{e}");
        assert!(
            err(Gateway::builder()
                .trusted_keys_json(&jwks())
                .bind(Binding::Pointer("tool_args")))
            .contains("JSON pointer")
        );
        assert!(err(Gateway::builder().trusted_keys_json(&jwks()).tool("")).contains("empty"));
        assert!(err(Gateway::builder().trusted_keys_json(&jwks()).issuer("")).contains("empty"));
        Gateway::builder()
            .jwks_url("http://127.0.0.1:9/.well-known/jwks.json")
            .build()
            .unwrap();
        Gateway::builder()
            .jwks_url("http://v.example/jwks")
            .allow_insecure_http(true)
            .build()
            .unwrap();
    }

    #[test]
    fn debug_names_the_setup() {
        let g = Gateway::builder()
            .trusted_keys_json(&jwks())
            .tool("t")
            .build()
            .unwrap();
        let text = format!("{g:?}");
        assert!(text.contains("k1") && text.contains("ToolArgs"), "{text}");
        assert_eq!(g.binding(), Binding::ToolArgs);
        assert_eq!(g.max_body_bytes(), DEFAULT_MAX_BODY_BYTES);
    }

    #[test]
    fn gateway_is_send_sync_and_cheap_to_clone() {
        fn bounds<T: Send + Sync + Clone + 'static>() {}
        bounds::<Gateway>();
        bounds::<GatewayLayer>();
    }
}
