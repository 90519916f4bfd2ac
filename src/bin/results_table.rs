//! Writes a Markdown table comparing training runs, from their
//! `metrics.json` files: `results_table NAME=PATH ...`.

use anyhow::{Context, Result};
use d2l::train::History;

fn main() -> Result<()> {
    println!(
        "| model | training perplexity | validation perplexity | \
         tokens/s | epochs |"
    );
    println!("|---|---|---|---|---|");
    for arg in std::env::args().skip(1) {
        let (name, path) = arg
            .split_once('=')
            .with_context(|| format!("expected NAME=PATH, got {arg:?}"))?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {path}"))?;
        let h: History = serde_json::from_str(&text)
            .with_context(|| format!("parsing {path}"))?;
        let last = h.last();
        println!(
            "| {name} | {:.2} | {:.2} | {:.0} | {} |",
            last.train_perplexity,
            last.valid_perplexity,
            h.tokens_per_sec(),
            h.epochs.len()
        );
    }
    Ok(())
}
