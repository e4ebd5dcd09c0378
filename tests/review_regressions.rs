//! Regressions found in review: a resumed approval running an unbound body, redirects carrying
//! the API key to another origin, and a proof bundle about another request being accepted.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use ledgix::mock::{MockVault, Rule};
use ledgix::{Config, Error, LedgixClient, PendingApproval, ToolCall};
use serde_json::{Map, Value, json};

/// An HTTP server on 127.0.0.1:0 answering every request with `app`.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    url
}

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_request_resumed_by_id_runs_a_body_only_once_bound_to_its_call() {
    let vault = MockVault::builder()
        .rule(Rule::tool("read_balance").review())
        .start()
        .await;
    let client = support::mock::detached_client(&vault);
    let call = ToolCall::new("read_balance").arg("account", &"acct_1");
    let pending = support::mock::held(call, &client).await;
    let id = pending.request_id().to_string();
    vault.approve(&id).await;
    let runs = Arc::new(AtomicUsize::new(0));
    let body = |runs: Arc<AtomicUsize>| async move {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok::<_, Error>(())
    };

    // Unbound: the approval of `read_balance` must not run an arbitrary body.
    let err = PendingApproval::resume(&client, id.clone())
        .unwrap()
        .run(body(runs.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::TokenVerification(m) if m.contains("bind")),
        "{err:?}"
    );
    // Bound to another tool: refused by the token's binding (and the token is not burnt).
    let err = PendingApproval::resume(&client, id.clone())
        .unwrap()
        .bind("wire_transfer", args(json!({"account": "acct_1"})))
        .run(body(runs.clone()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");
    assert_eq!(runs.load(Ordering::SeqCst), 0);
    // Bound to the call it was made for: runs, once.
    PendingApproval::resume(&client, id)
        .unwrap()
        .bind("read_balance", args(json!({"account": "acct_1"})))
        .run(body(runs.clone()))
        .await
        .unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_not_followed_so_the_api_key_stays_with_the_vault() {
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let recorder = seen.clone();
    let elsewhere = serve(Router::new().fallback(move |headers: HeaderMap| {
        let recorder = recorder.clone();
        async move {
            recorder.lock().unwrap().push(headers);
            StatusCode::OK
        }
    }))
    .await;
    let target = format!("{elsewhere}/collect");
    let vault =
        serve(
            Router::new().fallback(move || {
                let target = target.clone();
                async move {
                    (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, target)]).into_response()
                }
            }),
        )
        .await;
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(vault)
            .api_key("sk_live_review_secret")
            .build()
            .unwrap(),
    )
    .unwrap();
    let err = client.clearance_status("req-1").await.unwrap_err();
    assert!(
        matches!(err, Error::Http { status: 307, .. }),
        "expected the redirect as an HTTP error, got {err:?}"
    );
    let err = ToolCall::new("t")
        .client(&client)
        .run(async { Ok::<_, Error>(()) })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Http { status: 307, .. }), "{err:?}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a request followed the redirect to another origin"
    );
}

#[tokio::test]
async fn a_proof_bundle_about_another_request_is_refused() {
    let vault = MockVault::start().await;
    let mut ids = Vec::new();
    for tool in ["a", "b"] {
        vault
            .scope(ToolCall::new(tool).run(async { Ok::<_, Error>(()) }))
            .await
            .unwrap();
        let entries = vault.ledger_entries();
        let entry = entries.iter().find(|e| e.tool_name == tool).unwrap();
        ids.push(entry.request_id.clone());
    }
    vault.seal().await;
    let other = vault
        .client()
        .fetch_ledger_proof_bundle(&ids[1])
        .await
        .unwrap();
    let inclusion = serde_json::to_value(&other.inclusion).unwrap();
    let bundle = serde_json::to_value(&other).unwrap();
    let lying = serve(Router::new().fallback(move |uri: axum::http::Uri| {
        let answer = if uri.path().ends_with("/inclusion") {
            inclusion.clone()
        } else {
            bundle.clone()
        };
        async move { axum::Json(answer) }
    }))
    .await;
    let client = LedgixClient::new(
        Config::builder()
            .vault_url(lying)
            .ledger_keys(&vault.trusted_keys_json())
            .build()
            .unwrap(),
    )
    .unwrap();
    // The bundle itself is genuine: it verifies, about request b.
    assert_eq!(
        client
            .verify_ledger_proof_bundle(&other)
            .await
            .unwrap()
            .request_id,
        ids[1]
    );
    // But it is not the proof of request a.
    for err in [
        client.fetch_ledger_proof_bundle(&ids[0]).await.unwrap_err(),
        client.fetch_inclusion_proof(&ids[0]).await.unwrap_err(),
    ] {
        assert!(
            matches!(&err, Error::Protocol(m) if m.contains(&ids[1])),
            "{err:?}"
        );
    }
}

/// A raw HTTP/1.1 server answering every connection with `mib` MiB of spaces, chunked (no
/// Content-Length), so only a streaming cap can stop the read.
async fn serve_chunked(mib: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                            transfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 1024 * 1024];
                for _ in 0..mib {
                    let mut frame = format!("{:x}\r\n", chunk.len()).into_bytes();
                    frame.extend_from_slice(&chunk);
                    frame.extend_from_slice(b"\r\n");
                    if socket.write_all(&frame).await.is_err() {
                        return;
                    }
                }
                let _ = socket.write_all(b"0\r\n\r\n").await;
            });
        }
    });
    url
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_refused_not_buffered() {
    let chunked = serve_chunked(17).await;
    let announced = serve(Router::new().fallback(|| async { vec![b' '; 17 * 1024 * 1024] })).await;
    for url in [chunked, announced] {
        let client = LedgixClient::new(Config::builder().vault_url(url).build().unwrap()).unwrap();
        let err = client.clearance_status("req-1").await.unwrap_err();
        assert!(
            matches!(&err, Error::Protocol(m) if m.contains("larger than")),
            "{err:?}"
        );
    }
}
