//! A model over whole sequences: tokens → layers → output layer, with the
//! loss at chosen positions. Trained at every position on the next
//! character, it is a language model; trained at some positions only, it
//! learns other tasks on the same text (naming deleted characters,
//! recalling the first token of a long sequence).
//!
//! [`Encoder`] is what the model asks of its layers: one cell, or a stack,
//! run one way ([`Uni`]), or a bidirectional RNN (the `ch_birnn` chapter).

use super::rnn_model::AdamMoments;
use super::{time_major, LanguageModel};
use crate::data::Batch;
use crate::rnn::{backward_seq, forward_seq, norm_sq, scale, sgd};
use crate::rnn::{softmax_cross_entropy, zero, Cell, Input, Output, Tensors};
use crate::train::optim::{adam_step, Adam, Moments};
use ndarray::{Array2, ArrayView2, Axis, NdFloat};
use rand::Rng;

// ANCHOR: encoder
/// Layers that read a whole sequence and give one row of features per
/// token: a bidirectional RNN, or one direction alone.
pub trait Encoder<F: NdFloat>: Clone {
    type Params: Tensors<F> + Send + Sync;
    type State: Tensors<F>;
    type Cache;

    fn init<R: Rng>(&self, rng: &mut R) -> Self::Params;
    /// The width of the features.
    fn width(&self) -> usize;
    fn zero_state(&self, batch: usize) -> Self::State;
    /// Features of every step, `(steps · batch, width)`.
    fn encode(
        &self,
        p: &Self::Params,
        xs: &[Input<'_, F>],
        state: &mut Self::State,
    ) -> (Array2<F>, Self::Cache);
    /// Adds the parameter gradients into `grads`; returns the initial
    /// state's gradient.
    fn encode_backward(
        &self,
        p: &Self::Params,
        xs: &[Input<'_, F>],
        cache: &Self::Cache,
        d_o: ArrayView2<'_, F>,
        grads: &mut Self::Params,
    ) -> Self::State;
}
// ANCHOR_END: encoder

/// One direction alone: any cell (or stack of cells) over the sequence,
/// the forward direction of a [`BiRnn`] without its backward one.
#[derive(Debug, Clone)]
pub struct Uni<C>(pub C);

impl<F: NdFloat, C: Cell<F>> Encoder<F> for Uni<C> {
    type Params = C::Params;
    type State = C::State;
    type Cache = Vec<C::Cache>;

    fn init<R: Rng>(&self, rng: &mut R) -> C::Params {
        self.0.init(rng)
    }
    fn width(&self) -> usize {
        self.0.num_hiddens()
    }
    fn zero_state(&self, batch: usize) -> C::State {
        self.0.zero_state(batch)
    }
    fn encode(
        &self,
        p: &C::Params,
        xs: &[Input<'_, F>],
        state: &mut C::State,
    ) -> (Array2<F>, Vec<C::Cache>) {
        forward_seq(&self.0, p, xs, state)
    }
    fn encode_backward(
        &self,
        p: &C::Params,
        xs: &[Input<'_, F>],
        cache: &Vec<C::Cache>,
        d_o: ArrayView2<'_, F>,
        grads: &mut C::Params,
    ) -> C::State {
        backward_seq(&self.0, p, xs, cache, d_o, grads).0
    }
}

/// Layers `E` and an output layer over their features, trained by SGD or
/// Adam on the positions a batch labels.
#[derive(Debug, Clone)]
pub struct SeqModel<F: NdFloat, E: Encoder<F>> {
    pub encoder: E,
    pub params: E::Params,
    pub output: Output<F>,
    pub grads: E::Params,
    pub output_grads: Output<F>,
    pub adam: Option<AdamMoments<F, E::Params>>,
}

/// The positions of a batch whose labels count in the loss: row `t ·
/// batch + i` of the time-major outputs, and the token expected there.
pub type Targets = [(usize, usize)];

impl<F: NdFloat, E: Encoder<F>> SeqModel<F, E> {
    /// Fresh layers and an output layer to `vocab_size` logits, with d2l's
    /// initialisation.
    pub fn new<R: Rng>(encoder: E, vocab_size: usize, rng: &mut R) -> Self {
        let params = encoder.init(rng);
        let output = Output::new(encoder.width(), vocab_size, rng);
        Self {
            grads: params.zeros_like(),
            output_grads: output.zeros_like(),
            encoder,
            params,
            output,
            adam: None,
        }
    }

    /// The number of parameters: every entry of the layers and of the
    /// output layer.
    pub fn num_params(&self) -> usize {
        let count = |t: Vec<(String, ndarray::ArrayViewD<F>)>| -> usize {
            t.iter().map(|(_, v)| v.len()).sum()
        };
        count(self.params.named()) + count(self.output.named())
    }

    // ANCHOR: forward_backward_at
    /// The sequence `tokens` (time-major, `batch` per step) through the
    /// layers from `state`, and the mean cross-entropy at the `targets`
    /// only. With `backward`, leaves the gradients in `grads` and
    /// `output_grads` and returns the initial state's too.
    pub fn forward_backward_at(
        &mut self,
        tokens: &[usize],
        batch: usize,
        targets: &Targets,
        state: &mut E::State,
        backward: bool,
    ) -> (f64, Option<E::State>) {
        let xs: Vec<Input<F>> =
            tokens.chunks(batch).map(Input::Tokens).collect();
        let (hs, cache) = self.encoder.encode(&self.params, &xs, state);
        let (rows, labels): (Vec<usize>, Vec<usize>) =
            targets.iter().copied().unzip();
        let h = hs.select(Axis(0), &rows);
        let logits = self.output.forward(&h);
        if !backward {
            return (softmax_cross_entropy(logits.view(), &labels, None), None);
        }
        let mut d_logits = Array2::zeros(logits.raw_dim());
        let loss = softmax_cross_entropy(
            logits.view(),
            &labels,
            Some(d_logits.view_mut()),
        );
        zero(&mut self.grads);
        zero(&mut self.output_grads);
        let dh = self.output.backward(&h, &d_logits, &mut self.output_grads);
        // Positions without a target get no gradient from the loss.
        let mut dhs = Array2::zeros(hs.raw_dim());
        for (k, &row) in rows.iter().enumerate() {
            let mut r = dhs.row_mut(row);
            r += &dh.row(k);
        }
        let d_state0 = self.encoder.encode_backward(
            &self.params,
            &xs,
            &cache,
            dhs.view(),
            &mut self.grads,
        );
        (loss, Some(d_state0))
    }
    // ANCHOR_END: forward_backward_at

    /// The language model's loss: every position, on the next token.
    pub fn forward_backward_from(
        &mut self,
        batch: &Batch,
        state: &mut E::State,
        backward: bool,
    ) -> (f64, Option<E::State>) {
        let (steps, labels) = time_major(batch);
        let targets: Vec<(usize, usize)> =
            labels.into_iter().enumerate().collect();
        let tokens = steps.concat();
        let b = batch.batch_size();
        self.forward_backward_at(&tokens, b, &targets, state, backward)
    }
}

impl<F: NdFloat, E: Encoder<F>> LanguageModel for SeqModel<F, E> {
    type State = E::State;

    fn begin_state(&self, batch_size: usize) -> E::State {
        self.encoder.zero_state(batch_size)
    }

    fn forward_backward(&mut self, batch: &Batch, state: &mut E::State) -> f64 {
        self.forward_backward_from(batch, state, true).0
    }

    fn loss(&mut self, batch: &Batch, state: &mut E::State) -> f64 {
        self.forward_backward_from(batch, state, false).0
    }

    fn grad_norm_sq(&self) -> f64 {
        norm_sq(&self.grads) + norm_sq(&self.output_grads)
    }

    fn scale_grads(&mut self, factor: f64) {
        scale(&mut self.grads, factor);
        scale(&mut self.output_grads, factor);
    }

    fn sgd_step(&mut self, lr: f64) {
        sgd(&mut self.params, &self.grads, lr);
        sgd(&mut self.output, &self.output_grads, lr);
    }

    fn adam_step(&mut self, adam: &Adam) {
        let m = self.adam.get_or_insert_with(|| AdamMoments {
            cell: Moments::new(&self.params),
            output: Moments::new(&self.output),
        });
        adam_step(&mut self.params, &self.grads, &mut m.cell, adam);
        adam_step(&mut self.output, &self.output_grads, &mut m.output, adam);
    }

    // ANCHOR: step_logits
    /// One token at a time, as d2l's `predict_ch8` feeds any model: a
    /// sequence of one step, from the state the last call left. A
    /// bidirectional model's backward direction then reads one token, not
    /// the future it was trained to see.
    fn step_logits(&mut self, token: usize, state: &mut E::State) -> Vec<f32> {
        let xs = [Input::Tokens(&[token])];
        let (h, _) = self.encoder.encode(&self.params, &xs, state);
        let logits = self.output.forward(&h);
        logits
            .iter()
            .map(|v| v.to_f32().unwrap_or(f32::NAN))
            .collect()
    }
    // ANCHOR_END: step_logits
}
