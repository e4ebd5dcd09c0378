//! Properties of the glob and the manifest parser on arbitrary input: no panics, positions
//! inside the text, and the laws a glob must keep.

use ledgix_manifest::{Glob, Manifest};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// `name` as a pattern that matches only itself: every special character in a class.
fn escape(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '*' | '?' | '[' => format!("[{c}]"),
            c => c.to_string(),
        })
        .collect()
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z*?_\\[\\]!\"\\\\é]{0,6}".prop_map(Value::String),
        prop_oneof![
            Just("tool"),
            Just("policyId"),
            Just("policy_id"),
            Just("context"),
            Just("enforce")
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        Just("enforce".to_string()),
                        Just("tool".to_string()),
                        Just("policyId".to_string()),
                        Just("policy_id".to_string()),
                        Just("context".to_string()),
                        Just("policyID".to_string()),
                        "[a-zé\\[{\"]{0,4}"
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Whether `(line, column)` is a place in `text` (column 0 only at the end of the text).
fn inside(text: &str, line: usize, column: usize) -> bool {
    let lines: Vec<&str> = text.split('\n').collect();
    line >= 1
        && lines
            .get(line - 1)
            .is_some_and(|l| column <= l.chars().count() + 1)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_pattern_and_name_match_without_panicking(pattern in "\\PC{0,12}", name in "\\PC{0,12}") {
        let _ = Glob::new(&pattern).matches(&name);
    }

    #[test]
    fn an_escaped_name_matches_itself_only(name in "[a-c*?\\[\\]!\\-^]{0,8}", other in "[a-c*?\\[\\]!\\-^]{0,8}") {
        let glob = Glob::new(&escape(&name));
        prop_assert!(glob.matches(&name), "{}", glob);
        prop_assert_eq!(glob.matches(&other), other == name);
        prop_assert_eq!(glob.is_literal(), !name.contains(['*', '?', '[']));
    }

    #[test]
    fn star_and_question_marks(name in "\\PC{0,10}", n in 0usize..10) {
        prop_assert!(Glob::new("*").matches(&name));
        let questions = "?".repeat(n);
        prop_assert_eq!(Glob::new(&questions).matches(&name), name.chars().count() == n);
        // A prefix glob matches exactly the names that start with the prefix.
        let prefix: String = name.chars().take(n).collect();
        let glob = Glob::new(&format!("{}*", escape(&prefix)));
        prop_assert!(glob.matches(&name));
        prop_assert_eq!(glob.matches(&format!("x{name}")), format!("x{name}").starts_with(&prefix));
    }

    #[test]
    fn any_text_parses_or_errs_inside_the_text(text in "\\PC{0,64}") {
        if let Err(e) = Manifest::parse(&text) {
            prop_assert!(inside(&text, e.line(), e.column()), "{}", e);
            prop_assert!(!e.message().is_empty());
        }
    }

    #[test]
    fn any_json_parses_or_errs_inside_the_text(value in json(), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&value)
        } else {
            serde_json::to_string(&value)
        }
        .expect("serializable");
        match Manifest::parse(&text) {
            Ok(m) => {
                // Only a well-formed manifest gets here: one rule per element of `enforce`.
                let len = value["enforce"].as_array().map(Vec::len);
                prop_assert_eq!(Some(m.rules.len()), len);
            }
            Err(e) => {
                prop_assert!(inside(&text, e.line(), e.column()), "{}\n{}", e, text);
            }
        }
    }

    #[test]
    fn wellformed_manifests_parse(rules in prop::collection::vec(("[a-z*?_]{1,6}", proptest::option::of("[a-z-]{0,6}")), 0..6)) {
        let enforce: Vec<Value> = rules
            .iter()
            .map(|(tool, policy)| serde_json::json!({"tool": tool, "policyId": policy}))
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({"enforce": enforce})).expect("json");
        let m = Manifest::parse(&text).expect("well-formed");
        prop_assert_eq!(m.rules.len(), rules.len());
        for (rule, (tool, policy)) in m.rules.iter().zip(&rules) {
            prop_assert_eq!(rule.glob.as_str(), tool.as_str());
            prop_assert_eq!(rule.policy_id.as_deref(), policy.as_deref().filter(|p| !p.is_empty()));
        }
    }
}
