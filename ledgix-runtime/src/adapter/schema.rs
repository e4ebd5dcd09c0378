//! A small JSON Schema check of a tool's arguments, before the Vault is asked.
//!
//! Agent frameworks publish each tool's input schema (MCP `inputSchema`, rig's
//! `ToolDefinition::parameters`) and deserialize the model's arguments inside the tool. An
//! adapter checks the arguments against the schema first, so a wrong-typed call is refused
//! without asking the Vault (no decision, no ledger entry, no token for arguments the tool
//! cannot take). The tool's own deserialization still runs after an approval: this check is
//! the first of two, not the only one.
//!
//! The keywords schemars and hand-written tool schemas use are checked: `type`, `enum`,
//! `const`, `properties`, `required`, `additionalProperties`, `items`, `prefixItems`,
//! `minItems`/`maxItems`, `minLength`/`maxLength`, `minimum`/`maximum`,
//! `exclusiveMinimum`/`exclusiveMaximum`, `anyOf`, `oneOf`, `allOf`, `not`, and local `$ref`s
//! (`#/$defs/..`, `#/definitions/..`). Other keywords (`format`, `pattern`, ...) are ignored,
//! so the check never refuses what the schema allows on their account. Nothing here panics or
//! recurses without bound on any schema or value.

use serde_json::{Map, Value};

/// Deepest nesting of schemas (through `$ref`, combinators and sub-schemas) followed; deeper
/// is refused, so a self-referencing schema cannot recurse without bound.
const MAX_DEPTH: usize = 64;

/// Most schema nodes one check visits: a schema whose alternatives branch through `$ref`s
/// could otherwise take exponential time.
const MAX_STEPS: usize = 100_000;

/// Checks `args` (the arguments object) against `schema` (the tool's input schema).
/// `Err` says where and what is wrong, without the argument values.
pub(crate) fn check(schema: &Map<String, Value>, args: &Map<String, Value>) -> Result<(), String> {
    let checker = Checker {
        root: schema,
        steps: std::cell::Cell::new(0),
    };
    let value = Value::Object(args.clone());
    checker.object_schema(schema, &value, &mut String::new(), 0)
}

struct Checker<'a> {
    root: &'a Map<String, Value>,
    steps: std::cell::Cell<usize>,
}

