//! `examples/mcp_server` proven, not just compiled: the test builds it (with the features this
//! test was built with, so nothing is rebuilt twice), spawns it, and speaks MCP's JSON-RPC over
//! its stdin and stdout, as an MCP client does.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Builds `examples/mcp_server` with cargo and returns the executable's path.
fn build_example() -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").to_string());
    let features: Vec<&str> = [
        ("mock", cfg!(feature = "mock")),
        ("test-util", cfg!(feature = "test-util")),
        ("cli", cfg!(feature = "cli")),
        ("rmcp", cfg!(feature = "rmcp")),
        ("rig", cfg!(feature = "rig")),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    let mut command = std::process::Command::new(cargo);
    command
        .args(["build", "--example", "mcp_server", "--message-format=json"])
        .arg("--manifest-path")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .arg("--features")
        .arg(features.join(","));
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo build --example mcp_server failed"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "mcp_server")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo names the mcp_server executable")
}

struct Server {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl Server {
    fn spawn(exe: &PathBuf) -> Server {
        let mut child = Command::new(exe)
            .env_remove("LEDGIX_VAULT_URL")
            .env_remove("LEDGIX_VAULT_API_KEY")
            .env_remove("LEDGIX_MANIFEST")
            .env("RUST_LOG", "info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the example starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        Server {
            child,
            stdin,
            stdout,
        }
    }

    async fn send(&mut self, message: Value) {
        let mut line = message.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// Sends a request and returns the answer with its id; every line on stdout must be a
    /// JSON-RPC message (logs go to stderr).
    async fn request(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.stdout.next_line())
                .await
                .expect("an answer within 30 s")
                .unwrap()
                .expect("the server is still running");
            let message: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout carries only JSON-RPC, got {line:?}: {e}"));
            assert_eq!(message["jsonrpc"], "2.0", "{line}");
            if message["id"] == id {
                return message;
            }
        }
    }

    async fn call(&mut self, id: u64, tool: &str, arguments: Value) -> Value {
        let answer = self
            .request(
                id,
                "tools/call",
                json!({"name": tool, "arguments": arguments}),
            )
            .await;
        assert!(answer.get("error").is_none(), "{answer}");
        answer["result"].clone()
    }
}

fn text(result: &Value) -> String {
    result["content"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_example_answers_an_mcp_client_over_stdio() {
    let exe = build_example();
    let mut server = Server::spawn(&exe);

    let init = server
        .request(
            1,
            "initialize",
            json!({
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "ledgix-test", "version": "0"}
            }),
        )
        .await;
    assert_eq!(
        init["result"]["serverInfo"]["name"], "ledgix-payments-example",
        "{init}"
    );
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    server
        .send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        .await;

    let list = server.request(2, "tools/list", json!({})).await;
    let tools = list["result"]["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["create_stripe_payment", "lookup_customer", "stripe_refund"]
    );
    let payment = tools
        .iter()
        .find(|t| t["name"] == "create_stripe_payment")
        .unwrap();
    assert_eq!(
        payment["inputSchema"]["required"],
        json!(["amount", "currency", "customer_id"])
    );

    // Approved: the tool ran under a token (its jti is in the payment id).
    let paid = server
        .call(
            3,
            "create_stripe_payment",
            json!({"amount": 1200, "currency": "usd", "customer_id": "cus_42"}),
        )
        .await;
    assert_eq!(paid["isError"], false, "{paid}");
    let receipt: Value = serde_json::from_str(&text(&paid)).expect("a JSON receipt");
    assert_eq!(receipt["amount"], 1200);
    assert_eq!(receipt["customer_id"], "cus_42");
    let payment_id = receipt["payment_id"].as_str().unwrap();
    assert!(
        payment_id.starts_with("pi_") && payment_id != "pi_not-cleared",
        "{payment_id}"
    );

    let customer = server
        .call(4, "lookup_customer", json!({"customer_id": "cus_42"}))
        .await;
    assert_eq!(customer["isError"], false, "{customer}");
    assert!(text(&customer).contains("cus_42"));

    // Denied by the embedded mock's rule: an error result the model reads, with the request_id.
    let refund = server
        .call(
            5,
            "stripe_refund",
            json!({"charge_id": "ch_1", "amount": 500}),
        )
        .await;
    assert_eq!(refund["isError"], true, "{refund}");
    let message = text(&refund);
    assert!(message.contains("denied"), "{message}");
    assert!(message.contains("request_id "), "{message}");
    assert!(message.contains("a human issues them"), "{message}");
    assert!(!message.contains("re_"), "the refund never ran: {message}");

    // Wrong-typed arguments: refused before the Vault is asked.
    let wrong = server
        .call(
            6,
            "create_stripe_payment",
            json!({"amount": "lots", "currency": "usd", "customer_id": "c"}),
        )
        .await;
    assert_eq!(wrong["isError"], true, "{wrong}");
    assert!(text(&wrong).contains("argument /amount"), "{wrong}");

    // Closing stdin ends the server; its logs went to stderr.
    drop(server.stdin);
    let output = tokio::time::timeout(Duration::from_secs(30), server.child.wait_with_output())
        .await
        .expect("the server exits when stdin closes")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("embedded mock Vault"), "{stderr}");
    assert!(stderr.contains("tool call not run: denied"), "{stderr}");
}
