//! The plain RNN on the fast path: only its arithmetic. The engine
//! (`d2l::fast::engine`) adds `X_t W_xh + b_h` and `H_{t−1} W_hh` before
//! each step, adds `dA W_hhᵀ` to ∂L/∂H_{t−1} after it, and computes the
//! weight gradients after the loop.

use crate::scratch::{Rnn, RnnParams};
use d2l::fast::{tanh_mut, Backward, Forward, Fused};
use ndarray::{azip, NdFloat};

// ANCHOR: rnn_fused
// The whole fast path of a plain RNN: one gate, read by H_{t−1} directly.
d2l::fused_sequence!(Rnn);

impl<F: NdFloat> Fused<F> for Rnn {
    d2l::fused_weights!(input: [(w_xh, b_h)], direct: [w_hh]);

    #[inline(always)]
    fn forward_step(&self, _: &RnnParams<F>, mut s: Forward<F>) {
        // H_t = tanh(X W_xh + b_h + H_{t−1} W_hh): the engine added both.
        tanh_mut(s.gates.view_mut());
        s.next[0].assign(&s.gates);
    }

    #[inline(always)]
    fn backward_step(&self, _: &RnnParams<F>, mut s: Backward<F>) {
        // dA = dH ⊙ (1 − H_t ⊙ H_t). H_{t−1} reaches H_t only through A,
        // so dH_{t−1} starts from zero, and the engine adds dA W_hhᵀ.
        azip!((da in &mut s.da, dh in &mut s.d_state[0], &h in &s.gates) {
            *da = *dh * (F::one() - h * h);
            *dh = F::zero();
        });
    }
}
// ANCHOR_END: rnn_fused
