//! `ledgix-mock-vault`: the mock Vault as a process, so any client (the official Python and
//! TypeScript SDKs included) can be pointed at it. The same as `ledgix mock-vault`.
//!
//! ```text
//! cargo run --features mock --bin ledgix-mock-vault -- --listen 127.0.0.1:8000 \
//!     [--api-key KEY] [--rules rules.json] [--seal-every 1s] [--seed TEXT] \
//!     [--webhook-url URL --webhook-secret SECRET]
//! ```
//!
//! It prints `ledgix-mock-vault listening on http://<addr>` once it accepts connections, then
//! one line per decision and per review held (`approved request_id=… tool="…" by=rules
//! reason="…"`), and stops cleanly on Ctrl-C (or SIGTERM).

#[path = "../cli/mock_vault.rs"]
mod mock_vault;

fn main() -> std::process::ExitCode {
    mock_vault::main("ledgix-mock-vault", std::env::args().skip(1))
}
