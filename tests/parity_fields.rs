//! Parity with the official SDKs, asserted on the wire of a real mock Vault: every attribution
//! field of a request (`human_principal`, `parent_jti`, `destination_*`, `data_categories`,
//! `purpose`, `processing_register_ref`, `dataset_ref`), the principal from the configuration
//! and per call, delegation (`LedgixClient::delegate`, `delegated_client()` and
//! `with_delegation` inside a guarded body), counterparty hints, and the maximum token
//! lifetime (fail closed: the body runs zero times).

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ledgix::mock::MockVault;
use ledgix::{ClearanceRequest, Config, ConfigBuilder, Error, LedgixClient, ToolCall};
use serde_json::{Value, json};

/// The attribution fields, all left out of the body when unset.
const ATTRIBUTION: &[&str] = &[
    "human_principal",
    "parent_jti",
    "destination_uri",
    "destination_provider",
    "destination_account_ref",
    "data_categories",
    "purpose",
    "processing_register_ref",
    "dataset_ref",
];

/// The bodies of the `/request-clearance` requests `vault` received, oldest first.
fn last_asked(vault: &MockVault) -> Value {
    support::mock::asked(vault)
        .pop()
        .expect("the Vault was asked")
}

fn client_with(vault: &MockVault, f: impl FnOnce(ConfigBuilder) -> ConfigBuilder) -> LedgixClient {
    LedgixClient::new(f(vault.config().to_builder()).build().expect("config")).expect("client")
}

/// Counts the runs of a body.
#[derive(Clone, Default)]
struct Runs(Arc<AtomicUsize>);

impl Runs {
    fn body(&self) -> impl Future<Output = Result<(), Error>> + Send + 'static {
        let runs = self.0.clone();
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }
    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn every_field_goes_on_the_wire_top_level_as_named() {
    let vault = MockVault::start().await;
    let runs = Runs::default();
    vault
        .scope(
            ToolCall::new("export_report")
                .arg("report_id", &"r-1")
                .policy("exports")
                .principal("user-42")
                .parent_jti("jti-parent")
                .destination("https://crm.example.com/api", "crm", "acct_9")
                .data_categories(["email", "payment_card"])
                .purpose("billing")
                .processing_register_ref("reg-7")
                .dataset_ref("customers")
                .run(runs.body()),
        )
        .await
        .expect("approved");
    assert_eq!(runs.count(), 1);
    let body = last_asked(&vault);
    assert_eq!(body["tool_name"], json!("export_report"));
    assert_eq!(body["context"]["policy_id"], json!("exports"));
    let expected = json!({
        "human_principal": "user-42",
        "parent_jti": "jti-parent",
        "destination_uri": "https://crm.example.com/api",
        "destination_provider": "crm",
        "destination_account_ref": "acct_9",
        "data_categories": ["email", "payment_card"],
        "purpose": "billing",
        "processing_register_ref": "reg-7",
        "dataset_ref": "customers",
    });
    for field in ATTRIBUTION {
        assert_eq!(body[field], expected[field], "{field}: {body}");
    }
    // Top level, not inside the context.
    for field in ATTRIBUTION {
        assert!(
            body["context"].get(*field).is_none(),
            "{field} in context: {body}"
        );
    }

    // The same through ClearanceRequest and request_clearance.
    let request = ClearanceRequest::new("export_report")
        .arg("report_id", "r-2")
        .principal("user-42")
        .parent_jti("jti-parent")
        .destination("https://crm.example.com/api", "crm", "acct_9")
        .data_categories(vec!["email".to_string(), "payment_card".to_string()])
        .purpose("billing")
        .processing_register_ref("reg-7")
        .dataset_ref("customers");
    vault
        .client()
        .request_clearance(&request)
        .await
        .expect("approved");
    let body = last_asked(&vault);
    for field in ATTRIBUTION {
        assert_eq!(body[field], expected[field], "{field}: {body}");
    }
}

#[tokio::test]
async fn unset_and_empty_fields_are_left_out() {
    let vault = MockVault::start().await;
    vault
        .scope(
            ToolCall::new("lookup")
                .arg("q", &"x")
                .principal("")
                .data_categories(Vec::<String>::new())
                .purpose("")
                .destination("", "", "")
                .run(Runs::default().body()),
        )
        .await
        .expect("approved");
    let body = last_asked(&vault);
    for field in ATTRIBUTION {
        assert!(body.get(*field).is_none(), "{field} sent: {body}");
    }
    let text = serde_json::to_string(&body).expect("json");
    assert!(!text.contains("null"), "{text}");
}

