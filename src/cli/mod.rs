//! The command line every chapter shares: `train` (the default) and
//! `generate`, with d2l's hyper-parameters as flags, and what a run writes.

mod chapter;
#[cfg(feature = "torch")]
mod concise;
mod gates;
mod generate;
mod ngram;
mod parse;
pub mod plot;
mod prepare;
mod report;
mod resume;
mod run;

pub use chapter::{exit_on_error, Chapter, Cli, Command};
#[cfg(feature = "torch")]
pub use concise::{train_concise, Layers};
pub use gates::{gates_scratch, GatesArgs};
pub use generate::{
    check_vocab_token, checkpoint_layers, checkpoint_path, checkpoint_usize,
    checkpoint_vocab, generate_and_print, generate_scratch, load_scratch_model,
    open_checkpoint, Loaded,
};
pub use ngram::{ngram, ngram_table};
use parse::{
    beam_width, decay, generate_len, max_order, non_negative_f64, positive_f64,
    probability, seed, threads,
};
pub use parse::{positive_usize, MAX_BEAM, MAX_LEN, MAX_THREADS};
pub use prepare::{
    available_memory, default_threads, memory_estimate_bytes, Prepared, Shape,
};
pub use report::{peak_rss_mb, result_table};
pub use run::{train_and_save, train_scratch};

use crate::data::{
    load_book_splits, load_splits_time_machine, Sampling, Splits,
};
use crate::model::CodePath;
use crate::train::generate::Decoding;
use crate::train::optim::Optimizer;
use crate::train::PREFIX;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Which implementation trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Impl {
    /// From scratch on ndarray, with hand-written backpropagation.
    #[default]
    Scratch,
    /// On libtorch through tch (needs the `torch` feature).
    Concise,
}

/// Where the concise model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Device {
    #[default]
    Cpu,
    Cuda,
}

impl Device {
    /// The tch device; CUDA must be visible to libtorch.
    #[cfg(feature = "torch")]
    pub fn tch(self) -> anyhow::Result<tch::Device> {
        match self {
            Device::Cpu => Ok(tch::Device::Cpu),
            Device::Cuda if tch::Cuda::is_available() => {
                Ok(tch::Device::Cuda(0))
            }
            Device::Cuda => anyhow::bail!(
                "--device cuda: libtorch sees no CUDA device \
                 (Cuda::is_available() is false). Check nvidia-smi, and \
                 that the binary was built with PyTorch's CUDA libraries \
                 present (it then links libtorch_cuda)"
            ),
        }
    }
}

/// How the training text is cut into minibatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Iter {
    /// Rows continue from batch to batch; the state is carried over.
    #[default]
    Sequential,
    /// Subsequences at random positions; the state restarts every batch.
    Random,
}

impl From<Iter> for Sampling {
    fn from(i: Iter) -> Self {
        match i {
            Iter::Sequential => Sampling::Sequential,
            Iter::Random => Sampling::Random,
        }
    }
}

