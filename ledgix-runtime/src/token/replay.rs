//! The `jti` replay cache: every A-JWT clears exactly one call.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use super::{LEEWAY, unix_seconds};
use crate::error::Error;

/// Shards (a power of two): threads verifying different tokens rarely share a lock.
const SHARDS: usize = 32;
/// A shard is swept for expired ids when it has grown to this size (then to twice its live size).
const MIN_SWEEP_AT: usize = 256;
/// Default bound on the number of unexpired ids remembered.
pub(crate) const DEFAULT_CAPACITY: usize = 1 << 20;

/// Remembers used `jti`s until their token expires (`exp` + 30 s leeway), so a token is
/// accepted once.
///
/// Thread-safe and sharded: many threads check tokens concurrently without contending on one
/// lock. Expired ids are swept out as the cache grows, so memory follows the number of live
/// tokens. It never forgets an unexpired id to make room: when `capacity` live ids are
/// remembered, new tokens are refused until some expire (fail closed).
///
/// Expiry follows the `now` it is given (the wall clock, for the client): if the system clock
/// jumps forward past a token's `exp` and back again, that token's id may be forgotten while
/// the token verifies again. Keep the clock disciplined (NTP slews, it does not jump).
pub struct ReplayCache {
    shards: [Mutex<Shard>; SHARDS],
    hasher: RandomState,
    len: AtomicUsize,
    capacity: AtomicUsize,
}

struct Shard {
    /// jti → Unix second after which its token can no longer verify.
    seen: HashMap<Box<str>, u64>,
    sweep_at: usize,
}

impl std::fmt::Debug for ReplayCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCache")
            .field("len", &self.len())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl Default for ReplayCache {
    fn default() -> Self {
        ReplayCache::new()
    }
}

impl ReplayCache {
    /// An empty cache bounded at [`DEFAULT_REPLAY_CAPACITY`](super::DEFAULT_REPLAY_CAPACITY) live ids.
    pub fn new() -> Self {
        ReplayCache::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty cache that remembers at most `capacity` unexpired ids.
    pub fn with_capacity(capacity: usize) -> Self {
        let shards = std::array::from_fn(|_| {
            Mutex::new(Shard {
                seen: HashMap::new(),
                sweep_at: MIN_SWEEP_AT,
            })
        });
        ReplayCache {
            shards,
            hasher: RandomState::new(),
            len: AtomicUsize::new(0),
            capacity: AtomicUsize::new(capacity),
        }
    }

    /// Records `jti` (of a token expiring at `exp`) as used at `now`; a `jti` already recorded
    /// is [`Error::ReplayDetected`], a full cache is [`Error::TokenVerification`].
    pub fn check_and_record(&self, jti: &str, exp: u64, now: SystemTime) -> Result<(), Error> {
        self.record_until(jti, exp.saturating_add(LEEWAY), now)
    }

    /// Records `jti` as used at `now`, remembered until the Unix second `forget_after`; a `jti`
    /// already recorded is [`Error::ReplayDetected`], a full cache is
    /// [`Error::TokenVerification`].
    pub(crate) fn record_until(
        &self,
        jti: &str,
        forget_after: u64,
        now: SystemTime,
    ) -> Result<(), Error> {
        let now = unix_seconds(now)?;
        let shard = self.shard(jti);
        {
            let mut guard = lock(shard);
            if guard.seen.contains_key(jti) {
                return Err(replayed(jti));
            }
            if guard.seen.len() >= guard.sweep_at {
                self.sweep(&mut guard, now);
            }
            if self.reserve_slot() {
                guard.seen.insert(jti.into(), forget_after);
                return Ok(());
            }
        }
        // Full: sweep every shard once, then try again.
        for other in self.shards.iter() {
            self.sweep(&mut lock(other), now);
        }
        let mut guard = lock(shard);
        if guard.seen.contains_key(jti) {
            return Err(replayed(jti));
        }
        if self.reserve_slot() {
            guard.seen.insert(jti.into(), forget_after);
            return Ok(());
        }
        Err(Error::TokenVerification(format!(
            "replay cache is full: {} unexpired token ids are remembered; refusing this token \
             rather than forgetting one",
            self.capacity()
        )))
    }

    /// Number of ids remembered (expired ones not yet swept included).
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// True when no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, jti: &str) -> &Mutex<Shard> {
        // The mask keeps the index below SHARDS (a power of two): always in bounds.
        &self.shards[(self.hasher.hash_one(jti) as usize) & (SHARDS - 1)]
    }

