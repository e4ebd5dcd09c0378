//! The mock Vault as a process, so any client (the official Python and TypeScript SDKs
//! included) can be pointed at it: shared by the `ledgix-mock-vault` binary and `ledgix
//! mock-vault`, which take the same options.
//!
//! ```text
//! ledgix-mock-vault --listen 127.0.0.1:8000 [--api-key KEY] [--rules rules.json] \
//!     [--seal-every 1s] [--seed TEXT] [--webhook-url URL --webhook-secret SECRET]
//! ```
//!
//! It prints `<program> listening on http://<addr>` once it accepts connections, and stops
//! cleanly on Ctrl-C (or SIGTERM).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use ledgix::__private::parse_duration;
use ledgix::mock::{MockVault, RulesFile};

/// The options, as `--help` lists them (after a usage line naming the program).
pub(crate) const OPTIONS_HELP: &str = "\
A stateful fake of the Ledgix Vault on HTTP: rules decide, approvals carry real A-JWTs,
every decision goes to a signed, sealed ledger with proof bundles, and a review queue page
at http://<addr>/ lets you approve or deny held calls in a browser.

options:
  --listen ADDR            address to listen on (default 127.0.0.1:8000; port 0 picks a free one)
  --api-key KEY            require X-Vault-API-Key: KEY on every endpoint but the JWKS
                           (and, on loopback, the review page)
  --rules FILE             JSON rules file (see the README); default: approve everything
  --seal-every DURATION    background sealing interval, e.g. 500ms, 1s, 2m (default 1s; 0 = off)
  --seed TEXT              derive the signing keys from TEXT (same keys on every run)
  --token-ttl DURATION     lifetime of minted A-JWTs (default 300s)
  --canonical-version N    canonical_version of ledger events: 1 (default) or 2
  --webhook-url URL        POST a signed webhook to URL when a call is held for review
                           (review.held) and when a reviewer decides it (review.decided)
  --webhook-secret SECRET  the HMAC-SHA256 secret of X-Ledgix-Signature (default: the
                           LEDGIX_WEBHOOK_SECRET environment variable, kept out of `ps`)
  -h, --help               print this help";

/// The whole `--help` text for `program`.
pub(crate) fn usage(program: &str) -> String {
    format!(
        "usage: {program} [options]\n\n{OPTIONS_HELP}\n\nexample:\n  {program} --listen \
         127.0.0.1:8000 --rules rules.json --seed demo   # then open http://127.0.0.1:8000/"
    )
}

/// The parsed command line.
#[derive(Debug, Clone, PartialEq)]
struct Options {
    listen: SocketAddr,
    api_key: Option<String>,
    rules: Option<String>,
    seal_every: Duration,
    seed: Option<String>,
    token_ttl: Duration,
    canonical_version: u32,
    webhook_url: Option<String>,
    webhook_secret: Option<Secret>,
}

/// A secret from the command line: `Debug` never shows it.
#[derive(Clone, PartialEq)]
struct Secret(String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            api_key: None,
            rules: None,
            seal_every: Duration::from_secs(1),
            seed: None,
            token_ttl: Duration::from_secs(300),
            canonical_version: 1,
            webhook_url: None,
            webhook_secret: None,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq)]
enum Command {
    Run(Options),
    Help,
}

