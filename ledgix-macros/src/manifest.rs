//! `ledgix.json`: where it is, and what it says.
//!
//! The format is the one the official SDKs read:
//! `{"enforce": [{"tool": "<glob>", "policyId" | "policy_id": "...", "context": {...}}]}`.
//! Rules are tried in order and the first whose glob matches a function's name wins. Every
//! error names the file; JSON syntax errors also give line and column, type errors the rule
//! (`enforce[i]`) and the field.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value};

use crate::glob::Glob;

/// The environment variable that points at another manifest.
pub(crate) const ENV_VAR: &str = "LEDGIX_MANIFEST";

/// The file name looked up in `CARGO_MANIFEST_DIR` by default.
pub(crate) const DEFAULT_FILE: &str = "ledgix.json";

/// Where the manifest path came from (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The string literal given to `instrument!`.
    Literal,
    /// The `LEDGIX_MANIFEST` environment variable.
    Env,
    /// The default, `ledgix.json` in `CARGO_MANIFEST_DIR`.
    Default,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Literal => "the path given to `instrument!`, relative to CARGO_MANIFEST_DIR",
            Source::Env => {
                "the LEDGIX_MANIFEST environment variable, relative to CARGO_MANIFEST_DIR"
            }
            Source::Default => "the default: ledgix.json in CARGO_MANIFEST_DIR",
        }
    }
}

/// The manifest file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    /// Absolute (when `CARGO_MANIFEST_DIR` is), lexically normalized path.
    pub path: PathBuf,
    /// Where the path came from.
    pub source: Source,
}

/// Chooses the manifest: the literal if given, else `LEDGIX_MANIFEST`, else `ledgix.json`;
/// relative paths are relative to `manifest_dir` (the crate's `CARGO_MANIFEST_DIR`).
pub(crate) fn locate(
    manifest_dir: &Path,
    literal: Option<&str>,
    env: Option<OsString>,
) -> Location {
    let (relative, source) = match (literal, env) {
        (Some(lit), _) => (PathBuf::from(lit), Source::Literal),
        (None, Some(env)) if !env.is_empty() => (PathBuf::from(env), Source::Env),
        (None, _) => (PathBuf::from(DEFAULT_FILE), Source::Default),
    };
    Location {
        path: normalize(&manifest_dir.join(relative)),
        source,
    }
}

/// Removes `.` and resolves `..` lexically, so messages show a clean path.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// One rule of the manifest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    /// Position in `enforce` (for messages).
    pub index: usize,
    /// The tool glob as written.
    pub tool: String,
    /// The compiled glob.
    pub glob: Glob,
    /// `policyId` / `policy_id`, if any (an empty string counts as none, as in the Python SDK).
    pub policy: Option<String>,
    /// `context`, sent with every matching call.
    pub context: Map<String, Value>,
}

/// A parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Manifest {
    /// The rules in order.
    pub rules: Vec<Rule>,
}

impl Manifest {
    /// The first rule whose glob matches `name`.
    pub(crate) fn first_match(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.glob.matches(name))
    }

    /// A rule that names `name` exactly, without a wildcard.
    pub(crate) fn names_exactly(&self, name: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.glob.is_literal() && r.tool == name)
    }
}

/// Reads and parses the manifest at `location`.
pub(crate) fn load(location: &Location) -> Result<(Manifest, String), String> {
    let shown = location.path.display().to_string();
    let text = match std::fs::read_to_string(&location.path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "ledgix manifest not found: {shown} (from {}). Create it with \
                 {{\"enforce\": [{{\"tool\": \"*\"}}]}}, or point at another file: \
                 `instrument!(\"path/to/ledgix.json\", ...)` or the LEDGIX_MANIFEST environment \
                 variable",
                location.source.describe()
            ));
        }
        Err(e) => return Err(format!("cannot read ledgix manifest {shown}: {e}")),
    };
    let manifest = parse(&text, &shown)?;
    Ok((manifest, shown))
}

/// Parses manifest text; `file` names it in errors.
pub(crate) fn parse(text: &str, file: &str) -> Result<Manifest, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(file, &e))?;
    let Value::Object(mut top) = value else {
        return Err(format!(
            "{file}: a ledgix manifest is a JSON object like {{\"enforce\": [{{\"tool\": \"*\"}}]}}, \
             found {}",
            kind(&value)
        ));
    };
    let enforce = match top.remove("enforce") {
        Some(Value::Array(rules)) => rules,
        Some(other) => {
            return Err(format!(
                "{file}: `enforce` must be an array of rules, found {}",
                kind(&other)
            ));
        }
        None => {
            return Err(format!(
                "{file}: no `enforce` array; write {{\"enforce\": [{{\"tool\": \"stripe_*\", \
                 \"policyId\": \"...\"}}]}}"
            ));
        }
    };
    let rules = enforce
        .into_iter()
        .enumerate()
        .map(|(index, rule)| parse_rule(file, index, rule))
        .collect::<Result<Vec<Rule>, String>>()?;
    Ok(Manifest { rules })
}

