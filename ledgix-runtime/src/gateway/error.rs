//! [`GatewayError`]: why the gateway refused a request, as an HTTP answer.

use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};

/// Why the gateway refused a request. The inner service was not called.
///
/// Each refusal has an HTTP status ([`status`](Self::status)), a stable machine-readable code
/// ([`code`](Self::code)) and a message saying what was wrong; as an axum response
/// ([`IntoResponse`]) it is that status with the JSON body
/// `{"error": "<code>", "message": "<what and why>"}`.
///
/// | Variant | Status | `error` |
/// |---|---|---|
/// | [`MissingToken`](Self::MissingToken) | 401 | `missing_token` |
/// | [`InvalidToken`](Self::InvalidToken) | 401 | `invalid_token` |
/// | [`ToolNotAllowed`](Self::ToolNotAllowed) | 403 | `tool_not_allowed` |
/// | [`ArgsMismatch`](Self::ArgsMismatch) | 403 | `args_mismatch` |
/// | [`Replayed`](Self::Replayed) | 403 | `token_replayed` |
/// | [`InvalidBody`](Self::InvalidBody) | 400 | `invalid_body` |
/// | [`BodyTooLarge`](Self::BodyTooLarge) | 413 | `body_too_large` |
/// | [`Unavailable`](Self::Unavailable) | 503 | `verification_unavailable` |
/// | [`NotCleared`](Self::NotCleared) | 500 | `not_cleared` |
///
/// Messages never echo the token or the `Authorization` header; values taken from a token
/// are cut and escaped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// No `Authorization` header.
    #[error("no A-JWT: the request has no `Authorization: Bearer <token>` header")]
    MissingToken,

    /// The `Authorization` header is not one `Bearer <token>`, or the token failed
    /// verification (shape, `alg`, `kid`, signature, `iss`, `aud`, `sub`, `exp`, `nbf`, `iat`,
    /// `jti`, `decision`).
    #[error("invalid A-JWT: {0}")]
    InvalidToken(String),

    /// A valid token that clears a tool this gateway does not accept.
    #[error("the token clears tool `{tool}`, which this gateway does not accept")]
    ToolNotAllowed {
        /// The token's `tool` claim (cut and escaped).
        tool: String,
    },

    /// A valid token whose `tool_args_hash` is not the hash of the arguments in the body.
    #[error("the request's arguments are not the ones the token clears: {0}")]
    ArgsMismatch(String),

    /// A valid token that already passed this gateway (its `jti` is in the replay store).
    #[error("the token (jti {jti}) already passed this gateway: every A-JWT passes once")]
    Replayed {
        /// The token's `jti` (cut and escaped).
        jti: String,
    },

    /// The body cannot be checked against the token: not JSON, not a JSON object, duplicate
    /// keys, no object at the binding's pointer, an unreadable `Content-Length`, or the body
    /// could not be read.
    #[error("the request body cannot be checked against the token: {0}")]
    InvalidBody(String),

    /// The body is larger than the gateway's limit (announced or as read). It was not read
    /// past the limit.
    #[error("the request body is larger than the gateway's limit of {limit} bytes")]
    BodyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },

    /// The gateway cannot verify now: the Vault's JWKS could not be fetched, or the replay
    /// store did not answer. Fail closed: the request is refused, and the token was not used
    /// up, so the caller may retry.
    #[error("the token cannot be verified now: {0}")]
    Unavailable(String),

    /// The [`Cleared`](super::Cleared) extractor ran on a request the gateway did not pass (the
    /// route is not behind [`GatewayLayer`](super::GatewayLayer)): a server configuration error.
    #[error("this route is not behind the Ledgix gateway layer; the request was not cleared")]
    NotCleared,
}

impl GatewayError {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::MissingToken | GatewayError::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            GatewayError::ToolNotAllowed { .. }
            | GatewayError::ArgsMismatch(_)
            | GatewayError::Replayed { .. } => StatusCode::FORBIDDEN,
            GatewayError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            GatewayError::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::NotCleared => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code of this refusal (the `error` field of the JSON body).
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::MissingToken => "missing_token",
            GatewayError::InvalidToken(_) => "invalid_token",
            GatewayError::ToolNotAllowed { .. } => "tool_not_allowed",
            GatewayError::ArgsMismatch(_) => "args_mismatch",
            GatewayError::Replayed { .. } => "token_replayed",
            GatewayError::InvalidBody(_) => "invalid_body",
            GatewayError::BodyTooLarge { .. } => "body_too_large",
            GatewayError::Unavailable(_) => "verification_unavailable",
            GatewayError::NotCleared => "not_cleared",
        }
    }

    /// The JSON body of the refusal: `{"error": "<code>", "message": "<what and why>"}`.
    pub fn to_json(&self) -> String {
        serde_json::json!({"error": self.code(), "message": self.to_string()}).to_string()
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.to_json()).into_response();
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        // RFC 6750 §3: a 401 names the scheme the resource expects.
        match self {
            GatewayError::MissingToken => {
                headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            GatewayError::InvalidToken(_) => {
                headers.insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            _ => {}
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_codes_and_bodies() {
        let cases = [
            (GatewayError::MissingToken, 401, "missing_token"),
            (GatewayError::InvalidToken("x".into()), 401, "invalid_token"),
            (
                GatewayError::ToolNotAllowed { tool: "t".into() },
                403,
                "tool_not_allowed",
            ),
            (GatewayError::ArgsMismatch("x".into()), 403, "args_mismatch"),
            (
                GatewayError::Replayed { jti: "j".into() },
                403,
                "token_replayed",
            ),
            (GatewayError::InvalidBody("x".into()), 400, "invalid_body"),
            (
                GatewayError::BodyTooLarge { limit: 1 },
                413,
                "body_too_large",
            ),
            (
                GatewayError::Unavailable("x".into()),
                503,
                "verification_unavailable",
            ),
            (GatewayError::NotCleared, 500, "not_cleared"),
        ];
        for (error, status, code) in cases {
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(error.code(), code);
            let body: serde_json::Value = serde_json::from_str(&error.to_json()).unwrap();
            assert_eq!(body["error"], code);
            assert_eq!(body["message"], error.to_string());
            let response = error.into_response();
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
            assert_eq!(
                response.headers().contains_key(WWW_AUTHENTICATE),
                status == 401
            );
        }
    }
}
