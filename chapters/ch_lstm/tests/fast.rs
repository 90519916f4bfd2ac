//! The fast path computes what the teaching loops compute: in f64, with
//! token and dense inputs, from a nonzero state (H and C), every result of
//! the two (hidden states, final state, every parameter gradient, the
//! initial state's and the input's gradient) agrees to 10⁻¹².

use ch_lstm::scratch::{Lstm, LstmParams, LstmState};
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

fn check(dense: bool) {
    let mut rng = StdRng::seed_from_u64(11);
    let cell = Lstm::new(INPUTS, HIDDENS);
    let mut p: LstmParams<f64> = cell.init(&mut rng);
    randomize(&mut p, 0.5, &mut rng);
    let mut state: LstmState<f64> = cell.zero_state(BATCH);
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
    // hs twice, final H and C twice, d_state0 H and C, 12 gradients, and
    // dx if dense.
    assert_eq!(diffs.len(), 20 + usize::from(dense));
    for (what, diff) in diffs {
        assert!(diff <= PATHS_TOL, "{what}: the paths differ by {diff:e}");
    }
}

#[test]
fn fast_path_matches_the_teaching_loops_on_tokens() {
    check(false);
}

#[test]
fn fast_path_matches_the_teaching_loops_on_dense_inputs() {
    check(true);
}
