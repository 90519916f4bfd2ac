//! The fast path computes what the teaching loops compute, for both
//! formulations, with token and dense inputs, from a nonzero state: every
//! result of the two (hidden states, final state, every parameter
//! gradient, the initial state's and the input's gradient).
//!
//! - In f64, where the fast path's own kernel and `exp_f32` are off, to
//!   10⁻¹².
//! - In f32, the path that trains, with the kernel and `exp_f32` on, and
//!   sizes that leave the kernel's remainders (40 hidden units are two
//!   panels of 16 and 8 columns more), within a bound derived from f32's
//!   ε (`d2l::testkit::paths::Tolerance`).

use ch_gru::scratch::{Gru, Variant};
use d2l::testkit::paths::{check_paths, Sizes, Tolerance};

const SMALL: Sizes = Sizes {
    inputs: 6,
    hiddens: 5,
    batch: 3,
    steps: 7,
};
const F32_SIZES: Sizes = Sizes {
    inputs: 12,
    hiddens: 40,
    batch: 8,
    steps: 6,
};

fn check<F: ndarray::NdFloat>(variant: Variant, sizes: Sizes, tol: Tolerance) {
    for dense in [false, true] {
        let cell = Gru::new(sizes.inputs, sizes.hiddens, variant);
        let gaps = check_paths::<F, _>(&cell, sizes, dense, 7, tol);
        // hs twice, final state twice, d_state0, 10 gradients, dx if dense.
        assert_eq!(gaps.len(), 15 + usize::from(dense));
    }
}

#[test]
fn reset_before_fast_path_matches_the_teaching_loops_in_f64() {
    check::<f64>(Variant::ResetBefore, SMALL, Tolerance::F64);
}

#[test]
fn reset_after_fast_path_matches_the_teaching_loops_in_f64() {
    check::<f64>(Variant::ResetAfter, SMALL, Tolerance::F64);
}

#[test]
fn reset_before_fast_path_matches_the_teaching_loops_in_f32() {
    check::<f32>(Variant::ResetBefore, F32_SIZES, Tolerance::F32);
}

#[test]
fn reset_after_fast_path_matches_the_teaching_loops_in_f32() {
    check::<f32>(Variant::ResetAfter, F32_SIZES, Tolerance::F32);
}