impl<'a> Checker<'a> {
    fn schema(
        &self,
        schema: &'a Value,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        match schema {
            Value::Bool(true) => Ok(()),
            Value::Bool(false) => Err(format!("{}: no value is allowed here", shown_path(path))),
            Value::Object(s) => self.object_schema(s, value, path, depth),
            // Not a schema: nothing to check against (the tool's own parsing still runs).
            _ => Ok(()),
        }
    }

    fn object_schema(
        &self,
        s: &'a Map<String, Value>,
        value: &Value,
        path: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{}: the input schema nests deeper than {MAX_DEPTH} levels",
                shown_path(path)
            ));
        }
        let depth = depth + 1;
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > MAX_STEPS {
            return Err(format!(
                "{}: the input schema takes more than {MAX_STEPS} steps to check",
                shown_path(path)
            ));
        }
        if let Some(Value::String(reference)) = s.get("$ref") {
            let target = self.resolve(reference).ok_or_else(|| {
                format!(
                    "{}: the input schema refers to `{}`, which it does not define",
                    shown_path(path),
                    shown(reference)
                )
            })?;
            self.schema(target, value, path, depth)?;
        }
        if let Some(ty) = s.get("type") {
            check_type(ty, value, path)?;
        }
        if let Some(Value::Array(allowed)) = s.get("enum")
            && !allowed.iter().any(|a| same(a, value))
        {
            return Err(format!(
                "{}: {} is not one of the allowed values",
                shown_path(path),
                kind(value)
            ));
        }
        if let Some(expected) = s.get("const")
            && !same(expected, value)
        {
            return Err(format!(
                "{}: {} is not the one allowed value",
                shown_path(path),
                kind(value)
            ));
        }
        self.combinators(s, value, path, depth)?;
        match value {
            Value::Object(map) => self.object_keywords(s, map, path, depth)?,
            Value::Array(items) => self.array_keywords(s, items, path, depth)?,
            Value::String(text) => string_keywords(s, text, path)?,
            Value::Number(_) => number_keywords(s, value, path)?,
            Value::Bool(_) | Value::Null => {}
        }
        Ok(())
    }

    /// `allOf`, `anyOf`, `oneOf`, `not`: each alternative is checked at this same path.
    fn combinators(
        &self,
        s: &'a Map<String, Value>,
        value: &Value,
        path: &str,
        depth: usize,
    ) -> Result<(), String> {
        // One scratch path for every alternative (each may extend it while it checks).
        let mut scratch = String::with_capacity(path.len());
        let mut check = |sub: &'a Value| {
            scratch.clear();
            scratch.push_str(path);
            self.schema(sub, value, &mut scratch, depth)
        };
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                check(sub)?;
            }
        }
        if let Some(Value::Array(any)) = s.get("anyOf") {
            let mut last = None;
            let matched = any.iter().any(|sub| match check(sub) {
                Ok(()) => true,
                Err(e) => {
                    last = Some(e);
                    false
                }
            });
            if !matched && !any.is_empty() {
                return Err(alternatives(path, value, last));
            }
        }
        if let Some(Value::Array(one)) = s.get("oneOf") {
            let mut last = None;
            let mut matches = 0usize;
            for sub in one {
                match check(sub) {
                    Ok(()) => matches += 1,
                    Err(e) => last = Some(e),
                }
            }
            if matches == 0 && !one.is_empty() {
                return Err(alternatives(path, value, last));
            }
            if matches > 1 {
                return Err(format!(
                    "{}: {} matches more than one of the alternatives the schema allows",
                    shown_path(path),
                    kind(value)
                ));
            }
        }
        if let Some(not) = s.get("not")
            && check(not).is_ok()
        {
            return Err(format!(
                "{}: {} is a value the schema rules out",
                shown_path(path),
                kind(value)
            ));
        }
        Ok(())
    }

    fn object_keywords(
        &self,
        s: &'a Map<String, Value>,
        map: &Map<String, Value>,
        path: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        if let Some(Value::Array(required)) = s.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    return Err(format!(
                        "{}: missing required argument `{}`",
                        shown_path(path),
                        shown(name)
                    ));
                }
            }
        }
        let properties = match s.get("properties") {
            Some(Value::Object(p)) => Some(p),
            _ => None,
        };
        let additional = s.get("additionalProperties");
        for (name, item) in map {
            let len = path.len();
            path.push('/');
            push_pointer_token(path, name);
            let outcome = match properties.and_then(|p| p.get(name)) {
                Some(sub) => self.schema(sub, item, path, depth),
                None => match additional {
                    Some(Value::Bool(false)) => Err(format!(
                        "{}: unknown argument (the schema allows no other arguments)",
                        shown_path(path)
                    )),
                    Some(sub @ Value::Object(_)) => self.schema(sub, item, path, depth),
                    _ => Ok(()),
                },
            };
            path.truncate(len);
            outcome?;
        }
        Ok(())
    }

    fn array_keywords(
        &self,
        s: &'a Map<String, Value>,
        items: &[Value],
        path: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        if let Some(min) = s.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            return Err(format!("{}: fewer than {min} items", shown_path(path)));
        }
        if let Some(max) = s.get("maxItems").and_then(Value::as_u64)
            && (items.len() as u64) > max
        {
            return Err(format!("{}: more than {max} items", shown_path(path)));
        }
        let prefix: &[Value] = match s.get("prefixItems") {
            Some(Value::Array(p)) => p,
            _ => &[],
        };
        for (i, item) in items.iter().enumerate() {
            let sub = match prefix.get(i) {
                Some(sub) => Some(sub),
                None => s.get("items"),
            };
            if let Some(sub) = sub {
                let len = path.len();
                path.push('/');
                path.push_str(&i.to_string());
                let outcome = self.schema(sub, item, path, depth);
                path.truncate(len);
                outcome?;
            }
        }
        Ok(())
    }

    /// The schema a local `$ref` (`#`, `#/$defs/Name`, any JSON pointer into the root) names.
    fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let pointer = reference.strip_prefix('#')?;
        if pointer.is_empty() {
            return None;
        }
        let mut tokens = pointer.strip_prefix('/')?.split('/');
        let first = unescape_pointer_token(tokens.next()?);
        let mut node = self.root.get(&first)?;
        for token in tokens {
            let token = unescape_pointer_token(token);
            node = match node {
                Value::Object(m) => m.get(&token)?,
                Value::Array(a) => a.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }
}

