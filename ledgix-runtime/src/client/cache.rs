//! The decision cache ([`ConfigBuilder::decision_cache`](crate::ConfigBuilder::decision_cache)):
//! an approval remembered per request, and a hit turned into a fresh A-JWT by
//! `POST /mint-token`.
//!
//! What is kept is the *decision* (request id, policy version, reason, confidence bucket),
//! never a token: every call, hit or not, runs under a token of its own, verified and bound to
//! its tool and arguments and used once, exactly as the token of a fresh approval.
//!
//! - **Key.** SHA-256 of the canonical JSON ([`canonical_json`](crate::token::canonical_json))
//!   of the whole request as it goes on the wire (agent and session filled in), minus the
//!   fields in `EXCLUDED_FROM_KEY`. Every other field is in it: tool, arguments, agent,
//!   session, context (policy included), principal, parent token, destination, data
//!   categories, purpose, register, dataset, and any field a later version adds. The official
//!   SDKs key on agent, tool, arguments and policy only (ledgix-ts even reads `policyId` where
//!   every request writes `policy_id`), so two calls for different sessions, principals or
//!   destinations share a decision there; here they never do.
//! - **What is cached.** An answer whose `status` and `decision_status` are both `approved`,
//!   that carries `policy_version_id` and a token, that the Vault gave at once (not after
//!   `processing` or a human review: a reviewer approves one call, not a class of calls), whose
//!   token verified. Arguments whose canonical JSON is over 64 KiB are never cached (as in the
//!   official SDKs). Denials are not cached (PROTOCOL.md): each denied call is asked again.
//! - **A hit** sends `POST /mint-token` ([`MintTokenRequest`]). An answer without a token is
//!   [`Error::Protocol`]; a refusal (a 4xx other than 401, 407, 408 and 429) drops the entry and
//!   the call asks for a fresh decision. Any other failure drops the entry and is the call's
//!   error. Nothing runs on any failure.
//! - **Bounds.** At most `decision_cache_max_entries` entries, the oldest evicted first; an
//!   entry lives `decision_cache_ttl` from its insertion (a hit does not extend it).
//! - **Concurrency.** Identical calls that miss together make one decision: the first asks,
//!   the others wait for its answer and then mint from the entry it left (or, when it left
//!   none — a denial, a review, an error — ask on their own, all at once). The wait ends as
//!   soon as the first call's first answer is not an approval.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::transport::Deadline;
use super::{LedgixClient, parse_json};
use crate::error::Error;
use crate::protocol::{
    ClearanceRequest, ClearanceResponse, ClearanceStatus, DecisionStatus, MintTokenRequest,
    MintTokenResponse,
};
use crate::token::{TokenClaims, canonical_json};

/// Top-level fields of the wire request left out of the cache key: they may differ between
/// two attempts of the same call without changing what is asked. Each names a per-attempt
/// value a caller may put in the request body (through [`ClearanceRequest::extra`]):
///
/// - `request_id`, `client_request_id`: an id stamped on each attempt;
/// - `idempotency_key`: a body copy of the per-attempt `Idempotency-Key` header;
/// - `timestamp`, `requested_at`: when the attempt was made;
/// - `nonce`: a per-attempt random value.
///
/// Every other field, present or future, is part of the key. Fields inside `context` or
/// `tool_args` are never excluded.
pub(crate) const EXCLUDED_FROM_KEY: &[&str] = &[
    "request_id",
    "client_request_id",
    "idempotency_key",
    "timestamp",
    "requested_at",
    "nonce",
];

/// Arguments whose canonical JSON is longer than this are never cached (the official SDKs'
/// limit).
pub(crate) const MAX_CACHED_ARGS_BYTES: usize = 64 * 1024;

/// Domain prefix of cache keys.
const KEY_DOMAIN: &[u8] = b"ledgix.decision-cache.v1\0";

/// Most lookups one call makes (a follow, a refusal, ...) before it decides without the cache.
const MAX_ROUNDS: usize = 4;

/// A cache key: SHA-256 of the domain prefix and the canonical request.
pub(crate) type Key = [u8; 32];