/// `train`: every hyper-parameter of d2l's `train_ch8`, named after it.
#[derive(Debug, Clone, Args)]
pub struct TrainArgs {
    /// Passes over the training text.
    #[arg(long, default_value_t = 500, value_parser = positive_usize,
          allow_negative_numbers = true)]
    pub epochs: usize,
    /// Learning rate: the default is d2l's, for SGD; Adam wants about 0.002.
    #[arg(long, default_value_t = 1.0, value_parser = positive_f64,
          allow_negative_numbers = true)]
    pub lr: f64,
    /// Dropout: the probability of dropping each unit of the hidden states
    /// the output layer reads and, in a stack, of those each layer reads
    /// from the layer below; in training only, with one mask per sequence
    /// for all its steps. 0, d2l's, drops nothing.
    #[arg(long, default_value_t = 0.0, value_parser = probability,
          allow_negative_numbers = true)]
    pub dropout: f64,
    /// Weight dropping: the probability of dropping each entry of the
    /// recurrent weights (those that read H_{t−1}) for a minibatch, in
    /// training only, as AWD-LSTM does. 0 drops none.
    #[arg(long, default_value_t = 0.0, value_parser = probability,
          allow_negative_numbers = true)]
    pub weight_drop: f64,
    /// Learning-rate decay: multiply the learning rate by this after every
    /// epoch that does not lower the best validation perplexity, such as
    /// 0.5. Without it the rate stays, as in d2l.
    #[arg(long, value_parser = decay, allow_negative_numbers = true)]
    pub lr_decay: Option<f64>,
    /// The update rule after each minibatch.
    #[arg(long, value_enum, default_value_t)]
    pub optimizer: Optimizer,
    /// Hidden units per layer.
    #[arg(long, default_value_t = 256, value_parser = positive_usize,
          allow_negative_numbers = true)]
    pub num_hiddens: usize,
    /// Subsequences per minibatch.
    #[arg(long, default_value_t = 32, value_parser = positive_usize,
          allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Time steps per subsequence (how far back BPTT reaches).
    #[arg(long, default_value_t = 35, value_parser = positive_usize,
          allow_negative_numbers = true)]
    pub num_steps: usize,
    #[command(flatten)]
    pub split: SplitArgs,
    /// Early stopping: stop once this many epochs in a row have not
    /// lowered the best validation perplexity (best.safetensors always
    /// holds that epoch's weights). Without it every epoch runs, as in d2l.
    #[arg(long, value_parser = positive_usize, allow_negative_numbers = true)]
    pub patience: Option<usize>,
    /// Gradient clipping threshold θ on the global gradient norm.
    #[arg(long, default_value_t = 1.0, value_parser = positive_f64,
          allow_negative_numbers = true)]
    pub clip: f64,
    /// Which implementation to train.
    #[arg(long = "impl", value_enum, default_value_t)]
    pub implementation: Impl,
    /// Where the concise model runs.
    #[arg(long, value_enum, default_value_t)]
    pub device: Device,
    /// Seeds the weights and the minibatch order.
    #[arg(long, default_value_t = 0, value_parser = seed,
          allow_negative_numbers = true)]
    pub seed: u64,
    /// Minibatch sampling.
    #[arg(long, value_enum, default_value_t)]
    pub iter: Iter,
    /// Folder for metrics.json, perplexity.svg and model.safetensors
    /// [default: runs/<chapter>]
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print only the final lines: no progress bar, no samples.
    #[arg(long)]
    pub quiet: bool,
    /// Continue the run that Ctrl-C (or a crash) stopped, from the state it
    /// keeps in <out>.resume (written every minute and on Ctrl-C), with
    /// the same flags; only --epochs and --threads may change. On as many
    /// threads (on any number, with --share-steps) it ends exactly where
    /// the run would have ended uninterrupted. From-scratch models only.
    #[arg(long)]
    pub resume: bool,
    /// CPU threads to train with. The from-scratch model splits each
    /// minibatch between them (1 runs the code as the chapters show it);
    /// the concise model hands them to libtorch. [default: every core]
    #[arg(long, value_parser = threads,
          allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// The from-scratch model's computation: `teaching` runs the
    /// step-by-step loops the chapters show; `fast` runs the same numbers
    /// as whole-sequence matrix products (the book's "Making it fast").
    /// The concise model has only its own.
    #[arg(long, value_enum, default_value_t)]
    pub path: CodePath,
    /// With several threads on the fast path: run every step of the whole
    /// minibatch on all of them together (each step's product cut by
    /// columns) instead of giving each thread a block of the batch. On
    /// two cores, faster for large LSTMs (512 to 1024 units, whose weights
    /// no core's cache holds), slower at d2l's size; the same numbers on
    /// any number of threads ("Making it fast").
    #[arg(long)]
    pub share_steps: bool,
}

/// Which text trains and which validates: d2l's split by default.
#[derive(Debug, Clone, Copy, Args)]
pub struct SplitArgs {
    /// `d2l`: the first --max-tokens characters train, the --valid-tokens
    /// after them validate. `book`: the whole book in three contiguous
    /// parts, 80% training, 10% validation, 10% test; the test part is
    /// scored once, at the end, with the weights of the best validation
    /// epoch.
    #[arg(
        long = "split",
        id = "split",
        value_name = "SPLIT",
        value_enum,
        default_value_t
    )]
    pub kind: SplitKind,
    /// Characters of the book to train on, from its start (`--split d2l`)
    /// [default: 10000]
    #[arg(long, value_parser = positive_usize, allow_negative_numbers = true)]
    pub max_tokens: Option<usize>,
    /// Characters after the training text held out for validation
    /// (`--split d2l`) [default: 5000]
    #[arg(long, value_parser = positive_usize, allow_negative_numbers = true)]
    pub valid_tokens: Option<usize>,
}

/// The splits of `--split`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SplitKind {
    /// d2l's: a prefix of the book, and the text after it.
    #[default]
    D2l,
    /// The whole book: 80% training, 10% validation, 10% test.
    Book,
}

impl SplitArgs {
    /// d2l's training text: the first 10,000 characters.
    pub const D2L_TRAIN: usize = 10_000;
    /// d2l's validation text: the 5,000 characters after it.
    pub const D2L_VALID: usize = 5_000;

    /// The split these flags ask for. `--max-tokens` and `--valid-tokens`
    /// given with `--split book` are refused, not ignored.
    pub fn load(&self) -> anyhow::Result<Splits> {
        Ok(match self.kind {
            SplitKind::D2l => load_splits_time_machine(
                Some(self.max_tokens.unwrap_or(Self::D2L_TRAIN)),
                self.valid_tokens.unwrap_or(Self::D2L_VALID),
            )?,
            SplitKind::Book => {
                if self.max_tokens.is_some() || self.valid_tokens.is_some() {
                    anyhow::bail!(
                        "--max-tokens and --valid-tokens choose d2l's split; \
                         --split book always trains on the first 80% of the \
                         book. Drop them, or drop --split book"
                    );
                }
                load_book_splits()?
            }
        })
    }
}

