//! Threads that share each step (`ThreadSplit::Steps`) give the very numbers of
//! one thread: each step's product is cut by columns and the cell's
//! arithmetic by rows, so every entry is the same sum in the same order.
//! Loss, every gradient, the final state and the initial state's gradient
//! are equal bit for bit, in f64 and in f32 (where the packed kernel runs),
//! for an RNN, both GRUs, an LSTM and a 2-layer LSTM stack, with column
//! blocks of unequal width and more threads than blocks.

use ch_deep_rnn::scratch::stack;
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use ch_rnn::scratch::Rnn;
use d2l::fast::Sequence;
use d2l::model::{CodePath, RnnModel, ThreadSplit};
use d2l::rnn::Tensors;
use d2l::testkit::agreement::fixture_batch;
use d2l::testkit::gradcheck::randomize;
use ndarray::NdFloat;
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 6;
/// Wide enough for the columns to be cut (blocks are 16 wide): 32 + 8 of
/// the hidden units, and more of the gates.
const HIDDENS: usize = 40;
const BATCH: usize = 5;
const STEPS: usize = 6;

/// Every entry of every tensor of `a` and `b`, as pairs.
fn entries<F: NdFloat, T: Tensors<F>>(a: &T, b: &T) -> Vec<(F, F)> {
    let pairs = a.named().into_iter().zip(b.named());
    pairs
        .flat_map(|((_, x), (_, y))| {
            x.iter().copied().zip(y.iter().copied()).collect::<Vec<_>>()
        })
        .collect()
}

fn same_on_any_threads<F: NdFloat, C: Sequence<F> + Clone>(cell: C) {
    let mut rng = StdRng::seed_from_u64(7);
    let mut one = RnnModel::<F, C>::new(cell, VOCAB, &mut rng);
    randomize(&mut one.params, 0.5, &mut rng);
    randomize(&mut one.output, 0.5, &mut rng);
    one.path = CodePath::Fast;
    one.thread_split = ThreadSplit::Steps;
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
        assert_eq!(loss, loss1, "{threads} threads: the loss");
        let checks = [
            ("cell gradients", entries(&many.cell_grads, &one.cell_grads)),
            (
                "output gradients",
                entries(&many.output_grads, &one.output_grads),
            ),
            ("final state", entries(&s, &s1)),
            ("initial state's gradient", entries(&d, &d1)),
        ];
        for (what, pairs) in checks {
            let differ = pairs.iter().filter(|(x, y)| x != y).count();
            assert_eq!(differ, 0, "{threads} threads: {what} differ");
        }
    }
}

fn both<C: Sequence<f64> + Sequence<f32> + Clone>(cell: C) {
    same_on_any_threads::<f64, C>(cell.clone());
    same_on_any_threads::<f32, C>(cell);
}

#[test]
fn rnn_threads_sharing_steps_change_no_bit() {
    both(Rnn::new(VOCAB, HIDDENS));
}

#[test]
fn gru_threads_sharing_steps_change_no_bit() {
    both(Gru::new(VOCAB, HIDDENS, Variant::ResetBefore));
    both(Gru::new(VOCAB, HIDDENS, Variant::ResetAfter));
}

#[test]
fn lstm_threads_sharing_steps_change_no_bit() {
    both(Lstm::new(VOCAB, HIDDENS));
}

#[test]
fn deep_lstm_threads_sharing_steps_change_no_bit() {
    both(stack(2, VOCAB, HIDDENS, Lstm::new));
}
