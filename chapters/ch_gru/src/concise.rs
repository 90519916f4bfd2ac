//! The concise GRU: d2l's `RNNModel` around `tch::nn::gru`, from the shared
//! `d2l::concise`. Its weights convert to and from ours through
//! [`TorchLayout`](d2l::rnn::TorchLayout) (`layout.rs`), and it trains
//! through the same loop as the scratch model.

use crate::scratch::GruParams;
use anyhow::Result;
use d2l::cli::{self, Layers, Prepared, TrainArgs};
use d2l::concise::ConciseRnn;
use std::collections::BTreeMap;
use tch::{nn, Device, Kind};

/// One-hot → `nn::gru` → linear.
pub type ConciseGru = ConciseRnn<nn::GRU>;

// ANCHOR: concise_gru
/// The concise GRU with `num_layers` layers, initialised as PyTorch does.
pub fn concise_gru(
    vocab_size: usize,
    num_hiddens: usize,
    num_layers: usize,
    device: Device,
    kind: Kind,
) -> ConciseGru {
    let build = |path: &nn::Path, inputs, hiddens, config| {
        nn::gru(path, inputs, hiddens, config)
    };
    ConciseRnn::new(build, vocab_size, num_hiddens, num_layers, device, kind)
}
// ANCHOR_END: concise_gru

/// `ch_gru --impl concise`: trains the concise model and saves it in our
/// layout (reset-after), so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), "reset-after".to_string()),
    ]);
    let title = "GRU on tch (nn::gru)";
    let build = concise_gru;
    cli::train_concise::<_, GruParams<f64>>(
        build,
        Layers::One,
        args,
        run,
        title,
        meta,
    )
}
