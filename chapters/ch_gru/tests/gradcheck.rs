//! The hand-written backward pass of the GRU against central finite
//! differences, in f64, over a multi-step sequence: every parameter of the
//! cell and of the output layer, and the initial state, for both
//! formulations, on the teaching path and on the fast path, without and
//! with dropout and weight dropping (their masks frozen).

use ch_gru::scratch::{Gru, GruState, Variant};
use d2l::data::Batch;
use d2l::model::{CodePath, RnnModel};
use d2l::testkit::gradcheck::{self, assert_checks, check_model_cases};

const VOCAB: usize = 5;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 4;

fn setup(variant: Variant) -> (RnnModel<f64, Gru>, Batch, GruState<f64>) {
    let cell = Gru::new(VOCAB, HIDDENS, variant);
    gradcheck::problem(cell, VOCAB, (BATCH, STEPS), 42)
}

/// On both paths: the teaching loops and the fast path.
fn check(variant: Variant) {
    for path in [CodePath::Teaching, CodePath::Fast] {
        let (mut model, batch, state) = setup(variant);
        model.path = path;
        for checks in check_model_cases(&model, &batch, &state) {
            // 10 cell tensors + 2 output tensors + the initial state.
            assert_eq!(checks.len(), 13);
            assert_checks(&checks, 1e-6);
        }
    }
}

#[test]
fn reset_before_gradients_match_finite_differences() {
    check(Variant::ResetBefore);
}

#[test]
fn reset_after_gradients_match_finite_differences() {
    check(Variant::ResetAfter);
}
