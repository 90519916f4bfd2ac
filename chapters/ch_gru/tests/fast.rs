//! The fast path computes what the teaching loops compute, for both
//! formulations, with token and dense inputs, from a nonzero state: every
//! result of the two (hidden states, final state, every parameter
//! gradient, the initial state's and the input's gradient).
//!
//! - In f64, where the fast path's own kernel and `exp_f32` are off, to
//!   10⁻¹².
//! - In f32, the path that trains, with the kernel and `exp_f32` on, and
//!   sizes that leave the kernel's remainders, within a bound derived from
//!   f32's ε (`d2l::testkit::paths::Tolerance`).

use ch_gru::scratch::{Gru, Variant};
use d2l::testkit::paths::check_cell;

/// hs twice, final state twice, d_state0 and 10 gradients.
const RESULTS: usize = 15;

#[test]
fn fast_path_matches_the_teaching_loops_in_f64_and_f32() {
    for variant in [Variant::ResetBefore, Variant::ResetAfter] {
        let gru = |s: d2l::testkit::paths::Sizes| {
            Gru::new(s.inputs, s.hiddens, variant)
        };
        check_cell(gru, 7, RESULTS);
    }
}
