//! The commands that talk to a Vault: `ledgix reviews list | approve | deny` and `ledgix
//! status`. The client is the SDK's, configured from the `LEDGIX_*` variables (`--url`
//! overrides `LEDGIX_VAULT_URL`).

use clap::Args;
use ledgix::{ClearanceResponse, ConfigBuilder, Error, LedgixClient, PendingReview};
use serde_json::{Value, json};

use super::output::{Failure, Out, Paint, clean, truncate};
use super::{StatusArgs, VaultArgs};

/// Longest argument text shown per held call in text output.
const ARGS_SHOWN: usize = 240;

/// `ledgix reviews approve`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DecideArgs {
    /// The request id of the held call.
    #[arg(value_name = "ID")]
    request_id: String,
    /// The reviewer's reason, recorded in the ledger.
    #[arg(
        long,
        value_name = "REASON",
        default_value = "approved with the ledgix command"
    )]
    reason: String,
    #[command(flatten)]
    vault: VaultArgs,
}

/// `ledgix reviews deny`.
#[derive(Debug, Clone, Args)]
pub(crate) struct DenyArgs {
    /// The request id of the held call.
    #[arg(value_name = "ID")]
    request_id: String,
    /// Why: the agent sees it as the denial's reason, and the ledger records it.
    #[arg(long, value_name = "REASON")]
    reason: String,
    #[command(flatten)]
    vault: VaultArgs,
}

/// Bad settings: exit 2, with what to check.
fn settings(e: Error) -> Failure {
    Failure::bad_input(
        e.to_string(),
        "check the LEDGIX_* variables and --url (an https:// URL, or http:// to loopback)",
    )
}

/// The configuration of the `LEDGIX_*` variables (`url` overrides `LEDGIX_VAULT_URL`).
pub(crate) fn settings_from_env(url: Option<&str>) -> Result<ConfigBuilder, Failure> {
    let mut builder = ConfigBuilder::from_env().map_err(settings)?;
    if let Some(url) = url {
        builder = builder.vault_url(url);
    }
    Ok(builder)
}

/// A client built from `builder`.
pub(crate) fn client_from(builder: ConfigBuilder) -> Result<LedgixClient, Failure> {
    let config = builder.build().map_err(settings)?;
    LedgixClient::new(config).map_err(settings)
}

/// A client for the configured Vault (`url` overrides `LEDGIX_VAULT_URL`).
pub(crate) fn client(url: Option<&str>) -> Result<LedgixClient, Failure> {
    client_from(settings_from_env(url)?)
}

/// What an SDK error means for the command: which exit code, and what to do. `what` names the
/// request (`GET /reviews`), `base` the Vault.
pub(crate) fn failure(e: Error, base: &str, what: &str) -> Failure {
    let text = e.to_string();
    let message = if text.contains(what) {
        text
    } else {
        format!("{what}: {text}")
    };
    match &e {
        Error::Config(_) => {
            Failure::bad_input(e.to_string(), "check the LEDGIX_* variables and --url")
        }
        Error::Connection(_) => Failure::vault(
            message,
            format!(
                "is a Vault running at {base}? Set LEDGIX_VAULT_URL or pass --url (start a \
                 local one with `ledgix mock-vault`)"
            ),
        ),
        Error::Http { status: 401, .. } => {
            Failure::vault(message, "set LEDGIX_VAULT_API_KEY to this Vault's API key")
        }
        Error::Http { status: 404, .. } if what == "GET /reviews" => Failure::vault(
            message,
            "this Vault does not list its review queue over the API (the mock Vault does); use \
             the Vault's dashboard, or decide with `ledgix reviews approve|deny ID`",
        ),
        Error::Http { status: 404, .. } => Failure::refused(None, message),
        Error::Http { status: 409, .. } => Failure::refused(None, message),
        Error::Http { status: 403, .. } => Failure::vault(
            message,
            "the Vault refused this request: check the API key's permissions (a mock Vault on \
             a network address needs --api-key for its review queue)",
        ),
        _ => Failure::vault(
            message,
            format!("the Vault at {base} answered with an error; try again, or check its logs"),
        ),
    }
}

