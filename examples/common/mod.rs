//! What the examples share: "your Vault, or the embedded mock", and their aligned output lines.
//! Each example declares `mod common;` and uses part of it.
#![allow(dead_code)]

use std::time::Duration;

use ledgix::ConfigBuilder;
use ledgix::mock::{MockVault, Rule};

/// The Vault an example talks to.
pub struct Vault {
    /// The embedded mock Vault, unless `LEDGIX_VAULT_URL` names yours.
    pub mock: Option<MockVault>,
    /// The configuration to reach it; an example adds its agent's identity, then builds.
    pub config: ConfigBuilder,
}

/// Your Vault when `LEDGIX_VAULT_URL` is set (configured by the `LEDGIX_*` variables; a call
/// held for review waits `LEDGIX_REVIEW_TIMEOUT`, 2 minutes unless set), else an embedded mock
/// Vault on loopback that decides by `rules`. Prints which one, under `title`.
pub async fn vault(
    title: &str,
    rules: impl IntoIterator<Item = Rule>,
) -> Result<Vault, ledgix::Error> {
    if std::env::var("LEDGIX_VAULT_URL").is_ok_and(|url| !url.is_empty()) {
        let mut config = ConfigBuilder::from_env()?;
        let url = config.clone().build()?.vault_url().to_string();
        println!("Ledgix {title} · your Vault at {url}\n");
        if std::env::var_os("LEDGIX_REVIEW_TIMEOUT").is_none() {
            config = config.review_timeout(Duration::from_secs(120));
        }
        return Ok(Vault { mock: None, config });
    }
    let mock = MockVault::builder().rules(rules).start().await;
    println!(
        "Ledgix {title} · embedded mock Vault at {} (set LEDGIX_VAULT_URL to use yours)\n",
        mock.url()
    );
    Ok(Vault {
        config: mock.config().to_builder(),
        mock: Some(mock),
    })
}

/// One aligned output line: outcome, tool, request id (its first 8 characters), detail.
/// A line with neither outcome nor id continues the one above.
pub fn line(outcome: &str, tool: &str, request_id: &str, detail: &str) {
    let rid = match request_id {
        "" if outcome.is_empty() => String::new(),
        "" => "request_id -".to_string(),
        id => format!("request_id {}", id.get(..8).unwrap_or(id)),
    };
    println!("  {outcome:<9} {tool:<22} {rid:<20} {detail}");
}

/// A continuation line under the one above.
pub fn more(detail: &str) {
    line("", "", "", detail);
}

/// A call the Vault did not clear: `denied` with its reason and the message for the model, or
/// `refused` with the error (unreachable Vault, bad token, ...).
pub fn refused(tool: &str, e: &ledgix::Error) {
    match e {
        ledgix::Error::Denied(denial) => {
            line(
                "denied",
                tool,
                &denial.request_id,
                &format!("reason: {}", denial.reason),
            );
            more("tool_message() for the model:");
            for text in wrap(&e.tool_message(), 64) {
                more(&format!("  │ {text}"));
            }
        }
        other => line(
            "refused",
            tool,
            other.request_id().unwrap_or(""),
            &other.to_string(),
        ),
    }
}

/// The outcome column for an error: `denied` or `refused`.
pub fn outcome(e: &ledgix::Error) -> &'static str {
    if e.is_denied() { "denied" } else { "refused" }
}

/// Splits `text` into lines of at most `width` characters, at spaces.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let current = lines.last_mut().expect("never empty");
        if !current.is_empty() && current.chars().count() + 1 + word.chars().count() > width {
            lines.push(word.to_string());
        } else {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
    }
    lines
}
