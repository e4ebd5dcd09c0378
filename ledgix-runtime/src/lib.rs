//! Runtime of the Ledgix Rust SDK.
//!
//! Everything that runs when a guarded tool call asks the Ledgix Vault for clearance:
//! configuration ([`Config`]), the HTTP client with retries and polling ([`LedgixClient`]),
//! the wire types ([`protocol`]), A-JWT verification with argument binding ([`token`]),
//! the task-local clearance ([`current_token`]), the imperative guard both macros expand to
//! ([`ToolCall`]), the `ledgix.json` manifest at run time ([`Manifest`]), offline ledger
//! verification ([`ledger`]) and, behind the `mock` feature, a stateful fake Vault on loopback
//! (`mock`).
//!
//! Most users depend on the `ledgix` facade crate, which re-exports this crate and adds the
//! `#[guarded]` and `instrument!` macros.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod b64;
pub mod client;
pub mod config;
pub mod context;
pub mod error;
pub mod guard;
pub mod jwk;
pub mod ledger;
mod macro_support;
mod manifest;
#[cfg(feature = "mock")]
pub mod mock;
pub mod protocol;
mod reviews;
pub mod sleep;
pub mod token;

pub use client::{LedgixClient, PendingApproval};
pub use config::{Config, ConfigBuilder, ReviewMode, configure};
pub use context::{current_claims, current_clearance, current_token, propagate, with_client};
pub use error::{Denial, Error};
pub use guard::ToolCall;
pub use manifest::{Manifest, ManifestEntry};
pub use protocol::{
    ClearanceRequest, ClearanceResponse, ClearanceStatus, ConfidenceBucket, DecisionStatus,
    PolicyRegistration, PolicyRegistrationResponse, ProtocolError,
};
pub use reviews::PendingReview;
pub use sleep::{Sleeper, TokioSleeper};
pub use token::{
    Audience, MemoryReplayStore, ReplayCache, ReplayStore, TokenClaims, TokenSigner, TokenVerifier,
    tool_args_hash,
};

/// Items the macros expand to. Not a public API: names here may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::{ToolCall, tool_args_error};
    pub use crate::macro_support::*;
    pub use serde;
    pub use serde_json;
}
