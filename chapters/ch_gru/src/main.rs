//! `ch_gru`: train a GRU language model on The Time Machine, or continue a
//! text with a trained one.

use anyhow::Result;
use ch_gru::args::{checkpoint_variant, variant_name};
use ch_gru::scratch::{Gru, Variant};
use clap::Args;
use d2l::cli::{self, Command, Impl, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: &str = "ch_gru";
/// One layer of three gate blocks (update, reset, candidate).
const SHAPE: Shape = Shape {
    layers: 1,
    gates: 3,
};

#[derive(Args, Clone)]
struct GruTrainArgs {
    #[command(flatten)]
    common: TrainArgs,
    /// Where the reset gate acts: before the recurrent matrix product
    /// (d2l) or after it (PyTorch, cuDNN). `--impl concise` is always
    /// reset-after.
    #[arg(long, value_enum, default_value_t = Variant::ResetBefore)]
    variant: Variant,
}

fn main() {
    let command = cli::parse::<GruTrainArgs>(
        CHAPTER,
        "Train a GRU character-level language model on The Time Machine, \
         or continue a text with a trained one.",
        "With no subcommand, `train` runs: `ch_gru --epochs 5` trains for \
         five epochs with d2l's other settings (hidden 256, lr 1, batch \
         32 × 35 steps, the first 10,000 characters).",
    );
    cli::exit_on_error(match command {
        Command::Train(args) => train(&args),
        Command::Generate(args) => cli::generate_scratch(
            &args,
            CHAPTER,
            "gru",
            |ck, vocab_size, num_hiddens| {
                let variant = checkpoint_variant(ck)?;
                Ok(Gru::new(vocab_size, num_hiddens, variant))
            },
        ),
    });
}

fn train(args: &GruTrainArgs) -> Result<()> {
    let common = &args.common;
    if common.implementation == Impl::Concise {
        return train_concise(args);
    }
    let run = common.prepare(CHAPTER, SHAPE)?;
    let variant = args.variant;
    let cell = Gru::new(run.splits.vocab.len(), common.num_hiddens, variant);
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), variant_name(variant).to_string()),
    ]);
    cli::train_scratch(cell, common, run, "GRU from scratch", meta)
}

#[cfg(not(feature = "torch"))]
fn train_concise(_: &GruTrainArgs) -> Result<()> {
    Err(cli::concise_unavailable(CHAPTER))
}

#[cfg(feature = "torch")]
fn train_concise(args: &GruTrainArgs) -> Result<()> {
    let run = args.common.prepare(CHAPTER, SHAPE)?;
    ch_gru::concise::train_cli(&args.common, run)
}
