//! Mistakes in the attribution keys of `#[ledgix::guarded(..)]`, each reported at the key or
//! value.

#[ledgix::guarded(purpose = billing)]
async fn purpose_not_a_literal(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(data_categories = ["email"])]
async fn categories_not_in_parentheses(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(data_categories())]
async fn categories_empty(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(data_categories("email", "email"))]
async fn category_twice(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(destination(host = "api.stripe.com"))]
async fn destination_unknown_part(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(destination(provider = "stripe", provider = "adyen"))]
async fn destination_part_twice(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(dataset_ref = "", purpose = "billing")]
async fn dataset_ref_empty(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

#[ledgix::guarded(processing_register_ref = "a", processing_register_ref = "b")]
async fn register_twice(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

fn main() {}
