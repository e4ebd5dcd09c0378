//! One case table, three users of the manifest's globs: `instrument!` at compile time,
//! `ledgix::Manifest` at run time, and the mock Vault's rules (`Rule::tool` and the rules
//! file). `tests/manifests/glob_cases.json` holds the rules (rule `i` has policy `rule-i`) and,
//! for each tool name, the rule it must land on (first match wins) or none; the expected rules
//! were computed with Python's `fnmatch.fnmatchcase`, what the official Python SDK uses.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;

use ledgix::mock::{MockVault, Rule, RulesFile};
use ledgix::{ClearanceRequest, Manifest};
use serde_json::{Value, json};

const TABLE: &str = "tests/manifests/glob_cases.json";

/// (tool name, the policy of the rule it must land on).
fn cases() -> Vec<(String, Option<String>)> {
    let text = std::fs::read_to_string(TABLE).expect("the case table");
    let doc: Value = serde_json::from_str(&text).expect("the case table is JSON");
    let cases: Vec<(String, Option<String>)> = doc["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| {
            let tool = case["tool"].as_str().expect("tool").to_string();
            let policy = case["rule"].as_u64().map(|i| format!("rule-{i}"));
            (tool, policy)
        })
        .collect();
    // The table is what it claims to be: matches, misses, and every rule used.
    let used: BTreeSet<&String> = cases.iter().filter_map(|(_, p)| p.as_ref()).collect();
    let rules = doc["enforce"].as_array().expect("enforce").len();
    assert!(cases.len() >= 20, "{} cases", cases.len());
    assert_eq!(used.len(), rules, "every rule is some case's first match");
    assert!(cases.iter().filter(|(_, p)| p.is_none()).count() >= 3);
    cases
}

type ToolFuture = Pin<Box<dyn Future<Output = Result<(), ledgix::Error>> + Send>>;

/// One async tool per name of the table, inside `instrument!` with the table as its manifest,
/// and a way to call each by name.
macro_rules! tools {
    ($($name:ident),* $(,)?) => {
        ledgix::instrument! {
            "tests/manifests/glob_cases.json",
            #[allow(non_snake_case)]
            mod tools {
                $(
                    pub async fn $name() -> Result<(), ledgix::Error> {
                        Ok(())
                    }
                )*
            }
        }

        const NAMES: &[&str] = &[$(stringify!($name)),*];

        fn call(name: &str) -> Option<ToolFuture> {
            match name {
                $(stringify!($name) => Some(Box::pin(tools::$name())),)*
                _ => None,
            }
        }
    };
}

tools!(
    create_stripe_payment,
    stripe_refund,
    stripe_test,
    stripe_tost,
    stripe_tests,
    stripe_t,
    report_7,
    report_10,
    report_x,
    wire_a,
    wire_,
    wire_ab,
    db_read,
    db_write,
    db_r2,
    db_delete,
    tool_v2,
    tool_v4,
    user_admin,
    _admin,
    a_x,
    d_x,
    b_v3,
    lookup,
    lookup2,
    Stripe_refund,
    _internal_9,
);

#[tokio::test]
async fn instrument_guards_each_case_with_its_rule() {
    let cases = cases();
    let table: BTreeSet<&str> = cases.iter().map(|(t, _)| t.as_str()).collect();
    let defined: BTreeSet<&str> = NAMES.iter().copied().collect();
    assert_eq!(table, defined, "one function per case of the table");

    let vault = MockVault::start().await;
    for (tool, policy) in &cases {
        let before = vault.requests().len();
        let future = call(tool).expect("a function per case");
        vault.scope(future).await.expect("approved or unguarded");
        let asked: Vec<Value> = vault.requests()[before..]
            .iter()
            .filter(|r| r.path == "/request-clearance")
            .map(|r| r.body.clone())
            .collect();
        match policy {
            Some(policy) => {
                assert_eq!(asked.len(), 1, "{tool}: asked the Vault once");
                assert_eq!(asked[0]["tool_name"], json!(tool), "{tool}");
                assert_eq!(
                    asked[0]["context"]["policy_id"],
                    json!(policy),
                    "{tool} lands on {policy}"
                );
            }
            None => assert!(asked.is_empty(), "{tool}: no rule, not guarded: {asked:?}"),
        }
    }
}

#[test]
fn the_runtime_manifest_looks_up_each_case_to_its_rule() {
    let manifest = Manifest::load(TABLE).expect("the table is a manifest");
    for (tool, policy) in cases() {
        let found = manifest.lookup(&tool).and_then(|e| e.policy_id.clone());
        assert_eq!(found, policy, "{tool}");
    }
}

/// Asks `vault` about each case's tool; the rules deny with the rule's policy as the reason.
async fn mock_decisions(vault: &MockVault) {
    let client = vault.client();
    for (tool, policy) in cases() {
        let answer = client
            .request_clearance(&ClearanceRequest::new(tool.as_str()))
            .await;
        match (policy, answer) {
            (Some(policy), Err(ledgix::Error::Denied(denial))) => {
                assert_eq!(denial.reason, policy, "{tool}");
            }
            (None, Ok(_)) => {}
            (policy, answer) => panic!("{tool}: expected {policy:?}, got {answer:?}"),
        }
    }
}

#[tokio::test]
async fn the_mock_vault_rules_match_each_case_to_its_rule() {
    let text = std::fs::read_to_string(TABLE).expect("the case table");
    let doc: Value = serde_json::from_str(&text).expect("JSON");
    let globs: Vec<String> = doc["enforce"]
        .as_array()
        .expect("enforce")
        .iter()
        .map(|r| r["tool"].as_str().expect("tool").to_string())
        .collect();

    // Rule::tool, in code.
    let vault = MockVault::builder()
        .rules(
            globs
                .iter()
                .enumerate()
                .map(|(i, glob)| Rule::tool(glob).deny(format!("rule-{i}"))),
        )
        .start()
        .await;
    mock_decisions(&vault).await;

    // The standalone mock's rules file.
    let rules: Vec<Value> = globs
        .iter()
        .enumerate()
        .map(|(i, glob)| json!({"tool": glob, "decision": "deny", "reason": format!("rule-{i}")}))
        .collect();
    let file = RulesFile::from_json(&json!({"rules": rules}).to_string()).expect("rules file");
    let vault = MockVault::builder().rules_file(file).start().await;
    mock_decisions(&vault).await;
}
