//! A stateful fake of the Vault on loopback (feature `mock`). Filled by the mock Vault work.
