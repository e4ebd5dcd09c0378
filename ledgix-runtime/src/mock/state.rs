//! What the mock Vault remembers: the requests it received (a bounded ring), each clearance and
//! where it stands, the reviews waiting for a decision, and the answers stored under
//! Idempotency-Keys (bounded too).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::faults::lock;
use super::rules::Verdict;
use crate::protocol::{ClearanceRequest, ClearanceResponse};

/// One HTTP request as the mock Vault received it. Secrets are redacted: the values of
/// `x-vault-api-key` and `authorization` read `***`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Path and query, e.g. `/ledger/proof/bundle?request_id=…`.
    pub path: String,
    /// Header names (lowercase) and values; repeated headers are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON; `null` when empty, a JSON string when it is not JSON.
    pub body: Value,
}

/// A request as kept in the ring: the body as received, parsed only when asked for.
#[derive(Debug, Clone)]
pub(crate) struct Recording {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Bytes,
}

impl Recording {
    /// Bytes it holds: body, path, header names and values.
    fn size(&self) -> usize {
        let headers: usize = self.headers.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.body.len() + self.path.len() + self.method.len() + headers
    }

    fn to_request(&self) -> RecordedRequest {
        let body = if self.body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&self.body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
        };
        RecordedRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            headers: self.headers.clone(),
            body,
        }
    }
}

/// The last requests received: at most `max` of them, holding at most `max_bytes` together
/// (bodies, paths, headers; the newest is always kept); the oldest go first.
#[derive(Debug)]
pub(crate) struct Recordings {
    max: usize,
    max_bytes: usize,
    ring: Mutex<Ring>,
}

#[derive(Debug, Default)]
struct Ring {
    recordings: VecDeque<Recording>,
    bytes: usize,
}

impl Recordings {
    pub(crate) fn new(max: usize, max_bytes: usize) -> Recordings {
        Recordings {
            max,
            max_bytes,
            ring: Mutex::default(),
        }
    }

    pub(crate) fn push(&self, recording: Recording) {
        if self.max == 0 {
            return;
        }
        let mut ring = lock(&self.ring);
        ring.bytes += recording.size();
        ring.recordings.push_back(recording);
        while ring.recordings.len() > self.max
            || (ring.bytes > self.max_bytes && ring.recordings.len() > 1)
        {
            let Some(oldest) = ring.recordings.pop_front() else {
                break;
            };
            ring.bytes -= oldest.size();
        }
    }

    /// Every request kept, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        let kept: Vec<Recording> = lock(&self.ring).recordings.iter().cloned().collect();
        kept.iter().map(Recording::to_request).collect()
    }

    /// How many requests are kept, and the bytes they hold.
    #[cfg(test)]
    fn len_and_bytes(&self) -> (usize, usize) {
        let ring = lock(&self.ring);
        (ring.recordings.len(), ring.bytes)
    }
}

impl RecordedRequest {
    /// The value of header `name` (case-insensitive), if it was sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// Where one clearance stands.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    /// Answering `processing`; the outcome comes when `polls_left` reaches the last poll.
    Processing { polls_left: u32 },
    /// Waiting for a reviewer.
    PendingReview,
    /// Decided; every poll gets this answer.
    Decided(Box<ClearanceResponse>),
}

/// One clearance request and its state.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) request: Arc<ClearanceRequest>,
    pub(crate) verdict: Verdict,
    pub(crate) phase: Phase,
}

/// Every clearance by request id, plus the ids waiting for review in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Clearances {
    records: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Record>>>>,
    pending: Mutex<PendingReviews>,
}

/// Request ids waiting for review, in arrival order, with the time each started waiting;
/// adding and removing one is O(log n), so approving thousands of held calls stays linear
/// overall.
#[derive(Debug, Default)]
struct PendingReviews {
    next: u64,
    by_arrival: BTreeMap<u64, (String, SystemTime)>,
    arrival_of: HashMap<String, u64>,
}

impl Clearances {
    pub(crate) fn insert(&self, request_id: &str, record: Record) {
        let waiting = matches!(record.phase, Phase::PendingReview);
        lock(&self.records).insert(
            request_id.to_string(),
            Arc::new(tokio::sync::Mutex::new(record)),
        );
        if waiting {
            self.mark_pending(request_id);
        }
    }

    pub(crate) fn get(&self, request_id: &str) -> Option<Arc<tokio::sync::Mutex<Record>>> {
        lock(&self.records).get(request_id).cloned()
    }

