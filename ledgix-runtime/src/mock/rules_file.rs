//! The JSON rules file of the standalone mock Vault (`ledgix-mock-vault --rules rules.json`).
//!
//! ```json
//! {
//!   "default": "approve",
//!   "rules": [
//!     {"tool": "stripe_refund", "decision": "deny", "reason": "refunds are frozen",
//!      "reason_code": "refunds_frozen"},
//!     {"tool": "wire_*", "decision": "review"},
//!     {"tool": "slow_*", "decision": "approve", "processing_polls": 2},
//!     {"tool": "create_stripe_payment", "when": {"arg": "amount", "gt": 1000},
//!      "decision": "review"}
//!   ]
//! }
//! ```
//!
//! `default` and every `decision` are `approve`, `deny` or `review`. `when` compares one
//! argument, named by a dotted path into `tool_args` (`customer.tier`, `items.0.price`), with
//! exactly one of `gt`, `gte`, `lt`, `lte` (numbers) or `eq`, `ne` (any JSON value; numbers
//! compare by value, so `1` equals `1.0`). A rule whose argument is missing, or not a number
//! for `gt`…`lte`, does not match. Unknown fields are errors, so a typo cannot silently
//! change what the mock decides.

use std::fmt;
use std::path::Path;

use serde_json::{Map, Value};

use super::rules::{Decision, Rule};

/// A parsed rules file: the default decision and the rules, in order.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RulesFile {
    /// What the mock Vault decides when no rule matches.
    pub default: Decision,
    /// The rules; the first match wins.
    pub rules: Vec<Rule>,
}

/// Why a rules file was refused: names the rule and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RulesFileError(pub String);

impl RulesFile {
    /// Reads and parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<RulesFile, RulesFileError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            RulesFileError(format!("cannot read rules file {}: {e}", path.display()))
        })?;
        RulesFile::from_json(&text)
            .map_err(|e| RulesFileError(format!("rules file {}: {}", path.display(), e.0)))
    }

    /// Parses the JSON text of a rules file.
    pub fn from_json(text: &str) -> Result<RulesFile, RulesFileError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| RulesFileError(format!("not valid JSON: {e}")))?;
        let top = value
            .as_object()
            .ok_or_else(|| RulesFileError("the top level must be a JSON object".into()))?;
        only_fields(top, &["default", "rules"], "the top level")?;
        let default = match top.get("default") {
            None => Decision::Approve,
            Some(v) => decision(v, "field `default`")?,
        };
        let rules = match top.get("rules") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| rule(i, item))
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(RulesFileError(format!(
                    "field `rules` must be an array, got {}",
                    kind(other)
                )));
            }
        };
        Ok(RulesFile { default, rules })
    }
}

use ledgix_manifest::json_kind as kind;

