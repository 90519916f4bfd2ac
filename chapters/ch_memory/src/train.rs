//! Training on the task: Adam on fresh sequences at every update, the
//! accuracy on held-out sequences every few updates, and the first update
//! at which it reaches the threshold.

use crate::task::{Recall, VOCAB};
use ch_gru::scratch::{Gru, Variant};
use ch_lstm::scratch::Lstm;
use ch_rnn::scratch::Rnn;
use d2l::model::{LanguageModel, SeqModel, Uni};
use d2l::rnn::{Cell, Input};
use d2l::train::optim::Adam;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Which model reads the sequences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Rnn,
    Gru,
    /// An LSTM whose forget gate starts with bias `b_f` (d2l's: 0).
    Lstm {
        forget_bias: f32,
    },
}

impl Kind {
    /// The five the chapter compares.
    pub const ALL: [Kind; 5] = [
        Kind::Rnn,
        Kind::Gru,
        Kind::Lstm { forget_bias: 0.0 },
        Kind::Lstm { forget_bias: 1.0 },
        Kind::Lstm { forget_bias: 3.0 },
    ];

    pub fn name(self) -> String {
        match self {
            Kind::Rnn => "RNN".into(),
            Kind::Gru => "GRU".into(),
            Kind::Lstm { forget_bias } => format!("LSTM, b_f = {forget_bias}"),
        }
    }
}

/// One training run's settings.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    pub kind: Kind,
    /// Tokens per sequence: the key, then `len − 1` noise tokens.
    pub len: usize,
    pub seed: u64,
    pub hiddens: usize,
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Updates at most.
    pub budget: usize,
    /// Updates between two measurements of the accuracy.
    pub every: usize,
}

/// Accuracy that counts as solved.
pub const SOLVED: f64 = 0.9;
/// Held-out sequences the accuracy is measured on.
pub const HELD_OUT: usize = 512;

/// What a run came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The first measured update at which the held-out accuracy reached
    /// [`SOLVED`], if any (training stops there).
    pub solved_at: Option<usize>,
    /// The update whose gradient was not finite, if any (training stops
    /// there).
    pub diverged_at: Option<usize>,
    /// The held-out accuracy at each measurement: (update, accuracy).
    pub curve: Vec<(usize, f64)>,
}

impl Outcome {
    pub fn last_accuracy(&self) -> f64 {
        self.curve.last().map_or(0.0, |&(_, a)| a)
    }
}

/// The fraction of `data` whose key the model names after the last token.
pub fn accuracy<C: Cell<f32>>(
    model: &SeqModel<f32, Uni<C>>,
    data: &Recall,
) -> f64 {
    let xs: Vec<Input<f32>> =
        data.tokens.chunks(data.batch).map(Input::Tokens).collect();
    let mut state = model.encoder.0.zero_state(data.batch);
    let cell = &model.encoder.0;
    let (hs, _) = d2l::rnn::forward_seq(cell, &model.params, &xs, &mut state);
    let last = hs.slice(ndarray::s![(data.len - 1) * data.batch.., ..]);
    let logits = model.output.forward(&last.to_owned());
    let right = logits
        .outer_iter()
        .zip(&data.keys)
        .filter(|(row, &key)| {
            let best =
                row.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |b, (i, &v)| {
                        if v > b.1 {
                            (i, v)
                        } else {
                            b
                        }
                    })
                    .0;
            best == key
        })
        .count();
    right as f64 / data.batch as f64
}

// ANCHOR: train_recall
/// Trains `model` on fresh sequences, one minibatch per update: the loss
/// at the last step only, the gradient clipped to norm 1, Adam.
pub fn train_recall<C: Cell<f32>>(
    model: &mut SeqModel<f32, Uni<C>>,
    s: &Setting,
) -> Outcome {
    // The data's own stream, apart from the weights' (seeded by `s.seed`).
    let mut rng = StdRng::seed_from_u64(data_seed(s.seed));
    let held_out =
        Recall::draw(s.len, HELD_OUT, &mut StdRng::seed_from_u64(!s.seed));
    let adam = Adam::new(s.lr);
    let mut curve = Vec::new();
    for update in 1..=s.budget {
        let data = Recall::draw(s.len, s.batch, &mut rng);
        let mut state = model.encoder.0.zero_state(s.batch);
        let targets = data.targets();
        model.forward_backward_at(
            &data.tokens,
            s.batch,
            &targets,
            &mut state,
            true,
        );
        let norm = model.grad_norm_sq().sqrt();
        if !norm.is_finite() {
            // Diverged: nothing more to learn from this run.
            return Outcome {
                solved_at: None,
                diverged_at: Some(update),
                curve,
            };
        }
        if norm > 1.0 {
            model.scale_grads(1.0 / norm);
        }
        model.adam_step(&adam);
        if update % s.every == 0 || update == s.budget {
            let a = accuracy(model, &held_out);
            curve.push((update, a));
            if a >= SOLVED {
                return Outcome {
                    solved_at: Some(update),
                    diverged_at: None,
                    curve,
                };
            }
        }
    }
    Outcome {
        solved_at: None,
        diverged_at: None,
        curve,
    }
}
// ANCHOR_END: train_recall

/// The seed of the training sequences of a run seeded `seed`: a stream
/// apart from the one that draws the weights.
fn data_seed(seed: u64) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1)
}

/// A fresh model of `kind` for the task, with d2l's initialisation from
/// the setting's seed, handed to `f`.
pub fn with_model<T>(s: &Setting, f: impl Fn(&mut dyn Trainable) -> T) -> T {
    let mut rng = StdRng::seed_from_u64(s.seed);
    match s.kind {
        Kind::Rnn => {
            let cell = Rnn::new(VOCAB, s.hiddens);
            f(&mut SeqModel::<f32, _>::new(Uni(cell), VOCAB, &mut rng))
        }
        Kind::Gru => {
            let cell = Gru::new(VOCAB, s.hiddens, Variant::ResetBefore);
            f(&mut SeqModel::<f32, _>::new(Uni(cell), VOCAB, &mut rng))
        }
        Kind::Lstm { forget_bias } => {
            let cell = Lstm::new(VOCAB, s.hiddens);
            let mut m = SeqModel::<f32, _>::new(Uni(cell), VOCAB, &mut rng);
            m.params.b_f.fill(forget_bias);
            f(&mut m)
        }
    }
}

/// What the chapter does with any of the models: train it, and read the
/// gradient that reaches each hidden state.
pub trait Trainable {
    fn train(&mut self, s: &Setting) -> Outcome;
    fn state_grad_norms(&self, data: &Recall) -> Vec<f64>;
}

impl<C: Cell<f32>> Trainable for SeqModel<f32, Uni<C>> {
    fn train(&mut self, s: &Setting) -> Outcome {
        train_recall(self, s)
    }

    fn state_grad_norms(&self, data: &Recall) -> Vec<f64> {
        crate::grads::state_grad_norms(
            &self.encoder.0,
            &self.params,
            &self.output,
            data,
        )
    }
}

/// Trains a fresh model for `s`.
pub fn run(s: &Setting) -> Outcome {
    with_model(s, |m| m.train(s))
}
