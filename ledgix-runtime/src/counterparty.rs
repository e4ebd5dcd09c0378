//! Counterparty hints: the `destination_*` fields of a request inferred from its tool name and
//! arguments, as the official SDKs' `counterparty` module does (ledgix-python
//! `ledgix_python/counterparty.py`, ledgix-ts `src/counterparty.ts`, both mirroring the
//! Vault's own extractor chain, which runs again on the Vault's side).
//!
//! The client fills each `destination_*` field the caller left unset from
//! [`extract_counterparty`]; a value the caller set always wins.

use serde_json::{Map, Value};

/// The `destination_*` fields inferred for a call; each may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CounterpartyHint {
    /// Where the action goes (`https://api.stripe.com`, or the URL argument of a generic HTTP
    /// tool without its user info).
    pub destination_uri: Option<String>,
    /// The provider key (`stripe`, `twilio`, `slack`, `aws-bedrock`, `openai`, `anthropic`, or
    /// the URL's host without a `www.` / `api.` / `api-` prefix).
    pub destination_provider: Option<String>,
    /// The account or workspace at the provider, when an argument names it.
    pub destination_account_ref: Option<String>,
}

impl CounterpartyHint {
    /// True when nothing was inferred.
    pub fn is_empty(&self) -> bool {
        self.destination_uri.is_none()
            && self.destination_provider.is_none()
            && self.destination_account_ref.is_none()
    }
}

/// Infers the counterparty of calling `tool_name` with `tool_args`, first rule that applies
/// wins (the official SDKs' order):
///
/// | the tool name (lowercased) contains | uri, provider | account_ref from the argument |
/// |---|---|---|
/// | `stripe` | `https://api.stripe.com`, `stripe` | `account`, else the first 12 characters of an `api_key` starting `sk_` |
/// | `twilio` | `https://api.twilio.com`, `twilio` | `account_sid` |
/// | `slack` | `https://slack.com/api`, `slack` | `team_id`, else `workspace` |
/// | `bedrock` | `https://bedrock-runtime.amazonaws.com`, `aws-bedrock` | `model_id`, else `model` |
/// | `openai` or `gpt` | `https://api.openai.com`, `openai` | `organization`, else `org_id` |
/// | `anthropic` or `claude` | `https://api.anthropic.com`, `anthropic` | `organization` |
/// | (any tool) an argument `url`, `endpoint`, `uri` or `host` (first that is an absolute URL with a host) | that URL, its host without `www.` / `api.` / `api-` | — |
///
/// Only string arguments count; anything else infers nothing.
///
/// Made correct where the official SDKs are not: the generic rule parses URLs as WHATWG does
/// (ledgix-ts's `new URL`), so the provider is the host itself — never the user name of
/// `https://user:pass@host` (ledgix-python) nor `[` of an IPv6 host (both) — and a URL's user
/// info (credentials) is removed from the `destination_uri` sent.
///
/// ```
/// use serde_json::json;
///
/// let args = json!({"account": "acct_1Hx", "amount": 45});
/// let hint = ledgix_runtime::extract_counterparty("stripe_refund", args.as_object().unwrap());
/// assert_eq!(hint.destination_provider.as_deref(), Some("stripe"));
/// assert_eq!(hint.destination_account_ref.as_deref(), Some("acct_1Hx"));
/// ```
pub fn extract_counterparty(tool_name: &str, tool_args: &Map<String, Value>) -> CounterpartyHint {
    if tool_name.is_empty() {
        return CounterpartyHint::default();
    }
    let name = tool_name.to_lowercase();
    let has = |needle: &str| name.contains(needle);
    let known = |uri: &str, provider: &str, account: Option<&str>| CounterpartyHint {
        destination_uri: Some(uri.to_string()),
        destination_provider: Some(provider.to_string()),
        destination_account_ref: account.map(str::to_string),
    };
    if has("stripe") {
        let from_key = string_arg(tool_args, "api_key")
            .filter(|k| k.starts_with("sk_"))
            .map(|k| k.chars().take(12).collect::<String>());
        let account = string_arg(tool_args, "account").map(str::to_string);
        let mut hint = known("https://api.stripe.com", "stripe", None);
        hint.destination_account_ref = account.or(from_key);
        return hint;
    }
    if has("twilio") {
        return known(
            "https://api.twilio.com",
            "twilio",
            string_arg(tool_args, "account_sid"),
        );
    }
    if has("slack") {
        let team = string_arg(tool_args, "team_id").or_else(|| string_arg(tool_args, "workspace"));
        return known("https://slack.com/api", "slack", team);
    }
    if has("bedrock") {
        let model = string_arg(tool_args, "model_id").or_else(|| string_arg(tool_args, "model"));
        return known(
            "https://bedrock-runtime.amazonaws.com",
            "aws-bedrock",
            model,
        );
    }
    if has("openai") || has("gpt") {
        let org = string_arg(tool_args, "organization").or_else(|| string_arg(tool_args, "org_id"));
        return known("https://api.openai.com", "openai", org);
    }
    if has("anthropic") || has("claude") {
        return known(
            "https://api.anthropic.com",
            "anthropic",
            string_arg(tool_args, "organization"),
        );
    }
    generic_http(tool_args).unwrap_or_default()
}

