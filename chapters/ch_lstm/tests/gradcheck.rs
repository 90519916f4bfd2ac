//! The hand-written backward pass of the LSTM against central finite
//! differences, in f64, over a multi-step sequence: every parameter, the
//! output layer, and both initial states, H and C; on the teaching path
//! and on the fast path.

use ch_lstm::scratch::{Lstm, LstmState};
use d2l::data::Batch;
use d2l::model::{CodePath, RnnModel};
use d2l::testkit::gradcheck::{assert_checks, check_model, randomize};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

#[test]
fn lstm_gradients_match_finite_differences() {
    let (vocab, hiddens, batch, steps) = (5, 4, 3, 5);
    let mut rng = StdRng::seed_from_u64(42);
    let mut model = RnnModel::new(Lstm::new(vocab, hiddens), vocab, &mut rng);
    randomize(&mut model.params, 0.5, &mut rng);
    randomize(&mut model.output, 0.5, &mut rng);
    let batch = Batch {
        x: Array2::from_shape_fn((batch, steps), |(i, t)| (i + 2 * t) % vocab),
        y: Array2::from_shape_fn((batch, steps), |(i, t)| (3 * i + t) % vocab),
    };
    let zeros = Array2::zeros((3, hiddens));
    let mut state = LstmState {
        h: zeros.clone(),
        c: zeros,
    };
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
