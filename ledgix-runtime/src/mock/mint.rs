//! `POST /mint-token`: a fresh A-JWT for a call whose approval a client cached
//! ([`ConfigBuilder::decision_cache`](crate::ConfigBuilder::decision_cache)).
//!
//! The real Vault's checks are not public; the mock assumes these, and the client does not
//! depend on any of them (it verifies and binds every minted token itself):
//!
//! - The body is a [`MintTokenRequest`]; `original_request_id` must name a decision of this
//!   Vault (404 otherwise).
//! - Only an approval the rules gave is minted from: a request still processing or pending, a
//!   denial, or an approval by a human reviewer (who approved one call, not a class of calls)
//!   is refused with 409.
//! - The call must be the decided call: `tool_name`, `tool_args` (as JSON values), `agent_id`,
//!   `session_id`, `policy_id` and the attribution fields (`human_principal`,
//!   `destination_*`, `data_categories`, `purpose`, `processing_register_ref`,
//!   `dataset_ref`; `""` / `[]` read as unset) must equal the original request's; 403 names
//!   the first field that differs. `context` is not in the body, so not compared.
//! - `policy_version_id` and `policy_content_hash` must be the decision's (403 otherwise) and
//!   still the current version of that policy (409 once
//!   [`MockVault::new_policy_version`](super::MockVault::new_policy_version) published another).
//! - A mint is a decision of its own: a new `request_id`, a fresh token bound to the tool and
//!   arguments (new `jti`), an approved ledger event written before the answer with the
//!   original's agent, tool, arguments, policy and confidence and the reason
//!   `"<original reason> (token minted from the cached decision <original_request_id>)"`, its
//!   status served at `/clearance-status/{id}` and its proof bundle once sealed.
//! - The answer is `{"token", "reason", "request_id"}`. Idempotency-Key is honoured as on the
//!   other POSTs.

use std::sync::atomic::Ordering;

use super::engine::{RULE_CONFIDENCE, Vault, policy_version_of};
use super::ledger::EventInput;
use super::rules::{Decision, Verdict};
use super::state::{Phase, Record};
use crate::ledger::LedgerError;
use crate::protocol::{
    ClearanceRequest, ClearanceStatus, DecisionStatus, MintTokenRequest, MintTokenResponse,
};

/// Why a mint failed.
#[derive(Debug)]
pub(crate) enum MintError {
    /// The Vault refuses: HTTP status and detail.
    Refused(u16, String),
    /// The event could not be written, so nothing was minted.
    Ledger(LedgerError),
}

impl From<LedgerError> for MintError {
    fn from(e: LedgerError) -> Self {
        MintError::Ledger(e)
    }
}

fn refused(status: u16, detail: impl Into<String>) -> MintError {
    MintError::Refused(status, detail.into())
}

impl Vault {
    /// The current `policy_version_id` and `policy_content_hash` of the request's policy.
    pub(crate) fn policy_version(&self, request: &ClearanceRequest) -> (String, String) {
        policy_version_of(request, self.policy_epoch.load(Ordering::SeqCst))
    }

    /// Mints a fresh token from the approval `mint.original_request_id` (see the module docs).
    pub(crate) async fn mint_token(
        &self,
        mint: &MintTokenRequest,
    ) -> Result<MintTokenResponse, MintError> {
        let original_id = mint.original_request_id.as_str();
        let record = self.clearances.get(original_id).ok_or_else(|| {
            refused(
                404,
                format!("no clearance request has id `{original_id}` to mint from"),
            )
        })?;
        let (original, decided) = {
            let record = record.lock().await;
            let decided = match &record.phase {
                Phase::Decided(answer) if answer.status == ClearanceStatus::Approved => {
                    answer.clone()
                }
                Phase::Decided(_) => {
                    return Err(refused(
                        409,
                        format!("request `{original_id}` was denied: nothing to mint from"),
                    ));
                }
                Phase::Processing { .. } | Phase::PendingReview => {
                    return Err(refused(
                        409,
                        format!("request `{original_id}` is not decided yet"),
                    ));
                }
            };
            if record.verdict.decision != Decision::Approve {
                return Err(refused(
                    409,
                    format!(
                        "request `{original_id}` was approved by a human reviewer, for that call \
                         only: ask for a decision"
                    ),
                ));
            }
            (record.request.clone(), decided)
        };
        if let Some(field) = mismatch(&original, mint) {
            return Err(refused(
                403,
                format!("`{field}` differs from the decided request `{original_id}`"),
            ));
        }
        let decided_version = decided.policy_version_id.as_deref().unwrap_or_default();
        let decided_hash = decided.policy_content_hash.as_deref().unwrap_or_default();
        if mint.policy_version_id != decided_version || mint.policy_content_hash != decided_hash {
            return Err(refused(
                403,
                format!(
                    "the policy version differs from the one request `{original_id}` was decided under"
                ),
            ));
        }
        let (current_version, current_hash) = self.policy_version(&original);
        if decided_version != current_version || decided_hash != current_hash {
            return Err(refused(
                409,
                format!(
                    "the policy changed since request `{original_id}` was decided \
                     (now {current_version}): ask for a decision"
                ),
            ));
        }

        let request_id = crate::random::uuid_v4();
        let reason = format!(
            "{} (token minted from the cached decision {original_id})",
            decided.reason
        );
        let confidence = decided.confidence.unwrap_or(RULE_CONFIDENCE.0);
        let bucket = decided
            .confidence_bucket
            .clone()
            .unwrap_or(RULE_CONFIDENCE.1);
        let token = self.tokens.mint(&original);
        self.ledger.append(EventInput {
            request_id: &request_id,
            request: &original,
            approved: true,
            reason: &reason,
            confidence,
            confidence_bucket: bucket,
            decision_status: DecisionStatus::Approved,
        })?;
        let mut answer = (*decided).clone();
        answer.request_id = request_id.clone();
        answer.token = Some(token.clone());
        answer.reason = reason.clone();
        tracing::info!(
            target: "ledgix::mock",
            request_id = %request_id,
            original_request_id = %original_id,
            tool = %original.tool_name,
            "mock Vault: token minted from a cached decision"
        );
        self.clearances.insert(
            &request_id,
            Record {
                request: original,
                verdict: Verdict {
                    decision: Decision::Approve,
                    reason: reason.clone(),
                    reason_code: None,
                    processing_polls: 0,
                },
                phase: Phase::Decided(Box::new(answer)),
            },
        );
        Ok(MintTokenResponse {
            token: Some(token),
            reason: Some(reason),
            request_id: Some(request_id),
        })
    }
}

