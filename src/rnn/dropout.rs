//! Dropout on the hidden states that the output layer reads, with one
//! mask per sequence: the same units of a sequence are dropped at every
//! time step (variational, or locked, dropout).

use ndarray::{Array2, ArrayView2, Axis, NdFloat};
use rand::Rng;

// ANCHOR: dropout
/// A mask for `batch` sequences of `hiddens` units: each entry is 0 with
/// probability `p` and 1 / (1 − p) otherwise, so that E[H ⊙ M] = H and
/// the model needs no rescaling when dropout is off, at evaluation.
///
/// # Panics
/// If `p` is not in [0, 1).
pub fn dropout_mask<F: NdFloat, R: Rng>(
    (batch, hiddens): (usize, usize),
    p: f64,
    rng: &mut R,
) -> Array2<F> {
    assert!((0.0..1.0).contains(&p), "dropout {p} is not in [0, 1)");
    let keep = F::from(1.0 / (1.0 - p)).expect("1 / (1 − p) fits in F");
    Array2::from_shape_simple_fn((batch, hiddens), || {
        if rng.gen::<f64>() < p {
            F::zero()
        } else {
            keep
        }
    })
}

/// H̃ = H ⊙ M at every time step: `hs` is time-major, `(steps · batch,
/// hiddens)`, and row `t · batch + i` is multiplied by row `i` of `mask`.
/// The backward pass is the same product: ∂L/∂H = ∂L/∂H̃ ⊙ M.
pub fn drop_units<F: NdFloat>(
    mut hs: Array2<F>,
    mask: ArrayView2<'_, F>,
) -> Array2<F> {
    let batch = mask.nrows();
    assert_eq!(hs.nrows() % batch, 0, "hs rows are not steps × batch");
    for mut step in hs.axis_chunks_iter_mut(Axis(0), batch) {
        step *= &mask;
    }
    hs
}
// ANCHOR_END: dropout
