//! Regressions of the security review (issue 10): one approval runs one body across clients,
//! forged key ids cannot flood the JWKS endpoint, every call has one deadline, a proxy is used
//! only when configured, token keys and ledger keys stay apart. Each test proves the body ran
//! zero times (or once) where it matters.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use ledgix::ledger::LedgerError;
use ledgix::mock::{MockVault, Rule};
use ledgix::{
    Config, ConfigBuilder, Error, LedgixClient, MemoryReplayStore, PendingApproval, ToolCall,
};
use serde_json::{Map, Value, json};
use support::ledger::{Writer, event};
use support::scripted::*;

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A body that counts its runs.
async fn counted(runs: Arc<AtomicUsize>) -> Result<(), Error> {
    runs.fetch_add(1, SeqCst);
    Ok(())
}

// ------------------------------------------------------------------------- single use

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_approval_runs_one_body_whichever_clients_resume_it() {
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .start()
        .await;
    let first = support::mock::detached_client(&vault);
    let wire = json!({"amount": 48_000, "iban": "DE89370400440532013000"});
    let call = ToolCall::new("wire_transfer").args(args(wire.clone()));
    let pending = support::mock::held(call, &first).await;
    let id = pending.request_id().to_string();
    vault.approve(&id).await;

    // The client that made the call, another worker's client, one rebuilt after a restart,
    // and the mock's own: all resume the same approval at once.
    let clients = [
        first.clone(),
        LedgixClient::new(first.config().clone()).unwrap(),
        support::mock::detached_client(&vault),
        vault.client(),
    ];
    let (runs, replays) =
        support::mock::resume_everywhere(&clients, &id, "wire_transfer", &args(wire.clone())).await;
    assert_eq!(runs, 1, "one approval runs one body");
    assert_eq!(replays, 3);

    // The store is what decides: a client configured with a store of its own is outside the
    // process's single-use guarantee (as another process would be without a shared store).
    let isolated = LedgixClient::new(
        vault
            .config()
            .to_builder()
            .replay_store(MemoryReplayStore::new())
            .build()
            .unwrap(),
    )
    .unwrap();
    let again = Arc::new(AtomicUsize::new(0));
    PendingApproval::resume(&isolated, id)
        .unwrap()
        .bind("wire_transfer", args(wire))
        .run(counted(again.clone()))
        .await
        .unwrap();
    assert_eq!(again.load(SeqCst), 1);
}

#[tokio::test]
async fn a_token_taken_by_one_client_cannot_clear_a_body_in_another() {
    let vault = MockVault::start().await;
    let runs = Arc::new(AtomicUsize::new(0));
    let (_, clearance) = ToolCall::new("lookup")
        .arg("id", &"c_1")
        .client(&vault.client())
        .run_with_clearance(counted(runs.clone()))
        .await
        .unwrap();
    let token = clearance.token.clone().unwrap();
    // Another client of the process sees the token as used.
    let err = vault.client().verify_token(&token).await.unwrap_err();
    assert!(matches!(err, Error::ReplayDetected { .. }), "{err:?}");
    assert_eq!(runs.load(SeqCst), 1);
}

// ------------------------------------------------------------------------- JWKS flood

#[tokio::test]
async fn two_hundred_forged_tokens_cost_at_most_one_jwks_fetch() {
    let issuer = TestIssuer::new("vault-key-1", 7);
    let vault = ScriptedVault::start(issuer.jwks()).await;
    let client =
        LedgixClient::new(Config::builder().vault_url(&vault.url).build().unwrap()).unwrap();
    let forged: Vec<String> = (0..200u32)
        .map(|i| {
            let attacker = TestIssuer::new(&format!("forged-{i:08x}"), 100);
            attacker.token(&format!("forged-jti-{i}"), "stripe_refund", &json!({}))
        })
        .collect();
    // Half at once, half one after the other.
    let tasks: Vec<_> = forged[..100]
        .iter()
        .map(|t| {
            let (client, t) = (client.clone(), t.clone());
            tokio::spawn(async move { client.verify_token(&t).await })
        })
        .collect();
    for task in tasks {
        let err = task.await.unwrap().unwrap_err();
        assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");
    }
    for t in &forged[100..] {
        let err = client.verify_token(t).await.unwrap_err();
        assert!(
            matches!(&err, Error::TokenVerification(m) if m.contains("forged-")),
            "{err:?}"
        );
    }
    assert!(
        vault.seen_path("/.well-known/jwks.json").len() <= 1,
        "{} JWKS fetches",
        vault.seen_path("/.well-known/jwks.json").len()
    );
    // The honest key still verifies.
    let honest = issuer.token("honest-jti", "stripe_refund", &json!({}));
    client.verify_token(&honest).await.unwrap();
}

