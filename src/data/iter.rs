//! Minibatches of subsequences for language modelling, with d2l's two
//! strategies: random sampling and sequential partitioning.

use super::DataError;
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::Rng;

/// One minibatch of token indices. `y` is `x` shifted one token ahead in
/// the corpus: the label of `x[[i, t]]` is `y[[i, t]]`.
///
/// # Shapes
/// `x`, `y`: `(batch_size, num_steps)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub x: Array2<usize>,
    pub y: Array2<usize>,
}

impl Batch {
    /// The number of subsequences in the batch.
    pub fn batch_size(&self) -> usize {
        self.x.nrows()
    }

    /// The number of time steps per subsequence.
    pub fn num_steps(&self) -> usize {
        self.x.ncols()
    }
}

/// How an epoch cuts the corpus into minibatches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Subsequences at random positions: neighbouring batches are not
    /// neighbours in the text, so the state is reset for every batch.
    Random,
    /// Row `i` of batch `k + 1` continues row `i` of batch `k`, so the
    /// state can be carried from one batch to the next.
    Sequential,
}

impl Sampling {
    /// The fewest tokens that give at least one batch whatever the random
    /// offset turns out to be.
    pub fn min_tokens(self, batch_size: usize, num_steps: usize) -> usize {
        match self {
            // offset ≤ num_steps − 1, and each subsequence needs a label.
            // (Saturating: a size near usize::MAX needs more tokens than
            // any corpus has, and must not wrap around to a small number.)
            Sampling::Random => {
                batch_size.saturating_add(1).saturating_mul(num_steps)
            }
            // offset ≤ num_steps, plus one token for the last label.
            Sampling::Sequential => batch_size
                .saturating_add(1)
                .saturating_mul(num_steps)
                .saturating_add(1),
        }
    }
}

fn check_sizes(
    corpus_len: usize,
    batch_size: usize,
    num_steps: usize,
    sampling: Sampling,
) -> Result<(), DataError> {
    if batch_size == 0 || num_steps == 0 {
        return Err(DataError::ZeroSize {
            batch_size,
            num_steps,
        });
    }
    let needed = sampling.min_tokens(batch_size, num_steps);
    if corpus_len < needed {
        return Err(DataError::CorpusTooShort {
            len: corpus_len,
            batch_size,
            num_steps,
            needed,
            sampling,
        });
    }
    Ok(())
}

fn take(corpus: &[usize], starts: &[usize], num_steps: usize) -> Batch {
    let rows = starts.len();
    let x = Array2::from_shape_fn((rows, num_steps), |(i, t)| {
        corpus[starts[i] + t]
    });
    let y = Array2::from_shape_fn((rows, num_steps), |(i, t)| {
        corpus[starts[i] + t + 1]
    });
    Batch { x, y }
}

// ANCHOR: seq_data_iter_random
/// Random sampling, as d2l's `seq_data_iter_random`: drop a random
/// `0..num_steps` prefix, cut the rest into non-overlapping subsequences of
/// `num_steps`, shuffle them and group them into batches.
pub fn seq_data_iter_random<'a, R: Rng>(
    corpus: &'a [usize],
    batch_size: usize,
    num_steps: usize,
    rng: &mut R,
) -> Result<impl Iterator<Item = Batch> + 'a, DataError> {
    check_sizes(corpus.len(), batch_size, num_steps, Sampling::Random)?;
    let offset = rng.gen_range(0..num_steps);
    // Minus one, because every input token needs the token after it.
    let num_subseqs = (corpus.len() - offset - 1) / num_steps;
    let mut starts: Vec<usize> =
        (0..num_subseqs).map(|k| offset + k * num_steps).collect();
    starts.shuffle(rng);
    let num_batches = num_subseqs / batch_size;
    Ok((0..num_batches).map(move |b| {
        let chunk = &starts[b * batch_size..(b + 1) * batch_size];
        take(corpus, chunk, num_steps)
    }))
}
// ANCHOR_END: seq_data_iter_random

