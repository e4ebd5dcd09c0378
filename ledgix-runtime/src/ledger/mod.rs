//! Offline verification of the Vault's ledger. Filled by the ledger work.

/// Why a ledger verification failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Placeholder until the ledger module lands.
    #[error("ledger verification failed: {0}")]
    Invalid(String),
}
