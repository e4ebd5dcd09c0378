//! A cache of the Vault's JWKS (`/.well-known/jwks.json`), reusable by anything that verifies
//! the Vault's signatures online: the client (tokens and ledger proofs) and a gateway.
//!
//! - Fresh keys (fetched less than `ttl` ago) answer at once.
//! - No keys, or stale keys: fetch.
//! - A key id the fresh keys lack (a key rotation, or a forged token): fetch again only when
//!   the last fetch is at least `cooldown` old. Until then the id counts as unknown and the
//!   verification that asked for it fails at once, without a fetch and without waiting for
//!   one. A flood of forged tokens with random key ids costs at most one fetch per cooldown;
//!   a real rotation is picked up by the first token signed with the new key after the
//!   cooldown (or at the next `ttl` refresh).
//! - One fetch at a time: callers that asked while a fetch ran take its outcome (keys or
//!   error) instead of fetching again.
//!
//! The cache never decides trust: it hands out the keys it fetched, and the caller verifies
//! under the key of the id it needs, or fails.

use std::future::Future;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::jwk::KeySet;

/// Cache of one JWKS endpoint's keys.
#[derive(Debug)]
pub(crate) struct JwksCache {
    state: RwLock<State>,
    fetching: tokio::sync::Mutex<()>,
    ttl: Duration,
    cooldown: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// The last keys fetched, and when.
    keys: Option<(Arc<KeySet>, Instant)>,
    /// When the last fetch (successful or not) was asked for.
    attempted_at: Option<Instant>,
    /// Number of fetches ended so far.
    attempts: u64,
    /// Why the last fetch failed, if it did.
    last_error: Option<String>,
}

/// What the cached state allows for one lookup.
enum Plan {
    Use(Arc<KeySet>),
    Fetch { seen_attempts: u64 },
}

impl JwksCache {
    /// An empty cache whose keys stay fresh for `ttl`, refetched for an unknown key id at most
    /// once per `cooldown`.
    pub(crate) fn new(ttl: Duration, cooldown: Duration) -> Self {
        JwksCache {
            state: RwLock::new(State::default()),
            fetching: tokio::sync::Mutex::new(()),
            ttl,
            cooldown,
        }
    }

