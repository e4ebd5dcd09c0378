//! How the `ledgix` command speaks: aligned text for people (colour only on a terminal and
//! never with `NO_COLOR`), one JSON document for scripts (`--json`), and the exit codes.
//!
//! Text that comes from a Vault, a file or a token (tool arguments, reasons, ids) is
//! attacker-controlled: it is printed through [`clean`], so it cannot move the cursor, recolour
//! the terminal or forge lines of its own.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde_json::{Value, json};

/// Verified, done.
pub(crate) const EXIT_OK: u8 = 0;
/// A verification failed, or the Vault refused the action (unknown or already decided request).
pub(crate) const EXIT_REFUSED: u8 = 1;
/// A usage error, an unreadable or malformed file, unusable keys, bad arguments or settings.
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
/// The Vault could not be reached, or answered with an error.
pub(crate) const EXIT_VAULT: u8 = 3;

/// Why a command did not succeed; each kind is one exit code.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Failure {
    /// Exit 1: a check failed (`check` names it), or the Vault refused the action;
    /// `details` go into the `--json` form.
    Refused {
        check: Option<String>,
        message: String,
        details: Option<Value>,
    },
    /// Exit 2: the input is unusable; `hint` says what to do.
    BadInput { message: String, hint: String },
    /// Exit 3: the Vault could not be asked; `hint` says what to do.
    Vault { message: String, hint: String },
}

impl Failure {
    pub(crate) fn refused(check: Option<String>, message: impl Into<String>) -> Failure {
        Failure::Refused {
            check,
            message: message.into(),
            details: None,
        }
    }

    /// Adds `key: value` to the `--json` form of a refusal.
    pub(crate) fn with_detail(mut self, key: &str, value: Value) -> Failure {
        if let Failure::Refused { details, .. } = &mut self {
            details
                .get_or_insert_with(|| json!({}))
                .as_object_mut()
                .map(|map| map.insert(key.to_string(), value));
        }
        self
    }

    pub(crate) fn bad_input(message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure::BadInput {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn vault(message: impl Into<String>, hint: impl Into<String>) -> Failure {
        Failure::Vault {
            message: message.into(),
            hint: hint.into(),
        }
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Failure::Refused { .. } => EXIT_REFUSED,
            Failure::BadInput { .. } => EXIT_BAD_INPUT,
            Failure::Vault { .. } => EXIT_VAULT,
        }
    }

    fn result(&self) -> &'static str {
        match self {
            Failure::Refused { .. } => "refused",
            Failure::BadInput { .. } => "bad_input",
            Failure::Vault { .. } => "vault_error",
        }
    }

    /// The `--json` form: `{"result", "exit_code", "error", "check" | "hint"}`.
    pub(crate) fn to_json(&self) -> Value {
        let mut value = json!({
            "result": self.result(),
            "exit_code": self.exit_code(),
        });
        match self {
            Failure::Refused {
                check,
                message,
                details,
            } => {
                value["error"] = json!(message);
                value["check"] = json!(check);
                if let Some(Value::Object(details)) = details {
                    for (key, detail) in details {
                        value[key.as_str()] = detail.clone();
                    }
                }
            }
            Failure::BadInput { message, hint } | Failure::Vault { message, hint } => {
                value["error"] = json!(message);
                value["hint"] = json!(hint);
            }
        }
        value
    }
}

/// A colour (or weight) for a piece of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Paint {
    Good,
    Bad,
    Warn,
    Bold,
    Dim,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Good => "32;1",
            Paint::Bad => "31;1",
            Paint::Warn => "33;1",
            Paint::Bold => "1",
            Paint::Dim => "2",
        }
    }
}

/// The outcome mark of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    Pass,
    Warn,
    Skip,
}

/// Where and how the command prints.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Out {
    /// `--json`: one JSON document on stdout, nothing else there.
    pub(crate) json: bool,
    color: bool,
    err_color: bool,
}

/// True when `NO_COLOR` is set to anything but the empty string (no-color.org).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

impl Out {
    /// Colour on stdout / stderr only where each is a terminal, and never with `NO_COLOR`.
    pub(crate) fn new(json: bool) -> Out {
        let allowed = !no_color();
        Out {
            json,
            color: allowed && !json && std::io::stdout().is_terminal(),
            err_color: allowed && std::io::stderr().is_terminal(),
        }
    }

    /// True when a progress bar may be drawn (stderr is a terminal, text output).
    pub(crate) fn progress_allowed(&self) -> bool {
        !self.json && std::io::stderr().is_terminal()
    }

    pub(crate) fn paint(&self, paint: Paint, text: &str) -> String {
        paint_if(self.color, paint, text)
    }

    /// Prints one JSON document (pretty) on stdout.
    pub(crate) fn print_json(&self, value: &Value) {
        let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
        println!("{text}");
    }

    /// `VERIFIED  what` / `REFUSED  what` / ...: the first line of a report.
    pub(crate) fn headline(&self, paint: Paint, word: &str, rest: &str) {
        println!("{}  {rest}", self.paint(paint, word));
    }

    /// Prints `rows` as `  key   value`, keys padded to the longest.
    pub(crate) fn fields(&self, rows: &[(&str, String)]) {
        print!("{}", aligned(rows, "  "));
    }

    /// One check: `  ✓ name   detail`.
    pub(crate) fn check(&self, mark: Mark, name: &str, width: usize, detail: &str) {
        let (symbol, paint) = match mark {
            Mark::Pass => ("✓", Paint::Good),
            Mark::Warn => ("!", Paint::Warn),
            Mark::Skip => ("–", Paint::Dim),
        };
        let pad = width.saturating_sub(name.chars().count());
        println!(
            "  {} {name}{}  {detail}",
            self.paint(paint, symbol),
            " ".repeat(pad)
        );
    }