    pub(crate) fn mark_pending(&self, request_id: &str) {
        let mut pending = lock(&self.pending);
        if pending.arrival_of.contains_key(request_id) {
            return;
        }
        let arrival = pending.next;
        pending.next += 1;
        pending
            .by_arrival
            .insert(arrival, (request_id.to_string(), SystemTime::now()));
        pending.arrival_of.insert(request_id.to_string(), arrival);
    }

    pub(crate) fn unmark_pending(&self, request_id: &str) {
        let mut pending = lock(&self.pending);
        if let Some(arrival) = pending.arrival_of.remove(request_id) {
            pending.by_arrival.remove(&arrival);
        }
    }

    pub(crate) fn pending(&self) -> Vec<String> {
        let pending = lock(&self.pending);
        pending
            .by_arrival
            .values()
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// The waiting request ids, oldest first, with when each started waiting.
    pub(crate) fn pending_since(&self) -> Vec<(String, SystemTime)> {
        lock(&self.pending).by_arrival.values().cloned().collect()
    }
}

/// An answer as sent: status code and JSON body.
#[derive(Debug, Clone)]
pub(crate) struct StoredAnswer {
    pub(crate) status: u16,
    pub(crate) body: Bytes,
}

/// The first request seen under one Idempotency-Key, and its answer once it has one.
#[derive(Debug)]
pub(crate) struct IdempotencySlot {
    /// Digest of the body (key order aside): a slot holds no request body.
    body: [u8; 32],
    pub(crate) answer: tokio::sync::OnceCell<StoredAnswer>,
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyReused;

type SlotKey = (String, String);

/// Answers by `(path, Idempotency-Key)`: at most `max` keys, the oldest forgotten first.
#[derive(Debug)]
pub(crate) struct Idempotency {
    max: usize,
    slots: Mutex<Slots>,
}

#[derive(Debug, Default)]
struct Slots {
    by_key: HashMap<SlotKey, Arc<IdempotencySlot>>,
    arrival: VecDeque<SlotKey>,
}

impl Idempotency {
    pub(crate) fn new(max: usize) -> Idempotency {
        Idempotency {
            max,
            slots: Mutex::default(),
        }
    }