    /// The keys to verify a signature made with key `kid` (`None`: any signature) at `now`,
    /// fetched with `fetch` when the rules above call for it. The keys returned may lack
    /// `kid`: the caller's verification then fails, naming it.
    pub(crate) async fn keys_for<F, Fut>(
        &self,
        kid: Option<&str>,
        now: Instant,
        fetch: F,
    ) -> Result<Arc<KeySet>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<KeySet, Error>>,
    {
        let seen_attempts = match self.plan(kid, now) {
            Plan::Use(keys) => return Ok(keys),
            Plan::Fetch { seen_attempts } => seen_attempts,
        };
        let _one_at_a_time = self.fetching.lock().await;
        {
            // A fetch ended while this caller waited: take its outcome.
            let state = self.read();
            if state.attempts > seen_attempts {
                return match (&state.last_error, &state.keys) {
                    (None, Some((keys, _))) => Ok(keys.clone()),
                    (Some(why), _) => Err(Error::TokenVerification(format!(
                        "the Vault's JWKS could not be fetched: {why}"
                    ))),
                    (None, None) => Err(Error::TokenVerification(
                        "the Vault's JWKS could not be fetched".into(),
                    )),
                };
            }
        }
        let outcome = fetch().await;
        let mut state = self.write();
        state.attempts += 1;
        state.attempted_at = Some(now);
        match outcome {
            Ok(keys) => {
                let keys = Arc::new(keys);
                state.keys = Some((keys.clone(), now));
                state.last_error = None;
                Ok(keys)
            }
            Err(e) => {
                state.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    fn plan(&self, kid: Option<&str>, now: Instant) -> Plan {
        let state = self.read();
        let seen_attempts = state.attempts;
        let Some((keys, fetched_at)) = &state.keys else {
            return Plan::Fetch { seen_attempts };
        };
        if now.saturating_duration_since(*fetched_at) >= self.ttl {
            return Plan::Fetch { seen_attempts };
        }
        if kid.is_none_or(|kid| keys.get(kid).is_some()) {
            return Plan::Use(keys.clone());
        }
        let cooled_down = state
            .attempted_at
            .is_none_or(|at| now.saturating_duration_since(at) >= self.cooldown);
        if cooled_down {
            Plan::Fetch { seen_attempts }
        } else {
            Plan::Use(keys.clone())
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn key_set(kids: &[&str]) -> KeySet {
        let mut set = KeySet::new();
        for (i, kid) in kids.iter().enumerate() {
            let seed = [u8::try_from(i + 1).unwrap_or(1); 32];
            let key = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            set.insert(*kid, key).unwrap();
        }
        set
    }

    const TTL: Duration = Duration::from_secs(300);
    const COOLDOWN: Duration = Duration::from_secs(30);

    /// A fetch that counts itself and serves `kids`.
    async fn fetch_counting(fetches: &AtomicUsize, kids: &[&str]) -> Result<KeySet, Error> {
        fetches.fetch_add(1, Ordering::SeqCst);
        Ok(key_set(kids))
    }

    #[tokio::test]
    async fn unknown_kids_fetch_at_most_once_per_cooldown_and_rotation_follows() {
        let cache = JwksCache::new(TTL, COOLDOWN);
        let fetches = AtomicUsize::new(0);
        let t0 = Instant::now();
        // Cold: one fetch.
        let keys = cache
            .keys_for(Some("k1"), t0, || fetch_counting(&fetches, &["k1"]))
            .await
            .unwrap();
        assert!(keys.get("k1").is_some());
        // Forged kids right after: no fetch, the keys returned lack them.
        for i in 0..200 {
            let kid = format!("forged-{i}");
            let keys = cache
                .keys_for(Some(&kid), t0 + Duration::from_secs(1), || {
                    fetch_counting(&fetches, &["k1"])
                })
                .await
                .unwrap();
            assert!(keys.get(&kid).is_none());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // The Vault rotates to k2. Within the cooldown: not yet.
        let keys = cache
            .keys_for(Some("k2"), t0 + Duration::from_secs(29), || {
                fetch_counting(&fetches, &["k1", "k2"])
            })
            .await
            .unwrap();
        assert!(keys.get("k2").is_none());
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        // After it: one fetch, and k2 is known from then on.
        let later = t0 + COOLDOWN;
        for _ in 0..3 {
            let keys = cache
                .keys_for(Some("k2"), later, || {
                    fetch_counting(&fetches, &["k1", "k2"])
                })
                .await
                .unwrap();
            assert!(keys.get("k2").is_some());
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // Forged kids again: the fetch just made starts a new cooldown.
        cache
            .keys_for(Some("forged-x"), later + Duration::from_secs(5), || {
                fetch_counting(&fetches, &["k1", "k2"])
            })
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
        // Stale keys are fetched whatever the cooldown says.
        cache
            .keys_for(None, later + TTL, || fetch_counting(&fetches, &["k2"]))
            .await
            .unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch_and_its_error() {
        let cache = Arc::new(JwksCache::new(TTL, COOLDOWN));
        let fetches = Arc::new(AtomicUsize::new(0));
        let now = Instant::now();
        // On this single-threaded runtime, every task reaches the fetch lock while the first
        // one's fetch is still yielding.
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let (cache, fetches) = (cache.clone(), fetches.clone());
                tokio::spawn(async move {
                    let kid = format!("k{i}");
                    cache
                        .keys_for(Some(&kid), now, || async move {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            for _ in 0..10 {
                                tokio::task::yield_now().await;
                            }
                            Err(Error::TokenVerification("JWKS endpoint down".into()))
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            let err = task.await.unwrap().unwrap_err();
            assert!(err.to_string().contains("JWKS endpoint down"), "{err}");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }
}
