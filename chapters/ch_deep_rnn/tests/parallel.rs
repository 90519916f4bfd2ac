//! Splitting a minibatch between threads (`RnnModel::threads`) changes only
//! the order of the sums: loss, every gradient, the final state and the
//! initial state's gradient agree with one thread to 1e-12 in f64, for a
//! GRU, an LSTM and a 2-layer LSTM stack, with blocks of unequal size, on
//! the teaching path and on the fast path.

use ch_deep_rnn::scratch::stack;
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::fast::Sequence;
use d2l::model::parallel::row_blocks;
use d2l::model::{CodePath, RnnModel};
use d2l::rnn::Tensors;
use d2l::testkit::agreement::fixture_batch;
use d2l::testkit::agreement::PATHS_TOL;
use d2l::testkit::gradcheck::randomize;
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 5;
const STEPS: usize = 7;

/// The largest |a − b| over every tensor of two structures.
fn max_diff<T: Tensors<f64>>(a: &T, b: &T) -> f64 {
    a.named()
        .iter()
        .zip(b.named())
        .flat_map(|((_, x), (_, y))| {
            x.iter()
                .zip(y.iter())
                .map(|(p, q)| (p - q).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max)
}

fn agrees<C: Sequence<f64> + Clone>(cell: C) {
    for path in [CodePath::Teaching, CodePath::Fast] {
        agrees_on(cell.clone(), path);
    }
}

fn agrees_on<C: Sequence<f64> + Clone>(cell: C, path: CodePath) {
    let mut rng = StdRng::seed_from_u64(3);
    let mut one = RnnModel::new(cell, VOCAB, &mut rng);
    randomize(&mut one.params, 0.5, &mut rng);
    randomize(&mut one.output, 0.5, &mut rng);
    one.path = path;
    let batch = fixture_batch(BATCH, STEPS, VOCAB);
    let mut state0 = one.cell.zero_state(BATCH);
    randomize(&mut state0, 0.5, &mut rng);

    let mut s1 = state0.clone();
    let (loss1, d1) = one.forward_backward_from(&batch, &mut s1);
    for threads in [2, 3, 8] {
        let mut many = one.clone();
        many.threads = threads;
        let mut s = state0.clone();
        let (loss, d) = many.forward_backward_from(&batch, &mut s);
        let diffs = [
            ("loss", (loss - loss1).abs()),
            (
                "cell gradients",
                max_diff(&many.cell_grads, &one.cell_grads),
            ),
            (
                "output gradients",
                max_diff(&many.output_grads, &one.output_grads),
            ),
            ("final state", max_diff(&s, &s1)),
            ("initial state's gradient", max_diff(&d, &d1)),
        ];
        for (what, diff) in diffs {
            assert!(
                diff <= PATHS_TOL,
                "{path:?}, {threads} threads: {what} off by {diff:e}"
            );
        }
    }
}

#[test]
fn gru_split_between_threads_agrees_with_one_thread() {
    agrees(Gru::new(VOCAB, HIDDENS, Variant::ResetBefore));
}

#[test]
fn lstm_split_between_threads_agrees_with_one_thread() {
    agrees(Lstm::new(VOCAB, HIDDENS));
}

#[test]
fn deep_lstm_split_between_threads_agrees_with_one_thread() {
    agrees(stack(2, VOCAB, HIDDENS, Lstm::new));
}

#[test]
fn row_blocks_cover_every_row_once_in_near_equal_blocks() {
    assert_eq!(row_blocks(5, 2), [0..3, 3..5]);
    assert_eq!(row_blocks(32, 3), [0..11, 11..22, 22..32]);
    assert_eq!(row_blocks(2, 8), [0..1, 1..2]);
    assert_eq!(row_blocks(7, 1).len(), 1);
    assert_eq!(row_blocks(7, 1)[0], 0..7);
}
