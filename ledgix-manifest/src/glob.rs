//! Tool-name globs, with the semantics of Python's `fnmatch.fnmatchcase` (what the official
//! Python SDK uses): `*` any run of characters, `?` one character, `[abc]` / `[a-z]` one of,
//! `[!abc]` none of; a `[` without a closing `]` is a literal. Case-sensitive. Every string is
//! a valid pattern; matching takes at most (pattern length × name length) steps, with no
//! recursion.

use std::fmt;

/// One element of a parsed pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Token {
    /// Whether this single-character token accepts `c` (`AnyRun` is handled by the matcher).
    fn accepts(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::AnyOne => true,
            Token::AnyRun => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated
            }
        }
    }
}

/// A compiled tool-name glob (`stripe_*`, `wire_?`, `report_[0-9]`, `[!_]*`).
///
/// ```
/// use ledgix_manifest::Glob;
///
/// let glob = Glob::new("stripe_[!t]*");
/// assert!(glob.matches("stripe_refund"));
/// assert!(!glob.matches("stripe_test"));
/// assert!(!Glob::new("Stripe*").matches("stripe"), "case-sensitive");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern`. Every string is a valid pattern (an unclosed `[` is a literal).
    pub fn new(pattern: &str) -> Glob {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = Vec::with_capacity(chars.len());
        let mut i = 0;
        while let Some(&c) = chars.get(i) {
            i += 1;
            match c {
                '*' => {
                    // Consecutive stars mean the same as one.
                    if tokens.last() != Some(&Token::AnyRun) {
                        tokens.push(Token::AnyRun);
                    }
                }
                '?' => tokens.push(Token::AnyOne),
                '[' => match parse_class(&chars, i) {
                    Some((token, next)) => {
                        tokens.push(token);
                        i = next;
                    }
                    None => tokens.push(Token::Literal('[')),
                },
                c => tokens.push(Token::Literal(c)),
            }
        }
        Glob {
            pattern: pattern.to_string(),
            tokens,
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// True when the pattern has no wildcard: it names exactly one tool.
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Literal(_)))
    }

    /// Whether `name` matches the whole pattern.
    pub fn matches(&self, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        let (mut p, mut n) = (0usize, 0usize);
        // Where the last `*` was, and how much of the name it has swallowed so far.
        let mut backtrack: Option<(usize, usize)> = None;
        while let Some(&c) = name.get(n) {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    backtrack = Some((p, n));
                    p += 1;
                    continue;
                }
                Some(t) if t.accepts(c) => {
                    p += 1;
                    n += 1;
                    continue;
                }
                _ => {}
            }
            match backtrack {
                Some((star, swallowed)) => {
                    p = star + 1;
                    n = swallowed + 1;
                    backtrack = Some((star, swallowed + 1));
                }
                None => return false,
            }
        }
        while self.tokens.get(p) == Some(&Token::AnyRun) {
            p += 1;
        }
        p == self.tokens.len()
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// Parses a class whose `[` is just before `start`; `None` when it is not closed (then the `[`
/// is a literal, as in `fnmatch`). Returns the class and the index after its `]`.
fn parse_class(chars: &[char], start: usize) -> Option<(Token, usize)> {
    let mut j = start;
    let negated = chars.get(j) == Some(&'!');
    if negated {
        j += 1;
    }
    let body_start = j;
    // A `]` right after `[` or `[!` belongs to the class.
    if chars.get(j) == Some(&']') {
        j += 1;
    }
    while chars.get(j)? != &']' {
        j += 1;
    }
    let body = chars.get(body_start..j)?;
    let mut ranges = Vec::new();
    let mut k = 0;
    while let Some(&lo) = body.get(k) {
        match (body.get(k + 1), body.get(k + 2)) {
            (Some('-'), Some(&hi)) => {
                // `z-a` is an empty range, as in fnmatch.
                if lo <= hi {
                    ranges.push((lo, hi));
                }
                k += 3;
            }
            _ => {
                ranges.push((lo, lo));
                k += 1;
            }
        }
    }
    Some((Token::Class { negated, ranges }, j + 1))
}

