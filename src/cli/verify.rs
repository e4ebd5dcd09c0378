//! `ledgix verify bundle` and `ledgix verify ledger`: the checks of LEDGER.md, offline, against
//! keys the auditor trusts, with the failing check named.

use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args};
use indicatif::{ProgressBar, ProgressStyle};
use ledgix::ledger::{
    self, BundleVerification, LedgerCheckpoint, LedgerEntry, LedgerError, LedgerVerification,
    ProofBundle, TrustedKeys,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::output::{Failure, Mark, Out, Paint, clean};
use super::read_file;
use super::vault;

/// Entries and checkpoints asked of a Vault: the most its `/ledger` endpoints return.
const PAGE: u32 = 500;
/// From this many entries on, a terminal shows a progress bar.
const PROGRESS_MIN: usize = 200;
/// Entries verified between two progress updates.
const PROGRESS_CHUNK: usize = 128;

const KEYS_HINT: &str = "pass the Vault's public keys as a JWKS document ({\"keys\": [...]}, as \
                         GET /.well-known/jwks.json serves it), obtained independently of the data";

/// `ledgix verify bundle`.
#[derive(Debug, Clone, Args)]
pub(crate) struct BundleArgs {
    /// The proof bundle: the JSON answer of GET /ledger/proof/bundle?request_id=….
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// The Vault keys you trust, as a JWKS file. Keys a bundle embeds are never trusted on
    /// their own.
    #[arg(long, value_name = "JWKS_FILE")]
    keys: PathBuf,
    /// Also exit 1 when part of the decision could not be checked (a redacted event body,
    /// shown fields its hash does not cover).
    #[arg(long)]
    strict: bool,
}

/// `ledgix verify ledger`.
#[derive(Debug, Clone, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["url", "dir"])))]
pub(crate) struct LedgerArgs {
    /// Fetch the ledger from this Vault (its newest 500 entries and checkpoints, and its JWKS
    /// unless --keys is given). The API key comes from LEDGIX_VAULT_API_KEY.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Read the ledger from this folder: ledger.json, checkpoints.json and jwks.json.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Trust the keys of this JWKS file instead of the Vault's JWKS or DIR/jwks.json.
    #[arg(long, value_name = "JWKS_FILE")]
    keys: Option<PathBuf>,
    /// Also exit 1 when part of the ledger could not be checked (redacted rows, a chain that
    /// starts mid-way, a root whose leaves were not all given, a partial download).
    #[arg(long)]
    strict: bool,
}

/// Reads and parses a JWKS file of trusted keys.
pub(crate) fn load_keys(path: &Path) -> Result<TrustedKeys, Failure> {
    let text = read_file(path, "keys file", KEYS_HINT)?;
    TrustedKeys::from_jwks_json(&text).map_err(|e| {
        Failure::bad_input(
            format!("{} is not a usable JWKS: {e}", path.display()),
            KEYS_HINT,
        )
    })
}

fn key_ids(keys: &TrustedKeys) -> Vec<String> {
    keys.key_set().kids().map(str::to_string).collect()
}

// ------------------------------------------------------------------ which check failed

const CHECK_KEYS: &str = "keys and signatures";
const CHECK_EVENT: &str = "event body, leaf hash and receipt";
const CHECK_ABOUT: &str = "the inclusion proof is about this event";
const CHECK_INCLUSION: &str = "checkpoint and inclusion proof";
const CHECK_CONSISTENCY: &str = "consistency proof";
const CHECK_FIELDS: &str = "well-formed fields";

/// The check of a bundle (numbered as in LEDGER.md) a verification failure belongs to.
fn bundle_check(e: &LedgerError, bundle: &ProofBundle, keys: &TrustedKeys) -> String {
    use LedgerError as L;
    // A checkpoint or Merkle failure belongs to the consistency step exactly when the bundle
    // verifies without its consistency proof.
    let inclusion_or_consistency = || {
        let mut without = bundle.clone();
        match without.consistency.take() {
            Some(_) if ledger::verify_proof_bundle(&without, keys).is_ok() => {
                (5, CHECK_CONSISTENCY)
            }
            _ => (4, CHECK_INCLUSION),
        }
    };
    let (number, name) = match e {
        L::TrustedKeys(_)
        | L::UntrustedKey { .. }
        | L::EmbeddedKeyMismatch { .. }
        | L::UnsupportedAlgorithm { .. }
        | L::BadSignature { .. } => (1, CHECK_KEYS),
        L::UnsupportedCanonicalVersion { .. }
        | L::EventHashMismatch { .. }
        | L::LeafHashMismatch { .. }
        | L::ReceiptPayloadMismatch { .. } => (2, CHECK_EVENT),
        L::InclusionMismatch { .. } | L::CheckpointMismatch { .. } => (3, CHECK_ABOUT),
        L::ConsistencyNotFromInclusion { .. } => (5, CHECK_CONSISTENCY),
        L::CheckpointPayloadMismatch { .. } | L::CheckpointHashMismatch { .. } | L::Merkle(_) => {
            inclusion_or_consistency()
        }
        L::Malformed { field, .. } if field.starts_with("consistency") => (5, CHECK_CONSISTENCY),
        L::Malformed { .. } => (6, CHECK_FIELDS),
        _ => return "verification".to_string(),
    };
    format!("{number} ({name})")
}

/// The ledger check a verification failure belongs to.
fn ledger_check(e: &LedgerError) -> &'static str {
    use LedgerError as L;
    match e {
        L::TrustedKeys(_)
        | L::UntrustedKey { .. }
        | L::EmbeddedKeyMismatch { .. }
        | L::UnsupportedAlgorithm { .. }
        | L::BadSignature { .. } => CHECK_KEYS,
        L::UnsupportedCanonicalVersion { .. }
        | L::EventHashMismatch { .. }
        | L::LeafHashMismatch { .. }
        | L::ReceiptPayloadMismatch { .. } => "entries: event body, leaf hash and receipt",
        L::CheckpointPayloadMismatch { .. } | L::CheckpointHashMismatch { .. } => {
            "checkpoints: payload, hash and signature"
        }
        L::ChainBroken { .. } | L::TreeShrank { .. } => "checkpoint chain",
        L::Duplicate { .. } => "unique seq, leaf index and checkpoint ids",
        L::SealMismatch { .. } => "seals: the checkpoint that covers each entry",
        L::RootMismatch { .. } => "roots recomputed from the entries' leaves",
        L::Malformed { .. } => CHECK_FIELDS,
        _ => "ledger verification",
    }
}

