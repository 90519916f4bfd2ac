//! A recurrent language model: tokens → cell → output layer, and its
//! minibatch computation on either path.

use super::{CodePath, KeepWeights, LanguageModel, ThreadSplit};
use crate::data::Batch;
use crate::fast::{with_threads, Sequence};
use crate::rnn::{
    backward_seq, drop_units, drop_weights, dropout_mask, forward_seq, norm_sq,
    scale, sgd, softmax_cross_entropy, weight_masks, zero, Cell, Input, Output,
    Seq, State, Tensors,
};
use crate::train::optim::{adam_step, Adam, Moments};
use crate::train::{train_rng, TrainRng};
use ndarray::{Array2, ArrayD, ArrayView2, NdFloat};
use rand::Rng;

/// A recurrent language model: tokens → cell → output layer, d2l's
/// `RNNModelScratch`.
#[derive(Debug, Clone)]
pub struct RnnModel<F: NdFloat, C: Cell<F>> {
    pub cell: C,
    pub params: C::Params,
    pub output: Output<F>,
    /// Gradients of the last [`LanguageModel::forward_backward`].
    pub cell_grads: C::Params,
    pub output_grads: Output<F>,
    /// Threads that share each minibatch in training; 1 runs the code
    /// exactly as the chapters show it.
    pub threads: usize,
    /// The step-by-step loops the chapters teach, or the cell's fast path.
    pub path: CodePath,
    /// How the threads share a minibatch.
    pub thread_split: ThreadSplit,
    /// Adam's moments, from its first step on.
    pub adam: Option<AdamMoments<F, C::Params>>,
    /// The probability of dropping a unit of the hidden states the output
    /// layer reads, in training; 0 (d2l's) drops none.
    pub dropout: f64,
    /// The probability of dropping each entry of the recurrent weights
    /// (the `w_h·`) for a minibatch, in training; 0 drops none.
    pub weight_drop: f64,
    /// Draws the dropout masks, apart from every other random number, so
    /// that `dropout = 0` changes nothing else.
    pub dropout_rng: TrainRng,
}

/// Adam's moments for the cell's parameters and the output layer.
#[derive(Debug, Clone)]
pub struct AdamMoments<F: NdFloat, P> {
    pub cell: Moments<P>,
    pub output: Moments<Output<F>>,
}

/// The weights of an [`RnnModel`], copied out ([`KeepWeights`]).
#[derive(Debug, Clone)]
pub struct RnnWeights<F: NdFloat, P> {
    pub params: P,
    pub output: Output<F>,
}

impl<F: NdFloat, C: Cell<F>> KeepWeights for RnnModel<F, C> {
    type Weights = RnnWeights<F, C::Params>;

    fn weights(&self) -> Self::Weights {
        RnnWeights {
            params: self.params.clone(),
            output: self.output.clone(),
        }
    }

    fn set_weights(&mut self, weights: &Self::Weights) {
        self.params.clone_from(&weights.params);
        self.output.clone_from(&weights.output);
    }
}

/// The inputs of a batch, one token slice per time step (the columns of
/// `batch.x`), and the labels in the same time-major order as the outputs.
pub fn time_major(batch: &Batch) -> (Vec<Vec<usize>>, Vec<usize>) {
    let steps = batch.x.columns().into_iter().map(|c| c.to_vec()).collect();
    let labels = batch.y.t().iter().copied().collect();
    (steps, labels)
}

impl<F: NdFloat, C: Cell<F>> RnnModel<F, C> {
    /// A cell with fresh parameters and an output layer, with d2l's
    /// initialisation.
    pub fn new<R: Rng>(cell: C, vocab_size: usize, rng: &mut R) -> Self {
        let params = cell.init(rng);
        let output = Output::new(cell.num_hiddens(), vocab_size, rng);
        Self {
            cell_grads: params.zeros_like(),
            output_grads: output.zeros_like(),
            cell,
            params,
            output,
            threads: 1,
            path: CodePath::default(),
            thread_split: ThreadSplit::default(),
            adam: None,
            dropout: 0.0,
            weight_drop: 0.0,
            dropout_rng: train_rng(0),
        }
    }
}

