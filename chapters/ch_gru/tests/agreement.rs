//! The from-scratch GRU agrees with libtorch in f64: forward outputs, final
//! state, every gradient, and five steps of clipped SGD.
//!
//! - reset-after is compared with `tch::nn::gru`, weights copied through
//!   `layout::to_torch`;
//! - reset-before, which no libtorch module computes, with the same
//!   equations written in tch tensor ops, differentiated by autograd.
//!
//! Without the `torch` feature the comparison is with
//! `tests/fixtures/agreement.json`, which the torch lane recorded; with it,
//! the records are computed live, and the fixture must still match them
//! (`D2L_BLESS=1` rewrites it).

use ch_gru::scratch::{Gru, GruState, Variant};
use d2l::model::RnnModel;
use d2l::testkit::agreement::{
    check_recorded, deterministic_model, fixture_batch, record_scratch,
};

const VOCAB: usize = 6;
const HIDDENS: usize = 4;
const BATCH: usize = 3;
const STEPS: usize = 7;

fn key(variant: Variant) -> &'static str {
    match variant {
        Variant::ResetBefore => "reset_before",
        Variant::ResetAfter => "reset_after",
    }
}

/// Weights, output layer and initial state, all from
/// `d2l::testkit::agreement::deterministic`.
fn scratch(variant: Variant) -> (RnnModel<f64, Gru>, GruState<f64>) {
    deterministic_model(Gru::new(VOCAB, HIDDENS, variant), VOCAB, BATCH)
}

fn check_against_fixture(variant: Variant) {
    let (model, state0) = scratch(variant);
    let batch = fixture_batch(BATCH, STEPS, VOCAB);
    let ours = record_scratch(&model, &batch, &state0);
    let names = match variant {
        Variant::ResetAfter => ("GRU, reset-after", "nn::gru"),
        Variant::ResetBefore => {
            ("GRU, reset-before", "d2l's equations in tch ops")
        }
    };
    check_recorded(env!("CARGO_MANIFEST_DIR"), key(variant), &ours, names);
}

#[test]
fn reset_after_matches_recorded_nn_gru() {
    check_against_fixture(Variant::ResetAfter);
}

#[test]
fn reset_before_matches_recorded_tch_ops() {
    check_against_fixture(Variant::ResetBefore);
}

#[cfg(feature = "torch")]
mod live {
    use super::*;
    use ch_gru::concise::ConciseGru;
    use ch_gru::scratch::GruParams;
    use d2l::cli::Layers;
    use d2l::concise::{cross_entropy, grad};
    use d2l::data::Batch;
    use d2l::rnn::Tensors;
    use d2l::testkit::agreement::torch::{
        concise_copy, flat, our_grads, record, Reader,
    };
    use d2l::testkit::agreement::{
        agree, check_fixture, fixture_path, sgd_losses, Record,
    };
    use d2l::LanguageModel;
    use ndarray::Array2;
    use std::collections::BTreeMap;
    use tch::nn::GRUState;
    use tch::{Device, Kind, Tensor};

    fn tensor(a: &Array2<f64>) -> Tensor {
        Tensor::try_from(a.clone()).unwrap()
    }

    fn concise() -> ConciseGru {
        let (model, _) = scratch(Variant::ResetAfter);
        concise_copy(&[model.params], &model.output)
    }

    /// `nn::gru` on the fixture batch.
    fn record_nn_gru() -> Record {
        let reader = Reader {
            model: concise,
            state: |t: &[Tensor]| GRUState(t[0].unsqueeze(0)),
            leaves: || {
                let (_, s) = scratch(Variant::ResetAfter);
                vec![("h".to_string(), tensor(&s.h))]
            },
            final_state: |s: &GRUState| {
                BTreeMap::from([("h".to_string(), flat(&s.0))])
            },
            grads: |m| our_grads::<GruParams<f64>, _>(m, Layers::One),
            // PyTorch's r and z biases come in pairs; see `SingleBiases`.
            masks: vec![("rnn.bias_hh_l0".to_string(), 0, 2 * HIDDENS as i64)],
        };
        record(&reader, &fixture_batch(BATCH, STEPS, VOCAB))
    }

    /// d2l's reset-before GRU written with tch tensor ops, as the seed's
    /// PyTorch code does, so that autograd computes its gradients.
    struct OpsGru {
        p: BTreeMap<String, Tensor>,
    }

    impl OpsGru {
        fn new() -> Self {
            let (model, _) = scratch(Variant::ResetBefore);
            let mut p = BTreeMap::new();
            for (prefix, named) in [
                ("cell.", model.params.named()),
                ("output.", model.output.named()),
            ] {
                for (n, v) in named {
                    let t = Tensor::try_from(v.to_owned()).unwrap();
                    p.insert(format!("{prefix}{n}"), t.set_requires_grad(true));
                }
            }
            Self { p }
        }

