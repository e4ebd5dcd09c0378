//! The `ledgix.json` manifest format and its tool-name globs: one implementation shared by the
//! Ledgix SDK's `instrument!` macro (compile time), `ledgix::Manifest` (run time) and the mock
//! Vault's rules, so all three agree on what a rule matches.
//!
//! ```
//! use ledgix_manifest::{Glob, Manifest};
//!
//! let manifest = Manifest::parse(r#"{"enforce": [
//!     {"tool": "report_[0-9]", "policyId": "reports"},
//!     {"tool": "stripe*", "policy_id": "payments", "context": {"risk_level": "high"}}
//! ]}"#)?;
//! let rule = manifest.first_match("stripe_refund").expect("stripe* matches");
//! assert_eq!(rule.policy_id.as_deref(), Some("payments"));
//! assert!(manifest.first_match("report_10").is_none(), "[0-9] is one character");
//! assert!(Glob::new("wire_?").matches("wire_a"));
//! # Ok::<(), ledgix_manifest::ParseError>(())
//! ```
//!
//! Most users want the `ledgix` crate: this one exists because a proc-macro crate cannot
//! export functions to the runtime, and the macros should not build the whole runtime.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod glob;
mod manifest;

pub use glob::Glob;
pub use manifest::{Manifest, ParseError, Rule, kind as json_kind};

/// The environment variable that names the manifest file (`instrument!` at compile time,
/// `ledgix::Manifest::from_env` at run time).
pub const ENV_VAR: &str = "LEDGIX_MANIFEST";

/// The manifest's file name when nothing names another: `ledgix.json`.
pub const DEFAULT_FILE: &str = "ledgix.json";
