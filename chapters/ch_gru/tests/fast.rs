//! The fast path computes what the teaching loops compute: in f64, for
//! both formulations, with token and dense inputs, from a nonzero state,
//! every result of the two (hidden states, final state, every parameter
//! gradient, the initial state's and the input's gradient) agrees to
//! 10⁻¹².

use ch_gru::scratch::{Gru, GruParams, GruState, Variant};
use d2l::agreement::PATHS_TOL;
use d2l::fast::fast_vs_teaching;
use d2l::gradcheck::randomize;
use d2l::rnn::{normal, Cell, Input, Seq};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

const INPUTS: usize = 6;
const HIDDENS: usize = 5;
const BATCH: usize = 3;
const STEPS: usize = 7;

fn check(variant: Variant, dense: bool) {
    let mut rng = StdRng::seed_from_u64(7);
    let cell = Gru::new(INPUTS, HIDDENS, variant);
    let mut p: GruParams<f64> = cell.init(&mut rng);
    randomize(&mut p, 0.5, &mut rng);
    if variant == Variant::ResetBefore {
        p.b_hh.fill(0.0);
    }
    let mut state = GruState {
        h: Array2::zeros((BATCH, HIDDENS)),
    };
    randomize(&mut state, 0.5, &mut rng);
    let dhs = normal((STEPS * BATCH, HIDDENS), 1.0, &mut rng);
    let tokens: Vec<usize> =
        (0..STEPS * BATCH).map(|i| (5 * i + 1) % INPUTS).collect();
    let x: Array2<f64> = normal((STEPS * BATCH, INPUTS), 1.0, &mut rng);
    let input = if dense {
        Input::Dense(x.view())
    } else {
        Input::Tokens(&tokens)
    };
    let xs = Seq::new(input, BATCH);
    let diffs = fast_vs_teaching(&cell, &p, &xs, &state, &dhs);
    // hs twice, final state twice, d_state0, 10 gradients, and dx if dense.
    assert_eq!(diffs.len(), 15 + usize::from(dense));
    for (what, diff) in diffs {
        assert!(diff <= PATHS_TOL, "{what}: the paths differ by {diff:e}");
    }
}

#[test]
fn reset_before_fast_path_matches_the_teaching_loops_on_tokens() {
    check(Variant::ResetBefore, false);
}

#[test]
fn reset_before_fast_path_matches_the_teaching_loops_on_dense_inputs() {
    check(Variant::ResetBefore, true);
}

#[test]
fn reset_after_fast_path_matches_the_teaching_loops_on_tokens() {
    check(Variant::ResetAfter, false);
}

#[test]
fn reset_after_fast_path_matches_the_teaching_loops_on_dense_inputs() {
    check(Variant::ResetAfter, true);
}
