//! A [`ReplayStore`] in Redis (feature `redis`): single use of an A-JWT across processes,
//! agent workers and gateway replicas.
//!
//! [`MemoryReplayStore`](crate::MemoryReplayStore) makes a token clear one call per process.
//! When several processes may see the same token (agent workers resuming one approval, N
//! replicas of a gateway), they must share the memory of used token ids: point them all at the
//! same Redis with [`RedisReplayStore`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), ledgix_runtime::Error> {
//! use ledgix_runtime::{Config, LedgixClient, redis::RedisReplayStore};
//!
//! let store = RedisReplayStore::connect("redis://127.0.0.1:6379/0").await?;
//! let config = Config::from_env()?.to_builder().replay_store(store).build()?;
//! let client = LedgixClient::new(config)?;
//! # let _ = client; Ok(()) }
//! ```
//!
//! Each first use is one `SET <namespace><key> 1 NX PX <ms until the token expires>`: Redis
//! answers `OK` to exactly one caller, whoever asks first, and forgets the id once the token
//! can no longer verify. When Redis cannot answer (down, unreachable, slower than the
//! timeout, an error reply), the token is refused: [`Error::ReplayStore`] (fail closed).
//!
//! Redis must keep what it is told for single use to hold: a Redis restarted without
//! persistence forgets the ids of tokens still valid (for at most their remaining lifetime,
//! five minutes by default). Use AOF persistence, or a replicated Redis, where that matters.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use async_trait::async_trait;

use crate::error::{ConnectionError, Error};
use crate::token::store::ReplayStore;

/// The key prefix used unless [`RedisReplayStoreBuilder::namespace`] sets another.
pub const DEFAULT_NAMESPACE: &str = "ledgix:replay:";

/// How long one check may take, connecting included, before the token is refused (default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// Longest expiry set on a key: tokens live minutes; a far-future `expires_at` is capped here
/// rather than overflowing Redis's expiry arithmetic.
const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// A [`ReplayStore`] in Redis: `SET key NX` with an expiry at the token's `exp` plus leeway.
///
/// Cheap to clone: clones share one managed, multiplexed connection (many checks in flight on
/// one socket, reconnected in the background after Redis comes back). `Debug` and errors show
/// the Redis URL without its password.
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[derive(Clone)]
pub struct RedisReplayStore {
    conn: ConnectionManager,
    namespace: Arc<str>,
    timeout: Duration,
    /// The URL with any password replaced by `***`, for messages.
    shown_url: Arc<str>,
}

impl fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStore")
            .field("url", &self.shown_url)
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisReplayStore`]; [`connect`](Self::connect) makes it.
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[must_use = "call .connect().await to make the store"]
#[derive(Clone)]
pub struct RedisReplayStoreBuilder {
    url: String,
    namespace: String,
    timeout: Duration,
}

impl fmt::Debug for RedisReplayStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisReplayStoreBuilder")
            .field("url", &shown_url(&self.url))
            .field("namespace", &self.namespace)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisReplayStoreBuilder {
    /// The prefix of every key (default [`DEFAULT_NAMESPACE`], `ledgix:replay:`): give each
    /// deployment sharing one Redis its own. The callers' role prefixes (`run:` for a client,
    /// `gateway:` for a gateway) come after it.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// How long one check may take, a reconnection included, before the token is refused
    /// (default 2 s). Also bounds [`connect`](Self::connect).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects (within the timeout) and returns the store. A bad URL is [`Error::Config`];
    /// a Redis that cannot be reached is [`Error::ReplayStore`].
    pub async fn connect(self) -> Result<RedisReplayStore, Error> {
        let shown: Arc<str> = shown_url(&self.url).into();
        if self.timeout.is_zero() {
            return Err(Error::Config(
                "Redis replay store: the timeout must be more than zero".into(),
            ));
        }
        let client = ::redis::Client::open(self.url.as_str()).map_err(|e| {
            Error::Config(format!(
                "Redis replay store: invalid Redis URL {shown}: {}",
                redact(&e.to_string(), &self.url)
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let conn = match tokio::time::timeout(
            self.timeout,
            ConnectionManager::new_with_config(client, config),
        )
        .await
        {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(unavailable(&shown, "cannot connect", &e, &self.url)),
            Err(_) => {
                return Err(Error::ReplayStore(ConnectionError::new(format!(
                    "Redis at {shown}: no connection within {:?}",
                    self.timeout
                ))));
            }
        };
        Ok(RedisReplayStore {
            conn,
            namespace: self.namespace.into(),
            timeout: self.timeout,
            shown_url: shown,
        })
    }
}

impl RedisReplayStore {
    /// Connects to the Redis at `url` (`redis://[:password@]host[:port][/db]`) with the
    /// default namespace and timeout.
    pub async fn connect(url: impl Into<String>) -> Result<RedisReplayStore, Error> {
        RedisReplayStore::builder(url).connect().await
    }

    /// A builder for a store at `url`, to set the namespace or the timeout.
    pub fn builder(url: impl Into<String>) -> RedisReplayStoreBuilder {
        RedisReplayStoreBuilder {
            url: url.into(),
            namespace: DEFAULT_NAMESPACE.to_string(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The key prefix.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The key a `jti` is remembered under.
    fn key(&self, jti: &str) -> String {
        let mut key = String::with_capacity(self.namespace.len() + jti.len());
        key.push_str(&self.namespace);
        key.push_str(jti);
        key
    }
}

#[async_trait]
impl ReplayStore for RedisReplayStore {
    async fn first_use(&self, jti: &str, expires_at: SystemTime) -> Result<bool, Error> {
        let ttl = expires_at
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .clamp(Duration::from_millis(1), MAX_TTL);
        // Whole milliseconds, rounded up: the key outlives the token, never the reverse.
        let ttl_ms = ttl
            .as_millis()
            .saturating_add(u128::from(!ttl.subsec_nanos().is_multiple_of(1_000_000)));
        let ttl_ms = u64::try_from(ttl_ms).unwrap_or(u64::MAX);
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(self.key(jti))
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms);
        let mut conn = self.conn.clone();
        let answer: Result<::redis::Value, ::redis::RedisError> =
            match tokio::time::timeout(self.timeout, cmd.query_async(&mut conn)).await {
                Ok(answer) => answer,
                Err(_) => {
                    return Err(Error::ReplayStore(ConnectionError::new(format!(
                        "Redis at {}: no answer within {:?}; the token is refused",
                        self.shown_url, self.timeout
                    ))));
                }
            };
        match answer {
            Ok(::redis::Value::Okay) => Ok(true),
            Ok(::redis::Value::SimpleString(s)) if s == "OK" => Ok(true),
            Ok(::redis::Value::Nil) => Ok(false),
            Ok(other) => Err(Error::ReplayStore(ConnectionError::new(format!(
                "Redis at {}: unexpected answer to SET NX ({}); the token is refused",
                self.shown_url,
                kind_of(&other)
            )))),
            Err(e) => Err(unavailable(
                &self.shown_url,
                "SET NX failed; the token is refused",
                &e,
                "",
            )),
        }
    }
}

/// The kind of an unexpected Redis value (never its contents).
fn kind_of(value: &::redis::Value) -> &'static str {
    match value {
        ::redis::Value::Int(_) => "an integer",
        ::redis::Value::BulkString(_) => "a bulk string",
        ::redis::Value::Array(_) => "an array",
        ::redis::Value::SimpleString(_) => "a status other than OK",
        ::redis::Value::ServerError(_) => "a server error",
        _ => "another type",
    }
}