        /// Logits, time-major, and the final H.
        fn forward(&self, batch: &Batch, h0: &Tensor) -> (Tensor, Tensor) {
            let w = |n: &str| &self.p[n];
            let mut h = h0.shallow_clone();
            let mut outputs = Vec::new();
            for t in 0..STEPS {
                let tokens: Vec<i64> =
                    batch.x.column(t).iter().map(|&v| v as i64).collect();
                let x = Tensor::from_slice(&tokens)
                    .one_hot(VOCAB as i64)
                    .to_kind(Kind::Double);
                let z = (x.mm(w("cell.w_xz"))
                    + h.mm(w("cell.w_hz"))
                    + w("cell.b_z"))
                .sigmoid();
                let r = (x.mm(w("cell.w_xr"))
                    + h.mm(w("cell.w_hr"))
                    + w("cell.b_r"))
                .sigmoid();
                let h_tilde = (x.mm(w("cell.w_xh"))
                    + (&r * &h).mm(w("cell.w_hh"))
                    + w("cell.b_h"))
                .tanh();
                h = &z * &h + (1.0 - &z) * h_tilde;
                outputs.push(h.mm(w("output.w_hq")) + w("output.b_q"));
            }
            (Tensor::cat(&outputs, 0), h)
        }

        fn labels(batch: &Batch) -> Tensor {
            let y: Vec<i64> = batch.y.t().iter().map(|&v| v as i64).collect();
            Tensor::from_slice(&y)
        }
    }

    impl LanguageModel for OpsGru {
        type State = Tensor;

        fn begin_state(&self, b: usize) -> Tensor {
            Tensor::zeros(
                [b as i64, HIDDENS as i64],
                (Kind::Double, Device::Cpu),
            )
        }

        fn forward_backward(
            &mut self,
            batch: &Batch,
            state: &mut Tensor,
        ) -> f64 {
            for v in self.p.values_mut() {
                v.zero_grad();
            }
            let (logits, h) = self.forward(batch, state);
            let loss = cross_entropy(&logits, &Self::labels(batch));
            loss.backward();
            *state = h;
            loss.double_value(&[])
        }

        fn loss(&mut self, batch: &Batch, state: &mut Tensor) -> f64 {
            let (logits, h) = tch::no_grad(|| self.forward(batch, state));
            *state = h;
            cross_entropy(&logits, &Self::labels(batch)).double_value(&[])
        }

        fn grad_norm_sq(&self) -> f64 {
            let sq =
                self.p.values().map(|v| grad(v).square().sum(Kind::Double));
            sq.map(|t| t.double_value(&[])).sum()
        }

        fn scale_grads(&mut self, factor: f64) {
            tch::no_grad(|| {
                for v in self.p.values() {
                    let mut g = grad(v);
                    g *= factor;
                }
            });
        }

        fn sgd_step(&mut self, lr: f64) {
            tch::no_grad(|| {
                for v in self.p.values_mut() {
                    let step = grad(v) * lr;
                    *v -= step;
                }
            });
        }

        fn adam_step(&mut self, _: &d2l::train::optim::Adam) {
            panic!("d2l's operations train with SGD only");
        }

        fn step_logits(&mut self, _: usize, _: &mut Tensor) -> Vec<f32> {
            unimplemented!("not needed for agreement")
        }
    }

    fn record_tch_ops() -> Record {
        let (_, state0) = scratch(Variant::ResetBefore);
        let batch = fixture_batch(BATCH, STEPS, VOCAB);
        let mut model = OpsGru::new();
        let h0 = tensor(&state0.h).set_requires_grad(true);
        let mut state = h0.shallow_clone();
        let loss = model.forward_backward(&batch, &mut state);
        let (logits, _) = tch::no_grad(|| model.forward(&batch, &h0.detach()));
        let mut grads: BTreeMap<String, Vec<f64>> = model
            .p
            .iter()
            .map(|(n, v)| (n.clone(), flat(&grad(v))))
            .collect();
        grads.insert("state0.h".to_string(), flat(&h0.grad()));
        let h0 = tensor(&state0.h);
        Record {
            loss,
            logits: flat(&logits),
            final_state: BTreeMap::from([("h".to_string(), flat(&state))]),
            grads,
            sgd_losses: sgd_losses(&mut OpsGru::new(), &batch, || h0.copy()),
        }
    }

    fn scratch_record(variant: Variant) -> Record {
        let (model, state0) = scratch(variant);
        record_scratch(&model, &fixture_batch(BATCH, STEPS, VOCAB), &state0)
    }

    #[test]
    fn nn_gru_matches_scratch_reset_after() {
        let ours = scratch_record(Variant::ResetAfter);
        agree("reset-after vs nn::gru", &ours, &record_nn_gru());
    }

    #[test]
    fn tch_ops_match_scratch_reset_before() {
        let ours = scratch_record(Variant::ResetBefore);
        agree("reset-before vs tch ops", &ours, &record_tch_ops());
    }

    #[test]
    fn committed_fixtures_are_fresh() {
        let live = BTreeMap::from([
            (key(Variant::ResetAfter).to_string(), record_nn_gru()),
            (key(Variant::ResetBefore).to_string(), record_tch_ops()),
        ]);
        check_fixture(&fixture_path(env!("CARGO_MANIFEST_DIR")), &live);
    }
}
