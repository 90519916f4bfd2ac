//! The from-scratch LSTM agrees with `tch::nn::lstm` in f64: forward
//! outputs, final (H, C), every gradient (initial states included) and five
//! steps of clipped SGD. Without the `torch` feature the comparison is with
//! `tests/fixtures/agreement.json`, which the torch lane recorded; with it,
//! the record is computed live, and the fixture must still match it
//! (`D2L_BLESS=1` rewrites it).

use ch_lstm::scratch::{Lstm, LstmState};
use d2l::model::RnnModel;
use d2l::testkit::agreement::{
    compare, deterministic, fixture_batch, read_fixture, record_scratch,
};
use d2l::testkit::agreement::{fixture_path, report, AGREEMENT_TOL};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 7;
const KEY: &str = "lstm";

/// Weights, output layer and initial state from
/// `d2l::testkit::agreement::deterministic`.
fn scratch() -> (RnnModel<f64, Lstm>, LstmState<f64>) {
    let mut rng = StdRng::seed_from_u64(0);
    let mut model = RnnModel::new(Lstm::new(VOCAB, HIDDENS), VOCAB, &mut rng);
    deterministic(&mut model.params, 0.0);
    deterministic(&mut model.output, 0.7);
    let zeros = Array2::zeros((BATCH, HIDDENS));
    let mut state = LstmState {
        h: zeros.clone(),
        c: zeros,
    };
    deterministic(&mut state, 2.0);
    (model, state)
}

#[test]
fn scratch_matches_recorded_nn_lstm() {
    let (model, state0) = scratch();
    let batch = fixture_batch(BATCH, STEPS, VOCAB);
    let ours = record_scratch(&model, &batch, &state0);
    let fixtures = read_fixture(&fixture_path(env!("CARGO_MANIFEST_DIR")));
    let worst = compare(&ours, &fixtures[KEY], AGREEMENT_TOL)
        .unwrap_or_else(|e| panic!("{e}"));
    report("LSTM", "nn::lstm", worst);
}

#[cfg(feature = "torch")]
mod live {
    use super::*;
    use ch_lstm::concise::ConciseLstm;
    use ch_lstm::scratch::LstmParams;
    use d2l::cli::Layers;
    use d2l::testkit::agreement::torch::{
        concise_copy, flat, our_grads, record, Reader,
    };
    use d2l::testkit::agreement::{agree, check_fixture, Record};
    use std::collections::BTreeMap;
    use tch::nn::LSTMState;
    use tch::Tensor;

    fn model() -> ConciseLstm {
        let (m, _) = scratch();
        concise_copy(&[m.params], &m.output)
    }

    fn record_nn_lstm() -> Record {
        let reader = Reader {
            model,
            state: |t: &[Tensor]| {
                LSTMState((t[0].unsqueeze(0), t[1].unsqueeze(0)))
            },
            leaves: || {
                let (_, s) = scratch();
                let t = |a: &Array2<f64>| Tensor::try_from(a.clone()).unwrap();
                vec![("h".to_string(), t(&s.h)), ("c".to_string(), t(&s.c))]
            },
            final_state: |s: &LSTMState| {
                BTreeMap::from([
                    ("h".to_string(), flat(&s.h())),
                    ("c".to_string(), flat(&s.c())),
                ])
            },
            grads: |m| our_grads::<LstmParams<f64>, _>(m, Layers::One),
            // Every LSTM bias comes in a pair; see `SingleBiases`.
            masks: vec![("rnn.bias_hh_l0".to_string(), 0, 4 * HIDDENS as i64)],
        };
        record(&reader, &fixture_batch(BATCH, STEPS, VOCAB))
    }

    #[test]
    fn nn_lstm_matches_scratch() {
        let (m, state0) = scratch();
        let ours =
            record_scratch(&m, &fixture_batch(BATCH, STEPS, VOCAB), &state0);
        agree("scratch LSTM vs nn::lstm", &ours, &record_nn_lstm());
    }

    #[test]
    fn committed_fixture_is_fresh() {
        let live = BTreeMap::from([(KEY.to_string(), record_nn_lstm())]);
        check_fixture(&fixture_path(env!("CARGO_MANIFEST_DIR")), &live);
    }
}