/// The cache key of a prepared request; `None` when it is not cacheable (arguments over
/// 64 KiB, or a request that does not serialize to an object).
pub(crate) fn cache_key(request: &ClearanceRequest) -> Option<Key> {
    let Ok(Value::Object(mut wire)) = serde_json::to_value(request) else {
        return None;
    };
    let args_len = wire.get("tool_args").map_or(0, |a| canonical_json(a).len());
    if args_len > MAX_CACHED_ARGS_BYTES {
        return None;
    }
    for field in EXCLUDED_FROM_KEY {
        wire.remove(*field);
    }
    let text = canonical_json(&Value::Object(wire));
    let mut hasher = Sha256::new();
    hasher.update(KEY_DOMAIN);
    hasher.update(text.as_bytes());
    Some(hasher.finalize().into())
}

/// Whether an answer may be cached: approved twice over (`status` and `decision_status`), with
/// a policy version and a token.
pub(crate) fn cacheable(response: &ClearanceResponse) -> bool {
    response.status == ClearanceStatus::Approved
        && response.decision_status == Some(DecisionStatus::Approved)
        && response
            .policy_version_id
            .as_deref()
            .is_some_and(|v| !v.is_empty())
        && response.token.as_deref().is_some_and(|t| !t.is_empty())
}

/// Whether a `/mint-token` status is the Vault refusing to mint from this decision (the entry
/// is dropped and the call decided afresh), rather than a failure of the exchange.
fn is_refusal(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 407 | 408 | 429)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The cache of one client and its clones: bounded, TTL-expired, with single-flight misses.
pub(crate) struct DecisionCache {
    ttl: Duration,
    max_entries: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<Key, Entry>,
    /// Insertion order, oldest first: `(seq, key)`. A pair whose entry was removed or
    /// replaced since (another `seq`) is skipped.
    order: VecDeque<(u64, Key)>,
    /// Misses being decided: the flight's id and a receiver its followers wait on.
    flights: HashMap<Key, (u64, watch::Receiver<bool>)>,
    next_seq: u64,
    /// Bumped by `clear()`: a flight started before does not insert.
    generation: u64,
}

struct Entry {
    seq: u64,
    expires: Instant,
    /// The approval, without its token.
    decided: Arc<ClearanceResponse>,
}

/// What a lookup found.
pub(crate) enum Lookup {
    /// A live entry.
    Hit {
        seq: u64,
        decided: Arc<ClearanceResponse>,
    },
    /// A miss this call decides; the others wait on the flight until it is dropped.
    Lead(Flight),
    /// A miss another call is deciding: wait until it sends `true` (or goes away).
    Follow(watch::Receiver<bool>),
    /// A miss to decide without the cache (`may_lead` was false).
    Miss,
}

/// The leader's side of a miss. Dropping it ends the flight (after any insert).
pub(crate) struct Flight {
    cache: Arc<DecisionCache>,
    key: Key,
    id: u64,
    generation: u64,
    done: watch::Sender<bool>,
}

impl Flight {
    /// Caches `response` (its token removed) under the flight's key, unless the cache was
    /// cleared since the flight began.
    fn insert(&self, response: &ClearanceResponse) {
        let mut decided = response.clone();
        decided.token = None;
        self.cache
            .insert(self.key, self.generation, decided, Instant::now());
    }
}

impl Drop for Flight {
    fn drop(&mut self) {
        {
            let mut state = lock(&self.cache.state);
            if state
                .flights
                .get(&self.key)
                .is_some_and(|(id, _)| *id == self.id)
            {
                state.flights.remove(&self.key);
            }
        }
        self.done.send_replace(true);
    }
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("len", &self.len())
            .finish()
    }
}

impl DecisionCache {
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Self {
        DecisionCache {
            ttl,
            max_entries: max_entries.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// Entries held (expired ones not yet purged included).
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).entries.len()
    }

    /// Forgets every entry; flights under way will not insert.
    pub(crate) fn clear(&self) {
        let mut state = lock(&self.state);
        state.entries.clear();
        state.order.clear();
        state.generation = state.generation.wrapping_add(1);
    }

