//! The shared parts of the Ledgix SDK's benchmarks: the physical floor a guarded call is
//! measured against, CPU-time readers, statistics and the ABBA schedule, a mock Vault in a
//! child process, and the guarded tools the benchmarks call.
//!
//! The `bench` binary of this package runs the benchmark sections (each in a fresh process)
//! and prints the `bench:` line; the criterion benches (`cargo bench -p ledgix-bench`) share
//! this floor code instead of copying it. See BENCHMARKS.md for the method.
#![deny(unsafe_code)]

pub mod calls;
pub mod child;
pub mod cpu;
pub mod floor;
pub mod ledger_floor;
pub mod machine;
pub mod stats;

/// The error type of the harness: any error, sendable between tasks.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// A result of the harness.
pub type R<T> = Result<T, BoxError>;

/// One figure of a section: `(key on the bench: line, median, min, max)` over the section's
/// rounds. A figure measured once has `min == median == max`; one that could not be measured
/// is `NaN` (printed `na`).
pub type Figure = (&'static str, f64, f64, f64);
