//! A stack's fast path (layer after layer, each over the whole sequence)
//! computes what the teaching loops (step after step, each through every
//! layer) compute: in f64, for stacks of 2 and 3 GRU (both formulations)
//! and LSTM layers, from a nonzero state, every result agrees to 10⁻¹².

use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::agreement::PATHS_TOL;
use d2l::fast::{fast_vs_teaching, Sequence};
use d2l::gradcheck::randomize;
use d2l::rnn::{normal, Cell, Input, Seq, Tensors};
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 5;

fn check<C: Sequence<f64>>(cell: Stack<C>) {
    let mut rng = StdRng::seed_from_u64(3);
    let mut p = cell.init(&mut rng);
    randomize(&mut p, 0.5, &mut rng);
    let mut state = cell.zero_state(BATCH);
    randomize(&mut state, 0.5, &mut rng);
    let dhs = normal((STEPS * BATCH, HIDDENS), 1.0, &mut rng);
    let tokens: Vec<usize> =
        (0..STEPS * BATCH).map(|i| (5 * i + 1) % VOCAB).collect();
    let xs = Seq::new(Input::Tokens(&tokens), BATCH);
    let diffs = fast_vs_teaching(&cell, &p, &xs, &state, &dhs);
    let tensors = p.named().len() + 3 * state.named().len() + 2;
    assert_eq!(diffs.len(), tensors, "every result compared");
    for (what, diff) in diffs {
        assert!(diff <= PATHS_TOL, "{what}: the paths differ by {diff:e}");
    }
}

#[test]
fn gru_stacks_fast_path_matches_the_teaching_loops() {
    for layers in [2, 3] {
        for variant in [Variant::ResetBefore, Variant::ResetAfter] {
            check(stack(layers, VOCAB, HIDDENS, |i, h| {
                Gru::new(i, h, variant)
            }));
        }
    }
}

#[test]
fn lstm_stacks_fast_path_matches_the_teaching_loops() {
    for layers in [2, 3] {
        check(stack(layers, VOCAB, HIDDENS, Lstm::new));
    }
}
