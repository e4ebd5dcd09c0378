//! A stateful fake of the Vault on loopback (feature `mock`), so the denied path is as easy to
//! test as the happy path.
//!
//! [`MockVault`] is a real HTTP server on `127.0.0.1:<free port>` that speaks the Vault
//! protocol: [`Rule`]s decide per tool glob and per arguments (approve, deny with a reason,
//! send to human review, stay `processing` for a few polls); approvals carry real Ed25519
//! A-JWTs served by its JWKS; every terminal decision is written to a real ledger, sealed into
//! signed checkpoints in the background, with proof bundles that
//! [`ledger::verify_proof_bundle`](crate::ledger::verify_proof_bundle) accepts. It honours
//! Idempotency-Key, checks the API key when given one, records every request, and misbehaves
//! on demand ([`Fault`]). Each instance is independent and stops when dropped.
//!
//! Its approvals carry `policy_version_id` and `policy_content_hash`, and it serves
//! `POST /mint-token` for clients with the decision cache on: a fresh token from an approval it
//! gave, after checking the call is the decided one and the policy unchanged
//! ([`MockVault::new_policy_version`] changes it). What it assumes of the real Vault there is
//! written in `src/mock/mint.rs`.
//!
//! A denied call on purpose, whose body never runs:
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use ledgix_runtime::{Error, ToolCall, mock::{MockVault, Rule}};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let vault = MockVault::builder().rule(Rule::tool("stripe_refund").deny("refunds are frozen")).start().await;
//! let runs = AtomicUsize::new(0);
//! let call = ToolCall::new("stripe_refund").arg("amount", &45).run(async {
//!     runs.fetch_add(1, Ordering::SeqCst);
//!     Ok::<_, Error>("re_123")
//! });
//! let result = vault.scope(call).await;
//! assert!(matches!(result, Err(Error::Denied(d)) if d.reason == "refunds are frozen"));
//! assert_eq!(runs.load(Ordering::SeqCst), 0);
//! # }
//! ```
//!
//! The same server runs standalone as the `ledgix-mock-vault` binary of the `ledgix` package
//! (rules from a JSON file, see [`RulesFile`]), so other clients can be pointed at it.
//!
//! It also serves a review queue: `GET /reviews` lists the calls held for a reviewer
//! ([`PendingReview`](crate::PendingReview)), and `GET /` is a page to approve or deny them in
//! a browser, with the latest decisions and the ledger. On loopback the page needs no API key;
//! on any other address it needs the key, and without one the page is not served.

mod conn;
mod engine;
mod faults;
mod ledger;
mod mint;
mod review_page;
mod rules;
mod rules_file;
mod server;
mod state;
mod tokens;
mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use engine::ReviewError;
pub use faults::Fault;
pub use rules::{Decision, Rule};
pub use rules_file::{RulesFile, RulesFileError};
pub use state::RecordedRequest;
pub use webhooks::WebhookDelivery;

use crate::client::LedgixClient;
use crate::config::Config;
use crate::error::{ConnectionError, Error};
use crate::jwk::KeySet;
use crate::ledger::LedgerEntry;
use conn::{ConnKill, KillableListener};
use engine::Vault;
use faults::FaultQueue;
use ledger::Ledger;
use state::{Idempotency, Recordings};
use tokens::{Minter, Seeds};

/// Default lifetime of minted A-JWTs.
const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(300);
/// Default interval of the background sealer.
const DEFAULT_SEAL_EVERY: Duration = Duration::from_secs(1);
/// How long [`MockVault::shutdown`] lets requests in flight finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long [`MockVault::next_pending_review`] waits.
const PENDING_REVIEW_WAIT: Duration = Duration::from_secs(10);
/// Default of [`MockVaultBuilder::max_recorded_requests`].
pub const DEFAULT_MAX_RECORDED_REQUESTS: usize = 10_000;
/// The recorded requests are kept up to this many bytes together — bodies, paths and headers
/// (the oldest go first; the newest request is always kept).
pub const RECORDED_BYTES_BUDGET: usize = 64 * 1024 * 1024;
/// Default of [`MockVaultBuilder::max_body_bytes`]: 1 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default of [`MockVaultBuilder::max_idempotency_keys`].
pub const DEFAULT_MAX_IDEMPOTENCY_KEYS: usize = 10_000;