// ANCHOR: seq_data_iter_sequential
/// Sequential partitioning, as d2l's `seq_data_iter_sequential`: drop a
/// random `0..=num_steps` prefix, lay the rest out as `batch_size` long
/// rows, and walk along the rows `num_steps` at a time.
pub fn seq_data_iter_sequential<'a, R: Rng>(
    corpus: &'a [usize],
    batch_size: usize,
    num_steps: usize,
    rng: &mut R,
) -> Result<impl Iterator<Item = Batch> + 'a, DataError> {
    check_sizes(corpus.len(), batch_size, num_steps, Sampling::Sequential)?;
    let offset = rng.gen_range(0..=num_steps);
    Ok(sequential_batches(corpus, batch_size, num_steps, offset))
}

fn sequential_batches(
    corpus: &[usize],
    batch_size: usize,
    num_steps: usize,
    offset: usize,
) -> impl Iterator<Item = Batch> + '_ {
    // Row i is corpus[offset + i * row_len ..][..row_len]; labels are the
    // same rows moved one token ahead.
    let row_len = (corpus.len() - offset - 1) / batch_size;
    let num_batches = row_len / num_steps;
    (0..num_batches).map(move |b| {
        let starts: Vec<usize> = (0..batch_size)
            .map(|i| offset + i * row_len + b * num_steps)
            .collect();
        take(corpus, &starts, num_steps)
    })
}
// ANCHOR_END: seq_data_iter_sequential

/// Sequential partitioning from a fixed offset, with no randomness: how a
/// validation text is read.
pub fn sequential_from(
    corpus: &[usize],
    batch_size: usize,
    num_steps: usize,
    offset: usize,
) -> Result<impl Iterator<Item = Batch> + '_, DataError> {
    let needed = offset + batch_size * num_steps + 1;
    if batch_size == 0 || num_steps == 0 {
        return Err(DataError::ZeroSize {
            batch_size,
            num_steps,
        });
    }
    if corpus.len() < needed {
        return Err(DataError::CorpusTooShort {
            len: corpus.len(),
            batch_size,
            num_steps,
            needed,
            sampling: Sampling::Sequential,
        });
    }
    Ok(sequential_batches(corpus, batch_size, num_steps, offset))
}

/// A corpus with a batch shape and a sampling strategy, checked once, that
/// yields a fresh epoch of batches on demand (d2l's `SeqDataLoader`).
#[derive(Debug, Clone)]
pub struct SeqDataLoader {
    corpus: Vec<usize>,
    batch_size: usize,
    num_steps: usize,
    sampling: Sampling,
}

impl SeqDataLoader {
    /// Fails with the sizes involved when the corpus cannot fill one batch.
    pub fn new(
        corpus: Vec<usize>,
        batch_size: usize,
        num_steps: usize,
        sampling: Sampling,
    ) -> Result<Self, DataError> {
        check_sizes(corpus.len(), batch_size, num_steps, sampling)?;
        Ok(Self {
            corpus,
            batch_size,
            num_steps,
            sampling,
        })
    }

    pub fn sampling(&self) -> Sampling {
        self.sampling
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    pub fn num_steps(&self) -> usize {
        self.num_steps
    }

    pub fn corpus(&self) -> &[usize] {
        &self.corpus
    }

    /// One epoch of batches, with a fresh random offset (and order).
    pub fn epoch<R: Rng>(&self, rng: &mut R) -> Vec<Batch> {
        let (c, b, s) = (&self.corpus[..], self.batch_size, self.num_steps);
        // The sizes were checked in `new`, so these cannot fail.
        match self.sampling {
            Sampling::Random => seq_data_iter_random(c, b, s, rng)
                .expect("sizes checked in SeqDataLoader::new")
                .collect(),
            Sampling::Sequential => seq_data_iter_sequential(c, b, s, rng)
                .expect("sizes checked in SeqDataLoader::new")
                .collect(),
        }
    }
}