#[tokio::test]
async fn the_principal_comes_from_the_configuration_and_a_call_overrides_it() {
    let vault = MockVault::start().await;
    let client = client_with(&vault, |b| b.principal_id("alice@example.com"));
    ledgix::with_client(client.clone(), async {
        ToolCall::new("lookup").run(Runs::default().body()).await?;
        ToolCall::new("lookup")
            .principal("bob@example.com")
            .run(Runs::default().body())
            .await
    })
    .await
    .expect("approved");
    let bodies = support::mock::asked(&vault);
    assert_eq!(bodies[0]["human_principal"], json!("alice@example.com"));
    assert_eq!(bodies[1]["human_principal"], json!("bob@example.com"));

    // From the environment's variable, through request_clearance too.
    let url = vault.url();
    let lookup = move |name: &str| match name {
        "LEDGIX_VAULT_URL" => Some(url.clone()),
        "LEDGIX_PRINCIPAL_ID" => Some("carol".to_string()),
        _ => None,
    };
    let client = LedgixClient::new(
        ConfigBuilder::from_lookup(lookup)
            .expect("env")
            .build()
            .expect("config"),
    )
    .expect("client");
    client
        .request_clearance(&ClearanceRequest::new("lookup"))
        .await
        .expect("approved");
    assert_eq!(last_asked(&vault)["human_principal"], json!("carol"));
}

#[tokio::test]
async fn a_delegated_client_sends_parent_jti_and_shares_the_parent() {
    let vault = MockVault::start().await;
    let parent = vault.client();
    let child = parent.delegate("jti-of-parent");
    assert_eq!(child.parent_jti(), Some("jti-of-parent"));
    assert_eq!(parent.parent_jti(), None, "the parent is unchanged");
    assert!(
        child.shares_state_with(&parent),
        "one pool, one JWKS cache, one set of caches"
    );
    assert!(format!("{child:?}").contains("jti-of-parent"));

    child
        .request_clearance(&ClearanceRequest::new("lookup"))
        .await
        .expect("approved");
    assert_eq!(last_asked(&vault)["parent_jti"], json!("jti-of-parent"));
    // A request's own parent_jti wins.
    child
        .request_clearance(&ClearanceRequest::new("lookup").parent_jti("explicit"))
        .await
        .expect("approved");
    assert_eq!(last_asked(&vault)["parent_jti"], json!("explicit"));
    // The parent still sends none.
    parent
        .request_clearance(&ClearanceRequest::new("lookup"))
        .await
        .expect("approved");
    assert!(last_asked(&vault).get("parent_jti").is_none());
    // Guarded calls through the child, given explicitly, and as the task-local client.
    let runs = Runs::default();
    ToolCall::new("lookup")
        .client(&child)
        .run(runs.body())
        .await
        .expect("approved");
    assert_eq!(last_asked(&vault)["parent_jti"], json!("jti-of-parent"));
    // One JWKS fetch served parent and child: the cache is shared.
    let jwks_fetches = vault
        .requests()
        .iter()
        .filter(|r| r.path == "/.well-known/jwks.json")
        .count();
    assert_eq!(jwks_fetches, 1, "parent and child share the JWKS cache");
    // Under another task-local client (MockVault::scope), the delegated client given with
    // `.client(..)` still delegates.
    vault
        .scope(ToolCall::new("lookup").client(&child).run(runs.body()))
        .await
        .expect("approved");
    assert_eq!(last_asked(&vault)["parent_jti"], json!("jti-of-parent"));
    assert_eq!(runs.count(), 2);
}

