//! The arguments of the payment tools in `examples/mcp_server.rs`: the input schema the MCP peer
//! sees, field docs included. `tests/rmcp_adapter.rs` and the bench's `mcp` section include this
//! same file (`#[path = ...] mod payment_args;`), so the three serve one set of types.

use rmcp::schemars;
use serde::Deserialize;

/// Arguments of `create_stripe_payment`.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct Payment {
    /// Amount in the currency's smallest unit (cents).
    pub amount: u64,
    /// Three-letter ISO currency code, lowercase.
    pub currency: String,
    /// The Stripe customer to charge.
    pub customer_id: String,
}

/// Arguments of `stripe_refund`.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct Refund {
    /// The charge to refund.
    pub charge_id: String,
    /// Amount to refund, in the currency's smallest unit.
    pub amount: u64,
}

/// Arguments of `lookup_customer`.
#[derive(Deserialize, schemars::JsonSchema)]
pub struct Lookup {
    /// The Stripe customer to look up.
    pub customer_id: String,
}
