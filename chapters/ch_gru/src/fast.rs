//! The GRU's fast path: the same numbers as `gru_step` and
//! `gru_step_backward` run step by step, computed in fewer and larger
//! pieces.
//!
//! - The input terms `X W_x· + b_·` of all three gates and all steps are
//!   computed before the loop (a row lookup for tokens).
//! - Inside the loop, the two gates that read `H_{t−1}` directly share one
//!   matrix product, `H_{t−1} [W_hz | W_hr]`.
//! - Backward, the loop over time only carries ∂L/∂H back; every weight
//!   gradient is one matrix product over all steps after it.
//! - Everything the loop writes goes into matrices allocated once per
//!   sequence, so nothing is allocated inside it.

use crate::scratch::{GruParams, Variant};
use d2l::fast::{
    gate, input_grads, input_terms, side_by_side, sigmoid_mut, step_rows,
    step_rows_mut, tanh_mut, wide,
};
use d2l::kernel::{add_mat_mul_packed, Packed};
use d2l::rnn::{Head, Seq, SeqGrads};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, Axis, NdFloat, Zip};

// ANCHOR: gru_seq_cache
/// What the backward pass needs from the whole sequence.
#[derive(Debug, Clone)]
pub struct GruSeqCache<F> {
    /// H_0, H_1, …, H_T stacked: `((steps + 1) · batch, hiddens)`. The
    /// rows of step t − 1 are H_{t−1}, what step t read.
    pub hs: Array2<F>,
    /// `[Z | R | H̃]` of every step, after the activations:
    /// `(steps · batch, 3 · hiddens)`.
    pub gates: Array2<F>,
    /// What W_hh multiplied at every step, as in `GruCache::hh`.
    pub hh: Array2<F>,
}
// ANCHOR_END: gru_seq_cache

impl<F: NdFloat> GruSeqCache<F> {
    /// H_1 … H_T, the hidden states the output layer reads.
    pub fn outputs(&self, batch: usize) -> ArrayView2<'_, F> {
        self.hs.slice(s![batch.., ..])
    }
}

// ANCHOR: gru_forward_seq
/// The whole sequence forward from `h0`.
pub fn gru_forward_seq<F: NdFloat>(
    p: &GruParams<F>,
    variant: Variant,
    xs: &Seq<'_, F>,
    h0: &Array2<F>,
) -> GruSeqCache<F> {
    let (b, steps, nh) = (xs.batch, xs.num_steps(), p.b_z.len());
    // [X W_xz + b_z | X W_xr + b_r | X W_xh + b_h] for every step.
    let mut gates = input_terms(
        &xs.x,
        &[(&p.w_xz, &p.b_z), (&p.w_xr, &p.b_r), (&p.w_xh, &p.b_h)],
    );
    // The recurrent weights, laid out once for the 35 products below.
    let w_hzr = Packed::new(&side_by_side(&[&p.w_hz, &p.w_hr]));
    let w_hh = Packed::new(&p.w_hh);
    let mut hs = Array2::zeros(((steps + 1) * b, nh));
    hs.slice_mut(s![..b, ..]).assign(h0);
    let mut hh = Array2::zeros((steps * b, nh));
    // The loop compiled for 8-lane vectors where the CPU has them.
    wide(
        #[inline(always)]
        || {
            for t in 0..steps {
                let (done, mut next) =
                    hs.view_mut().split_at(Axis(0), (t + 1) * b);
                let h_prev = done.slice_move(s![t * b.., ..]); // H_{t−1}
                let g = step_rows_mut(gates.view_mut(), t, b);
                let (mut zr, mut a_h) = g.split_at(Axis(1), 2 * nh);
                // [Z | R] = σ(X W_x· + b_· + H_{t−1} [W_hz | W_hr])
                add_mat_mul_packed(&h_prev, &w_hzr, &mut zr);
                sigmoid_mut(zr.view_mut());
                let (z, r) = zr.view().split_at(Axis(1), nh);
                let mut hh_t = step_rows_mut(hh.view_mut(), t, b);
                match variant {
                    Variant::ResetBefore => {
                        // H̃ = tanh(X W_xh + b_h + (R ⊙ H_{t−1}) W_hh)
                        Zip::from(&mut hh_t)
                            .and(&r)
                            .and(&h_prev)
                            .for_each(|o, &r, &h| *o = r * h);
                        add_mat_mul_packed(&hh_t, &w_hh, &mut a_h);
                        tanh_mut(a_h.view_mut());
                    }
                    Variant::ResetAfter => {
                        // H̃ = tanh(X W_xh + b_h + R ⊙ (H_{t−1} W_hh + b_hh))
                        hh_t.assign(
                            &p.b_hh.broadcast((b, nh)).expect("bias row"),
                        );
                        add_mat_mul_packed(&h_prev, &w_hh, &mut hh_t);
                        Zip::from(&mut a_h)
                            .and(&r)
                            .and(&hh_t)
                            .for_each(|a, &r, &hh| *a += r * hh);
                        tanh_mut(a_h.view_mut());
                    }
                }
                // H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃
                Zip::from(next.slice_mut(s![..b, ..]))
                    .and(&z)
                    .and(&h_prev)
                    .and(&a_h)
                    .for_each(|h, &z, &hp, &ht| {
                        *h = z * hp + (F::one() - z) * ht
                    });
            }
        },
    );
    GruSeqCache { hs, gates, hh }
}
// ANCHOR_END: gru_forward_seq

