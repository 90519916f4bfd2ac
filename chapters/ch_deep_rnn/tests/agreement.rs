//! The from-scratch stacks agree with tch's multi-layer `nn::gru` (reset-after)
//! and `nn::lstm`, for 2 and 3 layers, and with libtorch's tanh RNN for 2
//! layers, in f64: outputs, the final state of every layer, every gradient, and
//! five steps of clipped SGD. Without the `torch` feature the comparison is
//! with `tests/fixtures/agreement.json`, recorded by the torch lane; with it,
//! live, and the fixture must still match (`D2L_BLESS=1` rewrites it).

use ch_deep_rnn::scratch::{stack, Stack};
use ch_gru::scratch::{Gru, GruState, Variant};
use ch_lstm::scratch::{Lstm, LstmState};
use ch_rnn::scratch::Rnn;
use d2l::data::Batch;
use d2l::model::RnnModel;
use d2l::rnn::{Cell, Hidden};
use d2l::testkit::agreement::{
    check_recorded, deterministic_model, fixture_batch, record_scratch, Record,
};

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 5;

fn batch() -> Batch {
    fixture_batch(BATCH, STEPS, VOCAB)
}

/// A model and an initial state from `d2l::testkit::agreement::deterministic`.
fn scratch<C: Cell<f64>>(
    cell: Stack<C>,
) -> (RnnModel<f64, Stack<C>>, Vec<C::State>) {
    deterministic_model(cell, VOCAB, BATCH)
}

fn gru(layers: usize) -> (RnnModel<f64, Stack<Gru>>, Vec<GruState<f64>>) {
    scratch(stack(layers, VOCAB, HIDDENS, |i, h| {
        Gru::new(i, h, Variant::ResetAfter)
    }))
}

fn lstm(layers: usize) -> (RnnModel<f64, Stack<Lstm>>, Vec<LstmState<f64>>) {
    scratch(stack(layers, VOCAB, HIDDENS, Lstm::new))
}

fn rnn(layers: usize) -> (RnnModel<f64, Stack<Rnn>>, Vec<Hidden<f64>>) {
    scratch(stack(layers, VOCAB, HIDDENS, Rnn::new))
}

fn scratch_record(key: &str) -> Record {
    let (cell, layers) = key.split_once('_').expect("cell_layers");
    let layers = layers.parse().expect("a number of layers");
    match cell {
        "gru" => {
            let (m, s) = gru(layers);
            record_scratch(&m, &batch(), &s)
        }
        "lstm" => {
            let (m, s) = lstm(layers);
            record_scratch(&m, &batch(), &s)
        }
        "rnn" => {
            let (m, s) = rnn(layers);
            record_scratch(&m, &batch(), &s)
        }
        other => panic!("no cell {other:?}"),
    }
}

const KEYS: [&str; 5] = ["gru_2", "gru_3", "lstm_2", "lstm_3", "rnn_2"];

#[test]
fn stacks_match_recorded_multi_layer_tch() {
    for key in KEYS {
        let (cell, layers) = key.split_once('_').expect("cell_layers");
        let what = format!("{} stack, {layers} layers", cell.to_uppercase());
        let reference = match cell {
            "rnn" => format!("rnn_tanh, {layers} layers"),
            _ => format!("nn::{cell}, {layers} layers"),
        };
        let dir = env!("CARGO_MANIFEST_DIR");
        check_recorded(dir, key, &scratch_record(key), (&what, &reference));
    }
}

#[cfg(feature = "torch")]
mod live {
    use super::*;
    use ch_gru::scratch::GruParams;
    use ch_lstm::scratch::LstmParams;
    use ch_rnn::scratch::RnnParams;
    use d2l::cli::Layers;
    use d2l::concise::{TanhRnn, TanhState};
    use d2l::testkit::agreement::torch::{
        concise_copy, flat, our_grads, record, Reader,
    };
    use d2l::testkit::agreement::{agree, check_fixture, fixture_path};
    use ndarray::Array2;
    use std::collections::BTreeMap;
    use tch::nn::{GRUState, LSTMState};
    use tch::Tensor;

    fn tensor(a: &Array2<f64>) -> Tensor {
        Tensor::try_from(a.clone()).unwrap()
    }

