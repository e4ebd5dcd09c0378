//! Compile-time behaviour of `#[ledgix::guarded]` and `ledgix::instrument!` (trybuild): every
//! promised mistake is an error that says what to write. The `pass` cases
//! (`tests/ui/pass/*.rs`, every supported shape) are the `ui_pass` test target: they compile
//! with the other tests, which keeps trybuild to `cargo check`.
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test --test ui`, then read them.

use std::path::Path;

#[test]
fn ui() {
    let env_manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/env.json");
    // SAFETY: this binary has this one test, and it sets the variable before any thread
    // (trybuild's cargo runs included) starts. The variable only matters to instrument!
    // calls without a path literal, which only tests/ui/env/ has.
    unsafe { std::env::set_var("LEDGIX_MANIFEST", &env_manifest) };
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.compile_fail("tests/ui/env/*.rs");
    if default_target_dir() {
        // Its manifest paths are relative to trybuild's project, `target/tests/trybuild/ledgix`.
        t.compile_fail("tests/ui/instrument/*.rs");
    } else {
        eprintln!(
            "note: CARGO_TARGET_DIR is not <workspace>/target; tests/ui/instrument/*.rs locate \
             their manifests relative to it and were not run"
        );
    }
}

/// Whether the target directory is `<workspace>/target` (trybuild builds in
/// `<target>/tests/trybuild/<crate>`).
fn default_target_dir() -> bool {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    match (
        tmp.parent().map(Path::canonicalize),
        expected.canonicalize(),
    ) {
        (Some(Ok(actual)), Ok(expected)) => actual == expected,
        _ => false,
    }
}
