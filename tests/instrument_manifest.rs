//! `ledgix::instrument!` against the mock Vault: the repository's `ledgix.json` (the manifest
//! of ARCHITECTURE.md, unchanged) and an explicit manifest path.

use std::sync::atomic::{AtomicUsize, Ordering};

use ledgix::mock::{MockVault, Rule};
use serde_json::{Value, json};

fn clearances(vault: &MockVault) -> Vec<Value> {
    vault
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/request-clearance")
        .map(|r| r.body)
        .collect()
}

/// (tool_name, tool_args, context) of each clearance request.
fn sent(vault: &MockVault) -> Vec<(String, Value, Value)> {
    clearances(vault)
        .into_iter()
        .map(|b| {
            (
                b["tool_name"].as_str().unwrap_or_default().to_string(),
                b["tool_args"].clone(),
                b["context"].clone(),
            )
        })
        .collect()
}

static WIRE_RUNS: AtomicUsize = AtomicUsize::new(0);

// The default manifest: ledgix.json in CARGO_MANIFEST_DIR.
ledgix::instrument! {
    pub mod tools {
        use super::WIRE_RUNS;
        use std::sync::atomic::Ordering;

        /// rule 0, named exactly (first match wins over `stripe*`)
        pub async fn create_stripe_payment(amount: f64, customer_id: String) -> Result<String, ledgix::Error> {
            assert!(ledgix::current_token().is_some());
            Ok(format!("{customer_id}:{amount}"))
        }

        /// rule 1, `stripe*`
        pub async fn stripe_refund(charge_id: String, amount: u64) -> Result<u64, ledgix::Error> {
            let _ = charge_id;
            Ok(amount)
        }

        /// rule 3, `*`: guarded without a policy
        pub async fn lookup_customer(id: String) -> Result<String, ledgix::Error> {
            Ok(id)
        }


        /// opted out
        #[ledgix(skip)]
        pub async fn stripe_health() -> Result<bool, ledgix::Error> {
            Ok(ledgix::current_token().is_none())
        }

        /// not async and only matched by wildcards: left alone
        pub fn stripe_format(amount: u64) -> String {
            format!("${amount}")
        }

        /// its own attribute wins (and can skip secrets)
        #[ledgix::guarded(skip(card_cvc), policy = "explicit-policy")]
        pub async fn stripe_charge(amount: u64, card_cvc: String) -> Result<u64, ledgix::Error> {
            let _ = card_cvc;
            Ok(amount)
        }

        pub mod treasury {
            /// rule 2, `wire_*`, spelled `policy_id` in the file
            pub async fn wire_transfer(to: String, amount: u64) -> Result<String, ledgix::Error> {
                super::WIRE_RUNS.fetch_add(1, super::Ordering::SeqCst);
                Ok(format!("{amount} to {to}"))
            }
        }

        pub struct Agent {
            pub name: String,
        }

        impl Agent {
            /// not async: left alone
            pub fn new(name: &str) -> Self {
                Agent { name: name.to_string() }
            }

            /// a method: `self` is not sent
            pub async fn stripe_payout(&self, amount: u64) -> Result<String, ledgix::Error> {
                Ok(format!("{}:{amount}", self.name))
            }
        }

        #[async_trait::async_trait]
        pub trait Cancel {
            async fn wire_cancel(&self, id: String) -> Result<String, ledgix::Error>;
        }

        #[async_trait::async_trait]
        impl Cancel for Agent {
            async fn wire_cancel(&self, id: String) -> Result<String, ledgix::Error> {
                assert!(ledgix::current_token().is_some());
                Ok(format!("{} cancelled {id}", self.name))
            }
        }

        pub struct Quiet;

        #[ledgix(skip)]
        impl Quiet {
            pub async fn stripe_quiet(&self) -> Result<bool, ledgix::Error> {
                Ok(ledgix::current_token().is_none())
            }
        }

        // keeps WIRE_RUNS/Ordering imports used in every configuration
        pub fn wire_runs() -> usize {
            WIRE_RUNS.load(Ordering::SeqCst)
        }
    }
}

