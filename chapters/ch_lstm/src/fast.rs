//! The LSTM's fast path: the same numbers as `lstm_step` and
//! `lstm_step_backward` run step by step, computed in fewer and larger
//! pieces, as for the GRU (`ch_gru::fast`):
//!
//! - the input terms of all four gates and all steps before the loop;
//! - one matrix product per step for all four gates,
//!   `H_{t−1} [W_hi | W_hf | W_ho | W_hc]`, and one back,
//!   `[dA_i | dA_f | dA_o | dA_c] [W_hi | W_hf | W_ho | W_hc]ᵀ`;
//! - every weight gradient as one product over all steps, after the loop;
//! - nothing allocated inside the loop.

use crate::scratch::{LstmParams, LstmState};
use d2l::fast::{
    gate, input_grads, input_terms, side_by_side, sigmoid_mut, step_rows,
    step_rows_mut, tanh_mut, wide,
};
use d2l::kernel::{add_mat_mul_packed, Packed};
use d2l::rnn::{Head, Seq, SeqGrads};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, Axis, NdFloat, Zip};

// ANCHOR: lstm_seq_cache
/// What the backward pass needs from the whole sequence.
#[derive(Debug, Clone)]
pub struct LstmSeqCache<F> {
    /// H_0 … H_T stacked: `((steps + 1) · batch, hiddens)`.
    pub hs: Array2<F>,
    /// C_0 … C_T, stacked the same way.
    pub cs: Array2<F>,
    /// tanh(C_1) … tanh(C_T): `(steps · batch, hiddens)`.
    pub tanh_cs: Array2<F>,
    /// `[I | F | O | C̃]` of every step, after the activations:
    /// `(steps · batch, 4 · hiddens)`.
    pub gates: Array2<F>,
}
// ANCHOR_END: lstm_seq_cache

// ANCHOR: lstm_forward_seq
/// The whole sequence forward from `state`.
pub fn lstm_forward_seq<F: NdFloat>(
    p: &LstmParams<F>,
    xs: &Seq<'_, F>,
    state: &LstmState<F>,
) -> LstmSeqCache<F> {
    let (b, steps, nh) = (xs.batch, xs.num_steps(), p.b_i.len());
    // [X W_xi + b_i | X W_xf + b_f | X W_xo + b_o | X W_xc + b_c]
    let mut gates = input_terms(
        &xs.x,
        &[
            (&p.w_xi, &p.b_i),
            (&p.w_xf, &p.b_f),
            (&p.w_xo, &p.b_o),
            (&p.w_xc, &p.b_c),
        ],
    );
    let w_h = Packed::new(&side_by_side(&[&p.w_hi, &p.w_hf, &p.w_ho, &p.w_hc]));
    let mut hs = Array2::zeros(((steps + 1) * b, nh));
    let mut cs = Array2::zeros(((steps + 1) * b, nh));
    hs.slice_mut(s![..b, ..]).assign(&state.h);
    cs.slice_mut(s![..b, ..]).assign(&state.c);
    let mut tanh_cs = Array2::zeros((steps * b, nh));
    // The loop compiled for 8-lane vectors where the CPU has them.
    wide(
        #[inline(always)]
        || {
            for t in 0..steps {
                let (h_done, mut h_next) =
                    hs.view_mut().split_at(Axis(0), (t + 1) * b);
                let h_prev = h_done.slice_move(s![t * b.., ..]);
                let (c_done, mut c_next) =
                    cs.view_mut().split_at(Axis(0), (t + 1) * b);
                let c_prev = c_done.slice_move(s![t * b.., ..]);
                let mut g = step_rows_mut(gates.view_mut(), t, b);
                // Every gate's pre-activation: … + H_{t−1} W_h·, in one product.
                add_mat_mul_packed(&h_prev, &w_h, &mut g);
                let (mut ifo, mut c_tilde) =
                    g.view_mut().split_at(Axis(1), 3 * nh);
                sigmoid_mut(ifo.view_mut());
                tanh_mut(c_tilde.view_mut());
                let ifo = ifo.view();
                let (i, f, o) =
                    (gate(ifo, 0, nh), gate(ifo, 1, nh), gate(ifo, 2, nh));
                // C_t = F ⊙ C_{t−1} + I ⊙ C̃, H_t = O ⊙ tanh(C_t)
                let mut c = c_next.slice_mut(s![..b, ..]);
                Zip::from(&mut c)
                    .and(&f)
                    .and(&c_prev)
                    .and(&i)
                    .and(&c_tilde)
                    .for_each(|c, &f, &cp, &i, &ct| *c = f * cp + i * ct);
                let mut tanh_c = step_rows_mut(tanh_cs.view_mut(), t, b);
                tanh_c.assign(&c);
                tanh_mut(tanh_c.view_mut());
                Zip::from(h_next.slice_mut(s![..b, ..]))
                    .and(&o)
                    .and(&tanh_c)
                    .for_each(|h, &o, &tc| *h = o * tc);
            }
        },
    );
    LstmSeqCache {
        hs,
        cs,
        tanh_cs,
        gates,
    }
}
// ANCHOR_END: lstm_forward_seq

