//! Between our layout and PyTorch's.
//!
//! PyTorch (and so tch's `nn::lstm`) fuses the four blocks into one
//! `(4 · hiddens, inputs)` matrix in the order i, f, g, o (g is our
//! candidate memory C̃), and gives each block two biases, added together:
//!
//! ```text
//! i = σ(X W_iiᵀ + b_ii + H W_hiᵀ + b_hi)      (and so f, o)
//! g = tanh(X W_igᵀ + b_ig + H W_hgᵀ + b_hg)
//! c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c')
//! ```
//!
//! These are exactly our equations: b_i = b_ii + b_hi, and so on.

use crate::scratch::LstmParams;
use d2l::rnn::TorchLayout;
use d2l::rnn::{fuse_t, split_t, TorchLayer};
use ndarray::{Array1, NdFloat};

// ANCHOR: to_torch
impl<F: NdFloat> TorchLayout<F> for LstmParams<F> {
    /// Our parameters in PyTorch's layout (blocks i, f, g, o); the biases
    /// go to `bias_ih`, and `bias_hh` is zero.
    fn to_torch(&self) -> TorchLayer<F> {
        let p = self;
        TorchLayer {
            weight_ih: fuse_t(&[&p.w_xi, &p.w_xf, &p.w_xc, &p.w_xo]),
            weight_hh: fuse_t(&[&p.w_hi, &p.w_hf, &p.w_hc, &p.w_ho]),
            bias_ih: fuse_t(&[&p.b_i, &p.b_f, &p.b_c, &p.b_o]),
            bias_hh: Array1::zeros(4 * p.b_i.len()),
        }
    }

    /// PyTorch's parameters in our layout: each bias is the sum of the
    /// two.
    fn from_torch(t: &TorchLayer<F>) -> Self {
        let [w_xi, w_xf, w_xc, w_xo] = split_t(&t.weight_ih);
        let [w_hi, w_hf, w_hc, w_ho] = split_t(&t.weight_hh);
        let [b_i, b_f, b_c, b_o] = split_t(&(&t.bias_ih + &t.bias_hh));
        LstmParams {
            w_xi,
            w_hi,
            b_i,
            w_xf,
            w_hf,
            b_f,
            w_xo,
            w_ho,
            b_o,
            w_xc,
            w_hc,
            b_c,
        }
    }

    /// PyTorch's gradients in our layout. A bias that is the sum of two
    /// gets the gradient of either one, not their sum.
    fn grads_from_torch(g: &TorchLayer<F>) -> Self {
        Self::from_torch(&g.input_biases_only())
    }
}
// ANCHOR_END: to_torch
