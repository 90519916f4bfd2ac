//! The hand-written backward pass of the LSTM against central finite
//! differences, in f64, over a multi-step sequence: every parameter, the
//! output layer, and both initial states, H and C; on the teaching path
//! and on the fast path.

use ch_lstm::scratch::Lstm;
use d2l::model::{CodePath, RnnModel};
use d2l::rnn::Cell;
use d2l::testkit::gradcheck::{self, assert_checks, check_model, randomize};
use rand::rngs::StdRng;
use rand::SeedableRng;

#[test]
fn lstm_gradients_match_finite_differences() {
    let (vocab, hiddens, batch, steps) = (5, 4, 3, 5);
    let mut rng = StdRng::seed_from_u64(42);
    let mut model = RnnModel::new(Lstm::new(vocab, hiddens), vocab, &mut rng);
    randomize(&mut model.params, 0.5, &mut rng);
    randomize(&mut model.output, 0.5, &mut rng);
    let mut state = model.cell.zero_state(batch);
    let batch = gradcheck::batch(batch, steps, vocab);
    randomize(&mut state, 0.5, &mut rng);
    for path in [CodePath::Teaching, CodePath::Fast] {
        model.path = path;
        let checks = check_model(&model, &batch, &state);
        // 12 cell tensors + 2 output tensors + H_0 and C_0.
        assert_eq!(checks.len(), 16);
        assert!(checks.iter().any(|c| c.name == "state0.c"));
        assert_checks(&checks, 1e-6);
    }
}
