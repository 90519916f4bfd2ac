//! The concise LSTM: d2l's `RNNModel` around `tch::nn::lstm`, from the
//! shared `d2l::concise`. Its weights convert to and from ours through
//! [`TorchLayout`](d2l::rnn::TorchLayout) (`layout.rs`).

use crate::scratch::LstmParams;
use anyhow::Result;
use d2l::cli::{self, Layers, Prepared, TrainArgs};
use d2l::concise::ConciseRnn;
use std::collections::BTreeMap;
use tch::nn;

// ANCHOR: concise_lstm
/// One-hot → `nn::lstm` → linear: `ConciseLstm::new(vocab_size,
/// num_hiddens, num_layers, device, kind)`, initialised as PyTorch does.
pub type ConciseLstm = ConciseRnn<nn::LSTM>;
// ANCHOR_END: concise_lstm

/// `ch_lstm --impl concise`: trains the concise model and saves it in our
/// layout, so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let meta = BTreeMap::from([("model".to_string(), "lstm".to_string())]);
    let train = cli::train_concise::<nn::LSTM, LstmParams<f64>>;
    train(Layers::One, args, run, "LSTM on tch (nn::lstm)", meta)
}
