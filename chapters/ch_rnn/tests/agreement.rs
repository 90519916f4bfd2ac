//! The from-scratch plain RNN agrees with libtorch's tanh RNN (what
//! PyTorch's `nn.RNN` runs) in f64: forward outputs, the final H, every
//! gradient (the initial state's included) and five steps of clipped SGD.
//! Without the `torch` feature the comparison is with
//! `tests/fixtures/agreement.json`, which the torch lane recorded; with
//! it, the record is computed live, and the fixture must still match it
//! (`D2L_BLESS=1` rewrites it).

use ch_rnn::scratch::Rnn;
use d2l::model::RnnModel;
use d2l::rnn::Hidden;
use d2l::testkit::agreement::{
    check_recorded, deterministic_model, fixture_batch, record_scratch,
};

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 7;
const KEY: &str = "rnn";

fn scratch() -> (RnnModel<f64, Rnn>, Hidden<f64>) {
    deterministic_model(Rnn::new(VOCAB, HIDDENS), VOCAB, BATCH)
}

#[test]
fn scratch_matches_recorded_rnn_tanh() {
    let (model, state0) = scratch();
    let batch = fixture_batch(BATCH, STEPS, VOCAB);
    let ours = record_scratch(&model, &batch, &state0);
    check_recorded(env!("CARGO_MANIFEST_DIR"), KEY, &ours, ("RNN", "rnn_tanh"));
}

#[cfg(feature = "torch")]
mod live {
    use super::*;
    use ch_rnn::concise::ConciseTanh;
    use ch_rnn::scratch::RnnParams;
    use d2l::cli::Layers;
    use d2l::concise::TanhState;
    use d2l::testkit::agreement::torch::{
        concise_copy, flat, our_grads, record, Reader,
    };
    use d2l::testkit::agreement::{agree, check_fixture, fixture_path, Record};
    use std::collections::BTreeMap;
    use tch::Tensor;

    fn model() -> ConciseTanh {
        let (m, _) = scratch();
        concise_copy(&[m.params], &m.output)
    }

    fn record_rnn_tanh() -> Record {
        let reader = Reader {
            model,
            state: |t: &[Tensor]| TanhState(t[0].unsqueeze(0)),
            leaves: || {
                let (_, s) = scratch();
                let h = Tensor::try_from(s.h.clone()).unwrap();
                vec![("h".to_string(), h)]
            },
            final_state: |s: &TanhState| {
                BTreeMap::from([("h".to_string(), flat(&s.h()))])
            },
            grads: |m| our_grads::<RnnParams<f64>, _>(m, Layers::One),
            // The bias comes in a pair; see `SingleBiases`.
            masks: vec![("rnn.bias_hh_l0".to_string(), 0, HIDDENS as i64)],
        };
        record(&reader, &fixture_batch(BATCH, STEPS, VOCAB))
    }

    #[test]
    fn rnn_tanh_matches_scratch() {
        let (m, state0) = scratch();
        let ours =
            record_scratch(&m, &fixture_batch(BATCH, STEPS, VOCAB), &state0);
        agree("scratch RNN vs rnn_tanh", &ours, &record_rnn_tanh());
    }

    #[test]
    fn committed_fixture_is_fresh() {
        let live = BTreeMap::from([(KEY.to_string(), record_rnn_tanh())]);
        check_fixture(&fixture_path(env!("CARGO_MANIFEST_DIR")), &live);
    }
}
