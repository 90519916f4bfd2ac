//! The fused engine: one loop over time, forward and backward, that runs
//! any cell whose pointwise arithmetic implements [`Fused`].
//!
//! The engine owns everything a cell's fast path shares: the input terms of
//! every gate and step before the loop ([`input_terms`]), the recurrent
//! weights laid out once for the kernel ([`Packed`]), the stacked states,
//! the loop itself compiled for wide vectors ([`wide`]), the weight
//! gradients as one product over all steps after the loop, and the input
//! gradients ([`input_grads`]). A cell supplies the arithmetic of one step
//! on matrices the engine hands it, and nothing else ([`super::cell`]).

use super::activations::wide;
use super::cell::{Backward, Forward, Fused, Head, SeqGrads, Sums};
use super::gates::step_rows;
use super::gates::{gate, input_grads, input_terms, side_by_side};
use super::kernel::{add_mat_mul_packed, Packed};
use crate::rnn::{Seq, Tensors};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis, Ix2, NdFloat};

/// What the backward pass needs from the forward pass of a sequence.
#[derive(Debug, Clone)]
pub struct SeqCache<F> {
    /// Each state tensor at steps 0 … T stacked: `((steps + 1) · batch,
    /// hiddens)`. The rows of step t − 1 are what step t read.
    pub states: Vec<Array2<F>>,
    /// Every step's activations, `(steps · batch, gates · hiddens)`.
    pub gates: Array2<F>,
    /// The cell's own matrices, `(steps · batch, hiddens)` each.
    pub saved: Vec<Array2<F>>,
}

/// The rows of step t − 1 of each stacked state, and of step t to write.
fn prev_next<F>(
    tracks: &mut [Array2<F>],
    t: usize,
    b: usize,
) -> (Vec<ArrayView2<'_, F>>, Vec<ArrayViewMut2<'_, F>>) {
    tracks
        .iter_mut()
        .map(|m| {
            let nh = m.ncols();
            let (done, rest) = m.view_mut().split_at(Axis(0), (t + 1) * b);
            // Steps 0 … t, read-only from here on: step t − 1 is the last.
            let done: &[F] = done.into_slice().expect("a row-major matrix");
            let prev = ArrayView2::from_shape((b, nh), &done[t * b * nh..])
                .expect("b rows of nh");
            (prev, rest.slice_move(s![..b, ..]))
        })
        .unzip()
}

fn rows<F>(ms: &[Array2<F>], t: usize, b: usize) -> Vec<ArrayView2<'_, F>> {
    ms.iter().map(|m| step_rows(m.view(), t, b)).collect()
}

fn rows_mut<F>(
    ms: &mut [Array2<F>],
    t: usize,
    b: usize,
) -> Vec<ArrayViewMut2<'_, F>> {
    ms.iter_mut()
        .map(|m| step_rows(m.view_mut(), t, b))
        .collect()
}

/// Sets `state` to the rows of `rows` of every stacked tensor.
fn set_state<F: NdFloat, T: Tensors<F>>(
    state: &mut T,
    tracks: &[Array2<F>],
    rows: std::ops::Range<usize>,
) {
    for ((_, mut v), m) in state.named_mut().into_iter().zip(tracks) {
        v.assign(&m.slice(s![rows.clone(), ..]));
    }
}

// ANCHOR: engine_forward
/// The whole sequence forward from `state`.
pub fn forward<F: NdFloat, C: Fused<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    state: &C::State,
) -> SeqCache<F> {
    let (b, steps, nh) = (xs.batch, xs.num_steps(), cell.num_hiddens());
    let w = cell.weights(p);
    let direct = w.direct.len() * nh;
    // [X W_x1 + b_1 | X W_x2 + b_2 | …] for every step.
    let mut gates = input_terms(&xs.x, &w.input);
    // The recurrent weights, laid out once for every step's product.
    let w_h = Packed::new(&side_by_side(&w.direct));
    let own = cell.pack(p, false);
    let mut states: Vec<Array2<F>> = state
        .named()
        .into_iter()
        .map(|(_, s0)| {
            let mut m = Array2::zeros(((steps + 1) * b, nh));
            let s0 = s0.into_dimensionality::<Ix2>().expect("a matrix");
            m.slice_mut(s![..b, ..]).assign(&s0);
            m
        })
        .collect();
    let mut saved = vec![Array2::zeros((steps * b, nh)); C::SAVED];
    // The loop compiled for 8-lane vectors where the CPU has them.
    wide(
        #[inline(always)]
        || {
            for t in 0..steps {
                let (prev, next) = prev_next(&mut states, t, b);
                let mut g = step_rows(gates.view_mut(), t, b);
                // … + H_{t−1} [W_h1 | W_h2 | …], one product.
                let mut g_direct = g.slice_mut(s![.., ..direct]);
                add_mat_mul_packed(&prev[0], &w_h, &mut g_direct);
                let saved = rows_mut(&mut saved, t, b);
                let s = Forward {
                    gates: g,
                    prev,
                    next,
                    saved,
                    own: &own,
                };
                cell.forward_step(p, s);
            }
        },
    );
    SeqCache {
        states,
        gates,
        saved,
    }
}
// ANCHOR_END: engine_forward

