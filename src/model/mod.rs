//! The models the training loop drives: the one trait that the training
//! loop, the sampler and the tests use ([`LanguageModel`]), which the
//! from-scratch models ([`RnnModel`]) and the tch models implement, and
//! the two code paths of a from-scratch model ([`CodePath`]), the second
//! split between threads ([`parallel`]); and a model over whole sequences
//! with the loss where a task puts it ([`SeqModel`]).

pub mod ngram;
pub mod parallel;
pub mod rnn_model;
pub mod seq_model;

pub use rnn_model::{time_major, Grads, Minibatch, RnnModel, RnnWeights};
pub use seq_model::{Encoder, SeqModel, Uni};

use crate::data::Batch;
use crate::train::optim::Adam;

// ANCHOR: language_model
/// A character-level language model: reads a batch of token indices and
/// predicts the next token at every position.
pub trait LanguageModel {
    /// The recurrent state carried from one batch to the next
    /// (`GruState { h }`, `LstmState { h, c }`, ...).
    type State;

    /// The state before any token has been read (zeros), for `batch_size`
    /// sequences.
    fn begin_state(&self, batch_size: usize) -> Self::State;

    /// Cuts the state loose from the computation that produced it, so that
    /// the next backward pass stops at the batch boundary. A from-scratch
    /// model never links batches, so the default does nothing.
    fn detach_state(&self, _state: &mut Self::State) {}

    /// Runs the batch forward from `state`, leaves `state` at the end of
    /// the batch, and stores in the model the gradient of the mean
    /// cross-entropy over all `batch_size × num_steps` predictions.
    /// Returns that mean.
    fn forward_backward(
        &mut self,
        batch: &Batch,
        state: &mut Self::State,
    ) -> f64;

    /// The mean cross-entropy of the batch, with no gradient; advances
    /// `state` like [`LanguageModel::forward_backward`].
    fn loss(&mut self, batch: &Batch, state: &mut Self::State) -> f64;

    /// The squared L2 norm of all gradients together, ‖g‖².
    fn grad_norm_sq(&self) -> f64;

    /// Multiplies every gradient by `factor`.
    fn scale_grads(&mut self, factor: f64);

    /// One step of stochastic gradient descent: θ ← θ − lr · g.
    fn sgd_step(&mut self, lr: f64);

    /// One step of Adam on the stored gradients; the model keeps Adam's
    /// moments from one step to the next.
    fn adam_step(&mut self, adam: &Adam);

    /// Feeds one token to a single sequence (batch size 1) and returns the
    /// logits of the next token, one per vocabulary entry.
    fn step_logits(
        &mut self,
        token: usize,
        state: &mut Self::State,
    ) -> Vec<f32>;

    /// Where the model computes: `cpu` or `cuda:0`.
    fn device(&self) -> String {
        "cpu".to_string()
    }

    /// Asks the model to train with `threads` CPU threads. A model that
    /// cannot use them keeps its own setting.
    fn set_threads(&mut self, _threads: usize) {}

    /// The CPU threads the model trains with.
    fn threads(&self) -> usize {
        1
    }

    /// Asks a from-scratch model to train on `path`; others ignore it.
    fn set_path(&mut self, _path: CodePath) {}

    /// Asks a from-scratch model to share its threads this way; others
    /// ignore it.
    fn set_thread_split(&mut self, _split: ThreadSplit) {}

    /// The from-scratch model's path; `None` for a model that has none.
    fn path(&self) -> Option<CodePath> {
        None
    }
}
// ANCHOR_END: language_model

/// A model whose weights can be copied out and put back: how a run keeps
/// the weights of its best validation epoch while training goes on.
pub trait KeepWeights {
    /// A copy of every trainable weight.
    type Weights;

    /// Copies the weights out.
    fn weights(&self) -> Self::Weights;

    /// Puts back weights that [`KeepWeights::weights`] copied out of this
    /// model.
    fn set_weights(&mut self, weights: &Self::Weights);
}

// ANCHOR: path
/// Which computation trains a from-scratch model. Both compute the same
/// numbers, up to the order of floating-point sums (tests check 10⁻¹² in
/// f64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CodePath {
    /// The step-by-step loops the chapters show: the cell's step and
    /// step_backward once per time step (forward_seq, backward_seq).
    Teaching,
    /// The whole sequence at once (Sequence::seq_forward_backward): fused
    /// gates, and weight gradients summed over all steps in one matrix
    /// product.
    #[default]
    Fast,
}
// ANCHOR_END: path

// ANCHOR: split
/// How a from-scratch model's threads share a minibatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ThreadSplit {
    /// Each thread runs a block of the batch's sequences through the whole
    /// model, and the gradients are summed ([`parallel`]). Faster on the
    /// machines we measured; the sums' order depends on the threads.
    #[default]
    Batch,
    /// The threads run the whole batch together, step by step: each
    /// step's product cut by columns, the cell's arithmetic by rows
    /// ([`crate::fast::team`]). The same numbers on any number of
    /// threads. Fast path only; elsewhere the batch is split.
    Steps,
}
// ANCHOR_END: split

impl ThreadSplit {
    pub fn name(self) -> &'static str {
        match self {
            ThreadSplit::Batch => "batch",
            ThreadSplit::Steps => "steps",
        }
    }
}

impl CodePath {
    pub fn name(self) -> &'static str {
        match self {
            CodePath::Teaching => "teaching",
            CodePath::Fast => "fast",
        }
    }
}
