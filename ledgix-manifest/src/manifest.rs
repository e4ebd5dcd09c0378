//! `ledgix.json`: what it says.
//!
//! The format is the one the official SDKs read:
//! `{"enforce": [{"tool": "<glob>", "policyId" | "policy_id": "...", "context": {...}}]}`.
//! Rules are tried in order and the first whose glob matches a tool name wins. Every error
//! carries the line and column of the offending JSON (syntax errors where serde_json stopped,
//! type errors at the value, near-miss field names at the key) and says what to write.

use std::fmt;

use serde_json::{Map, Value};

use crate::glob::Glob;

/// One rule of a manifest.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Rule {
    /// Position in `enforce` (for messages: `enforce[2]`).
    pub index: usize,
    /// The `tool` glob.
    pub glob: Glob,
    /// `policyId` / `policy_id`, if any (an empty string counts as none, as in the Python SDK).
    pub policy_id: Option<String>,
    /// `context`, sent with every matching call.
    pub context: Map<String, Value>,
}

/// A parsed manifest: its rules, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Manifest {
    /// The rules in order; the first match wins.
    pub rules: Vec<Rule>,
}

impl Manifest {
    /// Parses the JSON text of a manifest.
    ///
    /// ```
    /// let m = ledgix_manifest::Manifest::parse(
    ///     r#"{"enforce": [{"tool": "stripe_*", "policyId": "payments"}, {"tool": "*"}]}"#,
    /// )?;
    /// assert_eq!(m.first_match("stripe_refund").unwrap().policy_id.as_deref(), Some("payments"));
    /// assert_eq!(m.first_match("lookup").unwrap().index, 1);
    ///
    /// let e = ledgix_manifest::Manifest::parse("{\"enforce\": [\n  {\"tool\": 5}\n]}").unwrap_err();
    /// assert_eq!((e.line(), e.column()), (2, 12));
    /// assert_eq!(
    ///     e.in_file("ledgix.json"),
    ///     "ledgix.json:2:12: rule enforce[0]: `tool` must be a string (a function name or a \
    ///      glob like \"stripe_*\"), found a number",
    /// );
    /// # Ok::<(), ledgix_manifest::ParseError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Manifest, ParseError> {
        let value: Value = serde_json::from_str(text).map_err(|e| syntax_error(text, &e))?;
        let at = |path: &[Seg<'_>]| Position::of_value(text, path);
        let Value::Object(mut top) = value else {
            return Err(ParseError::new(
                at(&[]),
                format!(
                    "a ledgix manifest is a JSON object like {{\"enforce\": [{{\"tool\": \"*\"}}]}}, \
                     found {}",
                    kind(&value)
                ),
            ));
        };
        let enforce = match top.remove("enforce") {
            Some(Value::Array(rules)) => rules,
            Some(other) => {
                return Err(ParseError::new(
                    at(&[Seg::Key("enforce")]),
                    format!(
                        "`enforce` must be an array of rules like [{{\"tool\": \"stripe_*\"}}], \
                         found {}",
                        kind(&other)
                    ),
                ));
            }
            None => {
                return Err(ParseError::new(
                    at(&[]),
                    "no `enforce` array; write {\"enforce\": [{\"tool\": \"stripe_*\", \
                     \"policyId\": \"...\"}]}",
                ));
            }
        };
        let rules = enforce
            .into_iter()
            .enumerate()
            .map(|(index, rule)| parse_rule(text, index, rule))
            .collect::<Result<Vec<Rule>, ParseError>>()?;
        Ok(Manifest { rules })
    }

    /// The first rule whose glob matches `name`.
    pub fn first_match(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.glob.matches(name))
    }

    /// The first rule that names `name` exactly, without a wildcard.
    pub fn names_exactly(&self, name: &str) -> Option<&Rule> {
        self.rules
            .iter()
            .find(|r| r.glob.is_literal() && r.glob.as_str() == name)
    }
}

/// Why a manifest was refused: what is wrong and what to write, at a line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    line: usize,
    column: usize,
    message: String,
}

