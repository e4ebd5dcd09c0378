//! One HTTP exchange with retries, inside the deadline of its call: transport errors,
//! timeouts and 500/502/503/504 are retried up to `max_retries` with full-jitter exponential
//! backoff; 429 waits `Retry-After` without using up retries, until more than
//! [`MAX_429_PER_REQUEST`] came for the request (5xx in between do not reset the count). No
//! wait goes past the call's [`Deadline`]: when the next try would start after it, the request
//! ends with the error it has.

use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use reqwest::Url;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::config::Config;
use crate::error::{ConnectionError, Error};

/// Cap of one backoff step.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Cap of a `Retry-After` wait.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);
/// More 429 answers than this to one request is [`Error::QueueSaturated`].
pub(crate) const MAX_429_PER_REQUEST: u32 = 10;
/// Largest answer body read (a page of 500 ledger entries is a few MiB at most).
pub(crate) const MAX_ANSWER_BODY: usize = 16 * 1024 * 1024;
/// Error bodies are cut to this many bytes.
const MAX_ERROR_BODY: usize = 1024;

/// The time budget of one call: every retry wait, `Retry-After` and poll pause spends from it.
///
/// Time counts both as slept (through the configured sleeper, so an injected sleeper makes
/// deadlines deterministic in tests) and as elapsed on the clock (so slow answers count too).
/// The deadline bounds waiting: an exchange already in flight when it passes ends within the
/// per-exchange `timeout`.
#[derive(Debug)]
pub(crate) struct Deadline {
    started: Instant,
    budget: Duration,
    slept: Duration,
    /// Whether a wait was refused because it would have ended past the deadline.
    cut: bool,
}

impl Deadline {
    /// A deadline `budget` from now.
    pub(crate) fn after(budget: Duration) -> Self {
        Deadline {
            started: Instant::now(),
            budget,
            slept: Duration::ZERO,
            cut: false,
        }
    }

    /// Time spent so far.
    pub(crate) fn spent(&self) -> Duration {
        self.slept.max(self.started.elapsed())
    }

    /// Time left before the deadline.
    pub(crate) fn remaining(&self) -> Duration {
        self.budget.saturating_sub(self.spent())
    }

    /// True once the deadline has passed.
    pub(crate) fn is_over(&self) -> bool {
        self.remaining().is_zero()
    }

    /// True when a wait was refused because the deadline came first.
    pub(crate) fn was_cut(&self) -> bool {
        self.cut
    }

    /// Sleeps `wait` before another try, if the try would still start before the deadline;
    /// otherwise sleeps nothing and returns false.
    pub(crate) async fn wait_to_retry(&mut self, config: &Config, wait: Duration) -> bool {
        if wait >= self.remaining() {
            self.cut = true;
            return false;
        }
        self.sleep(config, wait).await;
        true
    }

    /// Sleeps `wait`, cut to what is left of the budget (a poll pause: the last poll may fall
    /// on the deadline itself).
    pub(crate) async fn pause(&mut self, config: &Config, wait: Duration) {
        let wait = wait.min(self.remaining());
        self.sleep(config, wait).await;
    }

    async fn sleep(&mut self, config: &Config, wait: Duration) {
        if !wait.is_zero() {
            config.sleeper.sleep(wait).await;
            self.slept += wait;
        }
    }
}

/// A whole answer, body read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    /// The body of a 2xx answer; anything else is [`Error::Http`].
    pub(crate) fn into_success(self) -> Result<Bytes, Error> {
        if (200..300).contains(&self.status) {
            Ok(self.body)
        } else {
            Err(http_error(self.status, &self.body))
        }
    }

    /// The `Retry-After` of this answer, capped.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        parse_retry_after(&self.headers, SystemTime::now())
    }
}

/// `Error::Http` with the body cut to 1 KiB.
pub(crate) fn http_error(status: u16, body: &[u8]) -> Error {
    let cut = &body[..body.len().min(MAX_ERROR_BODY)];
    let mut text = String::from_utf8_lossy(cut).into_owned();
    if body.len() > MAX_ERROR_BODY {
        text.push('…');
    }
    Error::Http { status, body: text }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 500 | 502 | 503 | 504)
}

/// What one attempt gave.
enum Attempt {
    Answer(Answer),
    Transport(reqwest::Error),
}