    /// A live entry for `key`, else the flight deciding it, else a new flight (when `may_lead`).
    pub(crate) fn lookup(self: &Arc<Self>, key: Key, may_lead: bool, now: Instant) -> Lookup {
        let mut state = lock(&self.state);
        if let Some(entry) = state.entries.get(&key) {
            if entry.expires > now {
                return Lookup::Hit {
                    seq: entry.seq,
                    decided: entry.decided.clone(),
                };
            }
            state.entries.remove(&key);
        }
        if let Some((_, waiting)) = state.flights.get(&key) {
            return Lookup::Follow(waiting.clone());
        }
        if !may_lead {
            return Lookup::Miss;
        }
        let (done, waiting) = watch::channel(false);
        let id = state.next_seq;
        state.next_seq += 1;
        state.flights.insert(key, (id, waiting));
        Lookup::Lead(Flight {
            cache: self.clone(),
            key,
            id,
            generation: state.generation,
            done,
        })
    }

    /// Drops the entry of `key` if it is still the one with `seq` (a fresher one stays).
    pub(crate) fn remove(&self, key: &Key, seq: u64) {
        let mut state = lock(&self.state);
        if state.entries.get(key).is_some_and(|e| e.seq == seq) {
            state.entries.remove(key);
        }
    }

    fn insert(&self, key: Key, generation: u64, decided: ClearanceResponse, now: Instant) {
        let mut state = lock(&self.state);
        if state.generation != generation {
            return;
        }
        let state = &mut *state;
        // Expired entries go first: insertion order is expiry order (one TTL for all).
        while let Some(&(seq, oldest)) = state.order.front() {
            let live = state.entries.get(&oldest).filter(|e| e.seq == seq);
            match live {
                Some(entry) if entry.expires > now => break,
                Some(_) => {
                    state.entries.remove(&oldest);
                    state.order.pop_front();
                }
                None => {
                    state.order.pop_front();
                }
            }
        }
        let seq = state.next_seq;
        state.next_seq += 1;
        let expires = now.checked_add(self.ttl).unwrap_or(now);
        state.entries.insert(
            key,
            Entry {
                seq,
                expires,
                decided: Arc::new(decided),
            },
        );
        state.order.push_back((seq, key));
        while state.entries.len() > self.max_entries {
            let Some((seq, oldest)) = state.order.pop_front() else {
                break;
            };
            if state.entries.get(&oldest).is_some_and(|e| e.seq == seq) {
                state.entries.remove(&oldest);
            }
        }
        // Pairs left behind by removals and replacements: compact before they pile up.
        if state.order.len() > 2 * state.entries.len() + 16 {
            let entries = &state.entries;
            state
                .order
                .retain(|(seq, key)| entries.get(key).is_some_and(|e| e.seq == *seq));
        }
    }
}

/// A decided call: the answer, and the token's claims when it was verified.
pub(crate) type Decided = (ClearanceResponse, Option<TokenClaims>);

/// What a `/mint-token` exchange gave.
enum Minted {
    Token(Box<Decided>),
    /// The Vault refused to mint from the cached decision (HTTP status).
    Refused(u16),
}

impl LedgixClient {
    /// Forgets every cached decision ([`ConfigBuilder::decision_cache`](crate::ConfigBuilder::decision_cache)):
    /// the next call of each kind asks the Vault for a decision again. Shared by the clones of
    /// this client. Does nothing when the cache is off.
    pub fn clear_cache(&self) {
        if let Some(cache) = &self.inner.cache {
            cache.clear();
        }
    }

    /// Decides a prepared request, through the decision cache when it is on, and verifies the
    /// token bound to the call when `verify` (recording its id as used).
    pub(crate) async fn decide_and_verify(
        &self,
        request: &ClearanceRequest,
        deadline: &mut Deadline,
        verify: bool,
    ) -> Result<Decided, Error> {
        let cached = self
            .inner
            .cache
            .as_ref()
            .and_then(|cache| Some((cache, cache_key(request)?)));
        let Some((cache, key)) = cached else {
            return self.decide_uncached(request, deadline, verify).await;
        };
        let mut may_lead = true;
        for _ in 0..MAX_ROUNDS {
            match cache.lookup(key, may_lead, Instant::now()) {
                Lookup::Hit { seq, decided } => {
                    match self.mint(request, &decided, deadline, verify).await {
                        Ok(Minted::Token(done)) => return Ok(*done),
                        Ok(Minted::Refused(status)) => {
                            cache.remove(&key, seq);
                            tracing::debug!(
                                original_request_id = %decided.request_id,
                                status,
                                "ledgix: the Vault refused to mint from the cached decision; \
                                 asking for a fresh decision"
                            );
                        }
                        Err(e) => {
                            cache.remove(&key, seq);
                            return Err(e);
                        }
                    }
                }
                Lookup::Lead(flight) => return self.lead(request, flight, deadline, verify).await,
                Lookup::Follow(mut waiting) => {
                    let wait = waiting.wait_for(|done| *done);
                    // A leader gone (cancelled) ends the wait too; so does the deadline.
                    let _ = tokio::time::timeout(deadline.remaining(), wait).await;
                    may_lead = false;
                }
                Lookup::Miss => break,
            }
        }
        self.decide_uncached(request, deadline, verify).await
    }

