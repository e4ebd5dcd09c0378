//! Wire types of the Vault protocol (JSON, snake_case, unknown fields ignored on read).
//!
//! Both protocol generations parse: 0.3 answers carry `approved`, `confidence` and
//! `minimum_confidence_score`; 0.4 answers carry `decision_status`, `confidence_bucket`,
//! `minimum_confidence_bucket`, `reason_code` and the policy version fields.
//!
//! # Optional fields on the wire
//!
//! Read: an optional field may be absent or `null`; both mean "not set".
//!
//! Write: as the Vault does — a field without a value is **left out**, never written as
//! `null`. ledgix-ts types these fields `.optional()` or `.default(..)` in its zod schemas
//! (`src/models.ts`), which accept an absent field and refuse `null` wherever the type is not
//! also `.nullable()`; ledgix-python accepts both. Per type:
//!
//! | type | always written | left out when empty |
//! |---|---|---|
//! | [`ClearanceRequest`] | `tool_name`, `tool_args`, `agent_id`, `context` | `session_id`, `human_principal`, `parent_jti`, `destination_uri`, `destination_provider`, `destination_account_ref`, `data_categories`, `purpose`, `processing_register_ref`, `dataset_ref` |
//! | [`ClearanceResponse`] | `status`, `reason`, `request_id`, `requires_manual_review` | `token`, `approved`, `decision_status`, `confidence`, `minimum_confidence_score`, `confidence_bucket`, `minimum_confidence_bucket`, `reason_code`, `policy_version_id`, `policy_content_hash` |
//! | [`ReviewDecision`] | `approved`, `review_reason` | — |
//! | [`MintTokenRequest`] | every field but the two on the right (`""` / `[]` when unset, as the peers send) | `confidence_bucket`, `human_principal` |
//! | [`MintTokenResponse`] | — | `token`, `reason`, `request_id` |
//! | [`PolicyRegistration`] | `policy_id`, `description`, `rules`, `tools` | — |
//! | [`PolicyRegistrationResponse`] | `policy_id`, `status`, `message` | — |
//!
//! The ledger types follow the same rule ([`crate::ledger`]); `tests/wire_rules.rs` checks
//! every field of every type against this table.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Body of `POST /request-clearance`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClearanceRequest {
    /// Name of the tool the agent wants to run.
    pub tool_name: String,
    /// The exact arguments the tool will run with (the A-JWT binds their hash).
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_args: Map<String, Value>,
    /// The calling agent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub agent_id: String,
    /// Session grouping related requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// Context for the Vault's policy judge; `policy_id` goes here.
    #[serde(default, deserialize_with = "null_as_default")]
    pub context: Map<String, Value>,
    /// Advisory OIDC `sub` of the human on whose behalf the agent acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_principal: Option<String>,
    /// `jti` of the parent A-JWT on delegated sub-agent requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_jti: Option<String>,
    /// Canonical URI the action is sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_uri: Option<String>,
    /// Canonical provider key (`stripe`, `openai`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_provider: Option<String>,
    /// Account / workspace reference within the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination_account_ref: Option<String>,
    /// Personal-data categories the action touches (GDPR Art. 30 matching).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_categories: Option<Vec<String>>,
    /// Purpose of processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// Hint of the processing register the action anchors to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_register_ref: Option<String>,
    /// Logical dataset the action reads or writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_ref: Option<String>,
    /// Any other field, kept as received so a request round-trips intact (e.g. `client_id`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ClearanceRequest {
    /// A request for `tool_name` with no arguments; fill it with the builder methods
    /// ([`arg`](Self::arg), [`policy`](Self::policy), ...), named as [`ToolCall`](crate::ToolCall)'s.
    pub fn new(tool_name: impl Into<String>) -> Self {
        ClearanceRequest {
            tool_name: tool_name.into(),
            tool_args: Map::new(),
            agent_id: String::new(),
            session_id: None,
            context: Map::new(),
            human_principal: None,
            parent_jti: None,
            destination_uri: None,
            destination_provider: None,
            destination_account_ref: None,
            data_categories: None,
            purpose: None,
            processing_register_ref: None,
            dataset_ref: None,
            extra: Map::new(),
        }
    }

    /// Adds arguments (replacing any of the same name).
    pub fn args(mut self, tool_args: Map<String, Value>) -> Self {
        self.tool_args.extend(tool_args);
        self
    }

    /// Adds one argument.
    pub fn arg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.tool_args.insert(name.into(), value.into());
        self
    }

    /// Sets the agent id (empty: the client's configured `agent_id` is used).
    pub fn agent_id(mut self, agent_id: impl Into<String>) -> Self {
        self.agent_id = agent_id.into();
        self
    }

    /// Sets the session id.
    pub fn session_id(mut self, session_id: impl Into<String>) -> Self {
        self.session_id = Some(session_id.into());
        self
    }

    /// Sets `context.policy_id`.
    pub fn policy(mut self, policy_id: impl Into<String>) -> Self {
        self.context
            .insert("policy_id".to_string(), Value::String(policy_id.into()));
        self
    }

    /// Adds one context entry.
    pub fn context(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context.insert(key.into(), value.into());
        self
    }

    /// Sets `human_principal`: the OIDC `sub` of the human on whose behalf the agent acts
    /// (advisory). Unset, the client's [`principal_id`](crate::ConfigBuilder::principal_id)
    /// fills it. An empty string leaves it unset.
    pub fn principal(mut self, principal: impl Into<String>) -> Self {
        self.human_principal = non_empty(principal.into());
        self
    }

    /// Sets `parent_jti`: the `jti` of the A-JWT whose body makes this call (a delegated
    /// sub-agent request). Unset, a delegated client
    /// ([`LedgixClient::delegate`](crate::LedgixClient::delegate)) fills it. An empty string
    /// leaves it unset.
    pub fn parent_jti(mut self, parent_jti: impl Into<String>) -> Self {
        self.parent_jti = non_empty(parent_jti.into());
        self
    }

    /// Sets the counterparty: `destination_uri` (where the action goes, e.g.
    /// `https://api.stripe.com`), `destination_provider` (a canonical key such as `stripe`)
    /// and `destination_account_ref` (the account or workspace there). An empty string leaves
    /// that field unset, for the client's counterparty hint to fill
    /// ([`extract_counterparty`](crate::extract_counterparty)); values set here always win over
    /// the hint.
    pub fn destination(
        self,
        uri: impl Into<String>,
        provider: impl Into<String>,
        account_ref: impl Into<String>,
    ) -> Self {
        self.destination_uri(uri)
            .destination_provider(provider)
            .destination_account_ref(account_ref)
    }

    /// Sets `destination_uri` alone (see [`destination`](Self::destination)).
    pub fn destination_uri(mut self, uri: impl Into<String>) -> Self {
        self.destination_uri = non_empty(uri.into());
        self
    }

    /// Sets `destination_provider` alone (see [`destination`](Self::destination)).
    pub fn destination_provider(mut self, provider: impl Into<String>) -> Self {
        self.destination_provider = non_empty(provider.into());
        self
    }

    /// Sets `destination_account_ref` alone (see [`destination`](Self::destination)).
    pub fn destination_account_ref(mut self, account_ref: impl Into<String>) -> Self {
        self.destination_account_ref = non_empty(account_ref.into());
        self
    }

    /// Sets `data_categories`: the personal-data categories the action touches (matched
    /// against the Vault's GDPR Art. 30 processing registers), e.g. `["email",
    /// "payment_card"]`. Replaces any set before; an empty list leaves the field unset.
    pub fn data_categories(
        mut self,
        categories: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let categories: Vec<String> = categories.into_iter().map(Into::into).collect();
        self.data_categories = (!categories.is_empty()).then_some(categories);
        self
    }

    /// Sets `purpose`: the purpose of processing (e.g. `billing`, `fraud_detection`). An empty
    /// string leaves it unset.
    pub fn purpose(mut self, purpose: impl Into<String>) -> Self {
        self.purpose = non_empty(purpose.into());
        self
    }

    /// Sets `processing_register_ref`: a hint of the processing register the action anchors
    /// to. An empty string leaves it unset.
    pub fn processing_register_ref(mut self, register_ref: impl Into<String>) -> Self {
        self.processing_register_ref = non_empty(register_ref.into());
        self
    }

    /// Sets `dataset_ref`: the logical dataset the action reads or writes. An empty string
    /// leaves it unset.
    pub fn dataset_ref(mut self, dataset_ref: impl Into<String>) -> Self {
        self.dataset_ref = non_empty(dataset_ref.into());
        self
    }

    /// Sets all arguments at once.
    #[deprecated(
        since = "0.2.0",
        note = "use `args` (it adds to the arguments already set)"
    )]
    pub fn with_args(mut self, tool_args: Map<String, Value>) -> Self {
        self.tool_args = tool_args;
        self
    }

    /// Adds one argument.
    #[deprecated(since = "0.2.0", note = "renamed `arg`, as on `ToolCall`")]
    pub fn with_arg(self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.arg(name, value)
    }

    /// Sets the agent id.
    #[deprecated(since = "0.2.0", note = "renamed `agent_id`, as on `ToolCall`")]
    pub fn with_agent_id(self, agent_id: impl Into<String>) -> Self {
        self.agent_id(agent_id)
    }

    /// Sets the session id.
    #[deprecated(since = "0.2.0", note = "renamed `session_id`, as on `ToolCall`")]
    pub fn with_session_id(self, session_id: impl Into<String>) -> Self {
        self.session_id(session_id)
    }

    /// Sets `context.policy_id`.
    #[deprecated(since = "0.2.0", note = "renamed `policy`, as on `ToolCall`")]
    pub fn with_policy(self, policy_id: impl Into<String>) -> Self {
        self.policy(policy_id)
    }

    /// Adds one context entry.
    #[deprecated(since = "0.2.0", note = "renamed `context`, as on `ToolCall`")]
    pub fn with_context(self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.context(key, value)
    }

    /// The purpose of processing, read where either side puts it: the top-level `purpose`
    /// (ledgix-python 0.4, this crate), else `context.purpose` (the Vault's own wire fixture).
    pub fn effective_purpose(&self) -> Option<&str> {
        self.purpose
            .as_deref()
            .or_else(|| self.context.get("purpose").and_then(Value::as_str))
    }

    /// The data categories, read where either side puts them: the top-level
    /// `data_categories`, else `context.data_categories` (its string entries).
    pub fn effective_data_categories(&self) -> Option<Vec<&str>> {
        if let Some(categories) = &self.data_categories {
            return Some(categories.iter().map(String::as_str).collect());
        }
        self.context
            .get("data_categories")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).collect())
    }

    /// The policy id carried in `context.policy_id`, if any.
    pub fn policy_id(&self) -> Option<&str> {
        self.context.get("policy_id").and_then(Value::as_str)
    }
}

