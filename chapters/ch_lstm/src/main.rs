//! `ch_lstm`: train an LSTM language model on The Time Machine, or
//! continue a text with a trained one.

use anyhow::Result;
use ch_lstm::scratch::Lstm;
use d2l::cli::{self, Chapter, GenerateArgs, Impl, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter {
    name: "ch_lstm",
    about: "Train an LSTM character-level language model on The Time \
            Machine, or continue a text with a trained one.",
    after_help: "With no subcommand, `train` runs: `ch_lstm --epochs 5` \
                 trains for five epochs with d2l's other settings (hidden \
                 256, lr 1, batch 32 × 35 steps, the first 10,000 \
                 characters).",
    defaults: &[],
};
/// One layer of four gate blocks (input, forget, output, candidate).
const SHAPE: Shape = Shape {
    layers: 1,
    gates: 4,
};

fn main() {
    CHAPTER.main(train, generate);
}

fn generate(args: &GenerateArgs) -> Result<()> {
    cli::generate_scratch(args, CHAPTER.name, "lstm", |_, v, h| {
        Ok(Lstm::new(v, h))
    })
}

fn train(args: &TrainArgs) -> Result<()> {
    if args.implementation == Impl::Concise {
        #[cfg(not(feature = "torch"))]
        return Err(cli::concise_unavailable(CHAPTER.name));
        #[cfg(feature = "torch")]
        return ch_lstm::concise::train_cli(
            args,
            args.prepare(CHAPTER.name, SHAPE)?,
        );
    }
    let run = args.prepare(CHAPTER.name, SHAPE)?;
    let cell = Lstm::new(run.splits.vocab.len(), args.num_hiddens);
    let meta = BTreeMap::from([("model".to_string(), "lstm".to_string())]);
    cli::train_scratch(cell, args, run, "LSTM from scratch", meta)
}
