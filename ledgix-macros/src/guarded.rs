//! `#[guarded(..)]`: parse the arguments and the function, then expand.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::token::Brace;
use syn::{Attribute, LitStr, Signature, TraitItemFn, Visibility, braced};

use crate::attr::GuardedArgs;
use crate::expand::{Body, GuardSpec, guard_block};

/// The expansion of `#[guarded(attr)] item`. On any error: the original item, unchanged, plus
/// the error (so the rest of the crate still type-checks and rust-analyzer keeps working).
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(attr, item.clone()) {
        Ok(tokens) => tokens,
        Err(e) => with_error(item, e),
    }
}

/// `item` followed by `compile_error!`s.
pub(crate) fn with_error(item: TokenStream, e: syn::Error) -> TokenStream {
    let errors = e.to_compile_error();
    quote!(#item #errors)
}

fn try_expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args = syn::parse2::<GuardedArgs>(attr)?;
    let f = parse_fn(item)?;
    let spec = spec_from_args(args, &f.sig);
    let body = Body::Tokens {
        brace: f.brace,
        stmts: f.stmts,
    };
    let body = guard_block(&spec, &f.sig, body)?;
    let (outer_attrs, vis, sig, inner_attrs) = (&f.outer_attrs, &f.vis, &f.sig, &f.inner_attrs);
    let mut out = quote!(#(#outer_attrs)* #vis #sig);
    f.brace.surround(&mut out, |tokens| {
        tokens.extend(quote!(#(#inner_attrs)* #body));
    });
    Ok(out)
}

/// A function whose signature parsed and whose body is kept as tokens (tracing-attributes'
/// `MaybeItemFn`): a syntax error inside the body is left for rustc to report, once.
struct MaybeItemFn {
    outer_attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    brace: Brace,
    inner_attrs: Vec<Attribute>,
    stmts: TokenStream,
}

impl Parse for MaybeItemFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let outer_attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        let content;
        let brace = braced!(content in input);
        let inner_attrs = content.call(Attribute::parse_inner)?;
        let stmts = content.parse()?;
        Ok(MaybeItemFn {
            outer_attrs,
            vis,
            sig,
            brace,
            inner_attrs,
            stmts,
        })
    }
}

/// Resolves the attribute's arguments against the function.
pub(crate) fn spec_from_args(args: GuardedArgs, sig: &Signature) -> GuardSpec {
    let tool = args
        .tool
        .unwrap_or_else(|| LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span()));
    let krate = match args.krate {
        Some(path) => path.into_token_stream(),
        None => default_crate(),
    };
    GuardSpec {
        krate,
        tool,
        policy: args.policy,
        context: args
            .context
            .into_iter()
            .map(|e| {
                let value = e.value.into_token_stream();
                (LitStr::new(&e.key, e.key_span), value)
            })
            .collect(),
        skips: args.skips,
        skip_all: args.skip_all.is_some(),
        client: args.client,
        fields: args.fields,
        who: "`#[ledgix::guarded]`",
        note: String::new(),
    }
}

/// `::ledgix`.
pub(crate) fn default_crate() -> TokenStream {
    quote!(::ledgix)
}

/// Parses the item `#[guarded]` is on: a function with a body (free, method, or a trait
/// method's default body); the body stays unparsed.
fn parse_fn(item: TokenStream) -> syn::Result<MaybeItemFn> {
    let err = match syn::parse2::<MaybeItemFn>(item.clone()) {
        Ok(f) => return Ok(f),
        Err(e) => e,
    };
    if let Ok(f) = syn::parse2::<TraitItemFn>(item.clone()) {
        return Err(syn::Error::new(
            f.semi_token.map_or_else(|| f.sig.span(), |s| s.span()),
            "`#[ledgix::guarded]` goes on a function with a body: put it on the method in each \
             `impl`, not on the trait's declaration",
        ));
    }
    let span = item
        .into_iter()
        .next()
        .map_or_else(|| err.span(), |t| t.span());
    Err(syn::Error::new(
        span,
        "`#[ledgix::guarded]` applies to an `async fn` (a free function, a method, or a trait \
         method with a default body)",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_defaults_to_the_unraw_function_name() {
        let f: syn::ItemFn = syn::parse2(quote!(
            async fn r#match() -> Result<(), E> {}
        ))
        .unwrap();
        let spec = spec_from_args(GuardedArgs::default(), &f.sig);
        assert_eq!(spec.tool.value(), "match");
        assert_eq!(spec.krate.to_string(), ":: ledgix");
    }

    #[test]
    fn errors_keep_the_original_item() {
        let item = quote!(
            fn f() -> Result<(), E> {
                Ok(())
            }
        );
        let out = expand(quote!(), item.clone()).to_string();
        assert!(out.starts_with(&item.to_string()), "{out}");
        assert!(out.contains("compile_error"), "{out}");
        let out = expand(quote!(tol = "x"), item.clone()).to_string();
        assert!(
            out.starts_with(&item.to_string()) && out.contains("unknown key"),
            "{out}"
        );
    }

    #[test]
    fn trait_methods() {
        let out = expand(
            quote!(),
            quote!(
                async fn f(&self) -> Result<(), E>;
            ),
        )
        .to_string();
        assert!(out.contains("with a body"), "{out}");
        let out = expand(
            quote!(),
            quote!(
                async fn f(&self) -> Result<(), E> {
                    Ok(())
                }
            ),
        )
        .to_string();
        assert!(out.contains("ToolCall :: new (\"f\")"), "{out}");
        let out = expand(
            quote!(),
            quote!(
                struct S;
            ),
        )
        .to_string();
        assert!(out.contains("applies to an `async fn`"), "{out}");
    }
}
