//! What `instrument!` cannot look into is an error, so a function the manifest matches never
//! runs unguarded because it was out of sight: a macro call among the items (at module level,
//! in an `impl`, in a `trait`) and an out-of-line `mod x;`. Marked `#[ledgix(skip)]`, each is
//! accepted; a `macro_rules!` definition produces no item and is accepted as is.

macro_rules! trait_tool {
    ($name:ident) => {
        async fn $name(&self, amount: u64) -> Result<u64, ledgix::Error> {
            Ok(amount)
        }
    };
}

macro_rules! make_tool {
    ($name:ident) => {
        pub async fn $name(amount: u64) -> Result<u64, ledgix::Error> {
            Ok(amount)
        }
    };
}

ledgix::instrument!(
    "ledgix.json",
    mod tools {
        // its items are in tools/unseen.rs
        pub mod unseen;

        #[ledgix(skip)]
        #[path = "unseen.rs"]
        pub mod unseen_but_skipped;

        make_tool!(stripe_refund);

        #[ledgix(skip)]
        make_tool!(stripe_lookup);

        macro_rules! defined_here {
            () => {};
        }
        // a call, even of a macro defined right here, is out of sight too
        defined_here!();

        pub struct Agent;

        impl Agent {
            make_tool!(stripe_payout);

            #[ledgix(skip)]
            make_tool!(stripe_quote);
        }

        pub trait Tools {
            trait_tool!(wire_transfer);
        }

        #[ledgix(skip)]
        mod skipped {
            make_tool!(stripe_anything);
        }
    }
);

fn main() {}