    /// The slot of `key` on `path`: a new one for a new key, the existing one when the body is
    /// the same JSON, [`KeyReused`] when the key came with another body.
    pub(crate) fn slot(
        &self,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<Arc<IdempotencySlot>, KeyReused> {
        let digest = body_digest(body);
        let id = (path.to_string(), key.to_string());
        let mut slots = lock(&self.slots);
        if let Some(slot) = slots.by_key.get(&id) {
            return if slot.body == digest {
                Ok(slot.clone())
            } else {
                Err(KeyReused)
            };
        }
        let slot = Arc::new(IdempotencySlot {
            body: digest,
            answer: tokio::sync::OnceCell::new(),
        });
        slots.by_key.insert(id.clone(), slot.clone());
        slots.arrival.push_back(id);
        while slots.by_key.len() > self.max {
            let Some(oldest) = slots.arrival.pop_front() else {
                break;
            };
            slots.by_key.remove(&oldest);
        }
        Ok(slot)
    }

    /// How many keys are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.slots).by_key.len()
    }
}

/// SHA-256 of a JSON value with object keys sorted, so the same JSON in another key order
/// has the same digest; every item is tagged and length-prefixed, so no two values collide
/// by construction.
fn body_digest(value: &Value) -> [u8; 32] {
    fn feed(h: &mut Sha256, value: &Value) {
        let text = |h: &mut Sha256, tag: u8, s: &str| {
            h.update([tag]);
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        match value {
            Value::Null => h.update(b"n"),
            Value::Bool(b) => h.update(if *b { b"t" } else { b"f" }),
            Value::Number(n) => text(h, b'#', &n.to_string()),
            Value::String(s) => text(h, b's', s),
            Value::Array(items) => {
                h.update(b"[");
                h.update((items.len() as u64).to_be_bytes());
                for item in items {
                    feed(h, item);
                }
            }
            Value::Object(map) => {
                h.update(b"{");
                h.update((map.len() as u64).to_be_bytes());
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                for (k, v) in entries {
                    text(h, b'k', k);
                    feed(h, v);
                }
            }
        }
    }
    let mut h = Sha256::new();
    feed(&mut h, value);
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_key_same_body_shares_a_slot_other_body_is_refused() {
        let idem = Idempotency::new(100);
        let a = idem.slot("/p", "k", &json!({"x": 1, "y": [1, 2]})).unwrap();
        let b = idem.slot("/p", "k", &json!({"y": [1, 2], "x": 1})).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(
            idem.slot("/p", "k", &json!({"x": 2})).unwrap_err(),
            KeyReused
        );
        // the same key on another endpoint is another slot
        let c = idem.slot("/q", "k", &json!({"x": 2})).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
    }

    #[test]
    fn idempotency_keys_are_bounded_oldest_forgotten_first() {
        let idem = Idempotency::new(3);
        for i in 0..10 {
            idem.slot("/p", &format!("k{i}"), &json!({"i": i})).unwrap();
        }
        assert_eq!(idem.len(), 3);
        // k9 is remembered (another body is refused), k0 was forgotten (a new slot).
        assert_eq!(
            idem.slot("/p", "k9", &json!({"i": 0})).unwrap_err(),
            KeyReused
        );
        idem.slot("/p", "k0", &json!({"i": 99})).unwrap();
        assert_eq!(idem.len(), 3);
    }

    #[test]
    fn body_digests_ignore_key_order_and_nothing_else() {
        let a = body_digest(&json!({"x": 1, "y": [1, "2", null, true], "z": {"b": 1, "a": 2}}));
        let b = body_digest(&json!({"z": {"a": 2, "b": 1}, "y": [1, "2", null, true], "x": 1}));
        assert_eq!(a, b);
        for other in [
            json!({"x": 1, "y": [1, 2, null, true], "z": {"b": 1, "a": 2}}),
            json!({"x": 1.0, "y": [1, "2", null, true], "z": {"b": 1, "a": 2}}),
            json!({"x": 1, "y": [1, "2", null], "z": {"b": 1, "a": 2}}),
            json!({"x": 1, "y": [1, "2", null, true], "z": {"b": 1, "a": 2, "c": null}}),
            json!(["x", 1]),
            json!({"x1": "", "y": [1, "2", null, true], "z": {"b": 1, "a": 2}}),
        ] {
            assert_ne!(body_digest(&other), a, "{other}");
        }
    }

    /// A recording of 400 bytes with `body` (`POST`, `/p`, one header).
    fn recording(body: &str) -> Recording {
        let pad = 400usize.saturating_sub(body.len() + "POST/px-pad".len());
        Recording {
            method: "POST".into(),
            path: "/p".into(),
            headers: BTreeMap::from([("x-pad".to_owned(), " ".repeat(pad))]),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn recordings_are_a_ring_bounded_by_count_and_by_bytes() {
        let r = Recordings::new(5, 1_000);
        for i in 0..12 {
            r.push(recording(&format!("{{\"i\": {i}}}")));
        }
        assert_eq!(
            r.len_and_bytes().0,
            2,
            "three 400-byte recordings exceed 1,000 bytes"
        );
        let r = Recordings::new(5, 100_000);
        for i in 0..12 {
            r.push(recording(&format!("{{\"i\": {i}}}")));
        }
        assert_eq!(r.len_and_bytes(), (5, 2_000));
        let kept: Vec<Value> = r.snapshot().into_iter().map(|q| q.body).collect();
        assert_eq!(kept, (7..12).map(|i| json!({"i": i})).collect::<Vec<_>>());
        // Headers count as much as bodies: a request refused without its body still holds
        // its headers.
        let r = Recordings::new(5, 1_000);
        for _ in 0..4 {
            r.push(recording(""));
        }
        assert_eq!(r.len_and_bytes(), (2, 800));
        // One request over the budget is still kept, alone: the newest is always there.
        r.push(recording(&"x".repeat(5_000)));
        assert_eq!(r.len_and_bytes().0, 1);
        let none = Recordings::new(0, 1_000);
        none.push(recording("{}"));
        assert!(none.snapshot().is_empty());
    }

    #[test]
    fn recorded_request_header_lookup_is_case_insensitive() {
        let r = RecordedRequest {
            method: "GET".into(),
            path: "/".into(),
            headers: BTreeMap::from([("x-vault-api-key".to_string(), "***".to_string())]),
            body: Value::Null,
        };
        assert_eq!(r.header("X-Vault-API-Key"), Some("***"));
        assert_eq!(r.header("missing"), None);
    }
}
