//! The concise LSTM: d2l's `RNNModel` around `tch::nn::lstm`, from the
//! shared `d2l::concise`. Its weights convert to and from ours through
//! [`TorchLayout`](d2l::rnn::TorchLayout) (`layout.rs`).

use crate::scratch::LstmParams;
use anyhow::Result;
use d2l::cli::{self, Layers, Prepared, TrainArgs};
use d2l::concise::ConciseRnn;
use std::collections::BTreeMap;
use tch::{nn, Device, Kind};

/// One-hot → `nn::lstm` → linear.
pub type ConciseLstm = ConciseRnn<nn::LSTM>;

// ANCHOR: concise_lstm
/// The concise LSTM with `num_layers` layers, initialised as PyTorch does.
pub fn concise_lstm(
    vocab_size: usize,
    num_hiddens: usize,
    num_layers: usize,
    device: Device,
    kind: Kind,
) -> ConciseLstm {
    let build = |path: &nn::Path, inputs, hiddens, config| {
        nn::lstm(path, inputs, hiddens, config)
    };
    ConciseRnn::new(build, vocab_size, num_hiddens, num_layers, device, kind)
}
// ANCHOR_END: concise_lstm

/// `ch_lstm --impl concise`: trains the concise model and saves it in our
/// layout, so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let meta = BTreeMap::from([("model".to_string(), "lstm".to_string())]);
    let title = "LSTM on tch (nn::lstm)";
    let build = concise_lstm;
    cli::train_concise::<_, LstmParams<f64>>(
        build,
        Layers::One,
        args,
        run,
        title,
        meta,
    )
}
