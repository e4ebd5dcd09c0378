//! `instrument! { items }`: guard the functions `ledgix.json` lists.
//!
//! Input: an optional manifest path (string literal, relative to `CARGO_MANIFEST_DIR`), an
//! optional `crate = "path"`, each followed by a comma, then any items. Inline modules are
//! walked recursively, `impl` blocks method by method, traits by their default bodies. Each
//! `async fn` whose name matches a rule, and each non-async one that returns
//! `Box::pin(async move { .. })` or `async move { .. }`, is expanded as
//! `#[guarded(tool = <name>, policy = <rule's>, context(<rule's>))]`. What the walk cannot see
//! into (a macro call among the items, an out-of-line `mod x;`) is an error unless marked
//! `#[ledgix(skip)]`: a glob must guard every function it matches.

use std::path::PathBuf;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{
    Attribute, Block, Expr, ImplItem, Item, LitStr, Path, Signature, Stmt, Token, TraitItem,
};

use ledgix_manifest::Manifest;

use crate::expand::{Body, GuardSpec, builds_future, guard_block, json_tokens};
use crate::guarded::default_crate;
use crate::manifest;

/// The name of the opt-out attribute: `#[ledgix(skip)]`.
const OPT_OUT: &str = "ledgix";

/// The parsed input of `instrument!`.
struct Input {
    path: Option<LitStr>,
    krate: Option<Path>,
    items: Vec<Item>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path = if input.peek(LitStr) {
            let lit = input.parse::<LitStr>()?;
            input.parse::<Token![,]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `,` after the manifest path: `instrument!(\"config/ledgix.json\", mod tools { .. })`",
                )
            })?;
            Some(lit)
        } else {
            None
        };
        let krate = if input.peek(Token![crate]) && input.peek2(Token![=]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            let lit = input.parse::<LitStr>()?;
            let path = lit.parse::<Path>().map_err(|e| {
                syn::Error::new(
                    lit.span(),
                    format!("`crate` must be a path to the ledgix crate, like `crate = \"::ledgix\"`: {e}"),
                )
            })?;
            input.parse::<Token![,]>()?;
            Some(path)
        } else {
            None
        };
        let mut items = Vec::new();
        while !input.is_empty() {
            items.push(input.parse::<Item>()?);
        }
        Ok(Input { path, krate, items })
    }
}

/// The expansion of `instrument!(input)`.
pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<Input>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let krate = match &input.krate {
        Some(path) => path.to_token_stream(),
        None => default_crate(),
    };
    let err_span = input
        .path
        .as_ref()
        .map_or_else(Span::call_site, LitStr::span);
    let loaded = load(&input);
    let (manifest, file, tracking, mut errors) = match loaded {
        Ok((manifest, file, tracking)) => (manifest, file, tracking, Vec::new()),
        Err(message) => (
            Manifest::default(),
            String::new(),
            TokenStream::new(),
            vec![syn::Error::new(err_span, message)],
        ),
    };
    let mut walker = Walker {
        manifest: &manifest,
        file: &file,
        krate,
        krate_override: input.krate.clone(),
        errors: Vec::new(),
    };
    let mut items = input.items;
    for item in &mut items {
        walker.item(item, false);
    }
    errors.append(&mut walker.errors);
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    quote! {
        #tracking
        #(#items)*
        #(#errors)*
    }
}

/// Finds, reads and parses the manifest; also returns the tokens that make Cargo rebuild when
/// it (or `LEDGIX_MANIFEST`) changes.
fn load(input: &Input) -> Result<(Manifest, String, TokenStream), String> {
    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return Err(
            "CARGO_MANIFEST_DIR is not set: `instrument!` finds ledgix.json relative to the \
             crate Cargo is building"
                .to_string(),
        );
    };
    let literal = input.path.as_ref().map(LitStr::value);
    let env = if literal.is_none() {
        std::env::var_os(ledgix_manifest::ENV_VAR)
    } else {
        None
    };
    let location = manifest::locate(&PathBuf::from(dir), literal.as_deref(), env);
    let (manifest, shown) = manifest::load(&location)?;
    let Some(path) = location.path.to_str() else {
        return Err(format!(
            "ledgix manifest path {shown} is not valid UTF-8; `instrument!` cannot track it"
        ));
    };
    let span = input
        .path
        .as_ref()
        .map_or_else(Span::call_site, LitStr::span);
    let env_var = ledgix_manifest::ENV_VAR;
    let track_env = literal.is_none().then(|| {
        quote_spanned! {span=>
            const _: ::core::option::Option<&str> = ::core::option_env!(#env_var);
        }
    });
    let tracking = quote_spanned! {span=>
        const _: &[u8] = ::core::include_bytes!(#path);
        #track_env
    };
    Ok((manifest, shown, tracking))
}

/// Walks items, guarding matching functions and stripping `#[ledgix(skip)]`.
struct Walker<'a> {
    manifest: &'a Manifest,
    file: &'a str,
    krate: TokenStream,
    /// `crate = ".."` as given: `<path>::guarded` is ledgix's own attribute too.
    krate_override: Option<Path>,
    errors: Vec<syn::Error>,
}

