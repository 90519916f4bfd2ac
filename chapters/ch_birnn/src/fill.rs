//! A task that may look both ways: some characters of a text are replaced
//! by a blank, and the model names each deleted character from the text
//! on both sides of it. A bidirectional model reads both sides; a
//! one-directional model of the same size reads only the left one.

use d2l::model::LanguageModel;
use d2l::model::{Encoder, SeqModel};
use d2l::rnn::Input;
use d2l::train::optim::Adam;
use ndarray::{Axis, NdFloat};
use rand::Rng;
use serde::Serialize;

// ANCHOR: fill_batch
/// A minibatch of the task: `batch` windows of the text, time-major, with
/// some characters replaced by the blank token, and what was there.
#[derive(Debug, Clone, PartialEq)]
pub struct FillBatch {
    pub tokens: Vec<usize>,
    pub batch: usize,
    /// Row `t · batch + i` of the outputs, and the deleted character.
    pub targets: Vec<(usize, usize)>,
}

/// Deletes each character of `windows` (one `steps`-long window per
/// sequence) with probability `rate`, and at least one per window,
/// writing `blank` in its place.
///
/// # Panics
/// If there is no window, or the windows are empty or of different
/// lengths.
pub fn delete_characters<R: Rng>(
    windows: &[&[usize]],
    blank: usize,
    rate: f64,
    rng: &mut R,
) -> FillBatch {
    let (batch, steps) =
        (windows.len(), windows.first().map_or(0, |w| w.len()));
    assert!(
        steps > 0 && windows.iter().all(|w| w.len() == steps),
        "delete_characters needs windows of one length, at least 1"
    );
    let mut tokens = vec![0; batch * steps];
    let mut targets = Vec::new();
    for (i, w) in windows.iter().enumerate() {
        let always = rng.gen_range(0..steps);
        for (t, &c) in w.iter().enumerate() {
            let row = t * batch + i;
            if t == always || rng.gen_bool(rate) {
                tokens[row] = blank;
                targets.push((row, c));
            } else {
                tokens[row] = c;
            }
        }
    }
    targets.sort_unstable();
    FillBatch {
        tokens,
        batch,
        targets,
    }
}
// ANCHOR_END: fill_batch

/// The task's settings.
#[derive(Debug, Clone, Serialize)]
pub struct FillConfig {
    pub steps: usize,
    pub batch: usize,
    /// The probability of deleting a character.
    pub rate: f64,
    /// Minibatches of training.
    pub updates: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Gradient clipping threshold.
    pub clip: f64,
}

/// What a model scores on held-out text.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct FillScore {
    /// exp of the mean cross-entropy at the deleted characters.
    pub perplexity: f64,
    /// The fraction of deleted characters whose most likely completion is
    /// the right one.
    pub accuracy: f64,
    /// How many deleted characters were scored.
    pub deleted: usize,
}

/// `n` random windows of `steps` characters of `corpus`.
///
/// # Panics
/// If the corpus is shorter than one window.
pub fn random_windows<'c, R: Rng>(
    corpus: &'c [usize],
    n: usize,
    steps: usize,
    rng: &mut R,
) -> Vec<&'c [usize]> {
    assert!(corpus.len() >= steps, "a corpus shorter than a window");
    (0..n)
        .map(|_| {
            let start = rng.gen_range(0..=corpus.len() - steps);
            &corpus[start..start + steps]
        })
        .collect()
}

// ANCHOR: train_fill
/// Trains `model` on the task: `config.updates` minibatches of random
/// windows of `corpus`, Adam with clipping. Calls `progress(update,
/// loss)` after each; stops with an error if the loss is not finite.
pub fn train_fill<F: NdFloat, E: Encoder<F>, R: Rng>(
    model: &mut SeqModel<F, E>,
    corpus: &[usize],
    blank: usize,
    config: &FillConfig,
    rng: &mut R,
    mut progress: impl FnMut(usize, f64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let adam = Adam::new(config.lr);
    for update in 1..=config.updates {
        let windows = random_windows(corpus, config.batch, config.steps, rng);
        let b = delete_characters(&windows, blank, config.rate, rng);
        let mut state = model.begin_state(b.batch);
        let (loss, _) = model.forward_backward_at(
            &b.tokens, b.batch, &b.targets, &mut state, true,
        );
        if !loss.is_finite() {
            anyhow::bail!(
                "training diverged at update {update}: the loss is {loss}. \
                 Try a smaller --lr"
            );
        }
        d2l::train::grad_clipping(model, config.clip);
        model.adam_step(&adam);
        progress(update, loss)?;
    }
    Ok(())
}
// ANCHOR_END: train_fill

/// Scores `model` on `corpus`, cut into consecutive windows of `steps`
/// characters, with deletions drawn from `rng`: the same deletions for
/// every model given the same seed. Fails if the text is shorter than
/// one window.
pub fn evaluate_fill<F: NdFloat, E: Encoder<F>, R: Rng>(
    model: &mut SeqModel<F, E>,
    corpus: &[usize],
    blank: usize,
    config: &FillConfig,
    rng: &mut R,
) -> anyhow::Result<FillScore> {
    let windows: Vec<&[usize]> = corpus.chunks_exact(config.steps).collect();
    if windows.is_empty() {
        anyhow::bail!(
            "the held-out text, {} characters, is shorter than one window \
             of --num-steps {}: lower --num-steps",
            corpus.len(),
            config.steps
        );
    }
    let (mut loss_sum, mut right, mut deleted) = (0.0, 0usize, 0usize);
    for group in windows.chunks(config.batch) {
        let b = delete_characters(group, blank, config.rate, rng);
        let mut state = model.begin_state(b.batch);
        let xs: Vec<Input<F>> =
            b.tokens.chunks(b.batch).map(Input::Tokens).collect();
        let (hs, _) = model.encoder.encode(&model.params, &xs, &mut state);
        let rows: Vec<usize> = b.targets.iter().map(|&(r, _)| r).collect();
        let logits = model.output.forward(&hs.select(Axis(0), &rows));
        let labels: Vec<usize> = b.targets.iter().map(|&(_, c)| c).collect();
        let n = labels.len();
        loss_sum +=
            d2l::rnn::softmax_cross_entropy(logits.view(), &labels, None)
                * n as f64;
        for (row, &label) in logits.outer_iter().zip(&labels) {
            let best = (0..row.len())
                .max_by(|&a, &b| {
                    row[a]
                        .to_f64()
                        .unwrap_or(f64::NAN)
                        .total_cmp(&row[b].to_f64().unwrap_or(f64::NAN))
                })
                .expect("a vocabulary");
            right += usize::from(best == label);
        }
        deleted += n;
    }
    Ok(FillScore {
        perplexity: (loss_sum / deleted as f64).exp(),
        accuracy: right as f64 / deleted as f64,
        deleted,
    })
}
