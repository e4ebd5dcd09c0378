//! Proxy variables in the environment never carry Vault traffic (issue 10, item 1): with
//! `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` (and their lower-case forms) all pointing at a
//! second mock Vault that approves everything, a call the real Vault denies is denied, and the
//! impostor sees nothing — not the clearance request, not the JWKS fetch.
//!
//! The variables are process-wide: this binary holds this one test, and sets them before any
//! thread or runtime exists.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use ledgix::mock::{MockVault, Rule};
use ledgix::{Error, ToolCall};

const PROXY_VARIABLES: [&str; 6] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

#[test]
fn proxy_variables_never_answer_for_the_vault() {
    // A free loopback port for the impostor, known before the variables are set.
    let impostor_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port");
    let impostor_url = format!("http://{impostor_addr}");
    // SAFETY: this binary runs this one test; the runtime (and every thread that could read
    // the environment) is built below, and the harness's own thread only waits for the test.
    #[allow(unsafe_code)] // `set_var` is unsafe in edition 2024; the workspace denies unsafe
    // SAFETY: as above.
    unsafe {
        for name in PROXY_VARIABLES {
            std::env::set_var(name, &impostor_url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let impostor = MockVault::builder()
                .listen(impostor_addr)
                .try_start()
                .await
                .expect("the impostor starts on its reserved port");
            let vault = MockVault::builder()
                .rule(Rule::tool("stripe_refund").deny("Refunds over $100 need a human."))
                .start()
                .await;
            let runs = AtomicUsize::new(0);
            for client in [
                vault.client(),
                ledgix::LedgixClient::new(vault.config()).unwrap(),
            ] {
                let err = ToolCall::new("stripe_refund")
                    .arg("amount", &1250)
                    .client(&client)
                    .run(async {
                        runs.fetch_add(1, SeqCst);
                        Ok::<_, Error>(())
                    })
                    .await
                    .unwrap_err();
                assert!(
                    err.is_denied(),
                    "expected the real Vault's denial, got {err:?}"
                );
            }
            // An approval through the same clients verifies against the real Vault's keys.
            vault
                .scope(ToolCall::new("lookup").run(async { Ok::<_, Error>(()) }))
                .await
                .unwrap();
            assert_eq!(runs.load(SeqCst), 0, "the denied body never ran");
            assert!(
                impostor.requests().is_empty(),
                "the proxy saw Vault traffic: {:?}",
                impostor
                    .requests()
                    .iter()
                    .map(|r| &r.path)
                    .collect::<Vec<_>>()
            );
            assert!(
                vault
                    .requests()
                    .iter()
                    .any(|r| r.path == "/request-clearance"),
                "the real Vault got the request"
            );
        });
}
