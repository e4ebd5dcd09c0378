//! Load: 64 concurrent clients make 10,000 clearance requests. Exactly 10,000 events; after
//! `seal()` all are sealed; every proof bundle served verifies; consecutive checkpoints are
//! consistent; the whole ledger verifies.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ledgix::ledger::{self, CheckpointPage, ConsistencyProof, ProofBundle, TrustedKeys, merkle};
use ledgix::mock::{MockVault, Rule};
use ledgix::{ClearanceRequest, ClearanceStatus, Error};
use serde_json::Value;
use support::hex::hash32;
use support::http::json_answer;
use tokio::task::JoinSet;

const CLIENTS: usize = 64;
const TOTAL: usize = 10_000;

/// Every 10th request is denied, the rest approved.
fn every_tenth_denied() -> Rule {
    Rule::tool("refund")
        .when(|args| {
            args.get("n")
                .and_then(Value::as_u64)
                .is_some_and(|n| n % 10 == 0)
        })
        .deny("every tenth refund is refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_ten_thousand_decisions_all_sealed_and_proven() {
    let vault = MockVault::builder()
        .rule(every_tenth_denied())
        .seal_every(Duration::from_millis(250))
        .start()
        .await;

    // 64 independent clients (own connection pools, JWKS caches, replay caches).
    let mut tasks = JoinSet::new();
    for c in 0..CLIENTS {
        let client = vault.client();
        tasks.spawn(async move {
            let (mut approved, mut denied) = (0usize, 0usize);
            for n in (c..TOTAL).step_by(CLIENTS) {
                let request = ClearanceRequest::new("refund").arg("n", n as u64);
                match client.request_clearance(&request).await {
                    Ok(answer) => {
                        assert_eq!(answer.status, ClearanceStatus::Approved);
                        assert_ne!(n % 10, 0);
                        approved += 1;
                    }
                    Err(Error::Denied(_)) if n % 10 == 0 => denied += 1,
                    Err(e) => panic!("request {n}: {e}"),
                }
            }
            (approved, denied)
        });
    }
    let (mut approved, mut denied) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (a, d) = done.unwrap();
        approved += a;
        denied += d;
    }
    assert_eq!((approved, denied), (9_000, 1_000));

    vault.seal().await;
    let entries = vault.ledger_entries();
    assert_eq!(entries.len(), TOTAL, "exactly one event per decision");
    assert!(
        entries
            .iter()
            .all(|e| e.checkpoint_id.is_some() && e.leaf_index.is_some())
    );
    let ids: HashSet<&str> = entries.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids.len(), TOTAL);
    assert_eq!(entries.iter().filter(|e| !e.approved).count(), 1_000);

    // Every bundle, fetched over HTTP by 64 workers and verified offline.
    let keys = Arc::new(TrustedKeys::from_jwks_json(&vault.trusted_keys_json()).unwrap());
    let ids: Arc<Vec<String>> = Arc::new(entries.iter().map(|e| e.request_id.clone()).collect());
    let mut tasks = JoinSet::new();
    for w in 0..CLIENTS {
        let (keys, ids, url) = (keys.clone(), ids.clone(), vault.url());
        tasks.spawn(async move {
            let http = reqwest::Client::new();
            let mut with_consistency = 0usize;
            for id in ids.iter().skip(w).step_by(CLIENTS) {
                let answer = http
                    .get(format!("{url}/ledger/proof/bundle?request_id={id}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(answer.status(), 200, "bundle of {id}");
                let bundle: ProofBundle = answer.json().await.unwrap();
                let verified = ledger::verify_proof_bundle(&bundle, &keys)
                    .unwrap_or_else(|e| panic!("bundle of {id}: {e}"));
                assert_eq!(&verified.request_id, id);
                assert!(verified.event_body_verified);
                with_consistency += usize::from(verified.consistency_verified);
            }
            with_consistency
        });
    }
    let mut with_consistency = 0;
    while let Some(done) = tasks.join_next().await {
        with_consistency += done.unwrap();
    }

    // Consecutive checkpoints are consistent; the chain and the whole ledger verify.
    let checkpoints: CheckpointPage =
        reqwest::get(format!("{}/ledger/checkpoints?limit=100000", vault.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let checkpoints = checkpoints.checkpoints;
    assert!(!checkpoints.is_empty());
    assert_eq!(checkpoints.last().unwrap().tree_size, TOTAL as u64);
    let sealed_by_latest = entries
        .iter()
        .filter(|e| e.checkpoint_id == Some(checkpoints.last().unwrap().checkpoint_id))
        .count();
    assert_eq!(with_consistency, TOTAL - sealed_by_latest);
    let http = reqwest::Client::new();
    for pair in checkpoints.windows(2) {
        let (from, to) = (&pair[0], &pair[1]);
        assert_eq!(to.prev_checkpoint_hash, from.checkpoint_hash);
        let proof: ConsistencyProof = json_answer(http.get(format!(
            "{}/ledger/proof/consistency?from={}&to={}",
            vault.url(),
            from.checkpoint_id,
            to.checkpoint_id
        )))
        .await;
        let path: Vec<[u8; 32]> = proof.path.iter().map(|h| hash32(h)).collect();
        merkle::verify_consistency(
            from.tree_size,
            to.tree_size,
            &path,
            &hash32(&from.root_hash),
            &hash32(&to.root_hash),
        )
        .unwrap_or_else(|e| {
            panic!(
                "checkpoints {} → {}: {e}",
                from.checkpoint_id, to.checkpoint_id
            )
        });
    }
    let whole = ledger::verify_ledger(&entries, &checkpoints, &keys).unwrap();
    assert_eq!(whole.entries_verified, TOTAL);
    assert!(whole.chain_from_genesis && whole.root_checked);
    eprintln!(
        "{TOTAL} decisions, {} checkpoints, {with_consistency} bundles with a consistency proof",
        checkpoints.len()
    );
}
