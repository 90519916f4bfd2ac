//! The concise deep models: tch's `nn::gru` and `nn::lstm`, and libtorch's
//! tanh RNN, with `num_layers: L`, as the chapters' concise models, and
//! their weights layer by layer in our layout.

use anyhow::Result;
use ch_gru::scratch::GruParams;
use ch_lstm::scratch::LstmParams;
use ch_rnn::scratch::RnnParams;
use d2l::cli::{self, Layers, Prepared, TrainArgs};
use d2l::concise::TanhRnn;
use std::collections::BTreeMap;
use tch::nn;

/// Which tch layer to stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellKind {
    Gru,
    Lstm,
    Rnn,
}

// ANCHOR: concise_deep
/// `ch_deep_rnn --impl concise`: trains `layers` layers of tch's GRU
/// (reset-after), LSTM or plain RNN, and saves them in our layout, as a
/// `Stack`, so that `generate` and the scratch model can load them.
pub fn train_cli(
    args: &TrainArgs,
    cell: CellKind,
    layers: usize,
    run: Prepared,
) -> Result<()> {
    let mut meta = BTreeMap::from([
        ("model".to_string(), "deep".to_string()),
        ("layers".to_string(), layers.to_string()),
    ]);
    let stack = Layers::Stack(layers);
    match cell {
        CellKind::Gru => {
            meta.insert("cell".into(), "gru".into());
            meta.insert("variant".into(), "reset-after".into());
            let train = cli::train_concise::<nn::GRU, GruParams<f64>>;
            train(stack, args, run, "deep GRU on tch", meta)
        }
        CellKind::Lstm => {
            meta.insert("cell".into(), "lstm".into());
            let train = cli::train_concise::<nn::LSTM, LstmParams<f64>>;
            train(stack, args, run, "deep LSTM on tch", meta)
        }
        CellKind::Rnn => {
            meta.insert("cell".into(), "rnn".into());
            let train = cli::train_concise::<TanhRnn, RnnParams<f64>>;
            train(stack, args, run, "deep plain RNN on libtorch", meta)
        }
    }
}
// ANCHOR_END: concise_deep