/// serde_json's message with the position spelled `file:line:column`.
fn json_error(file: &str, e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    format!(
        "{file}:{}:{}: invalid JSON in ledgix manifest: {message}",
        e.line(),
        e.column()
    )
}

fn parse_rule(file: &str, index: usize, rule: Value) -> Result<Rule, String> {
    let at = format!("{file}: rule enforce[{index}]");
    let Value::Object(mut fields) = rule else {
        return Err(format!(
            "{at} must be an object like {{\"tool\": \"stripe_*\", \"policyId\": \"...\"}}, found {}",
            kind(&rule)
        ));
    };
    check_near_misses(&at, &fields)?;
    let tool = match fields.remove("tool") {
        Some(Value::String(tool)) if !tool.is_empty() => tool,
        Some(Value::String(_)) => {
            return Err(format!(
                "{at}: `tool` is empty; write a function name or a glob like \"stripe_*\""
            ));
        }
        Some(other) => {
            return Err(format!(
                "{at}: `tool` must be a string (a function name or a glob like \"stripe_*\"), found {}",
                kind(&other)
            ));
        }
        None => {
            return Err(format!(
                "{at} has no `tool`; write {{\"tool\": \"stripe_*\", ...}}"
            ));
        }
    };
    let camel = optional_string(&at, "policyId", fields.remove("policyId"))?;
    let snake = optional_string(&at, "policy_id", fields.remove("policy_id"))?;
    let policy = match (camel, snake) {
        (Some(a), Some(b)) => {
            return Err(format!(
                "{at} has both `policyId` ({a:?}) and `policy_id` ({b:?}); keep one"
            ));
        }
        (a, b) => a.or(b).filter(|p| !p.is_empty()),
    };
    let context = match fields.remove("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(context)) => context,
        Some(other) => {
            return Err(format!(
                "{at}: `context` must be an object like {{\"risk_level\": \"high\"}}, found {}",
                kind(&other)
            ));
        }
    };
    Ok(Rule {
        index,
        glob: Glob::new(&tool),
        tool,
        policy,
        context,
    })
}

fn optional_string(at: &str, field: &str, value: Option<Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!(
            "{at}: `{field}` must be a string, found {}",
            kind(&other)
        )),
    }
}

/// Unknown fields are ignored (other SDKs may add some), except near misses of the known ones,
/// which would silently drop a policy: `policyID`, `Tool`, `contexts`...
fn check_near_misses(at: &str, fields: &Map<String, Value>) -> Result<(), String> {
    const KNOWN: [&str; 4] = ["tool", "policyId", "policy_id", "context"];
    for key in fields.keys() {
        if KNOWN.contains(&key.as_str()) {
            continue;
        }
        let folded = fold(key);
        let suggestion = match folded.as_str() {
            "tool" | "tools" | "toolname" | "name" => Some("tool"),
            "policyid" | "policy" | "policies" | "policyids" => Some("policyId"),
            "context" | "contexts" | "ctx" => Some("context"),
            _ => None,
        };
        if let Some(suggestion) = suggestion {
            return Err(format!(
                "{at}: unknown field `{key}`; did you mean `{suggestion}`?"
            ));
        }
    }
    Ok(())
}

