//! The loops over time: any cell forward over a sequence, and backward
//! through time.

use super::cell::{Cell, State};
use super::input::Input;
use ndarray::{Array2, ArrayView2, NdFloat};

// ANCHOR: forward_seq
/// Runs `cell` over every time step, from `state`, and leaves `state` at
/// the last step. Returns the hidden states of all steps, stacked
/// time-major, and one cache per step.
///
/// # Shapes
/// `xs`: `num_steps` inputs of `batch` rows; returns
/// `(num_steps · batch, hiddens)`, row `t · batch + i` for sequence `i` at
/// step `t`.
pub fn forward_seq<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    xs: &[Input<'_, F>],
    state: &mut C::State,
) -> (Array2<F>, Vec<C::Cache>) {
    let batch = xs.first().map_or(0, Input::batch_size);
    let mut hs = Array2::zeros((xs.len() * batch, cell.num_hiddens()));
    let mut caches = Vec::with_capacity(xs.len());
    for (t, x) in xs.iter().enumerate() {
        let (next, cache) = cell.step(p, x, state);
        hs.slice_mut(ndarray::s![t * batch..(t + 1) * batch, ..])
            .assign(next.h());
        *state = next;
        caches.push(cache);
    }
    (hs, caches)
}
// ANCHOR_END: forward_seq

// ANCHOR: backward_seq
/// Backpropagation through time: walks the steps in reverse, adding the
/// gradient that reaches each H_t from above (`dhs`, stacked like the
/// output of [`forward_seq`]) to the gradient that flows back from step
/// t + 1 (`d_next`). Adds every parameter gradient into `grads`; returns
/// the gradient with respect to the initial state, and with respect to
/// every dense input.
pub fn backward_seq<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    xs: &[Input<'_, F>],
    caches: &[C::Cache],
    dhs: ArrayView2<'_, F>,
    grads: &mut C::Params,
) -> (C::State, Vec<Option<Array2<F>>>) {
    assert_eq!(xs.len(), caches.len(), "one cache per input");
    let batch = xs.first().map_or(0, Input::batch_size);
    let mut d_next = cell.zero_state(batch);
    let mut dxs = vec![None; xs.len()];
    for t in (0..xs.len()).rev() {
        *d_next.h_mut() +=
            &dhs.slice(ndarray::s![t * batch..(t + 1) * batch, ..]);
        let (d_prev, dx) =
            cell.step_backward(p, &xs[t], &caches[t], &d_next, grads);
        d_next = d_prev;
        dxs[t] = dx;
    }
    (d_next, dxs)
}
// ANCHOR_END: backward_seq
