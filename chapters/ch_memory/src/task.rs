//! The task: recall the first token.

use rand::Rng;

/// The keys are tokens `0..KEYS`; the noise tokens `KEYS..VOCAB`.
pub const KEYS: usize = 4;
/// Noise tokens, which carry nothing about the answer.
pub const NOISE: usize = 4;
/// Every token.
pub const VOCAB: usize = KEYS + NOISE;

// ANCHOR: recall
/// `batch` sequences of `len` tokens, time-major as the models read them
/// (step t is `tokens[t · batch .. (t + 1) · batch]`). Each starts with a
/// key, then `len − 1` noise tokens; after the last one the answer is the
/// key. Guessing is right one time in [`KEYS`].
#[derive(Debug, Clone)]
pub struct Recall {
    pub tokens: Vec<usize>,
    pub keys: Vec<usize>,
    pub batch: usize,
    pub len: usize,
}

impl Recall {
    pub fn draw<R: Rng>(len: usize, batch: usize, rng: &mut R) -> Self {
        assert!(len >= 1 && batch >= 1, "Recall: at least one token and row");
        let keys: Vec<usize> =
            (0..batch).map(|_| rng.gen_range(0..KEYS)).collect();
        let mut tokens = keys.clone();
        for _ in 1..len {
            tokens.extend((0..batch).map(|_| rng.gen_range(KEYS..VOCAB)));
        }
        Self {
            tokens,
            keys,
            batch,
            len,
        }
    }

    /// Where the loss is read: the last step of each sequence, and the key
    /// expected there (rows of the time-major outputs).
    pub fn targets(&self) -> Vec<(usize, usize)> {
        let last = (self.len - 1) * self.batch;
        self.keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (last + i, k))
            .collect()
    }
}
// ANCHOR_END: recall
