//! The concise plain RNN: d2l's `RNNModel` around a tanh RNN layer of
//! libtorch ([`TanhRnn`], what PyTorch's `nn.RNN` runs), from the shared
//! `d2l::concise`. Its weights convert to and from ours through
//! [`TorchLayout`](d2l::rnn::TorchLayout) (`layout.rs`).

use crate::scratch::RnnParams;
use anyhow::Result;
use d2l::cli::{self, Layers, Prepared, TrainArgs};
use d2l::concise::{ConciseRnn, TanhRnn};
use std::collections::BTreeMap;

// ANCHOR: concise_rnn
/// One-hot → tanh RNN → linear: `ConciseTanh::new(vocab_size,
/// num_hiddens, num_layers, device, kind)`, initialised as PyTorch does.
pub type ConciseTanh = ConciseRnn<TanhRnn>;
// ANCHOR_END: concise_rnn

/// `ch_rnn --impl concise`: trains the concise model and saves it in our
/// layout, so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let meta = BTreeMap::from([("model".to_string(), "rnn".to_string())]);
    let train = cli::train_concise::<TanhRnn, RnnParams<f64>>;
    train(Layers::One, args, run, "RNN on libtorch (rnn_tanh)", meta)
}
