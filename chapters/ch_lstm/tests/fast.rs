//! The fast path computes what the teaching loops compute, with token and
//! dense inputs, from a nonzero state (H and C): every result of the two
//! (hidden states, final state, every parameter gradient, the initial
//! state's and the input's gradient). In f64 to 10⁻¹²; in f32, the path
//! that trains, with the kernel and `exp_f32` on, within a bound derived
//! from f32's ε (`d2l::testkit::paths::Tolerance`).

use ch_lstm::scratch::Lstm;
use d2l::testkit::paths::{check_cell, Sizes};

/// hs twice, final H and C twice, d_state0 H and C, and 12 gradients.
const RESULTS: usize = 20;

#[test]
fn fast_path_matches_the_teaching_loops_in_f64_and_f32() {
    check_cell(|s: Sizes| Lstm::new(s.inputs, s.hiddens), 11, RESULTS);
}
