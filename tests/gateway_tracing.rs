//! Each request the gateway judges gets one `ledgix.gateway` span with its `jti` and outcome.

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ledgix::gateway::Gateway;
use support::gateway::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

type Fields = BTreeMap<String, String>;

/// A subscriber that keeps the fields of every `ledgix.gateway` span, in creation order.
#[derive(Clone, Default)]
struct Spans {
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<Vec<(u64, Fields)>>>,
}

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), format!("{value:?}"));
    }
}

impl Spans {
    fn all(&self) -> Vec<Fields> {
        let spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        spans.iter().map(|(_, f)| f.clone()).collect()
    }
}

impl Subscriber for Spans {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        if attrs.metadata().name() == "ledgix.gateway" {
            let mut fields = Fields::new();
            attrs.record(&mut Collect(&mut fields));
            self.spans
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((id, fields));
        }
        Id::from_u64(id)
    }
    fn record(&self, span: &Id, values: &Record<'_>) {
        let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, fields)) = spans.iter_mut().find(|(id, _)| *id == span.into_u64()) {
            values.record(&mut Collect(fields));
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, _: &Event<'_>) {}
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

#[tokio::test]
async fn every_request_has_a_span_with_its_jti_and_outcome() {
    let spans = Spans::default();
    let _guard = tracing::subscriber::set_default(spans.clone());
    let vault = vault().await;
    let service = service(
        &Gateway::builder()
            .trusted_keys_json(&vault.trusted_keys_json())
            .build()
            .unwrap(),
    )
    .await;
    let token = agent_token(&vault, TOOL, &payment()).await;
    let jti = claims_of(&token).jti;

    assert_eq!(service.post(&token, &payment()).await.status, 200);
    assert_eq!(service.post(&token, &payment()).await.status, 403);
    assert_eq!(service.post_raw(&[], b"{}".to_vec()).await.status, 401);

    let all = spans.all();
    assert_eq!(all.len(), 3, "{all:?}");
    let field = |i: usize, name: &str| all[i].get(name).cloned().unwrap_or_default();
    assert_eq!(field(0, "jti"), jti);
    assert_eq!(field(0, "tool"), TOOL);
    assert_eq!(field(0, "outcome"), "passed");
    assert_eq!(field(0, "method"), "POST");
    assert_eq!(field(0, "path"), "/v1/payments");
    assert_eq!(field(1, "jti"), jti);
    assert_eq!(field(1, "outcome"), "token_replayed");
    assert_eq!(field(1, "status"), "403");
    assert_eq!(field(2, "outcome"), "missing_token");
    assert_eq!(field(2, "status"), "401");
    assert!(!all[2].contains_key("jti"), "{all:?}");
}
