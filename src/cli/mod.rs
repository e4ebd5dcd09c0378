//! The `ledgix` command: what auditors and operators run. Verify proof bundles and whole
//! ledgers offline against keys they trust, work the review queue, look up a request, check an
//! A-JWT and its binding, and run the mock Vault.
//!
//! Exit codes: 0 done / verified, 1 refused (a check failed, or the Vault refused the action),
//! 2 bad input (usage, unreadable or malformed files, unusable keys or settings), 3 the Vault
//! could not be reached or answered with an error.

mod mock_vault;
mod output;
mod token;
mod vault;
mod verify;

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use output::{EXIT_OK, Failure, Out};

const ABOUT: &str = "Verify Ledgix proof bundles and ledgers offline, work the review queue, \
                     check A-JWTs, run the mock Vault.";

const LONG_ABOUT: &str = "\
Verify Ledgix proof bundles and ledgers offline, work the review queue, check A-JWTs, run the
mock Vault.

Commands that talk to a Vault read the SDK's variables: LEDGIX_VAULT_URL (default
http://localhost:8000; --url overrides it), LEDGIX_VAULT_API_KEY, LEDGIX_VAULT_TIMEOUT,
LEDGIX_MAX_RETRIES, LEDGIX_JWT_ISSUER, LEDGIX_JWT_AUDIENCE, ...

Exit codes: 0 done or verified; 1 refused (a check failed, or the Vault refused the action);
2 bad input (usage, unreadable or malformed file, unusable keys or settings); 3 the Vault could
not be reached or answered with an error. Text output is coloured only on a terminal and never
with NO_COLOR set; --json prints one JSON document for scripts.";

const EXAMPLES: &str = "\
Examples:
  ledgix verify bundle bundle.json --keys vault-jwks.json
  ledgix verify ledger --url https://vault.example.com
  ledgix reviews list
  ledgix reviews deny 6f1c9a2e-… --reason \"amount above the refund cap\"
  ledgix status 6f1c9a2e-…
  ledgix token verify \"$TOKEN\" --tool stripe_refund --args '{\"amount\": 45}'
  ledgix mock-vault --rules rules.json";

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "ledgix",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    propagate_version = true
)]
pub(crate) struct Cli {
    /// Print one JSON document on stdout instead of text (for scripts).
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Verify a proof bundle or a whole ledger offline, against keys you trust.
    #[command(subcommand)]
    Verify(VerifyCommand),

    /// List the calls held for a human reviewer; approve or deny one.
    #[command(subcommand)]
    Reviews(ReviewsCommand),

    /// Show where a clearance request stands (GET /clearance-status/ID).
    #[command(after_help = "Example:\n  ledgix status 6f1c9a2e-4b7d-4c1e-9f00-2a9d3c1b8e77")]
    Status(StatusArgs),

    /// Check an A-JWT: signature, claims, and its binding to a tool and arguments.
    #[command(subcommand)]
    Token(TokenCommand),

    /// Run the mock Vault (the options of ledgix-mock-vault; see `ledgix mock-vault --help`).
    #[command(
        disable_help_flag = true,
        after_help = "Example:\n  ledgix mock-vault --listen 127.0.0.1:8000 --rules rules.json --seed demo"
    )]
    MockVault {
        /// Options of the mock Vault (`--help` lists them).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "OPTIONS"
        )]
        options: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum VerifyCommand {
    /// Verify one decision's proof bundle (GET /ledger/proof/bundle?request_id=…): signatures
    /// under your keys, the event body, the inclusion and consistency proofs.
    #[command(after_help = "Example:\n  ledgix verify bundle bundle.json --keys vault-jwks.json")]
    Bundle(verify::BundleArgs),

    /// Verify a whole ledger: every entry, every checkpoint, the chain and the roots.
    #[command(after_help = "\
Examples:
  ledgix verify ledger --url https://vault.example.com --keys vault-jwks.json
  ledgix verify ledger --dir ./ledger-export

A --dir holds ledger.json (the answer of GET /ledger: {\"entries\": [...]}), checkpoints.json
(GET /ledger/checkpoints) and jwks.json (GET /.well-known/jwks.json); --keys pins keys you
obtained independently instead of the jwks.json beside the data.")]
    Ledger(verify::LedgerArgs),
}

#[derive(Debug, Subcommand)]
enum ReviewsCommand {
    /// List the calls waiting for a reviewer (GET /reviews; the mock Vault serves it).
    #[command(
        after_help = "Example:\n  LEDGIX_VAULT_URL=http://127.0.0.1:8000 ledgix reviews list"
    )]
    List(VaultArgs),

    /// Approve a held call: the agent's call then runs (POST /reviews/ID/decision).
    #[command(
        after_help = "Example:\n  ledgix reviews approve 6f1c9a2e-4b7d-4c1e-9f00-2a9d3c1b8e77 --reason \"checked the invoice\""
    )]
    Approve(vault::DecideArgs),

    /// Deny a held call, with the reason the agent will see (POST /reviews/ID/decision).
    #[command(
        after_help = "Example:\n  ledgix reviews deny 6f1c9a2e-4b7d-4c1e-9f00-2a9d3c1b8e77 --reason \"amount above the refund cap\""
    )]
    Deny(vault::DenyArgs),
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Verify an A-JWT offline (--jwks) or against a Vault's keys (--url, default the
    /// configured Vault); with --tool and --args, check that it clears exactly that call.
    #[command(after_help = "\