#[tokio::test]
async fn inside_a_guarded_body_one_call_delegates_from_its_token() {
    let vault = MockVault::start().await;
    let outside = ledgix::delegated_client().expect_err("no guarded body here");
    assert!(matches!(&outside, Error::Config(m) if m.contains("outside a guarded body")));
    let ran = Runs::default();
    let not_polled = ledgix::with_delegation(ran.body()).await;
    assert!(not_polled.is_err());
    assert_eq!(ran.count(), 0);

    let (parent_jti, sub_runs) = vault
        .scope(ToolCall::new("plan_trip").run(async {
            let jti = ledgix::current_claims().expect("cleared").jti.clone();
            let runs = Runs::default();
            // The helper: the client that cleared this body, delegated from its token.
            let sub = ledgix::delegated_client()?;
            assert_eq!(sub.parent_jti(), Some(jti.as_str()));
            ToolCall::new("book_hotel")
                .client(&sub)
                .run(runs.body())
                .await?;
            // A sub-agent that knows no client: everything under with_delegation delegates.
            ledgix::with_delegation(async { ToolCall::new("book_flight").run(runs.body()).await })
                .await??;
            Ok::<_, Error>((jti, runs.count()))
        }))
        .await
        .expect("approved");
    assert_eq!(sub_runs, 2);
    let bodies: HashMap<String, Value> = support::mock::asked(&vault)
        .into_iter()
        .map(|b| (b["tool_name"].as_str().unwrap_or_default().to_string(), b))
        .collect();
    assert!(bodies["plan_trip"].get("parent_jti").is_none());
    assert_eq!(bodies["book_hotel"]["parent_jti"], json!(parent_jti));
    assert_eq!(bodies["book_flight"]["parent_jti"], json!(parent_jti));
}

#[tokio::test]
async fn counterparty_hints_fill_what_the_caller_leaves_unset() {
    let vault = MockVault::start().await;
    vault
        .scope(async {
            ToolCall::new("stripe_refund")
                .arg("account", &"acct_1Hx")
                .arg("amount", &45)
                .run(Runs::default().body())
                .await?;
            ToolCall::new("stripe_refund")
                .arg("account", &"acct_1Hx")
                .destination_provider("stripe-eu")
                .run(Runs::default().body())
                .await?;
            ToolCall::new("fetch_page")
                .arg("url", &"https://user:secret@api.example.com/v1?q=1")
                .run(Runs::default().body())
                .await
        })
        .await
        .expect("approved");
    let bodies = support::mock::asked(&vault);
    assert_eq!(
        bodies[0]["destination_uri"],
        json!("https://api.stripe.com")
    );
    assert_eq!(bodies[0]["destination_provider"], json!("stripe"));
    assert_eq!(bodies[0]["destination_account_ref"], json!("acct_1Hx"));
    // The caller's value wins; the hint fills the rest.
    assert_eq!(bodies[1]["destination_provider"], json!("stripe-eu"));
    assert_eq!(
        bodies[1]["destination_uri"],
        json!("https://api.stripe.com")
    );
    assert_eq!(bodies[1]["destination_account_ref"], json!("acct_1Hx"));
    // A generic URL: named by its host, sent without its credentials.
    assert_eq!(bodies[2]["destination_provider"], json!("example.com"));
    assert_eq!(
        bodies[2]["destination_uri"],
        json!("https://api.example.com/v1?q=1")
    );

    // Off: nothing inferred.
    let client = client_with(&vault, |b| b.counterparty_hints(false));
    client
        .request_clearance(&ClearanceRequest::new("stripe_refund").arg("account", "acct_1Hx"))
        .await
        .expect("approved");
    let body = last_asked(&vault);
    for field in [
        "destination_uri",
        "destination_provider",
        "destination_account_ref",
    ] {
        assert!(body.get(field).is_none(), "{field}: {body}");
    }
}