// ------------------------------------------------------------------ verify bundle

/// `ledgix verify bundle FILE --keys JWKS_FILE`.
pub(crate) fn bundle(args: &BundleArgs, out: &Out) -> Result<(), Failure> {
    let hint = "pass the JSON answer of GET /ledger/proof/bundle?request_id=… saved to a file";
    let text = read_file(&args.file, "proof bundle", hint)?;
    let bundle: ProofBundle = serde_json::from_str(&text).map_err(|e| {
        Failure::bad_input(
            format!("{} is not a proof bundle: {e}", args.file.display()),
            hint,
        )
    })?;
    let keys = load_keys(&args.keys)?;
    let verified = ledger::verify_proof_bundle(&bundle, &keys).map_err(|e| {
        Failure::refused(
            Some(bundle_check(&e, &bundle, &keys)),
            format!("{}: {e}", args.file.display()),
        )
    })?;
    let warnings = bundle_warnings(&verified);
    let report = bundle_json(&verified, &warnings, &args.keys);
    finish(out, report, &warnings, args.strict, || {
        print_bundle(out, &args.file, &args.keys, &verified, &warnings);
    })
}

/// What a verified bundle could not establish.
fn bundle_warnings(v: &BundleVerification) -> Vec<String> {
    let mut warnings = Vec::new();
    if !v.unpinned_numbers.is_empty() {
        warnings.push(format!(
            "the event holds numbers its float64 hash cannot pin ({}): another number with the \
             same hash could stand in their place, so its body is not verified",
            v.unpinned_numbers.join(", ")
        ));
    } else if !v.event_body_verified {
        warnings.push(
            "the event is redacted (empty intent_hash): its body could not be recomputed; only \
             its receipt and its place in the tree were checked"
                .to_string(),
        );
    }
    if !v.uncommitted_fields.is_empty() {
        warnings.push(format!(
            "the event shows fields its hash does not cover (not vouched for): {}",
            v.uncommitted_fields.join(", ")
        ));
    }
    warnings
}

