//! The mock Vault's ledger over HTTP: every terminal decision is an event, sealed into signed
//! chained checkpoints; proofs and bundles served at the ledger endpoints verify offline
//! against the keys of its JWKS.

mod support;

use std::time::Duration;

use ledgix::Error;
use ledgix::ledger::{
    self, CheckpointPage, ConsistencyProof, InclusionProof, LedgerPage, ProofBundle, TrustedKeys,
    merkle,
};
use ledgix::mock::{MockVault, Rule};
use serde::de::DeserializeOwned;
use support::hex::hash32;
use support::mock::{Runs, detached_client, guarded};

/// GET `path` on the mock: status and body.
async fn get(vault: &MockVault, path: &str) -> (u16, String) {
    let answer = reqwest::get(format!("{}{path}", vault.url()))
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

async fn get_json<T: DeserializeOwned>(vault: &MockVault, path: &str) -> T {
    let (status, body) = get(vault, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

/// A mock Vault that seals every event at once, and a run counter for guarded calls.
async fn sealing_vault() -> (MockVault, Runs) {
    let vault = MockVault::builder().seal_every(Duration::ZERO);
    (vault.start().await, Runs::default())
}

fn keys(vault: &MockVault) -> TrustedKeys {
    TrustedKeys::from_jwks_json(&vault.trusted_keys_json()).unwrap()
}

#[tokio::test]
async fn a_bundle_is_409_until_sealed_then_verifies_offline() {
    let (vault, runs) = sealing_vault().await;
    vault
        .scope(guarded("stripe_refund", 45, &runs))
        .await
        .unwrap();
    let id = vault.ledger_entries()[0].request_id.clone();

    for path in [
        format!("/ledger/proof/bundle?request_id={id}"),
        format!("/ledger/proof/inclusion?request_id={id}"),
    ] {
        let (status, body) = get(&vault, &path).await;
        assert_eq!(status, 409, "{path}: {body}");
        assert!(body.contains("not sealed"), "{body}");
    }
    let (status, _) = get(&vault, "/ledger/proof/bundle?request_id=unknown").await;
    assert_eq!(status, 404);
    let (status, _) = get(&vault, "/ledger/proof/bundle").await;
    assert_eq!(status, 422);

    vault.seal().await;
    let bundle: ProofBundle =
        get_json(&vault, &format!("/ledger/proof/bundle?request_id={id}")).await;
    let verified = ledger::verify_proof_bundle(&bundle, &keys(&vault)).unwrap();
    assert_eq!(verified.request_id, id);
    assert!(verified.event_body_verified);
    assert!(!verified.consistency_verified);
    assert_eq!((verified.leaf_index, verified.tree_size), (0, 1));
    assert_eq!(bundle.keys.len(), 1, "the ledger key version is embedded");

    // A later checkpoint: the same event's bundle now carries a consistency proof.
    vault
        .scope(guarded("stripe_refund", 46, &runs))
        .await
        .unwrap();
    vault.seal().await;
    let bundle: ProofBundle =
        get_json(&vault, &format!("/ledger/proof/bundle?request_id={id}")).await;
    let verified = ledger::verify_proof_bundle(&bundle, &keys(&vault)).unwrap();
    assert!(verified.consistency_verified);
    assert_eq!(
        (verified.latest_checkpoint_id, verified.latest_tree_size),
        (2, 2)
    );

    // The inclusion endpoint serves the bundle's proof.
    let inclusion: InclusionProof =
        get_json(&vault, &format!("/ledger/proof/inclusion?request_id={id}")).await;
    assert_eq!(inclusion, bundle.inclusion);

    // A bundle checked against other keys fails.
    let stranger = MockVault::start().await;
    let err = ledger::verify_proof_bundle(&bundle, &keys(&stranger)).unwrap_err();
    assert!(!err.to_string().is_empty());
}

#[tokio::test]
async fn denials_and_review_decisions_are_events_and_pending_ones_are_not() {
    let vault = MockVault::builder()
        .rule(Rule::tool("refund").deny("no"))
        .rule(Rule::tool("wire").review())
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let runs = Runs::default();
    assert!(vault.scope(guarded("refund", 1, &runs)).await.is_err());
    let detached = detached_client(&vault);
    let Err(Error::ReviewPending(pending)) =
        ledgix::with_client(detached, guarded("wire", 2, &runs)).await
    else {
        panic!("expected a pending review");
    };
    assert_eq!(
        vault.ledger_entries().len(),
        1,
        "a pending review is not a decision yet"
    );
    vault.deny(pending.request_id(), "reviewer said no").await;
    let entries = vault.ledger_entries();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].reason, "reviewer said no");
    assert!(!entries[0].approved && !entries[1].approved);
    vault.seal().await;
    for e in &entries {
        let bundle: ProofBundle = get_json(
            &vault,
            &format!("/ledger/proof/bundle?request_id={}", e.request_id),
        )
        .await;
        ledger::verify_proof_bundle(&bundle, &keys(&vault)).unwrap();
    }
}

#[tokio::test]
async fn the_whole_ledger_verifies_from_its_endpoints() {
    let (vault, runs) = sealing_vault().await;
    for batch in [3u64, 1, 5] {
        for amount in 0..batch {
            vault.scope(guarded("t", amount, &runs)).await.unwrap();
        }
        vault.seal().await;
    }
    let entries: LedgerPage = get_json(&vault, "/ledger?limit=100").await;
    let checkpoints: CheckpointPage = get_json(&vault, "/ledger/checkpoints?limit=100").await;
    assert_eq!(entries.entries.len(), 9);
    assert_eq!(checkpoints.checkpoints.len(), 3);
    let sizes: Vec<u64> = checkpoints
        .checkpoints
        .iter()
        .map(|c| c.tree_size)
        .collect();
    assert_eq!(sizes, [3, 4, 9]);
    let result =
        ledger::verify_ledger(&entries.entries, &checkpoints.checkpoints, &keys(&vault)).unwrap();
    assert_eq!(result.entries_verified, 9);
    assert_eq!(result.checkpoints_verified, 3);
    assert!(result.chain_from_genesis && result.root_checked);

    // limits return the most recent, oldest first
    let last: LedgerPage = get_json(&vault, "/ledger?limit=2").await;
    let seqs: Vec<u64> = last.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [8, 9]);
    let (status, body) = get(&vault, "/ledger?limit=-1").await;
    assert_eq!(status, 422, "{body}");

    // consistency between every pair of checkpoints
    for (from, to) in [(1u64, 2u64), (2, 3), (1, 3), (2, 2)] {
        let proof: ConsistencyProof = get_json(
            &vault,
            &format!("/ledger/proof/consistency?from={from}&to={to}"),
        )
        .await;
        let path: Vec<[u8; 32]> = proof.path.iter().map(|h| hash32(h)).collect();
        merkle::verify_consistency(
            proof.from_checkpoint.tree_size,
            proof.to_checkpoint.tree_size,
            &path,
            &hash32(&proof.from_checkpoint.root_hash),
            &hash32(&proof.to_checkpoint.root_hash),
        )
        .unwrap_or_else(|e| panic!("{from}..{to}: {e}"));
    }
    for (query, status) in [
        ("from=2&to=1", 422),
        ("from=1&to=9", 404),
        ("from=0&to=1", 404),
        ("from=1", 422),
    ] {
        let (got, body) = get(&vault, &format!("/ledger/proof/consistency?{query}")).await;
        assert_eq!(got, status, "{query}: {body}");
    }
}