    fn per_layer(s: &Tensor, what: &str) -> BTreeMap<String, Vec<f64>> {
        (0..s.size()[0])
            .map(|l| (format!("l{l}.{what}"), flat(&s.get(l))))
            .collect()
    }

    fn gru_reader<const L: usize>() -> Reader<tch::nn::GRU> {
        Reader {
            model: || {
                let (m, _) = gru(L);
                concise_copy(&m.params, &m.output)
            },
            state: |t| GRUState(Tensor::stack(t, 0)),
            leaves: || {
                let (_, s) = gru(L);
                let each = s.iter().enumerate();
                each.map(|(l, s)| (format!("l{l}.h"), tensor(&s.h)))
                    .collect()
            },
            final_state: |s| per_layer(&s.0, "h"),
            grads: |m| our_grads::<GruParams<f64>, _>(m, Layers::Stack(L)),
            masks: (0..L)
                .map(|l| (format!("rnn.bias_hh_l{l}"), 0, 2 * HIDDENS as i64))
                .collect(),
        }
    }

    fn lstm_reader<const L: usize>() -> Reader<tch::nn::LSTM> {
        Reader {
            model: || {
                let (m, _) = lstm(L);
                concise_copy(&m.params, &m.output)
            },
            // Leaves alternate h, c per layer; tch wants (layers, batch, h).
            state: |t| {
                let h: Vec<&Tensor> = t.iter().step_by(2).collect();
                let c: Vec<&Tensor> = t.iter().skip(1).step_by(2).collect();
                LSTMState((Tensor::stack(&h, 0), Tensor::stack(&c, 0)))
            },
            leaves: || {
                let (_, s) = lstm(L);
                let mut v = Vec::new();
                for (l, s) in s.iter().enumerate() {
                    v.push((format!("l{l}.h"), tensor(&s.h)));
                    v.push((format!("l{l}.c"), tensor(&s.c)));
                }
                v
            },
            final_state: |s| {
                let mut m = per_layer(&s.h(), "h");
                m.extend(per_layer(&s.c(), "c"));
                m
            },
            grads: |m| our_grads::<LstmParams<f64>, _>(m, Layers::Stack(L)),
            masks: (0..L)
                .map(|l| (format!("rnn.bias_hh_l{l}"), 0, 4 * HIDDENS as i64))
                .collect(),
        }
    }

    fn rnn_reader<const L: usize>() -> Reader<TanhRnn> {
        Reader {
            model: || {
                let (m, _) = rnn(L);
                concise_copy(&m.params, &m.output)
            },
            state: |t| TanhState(Tensor::stack(t, 0)),
            leaves: || {
                let (_, s) = rnn(L);
                let each = s.iter().enumerate();
                each.map(|(l, s)| (format!("l{l}.h"), tensor(&s.h)))
                    .collect()
            },
            final_state: |s| per_layer(&s.0, "h"),
            grads: |m| our_grads::<RnnParams<f64>, _>(m, Layers::Stack(L)),
            masks: (0..L)
                .map(|l| (format!("rnn.bias_hh_l{l}"), 0, HIDDENS as i64))
                .collect(),
        }
    }

    fn live_record(key: &str) -> Record {
        match key {
            "gru_2" => record(&gru_reader::<2>(), &batch()),
            "gru_3" => record(&gru_reader::<3>(), &batch()),
            "lstm_2" => record(&lstm_reader::<2>(), &batch()),
            "lstm_3" => record(&lstm_reader::<3>(), &batch()),
            "rnn_2" => record(&rnn_reader::<2>(), &batch()),
            other => panic!("no configuration {other}"),
        }
    }

    #[test]
    fn stacks_match_multi_layer_tch() {
        for key in KEYS {
            agree(key, &scratch_record(key), &live_record(key));
        }
    }

    #[test]
    fn committed_fixture_is_fresh() {
        let live: BTreeMap<String, Record> = KEYS
            .iter()
            .map(|k| (k.to_string(), live_record(k)))
            .collect();
        check_fixture(&fixture_path(env!("CARGO_MANIFEST_DIR")), &live);
    }
}