#[tokio::test]
async fn a_token_living_longer_than_the_maximum_is_refused_and_no_body_runs() {
    // The mock mints one-hour tokens; the default maximum is 330 s.
    let vault = MockVault::builder()
        .token_ttl(Duration::from_secs(3600))
        .start()
        .await;
    let runs = Runs::default();
    let err = vault
        .scope(
            ToolCall::new("stripe_refund")
                .arg("amount", &45)
                .run(runs.body()),
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(&err, Error::TokenVerification(m) if m.contains("max_token_lifetime")),
        "{err:?}"
    );
    assert_eq!(runs.count(), 0, "the body never ran");
    let err = vault
        .client()
        .request_clearance(&ClearanceRequest::new("stripe_refund"))
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");

    // A maximum that allows them: accepted.
    let client = client_with(&vault, |b| b.max_token_lifetime(Duration::from_secs(7200)));
    ToolCall::new("stripe_refund")
        .client(&client)
        .run(runs.body())
        .await
        .expect("approved");
    assert_eq!(runs.count(), 1);

    // From the variable: 10 s refuses the mock's default 300 s tokens.
    let vault = MockVault::start().await;
    let url = vault.url();
    let lookup = move |name: &str| match name {
        "LEDGIX_VAULT_URL" => Some(url.clone()),
        "LEDGIX_MAX_TOKEN_LIFETIME_SECONDS" => Some("10".to_string()),
        _ => None,
    };
    let config: Config = ConfigBuilder::from_lookup(lookup)
        .expect("env")
        .build()
        .expect("config");
    let runs = Runs::default();
    let err = ToolCall::new("lookup")
        .client(&LedgixClient::new(config).expect("client"))
        .run(runs.body())
        .await
        .expect_err("refused");
    assert!(matches!(err, Error::TokenVerification(_)), "{err:?}");
    assert_eq!(runs.count(), 0);
    // ... and the default accepts them.
    ToolCall::new("lookup")
        .client(&vault.client())
        .run(runs.body())
        .await
        .expect("approved");
    assert_eq!(runs.count(), 1);
}

/// The attribution constants of `#[guarded(..)]` go on the wire as the builder's do.
#[ledgix::guarded(
    tool = "stripe_refund",
    purpose = "billing",
    data_categories("payment_card", "email"),
    processing_register_ref = "reg-payments",
    dataset_ref = "charges",
    destination(account_ref = "acct_fixed")
)]
async fn refund_with_attribution(amount: u64) -> Result<u64, Error> {
    Ok(amount)
}

#[tokio::test]
async fn guarded_attribution_keys_go_on_the_wire() {
    let vault = MockVault::start().await;
    let amount = vault
        .scope(refund_with_attribution(45))
        .await
        .expect("approved");
    assert_eq!(amount, 45);
    let body = last_asked(&vault);
    assert_eq!(body["purpose"], json!("billing"));
    assert_eq!(body["data_categories"], json!(["payment_card", "email"]));
    assert_eq!(body["processing_register_ref"], json!("reg-payments"));
    assert_eq!(body["dataset_ref"], json!("charges"));
    // The constant part wins; the counterparty hint fills the others.
    assert_eq!(body["destination_account_ref"], json!("acct_fixed"));
    assert_eq!(body["destination_provider"], json!("stripe"));
    assert_eq!(body["destination_uri"], json!("https://api.stripe.com"));
    assert_eq!(body["tool_args"], json!({"amount": 45}));
}

/// The Vault's own example request: it round-trips, its fields are read wherever it puts them,
/// and the builder writes the same top-level fields.
#[test]
fn the_vaults_wire_fixture_reads_and_the_builder_writes_its_fields() {
    let text = std::fs::read_to_string("tests/fixtures/vault/wire_request_clearance.json")
        .expect("the fixture");
    let fixture: Value = serde_json::from_str(&text).expect("JSON");
    let parsed: ClearanceRequest = serde_json::from_value(fixture.clone()).expect("parses");
    assert_eq!(serde_json::to_value(&parsed).expect("writes"), fixture);
    assert_eq!(parsed.effective_purpose(), Some("customer_service_refund"));
    assert_eq!(parsed.effective_data_categories(), Some(vec!["financial"]));
    assert_eq!(parsed.policy_id(), Some("refund_policy_v1"));

    let built = ClearanceRequest::new("stripe_refund")
        .arg("amount", 45)
        .agent_id("agent-checkout-bot")
        .session_id("sess_9f3c1a2b")
        .principal("auth0|user_5512")
        .destination(
            "https://api.stripe.com/v1/refunds",
            "stripe",
            "acct_1QabcdEFGH",
        )
        .purpose("customer_service_refund")
        .data_categories(["financial"]);
    let written = serde_json::to_value(&built).expect("writes");
    for field in [
        "tool_name",
        "tool_args",
        "agent_id",
        "session_id",
        "human_principal",
        "destination_uri",
        "destination_provider",
        "destination_account_ref",
    ] {
        assert_eq!(written[field], fixture[field], "{field}");
    }
    // Top-level wins over the context when both are set.
    assert_eq!(built.effective_purpose(), Some("customer_service_refund"));
    let both = built.clone().context("purpose", "other");
    assert_eq!(both.effective_purpose(), Some("customer_service_refund"));
}
