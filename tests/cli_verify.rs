//! The `ledgix` command offline, against the repository's fixtures: `verify bundle` (every
//! valid bundle exits 0, every tampered one 1 with its check named, unusable input 2),
//! `verify ledger --dir` (both folder layouts, tampering, missing pieces, `--strict`),
//! `token verify --jwks` (the Vault's golden tokens), help text and output conventions.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod support;
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// `ledgix` with a clean environment (no LEDGIX_* of the machine, no NO_COLOR).
fn ledgix() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ledgix"));
    cmd.env_clear();
    cmd
}

/// A fresh folder under the temp dir, unique to this process and `name`, removed on drop.
struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<std::ffi::OsStr> for TempDir {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("ledgix-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_fixture_bundle_exits_as_its_case_says() {
    for set in ["ledger", "ledger-v2", "ledger-v3"] {
        let dir = fixtures().join(set);
        let keys = dir.join("trusted_jwks.json");
        let cases = read_json(&dir.join("cases.json"));
        let cases = cases["cases"].as_array().unwrap();
        assert!(cases.len() > 20, "{set}");
        for case in cases {
            let file = dir.join(case["file"].as_str().unwrap());
            let output = ledgix()
                .args(["verify", "bundle"])
                .arg(&file)
                .arg("--keys")
                .arg(&keys)
                .arg("--json")
                .output()
                .unwrap();
            let report = json_of(&output);
            let name = file.display();
            match case["expect"].as_str().unwrap() {
                "valid" => {
                    assert_eq!(output.status.code(), Some(0), "{name}: {report}");
                    assert_eq!(report["result"], "verified", "{name}");
                    // A body verifies unless it holds numbers the float64 hash cannot pin
                    // (the Vault's fixtures carry 2^53 + 1 on purpose).
                    let event = &read_json(&file)["event"];
                    let unpinned = support::ledger::integers_a_float_cannot_hold(event);
                    assert_eq!(report["unpinned_numbers"], json!(unpinned), "{name}");
                    assert_eq!(report["event_body_verified"], unpinned.is_empty(), "{name}");
                }
                _ => {
                    assert_eq!(output.status.code(), Some(1), "{name}: {report}");
                    assert_eq!(report["result"], "refused", "{name}");
                    let check = report["check"].as_str().unwrap_or_default();
                    assert!(
                        check.starts_with(|c: char| ('1'..='6').contains(&c)),
                        "{name}: no numbered check in {report}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_verified_bundle_reads_as_an_aligned_report_without_colour_off_a_terminal() {
    let dir = fixtures().join("ledger");
    let output = ledgix()
        .args(["verify", "bundle"])
        .arg(dir.join("bundles/valid-003.json"))
        .arg("--keys")
        .arg(dir.join("trusted_jwks.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(stdout.starts_with("VERIFIED  proof bundle"), "{stdout}");
    for line in [
        "  leaf        3 of a tree of 8\n",
        "  ✓ 1 keys and signatures",
        "  ✓ 5 consistency proof",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in\n{stdout}");
    }
    assert!(
        !stdout.contains('\x1b'),
        "colour only on a terminal: {stdout}"
    );
    assert!(output.stderr.is_empty());
}

#[test]
fn a_tampered_bundle_is_refused_naming_the_check_on_stderr() {
    let dir = fixtures().join("ledger");
    let keys = dir.join("trusted_jwks.json");
    for (file, check) in [
        (
            "tampered-012-reason-changed.json",
            "check failed: 2 (event body, leaf hash and receipt)",
        ),
        (
            "tampered-012-forged-with-embedded-attacker-key.json",
            "check failed: 1 (keys and signatures)",
        ),
        (
            "tampered-012-consistency-path-flipped.json",
            "check failed: 5 (consistency proof)",
        ),
    ] {
        let output = ledgix()
            .args(["verify", "bundle"])
            .arg(dir.join("bundles").join(file))
            .arg("--keys")
            .arg(&keys)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{file}");
        assert!(output.stdout.is_empty(), "{file}: nothing on stdout");
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with(&format!("REFUSED  {check}")),
            "{file}: {stderr}"
        );
    }
}

#[test]
fn unusable_input_exits_2_and_says_what_to_do() {
    let dir = fixtures().join("ledger");
    let keys = dir.join("trusted_jwks.json");
    let bundle = dir.join("bundles/valid-000.json");
    let tmp = temp_dir("bad-input");
    let not_json = tmp.join("not-json.txt");
    std::fs::write(&not_json, "this is not JSON").unwrap();
    let not_a_bundle = tmp.join("entries.json");
    std::fs::write(&not_a_bundle, r#"{"entries": []}"#).unwrap();
    let missing = tmp.join("missing.json");
    let cases: [(&Path, &Path, &str); 5] = [
        (&missing, &keys, "cannot read the proof bundle"),
        (&not_json, &keys, "is not a proof bundle"),
        (&not_a_bundle, &keys, "is not a proof bundle"),
        (&bundle, &missing, "cannot read the keys file"),
        (&bundle, &bundle, "is not a usable JWKS"),
    ];
    for (file, keys, says) in cases {
        let output = ledgix()
            .args(["verify", "bundle"])
            .arg(file)
            .arg("--keys")
            .arg(keys)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{says}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.starts_with("error: ") && stderr.contains(says),
            "{stderr}"
        );
        assert!(stderr.contains("\n  hint: "), "{stderr}");
        // The same as JSON for scripts.
        let output = ledgix()
            .args(["verify", "bundle", "--json"])
            .arg(file)
            .arg("--keys")
            .arg(keys)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        let report = json_of(&output);
        assert_eq!(report["result"], "bad_input");
        assert_eq!(report["exit_code"], 2);
    }
    // Usage errors are exit 2 too (no --keys, no source, unknown flag).
    for args in [
        &["verify", "bundle", "x.json"][..],
        &["verify", "ledger"][..],
        &[
            "verify",
            "ledger",
            "--url",
            "http://127.0.0.1:1",
            "--dir",
            ".",
        ][..],
        &["reviews", "deny", "some-id"][..],
        &["token", "verify", "t", "--tool", "x"][..],
        &["frobnicate"][..],
    ] {
        let output = ledgix().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}

/// A change to the exported `{"entries"}` and `{"checkpoints"}` documents.
type Edit = fn(&mut Value, &mut Value);

/// Writes the fixture ledger in the contract layout: ledger.json, checkpoints.json, jwks.json.
fn export(set: &str, name: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> TempDir {
    let source = fixtures().join(set);
    let whole = read_json(&source.join("ledger.json"));
    let mut entries = json!({"entries": whole["entries"]});
    let mut checkpoints = json!({"checkpoints": whole["checkpoints"]});
    edit(&mut entries, &mut checkpoints);
    let dir = temp_dir(name);
    std::fs::write(dir.join("ledger.json"), entries.to_string()).unwrap();
    std::fs::write(dir.join("checkpoints.json"), checkpoints.to_string()).unwrap();
    std::fs::copy(source.join("trusted_jwks.json"), dir.join("jwks.json")).unwrap();
    dir
}

fn verify_dir(dir: &Path, extra: &[&str]) -> (Option<i32>, Value) {
    let output = ledgix()
        .args(["verify", "ledger", "--json", "--dir"])
        .arg(dir)
        .args(extra)
        .output()
        .unwrap();
    (output.status.code(), json_of(&output))
}

#[test]
fn whole_ledgers_verify_in_both_folder_layouts() {
    for set in ["ledger", "ledger-v2", "ledger-v3"] {
        // The fixture layout: entries and checkpoints in one ledger.json, keys pinned.
        let dir = fixtures().join(set);
        let keys = dir.join("trusted_jwks.json");
        let (code, report) = verify_dir(&dir, &["--keys", keys.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{set}: {report}");
        assert_eq!(report["entries"], report["entries_verified"]);
        assert_eq!(report["chain_from_genesis"], true);
        assert_eq!(report["latest_root_checked"], true);
        assert_only_unpinned_warnings(&report, set);

        // The contract layout, keys from the folder's jwks.json.
        let exported = export(set, &format!("{set}-export"), |_, _| {});
        let (code, report) = verify_dir(&exported, &[]);
        assert_eq!(code, Some(0), "{set}: {report}");
        assert!(
            report["keys"]["source"]
                .as_str()
                .unwrap()
                .contains("jwks.json")
        );
    }
}

#[test]
fn a_tampered_ledger_is_refused_with_its_first_problem() {
    let cases: [(&str, Edit, &str); 4] = [
        (
            "entry-reason",
            |e, _| e["entries"][5]["reason"] = json!("approved, honestly"),
            "entries: event body, leaf hash and receipt",
        ),
        (
            "chain",
            |_, c| c["checkpoints"][1]["prev_checkpoint_hash"] = json!("00".repeat(32)),
            "checkpoints: payload, hash and signature",
        ),
        (
            "receipt-signature",
            |e, _| {
                let signature = e["entries"][7]["receipt_signature"].as_str().unwrap();
                let flipped = if signature.starts_with('A') { "B" } else { "A" };
                e["entries"][7]["receipt_signature"] =
                    json!(format!("{flipped}{}", &signature[1..]));
            },
            "keys and signatures",
        ),
        (
            "duplicate",
            |e, _| {
                let copy = e["entries"][2].clone();
                e["entries"].as_array_mut().unwrap().push(copy);
            },
            "unique seq, leaf index and checkpoint ids",
        ),
    ];
    for (name, edit, check) in cases {
        let dir = export("ledger", name, edit);
        let (code, report) = verify_dir(&dir, &[]);
        assert_eq!(code, Some(1), "{name}: {report}");
        assert_eq!(report["result"], "refused", "{name}");
        assert_eq!(report["check"], check, "{name}: {report}");
        assert!(
            report["error"]
                .as_str()
                .unwrap()
                .starts_with("first problem in the folder"),
            "{name}: {report}"
        );
    }
    // Text form: the check on the first line of stderr.
    let dir = export("ledger", "entry-reason-text", cases[0].1);
    let output = ledgix()
        .args(["verify", "ledger", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("REFUSED  check failed: entries: event body, leaf hash and receipt\n  first problem in the folder"),
        "{stderr}"
    );
}

#[test]
fn what_could_not_be_checked_is_said_and_strict_refuses_it() {
    // The chain given from its second checkpoint on: verified from there, said so.
    let dir = export("ledger", "mid-chain", |_, c| {
        c["checkpoints"].as_array_mut().unwrap().remove(0);
    });
    let (code, report) = verify_dir(&dir, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["chain_from_genesis"], false);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("mid-chain")),
        "{report}"
    );
    let (code, report) = verify_dir(&dir, &["--strict"]);
    assert_eq!(code, Some(1), "{report}");
    assert_eq!(report["check"], "completeness (--strict)");

    // An entry left out: said, and refused with --strict.
    let dir_gap = export("ledger", "gap", |e, _| {
        e["entries"].as_array_mut().unwrap().remove(3);
    });
    let (code, report) = verify_dir(&dir_gap, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["latest_root_checked"], false);
    assert!(
        report["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .starts_with("1 entries missing between the first and the last given (seq 4)")),
        "{report}"
    );
    assert_eq!(verify_dir(&dir_gap, &["--strict"]).0, Some(1));

    // The text form lists it under "not checked".
    let output = ledgix()
        .args(["verify", "ledger", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = text(&output.stdout);
    let not_checked = stdout
        .split_once("\nnot checked\n")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    assert!(
        not_checked.contains("  ! the checkpoints start mid-chain"),
        "{stdout}"
    );
}

#[test]
fn an_incomplete_folder_is_bad_input() {
    let no_keys = export("ledger", "no-keys", |_, _| {});
    std::fs::remove_file(no_keys.join("jwks.json")).unwrap();
    let no_checkpoints = export("ledger", "no-checkpoints", |_, _| {});
    std::fs::remove_file(no_checkpoints.join("checkpoints.json")).unwrap();
    let broken = export("ledger", "broken", |_, _| {});
    std::fs::write(
        broken.join("ledger.json"),
        r#"{"entries": [{"seq": "one"}]}"#,
    )
    .unwrap();
    let empty = temp_dir("empty");
    for (dir, says) in [
        (&no_keys, "no keys"),
        (&no_checkpoints, "has no checkpoints.json"),
        (&broken, "is not a ledger"),
        (&empty, "cannot read the ledger"),
    ] {
        let (code, report) = verify_dir(dir, &[]);
        assert_eq!(code, Some(2), "{says}: {report}");
        assert!(report["error"].as_str().unwrap().contains(says), "{report}");
    }
}

fn vault_fixture(name: &str) -> PathBuf {
    fixtures().join("vault").join(name)
}

fn token(name: &str) -> String {
    std::fs::read_to_string(vault_fixture(name))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn the_vaults_golden_tokens_verify_offline_with_their_binding() {
    let expected = read_json(&vault_fixture("ajwt_expected.json"));
    let args = expected["tool_args"].to_string();
    let jwks = vault_fixture("ajwt_jwks.json");
    let valid = token("ajwt_token_valid.jwt");

    let output = ledgix()
        .args(["token", "verify", &valid, "--jwks"])
        .arg(&jwks)
        .args(["--tool", "stripe.refund.create", "--args", &args])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with("VERIFIED  A-JWT clearing stripe.refund.create"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  ✓ binding    clears exactly stripe.refund.create"),
        "{stdout}"
    );
    assert!(!stdout.contains(&valid), "the token itself is not echoed");

    // From stdin, as JSON.
    let output = ledgix()
        .args(["token", "verify", "-", "--json", "--jwks"])
        .arg(&jwks)
        .write_stdin(format!("{valid}\n"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let report = json_of(&output);
    assert_eq!(report["claims"]["jti"], expected["valid_jti"]);
    assert_eq!(
        report["claims"]["tool_args_hash"],
        expected["tool_args_hash"]
    );
    assert_eq!(report["binding_checked"], false);

    // Other arguments: refused by the binding check, the claims shown unverified.
    let output = ledgix()
        .args(["token", "verify", &valid, "--json", "--jwks"])
        .arg(&jwks)
        .args([
            "--tool",
            "stripe.refund.create",
            "--args",
            r#"{"amount": 1000000}"#,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["check"], "binding", "{report}");
    assert_eq!(report["claims_unverified"]["tool"], "stripe.refund.create");

    // Another tool: also the binding.
    let output = ledgix()
        .args(["token", "verify", &valid, "--json", "--jwks"])
        .arg(&jwks)
        .args(["--tool", "stripe.payout.create", "--args", &args])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_of(&output)["check"], "binding");
}

#[test]
fn expired_forged_and_malformed_tokens_are_refused() {
    let jwks = vault_fixture("ajwt_jwks.json");
    let expected = read_json(&vault_fixture("ajwt_expected.json"));
    let expired = token("ajwt_token_expired.jwt");
    let output = ledgix()
        .args(["token", "verify", &expired, "--json", "--jwks"])
        .arg(&jwks)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["check"], "claims", "{report}");
    assert!(
        report["error"].as_str().unwrap().contains("expired"),
        "{report}"
    );

    // Judged at a moment before it expired, it verifies.
    let before = expected["expired_exp_unix"].as_u64().unwrap() - 60;
    let output = ledgix()
        .args(["token", "verify", &expired, "--jwks"])
        .arg(&jwks)
        .args(["--at", &before.to_string()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    // A signature byte changed: the signature check.
    let valid = token("ajwt_token_valid.jwt");
    let (head, signature) = valid.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{head}.{flipped}{}", &signature[1..]);
    let output = ledgix()
        .args(["token", "verify", &forged, "--json", "--jwks"])
        .arg(&jwks)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_of(&output)["check"], "signature");

    // Another audience expected: the claims check.
    let output = ledgix()
        .args([
            "token",
            "verify",
            &valid,
            "--json",
            "--audience",
            "payments-gateway",
            "--jwks",
        ])
        .arg(&jwks)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json_of(&output)["check"], "claims");

    // alg none: the format check; not a token at all: too.
    let none = "eyJhbGciOiJub25lIiwia2lkIjoidmF1bHQtdGVzdC1rZXktMDAxIn0.e30.";
    for bad in [none, "not-a-token"] {
        let output = ledgix()
            .args(["token", "verify", bad, "--json", "--jwks"])
            .arg(&jwks)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(1), "{bad}");
        assert_eq!(json_of(&output)["check"], "format", "{bad}");
    }

    // Unusable input: bad JWKS file, arguments that are not an object, an empty stdin.
    let output = ledgix()
        .args(["token", "verify", &valid, "--jwks"])
        .arg(vault_fixture("ajwt_expected.json"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let output = ledgix()
        .args([
            "token", "verify", &valid, "--tool", "t", "--args", "[1, 2]", "--jwks",
        ])
        .arg(&jwks)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--args must be a JSON object, got `[1, 2]`"));
    let output = ledgix()
        .args(["token", "verify", "-", "--jwks"])
        .arg(&jwks)
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn help_has_an_example_for_every_subcommand() {
    for args in [
        &["--help"][..],
        &["verify", "bundle", "--help"][..],
        &["verify", "ledger", "--help"][..],
        &["reviews", "list", "--help"][..],
        &["reviews", "approve", "--help"][..],
        &["reviews", "deny", "--help"][..],
        &["status", "--help"][..],
        &["token", "verify", "--help"][..],
        &["help", "mock-vault"][..],
    ] {
        let output = ledgix().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{args:?}");
        let help = text(&output.stdout);
        assert!(help.contains("Example"), "{args:?}:\n{help}");
        assert!(help.contains("ledgix "), "{args:?}");
    }
    let output = ledgix().args(["mock-vault", "--help"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = text(&output.stdout);
    assert!(
        help.starts_with("usage: ledgix mock-vault [options]"),
        "{help}"
    );
    assert!(
        help.contains("--seal-every DURATION") && help.contains("example:"),
        "{help}"
    );
    let output = ledgix()
        .args(["mock-vault", "--port", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown option `--port`"));
    let output = ledgix().arg("--version").output().unwrap();
    assert_eq!(
        text(&output.stdout).trim(),
        format!("ledgix {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_redacted_bundle_verifies_what_it_can_and_says_what_it_could_not() {
    let dir = fixtures().join("ledger");
    let mut bundle = read_json(&dir.join("bundles/valid-005.json"));
    bundle["event"]["intent_hash"] = json!("");
    let tmp = temp_dir("redacted");
    let file = tmp.join("redacted.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let keys = dir.join("trusted_jwks.json");
    let run = |extra: &[&str]| {
        ledgix()
            .args(["verify", "bundle"])
            .arg(&file)
            .arg("--keys")
            .arg(&keys)
            .args(extra)
            .output()
            .unwrap()
    };
    let output = run(&["--json"]);
    assert_eq!(output.status.code(), Some(0));
    let report = json_of(&output);
    assert_eq!(report["event_body_verified"], false);
    assert!(report["warnings"][0].as_str().unwrap().contains("redacted"));
    let output = run(&[]);
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("  ! 2 event body, leaf hash and receipt"),
        "{stdout}"
    );
    let output = run(&["--strict", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let report = json_of(&output);
    assert_eq!(report["check"], "completeness (--strict)");
    assert_eq!(report["report"]["event_body_verified"], false);
}

/// The only warnings a fixture ledger may carry: entries whose numbers the hash cannot pin.
fn assert_only_unpinned_warnings(report: &Value, set: &str) {
    let warnings = report["warnings"].as_array().unwrap();
    let unpinned = report["unpinned_numbers"].as_array().unwrap();
    assert_eq!(warnings.len(), unpinned.len(), "{set}: {report}");
    for w in warnings {
        assert!(
            w.as_str()
                .unwrap()
                .contains("numbers its float64 hash cannot pin"),
            "{set}: {w}"
        );
    }
}
