//! Between our layout and PyTorch's.
//!
//! PyTorch's `nn.RNN` (tanh) stores `W_xhᵀ` as `weight_ih_l0`, `W_hhᵀ` as
//! `weight_hh_l0`, and two biases, added together:
//!
//! ```text
//! h' = tanh(X W_ihᵀ + b_ih + H W_hhᵀ + b_hh)
//! ```
//!
//! This is exactly our equation, with b_h = b_ih + b_hh.

use crate::scratch::RnnParams;
use d2l::rnn::{fuse_t, split_t, TorchLayer, TorchLayout};
use ndarray::{Array1, NdFloat};

// ANCHOR: to_torch
impl<F: NdFloat> TorchLayout<F> for RnnParams<F> {
    /// Our parameters in PyTorch's layout: one block, transposed; the
    /// bias goes to `bias_ih`, and `bias_hh` is zero.
    fn to_torch(&self) -> TorchLayer<F> {
        TorchLayer {
            weight_ih: fuse_t(&[&self.w_xh]),
            weight_hh: fuse_t(&[&self.w_hh]),
            bias_ih: self.b_h.clone(),
            bias_hh: Array1::zeros(self.b_h.len()),
        }
    }

    /// PyTorch's parameters in our layout: the bias is the sum of the two.
    fn from_torch(t: &TorchLayer<F>) -> Self {
        let [w_xh] = split_t(&t.weight_ih);
        let [w_hh] = split_t(&t.weight_hh);
        let b_h = &t.bias_ih + &t.bias_hh;
        RnnParams { w_xh, w_hh, b_h }
    }

    /// PyTorch's gradients in our layout: the bias's is either one's.
    fn grads_from_torch(g: &TorchLayer<F>) -> Self {
        Self::from_torch(&g.input_biases_only())
    }
}
// ANCHOR_END: to_torch
