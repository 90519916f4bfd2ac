//! The concise GRU: d2l's `RNNModel` around `tch::nn::gru`, from the shared
//! `d2l::concise`. Its weights convert to and from ours through
//! [`TorchLayout`](d2l::rnn::TorchLayout) (`layout.rs`), and it trains
//! through the same loop as the scratch model.

use crate::scratch::GruParams;
use anyhow::Result;
use d2l::cli::{self, Layers, Prepared, TrainArgs};
use d2l::concise::ConciseRnn;
use std::collections::BTreeMap;
use tch::nn;

// ANCHOR: concise_gru
/// One-hot → `nn::gru` → linear: `ConciseGru::new(vocab_size, num_hiddens,
/// num_layers, device, kind)`, initialised as PyTorch does.
pub type ConciseGru = ConciseRnn<nn::GRU>;
// ANCHOR_END: concise_gru

/// `ch_gru --impl concise`: trains the concise model and saves it in our
/// layout (reset-after), so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), "reset-after".to_string()),
    ]);
    let train = cli::train_concise::<nn::GRU, GruParams<f64>>;
    train(Layers::One, args, run, "GRU on tch (nn::gru)", meta)
}
