//! `ledgix.json` at run time: which policy and context each tool gets.
//!
//! The same file, parser and globs as `instrument!` reads at compile time (one implementation,
//! in `ledgix-manifest`), for code that learns its tools' names only while it runs: an MCP
//! server's tool router, a gateway, an agent framework's tool list.

use std::ffi::OsString;
use std::path::Path;

use ledgix_manifest::{DEFAULT_FILE, ENV_VAR, Glob};
use serde_json::{Map, Value};

use crate::error::Error;

/// The `ledgix.json` manifest, read at run time: rules tried in order, the first whose `tool`
/// glob matches a tool name wins.
///
/// The globs are Python `fnmatch` (`*`, `?`, `[abc]`, `[!abc]`), exactly as `instrument!`
/// and the mock Vault's rules match them; `policyId` and `policy_id` are both accepted.
///
/// ```
/// let manifest = ledgix_runtime::Manifest::from_json(r#"{"enforce": [
///     {"tool": "stripe_*", "policyId": "financial-high-risk", "context": {"risk_level": "high"}},
///     {"tool": "report_[0-9]", "policy_id": "reports"}
/// ]}"#)?;
/// let entry = manifest.lookup("stripe_refund").expect("stripe_* matches");
/// assert_eq!(entry.policy_id.as_deref(), Some("financial-high-risk"));
/// assert_eq!(entry.context["risk_level"], "high");
/// assert!(manifest.lookup("report_10").is_none(), "[0-9] is one character");
///
/// let err = ledgix_runtime::Manifest::from_json(r#"{"enforce": [{"tool": "a", "policyID": "p"}]}"#)
///     .unwrap_err();
/// assert!(err.to_string().contains("1:28: rule enforce[0]: unknown field `policyID`; did you mean `policyId`?"));
/// # Ok::<(), ledgix_runtime::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Manifest {
    globs: Vec<Glob>,
    entries: Vec<ManifestEntry>,
}

/// One rule of a [`Manifest`]: the tools it matches, and what their clearance requests carry.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestEntry {
    /// The `tool` glob as written.
    pub tool: String,
    /// `policyId` / `policy_id`: sent as `context.policy_id` (`None` when absent or empty).
    pub policy_id: Option<String>,
    /// `context`: sent with every matching call.
    pub context: Map<String, Value>,
}

impl Manifest {
    /// Parses the JSON text of a manifest. Errors give the line and column and say what to
    /// write.
    pub fn from_json(json: &str) -> Result<Manifest, Error> {
        Manifest::parse(json, "<inline manifest>")
    }

    /// Reads and parses the manifest at `path` (relative paths are relative to the current
    /// directory). Errors name the file, the line and the column.
    pub fn load(path: impl AsRef<Path>) -> Result<Manifest, Error> {
        Manifest::load_from(path.as_ref(), "")
    }

    /// Reads the manifest `LEDGIX_MANIFEST` names, else `ledgix.json` in the current directory
    /// (where the official SDKs look for it).
    pub fn from_env() -> Result<Manifest, Error> {
        Manifest::from_env_value(std::env::var_os(ENV_VAR))
    }

    /// [`Manifest::from_env`] with the variable's value given.
    fn from_env_value(value: Option<OsString>) -> Result<Manifest, Error> {
        match value.filter(|v| !v.is_empty()) {
            Some(path) => Manifest::load_from(Path::new(&path), " (named by LEDGIX_MANIFEST)"),
            None => Manifest::load_from(
                Path::new(DEFAULT_FILE),
                " (the default when LEDGIX_MANIFEST is not set: ledgix.json in the current \
                 directory)",
            ),
        }
    }

    /// The first rule whose glob matches `tool`; `None` when no rule does.
    pub fn lookup(&self, tool: &str) -> Option<&ManifestEntry> {
        self.globs
            .iter()
            .position(|glob| glob.matches(tool))
            .and_then(|i| self.entries.get(i))
    }

