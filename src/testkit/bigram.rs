//! A bigram model: the next token depends only on the current one, through
//! a table of logits. It has no state, which makes it the simplest
//! [`LanguageModel`] and a baseline the recurrent models must beat.

use crate::data::Batch;
use crate::model::{KeepWeights, LanguageModel};
use crate::rnn::loss::softmax_cross_entropy;
use ndarray::{Array2, Axis};

/// `w[[a, b]]` is the logit of token `b` following token `a`.
#[derive(Debug, Clone)]
pub struct Bigram {
    pub w: Array2<f32>,
    pub grad_w: Array2<f32>,
}

impl Bigram {
    /// A bigram model whose logits are all zero: perplexity = vocab size.
    pub fn new(vocab_size: usize) -> Self {
        Self {
            w: Array2::zeros((vocab_size, vocab_size)),
            grad_w: Array2::zeros((vocab_size, vocab_size)),
        }
    }

    fn run(&mut self, batch: &Batch, with_grad: bool) -> f64 {
        let inputs: Vec<usize> = batch.x.iter().copied().collect();
        let labels: Vec<usize> = batch.y.iter().copied().collect();
        let logits = self.w.select(Axis(0), &inputs); // (n, vocab)
        if !with_grad {
            return softmax_cross_entropy(logits.view(), &labels, None);
        }
        let mut dlogits = Array2::zeros(logits.dim());
        let loss = softmax_cross_entropy(
            logits.view(),
            &labels,
            Some(dlogits.view_mut()),
        );
        self.grad_w.fill(0.0);
        for (&a, d) in inputs.iter().zip(dlogits.outer_iter()) {
            let mut g = self.grad_w.row_mut(a);
            g += &d;
        }
        loss
    }
}

impl KeepWeights for Bigram {
    type Weights = Array2<f32>;

    fn weights(&self) -> Array2<f32> {
        self.w.clone()
    }

    fn set_weights(&mut self, weights: &Array2<f32>) {
        self.w.assign(weights);
    }
}

impl LanguageModel for Bigram {
    type State = ();

    fn begin_state(&self, _batch_size: usize) {}

    fn forward_backward(&mut self, batch: &Batch, _state: &mut ()) -> f64 {
        self.run(batch, true)
    }

    fn loss(&mut self, batch: &Batch, _state: &mut ()) -> f64 {
        self.run(batch, false)
    }

    fn grad_norm_sq(&self) -> f64 {
        self.grad_w.iter().map(|&g| (g as f64).powi(2)).sum()
    }

    fn scale_grads(&mut self, factor: f64) {
        self.grad_w *= factor as f32;
    }

    fn sgd_step(&mut self, lr: f64) {
        self.w.scaled_add(-lr as f32, &self.grad_w);
    }

    /// The bigram trains the loop's tests, all with SGD.
    fn adam_step(&mut self, _: &crate::train::optim::Adam) {
        panic!("the bigram test model trains with SGD only");
    }

    fn step_logits(&mut self, token: usize, _state: &mut ()) -> Vec<f32> {
        self.w.row(token).to_vec()
    }
}
