//! Dropout on the hidden states that the output layer reads, with one
//! mask per sequence: the same units of a sequence are dropped at every
//! time step (variational, or locked, dropout); and dropout on the
//! recurrent weights themselves (weight dropping).

use super::tensors::Tensors;
use ndarray::{Array2, ArrayD, ArrayView2, ArrayViewD, Axis, NdFloat};
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

// ANCHOR: weight_drop
/// Is `name` a recurrent weight, one that multiplies H_{t−1}? Every cell
/// here names them `w_h·` (`w_hz`, `w_hi`, …; `l1.w_hz` in a stack), and
/// its input weights `w_x·`.
pub fn is_recurrent_weight(name: &str) -> bool {
    let field = name.rsplit('.').next().unwrap_or(name);
    field.starts_with("w_h")
}

/// Weight dropping (DropConnect on the recurrent weights, as AWD-LSTM
/// does): one mask per recurrent weight matrix of `params`, for one
/// minibatch, with entries 0 with probability `p` and 1 / (1 − p)
/// otherwise; `None` for every other tensor, in the order of
/// [`Tensors::named`]. All the sequences and all the steps of the
/// minibatch see the same dropped connections.
pub fn weight_masks<F: NdFloat, T: Tensors<F>, R: Rng>(
    params: &T,
    p: f64,
    rng: &mut R,
) -> Vec<Option<ArrayD<F>>> {
    let named = params.named();
    let mask = |(name, w): (String, ArrayViewD<'_, F>)| {
        is_recurrent_weight(&name).then(|| {
            let (rows, cols) = (w.shape()[0], w.shape()[1]);
            dropout_mask::<F, R>((rows, cols), p, rng).into_dyn()
        })
    };
    named.into_iter().map(mask).collect()
}

/// W ← W ⊙ M for every tensor of `t` that has a mask: the weights the
/// minibatch runs with, W̃ = W ⊙ M; and, applied to the gradient with
/// respect to W̃, the gradient with respect to W, since
/// ∂L/∂W = ∂L/∂W̃ ⊙ M.
pub fn drop_weights<F: NdFloat, T: Tensors<F>>(
    t: &mut T,
    masks: &[Option<ArrayD<F>>],
) {
    let named = t.named_mut();
    assert_eq!(named.len(), masks.len(), "one mask (or none) per tensor");
    for ((_, mut w), mask) in named.into_iter().zip(masks) {
        if let Some(m) = mask {
            w *= m;
        }
    }
}
// ANCHOR_END: weight_drop
