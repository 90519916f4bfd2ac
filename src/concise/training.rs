//! The concise model as a [`LanguageModel`]: libtorch computes the
//! gradients, and the training loop steps them as it does the
//! from-scratch model's.

use super::{cross_entropy, grad, labels, ConciseRnn, TchRnn, TorchState};
use crate::data::Batch;
use crate::model::{KeepWeights, LanguageModel};
use crate::train::optim::Adam;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

impl<R> KeepWeights for ConciseRnn<R> {
    /// Each variable of the store by name, copied.
    type Weights = Vec<(String, Tensor)>;

    fn weights(&self) -> Self::Weights {
        let mut vars: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .map(|(name, t)| (name, t.detach().copy()))
            .collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    fn set_weights(&mut self, weights: &Self::Weights) {
        let vars = self.vs.variables();
        tch::no_grad(|| {
            for (name, saved) in weights {
                let mut var = vars[name].shallow_clone();
                var.copy_(saved);
            }
        });
    }
}

/// A recurrent weight W, dropped in place to W ⊙ M for one minibatch,
/// with its own values and its mask: (W, W's values, M).
type Dropped = Vec<(Tensor, Tensor, Tensor)>;

impl<R> ConciseRnn<R> {
    /// Weight dropping, as the from-scratch model does it: every recurrent
    /// weight (`weight_hh_l·`) of the layer is multiplied in place by a
    /// fresh mask M, of entries 0 with probability p and 1 / (1 − p)
    /// otherwise, so that the layer runs with W ⊙ M; nothing is drawn at
    /// p = 0.
    fn drop_weights(&self) -> Dropped {
        if self.weight_drop == 0.0 {
            return Vec::new();
        }
        let keep = 1.0 - self.weight_drop;
        // By name: the store's map has no fixed order, and the masks must
        // be drawn in the same order on every run.
        let mut vars: Vec<_> = self.vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        tch::no_grad(|| {
            let vars = vars.into_iter();
            let recurrent = vars.filter(|(name, _)| name.contains("weight_hh"));
            recurrent
                .map(|(_, mut w)| {
                    let raw = w.copy();
                    let mask = w.empty_like().bernoulli_float_(keep) / keep;
                    let _ = w.f_mul_(&mask).expect("mask has W's shape");
                    (w, raw, mask)
                })
                .collect()
        })
    }
}

/// Undoes [`ConciseRnn::drop_weights`] after the backward pass: W gets its
/// values back, and its gradient, computed for W ⊙ M, becomes
/// ∂L/∂W = ∂L/∂(W ⊙ M) ⊙ M.
fn restore_weights(dropped: Dropped) {
    tch::no_grad(|| {
        for (mut w, raw, mask) in dropped {
            w.copy_(&raw);
            let mut g = grad(&w);
            let _ = g.f_mul_(&mask).expect("mask has W's shape");
        }
    });
}

impl<R: TchRnn> LanguageModel for ConciseRnn<R> {
    type State = R::State;

    fn begin_state(&self, batch_size: usize) -> R::State {
        self.rnn.zero_state(batch_size as i64)
    }

    fn detach_state(&self, state: &mut R::State) {
        *state = state.detach();
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut R::State) -> f64 {
        for mut v in self.vs.trainable_variables() {
            v.zero_grad();
        }
        let dropped = self.drop_weights();
        let (logits, next) = self.forward_train(&batch.x, state, true);
        let loss = cross_entropy(&logits, &labels(&batch.y, self.vs.device()));
        loss.backward();
        restore_weights(dropped);
        *state = next;
        loss.double_value(&[])
    }

    fn loss(&mut self, batch: &Batch, state: &mut R::State) -> f64 {
        tch::no_grad(|| {
            let (logits, next) = self.forward(&batch.x, state);
            *state = next;
            let y = labels(&batch.y, self.vs.device());
            cross_entropy(&logits, &y).double_value(&[])
        })
    }

    fn grad_norm_sq(&self) -> f64 {
        let vars = self.vs.trainable_variables();
        let sq: Vec<Tensor> = vars
            .iter()
            .map(|v| grad(v).square().sum(Kind::Double))
            .collect();
        Tensor::stack(&sq, 0).sum(Kind::Double).double_value(&[])
    }

    fn scale_grads(&mut self, factor: f64) {
        tch::no_grad(|| {
            for v in self.vs.trainable_variables() {
                let mut g = grad(&v);
                g *= factor;
            }
        });
    }

    fn sgd_step(&mut self, lr: f64) {
        tch::no_grad(|| {
            for mut v in self.vs.trainable_variables() {
                let step = grad(&v) * lr;
                v -= step;
            }
        });
    }

    fn adam_step(&mut self, adam: &Adam) {
        let torch_adam = nn::Adam {
            beta1: adam.beta1,
            beta2: adam.beta2,
            wd: 0.0,
            eps: adam.eps,
            amsgrad: false,
        };
        let optimizer = self.adam.get_or_insert_with(|| {
            torch_adam
                .build(&self.vs, adam.lr)
                .expect("libtorch builds Adam on a model's variables")
        });
        optimizer.set_lr(adam.lr);
        optimizer.step();
    }

    fn step_logits(&mut self, token: usize, state: &mut R::State) -> Vec<f32> {
        tch::no_grad(|| {
            let x = ndarray::Array2::from_elem((1, 1), token);
            let (logits, next) = self.forward(&x, state);
            *state = next;
            let logits = logits
                .view([-1])
                .to_kind(Kind::Float)
                .to_device(Device::Cpu);
            Vec::<f32>::try_from(&logits).expect("logits to Vec")
        })
    }

    fn device(&self) -> String {
        match self.vs.device() {
            Device::Cuda(i) => format!("cuda:{i}"),
            _ => "cpu".to_string(),
        }
    }

    /// libtorch's intra-op threads (for the whole process).
    fn set_threads(&mut self, threads: usize) {
        tch::set_num_threads(threads.max(1) as i32);
    }

    fn threads(&self) -> usize {
        tch::get_num_threads().max(1) as usize
    }
}
