//! The Ledgix SDK's benchmark: what a guarded call costs over the physical floor, and against
//! the official Python SDK.
//!
//! ```text
//! cargo run --release -p ledgix-bench                  # every section (~2 min on 2 cores)
//! cargo run --release -p ledgix-bench -- --quick       # a smoke run
//! cargo run --release -p ledgix-bench -- --only cpu,latency
//! cargo run --release -p ledgix-bench -- --section cpu # one section, in this process
//! bench/callgrind.sh                                   # where the guard's extra CPU goes
//! ```
//!
//! Every figure is a ratio against a floor measured in the same run, with its median, min and
//! max over the section's rounds (BENCHMARKS.md has the method). Each section runs in a fresh
//! process (this program with `--section NAME`); sections print their own tables to stderr,
//! the summary goes to stdout and ends with two machine-readable lines:
//! `bench: KEY=MEDIAN …` and `spread: KEY=MIN..MAX …`.
//!
//! Environment: `LEDGIX_BENCH_PYTHON` (a python with ledgix-python 0.4.0; default
//! `<target>/python-peer-venv/bin/python`, which `scripts/python_peer/run.sh --venv-only`
//! creates), `LEDGIX_BENCH_QUICK=1` (as `--quick`).

mod goals;
mod profile;
mod sections;

use std::process::{ExitCode, Stdio};
use std::time::Instant;

use ledgix_bench::machine::Machine;
use ledgix_bench::{Figure, R, child};

/// A figure as it comes back from a section's process (`NaN` travels as `null`).
type Received = (String, Option<f64>, Option<f64>, Option<f64>);

fn main() -> ExitCode {
    let mut quick = std::env::var("LEDGIX_BENCH_QUICK").is_ok_and(|v| v == "1");
    let mut section = None;
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    let mut serve = false;
    let mut list = false;
    let mut calls: Option<(String, String)> = None;
    let mut bad = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--list" => list = true,
            a if a == child::SERVE_MOCK_ARG => serve = true,
            "--section" => section = args.next(),
            "--calls" => calls = args.next().zip(args.next()),
            "--only" => {
                only = args
                    .next()
                    .map(|s| s.split(',').map(str::to_string).collect())
            }
            other => bad = Some(other.to_string()),
        }
    }
    let outcome = if let Some(arg) = bad {
        Err(format!(
            "unknown argument `{arg}` (usage: bench [--quick] [--only a,b] | --section NAME | --list | --calls guard|floor N)"
        )
        .into())
    } else if serve {
        child::serve_mock()
    } else if let Some((kind, n)) = calls {
        match n.parse::<u64>() {
            Ok(n) => runtime().and_then(|rt| rt.block_on(profile::calls(&kind, n))),
            Err(e) => Err(format!("--calls {kind} {n}: {e}").into()),
        }
    } else if list {
        println!("{}", sections::ALL.join("\n"));
        Ok(())
    } else {
        runtime().and_then(|rt| match section {
            Some(name) => rt.block_on(one_section(&name, quick)),
            None => rt.block_on(run_all(only, quick)),
        })
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A multi-threaded tokio runtime, one worker per core (what `#[tokio::main]` builds).
fn runtime() -> R<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// One section in this process; its figures as one JSON line on stdout.
async fn one_section(name: &str, quick: bool) -> R<()> {
    let figures: Vec<Figure> = sections::run(name, quick).await?;
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

/// Runs the sections (all, or those named), each in a fresh process, then the summary.
async fn run_all(only: Option<Vec<String>>, quick: bool) -> R<()> {
    let started = Instant::now();
    let machine = Machine::describe();
    eprintln!(
        "bench: {}{}",
        machine.line(),
        if quick { " (quick)" } else { "" }
    );
    let names: Vec<String> = match only {
        Some(names) => {
            for n in &names {
                if !sections::ALL.contains(&n.as_str()) {
                    return Err(format!(
                        "no section `{n}` (sections: {})",
                        sections::ALL.join(", ")
                    )
                    .into());
                }
            }
            names
        }
        None => sections::ALL.iter().map(|s| s.to_string()).collect(),
    };
    let mut figures = Vec::new();
    for name in &names {
        eprintln!("\n== {name}");
        figures.extend(section_in_child(name, quick).await?);
    }
    print_summary(&machine, &figures, started.elapsed().as_secs_f64(), quick);
    Ok(())
}

/// Runs one section in a child process; its figures are the last line of its stdout.
async fn section_in_child(name: &str, quick: bool) -> R<Vec<Received>> {
    let mut command = tokio::process::Command::new(std::env::current_exe()?);
    command.args(["--section", name]);
    if quick {
        command.arg("--quick");
    }
    // `output()` would capture stderr too: spawn, so the section's table reaches the terminal.
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?
        .wait_with_output()
        .await?;
    if !output.status.success() {
        return Err(format!("section `{name}` failed ({})", output.status).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last)
        .map_err(|e| format!("section `{name}` printed no figures ({e}): {last}").into())
}

/// `1.05`, `15195` for large values, `na` for nothing.
fn shown(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() && v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.is_finite() => format!("{v:.2}"),
        _ => "na".into(),
    }
}

fn print_summary(machine: &Machine, figures: &[Received], seconds: f64, quick: bool) {
    println!();
    println!(
        "ledgix bench ({}; {seconds:.0} s{})",
        machine.line(),
        if quick {
            ", quick: not for the record"
        } else {
            ""
        }
    );
    println!();
    println!(
        "{:<28} {:>9} {:>9} {:>9}  {:<11} verdict",
        "figure (over rounds)", "median", "min", "max", "goal"
    );
    for (key, median, min, max) in figures {
        let (goal, verdict) = match goals::goal(key) {
            Some(g) => (
                g.text(),
                g.verdict(
                    median.unwrap_or(f64::NAN),
                    min.unwrap_or(f64::NAN),
                    max.unwrap_or(f64::NAN),
                ),
            ),
            None => (String::new(), ""),
        };
        println!(
            "{key:<28} {:>9} {:>9} {:>9}  {goal:<11} {verdict}",
            shown(*median),
            shown(*min),
            shown(*max)
        );
    }
    println!();
    let line =
        |f: &dyn Fn(&Received) -> String| figures.iter().map(f).collect::<Vec<_>>().join(" ");
    println!(
        "bench: {}",
        line(&|(k, m, _, _)| format!("{k}={}", shown(*m)))
    );
    println!(
        "spread: {}",
        line(&|(k, _, lo, hi)| format!("{k}={}..{}", shown(*lo), shown(*hi)))
    );
}
