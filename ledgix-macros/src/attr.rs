//! Parsing the arguments of `#[guarded(...)]`.
//!
//! `tool = "name"`, `policy = "id"`, `skip(a, b)`, `skip_all`, `context(key = value, ..)`,
//! `client = <expr>`, `crate = "path"`, and the request's attribution constants: `purpose =
//! "..."`, `data_categories("a", "b")`, `processing_register_ref = "..."`, `dataset_ref =
//! "..."`, `destination(uri = "...", provider = "...", account_ref = "...")`. Unknown and
//! duplicate keys are errors spanned at the key.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token};

mod kw {
    syn::custom_keyword!(tool);
    syn::custom_keyword!(policy);
    syn::custom_keyword!(skip);
    syn::custom_keyword!(skip_all);
    syn::custom_keyword!(context);
    syn::custom_keyword!(client);
    syn::custom_keyword!(purpose);
    syn::custom_keyword!(data_categories);
    syn::custom_keyword!(processing_register_ref);
    syn::custom_keyword!(dataset_ref);
    syn::custom_keyword!(destination);
}

/// The keys `#[guarded]` accepts, for "expected one of" messages.
pub(crate) const KEYS: &str = "`tool`, `policy`, `skip(..)`, `skip_all`, `context(..)`, `client`, \
     `crate`, `purpose`, `data_categories(..)`, `processing_register_ref`, `dataset_ref`, \
     `destination(..)`";

/// The parts `destination(..)` accepts, with the `ToolCall` method each sets.
const DESTINATION_PARTS: [(&str, &str); 3] = [
    ("uri", "destination_uri"),
    ("provider", "destination_provider"),
    ("account_ref", "destination_account_ref"),
];

/// The parsed arguments of `#[guarded(...)]`.
#[derive(Default)]
pub(crate) struct GuardedArgs {
    /// `tool = "name"`: the tool name sent to the Vault (default: the function's name).
    pub tool: Option<LitStr>,
    /// `policy = "id"`: sent as `context.policy_id`.
    pub policy: Option<LitStr>,
    /// `skip(a, b)`: parameters left out of `tool_args`.
    pub skips: Vec<Ident>,
    /// `skip_all`: no parameter is sent.
    pub skip_all: Option<Span>,
    /// `context(key = value, ..)`: extra context entries, values are `impl Into<Value>`.
    pub context: Vec<ContextEntry>,
    /// `client = <expr>`: the client to ask, an expression evaluated in the function.
    pub client: Option<Expr>,
    /// `crate = "path"`: where the `ledgix` crate is (default `::ledgix`).
    pub krate: Option<Path>,
    /// The request's attribution constants, as `ToolCall` setter calls: `(method, value)`,
    /// e.g. `("purpose", "billing")`; `data_categories` holds its list.
    pub fields: Vec<FieldSetter>,
}

/// One attribution constant of `#[guarded(..)]`, set with `ToolCall::<method>(value)`.
pub(crate) struct FieldSetter {
    /// The `ToolCall` method (`purpose`, `destination_uri`, `data_categories`, ...).
    pub method: &'static str,
    /// Its string arguments (one; several for `data_categories`).
    pub values: Vec<LitStr>,
}

/// One `key = value` of `context(..)`.
pub(crate) struct ContextEntry {
    /// The key as sent.
    pub key: String,
    /// Where the key was written.
    pub key_span: Span,
    /// The value expression.
    pub value: Expr,
}

