//! What a run needs to go on after an interruption: where the training
//! loop stands after an epoch ([`Progress`]), and the random number
//! generator's position, which can be written down and restored
//! ([`TrainRng`], [`RngState`]).

use super::history::History;
use rand_chacha::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

/// The random number generator of training: ChaCha with 12 rounds, the
/// algorithm of rand's `StdRng`, which draws the same numbers from the
/// same seed; named here because its position can be read and restored.
pub type TrainRng = rand_chacha::ChaCha12Rng;

/// A fresh [`TrainRng`] from `seed`, as `StdRng::seed_from_u64` makes it.
pub fn train_rng(seed: u64) -> TrainRng {
    TrainRng::seed_from_u64(seed)
}

/// Where a [`TrainRng`] stands: its seed, stream and how many 32-bit
/// words it has produced. Restoring it draws the same numbers on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// The 32-byte key, in hexadecimal.
    pub seed: String,
    pub stream: u64,
    /// A 68-bit count, in decimal (JSON numbers stop at 2⁵³).
    pub word_pos: String,
}

impl RngState {
    pub fn of(rng: &TrainRng) -> Self {
        let seed = rng.get_seed().iter().map(|b| format!("{b:02x}")).collect();
        Self {
            seed,
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    /// The generator at this position, or `None` if the fields are not
    /// what [`RngState::of`] writes.
    pub fn restore(&self) -> Option<TrainRng> {
        let hex = self.seed.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let mut seed = [0u8; 32];
        for (byte, pair) in seed.iter_mut().zip(hex.chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        let word_pos: u128 = self.word_pos.parse().ok()?;
        if word_pos >= 1 << 68 {
            return None;
        }
        let mut rng = TrainRng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(word_pos);
        Some(rng)
    }
}

// ANCHOR: progress
/// Where a run stands at the end of an epoch: everything the training loop
/// itself carries from one epoch to the next. The model's own state (its
/// weights, the optimiser's moments, its dropout masks' generator) is the
/// model's to save.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The epochs so far and the samples printed.
    pub history: History,
    /// The epoch with the lowest validation perplexity so far, and that
    /// perplexity; (0, ∞) before the first epoch.
    pub best: (usize, f64),
    /// The learning rate of the next epoch (it decays with `lr_decay`).
    pub lr: f64,
    /// Draws the batches and the samples.
    pub rng: TrainRng,
    /// Seconds spent training before this process started: the wall time
    /// of the earlier parts of a resumed run.
    pub earlier_seconds: f64,
}

// ANCHOR_END: progress

impl Progress {
    /// Before the first epoch of a run with `config`, on `device`.
    pub fn start(config: &super::TrainConfig, device: String) -> Self {
        Self {
            history: History::new(config.clone(), device),
            best: (0, f64::INFINITY),
            lr: config.lr,
            rng: train_rng(config.seed),
            earlier_seconds: 0.0,
        }
    }

    /// The last epoch done; 0 before the first.
    pub fn epoch(&self) -> usize {
        self.history.epochs.len()
    }

    /// Whether the last epoch done is the best so far.
    pub fn last_is_best(&self) -> bool {
        self.best.0 == self.epoch() && self.epoch() > 0
    }
}

/// [`Progress`] as the resume file keeps it, in its metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedProgress {
    pub history: History,
    pub best_epoch: usize,
    pub best_perplexity: Option<f64>,
    pub lr: f64,
    pub rng: RngState,
    pub earlier_seconds: f64,
}

impl From<&Progress> for SavedProgress {
    fn from(p: &Progress) -> Self {
        Self {
            history: p.history.clone(),
            best_epoch: p.best.0,
            best_perplexity: p.best.1.is_finite().then_some(p.best.1),
            lr: p.lr,
            rng: RngState::of(&p.rng),
            earlier_seconds: p.earlier_seconds,
        }
    }
}

impl SavedProgress {
    /// The progress, or `None` if the generator's state is damaged or the
    /// best epoch is not one of the history's.
    pub fn restore(self) -> Option<Progress> {
        let rng = self.rng.restore()?;
        let epochs = self.history.epochs.len();
        let best = match self.best_perplexity {
            Some(ppl) if (1..=epochs).contains(&self.best_epoch) => {
                (self.best_epoch, ppl)
            }
            None if self.best_epoch == 0 && epochs == 0 => (0, f64::INFINITY),
            _ => return None,
        };
        Some(Progress {
            history: self.history,
            best,
            lr: self.lr,
            rng,
            earlier_seconds: self.earlier_seconds,
        })
    }
}
