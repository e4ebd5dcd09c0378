//! With no path literal, `instrument!` reads the manifest named by LEDGIX_MANIFEST (tests/ui.rs
//! sets it to tests/manifests/env.json) instead of ledgix.json: the error names that file.

ledgix::instrument! {
    mod tools {
        pub fn from_env_manifest() {}
    }
}

fn main() {}
