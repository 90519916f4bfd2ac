//! Backpropagation through the layers and through time, checked against central
//! finite differences in f64: every parameter of every layer, the output layer,
//! and the initial state of every layer, for stacks of GRU and LSTM cells of 2
//! and 3 layers and of plain RNN cells of 2, on the teaching path and on the
//! fast path, without and with dropout on the top layer's output and between
//! layers, and with the recurrent weights of every layer dropped (every mask
//! frozen).

use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use ch_rnn::scratch::Rnn;
use d2l::data::Batch;
use d2l::fast::Sequence;
use d2l::model::{CodePath, RnnModel};
use d2l::rnn::Cell;
use d2l::testkit::gradcheck::{self, assert_checks, check_model_cases};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 5;
const HIDDENS: usize = 3;
const BATCH: usize = 2;
const STEPS: usize = 4;

fn check<C: Sequence<f64> + Clone>(
    cell: Stack<C>,
    layers: usize,
    per_layer: usize,
) {
    let (mut model, batch, state) =
        gradcheck::problem(cell, VOCAB, (BATCH, STEPS), 7);
    for path in [CodePath::Teaching, CodePath::Fast] {
        model.path = path;
        // Every tensor of every layer, the output layer, every initial
        // state.
        let states = state
            .iter()
            .map(|s| d2l::rnn::Tensors::named(s).len())
            .sum::<usize>();
        for checks in check_model_cases(&model, &batch, &state) {
            assert_eq!(checks.len(), layers * per_layer + 2 + states);
            for l in 0..layers {
                let layer = format!("l{l}.");
                assert!(checks.iter().any(|c| c.name.starts_with(&layer)));
            }
            assert_checks(&checks, 1e-6);
        }
    }
}

#[test]
fn gru_stacks_of_2_and_3_layers_match_finite_differences() {
    for layers in [2, 3] {
        for variant in [Variant::ResetBefore, Variant::ResetAfter] {
            let cell =
                stack(layers, VOCAB, HIDDENS, |i, h| Gru::new(i, h, variant));
            check(cell, layers, 10);
        }
    }
}

#[test]
fn lstm_stacks_of_2_and_3_layers_match_finite_differences() {
    for layers in [2, 3] {
        check(stack(layers, VOCAB, HIDDENS, Lstm::new), layers, 12);
    }
}

#[test]
fn plain_rnn_stacks_of_2_layers_match_finite_differences() {
    check(stack(2, VOCAB, HIDDENS, Rnn::new), 2, 3);
}

#[test]
fn a_one_layer_stack_is_exactly_the_single_cell_model() {
    let batch = Batch {
        x: Array2::from_shape_fn((BATCH, STEPS), |(i, t)| (i + t) % VOCAB),
        y: Array2::from_shape_fn((BATCH, STEPS), |(i, t)| (2 * i + t) % VOCAB),
    };
    let single = RnnModel::<f64, _>::new(
        Lstm::new(VOCAB, HIDDENS),
        VOCAB,
        &mut StdRng::seed_from_u64(3),
    );
    let stacked = RnnModel::<f64, _>::new(
        stack(1, VOCAB, HIDDENS, Lstm::new),
        VOCAB,
        &mut StdRng::seed_from_u64(3),
    );
    // Same seed, same draws: the same weights.
    assert_eq!(stacked.params[0], single.params);
    let (mut a, mut b) = (single.clone(), stacked.clone());
    let (loss_a, d0_a) =
        a.forward_backward_from(&batch, &mut a.cell.zero_state(BATCH));
    let (loss_b, d0_b) =
        b.forward_backward_from(&batch, &mut b.cell.zero_state(BATCH));
    assert_eq!(loss_a, loss_b);
    assert_eq!(a.cell_grads, b.cell_grads[0]);
    assert_eq!(a.output_grads, b.output_grads);
    assert_eq!(d0_a, d0_b[0]);
}
