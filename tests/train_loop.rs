//! The shared training loop, driven through a bigram model.

use d2l::data::{load_splits_time_machine, Sampling, SeqDataLoader, Splits};
use d2l::model::KeepWeights;
use d2l::testkit::bigram::Bigram;
use d2l::train::{evaluate, grad_clipping, train, train_keeping_best};
use d2l::train::{TrainConfig, TrainError};
use d2l::LanguageModel;

fn config(num_epochs: usize, lr: f64) -> TrainConfig {
    TrainConfig::d2l(num_epochs, lr, 7)
}

/// The first `tokens` characters split into training and validation, a
/// loader of batches of `batch` × 10 steps, and an untrained bigram model.
fn setup(
    (tokens, valid): (usize, usize),
    batch: usize,
    sampling: Sampling,
) -> (Splits, SeqDataLoader, Bigram) {
    let s = load_splits_time_machine(Some(tokens), valid).unwrap();
    let loader =
        SeqDataLoader::new(s.train.clone(), batch, 10, sampling).unwrap();
    let model = Bigram::new(s.vocab.len());
    (s, loader, model)
}

#[test]
fn bigram_perplexity_drops_below_vocab_size() {
    let (s, loader, mut model) = setup((5_000, 2_000), 8, Sampling::Random);
    // All-zero logits: every token is equally likely, so the perplexity is
    // exactly the vocabulary size.
    let untrained = evaluate(&mut model, &s.valid, 8, 10).unwrap();
    assert!((untrained - 28.0).abs() < 1e-4, "{untrained}");
    let history =
        train(&mut model, &loader, &s.valid, &s.vocab, &config(20, 5.0))
            .unwrap();
    let last = history.last();
    // A bigram model of English letters reaches about 11-12.
    assert!(last.train_perplexity < 13.0, "{last:?}");
    assert!(last.valid_perplexity < 14.0, "{last:?}");
    assert_eq!(history.epochs.len(), 20);
    // A sample every 10 epochs, greedy, starting with the prefix.
    assert_eq!(history.samples.len(), 2);
    assert!(history.samples[1].1.starts_with("time traveller"));
    let line = history.final_line();
    assert!(
        line.starts_with("perplexity ")
            && line.contains(", validation perplexity ")
            && line.ends_with(" tokens/sec on cpu"),
        "{line}"
    );
}

#[test]
fn sequential_sampling_also_trains() {
    let (s, loader, mut model) = setup((3_000, 1_000), 4, Sampling::Sequential);
    let h = train(&mut model, &loader, &s.valid, &s.vocab, &config(5, 5.0))
        .unwrap();
    assert!(h.last().train_perplexity < h.epochs[0].train_perplexity);
}

#[test]
fn clipping_scales_by_theta_over_norm_only_above_theta() {
    let mut model = Bigram::new(3);
    model.grad_w.assign(&ndarray::arr2(&[
        [3.0, 0.0, 0.0],
        [0.0, 4.0, 0.0],
        [0.0, 0.0, 0.0],
    ]));
    // ‖g‖ = 5 > θ = 1: every gradient is multiplied by 1/5.
    let norm = grad_clipping(&mut model, 1.0);
    assert_eq!(norm, 5.0);
    assert!((model.grad_w[[0, 0]] - 0.6).abs() < 1e-7);
    assert!((model.grad_w[[1, 1]] - 0.8).abs() < 1e-7);
    assert!((model.grad_norm_sq().sqrt() - 1.0).abs() < 1e-6);
    // ‖g‖ = 1 ≤ θ = 2: untouched.
    let before = model.grad_w.clone();
    let norm = grad_clipping(&mut model, 2.0);
    assert!((norm - 1.0).abs() < 1e-6);
    assert_eq!(model.grad_w, before);
}

#[test]
fn a_nan_stops_training_with_a_clear_error() {
    let (s, loader, mut model) = setup((3_000, 1_000), 4, Sampling::Random);
    // Any batch that reads an "e" now has a NaN logit.
    model.w[[s.vocab.index("e"), 1]] = f32::NAN;
    let err = train(&mut model, &loader, &s.valid, &s.vocab, &config(3, 1.0))
        .unwrap_err();
    match &err {
        TrainError::NonFinite { epoch, value, .. } => {
            assert_eq!(*epoch, 1);
            assert!(value.is_nan());
        }
        other => panic!("expected NonFinite, got {other:?}"),
    }
    assert!(err.to_string().contains("--lr"), "{err}");
    // Training stopped before the NaN gradient reached the parameters: the
    // planted NaN is still the only non-finite weight.
    let bad = model.w.iter().filter(|v| !v.is_finite()).count();
    assert_eq!(bad, 1);
}

