//! The concise LSTM: d2l's `RNNModel` around `tch::nn::lstm`, from the
//! shared `d2l::concise`, plus the copy of weights between our layout and
//! PyTorch's.

use crate::layout::{from_torch, grads_from_torch, to_torch};
use crate::scratch::LstmParams;
use anyhow::Result;
use d2l::cli::{self, Prepared, TrainArgs};
use d2l::concise::{ConciseRnn, Read};
use std::collections::BTreeMap;
use tch::nn;
use tch::Kind;

/// One-hot → `nn::lstm` → linear.
pub type ConciseLstm = ConciseRnn<nn::LSTM>;

// ANCHOR: concise_lstm
/// The concise LSTM with `num_layers` layers, initialised as PyTorch does.
pub fn concise_lstm(
    vocab_size: usize,
    num_hiddens: usize,
    num_layers: usize,
    device: tch::Device,
    kind: Kind,
) -> ConciseLstm {
    let build = |path: &nn::Path, inputs, hiddens, config| {
        nn::lstm(path, inputs, hiddens, config)
    };
    ConciseRnn::new(build, vocab_size, num_hiddens, num_layers, device, kind)
}
// ANCHOR_END: concise_lstm

/// Copies layer `l`'s parameters, in our layout, into the model.
pub fn set_layer(model: &mut ConciseLstm, l: usize, p: &LstmParams<f64>) {
    model.write_layer(l, &to_torch(p));
}

/// Layer `l`'s parameters (or their gradients) in our layout.
pub fn layer(model: &ConciseLstm, l: usize, read: Read) -> LstmParams<f64> {
    let t = model.read_layer(l, read);
    match read {
        Read::Value => from_torch(&t),
        Read::Grad => grads_from_torch(&t),
    }
}

/// `ch_lstm --impl concise`: trains the concise model and saves it in our
/// layout, so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let device = args.device.tch()?;
    tch::manual_seed(args.seed as i64);
    let vocab_size = run.splits.vocab.len();
    let mut model =
        concise_lstm(vocab_size, args.num_hiddens, 1, device, Kind::Float);
    let meta = BTreeMap::from([
        ("model".to_string(), "lstm".to_string()),
        ("impl".to_string(), "concise".to_string()),
    ]);
    cli::train_and_save(
        &mut model,
        |m| {
            let cell = layer(m, 0, Read::Value);
            cli::scratch_tensors(&cell, &m.output(Read::Value))
        },
        args,
        run,
        "LSTM on tch (nn::lstm)",
        meta,
    )?;
    Ok(())
}
