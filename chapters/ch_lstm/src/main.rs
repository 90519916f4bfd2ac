//! `ch_lstm`: train an LSTM language model on The Time Machine, or
//! continue a text with a trained one.

use anyhow::Result;
use ch_lstm::scratch::Lstm;
use d2l::cli::{self, Chapter, GenerateArgs, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter::d2l(
    "ch_lstm",
    "Train an LSTM character-level language model on The Time \
     Machine, or continue a text with a trained one.",
    cfg!(feature = "torch"),
);
/// One layer of four gate blocks (input, forget, output, candidate).
const SHAPE: Shape = Shape::one_layer(4);

fn main() {
    CHAPTER.main(train, generate);
}

fn generate(args: &GenerateArgs) -> Result<()> {
    cli::generate_scratch(args, CHAPTER.name, "lstm", |_, v, h| {
        Ok(Lstm::new(v, h))
    })
}

fn train(args: &TrainArgs) -> Result<()> {
    let run = args.prepare(&CHAPTER, SHAPE)?;
    #[cfg(feature = "torch")]
    if args.implementation == cli::Impl::Concise {
        return ch_lstm::concise::train_cli(args, run);
    }
    let cell = Lstm::new(run.splits.vocab.len(), args.num_hiddens);
    let meta = BTreeMap::from([("model".to_string(), "lstm".to_string())]);
    cli::train_scratch(cell, args, run, "LSTM from scratch", meta)
}
