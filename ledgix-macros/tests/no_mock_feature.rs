//! `ledgix::mock` without the `mock` feature is an error that names the feature (trybuild).
//!
//! Here, not in the facade's tests: this crate's dev-dependency on `ledgix` has no features, so
//! trybuild's scratch crate sees the facade as a user who forgot `features = ["mock"]` does.
//! Regenerate with `TRYBUILD=overwrite cargo test -p ledgix-macros --test no_mock_feature`.

#[test]
fn mock_without_the_feature_names_the_feature() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/no_mock_feature.rs");
}