#[tokio::test]
async fn a_real_rotation_is_picked_up_after_a_flood_once_the_cooldown_passed() {
    let old = TestIssuer::new("vault-key-1", 7);
    let vault = ScriptedVault::start(old.jwks()).await;
    let cooldown = Duration::from_millis(200);
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(&vault.url)
            .jwks_refetch_cooldown(cooldown)
            .build()
            .unwrap(),
    )
    .unwrap();
    client
        .verify_token(&old.token("before", "t", &json!({})))
        .await
        .unwrap();
    for i in 0..50 {
        let attacker = TestIssuer::new(&format!("forged-{i}"), 100);
        let t = attacker.token(&format!("f-{i}"), "t", &json!({}));
        assert!(client.verify_token(&t).await.is_err());
    }
    assert_eq!(vault.seen_path("/.well-known/jwks.json").len(), 1);
    // The Vault rotates; after the cooldown the first token of the new key fetches it.
    let new = TestIssuer::new("vault-key-2", 8);
    vault.set_jwks(new.jwks());
    tokio::time::sleep(cooldown + Duration::from_millis(50)).await;
    client
        .verify_token(&new.token("after", "t", &json!({})))
        .await
        .unwrap();
    assert_eq!(vault.seen_path("/.well-known/jwks.json").len(), 2);
}

#[tokio::test]
async fn two_hundred_bundles_under_unknown_key_ids_cost_at_most_one_jwks_fetch() {
    let vault = MockVault::start().await;
    let client = vault.client();
    vault
        .scope(ToolCall::new("a").run(async { Ok::<_, Error>(()) }))
        .await
        .unwrap();
    let id = vault.ledger_entries()[0].request_id.clone();
    vault.seal().await;
    let genuine = client.fetch_ledger_proof_bundle(&id).await.unwrap();
    client.verify_ledger_proof_bundle(&genuine).await.unwrap();
    let fetches = || {
        vault
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/.well-known/jwks.json"))
            .count()
    };
    let before = fetches();
    for i in 0..200u32 {
        let mut writer = Writer::new(u8::try_from(i % 250).unwrap() + 1, &format!("forged-{i}"));
        writer.record(event(0, 1));
        writer.seal();
        let err = client
            .verify_ledger_proof_bundle(&writer.bundle(0))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Ledger(LedgerError::UntrustedKey { kid, .. }) if kid.starts_with("forged-")),
            "{err:?}"
        );
    }
    assert!(fetches() - before <= 1, "{} fetches", fetches() - before);
}

// ------------------------------------------------------------------------- one deadline

