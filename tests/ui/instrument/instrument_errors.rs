//! `instrument!` errors name the manifest file, its line and column. Paths are relative to
//! CARGO_MANIFEST_DIR, trybuild's scratch crate, where tests/ui.rs copies `ledgix.json` and
//! `tests/manifests/*.json`: the paths below are the ones a user would write in this repository.

// missing file: the message names the path it tried
ledgix::instrument!(
    "tests/manifests/does_not_exist.json",
    mod missing {
        pub async fn stripe_refund(amount: u64) -> Result<u64, ledgix::Error> {
            Ok(amount)
        }
    }
);

// malformed JSON: file:line:column
ledgix::instrument!(
    "tests/manifests/malformed.json",
    mod malformed {
        pub async fn stripe_refund(amount: u64) -> Result<u64, ledgix::Error> {
            Ok(amount)
        }
    }
);

// a wrong type: which rule, which field
ledgix::instrument!(
    "tests/manifests/wrong_type.json",
    mod wrong_type {
        pub async fn wire_transfer(amount: u64) -> Result<u64, ledgix::Error> {
            Ok(amount)
        }
    }
);

// the repository's ledgix.json names `create_stripe_payment` exactly: it must be async
ledgix::instrument!(
    "ledgix.json",
    mod named {
        pub fn create_stripe_payment(amount: u64) -> u64 {
            amount
        }

        // a wildcard (`stripe*`, `*`) catching a sync helper is fine
        pub fn stripe_format(amount: u64) -> String {
            amount.to_string()
        }

        // a wildcard catching a function that builds its future guards it, so code before
        // the future (it would run before the Vault is asked) is an error
        pub fn stripe_early(
            amount: u64,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<u64, ledgix::Error>> + Send>> {
            let doubled = amount * 2;
            Box::pin(async move { Ok(doubled) })
        }

        // the opt-out attribute has one form
        #[ledgix(skip_it)]
        pub async fn stripe_lookup(id: u64) -> Result<u64, ledgix::Error> {
            Ok(id)
        }

        // an async fn a rule matches must be guardable
        pub async fn notify(user: String) {
            let _ = user;
        }
    }
);

fn main() {}
