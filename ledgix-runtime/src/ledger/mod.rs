//! Offline verification of the Vault's tamper-evident ledger (LEDGER.md).
//!
//! Every terminal decision is a ledger event whose hash the Vault signs at once in a
//! receipt; a sealer later appends its leaf to an RFC 6962 Merkle tree and signs a
//! checkpoint over the tree. [`verify_proof_bundle`] checks one decision against keys the
//! caller trusts — stricter than both official SDKs: keys a bundle embeds are never trusted
//! on their own, the event hash is always recomputed from the body, and the inclusion proof
//! must be about the very event it comes with. [`verify_ledger`] checks whole lists of
//! entries and checkpoints.
//!
//! ```no_run
//! use ledgix_runtime::ledger::{self, ProofBundle, TrustedKeys};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = TrustedKeys::from_jwks_json(&std::fs::read_to_string("vault-jwks.json")?)?;
//! let bundle: ProofBundle = serde_json::from_str(&std::fs::read_to_string("bundle.json")?)?;
//! let verified = ledger::verify_proof_bundle(&bundle, &keys)?;
//! assert!(verified.event_body_verified, "a redacted row: only its receipt was checked");
//! println!("{} is leaf {} of {}", verified.request_id, verified.leaf_index, verified.tree_size);
//! # Ok(()) }
//! ```
//!
//! Modules: [`cbor`] (deterministic encoding), [`hash`] (event, receipt and checkpoint
//! payloads and hashes — also the building blocks of a ledger writer), [`merkle`] (RFC 9162
//! proofs).

mod bundle;
pub mod cbor;
mod error;
pub mod hash;
mod keys;
pub mod merkle;
mod numbers;
mod parse;
mod verify;

pub use bundle::{
    CheckpointPage, ConsistencyProof, InclusionProof, LedgerCheckpoint, LedgerEntry,
    LedgerKeyVersion, LedgerPage, ProofBundle,
};
pub use error::LedgerError;
pub use hash::{EventEncoding, EventLayout};
pub use keys::TrustedKeys;
pub use merkle::MerkleError;
pub use verify::{BundleVerification, LedgerVerification, verify_ledger, verify_proof_bundle};
