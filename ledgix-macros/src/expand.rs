//! Code generation shared by `#[guarded]` and `instrument!`: a function body becomes a
//! `ToolCall` built from the signature, and the original body handed to
//! `ledgix::__private::guard`, which asks the Vault and polls the body only on approval.
//!
//! For `async fn f(&self, a: A, _b: B) -> Result<T, E> { body }` the new body is
//!
//! ```text
//! {
//!     let __ledgix_call = ::ledgix::__private::ToolCall::new("f").context(..).policy(..);
//!     let __ledgix_call = ::ledgix::__private::arg(__ledgix_call, "a", &a);   // spanned at `A`
//!     ::ledgix::__private::guard(__ledgix_call, async move {
//!         if let Some(__ledgix_ret) = None::<Result<T, E>> { return __ledgix_ret; }  // fixes the output type early
//!         let __ledgix_out: Result<T, E> = { body };      // the user's statements, in their own block
//!         __ledgix_out
//!     }, ::ledgix::__private::denial()).await                // `denial()` spanned at the return type
//! }
//! ```
//!
//! The user's statements get a block of their own, so an item they declare (`use
//! other::Result;`) cannot change what the generated code means; that block is a `let`
//! initializer rather than a tail expression, so a one-line body does not trip `unused_braces`
//! (whose suggestion, removing the braces, would not parse). The `let` carries the return type,
//! so the body's tail expression is checked against it (coercions included) as in the original
//! function. The body of an `async fn` is never parsed: its tokens go through as written, so a
//! syntax error in it is rustc's to report.
//!
//! `denial()` carries every requirement on the return type (`Result<T, E>`,
//! `E: From<ledgix::Error>`), so each mistake is one compiler error, at the return type.
//!
//! Functions that return a future they build themselves (`#[async_trait]` methods after
//! desugaring, hand-boxed recursion) end in `Box::pin(async move { .. })` or `async move { .. }`;
//! the same wrapping happens inside that async block.

use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use serde_json::Value;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::token::Brace;
use syn::visit_mut::VisitMut;
use syn::{
    Block, Expr, ExprAsync, FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, ReturnType,
    Signature, Stmt, Type, TypeParamBound,
};

/// Everything the expansion needs besides the function: resolved from `#[guarded(..)]` or from
/// the manifest rule that matched.
pub(crate) struct GuardSpec {
    /// Path to the `ledgix` crate (`::ledgix` unless `crate = ".."`).
    pub krate: TokenStream,
    /// The tool name sent to the Vault.
    pub tool: LitStr,
    /// The policy, sent as `context.policy_id` (after the context, so it wins).
    pub policy: Option<LitStr>,
    /// Context entries: key and an expression of a type `impl Into<serde_json::Value>`.
    pub context: Vec<(LitStr, TokenStream)>,
    /// Parameters left out of `tool_args`.
    pub skips: Vec<Ident>,
    /// No parameter is sent.
    pub skip_all: bool,
    /// The client expression, if any.
    pub client: Option<Expr>,
    /// The request's attribution constants (`purpose`, `data_categories`, ...).
    pub fields: Vec<crate::attr::FieldSetter>,
    /// The macro at work, as messages name it: "`#[ledgix::guarded]`" or
    /// "`ledgix::instrument!`".
    pub who: &'static str,
    /// Appended to the messages of errors this module reports (instrument! says which rule
    /// matched and how to opt out).
    pub note: String,
}

impl GuardSpec {
    fn error(&self, span: Span, message: impl std::fmt::Display) -> syn::Error {
        syn::Error::new(span, format!("{message}{}", self.note))
    }

    /// An error covering all of `tokens` (from their first token to their last).
    fn error_over(&self, tokens: &dyn ToTokens, message: impl std::fmt::Display) -> syn::Error {
        syn::Error::new_spanned(tokens, format!("{message}{}", self.note))
    }

    /// The crate path with every token located at `span` (resolution unchanged), so an error
    /// in a call through it is reported at `span`.
    fn krate_at(&self, span: Span) -> TokenStream {
        relocate(self.krate.clone(), span)
    }
}

/// Moves every token of `tokens` to `span`'s location, keeping each token's name resolution.
fn relocate(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), relocate(g.stream(), span));
                group.set_span(g.span().located_at(span));
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(other.span().located_at(span));
                other
            }
        })
        .collect()
}