impl ParseError {
    fn new(at: Position, message: impl Into<String>) -> ParseError {
        ParseError {
            line: at.line,
            column: at.column,
            message: message.into(),
        }
    }

    /// The line (1-based) of the offending JSON.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The column (1-based; 0 when the text ended before anything was found on the line).
    pub fn column(&self) -> usize {
        self.column
    }

    /// What is wrong and what to write, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// `file:line:column: message`, as compilers print positions.
    pub fn in_file(&self, file: &str) -> String {
        format!("{file}:{}:{}: {}", self.line, self.column, self.message)
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// serde_json's message without its " at line L column C" (the position is kept apart, its
/// column counted in characters like ours rather than serde_json's bytes).
fn syntax_error(text: &str, e: &serde_json::Error) -> ParseError {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    let message = full.strip_suffix(&suffix).unwrap_or(&full);
    let column = text
        .split('\n')
        .nth(e.line().saturating_sub(1))
        .map_or(e.column(), |line| {
            line.char_indices()
                .take_while(|(i, _)| *i < e.column())
                .count()
        });
    ParseError {
        line: e.line(),
        column,
        message: format!("invalid JSON in ledgix manifest: {message}"),
    }
}

fn parse_rule(text: &str, index: usize, rule: Value) -> Result<Rule, ParseError> {
    let here = [Seg::Key("enforce"), Seg::Index(index)];
    let field_at = |field: &str| {
        Position::of_value(
            text,
            &[Seg::Key("enforce"), Seg::Index(index), Seg::Key(field)],
        )
    };
    let at = format!("rule enforce[{index}]");
    let Value::Object(mut fields) = rule else {
        return Err(ParseError::new(
            Position::of_value(text, &here),
            format!(
                "{at} must be an object like {{\"tool\": \"stripe_*\", \"policyId\": \"...\"}}, \
                 found {}",
                kind(&rule)
            ),
        ));
    };
    if let Some((key, suggestion)) = near_miss(&fields) {
        return Err(ParseError::new(
            Position::of_key(text, &here, key),
            format!("{at}: unknown field `{key}`; did you mean `{suggestion}`?"),
        ));
    }
    let tool = match fields.remove("tool") {
        Some(Value::String(tool)) if !tool.is_empty() => tool,
        Some(Value::String(_)) => {
            return Err(ParseError::new(
                field_at("tool"),
                format!("{at}: `tool` is empty; write a function name or a glob like \"stripe_*\""),
            ));
        }
        Some(other) => {
            return Err(ParseError::new(
                field_at("tool"),
                format!(
                    "{at}: `tool` must be a string (a function name or a glob like \"stripe_*\"), \
                     found {}",
                    kind(&other)
                ),
            ));
        }
        None => {
            return Err(ParseError::new(
                Position::of_value(text, &here),
                format!("{at} has no `tool`; write {{\"tool\": \"stripe_*\", ...}}"),
            ));
        }
    };
    let camel = optional_string(&at, "policyId", fields.remove("policyId"), field_at)?;
    let snake = optional_string(&at, "policy_id", fields.remove("policy_id"), field_at)?;
    let policy_id = match (camel, snake) {
        (Some(a), Some(b)) => {
            return Err(ParseError::new(
                field_at("policy_id"),
                format!("{at} has both `policyId` ({a:?}) and `policy_id` ({b:?}); keep one"),
            ));
        }
        (a, b) => a.or(b).filter(|p| !p.is_empty()),
    };
    let context = match fields.remove("context") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(context)) => context,
        Some(other) => {
            return Err(ParseError::new(
                field_at("context"),
                format!(
                    "{at}: `context` must be an object like {{\"risk_level\": \"high\"}}, found {}",
                    kind(&other)
                ),
            ));
        }
    };
    Ok(Rule {
        index,
        glob: Glob::new(&tool),
        policy_id,
        context,
    })
}

fn optional_string(
    at: &str,
    field: &str,
    value: Option<Value>,
    field_at: impl Fn(&str) -> Position,
) -> Result<Option<String>, ParseError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(ParseError::new(
            field_at(field),
            format!(
                "{at}: `{field}` must be a string like \"payments-prod\", found {}",
                kind(&other)
            ),
        )),
    }
}