fn encoding_name(v: &BundleVerification) -> String {
    match v.event_encoding {
        None => "none (redacted)".into(),
        Some(encoding) => {
            let layout = match encoding.layout {
                ledger::EventLayout::Canonical => "the canonical_version layout",
                ledger::EventLayout::PythonVariant => "the ledgix-python 0.4 variant layout",
                _ => "another known layout",
            };
            if encoding.integer_confidence {
                format!("{layout}, integer confidence")
            } else {
                layout.to_string()
            }
        }
    }
}

fn bundle_json(v: &BundleVerification, warnings: &[String], keys: &Path) -> Value {
    json!({
        "result": "verified",
        "request_id": v.request_id,
        "event_uuid": v.event_uuid,
        "event_hash": v.event_hash,
        "leaf_index": v.leaf_index,
        "tree_size": v.tree_size,
        "checkpoint_id": v.checkpoint_id,
        "root_hash": v.root_hash,
        "event_body_verified": v.event_body_verified,
        "event_encoding": encoding_name(v),
        "uncommitted_fields": v.uncommitted_fields,
        "unpinned_numbers": v.unpinned_numbers,
        "consistency_verified": v.consistency_verified,
        "latest_checkpoint_id": v.latest_checkpoint_id,
        "latest_tree_size": v.latest_tree_size,
        "latest_root_hash": v.latest_root_hash,
        "signer_key_ids": v.signer_key_ids,
        "keys_file": keys.display().to_string(),
        "warnings": warnings,
    })
}

fn print_bundle(out: &Out, file: &Path, keys: &Path, v: &BundleVerification, warnings: &[String]) {
    out.headline(
        Paint::Good,
        "VERIFIED",
        &format!("proof bundle {}", file.display()),
    );
    out.fields(&[
        ("request", v.request_id.clone()),
        ("event", v.event_uuid.clone()),
        ("event hash", v.event_hash.clone()),
        (
            "leaf",
            format!("{} of a tree of {}", v.leaf_index, v.tree_size),
        ),
        (
            "checkpoint",
            format!("{} (root {})", v.checkpoint_id, v.root_hash),
        ),
        (
            "latest",
            format!(
                "checkpoint {}, tree size {} (root {})",
                v.latest_checkpoint_id, v.latest_tree_size, v.latest_root_hash
            ),
        ),
        (
            "signed by",
            format!(
                "{} (trusted: {})",
                v.signer_key_ids.join(", "),
                keys.display()
            ),
        ),
    ]);
    println!("checks");
    let width = 42;
    out.check(
        Mark::Pass,
        &format!("1 {CHECK_KEYS}"),
        width,
        "receipt and checkpoints signed by trusted keys; embedded keys match them",
    );
    if v.event_body_verified {
        out.check(
            Mark::Pass,
            &format!("2 {CHECK_EVENT}"),
            width,
            &format!(
                "event hash recomputed from the body ({}); leaf and receipt rebuilt",
                encoding_name(v)
            ),
        );
    } else {
        out.check(
            Mark::Warn,
            &format!("2 {CHECK_EVENT}"),
            width,
            "redacted event: receipt and leaf checked, the body could not be",
        );
    }
    out.check(
        Mark::Pass,
        &format!("3 {CHECK_ABOUT}"),
        width,
        "request id, event id, hashes and leaf index match the event",
    );
    out.check(
        Mark::Pass,
        &format!("4 {CHECK_INCLUSION}"),
        width,
        &format!(
            "checkpoint {} rebuilt and signed; leaf {} proven in its root",
            v.checkpoint_id, v.leaf_index
        ),
    );
    if v.consistency_verified {
        out.check(
            Mark::Pass,
            &format!("5 {CHECK_CONSISTENCY}"),
            width,
            &format!(
                "checkpoint {} extends checkpoint {}",
                v.latest_checkpoint_id, v.checkpoint_id
            ),
        );
    } else {
        out.check(
            Mark::Skip,
            &format!("5 {CHECK_CONSISTENCY}"),
            width,
            "none in the bundle (its checkpoint was the newest)",
        );
    }
    print_warnings(out, warnings);
}