fn base_of(client: &LedgixClient) -> String {
    client.config().vault_url().to_string()
}

/// `ledgix reviews list`.
pub(crate) async fn list(args: &VaultArgs, out: &Out) -> Result<(), Failure> {
    let client = client(args.url.as_deref())?;
    let base = base_of(&client);
    let reviews = client
        .pending_reviews()
        .await
        .map_err(|e| failure(e, &base, "GET /reviews"))?;
    if out.json {
        out.print_json(&json!({ "vault": base, "reviews": reviews }));
        return Ok(());
    }
    if reviews.is_empty() {
        out.headline(
            Paint::Good,
            "EMPTY",
            &format!("no call is held for review at {base}"),
        );
        return Ok(());
    }
    let count = match reviews.len() {
        1 => "1 call".to_string(),
        n => format!("{n} calls"),
    };
    out.headline(
        Paint::Warn,
        "HELD",
        &format!("{count} waiting for a reviewer at {base}"),
    );
    for review in &reviews {
        print_review(out, review);
    }
    println!(
        "\ndecide with: ledgix reviews approve ID  |  ledgix reviews deny ID --reason \"...\""
    );
    Ok(())
}

fn print_review(out: &Out, review: &PendingReview) {
    println!();
    println!("  {}", out.paint(Paint::Bold, &clean(&review.tool_name)));
    let args = serde_json::to_string(&review.tool_args).unwrap_or_default();
    let confidence = match (review.confidence, review.confidence_bucket.as_ref()) {
        (Some(c), Some(b)) => format!("{c} ({})", b.as_str()),
        (Some(c), None) => c.to_string(),
        (None, Some(b)) => b.as_str().to_string(),
        (None, None) => "-".into(),
    };
    let session = review.session_id.as_deref().unwrap_or("-");
    print!(
        "{}",
        super::output::aligned(
            &[
                ("request", review.request_id.clone()),
                ("held since", review.held_since.clone()),
                ("agent", format!("{} (session {session})", review.agent_id)),
                ("reason", review.reason.clone()),
                ("confidence", confidence),
                ("args", truncate(&args, ARGS_SHOWN)),
            ],
            "    ",
        )
    );
}

async fn decide(
    url: Option<&str>,
    request_id: &str,
    approved: bool,
    reason: &str,
    out: &Out,
) -> Result<(), Failure> {
    let client = client(url)?;
    let base = base_of(&client);
    client
        .submit_review_decision(request_id, approved, reason)
        .await
        .map_err(|e| failure(e, &base, "POST /reviews/ID/decision"))?;
    let decision = if approved { "approved" } else { "denied" };
    if out.json {
        out.print_json(&json!({
            "result": decision,
            "request_id": request_id,
            "reason": reason,
            "vault": base,
        }));
    } else {
        let paint = if approved { Paint::Good } else { Paint::Warn };
        out.headline(
            paint,
            &decision.to_uppercase(),
            &format!("request {} at {base}", clean(request_id)),
        );
        out.fields(&[("reason", reason.to_string())]);
    }
    Ok(())
}

/// `ledgix reviews approve ID`.
pub(crate) async fn approve(args: &DecideArgs, out: &Out) -> Result<(), Failure> {
    decide(
        args.vault.url.as_deref(),
        &args.request_id,
        true,
        &args.reason,
        out,
    )
    .await
}

/// `ledgix reviews deny ID --reason R`.
pub(crate) async fn deny(args: &DenyArgs, out: &Out) -> Result<(), Failure> {
    if args.reason.trim().is_empty() {
        return Err(Failure::bad_input(
            "a denial needs a reason",
            "pass --reason \"...\": the agent sees it, and the ledger records it",
        ));
    }
    decide(
        args.vault.url.as_deref(),
        &args.request_id,
        false,
        &args.reason,
        out,
    )
    .await
}

