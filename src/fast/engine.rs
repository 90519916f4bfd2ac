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
//!
//! The loops run on the engine's threads ([`super::team`]): on one thread
//! unless a caller asks for more with [`super::with_threads`], each step's
//! product cut between them by columns and the cell's arithmetic by rows.

use super::activations::wide;
use super::cell::{Backward, Forward, Fused, Head, SeqGrads, Sums};
use super::gates::{gate, input_grads, input_terms, side_by_side};
use super::kernel::{add_mat_mul_packed, Packed};
use super::team::{add_mat_mul, run_team, threads, Shared};
use crate::rnn::{Seq, Tensors};
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Ix2, NdFloat};
use std::ops::Range;

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

/// The engine's threads for a batch of `b` rows and products `cols` wide:
/// no more than have a row or a block of 16 columns to work on.
fn team_size(b: usize, cols: usize) -> usize {
    threads().min(b.max(cols.div_ceil(16))).max(1)
}

/// Each matrix of `ms`, to be shared by the engine's threads.
fn shared<F>(ms: &mut [Array2<F>]) -> Vec<Shared<'_, F>> {
    ms.iter_mut().map(Shared::new).collect()
}

/// Rows `r` of each matrix, to read. # Safety: as [`Shared::rows`].
unsafe fn rows_of<'a, F>(
    ms: &[Shared<'a, F>],
    r: Range<usize>,
) -> Vec<ArrayView2<'a, F>> {
    ms.iter().map(|m| unsafe { m.rows(r.clone()) }).collect()
}

/// Rows `r` of each matrix, to write. # Safety: as [`Shared::rows_mut`].
unsafe fn rows_of_mut<'a, F>(
    ms: &[Shared<'a, F>],
    r: Range<usize>,
) -> Vec<ArrayViewMut2<'a, F>> {
    ms.iter()
        .map(|m| unsafe { m.rows_mut(r.clone()) })
        .collect()
}

/// The rows of step t, for a batch of `b`.
fn step_all(b: usize) -> impl Fn(usize) -> Range<usize> {
    move |t| t * b..(t + 1) * b
}

/// A thread's `rows` of step t.
fn step_mine(b: usize, rows: &Range<usize>) -> impl Fn(usize) -> Range<usize> {
    let rows = rows.clone();
    move |t| t * b + rows.start..t * b + rows.end
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
/// The whole sequence forward from `state`, on the engine's threads
/// ([`super::team`]).
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
    let w_h = side_by_side(&w.direct);
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
    let (tracks, g_all) = (shared(&mut states), Shared::new(&mut gates));
    let saved_all = shared(&mut saved);
    run_team(team_size(b, direct), |me| {
        // This thread's columns of each product, and rows of each step.
        let (cols, rows) = (me.block(direct, 16), me.block(b, 1));
        let (all, mine) = (step_all(b), step_mine(b, &rows));
        // Its block of the recurrent weights, laid out once.
        let w_h = Packed::new(&w_h.slice(s![.., cols.clone()]));
        // SAFETY: between two waits each thread writes only its block (its
        // columns of step t's gates in the product; its rows of step t,
        // and of t + 1 of the states, in the step) and reads only what no
        // thread writes in that phase.
        let product = |t: usize| unsafe {
            let mut g = g_all.block_mut(all(t), cols.clone());
            add_mat_mul_packed(&tracks[0].rows(all(t)), &w_h, &mut g);
        };
        let step = |t: usize| unsafe {
            Forward {
                gates: g_all.rows_mut(mine(t)),
                prev: rows_of(&tracks, mine(t)),
                next: rows_of_mut(&tracks, mine(t + 1)),
                saved: rows_of_mut(&saved_all, mine(t)),
                own: &own,
            }
        };
        // The loop compiled for 8-lane vectors where the CPU has them.
        wide(
            #[inline(always)]
            || {
                for t in 0..steps {
                    // … + H_{t−1} [W_h1 | W_h2 | …]: its columns.
                    if !cols.is_empty() {
                        product(t);
                    }
                    me.wait();
                    // The cell's arithmetic: its rows.
                    if !rows.is_empty() {
                        cell.forward_step(p, step(t));
                    }
                    me.wait();
                }
            },
        );
    });
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
    let w_h = side_by_side(&w.direct);
    let own = cell.pack(p, true);
    // [dA_1 | dA_2 | …]: the gradients of every pre-activation.
    let mut da = Array2::zeros(cache.gates.raw_dim());
    let mut saved_back = vec![Array2::zeros((steps * b, nh)); C::SAVED_BACK];
    // ∂L/∂state_t, carried back.
    let mut d_state = vec![Array2::zeros((b, nh)); cache.states.len()];
    let (da_all, d_all) = (Shared::new(&mut da), shared(&mut d_state));
    let saved_back_all = shared(&mut saved_back);
    run_team(team_size(b, nh), |me| {
        let (cols, rows) = (me.block(nh, 16), me.block(b, 1));
        let (all, mine) = (step_all(b), step_mine(b, &rows));
        // Its block of the transposed recurrent weights, laid out once.
        let w_h_t = Packed::new(&w_h.t().slice(s![.., cols.clone()]));
        // SAFETY: between two waits each thread writes only its block (its
        // rows of ∂L/∂state and of step t's dA in the step; its columns
        // of dH_{t−1} in the product) and reads only what no thread
        // writes in that phase.
        let step = |t: usize| unsafe {
            // ∂L/∂H_t from above (the view ends here, before the step's).
            {
                let mut dh = d_all[0].rows_mut(rows.clone());
                dh += &dhs.slice(s![mine(t), ..]);
            }
            Backward {
                gates: cache.gates.slice(s![mine(t), ..]),
                prev: cache
                    .states
                    .iter()
                    .map(|m| m.slice(s![mine(t), ..]))
                    .collect(),
                saved: cache
                    .saved
                    .iter()
                    .map(|m| m.slice(s![mine(t), ..]))
                    .collect(),
                d_state: rows_of_mut(&d_all, rows.clone()),
                da: da_all.rows_mut(mine(t)),
                saved_back: rows_of_mut(&saved_back_all, mine(t)),
                own: &own,
            }
        };
        let product = |t: usize| unsafe {
            let da_t = da_all.block(all(t), 0..direct);
            let mut dh = d_all[0].block_mut(0..b, cols.clone());
            add_mat_mul_packed(&da_t, &w_h_t, &mut dh);
        };
        wide(
            #[inline(always)]
            || {
                for t in (0..steps).rev() {
                    // dA and most of dH_{t−1}: its rows.
                    if !rows.is_empty() {
                        cell.backward_step(p, step(t));
                    }
                    me.wait();
                    // dH_{t−1} += [dA_1 | dA_2 | …] [W_h1 | W_h2 | …]ᵀ:
                    // its columns.
                    if !cols.is_empty() {
                        product(t);
                    }
                    me.wait();
                }
            },
        );
    });
    // The recurrent weight gradients, each one product over all steps:
    // ∂L/∂W_h· = Σ_t H_{t−1}ᵀ dA_·.
    let h_prev = cache.states[0].slice(s![..steps * b, ..]);
    let products = (cell.weight_grads(g).direct.into_iter().enumerate())
        .map(|(k, dw)| (h_prev.t(), gate(da.view(), k, nh), dw.view_mut()))
        .collect();
    add_mat_mul(F::one(), products);
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
