//! The mock Vault's memory stays bounded, whoever talks to it: the API key is checked before a
//! body is read, bodies are capped (413), recordings are a ring, Idempotency-Keys are bounded.
//! Growth is proven by counts, never by timing.

use std::time::Duration;

use ledgix::mock::{DEFAULT_MAX_RECORDED_REQUESTS, MockVault};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `head` (request line and headers, without the blank line) and then `body`, and
/// returns the status code of the answer. The body may be shorter than announced: the answer
/// must come anyway (a server that waited for the rest would time out here).
async fn raw_status(vault: &MockVault, head: &str, body: &[u8]) -> u16 {
    let mut socket = TcpStream::connect(vault.addr()).await.unwrap();
    socket
        .write_all(format!("{head}\r\nHost: mock\r\n\r\n").as_bytes())
        .await
        .unwrap();
    socket.write_all(body).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            let n = socket.read(&mut buf).await.unwrap_or(0);
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("no answer within 10 s: the server waited for the body");
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"))
}

#[tokio::test]
async fn a_request_without_the_api_key_is_refused_before_its_body_is_read() {
    let vault = MockVault::builder().api_key("the-key").start().await;
    // 4 MiB announced, 10 bytes sent: the 401 comes without the rest.
    let head = "POST /request-clearance HTTP/1.1\r\nContent-Type: application/json\r\n\
                Content-Length: 4194304\r\nX-Vault-API-Key: wrong";
    assert_eq!(raw_status(&vault, head, b"{\"tool_na").await, 401);

    // Many unauthenticated bodies: each is recorded without its body, none is kept.
    let client = reqwest::Client::new();
    let body =
        json!({"tool_name": "x", "tool_args": {"pad": "p".repeat(16 * 1024)}, "agent_id": "a"});
    for _ in 0..20 {
        // The server may close before the whole body is sent: a 401 or a closed connection.
        if let Ok(answer) = client
            .post(format!("{}/request-clearance", vault.url()))
            .json(&body)
            .send()
            .await
        {
            assert_eq!(answer.status(), 401);
        }
    }
    let recorded = vault.requests();
    assert_eq!(recorded.len(), 21);
    assert!(
        recorded.iter().all(|r| r.body == Value::Null),
        "no body is read"
    );
    assert_eq!(recorded[0].header("x-vault-api-key"), Some("***"));
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_with_413() {
    let vault = MockVault::builder().max_body_bytes(1024).start().await;
    // Announced too large: refused from the header alone.
    let head = "POST /register-policy HTTP/1.1\r\nContent-Type: application/json\r\n\
                Content-Length: 10000000";
    assert_eq!(raw_status(&vault, head, b"").await, 413);
    // Chunked, so the size shows only while reading: refused once past the limit.
    let head = "POST /register-policy HTTP/1.1\r\nContent-Type: application/json\r\n\
                Transfer-Encoding: chunked";
    let chunk = format!("800\r\n{}\r\n", " ".repeat(0x800));
    assert_eq!(raw_status(&vault, head, chunk.as_bytes()).await, 413);

    let client = reqwest::Client::new();
    let url = format!("{}/register-policy", vault.url());
    let small = json!({"policy_id": "p", "rules": ["r"]});
    assert_eq!(
        client
            .post(&url)
            .json(&small)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let large = json!({"policy_id": "p", "description": "d".repeat(2048)});
    let answer = client.post(&url).json(&large).send().await.unwrap();
    assert_eq!(answer.status(), 413);
    let detail: Value = answer.json().await.unwrap();
    assert_eq!(detail["detail"], "request bodies are limited to 1024 bytes");

    // The refused ones are recorded without their bodies; the accepted one with it.
    let bodies: Vec<Value> = vault.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [Value::Null, Value::Null, small, Value::Null]);
}

#[tokio::test]
async fn recordings_are_a_ring_of_the_latest_requests() {
    assert_eq!(DEFAULT_MAX_RECORDED_REQUESTS, 10_000);
    let vault = MockVault::builder().max_recorded_requests(50).start().await;
    let client = reqwest::Client::new();
    for i in 0..120 {
        let answer = client
            .get(format!("{}/ledger?limit={i}", vault.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    let paths: Vec<String> = vault.requests().into_iter().map(|r| r.path).collect();
    let expected: Vec<String> = (70..120).map(|i| format!("/ledger?limit={i}")).collect();
    assert_eq!(paths, expected, "the last 50, oldest first");

    let none = MockVault::builder().max_recorded_requests(0).start().await;
    client
        .get(format!("{}/ledger", none.url()))
        .send()
        .await
        .unwrap();
    assert!(none.requests().is_empty());
}

#[tokio::test]
async fn idempotency_keys_are_bounded_the_oldest_forgotten_first() {
    let vault = MockVault::builder().max_idempotency_keys(3).start().await;
    let client = reqwest::Client::new();
    let url = format!("{}/register-policy", vault.url());
    let post = |key: &str, policy: &str| {
        client
            .post(&url)
            .header("Idempotency-Key", key)
            .json(&json!({"policy_id": policy}))
            .send()
    };
    for key in ["a", "b", "c", "d"] {
        assert_eq!(post(key, "first").await.unwrap().status(), 200);
    }
    // "d" is remembered: another body under it is refused...
    assert_eq!(post("d", "second").await.unwrap().status(), 422);
    // ..."a" was forgotten when "d" came: it is a new key again.
    assert_eq!(post("a", "second").await.unwrap().status(), 200);
    // The same key and body still answers the same.
    let answer: Value = post("a", "second").await.unwrap().json().await.unwrap();
    assert_eq!(answer["policy_id"], "second");
}