// ANCHOR: lstm_backward_seq
/// The whole sequence backward. `dhs` is ∂L/∂H_t from above for every
/// step. Adds the parameter gradients into `g`; returns ∂L/∂H_0 and
/// ∂L/∂C_0, and ∂L/∂X for a dense input.
pub fn lstm_backward_seq<F: NdFloat>(
    p: &LstmParams<F>,
    xs: &Seq<'_, F>,
    cache: &LstmSeqCache<F>,
    dhs: ArrayView2<'_, F>,
    g: &mut LstmParams<F>,
) -> (LstmState<F>, Option<Array2<F>>) {
    let (b, steps, nh) = (xs.batch, xs.num_steps(), p.b_i.len());
    let one = F::one();
    // [W_hi | W_hf | W_ho | W_hc]ᵀ, laid out once for the loop.
    let w_h = side_by_side(&[&p.w_hi, &p.w_hf, &p.w_ho, &p.w_hc]);
    let w_h_t = Packed::new(&w_h.t());
    // [dA_i | dA_f | dA_o | dA_c] of every step.
    let mut da = Array2::zeros((steps * b, 4 * nh));
    let mut dh = Array2::zeros((b, nh)); // ∂L/∂H_t, carried back
    let mut dc = Array2::zeros((b, nh)); // ∂L/∂C_t, carried back
    wide(
        #[inline(always)]
        || {
            for t in (0..steps).rev() {
                dh += &step_rows(dhs.view(), t, b);
                let gates_t = step_rows(cache.gates.view(), t, b);
                let tanh_c = step_rows(cache.tanh_cs.view(), t, b);
                let c_prev = step_rows(cache.cs.view(), t, b);
                let mut da_t = step_rows_mut(da.view_mut(), t, b);
                for r in 0..b {
                    let gr = gates_t.row(r);
                    let gr = gr.as_slice().expect("rows are contiguous");
                    let (i, rest) = gr.split_at(nh);
                    let (f, rest) = rest.split_at(nh);
                    let (o, c_tilde) = rest.split_at(nh);
                    let mut dar = da_t.row_mut(r);
                    let dar = dar.as_slice_mut().expect("rows are contiguous");
                    let (da_i, rest) = dar.split_at_mut(nh);
                    let (da_f, rest) = rest.split_at_mut(nh);
                    let (da_o, da_c) = rest.split_at_mut(nh);
                    let (tc, cp) = (tanh_c.row(r), c_prev.row(r));
                    let (dh_r, mut dc_r) = (dh.row(r), dc.row_mut(r));
                    let contiguous = "rows are contiguous";
                    let (tc, cp) = (
                        tc.as_slice().expect(contiguous),
                        cp.as_slice().expect(contiguous),
                    );
                    let dh_r = dh_r.as_slice().expect(contiguous);
                    let dc_r = dc_r.as_slice_mut().expect(contiguous);
                    // Every slice exactly nh long, so the loop needs no bounds
                    // checks and compiles to vector instructions.
                    let (i, f, o, c_tilde) =
                        (&i[..nh], &f[..nh], &o[..nh], &c_tilde[..nh]);
                    let (da_i, da_f) = (&mut da_i[..nh], &mut da_f[..nh]);
                    let (da_o, da_c) = (&mut da_o[..nh], &mut da_c[..nh]);
                    let (tc, cp, dh_r) = (&tc[..nh], &cp[..nh], &dh_r[..nh]);
                    let dc_r = &mut dc_r[..nh];
                    for j in 0..nh {
                        // H_t = O ⊙ tanh(C_t): to O, and on to C_t through tanh.
                        let d_o = dh_r[j] * tc[j];
                        let dc_all =
                            dc_r[j] + dh_r[j] * o[j] * (one - tc[j] * tc[j]);
                        // C_t = F ⊙ C_{t−1} + I ⊙ C̃, then the activations.
                        da_i[j] = dc_all * c_tilde[j] * i[j] * (one - i[j]);
                        da_f[j] = dc_all * cp[j] * f[j] * (one - f[j]);
                        da_o[j] = d_o * o[j] * (one - o[j]);
                        da_c[j] =
                            dc_all * i[j] * (one - c_tilde[j] * c_tilde[j]);
                        dc_r[j] = dc_all * f[j]; // ∂L/∂C_{t−1}
                    }
                }
                // ∂L/∂H_{t−1} = [dA_i | dA_f | dA_o | dA_c] [W_hi | … | W_hc]ᵀ
                dh.fill(F::zero());
                add_mat_mul_packed(&da_t, &w_h_t, &mut dh.view_mut());
            }
        },
    );
    // The recurrent weight gradients, each one product over all steps.
    let h_prev = cache.hs.slice(s![..steps * b, ..]);
    for (k, dw) in [&mut g.w_hi, &mut g.w_hf, &mut g.w_ho, &mut g.w_hc]
        .into_iter()
        .enumerate()
    {
        general_mat_mul(one, &h_prev.t(), &gate(da.view(), k, nh), one, dw);
    }
    let dx = input_grads(
        &xs.x,
        da.view(),
        &[&p.w_xi, &p.w_xf, &p.w_xo, &p.w_xc],
        &mut [&mut g.w_xi, &mut g.w_xf, &mut g.w_xo, &mut g.w_xc],
        &mut [&mut g.b_i, &mut g.b_f, &mut g.b_o, &mut g.b_c],
    );
    (LstmState { h: dh, c: dc }, dx)
}
// ANCHOR_END: lstm_backward_seq

/// Forward, head, backward: what `Cell::seq_forward_backward` runs.
pub fn lstm_forward_backward_seq<F: NdFloat>(
    p: &LstmParams<F>,
    xs: &Seq<'_, F>,
    state: &mut LstmState<F>,
    head: &mut Head<'_, F>,
    g: &mut LstmParams<F>,
) -> SeqGrads<F, LstmState<F>> {
    let cache = lstm_forward_seq(p, xs, state);
    let (b, steps) = (xs.batch, xs.num_steps());
    state.h.assign(&step_rows(cache.hs.view(), steps, b));
    state.c.assign(&step_rows(cache.cs.view(), steps, b));
    let dhs = head(cache.hs.slice(s![b.., ..]));
    lstm_backward_seq(p, xs, &cache, dhs.view(), g)
}
