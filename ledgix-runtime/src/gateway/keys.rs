//! Where the gateway's trusted keys come from: pinned, or the Vault's JWKS through the same
//! cache the client uses (fresh for `ttl`, refetched for an unknown `kid` at most once per
//! cooldown, one fetch at a time).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::client::jwks::JwksCache;
use crate::client::transport::read_capped;
use crate::config::redact_url;
use crate::error::Error;
use crate::jwk::KeySet;

/// Largest JWKS document read (a few keys are a few hundred bytes).
const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Time limit of one JWKS fetch.
pub(crate) const JWKS_FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// The keys a gateway verifies under.
pub(crate) enum KeySource {
    /// Keys given at build time; never fetched.
    Pinned(Arc<KeySet>),
    /// The Vault's JWKS.
    Jwks(Box<JwksSource>),
}

/// A JWKS endpoint and its cache.
pub(crate) struct JwksSource {
    pub(crate) url: Url,
    pub(crate) http: reqwest::Client,
    pub(crate) cache: JwksCache,
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Pinned(keys) => f
                .debug_struct("Pinned")
                .field("kids", &keys.kids().collect::<Vec<_>>())
                .finish(),
            KeySource::Jwks(source) => f
                .debug_struct("Jwks")
                .field("url", &redact_url(source.url.as_str()))
                .finish_non_exhaustive(),
        }
    }
}

impl KeySource {
    /// The keys to verify a token signed by `kid`. An error means the keys could not be had
    /// (the JWKS endpoint is down or answered nonsense), not that the token is bad.
    pub(crate) async fn keys_for(&self, kid: &str) -> Result<Arc<KeySet>, Error> {
        match self {
            KeySource::Pinned(keys) => Ok(keys.clone()),
            KeySource::Jwks(source) => {
                source
                    .cache
                    .keys_for(Some(kid), Instant::now(), || {
                        fetch(&source.http, &source.url)
                    })
                    .await
            }
        }
    }
}

/// The `reqwest::Client` a gateway builds for its JWKS: rustls, no redirects, no proxy from
/// the environment (a proxy answering as the Vault could hand out its own keys).
pub(crate) fn http_client() -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(concat!("ledgix-rust-gateway/", env!("CARGO_PKG_VERSION")))
        .timeout(JWKS_FETCH_TIMEOUT)
        .connect_timeout(JWKS_FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .map_err(|e| Error::Config(format!("could not build the JWKS HTTP client: {e}")))
}

/// One `GET` of the JWKS document, its body capped.
async fn fetch(http: &reqwest::Client, url: &Url) -> Result<KeySet, Error> {
    let shown = redact_url(url.as_str());
    let unusable = |why: String| Error::TokenVerification(format!("JWKS at {shown}: {why}"));
    let resp = http
        .get(url.clone())
        .timeout(JWKS_FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| unusable(format!("could not be fetched: {}", e.without_url())))?;
    if resp.url() != url {
        return Err(unusable("the answer came through a redirect".into()));
    }
    let status = resp.status();
    if !status.is_success() {
        return Err(unusable(format!("answered HTTP {}", status.as_u16())));
    }
    let body = read_capped(resp, MAX_JWKS_BYTES)
        .await
        .map_err(|e| unusable(format!("could not be read: {}", e.without_url())))?
        .ok_or_else(|| unusable(format!("larger than {MAX_JWKS_BYTES} bytes")))?;
    let text = std::str::from_utf8(&body).map_err(|_| unusable("not UTF-8 text".into()))?;
    KeySet::from_jwks_json(text).map_err(|e| unusable(format!("unusable: {e}")))
}