#[test]
fn best_valid_is_the_epoch_with_the_lowest_validation_perplexity() {
    use d2l::train::{EpochMetrics, History};
    let epoch = |epoch, valid_perplexity| EpochMetrics {
        epoch,
        train_perplexity: 2.0,
        train_bpc: 1.0,
        valid_perplexity,
        valid_bpc: f64::log2(valid_perplexity),
        lr: Some(1.0),
        tokens_per_sec: 1.0,
        train_seconds: 1.0,
    };
    let mut h = History::new(config(3, 1.0), "cpu".into());
    h.epochs = vec![epoch(1, 9.0), epoch(2, 4.5), epoch(3, 6.0)];
    assert_eq!(h.best_valid().epoch, 2);
    let table = d2l::cli::result_table(&h);
    // log₂ 4.5 = 2.170, log₂ 6 = 2.585, log₂ 2 = 1.
    let best = "| best validation perplexity (epoch, bits per character) | \
                4.50 (2, 2.170) |";
    assert!(table.contains(best), "{table}");
    let last = "| validation perplexity (bits per character) | 6.00 (2.585) |";
    assert!(table.contains(last), "{table}");
    assert!(table.contains("| 2.00 (1.000) |"), "{table}");
    assert!(table.contains("| wall time, 3 epochs | n/a |"), "{table}");
}

/// The loop hands over the weights of every epoch that lowers the best
/// validation perplexity so far, and no other; those of the last such
/// epoch score exactly the best perplexity again; and with patience p the
/// run is the same run cut off p epochs after its best.
#[test]
fn best_weights_are_kept_and_patience_stops() {
    // 300 training characters: the bigram table overfits them, so the
    // validation perplexity falls, then rises.
    let (s, loader, mut model) = setup((300, 2_000), 2, Sampling::Random);
    let mut kept = Vec::new();
    let mut best = None;
    let full = train_keeping_best(
        &mut model,
        &loader,
        &s.valid,
        &s.vocab,
        &config(40, 5.0),
        |m| {
            kept.push(m.weights());
            best = Some(m.weights());
        },
    )
    .unwrap();
    let mut running = f64::INFINITY;
    let improving: Vec<usize> = full
        .epochs
        .iter()
        .filter(|e| {
            let better = e.valid_perplexity < running;
            running = running.min(e.valid_perplexity);
            better
        })
        .map(|e| e.epoch)
        .collect();
    assert_eq!(kept.len(), improving.len());
    let best_epoch = full.best_valid().epoch;
    assert!(best_epoch + 5 < 40, "never overfits: best at {best_epoch}");
    model.set_weights(&best.unwrap());
    let again = evaluate(&mut model, &s.valid, 2, 10).unwrap();
    assert_eq!(again, full.best_valid().valid_perplexity);

    let (_, _, mut model) = setup((300, 2_000), 2, Sampling::Random);
    let patient = TrainConfig {
        patience: Some(5),
        ..config(40, 5.0)
    };
    let cut = train(&mut model, &loader, &s.valid, &s.vocab, &patient).unwrap();
    let perplexities = |h: &d2l::train::History| -> Vec<(f64, f64)> {
        let e = h.epochs.iter();
        e.map(|e| (e.train_perplexity, e.valid_perplexity))
            .collect()
    };
    assert_eq!(cut.epochs.len(), best_epoch + 5);
    assert_eq!(
        perplexities(&cut)[..],
        perplexities(&full)[..best_epoch + 5]
    );
}

/// With `lr_decay = Some(0.5)` the learning rate halves after every epoch
/// that does not improve on the best validation perplexity, and only then;
/// the recorded rates say so, and the run differs from one without decay
/// from the first epoch after such an epoch.
#[test]
fn learning_rate_decays_after_epochs_that_do_not_improve() {
    let (s, loader, mut model) = setup((300, 2_000), 2, Sampling::Random);
    let decaying = TrainConfig {
        lr_decay: Some(0.5),
        ..config(12, 5.0)
    };
    let h = train(&mut model, &loader, &s.valid, &s.vocab, &decaying).unwrap();
    let mut lr = 5.0;
    let mut best = f64::INFINITY;
    let mut decayed = 0;
    for e in &h.epochs {
        assert_eq!(e.lr, Some(lr), "epoch {}", e.epoch);
        if e.valid_perplexity < best {
            best = e.valid_perplexity;
        } else {
            lr *= 0.5;
            decayed += 1;
        }
    }
    assert!(decayed >= 2, "the bigram never stalled: {:?}", h.epochs);
    let (_, _, mut model) = setup((300, 2_000), 2, Sampling::Random);
    let plain =
        train(&mut model, &loader, &s.valid, &s.vocab, &config(12, 5.0))
            .unwrap();
    assert!(plain.epochs.iter().all(|e| e.lr == Some(5.0)));
    assert_ne!(plain.last().valid_perplexity, h.last().valid_perplexity);
}
