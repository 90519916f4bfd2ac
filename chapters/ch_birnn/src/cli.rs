//! `ch_birnn`'s command line: `lm` trains d2l's bidirectional language
//! model and shows what it generates; `fill` trains a bidirectional model
//! and a one-directional one of the same size to fill in deleted
//! characters, and compares them on text neither has seen.

use clap::{Args, Parser, Subcommand, ValueEnum};
use d2l::cli::positive_usize;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ch_birnn",
    version,
    about = "The bidirectional RNN: d2l's language model that cheats \
             (`lm`), and a task where looking both ways is fair (`fill`).",
    after_help = "`ch_birnn lm --epochs 20` trains d2l-zh's bidirectional \
                  LSTM for 20 epochs; `ch_birnn fill` compares a \
                  bidirectional and a one-directional model on filling in \
                  deleted characters."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train d2l-zh's bidirectional language model (next character at
    /// every position) and generate from it: its training perplexity
    /// falls near 1, because the backward direction has read the
    /// character it is asked for, and it generates junk, because when
    /// generating there is no future to read.
    Lm(LmArgs),
    /// Delete characters of the text and train a bidirectional model and a
    /// one-directional model with as many parameters to name them; score
    /// both on the validation and test text of the whole-book split.
    Fill(FillArgs),
}

/// The cell of every direction of every layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CellArg {
    Gru,
    Lstm,
}

impl CellArg {
    pub fn name(self) -> &'static str {
        match self {
            CellArg::Gru => "gru",
            CellArg::Lstm => "lstm",
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct LmArgs {
    #[arg(long, value_enum, default_value_t = CellArg::Lstm)]
    pub cell: CellArg,
    /// Bidirectional layers (at most 8).
    #[arg(long, default_value_t = 2, value_parser = layers,
          allow_negative_numbers = true)]
    pub layers: usize,
    /// Hidden units of each direction (at most 4096).
    #[arg(long, default_value_t = 256, value_parser = hiddens,
          allow_negative_numbers = true)]
    pub num_hiddens: usize,
    /// SGD's learning rate.
    #[arg(long, default_value_t = 1.0, value_parser = lr,
          allow_negative_numbers = true)]
    pub lr: f64,
    /// Passes over d2l's 10,000 training characters (at most 100,000).
    #[arg(long, default_value_t = 500, value_parser = epochs,
          allow_negative_numbers = true)]
    pub epochs: usize,
    /// Seeds the weights and the minibatch order.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for metrics.json, result.md, samples.txt and
    /// perplexity.svg.
    #[arg(long, default_value = "runs/birnn-lm")]
    pub out: PathBuf,
    /// Print only the final lines.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct FillArgs {
    #[arg(long, value_enum, default_value_t = CellArg::Lstm)]
    pub cell: CellArg,
    /// Hidden units of each direction of the bidirectional model (at most
    /// 4096); the one-directional model gets as many as it takes to have
    /// at least as many parameters.
    #[arg(long, default_value_t = 128, value_parser = hiddens,
          allow_negative_numbers = true)]
    pub num_hiddens: usize,
    /// Minibatches of training, for each model (at most 1,000,000).
    #[arg(long, default_value_t = 3000, value_parser = updates,
          allow_negative_numbers = true)]
    pub updates: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.005, value_parser = lr,
          allow_negative_numbers = true)]
    pub lr: f64,
    /// The probability of deleting each character (above 0, below 1).
    #[arg(long, default_value_t = 0.15, value_parser = rate,
          allow_negative_numbers = true)]
    pub rate: f64,
    /// Windows per minibatch (at most 4096; how much memory a size
    /// takes is checked before training).
    #[arg(long, default_value_t = 32, value_parser = batch,
          allow_negative_numbers = true)]
    pub batch_size: usize,
    /// Characters per window (at most 4096).
    #[arg(long, default_value_t = 35, value_parser = batch,
          allow_negative_numbers = true)]
    pub num_steps: usize,
    /// Seeds the weights, the windows and the deletions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Folder for results.json and result.md (the table).
    #[arg(long, default_value = "runs/birnn-fill")]
    pub out: PathBuf,
    /// Print only the final lines.
    #[arg(long)]
    pub quiet: bool,
}

fn at_most(s: &str, max: usize, why: &str) -> Result<usize, String> {
    match positive_usize(s)? {
        n if n > max => Err(format!("at most {max}, got {n}; {why}")),
        n => Ok(n),
    }
}

fn layers(s: &str) -> Result<usize, String> {
    at_most(s, 8, "d2l's bidirectional model has 2")
}

fn hiddens(s: &str) -> Result<usize, String> {
    at_most(s, 4096, "d2l's model has 256")
}

fn epochs(s: &str) -> Result<usize, String> {
    at_most(s, 100_000, "d2l trains 500")
}

fn updates(s: &str) -> Result<usize, String> {
    at_most(s, 1_000_000, "the default is 3000")
}

fn batch(s: &str) -> Result<usize, String> {
    at_most(s, 4096, "the default is 32 windows of 35 characters")
}

fn lr(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x <= 100.0 => Ok(x),
        _ => Err(format!("must be a number above 0 and at most 100, got {s}")),
    }
}

fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x > 0.0 && x < 1.0 => Ok(x),
        _ => Err(format!("must be a number above 0 and below 1, got {s}")),
    }
}