impl Parse for GuardedArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = GuardedArgs::default();
        let mut seen = Seen::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::tool) {
                let key = input.parse::<kw::tool>()?;
                seen.once("tool", key.span)?;
                args.tool = Some(parse_string_value(
                    input,
                    "tool",
                    "tool = \"stripe_refund\"",
                )?);
            } else if lookahead.peek(kw::policy) {
                let key = input.parse::<kw::policy>()?;
                seen.once("policy", key.span)?;
                args.policy = Some(parse_string_value(
                    input,
                    "policy",
                    "policy = \"refund-policy-v1\"",
                )?);
            } else if lookahead.peek(kw::skip_all) {
                let key = input.parse::<kw::skip_all>()?;
                seen.once("skip_all", key.span)?;
                if seen.get("skip").is_some() {
                    return Err(both_skips(key.span));
                }
                args.skip_all = Some(key.span);
            } else if lookahead.peek(kw::skip) {
                let key = input.parse::<kw::skip>()?;
                seen.once("skip", key.span)?;
                if seen.get("skip_all").is_some() {
                    return Err(both_skips(key.span));
                }
                args.skips = parse_skip_list(input)?;
            } else if lookahead.peek(kw::context) {
                let key = input.parse::<kw::context>()?;
                seen.once("context", key.span)?;
                args.context = parse_context(input)?;
            } else if lookahead.peek(kw::client) {
                let key = input.parse::<kw::client>()?;
                seen.once("client", key.span)?;
                expect_eq(input, "client", "client = self.ledgix.clone()")?;
                args.client = Some(input.parse::<Expr>()?);
            } else if lookahead.peek(Token![crate]) {
                let key = input.parse::<Token![crate]>()?;
                seen.once("crate", key.span)?;
                let lit = parse_string_value(input, "crate", "crate = \"::my_reexport::ledgix\"")?;
                args.krate = Some(lit.parse::<Path>().map_err(|e| {
                    syn::Error::new(
                        lit.span(),
                        format!("`crate` must be a path to the ledgix crate, like `crate = \"::ledgix\"`: {e}"),
                    )
                })?);
            } else if lookahead.peek(kw::purpose) {
                let key = input.parse::<kw::purpose>()?;
                let example = "purpose = \"billing\"";
                let setter = string_field(input, &mut seen, key.span, "purpose", example)?;
                args.fields.push(setter);
            } else if lookahead.peek(kw::processing_register_ref) {
                let key = input.parse::<kw::processing_register_ref>()?;
                let example = "processing_register_ref = \"reg-payments\"";
                let method = "processing_register_ref";
                let setter = string_field(input, &mut seen, key.span, method, example)?;
                args.fields.push(setter);
            } else if lookahead.peek(kw::dataset_ref) {
                let key = input.parse::<kw::dataset_ref>()?;
                let example = "dataset_ref = \"customers\"";
                let setter = string_field(input, &mut seen, key.span, "dataset_ref", example)?;
                args.fields.push(setter);
            } else if lookahead.peek(kw::data_categories) {
                let key = input.parse::<kw::data_categories>()?;
                seen.once("data_categories", key.span)?;
                let values = parse_categories(input, key.span)?;
                args.fields.push(FieldSetter {
                    method: "data_categories",
                    values,
                });
            } else if lookahead.peek(kw::destination) {
                let key = input.parse::<kw::destination>()?;
                seen.once("destination", key.span)?;
                args.fields.extend(parse_destination(input, key.span)?);
            } else if input.peek(Ident::peek_any) {
                let key = input.call(Ident::parse_any)?;
                return Err(syn::Error::new(
                    key.span(),
                    format!("unknown key `{key}` in `#[ledgix::guarded]`; expected one of {KEYS}"),
                ));
            } else {
                return Err(lookahead.error());
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

/// Keys already given, with where they were given.
#[derive(Default)]
struct Seen(Vec<(&'static str, Span)>);

impl Seen {
    /// Records `key`; an error at `span` if it was given before.
    fn once(&mut self, key: &'static str, span: Span) -> syn::Result<()> {
        if self.get(key).is_some() {
            return Err(syn::Error::new(
                span,
                format!("duplicate `{key}` in `#[ledgix::guarded]`; give it once"),
            ));
        }
        self.0.push((key, span));
        Ok(())
    }

    fn get(&self, key: &str) -> Option<Span> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, s)| *s)
    }
}

fn both_skips(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "`skip_all` and `skip(..)` together: `skip_all` already leaves every parameter out; keep one",
    )
}

/// `= "..."` after `key`, with an error naming `example` when the value is not a string literal.
/// `method = "..."`, given once: a [`FieldSetter`] with that one string (`example` shows the
/// form in errors).
fn string_field(
    input: ParseStream<'_>,
    seen: &mut Seen,
    key_span: Span,
    method: &'static str,
    example: &str,
) -> syn::Result<FieldSetter> {
    seen.once(method, key_span)?;
    let value = parse_string_value(input, method, example)?;
    Ok(FieldSetter {
        method,
        values: vec![value],
    })
}