// ANCHOR: engine_backward
/// The whole sequence backward. `dhs` is ∂L/∂H_t from above for every
/// step (stacked like the outputs). Adds the parameter gradients into
/// `g`; returns the gradient of the initial state and, for a dense input,
/// ∂L/∂X.
pub fn backward<F: NdFloat, C: Fused<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    cache: &SeqCache<F>,
    dhs: ArrayView2<'_, F>,
    g: &mut C::Params,
) -> SeqGrads<F, C::State> {
    let (b, steps, nh) = (xs.batch, xs.num_steps(), cell.num_hiddens());
    let w = cell.weights(p);
    let direct = w.direct.len() * nh;
    // The transposed recurrent weights, laid out once for the loop.
    let w_h_t = Packed::new(&side_by_side(&w.direct).t());
    let own = cell.pack(p, true);
    // [dA_1 | dA_2 | …]: the gradients of every pre-activation.
    let mut da = Array2::zeros(cache.gates.raw_dim());
    let mut saved_back = vec![Array2::zeros((steps * b, nh)); C::SAVED_BACK];
    // ∂L/∂state_t, carried back.
    let mut d_state = vec![Array2::zeros((b, nh)); cache.states.len()];
    wide(
        #[inline(always)]
        || {
            for t in (0..steps).rev() {
                d_state[0] += &step_rows(dhs.view(), t, b);
                let mut da_t = step_rows(da.view_mut(), t, b);
                let s = Backward {
                    gates: step_rows(cache.gates.view(), t, b),
                    prev: rows(&cache.states, t, b),
                    saved: rows(&cache.saved, t, b),
                    d_state: d_state.iter_mut().map(|d| d.view_mut()).collect(),
                    da: da_t.view_mut(),
                    saved_back: rows_mut(&mut saved_back, t, b),
                    own: &own,
                };
                cell.backward_step(p, s);
                // dH_{t−1} += [dA_1 | dA_2 | …] [W_h1 | W_h2 | …]ᵀ
                let da_direct = da_t.slice(s![.., ..direct]);
                add_mat_mul_packed(
                    &da_direct,
                    &w_h_t,
                    &mut d_state[0].view_mut(),
                );
            }
        },
    );
    // The recurrent weight gradients, each one product over all steps:
    // ∂L/∂W_h· = Σ_t H_{t−1}ᵀ dA_·.
    let h_prev = cache.states[0].slice(s![..steps * b, ..]);
    let one = F::one();
    for (k, dw) in cell.weight_grads(g).direct.into_iter().enumerate() {
        general_mat_mul(one, &h_prev.t(), &gate(da.view(), k, nh), one, dw);
    }
    let sums = Sums {
        h_prev,
        da: da.view(),
        saved: &cache.saved,
        saved_back: &saved_back,
    };
    cell.own_grads(sums, g);
    let inputs: Vec<_> = w.input.iter().map(|(w, _)| *w).collect();
    let mut grads = cell.weight_grads(g);
    let dx = input_grads(
        &xs.x,
        da.view(),
        &inputs,
        &mut grads.input,
        &mut grads.bias,
    );
    let mut d_state0 = cell.zero_state(b);
    set_state(&mut d_state0, &d_state, 0..b);
    (d_state0, dx)
}
// ANCHOR_END: engine_backward

/// [`super::Sequence::seq_forward`] through the engine.
pub fn seq_forward<F: NdFloat, C: Fused<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    state: &mut C::State,
) -> Array2<F> {
    let cache = forward(cell, p, xs, state);
    let (b, steps) = (xs.batch, xs.num_steps());
    set_state(state, &cache.states, steps * b..(steps + 1) * b);
    cache.states[0].slice(s![b.., ..]).to_owned()
}

/// [`super::Sequence::seq_forward_backward`] through the engine.
pub fn seq_forward_backward<F: NdFloat, C: Fused<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    state: &mut C::State,
    head: &mut Head<'_, F>,
    grads: &mut C::Params,
) -> SeqGrads<F, C::State> {
    let cache = forward(cell, p, xs, state);
    let (b, steps) = (xs.batch, xs.num_steps());
    set_state(state, &cache.states, steps * b..(steps + 1) * b);
    let dhs = head(cache.states[0].slice(s![b.., ..]));
    backward(cell, p, xs, &cache, dhs.view(), grads)
}