impl<F: NdFloat, C: Sequence<F>> RnnModel<F, C> {
    /// Forward over the batch, loss, and backward through time. Returns the
    /// mean loss and the gradient with respect to the initial state;
    /// parameter gradients are left in `self.cell_grads` and
    /// `self.output_grads`. With `threads` > 1 the batch is split between
    /// threads ([`crate::model::parallel`]).
    pub fn forward_backward_from(
        &mut self,
        batch: &Batch,
        state: &mut C::State,
    ) -> (f64, C::State) {
        // Nothing is drawn for a dropout that is off, so that it changes
        // no other random number.
        let rng = &mut self.dropout_rng;
        let weights = (self.weight_drop > 0.0)
            .then(|| weight_masks(&self.params, self.weight_drop, rng));
        if self.dropout == 0.0 {
            return self.forward_backward_dropped(batch, None, weights, state);
        }
        let (b, p) = (batch.batch_size(), self.dropout);
        let mask = dropout_mask((b, self.cell.num_hiddens()), p, rng);
        // A stack's masks between its layers, for this minibatch only.
        let widths = self.cell.inner_widths();
        let inner = widths.iter().map(|&w| dropout_mask((b, w), p, rng));
        let masked = self.cell.with_masks(inner.collect());
        let plain = std::mem::replace(&mut self.cell, masked);
        let mask = Some(mask.view());
        let out = self.forward_backward_dropped(batch, mask, weights, state);
        self.cell = plain;
        out
    }

    /// Whether the threads run the whole batch together
    /// ([`ThreadSplit::Steps`]): asked for, on the fast path, and every layer
    /// runs through the engine.
    fn shares_steps(&self) -> bool {
        let fast = self.path == CodePath::Fast;
        self.thread_split == ThreadSplit::Steps
            && fast
            && self.cell.shares_steps()
    }

    /// [`RnnModel::forward_backward_masked`] with the recurrent weights
    /// dropped by `weight_masks` (from [`weight_masks`], frozen), if any:
    /// the minibatch runs with W̃ = W ⊙ M, and `cell_grads` receives
    /// ∂L/∂W = ∂L/∂W̃ ⊙ M.
    pub fn forward_backward_dropped(
        &mut self,
        batch: &Batch,
        mask: Option<ArrayView2<'_, F>>,
        weight_masks: Option<Vec<Option<ArrayD<F>>>>,
        state: &mut C::State,
    ) -> (f64, C::State) {
        let Some(weight_masks) = weight_masks else {
            return self.forward_backward_masked(batch, mask, state);
        };
        let mut dropped = self.params.clone();
        drop_weights(&mut dropped, &weight_masks);
        let raw = std::mem::replace(&mut self.params, dropped);
        let out = self.forward_backward_masked(batch, mask, state);
        self.params = raw;
        drop_weights(&mut self.cell_grads, &weight_masks);
        out
    }

    /// [`RnnModel::forward_backward_from`] with a given dropout mask
    /// (`batch × hiddens`, or none), as a gradient check needs it: frozen.
    pub fn forward_backward_masked(
        &mut self,
        batch: &Batch,
        mask: Option<ArrayView2<'_, F>>,
        state: &mut C::State,
    ) -> (f64, C::State) {
        let (steps, threads, path) =
            (self.shares_steps(), self.threads, self.path);
        let minibatch = Minibatch {
            cell: &self.cell,
            params: &self.params,
            output: &self.output,
            batch,
            mask,
        };
        let grads = (&mut self.cell_grads, &mut self.output_grads);
        if steps {
            with_threads(threads, || minibatch.run(path, state, grads))
        } else if threads > 1 && batch.batch_size() > 1 {
            minibatch.run_split(state, grads, (threads, path))
        } else {
            minibatch.run(path, state, grads)
        }
    }

