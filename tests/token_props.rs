//! Properties: nothing from the wire panics or verifies unless it is the untouched token;
//! the binding follows the arguments; the replay cache holds under many threads.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ledgix::Error;
use ledgix::token::{ReplayCache, canonical_json};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use support::token::*;

const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ ";

/// The golden token's clock: valid.
fn golden_now() -> std::time::SystemTime {
    at(expected()["valid_iat_unix"].as_u64().unwrap() + 60)
}

#[derive(Debug, Clone)]
enum Mutation {
    Replace(usize, u8),
    Delete(usize),
    Insert(usize, u8),
    Truncate(usize),
    SwapSegments(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = proptest::sample::select(B64URL.to_vec());
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Replace(i, b)),
        any::<usize>().prop_map(Mutation::Delete),
        (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (0..3usize, 0..3usize).prop_map(|(a, b)| Mutation::SwapSegments(a, b)),
    ]
}

fn apply(token: &str, mutations: &[Mutation]) -> String {
    let mut bytes = token.as_bytes().to_vec();
    for m in mutations {
        let n = bytes.len().max(1);
        match *m {
            Mutation::Replace(i, b) if !bytes.is_empty() => bytes[i % n] = b,
            Mutation::Delete(i) if !bytes.is_empty() => {
                bytes.remove(i % n);
            }
            Mutation::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
            Mutation::Truncate(i) => bytes.truncate(i % n),
            Mutation::SwapSegments(a, b) => {
                let text = String::from_utf8(bytes.clone()).unwrap();
                let mut parts: Vec<&str> = text.split('.').collect();
                if a < parts.len() && b < parts.len() {
                    parts.swap(a, b);
                }
                bytes = parts.join(".").into_bytes();
            }
            _ => {}
        }
    }
    String::from_utf8(bytes).unwrap()
}

/// Small JSON values for tool arguments.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics_nor_verifies(text in "\\PC{0,300}") {
        prop_assert!(golden_verifier().verify_at(&text, golden_now()).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic_nor_verify(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(golden_verifier().verify_at(&text, golden_now()).is_err());
        let dotted = format!("{text}.{text}.{text}");
        prop_assert!(golden_verifier().verify_at(&dotted, golden_now()).is_err());
    }

    #[test]
    fn mutations_of_the_golden_token_never_verify(mutations in prop::collection::vec(mutation(), 1..4)) {
        let token = apply(valid_jwt(), &mutations);
        let result = golden_verifier().verify_at(&token, golden_now());
        if token == valid_jwt() {
            prop_assert!(result.is_ok());
        } else {
            prop_assert!(result.is_err(), "mutated token verified: {mutations:?}");
        }
    }

    #[test]
    fn mutations_of_the_golden_payload_re_encoded_never_verify(
        i in any::<usize>(), b in any::<u8>()
    ) {
        let parts: Vec<&str> = valid_jwt().split('.').collect();
        let mut payload = base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD, parts[1]).unwrap();
        let n = payload.len();
        prop_assume!(payload[i % n] != b);
        payload[i % n] = b;
        let token = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
        prop_assert!(golden_verifier().verify_at(&token, golden_now()).is_err());
    }

    #[test]
    fn a_token_binds_exactly_its_arguments(a in json_value(), b in json_value()) {
        let args: Map<String, Value> = [("x".to_string(), a.clone())].into_iter().collect();
        let other: Map<String, Value> = [("x".to_string(), b.clone())].into_iter().collect();
        let token = signer().sign(&claims("prop-bind", &args));
        let v = verifier();
        let bound = v.verify_bound_at(&token, TOOL, &other, at(NOW));
        // Equal canonical text, equal binding (serde_json calls 0.0 and -0.0 equal; Python
        // and the hash do not).
        if canonical_json(&a) == canonical_json(&b) {
            prop_assert!(bound.is_ok(), "{bound:?}");
        } else {
            prop_assert!(bound.is_err());
            v.verify_bound_at(&token, TOOL, &args, at(NOW)).unwrap();
        }
    }
}

#[test]
fn ten_thousand_distinct_jtis_from_many_threads_succeed_once_then_replay() {
    const N: usize = 10_000;
    const THREADS: usize = 16;
    let cache = ReplayCache::new();
    let now = at(NOW);
    let ok = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (cache, ok) = (&cache, &ok);
            s.spawn(move || {
                for i in (t..N).step_by(THREADS) {
                    cache
                        .check_and_record(&format!("jti-{i}"), NOW + 300, now)
                        .unwrap();
                    ok.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(ok.load(Ordering::Relaxed), N);
    assert_eq!(cache.len(), N);
    let replays = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (cache, replays) = (&cache, &replays);
            s.spawn(move || {
                // Every thread replays every id: all N * THREADS attempts fail.
                for i in (0..N).map(|i| (i + t * 613) % N) {
                    match cache.check_and_record(&format!("jti-{i}"), NOW + 300, now) {
                        Err(Error::ReplayDetected { jti }) => assert_eq!(jti, format!("jti-{i}")),
                        other => panic!("jti-{i} accepted twice: {other:?}"),
                    }
                    replays.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(replays.load(Ordering::Relaxed), N * THREADS);
}

#[test]
fn ten_thousand_signed_tokens_verify_concurrently_once_each() {
    const N: usize = 10_000;
    const THREADS: usize = 8;
    let signer = signer();
    let args = object(json!({"amount": 1}));
    let tokens: Vec<String> = (0..N)
        .map(|i| signer.sign(&claims(&format!("tok-{i}"), &args)))
        .collect();
    let v = verifier();
    let tokens = Arc::new(tokens);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (v, tokens, args) = (v.clone(), tokens.clone(), &args);
            s.spawn(move || {
                for i in (t..N).step_by(THREADS) {
                    let c = v.verify_bound_at(&tokens[i], TOOL, args, at(NOW)).unwrap();
                    assert_eq!(c.jti, format!("tok-{i}"));
                }
            });
        }
    });
    // The same token raced from every thread: exactly one wins.
    let racer = signer.sign(&claims("race-1", &args));
    let wins = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                if v.verify_at(&racer, at(NOW)).is_ok() {
                    wins.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(wins.load(Ordering::Relaxed), 1);
    for token in tokens.iter().step_by(97) {
        assert!(matches!(
            v.verify_at(token, at(NOW)),
            Err(Error::ReplayDetected { .. })
        ));
    }
}
