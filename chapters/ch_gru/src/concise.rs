//! The concise GRU: d2l's `RNNModel` around `tch::nn::gru`, from the shared
//! `d2l::concise`, plus the copy of weights between our layout and
//! PyTorch's. It trains through the same loop as the scratch model.

use crate::layout::{from_torch, grads_from_torch, to_torch};
use crate::scratch::GruParams;
use anyhow::Result;
use d2l::cli::{self, Prepared, TrainArgs};
use d2l::concise::{ConciseRnn, Read};
use std::collections::BTreeMap;
use tch::nn;
use tch::Kind;

/// One-hot → `nn::gru` → linear.
pub type ConciseGru = ConciseRnn<nn::GRU>;

// ANCHOR: concise_gru
/// The concise GRU with `num_layers` layers, initialised as PyTorch does.
pub fn concise_gru(
    vocab_size: usize,
    num_hiddens: usize,
    num_layers: usize,
    device: tch::Device,
    kind: Kind,
) -> ConciseGru {
    let build = |path: &nn::Path, inputs, hiddens, config| {
        nn::gru(path, inputs, hiddens, config)
    };
    ConciseRnn::new(build, vocab_size, num_hiddens, num_layers, device, kind)
}
// ANCHOR_END: concise_gru

// ANCHOR: concise_copy
/// Copies layer `l`'s parameters, in our layout, into the model.
pub fn set_layer(model: &mut ConciseGru, l: usize, p: &GruParams<f64>) {
    model.write_layer(l, &to_torch(p));
}

/// Layer `l`'s parameters (or their gradients) in our layout.
pub fn layer(model: &ConciseGru, l: usize, read: Read) -> GruParams<f64> {
    let t = model.read_layer(l, read);
    match read {
        Read::Value => from_torch(&t),
        Read::Grad => grads_from_torch(&t),
    }
}
// ANCHOR_END: concise_copy

/// `ch_gru --impl concise`: trains the concise model and saves it in our
/// layout (reset-after), so `generate` and the scratch model can load it.
pub fn train_cli(args: &TrainArgs, run: Prepared) -> Result<()> {
    let device = args.device.tch()?;
    tch::manual_seed(args.seed as i64);
    let vocab_size = run.splits.vocab.len();
    let mut model =
        concise_gru(vocab_size, args.num_hiddens, 1, device, Kind::Float);
    let meta = BTreeMap::from([
        ("model".to_string(), "gru".to_string()),
        ("variant".to_string(), "reset-after".to_string()),
        ("impl".to_string(), "concise".to_string()),
    ]);
    cli::train_and_save(
        &mut model,
        |m| {
            cli::scratch_tensors(
                &layer(m, 0, Read::Value),
                &m.output(Read::Value),
            )
        },
        args,
        run,
        "GRU on tch (nn::gru)",
        meta,
    )?;
    Ok(())
}
