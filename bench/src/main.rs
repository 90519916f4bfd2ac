//! The benchmark harness: trains each model for a few epochs, from scratch
//! and (with the `torch` feature) on libtorch's CPU kernels, in this one
//! process, and writes a JSON report (and a Markdown table for the book).
//!
//! ```console
//! $ cargo run --release -p bench
//! $ LIBTORCH_USE_PYTORCH=1 cargo run --release -p bench --features torch
//! ```
//!
//! FLOPs are counted for matrix products only, per training token: a
//! product of an `(n, k)` and a `(k, m)` matrix is 2nkm. A layer with G
//! gate blocks (GRU 3, LSTM 4) and h hidden units multiplies H_{t−1} by
//! `(h, G·h)` weights; a layer above the first also multiplies its input
//! by `(h, G·h)`; the first layer's one-hot input is a row lookup and
//! counts 0; the output layer is `(h, q)`. Backward runs two products per
//! forward product (the input gradient and the weight gradient), so a
//! training token costs 3 × the forward FLOPs.

use anyhow::{Context, Result};
use clap::Parser;
use d2l::data::{load_book_splits, load_splits_time_machine};
use d2l::data::{Sampling, SeqDataLoader};
use d2l::io::atomic::write_atomic;
use d2l::model::{CodePath, ThreadSplit};
use measure::{flops_per_token, Setup, MODELS};
use serde_json::json;
use std::path::{Path, PathBuf};

mod gemm;
mod gpu;
mod measure;
mod plot;
mod report;
mod steps;
mod sweep;

/// Benchmarks the from-scratch models against libtorch's CPU kernels (with
/// the `torch` feature), in one process, on d2l's settings: batch 32, 35
/// steps, 256 hidden units, the first 10,000 characters. Prints a JSON
/// report and writes it to --json.
#[derive(Parser)]
#[command(name = "bench")]
struct Args {
    /// Epochs run and discarded before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Epochs measured per model; the report gives their median and spread.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Models to run, comma-separated: gru, lstm, lstm2 (2-layer LSTM).
    #[arg(long, value_delimiter = ',', default_value = "gru,lstm,lstm2")]
    models: Vec<String>,
    /// Thread counts for the scratch models, comma-separated (each
    /// minibatch is split between the threads) [default: 1 and every
    /// core].
    #[arg(long, value_delimiter = ',')]
    threads: Vec<usize>,
    /// The from-scratch paths to run, comma-separated: teaching (the
    /// step-by-step loops the chapters show), fast (whole-sequence matrix
    /// products, "Making it fast").
    #[arg(long, value_delimiter = ',', default_value = "teaching,fast")]
    paths: Vec<CodePath>,
    /// Skip the runs whose threads share every step. By default, with more
    /// than one thread on the fast path, each model (and each point of the
    /// sweep) also runs with its threads sharing every step instead of
    /// each taking a block of the batch.
    #[arg(long)]
    no_steps_split: bool,
    /// Calls per step micro-benchmark.
    #[arg(long, default_value_t = 300)]
    step_iters: usize,
    /// Where to write the JSON report.
    #[arg(long, default_value = "target/bench/report.json")]
    json: PathBuf,
    /// Also write a Markdown table of the results here (for the book).
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// On a machine with an NVIDIA GPU (needs --features torch): compare
    /// one forward/backward on CPU and on CUDA with the same weights (f32,
    /// within 1e-4), and measure the concise models' tokens/s on CUDA,
    /// instead of the CPU benchmarks.
    #[arg(long)]
    gpu_check: bool,
    /// Also measure how the cost grows: each model at hidden sizes 64 to
    /// 1024 (batch 32) and batch sizes 32 to 512 (hidden 256), on the
    /// fast path (one thread and every core) and on libtorch, on the
    /// whole book's training text.
    #[arg(long)]
    sweep: bool,
    /// With --sweep: write the sweep's Markdown table here.
    #[arg(long)]
    sweep_markdown: Option<PathBuf>,
    /// With --sweep: write the sweep's figure (SVG) here.
    #[arg(long)]
    sweep_svg: Option<PathBuf>,
    /// Measure nothing: read a report that an earlier run wrote and write
    /// its tables and figure again (--markdown, --sweep-markdown,
    /// --sweep-svg), after a change to how they are drawn.
    #[arg(long, value_name = "REPORT_JSON", conflicts_with = "gpu_check")]
    render: Option<PathBuf>,
}

const BATCH: usize = 32;
const STEPS: usize = 35;
const HIDDENS: usize = 256;

fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(path) = &args.render {
        return render_saved(&args, path);
    }
    let wants_sweep = args.sweep_markdown.is_some() || args.sweep_svg.is_some();
    anyhow::ensure!(
        args.sweep || !wants_sweep,
        "--sweep-markdown and --sweep-svg need --sweep (or --render REPORT)"
    );
    d2l::model::parallel::keep_freed_memory();
    for m in &args.models {
        anyhow::ensure!(
            MODELS.contains(&m.as_str()),
            "unknown model {m:?}: choose from {}",
            MODELS.join(", ")
        );
    }
    anyhow::ensure!(args.epochs > 0, "--epochs must be at least 1");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = args.threads.clone();
    if threads.is_empty() {
        threads = if cores > 1 { vec![1, cores] } else { vec![1] };
    }
    anyhow::ensure!(
        threads.iter().all(|&t| t > 0),
        "--threads: every count must be at least 1"
    );
    let splits = load_splits_time_machine(Some(10_000), 5_000)?;
    if args.gpu_check {
        return gpu::check(&args, &splits.train, splits.vocab.len());
    }
    let loader = SeqDataLoader::new(
        splits.train.clone(),
        BATCH,
        STEPS,
        Sampling::Sequential,
    )?;
    let vocab = splits.vocab.len();
    let mut gemm = gemm::rates(cores);
    let first = gemm::peak(&gemm, cores);
    eprintln!("f32 GEMM on {cores} thread(s): {first:.1} GFLOP/s");

    let mut models = Vec::new();
    let epochs = (args.warmup, args.epochs);
    for name in &args.models {
        let (gates, layers) = measure::shape(name);
        let flops = flops_per_token(gates, layers, HIDDENS, vocab);
        let mut runs = Vec::new();
        for &path in &args.paths {
            for &threads in &threads {
                let mut splits = vec![ThreadSplit::Batch];
                if path == CodePath::Fast && threads > 1 && !args.no_steps_split
                {
                    splits.push(ThreadSplit::Steps);
                }
                for split in splits {
                    let setup = Setup {
                        threads,
                        path,
                        split,
                    };
                    let sizes = (vocab, HIDDENS);
                    let r =
                        measure::scratch(name, sizes, setup, &loader, epochs)?;
                    runs.push(("scratch", Some((path, split)), r));
                }
            }
        }
        #[cfg(feature = "torch")]
        runs.push((
            "concise",
            None,
            measure::concise(name, vocab, HIDDENS, &loader, epochs)?,
        ));
        for (imp, setup, r) in runs {
            let path = setup.map(|(p, _)| p.name());
            let split = setup.map(|(_, s)| s.name());
            let gflops = r.median * flops / 1e9;
            eprintln!(
                "{name:>5} {imp:<8} {:<9} {} thread(s) {:<5} {:>8.0} \
                 tokens/s (median of {}), {gflops:.1} GFLOP/s",
                path.unwrap_or("libtorch"),
                r.threads,
                split.unwrap_or(""),
                r.median,
                r.per_epoch.len(),
            );
            models.push(json!({
                "model": name,
                "impl": imp,
                "path": path,
                "split": split,
                "threads": r.threads,
                "tokens_per_sec": {
                    "median": r.median, "min": r.min, "max": r.max,
                    "per_epoch": r.per_epoch,
                },
                "flops_per_token": flops,
                "gflops": gflops,
                "peak_rss_mb": r.peak_rss_mb,
                "rss_before_mb": r.rss_before_mb,
            }));
        }
    }

    let sweep = if args.sweep {
        let book = load_book_splits()?;
        let steps = !args.no_steps_split;
        sweep::run(&args.models, epochs, &book.train, vocab, (cores, steps))?
    } else {
        Vec::new()
    };
    let splits = gemm::step_splits(cores);
    // The peak once more at the end, so that a slow spell of a shared
    // machine at the start does not set it: the best of both.
    gemm.extend(gemm::square_rates(cores, "end"));
    let peak = gemm::peak(&gemm, cores);
    eprintln!("f32 GEMM peak on {cores} thread(s): {peak:.1} GFLOP/s");
    let with_share = |mut rows: Vec<serde_json::Value>| {
        for r in &mut rows {
            r["fraction_of_peak"] =
                json!(r["gflops"].as_f64().map(|g| g / peak));
        }
        rows
    };
    let (models, sweep) = (with_share(models), with_share(sweep));
    let report = json!({
        "settings": {
            "batch_size": BATCH, "num_steps": STEPS, "num_hiddens": HIDDENS,
            "vocab_size": vocab, "warmup_epochs": args.warmup,
            "measured_epochs": args.epochs,
        },
        "machine": report::machine(),
        "gemm_f32": gemm,
        "peak_gflops": peak,
        "step_product_split": splits,
        "models": models,
        "steps": steps::step_benchmarks(vocab, args.step_iters),
        "ratios": report::ratios(&models),
        "sweep": sweep,
    });
    let text = serde_json::to_string_pretty(&report)?;
    write(&args.json, &text)?;
    render(&args, &report)?;
    println!("{text}");
    Ok(())
}

/// Writes the tables and the figure of `report` where `args` asks.
fn render(args: &Args, report: &serde_json::Value) -> Result<()> {
    if let Some(path) = &args.markdown {
        write(path, &report::markdown(report))?;
    }
    let sweep = report["sweep"].as_array().cloned().unwrap_or_default();
    let wants_sweep = args.sweep_markdown.is_some() || args.sweep_svg.is_some();
    anyhow::ensure!(
        !sweep.is_empty() || !wants_sweep,
        "the report holds no sweep: measure one with --sweep"
    );
    let peak = report["peak_gflops"].as_f64().unwrap_or(f64::NAN);
    if let Some(path) = &args.sweep_markdown {
        write(path, &report::sweep_markdown(&sweep, peak))?;
    }
    if let Some(path) = &args.sweep_svg {
        // The models in the order the sweep measured them.
        let mut models: Vec<String> = Vec::new();
        for r in &sweep {
            let m = r["model"].as_str().unwrap_or_default().to_string();
            if !models.contains(&m) {
                models.push(m);
            }
        }
        let svg = plot::sweep_svg(&sweep, &models, peak)
            .map_err(|e| anyhow::anyhow!("drawing the sweep: {e}"))?;
        write(path, &svg)?;
    }
    Ok(())
}

/// `--render`: the tables and the figure of a report already written.
fn render_saved(args: &Args, path: &Path) -> Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("reading {}: give a report that bench wrote", path.display())
    })?;
    let report: serde_json::Value =
        serde_json::from_str(&text).with_context(|| {
            format!("{} is not a bench report (JSON)", path.display())
        })?;
    anyhow::ensure!(
        report["models"].is_array() && report["gemm_f32"].is_array(),
        "{} is not a bench report: it has no models or gemm_f32",
        path.display()
    );
    render(args, &report)
}

/// Writes `text` to `path` atomically, creating its folder.
fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    write_atomic(path, text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
}
