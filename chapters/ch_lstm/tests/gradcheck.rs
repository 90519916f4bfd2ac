//! The hand-written backward pass of the LSTM against central finite
//! differences, in f64, over a multi-step sequence: every parameter, the
//! output layer, and both initial states, H and C; on the teaching path
//! and on the fast path, without and with dropout and weight dropping
//! (their masks frozen).

use ch_lstm::scratch::Lstm;
use d2l::model::CodePath;
use d2l::testkit::gradcheck::{self, assert_checks, check_model_cases};

#[test]
fn lstm_gradients_match_finite_differences() {
    let (vocab, hiddens, batch, steps) = (5, 4, 3, 5);
    let cell = Lstm::new(vocab, hiddens);
    let (mut model, batch, state) =
        gradcheck::problem(cell, vocab, (batch, steps), 42);
    for path in [CodePath::Teaching, CodePath::Fast] {
        model.path = path;
        for checks in check_model_cases(&model, &batch, &state) {
            // 12 cell tensors + 2 output tensors + H_0 and C_0.
            assert_eq!(checks.len(), 16);
            assert!(checks.iter().any(|c| c.name == "state0.c"));
            assert_checks(&checks, 1e-6);
        }
    }
}
