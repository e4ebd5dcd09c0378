//! Every function shape `#[ledgix::guarded]` supports compiles, and the futures are `Send`;
//! the expansion adds no warning (one-line bodies included: `unused_braces`, whose suggestion
//! would not even parse, must not fire).
#![deny(warnings)]
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;

fn assert_send<F: Send>(_: F) {}

#[derive(Debug)]
#[allow(dead_code)]
enum MyError {
    Ledgix(ledgix::Error),
    Other,
}

impl From<ledgix::Error> for MyError {
    fn from(e: ledgix::Error) -> Self {
        MyError::Ledgix(e)
    }
}

// recursion: an async fn boxing its own call, a fn returning its boxed future
mod recursive;
use recursive::{countdown, factorial};

#[derive(Serialize)]
struct Payment {
    amount: u64,
}

// free fn, every key
#[ledgix::guarded(
    tool = "create_stripe_payment",
    policy = "payments-prod",
    skip(card_cvc),
    context(risk_level = "high", "max-amount" = 500, strict = true),
)]
async fn create_payment(amount: f64, customer: String, card_cvc: String) -> Result<u64, MyError> {
    let _ = (&customer, &card_cvc);
    if amount < 0.0 {
        return Err(MyError::Other);
    }
    Ok(amount as u64)
}

// `?`, early `return`, a `use` in the body, `_`-prefixed and `_` params
#[ledgix::guarded]
async fn question_mark(a: u32, _ignored: String, _: u8) -> Result<u32, ledgix::Error> {
    use std::convert::TryFrom;
    let b = u8::try_from(a).map_err(|e| ledgix::Error::Config(e.to_string()))?;
    if b == 0 {
        return Ok(0);
    }
    Ok(u32::from(b))
}

// a `use` in the body must not leak into the rest of the module
struct TryFrom;

// inner attributes and `mut` parameters
#[ledgix::guarded]
async fn inner_attribute(mut n: u32) -> Result<u32, ledgix::Error> {
    #![allow(clippy::needless_late_init)]
    n += 1;
    Ok(n)
}

// references, impl Trait, generics, slices
#[ledgix::guarded]
async fn refs<'a, T: Serialize + Sync>(
    name: &'a str,
    items: &[T],
    extra: impl Serialize + Send,
    t: &T,
) -> Result<&'a str, ledgix::Error> {
    let _ = (items, extra, t);
    Ok(name)
}

// generic by value with a where clause
#[ledgix::guarded(skip_all)]
async fn generic<T>(value: T) -> Result<T, MyError>
where
    T: Send,
{
    Ok(value)
}

// impl Trait in the return type
#[ledgix::guarded]
async fn returns_impl(n: u8) -> Result<impl Serialize, ledgix::Error> {
    Ok(Payment {
        amount: u64::from(n),
    })
}

// a type alias of Result
type ToolResult<T> = Result<T, MyError>;

#[ledgix::guarded]
async fn aliased(n: u8) -> ToolResult<u8> {
    Ok(n)
}

// destructuring is fine with skip_all
#[ledgix::guarded(skip_all)]
async fn destructured((a, b): (u8, u8)) -> Result<u8, ledgix::Error> {
    Ok(a + b)
}

struct Service {
    ledgix: ledgix::LedgixClient,
    calls: u32,
}

impl Service {
    #[ledgix::guarded(client = self.ledgix.clone())]
    async fn by_ref(&self, id: u64) -> Result<u64, ledgix::Error> {
        Ok(id + u64::from(self.calls))
    }

    #[ledgix::guarded(client = &self.ledgix, context(caller = format!("svc-{}", self.calls)))]
    async fn by_mut(&mut self, mut n: u32) -> Result<u32, ledgix::Error> {
        n += 1;
        self.calls += n;
        Ok(self.calls)
    }

    #[ledgix::guarded]
    async fn by_value(self, r#type: String) -> Result<String, ledgix::Error> {
        Ok(r#type)
    }

    #[ledgix::guarded]
    async fn boxed_self(self: Box<Self>, n: u8) -> Result<u8, ledgix::Error> {
        Ok(n)
    }

    #[ledgix::guarded]
    async fn returns_self_type(p: u8) -> Result<Self, ledgix::Error> {
        Err(ledgix::Error::Config(p.to_string()))
    }
}

// native async fn in traits
trait Tool {
    async fn call(&self, input: String) -> Result<String, ledgix::Error>;

    // a default body can be guarded too
    #[ledgix::guarded(tool = "default_tool")]
    async fn default_call(&self, n: u8) -> Result<u8, ledgix::Error> {
        Ok(n)
    }
}

struct Echo;

impl Tool for Echo {
    #[ledgix::guarded(tool = "echo")]
    async fn call(&self, input: String) -> Result<String, ledgix::Error> {
        Ok(input)
    }
}

// a trait whose futures must be Send
trait SendTool: Sync {
    fn run(&self, n: u64) -> impl Future<Output = Result<u64, ledgix::Error>> + Send;
}

impl SendTool for Echo {
    #[ledgix::guarded]
    async fn run(&self, n: u64) -> Result<u64, ledgix::Error> {
        Ok(n)
    }
}

// async_trait
#[async_trait::async_trait]
trait DynTool: Send + Sync {
    async fn invoke(&self, args: String, secret: String) -> Result<String, MyError>;
    async fn pair(&self, pair: (u8, u8)) -> Result<u8, MyError>;
}

#[async_trait::async_trait]
impl DynTool for Echo {
    #[ledgix::guarded(tool = "dyn_invoke", skip(secret), policy = "p")]
    async fn invoke(&self, args: String, secret: String) -> Result<String, MyError> {
        let _ = secret;
        let me: &Self = self;
        let _ = me;
        Ok(args)
    }

