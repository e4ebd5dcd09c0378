//! Return types a guarded function cannot have: reported at the return type.

#[derive(Debug)]
struct MyError;

#[ledgix::guarded]
async fn not_a_result(amount: u64) -> u64 {
    amount
}

#[ledgix::guarded]
async fn error_without_from(amount: u64) -> Result<u64, MyError> {
    Ok(amount)
}

#[async_trait::async_trait]
trait Tool {
    async fn call(&self, amount: u64) -> Result<u64, MyError>;
}

struct Refund;

#[async_trait::async_trait]
impl Tool for Refund {
    #[ledgix::guarded]
    async fn call(&self, amount: u64) -> Result<u64, MyError> {
        Ok(amount)
    }
}

fn main() {}