/// `ledgix status ID`.
pub(crate) async fn status(args: &StatusArgs, out: &Out) -> Result<(), Failure> {
    let client = client(args.vault.url.as_deref())?;
    let base = base_of(&client);
    let response = client
        .clearance_status(&args.request_id)
        .await
        .map_err(|e| failure(e, &base, "GET /clearance-status/ID"))?;
    if out.json {
        out.print_json(&status_json(&response, args.show_token));
    } else {
        print_status(out, &response, args.show_token);
    }
    Ok(())
}

fn status_json(response: &ClearanceResponse, show_token: bool) -> Value {
    let mut value = serde_json::to_value(response).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        let has_token = map.remove("token").is_some_and(|t| !t.is_null());
        map.insert("has_token".into(), has_token.into());
        if show_token && let Some(token) = &response.token {
            map.insert("token".into(), token.clone().into());
        }
    }
    value
}

fn print_status(out: &Out, r: &ClearanceResponse, show_token: bool) {
    let paint = match r.status.as_str() {
        "approved" => Paint::Good,
        "denied" => Paint::Bad,
        _ => Paint::Warn,
    };
    out.headline(
        paint,
        &r.status.as_str().to_uppercase(),
        &format!("request {}", clean(&r.request_id)),
    );
    let mut rows: Vec<(&str, String)> = vec![("reason", r.reason.clone())];
    if let Some(decision) = r.decision_status {
        let text = serde_json::to_value(decision)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        rows.push(("decision", text));
    }
    if let Some(code) = &r.reason_code {
        rows.push(("reason code", code.clone()));
    }
    let confidence = match (r.confidence, r.confidence_bucket.as_ref()) {
        (Some(c), Some(b)) => Some(format!("{c} ({})", b.as_str())),
        (Some(c), None) => Some(c.to_string()),
        (None, Some(b)) => Some(b.as_str().to_string()),
        (None, None) => None,
    };
    if let Some(confidence) = confidence {
        rows.push(("confidence", confidence));
    }
    if r.requires_manual_review {
        rows.push(("review", "waiting for a human reviewer".into()));
    }
    if let Some(version) = &r.policy_version_id {
        rows.push(("policy", version.clone()));
    }
    match (&r.token, show_token) {
        (Some(token), true) => rows.push(("token", token.clone())),
        (Some(_), false) => rows.push((
            "token",
            "present (--show-token prints it; `ledgix token verify` checks it)".into(),
        )),
        (None, _) => {}
    }
    out.fields(&rows);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_exit_codes_with_a_hint() {
        let base = "http://127.0.0.1:1";
        let f = failure(
            Error::Connection(ledgix::ConnectionError::new("refused")),
            base,
            "GET /reviews",
        );
        assert_eq!(f.exit_code(), 3);
        assert!(matches!(&f, Failure::Vault { hint, .. } if hint.contains("ledgix mock-vault")));
        let http = |status: u16| Error::Http {
            status,
            body: "{}".into(),
        };
        assert_eq!(
            failure(http(404), base, "POST /reviews/ID/decision").exit_code(),
            1
        );
        assert_eq!(
            failure(http(409), base, "POST /reviews/ID/decision").exit_code(),
            1
        );
        assert_eq!(failure(http(404), base, "GET /reviews").exit_code(), 3);
        let unauthorized = failure(http(401), base, "GET /reviews");
        assert!(
            matches!(&unauthorized, Failure::Vault { hint, .. } if hint.contains("LEDGIX_VAULT_API_KEY"))
        );
        assert_eq!(failure(http(500), base, "GET /ledger").exit_code(), 3);
        assert_eq!(failure(Error::Config("x".into()), base, "x").exit_code(), 2);
    }
}
