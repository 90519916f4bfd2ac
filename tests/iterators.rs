//! Properties of the two minibatch iterators, on a corpus whose token at
//! position p is p itself, so every value tells where it came from.

use d2l::data::{
    seq_data_iter_random, seq_data_iter_sequential, sequential_from, Batch,
    DataError, Sampling, SeqDataLoader,
};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::collections::HashSet;

fn positions(len: usize) -> Vec<usize> {
    (0..len).collect()
}

fn check_shape_and_shift(batch: &Batch, b: usize, s: usize) {
    assert_eq!(batch.x.dim(), (b, s));
    assert_eq!(batch.y.dim(), (b, s));
    for (x, y) in batch.x.iter().zip(batch.y.iter()) {
        assert_eq!(*y, x + 1, "the label is the next token");
    }
    // Within a row, positions are consecutive.
    for row in batch.x.outer_iter() {
        for t in 1..s {
            assert_eq!(row[t], row[t - 1] + 1);
        }
    }
}

fn shapes() -> impl Strategy<Value = (usize, usize, usize, u64)> {
    (1usize..8, 1usize..12, 0usize..400, any::<u64>()).prop_map(
        |(b, s, extra, seed)| {
            (b, s, Sampling::Sequential.min_tokens(b, s) + extra, seed)
        },
    )
}

proptest! {
    #[test]
    fn random_batches_are_shifted_and_shaped((b, s, len, seed) in shapes()) {
        let corpus = positions(len);
        let mut rng = StdRng::seed_from_u64(seed);
        let batches: Vec<Batch> =
            seq_data_iter_random(&corpus, b, s, &mut rng).unwrap().collect();
        prop_assert!(!batches.is_empty());
        for batch in &batches {
            check_shape_and_shift(batch, b, s);
        }
    }

    #[test]
    fn random_batches_do_not_overlap_within_an_epoch(
        (b, s, len, seed) in shapes()
    ) {
        let corpus = positions(len);
        let mut rng = StdRng::seed_from_u64(seed);
        let mut seen = HashSet::new();
        for batch in seq_data_iter_random(&corpus, b, s, &mut rng).unwrap() {
            for &p in batch.x.iter() {
                prop_assert!(seen.insert(p), "position {} read twice", p);
            }
        }
        // Left unread: the random offset (< s), a tail shorter than a
        // subsequence (<= s) and fewer than b leftover subsequences.
        prop_assert!(seen.len() + (b + 2) * s >= len, "too little coverage");
    }

    #[test]
    fn sequential_rows_continue_across_batches(
        (b, s, len, seed) in shapes()
    ) {
        let corpus = positions(len);
        let mut rng = StdRng::seed_from_u64(seed);
        let batches: Vec<Batch> =
            seq_data_iter_sequential(&corpus, b, s, &mut rng)
                .unwrap()
                .collect();
        prop_assert!(!batches.is_empty());
        for batch in &batches {
            check_shape_and_shift(batch, b, s);
        }
        for pair in batches.windows(2) {
            for i in 0..b {
                prop_assert_eq!(pair[1].x[[i, 0]], pair[0].x[[i, s - 1]] + 1);
            }
        }
        // Rows never overlap: all positions are distinct.
        let all: Vec<usize> =
            batches.iter().flat_map(|bt| bt.x.iter().copied()).collect();
        let distinct: HashSet<usize> = all.iter().copied().collect();
        prop_assert_eq!(distinct.len(), all.len());
    }

    #[test]
    fn a_seed_reproduces_its_batches((b, s, len, seed) in shapes()) {
        let corpus = positions(len);
        for sampling in [Sampling::Random, Sampling::Sequential] {
            let loader =
                SeqDataLoader::new(corpus.clone(), b, s, sampling).unwrap();
            let first = loader.epoch(&mut StdRng::seed_from_u64(seed));
            let again = loader.epoch(&mut StdRng::seed_from_u64(seed));
            prop_assert_eq!(first, again);
        }
    }

    #[test]
    fn min_tokens_is_exactly_enough(
        b in 1usize..8, s in 1usize..12, seed in any::<u64>()
    ) {
        for sampling in [Sampling::Random, Sampling::Sequential] {
            let need = sampling.min_tokens(b, s);
            let loader =
                SeqDataLoader::new(positions(need), b, s, sampling).unwrap();
            for k in 0..4 {
                let mut rng = StdRng::seed_from_u64(seed.wrapping_add(k));
                prop_assert!(!loader.epoch(&mut rng).is_empty());
            }
            let short = SeqDataLoader::new(positions(need - 1), b, s, sampling);
            let is_too_short =
                matches!(short, Err(DataError::CorpusTooShort { .. }));
            prop_assert!(is_too_short);
        }
    }
}

#[test]
fn different_seeds_give_different_random_orders() {
    let loader =
        SeqDataLoader::new(positions(2000), 4, 5, Sampling::Random).unwrap();
    let a = loader.epoch(&mut StdRng::seed_from_u64(1));
    let b = loader.epoch(&mut StdRng::seed_from_u64(2));
    assert_ne!(a, b);
}

#[test]
fn too_short_corpus_error_states_the_sizes() {
    let err = SeqDataLoader::new(positions(100), 32, 35, Sampling::Sequential)
        .unwrap_err();
    let msg = err.to_string();
    for part in ["100 tokens", "32", "35", "1156"] {
        assert!(msg.contains(part), "`{part}` missing from: {msg}");
    }
}

#[test]
fn zero_sizes_are_an_error() {
    for (b, s) in [(0, 5), (5, 0)] {
        let err = SeqDataLoader::new(positions(100), b, s, Sampling::Random)
            .unwrap_err();
        assert!(matches!(err, DataError::ZeroSize { .. }), "{err:?}");
    }
}

#[test]
fn sequential_from_offset_zero_reads_from_the_start() {
    let corpus = positions(101);
    let batches: Vec<Batch> =
        sequential_from(&corpus, 2, 10, 0).unwrap().collect();
    // Rows of 50 tokens: 5 batches of 10 steps.
    assert_eq!(batches.len(), 5);
    assert_eq!(batches[0].x[[0, 0]], 0);
    assert_eq!(batches[0].x[[1, 0]], 50);
    assert!(sequential_from(&corpus, 2, 60, 0).is_err());
}
