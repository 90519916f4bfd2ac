//! Between our layout and PyTorch's.
//!
//! Ours is d2l's: one `(inputs, hiddens)` weight per gate, so that `X W`
//! reads like the book. PyTorch (and so tch's `nn::gru`) fuses the three
//! gates into one `(3 · hiddens, inputs)` matrix in the order r, z, n, and
//! gives every gate two biases, one added to `X Wᵀ` and one to `H Wᵀ`:
//!
//! ```text
//! r = σ(X W_irᵀ + b_ir + H W_hrᵀ + b_hr)
//! z = σ(X W_izᵀ + b_iz + H W_hzᵀ + b_hz)
//! n = tanh(X W_inᵀ + b_in + r ⊙ (H W_hnᵀ + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! ```
//!
//! For r and z only the sum of the two biases matters, so b_r = b_ir + b_hr.
//! For n the two stay apart, because r multiplies one of them: b_h = b_in
//! and b_hh = b_hn. This is the reset-after formulation; no weights make
//! PyTorch's GRU compute d2l's reset-before one.

use crate::scratch::GruParams;
use d2l::rnn::{fuse_bias, fuse_t, split_bias, split_t, TorchLayer};
use ndarray::{Array1, NdFloat};

/// One GRU layer in PyTorch's layout: gates r, z, n.
pub type TorchGru<F> = TorchLayer<F>;

// ANCHOR: to_torch
/// Our parameters in PyTorch's layout. The r and z biases go to `bias_ih`
/// and their `bias_hh` halves are zero.
pub fn to_torch<F: NdFloat>(p: &GruParams<F>) -> TorchGru<F> {
    let zero = Array1::zeros(p.b_h.len());
    TorchGru {
        weight_ih: fuse_t(&[&p.w_xr, &p.w_xz, &p.w_xh]),
        weight_hh: fuse_t(&[&p.w_hr, &p.w_hz, &p.w_hh]),
        bias_ih: fuse_bias(&[&p.b_r, &p.b_z, &p.b_h]),
        bias_hh: fuse_bias(&[&zero, &zero, &p.b_hh]),
    }
}

/// PyTorch's parameters in our layout: b_r = b_ir + b_hr, b_z = b_iz +
/// b_hz, b_h = b_in, b_hh = b_hn.
pub fn from_torch<F: NdFloat>(t: &TorchGru<F>) -> GruParams<F> {
    let [w_xr, w_xz, w_xh] = gates(split_t(&t.weight_ih, 3));
    let [w_hr, w_hz, w_hh] = gates(split_t(&t.weight_hh, 3));
    let [b_ir, b_iz, b_in] = gates(split_bias(&t.bias_ih, 3));
    let [b_hr, b_hz, b_hn] = gates(split_bias(&t.bias_hh, 3));
    GruParams {
        w_xz,
        w_hz,
        b_z: b_iz + b_hz,
        w_xr,
        w_hr,
        b_r: b_ir + b_hr,
        w_xh,
        w_hh,
        b_h: b_in,
        b_hh: b_hn,
    }
}
// ANCHOR_END: to_torch

/// PyTorch's gradients in our layout. Since b_r = b_ir + b_hr, the loss
/// has the same gradient with respect to all three; so with b_z.
pub fn grads_from_torch<F: NdFloat>(g: &TorchGru<F>) -> GruParams<F> {
    let mut p = from_torch(g);
    let [b_ir, b_iz, _] = gates(split_bias(&g.bias_ih, 3));
    p.b_r = b_ir;
    p.b_z = b_iz;
    p
}

fn gates<T>(v: Vec<T>) -> [T; 3] {
    v.try_into()
        .unwrap_or_else(|_| panic!("a GRU has exactly three gates"))
}