/// Sends the request `build` makes (called again for each attempt, so a body must be cheap to
/// clone) to `url` and reads the answer, applying the retry rules of the protocol within
/// `deadline`.
pub(crate) async fn send_with_retry(
    config: &Config,
    limiter: &tokio::sync::Semaphore,
    deadline: &mut Deadline,
    what: &str,
    url: &Url,
    build: impl Fn() -> reqwest::RequestBuilder,
) -> Result<Answer, Error> {
    let mut attempt: u32 = 0;
    let mut answers_429: u32 = 0;
    let mut last_retry_after: Option<Duration> = None;
    loop {
        let outcome = {
            // A closed semaphore cannot happen (it is never closed); treat it as no limit.
            let _slot = limiter.acquire().await.ok();
            match build().timeout(config.timeout).send().await {
                Ok(resp) => {
                    // Only a caller's own client follows redirects: an answer from elsewhere
                    // is not the Vault's.
                    if resp.url() != url {
                        return Err(Error::Protocol(format!(
                            "{what}: the answer came through a redirect; build the http_client \
                             with reqwest::redirect::Policy::none()"
                        )));
                    }
                    let status = resp.status().as_u16();
                    let headers = resp.headers().clone();
                    match read_capped(resp, MAX_ANSWER_BODY).await {
                        Ok(Some(body)) => Attempt::Answer(Answer {
                            status,
                            headers,
                            body,
                        }),
                        Ok(None) => {
                            return Err(Error::Protocol(format!(
                                "{what}: the answer (HTTP {status}) is larger than \
                                 {MAX_ANSWER_BODY} bytes"
                            )));
                        }
                        Err(e) => Attempt::Transport(e),
                    }
                }
                Err(e) => Attempt::Transport(e),
            }
        };
        let answer = match outcome {
            Attempt::Answer(a) => a,
            Attempt::Transport(e) => {
                if attempt < config.max_retries
                    && deadline
                        .wait_to_retry(config, backoff(config, attempt))
                        .await
                {
                    tracing::debug!(what, attempt, error = %e, "Vault transport error; retried");
                    attempt += 1;
                    continue;
                }
                return Err(connection_error(what, e, attempt + 1, deadline.was_cut()));
            }
        };
        if answer.status == 429 {
            answers_429 += 1;
            let saturated = Error::QueueSaturated {
                attempts: answers_429,
                last_retry_after: answer.retry_after().or(last_retry_after),
            };
            if answers_429 > MAX_429_PER_REQUEST {
                return Err(saturated);
            }
            let wait = match answer.retry_after() {
                Some(d) => {
                    last_retry_after = Some(d);
                    d
                }
                // No Retry-After: back off further with each 429.
                None => backoff(config, answers_429 - 1),
            };
            tracing::debug!(
                what,
                answers_429,
                wait_ms = wait.as_millis() as u64,
                "Vault answered 429"
            );
            if !deadline.wait_to_retry(config, wait).await {
                return Err(saturated);
            }
            continue;
        }
        if is_retryable_status(answer.status)
            && attempt < config.max_retries
            && deadline
                .wait_to_retry(config, backoff(config, attempt))
                .await
        {
            tracing::debug!(
                what,
                attempt,
                status = answer.status,
                "Vault answered 5xx; retried"
            );
            attempt += 1;
            continue;
        }
        return Ok(answer);
    }
}

/// `Error::Connection` for a transport failure, the transport error as its source.
fn connection_error(what: &str, e: reqwest::Error, attempts: u32, cut: bool) -> Error {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "transport error"
    };
    let plural = if attempts == 1 { "" } else { "s" };
    let why = if cut {
        "; the call's deadline left no time for another"
    } else {
        ""
    };
    Error::Connection(ConnectionError::with_source(
        format!("{what}: {kind} (after {attempts} attempt{plural}{why})"),
        e,
    ))
}

/// The body of `resp`, or `None` once it (or its announced `Content-Length`) exceeds `max`
/// bytes: an answer is never buffered without bound.
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Option<Bytes>, reqwest::Error> {
    if resp
        .content_length()
        .is_some_and(|n| usize::try_from(n).map_or(true, |n| n > max))
    {
        return Ok(None);
    }
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await? {
        if chunk.len() > max.saturating_sub(body.len()) {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// Full jitter: uniform in `[0, min(30 s, base · 2^attempt)]`.
pub(crate) fn backoff(config: &Config, attempt: u32) -> Duration {
    let ceiling = backoff_ceiling(config.retry_base_delay, attempt);
    if ceiling.is_zero() {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(ceiling.as_secs_f64() * crate::random::unit())
}

/// `min(30 s, base · 2^attempt)` without overflow.
pub(crate) fn backoff_ceiling(base: Duration, attempt: u32) -> Duration {
    let factor = 2u32.checked_pow(attempt).unwrap_or(u32::MAX);
    base.checked_mul(factor)
        .unwrap_or(MAX_BACKOFF)
        .min(MAX_BACKOFF)
}

/// `Retry-After` as delay-seconds or an HTTP-date, capped at 60 s; `None` when absent or
/// unreadable (the caller falls back to backoff).
pub(crate) fn parse_retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let raw = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(secs) = raw.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = raw.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        Duration::try_from_secs_f64(secs).ok()?
    } else {
        let at = httpdate::parse_http_date(raw).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn retry_after_seconds_date_and_caps() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after(&headers("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            parse_retry_after(&headers("0.5"), now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            parse_retry_after(&headers("3600"), now),
            Some(MAX_RETRY_AFTER)
        );
        let in_5s = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(
            parse_retry_after(&headers(&in_5s), now),
            Some(Duration::from_secs(5))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(
            parse_retry_after(&headers(&past), now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after(&headers("soon"), now), None);
        assert_eq!(parse_retry_after(&headers("-1"), now), None);
        assert_eq!(parse_retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn backoff_doubles_and_caps_without_overflow() {
        let base = Duration::from_millis(500);
        assert_eq!(backoff_ceiling(base, 0), Duration::from_millis(500));
        assert_eq!(backoff_ceiling(base, 1), Duration::from_secs(1));
        assert_eq!(backoff_ceiling(base, 3), Duration::from_secs(4));
        assert_eq!(backoff_ceiling(base, 10), MAX_BACKOFF);
        assert_eq!(backoff_ceiling(base, 40), MAX_BACKOFF);
        assert_eq!(backoff_ceiling(base, u32::MAX), MAX_BACKOFF);
        let config = Config::builder().retry_base_delay(base).build().unwrap();
        for attempt in 0..50 {
            assert!(backoff(&config, attempt) <= backoff_ceiling(base, attempt));
        }
    }

    #[test]
    fn http_errors_cut_long_bodies() {
        match http_error(500, &[b'x'; 5000]) {
            Error::Http { status, body } => {
                assert_eq!(status, 500);
                assert!(body.chars().count() <= MAX_ERROR_BODY + 1);
            }
            other => panic!("{other:?}"),
        }
    }
}
