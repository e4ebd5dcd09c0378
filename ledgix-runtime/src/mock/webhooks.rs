//! The mock Vault's signed webhooks: one event when a call is held for review and one when a
//! reviewer decides it, POSTed by a background task (in order, retried with backoff), never on
//! the path of a decision.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::webhook::{EVENT_HEADER, SIGNATURE_HEADER, WebhookEvent, sign_webhook};

/// Events waiting for delivery at most; more are dropped (and logged) rather than block.
const QUEUE: usize = 1024;
/// Attempts per event: the first and three retries.
pub(crate) const ATTEMPTS: u32 = 4;
/// Pause before the first retry; doubled before each next one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Time allowed for one delivery attempt.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// Deliveries remembered for [`MockVault::webhook_deliveries`](super::MockVault::webhook_deliveries).
const LOG: usize = 1000;

/// The outcome of one webhook event, as the mock Vault sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookDelivery {
    /// The event sent.
    pub event: WebhookEvent,
    /// How many POSTs were made (1 to 4; 0 when the event was dropped unsent).
    pub attempts: u32,
    /// True when the receiver answered 2xx.
    pub delivered: bool,
    /// Why the last attempt failed (an HTTP status or a transport error), when it did.
    pub error: Option<String>,
}

/// Where webhooks go; shared by the Vault (which queues events) and the delivery task.
pub(crate) struct Webhooks {
    queue: mpsc::Sender<WebhookEvent>,
    log: Arc<DeliveryLog>,
}

impl fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

/// The last deliveries, oldest first.
#[derive(Default)]
pub(crate) struct DeliveryLog(Mutex<VecDeque<WebhookDelivery>>);

impl DeliveryLog {
    fn push(&self, delivery: WebhookDelivery) {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if log.len() >= LOG {
            log.pop_front();
        }
        log.push_back(delivery);
    }

    pub(crate) fn snapshot(&self) -> Vec<WebhookDelivery> {
        let log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        log.iter().cloned().collect()
    }
}

impl Webhooks {
    /// Starts the delivery task on the current runtime; it ends when the Vault is dropped (the
    /// queue closes) after sending what was queued.
    pub(crate) fn start(url: reqwest::Url, secret: String, print: bool) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(ATTEMPT_TIMEOUT)
            .build()
            .map_err(|e| format!("mock Vault: cannot build the webhook HTTP client: {e}"))?;
        let (queue, events) = mpsc::channel(QUEUE);
        let log = Arc::new(DeliveryLog::default());
        let sender = Sender {
            http,
            url,
            secret,
            print,
            log: log.clone(),
        };
        tokio::spawn(sender.run(events));
        Ok(Webhooks { queue, log })
    }

    /// Queues `event` without waiting; a full queue drops it (logged), it never blocks.
    pub(crate) fn send(&self, event: WebhookEvent) {
        if let Err(e) = self.queue.try_send(event) {
            let event = match e {
                mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => ev,
            };
            tracing::warn!(
                target: "ledgix::mock",
                request_id = %event.request_id,
                event = %event.event_type,
                "mock Vault: webhook queue full, event dropped"
            );
            self.log.push(WebhookDelivery {
                event,
                attempts: 0,
                delivered: false,
                error: Some("the webhook queue was full".into()),
            });
        }
    }

    /// What was delivered (or given up on) so far, oldest first (the last 1,000).
    pub(crate) fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.log.snapshot()
    }
}

struct Sender {
    http: reqwest::Client,
    url: reqwest::Url,
    secret: String,
    print: bool,
    log: Arc<DeliveryLog>,
}

impl Sender {
    async fn run(self, mut events: mpsc::Receiver<WebhookEvent>) {
        while let Some(event) = events.recv().await {
            let delivery = self.deliver(event).await;
            self.announce(&delivery);
            self.log.push(delivery);
        }
    }

    /// Up to [`ATTEMPTS`] POSTs, pausing 100 ms, 200 ms, 400 ms between them.
    async fn deliver(&self, event: WebhookEvent) -> WebhookDelivery {
        let body = match serde_json::to_vec(&event) {
            Ok(body) => body,
            Err(e) => {
                return WebhookDelivery {
                    event,
                    attempts: 0,
                    delivered: false,
                    error: Some(format!("cannot encode the event: {e}")),
                };
            }
        };
        let signature = sign_webhook(&body, &self.secret);
        let mut pause = FIRST_BACKOFF;
        let mut error = None;
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            let sent = self
                .http
                .post(self.url.clone())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(SIGNATURE_HEADER, &signature)
                .header(EVENT_HEADER, &event.event_type)
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(answer) if answer.status().is_success() => {
                    return WebhookDelivery {
                        event,
                        attempts: attempt,
                        delivered: true,
                        error: None,
                    };
                }
                Ok(answer) => error = Some(format!("HTTP {}", answer.status().as_u16())),
                Err(e) => error = Some(transport_error(&e)),
            }
        }
        WebhookDelivery {
            event,
            attempts: ATTEMPTS,
            delivered: false,
            error,
        }
    }

    fn announce(&self, delivery: &WebhookDelivery) {
        let outcome = if delivery.delivered {
            format!("delivered (attempt {})", delivery.attempts)
        } else {
            format!(
                "given up after {} attempts: {}",
                delivery.attempts,
                delivery.error.as_deref().unwrap_or("unknown error")
            )
        };
        if delivery.delivered {
            tracing::info!(target: "ledgix::mock", request_id = %delivery.event.request_id,
                event = %delivery.event.event_type, "mock Vault: webhook {outcome}");
        } else {
            tracing::warn!(target: "ledgix::mock", request_id = %delivery.event.request_id,
                event = %delivery.event.event_type, "mock Vault: webhook {outcome}");
        }
        if self.print {
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stdout().lock(),
                "webhook {} request_id={} {outcome}",
                delivery.event.event_type,
                delivery.event.request_id
            );
        }
    }
}

/// A transport error in one line: what failed, without the URL's query (none is sent) or any
/// secret (none is in the URL: `webhook()` refuses credentials in it).
fn transport_error(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        what.to_string()
    } else {
        format!("{what}: {cause}")
    }
}

/// Checks the webhook URL: http or https, a host, no credentials in it.
pub(crate) fn parse_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| format!("mock Vault: the webhook URL is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "mock Vault: the webhook URL must be http:// or https://, not {}://",
            parsed.scheme()
        ));
    }
    if parsed.host().is_none() {
        return Err("mock Vault: the webhook URL has no host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("mock Vault: the webhook URL must not carry credentials".into());
    }
    Ok(parsed)
}
