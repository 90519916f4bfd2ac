//! The exercise checker: `cargo run -p exercises`.

use clap::Parser;
use exercises::checker::{report, EXERCISES};
use exercises::{LEARNER, REFERENCE};
use std::process::ExitCode;

/// Checks your answers to the book's exercises, in
/// exercises/src/learner.rs, against the real models: gradients against
/// finite differences, forward steps against the chapters' cells. Prints
/// PASS, TODO (the stub still calls todo!()) or FAIL with what is wrong,
/// for each exercise, and exits with status 1 unless every one passed.
#[derive(Parser)]
#[command(name = "exercises")]
struct Args {
    /// Check the reference solutions (exercises/src/solutions.rs) instead.
    #[arg(long)]
    reference: bool,
    /// Check only the exercises whose id starts with this, e.g. `gru-`.
    #[arg(long, value_name = "PREFIX")]
    only: Option<String>,
    /// List the exercises and their stubs, and check nothing.
    #[arg(long)]
    list: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let prefix = args.only.as_deref().unwrap_or("");
    let chosen: Vec<_> = EXERCISES
        .iter()
        .filter(|e| e.id.starts_with(prefix))
        .collect();
    if chosen.is_empty() {
        let ids: Vec<&str> = EXERCISES.iter().map(|e| e.id).collect();
        eprintln!(
            "error: no exercise id starts with {prefix:?}; the ids are: {}",
            ids.join(", ")
        );
        return ExitCode::from(2);
    }
    if args.list {
        for e in &chosen {
            println!("{:<28} {} ({})", e.id, e.title, e.stubs);
        }
        return ExitCode::SUCCESS;
    }
    let (answers, file) = if args.reference {
        (&REFERENCE, "exercises/src/solutions.rs")
    } else {
        (&LEARNER, "exercises/src/learner.rs")
    };
    let (text, passed) = report(&chosen, answers, file);
    print!("{text}");
    if passed == chosen.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
