//! The mock Vault's behaviour without HTTP: decide a request by the rules, walk it through
//! `processing` and `pending_review`, take reviewers' decisions, and turn every terminal
//! decision into a signed answer and a ledger event (written before the answer leaves).

use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::faults::FaultQueue;
use super::ledger::{EventInput, Ledger};
use super::rules::{self, Decision, Rule, Verdict};
use super::state::{Clearances, Idempotency, Phase, Record, Recordings};
use super::tokens::Minter;
use crate::ledger::LedgerError;
use crate::protocol::{
    ClearanceRequest, ClearanceResponse, ClearanceStatus, ConfidenceBucket, DecisionStatus,
};
use crate::webhook::{REVIEW_DECIDED, REVIEW_HELD, WebhookEvent};

/// Confidence the mock reports for rule decisions (0.3 protocol) and its bucket (0.4).
pub(crate) const RULE_CONFIDENCE: (f64, ConfidenceBucket) = (0.95, ConfidenceBucket::ExtraHigh);
/// Confidence reported while and after a human review.
pub(crate) const REVIEW_CONFIDENCE: (f64, ConfidenceBucket) = (0.5, ConfidenceBucket::Medium);
/// The minimum for automatic approval the mock reports.
const MINIMUM_CONFIDENCE: (f64, ConfidenceBucket) = (0.8, ConfidenceBucket::High);

/// Everything one mock Vault instance holds; shared by its HTTP handlers and its handle.
pub(crate) struct Vault {
    pub(crate) rules: Vec<Rule>,
    pub(crate) default_decision: Decision,
    pub(crate) api_key: Option<String>,
    pub(crate) faults: FaultQueue,
    pub(crate) requests: Recordings,
    /// Request bodies above this many bytes are refused (413).
    pub(crate) max_body_bytes: usize,
    pub(crate) clearances: Clearances,
    pub(crate) idempotency: Idempotency,
    pub(crate) tokens: Minter,
    pub(crate) ledger: Ledger,
    /// The JWKS document (token key and ledger key), served as is.
    pub(crate) jwks: String,
    /// Print a line per decision and per review held to standard output.
    pub(crate) print_decisions: bool,
    /// True when it listens on a loopback address (the review page then needs no API key).
    pub(crate) on_loopback: bool,
    /// How many times the policies changed ([`MockVault::new_policy_version`](super::MockVault::new_policy_version)):
    /// part of every approval's `policy_version_id` and `policy_content_hash`.
    pub(crate) policy_epoch: std::sync::atomic::AtomicU64,
    /// Where review events are POSTed, when configured.
    pub(crate) webhooks: Option<super::webhooks::Webhooks>,
}

/// Who reached a decision.
#[derive(Debug, Clone, Copy)]
enum DecidedBy {
    Rules,
    Reviewer,
}

/// Why a reviewer's decision was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReviewError {
    /// No request has this id.
    #[error("no clearance request has id `{0}`")]
    Unknown(String),
    /// The request is not waiting for review (it is `processing` or already decided).
    #[error("request `{request_id}` is not pending review (it is {state})")]
    NotPending {
        /// The request.
        request_id: String,
        /// Where it stands: `processing`, `approved` or `denied`.
        state: &'static str,
    },
    /// The decision could not be written to the ledger, so it was not made.
    #[error("the decision on request `{request_id}` could not be written to the ledger: {reason}")]
    Ledger {
        /// The request.
        request_id: String,
        /// What failed.
        reason: String,
    },
}

/// A final outcome.
enum Terminal {
    Approve {
        reason: String,
    },
    Deny {
        reason: String,
        reason_code: Option<String>,
    },
}