/// `Some(s)` unless `s` is empty.
fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Lifecycle status of a clearance. Anything else on the wire is a [`ProtocolError`]: it
/// decides, so an unknown value fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClearanceStatus {
    /// Terminal: approved, carries a token.
    Approved,
    /// Terminal: denied, carries a reason.
    Denied,
    /// Waiting for a human reviewer; poll `/clearance-status/{id}`.
    PendingReview,
    /// The Vault is still deciding; poll `/clearance-status/{id}`.
    Processing,
}

impl ClearanceStatus {
    /// True for `approved` and `denied`.
    pub fn is_terminal(self) -> bool {
        matches!(self, ClearanceStatus::Approved | ClearanceStatus::Denied)
    }

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ClearanceStatus::Approved => "approved",
            ClearanceStatus::Denied => "denied",
            ClearanceStatus::PendingReview => "pending_review",
            ClearanceStatus::Processing => "processing",
        }
    }
}

/// Categorical decision (0.4 protocol). An unknown value is a [`ProtocolError`]: it decides,
/// so it fails closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// The policy permits the action.
    Approved,
    /// The policy forbids the action.
    Denied,
    /// The policy permits the action subject to human review.
    ApprovedPendingReview,
}

/// Categorical confidence (0.4 protocol), strongest last.
///
/// Informational: a value this SDK does not know yet (say `"very_high"`) parses as
/// [`ConfidenceBucket::Other`] with the raw string kept, so one new value on the wire does
/// not stop every call. Known buckets compare by strength; an unknown one compares with
/// nothing but itself (`partial_cmp` is `None`), so a `>=` threshold check is false for it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfidenceBucket {
    /// No confidence.
    None,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Extra high.
    ExtraHigh,
    /// A bucket this SDK does not know, as the Vault spelled it.
    Other(String),
}