/// The first field of the mint request that is not the decided request's.
fn mismatch(original: &ClearanceRequest, mint: &MintTokenRequest) -> Option<&'static str> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let checks = [
        ("tool_name", original.tool_name == mint.tool_name),
        ("tool_args", original.tool_args == mint.tool_args),
        ("agent_id", original.agent_id == mint.agent_id),
        ("session_id", text(&original.session_id) == mint.session_id),
        (
            "policy_id",
            original.policy_id().unwrap_or_default() == mint.policy_id,
        ),
        (
            "human_principal",
            text(&original.human_principal) == text(&mint.human_principal),
        ),
        (
            "destination_uri",
            text(&original.destination_uri) == mint.destination_uri,
        ),
        (
            "destination_provider",
            text(&original.destination_provider) == mint.destination_provider,
        ),
        (
            "destination_account_ref",
            text(&original.destination_account_ref) == mint.destination_account_ref,
        ),
        (
            "data_categories",
            original.data_categories.clone().unwrap_or_default() == mint.data_categories,
        ),
        ("purpose", text(&original.purpose) == mint.purpose),
        (
            "processing_register_ref",
            text(&original.processing_register_ref) == mint.processing_register_ref,
        ),
        (
            "dataset_ref",
            text(&original.dataset_ref) == mint.dataset_ref,
        ),
    ];
    checks
        .iter()
        .find(|(_, same)| !same)
        .map(|(field, _)| *field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_of_the_call_is_compared() {
        let original = ClearanceRequest::new("t")
            .arg("a", 1)
            .agent_id("ag")
            .session_id("s")
            .policy("p");
        let decided: crate::protocol::ClearanceResponse = serde_json::from_value(
            serde_json::json!({"status": "approved", "token": "x", "request_id": "r"}),
        )
        .unwrap();
        let mint = MintTokenRequest::for_call(&original, &decided);
        assert_eq!(mismatch(&original, &mint), None);
        type Change = fn(&mut MintTokenRequest);
        let cases: [(&str, Change); 13] = [
            ("tool_name", |m| m.tool_name.push('x')),
            ("tool_args", |m| {
                m.tool_args.insert("a".into(), 2.into());
            }),
            ("agent_id", |m| m.agent_id.push('x')),
            ("session_id", |m| m.session_id.clear()),
            ("policy_id", |m| m.policy_id.push('x')),
            ("human_principal", |m| m.human_principal = Some("u".into())),
            ("destination_uri", |m| {
                m.destination_uri = "https://x".into()
            }),
            ("destination_provider", |m| {
                m.destination_provider = "x".into()
            }),
            ("destination_account_ref", |m| {
                m.destination_account_ref = "x".into()
            }),
            ("data_categories", |m| m.data_categories = vec!["x".into()]),
            ("purpose", |m| m.purpose = "x".into()),
            ("processing_register_ref", |m| {
                m.processing_register_ref = "x".into()
            }),
            ("dataset_ref", |m| m.dataset_ref = "x".into()),
        ];
        for (field, change) in cases {
            let mut changed = mint.clone();
            change(&mut changed);
            assert_eq!(mismatch(&original, &changed), Some(field));
        }
    }
}
