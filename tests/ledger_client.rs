//! The client's ledger endpoints over real HTTP (axum on 127.0.0.1:0): a small Vault that
//! serves a ledger written with real Ed25519 keys, its JWKS, proofs and bundles.

mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use ledgix::ledger::{LedgerError, ProofBundle};
use ledgix::{Error, LedgixClient};
use serde_json::{Value, json};
use support::ledger::{Writer, event, read, written};

/// The Vault's ledger state, and how it misbehaves.
struct Ledger {
    writer: Writer,
    jwks: String,
    /// How many more times `GET /ledger/proof/bundle` answers 409.
    unsealed_answers: u32,
    /// Bundles served instead of the honest one, by request id.
    forged: HashMap<String, Value>,
    /// Every path and query asked, in order.
    seen: Vec<String>,
}

type Shared = Arc<Mutex<Ledger>>;

struct TestVault {
    url: String,
    state: Shared,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestVault {
    async fn start(writer: Writer) -> TestVault {
        let jwks = writer.key_set().to_jwks_json();
        let state = Arc::new(Mutex::new(Ledger {
            writer,
            jwks,
            unsealed_answers: 0,
            forged: HashMap::new(),
            seen: Vec::new(),
        }));
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (url, tx) = support::scripted::serve(app).await;
        TestVault {
            url,
            state,
            _shutdown: tx,
        }
    }

    fn client(
        &self,
        configure: impl FnOnce(ledgix::ConfigBuilder) -> ledgix::ConfigBuilder,
    ) -> LedgixClient {
        let builder = ledgix::Config::builder().vault_url(&self.url).api_key("k");
        LedgixClient::new(configure(builder).build().unwrap()).unwrap()
    }

    /// How many times a client fetched the Vault's JWKS.
    fn jwks_fetches(&self) -> usize {
        let seen = self.seen();
        seen.iter()
            .filter(|p| *p == "/.well-known/jwks.json")
            .count()
    }

    fn seen(&self) -> Vec<String> {
        self.state.lock().unwrap().seen.clone()
    }
}

async fn handle(
    State(state): State<Shared>,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut s = state.lock().unwrap();
    s.seen.push(uri.to_string());
    let request = q.get("request_id").cloned().unwrap_or_default();
    let index = s
        .writer
        .entries
        .iter()
        .position(|e| e.request_id == request);
    let (status, body) = match uri.path() {
        "/.well-known/jwks.json" => (200, s.jwks.clone()),
        "/ledger" => (200, json!({"entries": s.writer.entries}).to_string()),
        "/ledger/checkpoints" => (
            200,
            json!({"checkpoints": s.writer.checkpoints}).to_string(),
        ),
        "/ledger/proof/bundle" if s.unsealed_answers > 0 => {
            s.unsealed_answers -= 1;
            (409, r#"{"detail":"event not sealed yet"}"#.to_owned())
        }
        "/ledger/proof/bundle" => match (s.forged.get(&request), index) {
            (Some(forged), _) => (200, forged.to_string()),
            (None, Some(i)) => (200, serde_json::to_string(&s.writer.bundle(i)).unwrap()),
            (None, None) => (404, r#"{"detail":"unknown request"}"#.to_owned()),
        },
        "/ledger/proof/inclusion" => match index {
            Some(i) => (
                200,
                serde_json::to_string(&s.writer.bundle(i).inclusion).unwrap(),
            ),
            None => (409, "{}".to_owned()),
        },
        "/ledger/proof/consistency" => {
            let from: usize = q["from"].parse().unwrap();
            let first = s
                .writer
                .entries
                .iter()
                .position(|e| e.checkpoint_id == Some(from as u64))
                .unwrap();
            let c = s.writer.bundle(first).consistency.unwrap();
            (200, serde_json::to_string(&c).unwrap())
        }
        _ => (404, "not found".to_owned()),
    };
    (StatusCode::from_u16(status).unwrap(), body).into_response()
}

#[derive(Debug, Default)]
struct RecordingSleeper(Mutex<Vec<Duration>>);

impl ledgix::Sleeper for RecordingSleeper {
    fn sleep(&self, d: Duration) -> ledgix::SleepFuture {
        self.0.lock().unwrap().push(d);
        Box::pin(tokio::task::yield_now())
    }
}

#[tokio::test]
async fn fetches_and_verifies_a_bundle_against_the_vaults_jwks() {
    let vault = TestVault::start(written(10, 4, 3)).await;
    let client = vault.client(|b| b);
    let bundle = client.fetch_ledger_proof_bundle("req-2").await.unwrap();
    let v = client.verify_ledger_proof_bundle(&bundle).await.unwrap();
    assert_eq!(
        (v.request_id.as_str(), v.leaf_index, v.tree_size),
        ("req-2", 2, 4)
    );
    assert!(v.event_body_verified && v.consistency_verified);
    assert_eq!(v.latest_tree_size, 10);
    let seen = vault.seen();
    assert!(
        seen.contains(&"/ledger/proof/bundle?request_id=req-2".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"/.well-known/jwks.json".to_owned()),
        "{seen:?}"
    );

    let inclusion = client.fetch_inclusion_proof("req-9").await.unwrap();
    assert_eq!((inclusion.leaf_index, inclusion.tree_size), (9, 10));
    let consistency = client.fetch_consistency_proof(1, 3).await.unwrap();
    assert_eq!(
        (
            consistency.from_checkpoint.tree_size,
            consistency.to_checkpoint.tree_size
        ),
        (4, 10)
    );
    assert!(
        vault
            .seen()
            .contains(&"/ledger/proof/consistency?from=1&to=3".to_owned())
    );
}

#[tokio::test]
async fn fetches_and_verifies_the_whole_ledger() {
    let vault = TestVault::start(written(13, 5, 1)).await;
    let client = vault.client(|b| b);
    let v = client.verify_ledger().await.unwrap();
    assert_eq!((v.entries_verified, v.checkpoints_verified), (13, 3));
    assert!(v.chain_from_genesis && v.root_checked);
    assert!(vault.seen().contains(&"/ledger?limit=500".to_owned()));
    assert!(
        vault
            .seen()
            .contains(&"/ledger/checkpoints?limit=500".to_owned())
    );

    assert_eq!(client.fetch_ledger(0).await.unwrap().len(), 13);
    client.fetch_ledger_checkpoints(100_000).await.unwrap();
    let seen = vault.seen();
    assert!(seen.contains(&"/ledger?limit=1".to_owned()), "{seen:?}");
    assert_eq!(
        seen.iter()
            .filter(|p| *p == "/ledger/checkpoints?limit=500")
            .count(),
        2
    );

    // A Vault whose ledger was edited after signing is caught.
    vault.state.lock().unwrap().writer.entries[7].approved = false;
    let err = client.verify_ledger().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Ledger(LedgerError::EventHashMismatch { seq: 8, .. })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_forged_bundle_is_refused_and_says_why() {
    let vault = TestVault::start(written(4, 4, 1)).await;
    let attacker = {
        let mut w = Writer::new(66, "attacker-key");
        for i in 0..4 {
            w.record(event(i, 1));
        }
        w.seal();
        w
    };
    // Every signature in it is valid, under the attacker's key, which it embeds.
    vault.state.lock().unwrap().forged.insert(
        "req-1".into(),
        serde_json::to_value(attacker.bundle(1)).unwrap(),
    );
    let client = vault.client(|b| b.jwks_refetch_cooldown(Duration::ZERO));
    let bundle = client.fetch_ledger_proof_bundle("req-1").await.unwrap();
    let err = client
        .verify_ledger_proof_bundle(&bundle)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Ledger(LedgerError::UntrustedKey { kid, .. }) if kid == "attacker-key"),
        "{err:?}"
    );
    // The unknown kid made the client look at the Vault's JWKS again (key rotation), once.
    assert_eq!(vault.jwks_fetches(), 2);
    assert!(err.to_string().contains("not a trusted key"), "{err}");
}

#[tokio::test]
async fn pinned_keys_are_used_instead_of_the_vaults_jwks() {
    let vault = TestVault::start(written(3, 3, 2)).await;
    let honest_keys = vault.state.lock().unwrap().writer.key_set();
    // The Vault now serves an impostor's JWKS under the same kid: pinned keys ignore it.
    vault.state.lock().unwrap().jwks = Writer::new(77, "test-key-1").key_set().to_jwks_json();
    let pinned = vault.client(|b| b.ledger_key_set(honest_keys));
    let bundle = pinned.fetch_ledger_proof_bundle("req-0").await.unwrap();
    pinned.verify_ledger_proof_bundle(&bundle).await.unwrap();
    assert!(!vault.seen().contains(&"/.well-known/jwks.json".to_owned()));

    // Without pinning, the impostor JWKS is what the client trusts: the honest bundle fails.
    let unpinned = vault.client(|b| b);
    let err = unpinned
        .verify_ledger_proof_bundle(&bundle)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Ledger(LedgerError::EmbeddedKeyMismatch { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn key_rotation_refetches_the_jwks_once() {
    let mut w = Writer::new(21, "old-key");
    w.record(event(0, 1));
    w.seal();
    let vault = TestVault::start(w).await;
    let client = vault.client(|b| b.jwks_refetch_cooldown(Duration::ZERO));
    let old = client.fetch_ledger_proof_bundle("req-0").await.unwrap();
    client.verify_ledger_proof_bundle(&old).await.unwrap();

    // The Vault rotates: a new key signs a new ledger; its JWKS lists both keys.
    let new = written(2, 2, 1); // kid "test-key-1"
    let mut both = new.key_set();
    both.insert("old-key", Writer::new(21, "old-key").key.verifying_key())
        .unwrap();
    {
        let mut s = vault.state.lock().unwrap();
        s.jwks = both.to_jwks_json();
        s.forged
            .insert("req-1".into(), serde_json::to_value(new.bundle(1)).unwrap());
    }
    let rotated = client.fetch_ledger_proof_bundle("req-1").await.unwrap();
    client.verify_ledger_proof_bundle(&rotated).await.unwrap();
    assert_eq!(vault.jwks_fetches(), 2);
}

#[tokio::test]
async fn an_unsealed_decision_is_a_distinct_error_or_a_wait() {
    let vault = TestVault::start(written(3, 3, 1)).await;
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = vault.client(|b| {
        b.sleeper(sleeper.clone())
            .review_poll_interval(Duration::from_millis(250))
    });

    vault.state.lock().unwrap().unsealed_answers = 1;
    let err = client.fetch_ledger_proof_bundle("req-1").await.unwrap_err();
    assert!(
        matches!(&err, Error::Ledger(LedgerError::NotSealed { request_id }) if request_id == "req-1"),
        "{err:?}"
    );
    assert!(err.to_string().contains("not sealed"), "{err}");

    vault.state.lock().unwrap().unsealed_answers = 2;
    let b: ProofBundle = client
        .wait_for_ledger_proof_bundle("req-1", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(b.event.request_id, "req-1");
    assert_eq!(*sleeper.0.lock().unwrap(), [Duration::from_millis(250); 2]);

    sleeper.0.lock().unwrap().clear();
    vault.state.lock().unwrap().unsealed_answers = u32::MAX;
    let err = client
        .wait_for_ledger_proof_bundle("req-1", Duration::from_millis(600))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Ledger(LedgerError::NotSealed { .. })),
        "{err:?}"
    );
    let slept = sleeper.0.lock().unwrap().clone();
    assert_eq!(
        slept.iter().sum::<Duration>(),
        Duration::from_millis(600),
        "{slept:?}"
    );

    // Other failures are not "not sealed".
    vault.state.lock().unwrap().unsealed_answers = 0;
    let err = client
        .fetch_ledger_proof_bundle("nobody")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 404, .. }), "{err:?}");
    let err = client.fetch_ledger_proof_bundle("").await.unwrap_err();
    assert!(matches!(err, Error::Protocol(_)), "{err:?}");
    let err = client.fetch_inclusion_proof("nobody").await.unwrap_err();
    assert!(
        matches!(err, Error::Ledger(LedgerError::NotSealed { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_fixture_bundle_served_over_http_verifies_with_pinned_fixture_keys() {
    let vault = TestVault::start(written(1, 1, 1)).await;
    let fixture: Value = serde_json::from_str(&read("ledger", "bundles/valid-012.json")).unwrap();
    let request_id = fixture["event"]["request_id"].as_str().unwrap().to_owned();
    vault
        .state
        .lock()
        .unwrap()
        .forged
        .insert(request_id.clone(), fixture);
    let client = vault.client(|b| b.ledger_keys(&read("ledger", "trusted_jwks.json")));
    let bundle = client.fetch_ledger_proof_bundle(&request_id).await.unwrap();
    let v = client.verify_ledger_proof_bundle(&bundle).await.unwrap();
    assert_eq!(v.leaf_index, 12);
}
