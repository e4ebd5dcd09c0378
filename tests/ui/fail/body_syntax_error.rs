//! A syntax error inside a correct `async fn` is rustc's to report, once: the macro keeps the
//! body as tokens and adds no error of its own (no "applies to an `async fn`").

#[ledgix::guarded]
async fn refund(amount: u64) -> Result<u64, ledgix::Error> {
    let doubled = amount * ;
    Ok(doubled)
}

struct Shop;

impl Shop {
    #[ledgix::guarded(policy = "payments")]
    async fn charge(&self, amount: u64) -> Result<u64, ledgix::Error> {
        if amount > 10 {
            return Ok(amount)
        } else {
            Ok(amount +)
        }
    }
}

fn main() {}