fn print_warnings(out: &Out, warnings: &[String]) {
    if warnings.is_empty() {
        return;
    }
    println!("not checked");
    for warning in warnings {
        out.warning(&clean(warning));
    }
}

// ------------------------------------------------------------------ verify ledger

/// A ledger to verify, wherever it came from.
struct LedgerData {
    /// `the folder X` / `the Vault at URL`.
    source: String,
    entries: Vec<LedgerEntry>,
    checkpoints: Vec<LedgerCheckpoint>,
    keys: TrustedKeys,
    /// Where the keys came from.
    key_source: String,
    /// What could not be fetched.
    notes: Vec<String>,
}

/// `ledger.json`: `{"entries": [...]}` (GET /ledger), optionally with `"checkpoints"`.
#[derive(Deserialize)]
struct EntriesFile {
    entries: Vec<LedgerEntry>,
    #[serde(default)]
    checkpoints: Option<Vec<LedgerCheckpoint>>,
}

/// `checkpoints.json`: `{"checkpoints": [...]}` (GET /ledger/checkpoints).
#[derive(Deserialize)]
struct CheckpointsFile {
    checkpoints: Vec<LedgerCheckpoint>,
}

/// Parses `{"key": [...]}` or a bare `[...]` into `T` (a list).
fn parse_list<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
    what: &str,
    hint: &str,
) -> Result<T, Failure> {
    serde_json::from_str(text)
        .map_err(|e| Failure::bad_input(format!("{} is not {what}: {e}", path.display()), hint))
}

fn is_bare_list(text: &str) -> bool {
    text.trim_start().starts_with('[')
}

fn read_dir(dir: &Path, keys: Option<&Path>) -> Result<LedgerData, Failure> {
    let hint = "a ledger folder holds ledger.json ({\"entries\": [...]}, as GET /ledger answers), \
                checkpoints.json ({\"checkpoints\": [...]}) and jwks.json";
    let ledger_path = dir.join("ledger.json");
    let text = read_file(&ledger_path, "ledger", hint)?;
    let (entries, inline_checkpoints) = if is_bare_list(&text) {
        (
            parse_list::<Vec<LedgerEntry>>(&text, &ledger_path, "a list of ledger entries", hint)?,
            None,
        )
    } else {
        let file: EntriesFile =
            parse_list(&text, &ledger_path, "a ledger ({\"entries\": [...]})", hint)?;
        (file.entries, file.checkpoints)
    };
    let checkpoints_path = dir.join("checkpoints.json");
    let checkpoints = if checkpoints_path.exists() {
        let text = read_file(&checkpoints_path, "checkpoints", hint)?;
        if is_bare_list(&text) {
            parse_list(&text, &checkpoints_path, "a list of checkpoints", hint)?
        } else {
            let file: CheckpointsFile = parse_list(
                &text,
                &checkpoints_path,
                "a checkpoint list ({\"checkpoints\": [...]})",
                hint,
            )?;
            file.checkpoints
        }
    } else if let Some(checkpoints) = inline_checkpoints {
        checkpoints
    } else {
        return Err(Failure::bad_input(
            format!(
                "{} has no checkpoints.json (and its ledger.json no \"checkpoints\")",
                dir.display()
            ),
            hint,
        ));
    };
    let (keys, key_source) = match keys {
        Some(path) => (load_keys(path)?, format!("{} (pinned)", path.display())),
        None => {
            let path = dir.join("jwks.json");
            if !path.exists() {
                return Err(Failure::bad_input(
                    format!("no keys: {} has no jwks.json", dir.display()),
                    "pass --keys JWKS_FILE with the Vault's public keys, or put them in \
                     DIR/jwks.json",
                ));
            }
            (
                load_keys(&path)?,
                format!(
                    "{} (beside the data: pass --keys to pin keys obtained independently)",
                    path.display()
                ),
            )
        }
    };
    Ok(LedgerData {
        source: format!("the folder {}", dir.display()),
        entries,
        checkpoints,
        keys,
        key_source,
        notes: Vec::new(),
    })
}

