//! Parameters `#[ledgix::guarded]` cannot send as they are.

struct Card {
    number: String,
}

#[ledgix::guarded(skip(card_cvc))]
async fn skip_of_a_missing_param(amount: u64, card: String) -> Result<u64, ledgix::Error> {
    let _ = card;
    Ok(amount)
}

struct Service;

impl Service {
    #[ledgix::guarded(skip(self))]
    async fn skip_self(&self, id: u64) -> Result<u64, ledgix::Error> {
        Ok(id)
    }
}

#[ledgix::guarded]
async fn destructuring(
    (from, to): (String, String),
    Card { number }: Card,
) -> Result<String, ledgix::Error> {
    Ok(format!("{from}{to}{number}"))
}

#[async_trait::async_trait]
trait Transfer {
    async fn transfer(&self, pair: (String, String)) -> Result<String, ledgix::Error>;
}

#[async_trait::async_trait]
impl Transfer for Service {
    #[ledgix::guarded]
    async fn transfer(&self, (from, to): (String, String)) -> Result<String, ledgix::Error> {
        Ok(format!("{from}{to}"))
    }
}

fn main() {}
