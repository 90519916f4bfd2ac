//! Writes a Markdown table comparing training runs, from their
//! `metrics.json` files, and optionally a plot of their curves:
//!
//! `results_table [--plot OUT.svg] NAME=PATH ...`

use anyhow::{bail, Context, Result};
use d2l::plot::plot_comparison;
use d2l::train::History;
use std::path::PathBuf;

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    let mut plot = None;
    if args.peek().map(String::as_str) == Some("--plot") {
        args.next();
        let Some(path) = args.next() else {
            bail!("--plot needs a file name, e.g. --plot compare.svg");
        };
        plot = Some(PathBuf::from(path));
    }
    let mut runs = Vec::new();
    for arg in args {
        let (name, path) = arg
            .split_once('=')
            .with_context(|| format!("expected NAME=PATH, got {arg:?}"))?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {path}"))?;
        let h: History = serde_json::from_str(&text)
            .with_context(|| format!("parsing {path}"))?;
        if h.epochs.is_empty() {
            bail!("{path} has no epochs");
        }
        runs.push((name.to_string(), h));
    }
    println!(
        "| model | training perplexity | validation perplexity | best \
         validation (epoch) | tokens/s | threads | path | wall time | peak \
         RSS | epochs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let or_na = |v: Option<f64>, unit: &str| {
        v.map_or("n/a".to_string(), |v| format!("{v:.0} {unit}"))
    };
    for (name, h) in &runs {
        let last = h.last();
        let best = h.best_valid();
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} ({}) | {:.0} | {} | {} | {} | \
             {} | {} |",
            last.train_perplexity,
            last.valid_perplexity,
            best.valid_perplexity,
            best.epoch,
            h.tokens_per_sec(),
            h.threads.map_or("n/a".to_string(), |t| t.to_string()),
            h.path.as_deref().unwrap_or("n/a"),
            or_na(h.wall_seconds, "s"),
            or_na(h.peak_rss_mb, "MB"),
            h.epochs.len()
        );
    }
    if let Some(path) = plot {
        let curves: Vec<_> =
            runs.into_iter().map(|(name, h)| (name, h.epochs)).collect();
        plot_comparison(&curves, &path)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
