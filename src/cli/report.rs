//! What a run reports besides its metrics: the Markdown table of its
//! results, and the peak memory of the process.

use crate::train::History;

/// The peak resident memory of this process so far, in MB (Linux's
/// `VmHWM`), or `None` where it cannot be read.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// A Markdown table of a run's results, for the book.
pub fn result_table(h: &History) -> String {
    let c = &h.config;
    let last = h.last();
    let best = h.best_valid();
    let rss = h
        .peak_rss_mb
        .map_or("n/a".to_string(), |m| format!("{m:.0} MB"));
    let wall = h
        .wall_seconds
        .map_or("n/a".to_string(), |s| format!("{s:.0} s"));
    let test = h.test.as_ref().map_or(String::new(), |t| {
        format!(
            "| test perplexity (weights of epoch, bits per character) | \
             {:.2} ({}, {:.3}) |\n",
            t.perplexity, t.epoch, t.bpc
        )
    });
    format!(
        "| measure | value |\n|---|---|\n\
         | training perplexity (bits per character) | {:.2} ({:.3}) |\n\
         | validation perplexity (bits per character) | {:.2} ({:.3}) |\n\
         | best validation perplexity (epoch, bits per character) | {:.2} \
         ({}, {:.3}) |\n{}\
         | tokens/s (training, {}{}) | {:.0} |\n\
         | wall time, {} epochs | {} |\n\
         | peak RSS | {} |\n\
         | optimizer, lr, clip θ, dropout, weight drop, seed | {}, {}, {}, \
         {}, {}, {} |\n",
        last.train_perplexity,
        last.train_perplexity.log2(),
        last.valid_perplexity,
        last.valid_perplexity.log2(),
        best.valid_perplexity,
        best.epoch,
        best.valid_perplexity.log2(),
        test,
        h.device,
        h.threads.map_or(String::new(), |n| {
            format!(", {n} thread{}", if n == 1 { "" } else { "s" })
        }) + &h
            .path
            .as_ref()
            .map_or(String::new(), |p| format!(", {p} path")),
        h.tokens_per_sec(),
        h.epochs.len(),
        wall,
        rss,
        c.optimizer.name(),
        c.lr,
        c.clip,
        c.dropout,
        c.weight_drop,
        c.seed,
    )
}
