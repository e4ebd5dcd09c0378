//! # Ledgix for Rust
//!
//! Ask the Ledgix Vault before an AI agent's tool call runs. Mark an async tool function with
//! [`#[guarded]`](macro@guarded), or list tools in `ledgix.json` and wrap them in
//! [`instrument!`]: the function requests clearance first, runs only when the Vault approved
//! and its A-JWT verified (signature, claims, tool and argument binding), and holds the token
//! in a task-local ([`current_token()`]) while it runs.
//!
//! Every item has one path: the crate root, or the module it is named in ([`ledger`], [`token`],
//! and `mock`). This crate re-exports [`ledgix_runtime`] and [`ledgix_macros`]; the `mock`
//! feature adds `mock`, a stateful fake Vault on loopback, and `test-util` (also on with
//! `mock`) adds `token::TokenSigner`, to mint A-JWTs in tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use ledgix_macros::{guarded, instrument};
pub use ledgix_runtime::*;

// Named here as well as through the glob: without the feature, `ledgix::mock` fails with
// "found an item that was configured out … gated behind the `mock` feature", not a bare
// "could not find `mock` in `ledgix`" (tests/ui/no_mock_feature.rs in ledgix-macros).
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub use ledgix_runtime::mock;