/// An [`Error::ReplayStore`] for a Redis error, its text with the URL's password removed.
fn unavailable(shown: &str, what: &str, e: &::redis::RedisError, url: &str) -> Error {
    let detail = redact(&e.to_string(), url);
    Error::ReplayStore(ConnectionError::with_source(
        format!("Redis at {shown}: {what}"),
        RedisCause(detail),
    ))
}

/// The text of a Redis error, as the [`source`](std::error::Error::source) of ours.
#[derive(Debug)]
struct RedisCause(String);

impl fmt::Display for RedisCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RedisCause {}

/// `text` with the password and user name of `url` (when it has them) replaced by `***`.
fn redact(text: &str, url: &str) -> String {
    let mut out = text.to_string();
    if let Ok(parsed) = url::Url::parse(url) {
        for secret in [parsed.password().unwrap_or(""), parsed.username()] {
            if secret.len() >= 3 {
                out = out.replace(secret, "***");
                if let Ok(decoded) = percent_decode(secret)
                    && decoded.len() >= 3
                {
                    out = out.replace(&decoded, "***");
                }
            }
        }
    }
    out
}

fn percent_decode(s: &str) -> Result<String, ()> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hi = (bytes[i + 1] as char).to_digit(16).ok_or(())?;
            let lo = (bytes[i + 2] as char).to_digit(16).ok_or(())?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ())
}

/// `url` fit to show: its password (and user name) as `***`; an unparsable URL is not shown.
fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            if !parsed.username().is_empty() {
                let _ = parsed.set_username("***");
            }
            parsed.to_string()
        }
        Err(_) => "<unparsable URL>".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_secrets() {
        assert_eq!(
            shown_url("redis://:hunter22@db.internal:6380/2"),
            "redis://:***@db.internal:6380/2"
        );
        assert_eq!(
            shown_url("redis://admin:hunter22@db.internal/0"),
            "redis://***:***@db.internal/0"
        );
        assert_eq!(
            shown_url("redis://127.0.0.1:6379"),
            "redis://127.0.0.1:6379"
        );
        assert_eq!(shown_url("not a url :hunter22"), "<unparsable URL>");
        assert_eq!(
            redact(
                "auth failed for hunter%2F22 / hunter/22",
                "redis://:hunter%2F22@h/0"
            ),
            "auth failed for *** / ***"
        );
    }

    #[tokio::test]
    async fn a_bad_url_is_a_config_error_without_the_password() {
        let err = RedisReplayStore::connect("rediss+nope://:hunter22@host/0")
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(!format!("{err} {err:?}").contains("hunter22"), "{err}");
    }

    #[tokio::test]
    async fn nothing_listening_is_a_replay_store_error_without_the_password() {
        // A port nothing listens on: bind one, then drop the listener.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("redis://:hunter22@127.0.0.1:{port}/0");
        let err = RedisReplayStore::builder(url)
            .timeout(Duration::from_millis(500))
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ReplayStore(_)), "{err:?}");
        let mut shown = format!("{err} {err:?}");
        let mut source = std::error::Error::source(&err);
        while let Some(s) = source {
            shown.push_str(&s.to_string());
            source = s.source();
        }
        assert!(!shown.contains("hunter22"), "{shown}");
        assert!(shown.contains(&format!("127.0.0.1:{port}")), "{shown}");
    }
}
