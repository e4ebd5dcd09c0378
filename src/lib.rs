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
//!
//! # Agent frameworks
//!
//! - Feature `rmcp`: `ledgix::rmcp` guards the tools of an MCP server built with
//!   [rmcp](https://crates.io/crates/rmcp) 3.11, the official Rust MCP SDK.
//!   `rmcp::guard_router(router, manifest)` makes every `tools/call` ask the Vault with the MCP
//!   tool name and the exact arguments object, runs the tool inside the clearance scope, and
//!   answers a denial as a `CallToolResult` with `isError: true` whose text is
//!   [`Error::tool_message`]; `rmcp::Parameters<P>` guards one `#[tool]` method. See
//!   `examples/mcp_server.rs`.
//! - Feature `rig`: `ledgix::rig::Guarded<T>` wraps any [rig](https://rig.rs) tool (same name and
//!   schema); a denial is rig's own refusal. **Needs rustc 1.95 or newer** (rig-core 0.44), unlike
//!   the rest of the crate (MSRV 1.88); it also builds rig-agent, whose `ToolSet` runs the tools.
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
