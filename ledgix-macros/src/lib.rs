//! Procedural macros of the Ledgix SDK: [`#[guarded]`](macro@guarded) and [`instrument!`].
//!
//! Use them through the `ledgix` crate (`#[ledgix::guarded]`, `ledgix::instrument!`): the code
//! they generate calls `::ledgix::__private`, which only the `ledgix` facade provides.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attr;
mod expand;
mod guarded;
mod instrument;
mod manifest;

use proc_macro::TokenStream;

/// Makes an async tool function ask the Ledgix Vault before its body runs.
///
/// The body runs only when the Vault approved the call and its A-JWT verified (signature,
/// claims, and binding to this tool and these arguments); inside it,
/// `ledgix::current_token()` is that token. Every other outcome (denied, review timeout,
/// Vault unreachable, bad token...) returns `Err(E::from(ledgix::Error))` without polling the
/// body at all.
///
/// ```no_run
/// #[derive(Debug, thiserror::Error)]
/// enum PaymentError {
///     #[error(transparent)]
///     Ledgix(#[from] ledgix::Error),
///     #[error("card declined")]
///     Declined,
/// }
///
/// #[ledgix::guarded(tool = "create_stripe_payment", policy = "payments-prod", skip(card_cvc))]
/// async fn create_stripe_payment(
///     amount: f64,
///     customer_id: String,
///     card_cvc: String,
/// ) -> Result<String, PaymentError> {
///     // runs only once the Vault approved {"amount": .., "customer_id": ..}
///     let _token = ledgix::current_token();
///     Ok(format!("pay_{customer_id}"))
/// }
/// # fn main() {}
/// ```
///
/// # Arguments
///
/// | key | meaning |
/// |---|---|
/// | `tool = "name"` | the tool name sent to the Vault; default: the function's name |
/// | `policy = "id"` | the policy, sent as `context.policy_id` |
/// | `skip(a, b)` | leave these parameters out of `tool_args` (secrets, handles, non-`Serialize` values) |
/// | `skip_all` | send no parameter |
/// | `context(key = value, ..)` | extra context for the Vault; keys are identifiers or string literals, values any expression whose type is `impl Into<serde_json::Value>`, evaluated before the call |
/// | `client = <expr>` | the `ledgix::LedgixClient` to ask (an expression evaluated in the function, e.g. `self.ledgix.clone()`); a task-local client from `ledgix::with_client` or `MockVault::scope` still wins |
/// | `crate = "path"` | where the `ledgix` crate is, when it is re-exported or renamed |
/// | `purpose = ".."` | the purpose of processing, sent as `purpose` |
/// | `data_categories("email", ..)` | the personal-data categories the call touches, sent as `data_categories` |
/// | `processing_register_ref = ".."` | the processing register the call anchors to |
/// | `dataset_ref = ".."` | the dataset the call reads or writes |
/// | `destination(uri = "..", provider = "..", account_ref = "..")` | the counterparty (any of the three parts); parts left out are filled by the client's counterparty hint |
///
/// The attribution keys take string literals: constants of the function. Per-call values
/// (a principal, a parent token) are set on `ledgix::ToolCall` or the client
/// (`ConfigBuilder::principal_id`, `LedgixClient::delegate`).
///
/// Without `client`, the call asks the task-local client, else the one given to
/// `ledgix::configure`, else one built from the environment (`Config::from_env`).
///
/// # What is sent
///
/// Every parameter goes into `tool_args` under its name, serialized with `serde` *before* the
/// request, so the body runs with exactly the values that were approved. `self`, parameters
/// whose name starts with `_`, and skipped ones are not sent.
///
/// # Supported functions
///
/// Free `async fn`s; methods taking `&self`, `&mut self` or `self`; generic functions
/// (`T: Serialize`); `impl Trait` and reference parameters; native `async fn` in trait impls
/// (and trait methods with a default body); methods of `#[async_trait]` impls (put
/// `#[ledgix::guarded]` on the method, under the impl's `#[async_trait]`); functions that
/// return `Box::pin(async move { .. })` or `async move { .. }` themselves (hand-boxed
/// recursion). The future stays `Send` whenever the body's is. Guarded calls nest: the inner
/// clearance shadows the outer one, which is back once the inner call returns.
///
/// # Compile errors
///
/// Each of these is a compiler error that says what to write instead, at the offending
/// tokens (the function itself is still emitted, unguarded, so the rest of the crate keeps
/// type-checking):
///
/// - a function that is not `async` (at `fn`);
/// - no return type, or one that is not `Result<T, E>` (at the return type);
/// - an error type `E` without `From<ledgix::Error>` (at the return type);
/// - a sent parameter whose type is not `serde::Serialize` (at that parameter's type);
/// - a destructuring pattern parameter (`(a, b): (u8, u8)`) while not `skip_all`;
/// - `skip(x)` where there is no parameter `x`; unknown or duplicate keys (at the key);
/// - `tool`, `policy` or `crate` not given as a string literal.
///
/// The body of an `async fn` is not parsed (it goes through as written, in a block of its own), so a
/// syntax error in it is rustc's own error, reported once.
#[proc_macro_attribute]
pub fn guarded(attr: TokenStream, item: TokenStream) -> TokenStream {
    guarded::expand(attr.into(), item.into()).into()
}