fn alternatives(path: &str, value: &Value, last: Option<String>) -> String {
    match last {
        Some(reason) => format!(
            "{}: {} matches none of the alternatives the schema allows (for one: {reason})",
            shown_path(path),
            kind(value)
        ),
        None => format!(
            "{}: {} matches none of the alternatives the schema allows",
            shown_path(path),
            kind(value)
        ),
    }
}

fn check_type(ty: &Value, value: &Value, path: &str) -> Result<(), String> {
    let ok = match ty {
        Value::String(t) => has_type(t, value),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .any(|t| has_type(t, value)),
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let expected = match ty {
        Value::String(t) => shown(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(shown)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => String::new(),
    };
    Err(format!(
        "{}: expected {expected}, found {}",
        shown_path(path),
        kind(value)
    ))
}

fn has_type(t: &str, value: &Value) -> bool {
    match t {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => is_integer(value),
        // An unknown type name constrains nothing this check understands.
        _ => true,
    }
}

/// JSON Schema's integer: a number with no fractional part (`5` and `5.0` both).
fn is_integer(value: &Value) -> bool {
    match value {
        Value::Number(n) => {
            n.is_i64()
                || n.is_u64()
                || n.as_f64()
                    .is_some_and(|f| f.is_finite() && f.fract() == 0.0)
        }
        _ => false,
    }
}

fn string_keywords(s: &Map<String, Value>, text: &str, path: &str) -> Result<(), String> {
    let chars = || text.chars().count() as u64;
    if let Some(min) = s.get("minLength").and_then(Value::as_u64)
        && chars() < min
    {
        return Err(format!(
            "{}: shorter than {min} characters",
            shown_path(path)
        ));
    }
    if let Some(max) = s.get("maxLength").and_then(Value::as_u64)
        && chars() > max
    {
        return Err(format!(
            "{}: longer than {max} characters",
            shown_path(path)
        ));
    }
    Ok(())
}

fn number_keywords(s: &Map<String, Value>, value: &Value, path: &str) -> Result<(), String> {
    let bound = |key: &str| s.get(key).and_then(Value::as_f64);
    let Some(n) = value.as_f64() else {
        return Ok(());
    };
    // Exact for integers: a u64/i64 compared with an integral bound needs no float rounding.
    let below = |limit: f64| compare(value, n, limit) == std::cmp::Ordering::Less;
    let above = |limit: f64| compare(value, n, limit) == std::cmp::Ordering::Greater;
    if let Some(min) = bound("minimum")
        && below(min)
    {
        return Err(format!("{}: less than the minimum {min}", shown_path(path)));
    }
    if let Some(max) = bound("maximum")
        && above(max)
    {
        return Err(format!("{}: more than the maximum {max}", shown_path(path)));
    }
    if let Some(min) = bound("exclusiveMinimum")
        && !above(min)
    {
        return Err(format!(
            "{}: not more than the exclusive minimum {min}",
            shown_path(path)
        ));
    }
    if let Some(max) = bound("exclusiveMaximum")
        && !below(max)
    {
        return Err(format!(
            "{}: not less than the exclusive maximum {max}",
            shown_path(path)
        ));
    }
    Ok(())
}

/// Orders a JSON number against a bound; integers are compared exactly when the bound is an
/// integer in range (a u64 above 2^53 is not rounded onto the bound).
fn compare(value: &Value, as_float: f64, limit: f64) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    if limit.fract() == 0.0 && limit.abs() < 9.0e18 {
        let limit = limit as i128;
        if let Some(u) = value.as_u64() {
            return i128::from(u).cmp(&limit);
        }
        if let Some(i) = value.as_i64() {
            return i128::from(i).cmp(&limit);
        }
    }
    as_float.partial_cmp(&limit).unwrap_or(Ordering::Equal)
}

/// JSON equality for `enum`/`const`: numbers by value (`1` equals `1.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
                return x == y;
            }
            if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
                return x == y;
            }
            x.as_f64() == y.as_f64()
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// What kind of JSON value this is, for a message (never the value itself).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The JSON pointer of the argument, `(the arguments)` for the whole object.
fn shown_path(path: &str) -> String {
    if path.is_empty() {
        "(the arguments)".to_string()
    } else {
        format!("argument {}", shown(path))
    }
}

