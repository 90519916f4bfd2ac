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
use d2l::rnn::TorchLayout;
use d2l::rnn::{fuse_t, split_t, TorchLayer};
use ndarray::{Array1, NdFloat};

// ANCHOR: to_torch
impl<F: NdFloat> TorchLayout<F> for GruParams<F> {
    /// Our parameters in PyTorch's layout (gates r, z, n). The r and z
    /// biases go to `bias_ih`, and their `bias_hh` halves are zero.
    fn to_torch(&self) -> TorchLayer<F> {
        let zero = Array1::zeros(self.b_h.len());
        TorchLayer {
            weight_ih: fuse_t(&[&self.w_xr, &self.w_xz, &self.w_xh]),
            weight_hh: fuse_t(&[&self.w_hr, &self.w_hz, &self.w_hh]),
            bias_ih: fuse_t(&[&self.b_r, &self.b_z, &self.b_h]),
            bias_hh: fuse_t(&[&zero, &zero, &self.b_hh]),
        }
    }

    /// PyTorch's parameters in our layout: b_r = b_ir + b_hr, b_z = b_iz
    /// + b_hz, b_h = b_in, b_hh = b_hn.
    fn from_torch(t: &TorchLayer<F>) -> Self {
        let [w_xr, w_xz, w_xh] = split_t(&t.weight_ih);
        let [w_hr, w_hz, w_hh] = split_t(&t.weight_hh);
        let [b_ir, b_iz, b_in] = split_t(&t.bias_ih);
        let [b_hr, b_hz, b_hn] = split_t(&t.bias_hh);
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

    /// PyTorch's gradients in our layout. Since b_r = b_ir + b_hr, the
    /// loss has the same gradient with respect to all three; so with b_z.
    fn grads_from_torch(g: &TorchLayer<F>) -> Self {
        let mut p = Self::from_torch(g);
        let [b_ir, b_iz, _] = split_t(&g.bias_ih);
        p.b_r = b_ir;
        p.b_z = b_iz;
        p
    }
}
// ANCHOR_END: to_torch
