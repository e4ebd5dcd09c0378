// A test that uses the mock Vault, in a crate whose `ledgix` lacks `features = ["mock"]`.
use ledgix::mock::MockVault;

fn main() {
    let _ = MockVault::builder();
}
