//! The hand-written backward pass of the plain RNN against central finite
//! differences, in f64, over a multi-step sequence: every parameter, the
//! output layer and the initial state, on the teaching path and on the
//! fast path, without and with dropout and weight dropping (their masks
//! frozen).

use ch_rnn::scratch::Rnn;
use d2l::model::CodePath;
use d2l::testkit::gradcheck::{self, assert_checks, check_model_cases};

#[test]
fn rnn_gradients_match_finite_differences() {
    let (vocab, hiddens, batch, steps) = (5, 4, 3, 5);
    let cell = Rnn::new(vocab, hiddens);
    let (mut model, batch, state) =
        gradcheck::problem(cell, vocab, (batch, steps), 42);
    for path in [CodePath::Teaching, CodePath::Fast] {
        model.path = path;
        for checks in check_model_cases(&model, &batch, &state) {
            // 3 cell tensors + 2 output tensors + H_0.
            assert_eq!(checks.len(), 6);
            assert!(checks.iter().any(|c| c.name == "state0.h"));
            assert_checks(&checks, 1e-6);
        }
    }
}
