//! Writes a Markdown table comparing training runs, from their
//! `metrics.json` files, and optionally a plot of their curves:
//!
//! `results_table [--plot OUT.svg] [--with COLUMNS] NAME=PATH ...`
//!
//! or, with `results_table --result PATH`, the `result.md` of one run
//! from its `metrics.json`, as the run itself writes it: so that every
//! run's table has the rows of the current code, however old the run.
//!
//! With `results_table --seeds NAME=PATH,PATH,... ...`, one row per
//! setting trained with several seeds: the mean and the range of the
//! runs' best validation perplexities, the range of the epochs where
//! each was best, and the mean and range of the last training
//! perplexities.
//!
//! The table has the columns every page needs (the perplexities, the
//! speed and the wall time); `--with threads,path,rss,epochs,test` adds
//! more (`test`: the test perplexity of a split that has a test part),
//! for a page whose point they make. Each run's `result.md` has them all.

use anyhow::{bail, Context, Result};
use d2l::cli::plot::plot_comparison;
use d2l::train::History;
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--result") {
        args.next();
        let Some(path) = args.next() else {
            bail!(
                "--result needs a metrics.json, e.g. --result run/metrics.json"
            );
        };
        print!("{}", d2l::cli::result_table(&read(&path)?));
        return Ok(());
    }
    if args.peek().map(String::as_str) == Some("--seeds") {
        args.next();
        return seeds_table(args);
    }
    let mut plot = None;
    if args.peek().map(String::as_str) == Some("--plot") {
        args.next();
        let Some(path) = args.next() else {
            bail!("--plot needs a file name, e.g. --plot compare.svg");
        };
        plot = Some(PathBuf::from(path));
    }
    let mut with: Vec<String> = Vec::new();
    if args.peek().map(String::as_str) == Some("--with") {
        args.next();
        let Some(list) = args.next() else {
            bail!("--with needs columns, e.g. --with threads,path");
        };
        with = list.split(',').map(str::to_string).collect();
        for c in &with {
            let known = ["threads", "path", "rss", "epochs", "test"];
            if !known.contains(&c.as_str()) {
                bail!(
                    "unknown column {c:?}: use threads, path, rss, epochs, \
                     test"
                );
            }
        }
    }
    let mut runs = Vec::new();
    for arg in args {
        let (name, path) = arg
            .split_once('=')
            .with_context(|| format!("expected NAME=PATH, got {arg:?}"))?;
        runs.push((name.to_string(), read(path)?));
    }
    let has = |c: &str| with.iter().any(|w| w == c);
    let mut head = vec![
        "model",
        "training ppl",
        "validation ppl",
        "best validation ppl (epoch, bpc)",
        "tokens/s",
    ];
    let extra = [
        ("threads", "threads"),
        ("path", "path"),
        ("rss", "peak RSS"),
        ("epochs", "epochs"),
        ("test", "test ppl (bpc)"),
    ];
    head.extend(extra.iter().filter(|(c, _)| has(c)).map(|(_, h)| *h));
    head.push("wall time");
    println!("| {} |", head.join(" | "));
    println!("|{}", "---|".repeat(head.len()));
    let or_na = |v: Option<f64>, unit: &str| {
        v.map_or("n/a".to_string(), |v| format!("{v:.0} {unit}"))
    };
    for (name, h) in &runs {
        let (last, best) = (h.last(), h.best_valid());
        let mut row = vec![
            format!("`{name}`"),
            format!("{:.2}", last.train_perplexity),
            format!("{:.2}", last.valid_perplexity),
            format!(
                "{:.2} ({}, {:.3})",
                best.valid_perplexity,
                best.epoch,
                best.valid_perplexity.log2()
            ),
            format!("{:.0}", h.tokens_per_sec()),
        ];
        if has("threads") {
            row.push(h.threads.map_or("n/a".to_string(), |t| t.to_string()));
        }
        if has("path") {
            row.push(h.path.clone().unwrap_or_else(|| "n/a".to_string()));
        }
        if has("rss") {
            row.push(or_na(h.peak_rss_mb, "MB"));
        }
        if has("epochs") {
            row.push(h.epochs.len().to_string());
        }
        if has("test") {
            row.push(h.test.as_ref().map_or("n/a".to_string(), |t| {
                format!("{:.2} ({:.3})", t.perplexity, t.bpc)
            }));
        }
        row.push(or_na(h.wall_seconds, "s"));
        println!("| {} |", row.join(" | "));
    }
    if let Some(path) = plot {
        let curves: Vec<_> =
            runs.into_iter().map(|(name, h)| (name, h.epochs)).collect();
        plot_comparison(&curves, &path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The `--seeds` table: for each `NAME=PATH,PATH,...`, the mean and the
/// range over its runs of the best validation perplexity and of the last
/// training perplexity.
fn seeds_table(args: impl Iterator<Item = String>) -> Result<()> {
    println!(
        "| setting | runs | best validation ppl, mean (min–max) | its \
         epoch (min–max) | last training ppl, mean (min–max) | epochs |"
    );
    println!("|---|---|---|---|---|---|");
    for arg in args {
        let (name, paths) = arg
            .split_once('=')
            .with_context(|| format!("expected NAME=PATH,PATH, got {arg:?}"))?;
        let runs: Vec<History> =
            paths.split(',').map(read).collect::<Result<_>>()?;
        let values = |f: &dyn Fn(&History) -> f64| -> Vec<f64> {
            runs.iter().map(f).collect()
        };
        let range = |v: &[f64]| {
            let min = v.iter().copied().fold(f64::INFINITY, f64::min);
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (min, max)
        };
        let stats = |v: Vec<f64>| {
            let mean = v.iter().sum::<f64>() / v.len() as f64;
            let (min, max) = range(&v);
            format!("{mean:.2} ({min:.2}–{max:.2})")
        };
        let best = values(&|h| h.best_valid().epoch as f64);
        let (first, last) = range(&best);
        let mut epochs: Vec<usize> =
            runs.iter().map(|h| h.epochs.len()).collect();
        epochs.sort_unstable();
        epochs.dedup();
        let epochs: Vec<String> = epochs.iter().map(usize::to_string).collect();
        println!(
            "| `{name}` | {} | {} | {first}–{last} | {} | {} |",
            runs.len(),
            stats(values(&|h| h.best_valid().valid_perplexity)),
            stats(values(&|h| h.last().train_perplexity)),
            epochs.join(", ")
        );
    }
    Ok(())
}

/// A run's history from its `metrics.json`.
fn read(path: &str) -> Result<History> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {path}"))?;
    let h: History = serde_json::from_str(&text)
        .with_context(|| format!("parsing {path}"))?;
    if h.epochs.is_empty() {
        bail!("{path} has no epochs");
    }
    Ok(h)
}
