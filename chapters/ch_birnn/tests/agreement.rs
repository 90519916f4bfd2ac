//! The bidirectional layers from scratch agree with tch's `nn::gru`
//! (reset-after) and `nn::lstm` with `bidirectional: true`, for 1 and 2
//! layers, in f64: logits, the final state of both directions of every
//! layer, every gradient (the `…_reverse` weights included), and five
//! steps of clipped SGD. Without the `torch` feature the comparison is
//! with `tests/fixtures/agreement.json`, recorded by the torch lane; with
//! it, live, and the fixture must still match (`D2L_BLESS=1` rewrites it).

use ch_birnn::deep::{bi_rnn, BiRnn};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use d2l::data::Batch;
use d2l::model::{Encoder, SeqModel};
use d2l::rnn::{Cell, Input};
use d2l::testkit::agreement::{
    check_recorded, deterministic, fixture_batch, flat_named, sgd_losses,
    Record,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 5;

fn batch() -> Batch {
    fixture_batch(BATCH, STEPS, VOCAB)
}

type Model<C> = SeqModel<f64, BiRnn<C>>;
type StateOf<C> = <BiRnn<C> as Encoder<f64>>::State;

/// Weights, output layer and initial state from `deterministic`, as the
/// other chapters' agreement tests make them.
fn model<C: Cell<f64>>(encoder: BiRnn<C>) -> (Model<C>, StateOf<C>) {
    let mut m = SeqModel::new(encoder, VOCAB, &mut StdRng::seed_from_u64(0));
    deterministic(&mut m.params, 0.0);
    deterministic(&mut m.output, 0.7);
    let mut state = m.encoder.zero_state(BATCH);
    deterministic(&mut state, 2.0);
    (m, state)
}

fn gru(layers: usize) -> (Model<Gru>, StateOf<Gru>) {
    model(bi_rnn(layers, VOCAB, HIDDENS, |i, h| {
        Gru::new(i, h, Variant::ResetAfter)
    }))
}

fn lstm(layers: usize) -> (Model<Lstm>, StateOf<Lstm>) {
    model(bi_rnn(layers, VOCAB, HIDDENS, Lstm::new))
}

/// What the scratch model computes, named as the torch lane names it.
fn record<C: Cell<f64>>((m, state0): (Model<C>, StateOf<C>)) -> Record {
    let b = batch();
    let mut trained = m.clone();
    let mut state = state0.clone();
    let (loss, d_state0) = trained.forward_backward_from(&b, &mut state, true);
    let mut grads = flat_named("cell.", &trained.grads);
    grads.extend(flat_named("output.", &trained.output_grads));
    grads.extend(flat_named("state0.", &d_state0.expect("a backward pass")));
    let tokens: Vec<usize> = b.x.t().iter().copied().collect();
    let xs: Vec<Input<f64>> = tokens.chunks(BATCH).map(Input::Tokens).collect();
    let (hs, _) = m.encoder.encode(&m.params, &xs, &mut state0.clone());
    Record {
        loss,
        logits: m.output.forward(&hs).iter().copied().collect(),
        final_state: flat_named("", &state),
        grads,
        sgd_losses: sgd_losses(&mut m.clone(), &b, || state0.clone()),
    }
}

fn scratch_record(key: &str) -> Record {
    match key {
        "gru_1" => record(gru(1)),
        "gru_2" => record(gru(2)),
        "lstm_1" => record(lstm(1)),
        "lstm_2" => record(lstm(2)),
        other => panic!("no configuration {other}"),
    }
}

const KEYS: [&str; 4] = ["gru_1", "gru_2", "lstm_1", "lstm_2"];

#[test]
fn bidirectional_layers_match_recorded_tch() {
    for key in KEYS {
        let (cell, layers) = key.split_once('_').expect("cell_layers");
        let layers = match layers {
            "1" => "1 layer".to_string(),
            n => format!("{n} layers"),
        };
        let what = format!("bidirectional {}, {layers}", cell.to_uppercase());
        let reference = format!("nn::{cell}, bidirectional, {layers}");
        let dir = env!("CARGO_MANIFEST_DIR");
        check_recorded(dir, key, &scratch_record(key), (&what, &reference));
    }
}

#[test]
fn the_record_names_both_directions_of_every_layer() {
    let r = scratch_record("lstm_2");
    for name in [
        "cell.l1.bwd.w_xi",
        "cell.l0.fwd.w_hc",
        "state0.l1.bwd.c",
        "state0.l0.fwd.h",
    ] {
        assert!(r.grads.contains_key(name), "no {name}");
    }
    assert!(r.final_state.contains_key("l1.bwd.h"));
    assert_eq!(r.logits.len(), BATCH * STEPS * VOCAB);
}

#[cfg(feature = "torch")]
mod live {
    use super::*;
    use ch_birnn::concise::{concise_copy, layers};
    use ch_birnn::scratch::Both;
    use ch_gru::scratch::GruParams;
    use ch_lstm::scratch::LstmParams;
    use d2l::concise::{ConciseRnn, Read};
    use d2l::rnn::TorchLayout;
    use d2l::testkit::agreement::torch::{flat, record, Reader};
    use d2l::testkit::agreement::{agree, check_fixture, fixture_path};
    use ndarray::Array2;
    use std::collections::BTreeMap;
    use tch::nn::{GRUState, LSTMState};
    use tch::Tensor;

    fn tensor(a: &Array2<f64>) -> Tensor {
        Tensor::try_from(a.clone()).unwrap()
    }

    /// tch's `(layers · 2, batch, hiddens)`, row 2l + d, as our names.
    fn per_direction(s: &Tensor, what: &str) -> BTreeMap<String, Vec<f64>> {
        (0..s.size()[0])
            .map(|k| {
                let d = if k % 2 == 0 { "fwd" } else { "bwd" };
                (format!("l{}.{d}.{what}", k / 2), flat(&s.get(k)))
            })
            .collect()
    }

    fn grads<P: TorchLayout<f64> + d2l::rnn::Tensors<f64>, R>(
        m: &ConciseRnn<R>,
        num_layers: usize,
    ) -> BTreeMap<String, Vec<f64>> {
        let g: Vec<Both<P>> = layers(m, num_layers, Read::Grad);
        let mut g = flat_named("cell.", &g);
        g.extend(flat_named("output.", &m.output(Read::Grad)));
        g
    }

    /// `bias_hh` entries that duplicate ours, in both directions.
    fn masks(layers: usize, width: usize) -> Vec<(String, i64, i64)> {
        let mut m = Vec::new();
        for l in 0..layers {
            for d in ["", "_reverse"] {
                m.push((format!("rnn.bias_hh_l{l}{d}"), 0, width as i64));
            }
        }
        m
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
                let mut v = Vec::new();
                for (l, s) in s.iter().enumerate() {
                    v.push((format!("l{l}.fwd.h"), tensor(&s.fwd.h)));
                    v.push((format!("l{l}.bwd.h"), tensor(&s.bwd.h)));
                }
                v
            },
            final_state: |s| per_direction(&s.0, "h"),
            grads: |m| grads::<GruParams<f64>, _>(m, L),
            masks: masks(L, 2 * HIDDENS),
        }
    }

    fn lstm_reader<const L: usize>() -> Reader<tch::nn::LSTM> {
        Reader {
            model: || {
                let (m, _) = lstm(L);
                concise_copy(&m.params, &m.output)
            },
            // Leaves alternate h, c; tch wants (layers · 2, batch, h).
            state: |t| {
                let h: Vec<&Tensor> = t.iter().step_by(2).collect();
                let c: Vec<&Tensor> = t.iter().skip(1).step_by(2).collect();
                LSTMState((Tensor::stack(&h, 0), Tensor::stack(&c, 0)))
            },
            leaves: || {
                let (_, s) = lstm(L);
                let mut v = Vec::new();
                for (l, s) in s.iter().enumerate() {
                    for (d, s) in [("fwd", &s.fwd), ("bwd", &s.bwd)] {
                        v.push((format!("l{l}.{d}.h"), tensor(&s.h)));
                        v.push((format!("l{l}.{d}.c"), tensor(&s.c)));
                    }
                }
                v
            },
            final_state: |s| {
                let mut m = per_direction(&s.h(), "h");
                m.extend(per_direction(&s.c(), "c"));
                m
            },
            grads: |m| grads::<LstmParams<f64>, _>(m, L),
            masks: masks(L, 4 * HIDDENS),
        }
    }

    fn live_record(key: &str) -> Record {
        match key {
            "gru_1" => record(&gru_reader::<1>(), &batch()),
            "gru_2" => record(&gru_reader::<2>(), &batch()),
            "lstm_1" => record(&lstm_reader::<1>(), &batch()),
            "lstm_2" => record(&lstm_reader::<2>(), &batch()),
            other => panic!("no configuration {other}"),
        }
    }

    #[test]
    fn bidirectional_layers_match_tch() {
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