#[tokio::test]
async fn the_architecture_manifest_guards_by_first_matching_rule() {
    let vault = MockVault::start().await;
    let agent = tools::Agent::new("bot");
    let out = vault
        .scope(async {
            let payment = tools::create_stripe_payment(12.5, "cus_1".into()).await?;
            let refund = tools::stripe_refund("ch_1".into(), 7).await?;
            let customer = tools::lookup_customer("cus_1".into()).await?;
            let payout = agent.stripe_payout(3).await?;
            let charge = tools::stripe_charge(9, "123".into()).await?;
            Ok::<_, ledgix::Error>((payment, refund, customer, payout, charge))
        })
        .await
        .expect("all approved");
    assert_eq!(
        out,
        ("cus_1:12.5".into(), 7, "cus_1".into(), "bot:3".into(), 9)
    );
    assert_eq!(
        sent(&vault),
        [
            (
                "create_stripe_payment".into(),
                json!({"amount": 12.5, "customer_id": "cus_1"}),
                json!({"policy_id": "payments-prod", "risk_level": "high"})
            ),
            (
                "stripe_refund".into(),
                json!({"charge_id": "ch_1", "amount": 7}),
                json!({"policy_id": "financial-high-risk", "risk_level": "high"})
            ),
            ("lookup_customer".into(), json!({"id": "cus_1"}), json!({})),
            (
                "stripe_payout".into(),
                json!({"amount": 3}),
                json!({"policy_id": "financial-high-risk", "risk_level": "high"})
            ),
            (
                "stripe_charge".into(),
                json!({"amount": 9}),
                json!({"policy_id": "explicit-policy"})
            ),
        ]
    );
}

#[tokio::test]
async fn untouched_functions_never_ask() {
    let vault = MockVault::start().await;
    let agent = tools::Agent::new("bot");
    let (b, c) = vault
        .scope(async {
            let b = tools::stripe_health().await?;
            let c = tools::Quiet.stripe_quiet().await?;
            Ok::<_, ledgix::Error>((b, c))
        })
        .await
        .expect("unguarded");
    assert!(b && c, "no clearance in scope");
    assert_eq!(tools::stripe_format(5), "$5");
    assert_eq!(agent.name, "bot");
    assert!(clearances(&vault).is_empty(), "{:#?}", sent(&vault));
}

#[tokio::test]
async fn nested_modules_and_async_trait_impls_are_guarded() {
    let vault = MockVault::builder()
        .rule(Rule::tool("wire_transfer").deny("dual control required"))
        .start()
        .await;
    use tools::Cancel;
    let agent = tools::Agent::new("bot");
    let cancelled = vault
        .scope(agent.wire_cancel("w_1".into()))
        .await
        .expect("approved");
    assert_eq!(cancelled, "bot cancelled w_1");

    let before = tools::wire_runs();
    let err = vault
        .scope(tools::treasury::wire_transfer("acme".into(), 100))
        .await
        .expect_err("denied");
    assert!(err.is_denied(), "{err:?}");
    assert_eq!(tools::wire_runs(), before, "the denied body did not run");
    assert_eq!(WIRE_RUNS.load(Ordering::SeqCst), before);

    assert_eq!(
        sent(&vault),
        [
            (
                "wire_cancel".into(),
                json!({"id": "w_1"}),
                json!({"policy_id": "treasury-dual-control"})
            ),
            (
                "wire_transfer".into(),
                json!({"to": "acme", "amount": 100}),
                json!({"policy_id": "treasury-dual-control"})
            ),
        ]
    );
}

mod reexport {
    pub use ledgix as renamed;
}

// An explicit manifest path (relative to CARGO_MANIFEST_DIR) and a crate path override.
ledgix::instrument!(
    "tests/manifests/instrument.json",
    crate = "crate::reexport::renamed",
    mod data {
        pub async fn db_write(table: String, rows: u32) -> Result<u32, ledgix::Error> {
            let _ = table;
            Ok(rows)
        }

        pub async fn db_read(table: String) -> Result<String, ledgix::Error> {
            Ok(table)
        }

        pub async fn report_7() -> Result<u8, ledgix::Error> {
            Ok(7)
        }

        /// `report_[0-9]` is one digit: no rule matches
        pub async fn report_10() -> Result<bool, ledgix::Error> {
            Ok(ledgix::current_token().is_none())
        }

        /// no rule matches
        pub async fn cache_get(key: String) -> Result<bool, ledgix::Error> {
            let _ = key;
            Ok(ledgix::current_token().is_none())
        }
    }
);