fn parse_string_value(input: ParseStream<'_>, key: &str, example: &str) -> syn::Result<LitStr> {
    expect_eq(input, key, example)?;
    if input.peek(LitStr) {
        let lit = input.parse::<LitStr>()?;
        if lit.value().is_empty() {
            return Err(syn::Error::new(
                lit.span(),
                format!("`{key}` must not be empty: write `{example}`"),
            ));
        }
        return Ok(lit);
    }
    // Consume the offending value so the error can point at all of it.
    let value = input.parse::<Expr>()?;
    Err(syn::Error::new_spanned(
        &value,
        format!("`{key}` takes a string literal: write `{example}`"),
    ))
}

fn expect_eq(input: ParseStream<'_>, key: &str, example: &str) -> syn::Result<()> {
    if input.peek(Token![=]) {
        input.parse::<Token![=]>()?;
        Ok(())
    } else {
        Err(input.error(format!("expected `=` after `{key}`: write `{example}`")))
    }
}

/// `("email", "payment_card")`: non-empty string literals, each once, at least one.
fn parse_categories(input: ParseStream<'_>, key: Span) -> syn::Result<Vec<LitStr>> {
    const EXAMPLE: &str = "data_categories(\"email\", \"payment_card\")";
    if !input.peek(syn::token::Paren) {
        return Err(input.error(format!(
            "expected the categories in parentheses: `{EXAMPLE}`"
        )));
    }
    let content;
    syn::parenthesized!(content in input);
    let mut values: Vec<LitStr> = Vec::new();
    while !content.is_empty() {
        if !content.peek(LitStr) {
            let value = content.parse::<Expr>()?;
            return Err(syn::Error::new_spanned(
                &value,
                format!("`data_categories` takes string literals: write `{EXAMPLE}`"),
            ));
        }
        let lit = content.parse::<LitStr>()?;
        if lit.value().is_empty() {
            return Err(syn::Error::new(
                lit.span(),
                "a data category must not be empty",
            ));
        }
        if values.iter().any(|v| v.value() == lit.value()) {
            return Err(syn::Error::new(
                lit.span(),
                format!("duplicate data category `{}`; give it once", lit.value()),
            ));
        }
        values.push(lit);
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    if values.is_empty() {
        return Err(syn::Error::new(
            key,
            format!(
                "`data_categories()` is empty: name at least one, `{EXAMPLE}`, or leave the key out"
            ),
        ));
    }
    Ok(values)
}

/// `(uri = "..", provider = "..", account_ref = "..")`: each part at most once, at least one.
fn parse_destination(input: ParseStream<'_>, key: Span) -> syn::Result<Vec<FieldSetter>> {
    const EXAMPLE: &str = "destination(provider = \"stripe\", uri = \"https://api.stripe.com\")";
    if !input.peek(syn::token::Paren) {
        return Err(input.error(format!(
            "expected the destination's parts in parentheses: `{EXAMPLE}`"
        )));
    }
    let content;
    syn::parenthesized!(content in input);
    let mut parts: Vec<(&'static str, FieldSetter)> = Vec::new();
    while !content.is_empty() {
        if !content.peek(Ident::peek_any) {
            return Err(content.error(format!(
                "expected `uri`, `provider` or `account_ref`: `{EXAMPLE}`"
            )));
        }
        let part = content.call(Ident::parse_any)?;
        let name = part.unraw().to_string();
        let Some(&(part_name, method)) = DESTINATION_PARTS.iter().find(|(p, _)| *p == name) else {
            return Err(syn::Error::new(
                part.span(),
                format!(
                    "unknown part `{name}` in `destination(..)`; expected `uri`, `provider` or \
                     `account_ref`"
                ),
            ));
        };
        if parts.iter().any(|(p, _)| *p == part_name) {
            return Err(syn::Error::new(
                part.span(),
                format!("duplicate `{part_name}` in `destination(..)`; give it once"),
            ));
        }
        let example = format!("destination({part_name} = \"...\")");
        let value = parse_string_value(&content, part_name, &example)?;
        parts.push((
            part_name,
            FieldSetter {
                method,
                values: vec![value],
            },
        ));
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    if parts.is_empty() {
        return Err(syn::Error::new(
            key,
            format!("`destination()` is empty: give at least one part, `{EXAMPLE}`"),
        ));
    }
    Ok(parts.into_iter().map(|(_, setter)| setter).collect())
}

/// `(a, b, r#type)`.
fn parse_skip_list(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    if !input.peek(syn::token::Paren) {
        return Err(input
            .error("expected the parameters to skip in parentheses: `skip(card_cvc, api_key)`"));
    }
    let content;
    syn::parenthesized!(content in input);
    let names = Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
    Ok(names.into_iter().collect())
}

/// `(key = value, "key-with-dash" = value)`.
fn parse_context(input: ParseStream<'_>) -> syn::Result<Vec<ContextEntry>> {
    if !input.peek(syn::token::Paren) {
        return Err(input
            .error("expected context entries in parentheses: `context(risk_level = \"high\")`"));
    }
    let content;
    syn::parenthesized!(content in input);
    let mut entries: Vec<ContextEntry> = Vec::new();
    while !content.is_empty() {
        let (key, key_span) = if content.peek(LitStr) {
            let lit = content.parse::<LitStr>()?;
            (lit.value(), lit.span())
        } else if content.peek(Ident::peek_any) {
            let ident = content.call(Ident::parse_any)?;
            (ident.unraw().to_string(), ident.span())
        } else {
            return Err(content.error(
                "expected a context key (an identifier or a string literal): `context(risk_level = \"high\")`",
            ));
        };
        if key == "policy_id" {
            return Err(syn::Error::new(
                key_span,
                "set the policy with `policy = \"...\"`, not `context(policy_id = ...)`",
            ));
        }
        if entries.iter().any(|e| e.key == key) {
            return Err(syn::Error::new(
                key_span,
                format!("duplicate context key `{key}`; give it once"),
            ));
        }
        if !content.peek(Token![=]) {
            return Err(content.error(format!(
                "expected `=` after context key `{key}`: `context({key} = \"value\")`"
            )));
        }
        content.parse::<Token![=]>()?;
        let value = content.parse::<Expr>()?;
        entries.push(ContextEntry {
            key,
            key_span,
            value,
        });
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<GuardedArgs> {
        syn::parse2::<GuardedArgs>(tokens)
    }

    fn err(tokens: proc_macro2::TokenStream) -> String {
        match parse(tokens) {
            Ok(_) => panic!("expected a parse error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn empty_is_all_defaults() {
        let a = parse(quote!()).unwrap();
        assert!(a.tool.is_none() && a.policy.is_none() && a.client.is_none());
        assert!(a.skips.is_empty() && a.skip_all.is_none() && a.context.is_empty());
        assert!(a.krate.is_none());
    }

    #[test]
    fn every_key() {
        let a = parse(quote!(
            tool = "create_stripe_payment",
            policy = "payments-prod",
            skip(card_cvc, r#type),
            context(risk_level = "high", "max-amount" = 500, r#ref = self.r),
            client = self.ledgix.clone(),
            crate = "::my::ledgix",
        ))
        .unwrap();
        assert_eq!(a.tool.unwrap().value(), "create_stripe_payment");
        assert_eq!(a.policy.unwrap().value(), "payments-prod");
        let skips: Vec<String> = a.skips.iter().map(|i| i.unraw().to_string()).collect();
        assert_eq!(skips, ["card_cvc", "type"]);
        let keys: Vec<&str> = a.context.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["risk_level", "max-amount", "ref"]);
        let client = a.client.unwrap();
        assert_eq!(
            quote!(#client).to_string(),
            quote!(self.ledgix.clone()).to_string()
        );
        let krate = a.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), quote!(::my::ledgix).to_string());
    }

    #[test]
    fn attribution_constants() {
        let a = parse(quote!(
            purpose = "billing",
            data_categories("email", "payment_card"),
            processing_register_ref = "reg-7",
            dataset_ref = "customers",
            destination(
                provider = "stripe",
                account_ref = "acct_1",
                uri = "https://api.stripe.com"
            ),
        ))
        .unwrap();
        let got: Vec<(&str, Vec<String>)> = a
            .fields
            .iter()
            .map(|f| (f.method, f.values.iter().map(LitStr::value).collect()))
            .collect();
        let want: Vec<(&str, Vec<String>)> = vec![
            ("purpose", vec!["billing".into()]),
            (
                "data_categories",
                vec!["email".into(), "payment_card".into()],
            ),
            ("processing_register_ref", vec!["reg-7".into()]),
            ("dataset_ref", vec!["customers".into()]),
            ("destination_provider", vec!["stripe".into()]),
            ("destination_account_ref", vec!["acct_1".into()]),
            ("destination_uri", vec!["https://api.stripe.com".into()]),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn attribution_mistakes() {
        assert!(err(quote!(purpose = billing)).contains("`purpose` takes a string literal"));
        assert!(err(quote!(purpose = "")).contains("must not be empty"));
        assert!(err(quote!(purpose = "a", purpose = "b")).contains("duplicate `purpose`"));
        assert!(err(quote!(dataset_ref = 1)).contains("`dataset_ref` takes a string literal"));
        assert!(err(quote!(data_categories = ["a"])).contains("in parentheses"));
        assert!(err(quote!(data_categories())).contains("is empty"));
        assert!(err(quote!(data_categories(email))).contains("takes string literals"));
        assert!(err(quote!(data_categories("a", "a"))).contains("duplicate data category `a`"));
        assert!(err(quote!(data_categories(""))).contains("must not be empty"));
        assert!(err(quote!(destination = "x")).contains("in parentheses"));
        assert!(err(quote!(destination())).contains("is empty"));
        assert!(err(quote!(destination(host = "x"))).contains("unknown part `host`"));
        assert!(
            err(quote!(destination(uri = "a", uri = "b")))
                .contains("duplicate `uri` in `destination")
        );
        assert!(err(quote!(destination(provider = stripe))).contains("`provider` takes a string"));
    }

    #[test]
    fn skip_all_alone() {
        let a = parse(quote!(skip_all)).unwrap();
        assert!(a.skip_all.is_some());
    }

    #[test]
    fn client_expression_stops_at_comma() {
        let a = parse(quote!(client = make(a, b), tool = "t")).unwrap();
        let client = a.client.unwrap();
        assert_eq!(quote!(#client).to_string(), quote!(make(a, b)).to_string());
        assert_eq!(a.tool.unwrap().value(), "t");
    }

    #[test]
    fn unknown_key_names_the_key_and_the_choices() {
        let e = err(quote!(tol = "x"));
        assert!(e.contains("unknown key `tol`"), "{e}");
        assert!(e.contains("`tool`"), "{e}");
    }

    #[test]
    fn duplicate_keys() {
        assert!(err(quote!(tool = "a", tool = "b")).contains("duplicate `tool`"));
        assert!(err(quote!(policy = "a", policy = "b")).contains("duplicate `policy`"));
        assert!(err(quote!(skip(a), skip(b))).contains("duplicate `skip`"));
        assert!(err(quote!(context(a = 1), context(b = 2))).contains("duplicate `context`"));
        assert!(err(quote!(client = c, client = d)).contains("duplicate `client`"));
        assert!(err(quote!(crate = "a", crate = "b")).contains("duplicate `crate`"));
        assert!(err(quote!(context(a = 1, a = 2))).contains("duplicate context key `a`"));
    }

    #[test]
    fn skip_and_skip_all_conflict_either_order() {
        assert!(err(quote!(skip(a), skip_all)).contains("`skip_all` and `skip(..)`"));
        assert!(err(quote!(skip_all, skip(a))).contains("`skip_all` and `skip(..)`"));
    }

    #[test]
    fn values_must_be_string_literals() {
        let e = err(quote!(tool = stripe_refund));
        assert!(e.contains("`tool` takes a string literal"), "{e}");
        assert!(e.contains("tool = \"stripe_refund\""), "{e}");
        assert!(err(quote!(policy = 5)).contains("`policy` takes a string literal"));
        assert!(err(quote!(tool = "")).contains("must not be empty"));
        assert!(err(quote!(crate = "not a path")).contains("`crate` must be a path"));
    }

    #[test]
    fn missing_equals_or_parens() {
        assert!(err(quote!(tool "x")).contains("expected `=` after `tool`"));
        assert!(err(quote!(skip a)).contains("in parentheses"));
        assert!(err(quote!(context)).contains("in parentheses"));
        assert!(err(quote!(context(a))).contains("expected `=` after context key `a`"));
    }

    #[test]
    fn policy_in_context_is_redirected() {
        assert!(err(quote!(context(policy_id = "x"))).contains("policy = "));
    }

    #[test]
    fn trailing_comma_and_missing_comma() {
        assert!(parse(quote!(tool = "a",)).is_ok());
        assert!(parse(quote!(tool = "a" policy = "b")).is_err());
    }
}
