//! Softmax cross-entropy with its gradient, the loss of every model here.

use ndarray::{ArrayView2, ArrayViewMut2, NdFloat};

// ANCHOR: softmax_cross_entropy
/// The mean cross-entropy between softmax(`logits`) and `labels`, and, when
/// `dlogits` is given, its gradient with respect to the logits:
///
/// ∂L/∂o = (softmax(o) − onehot(y)) / n
///
/// Each row is shifted by its maximum before `exp`, which changes nothing
/// mathematically but keeps `exp` from overflowing.
///
/// # Shapes
/// `logits`, `dlogits`: `(n, vocab)`; `labels`: `n`.
pub fn softmax_cross_entropy<F: NdFloat>(
    logits: ArrayView2<'_, F>,
    labels: &[usize],
    mut dlogits: Option<ArrayViewMut2<'_, F>>,
) -> f64 {
    let n = logits.nrows();
    assert_eq!(n, labels.len(), "softmax_cross_entropy: one label per row");
    if let Some(d) = &dlogits {
        assert_eq!(d.dim(), logits.dim(), "dlogits must match logits");
    }
    let inv_n = F::one() / F::from(n).expect("n fits in F");
    let mut total = 0.0;
    for (i, row) in logits.outer_iter().enumerate() {
        let max = row.fold(F::neg_infinity(), |m, &v| m.max(v));
        let sum = row.fold(F::zero(), |s, &v| s + (v - max).exp());
        // −log softmax(o)_y = log Σ exp(o − max) − (o_y − max)
        let loss = sum.ln() - (row[labels[i]] - max);
        total += loss.to_f64().unwrap_or(f64::NAN);
        if let Some(d) = dlogits.as_mut() {
            let mut d_row = d.row_mut(i);
            let scale = inv_n / sum;
            for (g, &v) in d_row.iter_mut().zip(row.iter()) {
                *g = (v - max).exp() * scale;
            }
            d_row[labels[i]] -= inv_n;
        }
    }
    total / n as f64
}
// ANCHOR_END: softmax_cross_entropy