    /// A line under a `warnings` heading.
    pub(crate) fn warning(&self, text: &str) {
        println!("  {} {text}", self.paint(Paint::Warn, "!"));
    }

    /// Reports a failure: JSON on stdout with `--json`, else text on stderr. Returns its exit
    /// code.
    pub(crate) fn fail(&self, failure: &Failure) -> ExitCode {
        if self.json {
            self.print_json(&failure.to_json());
        } else {
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(render_failure(failure, self.err_color).as_bytes());
        }
        ExitCode::from(failure.exit_code())
    }
}

fn paint_if(enabled: bool, paint: Paint, text: &str) -> String {
    if enabled {
        format!("\x1b[{}m{text}\x1b[0m", paint.code())
    } else {
        text.to_string()
    }
}

/// The text form of a failure (stderr).
pub(crate) fn render_failure(failure: &Failure, color: bool) -> String {
    let mut out = String::new();
    match failure {
        Failure::Refused { check, message, .. } => {
            let _ = write!(out, "{}", paint_if(color, Paint::Bad, "REFUSED"));
            if let Some(check) = check {
                let _ = write!(out, "  check failed: {check}");
            }
            let _ = writeln!(out, "\n  {}", clean(message));
        }
        Failure::BadInput { message, hint } | Failure::Vault { message, hint } => {
            let _ = writeln!(
                out,
                "{} {}",
                paint_if(color, Paint::Bad, "error:"),
                clean(message)
            );
            if !hint.is_empty() {
                let _ = writeln!(out, "  hint: {hint}");
            }
        }
    }
    out
}

/// `rows` as lines `{indent}key   value`, keys padded to the longest; values are
/// [`clean`]ed, and a value's further lines are indented under its first.
pub(crate) fn aligned(rows: &[(&str, String)], indent: &str) -> String {
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (key, value) in rows {
        let pad = width - key.chars().count();
        let continuation = format!("\n{indent}{}", " ".repeat(width + 2));
        let value = clean_keeping_newlines(value).replace('\n', &continuation);
        let _ = writeln!(out, "{indent}{key}{}  {value}", " ".repeat(pad));
    }
    out
}

/// `text` with every control character (escape sequences, carriage returns, newlines, C1
/// controls, ...) written as a visible escape, so it prints as exactly one inert line.
pub(crate) fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_clean(&mut out, c);
    }
    out
}

fn clean_keeping_newlines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' {
            out.push('\n');
        } else {
            push_clean(&mut out, c);
        }
    }
    out
}

fn push_clean(out: &mut String, c: char) {
    // Bidirectional overrides and isolates can reorder what a line appears to say.
    let bidi = matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if c.is_control() || bidi {
        out.extend(c.escape_default());
    } else {
        out.push(c);
    }
}

/// At most `max` characters of `text`, with `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_neutralises_terminal_control() {
        assert_eq!(clean("plain text: ok"), "plain text: ok");
        assert_eq!(clean("a\x1b[31mred"), "a\\u{1b}[31mred");
        assert_eq!(clean("line\r\nforged"), "line\\r\\nforged");
        assert_eq!(clean("csi\u{9b}2J"), "csi\\u{9b}2J");
        assert_eq!(clean("rtl\u{202e}txt"), "rtl\\u{202e}txt");
        assert_eq!(clean("héllo ✓"), "héllo ✓");
    }

    #[test]
    fn aligned_pads_keys_and_indents_continuations() {
        let text = aligned(
            &[
                ("a", "1".into()),
                ("longer", "x\ny".into()),
                ("b", "\x1b".into()),
            ],
            "  ",
        );
        assert_eq!(
            text,
            "  a       1\n  longer  x\n          y\n  b       \\u{1b}\n"
        );
    }

    #[test]
    fn failures_have_their_exit_codes_and_json() {
        let refused = Failure::refused(Some("2 event body".into()), "hash mismatch");
        assert_eq!(refused.exit_code(), EXIT_REFUSED);
        assert_eq!(
            refused.to_json(),
            json!({"result": "refused", "exit_code": 1, "error": "hash mismatch", "check": "2 event body"})
        );
        let bad = Failure::bad_input("cannot read x", "pass a file");
        assert_eq!(bad.exit_code(), EXIT_BAD_INPUT);
        let detailed = Failure::refused(None, "no").with_detail("claims", json!({"tool": "x"}));
        assert_eq!(detailed.to_json()["claims"]["tool"], "x");
        assert_eq!(bad.to_json()["hint"], "pass a file");
        assert_eq!(Failure::vault("down", "start it").exit_code(), EXIT_VAULT);
        let text = render_failure(&refused, false);
        assert_eq!(
            text,
            "REFUSED  check failed: 2 event body\n  hash mismatch\n"
        );
        assert!(render_failure(&refused, true).contains("\x1b[31;1mREFUSED\x1b[0m"));
        assert_eq!(
            render_failure(&bad, false),
            "error: cannot read x\n  hint: pass a file\n"
        );
    }

    /// What `clean` must leave no trace of.
    fn unsafe_char(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }

    proptest::proptest! {
        /// Whatever a Vault or a file sends, the printed text has no control or bidi
        /// character left, and text without them is unchanged.
        #[test]
        fn cleaned_text_is_inert(text in "\\PC*|[\\x00-\\x{9f}\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}a-z]{0,40}") {
            let cleaned = clean(&text);
            proptest::prop_assert!(!cleaned.chars().any(unsafe_char), "{:?}", cleaned);
            if !text.chars().any(unsafe_char) {
                proptest::prop_assert_eq!(cleaned, text);
            }
        }
    }

    #[test]
    fn truncate_marks_the_cut() {
        assert_eq!(truncate("abcdef", 3), "abc…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
