//! How the mock Vault decides: [`Rule`]s matched by tool glob and an optional predicate on the
//! arguments, first match wins, else the default [`Decision`].

use std::fmt;
use std::sync::Arc;

use ledgix_manifest::Glob;
use serde_json::{Map, Value};

/// What the mock Vault answers to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Decision {
    /// Approve at once, with a signed A-JWT.
    #[default]
    Approve,
    /// Deny with a reason.
    Deny,
    /// Hold for a human reviewer (`pending_review`) until `POST /reviews/{id}/decision` or
    /// [`MockVault::approve`](super::MockVault::approve) / [`deny`](super::MockVault::deny).
    Review,
}

impl Decision {
    /// The spelling used in the rules file (`approve`, `deny`, `review`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
            Decision::Review => "review",
        }
    }
}

type Predicate = Arc<dyn Fn(&Map<String, Value>) -> bool + Send + Sync>;

/// One rule: which calls it matches and what the mock Vault answers to them.
///
/// ```
/// use ledgix_runtime::mock::Rule;
///
/// let rules = [
///     Rule::tool("stripe_refund").deny("refunds are frozen"),
///     Rule::tool("wire_*").review(),
///     Rule::tool("create_payment")
///         .when(|args| args.get("amount").and_then(|a| a.as_f64()).is_some_and(|a| a > 1000.0))
///         .review(),
///     Rule::tool("slow_*").processing(2).approve(),
/// ];
/// # let _ = rules;
/// ```
#[derive(Clone)]
#[must_use = "a Rule does nothing until it is given to MockVault::builder().rule(..)"]
pub struct Rule {
    pub(crate) glob: Glob,
    predicate: Option<Predicate>,
    pub(crate) decision: Decision,
    pub(crate) reason: Option<String>,
    pub(crate) reason_code: Option<String>,
    pub(crate) processing_polls: u32,
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rule")
            .field("tool", &self.glob.as_str())
            .field("when", &self.predicate.as_ref().map(|_| "<predicate>"))
            .field("decision", &self.decision)
            .field("reason", &self.reason)
            .field("reason_code", &self.reason_code)
            .field("processing_polls", &self.processing_polls)
            .finish()
    }
}

impl Rule {
    /// A rule for the tools whose name matches `glob`: `*` any run of characters, `?` one
    /// character, `[abc]` / `[a-z]` one of, `[!abc]` none of (Python `fnmatch`, the globs of
    /// `ledgix.json`, matched by the same code as `instrument!` and `ledgix::Manifest`). It
    /// approves until told otherwise.
    pub fn tool(glob: impl Into<String>) -> Rule {
        Rule {
            glob: Glob::new(&glob.into()),
            predicate: None,
            decision: Decision::Approve,
            reason: None,
            reason_code: None,
            processing_polls: 0,
        }
    }

    /// Matches only when `predicate` is true for the request's `tool_args`.
    pub fn when(
        mut self,
        predicate: impl Fn(&Map<String, Value>) -> bool + Send + Sync + 'static,
    ) -> Rule {
        self.predicate = Some(Arc::new(predicate));
        self
    }

    /// Approves the matched calls.
    pub fn approve(mut self) -> Rule {
        self.decision = Decision::Approve;
        self
    }

    /// Denies the matched calls with `reason`.
    pub fn deny(mut self, reason: impl Into<String>) -> Rule {
        self.decision = Decision::Deny;
        self.reason = Some(reason.into());
        self
    }

    /// Sends the matched calls to human review.
    pub fn review(mut self) -> Rule {
        self.decision = Decision::Review;
        self
    }

    /// Sets the decision.
    pub fn decision(mut self, decision: Decision) -> Rule {
        self.decision = decision;
        self
    }

    /// Sets the human-readable reason the answer carries.
    pub fn reason(mut self, reason: impl Into<String>) -> Rule {
        self.reason = Some(reason.into());
        self
    }

    /// Sets the machine-readable `reason_code` of a denial (0.4 protocol).
    pub fn reason_code(mut self, code: impl Into<String>) -> Rule {
        self.reason_code = Some(code.into());
        self
    }

    /// The Vault answers `processing` to the request and to the first `n - 1` status polls;
    /// the `n`-th poll gets the outcome. `0` (the default) answers at once.
    pub fn processing(mut self, polls: u32) -> Rule {
        self.processing_polls = polls;
        self
    }

