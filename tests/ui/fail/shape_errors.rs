//! Functions `#[ledgix::guarded]` cannot guard: each error says what to write instead.
use std::future::Future;
use std::pin::Pin;

// not async
#[ledgix::guarded]
fn refund(amount: u64) -> Result<u64, ledgix::Error> {
    Ok(amount)
}

// no return type
#[ledgix::guarded]
async fn notify(user: String) {
    let _ = user;
}

// a returned future with code before it (that code would run before the Vault is asked)
#[ledgix::guarded]
fn boxed(n: u64) -> Pin<Box<dyn Future<Output = Result<u64, ledgix::Error>> + Send>> {
    println!("side effect");
    Box::pin(async move { Ok(n) })
}

// not a function
#[ledgix::guarded]
struct Tool;

trait Tools {
    // a declaration has no body to guard
    #[ledgix::guarded]
    async fn lookup(&self, id: u64) -> Result<u64, ledgix::Error>;
}

fn main() {}