impl Vault {
    /// Decides a new request: answers at once (approved / denied, event written), or parks it
    /// as `processing` / `pending_review`.
    pub(crate) fn submit(
        &self,
        request: ClearanceRequest,
    ) -> Result<ClearanceResponse, LedgerError> {
        let request_id = crate::random::uuid_v4();
        let verdict = rules::evaluate(
            &self.rules,
            self.default_decision,
            &request.tool_name,
            &request.tool_args,
        );
        let request = Arc::new(request);
        if verdict.processing_polls > 0 {
            let answer = processing(&request_id, &request);
            let polls_left = verdict.processing_polls;
            self.clearances.insert(
                &request_id,
                Record {
                    request,
                    verdict,
                    phase: Phase::Processing { polls_left },
                },
            );
            return Ok(answer);
        }
        let (phase, answer) = self.settle(&request, &request_id, &verdict)?;
        self.clearances.insert(
            &request_id,
            Record {
                request,
                verdict,
                phase,
            },
        );
        Ok(answer)
    }

    /// The current answer for `request_id` (`None`: unknown). A poll of a `processing`
    /// request counts down its polls and may reach its outcome.
    pub(crate) async fn poll(
        &self,
        request_id: &str,
    ) -> Result<Option<ClearanceResponse>, LedgerError> {
        let Some(record) = self.clearances.get(request_id) else {
            return Ok(None);
        };
        let mut guard = record.lock().await;
        let record = &mut *guard;
        let answer = match &mut record.phase {
            Phase::Processing { polls_left } if *polls_left > 1 => {
                *polls_left -= 1;
                processing(request_id, &record.request)
            }
            Phase::Processing { .. } => {
                let (phase, answer) = self.settle(&record.request, request_id, &record.verdict)?;
                if matches!(phase, Phase::PendingReview) {
                    self.clearances.mark_pending(request_id);
                }
                record.phase = phase;
                answer
            }
            Phase::PendingReview => pending_review(request_id, &record.request),
            Phase::Decided(answer) => (**answer).clone(),
        };
        Ok(Some(answer))
    }

    /// A reviewer's decision on a pending request; the event is written before this returns.
    pub(crate) async fn review(
        &self,
        request_id: &str,
        approved: bool,
        review_reason: &str,
    ) -> Result<ClearanceResponse, ReviewError> {
        let record = self
            .clearances
            .get(request_id)
            .ok_or_else(|| ReviewError::Unknown(request_id.to_string()))?;
        let mut guard = record.lock().await;
        let record = &mut *guard;
        match &record.phase {
            Phase::PendingReview => {}
            Phase::Processing { .. } => {
                return Err(ReviewError::NotPending {
                    request_id: request_id.to_string(),
                    state: "processing",
                });
            }
            Phase::Decided(answer) => {
                return Err(ReviewError::NotPending {
                    request_id: request_id.to_string(),
                    state: answer.status.as_str(),
                });
            }
        }
        let terminal = if approved {
            Terminal::Approve {
                reason: non_empty(review_reason, "approved by a human reviewer"),
            }
        } else {
            Terminal::Deny {
                reason: non_empty(review_reason, "denied by a human reviewer"),
                reason_code: Some("manual_review_denied".into()),
            }
        };
        let answer = self
            .finalize(&record.request, request_id, terminal, REVIEW_CONFIDENCE)
            .map_err(|e| ReviewError::Ledger {
                request_id: request_id.to_string(),
                reason: e.to_string(),
            })?;
        self.announce(&answer, &record.request, DecidedBy::Reviewer);
        record.phase = Phase::Decided(Box::new(answer.clone()));
        self.clearances.unmark_pending(request_id);
        Ok(answer)
    }

    /// The tool and arguments of a known request.
    pub(crate) async fn request_of(&self, request_id: &str) -> Option<Arc<ClearanceRequest>> {
        let record = self.clearances.get(request_id)?;
        let record = record.lock().await;
        Some(record.request.clone())
    }

