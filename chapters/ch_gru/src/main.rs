//! `ch_gru`: train a GRU language model on The Time Machine, or continue a
//! text with a trained one.

use anyhow::{bail, Result};
use ch_gru::scratch::{Gru, Variant};
use clap::{Args, ValueEnum};
use d2l::cli::{self, Command, Impl, TrainArgs};
use d2l::rnn::RnnModel;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;

const CHAPTER: &str = "ch_gru";

#[derive(Args, Clone)]
struct GruTrainArgs {
    #[command(flatten)]
    common: TrainArgs,
    /// Where the reset gate acts: before the recurrent matrix product
    /// (d2l) or after it (PyTorch, cuDNN). `--impl concise` is always
    /// reset-after.
    #[arg(long, value_enum, default_value_t)]
    variant: VariantArg,
}

#[derive(Clone, Copy, Default, ValueEnum)]
enum VariantArg {
    #[default]
    ResetBefore,
    ResetAfter,
}

impl VariantArg {
    fn variant(self) -> Variant {
        match self {
            Self::ResetBefore => Variant::ResetBefore,
            Self::ResetAfter => Variant::ResetAfter,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::ResetBefore => "reset-before",
            Self::ResetAfter => "reset-after",
        }
    }
}

fn main() {
    cli::quiet_on_closed_pipe();
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
                let variant = match ck.meta("variant")? {
                    "reset-before" => Variant::ResetBefore,
                    "reset-after" => Variant::ResetAfter,
                    other => bail!("unknown GRU variant {other:?}"),
                };
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
    let (splits, _) = common.data()?;
    let mut rng = StdRng::seed_from_u64(common.seed);
    let vocab_size = splits.vocab.len();
    let variant = args.variant.variant();
    let cell = Gru::new(vocab_size, common.num_hiddens, variant);
    let mut model = RnnModel::<f32, _>::new(cell, vocab_size, &mut rng);
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), args.variant.name().to_string()),
        ("impl".to_string(), "scratch".to_string()),
    ]);
    cli::train_and_save(
        &mut model,
        |m| cli::scratch_tensors(&m.params, &m.output),
        common,
        CHAPTER,
        "GRU from scratch",
        meta,
    )?;
    Ok(())
}

#[cfg(not(feature = "torch"))]
fn train_concise(_: &GruTrainArgs) -> Result<()> {
    Err(cli::concise_unavailable(CHAPTER))
}

#[cfg(feature = "torch")]
fn train_concise(args: &GruTrainArgs) -> Result<()> {
    ch_gru::concise::train_cli(&args.common, CHAPTER)
}
