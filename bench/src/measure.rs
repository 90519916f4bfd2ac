//! Training a model for a few epochs and timing it, the FLOP count that
//! turns tokens/s into an effective GFLOP/s, and the process's memory.

use anyhow::Result;
use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::cli::peak_rss_mb;
use d2l::data::SeqDataLoader;
use d2l::model::{CodePath, LanguageModel, RnnModel, ThreadSplit};
use d2l::rnn::Cell;
use d2l::train::{train_epoch, TrainConfig};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// The models the harness knows, by the name `--models` takes.
pub const MODELS: [&str; 3] = ["gru", "lstm", "lstm2"];

/// A model's gate blocks per layer and its layers.
pub fn shape(name: &str) -> (usize, usize) {
    match name {
        "gru" => (3, 1),
        "lstm" => (4, 1),
        "lstm2" => (4, 2),
        other => panic!("shape: unknown model {other:?}"),
    }
}

/// How a from-scratch model trains in one run of the benchmark.
#[derive(Clone, Copy)]
pub struct Setup {
    pub threads: usize,
    pub path: CodePath,
    pub split: ThreadSplit,
}

impl Setup {
    fn apply<C: Cell<f32>>(self, mut m: RnnModel<f32, C>) -> RnnModel<f32, C> {
        m.threads = self.threads;
        m.path = self.path;
        m.thread_split = self.split;
        m
    }
}

/// The from-scratch model `name` with `h` hidden units, in f32 with d2l's
/// initialisation (seed 0), trained in `setup` and measured.
pub fn scratch(
    name: &str,
    (vocab, h): (usize, usize),
    setup: Setup,
    loader: &SeqDataLoader,
    epochs: (usize, usize),
) -> Result<Measured> {
    let mut rng = StdRng::seed_from_u64(0);
    match name {
        "gru" => {
            let cell = Gru::new(vocab, h, Variant::ResetBefore);
            let m = RnnModel::<f32, _>::new(cell, vocab, &mut rng);
            measure(&mut setup.apply(m), loader, epochs)
        }
        "lstm" => {
            let cell = Lstm::new(vocab, h);
            let m = RnnModel::<f32, _>::new(cell, vocab, &mut rng);
            measure(&mut setup.apply(m), loader, epochs)
        }
        _ => {
            let cell: Stack<Lstm> = stack(2, vocab, h, Lstm::new);
            let m = RnnModel::<f32, _>::new(cell, vocab, &mut rng);
            measure(&mut setup.apply(m), loader, epochs)
        }
    }
}

/// Forward FLOPs per token, times 3 for training (see the crate docs):
/// `gates` gate blocks of `h` units in each of `layers` layers, and an
/// output layer of `q` classes.
pub fn flops_per_token(gates: usize, layers: usize, h: usize, q: usize) -> f64 {
    let recurrent = 2 * gates * h * h;
    let above = 2 * gates * h * h * (layers - 1);
    let output = 2 * h * q;
    3.0 * (recurrent * layers + above + output) as f64
}

/// Tokens per second of the measured epochs.
pub struct Measured {
    pub per_epoch: Vec<f64>,
    pub threads: usize,
    /// The process's memory when the model started: libtorch alone, when
    /// it is linked in, holds a few hundred MB.
    pub rss_before_mb: Option<f64>,
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub peak_rss_mb: Option<f64>,
}

/// Trains `model` for `warmup` epochs, then `epochs` measured ones, d2l's
/// loop (sequential batches, clipping at 1, SGD), and measures its
/// tokens/s and the peak memory the process reached while it ran.
pub fn measure<M: LanguageModel>(
    model: &mut M,
    loader: &SeqDataLoader,
    (warmup, epochs): (usize, usize),
) -> Result<Measured> {
    assert!(epochs > 0, "measure: at least one measured epoch");
    reset_peak_rss();
    let rss_before_mb = current_rss_mb();
    // d2l's loop, SGD at 1 (its rate for the GRU and the LSTM).
    let config = TrainConfig::d2l(warmup + epochs, 1.0, 0);
    let mut rng = d2l::train::train_rng(0);
    let mut per_epoch = Vec::new();
    for epoch in 1..=config.num_epochs {
        let (_, tokens_per_sec, _) =
            train_epoch(model, loader, &config, epoch, &mut rng)?;
        if epoch > warmup {
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

/// The concise model `name` (gru, lstm, lstm2) with `h` hidden units on
/// libtorch's CPU kernels, in f32, measured as [`measure`] does.
#[cfg(feature = "torch")]
pub fn concise(
    name: &str,
    vocab: usize,
    h: usize,
    loader: &SeqDataLoader,
    epochs: (usize, usize),
) -> Result<Measured> {
    use tch::{Device, Kind};
    tch::manual_seed(0);
    let d = Device::Cpu;
    match name {
        "gru" => {
            let mut m =
                ch_gru::concise::ConciseGru::new(vocab, h, 1, d, Kind::Float);
            measure(&mut m, loader, epochs)
        }
        "lstm" => {
            let mut m =
                ch_lstm::concise::ConciseLstm::new(vocab, h, 1, d, Kind::Float);
            measure(&mut m, loader, epochs)
        }
        _ => {
            let mut m =
                ch_lstm::concise::ConciseLstm::new(vocab, h, 2, d, Kind::Float);
            measure(&mut m, loader, epochs)
        }
    }
}

/// The process's resident memory now, in MB (Linux's `VmRSS`).
pub fn current_rss_mb() -> Option<f64> {
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
