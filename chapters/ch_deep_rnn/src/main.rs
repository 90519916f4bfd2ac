//! `ch_deep_rnn`: train a stack of GRU or LSTM layers on The Time Machine,
//! or continue a text with a trained one.

use anyhow::{bail, Result};
use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use clap::{Args, ValueEnum};
use d2l::cli::{self, positive_usize, Command, Impl, TrainArgs};
use d2l::rnn::{Cell, RnnModel};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;

const CHAPTER: &str = "ch_deep_rnn";

#[derive(Args, Clone)]
struct DeepTrainArgs {
    #[command(flatten)]
    common: TrainArgs,
    /// The cell of every layer.
    #[arg(long, value_enum, default_value_t = CellArg::Lstm)]
    cell: CellArg,
    /// How many layers to stack.
    #[arg(long, default_value_t = 2, value_parser = positive_usize)]
    layers: usize,
    /// For `--cell gru`: where the reset gate acts (see ch_gru --help).
    /// `--impl concise` is always reset-after.
    #[arg(long, value_enum, default_value_t = VariantArg::ResetBefore)]
    variant: VariantArg,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CellArg {
    Gru,
    Lstm,
}

#[derive(Clone, Copy, ValueEnum)]
enum VariantArg {
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
}

fn variant_name(v: Variant) -> &'static str {
    match v {
        Variant::ResetBefore => "reset-before",
        Variant::ResetAfter => "reset-after",
    }
}

fn main() {
    cli::quiet_on_closed_pipe();
    let command = cli::parse_with_defaults::<DeepTrainArgs>(
        CHAPTER,
        "Train a deep (stacked) GRU or LSTM character-level language model \
         on The Time Machine, or continue a text with a trained one.",
        "With no subcommand, `train` runs. The defaults are the seed's deep \
         model: 2 LSTM layers of 256 units, lr 2, 500 epochs, batch 32 × 35 \
         steps, the first 10,000 characters.",
        &[("lr", "2")],
    );
    cli::exit_on_error(match command {
        Command::Train(args) => train(&args),
        Command::Generate(args) => generate(&args),
    });
}

fn train(args: &DeepTrainArgs) -> Result<()> {
    let common = &args.common;
    if common.implementation == Impl::Concise {
        return train_concise(args);
    }
    let (splits, _) = common.data()?;
    let (v, h, layers) = (splits.vocab.len(), common.num_hiddens, args.layers);
    let mut meta = BTreeMap::from([
        ("model".to_string(), "deep".to_string()),
        ("layers".to_string(), layers.to_string()),
        ("impl".to_string(), "scratch".to_string()),
    ]);
    match args.cell {
        CellArg::Gru => {
            let variant = args.variant.variant();
            meta.insert("cell".into(), "gru".into());
            meta.insert("variant".into(), variant_name(variant).into());
            let cell = stack(layers, v, h, |i, h| Gru::new(i, h, variant));
            train_stack(cell, v, common, meta, "deep GRU from scratch")
        }
        CellArg::Lstm => {
            meta.insert("cell".into(), "lstm".into());
            let cell = stack(layers, v, h, Lstm::new);
            train_stack(cell, v, common, meta, "deep LSTM from scratch")
        }
    }
}

fn train_stack<C: Cell<f32>>(
    cell: Stack<C>,
    vocab_size: usize,
    args: &TrainArgs,
    meta: BTreeMap<String, String>,
    title: &str,
) -> Result<()> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut model = RnnModel::<f32, _>::new(cell, vocab_size, &mut rng);
    cli::train_and_save(
        &mut model,
        |m| cli::scratch_tensors(&m.params, &m.output),
        args,
        CHAPTER,
        title,
        meta,
    )?;
    Ok(())
}

fn generate(args: &cli::GenerateArgs) -> Result<()> {
    let path = cli::checkpoint_path(args, CHAPTER);
    let ck = d2l::checkpoint::Checkpoint::load(&path)?;
    let layers = cli::checkpoint_usize(&ck, "layers")?;
    match ck.meta("cell")? {
        "gru" => cli::generate_scratch(args, CHAPTER, "deep", |ck, v, h| {
            let variant = match ck.meta("variant")? {
                "reset-before" => Variant::ResetBefore,
                "reset-after" => Variant::ResetAfter,
                other => bail!("unknown GRU variant {other:?}"),
            };
            Ok(stack(layers, v, h, |i, h| Gru::new(i, h, variant)))
        }),
        "lstm" => cli::generate_scratch(args, CHAPTER, "deep", |_, v, h| {
            Ok(stack(layers, v, h, Lstm::new))
        }),
        other => bail!("unknown cell {other:?} in {}", path.display()),
    }
}

#[cfg(not(feature = "torch"))]
fn train_concise(_: &DeepTrainArgs) -> Result<()> {
    Err(cli::concise_unavailable(CHAPTER))
}

#[cfg(feature = "torch")]
fn train_concise(args: &DeepTrainArgs) -> Result<()> {
    let cell = match args.cell {
        CellArg::Gru => ch_deep_rnn::concise::CellKind::Gru,
        CellArg::Lstm => ch_deep_rnn::concise::CellKind::Lstm,
    };
    ch_deep_rnn::concise::train_cli(&args.common, cell, args.layers, CHAPTER)
}
