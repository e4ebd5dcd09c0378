//! What the mock Vault remembers: the requests it received, each clearance and where it stands,
//! the reviews waiting for a decision, and the answers stored under Idempotency-Keys.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    body: Value,
    pub(crate) answer: tokio::sync::OnceCell<StoredAnswer>,
}

/// Why a key cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyReused;

/// Answers by `(path, Idempotency-Key)`.
#[derive(Debug, Default)]
pub(crate) struct Idempotency {
    slots: Mutex<HashMap<(String, String), Arc<IdempotencySlot>>>,
}

impl Idempotency {
    /// The slot of `key` on `path`: a new one for a new key, the existing one when the body is
    /// the same JSON, [`KeyReused`] when the key came with another body.
    pub(crate) fn slot(
        &self,
        path: &str,
        key: &str,
        body: &Value,
    ) -> Result<Arc<IdempotencySlot>, KeyReused> {
        let mut slots = lock(&self.slots);
        let slot = slots
            .entry((path.to_string(), key.to_string()))
            .or_insert_with(|| {
                Arc::new(IdempotencySlot {
                    body: body.clone(),
                    answer: tokio::sync::OnceCell::new(),
                })
            });
        if &slot.body == body {
            Ok(slot.clone())
        } else {
            Err(KeyReused)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_key_same_body_shares_a_slot_other_body_is_refused() {
        let idem = Idempotency::default();
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
