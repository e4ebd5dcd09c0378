//! The mock Vault's review queue: `GET /reviews` and the page at `GET /`, over HTTP and in a
//! real headless Chromium — a held guarded call appears on the page, a click on Approve
//! releases it and its body runs, a click on Deny refuses it, and a `<script>` in a tool
//! argument is shown as text, never run.

mod support;

use support::browser;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ledgix::mock::{MockVault, Rule};
use ledgix::{Error, PendingReview};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An HTTP client that never uses a proxy (tests talk to loopback only).
fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `GET url` answered 200 with JSON: the JSON.
async fn get_json(url: &str) -> Value {
    let answer = http().get(url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{url}");
    answer.json().await.unwrap()
}

static WIRE_RUNS: AtomicUsize = AtomicUsize::new(0);

/// The guarded tool the reviewer decides on; its body counts its runs.
#[ledgix::guarded]
async fn wire_transfer(amount: u64, to: String, memo: String) -> Result<String, Error> {
    let _ = (amount, to, memo);
    WIRE_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok("wire_sent".to_string())
}

static LOOKUP_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ledgix::guarded]
async fn wire_lookup(account: String) -> Result<String, Error> {
    let _ = account;
    LOOKUP_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok("ok".to_string())
}

fn review_rules() -> ledgix::mock::MockVaultBuilder {
    MockVault::builder()
        .rule(
            Rule::tool("wire_transfer")
                .review()
                .reason("wires need a second pair of eyes"),
        )
        .rule(Rule::tool("wire_lookup").review())
        .rule(Rule::tool("stripe_refund").deny("refunds above 500 need finance"))
}