#[tokio::test]
async fn an_explicit_manifest_with_globs_and_arbitrary_json_context() {
    let vault = MockVault::start().await;
    let out = vault
        .scope(async {
            Ok::<_, ledgix::Error>((
                data::db_write("users".into(), 2).await?,
                data::db_read("users".into()).await?,
                data::report_7().await?,
                data::report_10().await?,
                data::cache_get("k".into()).await?,
            ))
        })
        .await
        .expect("approved");
    assert_eq!(out, (2, "users".into(), 7, true, true));
    assert_eq!(
        sent(&vault),
        [
            (
                "db_write".into(),
                json!({"table": "users", "rows": 2}),
                json!({
                    "policy_id": "data-mutation",
                    "owner": "data-platform",
                    "risk": {
                        "level": 3, "tags": ["pii", "gdpr"], "ratio": 0.25, "negative": -7,
                        "big": 18446744073709551615u64, "none": null, "on": true
                    }
                })
            ),
            (
                "db_read".into(),
                json!({"table": "users"}),
                json!({"policy_id": "data-read"})
            ),
            ("report_7".into(), json!({}), json!({})),
        ]
    );
}

static REFUND_RUNS: AtomicUsize = AtomicUsize::new(0);
static SETTLE_RUNS: AtomicUsize = AtomicUsize::new(0);
static RECALL_RUNS: AtomicUsize = AtomicUsize::new(0);
static BATCH_RUNS: AtomicUsize = AtomicUsize::new(0);
static INVOICE_RUNS: AtomicUsize = AtomicUsize::new(0);
static QUIET_RUNS: AtomicUsize = AtomicUsize::new(0);
/// The five guarded tools below, each with the counter of its body's runs.
static GUARDED_RUNS: [(&str, &AtomicUsize); 5] = [
    ("stripe_refund", &REFUND_RUNS),
    ("stripe_settle", &SETTLE_RUNS),
    ("wire_recall", &RECALL_RUNS),
    ("stripe_batch", &BATCH_RUNS),
    ("lookup_invoice", &INVOICE_RUNS),
];

/// A mock Vault that denies every tool ("everything denied").
async fn denying_vault() -> MockVault {
    MockVault::builder()
        .rule(Rule::tool("*").deny("everything denied"))
        .start()
        .await
}

fn runs(counter: &AtomicUsize) -> usize {
    counter.load(Ordering::SeqCst)
}

// Shapes `#[guarded]` supports besides a plain `async fn`: trait default bodies, and
// non-async functions that build their future, matched only by the wildcards of ledgix.json.
ledgix::instrument! {
    mod shapes {
        use std::future::Future;
        use std::pin::Pin;
        use std::sync::atomic::Ordering::SeqCst;

        use super::{BATCH_RUNS, INVOICE_RUNS, QUIET_RUNS, RECALL_RUNS, REFUND_RUNS, SETTLE_RUNS};

        pub(crate) trait Payments {
            /// `stripe*`: a default body is guarded
            async fn stripe_refund(&self, amount: f64) -> Result<f64, ledgix::Error> {
                REFUND_RUNS.fetch_add(1, SeqCst);
                Ok(amount)
            }

            /// required: nothing to guard here, the impl below is guarded where it is written
            async fn stripe_settle(&self, batch: u32) -> Result<u32, ledgix::Error>;
        }

        pub(crate) struct Shop;

        impl Payments for Shop {
            async fn stripe_settle(&self, batch: u32) -> Result<u32, ledgix::Error> {
                SETTLE_RUNS.fetch_add(1, SeqCst);
                Ok(batch)
            }
        }

        #[async_trait::async_trait]
        pub(crate) trait Recall: Sync {
            /// `wire_*`: a default body under `#[async_trait]`
            async fn wire_recall(&self, id: String) -> Result<String, ledgix::Error> {
                RECALL_RUNS.fetch_add(1, SeqCst);
                Ok(id)
            }
        }

        impl Recall for Shop {}

        /// not async, `stripe*` only: hand-boxed, so guarded
        pub(crate) fn stripe_batch(
            ids: Vec<String>,
        ) -> Pin<Box<dyn Future<Output = Result<usize, ledgix::Error>> + Send>> {
            Box::pin(async move {
                BATCH_RUNS.fetch_add(1, SeqCst);
                Ok(ids.len())
            })
        }

        /// not async, `*` only: an `async move` block, so guarded
        #[allow(clippy::manual_async_fn)] // this shape is what is under test
        pub(crate) fn lookup_invoice(
            id: String,
        ) -> impl Future<Output = Result<String, ledgix::Error>> + Send {
            async move {
                INVOICE_RUNS.fetch_add(1, SeqCst);
                Ok(id)
            }
        }

        /// not async and builds no future, `stripe*` only: left alone
        pub(crate) fn stripe_cents(amount: f64) -> u64 {
            (amount * 100.0) as u64
        }

        #[ledgix(skip)]
        pub(crate) trait Quiet {
            /// opted out with its trait
            async fn stripe_quiet(&self) -> Result<bool, ledgix::Error> {
                QUIET_RUNS.fetch_add(1, SeqCst);
                Ok(ledgix::current_token().is_none())
            }
        }

        impl Quiet for Shop {}
    }
}