#[cfg(test)]
mod tests {
    use super::Glob;

    fn m(pattern: &str, name: &str) -> bool {
        Glob::new(pattern).matches(name)
    }

    #[test]
    fn star_matches_any_run_including_empty() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("stripe*", "stripe"));
        assert!(m("stripe*", "stripe_refund"));
        assert!(m("*_refund", "stripe_refund"));
        assert!(m("s*e*d", "stripe_refund"));
        assert!(m("**", "x"));
        assert!(!m("stripe*", "wire_stripe"));
        assert!(!m("*_refund", "stripe_refunds"));
    }

    #[test]
    fn question_mark_is_exactly_one_char() {
        assert!(m("wire_?", "wire_a"));
        assert!(!m("wire_?", "wire_"));
        assert!(!m("wire_?", "wire_ab"));
        assert!(m("??", "éa"));
    }

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(m("create_stripe_payment", "create_stripe_payment"));
        assert!(!m("create_stripe_payment", "create_stripe_payments"));
        assert!(!m("Stripe", "stripe"), "case-sensitive");
        assert!(Glob::new("create_stripe_payment").is_literal());
        assert!(!Glob::new("stripe*").is_literal());
        assert!(!Glob::new("wire_?").is_literal());
        assert!(!Glob::new("a[bc]").is_literal());
        assert!(Glob::new("a[bc").is_literal(), "unclosed `[` is a literal");
    }

    #[test]
    fn classes_like_fnmatch() {
        assert!(m("tool_[abc]", "tool_b"));
        assert!(!m("tool_[abc]", "tool_d"));
        assert!(m("tool_[a-c]x", "tool_bx"));
        assert!(!m("tool_[!a-c]", "tool_b"));
        assert!(m("tool_[!a-c]", "tool_z"));
        assert!(m("[]]", "]"));
        assert!(m("[!]]", "a"));
        assert!(m("[a-]", "-"));
        assert!(!m("[z-a]", "m"), "reversed ranges are empty");
        assert!(m("a[bc", "a[bc"), "unclosed class is literal");
    }

    #[test]
    fn backtracking_is_complete() {
        assert!(m("*a*a*a", "aaaa"));
        assert!(!m("*a*a*a*b", "aaaa"));
        assert!(m("a*b*c", "a_b_b_c"));
        assert!(m("*?", "x"));
        assert!(!m("*?", ""));
    }

    /// Reference matcher: straightforward recursion over the same semantics for `*` and `?`.
    fn reference(p: &[char], n: &[char]) -> bool {
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| reference(&p[1..], &n[k..])),
            Some('?') => !n.is_empty() && reference(&p[1..], &n[1..]),
            Some(c) => n.first() == Some(c) && reference(&p[1..], &n[1..]),
        }
    }

    #[test]
    fn agrees_with_a_reference_on_small_alphabets() {
        // Every pattern over {a, *, ?} up to length 4 against every name over {a, b} up to 4.
        let mut patterns = vec![String::new()];
        for _ in 0..4 {
            let next: Vec<String> = patterns
                .iter()
                .flat_map(|p| ['a', '*', '?'].map(|c| format!("{p}{c}")))
                .collect();
            patterns.extend(next);
        }
        patterns.sort();
        patterns.dedup();
        let mut names = vec![String::new()];
        for _ in 0..4 {
            let next: Vec<String> = names
                .iter()
                .flat_map(|n| ['a', 'b'].map(|c| format!("{n}{c}")))
                .collect();
            names.extend(next);
        }
        names.sort();
        names.dedup();
        for p in &patterns {
            let pc: Vec<char> = p.chars().collect();
            for n in &names {
                let nc: Vec<char> = n.chars().collect();
                assert_eq!(m(p, n), reference(&pc, &nc), "pattern {p:?} name {n:?}");
            }
        }
    }
}