    /// Every rule, in the order they are tried.
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    fn load_from(path: &Path, origin: &str) -> Result<Manifest, Error> {
        let shown = path.display();
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Config(format!(
                    "ledgix manifest not found: {shown}{origin}. Create it with \
                     {{\"enforce\": [{{\"tool\": \"*\"}}]}}, or name another file: \
                     `Manifest::load(path)` or the LEDGIX_MANIFEST environment variable"
                )));
            }
            Err(e) => {
                return Err(Error::Config(format!(
                    "cannot read ledgix manifest {shown}{origin}: {e}"
                )));
            }
        };
        Manifest::parse(&text, &shown.to_string())
    }

    fn parse(text: &str, file: &str) -> Result<Manifest, Error> {
        let parsed = ledgix_manifest::Manifest::parse(text)
            .map_err(|e| Error::Config(format!("ledgix manifest {}", e.in_file(file))))?;
        let (globs, entries) = parsed
            .rules
            .into_iter()
            .map(|rule| {
                let entry = ManifestEntry {
                    tool: rule.glob.as_str().to_string(),
                    policy_id: rule.policy_id,
                    context: rule.context,
                };
                (rule.glob, entry)
            })
            .unzip();
        Ok(Manifest { globs, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config_error(result: Result<Manifest, Error>) -> String {
        match result {
            Err(Error::Config(message)) => message,
            other => panic!("expected Error::Config, got {other:?}"),
        }
    }

    /// A file under the system temp directory, removed when dropped.
    struct TempFile(std::path::PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> TempFile {
            let dir = std::env::temp_dir().join(format!(
                "ledgix-manifest-test-{}-{name}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir.join("ledgix.json");
            std::fs::write(&path, text).expect("write");
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            if let Some(dir) = self.0.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }

    #[test]
    fn lookup_is_first_match_with_the_rule_as_written() {
        let m = Manifest::from_json(
            r#"{"enforce": [
                {"tool": "create_stripe_payment", "policyId": "payments-prod", "context": {"risk_level": "high"}},
                {"tool": "stripe*", "policyId": "financial-high-risk"},
                {"tool": "wire_?", "policy_id": "treasury"},
                {"tool": "[!_]*"}
            ]}"#,
        )
        .unwrap();
        assert_eq!(m.entries().len(), 4);
        let e = m.lookup("create_stripe_payment").unwrap();
        assert_eq!(
            e,
            &ManifestEntry {
                tool: "create_stripe_payment".into(),
                policy_id: Some("payments-prod".into()),
                context: json!({"risk_level": "high"}).as_object().unwrap().clone(),
            }
        );
        assert_eq!(m.lookup("stripe_refund").unwrap().tool, "stripe*");
        assert_eq!(
            m.lookup("wire_a").unwrap().policy_id.as_deref(),
            Some("treasury")
        );
        assert_eq!(m.lookup("wire_ab").unwrap().tool, "[!_]*");
        assert!(m.lookup("_private").is_none());
        assert!(m.lookup("").is_none());
    }

    #[test]
    fn errors_are_config_errors_with_line_column_and_what_to_write() {
        let e = config_error(Manifest::from_json(
            "{\"enforce\": [\n  {\"tool\": \"a\", \"context\": \"high\"}\n]}",
        ));
        assert_eq!(
            e,
            "ledgix manifest <inline manifest>:2:28: rule enforce[0]: `context` must be an \
             object like {\"risk_level\": \"high\"}, found a string"
        );
        let e = config_error(Manifest::from_json("{\"enforce\": [}"));
        assert!(
            e.starts_with("ledgix manifest <inline manifest>:1:14: invalid JSON"),
            "{e}"
        );
        let file = TempFile::new("bad", "{\"enforce\": [{\"tool\": 5}]}");
        let e = config_error(Manifest::load(&file.0));
        assert!(
            e.starts_with(&format!("ledgix manifest {}:1:23: ", file.0.display())),
            "{e}"
        );
    }

    #[test]
    fn load_reads_a_file_and_names_a_missing_one() {
        let file = TempFile::new(
            "ok",
            r#"{"enforce": [{"tool": "db_*", "policyId": "data"}]}"#,
        );
        let m = Manifest::load(&file.0).unwrap();
        assert_eq!(
            m.lookup("db_write").unwrap().policy_id.as_deref(),
            Some("data")
        );
        let e = config_error(Manifest::load("/definitely/not/here/ledgix.json"));
        assert!(
            e.starts_with("ledgix manifest not found: /definitely/not/here/ledgix.json. Create it with {\"enforce\""),
            "{e}"
        );
    }

    #[test]
    fn from_env_reads_ledgix_manifest_else_the_default() {
        let file = TempFile::new("env", r#"{"enforce": [{"tool": "*", "policyId": "env"}]}"#);
        let m = Manifest::from_env_value(Some(file.0.clone().into_os_string())).unwrap();
        assert_eq!(m.lookup("x").unwrap().policy_id.as_deref(), Some("env"));
        let e = config_error(Manifest::from_env_value(Some(
            "/definitely/not/here.json".into(),
        )));
        assert!(e.contains("here.json (named by LEDGIX_MANIFEST)"), "{e}");
        // Unset or empty: ledgix.json in the current directory (this crate's, which has none).
        for value in [None, Some(OsString::new())] {
            let e = config_error(Manifest::from_env_value(value));
            assert!(
                e.starts_with("ledgix manifest not found: ledgix.json (the default when"),
                "{e}"
            );
        }
    }
}
