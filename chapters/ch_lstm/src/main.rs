//! `ch_lstm`: train an LSTM language model on The Time Machine, or
//! continue a text with a trained one.

use anyhow::Result;
use ch_lstm::scratch::Lstm;
use d2l::cli::{self, Command, Impl, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: &str = "ch_lstm";
/// One layer of four gate blocks (input, forget, output, candidate).
const SHAPE: Shape = Shape {
    layers: 1,
    gates: 4,
};

fn main() {
    let command = cli::parse::<TrainArgs>(
        CHAPTER,
        "Train an LSTM character-level language model on The Time \
         Machine, or continue a text with a trained one.",
        "With no subcommand, `train` runs: `ch_lstm --epochs 5` trains for \
         five epochs with d2l's other settings (hidden 256, lr 1, batch \
         32 × 35 steps, the first 10,000 characters).",
    );
    cli::exit_on_error(match command {
        Command::Train(args) => train(&args),
        Command::Generate(args) => cli::generate_scratch(
            &args,
            CHAPTER,
            "lstm",
            |_, vocab_size, num_hiddens| Ok(Lstm::new(vocab_size, num_hiddens)),
        ),
    });
}

fn train(args: &TrainArgs) -> Result<()> {
    if args.implementation == Impl::Concise {
        return train_concise(args);
    }
    let run = args.prepare(CHAPTER, SHAPE)?;
    let cell = Lstm::new(run.splits.vocab.len(), args.num_hiddens);
    let meta = BTreeMap::from([("model".to_string(), "lstm".to_string())]);
    cli::train_scratch(cell, args, run, "LSTM from scratch", meta)
}

#[cfg(not(feature = "torch"))]
fn train_concise(_: &TrainArgs) -> Result<()> {
    Err(cli::concise_unavailable(CHAPTER))
}

#[cfg(feature = "torch")]
fn train_concise(args: &TrainArgs) -> Result<()> {
    let run = args.prepare(CHAPTER, SHAPE)?;
    ch_lstm::concise::train_cli(args, run)
}