    /// True when this rule applies to a call of `tool` with `args`.
    pub(crate) fn matches(&self, tool: &str, args: &Map<String, Value>) -> bool {
        self.glob.matches(tool) && self.predicate.as_ref().is_none_or(|p| p(args))
    }
}

/// What the rules say about one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    pub(crate) decision: Decision,
    pub(crate) reason: String,
    pub(crate) reason_code: Option<String>,
    pub(crate) processing_polls: u32,
}

/// The first rule matching `tool` and `args`, else `default`.
pub(crate) fn evaluate(
    rules: &[Rule],
    default: Decision,
    tool: &str,
    args: &Map<String, Value>,
) -> Verdict {
    match rules.iter().find(|r| r.matches(tool, args)) {
        Some(rule) => Verdict {
            decision: rule.decision,
            reason: rule
                .reason
                .clone()
                .unwrap_or_else(|| default_reason(rule.decision, Some(rule.glob.as_str()))),
            reason_code: match rule.decision {
                Decision::Deny => Some(
                    rule.reason_code
                        .clone()
                        .unwrap_or_else(|| "mock_rule_denied".to_string()),
                ),
                _ => rule.reason_code.clone(),
            },
            processing_polls: rule.processing_polls,
        },
        None => Verdict {
            decision: default,
            reason: default_reason(default, None),
            reason_code: (default == Decision::Deny).then(|| "mock_default_denied".to_string()),
            processing_polls: 0,
        },
    }
}

fn default_reason(decision: Decision, glob: Option<&str>) -> String {
    let by = match glob {
        Some(g) => format!("the mock Vault's rule for `{g}`"),
        None => "the mock Vault's default decision".to_string(),
    };
    match decision {
        Decision::Approve => format!("approved by {by}"),
        Decision::Deny => format!("denied by {by}"),
        Decision::Review => format!("sent to human review by {by}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn globs() {
        for (p, t, want) in [
            ("stripe_refund", "stripe_refund", true),
            ("stripe_refund", "stripe_refunds", false),
            ("wire_*", "wire_", true),
            ("wire_*", "wire_transfer", true),
            ("wire_*", "wir", false),
            ("*", "", true),
            ("*", "anything", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("*_refund*", "stripe_refund_v2", true),
            ("*a*b", "xaxxb", true),
            ("*a*b", "xaxxbc", false),
            ("stripe*", "Stripe", false),
            ("ü*", "über", true),
            // fnmatch classes, as in ledgix.json
            ("report_[0-9]", "report_7", true),
            ("report_[0-9]", "report_10", false),
            ("tool_[!ab]", "tool_c", true),
            ("tool_[!ab]", "tool_a", false),
            ("a[bc", "a[bc", true),
        ] {
            assert_eq!(Rule::tool(p).matches(t, &Map::new()), want, "{p} vs {t}");
        }
    }

    #[test]
    fn first_matching_rule_wins_then_default() {
        let rules = [
            Rule::tool("pay")
                .when(|a| {
                    a.get("amount")
                        .and_then(Value::as_f64)
                        .is_some_and(|x| x > 100.0)
                })
                .review(),
            Rule::tool("pay").deny("no").reason_code("cap"),
            Rule::tool("slow").processing(3),
        ];
        let v = evaluate(
            &rules,
            Decision::Approve,
            "pay",
            &args(json!({"amount": 500})),
        );
        assert_eq!(v.decision, Decision::Review);
        let v = evaluate(
            &rules,
            Decision::Approve,
            "pay",
            &args(json!({"amount": 5})),
        );
        assert_eq!(v.decision, Decision::Deny);
        assert_eq!(v.reason, "no");
        assert_eq!(v.reason_code.as_deref(), Some("cap"));
        let v = evaluate(&rules, Decision::Approve, "slow", &Map::new());
        assert_eq!((v.decision, v.processing_polls), (Decision::Approve, 3));
        let v = evaluate(&rules, Decision::Deny, "other", &Map::new());
        assert_eq!(v.decision, Decision::Deny);
        assert_eq!(v.reason_code.as_deref(), Some("mock_default_denied"));
        assert!(v.reason.contains("default"), "{}", v.reason);
    }
}
