// An out-of-line module of tests/ui/instrument/instrument_unseen.rs: `instrument!` only sees
// `mod unseen;`, never this function.
pub async fn stripe_hidden(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}