/// Configures a [`MockVault`]; [`start`](Self::start) runs it. `Debug` never shows the API
/// key or the seed.
#[derive(Clone)]
#[must_use = "call .start().await to run the mock Vault"]
pub struct MockVaultBuilder {
    rules: Vec<Rule>,
    default_decision: Decision,
    api_key: Option<String>,
    faults: Vec<Fault>,
    token_ttl: Duration,
    seal_every: Duration,
    seed: Option<[u8; 32]>,
    canonical_version: u32,
    listen: SocketAddr,
    max_recorded_requests: usize,
    max_body_bytes: usize,
    max_idempotency_keys: usize,
    print_decisions: bool,
    /// Where to POST signed webhooks, and the secret they are signed with.
    webhook: Option<(String, String)>,
}

impl std::fmt::Debug for MockVaultBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockVaultBuilder")
            .field("rules", &self.rules)
            .field("default_decision", &self.default_decision)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("faults", &self.faults)
            .field("token_ttl", &self.token_ttl)
            .field("seal_every", &self.seal_every)
            .field("seed", &self.seed.map(|_| "***"))
            .field("canonical_version", &self.canonical_version)
            .field("listen", &self.listen)
            .field("max_recorded_requests", &self.max_recorded_requests)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_idempotency_keys", &self.max_idempotency_keys)
            .field("print_decisions", &self.print_decisions)
            .field(
                "webhook",
                &self.webhook.as_ref().map(|(url, _)| (url.as_str(), "***")),
            )
            .finish()
    }
}

impl Default for MockVaultBuilder {
    fn default() -> Self {
        MockVaultBuilder {
            rules: Vec::new(),
            default_decision: Decision::Approve,
            api_key: None,
            faults: Vec::new(),
            token_ttl: DEFAULT_TOKEN_TTL,
            seal_every: DEFAULT_SEAL_EVERY,
            seed: None,
            canonical_version: 1,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_recorded_requests: DEFAULT_MAX_RECORDED_REQUESTS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_idempotency_keys: DEFAULT_MAX_IDEMPOTENCY_KEYS,
            print_decisions: false,
            webhook: None,
        }
    }
}

impl MockVaultBuilder {
    /// Adds a rule after those already given (the first matching rule decides).
    pub fn rule(mut self, rule: Rule) -> Self {
        self.rules.push(rule);
        self
    }

    /// Adds several rules in order.
    pub fn rules(mut self, rules: impl IntoIterator<Item = Rule>) -> Self {
        self.rules.extend(rules);
        self
    }

    /// Takes the default decision and the rules of a [`RulesFile`] (its rules after those
    /// already given).
    pub fn rules_file(mut self, file: RulesFile) -> Self {
        self.default_decision = file.default;
        self.rules.extend(file.rules);
        self
    }

    /// What to decide when no rule matches (default: approve).
    pub fn default_decision(mut self, decision: Decision) -> Self {
        self.default_decision = decision;
        self
    }