/// The string value of argument `key`, when it is a non-empty string.
fn string_arg<'a>(args: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    args.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The first of `url`, `endpoint`, `uri`, `host` that is an absolute URL with a host.
fn generic_http(args: &Map<String, Value>) -> Option<CounterpartyHint> {
    ["url", "endpoint", "uri", "host"].iter().find_map(|key| {
        let raw = string_arg(args, key)?;
        let mut url = url::Url::parse(raw).ok()?;
        let host = url.host_str().filter(|h| !h.is_empty())?.to_lowercase();
        let provider = ["www.", "api.", "api-"]
            .iter()
            .find_map(|prefix| host.strip_prefix(prefix))
            .unwrap_or(&host)
            .to_string();
        let uri = if url.username().is_empty() && url.password().is_none() {
            raw.to_string()
        } else {
            // Credentials never travel in a hint; the Vault sees them in the arguments only.
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        };
        Some(CounterpartyHint {
            destination_uri: Some(uri),
            destination_provider: Some(provider),
            destination_account_ref: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hint(tool: &str, args: Value) -> CounterpartyHint {
        extract_counterparty(tool, args.as_object().expect("an object"))
    }

    /// `(destination_uri, destination_provider, destination_account_ref)`.
    type Triple<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

    fn triple(h: &CounterpartyHint) -> Triple<'_> {
        (
            h.destination_uri.as_deref(),
            h.destination_provider.as_deref(),
            h.destination_account_ref.as_deref(),
        )
    }

    /// The official SDKs' behaviour, case by case (the expectations are what
    /// `ledgix_python.counterparty.extract` returns for the same input).
    #[test]
    fn as_the_official_sdks() {
        let cases: &[(&str, Value, Triple<'_>)] = &[
            (
                "stripe_refund",
                json!({"amount": 45}),
                (Some("https://api.stripe.com"), Some("stripe"), None),
            ),
            (
                "Create_STRIPE_Payment",
                json!({"api_key": "sk_live_51HxyzSECRETSECRET"}),
                (
                    Some("https://api.stripe.com"),
                    Some("stripe"),
                    Some("sk_live_51Hx"),
                ),
            ),
            (
                "stripe_refund",
                json!({"api_key": "sk_1", "account": "acct_9"}),
                (
                    Some("https://api.stripe.com"),
                    Some("stripe"),
                    Some("acct_9"),
                ),
            ),
            (
                "stripe_refund",
                json!({"api_key": "sk_1"}),
                (Some("https://api.stripe.com"), Some("stripe"), Some("sk_1")),
            ),
            (
                "stripe_refund",
                json!({"api_key": "pk_live_123456789"}),
                (Some("https://api.stripe.com"), Some("stripe"), None),
            ),
            (
                "twilio_sms",
                json!({"account_sid": "AC123"}),
                (
                    Some("https://api.twilio.com"),
                    Some("twilio"),
                    Some("AC123"),
                ),
            ),
            (
                "slack_post",
                json!({"workspace": "acme"}),
                (Some("https://slack.com/api"), Some("slack"), Some("acme")),
            ),
            (
                "slack_post",
                json!({"team_id": "T1", "workspace": "acme"}),
                (Some("https://slack.com/api"), Some("slack"), Some("T1")),
            ),
            (
                "bedrock_invoke",
                json!({"model": "claude-3"}),
                (
                    Some("https://bedrock-runtime.amazonaws.com"),
                    Some("aws-bedrock"),
                    Some("claude-3"),
                ),
            ),
            (
                "ask_gpt",
                json!({"org_id": "org-1"}),
                (
                    Some("https://api.openai.com"),
                    Some("openai"),
                    Some("org-1"),
                ),
            ),
            (
                "claude_complete",
                json!({"organization": "o"}),
                (
                    Some("https://api.anthropic.com"),
                    Some("anthropic"),
                    Some("o"),
                ),
            ),
            (
                "fetch_page",
                json!({"url": "https://www.Example.com:8443/a?b=c"}),
                (
                    Some("https://www.Example.com:8443/a?b=c"),
                    Some("example.com"),
                    None,
                ),
            ),
            (
                "call_api",
                json!({"url": "not a url", "endpoint": "https://api-eu.acme.io/v1"}),
                (Some("https://api-eu.acme.io/v1"), Some("eu.acme.io"), None),
            ),
            (
                "call_api",
                json!({"host": "https://api.acme.io"}),
                (Some("https://api.acme.io"), Some("acme.io"), None),
            ),
            (
                "call_api",
                json!({"url": 42, "host": "acme.io"}),
                (None, None, None),
            ),
            (
                "call_api",
                json!({"url": "mailto:a@b.c"}),
                (None, None, None),
            ),
            ("lookup", json!({}), (None, None, None)),
            ("", json!({"url": "https://acme.io"}), (None, None, None)),
        ];
        for (tool, args, expected) in cases {
            let got = hint(tool, args.clone());
            assert_eq!(triple(&got), *expected, "{tool} {args}");
        }
    }

    #[test]
    fn a_url_with_credentials_is_sent_without_them_and_named_by_its_host() {
        let got = hint(
            "fetch_page",
            json!({"url": "https://admin:hunter2@api.acme.io/x"}),
        );
        assert_eq!(
            triple(&got),
            (Some("https://api.acme.io/x"), Some("acme.io"), None)
        );
        let got = hint("fetch_page", json!({"url": "http://[::1]:8080/"}));
        assert_eq!(got.destination_provider.as_deref(), Some("[::1]"));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_the_provider_is_a_lowercase_host(
            tool in "\\PC{0,24}",
            key in proptest::sample::select(vec!["url", "endpoint", "uri", "host", "api_key",
                "account", "model", "organization", "x"]),
            value in "\\PC{0,48}",
        ) {
            let mut args = Map::new();
            args.insert(key.to_string(), Value::String(value.clone()));
            let got = extract_counterparty(&tool, &args);
            if let Some(provider) = &got.destination_provider {
                proptest::prop_assert!(!provider.is_empty());
                proptest::prop_assert_eq!(provider.to_lowercase(), provider.clone());
            }
            if let Some(Ok(u)) = got.destination_uri.as_deref().map(url::Url::parse) {
                proptest::prop_assert!(u.username().is_empty() && u.password().is_none(), "{}", u);
            }
            proptest::prop_assert_eq!(got.destination_account_ref.is_some() && got.destination_uri.is_none(), false);
        }

        #[test]
        fn generic_urls_keep_their_host(
            sub in "(www\\.|api\\.|api-|)",
            host in "[b-v][a-z0-9]{0,10}\\.[a-z]{2,5}",
            path in "(/[a-z0-9]{0,8}){0,3}",
        ) {
            let raw = format!("https://{sub}{host}{path}");
            let got = hint("fetch", json!({"url": raw}));
            proptest::prop_assert_eq!(got.destination_uri.as_deref(), Some(raw.as_str()));
            proptest::prop_assert_eq!(got.destination_provider.as_deref(), Some(host.as_str()));
        }
    }
}
