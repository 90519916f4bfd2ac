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
use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use clap::Parser;
use d2l::cli::peak_rss_mb;
use d2l::data::{load_splits_time_machine, Sampling, SeqDataLoader};
use d2l::fast::kernel::{add_mat_mul_packed, Packed};
use d2l::model::LanguageModel;
use d2l::model::{CodePath, RnnModel};
use d2l::rnn::{Cell, Input, Tensors};
use d2l::train::{train_epoch, TrainConfig};
use ndarray::linalg::general_mat_mul;
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Instant;

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
}

const BATCH: usize = 32;
const STEPS: usize = 35;
const HIDDENS: usize = 256;

fn main() -> Result<()> {
    let args = Args::parse();
    d2l::model::parallel::keep_freed_memory();
    for m in &args.models {
        anyhow::ensure!(
            ["gru", "lstm", "lstm2"].contains(&m.as_str()),
            "unknown model {m:?}: choose from gru, lstm, lstm2"
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

    // The shapes inside the loop over time (batch × hiddens × gates ·
    // hiddens, forward, and back), and a large square one, through
    // ndarray's product and through the fast path's packed kernel.
    let shapes = [(32, 256, 768), (32, 256, 1024), (32, 1024, 256)];
    let mut gemm: Vec<Value> = Vec::new();
    for (n, k, m) in shapes.into_iter().chain([(512, 512, 512)]) {
        for packed in [false, true] {
            if packed && (n, k, m) == (512, 512, 512) {
                continue;
            }
            gemm.push(json!({
                "shape": format!("{n}x{k}x{m}"),
                "product": if packed { "packed kernel" } else { "ndarray" },
                "gflops": gemm_gflops(n, k, m, packed),
            }));
        }
    }

    let mut models = Vec::new();
    for name in &args.models {
        let (gates, layers) = match name.as_str() {
            "gru" => (3, 1),
            "lstm" => (4, 1),
            _ => (4, 2),
        };
        let flops = flops_per_token(gates, layers, HIDDENS, vocab);
        let mut runs = Vec::new();
        for &path in &args.paths {
            for &t in &threads {
                let mut rng = StdRng::seed_from_u64(0);
                let setup = Setup { threads: t, path };
                let scratch = match name.as_str() {
                    "gru" => {
                        let v = Variant::ResetBefore;
                        let cell = Gru::new(vocab, HIDDENS, v);
                        let m = RnnModel::<f32, _>::new(cell, vocab, &mut rng);
                        measure(&mut setup.apply(m), &loader, &args)?
                    }
                    "lstm" => {
                        let cell = Lstm::new(vocab, HIDDENS);
                        let m = RnnModel::<f32, _>::new(cell, vocab, &mut rng);
                        measure(&mut setup.apply(m), &loader, &args)?
                    }
                    _ => {
                        let cell: Stack<Lstm> =
                            stack(2, vocab, HIDDENS, Lstm::new);
                        let m = RnnModel::<f32, _>::new(cell, vocab, &mut rng);
                        measure(&mut setup.apply(m), &loader, &args)?
                    }
                };
                runs.push(("scratch", Some(path), scratch));
            }
        }
        #[cfg(feature = "torch")]
        runs.push(("concise", None, concise(name, vocab, &loader, &args)?));
        for (imp, path, r) in runs {
            let path = path.map(CodePath::name);
            eprintln!(
                "{name:>5} {imp:<8} {:<9} {} thread(s) {:>8.0} tokens/s \
                 (median of {}), {:.1} GFLOP/s",
                path.unwrap_or("libtorch"),
                r.threads,
                r.median,
                r.per_epoch.len(),
                r.median * flops / 1e9
            );
            models.push(json!({
                "model": name,
                "impl": imp,
                "path": path,
                "threads": r.threads,
                "tokens_per_sec": {
                    "median": r.median, "min": r.min, "max": r.max,
                    "per_epoch": r.per_epoch,
                },
                "flops_per_token": flops,
                "gflops": r.median * flops / 1e9,
                "peak_rss_mb": r.peak_rss_mb,
                "rss_before_mb": r.rss_before_mb,
            }));
        }
    }

    let steps = step_benchmarks(vocab, args.step_iters);
    let report = json!({
        "settings": {
            "batch_size": BATCH, "num_steps": STEPS, "num_hiddens": HIDDENS,
            "vocab_size": vocab, "warmup_epochs": args.warmup,
            "measured_epochs": args.epochs,
        },
        "machine": machine(),
        "gemm_f32": gemm,
        "models": models,
        "steps": steps,
        "ratios": ratios(&models),
    });
    let text = serde_json::to_string_pretty(&report)?;
    if let Some(dir) = args.json.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {}", dir.display()))?;
    }
    d2l::io::atomic::write_atomic(&args.json, text.as_bytes())
        .with_context(|| format!("writing {}", args.json.display()))?;
    if let Some(path) = &args.markdown {
        d2l::io::atomic::write_atomic(path, markdown(&report).as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    println!("{text}");
    Ok(())
}

/// How a from-scratch model trains in one run of the benchmark.
#[derive(Clone, Copy)]
struct Setup {
    threads: usize,
    path: CodePath,
}

impl Setup {
    fn apply<C: Cell<f32>>(self, mut m: RnnModel<f32, C>) -> RnnModel<f32, C> {
        m.threads = self.threads;
        m.path = self.path;
        m
    }
}

/// Tokens per second of the measured epochs.
struct Measured {
    per_epoch: Vec<f64>,
    threads: usize,
    /// The process's memory when the model started: libtorch alone, when
    /// it is linked in, holds a few hundred MB.
    rss_before_mb: Option<f64>,
    median: f64,
    min: f64,
    max: f64,
    peak_rss_mb: Option<f64>,
}

/// Trains `model` for the warm-up and measured epochs, d2l's loop
/// (sequential batches, clipping at 1, SGD), and measures its tokens/s and
/// the peak memory the process reached while it ran.
fn measure<M: LanguageModel>(
    model: &mut M,
    loader: &SeqDataLoader,
    args: &Args,
) -> Result<Measured> {
    reset_peak_rss();
    let rss_before_mb = current_rss_mb();
    let config = TrainConfig {
        num_epochs: args.warmup + args.epochs,
        lr: 1.0,
        clip: 1.0,
        seed: 0,
        quiet: true,
        patience: None,
        lr_decay: None,
        optimizer: Default::default(),
        dropout: 0.0,
        weight_drop: 0.0,
    };
    let mut rng = d2l::train::train_rng(0);
    let mut per_epoch = Vec::new();
    for epoch in 1..=config.num_epochs {
        let (_, tokens_per_sec, _) =
            train_epoch(model, loader, &config, epoch, &mut rng)?;
        if epoch > args.warmup {
            per_epoch.push(tokens_per_sec);
        }
    }
    let mut sorted = per_epoch.clone();
    sorted.sort_by(f64::total_cmp);
    Ok(Measured {
        median: sorted[sorted.len() / 2],
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        per_epoch,
        threads: model.threads(),
        rss_before_mb,
        peak_rss_mb: peak_rss_mb(),
    })
}

#[cfg(feature = "torch")]
fn concise(
    name: &str,
    vocab: usize,
    loader: &SeqDataLoader,
    args: &Args,
) -> Result<Measured> {
    use tch::{Device, Kind};
    tch::manual_seed(0);
    let (d, h) = (Device::Cpu, HIDDENS);
    match name {
        "gru" => {
            let mut m =
                ch_gru::concise::concise_gru(vocab, h, 1, d, Kind::Float);
            measure(&mut m, loader, args)
        }
        "lstm" => {
            let mut m =
                ch_lstm::concise::concise_lstm(vocab, h, 1, d, Kind::Float);
            measure(&mut m, loader, args)
        }
        _ => {
            let mut m =
                ch_lstm::concise::concise_lstm(vocab, h, 2, d, Kind::Float);
            measure(&mut m, loader, args)
        }
    }
}

#[cfg(not(feature = "torch"))]
mod gpu {
    pub fn check(_: &super::Args, _: &[usize], _: usize) -> anyhow::Result<()> {
        anyhow::bail!(
            "--gpu-check needs libtorch: build with --features torch \
             (LIBTORCH_USE_PYTORCH=1, PyTorch 2.11.0)"
        )
    }
}

#[cfg(feature = "torch")]
mod gpu {
    //! The GPU readiness check: is CUDA there, do CPU and CUDA agree on
    //! the same weights, and how fast are the concise models on it.
    use super::{measure, Args, BATCH, HIDDENS, STEPS};
    use anyhow::{bail, Result};
    use d2l::concise::ConciseRnn;
    use d2l::data::{Sampling, SeqDataLoader};
    use d2l::model::LanguageModel;
    use serde_json::json;
    use tch::{Cuda, Device, Kind};

    type Build<R> = fn(usize, usize, usize, Device, Kind) -> ConciseRnn<R>;

    /// The largest difference between the CPU model and the same model on
    /// `other` after one forward/backward from the same weights: loss, and
    /// every gradient.
    fn agreement<R: tch::nn::RNN>(
        build: Build<R>,
        layers: usize,
        vocab: usize,
        loader: &SeqDataLoader,
        other: Device,
    ) -> f64
    where
        R::State: d2l::concise::TorchState,
    {
        tch::manual_seed(0);
        let mut cpu = build(vocab, HIDDENS, layers, Device::Cpu, Kind::Float);
        let mut gpu = build(vocab, HIDDENS, layers, other, Kind::Float);
        tch::no_grad(|| gpu.vs.copy(&cpu.vs)).expect("same variables");
        max_difference(&mut cpu, &mut gpu, loader)
    }

    /// One forward/backward of both models on the first batch, from zero
    /// states: the largest difference of the losses and of every gradient.
    fn max_difference<R: tch::nn::RNN>(
        a: &mut ConciseRnn<R>,
        b: &mut ConciseRnn<R>,
        loader: &SeqDataLoader,
    ) -> f64
    where
        R::State: d2l::concise::TorchState,
    {
        let mut rng =
            <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(0);
        let batch = &loader.epoch(&mut rng)[0];
        let (mut s_a, mut s_b) = (a.begin_state(BATCH), b.begin_state(BATCH));
        let l_a = a.forward_backward(batch, &mut s_a);
        let l_b = b.forward_backward(batch, &mut s_b);
        let mut worst = (l_a - l_b).abs();
        let vb = b.vs.variables();
        for (name, v) in a.vs.variables() {
            let g_b = vb[&name].grad().to_device(Device::Cpu);
            let d = (v.grad().to_device(Device::Cpu) - g_b)
                .abs()
                .max()
                .double_value(&[]);
            worst = worst.max(d);
        }
        worst
    }

    pub fn check(args: &Args, train: &[usize], vocab: usize) -> Result<()> {
        let available = Cuda::is_available();
        eprintln!(
            "Cuda::is_available() = {available}, {} device(s)",
            Cuda::device_count()
        );
        if !available {
            bail!(
                "libtorch sees no CUDA device: check nvidia-smi, and that \
                 LD_LIBRARY_PATH points at the torch/lib of a CUDA build"
            );
        }
        let loader = SeqDataLoader::new(
            train.to_vec(),
            BATCH,
            STEPS,
            Sampling::Sequential,
        )?;
        let gru: Build<tch::nn::GRU> = ch_gru::concise::concise_gru;
        let lstm: Build<tch::nn::LSTM> = ch_lstm::concise::concise_lstm;
        let mut models = Vec::new();
        for name in &args.models {
            let (diff, r) = match name.as_str() {
                "gru" => {
                    let d = agreement(gru, 1, vocab, &loader, Device::Cuda(0));
                    let mut m =
                        gru(vocab, HIDDENS, 1, Device::Cuda(0), Kind::Float);
                    (d, measure(&mut m, &loader, args)?)
                }
                "lstm" | "lstm2" => {
                    let layers = if name == "lstm" { 1 } else { 2 };
                    let d = agreement(
                        lstm,
                        layers,
                        vocab,
                        &loader,
                        Device::Cuda(0),
                    );
                    let mut m = lstm(
                        vocab,
                        HIDDENS,
                        layers,
                        Device::Cuda(0),
                        Kind::Float,
                    );
                    (d, measure(&mut m, &loader, args)?)
                }
                other => bail!("unknown model {other:?}"),
            };
            let ok = diff <= d2l::testkit::agreement::GPU_TOL;
            eprintln!(
                "{name:>5} cuda: CPU/CUDA max difference {diff:.2e} ({}), \
                 {:.0} tokens/s",
                if ok { "ok" } else { "TOO LARGE" },
                r.median
            );
            models.push(json!({
                "model": name, "impl": "concise", "device": "cuda:0",
                "cpu_cuda_max_diff": diff, "agrees": ok,
                "tokens_per_sec": {"median": r.median, "min": r.min,
                                   "max": r.max, "per_epoch": r.per_epoch},
            }));
        }
        let report = json!({
            "cuda_available": available,
            "device_count": Cuda::device_count(),
            "models": models,
        });
        let text = serde_json::to_string_pretty(&report)?;
        if let Some(dir) = args.json.parent() {
            std::fs::create_dir_all(dir)?;
        }
        d2l::io::atomic::write_atomic(&args.json, text.as_bytes())?;
        println!("{text}");
        let all_agree = report["models"]
            .as_array()
            .is_some_and(|m| m.iter().all(|m| m["agrees"] == true));
        if !all_agree {
            bail!(
                "CPU and CUDA disagree by more than {:e} (see above)",
                d2l::testkit::agreement::GPU_TOL
            );
        }
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The comparison itself works: two copies on the CPU agree
        /// exactly, and two differently initialised models do not. (The
        /// CUDA side runs on a GPU machine only: scripts/gpu-check.sh.)
        #[test]
        fn agreement_is_zero_between_copies_and_not_between_strangers() {
            let split = d2l::data::load_splits_time_machine(Some(2_000), 1_000)
                .unwrap();
            let v = split.vocab.len();
            let loader = SeqDataLoader::new(
                split.train,
                BATCH,
                STEPS,
                Sampling::Sequential,
            )
            .unwrap();
            let lstm: Build<tch::nn::LSTM> = ch_lstm::concise::concise_lstm;
            assert_eq!(agreement(lstm, 2, v, &loader, Device::Cpu), 0.0);
            let (c, f) = (Device::Cpu, Kind::Float);
            let mut a = lstm(v, HIDDENS, 2, c, f);
            let mut b = lstm(v, HIDDENS, 2, c, f);
            assert!(max_difference(&mut a, &mut b, &loader) > 1e-3);
        }
    }
}

/// Forward FLOPs per token, times 3 for training (see the module docs).
fn flops_per_token(gates: usize, layers: usize, h: usize, q: usize) -> f64 {
    let recurrent = 2 * gates * h * h;
    let above = 2 * gates * h * h * (layers - 1);
    let output = 2 * h * q;
    3.0 * (recurrent * layers + above + output) as f64
}

/// The f32 GEMM rate of ndarray's matrix product (matrixmultiply) on an
/// `(n, k) × (k, m)` product, in GFLOP/s: the best of several timed runs.
fn gemm_gflops(n: usize, k: usize, m: usize, packed: bool) -> f64 {
    let a = Array2::<f32>::from_elem((n, k), 0.5);
    let b = Array2::<f32>::from_elem((k, m), 0.25);
    let b_packed = Packed::new(&b);
    let mut c = Array2::<f32>::zeros((n, m));
    let flops = 2.0 * (n * k * m) as f64;
    let reps = ((2e9 / flops) as usize).clamp(3, 20_000);
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..reps {
            if packed {
                add_mat_mul_packed(&a, &b_packed, &mut c.view_mut());
            } else {
                general_mat_mul(1.0, &a, &b, 0.0, &mut c);
            }
        }
        best = best.min(start.elapsed().as_secs_f64() / reps as f64);
    }
    std::hint::black_box(&c);
    flops / best / 1e9
}

/// Microseconds per call of one cell step forward and backward, at d2l's
/// batch shape with token inputs; the median of `iters` calls.
fn step_benchmarks(vocab: usize, iters: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rng = StdRng::seed_from_u64(0);
    let tokens: Vec<usize> = (0..BATCH).map(|i| i % vocab).collect();
    let gru = Gru::new(vocab, HIDDENS, Variant::ResetBefore);
    out.extend(time_step("gru", &gru, 3, &tokens, iters, &mut rng));
    let lstm = Lstm::new(vocab, HIDDENS);
    out.extend(time_step("lstm", &lstm, 4, &tokens, iters, &mut rng));
    out
}

fn time_step<C: Cell<f32>>(
    name: &str,
    cell: &C,
    gates: usize,
    tokens: &[usize],
    iters: usize,
    rng: &mut StdRng,
) -> Vec<Value> {
    let p = cell.init(rng);
    let x = Input::Tokens(tokens);
    let state = cell.zero_state(tokens.len());
    let (next, cache) = cell.step(&p, &x, &state);
    let d_state = next.clone();
    let mut g = p.zeros_like();
    let median_us = |f: &mut dyn FnMut()| {
        let mut times: Vec<f64> = (0..iters.max(1))
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times[times.len() / 2]
    };
    let forward = median_us(&mut || {
        std::hint::black_box(cell.step(&p, &x, &state));
    });
    let backward = median_us(&mut || {
        std::hint::black_box(
            cell.step_backward(&p, &x, &cache, &d_state, &mut g),
        );
    });
    let flops = 2.0 * (tokens.len() * gates * HIDDENS * HIDDENS) as f64;
    vec![
        json!({"cell": name, "pass": "forward", "micros": forward,
               "gflops": flops / forward / 1e3}),
        json!({"cell": name, "pass": "backward", "micros": backward,
               "gflops": 2.0 * flops / backward / 1e3}),
    ]
}

/// scratch ÷ concise tokens/s, per model, path and scratch thread count,
/// where both ran: `{"gru": {"fast, 1 thread": 1.2, ...}, ...}`.
fn ratios(models: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    let median = |m: &Value| m["tokens_per_sec"]["median"].as_f64();
    for m in models.iter().filter(|m| m["impl"] == "scratch") {
        let name = m["model"].as_str().unwrap_or_default();
        let concise = models
            .iter()
            .find(|c| c["impl"] == "concise" && c["model"] == name);
        if let (Some(s), Some(t)) = (median(m), concise.and_then(median)) {
            let entry =
                out.entry(name.to_string()).or_insert_with(|| json!({}));
            entry[setup_name(m)] = json!(s / t);
        }
    }
    Value::Object(out)
}

/// "fast, 2 threads": a scratch run's path and thread count.
fn setup_name(m: &Value) -> String {
    let threads = m["threads"].as_u64().unwrap_or(0);
    format!(
        "{}, {threads} thread{}",
        m["path"].as_str().unwrap_or("?"),
        if threads == 1 { "" } else { "s" }
    )
}

fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    #[cfg(feature = "torch")]
    let torch_threads = Some(tch::get_num_threads());
    #[cfg(not(feature = "torch"))]
    let torch_threads: Option<i32> = None;
    json!({"cpu": cpu, "cores": cores, "torch_threads": torch_threads})
}

/// The process's resident memory now, in MB (Linux's `VmRSS`).
fn current_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Resets the process's peak RSS (Linux: `5` into `clear_refs`), so that
/// each model's peak is its own. Elsewhere it does nothing, and the peak
/// is the process's.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The report as a Markdown table, for the book.
fn markdown(report: &Value) -> String {
    let mut s = String::from(
        "| model | implementation | threads | tokens/s (median) | spread \
         (min–max) | GFLOP/s | peak RSS of the process |\n\
         |---|---|---|---|---|---|---|\n",
    );
    let empty = Vec::new();
    for m in report["models"].as_array().unwrap_or(&empty) {
        let t = &m["tokens_per_sec"];
        let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        // With libtorch linked in, the process holds its few hundred MB
        // from the start, and freed memory stays resident from one model
        // to the next: a model's own footprint is best read from a
        // training run of its own (result.md).
        let rss = m["peak_rss_mb"]
            .as_f64()
            .map_or("n/a".to_string(), |r| format!("{r:.0} MB"));
        let implementation = match m["path"].as_str() {
            Some(path) => format!("scratch, {path} path"),
            None => "concise (libtorch)".to_string(),
        };
        s += &format!(
            "| {} | {} | {} | {:.0} | {:.0}–{:.0} | {:.1} | {} |\n",
            m["model"].as_str().unwrap_or_default(),
            implementation,
            m["threads"],
            f(&t["median"]),
            f(&t["min"]),
            f(&t["max"]),
            f(&m["gflops"]),
            rss
        );
    }
    if let Some(ratios) = report["ratios"].as_object().filter(|r| !r.is_empty())
    {
        s += "\n| model | scratch setup | scratch ÷ libtorch (tokens/s) |\n\
              |---|---|---|\n";
        for (model, per_setup) in ratios {
            for (setup, r) in per_setup.as_object().into_iter().flatten() {
                let r = r.as_f64().unwrap_or(f64::NAN);
                s += &format!("| {model} | {setup} | {r:.2} |\n");
            }
        }
    }
    s += "\n| matrix product (f32, one thread) | product | GFLOP/s |\n\
          |---|---|---|\n";
    for g in report["gemm_f32"].as_array().unwrap_or(&empty) {
        s += &format!(
            "| {} | {} | {:.1} |\n",
            g["shape"].as_str().unwrap_or_default().replace('x', " × "),
            g["product"].as_str().unwrap_or("ndarray"),
            g["gflops"].as_f64().unwrap_or(f64::NAN)
        );
    }
    s
}