async fn fetch(url: &str, keys: Option<&Path>) -> Result<LedgerData, Failure> {
    let client = vault::client(Some(url))?;
    let base = client.config().vault_url().to_string();
    let entries = client
        .fetch_ledger(PAGE)
        .await
        .map_err(|e| vault::failure(e, &base, "GET /ledger"))?;
    let checkpoints = client
        .fetch_ledger_checkpoints(PAGE)
        .await
        .map_err(|e| vault::failure(e, &base, "GET /ledger/checkpoints"))?;
    let (keys, key_source) = match keys {
        Some(path) => (load_keys(path)?, format!("{} (pinned)", path.display())),
        None => {
            let set = client
                .fetch_jwks()
                .await
                .map_err(|e| vault::failure(e, &base, "GET /.well-known/jwks.json"))?;
            (
                TrustedKeys::from_key_set(set),
                format!(
                    "{base}/.well-known/jwks.json (the Vault's own: pass --keys to pin keys \
                     obtained independently)"
                ),
            )
        }
    };
    let mut notes = Vec::new();
    let page = usize::try_from(PAGE).unwrap_or(usize::MAX);
    if entries.len() >= page {
        notes.push(format!(
            "the Vault returned its largest page, {page} entries: older entries were not \
             fetched, so not checked"
        ));
    }
    if checkpoints.len() >= page {
        notes.push(format!(
            "the Vault returned its largest page, {page} checkpoints: older checkpoints were \
             not fetched, so not checked"
        ));
    }
    Ok(LedgerData {
        source: format!("the Vault at {base}"),
        entries,
        checkpoints,
        keys,
        key_source,
        notes,
    })
}

/// `ledgix verify ledger --url URL | --dir DIR`.
pub(crate) async fn ledger(args: &LedgerArgs, out: &Out) -> Result<(), Failure> {
    let mut data = match (&args.url, &args.dir) {
        (Some(url), _) => fetch(url, args.keys.as_deref()).await?,
        (None, Some(dir)) => read_dir(dir, args.keys.as_deref())?,
        (None, None) => {
            return Err(Failure::bad_input(
                "nothing to verify",
                "pass --url URL or --dir DIR",
            ));
        }
    };
    data.entries.sort_by_key(|e| e.seq);
    data.checkpoints.sort_by_key(|c| c.checkpoint_id);
    let refused = |e: LedgerError, data: &LedgerData| {
        Failure::refused(
            Some(ledger_check(&e).to_string()),
            format!(
                "first problem in {} ({} entries, {} checkpoints read): {e}",
                data.source,
                data.entries.len(),
                data.checkpoints.len()
            ),
        )
    };
    let verified = verify_with_progress(&data, out).map_err(|e| refused(e, &data))?;
    let warnings = ledger_warnings(&data, &verified);
    let report = ledger_json(&data, &verified, &warnings);
    finish(out, report, &warnings, args.strict, || {
        print_ledger(out, &data, &verified, &warnings);
    })
}