#[tokio::test]
async fn reviews_lists_each_held_call_with_what_a_reviewer_needs() {
    let vault = review_rules().start().await;
    let url = vault.url();
    let empty: Value = get_json(&format!("{url}/reviews")).await;
    assert_eq!(empty, json!({"reviews": [], "total": 0}));

    let held = tokio::spawn(ledgix::with_client(
        vault.client(),
        wire_transfer(5000, "acct_42".into(), "<b>Q3</b> invoice".into()),
    ));
    let id = vault.next_pending_review().await;
    let body = get_json(&format!("{url}/reviews")).await;
    assert_eq!(body["total"], 1);
    let review = &body["reviews"][0];
    assert_eq!(review["request_id"], id.as_str());
    assert_eq!(review["tool_name"], "wire_transfer");
    assert_eq!(
        review["tool_args"],
        json!({"amount": 5000, "to": "acct_42", "memo": "<b>Q3</b> invoice"})
    );
    assert_eq!(review["agent_id"], "default-agent");
    assert_eq!(review["reason"], "wires need a second pair of eyes");
    assert_eq!(review["confidence"], 0.5);
    assert_eq!(review["confidence_bucket"], "medium");
    let since = review["held_since"].as_str().unwrap();
    assert!(
        since.len() == 20 && since.ends_with('Z') && since.as_bytes()[10] == b'T',
        "{since}"
    );
    // The SDK reads the same list.
    let listed: Vec<PendingReview> = vault.client().pending_reviews().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].request_id, id);
    assert_eq!(listed[0].session_id, None);

    vault.deny(&id, "not today").await;
    let err = held.await.unwrap().unwrap_err();
    assert!(
        matches!(&err, Error::Denied(d) if d.reason == "not today"),
        "{err}"
    );
    let after: Value = get_json(&format!("{url}/reviews")).await;
    assert_eq!(after["total"], 0, "a decided call leaves the queue");

    let bad = http()
        .get(format!("{url}/reviews?limit=zero"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn on_loopback_the_page_needs_no_key_but_decisions_and_the_protocol_still_do() {
    let vault = review_rules().api_key("sk_mock_review").start().await;
    let url = vault.url();
    let page = http().get(format!("{url}/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let html = page.text().await.unwrap();
    assert!(html.contains("/review-page/app.js") && !html.contains("https://"));
    for (path, kind) in [
        ("/review-page/app.js", "text/javascript"),
        ("/review-page/app.css", "text/css"),
    ] {
        let answer = http().get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path}");
        assert!(
            answer.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    for path in ["/reviews", "/review-page/ledger"] {
        let answer = http().get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK, "{path} without a key");
    }

    // Everything else keeps the mock's API-key check.
    let held = tokio::spawn(ledgix::with_client(
        vault.client(),
        wire_lookup("acct_1".into()),
    ));
    let id = vault.next_pending_review().await;
    let decision = format!("{url}/reviews/{id}/decision");
    let body = json!({"approved": true, "review_reason": "ok"});
    let refused = http().post(&decision).json(&body).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let refused = http().get(format!("{url}/ledger")).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let approved = http()
        .post(&decision)
        .header("X-Vault-API-Key", "sk_mock_review")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    assert_eq!(held.await.unwrap().unwrap(), "ok");
}

#[tokio::test]
async fn a_loopback_mock_refuses_other_host_names() {
    // A page on another origin that rebinds its name to 127.0.0.1 must not read the queue.
    for key in [None, Some("sk_mock_review")] {
        let mut builder = review_rules();
        if let Some(key) = key {
            builder = builder.api_key(key);
        }
        let vault = builder.start().await;
        let port = vault.addr().port();
        for path in [
            "/",
            "/review-page/app.js",
            "/reviews",
            "/review-page/ledger",
        ] {
            let answer = http()
                .get(format!("{}{path}", vault.url()))
                .header("Host", format!("rebound.example:{port}"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::FORBIDDEN, "{path} key {key:?}");
            let body: Value = answer.json().await.unwrap();
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("loopback host name"),
                "{body}"
            );
        }
        let localhost = http()
            .get(format!("http://localhost:{port}/reviews"))
            .send()
            .await
            .unwrap();
        assert_eq!(localhost.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn the_ledger_view_checks_each_sealed_events_proof() {
    let vault = review_rules().seal_every(Duration::ZERO).start().await;
    let client = vault.client();
    let refused = vault
        .scope(
            ledgix::ToolCall::new("stripe_refund")
                .arg("amount", &900)
                .run(async { Ok::<_, Error>(()) }),
        )
        .await;
    assert!(refused.is_err());
    vault
        .scope(ledgix::ToolCall::new("lookup").run(async { Ok::<_, Error>(()) }))
        .await
        .unwrap();
    let before = get_json(&format!("{}/review-page/ledger", vault.url())).await;
    assert_eq!(before["total_events"], 2);
    assert_eq!(before["total_checkpoints"], 0);
    for event in before["events"].as_array().unwrap() {
        assert_eq!(event["proof"], "not_sealed", "{event}");
    }
    vault.seal().await;
    let after = get_json(&format!("{}/review-page/ledger", vault.url())).await;
    let events = after["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["seq"], 2, "newest first");
    assert_eq!(events[0]["tool_name"], "lookup");
    assert_eq!(events[1]["approved"], false);
    assert_eq!(events[1]["reason"], "refunds above 500 need finance");
    for event in events {
        assert_eq!(event["proof"], "verified", "{event}");
        assert_eq!(event["checkpoint_id"], 1);
    }
    assert_eq!(after["checkpoints"][0]["tree_size"], 2);
    assert!(
        after["verified_with"]
            .as_str()
            .unwrap()
            .contains("mock Vault's own keys"),
        "the page says whose keys it used"
    );
    // What the view says agrees with the SDK's own verification of the bundle.
    let id = events[0]["request_id"].as_str().unwrap();
    let bundle = client.fetch_ledger_proof_bundle(id).await.unwrap();
    client.verify_ledger_proof_bundle(&bundle).await.unwrap();
}

/// Waits for a spawned guarded call, at most 15 s.
async fn finished<T>(call: tokio::task::JoinHandle<T>) -> T {
    tokio::time::timeout(Duration::from_secs(15), call)
        .await
        .expect("the held call did not finish within 15 s of the decision")
        .expect("the held call's task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_works_the_queue_in_a_real_browser() {
    let (chromium, driver) = match browser::availability() {
        browser::Availability::Found { chromium, driver } => (chromium, driver),
        browser::Availability::Skip(why) => {
            browser::say_skipped("a_reviewer_works_the_queue_in_a_real_browser", &why);
            return;
        }
    };
    let vault = review_rules()
        .seal_every(Duration::from_millis(100))
        .start()
        .await;
    // Some history for the ledger: one approval, one denial.
    vault
        .scope(
            ledgix::ToolCall::new("crm_lookup")
                .arg("customer", &"cus_881")
                .run(async { Ok::<_, Error>(()) }),
        )
        .await
        .unwrap();
    let denied = vault
        .scope(
            ledgix::ToolCall::new("stripe_refund")
                .arg("amount", &900)
                .run(async { Ok::<_, Error>(()) }),
        )
        .await;
    assert!(denied.is_err());

    // Two held calls: an ordinary wire, and one whose memo carries markup and script.
    let first = tokio::spawn(ledgix::with_client(
        vault.client(),
        wire_transfer(
            5000,
            "acct_7731 (Acme Supplies GmbH)".into(),
            "Q3 supplier invoice INV-2291".into(),
        ),
    ));
    let first_id = vault.next_pending_review().await;
    let script = "<script>window.__ledgixPwned = 1</script>\
                  <img src=x onerror=\"window.__ledgixPwned = 2\">";
    let second = tokio::spawn(ledgix::with_client(
        vault.client(),
        wire_transfer(120, "acct_0001".into(), format!("refund {script}")),
    ));
    let second_id = loop {
        let pending = vault.pending_reviews();
        if let Some(id) = pending.into_iter().find(|id| *id != first_id) {
            break id;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };

    let browser = browser::Browser::start(&chromium, &driver).await;
    browser.goto(&format!("{}/", vault.url())).await;
    let first_card = format!("article[data-request-id=\"{first_id}\"]");
    let second_card = format!("article[data-request-id=\"{second_id}\"]");
    browser.wait_for(&first_card).await;
    browser.wait_for(&second_card).await;
    browser
        .wait_for("#events tbody tr .badge.good[title*=\"checkpoint\"]")
        .await;

    // The script is text on the page, and did not run.
    let args = browser.wait_for(&format!("{second_card} pre.args")).await;
    let shown = browser.text(&args).await;
    // (JSON-escaped quotes aside, the markup reads literally.)
    assert!(
        shown.contains("<script>window.__ledgixPwned = 1</script><img src=x onerror="),
        "the arguments as shown: {shown}"
    );
    let executed = browser
        .execute(
            "return {pwned: window.__ledgixPwned === undefined ? null : window.__ledgixPwned, \
             injected: document.querySelectorAll('#held-list script, #held-list img').length};",
        )
        .await;
    assert_eq!(executed, json!({"pwned": null, "injected": 0}));

    let screenshot = browser.screenshot().await;
    assert!(screenshot.starts_with(b"\x89PNG"), "a PNG screenshot");
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("review-page.png"), &screenshot).unwrap();
    if std::env::var("LEDGIX_UPDATE_SCREENSHOT").as_deref() == Ok("1") {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        std::fs::create_dir_all(&docs).unwrap();
        std::fs::write(docs.join("review-page.png"), &screenshot).unwrap();
    }

    // Approve the first: the held call is released and its body runs, once.
    assert_eq!(WIRE_RUNS.load(Ordering::SeqCst), 0);
    let approve = browser
        .wait_for(&format!("{first_card} button[data-action=\"approve\"]"))
        .await;
    browser.click(&approve).await;
    assert_eq!(finished(first).await.unwrap(), "wire_sent");
    assert_eq!(WIRE_RUNS.load(Ordering::SeqCst), 1);

    // Deny the second with a typed reason: the call is refused with it, the body never runs.
    let reason = browser
        .wait_for(&format!("{second_card} input.deny-reason"))
        .await;
    browser.type_into(&reason, "memo carries markup").await;
    let deny = browser
        .wait_for(&format!("{second_card} button[data-action=\"deny\"]"))
        .await;
    browser.click(&deny).await;
    let err = finished(second).await.unwrap_err();
    assert!(
        matches!(&err, Error::Denied(d) if d.reason == "memo carries markup"),
        "{err}"
    );
    assert_eq!(WIRE_RUNS.load(Ordering::SeqCst), 1);

    // The page shows both outcomes among the latest decisions, and empties the queue.
    browser
        .wait_for(&format!(
            "#decisions tr[data-request-id=\"{first_id}\"] .badge.good"
        ))
        .await;
    browser
        .wait_for(&format!(
            "#decisions tr[data-request-id=\"{second_id}\"] .badge.bad"
        ))
        .await;
    let empty = browser.wait_for("#held-empty:not([hidden])").await;
    assert!(browser.text(&empty).await.contains("No call is waiting"));
    assert!(vault.pending_reviews().is_empty());
    browser.quit().await;
}

static KEYED_RUNS: AtomicUsize = AtomicUsize::new(0);

#[ledgix::guarded]
async fn wire_payout(amount: u64) -> Result<String, Error> {
    let _ = amount;
    KEYED_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok("paid".to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_api_key_the_page_asks_for_it_before_a_decision() {
    let (chromium, driver) = match browser::availability() {
        browser::Availability::Found { chromium, driver } => (chromium, driver),
        browser::Availability::Skip(why) => {
            browser::say_skipped(
                "with_an_api_key_the_page_asks_for_it_before_a_decision",
                &why,
            );
            return;
        }
    };
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_payout").review())
        .api_key("sk_page_key")
        .start()
        .await;
    let held = tokio::spawn(ledgix::with_client(vault.client(), wire_payout(900)));
    let id = vault.next_pending_review().await;

    let browser = browser::Browser::start(&chromium, &driver).await;
    browser.goto(&format!("{}/", vault.url())).await;
    let card = format!("article[data-request-id=\"{id}\"]");
    let approve = browser
        .wait_for(&format!("{card} button[data-action=\"approve\"]"))
        .await;
    // Listed without the key (loopback); the decision needs it: refused, the call still held.
    browser.click(&approve).await;
    let message = browser.wait_for(&format!("{card} .card-message.bad")).await;
    assert!(
        browser.text(&message).await.contains("needs its API key"),
        "{}",
        browser.text(&message).await
    );
    browser.wait_for("#key-panel:not([hidden])").await;
    assert_eq!(KEYED_RUNS.load(Ordering::SeqCst), 0);
    assert_eq!(vault.pending_reviews(), vec![id.clone()]);

    // With the key entered (kept in the tab's sessionStorage), the approval goes through.
    let field = browser.wait_for("#api-key").await;
    browser.type_into(&field, "sk_page_key").await;
    let use_key = browser.wait_for("#key-form button[type=\"submit\"]").await;
    browser.click(&use_key).await;
    browser.wait_for("#key-panel[hidden]").await;
    let stored = browser
        .execute("return sessionStorage.getItem('ledgix-mock-vault-api-key');")
        .await;
    assert_eq!(stored, json!("sk_page_key"));
    let approve = browser
        .wait_for(&format!(
            "{card} button[data-action=\"approve\"]:not([disabled])"
        ))
        .await;
    browser.click(&approve).await;
    assert_eq!(finished(held).await.unwrap(), "paid");
    assert_eq!(KEYED_RUNS.load(Ordering::SeqCst), 1);
    browser.quit().await;
}
