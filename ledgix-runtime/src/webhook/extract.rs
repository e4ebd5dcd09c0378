//! The axum extractor: read the raw body (bounded), verify its signature, then parse it.

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, Request};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::de::DeserializeOwned;

use super::{SIGNATURE_HEADER, WebhookError, WebhookVerifier};

/// An axum extractor for a signed webhook (feature `gateway`): it reads the raw body (up to
/// [`WebhookVerifier::max_body_bytes`], 1 MiB by default), verifies `X-Ledgix-Signature` with
/// the [`WebhookVerifier`] in the router's state, and only then parses the body as JSON into
/// `T`.
///
/// Refusals, with a JSON body `{"error": "<code>", "message": "<what and why>"}` (see
/// [`WebhookError::code`]): 401 for a missing, malformed or wrong signature (or no secret
/// configured), 413 for a body over the limit, 400 for a body that cannot be read or is not
/// the JSON expected. The handler does not run on a refusal.
///
/// The state must hold the verifier: `WebhookVerifier: FromRef<S>` (true when the state *is*
/// the verifier, or derive `FromRef` on a state struct holding one).
///
/// ```no_run
/// use axum::{Router, routing::post};
/// use ledgix_runtime::webhook::{VerifiedWebhook, WebhookEvent, WebhookVerifier};
///
/// async fn on_event(VerifiedWebhook(event): VerifiedWebhook<WebhookEvent>) {
///     println!("{} {} is {}", event.event_type, event.request_id, event.status);
/// }
///
/// let verifier = WebhookVerifier::new([std::env::var("LEDGIX_WEBHOOK_SECRET").unwrap()]);
/// let app: Router = Router::new().route("/ledgix", post(on_event)).with_state(verifier);
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
#[derive(Debug, Clone)]
pub struct VerifiedWebhook<T>(pub T);

impl<S, T> FromRequest<S> for VerifiedWebhook<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
    WebhookVerifier: FromRef<S>,
{
    type Rejection = WebhookError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = WebhookVerifier::from_ref(state);
        let limit = verifier.body_limit();
        let (parts, body) = req.into_parts();
        let mut signatures = parts.headers.get_all(SIGNATURE_HEADER).iter();
        let signature = match (signatures.next(), signatures.next()) {
            (Some(one), None) => one,
            (Some(_), Some(_)) => return Err(WebhookError::MissingSignature { duplicate: true }),
            (None, _) => return Err(WebhookError::MissingSignature { duplicate: false }),
        };
        // A signature that is not even text cannot be right: refused before the body is read.
        let signature = signature
            .to_str()
            .map_err(|_| WebhookError::MalformedSignature)?;
        // A declared length over the limit is refused before reading anything.
        if let Some(length) = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            && length > limit as u64
        {
            return Err(WebhookError::TooLarge { limit });
        }
        let bytes = read_limited(body, limit).await?;
        verifier.verify(&bytes, signature)?;
        serde_json::from_slice(&bytes)
            .map(VerifiedWebhook)
            .map_err(|e| WebhookError::InvalidJson(e.to_string()))
    }
}

/// Reads at most `limit` bytes of `body`; more is [`WebhookError::TooLarge`] (the rest is
/// never read).
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, WebhookError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(WebhookError::TooLarge { limit })
        }
        Err(e) => Err(WebhookError::Body(e.to_string())),
    }
}

impl WebhookError {
    /// The HTTP status this refusal is answered with.
    fn status(&self) -> StatusCode {
        match self {
            WebhookError::MissingSignature { .. }
            | WebhookError::MalformedSignature
            | WebhookError::Mismatch
            | WebhookError::NoSecret => StatusCode::UNAUTHORIZED,
            WebhookError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            WebhookError::Body(_) | WebhookError::InvalidJson(_) => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg_attr(docsrs, doc(cfg(feature = "gateway")))]
impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.code(), "message": self.to_string()});
        let mut response = (self.status(), body.to_string()).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}
