//! The fast path computes what the teaching loops compute, with token and
//! dense inputs, from a nonzero state (H and C): every result of the two
//! (hidden states, final state, every parameter gradient, the initial
//! state's and the input's gradient). In f64 to 10⁻¹²; in f32, the path
//! that trains, with the kernel and `exp_f32` on, within a bound derived
//! from f32's ε (`d2l::testkit::paths::Tolerance`).

use ch_lstm::scratch::Lstm;
use d2l::testkit::paths::{check_paths, Sizes, Tolerance};

fn check<F: ndarray::NdFloat>(sizes: Sizes, tol: Tolerance) {
    for dense in [false, true] {
        let cell = Lstm::new(sizes.inputs, sizes.hiddens);
        let gaps = check_paths::<F, _>(&cell, sizes, dense, 11, tol);
        // hs twice, final H and C twice, d_state0 H and C, 12 gradients,
        // and dx if dense.
        assert_eq!(gaps.len(), 20 + usize::from(dense));
    }
}

#[test]
fn fast_path_matches_the_teaching_loops_in_f64() {
    let sizes = Sizes {
        inputs: 6,
        hiddens: 5,
        batch: 3,
        steps: 7,
    };
    check::<f64>(sizes, Tolerance::F64);
}

#[test]
fn fast_path_matches_the_teaching_loops_in_f32() {
    // 40 hidden units: two of the kernel's panels of 16, and 8 more.
    let sizes = Sizes {
        inputs: 12,
        hiddens: 40,
        batch: 8,
        steps: 6,
    };
    check::<f32>(sizes, Tolerance::F32);
}