    /// Requires `X-Vault-API-Key: <key>` on every endpoint but the JWKS (401 otherwise).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.api_key = (!key.is_empty()).then_some(key);
        self
    }

    /// Queues a fault (see [`Fault`]).
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Lifetime of minted A-JWTs (default 300 s).
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// Interval of the background sealer (default 1 s). `Duration::ZERO` turns it off: only
    /// [`MockVault::seal`] seals.
    pub fn seal_every(mut self, every: Duration) -> Self {
        self.seal_every = every;
        self
    }

    /// Derives the instance's keys from `seed`, so key ids and public keys are the same on
    /// every run (default: random keys).
    pub fn seed(mut self, seed: [u8; 32]) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Derives the instance's keys from the SHA-256 of `text` (what the standalone binary's
    /// `--seed TEXT` does).
    pub fn seed_text(self, text: &str) -> Self {
        use sha2::Digest;
        self.seed(sha2::Sha256::digest(text.as_bytes()).into())
    }

    /// The `canonical_version` of ledger events: 1 (default) or 2 (adds `confidence_bucket`
    /// and `decision_status` to the hashed payload).
    pub fn canonical_version(mut self, version: u32) -> Self {
        self.canonical_version = version;
        self
    }

    /// The address to listen on (default `127.0.0.1:0`: a free loopback port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// How many requests [`MockVault::requests`] keeps (default 10,000): a ring, the oldest
    /// forgotten first, and at most [`RECORDED_BYTES_BUDGET`] (64 MiB) of them together, so a
    /// long-running mock's memory stays bounded. 0 records nothing.
    pub fn max_recorded_requests(mut self, max: usize) -> Self {
        self.max_recorded_requests = max;
        self
    }

    /// The largest request body accepted, in bytes (default 1 MiB); a larger one is answered
    /// 413 without being buffered.
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// How many Idempotency-Keys are remembered (default 10,000), the oldest forgotten first:
    /// a retry under a forgotten key is decided again.
    pub fn max_idempotency_keys(mut self, max: usize) -> Self {
        self.max_idempotency_keys = max;
        self
    }

    /// Prints one line per decision and per review held to standard output (default off;
    /// the `ledgix-mock-vault` binary turns it on). The same events go to `tracing` at info
    /// level (target `ledgix::mock`) either way.
    pub fn print_decisions(mut self, on: bool) -> Self {
        self.print_decisions = on;
        self
    }

    /// Sends signed webhooks to `url` (see [`crate::webhook`]): a [`WebhookEvent`] of type
    /// `review.held` when a call is held for a human reviewer and `review.decided` when the
    /// reviewer approves or denies it, signed with `secret` in `X-Ledgix-Signature` exactly as
    /// [`WebhookVerifier`](crate::webhook::WebhookVerifier) expects.
    ///
    /// A background task sends them in order, off the path of every decision: a receiver
    /// that fails (no connection, timeout, non-2xx) is retried three times, 100 ms, 200 ms and
    /// 400 ms apart, then given up; the mock Vault keeps deciding either way.
    /// [`MockVault::webhook_deliveries`] tells what happened to each. `url` must be http(s)
    /// without credentials and `secret` non-empty, or [`try_start`](Self::try_start) fails.
    ///
    /// [`WebhookEvent`]: crate::webhook::WebhookEvent
    pub fn webhook(mut self, url: impl Into<String>, secret: impl Into<String>) -> Self {
        self.webhook = Some((url.into(), secret.into()));
        self
    }

    /// Starts the server on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// When the address cannot be bound or the configuration is invalid (use
    /// [`try_start`](Self::try_start) to get the error instead).
    pub async fn start(self) -> MockVault {
        match self.try_start().await {
            Ok(vault) => vault,
            Err(e) => panic!("the mock Vault could not start: {e}"),
        }
    }

    /// Starts the server on the current tokio runtime.
    pub async fn try_start(self) -> Result<MockVault, Error> {
        if !matches!(self.canonical_version, 1 | 2) {
            return Err(Error::Config(format!(
                "mock Vault: canonical_version {} is not supported (1 or 2)",
                self.canonical_version
            )));
        }
        let webhook_target = match &self.webhook {
            None => None,
            Some((_, secret)) if secret.is_empty() => {
                return Err(Error::Config(
                    "mock Vault: the webhook secret must not be empty".into(),
                ));
            }
            Some((url, secret)) => Some((
                webhooks::parse_url(url).map_err(Error::Config)?,
                secret.clone(),
            )),
        };
        let listener = TcpListener::bind(self.listen).await.map_err(|e| {
            Error::Connection(ConnectionError::with_source(
                format!("mock Vault: cannot listen on {}", self.listen),
                e,
            ))
        })?;
        let addr = listener.local_addr().map_err(|e| {
            Error::Connection(ConnectionError::with_source(
                format!("mock Vault: no local address for {}", self.listen),
                e,
            ))
        })?;
        let seeds = Seeds::new(self.seed);
        let tokens = Minter::new(&seeds, self.token_ttl);
        let ledger = Ledger::new(&seeds, self.canonical_version, mmd_seconds(self.seal_every));
        let jwks = jwks_json(&tokens, &ledger)?;
        let webhooks = match webhook_target {
            Some((url, secret)) => Some(
                webhooks::Webhooks::start(url, secret, self.print_decisions)
                    .map_err(Error::Config)?,
            ),
            None => None,
        };
        let vault = Arc::new(Vault {
            rules: self.rules,
            default_decision: self.default_decision,
            api_key: self.api_key,
            faults: FaultQueue::new(self.faults),
            requests: Recordings::new(self.max_recorded_requests, RECORDED_BYTES_BUDGET),
            max_body_bytes: self.max_body_bytes,
            clearances: Default::default(),
            idempotency: Idempotency::new(self.max_idempotency_keys),
            tokens,
            ledger,
            jwks,
            print_decisions: self.print_decisions,
            on_loopback: addr.ip().is_loopback(),
            policy_epoch: Default::default(),
            webhooks,
        });

        let (stop, stopped) = watch::channel(false);
        let app = server::router(vault.clone()).into_make_service_with_connect_info::<ConnKill>();
        let mut on_stop = stopped.clone();
        let server = tokio::spawn(async move {
            let serve =
                axum::serve(KillableListener(listener), app).with_graceful_shutdown(async move {
                    let _ = on_stop.wait_for(|stop| *stop).await;
                });
            if let Err(e) = serve.await {
                tracing::warn!(error = %e, "the mock Vault's server stopped");
            }
        });
        let sealer = (!self.seal_every.is_zero())
            .then(|| tokio::spawn(seal_periodically(vault.clone(), self.seal_every, stopped)));
        Ok(MockVault {
            vault,
            addr,
            stop,
            server: Some(server),
            sealer,
        })
    }
}

