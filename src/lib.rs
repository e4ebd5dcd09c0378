//! # Ledgix for Rust
//!
//! Ask the Ledgix Vault before an AI agent's tool call runs. Mark an async tool function with
//! [`#[guarded]`](macro@guarded), or list tools in `ledgix.json` and wrap them in
//! [`instrument!`]: the function requests clearance first, runs only when the Vault approved
//! and its A-JWT verified (signature, claims, tool and argument binding), and holds the token
//! in a task-local ([`current_token()`]) while it runs.
//!
//! This crate re-exports [`ledgix_runtime`] and [`ledgix_macros`]; the `mock` feature adds
//! `mock`, a stateful fake Vault on loopback.
#![forbid(unsafe_code)]

pub use ledgix_macros::{guarded, instrument};
pub use ledgix_runtime::*;
