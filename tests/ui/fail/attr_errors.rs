//! Mistakes in `#[ledgix::guarded(..)]` arguments, each reported at the key or value.

#[ledgix::guarded(tol = "refund")]
async fn unknown_key(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(tool = "refund", tool = "refund2")]
async fn duplicate_key(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(tool = refund)]
async fn tool_not_a_literal(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(policy = 42)]
async fn policy_not_a_literal(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(crate = "not a path")]
async fn crate_not_a_path(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(skip_all, skip(amount))]
async fn skip_and_skip_all(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(context(policy_id = "p"))]
async fn policy_in_context(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

fn main() {}
