//! The fast path: the same numbers as the step-by-step loops the chapters
//! teach, computed in fewer and larger pieces ("Making it fast").
//!
//! - [`engine`]: the loop over time, forward and backward, for any cell
//!   that implements [`Fused`] with its pointwise arithmetic ([`cell`]);
//! - [`gates`]: the gates of a layer side by side, and the input terms
//!   and input gradients of all steps at once;
//! - [`activations`]: σ and tanh in place, vectorised in f32;
//! - [`kernel`]: the small matrix product inside the loop.

pub mod activations;
pub mod cell;
pub mod engine;
pub mod gates;
pub mod kernel;

pub use activations::{exp_f32, sigmoid_mut, tanh_mut, wide};
pub use cell::{
    Backward, Forward, Fused, Head, SeqGrads, Sequence, Sums, WeightGrads,
    Weights,
};
pub use gates::{gate, gate_mut, rows, rows_mut, step_rows, step_rows_mut};

use crate::rnn::{backward_seq, forward_seq, Seq, Tensors};
use ndarray::{Array2, ArrayView2, ArrayViewD, Axis};

// ANCHOR: fast_vs_teaching
/// Runs a cell's fast path ([`Cell::seq_forward_backward`] and
/// [`Cell::seq_forward`]) and the teaching loops ([`forward_seq`],
/// [`backward_seq`]) on the same sequence, from the same state, with the
/// same gradient `dhs` from above, and returns the largest absolute
/// difference in every result: the hidden states, the final state, every
/// parameter gradient, the initial state's gradient and the input's.
pub fn fast_vs_teaching<C: Sequence<f64>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, f64>,
    state0: &C::State,
    dhs: &Array2<f64>,
) -> Vec<(String, f64)> {
    let steps = xs.steps();
    let mut state_t = state0.clone();
    let (hs_t, caches) = forward_seq(cell, p, &steps, &mut state_t);
    let mut grads_t = p.zeros_like();
    let (d0_t, dxs_t) =
        backward_seq(cell, p, &steps, &caches, dhs.view(), &mut grads_t);

    let mut state_f = state0.clone();
    let mut grads_f = p.zeros_like();
    let mut hs_f = None;
    let mut head = |hs: ArrayView2<'_, f64>| {
        hs_f = Some(hs.to_owned());
        dhs.clone()
    };
    let (d0_f, dx_f) =
        cell.seq_forward_backward(p, xs, &mut state_f, &mut head, &mut grads_f);
    let hs_f = hs_f.expect("the fast path calls its head once");
    let mut state_fwd = state0.clone();
    let hs_fwd = cell.seq_forward(p, xs, &mut state_fwd);

    let max_diff = |a: ArrayViewD<'_, f64>, b: ArrayViewD<'_, f64>| {
        assert_eq!(a.shape(), b.shape(), "the two paths' shapes differ");
        a.iter()
            .zip(b.iter())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    let mut out = vec![
        (
            "hs".to_string(),
            max_diff(hs_t.view().into_dyn(), hs_f.view().into_dyn()),
        ),
        (
            "hs (seq_forward)".to_string(),
            max_diff(hs_t.view().into_dyn(), hs_fwd.view().into_dyn()),
        ),
    ];
    let pairs = [
        ("final state", &state_t, &state_f),
        ("final state (seq_forward)", &state_t, &state_fwd),
        ("d_state0", &d0_t, &d0_f),
    ];
    for (what, a, b) in pairs {
        for ((name, x), (_, y)) in a.named().into_iter().zip(b.named()) {
            out.push((format!("{what} {name}"), max_diff(x, y)));
        }
    }
    for ((name, x), (_, y)) in grads_t.named().into_iter().zip(grads_f.named())
    {
        out.push((format!("grad {name}"), max_diff(x, y)));
    }
    let dxs_t: Option<Vec<Array2<f64>>> = dxs_t.into_iter().collect();
    match (dxs_t, dx_f) {
        (Some(d), Some(dx_f)) if !d.is_empty() => {
            let views: Vec<_> = d.iter().map(Array2::view).collect();
            let dx_t = ndarray::concatenate(Axis(0), &views)
                .expect("one shape per step");
            out.push((
                "dx".to_string(),
                max_diff(dx_t.view().into_dyn(), dx_f.view().into_dyn()),
            ));
        }
        (None, None) => {}
        (t, f) => panic!(
            "one path returned an input gradient and the other did not \
             (teaching: {}, fast: {})",
            t.is_some(),
            f.is_some()
        ),
    }
    out
}
// ANCHOR_END: fast_vs_teaching

// ANCHOR: keep_freed_memory
/// Asks the C allocator to keep freed memory for reuse instead of handing
/// it back to the system. The fast path allocates a few matrices of
/// several MB per minibatch; by default glibc maps each one fresh from
/// the system and unmaps it when freed, and the page faults of touching
/// new pages cost about a sixth of a minibatch's time. One arena for all
/// threads lets the threads of the next minibatch reuse the blocks the
/// last ones freed, instead of each keeping its own. Does nothing outside
/// glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called with
    // documented parameters and valid values.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
// ANCHOR_END: keep_freed_memory
