//! What a run records: its settings ([`TrainConfig`]), every epoch's
//! metrics ([`EpochMetrics`]) and the whole run ([`History`]), written as
//! `metrics.json`.

use super::optim::Optimizer;
use crate::data::SplitOffsets;
use serde::{Deserialize, Serialize};

/// The hyper-parameters of one training run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainConfig {
    pub num_epochs: usize,
    pub lr: f64,
    /// The clipping threshold θ.
    pub clip: f64,
    /// Seeds the batch offsets and order (the model has its own seed).
    pub seed: u64,
    /// No progress bar and no predictions while training.
    pub quiet: bool,
    /// The probability of dropping a unit of the hidden states the output
    /// layer reads, in training (the model applies it; 0 in files written
    /// before it was recorded).
    #[serde(default)]
    pub dropout: f64,
    /// The probability of dropping an entry of the recurrent weights for a
    /// minibatch, in training (0 in files written before it was recorded).
    #[serde(default)]
    pub weight_drop: f64,
    /// The update rule; SGD (d2l's) in files written before it was
    /// recorded.
    #[serde(default)]
    pub optimizer: Optimizer,
    /// Learning-rate decay: after an epoch that does not lower the best
    /// validation perplexity, the learning rate is multiplied by this
    /// (`None`: it stays, as in d2l).
    #[serde(default)]
    pub lr_decay: Option<f64>,
    /// Early stopping: stop after this many epochs without a better
    /// validation perplexity (`None`: train every epoch, as d2l does).
    #[serde(default)]
    pub patience: Option<usize>,
}

impl TrainConfig {
    /// d2l's training loop: `num_epochs` of SGD at `lr`, clipping at 1, no
    /// dropout, no decay, no early stopping, quiet, batches seeded by
    /// `seed`. Change a field to depart from it.
    pub fn d2l(num_epochs: usize, lr: f64, seed: u64) -> Self {
        Self {
            num_epochs,
            lr,
            clip: 1.0,
            seed,
            quiet: true,
            dropout: 0.0,
            weight_drop: 0.0,
            optimizer: Optimizer::default(),
            lr_decay: None,
            patience: None,
        }
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub train_perplexity: f64,
    /// Bits per character, log₂ of the perplexity: the average number of
    /// bits the model needs to encode each next character.
    #[serde(default)]
    pub train_bpc: f64,
    pub valid_perplexity: f64,
    #[serde(default)]
    pub valid_bpc: f64,
    /// The learning rate this epoch trained with (absent in files written
    /// before it was recorded).
    #[serde(default)]
    pub lr: Option<f64>,
    /// Training tokens per second of training time (validation excluded).
    pub tokens_per_sec: f64,
    /// Seconds spent on the training batches of this epoch.
    pub train_seconds: f64,
}

/// The result of a training run, written as the metrics JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct History {
    pub config: TrainConfig,
    pub device: String,
    pub epochs: Vec<EpochMetrics>,
    /// Greedy continuations of [`PREFIX`], keyed by epoch.
    pub samples: Vec<(usize, String)>,
    /// Seconds from the start of training to its end, validation included
    /// (set by the CLI; absent in files written before it was recorded).
    #[serde(default)]
    pub wall_seconds: Option<f64>,
    /// The process's peak resident memory in MB, where Linux reports it.
    #[serde(default)]
    pub peak_rss_mb: Option<f64>,
    /// The CPU threads the model trained with.
    #[serde(default)]
    pub threads: Option<usize>,
    /// The from-scratch model's path, `teaching` or `fast` (absent for the
    /// concise model, and in files written before it was recorded).
    #[serde(default)]
    pub path: Option<String>,
    /// The command line that ran, to repeat the run (set by the CLI).
    #[serde(default)]
    pub command: Vec<String>,
    /// Every setting of the run by name: the flags, the model's own
    /// (variant, layers, ...) and what they came to (set by the CLI).
    #[serde(default)]
    pub settings: std::collections::BTreeMap<String, String>,
    /// Where the training, validation and test text lie in the corpus
    /// (set by the CLI).
    #[serde(default)]
    pub split: Option<SplitOffsets>,
    /// The test text's perplexity under the weights of the best
    /// validation epoch, scored once after training; `None` for a split
    /// with no test part.
    #[serde(default)]
    pub test: Option<TestScore>,
}

/// The one score of the test text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TestScore {
    /// The epoch whose weights were scored: the best validation epoch.
    pub epoch: usize,
    pub perplexity: f64,
    pub bpc: f64,
}

impl History {
    /// The record of a run that has not trained yet: no epochs, and none
    /// of what the command line fills in after training.
    pub fn new(config: TrainConfig, device: String) -> Self {
        Self {
            config,
            device,
            epochs: Vec::new(),
            samples: Vec::new(),
            wall_seconds: None,
            peak_rss_mb: None,
            threads: None,
            path: None,
            command: Vec::new(),
            settings: Default::default(),
            split: None,
            test: None,
        }
    }

    /// The last epoch's metrics.
    ///
    /// # Panics
    /// If no epoch ran.
    pub fn last(&self) -> &EpochMetrics {
        self.epochs.last().expect("History::last: no epoch ran")
    }

    /// The epoch with the lowest validation perplexity: where early
    /// stopping would have stopped.
    ///
    /// # Panics
    /// If no epoch ran.
    pub fn best_valid(&self) -> &EpochMetrics {
        self.epochs
            .iter()
            .min_by(|a, b| a.valid_perplexity.total_cmp(&b.valid_perplexity))
            .expect("History::best_valid: no epoch ran")
    }

    /// Training tokens per second over the whole run.
    pub fn tokens_per_sec(&self) -> f64 {
        let secs: f64 = self.epochs.iter().map(|e| e.train_seconds).sum();
        let tokens: f64 = self
            .epochs
            .iter()
            .map(|e| e.tokens_per_sec * e.train_seconds)
            .sum();
        tokens / secs.max(f64::MIN_POSITIVE)
    }

    /// The closing line, e.g.
    /// `perplexity 1.05, validation perplexity 4.20, 51234 tokens/sec on cpu`.
    pub fn final_line(&self) -> String {
        let last = self.last();
        format!(
            "perplexity {:.2}, validation perplexity {:.2}, {:.0} tokens/sec \
             on {}",
            last.train_perplexity,
            last.valid_perplexity,
            self.tokens_per_sec(),
            self.device
        )
    }
}
