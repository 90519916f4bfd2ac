//! `ch_rnn`: train a plain (tanh) RNN language model on The Time Machine,
//! the baseline of the gated chapters, or continue a text with a trained
//! one.

use anyhow::Result;
use ch_rnn::scratch::Rnn;
use d2l::cli::{self, Chapter, GenerateArgs, Shape, TrainArgs};
use std::collections::BTreeMap;

const CHAPTER: Chapter = Chapter::d2l(
    "ch_rnn",
    "Train a plain (tanh) RNN character-level language model on The \
     Time Machine, the baseline the GRU and the LSTM improve on, or \
     continue a text with a trained one.",
    cfg!(feature = "torch"),
);
/// One layer of one block: the tanh of one affine map.
const SHAPE: Shape = Shape::one_layer(1);

fn main() {
    CHAPTER.main(train, generate);
}

fn generate(args: &GenerateArgs) -> Result<()> {
    cli::generate_scratch(args, CHAPTER.name, "rnn", |_, v, h| {
        Ok(Rnn::new(v, h))
    })
}

fn train(args: &TrainArgs) -> Result<()> {
    let run = args.prepare(&CHAPTER, SHAPE)?;
    #[cfg(feature = "torch")]
    if args.implementation == cli::Impl::Concise {
        return ch_rnn::concise::train_cli(args, run);
    }
    let cell = Rnn::new(run.splits.vocab.len(), args.num_hiddens);
    let meta = BTreeMap::from([("model".to_string(), "rnn".to_string())]);
    cli::train_scratch(cell, args, run, "RNN from scratch", meta)
}
