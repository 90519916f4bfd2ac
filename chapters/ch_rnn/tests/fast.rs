//! The fast path computes what the teaching loops compute, with token and
//! dense inputs, from a nonzero state: every result of the two (hidden
//! states, final state, every parameter gradient, the initial state's and
//! the input's gradient). In f64 to 10⁻¹²; in f32, the path that trains,
//! within a bound derived from f32's ε (`d2l::testkit::paths::Tolerance`).

use ch_rnn::scratch::Rnn;
use d2l::testkit::paths::{check_cell, Sizes};

/// hs twice, final H twice, d_state0 and 3 gradients.
const RESULTS: usize = 8;

#[test]
fn fast_path_matches_the_teaching_loops_in_f64_and_f32() {
    check_cell(|s: Sizes| Rnn::new(s.inputs, s.hiddens), 5, RESULTS);
}
