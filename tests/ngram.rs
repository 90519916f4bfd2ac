//! The Kneser–Ney baseline: probabilities that sum to 1, a toy corpus
//! worked by hand, and the same perplexity on every run.

use d2l::data::load_splits_time_machine;
use d2l::model::ngram::KneserNey;

/// "abab" over the vocabulary {a, b, c}, order 2, by hand:
///
/// - Bigram counts: ab 2, ba 1. After a: {b: 2}, total 2; after b:
///   {a: 1}, total 1. Counts of 1 and 2: n₁ = 1, n₂ = 1, so
///   D₂ = 1 / (1 + 2) = 1/3.
/// - Unigram continuation counts, one per different bigram ending in the
///   token: a 1 (from ba), b 1 (from ab); total 2. n₁ = 2, n₂ = 0, so
///   D₁ = 1, and P₁(w) = 0 + 1 · 2/2 · 1/3 = 1/3 for a, b and c.
/// - P(b | a) = (2 − 1/3)/2 + (1/3 · 1/2) · 1/3 = 5/6 + 1/18 = 8/9, and
///   P(a | a) = P(c | a) = 1/18.
/// - P(a | b) = (1 − 1/3)/1 + (1/3 · 1/1) · 1/3 = 2/3 + 1/9 = 7/9, and
///   P(b | b) = P(c | b) = 1/9.
/// - After c, never seen, P = P₁ = 1/3.
#[test]
fn a_toy_corpus_gives_the_probabilities_worked_by_hand() {
    let (a, b, c) = (0, 1, 2);
    let lm = KneserNey::new(&[a, b, a, b], 2, 3);
    let expect = [
        (a, b, 8.0 / 9.0),
        (a, a, 1.0 / 18.0),
        (a, c, 1.0 / 18.0),
        (b, a, 7.0 / 9.0),
        (b, b, 1.0 / 9.0),
        (b, c, 1.0 / 9.0),
        (c, a, 1.0 / 3.0),
        (c, c, 1.0 / 3.0),
    ];
    for (h, w, p) in expect {
        let got = lm.prob(&[h], w);
        assert!((got - p).abs() < 1e-15, "P({w} | {h}) = {got}, not {p}");
    }
    // With no context, the unigram level alone.
    assert!((lm.prob(&[], b) - 1.0 / 3.0).abs() < 1e-15);
}

#[test]
fn probabilities_over_the_vocabulary_sum_to_one() {
    let s = load_splits_time_machine(Some(10_000), 5_000).unwrap();
    let v = s.vocab.len();
    for order in 1..=7 {
        let lm = KneserNey::new(&s.train, order, v);
        // Contexts seen in training, never seen, and shorter than the
        // order, from the validation text.
        for end in [0usize, 1, 3, 50, 777, 4_321] {
            let context = &s.valid[end.saturating_sub(6)..end];
            let sum: f64 = (0..v).map(|w| lm.prob(context, w)).sum();
            assert!(
                (sum - 1.0).abs() < 1e-12,
                "order {order}, context {context:?}: the sum is {sum}"
            );
        }
        let unseen = [v - 1; 6];
        let sum: f64 = (0..v).map(|w| lm.prob(&unseen, w)).sum();
        assert!((sum - 1.0).abs() < 1e-12, "order {order}: {sum}");
    }
}

#[test]
fn the_perplexity_is_the_same_on_every_run_and_falls_with_the_order() {
    let s = load_splits_time_machine(Some(10_000), 5_000).unwrap();
    let v = s.vocab.len();
    let ppl = |order| KneserNey::new(&s.train, order, v).perplexity(&s.valid);
    let (unigram, trigram) = (ppl(1), ppl(3));
    assert_eq!(ppl(3).to_bits(), trigram.to_bits());
    // Characters alone, then three at a time: a trigram knows far more.
    assert!(trigram < unigram * 0.6, "{trigram} against {unigram}");
    // Never worse than guessing uniformly.
    assert!(unigram < v as f64, "{unigram}");
}