impl ConfidenceBucket {
    /// The wire spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ConfidenceBucket::ExtraHigh => "extra_high",
            ConfidenceBucket::High => "high",
            ConfidenceBucket::Medium => "medium",
            ConfidenceBucket::Low => "low",
            ConfidenceBucket::None => "none",
            ConfidenceBucket::Other(raw) => raw,
        }
    }

    /// Strength of a known bucket, `none` = 0 to `extra_high` = 4; `None` for an unknown one.
    pub fn rank(&self) -> Option<u8> {
        match self {
            ConfidenceBucket::None => Some(0),
            ConfidenceBucket::Low => Some(1),
            ConfidenceBucket::Medium => Some(2),
            ConfidenceBucket::High => Some(3),
            ConfidenceBucket::ExtraHigh => Some(4),
            ConfidenceBucket::Other(_) => None,
        }
    }
}

impl From<&str> for ConfidenceBucket {
    /// The bucket a wire string names; an unknown spelling is kept in [`ConfidenceBucket::Other`].
    fn from(raw: &str) -> Self {
        match raw {
            "extra_high" => ConfidenceBucket::ExtraHigh,
            "high" => ConfidenceBucket::High,
            "medium" => ConfidenceBucket::Medium,
            "low" => ConfidenceBucket::Low,
            "none" => ConfidenceBucket::None,
            other => ConfidenceBucket::Other(other.to_owned()),
        }
    }
}