/// Refuses fields other than `allowed`.
fn only_fields(
    map: &Map<String, Value>,
    allowed: &[&str],
    place: &str,
) -> Result<(), RulesFileError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(unknown) => Err(RulesFileError(format!(
            "{place}: unknown field `{unknown}` (expected one of: {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn decision(v: &Value, place: &str) -> Result<Decision, RulesFileError> {
    match v.as_str() {
        Some("approve") => Ok(Decision::Approve),
        Some("deny") => Ok(Decision::Deny),
        Some("review") => Ok(Decision::Review),
        _ => Err(RulesFileError(format!(
            "{place}: expected \"approve\", \"deny\" or \"review\", got {v}"
        ))),
    }
}

fn rule(index: usize, item: &Value) -> Result<Rule, RulesFileError> {
    let Some(map) = item.as_object() else {
        return Err(RulesFileError(format!(
            "rules[{index}]: a rule must be an object, got {}",
            kind(item)
        )));
    };
    let tool = match map.get("tool") {
        Some(Value::String(t)) if !t.is_empty() => t.clone(),
        Some(other) => {
            return Err(RulesFileError(format!(
                "rules[{index}]: field `tool` must be a non-empty string (a tool name or glob), got {other}"
            )));
        }
        None => {
            return Err(RulesFileError(format!(
                "rules[{index}]: field `tool` is required"
            )));
        }
    };
    let place = format!("rules[{index}] (tool `{tool}`)");
    only_fields(
        map,
        &[
            "tool",
            "decision",
            "reason",
            "reason_code",
            "processing_polls",
            "when",
        ],
        &place,
    )?;
    let decision = match map.get("decision") {
        Some(v) => decision(v, &format!("{place}: field `decision`"))?,
        None => {
            return Err(RulesFileError(format!(
                "{place}: field `decision` is required (\"approve\", \"deny\" or \"review\")"
            )));
        }
    };
    let mut rule = Rule::tool(tool).decision(decision);
    if let Some(v) = map.get("reason") {
        rule = rule.reason(string(v, &place, "reason")?);
    }
    if let Some(v) = map.get("reason_code") {
        rule = rule.reason_code(string(v, &place, "reason_code")?);
    }
    if let Some(v) = map.get("processing_polls") {
        let polls = v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                RulesFileError(format!(
                    "{place}: field `processing_polls` must be a whole number from 0 to {}, got {v}",
                    u32::MAX
                ))
            })?;
        rule = rule.processing(polls);
    }
    if let Some(v) = map.get("when") {
        let condition = Condition::parse(v, &format!("{place}: field `when`"))?;
        rule = rule.when(move |args| condition.holds(args));
    }
    Ok(rule)
}

fn string(v: &Value, place: &str, field: &str) -> Result<String, RulesFileError> {
    v.as_str().map(str::to_string).ok_or_else(|| {
        RulesFileError(format!(
            "{place}: field `{field}` must be a string, got {}",
            kind(v)
        ))
    })
}

/// One comparison of an argument.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    Eq(Value),
    Ne(Value),
}

/// `{"arg": "a.b", "<op>": value}`.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    path: Vec<String>,
    op: Op,
}

const OPERATORS: [&str; 6] = ["gt", "gte", "lt", "lte", "eq", "ne"];

impl Condition {
    fn parse(v: &Value, place: &str) -> Result<Condition, RulesFileError> {
        let map = v.as_object().ok_or_else(|| {
            RulesFileError(format!(
                "{place}: must be an object like {{\"arg\": \"amount\", \"gt\": 1000}}, got {}",
                kind(v)
            ))
        })?;
        let mut allowed = vec!["arg"];
        allowed.extend(OPERATORS);
        only_fields(map, &allowed, place)?;
        let arg = match map.get("arg") {
            Some(Value::String(a)) => a,
            Some(other) => {
                return Err(RulesFileError(format!(
                    "{place}: `arg` must be a string (a dotted path into tool_args), got {other}"
                )));
            }
            None => {
                return Err(RulesFileError(format!(
                    "{place}: `arg` is required (a dotted path into tool_args)"
                )));
            }
        };
        let path: Vec<String> = arg.split('.').map(str::to_string).collect();
        if path.iter().any(String::is_empty) {
            return Err(RulesFileError(format!(
                "{place}: `arg` \"{arg}\" has an empty path segment"
            )));
        }
        let ops: Vec<&str> = OPERATORS
            .into_iter()
            .filter(|op| map.contains_key(*op))
            .collect();
        let [name] = ops.as_slice() else {
            return Err(RulesFileError(format!(
                "{place}: needs exactly one of gt, gte, lt, lte, eq, ne; found {}",
                if ops.is_empty() {
                    "none".to_string()
                } else {
                    ops.join(", ")
                }
            )));
        };
        let operand = map.get(*name).cloned().unwrap_or(Value::Null);
        let number = |v: &Value| {
            v.as_f64().ok_or_else(|| {
                RulesFileError(format!(
                    "{place}: `{name}` compares numbers, got {}",
                    kind(v)
                ))
            })
        };
        let op = match *name {
            "gt" => Op::Gt(number(&operand)?),
            "gte" => Op::Gte(number(&operand)?),
            "lt" => Op::Lt(number(&operand)?),
            "lte" => Op::Lte(number(&operand)?),
            "eq" => Op::Eq(operand),
            _ => Op::Ne(operand),
        };
        Ok(Condition { path, op })
    }

