//! The `ledgix` command against a running mock Vault: `reviews list | approve | deny` work the
//! queue of held guarded calls, `status` looks requests up, `token verify --url` checks tokens
//! against the Vault's keys, `verify ledger --url` checks its whole ledger, `mock-vault` runs
//! one; every exit code (0 done, 1 refused, 2 bad input, 3 Vault unreachable or refusing).

use std::io::{BufRead, BufReader};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use assert_cmd::Command;
use ledgix::mock::{MockVault, Rule};
use ledgix::{ClearanceRequest, Error, ToolCall};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ledgix");

/// Runs `ledgix args` with only `env` set (off the async runtime, which serves the mock).
async fn ledgix(args: &[&str], env: &[(&str, &str)]) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .env_clear()
            .envs(env)
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json_of(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

/// A held call whose body counts its runs.
fn held_call(
    vault: &MockVault,
    tool: &str,
    memo: &str,
    runs: &Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Result<&'static str, Error>> {
    let runs = runs.clone();
    let call = ToolCall::new(tool)
        .arg("amount", &5000)
        .arg("memo", &memo)
        .run(async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Error>("sent")
        });
    tokio::spawn(ledgix::with_client(vault.client(), call))
}

/// The request id held after `known` ones.
async fn newly_held(vault: &MockVault, known: &[String]) -> String {
    for _ in 0..2000 {
        if let Some(id) = vault
            .pending_reviews()
            .into_iter()
            .find(|id| !known.contains(id))
        {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("no new call was held within 10 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reviewers_work_the_queue_from_the_command_line() {
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_*").review().reason("wires need a human"))
        .api_key("sk_cli_test")
        .start()
        .await;
    let url = vault.url();
    let env = [
        ("LEDGIX_VAULT_URL", url.as_str()),
        ("LEDGIX_VAULT_API_KEY", "sk_cli_test"),
    ];

    let empty = ledgix(&["reviews", "list"], &env).await;
    assert_eq!(empty.status.code(), Some(0), "{}", stderr(&empty));
    assert!(stdout(&empty).starts_with("EMPTY  no call is held for review"));

    // A held call whose memo tries to take over the terminal.
    let runs = Arc::new(AtomicUsize::new(0));
    let memo = "pay \x1b[2J\x1b[31mnow\r\n";
    let first = held_call(&vault, "wire_transfer", memo, &runs);
    let first_id = newly_held(&vault, &[]).await;

    let listed = ledgix(&["reviews", "list"], &env).await;
    assert_eq!(listed.status.code(), Some(0));
    let text = stdout(&listed);
    assert!(
        text.starts_with("HELD  1 call waiting for a reviewer at"),
        "{text}"
    );
    assert!(
        text.contains(&format!("    request     {first_id}\n")),
        "{text}"
    );
    assert!(
        text.contains("    reason      wires need a human\n"),
        "{text}"
    );
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    let json = json_of(&ledgix(&["reviews", "list", "--json"], &env).await);
    assert_eq!(json["reviews"][0]["request_id"], first_id.as_str());
    assert_eq!(json["reviews"][0]["tool_args"]["memo"], memo);
    assert_eq!(json["reviews"][0]["confidence_bucket"], "medium");

    // Approve: the held call runs, once.
    let approved = ledgix(
        &[
            "reviews",
            "approve",
            &first_id,
            "--reason",
            "checked the invoice",
        ],
        &env,
    )
    .await;
    assert_eq!(approved.status.code(), Some(0), "{}", stderr(&approved));
    assert!(stdout(&approved).starts_with(&format!("APPROVED  request {first_id}")));
    assert_eq!(first.await.unwrap().unwrap(), "sent");
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // Deciding again is refused (409): exit 1.
    let again = ledgix(&["reviews", "approve", &first_id, "--json"], &env).await;
    assert_eq!(again.status.code(), Some(1));
    assert!(json_of(&again)["error"].as_str().unwrap().contains("409"));

    // Deny: the call is refused with the reviewer's reason, its body never runs.
    let second = held_call(&vault, "wire_refund", "second", &runs);
    let second_id = newly_held(&vault, std::slice::from_ref(&first_id)).await;
    let denied = ledgix(
        &[
            "reviews",
            "deny",
            &second_id,
            "--reason",
            "amount above the cap",
            "--json",
        ],
        &env,
    )
    .await;
    assert_eq!(denied.status.code(), Some(0), "{}", stderr(&denied));
    assert_eq!(
        json_of(&denied),
        json!({"result": "denied", "request_id": second_id, "reason": "amount above the cap", "vault": url})
    );
    let err = second.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Denied(d) if d.reason == "amount above the cap"),
        "{err}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // An unknown id: exit 1; an empty reason: bad input, exit 2.
    let unknown = ledgix(
        &["reviews", "deny", "no-such-request", "--reason", "x"],
        &env,
    )
    .await;
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).contains("404"), "{}", stderr(&unknown));
    let blank = ledgix(&["reviews", "deny", &second_id, "--reason", "  "], &env).await;
    assert_eq!(blank.status.code(), Some(2));

    // Without the API key: the decision is refused by the Vault (401), exit 3 with what to
    // do; listing works on loopback (the review queue is open there).
    let third = held_call(&vault, "wire_transfer", "third", &runs);
    let third_id = newly_held(&vault, &[first_id, second_id]).await;
    let no_key = [("LEDGIX_VAULT_URL", url.as_str())];
    let refused = ledgix(&["reviews", "approve", &third_id], &no_key).await;
    assert_eq!(refused.status.code(), Some(3));
    assert!(
        stderr(&refused).contains("hint: set LEDGIX_VAULT_API_KEY"),
        "{}",
        stderr(&refused)
    );
    let listed = ledgix(&["reviews", "list", "--json"], &no_key).await;
    assert_eq!(listed.status.code(), Some(0));
    assert_eq!(
        json_of(&listed)["reviews"][0]["request_id"],
        third_id.as_str()
    );
    vault.deny(&third_id, "cleanup").await;
    assert!(third.await.unwrap().is_err());
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_where_a_request_stands_without_printing_its_token() {
    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("refunds are frozen"))
        .start()
        .await;
    let url = vault.url();
    let client = vault.client();
    let approved = client
        .request_clearance(&ClearanceRequest::new("lookup"))
        .await
        .unwrap();
    let token = approved.token.clone().unwrap();
    let denied = client
        .clearance_status(&match client
            .request_clearance(&ClearanceRequest::new("stripe_refund"))
            .await
        {
            Err(Error::Denied(d)) => d.request_id,
            other => panic!("expected a denial, got {other:?}"),
        })
        .await
        .unwrap();

    let env = [("LEDGIX_VAULT_URL", url.as_str())];
    let shown = ledgix(&["status", &approved.request_id], &env).await;
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    let text = stdout(&shown);
    assert!(text.starts_with(&format!("APPROVED  request {}", approved.request_id)));
    assert!(
        text.contains("  token       present (--show-token prints it"),
        "{text}"
    );
    assert!(
        !text.contains(&token),
        "the token is not printed by default"
    );
    let json = json_of(&ledgix(&["status", &approved.request_id, "--json"], &env).await);
    assert_eq!(json["status"], "approved");
    assert_eq!(json["has_token"], true);
    assert!(json.get("token").is_none(), "{json}");
    let json = json_of(
        &ledgix(
            &["status", &approved.request_id, "--json", "--show-token"],
            &env,
        )
        .await,
    );
    assert_eq!(json["token"], token.as_str());

    let refused = ledgix(&["status", &denied.request_id, "--url", &url], &[]).await;
    assert_eq!(refused.status.code(), Some(0));
    let text = stdout(&refused);
    assert!(text.starts_with("DENIED  request"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("  reason ") && l.ends_with(" refunds are frozen")),
        "{text}"
    );

    let unknown = ledgix(&["status", "no-such-request", "--json"], &env).await;
    assert_eq!(unknown.status.code(), Some(1));
    assert_eq!(json_of(&unknown)["result"], "refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_verify_against_the_vaults_keys_and_their_binding() {
    let vault = MockVault::start().await;
    let url = vault.url();
    let request = ClearanceRequest::new("stripe_refund")
        .arg("amount", json!(45))
        .arg("reason", json!("duplicate"));
    let token = vault
        .client()
        .request_clearance(&request)
        .await
        .unwrap()
        .token
        .unwrap();
    let args = r#"{"reason": "duplicate", "amount": 45}"#;

    let plain = ledgix(&["token", "verify", &token, "--url", &url], &[]).await;
    assert_eq!(plain.status.code(), Some(0), "{}", stderr(&plain));
    assert!(stdout(&plain).contains("  – binding    not checked"));

    let bound = ledgix(
        &[
            "token",
            "verify",
            &token,
            "--url",
            &url,
            "--tool",
            "stripe_refund",
            "--args",
            args,
        ],
        &[],
    )
    .await;
    assert_eq!(bound.status.code(), Some(0), "{}", stderr(&bound));
    assert!(stdout(&bound).contains("  ✓ binding    clears exactly stripe_refund"));

    // The same offline, with the Vault's JWKS saved to a file; the default Vault from the
    // environment.
    let jwks = std::env::temp_dir().join(format!("ledgix-cli-{}-jwks.json", std::process::id()));
    std::fs::write(&jwks, vault.trusted_keys_json()).unwrap();
    let offline = ledgix(
        &[
            "token",
            "verify",
            &token,
            "--jwks",
            jwks.to_str().unwrap(),
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(offline.status.code(), Some(0), "{}", stderr(&offline));
    assert_eq!(json_of(&offline)["claims"]["tool"], "stripe_refund");
    let _ = std::fs::remove_file(&jwks);
    let env_url = ledgix(&["token", "verify", &token], &[("LEDGIX_VAULT_URL", &url)]).await;
    assert_eq!(env_url.status.code(), Some(0), "{}", stderr(&env_url));

    // Other arguments: the binding refuses; a token of another Vault: the signature.
    let other_args = ledgix(
        &[
            "token",
            "verify",
            &token,
            "--url",
            &url,
            "--json",
            "--tool",
            "stripe_refund",
            "--args",
            r#"{"reason": "duplicate", "amount": 4500}"#,
        ],
        &[],
    )
    .await;
    assert_eq!(other_args.status.code(), Some(1));
    assert_eq!(json_of(&other_args)["check"], "binding");
    let other_vault = MockVault::start().await;
    let foreign = other_vault
        .client()
        .request_clearance(&ClearanceRequest::new("stripe_refund"))
        .await
        .unwrap()
        .token
        .unwrap();
    let foreign = ledgix(&["token", "verify", &foreign, "--url", &url, "--json"], &[]).await;
    assert_eq!(foreign.status.code(), Some(1));
    assert_eq!(json_of(&foreign)["check"], "signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_ledger_verifies_over_http_and_wrong_keys_are_refused() {
    let vault = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("refunds are frozen"))
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let client = vault.client();
    for i in 0..6 {
        let tool = if i % 3 == 0 {
            "stripe_refund"
        } else {
            "lookup"
        };
        let _ = client
            .request_clearance(&ClearanceRequest::new(tool).arg("i", json!(i)))
            .await;
        if i % 2 == 1 {
            vault.seal().await;
        }
    }
    let url = vault.url();
    let verified = ledgix(&["verify", "ledger", "--url", &url, "--json"], &[]).await;
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));
    let report = json_of(&verified);
    assert_eq!(report["entries_verified"], 6);
    assert_eq!(report["checkpoints_verified"], 3);
    assert_eq!(report["latest_root_checked"], true);
    assert_eq!(report["warnings"], json!([]));

    let text = ledgix(&["verify", "ledger", "--url", &url], &[]).await;
    assert!(stdout(&text).starts_with(&format!("VERIFIED  ledger from the Vault at {url}")));

    // Keys pinned: the Vault's own verify; another key set is refused (the receipts are not
    // signed by a trusted key).
    let dir = std::env::temp_dir();
    let own = dir.join(format!("ledgix-cli-{}-own-jwks.json", std::process::id()));
    std::fs::write(&own, vault.trusted_keys_json()).unwrap();
    let pinned = ledgix(
        &[
            "verify",
            "ledger",
            "--url",
            &url,
            "--keys",
            own.to_str().unwrap(),
        ],
        &[],
    )
    .await;
    let _ = std::fs::remove_file(&own);
    assert_eq!(pinned.status.code(), Some(0), "{}", stderr(&pinned));
    let other = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ledger/trusted_jwks.json"
    );
    let wrong = ledgix(
        &["verify", "ledger", "--url", &url, "--keys", other, "--json"],
        &[],
    )
    .await;
    assert_eq!(wrong.status.code(), Some(1));
    let report = json_of(&wrong);
    assert_eq!(report["check"], "keys and signatures", "{report}");
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("not a trusted key")
    );
    // An unsealed event is said, not hidden.
    let _ = client
        .request_clearance(&ClearanceRequest::new("lookup"))
        .await;
    let report = json_of(&ledgix(&["verify", "ledger", "--url", &url, "--json"], &[]).await);
    assert_eq!(report["unsealed_entries"], 1);
    assert_eq!(report["result"], "verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_that_cannot_be_reached_is_exit_3_and_bad_settings_exit_2() {
    // A port nobody listens on: bind one, then free it.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let env = [
        ("LEDGIX_VAULT_URL", closed.as_str()),
        ("LEDGIX_MAX_RETRIES", "0"),
    ];
    for args in [
        &["reviews", "list"][..],
        &["reviews", "approve", "r1"][..],
        &["status", "r1"][..],
        &["verify", "ledger", "--url", &closed][..],
        &["token", "verify", "a.b.c"][..],
    ] {
        let output = ledgix(args, &env).await;
        assert_eq!(
            output.status.code(),
            Some(3),
            "{args:?}: {}",
            stderr(&output)
        );
        let err = stderr(&output);
        assert!(
            err.starts_with("error: ") && err.contains("hint: is a Vault running at"),
            "{args:?}: {err}"
        );
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let report = json_of(&ledgix(&with_json, &env).await);
        assert_eq!(report["result"], "vault_error", "{args:?}");
        assert_eq!(report["exit_code"], 3);
    }
    for env in [
        &[("LEDGIX_VAULT_URL", "http://vault.example.com")][..],
        &[("LEDGIX_VAULT_URL", "ftp://127.0.0.1")][..],
        &[("LEDGIX_VAULT_TIMEOUT", "soon")][..],
    ] {
        let output = ledgix(&["reviews", "list"], env).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{env:?}: {}",
            stderr(&output)
        );
        assert!(stderr(&output).contains("hint: check the LEDGIX_* variables"));
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ledgix_mock_vault_runs_the_mock_and_stops_on_ctrl_c() {
    let mut child = std::process::Command::new(BIN)
        .args([
            "mock-vault",
            "--listen",
            "127.0.0.1:0",
            "--seed",
            "cli",
            "--seal-every",
            "50ms",
        ])
        .env_clear()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(out).read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let url = line
        .trim()
        .strip_prefix("ledgix mock-vault listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_string();
    let listed = ledgix(&["reviews", "list", "--url", &url, "--json"], &[]).await;
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    assert_eq!(json_of(&listed)["reviews"], json!([]));
    let verified = ledgix(&["verify", "ledger", "--url", &url], &[]).await;
    assert_eq!(verified.status.code(), Some(0), "{}", stderr(&verified));

    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let err = stderr(&output);
    assert!(err.contains("review queue: http://127.0.0.1:"), "{err}");
    assert!(err.contains("ledgix mock-vault: stopping"), "{err}");
}

/// Colour appears on a terminal and never with NO_COLOR (a pseudo-terminal from `script`).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colour_only_on_a_terminal_and_never_with_no_color() {
    let keys = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ledger/trusted_jwks.json"
    );
    let bundle = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/ledger/bundles/valid-001.json"
    );
    let command = format!("{BIN} verify bundle {bundle} --keys {keys}");
    let on_terminal = |no_color: Option<&str>| {
        let mut script = std::process::Command::new("script");
        script
            .args(["-qec", &command, "/dev/null"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm");
        if let Some(value) = no_color {
            script.env("NO_COLOR", value);
        }
        script
            .output()
            .expect("`script` (util-linux) makes the pseudo-terminal")
    };
    let coloured = on_terminal(None);
    assert_eq!(coloured.status.code(), Some(0));
    assert!(
        stdout(&coloured).contains("\x1b[32;1mVERIFIED\x1b[0m"),
        "{:?}",
        stdout(&coloured)
    );
    let plain = on_terminal(Some("1"));
    assert!(!stdout(&plain).contains('\x1b'), "{:?}", stdout(&plain));
    assert!(stdout(&plain).contains("VERIFIED"));
    // An empty NO_COLOR does not count (no-color.org).
    assert!(stdout(&on_terminal(Some(""))).contains('\x1b'));
}
