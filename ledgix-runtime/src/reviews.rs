//! The review queue: calls held for a human reviewer, as `GET /reviews` lists them (the mock
//! Vault serves it; the `ledgix reviews` command and the mock's review page read it).
//!
//! A reviewer decides with [`LedgixClient::submit_review_decision`] (`POST
//! /reviews/{id}/decision`), the endpoint the Vault's dashboard uses.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::LedgixClient;
use crate::error::Error;
use crate::protocol::ConfidenceBucket;

/// One call held for a human reviewer: what the agent asked for and why it was held.
///
/// `tool_args` are the agent's arguments as sent: attacker-controlled text wherever they are
/// shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingReview {
    /// The Vault's id of the held request (what a decision names).
    pub request_id: String,
    /// The tool the agent wants to call.
    pub tool_name: String,
    /// The exact arguments it would run with.
    #[serde(default)]
    pub tool_args: Map<String, Value>,
    /// The calling agent.
    #[serde(default)]
    pub agent_id: String,
    /// The agent's session, when it sent one.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Why the call was held (the policy's or rule's reason).
    #[serde(default)]
    pub reason: String,
    /// The Vault's confidence in an automatic decision (0.3 protocol).
    #[serde(default)]
    pub confidence: Option<f64>,
    /// The same as a bucket (0.4 protocol).
    #[serde(default)]
    pub confidence_bucket: Option<ConfidenceBucket>,
    /// When the call started waiting for a reviewer (RFC 3339, UTC).
    #[serde(default)]
    pub held_since: String,
}

/// Body of `GET /reviews`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReviewQueue {
    /// Held calls, oldest first.
    pub(crate) reviews: Vec<PendingReview>,
}

impl LedgixClient {
    /// `GET /reviews`: the calls waiting for a human reviewer, oldest first. The mock Vault
    /// serves this list; a Vault that does not answers [`Error::Http`] with status 404.
    pub async fn pending_reviews(&self) -> Result<Vec<PendingReview>, Error> {
        let queue: ReviewQueue = self
            .get_json("/reviews", &[], "GET /reviews", &mut self.deadline())
            .await?;
        Ok(queue.reviews)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_queue_round_trips_and_tolerates_missing_optional_fields() {
        let text = json!({"reviews": [{
            "request_id": "r1", "tool_name": "wire_transfer",
            "tool_args": {"amount": 5000, "memo": "<script>alert(1)</script>"},
            "agent_id": "a", "session_id": null, "reason": "needs review",
            "confidence": 0.5, "confidence_bucket": "medium",
            "held_since": "2026-01-01T00:00:00Z", "unknown": true
        }, {"request_id": "r2", "tool_name": "t"}]});
        let queue: ReviewQueue = serde_json::from_value(text).unwrap();
        assert_eq!(queue.reviews.len(), 2);
        let first = &queue.reviews[0];
        assert_eq!(first.tool_args["memo"], "<script>alert(1)</script>");
        assert_eq!(first.confidence_bucket, Some(ConfidenceBucket::Medium));
        assert_eq!(queue.reviews[1].session_id, None);
        let again: ReviewQueue =
            serde_json::from_str(&serde_json::to_string(&queue).unwrap()).unwrap();
        assert_eq!(again, queue);
    }
}
