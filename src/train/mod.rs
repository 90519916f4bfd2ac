//! The training loop (d2l's `train_ch8`), shared by every model through
//! [`LanguageModel`], and text generation from a trained model
//! ([`generate`]).

pub mod beam;
pub mod generate;
pub mod history;
pub mod optim;
pub mod resume;

pub use history::{EpochMetrics, History, TestScore, TrainConfig};
pub use resume::{train_rng, Progress, TrainRng};

use crate::data::{sequential_from, DataError, Sampling, SeqDataLoader, Vocab};
use crate::model::LanguageModel;
use generate::{predict, Decoding};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use optim::{Adam, Optimizer};
use std::io::IsTerminal;
use std::time::{Duration, Instant};
use thiserror::Error;

/// The prefix whose continuation is printed while training, as in d2l.
pub const PREFIX: &str = "time traveller";

/// How many epochs pass between two printed predictions, as in d2l.
pub const PREDICT_EVERY: usize = 10;

/// How many tokens a printed prediction adds to the prefix, as in d2l.
pub const NUM_PREDS: usize = 50;

/// A training perplexity above `DIVERGED` × the vocabulary size means the
/// model has diverged: it does far worse than guessing uniformly, which
/// scores the vocabulary size. No run of the book's settings comes near:
/// the first epoch, the worst, scores about 25 on 28 tokens.
pub const DIVERGED: f64 = 2.0;

/// Why training stopped early.
#[derive(Debug, Error)]
pub enum TrainError {
    #[error(
        "training diverged at epoch {epoch}: the {what} is {value}. Try a \
         smaller --lr or --clip"
    )]
    NonFinite {
        epoch: usize,
        /// What was measured, e.g. `loss of batch 3`.
        what: String,
        value: f64,
    },
    #[error(
        "training diverged at epoch {epoch}: the training perplexity is \
         {perplexity:.4e}, more than twice the vocabulary size of \
         {vocab_size} that guessing uniformly scores. Try a \
         smaller --lr or --clip"
    )]
    Diverged {
        epoch: usize,
        perplexity: f64,
        vocab_size: usize,
    },
    #[error("interrupted in epoch {epoch}")]
    Interrupted { epoch: usize },
    /// Ctrl-C in a run that counts something else than epochs.
    #[error("interrupted at {at}")]
    InterruptedAt { at: String },
    #[error(transparent)]
    Data(#[from] DataError),
}

// ANCHOR: grad_clipping
/// d2l's gradient clipping: when the global norm ‖g‖ of all gradients
/// together exceeds θ, every gradient is scaled by θ / ‖g‖, so the step
/// keeps its direction and its length becomes θ. Returns ‖g‖ before
/// clipping.
pub fn grad_clipping<M: LanguageModel + ?Sized>(
    model: &mut M,
    theta: f64,
) -> f64 {
    let norm = model.grad_norm_sq().sqrt();
    if norm > theta {
        model.scale_grads(theta / norm);
    }
    norm
}
// ANCHOR_END: grad_clipping