    /// The mean cross-entropy of the batch with dropout mask `mask` on the
    /// hidden states (none in evaluation), with no gradient; advances
    /// `state`.
    pub fn masked_loss(
        &mut self,
        batch: &Batch,
        mask: Option<ArrayView2<'_, F>>,
        state: &mut C::State,
    ) -> f64 {
        let (steps, labels) = time_major(batch);
        let hs = match self.path {
            CodePath::Teaching => {
                let xs: Vec<Input<F>> =
                    steps.iter().map(|s| Input::Tokens(s)).collect();
                forward_seq(&self.cell, &self.params, &xs, state).0
            }
            CodePath::Fast => {
                let tokens = steps.concat();
                let xs = Seq::new(Input::Tokens(&tokens), batch.batch_size());
                // Without the split by steps, evaluation is one thread.
                let threads =
                    if self.shares_steps() { self.threads } else { 1 };
                let (cell, p) = (&self.cell, &self.params);
                with_threads(threads, || cell.seq_forward(p, &xs, state))
            }
        };
        let hs = match mask {
            Some(m) => drop_units(hs, m),
            None => hs,
        };
        softmax_cross_entropy(self.output.forward(&hs).view(), &labels, None)
    }
}

// ANCHOR: minibatch
/// One minibatch's computation: a model made of `cell` (with `params`) and
/// the output layer, the batch it reads, and the dropout mask on the
/// hidden states (`batch × hiddens`, one row per sequence), if any.
pub struct Minibatch<'a, 'm, F: NdFloat, C: Cell<F>> {
    pub cell: &'a C,
    pub params: &'a C::Params,
    pub output: &'a Output<F>,
    pub batch: &'a Batch,
    pub mask: Option<ArrayView2<'m, F>>,
}

/// Where a minibatch's gradients go: the cell's and the output layer's.
pub type Grads<'g, F, C> = (&'g mut <C as Cell<F>>::Params, &'g mut Output<F>);
// ANCHOR_END: minibatch

impl<F: NdFloat, C: Cell<F>> Minibatch<'_, '_, F, C> {
    // ANCHOR: model_forward_backward
    /// Forward over the batch, loss, and backward through time. Returns
    /// the mean loss and the gradient with respect to the initial state,
    /// and leaves the parameter gradients in the two it is given.
    pub fn forward_backward(
        &self,
        state: &mut C::State,
        (cell_grads, output_grads): Grads<'_, F, C>,
    ) -> (f64, C::State) {
        let (cell, params, output) = (self.cell, self.params, self.output);
        let (steps, labels) = time_major(self.batch);
        let xs: Vec<Input<F>> =
            steps.iter().map(|s| Input::Tokens(s)).collect();
        let (hs, caches) = forward_seq(cell, params, &xs, state);
        // Dropout: H̃ = H ⊙ M, one mask row per sequence.
        let hs = match self.mask {
            Some(m) => drop_units(hs, m),
            None => hs,
        };
        let logits = output.forward(&hs); // (steps · batch, vocab)
        let mut d_logits = Array2::zeros(logits.raw_dim());
        let loss = softmax_cross_entropy(
            logits.view(),
            &labels,
            Some(d_logits.view_mut()),
        );
        zero(output_grads);
        zero(cell_grads);
        let dhs = output.backward(&hs, &d_logits, output_grads);
        // ∂L/∂H = ∂L/∂H̃ ⊙ M
        let dhs = match self.mask {
            Some(m) => drop_units(dhs, m),
            None => dhs,
        };
        let (d_state0, _) =
            backward_seq(cell, params, &xs, &caches, dhs.view(), cell_grads);
        (loss, d_state0)
    }
    // ANCHOR_END: model_forward_backward
}