/// Parses the arguments (without the program name). `--flag value` and `--flag=value`.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut options = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if !flag.starts_with("--") {
            return Err(format!("unexpected argument `{arg}`"));
        }
        let known = [
            "--listen",
            "--api-key",
            "--rules",
            "--seal-every",
            "--seed",
            "--token-ttl",
            "--canonical-version",
            "--webhook-url",
            "--webhook-secret",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown option `{flag}`"));
        }
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .filter(|v| !v.starts_with("--"))
                .ok_or_else(|| format!("option `{flag}` needs a value"))?,
        };
        let duration = |v: &str| parse_duration(v).map_err(|e| format!("`{flag} {v}`: {e}"));
        match flag.as_str() {
            "--listen" => {
                options.listen = value.parse().map_err(|_| {
                    format!("`--listen {value}`: expected an address like 127.0.0.1:8000")
                })?;
            }
            "--api-key" if value.is_empty() => {
                return Err("`--api-key` must not be empty".into());
            }
            "--api-key" => options.api_key = Some(value),
            "--rules" => options.rules = Some(value),
            "--seal-every" => options.seal_every = duration(&value)?,
            "--seed" => options.seed = Some(value),
            "--token-ttl" => options.token_ttl = duration(&value)?,
            "--webhook-url" => options.webhook_url = Some(value),
            "--webhook-secret" if value.is_empty() => {
                return Err("`--webhook-secret` must not be empty".into());
            }
            "--webhook-secret" => options.webhook_secret = Some(Secret(value)),
            _ => {
                options.canonical_version = match value.as_str() {
                    "1" => 1,
                    "2" => 2,
                    _ => return Err(format!("`--canonical-version {value}`: expected 1 or 2")),
                };
            }
        }
    }
    if options.webhook_secret.is_some() && options.webhook_url.is_none() {
        return Err("`--webhook-secret` needs `--webhook-url`".into());
    }
    Ok(Command::Run(options))
}

/// The webhook target of `options`: the URL and the secret (from `--webhook-secret`, else
/// `env_secret`, the value of LEDGIX_WEBHOOK_SECRET).
fn webhook_target(
    options: &Options,
    env_secret: Option<String>,
) -> Result<Option<(String, String)>, String> {
    let Some(url) = &options.webhook_url else {
        return Ok(None);
    };
    let secret = match &options.webhook_secret {
        Some(Secret(secret)) => secret.clone(),
        None => env_secret.filter(|s| !s.is_empty()).ok_or(
            "`--webhook-url` needs a secret: `--webhook-secret SECRET` or the \
             LEDGIX_WEBHOOK_SECRET environment variable",
        )?,
    };
    Ok(Some((url.clone(), secret)))
}

/// Waits for Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run(program: &str, options: Options) -> Result<(), String> {
    let mut builder = MockVault::builder()
        .listen(options.listen)
        .seal_every(options.seal_every)
        .token_ttl(options.token_ttl)
        .canonical_version(options.canonical_version)
        .print_decisions(true);
    let mut rules_summary = "no rules file: everything is approved".to_string();
    if let Some(path) = &options.rules {
        let file = RulesFile::load(path).map_err(|e| e.to_string())?;
        rules_summary = format!("rules from {path}: {file}");
        builder = builder.rules_file(file);
    }
    if let Some(key) = &options.api_key {
        builder = builder.api_key(key.clone());
    }
    if let Some(seed) = &options.seed {
        builder = builder.seed_text(seed);
    }
    let webhook = webhook_target(&options, std::env::var("LEDGIX_WEBHOOK_SECRET").ok())?;
    if let Some((url, secret)) = &webhook {
        builder = builder.webhook(url.clone(), secret.clone());
    }
    let vault = builder.try_start().await.map_err(|e| e.to_string())?;
    println!("{program} listening on {}", vault.url());
    eprintln!("  {rules_summary}");
    eprintln!("  review queue: {}/", vault.url());
    eprintln!(
        "  API key: {}",
        if options.api_key.is_some() {
            "required"
        } else {
            "not required"
        }
    );
    if let Some((url, _)) = &webhook {
        eprintln!("  webhooks: {url} (review.held, review.decided; signed)");
    }
    eprintln!("  press Ctrl-C to stop");
    stop_signal().await;
    eprintln!("{program}: stopping");
    vault.shutdown().await;
    Ok(())
}