/// Guards the tool functions that `ledgix.json` lists, read at compile time.
///
/// ```no_run
/// ledgix::instrument! {
///     pub mod tools {
///         // `stripe*` in ledgix.json: guarded with policy "financial-high-risk"
///         pub async fn stripe_refund(amount: f64, reason: String) -> Result<String, ledgix::Error> {
///             Ok(format!("refunded {amount}: {reason}"))
///         }
///
///         // opted out: never guarded
///         #[ledgix(skip)]
///         pub async fn stripe_lookup(id: String) -> Result<String, ledgix::Error> {
///             Ok(id)
///         }
///
///         // synchronous (not async, builds no future), not named exactly by a rule: left alone
///         pub fn stripe_format(amount: f64) -> String {
///             format!("${amount:.2}")
///         }
///     }
/// }
/// # fn main() {}
/// ```
///
/// # The manifest
///
/// The same file the official TypeScript and Python SDKs read:
///
/// ```json
/// {"enforce": [
///     {"tool": "create_stripe_payment", "policyId": "payments-prod", "context": {"risk_level": "high"}},
///     {"tool": "stripe*", "policyId": "financial-high-risk"},
///     {"tool": "wire_*", "policy_id": "treasury-dual-control"},
///     {"tool": "*"}
/// ]}
/// ```
///
/// `tool` is a glob matched against function names with Python `fnmatch` semantics (`*`, `?`,
/// `[abc]`, `[!abc]`), rules are tried in order and the first match wins: the same parser and
/// matcher as `ledgix::Manifest` at run time and the mock Vault's rules. `policyId` and
/// `policy_id` are both accepted; `context` is any JSON object, sent as is.
///
/// Which file: a leading string literal, relative to `CARGO_MANIFEST_DIR`
/// (`instrument!("config/ledgix.json", impl Tools { .. })`); else the `LEDGIX_MANIFEST`
/// environment variable (also relative to `CARGO_MANIFEST_DIR`); else `ledgix.json` in
/// `CARGO_MANIFEST_DIR`. Editing the file, or setting `LEDGIX_MANIFEST`, rebuilds the crate.
/// A `crate = "path"` after the path (or first) sets where the `ledgix` crate is.
///
/// # What gets guarded
///
/// Items may be anything; the macro looks into bare functions, inline `mod` blocks
/// (recursively), `impl` blocks (inherent or trait, including `#[async_trait]` ones) and
/// `trait` declarations (their methods' default bodies). Each `async fn` whose name matches a
/// rule, whatever the name (`_`-prefixed ones too), is guarded as if by
/// `#[ledgix::guarded(tool = "<fn name>", policy = "<rule's policy>", context(<rule's context>))]`,
/// so every parameter except `self` and `_`-prefixed ones is sent. So is each non-async
/// function a rule matches, wildcard or not, whose body is `Box::pin(async move { .. })` or
/// `async move { .. }` (hand-boxed recursion, desugared `#[async_trait]`): it returns a future,
/// so it is guarded rather than silently left out (code before that future is an error, as
/// with `#[guarded]`). Left untouched:
///
/// - functions no rule matches;
/// - anything marked `#[ledgix(skip)]` (a function, a method, an `impl` block, a `trait`, a
///   `mod`, or a macro call); the attribute is only understood inside `instrument!`, which
///   removes it;
/// - functions that carry ledgix's own `#[guarded(..)]` attribute, written `guarded`,
///   `ledgix::guarded`, `::ledgix::guarded` or `<crate path>::guarded` with `crate = ".."`
///   (it wins; use it to `skip` secret parameters). Another attribute that happens to be named
///   `guarded` does not count: the manifest still guards that function;
/// - trait methods without a default body (nothing runs there: each `impl` is guarded where
///   it is written, when that is inside `instrument!`);
/// - synchronous functions (non-async, returning no such future) matched only by a wildcard.
///   A rule that names one exactly (no wildcard) is a compile error.
///
/// What the macro cannot see is a compile error rather than a function left unguarded: a
/// macro call among the items (`tools!();`, also inside an `impl` or a `trait`), whose
/// expansion could define tool functions, and an out-of-line `mod name;`, whose items are in
/// another file. Write those items inside the block, or mark the call or the `mod`
/// `#[ledgix(skip)]` (and use `instrument!` inside that module's file). `macro_rules!`
/// definitions are fine.
///
/// # Compile errors
///
/// A missing manifest (naming the path it tried), malformed JSON, a rule with a wrong type
/// (naming the rule, `enforce[i]`, and the field) and a near-miss field name such as
/// `policyID`, each at `file:line:column` of the manifest; what the macro cannot see (above);
/// and every `#[guarded]` error for the functions it guards.
#[proc_macro]
pub fn instrument(input: TokenStream) -> TokenStream {
    instrument::expand(input.into()).into()
}
