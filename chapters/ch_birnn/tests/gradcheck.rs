//! The hand-written backward pass of the bidirectional RNN against central
//! finite differences, in f64: every parameter of both directions of every
//! layer, the output layer, and the initial state of both directions, for
//! GRU and LSTM cells, 1 and 2 layers, with the loss at every position
//! (the language model) and at a few positions only (the fill-in task).

use ch_birnn::deep::bi_rnn;
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::data::Batch;
use d2l::model::{Encoder, SeqModel};
use d2l::rnn::{Cell, Tensors};
use d2l::testkit::gradcheck::{assert_checks, check_tensors, randomize};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 5;
const HIDDENS: usize = 3;

/// Parameters, output layer and initial state from N(0, 0.5²).
fn problem<E: Encoder<f64>>(
    encoder: E,
    seed: u64,
    batch: usize,
) -> (SeqModel<f64, E>, E::State) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut model = SeqModel::new(encoder, VOCAB, &mut rng);
    randomize(&mut model.params, 0.5, &mut rng);
    randomize(&mut model.output, 0.5, &mut rng);
    let mut state = model.encoder.zero_state(batch);
    randomize(&mut state, 0.5, &mut rng);
    (model, state)
}

/// Checks every gradient of `model` with the loss at `targets` of
/// `tokens`; returns how many tensors were checked.
fn check<E: Encoder<f64>>(
    model: &SeqModel<f64, E>,
    state0: &E::State,
    (tokens, batch): (&[usize], usize),
    targets: &[(usize, usize)],
) -> usize {
    let mut m = model.clone();
    let (_, d_state0) = m.forward_backward_at(
        tokens,
        batch,
        targets,
        &mut state0.clone(),
        true,
    );
    let loss = |m: &mut SeqModel<f64, E>, s: &E::State| {
        m.forward_backward_at(tokens, batch, targets, &mut s.clone(), false)
            .0
    };
    let mut probe = model.clone();
    let mut checks = check_tensors("", &m.params, &m.grads, |p| {
        probe.params = p.clone();
        loss(&mut probe, state0)
    });
    let mut probe = model.clone();
    checks.extend(check_tensors("output.", &m.output, &m.output_grads, |o| {
        probe.output = o.clone();
        loss(&mut probe, state0)
    }));
    let mut probe = model.clone();
    let d_state0 = d_state0.expect("a backward pass");
    checks.extend(check_tensors("state0.", state0, &d_state0, |s| {
        loss(&mut probe, s)
    }));
    assert_checks(&checks, 1e-6);
    checks.len()
}

/// Every position's next character (the language model), then three
/// positions only.
fn check_both_losses<C: Cell<f64>>(cell: impl Fn(usize, usize) -> C) {
    let (batch, steps) = (2, 4);
    let batch_data = Batch {
        x: Array2::from_shape_fn((batch, steps), |(i, t)| (i + 2 * t) % VOCAB),
        y: Array2::from_shape_fn((batch, steps), |(i, t)| (3 * i + t) % VOCAB),
    };
    let tokens: Vec<usize> = batch_data.x.t().iter().copied().collect();
    for layers in [1, 2] {
        let encoder = bi_rnn(layers, VOCAB, HIDDENS, &cell);
        let (model, state0) = problem(encoder, 7 + layers as u64, batch);
        let every: Vec<(usize, usize)> =
            batch_data.y.t().iter().copied().enumerate().collect();
        let n = check(&model, &state0, (&tokens, batch), &every);
        // Cell tensors of both directions of every layer, 2 output
        // tensors, and the initial state of both directions.
        let state_tensors =
            state0.iter().map(|s| s.named().len()).sum::<usize>();
        assert_eq!(
            n,
            model.params.iter().map(|p| p.named().len()).sum::<usize>()
                + 2
                + state_tensors
        );
        // Targets at the first, a middle and the last step only.
        let some = [(0, 1), (3, 4), (7, 2)];
        check(&model, &state0, (&tokens, batch), &some);
    }
}

#[test]
fn bidirectional_gru_gradients_match_finite_differences() {
    check_both_losses(|i, h| Gru::new(i, h, Variant::ResetBefore));
}

#[test]
fn bidirectional_lstm_gradients_match_finite_differences() {
    check_both_losses(Lstm::new);
}
