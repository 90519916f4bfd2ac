//! The GRU on the fast path: only its arithmetic. The engine
//! (`d2l::fast::engine`) adds the input terms and `H_{t−1} [W_hz | W_hr]`
//! before each step and computes the weight gradients after the loop.

use crate::scratch::{Gru, GruParams, Variant};
use d2l::fast::kernel::{add_mat_mul_packed, Packed};
use d2l::fast::{add_mat_mul, gate, sigmoid_mut, tanh_mut};
use d2l::fast::{Backward, Forward, Fused, Sums};
use ndarray::{azip, Axis, NdFloat};

// ANCHOR: gru_fused
d2l::fused_sequence!(Gru);

impl<F: NdFloat> Fused<F> for Gru {
    /// What W_hh multiplies at every step: R ⊙ H_{t−1} (reset-before), or
    /// the product H_{t−1} W_hh + b_hh itself (reset-after).
    const SAVED: usize = 1;
    /// ∂L/∂ of the same, for W_hh's gradient.
    const SAVED_BACK: usize = 1;

    d2l::fused_weights!(
        input: [(w_xz, b_z), (w_xr, b_r), (w_xh, b_h)],
        direct: [w_hz, w_hr]
    );

    fn pack(&self, p: &GruParams<F>, backward: bool) -> Vec<Packed<F>> {
        let w_hh = if backward { p.w_hh.t() } else { p.w_hh.view() };
        vec![Packed::new(&w_hh)]
    }

    #[inline(always)]
    fn forward_step(&self, p: &GruParams<F>, mut s: Forward<F>) {
        let (nh, one, h_prev) = (self.num_hiddens, F::one(), &s.prev[0]);
        let (mut zr, mut a_h) = s.gates.split_at(Axis(1), 2 * nh);
        // [Z | R] = σ(X W_x· + b_· + H_{t−1} [W_hz | W_hr])
        sigmoid_mut(zr.view_mut());
        let (z, r) = zr.view().split_at(Axis(1), nh);
        let hh = &mut s.saved[0];
        match self.variant {
            Variant::ResetBefore => {
                // H̃ = tanh(X W_xh + b_h + (R ⊙ H_{t−1}) W_hh)
                azip!((o in &mut *hh, &r in &r, &h in h_prev) *o = r * h);
                add_mat_mul_packed(&*hh, &s.own[0], &mut a_h);
            }
            Variant::ResetAfter => {
                // H̃ = tanh(X W_xh + b_h + R ⊙ (H_{t−1} W_hh + b_hh))
                hh.assign(&p.b_hh.broadcast(hh.raw_dim()).expect("bias row"));
                add_mat_mul_packed(h_prev, &s.own[0], hh);
                azip!((a in &mut a_h, &r in &r, &hh in &*hh) *a += r * hh);
            }
        }
        tanh_mut(a_h.view_mut());
        // H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃
        azip!((h in &mut s.next[0], &z in &z, &hp in h_prev, &ht in &a_h)
            *h = z * hp + (one - z) * ht);
    }

    #[inline(always)]
    fn backward_step(&self, _: &GruParams<F>, mut s: Backward<F>) {
        let (nh, one, h_prev) = (self.num_hiddens, F::one(), &s.prev[0]);
        let (z, r, h_tilde) = (
            gate(s.gates, 0, nh),
            gate(s.gates, 1, nh),
            gate(s.gates, 2, nh),
        );
        let (dh, d_hh) = (&mut s.d_state[0], &mut s.saved_back[0]);
        let (mut da_zr, mut da_h) = s.da.split_at(Axis(1), 2 * nh);
        let (mut da_z, mut da_r) = da_zr.view_mut().split_at(Axis(1), nh);
        // Through H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃ and the activations:
        // dA_z = dH ⊙ (H_{t−1} − H̃) ⊙ Z ⊙ (1 − Z),
        // dA_h = dH ⊙ (1 − Z) ⊙ (1 − H̃ ⊙ H̃), and dH_{t−1} = dH ⊙ Z so far.
        azip!((dz in &mut da_z, dah in &mut da_h, dh in &mut *dh, &z in &z,
               &hp in h_prev, &ht in &h_tilde) {
            *dz = *dh * (hp - ht) * z * (one - z);
            *dah = *dh * (one - z) * (one - ht * ht);
            *dh *= z;
        });
        match self.variant {
            Variant::ResetBefore => {
                // hh = R ⊙ H_{t−1}: ∂L/∂hh = dA_h W_hhᵀ, shared by R and H.
                add_mat_mul_packed(&da_h, &s.own[0], d_hh);
                azip!((dar in &mut da_r, dh in &mut *dh, &dhh in &*d_hh,
                       &r in &r, &hp in h_prev) {
                    *dh += dhh * r;
                    *dar = dhh * hp * r * (one - r);
                });
            }
            Variant::ResetAfter => {
                // A_h = … + R ⊙ hh, hh = H_{t−1} W_hh + b_hh.
                azip!((dhh in &mut *d_hh, dar in &mut da_r, &dah in &da_h,
                       &r in &r, &hh in &s.saved[0]) {
                    *dhh = dah * r;
                    *dar = dah * hh * r * (one - r);
                });
                add_mat_mul_packed(&*d_hh, &s.own[0], dh);
            }
        }
        // The engine adds [dA_z | dA_r] [W_hz | W_hr]ᵀ to dH_{t−1}.
    }

    fn own_grads(&self, s: Sums<'_, F>, g: &mut GruParams<F>) {
        let one = F::one();
        match self.variant {
            // ∂L/∂W_hh = Σ_t (R ⊙ H_{t−1})ᵀ dA_h
            Variant::ResetBefore => {
                let da_h = gate(s.da, 2, self.num_hiddens);
                let product = (s.saved[0].t(), da_h, g.w_hh.view_mut());
                add_mat_mul(one, vec![product]);
            }
            // ∂L/∂W_hh = Σ_t H_{t−1}ᵀ ∂L/∂hh, ∂L/∂b_hh = Σ ∂L/∂hh
            Variant::ResetAfter => {
                let d_hh = &s.saved_back[0];
                let product = (s.h_prev.t(), d_hh.view(), g.w_hh.view_mut());
                add_mat_mul(one, vec![product]);
                g.b_hh += &d_hh.sum_axis(Axis(0));
            }
        }
    }
}
// ANCHOR_END: gru_fused
