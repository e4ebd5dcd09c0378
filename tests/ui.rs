//! Compile-time behaviour of `#[ledgix::guarded]` and `ledgix::instrument!` (trybuild): every
//! promised mistake is an error that says what to write. The `pass` cases
//! (`tests/ui/pass/*.rs`, every supported shape) are the `ui_pass` test target: they compile
//! with the other tests, which keeps trybuild to `cargo check`.
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test --test ui`, then read them.
//!
//! The `instrument!` cases read manifests relative to `CARGO_MANIFEST_DIR`, which for trybuild
//! is its scratch crate, `<target dir>/tests/trybuild/ledgix/`, wherever the target directory
//! is (`CARGO_TARGET_DIR` included). So the manifests they use are copied there first, under
//! the same names as in this repository, and the cases name them as a user would
//! (`"tests/manifests/malformed.json"`). The macro shows paths relative to the directory rustc
//! runs in, so the expected messages are the same in every environment.

use std::path::{Path, PathBuf};

#[test]
fn ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let env_manifest = root.join("tests/manifests/env.json");
    // SAFETY: this binary has this one test, and it sets the variable before any thread
    // (trybuild's cargo runs included) starts. The variable only matters to instrument!
    // calls without a path literal, which only tests/ui/env/ has.
    #[allow(unsafe_code)] // `set_var` is unsafe in edition 2024; the workspace denies unsafe
    // SAFETY: as above, no other thread runs yet.
    unsafe {
        std::env::set_var("LEDGIX_MANIFEST", &env_manifest)
    };
    copy_manifests(root, &trybuild_crate_dir());
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.compile_fail("tests/ui/env/*.rs");
    t.compile_fail("tests/ui/instrument/*.rs");
}

/// The crate trybuild builds the cases in: `<target dir>/tests/trybuild/<this package>/`
/// (`CARGO_TARGET_TMPDIR` is `<target dir>/tmp`).
fn trybuild_crate_dir() -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is inside the target directory");
    target
        .join("tests")
        .join("trybuild")
        .join(env!("CARGO_PKG_NAME"))
}

/// Copies `ledgix.json` and `tests/manifests/*.json` into `dir`, at the same relative paths.
fn copy_manifests(root: &Path, dir: &Path) {
    let manifests = dir.join("tests/manifests");
    std::fs::create_dir_all(&manifests).expect("create the trybuild crate's manifest directory");
    std::fs::copy(root.join("ledgix.json"), dir.join("ledgix.json")).expect("copy ledgix.json");
    let mut copied = 0;
    for entry in std::fs::read_dir(root.join("tests/manifests")).expect("tests/manifests") {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, manifests.join(name)).expect("copy a test manifest");
            copied += 1;
        }
    }
    assert!(copied >= 3, "tests/manifests holds the UI cases' manifests");
}