/// A name or pointer as it may be shown: control characters as spaces, cut at 100 characters.
fn shown(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(100)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(100).is_some() {
        out.push('…');
    }
    out
}

fn push_pointer_token(path: &mut String, token: &str) {
    for c in token.chars() {
        match c {
            '~' => path.push_str("~0"),
            '/' => path.push_str("~1"),
            c => path.push(c),
        }
    }
}

fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    /// The shape schemars 1 generates for a struct with an optional nested enum and a list.
    fn payment_schema() -> Map<String, Value> {
        obj(json!({
            "type": "object",
            "properties": {
                "amount": {"type": "integer", "format": "uint64", "minimum": 0},
                "currency": {"type": "string", "enum": ["usd", "eur"]},
                "customer_id": {"type": "string", "minLength": 1},
                "memo": {"type": ["string", "null"]},
                "method": {"anyOf": [{"$ref": "#/$defs/Method"}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2}
            },
            "required": ["amount", "currency", "customer_id"],
            "additionalProperties": false,
            "$defs": {
                "Method": {"oneOf": [
                    {"type": "string", "const": "card"},
                    {"type": "object", "properties": {"iban": {"type": "string"}}, "required": ["iban"]}
                ]}
            }
        }))
    }

    #[test]
    fn well_typed_arguments_pass() {
        let s = payment_schema();
        for args in [
            json!({"amount": 1200, "currency": "usd", "customer_id": "cus_1"}),
            json!({"amount": 5.0, "currency": "eur", "customer_id": "c", "memo": null}),
            json!({"amount": 0, "currency": "usd", "customer_id": "c", "method": "card", "tags": ["a"]}),
            json!({"amount": 1, "currency": "usd", "customer_id": "c", "method": {"iban": "DE00"}}),
        ] {
            check(&s, &obj(args.clone())).unwrap_or_else(|e| panic!("{args}: {e}"));
        }
    }

    #[test]
    fn wrong_arguments_are_refused_with_where_and_what() {
        let s = payment_schema();
        let cases = [
            (
                json!({"amount": "1200", "currency": "usd", "customer_id": "c"}),
                "argument /amount: expected integer, found a string",
            ),
            (
                json!({"amount": 1.5, "currency": "usd", "customer_id": "c"}),
                "argument /amount: expected integer, found a number",
            ),
            (
                json!({"amount": -1, "currency": "usd", "customer_id": "c"}),
                "argument /amount: less than the minimum 0",
            ),
            (
                json!({"amount": 1, "currency": "gbp", "customer_id": "c"}),
                "argument /currency: a string is not one of the allowed values",
            ),
            (
                json!({"amount": 1, "currency": "usd"}),
                "(the arguments): missing required argument `customer_id`",
            ),
            (
                json!({"amount": 1, "currency": "usd", "customer_id": "c", "extra": true}),
                "argument /extra: unknown argument (the schema allows no other arguments)",
            ),
            (
                json!({"amount": 1, "currency": "usd", "customer_id": ""}),
                "argument /customer_id: shorter than 1 characters",
            ),
            (
                json!({"amount": 1, "currency": "usd", "customer_id": "c", "tags": ["a", 2]}),
                "argument /tags/1: expected string, found an integer",
            ),
            (
                json!({"amount": 1, "currency": "usd", "customer_id": "c", "tags": ["a", "b", "c"]}),
                "argument /tags: more than 2 items",
            ),
            (
                json!({"amount": 1, "currency": "usd", "customer_id": "c", "method": "cash"}),
                "argument /method: a string matches none of the alternatives",
            ),
        ];
        for (args, expected) in cases {
            let e = check(&s, &obj(args.clone())).expect_err(&args.to_string());
            assert!(e.starts_with(expected), "{args}: {e}");
        }
    }

    #[test]
    fn integers_beyond_two_to_the_53_compare_exactly() {
        let s =
            obj(json!({"properties": {"n": {"type": "integer", "maximum": 9007199254740992u64}}}));
        assert!(check(&s, &obj(json!({"n": 9007199254740992u64}))).is_ok());
        assert!(check(&s, &obj(json!({"n": 9007199254740993u64}))).is_err());
    }

    #[test]
    fn self_reference_and_dangling_references_end_in_errors() {
        let s = obj(json!({"$ref": "#"}));
        let e = check(&s, &Map::new()).unwrap_err();
        assert!(e.contains("does not define"), "{e}");
        let s = obj(json!({"$defs": {"A": {"$ref": "#/$defs/A"}}, "$ref": "#/$defs/A"}));
        let e = check(&s, &Map::new()).unwrap_err();
        assert!(e.contains("nests deeper than"), "{e}");
        let s = obj(json!({"properties": {"a": {"$ref": "#/$defs/Missing"}}}));
        let e = check(&s, &obj(json!({"a": 1}))).unwrap_err();
        assert!(e.contains("`#/$defs/Missing`"), "{e}");
    }

    #[test]
    fn branching_references_stop_at_the_step_budget() {
        let s = obj(
            json!({"$defs": {"A": {"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/A"}]}}, "$ref": "#/$defs/A"}),
        );
        let e = check(&s, &Map::new()).unwrap_err();
        assert!(e.contains("steps") || e.contains("nests deeper"), "{e}");
    }

    #[test]
    fn unknown_keywords_and_non_schemas_constrain_nothing() {
        let s = obj(
            json!({"type": "object", "properties": {"a": {"format": "uuid", "pattern": "^x$"}, "b": 7}}),
        );
        assert!(check(&s, &obj(json!({"a": "anything", "b": [1]}))).is_ok());
        assert!(check(&Map::new(), &obj(json!({"x": {"y": [null]}}))).is_ok());
        let s = obj(json!({"properties": {"a": false}}));
        assert!(check(&s, &obj(json!({"a": 1}))).is_err());
        assert!(check(&s, &Map::new()).is_ok());
    }

    #[test]
    fn oneof_needs_exactly_one_and_not_rules_out() {
        let s =
            obj(json!({"properties": {"a": {"oneOf": [{"type": "integer"}, {"type": "number"}]}}}));
        assert!(check(&s, &obj(json!({"a": 1.5}))).is_ok());
        let e = check(&s, &obj(json!({"a": 1}))).unwrap_err();
        assert!(e.contains("more than one"), "{e}");
        let s = obj(json!({"properties": {"a": {"not": {"type": "null"}}}}));
        assert!(check(&s, &obj(json!({"a": null}))).is_err());
        assert!(check(&s, &obj(json!({"a": 0}))).is_ok());
    }

    #[test]
    fn pointer_tokens_are_escaped_and_resolved() {
        let s = obj(json!({
            "$defs": {"a/b": {"type": "string"}, "t~": {"type": "integer"}},
            "properties": {"x/y": {"$ref": "#/$defs/a~1b"}, "z": {"$ref": "#/$defs/t~0"}}
        }));
        let e = check(&s, &obj(json!({"x/y": 1}))).unwrap_err();
        assert!(e.starts_with("argument /x~1y: expected string"), "{e}");
        assert!(check(&s, &obj(json!({"x/y": "s", "z": 3}))).is_ok());
    }

    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z$#/~]{0,6}".prop_map(Value::String),
            prop_oneof![
                Just("object"),
                Just("array"),
                Just("string"),
                Just("integer"),
                Just("number"),
                Just("null"),
                Just("boolean"),
                Just("#"),
                Just("#/$defs/A"),
                Just("#/properties/a")
            ]
            .prop_map(|s| Value::String(s.to_string())),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            let keys = prop_oneof![
                Just("type"),
                Just("properties"),
                Just("required"),
                Just("items"),
                Just("anyOf"),
                Just("oneOf"),
                Just("allOf"),
                Just("not"),
                Just("$ref"),
                Just("$defs"),
                Just("A"),
                Just("a"),
                Just("enum"),
                Just("const"),
                Just("minimum"),
                Just("maxLength"),
                Just("prefixItems"),
                Just("additionalProperties"),
                Just("exclusiveMaximum")
            ]
            .prop_map(str::to_string);
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys, inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any schema, any arguments: an answer, never a panic or a stack overflow.
        #[test]
        fn never_panics(schema in json_value(), args in json_value()) {
            let schema = match schema { Value::Object(m) => m, other => obj(json!({"properties": {"a": other}, "$defs": {"A": {"$ref": "#/$defs/A"}}})) };
            let args = match args { Value::Object(m) => m, other => obj(json!({"a": other})) };
            let _ = check(&schema, &args);
        }
    }
}