/// Prints a verification that passed (`text` for people, `report` with `--json`); with
/// `--strict`, what could not be checked turns it into a refusal (the report then goes into
/// the refusal's JSON, so stdout holds one document).
fn finish(
    out: &Out,
    report: Value,
    warnings: &[String],
    strict: bool,
    text: impl FnOnce(),
) -> Result<(), Failure> {
    let refused = (strict && !warnings.is_empty()).then(|| {
        Failure::refused(
            Some("completeness (--strict)".into()),
            format!("not everything could be checked: {}", warnings.join("; ")),
        )
    });
    match (out.json, refused) {
        (true, Some(failure)) => Err(failure.with_detail("report", report)),
        (true, None) => {
            out.print_json(&report);
            Ok(())
        }
        (false, refused) => {
            text();
            refused.map_or(Ok(()), Err)
        }
    }
}

/// [`ledger::verify_ledger`] over everything. On a terminal, with many entries, the entries
/// are first verified in chunks (receipt signature, event and leaf hashes, as the whole pass
/// does first) to drive a progress bar; the whole pass then checks them again with the
/// checkpoints, the chain, the seals and the roots.
fn verify_with_progress(data: &LedgerData, out: &Out) -> Result<LedgerVerification, LedgerError> {
    let total = data.entries.len();
    if !out.progress_allowed() || total < PROGRESS_MIN {
        return ledger::verify_ledger(&data.entries, &data.checkpoints, &data.keys);
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} entries, {eta} left")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("verifying entries");
    for chunk in data.entries.chunks(PROGRESS_CHUNK) {
        if let Err(e) = ledger::verify_ledger(chunk, &[], &data.keys) {
            bar.finish_and_clear();
            return Err(e);
        }
        bar.inc(chunk.len() as u64);
    }
    bar.set_message("checking checkpoints, chain and roots");
    let result = ledger::verify_ledger(&data.entries, &data.checkpoints, &data.keys);
    bar.finish_and_clear();
    result
}

/// What a verified ledger could not establish.
fn ledger_warnings(data: &LedgerData, v: &LedgerVerification) -> Vec<String> {
    let mut warnings = data.notes.clone();
    if !v.redacted_entries.is_empty() {
        warnings.push(format!(
            "{} redacted entries (empty intent_hash; seq {}): their bodies could not be \
             recomputed, only their receipts and leaves",
            v.redacted_entries.len(),
            list(&v.redacted_entries)
        ));
    }
    for (seq, fields) in &v.uncommitted_fields {
        let unpinned = v
            .unpinned_numbers
            .iter()
            .find(|(s, _)| s == seq)
            .map(|(_, pointers)| {
                format!(
                    " (numbers its float64 hash cannot pin: {})",
                    pointers.join(", ")
                )
            })
            .unwrap_or_default();
        warnings.push(format!(
            "entry seq {seq} shows fields its hash does not cover: {}{unpinned}",
            fields.join(", ")
        ));
    }
    let gaps = seq_gaps(&data.entries);
    if !gaps.is_empty() {
        let missing: u64 = gaps.iter().map(|(a, b)| b - a + 1).sum();
        let ranges: Vec<String> = gaps
            .iter()
            .take(5)
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        warnings.push(format!(
            "{missing} entries missing between the first and the last given (seq {}{}): they \
             were not checked, nor the roots that need their leaves",
            ranges.join(", "),
            if gaps.len() > 5 { ", ..." } else { "" }
        ));
    }
    if data.checkpoints.is_empty() {
        warnings.push("no checkpoint: nothing is sealed yet, so no root was checked".into());
    } else {
        if !v.chain_from_genesis {
            warnings.push(
                "the checkpoints start mid-chain (the first one names a previous checkpoint \
                 that was not given): the chain is verified from there on"
                    .into(),
            );
        }
        if !v.root_checked {
            warnings.push(
                "the newest checkpoint's root was not recomputed: not all of its leaves were \
                 given"
                    .into(),
            );
        }
    }
    warnings
}

