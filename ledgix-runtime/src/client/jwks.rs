//! The Vault's signing keys as the client knows them: keys pinned in the configuration, or the
//! JWKS fetched from `/.well-known/jwks.json`, cached for `jwks_ttl`, refetched once when a
//! token names a kid the cache lacks (key rotation), with one fetch in flight at a time.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::jwk::KeySet;

#[derive(Debug)]
struct Cached {
    keys: Arc<KeySet>,
    fetched_at: Instant,
    generation: u64,
}

/// Cache of the Vault's JWKS.
#[derive(Debug, Default)]
pub(crate) struct JwksCache {
    cached: RwLock<Option<Cached>>,
    fetching: tokio::sync::Mutex<()>,
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// Fresh keys holding the kid.
    Hit(Arc<KeySet>),
    /// Keys must be fetched; remember the generation seen.
    Miss { generation: u64 },
}

impl JwksCache {
    /// Keys that are fresh and hold `kid`, or the generation to refetch from.
    pub(crate) fn lookup(&self, kid: Option<&str>, ttl: Duration) -> Lookup {
        let guard = match self.cached.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        match guard.as_ref() {
            Some(c)
                if c.fetched_at.elapsed() < ttl
                    && kid.is_none_or(|kid| c.keys.get(kid).is_some()) =>
            {
                Lookup::Hit(c.keys.clone())
            }
            Some(c) => Lookup::Miss {
                generation: c.generation,
            },
            None => Lookup::Miss { generation: 0 },
        }
    }

    /// Fetches with `fetch` unless another task refetched since `seen_generation`; returns the
    /// newest keys.
    pub(crate) async fn refresh<F, Fut>(
        &self,
        seen_generation: u64,
        fetch: F,
    ) -> Result<Arc<KeySet>, Error>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<KeySet, Error>>,
    {
        let _one_at_a_time = self.fetching.lock().await;
        if let Some(keys) = self.newer_than(seen_generation) {
            return Ok(keys);
        }
        let keys = Arc::new(fetch().await?);
        let mut guard = match self.cached.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let generation = guard.as_ref().map_or(1, |c| c.generation + 1);
        *guard = Some(Cached {
            keys: keys.clone(),
            fetched_at: Instant::now(),
            generation,
        });
        Ok(keys)
    }

    fn newer_than(&self, generation: u64) -> Option<Arc<KeySet>> {
        let guard = match self.cached.read() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        guard
            .as_ref()
            .filter(|c| c.generation > generation)
            .map(|c| c.keys.clone())
    }
}
