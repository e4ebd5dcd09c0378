//! Which `ledgix.json` `instrument!` reads, and reading it. What the file says is parsed by
//! `ledgix-manifest`, the parser `ledgix::Manifest` and the mock Vault use too.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use ledgix_manifest::{DEFAULT_FILE, Manifest};

/// Where the manifest path came from (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The string literal given to `instrument!`.
    Literal,
    /// The `LEDGIX_MANIFEST` environment variable.
    Env,
    /// The default, `ledgix.json` in `CARGO_MANIFEST_DIR`.
    Default,
}

impl Source {
    fn describe(self) -> &'static str {
        match self {
            Source::Literal => "the path given to `instrument!`, relative to CARGO_MANIFEST_DIR",
            Source::Env => {
                "the LEDGIX_MANIFEST environment variable, relative to CARGO_MANIFEST_DIR"
            }
            Source::Default => "the default: ledgix.json in CARGO_MANIFEST_DIR",
        }
    }
}

/// The manifest file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    /// Absolute (when `CARGO_MANIFEST_DIR` is), lexically normalized path.
    pub path: PathBuf,
    /// Where the path came from.
    pub source: Source,
}

/// Chooses the manifest: the literal if given, else `LEDGIX_MANIFEST`, else `ledgix.json`;
/// relative paths are relative to `manifest_dir` (the crate's `CARGO_MANIFEST_DIR`).
pub(crate) fn locate(
    manifest_dir: &Path,
    literal: Option<&str>,
    env: Option<OsString>,
) -> Location {
    let (relative, source) = match (literal, env) {
        (Some(lit), _) => (PathBuf::from(lit), Source::Literal),
        (None, Some(env)) if !env.is_empty() => (PathBuf::from(env), Source::Env),
        (None, _) => (PathBuf::from(DEFAULT_FILE), Source::Default),
    };
    Location {
        path: normalize(&manifest_dir.join(relative)),
        source,
    }
}

/// Removes `.` and resolves `..` lexically, so messages show a clean path.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `path` as messages show it: relative to `cwd` when it is inside it (rustc runs in the
/// workspace root and prints source paths the same way, so both read alike and resolve from
/// the same place), else as is.
pub(crate) fn shown(path: &Path, cwd: Option<&Path>) -> String {
    cwd.and_then(|cwd| path.strip_prefix(cwd).ok())
        .filter(|rel| !rel.as_os_str().is_empty())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Reads and parses the manifest at `location`; also returns the path as messages show it.
pub(crate) fn load(location: &Location) -> Result<(Manifest, String), String> {
    let cwd = std::env::current_dir().ok();
    let shown = shown(&location.path, cwd.as_deref());
    let text = match std::fs::read_to_string(&location.path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "ledgix manifest not found: {shown} (from {}). Create it with \
                 {{\"enforce\": [{{\"tool\": \"*\"}}]}}, or point at another file: \
                 `instrument!(\"path/to/ledgix.json\", ...)` or the LEDGIX_MANIFEST environment \
                 variable",
                location.source.describe()
            ));
        }
        Err(e) => return Err(format!("cannot read ledgix manifest {shown}: {e}")),
    };
    let manifest = Manifest::parse(&text).map_err(|e| e.in_file(&shown))?;
    Ok((manifest, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_prefers_literal_then_env_then_default() {
        let dir = Path::new("/crate");
        let l = locate(dir, Some("config/ledgix.json"), Some("other.json".into()));
        assert_eq!(l.path, Path::new("/crate/config/ledgix.json"));
        assert_eq!(l.source, Source::Literal);
        let l = locate(dir, None, Some("../common/ledgix.json".into()));
        assert_eq!(l.path, Path::new("/common/ledgix.json"));
        assert_eq!(l.source, Source::Env);
        let l = locate(dir, None, Some("".into()));
        assert_eq!(l.path, Path::new("/crate/ledgix.json"));
        assert_eq!(l.source, Source::Default);
        let l = locate(dir, None, None);
        assert_eq!(l.path, Path::new("/crate/ledgix.json"));
        let l = locate(dir, Some("/abs/./m.json"), None);
        assert_eq!(l.path, Path::new("/abs/m.json"));
    }

    #[test]
    fn paths_show_relative_to_the_working_directory_when_inside_it() {
        let ws = Some(Path::new("/ws"));
        assert_eq!(
            shown(Path::new("/ws/crates/agent/ledgix.json"), ws),
            "crates/agent/ledgix.json"
        );
        assert_eq!(
            shown(Path::new("/elsewhere/ledgix.json"), ws),
            "/elsewhere/ledgix.json"
        );
        assert_eq!(shown(Path::new("/ws"), ws), "/ws");
        assert_eq!(shown(Path::new("/ws/ledgix.json"), None), "/ws/ledgix.json");
    }

    #[test]
    fn missing_file_names_the_path_it_tried() {
        let l = locate(Path::new("/definitely/not/here"), Some("nope.json"), None);
        let e = load(&l).unwrap_err();
        assert!(
            e.contains("ledgix manifest not found: /definitely/not/here/nope.json"),
            "{e}"
        );
        assert!(e.contains("the path given to `instrument!`"), "{e}");
    }

    #[test]
    fn parse_errors_name_file_line_and_column() {
        let dir = std::env::temp_dir().join(format!("ledgix-macros-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("ledgix.json"),
            "{\"enforce\": [\n  {\"tool\": \"a\", \"policyId\": 7}\n]}",
        )
        .unwrap();
        let e = load(&locate(&dir, None, None)).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(
            e.ends_with(
                "ledgix.json:2:29: rule enforce[0]: `policyId` must be a string like \
                 \"payments-prod\", found a number"
            ),
            "{e}"
        );
    }
}
