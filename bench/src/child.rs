//! A mock Vault in a child process, so that a client's cost (CPU time, memory) is measured
//! without the server's. The child is the running program itself with `--serve-mock`: the
//! `bench` binary dispatches that argument to [`serve_mock`].

use std::io::{BufRead, Write};
use std::process::Stdio;

use ledgix::mock::{MockVault, Rule};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};

use crate::R;

/// The argument that makes the running program serve a mock Vault ([`serve_mock`]).
pub const SERVE_MOCK_ARG: &str = "--serve-mock";

/// A mock Vault in a child process, driven over its stdin.
pub struct ChildVault {
    child: tokio::process::Child,
    to_child: tokio::process::ChildStdin,
    from_child: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    /// The child mock Vault's base URL.
    pub url: String,
}

impl ChildVault {
    /// A client of this Vault (agent `AGENT`) and the floor against it, both with the keys
    /// of one JWKS fetch.
    pub async fn client_and_floor(&self) -> R<(ledgix::LedgixClient, crate::floor::Floor)> {
        let client = ledgix::LedgixClient::new(
            ledgix::Config::builder()
                .vault_url(self.url.clone())
                .agent_id(crate::calls::AGENT)
                .build()?,
        )?;
        let floor = crate::floor::Floor::new(&self.url, &client.fetch_jwks().await?)?;
        Ok((client, floor))
    }

    /// Starts this program with [`SERVE_MOCK_ARG`] and asks its URL.
    pub async fn start() -> R<ChildVault> {
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .arg(SERVE_MOCK_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let to_child = child.stdin.take().ok_or("no stdin")?;
        let from_child = tokio::io::BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let mut vault = ChildVault {
            child,
            to_child,
            from_child,
            url: String::new(),
        };
        vault.url = vault.ask("url").await?;
        Ok(vault)
    }

    /// Sends one command (`url`, `pending`, `approve-all`, `seal`), returns the one-line
    /// answer.
    pub async fn ask(&mut self, command: &str) -> R<String> {
        self.to_child
            .write_all(format!("{command}\n").as_bytes())
            .await?;
        self.to_child.flush().await?;
        let line = self.from_child.next_line().await?;
        let line = line
            .ok_or("the child mock Vault exited")?
            .trim()
            .to_string();
        match line.strip_prefix("error: ") {
            Some(e) => Err(format!("child mock Vault: {e}").into()),
            None => Ok(line),
        }
    }

    /// Closes its input (it exits at end of input) and waits for it.
    pub async fn stop(self) {
        let ChildVault {
            mut child,
            to_child,
            ..
        } = self;
        drop(to_child);
        let _ = child.wait().await;
    }
}

/// Child mode: a mock Vault whose `held_*` tools go to review, driven by one-line commands on
/// stdin: `url`, `pending` (count), `approve-all` (count approved), `seal` (`sealed`). Unknown
/// commands answer `error: …`. Exits at end of input.
pub fn serve_mock() -> R<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let vault = rt.block_on(
        MockVault::builder()
            .rule(Rule::tool("held_*").review())
            .try_start(),
    )?;
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let answer = match line?.trim() {
            "url" => vault.url(),
            "pending" => vault.pending_reviews().len().to_string(),
            "approve-all" => {
                let ids = vault.pending_reviews();
                rt.block_on(async {
                    for id in &ids {
                        vault.decide(id, true, "approved by the bench").await?;
                    }
                    Ok::<_, ledgix::mock::ReviewError>(())
                })?;
                ids.len().to_string()
            }
            "seal" => {
                rt.block_on(vault.seal());
                "sealed".into()
            }
            other => format!("error: unknown command `{other}`"),
        };
        writeln!(out, "{answer}")?;
        out.flush()?;
    }
    Ok(())
}
