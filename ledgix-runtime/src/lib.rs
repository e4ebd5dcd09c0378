//! Runtime of the Ledgix Rust SDK.
//!
//! Everything that runs when a guarded tool call asks the Ledgix Vault for clearance:
//! configuration ([`Config`]), the HTTP client with retries and polling ([`LedgixClient`]),
//! the wire types ([`ClearanceRequest`], [`ClearanceResponse`]), A-JWT verification with
//! argument binding ([`token`]), the task-local clearance ([`current_token`]), the imperative
//! guard both macros expand to ([`ToolCall`]), the `ledgix.json` manifest at run time
//! ([`Manifest`]), offline ledger verification ([`ledger`]) and, behind the `mock` feature, a
//! stateful fake Vault on loopback (`mock`).
//!
//! Every item has one public path: the crate root, or the module named in its path for the
//! [`ledger`], [`token`], [`webhook`], `redis` and `mock` modules.
//!
//! Most users depend on the `ledgix` facade crate, which re-exports this crate and adds the
//! `#[guarded]` and `instrument!` macros.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]

#[cfg(any(feature = "rmcp", feature = "rig"))]
mod adapter;
mod b64;
mod client;
mod config;
mod context;
mod counterparty;
mod error;
#[cfg(feature = "gateway")]
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
pub mod gateway;
mod guard;
mod hex;
mod jwk;
pub mod ledger;
mod macro_support;
mod manifest;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
mod protocol;
mod random;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
mod reviews;
#[cfg(feature = "rig")]
#[cfg_attr(docsrs, doc(cfg(feature = "rig")))]
pub mod rig;
#[cfg(feature = "rmcp")]
#[cfg_attr(docsrs, doc(cfg(feature = "rmcp")))]
pub mod rmcp;
mod sleep;
pub mod token;
pub mod webhook;

pub use client::{LedgixClient, PendingApproval, configure, propagate, with_client};
pub use config::{Config, ConfigBuilder, ReviewMode};
pub use context::{
    current_claims, current_clearance, current_token, delegated_client, with_delegation,
};
pub use counterparty::{CounterpartyHint, extract_counterparty};
pub use error::{ConnectionError, Denial, Error, MAX_REASON_SHOWN};
pub use guard::ToolCall;
pub use jwk::{Jwk, JwkError, KeySet};
pub use manifest::{Manifest, ManifestEntry};
pub use protocol::{
    ClearanceRequest, ClearanceResponse, ClearanceStatus, ConfidenceBucket, DecisionStatus,
    MintTokenRequest, MintTokenResponse, PolicyRegistration, PolicyRegistrationResponse,
    ProtocolError, ReviewDecision,
};
pub use reviews::PendingReview;
pub use sleep::{SleepFuture, Sleeper, TokioSleeper};
pub use token::binding::tool_args_hash;
pub use token::claims::{Audience, TokenClaims};
pub use token::store::{MemoryReplayStore, ReplayStore};
pub use token::verifier::TokenVerifier;
pub use webhook::verify_webhook;

/// Items the macros expand to. Not a public API: names here may change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::guard::ToolCall;
    pub use crate::macro_support::*;
    pub use serde_json;

    /// Duration parsing of the `LEDGIX_*` variables, for this crate's own binaries.
    pub use crate::config::parse_duration;
}