/// A span that resolves at the call site but points at `at`.
fn at(at: Span) -> Span {
    Span::call_site().located_at(at)
}

/// The body of a function to guard.
pub(crate) enum Body<'a> {
    /// The statements as written, unparsed (`#[guarded]` on an `async fn` never parses them),
    /// and the braces around them.
    Tokens { brace: Brace, stmts: TokenStream },
    /// A parsed body (`instrument!` parses every item).
    Block(&'a Block),
}

/// The new body of a guarded function, without its braces: put it inside the function's own.
/// `sig` is the function's signature, unchanged in the output.
pub(crate) fn guard_block(
    spec: &GuardSpec,
    sig: &Signature,
    body: Body<'_>,
) -> syn::Result<TokenStream> {
    let parsed;
    let block = match (&body, sig.asyncness.is_some()) {
        (Body::Block(block), _) => Some(*block),
        (Body::Tokens { .. }, true) => None,
        (Body::Tokens { brace, stmts }, false) => {
            // Only a non-async function is looked into (for the future it builds).
            let stmts =
                syn::parse::Parser::parse2(Block::parse_within, stmts.clone()).map_err(|e| {
                    spec.error(
                        e.span(),
                        format!(
                            "{} could not read the body of `{}`: {e}",
                            spec.who, sig.ident
                        ),
                    )
                })?;
            parsed = Block {
                brace_token: *brace,
                stmts,
            };
            Some(&parsed)
        }
    };
    let shape = match block {
        Some(block) if sig.asyncness.is_none() => future_shape(spec, sig, block)?,
        _ => Shape::AsyncFn,
    };
    let output = match (&shape, &sig.output) {
        (Shape::AsyncFn, ReturnType::Type(_, ty)) => Some((**ty).clone()),
        (Shape::AsyncFn, ReturnType::Default) => {
            return Err(spec.error(
                sig.ident.span(),
                format!(
                    "functions guarded by {} must return `Result<T, E>` where \
                     `E: From<ledgix::Error>`: a denied clearance comes back as `Err`. Write \
                     `async fn {}(..) -> Result<(), ledgix::Error>`",
                    spec.who, sig.ident
                ),
            ));
        }
        (Shape::FutureBlock { .. }, output) => future_output(output),
    };
    let sent = sent_params(spec, sig, &shape)?;

    let call = Ident::new("__ledgix_call", Span::mixed_site());
    let setup = call_setup(spec, &call, &sent);
    let krate = &spec.krate;
    let guard = quote!(#krate::__private::guard);
    let denial = denial(spec, output.as_ref());
    // `impl Trait` cannot be named in a turbofish or a `let`: `_` stands for it.
    let output = output.as_ref().map(erase_impl_trait);
    let hint = output.as_ref().map(|ty| {
        let ret = Ident::new("__ledgix_ret", Span::mixed_site());
        quote! {
            #[allow(unreachable_code)]
            if let ::core::option::Option::Some(#ret) = ::core::option::Option::None::<#ty> {
                return #ret;
            }
        }
    });

    Ok(match shape {
        Shape::AsyncFn => {
            let user = match body {
                Body::Tokens { brace, stmts } => own_block(output.as_ref(), &brace, stmts),
                Body::Block(block) => {
                    let stmts = &block.stmts;
                    own_block(output.as_ref(), &block.brace_token, quote!(#(#stmts)*))
                }
            };
            quote! {
                #setup
                #guard(#call, async move {
                    #hint
                    #user
                }, #denial)
                .await
            }
        }
        Shape::FutureBlock { boxed, async_expr } => {
            let ExprAsync {
                attrs,
                async_token,
                capture,
                block: inner,
            } = async_expr;
            let stmts = &inner.stmts;
            let user = own_block(output.as_ref(), &inner.brace_token, quote!(#(#stmts)*));
            let fut = quote! {
                #(#attrs)* #async_token #capture {
                    #setup
                    #guard(#call, #async_token #capture {
                        #hint
                        #user
                    }, #denial)
                    .await
                }
            };
            match boxed {
                Some(pin) => quote!(#pin(#fut)),
                None => fut,
            }
        }
    })
}

/// The user's statements in a block of their own, in their own braces, bound to a `let` of the
/// function's output type and returned: `let __ledgix_out: R = { stmts }; __ledgix_out`.
fn own_block(output: Option<&Type>, brace: &Brace, stmts: TokenStream) -> TokenStream {
    let out = Ident::new("__ledgix_out", Span::mixed_site());
    let ty = output.map(|ty| quote!(: #ty));
    let mut block = TokenStream::new();
    brace.surround(&mut block, |tokens| tokens.extend(stmts));
    // A body that is one diverging statement (`{ return Ok(x); }`) is a diverging
    // sub-expression of the `let` to clippy; in the function as written it was not.
    quote! {
        #[allow(clippy::diverging_sub_expression)]
        let #out #ty = #block;
        #[allow(unreachable_code)]
        #out
    }
}

/// How the function produces its future.
enum Shape {
    /// `async fn`.
    AsyncFn,
    /// A non-async fn whose body is `Box::pin(async move { .. })` (`boxed` is the `Box::pin`
    /// path) or `async move { .. }`.
    FutureBlock {
        boxed: Option<TokenStream>,
        async_expr: ExprAsync,
    },
}

/// Recognizes a non-async function that builds its future itself, as `#[async_trait]` emits
/// (`Box::pin(async move { .. })`) or as hand-boxed recursion is written.
fn future_shape(spec: &GuardSpec, sig: &Signature, block: &Block) -> syn::Result<Shape> {
    let Some((shape, before)) = tail_future(block) else {
        return Err(spec.error(
            sig.fn_token.span,
            format!(
                "{} needs an `async fn`: the body must wait for the Vault's answer before it \
                 runs. Write `async fn {}(..)` (a function returning a future is accepted when \
                 its body is `Box::pin(async move {{ .. }})` or `async move {{ .. }}`)",
                spec.who, sig.ident
            ),
        ));
    };
    if let Some(first) = before.first() {
        return Err(spec.error_over(
            first,
            "code before the returned future runs when the function is called, before the \
             Vault is asked: move it inside the `async move { .. }` block so that it runs only \
             once the call is approved",
        ));
    }
    Ok(shape)
}

/// Whether a non-async function's body ends in the future [`guard_block`] wraps:
/// `Box::pin(async move { .. })` or `async move { .. }` (statements before it make
/// [`guard_block`] an error, not a plain function).
pub(crate) fn builds_future(block: &Block) -> bool {
    tail_future(block).is_some()
}

/// The future `block` ends in (`Box::pin(async ..)` or `async ..`), and the statements before it.
fn tail_future(block: &Block) -> Option<(Shape, &[Stmt])> {
    let (last, before) = block.stmts.split_last()?;
    let Stmt::Expr(expr, None) = last else {
        return None;
    };
    let shape = match expr {
        Expr::Async(async_expr) => Shape::FutureBlock {
            boxed: None,
            async_expr: async_expr.clone(),
        },
        Expr::Call(call) => {
            let is_box_pin = match &*call.func {
                Expr::Path(p) => {
                    let segs: Vec<String> = p
                        .path
                        .segments
                        .iter()
                        .map(|s| s.ident.to_string())
                        .collect();
                    segs.ends_with(&["Box".to_string(), "pin".to_string()])
                }
                _ => false,
            };
            match (is_box_pin, call.args.len(), call.args.first()) {
                (true, 1, Some(Expr::Async(async_expr))) => Shape::FutureBlock {
                    boxed: Some(call.func.to_token_stream()),
                    async_expr: async_expr.clone(),
                },
                _ => return None,
            }
        }
        _ => return None,
    };
    Some((shape, before))
}

/// `R` in `-> Pin<Box<dyn Future<Output = R> + ..>>` or `-> impl Future<Output = R> + ..`.
fn future_output(output: &ReturnType) -> Option<Type> {
    let ReturnType::Type(_, ty) = output else {
        return None;
    };
    find_output(ty)
}

fn find_output(ty: &Type) -> Option<Type> {
    let bounds = match ty {
        Type::ImplTrait(t) => &t.bounds,
        Type::TraitObject(t) => &t.bounds,
        Type::Paren(t) => return find_output(&t.elem),
        Type::Group(t) => return find_output(&t.elem),
        Type::Path(p) => {
            // Pin<Box<dyn Future<..>>>: look inside the generic arguments.
            let last = p.path.segments.last()?;
            let PathArguments::AngleBracketed(args) = &last.arguments else {
                return None;
            };
            return args.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => find_output(t),
                _ => None,
            });
        }
        _ => return None,
    };
    bounds.iter().find_map(|b| {
        let TypeParamBound::Trait(t) = b else {
            return None;
        };
        let last = t.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(assoc.ty.clone()),
            _ => None,
        })
    })
}

/// A parameter sent in `tool_args`.
struct SentParam {
    /// The binding, as written.
    ident: Ident,
    /// The key: the name without `r#`.
    key: String,
    /// Where its type starts and ends (errors about `Serialize` point there).
    ty_span: (Span, Span),
    /// The parameter is a reference: it is passed as is, so messages name the referent.
    is_ref: bool,
    /// `#[cfg(..)]` attributes of the parameter, repeated on its `let`.
    cfgs: Vec<syn::Attribute>,
}

/// The parameters to send; checks `skip(..)` names and destructuring patterns.
fn sent_params(spec: &GuardSpec, sig: &Signature, shape: &Shape) -> syn::Result<Vec<SentParam>> {
    let mut errors: Vec<syn::Error> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut sent = Vec::new();
    for input in &sig.inputs {
        let FnArg::Typed(param) = input else {
            continue;
        };
        let mut pat = &*param.pat;
        while let Pat::Paren(p) = pat {
            pat = &p.pat;
        }
        match pat {
            Pat::Ident(p) => {
                let key = p.ident.unraw().to_string();
                names.push(key.clone());
                let skipped = spec.skip_all
                    || key.starts_with('_')
                    || spec.skips.iter().any(|s| s.unraw() == key);
                if !skipped {
                    sent.push(SentParam {
                        ident: p.ident.clone(),
                        key,
                        ty_span: span_ends(&param.ty),
                        is_ref: matches!(&*param.ty, Type::Reference(_)),
                        cfgs: param
                            .attrs
                            .iter()
                            .filter(|a| a.path().is_ident("cfg"))
                            .cloned()
                            .collect(),
                    });
                }
            }
            Pat::Wild(_) => {}
            other if !spec.skip_all => errors.push(destructuring_error(spec, other)),
            _ => {}
        }
    }
    if let Shape::FutureBlock { async_expr, .. } = shape
        && !spec.skip_all
    {
        for span in async_trait_destructured(&async_expr.block) {
            errors.push(destructuring_error(spec, span));
        }
    }
    let has_self = sig.receiver().is_some();
    for skip in &spec.skips {
        let name = skip.unraw().to_string();
        if name == "self" {
            errors.push(spec.error(
                skip.span(),
                "`self` is never sent to the Vault; remove it from `skip(..)`",
            ));
        } else if !names.contains(&name) {
            let list = if names.is_empty() {
                "it has none".to_string()
            } else {
                format!(
                    "its parameters are {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let self_note = if has_self { " (and `self`)" } else { "" };
            errors.push(spec.error(
                skip.span(),
                format!(
                    "cannot skip `{name}`: `{}` has no parameter of that name; {list}{self_note}",
                    sig.ident
                ),
            ));
        }
    }
    match errors.into_iter().reduce(|mut a, b| {
        a.combine(b);
        a
    }) {
        Some(e) => Err(e),
        None => Ok(sent),
    }
}

fn destructuring_error(spec: &GuardSpec, pat: &Pat) -> syn::Error {
    spec.error_over(
        pat,
        format!(
            "{} sends each parameter to the Vault under its name, and this pattern has none: \
             bind it to a name (`point: Point`) and destructure it in the body, or leave every \
             parameter out with `#[ledgix::guarded(skip_all)]`",
            spec.who
        ),
    )
}

/// `#[async_trait]` renames a destructured parameter to `__argN` and destructures it first
/// thing in the async block: `let (a, b) = { let __arg1 = __arg1; __arg1 };`. Finds those
/// patterns so they get the same error as in a plain `async fn`.
fn async_trait_destructured(block: &Block) -> Vec<&Pat> {
    block
        .stmts
        .iter()
        .filter_map(|stmt| {
            let Stmt::Local(local) = stmt else {
                return None;
            };
            let init = local.init.as_ref()?;
            let Expr::Block(inner) = &*init.expr else {
                return None;
            };
            let renamed = matches!(inner.block.stmts.first(), Some(Stmt::Local(l))
                if matches!(&l.pat, Pat::Ident(p) if p.ident.to_string().starts_with("__arg")));
            let destructures = !matches!(&local.pat, Pat::Ident(_) | Pat::Wild(_));
            (renamed && destructures).then_some(&local.pat)
        })
        .collect()
}

/// `let __ledgix_call = ToolCall::new(..)...;` and one `let` per sent parameter and the client.
fn call_setup(spec: &GuardSpec, call: &Ident, sent: &[SentParam]) -> TokenStream {
    let krate = &spec.krate;
    let tool = &spec.tool;
    let context = spec.context.iter().map(|(key, value)| {
        let span = at(value.span());
        quote_spanned!(span=> .context(#key, #value))
    });
    let policy = spec.policy.iter().map(|p| quote!(.policy(#p)));
    let fields = spec.fields.iter().map(|f| {
        let method = Ident::new(f.method, Span::call_site());
        let values = &f.values;
        if f.method == "data_categories" {
            quote!(.#method([#(#values),*]))
        } else {
            quote!(.#method(#(#values),*))
        }
    });
    let args = sent.iter().map(|p| {
        // `&ident` spans the whole type: `&` at its first token, `ident` at its last.
        let (first, last) = p.ty_span;
        let krate = spec.krate_at(first);
        let mut ident = p.ident.clone();
        ident.set_span(ident.span().located_at(last));
        let value = if p.is_ref {
            quote!(#ident)
        } else {
            let amp = quote_spanned!(at(first)=> &);
            quote!(#amp #ident)
        };
        let key = LitStr::new(&p.key, p.ident.span());
        let cfgs = &p.cfgs;
        let arg_fn = quote_spanned!(at(first)=> #krate::__private::arg);
        quote! {
            #(#cfgs)*
            let #call = #arg_fn(#call, #key, #value);
        }
    });
    let client = spec.client.as_ref().map(|expr| {
        let span = at(expr.span());
        quote_spanned! {span=>
            let #call = #call.client(&(#expr));
        }
    });
    quote! {
        let #call = #krate::__private::ToolCall::new(#tool) #(#context)* #(#policy)* #(#fields)*;
        #(#args)*
        #client
    }
}

/// `::ledgix::__private::denial()`, spanned over the return type: the call that requires
/// `R: GuardedResult` and `E: From<ledgix::Error>`, so those errors are reported there.
fn denial(spec: &GuardSpec, output: Option<&Type>) -> TokenStream {
    match output {
        Some(ty) => {
            let (first, last) = span_ends(ty);
            let krate = spec.krate_at(first);
            let path = quote_spanned!(at(first)=> #krate::__private::denial);
            let parens = quote_spanned!(at(last)=> ());
            quote!(#path #parens)
        }
        None => {
            let krate = &spec.krate;
            quote!(#krate::__private::denial())
        }
    }
}

/// The spans of the first and last tokens of `ty` (a stable-Rust stand-in for joining them).
fn span_ends(ty: &Type) -> (Span, Span) {
    let mut tokens = ty.to_token_stream().into_iter();
    let first = tokens.next().map_or_else(|| ty.span(), |t| t.span());
    let last = tokens.last().map_or(first, |t| t.span());
    (first, last)
}

/// `impl Trait` replaced by `_`, so the type can be named in a turbofish or a `let`.
fn erase_impl_trait(ty: &Type) -> Type {
    struct Eraser;
    impl VisitMut for Eraser {
        fn visit_type_mut(&mut self, t: &mut Type) {
            if let Type::ImplTrait(i) = t {
                *t = Type::Infer(syn::TypeInfer {
                    underscore_token: syn::Token![_](i.span()),
                });
            } else {
                syn::visit_mut::visit_type_mut(self, t);
            }
        }
    }
    let mut ty = ty.clone();
    Eraser.visit_type_mut(&mut ty);
    ty
}

/// Code that builds `value` as a `serde_json::Value` (for `context` entries of a manifest).
pub(crate) fn json_tokens(krate: &TokenStream, value: &Value) -> TokenStream {
    let sj = quote!(#krate::__private::serde_json);
    match value {
        Value::Null => quote!(#sj::Value::Null),
        Value::Bool(b) => quote!(#sj::Value::Bool(#b)),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let lit = proc_macro2::Literal::u64_suffixed(u);
                quote!(#sj::Value::from(#lit))
            } else if let Some(i) = n.as_i64() {
                let lit = proc_macro2::Literal::i64_suffixed(i);
                quote!(#sj::Value::from(#lit))
            } else {
                match n.as_f64().filter(|f| f.is_finite()) {
                    Some(f) => {
                        let lit = proc_macro2::Literal::f64_suffixed(f);
                        quote!(#sj::Value::from(#lit))
                    }
                    None => quote!(#sj::Value::Null),
                }
            }
        }
        Value::String(s) => quote!(#sj::Value::String(::std::string::String::from(#s))),
        Value::Array(items) => {
            let items = items.iter().map(|v| json_tokens(krate, v));
            quote!(#sj::Value::Array(::std::vec![#(#items),*]))
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json_tokens(krate, v);
                quote!((::std::string::String::from(#k), #v))
            });
            quote! {
                #sj::Value::Object(
                    <#sj::Map<::std::string::String, #sj::Value>
                        as ::core::iter::FromIterator<(::std::string::String, #sj::Value)>>
                        ::from_iter([#(#entries),*])
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::ItemFn;

    fn spec() -> GuardSpec {
        GuardSpec {
            krate: quote!(::ledgix),
            tool: LitStr::new("t", Span::call_site()),
            policy: None,
            context: Vec::new(),
            skips: Vec::new(),
            skip_all: false,
            client: None,
            fields: Vec::new(),
            who: "`#[ledgix::guarded]`",
            note: String::new(),
        }
    }

    fn expand(spec: &GuardSpec, f: TokenStream) -> syn::Result<String> {
        let f: ItemFn = syn::parse2(f).unwrap();
        guard_block(spec, &f.sig, Body::Block(&f.block)).map(|b| quote!({ #b }).to_string())
    }

    fn err(spec: &GuardSpec, f: TokenStream) -> String {
        match expand(spec, f) {
            Ok(b) => panic!("expected an error, got {b}"),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    #[test]
    fn sends_named_params_only() {
        let out = expand(
            &spec(),
            quote!(
                async fn f(&self, a: u8, _b: u8, _: u8, mut c: &str, r#type: u8) -> Result<(), E> {
                    body()
                }
            ),
        )
        .unwrap();
        assert!(out.contains("\"a\""), "{out}");
        assert!(out.contains("\"c\""), "{out}");
        assert!(out.contains("\"type\""), "{out}");
        assert!(!out.contains("\"_b\""), "{out}");
        assert!(!out.contains("\"self\""), "{out}");
        assert_eq!(out.matches("__private :: arg").count(), 3, "{out}");
        assert_eq!(
            out.matches("body ()").count(),
            1,
            "body emitted once: {out}"
        );
    }

    #[test]
    fn skip_and_skip_all() {
        let mut s = spec();
        s.skips = vec![Ident::new("a", Span::call_site())];
        let out = expand(
            &s,
            quote!(
                async fn f(a: u8, b: u8) -> Result<(), E> {}
            ),
        )
        .unwrap();
        assert!(!out.contains("\"a\"") && out.contains("\"b\""), "{out}");
        let mut s = spec();
        s.skip_all = true;
        let out = expand(
            &s,
            quote!(
                async fn f(a: u8, (x, y): (u8, u8)) -> Result<(), E> {}
            ),
        )
        .unwrap();
        assert!(!out.contains("__private :: arg"), "{out}");
    }

    #[test]
    fn skip_of_a_missing_param_lists_the_params() {
        let mut s = spec();
        s.skips = vec![
            Ident::new("cvc", Span::call_site()),
            Ident::new("self", Span::call_site()),
        ];
        let e = err(
            &s,
            quote!(
                async fn pay(&self, amount: u8, card: u8) -> Result<(), E> {}
            ),
        );
        assert!(e.contains("cannot skip `cvc`: `pay` has no parameter of that name; its parameters are `amount`, `card` (and `self`)"), "{e}");
        assert!(e.contains("`self` is never sent"), "{e}");
    }

    #[test]
    fn not_async_and_no_result() {
        let e = err(
            &spec(),
            quote!(
                fn f() -> Result<(), E> {
                    Ok(())
                }
            ),
        );
        assert!(e.contains("needs an `async fn`"), "{e}");
        let e = err(
            &spec(),
            quote!(
                async fn refund() {}
            ),
        );
        assert!(
            e.contains("must return `Result<T, E>`")
                && e.contains("async fn refund(..) -> Result<(), ledgix::Error>"),
            "{e}"
        );
    }

    #[test]
    fn destructuring_needs_a_name() {
        let e = err(
            &spec(),
            quote!(
                async fn f((a, b): (u8, u8)) -> Result<(), E> {}
            ),
        );
        assert!(e.contains("bind it to a name"), "{e}");
    }

    #[test]
    fn boxed_future_shapes() {
        let out = expand(
            &spec(),
            quote!(
                fn f(n: u64) -> Pin<Box<dyn Future<Output = Result<u64, E>> + Send>> {
                    Box::pin(async move { inner(n) })
                }
            ),
        )
        .unwrap();
        assert!(out.starts_with("{ Box :: pin (async move {"), "{out}");
        assert!(out.contains("None :: < Result < u64 , E > >"), "{out}");
        let out = expand(
            &spec(),
            quote!(
                fn f(n: u64) -> impl Future<Output = Result<u64, E>> + Send {
                    async move { inner(n) }
                }
            ),
        )
        .unwrap();
        assert!(out.starts_with("{ async move {"), "{out}");
        assert!(out.contains("None :: < Result < u64 , E > >"), "{out}");
        let out = expand(
            &spec(),
            quote!(
                fn f() -> BoxFuture<'static, R> {
                    Box::pin(async move { x })
                }
            ),
        )
        .unwrap();
        assert!(
            out.contains("__private :: guard (") && !out.contains("None ::"),
            "{out}"
        );
        assert!(out.contains("__private :: denial ()"), "{out}");
    }

    #[test]
    fn builds_future_recognizes_what_guard_block_wraps() {
        let cases = [
            (
                quote!(
                    fn f() -> F {
                        Box::pin(async move { x })
                    }
                ),
                true,
            ),
            (
                quote!(
                    fn f() -> F {
                        std::boxed::Box::pin(async { x })
                    }
                ),
                true,
            ),
            (
                quote!(
                    fn f() -> F {
                        async move { x }
                    }
                ),
                true,
            ),
            (
                quote!(
                    fn f() -> F {
                        side_effect();
                        async move { x }
                    }
                ),
                true,
            ),
            (
                quote!(
                    fn f() -> u8 {
                        1
                    }
                ),
                false,
            ),
            (
                quote!(
                    fn f() {}
                ),
                false,
            ),
            (
                quote!(
                    fn f() -> F {
                        other().boxed()
                    }
                ),
                false,
            ),
            (
                quote!(
                    fn f() -> F {
                        Box::new(async move { x })
                    }
                ),
                false,
            ),
            (
                quote!(
                    fn f() -> F {
                        async move { x };
                    }
                ),
                false,
            ),
        ];
        for (f, expected) in cases {
            let f: ItemFn = syn::parse2(f).unwrap();
            assert_eq!(builds_future(&f.block), expected, "{}", f.to_token_stream());
        }
    }

    #[test]
    fn code_before_the_boxed_future_is_refused() {
        let e = err(
            &spec(),
            quote!(
                fn f() -> Pin<Box<dyn Future<Output = R>>> {
                    side_effect();
                    Box::pin(async move { x })
                }
            ),
        );
        assert!(e.contains("before the Vault is asked"), "{e}");
    }

    #[test]
    fn async_trait_destructuring_is_found() {
        let e = err(
            &spec(),
            quote!(
                fn f<'a>(
                    &'a self,
                    __arg1: (u8, u8),
                ) -> Pin<Box<dyn Future<Output = R> + Send + 'a>> {
                    Box::pin(async move {
                        let __self = self;
                        let (a, b) = {
                            let __arg1 = __arg1;
                            __arg1
                        };
                        let __ret: R = { a };
                        __ret
                    })
                }
            ),
        );
        assert!(e.contains("bind it to a name"), "{e}");
    }

    #[test]
    fn impl_trait_is_erased_in_hints() {
        let out = expand(
            &spec(),
            quote!(
                async fn f() -> Result<impl Serialize, E> {}
            ),
        )
        .unwrap();
        assert!(out.contains("None :: < Result < _ , E > >"), "{out}");
    }

    #[test]
    fn notes_are_appended() {
        let mut s = spec();
        s.note = " (NOTE)".into();
        assert!(
            err(
                &s,
                quote!(
                    fn f() {}
                )
            )
            .ends_with("(NOTE)")
        );
    }

    #[test]
    fn json_literals() {
        let k = quote!(::ledgix);
        let t =
            json_tokens(&k, &serde_json::json!({"a": [1, -2, 1.5, "s", null, true]})).to_string();
        assert!(t.contains("1u64") && t.contains("2i64"), "{t}");
        assert!(
            t.contains("1.5f64") && t.contains("\"s\"") && t.contains("Value :: Null"),
            "{t}"
        );
    }
}
