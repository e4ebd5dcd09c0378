//! [`GatewayLayer`]: the gateway as a tower layer, for axum's `Router::layer`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower::{Layer, Service};
use tracing::Instrument;

use super::{Gateway, GatewayError, record_outcome, request_span};

/// A [`tower::Layer`] that puts a [`Gateway`] in front of a service: every request is checked
/// first, and only the ones it passes reach the service (headers rewritten, claims in the
/// extensions, body unchanged); the others are answered with the refusal
/// ([`GatewayError`]). Usable as axum `Router::layer` / `Route::layer`.
///
/// Made by [`Gateway::layer`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct GatewayLayer {
    gateway: Gateway,
}

impl GatewayLayer {
    pub(crate) fn new(gateway: Gateway) -> Self {
        GatewayLayer { gateway }
    }
}

impl<S> Layer<S> for GatewayLayer {
    type Service = GatewayService<S>;

    fn layer(&self, inner: S) -> GatewayService<S> {
        GatewayService {
            gateway: self.gateway.clone(),
            inner,
        }
    }
}

/// The service [`GatewayLayer`] wraps around `S`: it calls `S` only with a request the gateway
/// passed.
#[derive(Debug, Clone)]
pub struct GatewayService<S> {
    gateway: Gateway,
    inner: S,
}

impl<S, B> Service<Request<B>> for GatewayService<S>
where
    S: Service<Request<Body>> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The service that was polled ready handles this request; a clone takes its place.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gateway = self.gateway.clone();
        let span = request_span(request.method().as_str(), request.uri().path());
        let instrumented = span.clone();
        Box::pin(
            async move {
                let admitted = gateway.admit(request, &span).await;
                record_outcome(&span, &admitted);
                match admitted {
                    Ok(request) => inner.call(request).await.map(IntoResponse::into_response),
                    Err(refusal) => Ok(refusal.into_response()),
                }
            }
            .instrument(instrumented),
        )
    }
}

/// Reads `body` whole, but never more than `max` bytes: past that, [`GatewayError::BodyTooLarge`].
pub(crate) async fn read_limited<B>(body: B, max: usize) -> Result<Bytes, GatewayError>
where
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    match Limited::new(body, max).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(GatewayError::BodyTooLarge { limit: max })
        }
        Err(e) => Err(GatewayError::InvalidBody(format!(
            "the body could not be read: {e}"
        ))),
    }
}
