//! Standalone mock Vault (placeholder).
fn main() {}
