//! Beam search (`d2l::train::beam`) on plain RNNs with random weights,
//! whose next-character distributions depend on everything read so far:
//! width 1 is greedy decoding exactly; narrow beams keep what the
//! definition keeps; a width that keeps every continuation finds what an
//! exhaustive search finds; and d2l's length normalisation does what its
//! equation says.

use ch_rnn::scratch::Rnn;
use d2l::data::{tokenize, TokenKind, Vocab};
use d2l::model::RnnModel;
use d2l::testkit::gradcheck::randomize;
use d2l::train::beam::{beam_search, log_prob_of, Beam};
use d2l::train::generate::{predict, Decoding};
use rand::rngs::StdRng;
use rand::SeedableRng;

const HIDDENS: usize = 8;

/// A vocabulary of the characters of `text` (and `<unk>`), and an RNN
/// over it with weights from N(0, 1): far from uniform predictions.
fn model(text: &str, seed: u64) -> (RnnModel<f64, Rnn>, Vocab) {
    let vocab =
        Vocab::new(&tokenize(&[text.to_string()], TokenKind::Char), 0, &[]);
    let mut rng = StdRng::seed_from_u64(seed);
    let v = vocab.len();
    let mut m = RnnModel::new(Rnn::new(v, HIDDENS), v, &mut rng);
    randomize(&mut m.params, 1.0, &mut rng);
    randomize(&mut m.output, 1.0, &mut rng);
    (m, vocab)
}

fn greedy(m: &mut RnnModel<f64, Rnn>, vocab: &Vocab, len: usize) -> String {
    let mut rng = StdRng::seed_from_u64(0);
    let g = predict(m, vocab, "the ", len, Decoding::Greedy, &mut rng);
    g.unwrap().text
}

const WIDTH_1: Beam = Beam {
    width: 1,
    alpha: None,
};

#[test]
fn width_one_is_greedy_decoding() {
    for seed in 0..10 {
        let (mut m, vocab) = model("the time machine", seed);
        let beamed = beam_search(&mut m, &vocab, "the ", 40, WIDTH_1).unwrap();
        assert_eq!(beamed.text, greedy(&mut m, &vocab, 40), "seed {seed}");
        // And its score is the log-probability of what it returned.
        let lp = log_prob_of(&mut m, &vocab, "the ", &beamed.tokens).unwrap();
        assert!((lp - beamed.log_prob).abs() < 1e-12);
    }
}

/// Every continuation of `len` tokens over a vocabulary of `v`.
fn every_sequence(v: usize, len: usize) -> Vec<Vec<usize>> {
    (0..v.pow(len as u32))
        .map(|mut n| {
            (0..len)
                .map(|_| {
                    let t = n % v;
                    n /= v;
                    t
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_beam_that_keeps_everything_finds_the_exhaustive_best() {
    let len = 4;
    for seed in 0..5 {
        // <unk>, ' ', 'a', 'b': 4⁴ = 256 continuations.
        let (mut m, vocab) = model("ab ab", seed);
        let v = vocab.len();
        assert_eq!(v, 4);
        let (mut best, mut best_lp) = (Vec::new(), f64::NEG_INFINITY);
        let mut total = 0.0;
        for s in every_sequence(v, len) {
            let lp = log_prob_of(&mut m, &vocab, "ab", &s).unwrap();
            total += lp.exp();
            if lp > best_lp {
                (best, best_lp) = (s, lp);
            }
        }
        // The scores are log-probabilities: over every continuation of
        // one length they sum to 1.
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        let all = Beam {
            width: v.pow(len as u32),
            alpha: None,
        };
        let beamed = beam_search(&mut m, &vocab, "ab", len, all).unwrap();
        assert_eq!(beamed.tokens, best, "seed {seed}");
        assert!((beamed.log_prob - best_lp).abs() < 1e-12, "seed {seed}");
    }
}

#[test]
fn wider_beams_score_at_least_as_well_as_greedy_here() {
    // Not a theorem: a beam can drop the greedy path's prefix for ones
    // that end worse. On these models it never does, and the margin is
    // what a wider beam buys.
    let mut gained = 0;
    for seed in 0..20 {
        let (mut m, vocab) = model("the time machine", seed);
        let g = beam_search(&mut m, &vocab, "the ", 30, WIDTH_1).unwrap();
        for width in [2, 3, 5, 10] {
            let b = Beam { width, alpha: None };
            let w = beam_search(&mut m, &vocab, "the ", 30, b).unwrap();
            assert!(w.log_prob >= g.log_prob - 1e-12, "seed {seed}, {width}");
            gained += usize::from(w.log_prob > g.log_prob + 1e-9);
        }
    }
    assert!(
        gained > 0,
        "no beam ever beat greedy: the test tests nothing"
    );
}

#[test]
fn length_normalisation_picks_among_every_length() {
    let (mut m, vocab) = model("the time machine", 3);
    let b = |alpha| Beam {
        width: 4,
        alpha: Some(alpha),
    };
    // α = 0 scores by log P alone, and every token lowers it: the best
    // candidate is one token long.
    let short = beam_search(&mut m, &vocab, "the ", 30, b(0.0)).unwrap();
    assert_eq!(short.tokens.len(), 1);
    // A large α favours the longest.
    let long = beam_search(&mut m, &vocab, "the ", 30, b(20.0)).unwrap();
    assert_eq!(long.tokens.len(), 30);
    // d2l's 0.75: whatever it returns is the best by its own score among
    // the full-length result's prefixes too.
    let mid = beam_search(&mut m, &vocab, "the ", 30, b(0.75)).unwrap();
    let score = |t: &[usize]| {
        let lp = log_prob_of(&mut m.clone(), &vocab, "the ", t).unwrap();
        lp / (t.len() as f64).powf(0.75)
    };
    let best = score(&mid.tokens);
    for l in 1..=long.tokens.len() {
        assert!(score(&long.tokens[..l]) <= best + 1e-12, "length {l}");
    }
}

/// Beam search as its definition reads, with no shortcut: at every
/// length, score every extension of the kept sequences from scratch, and
/// keep the `width` best (ties to the earlier sequence, then the lower
/// token).
fn by_definition(
    m: &mut RnnModel<f64, Rnn>,
    vocab: &Vocab,
    width: usize,
    len: usize,
) -> (Vec<usize>, f64) {
    let mut kept: Vec<(Vec<usize>, f64)> = vec![(Vec::new(), 0.0)];
    for _ in 0..len {
        let mut all = Vec::new();
        for (seq, _) in &kept {
            for t in 0..vocab.len() {
                let next = [&seq[..], &[t]].concat();
                let lp = log_prob_of(m, vocab, "ab", &next).unwrap();
                all.push((next, lp));
            }
        }
        all.sort_by(|a, b| b.1.total_cmp(&a.1));
        all.truncate(width);
        kept = all;
    }
    kept.swap_remove(0)
}

#[test]
fn narrow_beams_prune_as_the_definition_says() {
    for seed in 0..5 {
        let (mut m, vocab) = model("ab ab", seed);
        for width in [2, 3] {
            let (tokens, lp) = by_definition(&mut m, &vocab, width, 6);
            let b = Beam { width, alpha: None };
            let beamed = beam_search(&mut m, &vocab, "ab", 6, b).unwrap();
            assert_eq!(beamed.tokens, tokens, "seed {seed}, width {width}");
            assert!((beamed.log_prob - lp).abs() < 1e-12);
        }
    }
}