/// Lowercase without `_` and `-`, for near-miss detection.
fn fold(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// "a number", "an array"... for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(text: &str) -> String {
        match parse(text, "ledgix.json") {
            Ok(m) => panic!("expected an error, got {m:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_architecture_manifest_parses() {
        let m = parse(
            r#"{"enforce": [
                {"tool": "create_stripe_payment", "policyId": "payments-prod", "context": {"risk_level": "high"}},
                {"tool": "stripe*", "policyId": "financial-high-risk", "context": {"risk_level": "high"}},
                {"tool": "wire_*", "policy_id": "treasury-dual-control"},
                {"tool": "*"}
            ]}"#,
            "ledgix.json",
        )
        .unwrap();
        assert_eq!(m.rules.len(), 4);
        assert_eq!(m.rules[1].policy.as_deref(), Some("financial-high-risk"));
        assert_eq!(m.rules[2].policy.as_deref(), Some("treasury-dual-control"));
        assert_eq!(m.rules[3].policy, None);
        assert_eq!(m.rules[0].context.get("risk_level"), Some(&json!("high")));
        // first match wins
        assert_eq!(m.first_match("create_stripe_payment").unwrap().index, 0);
        assert_eq!(m.first_match("stripe_refund").unwrap().index, 1);
        assert_eq!(m.first_match("wire_transfer").unwrap().index, 2);
        assert_eq!(m.first_match("lookup").unwrap().index, 3);
        assert_eq!(m.names_exactly("create_stripe_payment").unwrap().index, 0);
        assert!(m.names_exactly("stripe_refund").is_none());
    }

    #[test]
    fn no_match_without_catch_all() {
        let m = parse(r#"{"enforce": [{"tool": "stripe_*"}]}"#, "f").unwrap();
        assert!(m.first_match("lookup").is_none());
        assert!(parse(r#"{"enforce": []}"#, "f").unwrap().rules.is_empty());
    }

    #[test]
    fn nulls_and_empty_policy_mean_none() {
        let m = parse(
            r#"{"enforce": [{"tool": "a", "policyId": null, "context": null}, {"tool": "b", "policy_id": ""}]}"#,
            "f",
        )
        .unwrap();
        assert_eq!(m.rules[0].policy, None);
        assert!(m.rules[0].context.is_empty());
        assert_eq!(m.rules[1].policy, None);
    }

    #[test]
    fn unknown_fields_are_ignored_unless_near_misses() {
        assert!(
            parse(
                r#"{"enforce": [{"tool": "a", "description": "x"}], "version": 2}"#,
                "f"
            )
            .is_ok()
        );
        let e = err(r#"{"enforce": [{"tool": "a"}, {"tool": "b", "policyID": "p"}]}"#);
        assert!(
            e.contains("enforce[1]") && e.contains("`policyID`") && e.contains("`policyId`"),
            "{e}"
        );
        assert!(err(r#"{"enforce": [{"Tool": "a"}]}"#).contains("did you mean `tool`"));
        assert!(
            err(r#"{"enforce": [{"tool": "a", "contexts": {}}]}"#)
                .contains("did you mean `context`")
        );
    }

    #[test]
    fn syntax_errors_give_file_line_and_column() {
        let e = err("{\n  \"enforce\": [\n    {\"tool\": \"a\",}\n  ]\n}");
        assert!(e.starts_with("ledgix.json:3:18: invalid JSON"), "{e}");
        assert!(!e.contains(" at line "), "position not repeated: {e}");
        let e = err("{\"enforce\": [");
        assert!(e.starts_with("ledgix.json:1:13: invalid JSON"), "{e}");
        assert!(err("").starts_with("ledgix.json:1:0: invalid JSON"));
    }

    #[test]
    fn type_errors_name_rule_and_field() {
        assert!(err("[]").contains("is a JSON object"));
        assert!(err("{}").contains("no `enforce` array"));
        assert!(
            err(r#"{"enforce": {}}"#)
                .contains("`enforce` must be an array of rules, found an object")
        );
        let e = err(r#"{"enforce": [{"tool": "a"}, "b"]}"#);
        assert!(
            e.contains("rule enforce[1] must be an object") && e.contains("found a string"),
            "{e}"
        );
        let e = err(r#"{"enforce": [{"tool": 5}]}"#);
        assert!(
            e.contains("enforce[0]: `tool` must be a string") && e.contains("found a number"),
            "{e}"
        );
        assert!(err(r#"{"enforce": [{"policyId": "p"}]}"#).contains("enforce[0] has no `tool`"));
        assert!(err(r#"{"enforce": [{"tool": ""}]}"#).contains("`tool` is empty"));
        let e = err(r#"{"enforce": [{"tool": "a", "policyId": true}]}"#);
        assert!(
            e.contains("`policyId` must be a string, found a boolean"),
            "{e}"
        );
        let e = err(r#"{"enforce": [{"tool": "a", "policy_id": ["x"]}]}"#);
        assert!(
            e.contains("`policy_id` must be a string, found an array"),
            "{e}"
        );
        let e = err(r#"{"enforce": [{"tool": "a", "context": "high"}]}"#);
        assert!(
            e.contains("`context` must be an object") && e.contains("found a string"),
            "{e}"
        );
        let e = err(r#"{"enforce": [{"tool": "a", "policyId": "x", "policy_id": "y"}]}"#);
        assert!(e.contains("both `policyId`"), "{e}");
        assert!(e.starts_with("ledgix.json: "), "{e}");
    }

    #[test]
    fn locate_prefers_literal_then_env_then_default() {
        let dir = Path::new("/crate");
        let l = locate(dir, Some("config/ledgix.json"), Some("other.json".into()));
        assert_eq!(l.path, Path::new("/crate/config/ledgix.json"));
        assert_eq!(l.source, Source::Literal);
        let l = locate(dir, None, Some("../common/ledgix.json".into()));
        assert_eq!(l.path, Path::new("/common/ledgix.json"));
        assert_eq!(l.source, Source::Env);
        let l = locate(dir, None, Some("".into()));
        assert_eq!(l.path, Path::new("/crate/ledgix.json"));
        assert_eq!(l.source, Source::Default);
        let l = locate(dir, None, None);
        assert_eq!(l.path, Path::new("/crate/ledgix.json"));
        let l = locate(dir, Some("/abs/./m.json"), None);
        assert_eq!(l.path, Path::new("/abs/m.json"));
    }

    #[test]
    fn missing_file_names_the_path_it_tried() {
        let l = locate(Path::new("/definitely/not/here"), Some("nope.json"), None);
        let e = load(&l).unwrap_err();
        assert!(
            e.contains("ledgix manifest not found: /definitely/not/here/nope.json"),
            "{e}"
        );
        assert!(e.contains("the path given to `instrument!`"), "{e}");
    }
}