    fn holds(&self, args: &Map<String, Value>) -> bool {
        let Some(value) = lookup(args, &self.path) else {
            return false;
        };
        match &self.op {
            Op::Gt(x) => value.as_f64().is_some_and(|v| v > *x),
            Op::Gte(x) => value.as_f64().is_some_and(|v| v >= *x),
            Op::Lt(x) => value.as_f64().is_some_and(|v| v < *x),
            Op::Lte(x) => value.as_f64().is_some_and(|v| v <= *x),
            Op::Eq(x) => json_eq(value, x),
            Op::Ne(x) => !json_eq(value, x),
        }
    }
}

/// The value at a dotted path: object keys, or array indexes for arrays.
fn lookup<'a>(args: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = args.get(first)?;
    for segment in rest {
        value = match value {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

/// JSON equality where numbers compare by value.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

impl fmt::Display for RulesFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rule{}, default {}",
            self.rules.len(),
            if self.rules.len() == 1 { "" } else { "s" },
            self.default.as_str()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::rules::evaluate;
    use serde_json::json;

    const ISSUE_EXAMPLE: &str = r#"{"default": "approve", "rules": [
        {"tool": "stripe_refund", "decision": "deny", "reason": "refunds are frozen", "reason_code": "frozen"},
        {"tool": "wire_*", "decision": "review"},
        {"tool": "slow_*", "decision": "approve", "processing_polls": 2},
        {"tool": "create_stripe_payment", "when": {"arg": "amount", "gt": 1000}, "decision": "review"}]}"#;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn parses_the_issue_example() {
        let file = RulesFile::from_json(ISSUE_EXAMPLE).unwrap();
        assert_eq!(file.default, Decision::Approve);
        assert_eq!(file.rules.len(), 4);
        assert_eq!(file.to_string(), "4 rules, default approve");
        let decide = |tool: &str, a: Value| evaluate(&file.rules, file.default, tool, &args(a));
        let v = decide("stripe_refund", json!({}));
        assert_eq!(v.decision, Decision::Deny);
        assert_eq!(v.reason, "refunds are frozen");
        assert_eq!(v.reason_code.as_deref(), Some("frozen"));
        assert_eq!(
            decide("wire_transfer", json!({})).decision,
            Decision::Review
        );
        assert_eq!(decide("slow_report", json!({})).processing_polls, 2);
        assert_eq!(
            decide("create_stripe_payment", json!({"amount": 1500})).decision,
            Decision::Review
        );
        assert_eq!(
            decide("create_stripe_payment", json!({"amount": 1000})).decision,
            Decision::Approve
        );
        assert_eq!(
            decide("create_stripe_payment", json!({"amount": "1500"})).decision,
            Decision::Approve
        );
        assert_eq!(
            decide("create_stripe_payment", json!({})).decision,
            Decision::Approve
        );
        assert_eq!(decide("other", json!({})).decision, Decision::Approve);
    }

    #[test]
    fn empty_object_is_approve_everything_and_default_can_deny() {
        let file = RulesFile::from_json("{}").unwrap();
        assert_eq!((file.default, file.rules.len()), (Decision::Approve, 0));
        let file = RulesFile::from_json(r#"{"default": "deny"}"#).unwrap();
        assert_eq!(file.default, Decision::Deny);
    }

    #[test]
    fn every_operator_and_dotted_paths() {
        let cases = [
            (json!({"arg": "a", "gte": 5}), json!({"a": 5}), true),
            (json!({"arg": "a", "gte": 5}), json!({"a": 4.9}), false),
            (json!({"arg": "a", "lt": 5}), json!({"a": 4}), true),
            (json!({"arg": "a", "lte": 5}), json!({"a": 5.0}), true),
            (json!({"arg": "a", "lte": 5}), json!({"a": 6}), false),
            (json!({"arg": "a", "eq": 1}), json!({"a": 1.0}), true),
            (json!({"arg": "a", "eq": "x"}), json!({"a": "x"}), true),
            (
                json!({"arg": "a", "eq": {"k": [1]}}),
                json!({"a": {"k": [1.0]}}),
                true,
            ),
            (json!({"arg": "a", "ne": "x"}), json!({"a": "y"}), true),
            (json!({"arg": "a", "ne": "x"}), json!({}), false),
            (
                json!({"arg": "c.tier", "eq": "gold"}),
                json!({"c": {"tier": "gold"}}),
                true,
            ),
            (
                json!({"arg": "items.1.p", "gt": 10}),
                json!({"items": [{"p": 1}, {"p": 11}]}),
                true,
            ),
            (
                json!({"arg": "items.9.p", "gt": 10}),
                json!({"items": [{"p": 11}]}),
                false,
            ),
            (json!({"arg": "a.b", "eq": 1}), json!({"a": 1}), false),
        ];
        for (when, a, want) in cases {
            let c = Condition::parse(&when, "test").unwrap();
            assert_eq!(c.holds(&args(a.clone())), want, "{when} on {a}");
        }
    }

    #[test]
    fn malformed_files_name_the_rule_and_the_field() {
        let cases = [
            ("[1]", "top level must be a JSON object"),
            ("{", "not valid JSON"),
            (r#"{"defualt": "deny"}"#, "unknown field `defualt`"),
            (r#"{"default": "allow"}"#, "field `default`: expected"),
            (r#"{"rules": {}}"#, "`rules` must be an array"),
            (r#"{"rules": [3]}"#, "rules[0]: a rule must be an object"),
            (
                r#"{"rules": [{"decision": "deny"}]}"#,
                "rules[0]: field `tool` is required",
            ),
            (
                r#"{"rules": [{"tool": "", "decision": "deny"}]}"#,
                "rules[0]: field `tool` must be a non-empty string",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "approve"}, {"tool": "wire_*"}]}"#,
                "rules[1] (tool `wire_*`): field `decision` is required",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "maybe"}]}"#,
                "rules[0] (tool `a`): field `decision`: expected \"approve\", \"deny\" or \"review\", got \"maybe\"",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "deny", "reasn": "x"}]}"#,
                "rules[0] (tool `a`): unknown field `reasn`",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "deny", "reason": 5}]}"#,
                "field `reason` must be a string",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "approve", "processing_polls": -1}]}"#,
                "field `processing_polls` must be a whole number",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "approve", "processing_polls": 1.5}]}"#,
                "field `processing_polls` must be a whole number",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": 3}]}"#,
                "rules[0] (tool `a`): field `when`: must be an object",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": {"gt": 3}}]}"#,
                "`arg` is required",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": {"arg": "x"}}]}"#,
                "needs exactly one of gt, gte, lt, lte, eq, ne; found none",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": {"arg": "x", "gt": 1, "lt": 5}}]}"#,
                "found gt, lt",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": {"arg": "x", "gt": "1"}}]}"#,
                "`gt` compares numbers, got a string",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": {"arg": "x..y", "eq": 1}}]}"#,
                "empty path segment",
            ),
            (
                r#"{"rules": [{"tool": "a", "decision": "review", "when": {"arg": "x", "between": 1}}]}"#,
                "unknown field `between`",
            ),
        ];
        for (text, needle) in cases {
            let err = RulesFile::from_json(text).expect_err(text);
            assert!(
                err.0.contains(needle),
                "{text}\n  gave: {err}\n  want: {needle}"
            );
        }
    }

    #[test]
    fn load_names_the_file() {
        let err = RulesFile::load("/definitely/not/here.json").unwrap_err();
        assert!(err.0.contains("/definitely/not/here.json"), "{err}");
    }
}
