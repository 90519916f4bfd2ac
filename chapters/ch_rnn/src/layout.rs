//! Between our layout and PyTorch's.
//!
//! PyTorch's `nn.RNN` (tanh) computes
//!
//! ```text
//! h' = tanh(X weight_ihᵀ + bias_ih + H weight_hhᵀ + bias_hh)
//! ```
//!
//! This is exactly our equation, with weight_ih = W_xhᵀ,
//! weight_hh = W_hhᵀ and b_h = bias_ih + bias_hh.

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

    /// PyTorch's gradients in our layout: the gradient of b_h is that of
    /// either PyTorch bias (each is one term of the sum), not their sum.
    fn grads_from_torch(g: &TorchLayer<F>) -> Self {
        Self::from_torch(&g.input_biases_only())
    }
}
// ANCHOR_END: to_torch