    /// The outcome a verdict reaches once no polls are left.
    fn settle(
        &self,
        request: &ClearanceRequest,
        request_id: &str,
        verdict: &Verdict,
    ) -> Result<(Phase, ClearanceResponse), LedgerError> {
        let terminal = match verdict.decision {
            Decision::Review => {
                let answer = pending_review(request_id, request);
                self.announce(&answer, request, DecidedBy::Rules);
                return Ok((Phase::PendingReview, answer));
            }
            Decision::Approve => Terminal::Approve {
                reason: verdict.reason.clone(),
            },
            Decision::Deny => Terminal::Deny {
                reason: verdict.reason.clone(),
                reason_code: verdict.reason_code.clone(),
            },
        };
        let answer = self.finalize(request, request_id, terminal, RULE_CONFIDENCE)?;
        self.announce(&answer, request, DecidedBy::Rules);
        Ok((Phase::Decided(Box::new(answer.clone())), answer))
    }

    /// One line per decision and per review held: an info event (target `ledgix::mock`),
    /// and on standard output when `print_decisions` is on. Tool names and reasons come from
    /// the network: they are printed escaped, one line each.
    fn announce(&self, answer: &ClearanceResponse, request: &ClearanceRequest, by: DecidedBy) {
        let outcome = answer.status.as_str();
        self.send_webhook(answer, request, by);
        let by = match by {
            DecidedBy::Rules => "rules",
            DecidedBy::Reviewer => "reviewer",
        };
        tracing::info!(
            target: "ledgix::mock",
            request_id = %answer.request_id,
            tool = %request.tool_name,
            outcome,
            by,
            reason = %answer.reason,
            "mock Vault: {outcome}"
        );
        if self.print_decisions {
            use std::io::Write as _;
            // A closed standard output must not stop the Vault: the error is ignored.
            let _ = writeln!(
                std::io::stdout().lock(),
                "{outcome} request_id={} tool={:?} by={by} reason={:?}",
                answer.request_id,
                request.tool_name,
                answer.reason
            );
        }
    }

    /// Queues the webhook of a review held (`review.held`) or decided by a reviewer
    /// (`review.decided`); rule decisions send none. Never waits.
    fn send_webhook(&self, answer: &ClearanceResponse, request: &ClearanceRequest, by: DecidedBy) {
        let Some(webhooks) = &self.webhooks else {
            return;
        };
        let event_type = match (by, &answer.status) {
            (_, ClearanceStatus::PendingReview) => REVIEW_HELD,
            (DecidedBy::Reviewer, _) => REVIEW_DECIDED,
            (DecidedBy::Rules, _) => return,
        };
        webhooks.send(WebhookEvent::new(
            event_type,
            answer.request_id.clone(),
            request.tool_name.clone(),
            answer.status.as_str(),
            answer.reason.clone(),
        ));
    }

    /// Mints the token (approvals), writes the ledger event, and builds the answer.
    fn finalize(
        &self,
        request: &ClearanceRequest,
        request_id: &str,
        terminal: Terminal,
        (confidence, bucket): (f64, ConfidenceBucket),
    ) -> Result<ClearanceResponse, LedgerError> {
        let approved = matches!(terminal, Terminal::Approve { .. });
        // An approval names the policy version in force now (a token can be minted from it).
        let epoch = if approved {
            self.policy_epoch.load(std::sync::atomic::Ordering::SeqCst)
        } else {
            0
        };
        let mut answer = base_answer(request_id, request, epoch);
        answer.confidence = Some(confidence);
        answer.confidence_bucket = Some(bucket.clone());
        match terminal {
            Terminal::Approve { reason } => {
                answer.status = ClearanceStatus::Approved;
                answer.approved = Some(true);
                answer.decision_status = Some(DecisionStatus::Approved);
                answer.token = Some(self.tokens.mint(request));
                answer.reason = reason;
            }
            Terminal::Deny {
                reason,
                reason_code,
            } => {
                answer.status = ClearanceStatus::Denied;
                answer.approved = Some(false);
                answer.decision_status = Some(DecisionStatus::Denied);
                answer.reason = reason;
                answer.reason_code = reason_code;
            }
        }
        self.ledger.append(EventInput {
            request_id,
            request,
            approved,
            reason: &answer.reason,
            confidence,
            confidence_bucket: bucket,
            decision_status: if approved {
                DecisionStatus::Approved
            } else {
                DecisionStatus::Denied
            },
        })?;
        Ok(answer)
    }
}

