//! `ch_gru`: train a GRU language model on The Time Machine, or continue a
//! text with a trained one.

use anyhow::{bail, Result};
use ch_gru::scratch::{Gru, Variant};
use clap::{Args, Parser, Subcommand, ValueEnum};
use d2l::checkpoint::Checkpoint;
use d2l::cli::{self, GenerateArgs, Impl, TrainArgs};
use d2l::rnn::RnnModel;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::BTreeMap;

const CHAPTER: &str = "ch_gru";

#[derive(Parser)]
#[command(
    name = CHAPTER,
    version,
    about = "Train a GRU character-level language model on The Time \
             Machine, or continue a text with a trained one.",
    long_about = None,
    args_conflicts_with_subcommands = true,
    after_help = "With no subcommand, `train` runs: `ch_gru --epochs 5` \
                  trains for five epochs with d2l's other settings \
                  (hidden 256, lr 1, batch 32 × 35 steps, the first \
                  10,000 characters)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: GruTrainArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model (the default) and write metrics, a plot and a
    /// checkpoint.
    Train(GruTrainArgs),
    /// Continue a prefix with a trained model.
    Generate(GenerateArgs),
}

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
    let cli = Cli::parse();
    cli::exit_on_error(
        match cli.command.unwrap_or(Command::Train(cli.train)) {
            Command::Train(args) => train(&args),
            Command::Generate(args) => generate(&args),
        },
    );
}

fn train(args: &GruTrainArgs) -> Result<()> {
    let common = &args.common;
    match common.implementation {
        Impl::Scratch => {
            let (splits, _) = common.data()?;
            let mut rng = StdRng::seed_from_u64(common.seed);
            let vocab_size = splits.vocab.len();
            let cell = Gru::<f32>::new(
                vocab_size,
                common.num_hiddens,
                args.variant.variant(),
                &mut rng,
            );
            let mut model = RnnModel::new(cell, vocab_size, &mut rng);
            let meta = BTreeMap::from([
                ("model".to_string(), "gru".to_string()),
                ("variant".to_string(), args.variant.name().to_string()),
                ("impl".to_string(), "scratch".to_string()),
            ]);
            cli::train_and_save(
                &mut model,
                |m| cli::scratch_tensors(&m.cell.params, &m.output),
                common,
                CHAPTER,
                "GRU from scratch",
                meta,
            )?;
            Ok(())
        }
        Impl::Concise => train_concise(args),
    }
}

#[cfg(not(feature = "torch"))]
fn train_concise(_: &GruTrainArgs) -> Result<()> {
    Err(cli::concise_unavailable(CHAPTER))
}

#[cfg(feature = "torch")]
fn train_concise(args: &GruTrainArgs) -> Result<()> {
    ch_gru::concise::train_cli(&args.common, CHAPTER)
}

fn generate(args: &GenerateArgs) -> Result<()> {
    let path = cli::checkpoint_path(args, CHAPTER);
    let ck = Checkpoint::load(&path)?;
    if ck.meta("model")? != "gru" {
        bail!(
            "{} holds a {} model, not a GRU",
            path.display(),
            ck.meta("model")?
        );
    }
    let variant = match ck.meta("variant")? {
        "reset-before" => Variant::ResetBefore,
        "reset-after" => Variant::ResetAfter,
        other => bail!("unknown GRU variant {other:?} in {}", path.display()),
    };
    let vocab = cli::checkpoint_vocab(&ck)?;
    let num_hiddens = cli::checkpoint_usize(&ck, "num_hiddens")?;
    let mut rng = StdRng::seed_from_u64(0);
    let cell = Gru::<f32>::new(vocab.len(), num_hiddens, variant, &mut rng);
    let mut model = RnnModel::new(cell, vocab.len(), &mut rng);
    cli::load_scratch_tensors(&ck, &mut model.cell.params, &mut model.output)?;
    cli::generate_and_print(&mut model, &vocab, args)
}