Examples:
  ledgix token verify eyJhbGciOiJFZERTQSIs… --jwks vault-jwks.json
  echo \"$TOKEN\" | ledgix token verify - --url http://127.0.0.1:8000 \\
      --tool stripe_refund --args '{\"amount\": 45, \"reason\": \"duplicate\"}'")]
    Verify(token::VerifyArgs),
}

/// Which Vault to talk to.
#[derive(Debug, Clone, Args)]
pub(crate) struct VaultArgs {
    /// Base URL of the Vault [default: $LEDGIX_VAULT_URL, else http://localhost:8000].
    #[arg(long, value_name = "URL")]
    pub(crate) url: Option<String>,
}

/// `ledgix status`.
#[derive(Debug, Clone, Args)]
pub(crate) struct StatusArgs {
    /// The request id (the Vault's `request_id`).
    #[arg(value_name = "ID")]
    pub(crate) request_id: String,
    #[command(flatten)]
    pub(crate) vault: VaultArgs,
    /// Also print the A-JWT of an approved request (a bearer credential: keep it private).
    #[arg(long)]
    pub(crate) show_token: bool,
}

/// A file path argument, named in messages.
pub(crate) fn read_file(path: &Path, what: &str, hint: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| {
        Failure::bad_input(
            format!("cannot read the {what} {}: {e}", path.display()),
            hint,
        )
    })
}

/// Runs the command line; returns the process's exit code.
pub(crate) fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    // `ledgix mock-vault ...` hands everything after it to the mock Vault's own parser (the
    // same as ledgix-mock-vault's), `--help` included.
    if args.get(1).is_some_and(|a| a == "mock-vault") {
        let rest = args
            .iter()
            .skip(2)
            .map(|a| a.to_string_lossy().into_owned());
        return mock_vault::main("ledgix mock-vault", rest);
    }
    let cli = Cli::parse_from(args);
    let out = Out::new(cli.json);
    match run(cli.command, &out) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(failure) => out.fail(&failure),
    }
}

fn run(command: Command, out: &Out) -> Result<(), Failure> {
    match command {
        Command::Verify(VerifyCommand::Bundle(args)) => verify::bundle(&args, out),
        Command::Verify(VerifyCommand::Ledger(args)) => {
            block_on(async { verify::ledger(&args, out).await })
        }
        Command::Reviews(ReviewsCommand::List(args)) => {
            block_on(async { vault::list(&args, out).await })
        }
        Command::Reviews(ReviewsCommand::Approve(args)) => {
            block_on(async { vault::approve(&args, out).await })
        }
        Command::Reviews(ReviewsCommand::Deny(args)) => {
            block_on(async { vault::deny(&args, out).await })
        }
        Command::Status(args) => block_on(async { vault::status(&args, out).await }),
        Command::Token(TokenCommand::Verify(args)) => {
            block_on(async { token::verify(&args, out).await })
        }
        Command::MockVault { options } => {
            // Reached only when clap saw global flags before `mock-vault` (`ledgix --json
            // mock-vault`): the mock Vault has no JSON mode.
            let _ = options;
            Err(Failure::bad_input(
                "`--json` does not apply to mock-vault",
                "run `ledgix mock-vault [options]`",
            ))
        }
    }
}

/// Runs `fut` on a current-thread runtime.
fn block_on<F: std::future::Future<Output = Result<(), Failure>>>(fut: F) -> Result<(), Failure> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            Failure::vault(
                format!("cannot start the async runtime: {e}"),
                "this is a system problem (threads, file descriptors), not a Vault one",
            )
        })?;
    runtime.block_on(fut)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_has_an_example() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        for group in cli.get_subcommands() {
            let leaves: Vec<_> = if group.has_subcommands() {
                group.get_subcommands().collect()
            } else {
                vec![group]
            };
            for leaf in leaves {
                let help = leaf
                    .get_after_help()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                if !help.contains("ledgix ") {
                    missing.push(leaf.get_name().to_string());
                }
            }
        }
        assert!(missing.is_empty(), "no example in the help of {missing:?}");
    }

    #[test]
    fn json_is_global_and_urls_are_optional() {
        let cli = Cli::try_parse_from(["ledgix", "reviews", "list", "--json"]).unwrap();
        assert!(cli.json);
        let cli =
            Cli::try_parse_from(["ledgix", "status", "r1", "--url", "http://127.0.0.1:1"]).unwrap();
        let Command::Status(args) = cli.command else {
            panic!("status expected");
        };
        assert_eq!(args.vault.url.as_deref(), Some("http://127.0.0.1:1"));
        assert!(Cli::try_parse_from(["ledgix", "reviews", "deny", "r1"]).is_err());
    }
}