    #[ledgix::guarded(skip_all)]
    async fn pair(&self, (a, b): (u8, u8)) -> Result<u8, MyError> {
        Ok(a + b)
    }
}

// a fn returning an async block
#[allow(clippy::manual_async_fn)] // this shape is what is under test
#[ledgix::guarded]
fn unboxed(n: u64) -> impl Future<Output = Result<u64, ledgix::Error>> + Send {
    async move { Ok(n) }
}

// nested guarded calls
#[ledgix::guarded]
async fn outer(n: u32) -> Result<u32, ledgix::Error> {
    let inner = question_mark(n, String::new(), 0).await?;
    Ok(inner + 1)
}

// crate override
mod reexport {
    pub use ledgix as my_ledgix;
}

#[ledgix::guarded(crate = "crate::reexport::my_ledgix")]
async fn overridden(n: u8) -> Result<u8, ledgix::Error> {
    Ok(n)
}

// one-line bodies: free fn, method, and under instrument! (rustfmt would split them)
#[rustfmt::skip]
#[ledgix::guarded]
async fn one_line(id: String) -> Result<String, ledgix::Error> { Ok(id) }

impl Echo {
    #[rustfmt::skip]
    #[ledgix::guarded]
    async fn one_line_method(&self, id: String) -> Result<String, ledgix::Error> { Ok(id) }
}

// (braces: rustfmt leaves the one-liners alone)
ledgix::instrument! { "ledgix.json", mod one_liners {
    pub async fn lookup_one_line(id: String) -> Result<String, ledgix::Error> { Ok(id) }

    pub struct Svc;

    impl Svc {
        pub async fn stripe_one_line(&self, n: u64) -> Result<u64, ledgix::Error> { Ok(n) }
    }

    pub fn wire_one_line(n: u64) -> super::BoxedResult { Box::pin(async move { Ok(n) }) }
}}

type BoxedResult = Pin<Box<dyn Future<Output = Result<u64, ledgix::Error>> + Send>>;

// bodies that end in `return`, or never return, or need the return type to coerce
#[ledgix::guarded]
async fn returns_explicitly(n: u64) -> Result<u64, ledgix::Error> {
    return Ok(n);
}

#[ledgix::guarded]
async fn not_yet(n: u64) -> Result<u64, ledgix::Error> {
    let _ = n;
    todo!()
}

#[ledgix::guarded]
async fn coerces(n: u64) -> Result<Box<dyn std::fmt::Debug + Send>, ledgix::Error> {
    Ok(Box::new(n))
}

// a `use` inside the body must not change what the generated code means (tracing-attributes'
// `type_shadowing.rs`): the body's items stay in the body's own block, in both shapes
type Output = Result<u64, ledgix::Error>;

#[allow(dead_code)]
enum Shadow {
    Output,
    Result,
}

mod other {
    pub type Result = std::result::Result<u64, ledgix::Error>;
}

#[ledgix::guarded]
async fn shadowing(n: u64) -> Output {
    use Shadow::*;
    let _ = (Output, Result);
    Ok(n)
}

#[ledgix::guarded]
async fn shadowing_result(n: u64) -> Result<u64, ledgix::Error> {
    use other::Result;
    let r: Result = Ok(n);
    r
}

#[ledgix::guarded]
fn boxed_shadowing(n: u64) -> Pin<Box<dyn Future<Output = Output> + Send>> {
    Box::pin(async move {
        use Shadow::*;
        let _ = (Output, Result);
        Ok(n)
    })
}

#[ledgix::guarded]
fn boxed_shadowing_result(
    n: u64,
) -> Pin<Box<dyn Future<Output = Result<u64, ledgix::Error>> + Send>> {
    Box::pin(async move {
        use other::Result;
        let r: Result = Ok(n);
        r
    })
}

fn main() {
    let _ = TryFrom;
    assert_send(one_line(String::new()));
    assert_send(Echo.one_line_method(String::new()));
    assert_send(one_liners::lookup_one_line(String::new()));
    assert_send(one_liners::Svc.stripe_one_line(1));
    assert_send(one_liners::wire_one_line(1));
    assert_send(returns_explicitly(1));
    assert_send(not_yet(1));
    assert_send(coerces(1));
    assert_send(shadowing(1));
    assert_send(shadowing_result(1));
    assert_send(boxed_shadowing(1));
    assert_send(boxed_shadowing_result(1));
    assert_send(create_payment(1.0, String::new(), String::new()));
    assert_send(question_mark(1, String::new(), 0));
    assert_send(inner_attribute(1));
    assert_send(refs("x", &[1u8], 5u8, &1u8));
    assert_send(generic(1u8));
    assert_send(returns_impl(1));
    assert_send(aliased(1));
    assert_send(destructured((1, 2)));
    assert_send(countdown(3));
    assert_send(factorial(3));
    assert_send(unboxed(3));
    assert_send(outer(3));
    assert_send(overridden(3));
    assert_send(Echo.run(1));
    assert_send(DynTool::invoke(&Echo, String::new(), String::new()));
    assert_send(DynTool::pair(&Echo, (1, 2)));
    drop(Tool::call(&Echo, String::new()));
    drop(Echo.default_call(1));
    let _ = MyError::Other;
}

// Type-checked, never called: a `Service` needs a client.
#[allow(dead_code)]
fn service_futures_are_send(mut svc: Service, boxed: Box<Service>) {
    assert_send(boxed.boxed_self(1));
    assert_send(svc.by_ref(1));
    assert_send(svc.by_mut(1));
    assert_send(svc.by_value(String::new()));
    assert_send(Service::returns_self_type(1));
}
