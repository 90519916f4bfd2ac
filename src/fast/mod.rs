//! The fast path: the same numbers as the step-by-step loops the chapters
//! teach, computed in fewer and larger pieces ("Making it fast").
//!
//! - [`engine`]: the loop over time, forward and backward, for any cell
//!   that implements [`Fused`] with its pointwise arithmetic ([`cell`]);
//! - [`gates`]: the gates of a layer side by side, and the input terms
//!   and input gradients of all steps at once;
//! - [`activations`]: σ and tanh in place, vectorised in f32;
//! - [`kernel`]: the small matrix product inside the loop;
//! - [`team`]: the threads that share each step and each product;
//! - [`teaching`]: the same trait for a cell with no fused arithmetic,
//!   through the teaching loops.

pub mod activations;
pub mod cell;
pub mod engine;
pub mod gates;
pub mod kernel;
pub mod teaching;
pub mod team;

pub use activations::{exp_f32, sigmoid_mut, tanh_mut, wide};
pub use cell::{
    Backward, Forward, Fused, Head, SeqGrads, Sequence, Sums, WeightGrads,
    Weights,
};
pub use gates::{gate, rows, rows_mut, step_rows};
pub use team::{add_mat_mul, threads, with_threads};