    /// Decides without the cache, then verifies when asked.
    async fn decide_uncached(
        &self,
        request: &ClearanceRequest,
        deadline: &mut Deadline,
        verify: bool,
    ) -> Result<Decided, Error> {
        let response = self.decide(request, deadline).await?;
        let claims = self.verified(request, &response, verify).await?;
        Ok((response, claims))
    }

    /// The leader of a miss: decides, verifies, caches a cacheable approval, ends the flight.
    /// A first answer that is not an approval ends the flight at once (the followers ask on
    /// their own instead of waiting through a review).
    async fn lead(
        &self,
        request: &ClearanceRequest,
        flight: Flight,
        deadline: &mut Deadline,
        verify: bool,
    ) -> Result<Decided, Error> {
        let first = self.post_clearance(request, deadline).await?;
        if first.status != ClearanceStatus::Approved {
            drop(flight);
            let response = self.settle(request, first, deadline).await?;
            let claims = self.verified(request, &response, verify).await?;
            return Ok((response, claims));
        }
        let claims = self.verified(request, &first, verify).await?;
        if cacheable(&first) {
            flight.insert(&first);
        }
        drop(flight);
        Ok((first, claims))
    }

    /// Verifies the answer's token bound to the request when `verify`.
    async fn verified(
        &self,
        request: &ClearanceRequest,
        response: &ClearanceResponse,
        verify: bool,
    ) -> Result<Option<TokenClaims>, Error> {
        if !verify {
            return Ok(None);
        }
        self.verify_response_bound(response, &request.tool_name, &request.tool_args)
            .await
            .map(Some)
    }