/// `ngram`: the Kneser–Ney baseline on the same split as `train`.
#[derive(Debug, Clone, Args)]
pub struct NgramArgs {
    #[command(flatten)]
    pub split: SplitArgs,
    /// The highest order to score (orders 1 to it, at most 12).
    #[arg(long, default_value_t = 7, value_parser = max_order,
          allow_negative_numbers = true)]
    pub max_order: usize,
}

/// `generate`: continue a prefix with a trained model.
#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    /// A checkpoint written by `train` [default:
    /// runs/<chapter>/model.safetensors]
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// The text to continue.
    #[arg(long, default_value = PREFIX)]
    pub prefix: String,
    /// How many characters to add.
    #[arg(long, default_value_t = 200, value_parser = generate_len,
          allow_negative_numbers = true)]
    pub len: usize,
    /// Sample from softmax(logits / T) instead of taking the most likely
    /// character. Below 1 is more conservative, above 1 more adventurous.
    #[arg(long, value_parser = positive_f64,
          allow_negative_numbers = true)]
    pub temperature: Option<f64>,
    /// Sample only among the k most likely characters (implies sampling,
    /// at temperature 1 unless given).
    #[arg(long, value_parser = positive_usize,
          allow_negative_numbers = true)]
    pub top_k: Option<usize>,
    /// Seeds the sampling.
    #[arg(long, default_value_t = 0, value_parser = seed,
          allow_negative_numbers = true)]
    pub seed: u64,
    /// Beam search: keep the K most likely continuations at every step
    /// and print the most likely one it found (1 is greedy decoding; at
    /// most 100, and --beam × --len at most 1,000,000).
    #[arg(long, value_name = "K", value_parser = beam_width,
          allow_negative_numbers = true,
          conflicts_with_all = ["temperature", "top_k", "seed"])]
    pub beam: Option<usize>,
    /// With --beam: print instead the continuation, of any length the
    /// search kept, with the best log P / length^ALPHA (d2l's length
    /// normalisation; it suggests 0.75), so the text may end before --len.
    #[arg(long, requires = "beam", value_parser = non_negative_f64,
          allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// Also print the continuation's log-probability under the model
    /// (natural log, at temperature 1 whatever --temperature says), and
    /// its bits per character.
    #[arg(long)]
    pub show_log_prob: bool,
}

impl GenerateArgs {
    pub fn decoding(&self) -> Decoding {
        match (self.temperature, self.top_k) {
            (None, None) => Decoding::Greedy,
            (t, k) => Decoding::Sample {
                temperature: t.unwrap_or(1.0),
                top_k: k,
            },
        }
    }
}

/// Refuses `--impl concise` in a build without libtorch, saying how to get
/// one.
pub fn concise_unavailable(chapter: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "--impl concise needs libtorch, and this binary was built without \
         it. Install PyTorch 2.11.0 (pip install torch==2.11.0), then run\n  \
         LIBTORCH_USE_PYTORCH=1 cargo run --release -p {chapter} \
         --features torch -- --impl concise"
    )
}

/// Model tensors by name, as f32 arrays, for a checkpoint.
pub type NamedArrays = Vec<(String, ndarray::ArrayD<f32>)>;

/// The tensors of a model in our layout, as f32: `cell.<name>` and
/// `output.<name>`.
pub fn scratch_tensors<F, P, O>(cell: &P, output: &O) -> NamedArrays
where
    F: ndarray::NdFloat,
    P: crate::rnn::Tensors<F>,
    O: crate::rnn::Tensors<F>,
{
    let prefixed = |prefix: &str, t: Vec<(String, ndarray::ArrayViewD<F>)>| {
        t.into_iter()
            .map(|(n, v)| {
                let v32 = v.mapv(|x| x.to_f32().unwrap_or(f32::NAN));
                (format!("{prefix}.{n}"), v32)
            })
            .collect::<Vec<_>>()
    };
    let mut out = prefixed("cell", cell.named());
    out.extend(prefixed("output", output.named()));
    out
}

/// Loads `cell.<name>` and `output.<name>` from a checkpoint into a model
/// of the right shape.
pub fn load_scratch_tensors<P, O>(
    ck: &crate::io::checkpoint::Checkpoint,
    cell: &mut P,
    output: &mut O,
) -> anyhow::Result<()>
where
    P: crate::rnn::Tensors<f32>,
    O: crate::rnn::Tensors<f32>,
{
    for (prefix, named) in
        [("cell", cell.named_mut()), ("output", output.named_mut())]
    {
        for (name, mut view) in named {
            let t = ck.tensor(&format!("{prefix}.{name}"), view.shape())?;
            view.assign(&t);
        }
    }
    Ok(())
}