// ANCHOR: gru_backward_seq
/// The whole sequence backward. `dhs` is ∂L/∂H_t from above for every
/// step (stacked like the outputs). Adds the parameter gradients into
/// `g`; returns ∂L/∂H_0 and, for a dense input, ∂L/∂X.
pub fn gru_backward_seq<F: NdFloat>(
    p: &GruParams<F>,
    variant: Variant,
    xs: &Seq<'_, F>,
    cache: &GruSeqCache<F>,
    dhs: ArrayView2<'_, F>,
    g: &mut GruParams<F>,
) -> (Array2<F>, Option<Array2<F>>) {
    let (b, steps, nh) = (xs.batch, xs.num_steps(), p.b_z.len());
    let one = F::one();
    // The transposed recurrent weights, laid out once for the loop.
    let w_hzr_t = Packed::new(&side_by_side(&[&p.w_hz, &p.w_hr]).t());
    let w_hh_t = Packed::new(&p.w_hh.t());
    // [dA_z | dA_r | dA_h]: the gradients of the pre-activations.
    let mut da = Array2::zeros((steps * b, 3 * nh));
    // ∂L/∂hh at every step (reset-after reads it for W_hh's gradient).
    let mut d_hh = Array2::zeros((steps * b, nh));
    let mut dh = Array2::zeros((b, nh)); // ∂L/∂H_t, carried back
    wide(
        #[inline(always)]
        || {
            for t in (0..steps).rev() {
                dh += &step_rows(dhs.view(), t, b);
                let h_prev = step_rows(cache.hs.view(), t, b);
                let gates_t = step_rows(cache.gates.view(), t, b);
                let (z, r, h_tilde) = (
                    gate(gates_t, 0, nh),
                    gate(gates_t, 1, nh),
                    gate(gates_t, 2, nh),
                );
                let hh = step_rows(cache.hh.view(), t, b);
                let da_t = step_rows_mut(da.view_mut(), t, b);
                let (mut da_zr, mut da_h) = da_t.split_at(Axis(1), 2 * nh);
                let (mut da_z, mut da_r) =
                    da_zr.view_mut().split_at(Axis(1), nh);
                // Through H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃ and the activations:
                // dA_z = dH ⊙ (H_{t−1} − H̃) ⊙ Z(1 − Z),
                // dA_h = dH ⊙ (1 − Z) ⊙ (1 − H̃²), and dH_{t−1} = dH ⊙ Z so far.
                Zip::from(&mut da_z)
                    .and(&mut da_h)
                    .and(&mut dh)
                    .and(&z)
                    .and(&h_prev)
                    .and(&h_tilde)
                    .for_each(|dz, dah, dh, &z, &hp, &ht| {
                        *dz = *dh * (hp - ht) * z * (one - z);
                        *dah = *dh * (one - z) * (one - ht * ht);
                        *dh *= z;
                    });
                let mut d_hh_t = step_rows_mut(d_hh.view_mut(), t, b);
                match variant {
                    Variant::ResetBefore => {
                        // hh = R ⊙ H_{t−1}: ∂L/∂hh = dA_h W_hhᵀ, shared by R and H.
                        d_hh_t.fill(F::zero());
                        add_mat_mul_packed(&da_h, &w_hh_t, &mut d_hh_t);
                        Zip::from(&mut da_r)
                            .and(&mut dh)
                            .and(&d_hh_t)
                            .and(&r)
                            .and(&h_prev)
                            .for_each(|dar, dh, &dhh, &r, &hp| {
                                *dh += dhh * r;
                                *dar = dhh * hp * r * (one - r);
                            });
                    }
                    Variant::ResetAfter => {
                        // A_h = … + R ⊙ hh, hh = H_{t−1} W_hh + b_hh.
                        Zip::from(&mut d_hh_t)
                            .and(&mut da_r)
                            .and(&da_h)
                            .and(&r)
                            .and(&hh)
                            .for_each(|dhh, dar, &dah, &r, &hh| {
                                *dhh = dah * r;
                                *dar = dah * hh * r * (one - r);
                            });
                        add_mat_mul_packed(
                            &d_hh_t,
                            &w_hh_t,
                            &mut dh.view_mut(),
                        );
                    }
                }
                // dH_{t−1} += [dA_z | dA_r] [W_hz | W_hr]ᵀ
                add_mat_mul_packed(&da_zr, &w_hzr_t, &mut dh.view_mut());
            }
        },
    );
    // The weight gradients, each one product over all steps.
    let h_prev = cache.hs.slice(s![..steps * b, ..]);
    general_mat_mul(
        one,
        &h_prev.t(),
        &gate(da.view(), 0, nh),
        one,
        &mut g.w_hz,
    );
    general_mat_mul(
        one,
        &h_prev.t(),
        &gate(da.view(), 1, nh),
        one,
        &mut g.w_hr,
    );
    match variant {
        Variant::ResetBefore => {
            // ∂L/∂W_hh = Σ_t (R ⊙ H_{t−1})ᵀ dA_h
            let da_h = gate(da.view(), 2, nh);
            general_mat_mul(one, &cache.hh.t(), &da_h, one, &mut g.w_hh);
        }
        Variant::ResetAfter => {
            general_mat_mul(one, &h_prev.t(), &d_hh, one, &mut g.w_hh);
            g.b_hh += &d_hh.sum_axis(Axis(0));
        }
    }
    let dx = input_grads(
        &xs.x,
        da.view(),
        &[&p.w_xz, &p.w_xr, &p.w_xh],
        &mut [&mut g.w_xz, &mut g.w_xr, &mut g.w_xh],
        &mut [&mut g.b_z, &mut g.b_r, &mut g.b_h],
    );
    (dh, dx)
}
// ANCHOR_END: gru_backward_seq

/// Forward, head, backward: what `Cell::seq_forward_backward` runs.
pub fn gru_forward_backward_seq<F: NdFloat>(
    p: &GruParams<F>,
    variant: Variant,
    xs: &Seq<'_, F>,
    h: &mut Array2<F>,
    head: &mut Head<'_, F>,
    g: &mut GruParams<F>,
) -> SeqGrads<F, Array2<F>> {
    let cache = gru_forward_seq(p, variant, xs, h);
    h.assign(&step_rows(cache.hs.view(), xs.num_steps(), xs.batch));
    let dhs = head(cache.outputs(xs.batch));
    gru_backward_seq(p, variant, xs, &cache, dhs.view(), g)
}