#[tokio::test]
async fn trait_default_bodies_and_built_futures_ask_the_vault() {
    use shapes::{Payments, Recall};
    let denying = MockVault::builder()
        .rule(Rule::tool("stripe_refund").deny("refunds frozen"))
        .rule(Rule::tool("stripe_settle").deny("settlement closed"))
        .rule(Rule::tool("wire_recall").deny("dual control required"))
        .rule(Rule::tool("stripe_batch").deny("batch too large"))
        .rule(Rule::tool("lookup_invoice").deny("not yours"))
        .start()
        .await;
    let shop = shapes::Shop;
    let refund = denying.scope(shop.stripe_refund(4.5)).await;
    let settle = denying.scope(shop.stripe_settle(3)).await;
    let recall = denying.scope(shop.wire_recall("w_9".into())).await;
    let batch = denying
        .scope(shapes::stripe_batch(vec!["a".into(), "b".into()]))
        .await;
    let invoice = denying.scope(shapes::lookup_invoice("in_1".into())).await;
    for (tool, err) in [
        ("stripe_refund", refund.map(drop)),
        ("stripe_settle", settle.map(drop)),
        ("wire_recall", recall.map(drop)),
        ("stripe_batch", batch.map(drop)),
        ("lookup_invoice", invoice.map(drop)),
    ] {
        let err = err.expect_err(tool);
        assert!(err.is_denied(), "{tool}: {err:?}");
    }
    for (tool, counter) in GUARDED_RUNS {
        assert_eq!(runs(counter), 0, "{tool}: a denied body never runs");
    }
    let asked = sent(&denying);
    let names: Vec<&str> = asked.iter().map(|(t, _, _)| t.as_str()).collect();
    assert_eq!(
        names,
        [
            "stripe_refund",
            "stripe_settle",
            "wire_recall",
            "stripe_batch",
            "lookup_invoice"
        ]
    );

    let approving = MockVault::start().await;
    let out = approving
        .scope(async {
            Ok::<_, ledgix::Error>((
                shop.stripe_refund(4.5).await?,
                shop.stripe_settle(3).await?,
                shop.wire_recall("w_9".into()).await?,
                shapes::stripe_batch(vec!["a".into(), "b".into()]).await?,
                shapes::lookup_invoice("in_1".into()).await?,
            ))
        })
        .await
        .expect("approved");
    assert_eq!(out, (4.5, 3, "w_9".into(), 2, "in_1".into()));
    for (tool, counter) in GUARDED_RUNS {
        assert_eq!(runs(counter), 1, "{tool}: an approved body runs once");
    }
    let stripe = json!({"policy_id": "financial-high-risk", "risk_level": "high"});
    assert_eq!(
        sent(&approving),
        [
            (
                "stripe_refund".into(),
                json!({"amount": 4.5}),
                stripe.clone()
            ),
            ("stripe_settle".into(), json!({"batch": 3}), stripe.clone()),
            (
                "wire_recall".into(),
                json!({"id": "w_9"}),
                json!({"policy_id": "treasury-dual-control"})
            ),
            ("stripe_batch".into(), json!({"ids": ["a", "b"]}), stripe),
            ("lookup_invoice".into(), json!({"id": "in_1"}), json!({})),
        ]
    );
}

