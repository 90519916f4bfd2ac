//! A wrong answer, and what the checker says about it: the book shows this
//! report (`book/results/checker-demo.txt`, written by
//! `cargo run -p exercises --example checker_demo`), and a test keeps the
//! copy current.

use crate::checker::{report, EXERCISES};
use crate::{Answers, REFERENCE};
use ch_gru::scratch::GruCache;
use ndarray::Array2;

/// A common slip in the update gate's backward: ∂L/∂Z instead of ∂L/∂A_z,
/// the derivative of σ forgotten.
pub fn forgets_sigmoid_derivative(
    cache: &GruCache<f64>,
    dh: &Array2<f64>,
) -> Array2<f64> {
    dh * &(&cache.h_prev - &cache.h_tilde)
}

/// The checker's report on that answer.
pub fn checker_demo() -> String {
    let answers = Answers {
        gru_update_gate_backward: forgets_sigmoid_derivative,
        ..REFERENCE
    };
    let chosen: Vec<_> = EXERCISES
        .iter()
        .filter(|e| e.id == "gru-update-gate-backward")
        .collect();
    report(&chosen, &answers, "exercises/src/learner.rs").0
}
