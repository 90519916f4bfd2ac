//! The bidirectional layers on libtorch: tch's `nn::gru` and `nn::lstm`
//! with `bidirectional: true`, d2l's `nn.LSTM(..., bidirectional=True)`,
//! and their weights in our layout, one [`Both`] per layer.

use crate::scratch::Both;
use d2l::concise::{ConciseRnn, Direction, Read, TchRnn};
use d2l::rnn::{Output, TorchLayout};
use tch::{Device, Kind};

// ANCHOR: concise_bi
/// d2l's bidirectional model: one-hot input, `num_layers` bidirectional
/// layers of tch, and a linear layer from both directions' hidden states
/// to the vocabulary.
pub fn concise_bi<R: TchRnn>(
    vocab_size: usize,
    num_hiddens: usize,
    num_layers: usize,
    device: Device,
    kind: Kind,
) -> ConciseRnn<R> {
    let bidirectional = true;
    ConciseRnn::with_directions(
        vocab_size,
        num_hiddens,
        num_layers,
        bidirectional,
        device,
        kind,
    )
}

/// Copies our layers into the model: `fwd` of layer l into tch's
/// `…_l{l}`, `bwd` into `…_l{l}_reverse`.
pub fn set_layers<R, P: TorchLayout<f64>>(
    m: &mut ConciseRnn<R>,
    layers: &[Both<P>],
) {
    for (l, p) in layers.iter().enumerate() {
        m.write_direction(l, Direction::Forward, &p.fwd.to_torch());
        m.write_direction(l, Direction::Reverse, &p.bwd.to_torch());
    }
}

/// The model's `num_layers` layers (values or gradients) in our layout.
pub fn layers<R, P: TorchLayout<f64>>(
    m: &ConciseRnn<R>,
    num_layers: usize,
    read: Read,
) -> Vec<Both<P>> {
    let ours = |l, d| {
        let t = m.read_direction(l, d, read);
        match read {
            Read::Value => P::from_torch(&t),
            Read::Grad => P::grads_from_torch(&t),
        }
    };
    (0..num_layers)
        .map(|l| Both {
            fwd: ours(l, Direction::Forward),
            bwd: ours(l, Direction::Reverse),
        })
        .collect()
}
// ANCHOR_END: concise_bi

/// A model in f64 on the CPU holding a copy of our layers and output
/// layer, for the agreement tests.
pub fn concise_copy<R: TchRnn, P: TorchLayout<f64>>(
    layers: &[Both<P>],
    output: &Output<f64>,
) -> ConciseRnn<R> {
    let (o, v) = output.w_hq.dim();
    let h = o / 2;
    let n = layers.len();
    let mut m = concise_bi(v, h, n, Device::Cpu, Kind::Double);
    set_layers(&mut m, layers);
    m.set_output(output);
    m
}
