//! Procedural macros of the Ledgix SDK: `#[guarded]` and `instrument!` (placeholder).

use proc_macro::TokenStream;

/// Guards an async tool function (placeholder).
#[proc_macro_attribute]
pub fn guarded(_attr: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Guards the tools listed in `ledgix.json` (placeholder).
#[proc_macro]
pub fn instrument(item: TokenStream) -> TokenStream {
    item
}