fn non_empty(text: &str, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.to_string()
    } else {
        text.to_string()
    }
}

/// The fields every answer carries; status `processing` until set. The policy version is the
/// one of `policy_epoch` (see [`policy_version_of`]).
pub(crate) fn base_answer(
    request_id: &str,
    request: &ClearanceRequest,
    policy_epoch: u64,
) -> ClearanceResponse {
    let (version, content_hash) = policy_version_of(request, policy_epoch);
    ClearanceResponse {
        status: ClearanceStatus::Processing,
        token: None,
        reason: String::new(),
        request_id: request_id.to_string(),
        requires_manual_review: false,
        approved: None,
        decision_status: None,
        confidence: None,
        minimum_confidence_score: Some(MINIMUM_CONFIDENCE.0),
        confidence_bucket: None,
        minimum_confidence_bucket: Some(MINIMUM_CONFIDENCE.1),
        reason_code: None,
        policy_version_id: Some(version),
        policy_content_hash: Some(content_hash),
    }
}

/// `policy_version_id` and `policy_content_hash` of the request's policy (or
/// `mock-default-policy`) at `epoch`: epoch 0 until `MockVault::new_policy_version` moves it.
pub(crate) fn policy_version_of(request: &ClearanceRequest, epoch: u64) -> (String, String) {
    let policy = request.policy_id().unwrap_or("mock-default-policy");
    let (version, content) = if epoch == 0 {
        (
            format!("mock-policy-version:{policy}"),
            Sha256::digest(policy.as_bytes()),
        )
    } else {
        (
            format!("mock-policy-version:{policy}:{epoch}"),
            Sha256::digest(format!("{policy}\0{epoch}").as_bytes()),
        )
    };
    (version, format!("sha256:{}", crate::hex::encode(content)))
}

/// `processing`: the Vault is still deciding.
fn processing(request_id: &str, request: &ClearanceRequest) -> ClearanceResponse {
    let mut answer = base_answer(request_id, request, 0);
    answer.reason = "the mock Vault is still evaluating this request".into();
    answer.approved = Some(false);
    answer.confidence = Some(0.0);
    answer.confidence_bucket = Some(ConfidenceBucket::None);
    answer
}

/// `pending_review`: held for a human reviewer.
fn pending_review(request_id: &str, request: &ClearanceRequest) -> ClearanceResponse {
    let mut answer = base_answer(request_id, request, 0);
    answer.status = ClearanceStatus::PendingReview;
    answer.reason = "waiting for a human reviewer".into();
    answer.requires_manual_review = true;
    answer.approved = Some(false);
    answer.decision_status = Some(DecisionStatus::ApprovedPendingReview);
    answer.confidence = Some(REVIEW_CONFIDENCE.0);
    answer.confidence_bucket = Some(REVIEW_CONFIDENCE.1);
    answer
}

/// An `approved` answer carrying whatever token a fault chose (or none).
pub(crate) fn faulty_approval(
    request_id: &str,
    request: &ClearanceRequest,
    token: Option<String>,
) -> ClearanceResponse {
    let mut answer = base_answer(request_id, request, 0);
    answer.status = ClearanceStatus::Approved;
    answer.approved = Some(true);
    answer.decision_status = Some(DecisionStatus::Approved);
    answer.confidence = Some(RULE_CONFIDENCE.0);
    answer.confidence_bucket = Some(RULE_CONFIDENCE.1);
    answer.reason = "approved (mock fault)".into();
    answer.token = token;
    answer
}

/// The arguments a JSON value stands for when a fault binds a token to it.
pub(crate) fn as_args(value: &Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map.clone(),
        other => Map::from_iter([("value".to_string(), other.clone())]),
    }
}