impl std::fmt::Display for ConfidenceBucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialOrd for ConfidenceBucket {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        match (self.rank(), other.rank()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ if self == other => Some(std::cmp::Ordering::Equal),
            _ => None,
        }
    }
}

impl Serialize for ConfidenceBucket {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ConfidenceBucket {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(ConfidenceBucket::from(raw.as_ref()))
    }
}

/// Answer of `POST /request-clearance` and `GET /clearance-status/{id}`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClearanceResponse {
    /// Lifecycle status.
    pub status: ClearanceStatus,
    /// The A-JWT, present exactly when `status` is `approved`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Human-readable explanation of the decision.
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
    /// The Vault's id of this request.
    #[serde(default, deserialize_with = "null_as_default")]
    pub request_id: String,
    /// Whether the request waits for a human reviewer.
    #[serde(default, deserialize_with = "null_as_default")]
    pub requires_manual_review: bool,
    /// 0.3: the decision as a boolean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved: Option<bool>,
    /// 0.4: the categorical decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_status: Option<DecisionStatus>,
    /// 0.3: the judge's confidence in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// 0.3: the minimum confidence for automatic approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_confidence_score: Option<f64>,
    /// 0.4: the judge's confidence bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_bucket: Option<ConfidenceBucket>,
    /// 0.4: the minimum bucket for automatic approval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_confidence_bucket: Option<ConfidenceBucket>,
    /// 0.4: machine-readable reason code, e.g. `spend_cap_exceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// 0.4: the policy version the decision was evaluated against.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_version_id: Option<String>,
    /// 0.4: content hash of that policy version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_content_hash: Option<String>,
}

impl std::fmt::Debug for ClearanceResponse {
    // The token is a bearer credential: show only its first characters.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClearanceResponse")
            .field("status", &self.status)
            .field("token", &self.token.as_deref().map(redact_token))
            .field("reason", &self.reason)
            .field("request_id", &self.request_id)
            .field("requires_manual_review", &self.requires_manual_review)
            .field("approved", &self.approved)
            .field("decision_status", &self.decision_status)
            .field("confidence", &self.confidence)
            .field("minimum_confidence_score", &self.minimum_confidence_score)
            .field("confidence_bucket", &self.confidence_bucket)
            .field("minimum_confidence_bucket", &self.minimum_confidence_bucket)
            .field("reason_code", &self.reason_code)
            .field("policy_version_id", &self.policy_version_id)
            .field("policy_content_hash", &self.policy_content_hash)
            .finish()
    }
}

/// `eyJhbGciOi…` — enough to tell tokens apart in a log, useless as a credential.
pub(crate) fn redact_token(token: &str) -> String {
    let head: String = token.chars().take(12).collect();
    format!("{head}…")
}