/// The `seq` ranges missing between the first and the last entry given (entries sorted).
fn seq_gaps(entries: &[LedgerEntry]) -> Vec<(u64, u64)> {
    entries
        .windows(2)
        .filter_map(|pair| {
            let (a, b) = (pair[0].seq, pair[1].seq);
            (b > a.saturating_add(1)).then(|| (a + 1, b - 1))
        })
        .collect()
}

fn list(seqs: &[u64]) -> String {
    let shown: Vec<String> = seqs.iter().take(10).map(u64::to_string).collect();
    let more = seqs.len().saturating_sub(10);
    if more > 0 {
        format!("{} and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn unsealed(data: &LedgerData) -> usize {
    data.entries
        .iter()
        .filter(|e| e.leaf_index.is_none())
        .count()
}

fn ledger_json(data: &LedgerData, v: &LedgerVerification, warnings: &[String]) -> Value {
    json!({
        "result": "verified",
        "source": data.source,
        "keys": {"source": data.key_source, "key_ids": key_ids(&data.keys)},
        "entries": data.entries.len(),
        "entries_verified": v.entries_verified,
        "redacted_entries": v.redacted_entries,
        "unsealed_entries": unsealed(data),
        "uncommitted_fields": v.uncommitted_fields.iter()
            .map(|(seq, fields)| json!({"seq": seq, "fields": fields}))
            .collect::<Vec<_>>(),
        "unpinned_numbers": v.unpinned_numbers.iter()
            .map(|(seq, pointers)| json!({"seq": seq, "pointers": pointers}))
            .collect::<Vec<_>>(),
        "checkpoints": data.checkpoints.len(),
        "checkpoints_verified": v.checkpoints_verified,
        "chain_from_genesis": v.chain_from_genesis,
        "latest_checkpoint": v.latest_checkpoint_id.map(|id| json!({
            "checkpoint_id": id,
            "checkpoint_hash": v.latest_checkpoint_hash,
            "tree_size": v.latest_tree_size,
        })),
        "roots_checked": v.roots_checked,
        "latest_root_checked": v.root_checked,
        "latest_leaf_hash": v.latest_leaf_hash,
        "warnings": warnings,
    })
}

fn print_ledger(out: &Out, data: &LedgerData, v: &LedgerVerification, warnings: &[String]) {
    out.headline(
        Paint::Good,
        "VERIFIED",
        &format!("ledger from {}", data.source),
    );
    let unsealed = unsealed(data);
    let latest = match (v.latest_checkpoint_id, v.latest_tree_size) {
        (Some(id), Some(size)) => format!(
            "checkpoint {id}, tree size {size} (hash {})",
            v.latest_checkpoint_hash.as_deref().unwrap_or("")
        ),
        _ => "no checkpoint yet".into(),
    };
    out.fields(&[
        (
            "entries",
            format!(
                "{} verified ({} redacted, {unsealed} not sealed yet)",
                v.entries_verified,
                v.redacted_entries.len()
            ),
        ),
        (
            "checkpoints",
            format!(
                "{} verified{}",
                v.checkpoints_verified,
                if v.chain_from_genesis {
                    ", chained from the first"
                } else if v.checkpoints_verified > 0 {
                    ", chained (from mid-way)"
                } else {
                    ""
                }
            ),
        ),
        ("latest", latest),
        (
            "roots",
            format!(
                "{} of {} recomputed from the entries' leaves",
                v.roots_checked, v.checkpoints_verified
            ),
        ),
        (
            "keys",
            format!(
                "{} from {}",
                key_ids(&data.keys).join(", "),
                data.key_source
            ),
        ),
    ]);
    println!("checks");
    let width = 44;
    out.check(
        Mark::Pass,
        CHECK_KEYS,
        width,
        "every receipt and checkpoint signed by a trusted key",
    );
    out.check(
        Mark::Pass,
        "entries: event body, leaf hash and receipt",
        width,
        "recomputed for every entry (bodies of redacted rows excepted)",
    );
    out.check(
        Mark::Pass,
        "checkpoints and their chain",
        width,
        "payloads rebuilt, hashes recomputed, each names the previous one",
    );
    out.check(
        Mark::Pass,
        "seals",
        width,
        "each sealed entry names the checkpoint that first covers it",
    );
    let roots_mark = if v.root_checked {
        Mark::Pass
    } else {
        Mark::Warn
    };
    out.check(
        roots_mark,
        "roots",
        width,
        "every checkpoint whose leaves were all given has the root they make",
    );
    print_warnings(out, warnings);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(path)
    }

    fn bundle_of(path: &str) -> ProofBundle {
        serde_json::from_str(&std::fs::read_to_string(fixture(path)).unwrap()).unwrap()
    }

    /// Every tampered fixture is refused by the check that its `why` describes.
    #[test]
    fn tampered_bundles_name_their_check() {
        let keys = load_keys(&fixture("ledger/trusted_jwks.json")).unwrap();
        for (name, check) in [
            ("receipt-signature-flipped", "1 (keys and signatures)"),
            (
                "forged-with-embedded-attacker-key",
                "1 (keys and signatures)",
            ),
            ("checkpoint-signature-flipped", "1 (keys and signatures)"),
            ("reason-changed", "2 (event body, leaf hash and receipt)"),
            ("tool-args-changed", "2 (event body, leaf hash and receipt)"),
            (
                "inclusion-names-other-request",
                "3 (the inclusion proof is about this event)",
            ),
            ("path-bit-flipped", "4 (checkpoint and inclusion proof)"),
            ("path-truncated", "4 (checkpoint and inclusion proof)"),
            ("consistency-path-flipped", "5 (consistency proof)"),
        ] {
            let bundle = bundle_of(&format!("ledger/bundles/tampered-000-{name}.json"));
            let err = ledger::verify_proof_bundle(&bundle, &keys).expect_err(name);
            assert_eq!(bundle_check(&err, &bundle, &keys), check, "{name}: {err}");
        }
    }

    #[test]
    fn a_folder_in_the_fixture_layout_verifies_with_pinned_keys() {
        let data = read_dir(
            &fixture("ledger"),
            Some(&fixture("ledger/trusted_jwks.json")),
        )
        .unwrap();
        assert_eq!((data.entries.len(), data.checkpoints.len()), (24, 3));
        let v = ledger::verify_ledger(&data.entries, &data.checkpoints, &data.keys).unwrap();
        // The Vault's fixture ledger holds integers above 2^53 (9007199254740993): their
        // entries verify, but the hash cannot pin those numbers, and the report says so.
        let warnings = ledger_warnings(&data, &v);
        assert!(!v.unpinned_numbers.is_empty());
        assert_eq!(warnings.len(), v.unpinned_numbers.len(), "{warnings:#?}");
        assert!(
            warnings
                .iter()
                .all(|w| w.contains("numbers its float64 hash cannot pin")),
            "{warnings:#?}"
        );
        // Without --keys and without a jwks.json, the folder is refused as bad input.
        let err = read_dir(&fixture("ledger"), None).err().unwrap();
        assert!(matches!(err, Failure::BadInput { .. }), "{err:?}");
    }

    #[test]
    fn ledger_checks_have_names() {
        let e = LedgerError::ChainBroken {
            checkpoint_id: 2,
            prev: String::new(),
            expected: String::new(),
        };
        assert_eq!(ledger_check(&e), "checkpoint chain");
        let e = LedgerError::RootMismatch {
            checkpoint_id: 1,
            tree_size: 1,
            computed: String::new(),
            claimed: String::new(),
        };
        assert_eq!(
            ledger_check(&e),
            "roots recomputed from the entries' leaves"
        );
        assert_eq!(list(&[1, 2]), "1, 2");
        assert_eq!(
            list(&(1..=12).collect::<Vec<_>>()),
            "1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more"
        );
    }
}