    /// A fresh token for a call whose decision is cached: `POST /mint-token`, then the same
    /// verification as any approval's token.
    async fn mint(
        &self,
        request: &ClearanceRequest,
        decided: &ClearanceResponse,
        deadline: &mut Deadline,
        verify: bool,
    ) -> Result<Minted, Error> {
        let body = MintTokenRequest::for_call(request, decided);
        let answer = self
            .post_json(&["mint-token"], &body, "POST /mint-token", deadline)
            .await?;
        if is_refusal(answer.status) {
            return Ok(Minted::Refused(answer.status));
        }
        let bytes = answer.into_success()?;
        let minted: MintTokenResponse = parse_json(&bytes, "POST /mint-token")?;
        let token = minted.token.filter(|t| !t.is_empty()).ok_or_else(|| {
            Error::Protocol(format!(
                "POST /mint-token answered without a token (cached decision {}); nothing ran",
                decided.request_id
            ))
        })?;
        let mut response = decided.clone();
        response.status = ClearanceStatus::Approved;
        response.token = Some(token);
        response.request_id = minted.request_id.unwrap_or_default();
        if let Some(reason) = minted.reason {
            response.reason = reason;
        }
        tracing::Span::current().record("request_id", response.request_id.as_str());
        tracing::debug!(
            request_id = %response.request_id,
            original_request_id = %decided.request_id,
            "ledgix: decision cache hit; fresh token minted"
        );
        let claims = self.verified(request, &response, verify).await?;
        Ok(Minted::Token(Box::new((response, claims))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    fn approval(id: &str) -> ClearanceResponse {
        serde_json::from_value(json!({
            "status": "approved", "decision_status": "approved", "token": "t",
            "request_id": id, "policy_version_id": "pv1"
        }))
        .unwrap()
    }

    fn key_of(i: u32) -> Key {
        cache_key(&ClearanceRequest::new("t").arg("i", i)).unwrap()
    }

    fn hit_id(cache: &Arc<DecisionCache>, key: Key, now: Instant) -> Option<String> {
        match cache.lookup(key, false, now) {
            Lookup::Hit { decided, .. } => Some(decided.request_id.clone()),
            _ => None,
        }
    }

    fn lead_and_insert(cache: &Arc<DecisionCache>, key: Key, id: &str) {
        match cache.lookup(key, true, Instant::now()) {
            Lookup::Lead(flight) => flight.insert(&approval(id)),
            _ => panic!("expected to lead"),
        }
    }

    #[test]
    fn what_is_cacheable() {
        assert!(cacheable(&approval("r")));
        let mut a = approval("r");
        a.policy_version_id = None;
        assert!(!cacheable(&a), "no policy version");
        let mut a = approval("r");
        a.policy_version_id = Some(String::new());
        assert!(!cacheable(&a), "empty policy version");
        let mut a = approval("r");
        a.decision_status = None;
        assert!(!cacheable(&a), "a 0.3 answer");
        let mut a = approval("r");
        a.decision_status = Some(DecisionStatus::ApprovedPendingReview);
        assert!(!cacheable(&a));
        let mut a = approval("r");
        a.token = None;
        assert!(!cacheable(&a));
    }

    #[test]
    fn tokens_are_never_stored() {
        let cache = Arc::new(DecisionCache::new(Duration::from_secs(60), 4));
        lead_and_insert(&cache, key_of(1), "r1");
        match cache.lookup(key_of(1), false, Instant::now()) {
            Lookup::Hit { decided, .. } => assert_eq!(decided.token, None),
            _ => panic!("expected a hit"),
        }
    }

    #[test]
    fn bounded_oldest_first_and_expiring() {
        let cache = Arc::new(DecisionCache::new(Duration::from_secs(60), 3));
        for i in 0..5 {
            lead_and_insert(&cache, key_of(i), &format!("r{i}"));
        }
        assert_eq!(cache.len(), 3);
        let now = Instant::now();
        assert_eq!(hit_id(&cache, key_of(0), now), None);
        assert_eq!(hit_id(&cache, key_of(1), now), None);
        assert_eq!(hit_id(&cache, key_of(4), now).as_deref(), Some("r4"));
        let later = now + Duration::from_secs(61);
        assert_eq!(hit_id(&cache, key_of(4), later), None, "expired");
        // A re-inserted entry is evicted by its new age, not its old one.
        let Lookup::Hit { seq, .. } = cache.lookup(key_of(2), false, now) else {
            panic!("key 2 is cached");
        };
        cache.remove(&key_of(2), seq + 1);
        assert!(
            hit_id(&cache, key_of(2), now).is_some(),
            "another seq: kept"
        );
        cache.remove(&key_of(2), seq);
        assert_eq!(hit_id(&cache, key_of(2), now), None);
        lead_and_insert(&cache, key_of(2), "r2-again");
        lead_and_insert(&cache, key_of(5), "r5");
        lead_and_insert(&cache, key_of(6), "r6");
        assert_eq!(
            hit_id(&cache, key_of(2), Instant::now()).as_deref(),
            Some("r2-again")
        );
        // Churn never grows the order queue without bound.
        for round in 0..1000 {
            lead_and_insert(&cache, key_of(round % 2), "x");
            if let Lookup::Hit { seq, .. } = cache.lookup(key_of(round % 2), false, Instant::now())
            {
                cache.remove(&key_of(round % 2), seq);
            }
        }
        assert!(lock(&cache.state).order.len() <= 2 * 3 + 16);
    }

    #[test]
    fn one_flight_per_key_and_clear_wins_over_flights() {
        let cache = Arc::new(DecisionCache::new(Duration::from_secs(60), 10));
        let now = Instant::now();
        let Lookup::Lead(flight) = cache.lookup(key_of(1), true, now) else {
            panic!("first miss leads");
        };
        let Lookup::Follow(mut waiting) = cache.lookup(key_of(1), true, now) else {
            panic!("second miss follows");
        };
        assert!(matches!(
            cache.lookup(key_of(2), true, now),
            Lookup::Lead(_)
        ));
        assert!(!*waiting.borrow_and_update());
        cache.clear();
        flight.insert(&approval("stale"));
        drop(flight);
        assert!(*waiting.borrow_and_update(), "followers are woken");
        assert_eq!(hit_id(&cache, key_of(1), now), None, "cleared meanwhile");
        assert!(matches!(cache.lookup(key_of(1), false, now), Lookup::Miss));
    }

    #[test]
    fn refusal_statuses() {
        for s in [400, 403, 404, 409, 410, 422] {
            assert!(is_refusal(s), "{s}");
        }
        for s in [200, 401, 407, 408, 429, 500, 503] {
            assert!(!is_refusal(s), "{s}");
        }
    }

    #[test]
    fn excluded_fields_do_not_change_the_key_and_large_arguments_are_not_cached() {
        let base = ClearanceRequest::new("t").arg("a", 1).agent_id("ag");
        let k = cache_key(&base).unwrap();
        for field in EXCLUDED_FROM_KEY {
            let mut r = base.clone();
            r.extra.insert((*field).to_string(), json!("per-attempt"));
            assert_eq!(cache_key(&r), Some(k), "{field}");
        }
        let big = "x".repeat(MAX_CACHED_ARGS_BYTES);
        assert_eq!(cache_key(&ClearanceRequest::new("t").arg("a", big)), None);
    }

    /// A mutation of one field of the wire request that is not excluded.
    fn mutate(request: &mut ClearanceRequest, which: usize, text: &str) {
        let s = Some(text.to_string());
        match which {
            0 => request.tool_name.push_str(text),
            1 => {
                request.tool_args.insert(format!("new_{text}"), json!(text));
            }
            2 => request.agent_id.push_str(text),
            3 => {
                let now = request.session_id.take().unwrap_or_default();
                request.session_id = Some(format!("{now}+{text}"));
            }
            4 => {
                request
                    .context
                    .insert("policy_id".into(), json!(format!("p{text}")));
            }
            5 => {
                request.context.insert(format!("c_{text}"), json!(1));
            }
            6 => request.human_principal = s,
            7 => request.parent_jti = s,
            8 => request.destination_uri = s,
            9 => request.destination_provider = s,
            10 => request.destination_account_ref = s,
            11 => request.data_categories = Some(vec![text.to_string()]),
            12 => request.purpose = s,
            13 => request.processing_register_ref = s,
            14 => request.dataset_ref = s,
            _ => {
                request.extra.insert(format!("future_{text}"), json!(text));
            }
        }
    }

    proptest! {
        #[test]
        fn the_key_differs_whenever_a_non_excluded_field_differs(
            tool in "[a-z_]{1,12}",
            args in proptest::collection::btree_map("[a-z]{1,6}", any::<i64>(), 0..4),
            agent in "[a-z]{0,8}",
            session in proptest::option::of("[a-z0-9]{1,8}"),
            which in 0usize..16,
            text in "[a-zA-Z0-9]{1,8}",
            excluded in proptest::sample::select(EXCLUDED_FROM_KEY),
            per_attempt in "\\PC{0,16}",
        ) {
            let mut base = ClearanceRequest::new(tool).agent_id(agent);
            base.tool_args = args.into_iter().map(|(k, v)| (k, json!(v))).collect::<Map<_, _>>();
            base.session_id = session;
            let key = cache_key(&base).unwrap();
            let mut changed = base.clone();
            mutate(&mut changed, which, &text);
            prop_assume!(changed != base);
            prop_assert_ne!(cache_key(&changed).unwrap(), key);
            // A per-attempt field, whatever its value, leaves the key as it is.
            let mut attempt = base.clone();
            attempt.extra.insert(excluded.to_string(), json!(per_attempt));
            prop_assert_eq!(cache_key(&attempt).unwrap(), key);
        }

        #[test]
        fn keys_of_arbitrary_json_never_panic(
            args in proptest::collection::btree_map("\\PC{0,6}", "\\PC{0,12}", 0..6),
            extra in proptest::collection::btree_map("\\PC{0,10}", any::<f64>(), 0..4),
        ) {
            let mut r = ClearanceRequest::new("t");
            r.tool_args = args.into_iter().map(|(k, v)| (k, json!(v))).collect();
            r.extra = extra.into_iter().map(|(k, v)| (k, json!(v))).collect();
            let _ = cache_key(&r);
        }
    }
}