impl Walker<'_> {
    fn item(&mut self, item: &mut Item, skipping: bool) {
        match item {
            Item::Fn(f) => {
                let skip = self.take_opt_out(&mut f.attrs);
                if !(skipping || skip) {
                    self.function(&f.attrs, &f.sig, &mut f.block);
                }
            }
            Item::Impl(imp) => {
                let skip = skipping | self.take_opt_out(&mut imp.attrs);
                for member in &mut imp.items {
                    match member {
                        ImplItem::Fn(f) => {
                            let skip_fn = self.take_opt_out(&mut f.attrs);
                            if !(skip || skip_fn) {
                                self.function(&f.attrs, &f.sig, &mut f.block);
                            }
                        }
                        ImplItem::Macro(m) => {
                            let skip_call = self.take_opt_out(&mut m.attrs);
                            if !(skip || skip_call) {
                                self.errors.push(macro_call_error(&m.mac));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Trait(t) => {
                let skip = skipping | self.take_opt_out(&mut t.attrs);
                for member in &mut t.items {
                    match member {
                        TraitItem::Fn(f) => {
                            let skip_fn = self.take_opt_out(&mut f.attrs);
                            // A required method has nothing to guard: each impl guards its own.
                            if let (false, Some(block)) = (skip || skip_fn, &mut f.default) {
                                self.function(&f.attrs, &f.sig, block);
                            }
                        }
                        TraitItem::Macro(m) => {
                            let skip_call = self.take_opt_out(&mut m.attrs);
                            if !(skip || skip_call) {
                                self.errors.push(macro_call_error(&m.mac));
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Mod(m) => {
                let skip = skipping | self.take_opt_out(&mut m.attrs);
                match &mut m.content {
                    Some((_, items)) => {
                        for item in items {
                            self.item(item, skip);
                        }
                    }
                    None if !skip => self.errors.push(syn::Error::new_spanned(
                        &m.ident,
                        format!(
                            "`instrument!` cannot see into `mod {0};`: its items are in another \
                             file, so a function there that the manifest matches would run \
                             unguarded. Write the module inline inside `instrument!` \
                             (`mod {0} {{ .. }}`), or mark it `#[ledgix(skip)]` and use \
                             `ledgix::instrument!` inside its file",
                            m.ident
                        ),
                    )),
                    None => {}
                }
            }
            Item::Macro(m) => {
                let skip = skipping | self.take_opt_out(&mut m.attrs);
                // `macro_rules! name { .. }` defines a macro and produces no item here.
                if !skip && m.ident.is_none() {
                    self.errors.push(macro_call_error(&m.mac));
                }
            }
            _ => {}
        }
    }

    /// Removes `#[ledgix(skip)]` from `attrs`; whether it was there. Other `#[ledgix(..)]`
    /// contents are errors.
    fn take_opt_out(&mut self, attrs: &mut Vec<Attribute>) -> bool {
        let mut found = false;
        let mut kept = Vec::with_capacity(attrs.len());
        for attr in attrs.drain(..) {
            if !attr.path().is_ident(OPT_OUT) {
                kept.push(attr);
                continue;
            }
            match parse_opt_out(&attr) {
                Ok(()) => found = true,
                Err(e) => self.errors.push(e),
            }
        }
        *attrs = kept;
        found
    }

    /// Guards one function if the manifest says so.
    fn function(&mut self, attrs: &[Attribute], sig: &Signature, block: &mut Block) {
        let name = sig.ident.unraw().to_string();
        if attrs.iter().any(|a| self.is_own_guarded(a)) {
            return;
        }
        let Some(rule) = self.manifest.first_match(&name) else {
            return;
        };
        // Why it is guarded: the first matching rule, or for a synchronous function (one that
        // builds no future) the rule that names it exactly: a wildcard alone leaves it alone.
        let cause = if sig.asyncness.is_some() || builds_future(block) {
            rule
        } else {
            match self.manifest.names_exactly(&name) {
                Some(exact) => exact,
                None => return,
            }
        };
        let spec = GuardSpec {
            krate: self.krate.clone(),
            tool: LitStr::new(&name, sig.ident.span()),
            policy: rule
                .policy_id
                .as_ref()
                .map(|p| LitStr::new(p, Span::call_site())),
            context: rule
                .context
                .iter()
                .map(|(k, v)| {
                    (
                        LitStr::new(k, Span::call_site()),
                        json_tokens(&self.krate, v),
                    )
                })
                .collect(),
            skips: Vec::new(),
            skip_all: false,
            client: None,
            fields: Vec::new(),
            who: "`ledgix::instrument!`",
            note: format!(
                " (`{name}` matches rule enforce[{}] {:?} of {}; mark it `#[ledgix(skip)]` to \
                 leave it unguarded)",
                cause.index,
                cause.glob.as_str(),
                self.file
            ),
        };
        match guard_block(&spec, sig, Body::Block(block)) {
            Ok(guarded) => {
                *block = Block {
                    brace_token: block.brace_token,
                    stmts: vec![Stmt::Expr(Expr::Verbatim(guarded), None)],
                };
            }
            Err(e) => self.errors.push(e),
        }
    }
}

/// `#[ledgix(skip)]`, nothing else.
fn parse_opt_out(attr: &Attribute) -> syn::Result<()> {
    let wrong = |span| {
        syn::Error::new(
            span,
            "the only `#[ledgix(..)]` option is `#[ledgix(skip)]`, which leaves this item unguarded by `instrument!`",
        )
    };
    let syn::Meta::List(list) = &attr.meta else {
        return Err(wrong(
            attr.path()
                .get_ident()
                .map_or_else(Span::call_site, |i| i.span()),
        ));
    };
    list.parse_args_with(|input: ParseStream<'_>| {
        let ident = input.call(syn::Ident::parse_any)?;
        if ident != "skip" || !input.is_empty() {
            return Err(wrong(ident.span()));
        }
        Ok(())
    })
}

impl Walker<'_> {
    /// Whether `attr` is ledgix's own `#[guarded]`, which wins over the manifest: `guarded`,
    /// `ledgix::guarded`, `::ledgix::guarded`, or `<crate = "..">::guarded`. Another crate's
    /// `#[guarded]` does not guard anything with the Vault, so it does not count.
    fn is_own_guarded(&self, attr: &Attribute) -> bool {
        let Some(written) = plain_path(attr.path()) else {
            return false;
        };
        matches!(
            written.as_str(),
            "guarded" | "ledgix::guarded" | "::ledgix::guarded"
        ) || self
            .krate_override
            .as_ref()
            .and_then(plain_path)
            .is_some_and(|krate| written == format!("{krate}::guarded"))
    }
}

/// `a::b::c` (with a leading `::` if written), or `None` if a segment has generic arguments.
fn plain_path(path: &Path) -> Option<String> {
    let mut out = String::new();
    if path.leading_colon.is_some() {
        out.push_str("::");
    }
    for (i, segment) in path.segments.iter().enumerate() {
        if !segment.arguments.is_none() {
            return None;
        }
        if i > 0 {
            out.push_str("::");
        }
        out.push_str(&segment.ident.unraw().to_string());
    }
    Some(out)
}

/// A macro call among the items: what it expands to is out of `instrument!`'s sight.
fn macro_call_error(mac: &syn::Macro) -> syn::Error {
    let name = plain_path(&mac.path).unwrap_or_else(|| "this macro".to_string());
    let mut span_of = TokenStream::new();
    mac.path.to_tokens(&mut span_of);
    mac.bang_token.to_tokens(&mut span_of);
    syn::Error::new_spanned(
        span_of,
        format!(
            "`instrument!` cannot see the items a macro call produces, so a function `{name}!` \
             expands to would run unguarded even where the manifest matches it. Write those \
             items inside `instrument!` as plain items, or mark the call `#[ledgix(skip)]` if it \
             defines no tool function"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(manifest: &str, items: TokenStream) -> (String, Vec<String>) {
        let manifest = Manifest::parse(manifest).unwrap();
        let input: Input = syn::parse2(items).unwrap();
        let mut walker = Walker {
            manifest: &manifest,
            file: "ledgix.json",
            krate: default_crate(),
            krate_override: input.krate.clone(),
            errors: Vec::new(),
        };
        let mut items = input.items;
        for item in &mut items {
            walker.item(item, false);
        }
        let out = quote!(#(#items)*).to_string();
        (out, walker.errors.iter().map(ToString::to_string).collect())
    }

    const ALL: &str = r#"{"enforce": [{"tool": "exact_sync"}, {"tool": "stripe*", "policyId": "p", "context": {"k": 1}}, {"tool": "*"}]}"#;

    #[test]
    fn guards_async_fns_in_mods_and_impls() {
        let (out, errors) = walk(
            ALL,
            quote! {
                async fn a() -> Result<(), E> { Ok(()) }
                mod m { mod inner { pub async fn b() -> Result<(), E> { Ok(()) } } }
                impl S { async fn c(&self) -> Result<(), E> { Ok(()) } fn helper() {} }
                async fn stripe_x() -> Result<(), E> { Ok(()) }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        for tool in ["\"a\"", "\"b\"", "\"c\"", "\"stripe_x\""] {
            assert!(
                out.contains(&format!("ToolCall :: new ({tool})")),
                "{tool}: {out}"
            );
        }
        assert!(!out.contains("new (\"helper\")"), "{out}");
        assert!(out.contains(". policy (\"p\")"), "{out}");
        assert!(out.contains(". context (\"k\""), "{out}");
    }

    #[test]
    fn untouched_functions() {
        let (out, errors) = walk(
            r#"{"enforce": [{"tool": "stripe*"}]}"#,
            quote! {
                async fn lookup() -> Result<(), E> { Ok(()) }
                #[ledgix(skip)] async fn stripe_skipped() -> Result<(), E> { Ok(()) }
                #[ledgix::guarded(tool = "x")] async fn stripe_explicit() -> Result<(), E> { Ok(()) }
                #[ledgix(skip)] mod skipped { async fn stripe_in_mod() -> Result<(), E> { Ok(()) } }
                #[ledgix(skip)] impl S { async fn stripe_in_impl() -> Result<(), E> { Ok(()) } }
                fn stripe_sync() {}
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!out.contains("ToolCall"), "{out}");
        assert!(
            !out.contains("ledgix (skip)"),
            "opt-out attribute stripped: {out}"
        );
        assert!(
            out.contains("ledgix :: guarded"),
            "explicit attribute kept: {out}"
        );
    }

    #[test]
    fn underscore_names_are_guarded_like_any_other() {
        let (out, errors) = walk(
            r#"{"enforce": [{"tool": "*"}]}"#,
            quote! {
                async fn _internal() -> Result<(), E> { Ok(()) }
                async fn __dunder() -> Result<(), E> { Ok(()) }
                impl S { async fn _method(&self) -> Result<(), E> { Ok(()) } }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        for tool in ["_internal", "__dunder", "_method"] {
            assert!(
                out.contains(&format!("ToolCall :: new (\"{tool}\")")),
                "{tool}: {out}"
            );
        }
    }

    #[test]
    fn only_ledgix_own_guarded_attribute_wins() {
        let all = r#"{"enforce": [{"tool": "*"}]}"#;
        // Recognised: the function is left to its own attribute.
        for attr in [
            quote!(#[guarded]),
            quote!(#[guarded(skip(secret))]),
            quote!(#[ledgix::guarded]),
            quote!(#[::ledgix::guarded(policy = "p")]),
        ] {
            let (out, errors) = walk(all, quote!(#attr async fn f() -> Result<(), E> { Ok(()) }));
            assert!(errors.is_empty(), "{errors:?}");
            assert!(!out.contains("ToolCall"), "{attr}: {out}");
        }
        // Anything else named `guarded` guards nothing with the Vault: the manifest applies.
        for attr in [
            quote!(#[other::guarded]),
            quote!(#[tracing::guarded]),
            quote!(#[crate::ledgix::guarded]),
            quote!(#[ledgix::guarded::inner]),
            quote!(#[guarded_by]),
        ] {
            let (out, errors) = walk(all, quote!(#attr async fn f() -> Result<(), E> { Ok(()) }));
            assert!(errors.is_empty(), "{errors:?}");
            assert!(out.contains("ToolCall :: new (\"f\")"), "{attr}: {out}");
        }
        // With `crate = ".."`, that path's `guarded` is ledgix's own too.
        let (out, _) = walk(
            all,
            quote!(
                crate = "crate::reexport::ledgix",
                #[crate::reexport::ledgix::guarded]
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(!out.contains("ToolCall"), "{out}");
        let (out, _) = walk(
            all,
            quote!(
                #[crate::reexport::ledgix::guarded]
                async fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            out.contains("ToolCall"),
            "without the override it is not: {out}"
        );
    }

    #[test]
    fn what_cannot_be_seen_is_an_error_unless_skipped() {
        let (out, errors) = walk(
            ALL,
            quote! {
                tools!();
                mod elsewhere;
                impl S { methods! { a } }
                trait T { defaults!(); }
                macro_rules! defined { () => {} }
                #[ledgix(skip)] skipped_call!();
                #[ledgix(skip)] mod skipped_elsewhere;
                impl S { #[ledgix(skip)] skipped_methods!(); }
                trait U { #[ledgix(skip)] skipped_defaults!(); }
                #[ledgix(skip)] mod quiet { inside_a_skipped_mod!(); mod and_a_file; }
            },
        );
        assert_eq!(errors.len(), 4, "{errors:#?}");
        for (error, name) in
            errors
                .iter()
                .zip(["tools!", "mod elsewhere;", "methods!", "defaults!"])
        {
            assert!(error.contains(name), "{name}: {error}");
        }
        assert!(
            errors[0].contains("mark the call `#[ledgix(skip)]`"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].contains("(`mod elsewhere { .. }`), or mark it `#[ledgix(skip)]`"),
            "{}",
            errors[1]
        );
        // Still emitted, with the opt-outs stripped.
        assert!(
            out.contains("tools ! ()") && out.contains("mod skipped_elsewhere ;"),
            "{out}"
        );
        assert!(!out.contains("ledgix (skip)"), "{out}");
    }

    #[test]
    fn a_sync_function_named_exactly_is_an_error() {
        let (_, errors) = walk(
            ALL,
            quote!(
                fn exact_sync() {}
            ),
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("needs an `async fn`"), "{errors:?}");
        assert!(
            errors[0].contains("matches rule enforce[0] \"exact_sync\" of ledgix.json"),
            "{errors:?}"
        );
        assert!(errors[0].contains("#[ledgix(skip)]"), "{errors:?}");
    }

    #[test]
    fn a_sync_function_named_exactly_that_returns_a_boxed_future_is_guarded() {
        let (out, errors) = walk(
            ALL,
            quote! {
                fn exact_sync() -> Pin<Box<dyn Future<Output = Result<(), E>> + Send>> {
                    Box::pin(async move { Ok(()) })
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(out.contains("ToolCall :: new (\"exact_sync\")"), "{out}");
    }

    #[test]
    fn guards_default_bodies_of_traits() {
        let (out, errors) = walk(
            r#"{"enforce": [{"tool": "stripe*"}]}"#,
            quote! {
                trait Payments {
                    async fn stripe_required(&self) -> Result<(), E>;
                    async fn stripe_default(&self, amount: f64) -> Result<(), E> { Ok(()) }
                    fn stripe_boxed(&self) -> Pin<Box<dyn Future<Output = Result<(), E>> + Send + '_>> {
                        Box::pin(async move { Ok(()) })
                    }
                    #[ledgix(skip)]
                    async fn stripe_opted_out(&self) -> Result<(), E> { Ok(()) }
                    #[ledgix(skip)]
                    async fn stripe_required_opted_out(&self) -> Result<(), E>;
                    fn stripe_plain(&self) -> u8 { 1 }
                }
                mod m {
                    trait Nested { async fn stripe_nested(&self) -> Result<(), E> { Ok(()) } }
                }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        for tool in ["stripe_default", "stripe_boxed", "stripe_nested"] {
            assert!(
                out.contains(&format!("ToolCall :: new (\"{tool}\")")),
                "{tool}: {out}"
            );
        }
        for tool in [
            "stripe_required",
            "stripe_opted_out",
            "stripe_required_opted_out",
            "stripe_plain",
        ] {
            assert!(!out.contains(&format!("new (\"{tool}\")")), "{tool}: {out}");
        }
        assert!(out.contains("\"amount\" , & amount"), "{out}");
        assert!(
            out.contains("async fn stripe_required (& self) -> Result < () , E > ;"),
            "required method kept as is: {out}"
        );
        assert!(!out.contains("ledgix (skip)"), "opt-outs stripped: {out}");
    }

    #[test]
    fn a_skipped_trait_is_left_alone() {
        let (out, errors) = walk(
            ALL,
            quote! {
                #[ledgix(skip)]
                trait Quiet {
                    #[ledgix(skip)]
                    async fn stripe_a(&self) -> Result<(), E> { Ok(()) }
                    async fn stripe_b(&self) -> Result<(), E> { Ok(()) }
                    fn exact_sync(&self) {}
                }
                #[ledgix(skip)]
                mod quiet { trait InMod { async fn stripe_c(&self) -> Result<(), E> { Ok(()) } } }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(!out.contains("ToolCall"), "{out}");
        assert!(!out.contains("ledgix (skip)"), "opt-outs stripped: {out}");
    }

    #[test]
    fn a_wildcard_guards_a_sync_function_that_builds_its_future() {
        let (out, errors) = walk(
            r#"{"enforce": [{"tool": "stripe*", "policyId": "p"}]}"#,
            quote! {
                fn stripe_boxed(n: u64) -> Pin<Box<dyn Future<Output = Result<u64, E>> + Send>> {
                    Box::pin(async move { Ok(n) })
                }
                fn stripe_block(n: u64) -> impl Future<Output = Result<u64, E>> {
                    async move { Ok(n) }
                }
                impl S {
                    fn stripe_method(&self) -> BoxFuture<'_, Result<(), E>> {
                        Box::pin(async move { Ok(()) })
                    }
                }
                fn stripe_plain(n: u64) -> u64 { n }
                fn stripe_returns_a_call() -> BoxFuture<'static, Result<(), E>> { other().boxed() }
                #[ledgix(skip)]
                fn stripe_skipped() -> BoxFuture<'static, Result<(), E>> { Box::pin(async move { Ok(()) }) }
            },
        );
        assert!(errors.is_empty(), "{errors:?}");
        for tool in ["stripe_boxed", "stripe_block", "stripe_method"] {
            assert!(
                out.contains(&format!("ToolCall :: new (\"{tool}\")")),
                "{tool}: {out}"
            );
        }
        for tool in ["stripe_plain", "stripe_returns_a_call", "stripe_skipped"] {
            assert!(!out.contains(&format!("new (\"{tool}\")")), "{tool}: {out}");
        }
        assert_eq!(out.matches(". policy (\"p\")").count(), 3, "{out}");
    }

    #[test]
    fn a_wildcard_refuses_code_before_the_built_future() {
        let (_, errors) = walk(
            ALL,
            quote! {
                fn stripe_early(n: u64) -> Pin<Box<dyn Future<Output = Result<u64, E>> + Send>> {
                    side_effect();
                    Box::pin(async move { Ok(n) })
                }
            },
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].contains("before the Vault is asked"),
            "{errors:?}"
        );
        assert!(
            errors[0].contains("matches rule enforce[1] \"stripe*\" of ledgix.json"),
            "{errors:?}"
        );
    }

    #[test]
    fn bad_opt_out_attributes() {
        let (_, errors) = walk(
            ALL,
            quote!(
                #[ledgix(skipp)]
                async fn a() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(
            errors[0].contains("only `#[ledgix(..)]` option is `#[ledgix(skip)]`"),
            "{errors:?}"
        );
        let (_, errors) = walk(
            ALL,
            quote!(
                #[ledgix]
                fn a() {}
            ),
        );
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[test]
    fn header_forms() {
        let i: Input = syn::parse2(quote!(
            "config/ledgix.json",
            crate = "::x::ledgix",
            fn a() {}
        ))
        .unwrap();
        assert_eq!(i.path.unwrap().value(), "config/ledgix.json");
        assert!(i.krate.is_some());
        assert_eq!(i.items.len(), 1);
        let i: Input = syn::parse2(quote!(
            fn a() {}
            fn b() {}
        ))
        .unwrap();
        assert!(i.path.is_none() && i.krate.is_none() && i.items.len() == 2);
        assert!(syn::parse2::<Input>(quote!("m.json" fn a() {})).is_err());
    }
}