    /// The most unexpired ids remembered.
    pub fn capacity(&self) -> usize {
        self.capacity.load(Ordering::Relaxed)
    }

    /// Changes the bound. Ids already remembered stay; if more are remembered than the new
    /// bound allows, new ids are refused until enough expire.
    pub(crate) fn set_capacity(&self, capacity: usize) {
        self.capacity.store(capacity, Ordering::Relaxed);
    }

    /// Takes one slot of the capacity, if any is left.
    fn reserve_slot(&self) -> bool {
        self.len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.capacity()).then_some(n + 1)
            })
            .is_ok()
    }

    /// Drops the ids whose tokens have expired at `now`.
    fn sweep(&self, shard: &mut Shard, now: u64) {
        let before = shard.seen.len();
        shard.seen.retain(|_, forget_after| *forget_after >= now);
        let removed = before - shard.seen.len();
        self.len.fetch_sub(removed, Ordering::AcqRel);
        shard.sweep_at = shard.seen.len().saturating_mul(2).max(MIN_SWEEP_AT);
    }
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic elsewhere cannot leave the map half-updated: take it as it is.
    shard.lock().unwrap_or_else(PoisonError::into_inner)
}

fn replayed(jti: &str) -> Error {
    Error::ReplayDetected {
        jti: jti.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn second_use_is_a_replay() {
        let cache = ReplayCache::new();
        cache.check_and_record("a", 100, at(10)).unwrap();
        cache.check_and_record("b", 100, at(10)).unwrap();
        match cache.check_and_record("a", 100, at(11)) {
            Err(Error::ReplayDetected { jti }) => assert_eq!(jti, "a"),
            other => panic!("expected a replay, got {other:?}"),
        }
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn expired_ids_are_swept_as_the_cache_grows() {
        let cache = ReplayCache::new();
        for i in 0..5_000 {
            cache
                .check_and_record(&format!("old-{i}"), 100, at(50))
                .unwrap();
        }
        assert_eq!(cache.len(), 5_000);
        // Long after exp + leeway, new ids push the old ones out.
        for i in 0..5_000 {
            cache
                .check_and_record(&format!("new-{i}"), 10_000, at(1_000))
                .unwrap();
        }
        assert!(cache.len() < 10_000, "nothing was swept: {}", cache.len());
        // Unexpired ids are never forgotten.
        for i in 0..5_000 {
            assert!(
                cache
                    .check_and_record(&format!("new-{i}"), 10_000, at(1_000))
                    .is_err()
            );
        }
    }

    #[test]
    fn a_full_cache_refuses_instead_of_forgetting() {
        let cache = ReplayCache::with_capacity(40);
        for i in 0..40 {
            cache
                .check_and_record(&format!("j{i}"), 100, at(10))
                .unwrap();
        }
        let err = cache.check_and_record("one-more", 100, at(10)).unwrap_err();
        assert!(err.to_string().contains("replay cache is full"), "{err}");
        for i in 0..40 {
            assert!(matches!(
                cache.check_and_record(&format!("j{i}"), 100, at(10)),
                Err(Error::ReplayDetected { .. })
            ));
        }
        // Once they expired (100 + 30 s leeway), there is room again.
        cache.check_and_record("one-more", 500, at(131)).unwrap();
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_clock_before_the_epoch_is_an_error() {
        let cache = ReplayCache::new();
        let before = UNIX_EPOCH - Duration::from_secs(1);
        assert!(cache.check_and_record("a", 1, before).is_err());
    }
}
