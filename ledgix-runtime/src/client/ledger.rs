//! Ledger endpoints of the client (fetching and verifying proof bundles). Filled by the ledger work.
