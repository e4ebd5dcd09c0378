//! [`Cleared`]: the claims of the token the gateway passed, as an axum extractor.

use axum::extract::FromRequestParts;
use http::request::Parts;

use super::GatewayError;
use crate::token::TokenClaims;

/// The verified claims of the token that cleared this request, for a handler behind
/// [`GatewayLayer`](super::GatewayLayer):
///
/// ```
/// use ledgix_runtime::gateway::Cleared;
///
/// async fn refund(Cleared(claims): Cleared) -> String {
///     format!("{} cleared for agent {}", claims.tool, claims.agent_id)
/// }
/// ```
///
/// On a route the gateway does not guard, the extractor refuses the request
/// ([`GatewayError::NotCleared`], 500): the handler never runs without a clearance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleared(pub TokenClaims);

impl<S: Send + Sync> FromRequestParts<S> for Cleared {
    type Rejection = GatewayError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<TokenClaims>()
            .cloned()
            .map(Cleared)
            .ok_or(GatewayError::NotCleared)
    }
}
