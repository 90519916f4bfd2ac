//! `ch_lstm`: train an LSTM language model on The Time Machine, or
//! continue a text with a trained one.

use anyhow::{bail, Result};
use ch_lstm::scratch::Lstm;
use ch_lstm::variants::{LstmVariant, Variant};
use clap::Args;
use d2l::cli::{self, Chapter, GatesArgs, GenerateArgs, Shape, TrainArgs};
use d2l::io::checkpoint::Checkpoint;
use d2l::model::CodePath;
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter::d2l(
    "ch_lstm",
    "Train an LSTM character-level language model on The Time \
     Machine, or continue a text with a trained one.",
    cfg!(feature = "torch"),
);
/// One layer of four gate blocks (input, forget, output, candidate).
const SHAPE: Shape = Shape::one_layer(4);

#[derive(Args, Clone)]
struct LstmTrainArgs {
    #[command(flatten)]
    common: TrainArgs,
    /// Take one piece out of the LSTM (Greff et al.): `nig`, `nfg`, `nog`
    /// (no input, forget or output gate), `niaf`, `noaf` (no input or
    /// output activation), `cifg` (input gate = 1 − forget gate). A
    /// variant trains on the teaching path, whatever --path says.
    #[arg(long, value_parser = variant, default_value = "full")]
    variant: Variant,
    /// The forget gate's bias b_f at the start (d2l's: 0). Any other value
    /// trains on the teaching path, whatever --path says.
    #[arg(long, default_value_t = 0.0, value_parser = forget_bias,
          allow_negative_numbers = true)]
    forget_bias: f64,
}

fn variant(s: &str) -> Result<Variant, String> {
    Variant::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
        format!("one of {}, got {s}", names.join(", "))
    })
}

fn forget_bias(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(b) if b.is_finite() && b.abs() <= 100.0 => Ok(b),
        _ => Err(format!("a number from -100 to 100, got {s}")),
    }
}

fn main() {
    CHAPTER.main_with_gates(train, generate, gates);
}

/// The cell a checkpoint holds. d2l's LSTM, and checkpoints from before
/// the variants, record no `variant`; the full variant's step is the
/// chapter's `lstm_step` exactly.
fn checkpoint_cell(ck: &Checkpoint, v: usize, h: usize) -> Result<LstmVariant> {
    let name = ck.meta("variant").unwrap_or("full");
    let Some(variant) = Variant::from_name(name) else {
        bail!(
            "the checkpoint's metadata `variant` is {name:?}, which is no \
             LSTM variant: the file was edited or damaged"
        );
    };
    Ok(LstmVariant {
        num_inputs: v,
        num_hiddens: h,
        variant,
        forget_bias: 0.0,
    })
}

fn generate(args: &GenerateArgs) -> Result<()> {
    cli::generate_scratch(args, CHAPTER.name, "lstm", checkpoint_cell)
}

fn gates(args: &GatesArgs) -> Result<()> {
    cli::gates_scratch(args, CHAPTER.name, "lstm", "LSTM", checkpoint_cell)
}

fn train(args: &LstmTrainArgs) -> Result<()> {
    let common = &args.common;
    let plain = args.variant == Variant::Full && args.forget_bias == 0.0;
    if args.variant == Variant::Nfg && args.forget_bias != 0.0 {
        bail!(
            "--forget-bias does nothing with --variant nfg, which has no \
             forget gate: leave one of them out"
        );
    }
    if !plain && common.implementation == cli::Impl::Concise {
        bail!(
            "--variant and --forget-bias are for the from-scratch model: \
             leave out --impl concise"
        );
    }
    if !plain && common.share_steps {
        bail!(
            "--share-steps needs the fast path, and a --variant or a \
             --forget-bias trains on the teaching path: leave out one or \
             the other"
        );
    }
    let run = common.prepare(&CHAPTER, SHAPE)?;
    #[cfg(feature = "torch")]
    if common.implementation == cli::Impl::Concise {
        return ch_lstm::concise::train_cli(common, run);
    }
    let v = run.splits.vocab.len();
    let mut meta = BTreeMap::from([("model".to_string(), "lstm".to_string())]);
    if plain {
        // As before the variants: a run of d2l's LSTM records none, so
        // that its earlier runs still resume.
        let cell = Lstm::new(v, common.num_hiddens);
        return cli::train_scratch(
            cell,
            common,
            run,
            "LSTM from scratch",
            meta,
        );
    }
    meta.insert("variant".to_string(), args.variant.name().to_string());
    meta.insert("forget_bias".to_string(), args.forget_bias.to_string());
    let cell = LstmVariant {
        num_inputs: v,
        num_hiddens: common.num_hiddens,
        variant: args.variant,
        forget_bias: args.forget_bias,
    };
    // A variant has only the step-by-step loops.
    let mut teaching = common.clone();
    teaching.path = CodePath::Teaching;
    let title = format!("LSTM ({}) from scratch", args.variant.name());
    cli::train_scratch(cell, &teaching, run, &title, meta)
}
