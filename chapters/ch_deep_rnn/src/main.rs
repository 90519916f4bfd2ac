//! `ch_deep_rnn`: train a stack of GRU, LSTM or plain RNN layers on The
//! Time Machine, or continue a text with a trained one.

use anyhow::{bail, Result};
use ch_deep_rnn::scratch::stack;
use ch_gru::args::{checkpoint_variant, variant_name};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use ch_rnn::scratch::Rnn;
use clap::{Args, ValueEnum};
use d2l::cli::TrainArgs;
use d2l::cli::{self, positive_usize, Chapter, Shape};
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter {
    name: "ch_deep_rnn",
    about: "Train a deep (stacked) GRU, LSTM or plain RNN character-level \
            language model on The Time Machine, or continue a text with a \
            trained one.",
    settings: "d2l-zh's deep model: 2 LSTM layers of 256 units, lr 2, \
               500 epochs, batch 32 × 35 steps, the first 10,000 \
               characters",
    defaults: &[("lr", "2")],
    concise: cfg!(feature = "torch"),
};

#[derive(Args, Clone)]
struct DeepTrainArgs {
    #[command(flatten)]
    common: TrainArgs,
    /// The cell of every layer (the book trains `rnn`, the plain tanh
    /// RNN, at --lr 1).
    #[arg(long, value_enum, default_value_t = CellArg::Lstm)]
    cell: CellArg,
    /// How many layers to stack (at most 100).
    #[arg(long, default_value_t = 2, value_parser = layers,
          allow_negative_numbers = true)]
    layers: usize,
    /// For `--cell gru`: where the reset gate acts (see ch_gru --help)
    /// [default: reset-before]. `--impl concise` is always reset-after.
    #[arg(long, value_enum)]
    variant: Option<Variant>,
}

/// The most layers `--layers` takes. The fast path runs a stack layer by
/// layer, each layer's backward pass inside the one below it, so every
/// layer costs a few KB of a thread's stack; d2l's deep models have 2 to
/// 4 layers.
const MAX_LAYERS: usize = 100;

fn layers(s: &str) -> Result<usize, String> {
    match positive_usize(s)? {
        n if n > MAX_LAYERS => Err(format!(
            "at most {MAX_LAYERS}, got {n}; d2l's deep models have 2 to 4"
        )),
        n => Ok(n),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CellArg {
    Gru,
    Lstm,
    /// The plain tanh RNN, the baseline of the gated cells.
    Rnn,
}

impl DeepTrainArgs {
    fn shape(&self) -> Shape {
        let gates = match self.cell {
            CellArg::Gru => 3,
            CellArg::Lstm => 4,
            CellArg::Rnn => 1,
        };
        Shape {
            layers: self.layers,
            gates,
        }
    }
}

fn main() {
    CHAPTER.main(train, generate);
}

fn train(args: &DeepTrainArgs) -> Result<()> {
    let common = &args.common;
    if args.cell != CellArg::Gru && args.variant.is_some() {
        bail!(
            "--variant is for GRU layers, and these are {} layers: add \
             --cell gru, or leave --variant out",
            match args.cell {
                CellArg::Rnn => "plain RNN",
                _ => "LSTM",
            }
        );
    }
    let run = common.prepare(&CHAPTER, args.shape())?;
    #[cfg(feature = "torch")]
    if common.implementation == cli::Impl::Concise {
        return train_concise(args, run);
    }
    let (v, h) = (run.splits.vocab.len(), common.num_hiddens);
    let layers = args.layers;
    let mut meta = BTreeMap::from([
        ("model".to_string(), "deep".to_string()),
        ("layers".to_string(), layers.to_string()),
    ]);
    match args.cell {
        CellArg::Gru => {
            let variant = args.variant.unwrap_or(Variant::ResetBefore);
            meta.insert("cell".into(), "gru".into());
            meta.insert("variant".into(), variant_name(variant).into());
            let cell = stack(layers, v, h, |i, h| Gru::new(i, h, variant));
            cli::train_scratch(cell, common, run, "deep GRU from scratch", meta)
        }
        CellArg::Lstm => {
            meta.insert("cell".into(), "lstm".into());
            let cell = stack(layers, v, h, Lstm::new);
            let title = "deep LSTM from scratch";
            cli::train_scratch(cell, common, run, title, meta)
        }
        CellArg::Rnn => {
            meta.insert("cell".into(), "rnn".into());
            let cell = stack(layers, v, h, Rnn::new);
            let title = "deep plain RNN from scratch";
            cli::train_scratch(cell, common, run, title, meta)
        }
    }
}

fn generate(args: &cli::GenerateArgs) -> Result<()> {
    let (path, ck) =
        cli::open_checkpoint(args.checkpoint.as_deref(), CHAPTER.name, "deep")?;
    let layers = cli::checkpoint_layers(&ck)?;
    match ck.meta("cell")? {
        "gru" => {
            cli::generate_scratch(args, CHAPTER.name, "deep", |ck, v, h| {
                let variant = checkpoint_variant(ck)?;
                Ok(stack(layers, v, h, |i, h| Gru::new(i, h, variant)))
            })
        }
        "lstm" => {
            cli::generate_scratch(args, CHAPTER.name, "deep", |_, v, h| {
                Ok(stack(layers, v, h, Lstm::new))
            })
        }
        "rnn" => {
            cli::generate_scratch(args, CHAPTER.name, "deep", |_, v, h| {
                Ok(stack(layers, v, h, Rnn::new))
            })
        }
        other => bail!("unknown cell {other:?} in {}", path.display()),
    }
}

#[cfg(feature = "torch")]
fn train_concise(args: &DeepTrainArgs, run: cli::Prepared) -> Result<()> {
    let cell = match args.cell {
        CellArg::Gru => ch_deep_rnn::concise::CellKind::Gru,
        CellArg::Lstm => ch_deep_rnn::concise::CellKind::Lstm,
        CellArg::Rnn => ch_deep_rnn::concise::CellKind::Rnn,
    };
    ch_deep_rnn::concise::train_cli(&args.common, cell, args.layers, run)
}