async fn scripted(configure: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> Harness {
    let issuer = TestIssuer::new("vault-key-1", 7);
    let vault = ScriptedVault::start(issuer.jwks()).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let builder = Config::builder()
        .vault_url(&vault.url)
        .sleeper(sleeper.clone());
    let client = LedgixClient::new(configure(builder).build().unwrap()).unwrap();
    Harness {
        vault,
        sleeper,
        client,
        runs: Arc::new(AtomicUsize::new(0)),
    }
}

struct Harness {
    vault: ScriptedVault,
    sleeper: Arc<RecordingSleeper>,
    client: LedgixClient,
    runs: Arc<AtomicUsize>,
}

impl Harness {
    async fn call(&self) -> Result<(), Error> {
        ToolCall::new("stripe_refund")
            .arg("amount", &10)
            .client(&self.client)
            .run(counted(self.runs.clone()))
            .await
    }

    fn slept(&self) -> Duration {
        self.sleeper.slept().iter().sum()
    }
}

fn busy() -> Reply {
    Reply::raw(429, "queue full").header("retry-after", "60")
}

#[tokio::test]
async fn interleaved_5xx_do_not_reset_the_429_count() {
    // Ten 429s, a 503, ten 429s, a 503, …: held for 44 exchanges and 40 minutes before.
    let h = scripted(|b| b).await;
    h.vault.on_clearance(
        (0..4).flat_map(|_| std::iter::repeat_n(busy(), 10).chain([Reply::raw(503, "down")])),
    );
    let err = h.call().await.unwrap_err();
    assert!(
        matches!(err, Error::QueueSaturated { attempts: 11, .. }),
        "{err:?}"
    );
    assert_eq!(h.vault.seen_path("/request-clearance").len(), 12);
    assert!(h.slept() <= Duration::from_secs(900), "{:?}", h.slept());
    assert_eq!(h.runs.load(SeqCst), 0);
}

#[tokio::test]
async fn a_vault_alternating_429_and_503_forever_ends_at_the_deadline() {
    let h = scripted(|b| {
        b.max_retries(10_000)
            .review_timeout(Duration::from_secs(300))
    })
    .await;
    h.vault.on_clearance((0..500).map(|i| {
        if i % 2 == 0 {
            busy()
        } else {
            Reply::raw(503, "down")
        }
    }));
    let err = h.call().await.unwrap_err();
    // Five Retry-After waits of 60 s fit in 300 s (backoffs in between): the next does not.
    assert!(
        matches!(err, Error::QueueSaturated { attempts: 5, last_retry_after: Some(d) } if d == Duration::from_secs(60)),
        "{err:?}"
    );
    assert!(h.slept() <= Duration::from_secs(300), "{:?}", h.slept());
    assert!(h.vault.seen_path("/request-clearance").len() <= 10);
    assert!(!err.is_denied() && err.is_retryable());
    assert_eq!(h.runs.load(SeqCst), 0);
}

#[tokio::test]
async fn review_timeout_bounds_polling_even_with_long_retry_after() {
    let h = scripted(|b| b.review_timeout(Duration::from_secs(100))).await;
    h.vault.on_clearance([pending("req-1")]);
    h.vault.on_status([busy()]);
    let err = h.call().await.unwrap_err();
    assert!(
        matches!(&err, Error::ReviewTimeout { request_id } if request_id == "req-1"),
        "{err:?}"
    );
    // 2 s poll pause, one 60 s Retry-After; a second one would end past the deadline.
    assert_eq!(
        h.sleeper.slept(),
        [Duration::from_secs(2), Duration::from_secs(60)]
    );
    assert_eq!(h.runs.load(SeqCst), 0);
}

#[tokio::test]
async fn a_status_retry_after_never_stretches_the_review_past_its_timeout() {
    let h = scripted(|b| b.review_timeout(Duration::from_secs(90))).await;
    h.vault.on_clearance([pending("req-2")]);
    h.vault
        .on_status([pending("req-2").header("retry-after", "3600")]);
    let err = h.call().await.unwrap_err();
    assert!(matches!(err, Error::ReviewTimeout { .. }), "{err:?}");
    assert_eq!(h.slept(), Duration::from_secs(90));
    assert_eq!(h.runs.load(SeqCst), 0);
}

// ------------------------------------------------------------------------- proxies

/// A Vault that would approve anything: what a hostile proxy answers.
async fn approving_impostor() -> MockVault {
    MockVault::start().await
}

#[tokio::test]
async fn a_configured_proxy_carries_traffic_to_a_remote_vault_only() {
    let proxy = approving_impostor().await;
    // A remote Vault (a name that does not resolve): reachable only through the proxy, which
    // answers as the Vault here.
    let remote = Config::builder()
        .vault_url("http://vault.example.invalid")
        .allow_insecure_http(true)
        .proxy(proxy.url())
        .build()
        .unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    ToolCall::new("t")
        .client(&LedgixClient::new(remote).unwrap())
        .run(counted(runs.clone()))
        .await
        .unwrap();
    assert_eq!(runs.load(SeqCst), 1);
    assert!(
        proxy
            .requests()
            .iter()
            .any(|r| r.path == "/request-clearance"),
        "the request went through the proxy"
    );

    // A loopback Vault is never reached through the proxy.
    let real = MockVault::builder()
        .rule(Rule::tool("t").deny("not today"))
        .start()
        .await;
    let seen_before = proxy.requests().len();
    let local = real
        .config()
        .to_builder()
        .proxy(proxy.url())
        .build()
        .unwrap();
    let err = ToolCall::new("t")
        .client(&LedgixClient::new(local).unwrap())
        .run(counted(runs.clone()))
        .await
        .unwrap_err();
    assert!(err.is_denied(), "{err:?}");
    assert_eq!(runs.load(SeqCst), 1);
    assert_eq!(proxy.requests().len(), seen_before);
}

// ------------------------------------------------------------------------- keys apart

#[tokio::test]
async fn token_keys_never_vouch_for_the_ledger() {
    // The token key pinned for A-JWTs signs a ledger bundle: the ledger does not trust it.
    let issuer = TestIssuer::new("vault-key-1", 7);
    let mut writer = Writer::new(7, "vault-key-1");
    writer.record(event(0, 1));
    writer.seal();
    let bundle = writer.bundle(0);
    let ledger_signer = Writer::new(9, "ledger-key-1");
    let vault = ScriptedVault::start(ledger_signer.key_set().to_jwks_json()).await;
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(&vault.url)
            .trusted_keys(&issuer.jwks())
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client
        .verify_ledger_proof_bundle(&bundle)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Ledger(LedgerError::UntrustedKey { kid, .. }) if kid == "vault-key-1"),
        "{err:?}"
    );
    // Pinned as ledger keys, the same document verifies it; and a ledger key never clears a
    // token.
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(&vault.url)
            .trusted_keys(&ledger_signer.key_set().to_jwks_json())
            .ledger_keys(&issuer.jwks())
            .build()
            .unwrap(),
    )
    .unwrap();
    client.verify_ledger_proof_bundle(&bundle).await.unwrap();
    let token = issuer.token("keys-apart", "t", &json!({}));
    let err = client.verify_token(&token).await.unwrap_err();
    assert!(
        matches!(&err, Error::TokenVerification(m) if m.contains("vault-key-1")),
        "{err:?}"
    );
}