// ANCHOR: train_epoch
/// One pass over the training batches. Returns (perplexity, tokens/s,
/// seconds).
///
/// Perplexity is exp(mean cross-entropy per token): the effective number of
/// tokens the model hesitates between.
pub fn train_epoch<M: LanguageModel>(
    model: &mut M,
    loader: &SeqDataLoader,
    config: &TrainConfig,
    epoch: usize,
    rng: &mut TrainRng,
) -> Result<(f64, f64, f64), TrainError> {
    let start = Instant::now();
    let (mut loss_sum, mut tokens) = (0.0, 0usize);
    let mut state: Option<M::State> = None;
    for (i, batch) in loader.epoch(rng).iter().enumerate() {
        if crate::io::console::interrupted() {
            return Err(TrainError::Interrupted { epoch });
        }
        let state = match (&mut state, loader.sampling()) {
            // Random batches do not continue each other: start afresh.
            (Some(s), Sampling::Sequential) => {
                model.detach_state(s);
                s
            }
            (s, _) => s.insert(model.begin_state(batch.batch_size())),
        };
        let loss = model.forward_backward(batch, state);
        let grad_norm = grad_clipping(model, config.clip);
        for (what, value) in [("loss", loss), ("gradient norm", grad_norm)] {
            if !value.is_finite() {
                return Err(TrainError::NonFinite {
                    epoch,
                    what: format!("{what} of batch {i}"),
                    value,
                });
            }
        }
        match config.optimizer {
            Optimizer::Sgd => model.sgd_step(config.lr),
            Optimizer::Adam => model.adam_step(&Adam::new(config.lr)),
        }
        let n = batch.x.len();
        loss_sum += loss * n as f64;
        tokens += n;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((
        (loss_sum / tokens as f64).exp(),
        tokens as f64 / secs.max(1e-9),
        secs,
    ))
}
// ANCHOR_END: train_epoch

/// The perplexity of `model` on a held-out text, read sequentially from its
/// start with the state carried across batches. Uses `batch_size`
/// sequences, or fewer when the text is too short for that many.
pub fn evaluate<M: LanguageModel>(
    model: &mut M,
    corpus: &[usize],
    batch_size: usize,
    num_steps: usize,
) -> Result<f64, DataError> {
    let fits = corpus.len().saturating_sub(1) / num_steps.max(1);
    let batch_size = batch_size.min(fits).max(1);
    let mut state = model.begin_state(batch_size);
    let (mut loss_sum, mut tokens) = (0.0, 0usize);
    for batch in sequential_from(corpus, batch_size, num_steps, 0)? {
        let n = batch.x.len();
        loss_sum += model.loss(&batch, &mut state) * n as f64;
        tokens += n;
    }
    Ok((loss_sum / tokens as f64).exp())
}

fn progress_bar(num_epochs: usize, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(
        Some(num_epochs as u64),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} epoch {pos}/{len} [{elapsed_precise} < {eta}] {msg}",
        )
        .expect("valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

// ANCHOR: train
/// Trains `model` with SGD and gradient clipping, like d2l's `train_ch8`,
/// and measures training and validation perplexity after every epoch.
/// Every [`PREDICT_EVERY`] epochs it prints the greedy continuation of
/// [`PREFIX`], unless `config.quiet`.
///
/// Stops with [`TrainError::NonFinite`] as soon as a loss or a gradient
/// norm is NaN or infinite, before the parameters are touched, and with
/// [`TrainError::Diverged`] when an epoch's training perplexity is more
/// than [`DIVERGED`] times the vocabulary size. Printing never stops it.
pub fn train<M: LanguageModel>(
    model: &mut M,
    loader: &SeqDataLoader,
    valid: &[usize],
    vocab: &Vocab,
    config: &TrainConfig,
) -> Result<History, TrainError> {
    train_keeping_best(model, loader, valid, vocab, config, |_| {})
}

/// [`train`], calling `on_best(model)` after every epoch whose validation
/// perplexity is the lowest so far, so that the caller can keep those
/// weights; and, with `config.patience = Some(p)`, stopping early once
/// `p` epochs in a row have not improved on it.
pub fn train_keeping_best<M: LanguageModel>(
    model: &mut M,
    loader: &SeqDataLoader,
    valid: &[usize],
    vocab: &Vocab,
    config: &TrainConfig,
    mut on_best: impl FnMut(&M),
) -> Result<History, TrainError> {
    let start = Progress::start(config, model.device());
    let on_epoch = |m: &M, p: &Progress| {
        if p.last_is_best() {
            on_best(m);
        }
    };
    train_from(model, loader, valid, vocab, config, start, on_epoch)
}

/// The training loop from `progress` on: a fresh start
/// ([`Progress::start`]) or where an interrupted run stopped. Calls
/// `on_epoch(model, progress)` at the end of every epoch, where a caller
/// keeps the best weights or saves the run's state.
pub fn train_from<M: LanguageModel>(
    model: &mut M,
    loader: &SeqDataLoader,
    valid: &[usize],
    vocab: &Vocab,
    config: &TrainConfig,
    mut progress: Progress,
    mut on_epoch: impl FnMut(&M, &Progress),
) -> Result<History, TrainError> {
    let (batch_size, num_steps) = (loader.batch_size(), loader.num_steps());
    let bar = progress_bar(config.num_epochs, config.quiet);
    bar.set_position(progress.epoch() as u64);
    // Its lr decays with config.lr_decay.
    let mut config = config.clone();
    // A resumed run that had already stopped early stays stopped.
    let (done, best) = (progress.epoch(), progress.best.0);
    if done > 0 && config.patience.is_some_and(|p| done - best >= p) {
        return Ok(progress.history);
    }
    for epoch in progress.epoch() + 1..=config.num_epochs {
        config.lr = progress.lr;
        let rng = &mut progress.rng;
        let (train_ppl, speed, secs) =
            train_epoch(model, loader, &config, epoch, rng)?;
        let valid_ppl = evaluate(model, valid, batch_size, num_steps)?;
        // A finite loss above ~709 nats per token still overflows exp: the
        // model has diverged as surely as with a NaN.
        for (what, value) in [
            ("training perplexity", train_ppl),
            ("validation perplexity", valid_ppl),
        ] {
            if !value.is_finite() {
                let what = what.to_string();
                return Err(TrainError::NonFinite { epoch, what, value });
            }
        }
        let vocab_size = vocab.len();
        if train_ppl > DIVERGED * vocab_size as f64 {
            let perplexity = train_ppl;
            return Err(TrainError::Diverged {
                epoch,
                perplexity,
                vocab_size,
            });
        }
        progress.history.epochs.push(EpochMetrics {
            epoch,
            train_perplexity: train_ppl,
            train_bpc: train_ppl.log2(),
            valid_perplexity: valid_ppl,
            valid_bpc: valid_ppl.log2(),
            lr: Some(config.lr),
            tokens_per_sec: speed,
            train_seconds: secs,
        });
        if valid_ppl < progress.best.1 {
            progress.best = (epoch, valid_ppl);
        } else if let Some(decay) = config.lr_decay {
            progress.lr *= decay;
        }
        bar.set_message(format!(
            "perplexity {train_ppl:.2}, validation {valid_ppl:.2}, \
             {speed:.0} tokens/s"
        ));
        bar.inc(1);
        let best = progress.best.0;
        let patience_out = config.patience.is_some_and(|p| epoch - best >= p);
        let last = epoch == config.num_epochs || patience_out;
        if epoch % PREDICT_EVERY == 0 || last {
            let text = predict(
                model,
                vocab,
                PREFIX,
                NUM_PREDS,
                Decoding::Greedy,
                &mut progress.rng,
            )
            .expect("PREFIX is a valid prefix")
            .text;
            if !config.quiet {
                let line = format!("epoch {epoch:>4}: {text}\n");
                bar.suspend(|| crate::io::console::progress(&line));
            }
            progress.history.samples.push((epoch, text));
        }
        on_epoch(model, &progress);
        if patience_out {
            if !config.quiet {
                let line = format!(
                    "stopped early at epoch {epoch}: no better validation \
                     perplexity since epoch {best}\n"
                );
                bar.suspend(|| crate::io::console::progress(&line));
            }
            break;
        }
    }
    bar.finish_and_clear();
    Ok(progress.history)
}
// ANCHOR_END: train
