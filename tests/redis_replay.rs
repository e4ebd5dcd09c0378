//! `ledgix::redis::RedisReplayStore` against a real `redis-server` started by each test on a
//! free loopback port: N stores (N processes or replicas) pass one token once, concurrent
//! first uses give exactly one `true`, ids are forgotten once their token expires, a Redis
//! that dies means refusal (never `true`, the body never runs), and four clients resuming one
//! approval run its body once.
//!
//! Needs `redis-server` (`apt-get install -y redis-server`); without it these tests fail,
//! loudly, unless `LEDGIX_SKIP_REDIS_TESTS=1`.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, SystemTime};

use ledgix::mock::{MockVault, Rule};
use ledgix::redis::RedisReplayStore;
use ledgix::{Config, Error, LedgixClient, ReplayStore, ReviewMode, ToolCall};
use serde_json::{Map, Value, json};
use support::redis::RedisServer;

fn in_secs(secs: u64) -> SystemTime {
    SystemTime::now() + Duration::from_secs(secs)
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A body that counts its runs.
async fn counted(runs: Arc<AtomicUsize>) -> Result<(), Error> {
    runs.fetch_add(1, SeqCst);
    Ok(())
}

async fn store(redis: &RedisServer) -> RedisReplayStore {
    store_with_timeout(redis, Duration::from_secs(2)).await
}

/// A store on the test's `redis-server` whose commands time out after `timeout`.
async fn store_with_timeout(redis: &RedisServer, timeout: Duration) -> RedisReplayStore {
    RedisReplayStore::builder(redis.url())
        .timeout(timeout)
        .connect()
        .await
        .expect("connect to the test's redis-server")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn n_stores_pass_one_token_once() {
    let Some(redis) = RedisServer::start("n_stores_pass_one_token_once") else {
        return;
    };
    // Five separate connections: five processes or gateway replicas.
    let mut stores = vec![RedisReplayStore::connect(redis.url()).await.unwrap()];
    for _ in 0..4 {
        stores.push(store(&redis).await);
    }
    for (n, jti) in ["run:tok-a", "run:tok-b", "gateway:tok-a"]
        .iter()
        .enumerate()
    {
        let mut firsts = 0;
        for store in &stores {
            if store.first_use(jti, in_secs(300)).await.unwrap() {
                firsts += 1;
            }
        }
        assert_eq!(firsts, 1, "token {n}: exactly one store sees the first use");
        // And every later use, from any of them, is a replay.
        for store in &stores {
            assert!(!store.first_use(jti, in_secs(300)).await.unwrap());
        }
    }
    // Another namespace is another set of ids (another deployment on the same Redis).
    let other = RedisReplayStore::builder(redis.url())
        .namespace("staging:")
        .connect()
        .await
        .unwrap();
    assert_eq!(other.namespace(), "staging:");
    assert!(other.first_use("run:tok-a", in_secs(300)).await.unwrap());
    assert!(!other.first_use("run:tok-a", in_secs(300)).await.unwrap());
    // Debug shows where, never a secret.
    let shown = format!("{:?}", stores[0]);
    assert!(shown.contains("RedisReplayStore"), "{shown}");
    assert!(shown.contains("ledgix:replay:"), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_uses_give_exactly_one_true() {
    let Some(redis) = RedisServer::start("concurrent_first_uses_give_exactly_one_true") else {
        return;
    };
    let stores = [
        store(&redis).await,
        store(&redis).await,
        store(&redis).await,
    ];
    for round in 0..20 {
        let jti = format!("run:race-{round}");
        let tasks: Vec<_> = (0..48)
            .map(|i| {
                // Clones share their store's connection; three connections in all.
                let store = stores[i % stores.len()].clone();
                let jti = jti.clone();
                tokio::spawn(async move { store.first_use(&jti, in_secs(300)).await })
            })
            .collect();
        let mut trues = 0;
        for task in tasks {
            if task.await.unwrap().unwrap() {
                trues += 1;
            }
        }
        assert_eq!(
            trues, 1,
            "round {round}: 48 concurrent first uses, one true"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_remembered_until_their_token_expires_then_forgotten() {
    let Some(redis) = RedisServer::start("ids_are_remembered_until_expiry") else {
        return;
    };
    let store = store(&redis).await;
    let expires = SystemTime::now() + Duration::from_millis(1_200);
    assert!(store.first_use("run:short", expires).await.unwrap());
    assert!(!store.first_use("run:short", expires).await.unwrap());
    // A far-future expiry neither overflows nor is refused.
    let far = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::from(u32::MAX) * 4);
    assert!(store.first_use("run:far", far).await.unwrap());
    assert!(!store.first_use("run:far", far).await.unwrap());
    // Still remembered shortly before expiry ...
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!store.first_use("run:short", expires).await.unwrap());
    // ... forgotten after it (Redis expires the key; poll rather than assume its timing).
    let mut forgotten = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if SystemTime::now() < expires {
            continue;
        }
        if store.first_use("run:short", in_secs(300)).await.unwrap() {
            forgotten = true;
            break;
        }
    }
    assert!(
        forgotten,
        "the id was never forgotten after its token expired"
    );
    assert!(!store.first_use("run:far", far).await.unwrap());
}

/// Whether `store` records a first use again within ten seconds, trying new ids
/// `{prefix}-0`, `{prefix}-1`, … every 100 ms while it refuses; a new id answered as a replay
/// panics.
async fn serves_again(store: &RedisReplayStore, prefix: &str) -> bool {
    for i in 0..100 {
        match store
            .first_use(&format!("{prefix}-{i}"), in_secs(300))
            .await
        {
            Ok(true) => return true,
            Ok(false) => panic!("a new id cannot be a replay"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_redis_means_refusal_never_a_first_use_and_no_body_runs() {
    let Some(mut redis) = RedisServer::start("a_dead_redis_means_refusal") else {
        return;
    };
    let store = store_with_timeout(&redis, Duration::from_millis(500)).await;
    assert!(store.first_use("run:before", in_secs(300)).await.unwrap());

    let vault = MockVault::start().await;
    let client = support::mock::client_with_replay_store(&vault, store.clone());
    let runs = Arc::new(AtomicUsize::new(0));
    ToolCall::new("lookup")
        .arg("id", &"c_1")
        .client(&client)
        .run(counted(runs.clone()))
        .await
        .expect("with Redis up, an approved call runs");
    assert_eq!(runs.load(SeqCst), 1);

    redis.kill();
    for i in 0..10 {
        let jti = format!("run:after-{i}");
        match store.first_use(&jti, in_secs(300)).await {
            Err(Error::ReplayStore(e)) => {
                let text = e.to_string();
                assert!(text.contains("Redis at redis://127.0.0.1:"), "{text}");
            }
            other => panic!("Redis is down: expected a refusal, got {other:?}"),
        }
    }
    // A guarded call approved by the Vault does not run: the token cannot be marked used.
    for _ in 0..3 {
        let err = ToolCall::new("lookup")
            .arg("id", &"c_2")
            .client(&client)
            .run(counted(runs.clone()))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ReplayStore(_)), "{err:?}");
        assert!(err.is_retryable());
        assert!(
            err.tool_message().contains("not run"),
            "{}",
            err.tool_message()
        );
    }
    assert_eq!(runs.load(SeqCst), 1, "no body ran while Redis was down");

    // Redis comes back (empty: no persistence): the store reconnects by itself.
    redis.restart();
    assert!(
        serves_again(&store, "run:back").await,
        "the store never reconnected to the restarted Redis"
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_that_does_not_answer_in_time_means_refusal() {
    let Some(redis) = RedisServer::start("a_redis_that_does_not_answer_in_time") else {
        return;
    };
    let store = store_with_timeout(&redis, Duration::from_millis(300)).await;
    assert!(store.first_use("run:warm", in_secs(300)).await.unwrap());
    redis.freeze();
    let outcomes: Vec<_> = (0..4)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .first_use(&format!("run:hung-{i}"), in_secs(300))
                    .await
            })
        })
        .collect();
    for outcome in outcomes {
        match outcome.await.unwrap() {
            Err(Error::ReplayStore(_)) => {}
            other => {
                redis.thaw();
                panic!("a frozen Redis: expected a refusal, got {other:?}");
            }
        }
    }
    redis.thaw();
    // Answering again, the store serves again (after reconnecting if it had to).
    assert!(
        serves_again(&store, "run:thawed").await,
        "the store never served again after Redis answered again"
    );
    assert!(!store.first_use("run:warm", in_secs(300)).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_clients_with_their_own_redis_connections_resume_one_approval_once() {
    let Some(redis) = RedisServer::start("four_clients_resume_one_approval_once") else {
        return;
    };
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").review())
        .start()
        .await;
    // Four "processes": four clients, each with its own connection to the shared Redis (and
    // none sharing the process-wide memory store, which would hide the point).
    let mut clients = Vec::new();
    for _ in 0..4 {
        let config: Config = vault
            .config()
            .to_builder()
            .review_mode(ReviewMode::Detach)
            .replay_store(store(&redis).await)
            .build()
            .unwrap();
        clients.push(LedgixClient::new(config).unwrap());
    }
    let wire = json!({"amount": 48_000, "iban": "DE89370400440532013000"});
    let err = ToolCall::new("wire_transfer")
        .args(args(wire.clone()))
        .client(&clients[0])
        .run(async { Ok::<_, Error>(()) })
        .await
        .unwrap_err();
    let Error::ReviewPending(pending) = err else {
        panic!("expected ReviewPending, got {err:?}")
    };
    let id = pending.request_id().to_string();
    vault.approve(&id).await;

    let (runs, replays) =
        support::mock::resume_everywhere(&clients, &id, "wire_transfer", &args(wire.clone())).await;
    assert_eq!(runs, 1, "one approval runs one body");
    assert_eq!(replays, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_never_shows_in_errors() {
    let Some(redis) = RedisServer::start("a_password_never_shows_in_errors") else {
        return;
    };
    // This Redis has no password: AUTH is refused, and the error must not echo it.
    let url = format!("redis://:s3cr3t-pw-9@127.0.0.1:{}/0", redis.port());
    let err = RedisReplayStore::builder(url)
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .unwrap_err();
    let mut shown = format!("{err} {err:?}");
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        shown.push_str(&format!(" {s} {s:?}"));
        source = s.source();
    }
    assert!(!shown.contains("s3cr3t-pw-9"), "{shown}");
    assert!(shown.contains("***"), "{shown}");
}