#[tokio::test]
async fn a_skipped_trait_and_a_plain_sync_function_stay_unguarded() {
    use shapes::Quiet;
    let vault = denying_vault().await;
    let quiet = vault
        .scope(shapes::Shop.stripe_quiet())
        .await
        .expect("not guarded: the denying Vault is never asked");
    assert!(quiet, "no clearance in scope");
    assert_eq!(runs(&QUIET_RUNS), 1);
    assert_eq!(vault.scope(async { shapes::stripe_cents(1.25) }).await, 125);
    assert!(clearances(&vault).is_empty(), "{:#?}", sent(&vault));
}

static UNDERSCORE_RUNS: AtomicUsize = AtomicUsize::new(0);
static FOREIGN_RUNS: AtomicUsize = AtomicUsize::new(0);
static ONE_LINE_RUNS: AtomicUsize = AtomicUsize::new(0);

/// An attribute macro named `guarded` that is not ledgix's (tracing's `#[instrument]`): it
/// guards nothing with the Vault, so the manifest must still guard what it is on.
mod not_ledgix {
    pub use tracing::instrument as guarded;
}

// Functions `instrument!` used to leave unguarded although a glob matched them: a `_`-prefixed
// name, and another crate's attribute whose last segment is `guarded`.
ledgix::instrument! {
    mod previously_skipped {
        use std::sync::atomic::Ordering::SeqCst;

        use super::{FOREIGN_RUNS, ONE_LINE_RUNS, UNDERSCORE_RUNS};

        /// `*`: a leading `_` does not opt out
        pub async fn _internal_sync(id: u64) -> Result<u64, ledgix::Error> {
            UNDERSCORE_RUNS.fetch_add(1, SeqCst);
            Ok(id)
        }

        /// `stripe*`: tracing's attribute, re-exported as `guarded`, is not ledgix's
        #[super::not_ledgix::guarded(skip_all)]
        pub async fn stripe_traced(amount: u64) -> Result<u64, ledgix::Error> {
            FOREIGN_RUNS.fetch_add(1, SeqCst);
            Ok(amount)
        }

        /// a one-line body, guarded without an `unused_braces` warning (`.ci/run` lints this
        /// file with `-D warnings`; tests/ui/pass builds one-liners under `#![deny(warnings)]`)
        pub async fn wire_one_line(id: String) -> Result<String, ledgix::Error> { ONE_LINE_RUNS.fetch_add(1, SeqCst); Ok(id) }
    }
}

#[tokio::test]
async fn underscore_names_and_foreign_guarded_attributes_ask_the_vault() {
    let denying = denying_vault().await;
    let underscore = denying.scope(previously_skipped::_internal_sync(1)).await;
    let foreign = denying.scope(previously_skipped::stripe_traced(2)).await;
    let one_line = denying
        .scope(previously_skipped::wire_one_line("w_1".into()))
        .await;
    for (tool, err) in [
        ("_internal_sync", underscore.map(drop)),
        ("stripe_traced", foreign.map(drop)),
        ("wire_one_line", one_line.map(drop)),
    ] {
        let err = err.expect_err(tool);
        assert!(err.is_denied(), "{tool}: {err:?}");
    }
    for (tool, counter) in [
        ("_internal_sync", &UNDERSCORE_RUNS),
        ("stripe_traced", &FOREIGN_RUNS),
        ("wire_one_line", &ONE_LINE_RUNS),
    ] {
        assert_eq!(runs(counter), 0, "{tool}: a denied body never runs");
    }
    assert_eq!(
        sent(&denying),
        [
            ("_internal_sync".into(), json!({"id": 1}), json!({})),
            (
                "stripe_traced".into(),
                json!({"amount": 2}),
                json!({"policy_id": "financial-high-risk", "risk_level": "high"})
            ),
            (
                "wire_one_line".into(),
                json!({"id": "w_1"}),
                json!({"policy_id": "treasury-dual-control"})
            ),
        ]
    );

    let approving = MockVault::start().await;
    let out = approving
        .scope(async {
            Ok::<_, ledgix::Error>((
                previously_skipped::_internal_sync(1).await?,
                previously_skipped::stripe_traced(2).await?,
                previously_skipped::wire_one_line("w_1".into()).await?,
            ))
        })
        .await
        .expect("approved");
    assert_eq!(out, (1, 2, "w_1".into()));
    for counter in [&UNDERSCORE_RUNS, &FOREIGN_RUNS, &ONE_LINE_RUNS] {
        assert_eq!(runs(counter), 1, "an approved body runs once");
    }
}
