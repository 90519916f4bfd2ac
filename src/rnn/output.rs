//! The output layer above the recurrent layer: one logit per vocabulary
//! entry.

use super::ops::normal;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, Axis, NdFloat};
use rand::Rng;

/// The output layer, O = H W_hq + b_q: one logit per vocabulary entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Output<F> {
    /// `(hiddens, vocab)`
    pub w_hq: Array2<F>,
    /// `(vocab,)`
    pub b_q: Array1<F>,
}
crate::impl_tensors!(Output { w_hq, b_q });

impl<F: NdFloat> Output<F> {
    /// d2l's initialisation: W_hq ~ N(0, 0.01²), b_q = 0.
    pub fn new<R: Rng>(
        num_hiddens: usize,
        vocab_size: usize,
        rng: &mut R,
    ) -> Self {
        Self {
            w_hq: normal((num_hiddens, vocab_size), 0.01, rng),
            b_q: Array1::zeros(vocab_size),
        }
    }

    /// O = H W_hq + b_q.
    pub fn forward(&self, h: &Array2<F>) -> Array2<F> {
        h.dot(&self.w_hq) + &self.b_q
    }

    /// Adds ∂L/∂W_hq = Hᵀ dO and ∂L/∂b_q = Σ_rows dO into `grads`, and
    /// returns ∂L/∂H = dO W_hqᵀ.
    pub fn backward(
        &self,
        h: &Array2<F>,
        d_o: &Array2<F>,
        grads: &mut Output<F>,
    ) -> Array2<F> {
        general_mat_mul(F::one(), &h.t(), d_o, F::one(), &mut grads.w_hq);
        grads.b_q += &d_o.sum_axis(Axis(0));
        d_o.dot(&self.w_hq.t())
    }
}