impl<F: NdFloat, C: Sequence<F>> Minibatch<'_, '_, F, C> {
    // ANCHOR: minibatch_run
    /// [`Minibatch::forward_backward`] or its fast path, as `path` says.
    pub fn run(
        &self,
        path: CodePath,
        state: &mut C::State,
        grads: Grads<'_, F, C>,
    ) -> (f64, C::State) {
        match path {
            CodePath::Teaching => self.forward_backward(state, grads),
            CodePath::Fast => self.forward_backward_fast(state, grads),
        }
    }
    // ANCHOR_END: minibatch_run

    // ANCHOR: model_forward_backward_fast
    /// [`Minibatch::forward_backward`] on the fast path: the same results,
    /// but the cell runs the whole sequence at once
    /// ([`Sequence::seq_forward_backward`]), and the output layer and the
    /// loss run in between, as its `head`.
    pub fn forward_backward_fast(
        &self,
        state: &mut C::State,
        (cell_grads, output_grads): Grads<'_, F, C>,
    ) -> (f64, C::State) {
        zero(output_grads);
        zero(cell_grads);
        let tokens: Vec<usize> = self.batch.x.t().iter().copied().collect();
        let labels: Vec<usize> = self.batch.y.t().iter().copied().collect();
        let xs = Seq::new(Input::Tokens(&tokens), self.batch.batch_size());
        let mut loss = 0.0;
        let mut head = |hs: ArrayView2<'_, F>| {
            let hs = match self.mask {
                Some(m) => drop_units(hs.to_owned(), m),
                None => hs.to_owned(),
            };
            let logits = self.output.forward(&hs);
            let mut d_logits = Array2::zeros(logits.raw_dim());
            loss = softmax_cross_entropy(
                logits.view(),
                &labels,
                Some(d_logits.view_mut()),
            );
            let dhs = self.output.backward(&hs, &d_logits, output_grads);
            match self.mask {
                Some(m) => drop_units(dhs, m),
                None => dhs,
            }
        };
        let (d_state0, _) = self.cell.seq_forward_backward(
            self.params,
            &xs,
            state,
            &mut head,
            cell_grads,
        );
        (loss, d_state0)
    }
    // ANCHOR_END: model_forward_backward_fast
}

impl<F: NdFloat, C: Sequence<F>> LanguageModel for RnnModel<F, C> {
    type State = C::State;

    fn begin_state(&self, batch_size: usize) -> C::State {
        self.cell.zero_state(batch_size)
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut C::State) -> f64 {
        self.forward_backward_from(batch, state).0
    }

    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn set_path(&mut self, path: CodePath) {
        self.path = path;
    }

    fn set_thread_split(&mut self, split: ThreadSplit) {
        self.thread_split = split;
    }

    fn path(&self) -> Option<CodePath> {
        Some(self.path)
    }

    fn loss(&mut self, batch: &Batch, state: &mut C::State) -> f64 {
        self.masked_loss(batch, None, state)
    }
    fn grad_norm_sq(&self) -> f64 {
        norm_sq(&self.cell_grads) + norm_sq(&self.output_grads)
    }

    fn scale_grads(&mut self, factor: f64) {
        scale(&mut self.cell_grads, factor);
        scale(&mut self.output_grads, factor);
    }

    fn sgd_step(&mut self, lr: f64) {
        sgd(&mut self.params, &self.cell_grads, lr);
        sgd(&mut self.output, &self.output_grads, lr);
    }

    fn adam_step(&mut self, adam: &Adam) {
        let moments = self.adam.get_or_insert_with(|| AdamMoments {
            cell: Moments::new(&self.params),
            output: Moments::new(&self.output),
        });
        adam_step(&mut self.params, &self.cell_grads, &mut moments.cell, adam);
        let output = &mut moments.output;
        adam_step(&mut self.output, &self.output_grads, output, adam);
    }

    fn step_logits(&mut self, token: usize, state: &mut C::State) -> Vec<f32> {
        let x = Input::Tokens(&[token]);
        let (next, _) = self.cell.step(&self.params, &x, state);
        *state = next;
        let logits = self.output.forward(state.h());
        logits
            .iter()
            .map(|v| v.to_f32().unwrap_or(f32::NAN))
            .collect()
    }
}
