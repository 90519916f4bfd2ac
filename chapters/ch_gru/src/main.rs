//! `ch_gru`: train a GRU language model on The Time Machine, or continue a
//! text with a trained one.

use anyhow::Result;
use ch_gru::args::{checkpoint_variant, variant_name};
use ch_gru::scratch::{Gru, Variant};
use clap::Args;
use d2l::cli::{self, Chapter, GenerateArgs, Impl, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter {
    name: "ch_gru",
    about: "Train a GRU character-level language model on The Time Machine, \
            or continue a text with a trained one.",
    after_help: "With no subcommand, `train` runs: `ch_gru --epochs 5` \
                 trains for five epochs with d2l's other settings (hidden \
                 256, lr 1, batch 32 × 35 steps, the first 10,000 \
                 characters).",
    defaults: &[],
};
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
    CHAPTER.main(train, generate);
}

fn generate(args: &GenerateArgs) -> Result<()> {
    cli::generate_scratch(args, CHAPTER.name, "gru", |ck, v, h| {
        Ok(Gru::new(v, h, checkpoint_variant(ck)?))
    })
}

fn train(args: &GruTrainArgs) -> Result<()> {
    let common = &args.common;
    if common.implementation == Impl::Concise {
        #[cfg(not(feature = "torch"))]
        return Err(cli::concise_unavailable(CHAPTER.name));
        #[cfg(feature = "torch")]
        return ch_gru::concise::train_cli(
            common,
            common.prepare(CHAPTER.name, SHAPE)?,
        );
    }
    let run = common.prepare(CHAPTER.name, SHAPE)?;
    let variant = args.variant;
    let cell = Gru::new(run.splits.vocab.len(), common.num_hiddens, variant);
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), variant_name(variant).to_string()),
    ]);
    cli::train_scratch(cell, common, run, "GRU from scratch", meta)
}
