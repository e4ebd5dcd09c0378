//! `Glob` agrees with Python's `fnmatch.fnmatchcase` (the official Python SDK's matcher) on
//! every case of `fnmatch_cases.json`, written by `scripts/fnmatch_cases.py` from Python itself.

use ledgix_manifest::Glob;
use serde_json::Value;

#[test]
fn agrees_with_python_fnmatch() {
    let doc: Value =
        serde_json::from_str(include_str!("fnmatch_cases.json")).expect("the table is JSON");
    let rows = doc["cases"].as_array().expect("cases");
    let (mut checked, mut matching) = (0, 0);
    let mut wrong = Vec::new();
    for row in rows {
        let pattern = row[0].as_str().expect("pattern");
        let glob = Glob::new(pattern);
        for (column, expected) in [(1, true), (2, false)] {
            for name in row[column].as_array().expect("names") {
                let name = name.as_str().expect("name");
                checked += 1;
                matching += usize::from(expected);
                if glob.matches(name) != expected {
                    wrong.push(format!("{pattern:?} vs {name:?}: Python says {expected}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    // The table is what it claims to be, not an empty file that passes.
    assert!(
        checked >= 9000 && matching >= 1000,
        "{checked} cases, {matching} matching"
    );
}