impl ClearanceResponse {
    /// Parses and checks a Vault answer: malformed JSON, an unknown `status` or
    /// `decision_status`, and every contradiction between fields (an approval without a
    /// token, a denial with one, ...) are a [`ProtocolError`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, ProtocolError> {
        let resp: ClearanceResponse =
            serde_json::from_slice(bytes).map_err(|e| ProtocolError::Malformed(e.to_string()))?;
        resp.check()?;
        Ok(resp)
    }

    /// Checks the answer for contradictions between its fields.
    pub(crate) fn check(&self) -> Result<(), ProtocolError> {
        let contradiction = |why: &str| Err(ProtocolError::Contradiction(why.to_owned()));
        let has_token = self.token.as_deref().is_some_and(|t| !t.is_empty());
        match self.status {
            ClearanceStatus::Approved => {
                if !has_token {
                    return contradiction("status `approved` without a token");
                }
                if self.decision_status == Some(DecisionStatus::Denied) {
                    return contradiction("status `approved` with decision_status `denied`");
                }
                if self.approved == Some(false) {
                    return contradiction("status `approved` with `approved: false`");
                }
            }
            ClearanceStatus::Denied => {
                if self.token.is_some() {
                    return contradiction("status `denied` carries a token");
                }
                if matches!(
                    self.decision_status,
                    Some(DecisionStatus::Approved | DecisionStatus::ApprovedPendingReview)
                ) {
                    return contradiction("status `denied` with an approving decision_status");
                }
                if self.approved == Some(true) {
                    return contradiction("status `denied` with `approved: true`");
                }
            }
            ClearanceStatus::PendingReview | ClearanceStatus::Processing => {
                if self.token.is_some() {
                    return contradiction(&format!(
                        "status `{}` carries a token",
                        self.status.as_str()
                    ));
                }
                if self.request_id.is_empty() {
                    return contradiction(&format!(
                        "status `{}` without a request_id to poll",
                        self.status.as_str()
                    ));
                }
            }
        }
        Ok(())
    }

    /// True when the status is `approved`.
    pub fn is_approved(&self) -> bool {
        self.status == ClearanceStatus::Approved
    }
}

/// Why a Vault answer was refused by [`ClearanceResponse::from_json`]. The client reports it
/// as [`Error::Protocol`](crate::Error::Protocol), naming the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// Not JSON, or not shaped like a clearance answer (a missing or unknown `status` or
    /// `decision_status`, a field of the wrong type); serde's message says where.
    #[error("the answer is not a clearance response: {0}")]
    Malformed(String),
    /// Well-formed, but its fields contradict each other.
    #[error("{0}")]
    Contradiction(String),
}

/// Reads an absent or `null` field as the type's default (the wire rule of this module).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Body of `POST /mint-token`: a fresh A-JWT for a call whose decision the client cached.
///
/// The shape both official SDKs send (ledgix-python 0.4 `_mint_token`, ledgix-ts
/// `_mintToken`): the call's own fields (tool, arguments, agent, session, policy and the
/// attribution fields) beside the cached decision's (`original_request_id`,
/// `policy_version_id`, `policy_content_hash`, `confidence_bucket`, `reason`), so the Vault can
/// check that the call is the one it decided and that the policy has not changed since.
///
/// As the peers write it: a string field without a value is written `""` and
/// `data_categories` `[]` (the Vault reads that shape from both peers); `confidence_bucket`
/// and `human_principal` are left out when empty (ledgix-ts leaves out an unset principal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MintTokenRequest {
    /// The tool of the call.
    pub tool_name: String,
    /// The exact arguments of the call (the minted token binds their hash).
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_args: Map<String, Value>,
    /// The calling agent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub agent_id: String,
    /// The session (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub session_id: String,
    /// The policy (`context.policy_id` of the call; `""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub policy_id: String,
    /// The policy version the cached decision was evaluated against.
    #[serde(default, deserialize_with = "null_as_default")]
    pub policy_version_id: String,
    /// Content hash of that policy version.
    #[serde(default, deserialize_with = "null_as_default")]
    pub policy_content_hash: String,
    /// `request_id` of the decision that was cached.
    #[serde(default, deserialize_with = "null_as_default")]
    pub original_request_id: String,
    /// The cached decision's confidence bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence_bucket: Option<ConfidenceBucket>,
    /// The cached decision's reason.
    #[serde(default, deserialize_with = "null_as_default")]
    pub reason: String,
    /// Advisory OIDC `sub` of the human on whose behalf the agent acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_principal: Option<String>,
    /// Canonical URI the action is sent to (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub destination_uri: String,
    /// Canonical provider key (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub destination_provider: String,
    /// Account reference within the provider (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub destination_account_ref: String,
    /// Personal-data categories (`[]` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub data_categories: Vec<String>,
    /// Purpose of processing (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub purpose: String,
    /// Processing register hint (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub processing_register_ref: String,
    /// Logical dataset (`""` when none).
    #[serde(default, deserialize_with = "null_as_default")]
    pub dataset_ref: String,
}

