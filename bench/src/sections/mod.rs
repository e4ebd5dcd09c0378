//! The benchmark sections. Each is one module with
//!
//! ```ignore
//! pub async fn run(quick: bool) -> Vec<(&'static str, f64, f64, f64)>
//! ```
//!
//! (or `-> Result<Vec<…>, E>` with `E: Display`) returning its figures — `(key on the bench:
//! line, median, min, max)` over its rounds — and printing its own human-readable table to
//! stderr. The harness runs each section in a fresh process (`bench --section NAME`), so none
//! inherits another's heap, pooled connections or mock Vault state.
//!
//! **Adding a section** is its module file in this folder and its name on the list below
//! (the order of the list is the order of the run and of the `bench:` line). A section
//! written elsewhere with the shape above (`examples/bench_sections/NAME.rs`) moves here as it
//! is. Its goals, if any, go in `goals.rs` (one line each).

use ledgix_bench::{Figure, R};

macro_rules! sections {
    ($($name:ident),* $(,)?) => {
        $(mod $name;)*

        /// Every section, in the order of the run.
        pub const ALL: &[&str] = &[$(stringify!($name)),*];

        /// Runs section `name` in this process.
        pub async fn run(name: &str, quick: bool) -> R<Vec<Figure>> {
            match name {
                $(stringify!($name) => IntoFigures::into_figures($name::run(quick).await),)*
                other => Err(format!("no section `{other}` (sections: {})", ALL.join(", ")).into()),
            }
        }
    };
}

sections! {
    memory,
    latency,
    throughput,
    cpu,
    verify,
    python,
    decisions,
    cache,
    gateway,
    mcp,
}

/// What a section's `run` may return.
pub trait IntoFigures {
    /// The figures, or why the section failed.
    fn into_figures(self) -> R<Vec<Figure>>;
}

impl IntoFigures for Vec<Figure> {
    fn into_figures(self) -> R<Vec<Figure>> {
        Ok(self)
    }
}

impl<E: std::fmt::Display> IntoFigures for Result<Vec<Figure>, E> {
    fn into_figures(self) -> R<Vec<Figure>> {
        self.map_err(|e| e.to_string().into())
    }
}

/// Prints one line of a section's table to stderr.
pub fn say(line: impl std::fmt::Display) {
    eprintln!("{line}");
}

/// Runs `fut` in a task of the runtime (as agent code runs), not on the `block_on` thread.
pub async fn spawned<T: Send + 'static>(
    fut: impl std::future::Future<Output = R<T>> + Send + 'static,
) -> R<T> {
    tokio::spawn(fut).await?
}
