//! A concise model whose redundant biases move like ours: test support for
//! the agreement tests.

use crate::concise::{grad, ConciseRnn, TchRnn};
use crate::data::Batch;
use crate::model::LanguageModel;

/// A concise model whose redundant biases move like ours under SGD: test
/// support for the agreement tests.
///
/// PyTorch gives every gate two biases, `bias_ih` and `bias_hh`, and where
/// only their sum counts (every LSTM gate, the GRU's r and z), SGD moves
/// both by the same step: the sum moves twice as fast as our single bias,
/// and the two models part ways after the first update. Zeroing the
/// gradient of those `bias_hh` entries (zero in weights copied from ours)
/// makes the trainable parameters exactly ours. `masks` lists (variable,
/// start, length).
pub struct SingleBiases<R> {
    pub model: ConciseRnn<R>,
    pub masks: Vec<(String, i64, i64)>,
}

impl<R: TchRnn> LanguageModel for SingleBiases<R> {
    type State = R::State;

    fn begin_state(&self, b: usize) -> R::State {
        self.model.begin_state(b)
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut R::State) -> f64 {
        let loss = self.model.forward_backward(batch, state);
        for (name, start, len) in &self.masks {
            let _ = grad(&self.model.var(name)).narrow(0, *start, *len).zero_();
        }
        loss
    }

    fn loss(&mut self, batch: &Batch, state: &mut R::State) -> f64 {
        self.model.loss(batch, state)
    }

    fn grad_norm_sq(&self) -> f64 {
        self.model.grad_norm_sq()
    }

    fn scale_grads(&mut self, factor: f64) {
        self.model.scale_grads(factor)
    }

    fn sgd_step(&mut self, lr: f64) {
        self.model.sgd_step(lr)
    }

    fn adam_step(&mut self, adam: &crate::train::optim::Adam) {
        self.model.adam_step(adam)
    }

    fn step_logits(&mut self, token: usize, state: &mut R::State) -> Vec<f32> {
        self.model.step_logits(token, state)
    }

    fn set_threads(&mut self, threads: usize) {
        self.model.set_threads(threads)
    }

    fn threads(&self) -> usize {
        self.model.threads()
    }
}