/// Parses `args` (without the program name), runs the mock Vault until Ctrl-C or SIGTERM,
/// and returns the exit code: 0 after a clean stop or `--help`, 2 on a usage error, 1 when it
/// cannot start. `program` names it in messages.
pub(crate) fn main(program: &str, args: impl IntoIterator<Item = String>) -> ExitCode {
    let command = match parse_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{program}: {e}\n\n{}", usage(program));
            return ExitCode::from(2);
        }
    };
    let options = match command {
        Command::Help => {
            println!("{}", usage(program));
            return ExitCode::SUCCESS;
        }
        Command::Run(options) => options,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{program}: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(program, options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{program}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_every_flag() {
        assert_eq!(parse(&[]), Ok(Command::Run(Options::default())));
        let cmd = parse(&[
            "--listen",
            "127.0.0.1:0",
            "--api-key=sk_test",
            "--rules",
            "rules.json",
            "--seal-every",
            "250ms",
            "--seed",
            "demo",
            "--token-ttl=60",
            "--canonical-version",
            "2",
            "--webhook-url",
            "http://127.0.0.1:9/hook",
            "--webhook-secret=whsec_cli",
        ])
        .unwrap();
        let Command::Run(o) = cmd else {
            panic!("expected run, got {cmd:?}");
        };
        assert_eq!(o.listen, SocketAddr::from(([127, 0, 0, 1], 0)));
        assert_eq!(o.api_key.as_deref(), Some("sk_test"));
        assert_eq!(o.rules.as_deref(), Some("rules.json"));
        assert_eq!(o.seal_every, Duration::from_millis(250));
        assert_eq!(o.seed.as_deref(), Some("demo"));
        assert_eq!(o.token_ttl, Duration::from_secs(60));
        assert_eq!(o.canonical_version, 2);
        assert_eq!(o.webhook_url.as_deref(), Some("http://127.0.0.1:9/hook"));
        assert_eq!(o.webhook_secret, Some(Secret("whsec_cli".into())));
        assert!(
            !format!("{o:?}").contains("whsec_cli"),
            "the secret is never shown"
        );
        assert_eq!(
            webhook_target(&o, Some("from-env".into())),
            Ok(Some(("http://127.0.0.1:9/hook".into(), "whsec_cli".into())))
        );
        assert_eq!(parse(&["--rules", "x", "-h"]), Ok(Command::Help));
    }

    #[test]
    fn errors_say_which_flag_and_why() {
        for (args, needle) in [
            (
                &["--listen", "localhost"][..],
                "`--listen localhost`: expected an address",
            ),
            (&["--listen"][..], "option `--listen` needs a value"),
            (
                &["--rules", "--seed", "x"][..],
                "option `--rules` needs a value",
            ),
            (
                &["--seal-every", "soon"][..],
                "`--seal-every soon`: expected a duration",
            ),
            (&["--port", "80"][..], "unknown option `--port`"),
            (&["serve"][..], "unexpected argument `serve`"),
            (&["--api-key="][..], "`--api-key` must not be empty"),
            (&["--canonical-version", "3"][..], "expected 1 or 2"),
            (
                &["--webhook-secret", "s"][..],
                "`--webhook-secret` needs `--webhook-url`",
            ),
            (
                &["--webhook-url", "http://h/", "--webhook-secret="][..],
                "must not be empty",
            ),
        ] {
            let err = parse(args).expect_err(&format!("{args:?}"));
            assert!(err.contains(needle), "{args:?}: {err}");
        }
    }

    #[test]
    fn the_webhook_secret_comes_from_the_flag_or_the_environment() {
        let Ok(Command::Run(o)) = parse(&["--webhook-url", "http://127.0.0.1:9/hook"]) else {
            panic!("expected run");
        };
        assert_eq!(
            webhook_target(&o, Some("from-env".into())),
            Ok(Some(("http://127.0.0.1:9/hook".into(), "from-env".into())))
        );
        let err = webhook_target(&o, None).unwrap_err();
        assert!(err.contains("LEDGIX_WEBHOOK_SECRET"), "{err}");
        assert!(webhook_target(&o, Some(String::new())).is_err());
        assert_eq!(webhook_target(&Options::default(), None), Ok(None));
    }
}
