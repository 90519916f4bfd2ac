//! `ch_gru`: train a GRU language model on The Time Machine, or continue a
//! text with a trained one.

use anyhow::Result;
use ch_gru::args::{checkpoint_variant, variant_name};
use ch_gru::scratch::{Gru, Variant};
use clap::Args;
use d2l::cli::{self, Chapter, GatesArgs, GenerateArgs, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter::d2l(
    "ch_gru",
    "Train a GRU character-level language model on The Time Machine, \
     or continue a text with a trained one.",
    cfg!(feature = "torch"),
);
/// One layer of three gate blocks (update, reset, candidate).
const SHAPE: Shape = Shape::one_layer(3);

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
    CHAPTER.main_with_gates(train, generate, gates);
}

fn generate(args: &GenerateArgs) -> Result<()> {
    cli::generate_scratch(args, CHAPTER.name, "gru", |ck, v, h| {
        Ok(Gru::new(v, h, checkpoint_variant(ck)?))
    })
}

fn gates(args: &GatesArgs) -> Result<()> {
    cli::gates_scratch(args, CHAPTER.name, "gru", "GRU", |ck, v, h| {
        Ok(Gru::new(v, h, checkpoint_variant(ck)?))
    })
}

fn train(args: &GruTrainArgs) -> Result<()> {
    let common = &args.common;
    let run = common.prepare(&CHAPTER, SHAPE)?;
    #[cfg(feature = "torch")]
    if common.implementation == cli::Impl::Concise {
        return ch_gru::concise::train_cli(common, run);
    }
    let variant = args.variant;
    let cell = Gru::new(run.splits.vocab.len(), common.num_hiddens, variant);
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), variant_name(variant).to_string()),
    ]);
    cli::train_scratch(cell, common, run, "GRU from scratch", meta)
}