impl MintTokenRequest {
    /// The mint request for `request` (as the client sends it: agent and session filled in)
    /// from the cached decision `decided` (its `request_id`, policy version and reason).
    pub fn for_call(request: &ClearanceRequest, decided: &ClearanceResponse) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        MintTokenRequest {
            tool_name: request.tool_name.clone(),
            tool_args: request.tool_args.clone(),
            agent_id: request.agent_id.clone(),
            session_id: text(&request.session_id),
            policy_id: request.policy_id().unwrap_or_default().to_string(),
            policy_version_id: text(&decided.policy_version_id),
            policy_content_hash: text(&decided.policy_content_hash),
            original_request_id: decided.request_id.clone(),
            confidence_bucket: decided.confidence_bucket.clone(),
            reason: decided.reason.clone(),
            human_principal: request.human_principal.clone(),
            destination_uri: text(&request.destination_uri),
            destination_provider: text(&request.destination_provider),
            destination_account_ref: text(&request.destination_account_ref),
            data_categories: request.data_categories.clone().unwrap_or_default(),
            purpose: text(&request.purpose),
            processing_register_ref: text(&request.processing_register_ref),
            dataset_ref: text(&request.dataset_ref),
        }
    }
}

/// Answer of `POST /mint-token`: `{token, reason?, request_id?}`.
///
/// An answer without a token is not an approval: the client reports it as
/// [`Error::Protocol`](crate::Error::Protocol) and runs nothing. `Debug` shows only the
/// token's first characters.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MintTokenResponse {
    /// The fresh A-JWT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// The reason the Vault gives (the cached decision's when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The Vault's id of this mint (its ledger event).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl std::fmt::Debug for MintTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintTokenResponse")
            .field("token", &self.token.as_deref().map(redact_token))
            .field("reason", &self.reason)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// Body of `POST /reviews/{request_id}/decision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewDecision {
    /// The reviewer's decision.
    pub approved: bool,
    /// The reviewer's reason.
    #[serde(default, deserialize_with = "null_as_default")]
    pub review_reason: String,
}

/// Body of `POST /register-policy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PolicyRegistration {
    /// Unique id of the policy.
    pub policy_id: String,
    /// Human-readable description.
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// Plain-English rules, e.g. "Refunds must not exceed $100".
    #[serde(default, deserialize_with = "null_as_default")]
    pub rules: Vec<String>,
    /// Tools the policy applies to (empty: all).
    #[serde(default, deserialize_with = "null_as_default")]
    pub tools: Vec<String>,
}

impl PolicyRegistration {
    /// A policy with an id and no rules.
    pub fn new(policy_id: impl Into<String>) -> Self {
        PolicyRegistration {
            policy_id: policy_id.into(),
            description: String::new(),
            rules: Vec::new(),
            tools: Vec::new(),
        }
    }

    /// Sets the description.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Adds a rule.
    pub fn rule(mut self, rule: impl Into<String>) -> Self {
        self.rules.push(rule.into());
        self
    }

    /// Adds a tool.
    pub fn tool(mut self, tool: impl Into<String>) -> Self {
        self.tools.push(tool.into());
        self
    }
}