#[tokio::test]
async fn canonical_version_2_is_selectable_and_verifies() {
    let vault = MockVault::builder()
        .canonical_version(2)
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let runs = Runs::default();
    vault.scope(guarded("t", 1, &runs)).await.unwrap();
    vault.seal().await;
    let entry = &vault.ledger_entries()[0];
    assert_eq!(entry.canonical_version, 2);
    assert_eq!(entry.decision_status.as_deref(), Some("approved"));
    assert!(entry.confidence_bucket.is_some());
    let bundle: ProofBundle = get_json(
        &vault,
        &format!("/ledger/proof/bundle?request_id={}", entry.request_id),
    )
    .await;
    assert!(
        ledger::verify_proof_bundle(&bundle, &keys(&vault))
            .unwrap()
            .event_body_verified
    );

    let err = MockVault::builder()
        .canonical_version(3)
        .try_start()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m.contains("canonical_version 3")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_background_sealer_seals_on_its_own() {
    let vault = MockVault::builder()
        .seal_every(Duration::from_millis(20))
        .start()
        .await;
    let runs = Runs::default();
    vault.scope(guarded("t", 1, &runs)).await.unwrap();
    let id = vault.ledger_entries()[0].request_id.clone();
    let mut sealed = false;
    for _ in 0..500 {
        let (status, _) = get(&vault, &format!("/ledger/proof/bundle?request_id={id}")).await;
        if status == 200 {
            sealed = true;
            break;
        }
        assert_eq!(status, 409);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(sealed, "the background sealer never sealed the event");
    let checkpoints: CheckpointPage = get_json(&vault, "/ledger/checkpoints").await;
    assert_eq!(
        checkpoints.checkpoints.len(),
        1,
        "no empty checkpoints while idle"
    );
    assert_eq!(checkpoints.checkpoints[0].mmd_seconds, 1);
}

#[tokio::test]
async fn a_port_in_use_is_an_error_from_try_start() {
    let first = MockVault::start().await;
    let err = MockVault::builder()
        .listen(first.addr())
        .try_start()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Connection(m) if m.to_string().contains("cannot listen")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_clients_ledger_api_verifies_what_the_mock_serves() {
    let vault = MockVault::builder()
        .seal_every(Duration::ZERO)
        .start()
        .await;
    let client = vault.client();
    let runs = Runs::default();
    vault
        .scope(guarded("stripe_refund", 45, &runs))
        .await
        .unwrap();
    let id = vault.ledger_entries()[0].request_id.clone();
    let err = client.fetch_ledger_proof_bundle(&id).await.unwrap_err();
    assert!(
        matches!(err, Error::Ledger(ledger::LedgerError::NotSealed { .. })),
        "{err:?}"
    );
    vault.seal().await;
    let bundle = client
        .wait_for_ledger_proof_bundle(&id, Duration::from_secs(5))
        .await
        .unwrap();
    let verified = client.verify_ledger_proof_bundle(&bundle).await.unwrap();
    assert_eq!(verified.request_id, id);
    assert!(verified.event_body_verified);
    let whole = client.verify_ledger().await.unwrap();
    assert_eq!(whole.entries_verified, 1);
    assert!(whole.chain_from_genesis && whole.root_checked);
}
