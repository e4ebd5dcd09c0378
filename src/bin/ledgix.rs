//! `ledgix`: the command for operators and auditors (feature `cli`).
//!
//! Verify proof bundles and whole ledgers offline against keys you trust, work the review
//! queue, look up a request, check an A-JWT and its binding, and run the mock Vault:
//!
//! ```text
//! cargo install ledgix --features cli
//! ledgix verify bundle bundle.json --keys vault-jwks.json
//! ledgix verify ledger --url https://vault.example.com
//! ledgix reviews list
//! ledgix token verify "$TOKEN" --tool stripe_refund --args '{"amount": 45}'
//! ledgix mock-vault --rules rules.json
//! ```
//!
//! Exit codes: 0 done or verified, 1 refused, 2 bad input, 3 the Vault could not be reached
//! or answered with an error.

#[path = "../cli/mod.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
