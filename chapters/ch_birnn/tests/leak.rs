//! The leak: trained on the next character at every position, a
//! bidirectional model's output at step t has read step t + 1, the very
//! character it is asked for. Its output at t changes when the input at
//! t + 1 changes; a one-directional model's does not.

use ch_birnn::deep::bi_rnn;
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::model::{Encoder, SeqModel, Uni};
use d2l::rnn::Input;
use d2l::testkit::gradcheck::randomize;
use ndarray::{s, Array2};
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 6;
const STEPS: usize = 6;
const HIDDENS: usize = 4;

/// The outputs of every step for one sequence, `(steps, width)`.
fn outputs<E: Encoder<f64>>(
    m: &SeqModel<f64, E>,
    tokens: &[usize],
) -> Array2<f64> {
    let xs: Vec<Input<f64>> = tokens.chunks(1).map(Input::Tokens).collect();
    let mut state = m.encoder.zero_state(1);
    m.encoder.encode(&m.params, &xs, &mut state).0
}

/// The steps t at which the output changes when only the input at step
/// `changed` does.
fn moved_by<E: Encoder<f64>>(encoder: E, changed: usize) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(3);
    let mut m = SeqModel::new(encoder, VOCAB, &mut rng);
    randomize(&mut m.params, 0.5, &mut rng);
    let a = [1, 2, 3, 4, 5, 0];
    let mut b = a;
    b[changed] = (a[changed] + 1) % VOCAB;
    let (oa, ob) = (outputs(&m, &a), outputs(&m, &b));
    (0..STEPS)
        .filter(|&t| oa.slice(s![t, ..]) != ob.slice(s![t, ..]))
        .collect()
}

#[test]
fn a_bidirectional_output_reads_the_next_input() {
    let lstm = |layers| bi_rnn(layers, VOCAB, HIDDENS, Lstm::new);
    let gru = |layers| {
        bi_rnn(layers, VOCAB, 4, |i, h| {
            Gru::new(i, h, Variant::ResetBefore)
        })
    };
    for layers in [1, 2] {
        // Changing step 3 moves every output: steps 0–2 through the
        // backward direction, 3–5 through the forward one.
        assert_eq!(moved_by(lstm(layers), 3), (0..STEPS).collect::<Vec<_>>());
        assert_eq!(moved_by(gru(layers), 3), (0..STEPS).collect::<Vec<_>>());
    }
}

#[test]
fn a_one_directional_output_does_not() {
    // Only steps 3 onwards: no output reads a later input.
    assert_eq!(moved_by(Uni(Lstm::new(VOCAB, HIDDENS)), 3), vec![3, 4, 5]);
    let gru = Gru::new(VOCAB, HIDDENS, Variant::ResetBefore);
    assert_eq!(moved_by(Uni(gru), 3), vec![3, 4, 5]);
}

/// The outputs at every step of a model of `layers` bidirectional LSTM
/// layers, for a sequence and for the same with step 3 changed.
fn with_step_3_changed(layers: usize) -> (Array2<f64>, Array2<f64>) {
    let mut rng = StdRng::seed_from_u64(4);
    let encoder = bi_rnn(layers, VOCAB, HIDDENS, Lstm::new);
    let mut m = SeqModel::new(encoder, VOCAB, &mut rng);
    randomize(&mut m.params, 0.5, &mut rng);
    let a = [1, 2, 3, 4, 5, 0];
    let mut b = a;
    b[3] = 0;
    (outputs(&m, &a), outputs(&m, &b))
}

#[test]
fn in_one_layer_the_backward_direction_alone_reads_the_future() {
    // The forward half of the outputs before step 3 stays the same to
    // the bit; the backward half moves.
    let (a, b) = with_step_3_changed(1);
    for t in 0..3 {
        assert_eq!(a.slice(s![t, ..HIDDENS]), b.slice(s![t, ..HIDDENS]));
        assert_ne!(a.slice(s![t, HIDDENS..]), b.slice(s![t, HIDDENS..]));
    }
}

#[test]
fn in_two_layers_both_halves_read_the_future() {
    // Layer 1's forward direction reads layer 0's backward states, so in
    // a deep model the future reaches both halves of the top output.
    let (a, b) = with_step_3_changed(2);
    for t in 0..3 {
        assert_ne!(a.slice(s![t, ..HIDDENS]), b.slice(s![t, ..HIDDENS]));
        assert_ne!(a.slice(s![t, HIDDENS..]), b.slice(s![t, HIDDENS..]));
    }
}