/// Answer of `POST /register-policy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PolicyRegistrationResponse {
    /// The registered policy id.
    pub policy_id: String,
    /// Registration status, e.g. `registered`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub status: String,
    /// Additional information.
    #[serde(default, deserialize_with = "null_as_default")]
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<ClearanceResponse, ProtocolError> {
        ClearanceResponse::from_json(json.as_bytes())
    }

    #[test]
    fn parses_protocol_0_3() {
        let r = parse(
            r#"{"status":"approved","token":"t","reason":"ok","request_id":"r","approved":true,
                "confidence":0.91,"minimum_confidence_score":0.8,"requires_manual_review":false}"#,
        )
        .unwrap();
        assert_eq!(r.status, ClearanceStatus::Approved);
        assert_eq!(r.confidence, Some(0.91));
        assert_eq!(r.minimum_confidence_score, Some(0.8));
        assert_eq!(r.decision_status, None);
    }

    #[test]
    fn parses_protocol_0_4_and_ignores_unknown_fields() {
        let r = parse(
            r#"{"status":"denied","reason":"cap","request_id":"r","decision_status":"denied",
                "confidence_bucket":"extra_high","minimum_confidence_bucket":"high",
                "reason_code":"spend_cap_exceeded","policy_version_id":"pv","policy_content_hash":"h",
                "brand_new_field":{"x":1}}"#,
        )
        .unwrap();
        assert_eq!(r.decision_status, Some(DecisionStatus::Denied));
        assert_eq!(r.confidence_bucket, Some(ConfidenceBucket::ExtraHigh));
        assert_eq!(r.minimum_confidence_bucket, Some(ConfidenceBucket::High));
        assert_eq!(r.reason_code.as_deref(), Some("spend_cap_exceeded"));
    }

    #[test]
    fn contradictions_are_protocol_errors() {
        for (json, needle) in [
            (
                r#"{"status":"approved","request_id":"r"}"#,
                "without a token",
            ),
            (
                r#"{"status":"approved","token":"","request_id":"r"}"#,
                "without a token",
            ),
            (
                r#"{"status":"approved","token":"t","decision_status":"denied"}"#,
                "decision_status `denied`",
            ),
            (
                r#"{"status":"approved","token":"t","approved":false}"#,
                "approved: false",
            ),
            (r#"{"status":"denied","token":"t"}"#, "carries a token"),
            (
                r#"{"status":"denied","decision_status":"approved"}"#,
                "approving",
            ),
            (r#"{"status":"pending_review"}"#, "without a request_id"),
            (
                r#"{"status":"maybe","request_id":"r"}"#,
                "unknown variant `maybe`",
            ),
            (r#"{"request_id":"r"}"#, "missing field `status`"),
            (r#"not json"#, "not a clearance response"),
        ] {
            match parse(json) {
                Err(e) => assert!(e.to_string().contains(needle), "{json}: {e}"),
                Ok(r) => panic!("{json}: expected a protocol error, got {r:?}"),
            }
        }
    }

    #[test]
    fn unknown_confidence_buckets_parse_and_keep_the_raw_string() {
        let r = parse(
            r#"{"status":"approved","token":"t","request_id":"r","decision_status":"approved",
                "confidence_bucket":"very_high","minimum_confidence_bucket":"ultra"}"#,
        )
        .unwrap();
        assert_eq!(
            r.confidence_bucket,
            Some(ConfidenceBucket::Other("very_high".into()))
        );
        assert_eq!(
            r.minimum_confidence_bucket,
            Some(ConfidenceBucket::Other("ultra".into()))
        );
        // Written back exactly as received.
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["confidence_bucket"], "very_high");
        assert_eq!(v["minimum_confidence_bucket"], "ultra");
        // Known buckets order by strength; an unknown one is never above a threshold.
        let very_high = ConfidenceBucket::from("very_high");
        assert!(ConfidenceBucket::ExtraHigh > ConfidenceBucket::High);
        assert!(ConfidenceBucket::None < ConfidenceBucket::Low);
        assert_eq!(very_high.partial_cmp(&ConfidenceBucket::High), None);
        let above_threshold = very_high >= ConfidenceBucket::High;
        assert!(
            !above_threshold,
            "an unknown bucket never passes a threshold"
        );
        assert_eq!(
            very_high.partial_cmp(&very_high.clone()),
            Some(std::cmp::Ordering::Equal)
        );
        assert_eq!(very_high.rank(), None);
        for known in ["extra_high", "high", "medium", "low", "none"] {
            let b = ConfidenceBucket::from(known);
            assert!(b.rank().is_some(), "{known}");
            assert_eq!(b.as_str(), known);
        }
    }

    #[test]
    fn fields_that_decide_still_fail_closed_on_unknown_values() {
        for (json, needle) in [
            (
                r#"{"status":"approved_maybe","token":"t","request_id":"r"}"#,
                "unknown variant `approved_maybe`",
            ),
            (
                r#"{"status":"approved","token":"t","request_id":"r","decision_status":"very_approved"}"#,
                "unknown variant `very_approved`",
            ),
        ] {
            let err = parse(json).unwrap_err();
            assert!(matches!(err, ProtocolError::Malformed(_)), "{err:?}");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn null_reads_as_absent() {
        let r = parse(
            r#"{"status":"denied","token":null,"reason":null,"request_id":null,
                "requires_manual_review":null,"decision_status":null,"confidence_bucket":null}"#,
        )
        .unwrap();
        assert_eq!(r.token, None);
        assert_eq!((r.reason.as_str(), r.request_id.as_str()), ("", ""));
        assert!(!r.requires_manual_review);
        assert_eq!(r.confidence_bucket, None);
        let d: ReviewDecision =
            serde_json::from_str(r#"{"approved":false,"review_reason":null}"#).unwrap();
        assert_eq!(d.review_reason, "");
    }

    #[test]
    fn debug_never_shows_the_whole_token() {
        let r = parse(r#"{"status":"approved","token":"eyJhbGciOiJFZERTQSJ9.secret-part.sig","request_id":"r"}"#)
            .unwrap();
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("secret-part"), "{dbg}");
    }

    #[test]
    fn mint_token_wire_shapes() {
        let mut request = ClearanceRequest::new("stripe_refund")
            .arg("amount", 45)
            .agent_id("a")
            .policy("p");
        request.purpose = Some("refund".into());
        let decided = parse(
            r#"{"status":"approved","token":"t","request_id":"r1","reason":"ok",
                "decision_status":"approved","confidence_bucket":"high",
                "policy_version_id":"pv","policy_content_hash":"sha256:00"}"#,
        )
        .unwrap();
        let mint = MintTokenRequest::for_call(&request, &decided);
        let v = serde_json::to_value(&mint).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "tool_name": "stripe_refund", "tool_args": {"amount": 45}, "agent_id": "a",
                "session_id": "", "policy_id": "p", "policy_version_id": "pv",
                "policy_content_hash": "sha256:00", "original_request_id": "r1",
                "confidence_bucket": "high", "reason": "ok", "destination_uri": "",
                "destination_provider": "", "destination_account_ref": "", "data_categories": [],
                "purpose": "refund", "processing_register_ref": "", "dataset_ref": "",
            })
        );
        let back: MintTokenRequest = serde_json::from_value(v).unwrap();
        assert_eq!(back, mint);
        // The peers' nulls read as unset.
        let python: MintTokenRequest = serde_json::from_str(
            r#"{"tool_name":"t","tool_args":null,"agent_id":null,"session_id":null,
                "human_principal":null,"confidence_bucket":null,"data_categories":null}"#,
        )
        .unwrap();
        assert_eq!(python.human_principal, None);
        assert!(python.tool_args.is_empty() && python.data_categories.is_empty());

        let answer: MintTokenResponse = serde_json::from_str(
            r#"{"token":"eyJhbGciOiJFZERTQSJ9.secret-part.sig","request_id":null}"#,
        )
        .unwrap();
        assert_eq!(answer.request_id, None);
        let dbg = format!("{answer:?}");
        assert!(!dbg.contains("secret-part"), "{dbg}");
        let empty: MintTokenResponse = serde_json::from_str("{}").unwrap();
        assert_eq!(serde_json::to_string(&empty).unwrap(), "{}");
    }

    #[test]
    fn request_builder_puts_policy_in_context() {
        let req = ClearanceRequest::new("stripe_refund")
            .arg("amount", 45)
            .policy("refund_policy_v1");
        let v = serde_json::to_value(&req).unwrap();
        assert_eq!(v["context"]["policy_id"], "refund_policy_v1");
        assert_eq!(v["tool_args"]["amount"], 45);
        assert!(v.get("session_id").is_none());
    }
}
