//! The from-scratch LSTM agrees with `tch::nn::lstm` in f64: forward
//! outputs, final (H, C), every gradient (initial states included) and five
//! steps of clipped SGD. Without the `torch` feature the comparison is with
//! `tests/fixtures/agreement.json`, which the torch lane recorded; with it,
//! the record is computed live, and the fixture must still match it
//! (`D2L_BLESS=1` rewrites it).

use ch_lstm::scratch::{Lstm, LstmState};
use d2l::model::RnnModel;
use d2l::testkit::agreement::{
    check_recorded, deterministic_model, fixture_batch, record_scratch,
};

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 7;
const KEY: &str = "lstm";

fn scratch() -> (RnnModel<f64, Lstm>, LstmState<f64>) {
    deterministic_model(Lstm::new(VOCAB, HIDDENS), VOCAB, BATCH)
}

#[test]
fn scratch_matches_recorded_nn_lstm() {
    let (model, state0) = scratch();
    let batch = fixture_batch(BATCH, STEPS, VOCAB);
    let ours = record_scratch(&model, &batch, &state0);
    check_recorded(
        env!("CARGO_MANIFEST_DIR"),
        KEY,
        &ours,
        ("LSTM", "nn::lstm"),
    );
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
    use d2l::testkit::agreement::{agree, check_fixture, fixture_path, Record};
    use ndarray::Array2;
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
