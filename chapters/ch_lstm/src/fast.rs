//! The LSTM on the fast path: only its arithmetic. The engine
//! (`d2l::fast::engine`) adds the input terms and
//! `H_{t−1} [W_hi | W_hf | W_ho | W_hc]` of all four gates before each
//! step, adds `[dA_i | … | dA_c] [W_hi | … | W_hc]ᵀ` to ∂L/∂H_{t−1} after
//! it, and computes the weight gradients after the loop.

use crate::scratch::{Lstm, LstmParams};
use d2l::fast::{gate, rows, rows_mut, sigmoid_mut, tanh_mut};
use d2l::fast::{Backward, Forward, Fused};
use ndarray::{azip, Axis, NdFloat};

// ANCHOR: lstm_fused
d2l::fused_sequence!(Lstm);

impl<F: NdFloat> Fused<F> for Lstm {
    /// tanh(C_t) of every step.
    const SAVED: usize = 1;

    d2l::fused_weights!(
        input: [(w_xi, b_i), (w_xf, b_f), (w_xo, b_o), (w_xc, b_c)],
        direct: [w_hi, w_hf, w_ho, w_hc]
    );

    #[inline(always)]
    fn forward_step(&self, _: &LstmParams<F>, mut s: Forward<F>) {
        let nh = self.num_hiddens;
        let (mut ifo, mut c_tilde) = s.gates.split_at(Axis(1), 3 * nh);
        sigmoid_mut(ifo.view_mut());
        tanh_mut(c_tilde.view_mut());
        let [i, f, o] = [0, 1, 2].map(|g| gate(ifo.view(), g, nh));
        let (c_prev, tanh_c) = (&s.prev[1], &mut s.saved[0]);
        // C_t = F ⊙ C_{t−1} + I ⊙ C̃
        azip!((c in &mut s.next[1], &f in &f, &cp in c_prev, &i in &i,
               &ct in &c_tilde) *c = f * cp + i * ct);
        // H_t = O ⊙ tanh(C_t)
        tanh_c.assign(&s.next[1]);
        tanh_mut(tanh_c.view_mut());
        azip!((h in &mut s.next[0], &o in &o, &tc in &*tanh_c) *h = o * tc);
    }

    #[inline(always)]
    fn backward_step(&self, _: &LstmParams<F>, mut s: Backward<F>) {
        let (nh, one) = (self.num_hiddens, F::one());
        let (dh, dc) = s.d_state.split_at_mut(1);
        // Row by row, on slices exactly nh long: no bounds checks, and the
        // loop compiles to vector instructions.
        for r in 0..s.gates.nrows() {
            let [i, f, o, c_tilde] = rows(s.gates, r, nh);
            let [da_i, da_f, da_o, da_c] = rows_mut(&mut s.da, r, nh);
            let ([tc], [cp]) =
                (rows(s.saved[0], r, nh), rows(s.prev[1], r, nh));
            let ([dh], [dc]) =
                (rows(dh[0].view(), r, nh), rows_mut(&mut dc[0], r, nh));
            for j in 0..nh {
                // H_t = O ⊙ tanh(C_t): to O, and on to C_t through tanh.
                let d_o = dh[j] * tc[j];
                let dc_all = dc[j] + dh[j] * o[j] * (one - tc[j] * tc[j]);
                // C_t = F ⊙ C_{t−1} + I ⊙ C̃, then the activations.
                da_i[j] = dc_all * c_tilde[j] * i[j] * (one - i[j]);
                da_f[j] = dc_all * cp[j] * f[j] * (one - f[j]);
                da_o[j] = d_o * o[j] * (one - o[j]);
                da_c[j] = dc_all * i[j] * (one - c_tilde[j] * c_tilde[j]);
                dc[j] = dc_all * f[j]; // ∂L/∂C_{t−1}
            }
        }
        // H_{t−1} reaches the loss only through the gates: the engine adds
        // [dA_i | dA_f | dA_o | dA_c] [W_hi | … | W_hc]ᵀ to a zero dH.
        s.d_state[0].fill(F::zero());
    }
}
// ANCHOR_END: lstm_fused