/// The `mmd_seconds` checkpoints announce: the seal interval, rounded up, at least 1 s.
fn mmd_seconds(seal_every: Duration) -> u64 {
    let secs = seal_every.as_secs() + u64::from(seal_every.subsec_nanos() > 0);
    secs.max(1)
}

/// The JWKS serving both the token key and the ledger key.
fn jwks_json(tokens: &Minter, ledger: &Ledger) -> Result<String, Error> {
    let mut keys = KeySet::new();
    let signer = tokens.signer();
    keys.insert(signer.kid(), signer.verifying_key())
        .and_then(|()| keys.insert(ledger.key_id(), ledger.verifying_key()))
        .map_err(|e| Error::Config(format!("mock Vault keys: {e}")))?;
    Ok(keys.to_jwks_json())
}

async fn seal_periodically(vault: Arc<Vault>, every: Duration, mut stopped: watch::Receiver<bool>) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            _ = ticks.tick() => vault.ledger.seal().await,
            changed = stopped.changed() => {
                if changed.is_err() || *stopped.borrow() {
                    return;
                }
            }
        }
    }
}

/// A running mock Vault. Stops (server and sealer) when dropped.
pub struct MockVault {
    vault: Arc<Vault>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
    sealer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MockVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockVault")
            .field("url", &self.url())
            .field("rules", &self.vault.rules.len())
            .field("api_key", &self.vault.api_key.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl MockVault {
    /// A builder with no rules (everything approved), no API key and no faults.
    pub fn builder() -> MockVaultBuilder {
        MockVaultBuilder::default()
    }

    /// Starts a mock Vault that approves everything. Panics when it cannot bind.
    pub async fn start() -> MockVault {
        MockVault::builder().start().await
    }

    /// Starts a mock Vault that approves everything.
    pub async fn try_start() -> Result<MockVault, Error> {
        MockVault::builder().try_start().await
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A client configuration pointing at it, tuned for tests: its API key (if any), polls
    /// every 20 ms, retries after 5 ms, waits at most 30 s for a review. Adjust with
    /// [`Config::to_builder`].
    pub fn config(&self) -> Config {
        let mut builder = Config::builder()
            .vault_url(self.url())
            .review_poll_interval(Duration::from_millis(20))
            .retry_base_delay(Duration::from_millis(5))
            .review_timeout(Duration::from_secs(30));
        if let Some(key) = &self.vault.api_key {
            builder = builder.api_key(key.clone());
        }
        builder
            .build()
            .expect("a loopback http:// URL is always a valid Vault URL")
    }

    /// A client built from [`config`](Self::config).
    pub fn client(&self) -> LedgixClient {
        LedgixClient::new(self.config()).expect("the mock Vault's configuration is always valid")
    }

    /// Runs `fut` with this mock's client as the client of every guarded call inside it.
    pub async fn scope<F: Future>(&self, fut: F) -> F::Output {
        crate::with_client(self.client(), fut).await
    }

    /// The requests received, in arrival order (secrets redacted): the last 10,000 by
    /// default (see [`MockVaultBuilder::max_recorded_requests`]). A request refused for its
    /// API key or its size is recorded without its body, which is never read.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.vault.requests.snapshot()
    }

    /// Queues another fault, after those already queued.
    pub fn inject(&self, fault: Fault) {
        self.vault.faults.push(fault);
    }

    /// What happened to each webhook so far (the last 1,000, oldest first; empty without
    /// [`MockVaultBuilder::webhook`]). An event shows up here once it was delivered or given
    /// up on.
    pub fn webhook_deliveries(&self) -> Vec<WebhookDelivery> {
        self.vault
            .webhooks
            .as_ref()
            .map(|w| w.deliveries())
            .unwrap_or_default()
    }

    /// Ids of the requests waiting for a reviewer, oldest first.
    pub fn pending_reviews(&self) -> Vec<String> {
        self.vault.clearances.pending()
    }

    /// Waits until a request is pending review and returns the oldest one's id.
    ///
    /// # Panics
    ///
    /// When none arrives within 10 s.
    pub async fn next_pending_review(&self) -> String {
        let started = tokio::time::Instant::now();
        loop {
            if let Some(id) = self.pending_reviews().into_iter().next() {
                return id;
            }
            assert!(
                started.elapsed() < PENDING_REVIEW_WAIT,
                "no request became pending review within {PENDING_REVIEW_WAIT:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A reviewer's decision on a pending request, as `POST /reviews/{id}/decision` makes it.
    pub async fn decide(
        &self,
        request_id: &str,
        approved: bool,
        reason: &str,
    ) -> Result<(), ReviewError> {
        self.vault
            .review(request_id, approved, reason)
            .await
            .map(|_| ())
    }

    /// Approves a pending request.
    ///
    /// # Panics
    ///
    /// When no request with this id is pending review.
    pub async fn approve(&self, request_id: &str) {
        if let Err(e) = self
            .decide(request_id, true, "approved by a human reviewer")
            .await
        {
            panic!("MockVault::approve: {e}");
        }
    }

    /// Denies a pending request with `reason`.
    ///
    /// # Panics
    ///
    /// When no request with this id is pending review.
    pub async fn deny(&self, request_id: &str, reason: &str) {
        if let Err(e) = self.decide(request_id, false, reason).await {
            panic!("MockVault::deny: {e}");
        }
    }

    /// Publishes a new version of every policy, as an operator editing the policies would:
    /// approvals from now on carry another `policy_version_id` and `policy_content_hash`, and
    /// `POST /mint-token` refuses (409) to mint from a decision taken under an older version,
    /// so a client's cached decision is dropped and the call decided afresh.
    pub fn new_policy_version(&self) {
        self.vault
            .policy_epoch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Seals every event written so far into a new signed checkpoint (when there are new
    /// events) and returns when it is done.
    pub async fn seal(&self) {
        self.vault.ledger.seal().await;
    }

    /// Every ledger event written so far, oldest first.
    pub fn ledger_entries(&self) -> Vec<LedgerEntry> {
        self.vault.ledger.entries(usize::MAX)
    }

    /// Its JWKS (token key and ledger key) as JSON: what to trust when verifying its tokens
    /// and proofs offline.
    pub fn trusted_keys_json(&self) -> String {
        self.vault.jwks.clone()
    }

    /// Stops accepting connections, lets requests in flight finish (up to 5 s), stops the
    /// sealer, and returns when all of it is done.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        if let Some(server) = self.server.take() {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, server).await;
        }
        if let Some(sealer) = self.sealer.take() {
            let _ = sealer.await;
        }
    }
}

impl Drop for MockVault {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}
