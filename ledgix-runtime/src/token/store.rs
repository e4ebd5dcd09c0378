//! Single use of an A-JWT across clients, gateways and processes: the [`ReplayStore`] trait and
//! the in-process [`MemoryReplayStore`].

use std::fmt::{self, Debug};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::replay::ReplayCache;
use crate::error::Error;

/// Where the `jti`s of used A-JWTs are remembered, so that one approval clears one use.
///
/// The client asks it before a guarded body runs ("this token ran a body"); a gateway asks it
/// before it passes a request ("this token passed the gateway"). The two roles never share a
/// key: each caller prefixes the `jti` with its role, so a token whose body ran in the agent
/// still passes the gateway once, even when both use the same store.
///
/// Single use holds as far as the store is shared: [`MemoryReplayStore`] covers every client
/// of one process (by default they all share one); across processes or replicas, plug a
/// shared store such as the Redis one (`ledgix::redis::RedisReplayStore`, feature `redis`)
/// with `ConfigBuilder::replay_store`.
///
/// Implementations must fail closed: when the store cannot answer (full, unreachable), return
/// an error, never `Ok(true)`.
#[async_trait]
pub trait ReplayStore: Send + Sync + Debug + 'static {
    /// `true` the first time `jti` is seen before `expires_at`; `false` on any later use.
    ///
    /// `expires_at` is when the token stops verifying (its `exp` plus the verification leeway):
    /// the store must remember `jti` at least until then, and may forget it after.
    async fn first_use(&self, jti: &str, expires_at: SystemTime) -> Result<bool, Error>;
}

#[async_trait]
impl<S: ReplayStore + ?Sized> ReplayStore for Arc<S> {
    async fn first_use(&self, jti: &str, expires_at: SystemTime) -> Result<bool, Error> {
        (**self).first_use(jti, expires_at).await
    }
}

static PROCESS: OnceLock<MemoryReplayStore> = OnceLock::new();

/// The default number of unexpired `jti`s a [`MemoryReplayStore`] remembers
/// (`LEDGIX_REPLAY_CACHE_SIZE` in the official SDKs is 10,000; ours refuses rather than
/// forgets, so it is larger).
pub const DEFAULT_REPLAY_CAPACITY: usize = super::replay::DEFAULT_CAPACITY;

/// An in-process [`ReplayStore`]: bounded, sharded, cheap to clone (clones share the ids).
///
/// It never forgets an unexpired id to make room: once `capacity` live ids are remembered, new
/// tokens are refused (an error) until some expire. Expiry follows the wall clock.
///
/// Every client of a process shares [`MemoryReplayStore::process`] unless configured otherwise,
/// so one approval runs one body however many clients resume it. It does not reach other
/// processes: for that, use a shared store.
#[derive(Clone)]
pub struct MemoryReplayStore {
    cache: Arc<ReplayCache>,
}

impl fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryReplayStore")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl Default for MemoryReplayStore {
    fn default() -> Self {
        MemoryReplayStore::new()
    }
}

impl MemoryReplayStore {
    /// A new, empty store of its own, bounded at [`DEFAULT_REPLAY_CAPACITY`] live ids.
    pub fn new() -> Self {
        MemoryReplayStore::with_capacity(DEFAULT_REPLAY_CAPACITY)
    }

    /// A new, empty store that remembers at most `capacity` unexpired ids.
    pub fn with_capacity(capacity: usize) -> Self {
        MemoryReplayStore {
            cache: Arc::new(ReplayCache::with_capacity(capacity)),
        }
    }

    /// The process-wide store every client uses by default (created on first use).
    pub fn process() -> Self {
        PROCESS.get_or_init(MemoryReplayStore::new).clone()
    }

    /// Asks the process-wide store for a bound of `size` ids: the first ask sets it, later
    /// asks can only raise it (the largest ask wins, so no client starves another).
    pub(crate) fn ask_process_capacity(size: usize) {
        static ASKED: Mutex<usize> = Mutex::new(0);
        let mut asked = ASKED.lock().unwrap_or_else(PoisonError::into_inner);
        if size > *asked {
            *asked = size;
            MemoryReplayStore::process().cache.set_capacity(size);
        }
    }

    /// The most unexpired ids this store remembers.
    pub fn capacity(&self) -> usize {
        self.cache.capacity()
    }

    /// Number of ids remembered (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.cache.len()
    }

    /// True when no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.cache.is_empty()
    }

    /// The synchronous check behind [`ReplayStore::first_use`].
    pub(crate) fn first_use_now(
        &self,
        jti: &str,
        expires_at: SystemTime,
        now: SystemTime,
    ) -> Result<bool, Error> {
        let forget_after = expires_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs().saturating_add(u64::from(d.subsec_nanos() > 0)))
            .unwrap_or(0);
        match self.cache.record_until(jti, forget_after, now) {
            Ok(()) => Ok(true),
            Err(Error::ReplayDetected { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }
}

#[async_trait]
impl ReplayStore for MemoryReplayStore {
    async fn first_use(&self, jti: &str, expires_at: SystemTime) -> Result<bool, Error> {
        self.first_use_now(jti, expires_at, SystemTime::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn first_use_then_replays() {
        let store = MemoryReplayStore::new();
        assert!(store.first_use_now("a", at(200), at(100)).unwrap());
        assert!(!store.first_use_now("a", at(200), at(150)).unwrap());
        assert!(store.first_use_now("b", at(200), at(150)).unwrap());
        // Clones share the ids.
        let clone = store.clone();
        assert!(!clone.first_use_now("b", at(200), at(160)).unwrap());
    }

    #[test]
    fn the_process_store_is_one_store() {
        let jti = format!("process-{}", std::process::id());
        assert!(
            MemoryReplayStore::process()
                .first_use_now(&jti, at(u64::from(u32::MAX)), SystemTime::now())
                .unwrap()
        );
        assert!(
            !MemoryReplayStore::process()
                .first_use_now(&jti, at(u64::from(u32::MAX)), SystemTime::now())
                .unwrap()
        );
    }

    #[test]
    fn a_full_store_is_an_error_not_a_first_use() {
        let store = MemoryReplayStore::with_capacity(2);
        assert!(store.first_use_now("a", at(200), at(100)).unwrap());
        assert!(store.first_use_now("b", at(200), at(100)).unwrap());
        assert!(store.first_use_now("c", at(200), at(100)).is_err());
        // After expiry there is room again.
        assert!(store.first_use_now("c", at(400), at(201)).unwrap());
    }

    #[tokio::test]
    async fn usable_as_a_trait_object() {
        let store: Arc<dyn ReplayStore> = Arc::new(MemoryReplayStore::new());
        assert!(store.first_use("x", at(u64::from(u32::MAX))).await.unwrap());
        assert!(!store.first_use("x", at(u64::from(u32::MAX))).await.unwrap());
    }
}