/// Unknown fields are ignored (other SDKs may add some), except near misses of the known ones,
/// which would silently drop a policy: `policyID`, `Tool`, `contexts`... The first such field
/// and the name it should have.
fn near_miss(fields: &Map<String, Value>) -> Option<(&str, &'static str)> {
    const KNOWN: [&str; 4] = ["tool", "policyId", "policy_id", "context"];
    fields.keys().find_map(|key| {
        if KNOWN.contains(&key.as_str()) {
            return None;
        }
        let suggestion = match fold(key).as_str() {
            "tool" | "tools" | "toolname" | "name" => "tool",
            "policyid" | "policy" | "policies" | "policyids" => "policyId",
            "context" | "contexts" | "ctx" => "context",
            _ => return None,
        };
        Some((key.as_str(), suggestion))
    })
}

/// Lowercase without `_` and `-`, for near-miss detection.
fn fold(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// "a number", "an array"... for messages (also the mock Vault's rules file's).
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// A line and a column, both 1-based (the column counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    line: usize,
    column: usize,
}

impl Position {
    /// Where the value at `path` starts in `text` (already known to be valid JSON); the start
    /// of the document if the path cannot be followed.
    fn of_value(text: &str, path: &[Seg<'_>]) -> Position {
        let offset = Scanner::new(text)
            .follow(path)
            .map_or(0, |found| found.value);
        Position::at_offset(text, offset)
    }

    /// Where the key `key` of the object at `path` is written (the last time, as the last
    /// duplicate is the one that counts).
    fn of_key(text: &str, path: &[Seg<'_>], key: &str) -> Position {
        let mut full = path.to_vec();
        full.push(Seg::Key(key));
        let offset = Scanner::new(text)
            .follow(&full)
            .map_or(0, |found| found.key.unwrap_or(found.value));
        Position::at_offset(text, offset)
    }

    fn at_offset(text: &str, offset: usize) -> Position {
        let before = text.get(..offset).unwrap_or(text);
        let (line_start, line) = before
            .char_indices()
            .filter(|(_, c)| *c == '\n')
            .fold((0, 1), |(_, line), (i, _)| (i + 1, line + 1));
        let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
        Position { line, column }
    }
}

/// Where a path led: the value's offset, and its key's offset when it is an object member.
struct Found {
    key: Option<usize>,
    value: usize,
}

/// A minimal walker over valid JSON text, to find where a value is written (serde_json's
/// `Value` forgets positions). Every step is bounds-checked: on text that is not valid JSON it
/// gives up (`None`) rather than panicking.
struct Scanner<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Scanner<'a> {
        Scanner {
            text,
            bytes: text.as_bytes(),
            i: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        self.whitespace();
        (self.peek() == Some(byte)).then(|| self.i += 1)
    }

    /// Skips a string starting at `"`; its decoded text.
    fn string(&mut self) -> Option<String> {
        let start = self.i;
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        loop {
            match self.peek()? {
                b'\\' => self.i += 2,
                b'"' => break,
                _ => self.i += 1,
            }
        }
        self.i += 1;
        serde_json::from_str(self.text.get(start..self.i)?).ok()
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        self.whitespace();
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match self.peek()? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.i += 1;
                }
                Some(())
            }
        }
    }

    /// Follows `path` from the top-level value.
    fn follow(mut self, path: &[Seg<'_>]) -> Option<Found> {
        self.whitespace();
        let mut found = Found {
            key: None,
            value: self.i,
        };
        for seg in path {
            found = match *seg {
                Seg::Key(wanted) => self.member(wanted)?,
                Seg::Index(n) => self.element(n)?,
            };
            self.i = found.value;
        }
        Some(found)
    }

    /// In the object at the cursor: the last member named `wanted`.
    fn member(&mut self, wanted: &str) -> Option<Found> {
        self.eat(b'{')?;
        let mut found = None;
        loop {
            self.whitespace();
            if self.peek()? == b'}' {
                return found;
            }
            let key_at = self.i;
            let key = self.string()?;
            self.eat(b':')?;
            self.whitespace();
            if key == wanted {
                found = Some(Found {
                    key: Some(key_at),
                    value: self.i,
                });
            }
            self.skip_value()?;
            if self.eat(b',').is_none() {
                return found;
            }
        }
    }

    /// In the array at the cursor: element `n`.
    fn element(&mut self, n: usize) -> Option<Found> {
        self.eat(b'[')?;
        for _ in 0..n {
            self.skip_value()?;
            self.eat(b',')?;
        }
        self.whitespace();
        Some(Found {
            key: None,
            value: self.i,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(text: &str) -> ParseError {
        match Manifest::parse(text) {
            Ok(m) => panic!("expected an error, got {m:?}"),
            Err(e) => e,
        }
    }

    fn pos(e: &ParseError) -> (usize, usize) {
        (e.line(), e.column())
    }

    #[test]
    fn the_architecture_manifest_parses() {
        let m = Manifest::parse(
            r#"{"enforce": [
                {"tool": "create_stripe_payment", "policyId": "payments-prod", "context": {"risk_level": "high"}},
                {"tool": "stripe*", "policyId": "financial-high-risk", "context": {"risk_level": "high"}},
                {"tool": "wire_*", "policy_id": "treasury-dual-control"},
                {"tool": "*"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(m.rules.len(), 4);
        assert_eq!(m.rules[1].policy_id.as_deref(), Some("financial-high-risk"));
        assert_eq!(
            m.rules[2].policy_id.as_deref(),
            Some("treasury-dual-control")
        );
        assert_eq!(m.rules[3].policy_id, None);
        assert_eq!(m.rules[0].context.get("risk_level"), Some(&json!("high")));
        assert_eq!(m.rules[1].glob.as_str(), "stripe*");
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
        let m = Manifest::parse(r#"{"enforce": [{"tool": "stripe_*"}]}"#).unwrap();
        assert!(m.first_match("lookup").is_none());
        assert!(
            Manifest::parse(r#"{"enforce": []}"#)
                .unwrap()
                .rules
                .is_empty()
        );
    }

    #[test]
    fn nulls_and_empty_policy_mean_none() {
        let m = Manifest::parse(
            r#"{"enforce": [{"tool": "a", "policyId": null, "context": null}, {"tool": "b", "policy_id": ""}]}"#,
        )
        .unwrap();
        assert_eq!(m.rules[0].policy_id, None);
        assert!(m.rules[0].context.is_empty());
        assert_eq!(m.rules[1].policy_id, None);
    }

    #[test]
    fn unknown_fields_are_ignored_unless_near_misses() {
        assert!(
            Manifest::parse(
                r#"{"enforce": [{"tool": "a", "description": "x"}], "version": 2, "cases": []}"#
            )
            .is_ok()
        );
        let e = err("{\"enforce\": [{\"tool\": \"a\"},\n {\"tool\": \"b\", \"policyID\": \"p\"}]}");
        assert_eq!(
            e.message(),
            "rule enforce[1]: unknown field `policyID`; did you mean `policyId`?"
        );
        assert_eq!(pos(&e), (2, 16), "at the key");
        assert!(
            err(r#"{"enforce": [{"Tool": "a"}]}"#)
                .message()
                .contains("did you mean `tool`")
        );
        assert!(
            err(r#"{"enforce": [{"tool": "a", "contexts": {}}]}"#)
                .message()
                .contains("did you mean `context`")
        );
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = err("{\n  \"enforce\": [\n    {\"tool\": \"a\",}\n  ]\n}");
        assert_eq!(pos(&e), (3, 18));
        assert!(e.message().starts_with("invalid JSON"), "{e}");
        assert!(
            !e.message().contains(" at line "),
            "position not repeated: {e}"
        );
        assert_eq!(
            e.in_file("ledgix.json"),
            format!("ledgix.json:3:18: {}", e.message())
        );
        assert_eq!(e.to_string(), format!("line 3, column 18: {}", e.message()));
        assert_eq!(pos(&err("{\"enforce\": [")), (1, 13));
        assert_eq!(pos(&err("")), (1, 0));
        // serde_json counts bytes: 4 for `"é"` and 5 at the `x`; the column counts characters.
        assert_eq!(pos(&err("\"é\"x")), (1, 4));
    }

    #[test]
    fn type_errors_name_rule_and_field_at_the_value() {
        let e = err("  []");
        assert!(e.message().contains("is a JSON object"), "{e}");
        assert_eq!(pos(&e), (1, 3));
        let e = err("{}");
        assert!(e.message().contains("no `enforce` array"), "{e}");
        let e = err("{\n  \"enforce\": {}}");
        assert!(
            e.message()
                .contains("`enforce` must be an array of rules like [{\"tool\": \"stripe_*\"}], found an object"),
            "{e}"
        );
        assert_eq!(pos(&e), (2, 14));
        let e = err(r#"{"enforce": [{"tool": "a"}, "b"]}"#);
        assert!(
            e.message().contains("rule enforce[1] must be an object")
                && e.message().contains("found a string"),
            "{e}"
        );
        assert_eq!(pos(&e), (1, 29));
        let e = err(r#"{"enforce": [{"tool": 5}]}"#);
        assert!(
            e.message().contains("enforce[0]: `tool` must be a string")
                && e.message().contains("found a number"),
            "{e}"
        );
        assert_eq!(pos(&e), (1, 23));
        let e = err(r#"{"enforce": [{"policyId": "p"}]}"#);
        assert!(e.message().contains("enforce[0] has no `tool`"), "{e}");
        assert_eq!(pos(&e), (1, 14), "at the rule");
        assert!(
            err(r#"{"enforce": [{"tool": ""}]}"#)
                .message()
                .contains("`tool` is empty")
        );
        let e = err(r#"{"enforce": [{"tool": "a", "policyId": true}]}"#);
        assert!(
            e.message()
                .contains("`policyId` must be a string like \"payments-prod\", found a boolean"),
            "{e}"
        );
        assert_eq!(pos(&e), (1, 40));
        let e = err(r#"{"enforce": [{"tool": "a", "policy_id": ["x"]}]}"#);
        assert!(
            e.message().contains("`policy_id` must be a string")
                && e.message().contains("found an array"),
            "{e}"
        );
        let e = err(r#"{"enforce": [{"tool": "a", "context": "high"}]}"#);
        assert!(
            e.message().contains("`context` must be an object")
                && e.message().contains("found a string"),
            "{e}"
        );
        assert_eq!(pos(&e), (1, 39));
        let e = err(r#"{"enforce": [{"tool": "a", "policyId": "x", "policy_id": "y"}]}"#);
        assert!(e.message().contains("both `policyId`"), "{e}");
    }

    #[test]
    fn positions_follow_nesting_strings_and_duplicates() {
        // Keys and strings holding brackets, escapes and multi-byte characters before the
        // offending value; a duplicate key (the last one counts, as in serde_json).
        let text = "{\"x\": {\"[\": \"]}\\\"{\", \"é\": [1, {\"a\": []}]},\n \"enforce\": [\n  {\"tool\": \"a\"}, {\"tool\": \"b\", \"context\": {}, \"context\": 7}]}";
        let e = err(text);
        assert!(e.message().contains("`context` must be an object"), "{e}");
        assert_eq!(pos(&e), (3, 58));
        // Columns count characters, not bytes.
        let e = err("{\"é\": 1, \"enforce\": 2}");
        assert_eq!(pos(&e), (1, 21), "22 in bytes");
    }

    #[test]
    fn the_scanner_gives_up_on_broken_text() {
        for text in ["", "{", "{\"a\"", "{\"a\": [1, ", "[\"\\", "{\"a\": \"x"] {
            let found = Scanner::new(text).follow(&[Seg::Key("a"), Seg::Index(3)]);
            assert!(found.is_none(), "{text:?}");
        }
        assert_eq!(
            Position::at_offset("ab\ncd", 99),
            Position { line: 2, column: 3 }
        );
    }
}
