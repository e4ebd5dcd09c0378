//! The `ledgix-mock-vault` binary: it prints its URL, decides by its rules file, refuses a
//! malformed one with the reason, and stops cleanly on Ctrl-C.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use ledgix::{ClearanceRequest, Config, Error, LedgixClient};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_ledgix-mock-vault");

/// A file under the temp dir, unique to this process and `name`.
fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("ledgix-mock-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).unwrap();
    path
}

/// Starts the binary and returns it with the URL it printed and the rest of its output.
async fn start(args: &[&str]) -> (Child, String, Lines<BufReader<ChildStdout>>) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the mock Vault printed nothing within 30 s")
        .unwrap()
        .expect("the mock Vault closed stdout");
    let url = line
        .strip_prefix("ledgix-mock-vault listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    (child, url, lines)
}

#[cfg(unix)]
fn interrupt(child: &Child) {
    let pid = child.id().expect("still running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[tokio::test]
async fn it_serves_its_rules_and_stops_cleanly_on_ctrl_c() {
    let rules = temp_file(
        "rules.json",
        r#"{"default": "approve", "rules": [
            {"tool": "stripe_refund", "decision": "deny", "reason": "refunds are frozen"}]}"#,
    );
    let (mut child, url, _output) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        "standalone-key",
        "--rules",
        rules.to_str().unwrap(),
        "--seal-every",
        "50ms",
        "--seed",
        "standalone",
    ])
    .await;
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(&url)
            .api_key("standalone-key")
            .build()
            .unwrap(),
    )
    .unwrap();
    match client
        .request_clearance(&ClearanceRequest::new("stripe_refund").arg("amount", 45))
        .await
    {
        Err(Error::Denied(d)) => assert_eq!(d.reason, "refunds are frozen"),
        other => panic!("expected a denial, got {other:?}"),
    }
    let approved = client
        .request_clearance(&ClearanceRequest::new("lookup").arg("id", "c_1"))
        .await
        .unwrap();
    assert!(approved.token.is_some());

    interrupt(&child);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("it did not stop within 30 s of Ctrl-C")
        .unwrap();
    assert!(status.success(), "exit status {status}");
    let _ = std::fs::remove_file(rules);
}

#[tokio::test]
async fn it_prints_a_line_per_decision_and_per_review_held() {
    let rules = temp_file(
        "console-rules.json",
        r#"{"default": "approve", "rules": [
            {"tool": "stripe_refund", "decision": "deny", "reason": "refunds are frozen"},
            {"tool": "wire_*", "decision": "review"}]}"#,
    );
    let (_child, url, mut output) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--rules",
        rules.to_str().unwrap(),
    ])
    .await;
    let http = reqwest::Client::new();
    let ask = |tool: &str| {
        http.post(format!("{url}/request-clearance"))
            .json(&json!({"tool_name": tool, "tool_args": {"amount": 5}, "agent_id": "a"}))
            .send()
    };
    let mut ids = Vec::new();
    for tool in ["lookup", "stripe_refund", "wire_transfer"] {
        let answer: Value = ask(tool).await.unwrap().json().await.unwrap();
        ids.push(answer["request_id"].as_str().unwrap().to_owned());
    }
    // The reviewer's decision through the API, as the README documents it.
    let decided = http
        .post(format!("{url}/reviews/{}/decision", ids[2]))
        .json(&json!({"approved": true, "review_reason": "checked with finance"}))
        .send()
        .await
        .unwrap();
    assert_eq!(decided.status(), 200);

    let mut lines = Vec::new();
    while lines.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(30), output.next_line())
            .await
            .expect("a decision line within 30 s")
            .unwrap()
            .expect("the mock Vault closed stdout");
        lines.push(line);
    }
    assert_eq!(
        lines,
        [
            format!(
                r#"approved request_id={} tool="lookup" by=rules reason="approved by the mock Vault's default decision""#,
                ids[0]
            ),
            format!(
                r#"denied request_id={} tool="stripe_refund" by=rules reason="refunds are frozen""#,
                ids[1]
            ),
            format!(
                r#"pending_review request_id={} tool="wire_transfer" by=rules reason="waiting for a human reviewer""#,
                ids[2]
            ),
            format!(
                r#"approved request_id={} tool="wire_transfer" by=reviewer reason="checked with finance""#,
                ids[2]
            ),
        ]
    );
    let _ = std::fs::remove_file(rules);
}

#[tokio::test]
async fn a_malformed_rules_file_is_refused_at_start_with_the_reason() {
    let rules = temp_file(
        "bad-rules.json",
        r#"{"rules": [{"tool": "a", "decision": "approve"}, {"tool": "wire_*", "decision": "hold"}]}"#,
    );
    let output = Command::new(BIN)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--rules",
            rules.to_str().unwrap(),
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("rules[1] (tool `wire_*`): field `decision`"),
        "{stderr}"
    );
    assert!(stderr.contains(rules.to_str().unwrap()), "{stderr}");
    assert!(output.stdout.is_empty(), "it must not claim to listen");
    let _ = std::fs::remove_file(rules);
}

#[tokio::test]
async fn bad_flags_print_the_usage_and_exit_2() {
    let output = Command::new(BIN)
        .args(["--port", "80"])
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown option `--port`"), "{stderr}");
    assert!(stderr.contains("usage: ledgix-mock-vault"), "{stderr}");
    let help = Command::new(BIN).arg("--help").output().await.unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--seal-every"));
}
