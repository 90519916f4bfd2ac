//! Greedy decoding and sampling.

use d2l::data::{tokenize, TokenKind, Vocab};
use d2l::testkit::bigram::Bigram;
use d2l::train::generate::{choose, predict, Decoding, GenerateError};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Vocabulary `<unk> a b c`, and a bigram that always follows a with b,
/// b with c and c with a.
fn cycle_model() -> (Bigram, Vocab) {
    let toks = tokenize(&["abc".to_string()], TokenKind::Char);
    let vocab = Vocab::new(&toks, 0, &[]);
    let mut m = Bigram::new(vocab.len());
    for (from, to) in [("a", "b"), ("b", "c"), ("c", "a")] {
        m.w[[vocab.index(from), vocab.index(to)]] = 5.0;
    }
    (m, vocab)
}

#[test]
fn greedy_continues_from_the_last_prefix_token() {
    let (mut m, vocab) = cycle_model();
    let mut rng = StdRng::seed_from_u64(0);
    let out = predict(&mut m, &vocab, "Ab", 4, Decoding::Greedy, &mut rng);
    assert_eq!(out.unwrap().text, "abcabc");
}

#[test]
fn unknown_prefix_characters_are_fed_as_unk_but_kept() {
    let (mut m, vocab) = cycle_model();
    let mut rng = StdRng::seed_from_u64(0);
    // "z" is not in the vocabulary; the row of <unk> is all zeros, so the
    // argmax after it is index 0, rendered as <unk>.
    let out =
        predict(&mut m, &vocab, "a z", 1, Decoding::Greedy, &mut rng).unwrap();
    assert_eq!(out.text, "a z<unk>");
    assert_eq!(out.tokens, [0]);
    let out =
        predict(&mut m, &vocab, "ZA!", 2, Decoding::Greedy, &mut rng).unwrap();
    assert_eq!(out.text, "zabc");
}

#[test]
fn empty_prefix_and_bad_settings_are_errors() {
    let (mut m, vocab) = cycle_model();
    let mut rng = StdRng::seed_from_u64(0);
    let err = predict(&mut m, &vocab, "42!", 3, Decoding::Greedy, &mut rng);
    assert!(matches!(err, Err(GenerateError::EmptyPrefix(_))));
    let hot = Decoding::Sample {
        temperature: 0.0,
        top_k: None,
    };
    let err = predict(&mut m, &vocab, "a", 3, hot, &mut rng);
    assert_eq!(err, Err(GenerateError::BadTemperature(0.0)));
    let k0 = Decoding::Sample {
        temperature: 1.0,
        top_k: Some(0),
    };
    let err = predict(&mut m, &vocab, "a", 3, k0, &mut rng);
    assert_eq!(err, Err(GenerateError::ZeroTopK));
}

#[test]
fn sampling_is_seeded_and_follows_the_softmax() {
    let logits = [0.0f32, (3.0f32).ln(), 0.0, 0.0];
    let d = Decoding::Sample {
        temperature: 1.0,
        top_k: None,
    };
    let draw = |seed| {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..6000)
            .map(|_| choose(&logits, d, &mut rng))
            .collect::<Vec<_>>()
    };
    let a = draw(1);
    assert_eq!(a, draw(1), "the same seed gives the same draws");
    // p = (1, 3, 1, 1) / 6.
    let share = a.iter().filter(|&&i| i == 1).count() as f64 / 6000.0;
    assert!((share - 0.5).abs() < 0.03, "{share}");
}

#[test]
fn top_k_never_picks_outside_the_k_best() {
    let logits = [0.1f32, 2.0, 1.9, -1.0, 0.5];
    let d = Decoding::Sample {
        temperature: 5.0,
        top_k: Some(2),
    };
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..2000 {
        let i = choose(&logits, d, &mut rng);
        assert!(i == 1 || i == 2, "picked {i}");
    }
}

#[test]
fn low_temperature_approaches_greedy() {
    let logits = [0.0f32, 1.0, 0.5];
    let d = Decoding::Sample {
        temperature: 0.01,
        top_k: None,
    };
    let mut rng = StdRng::seed_from_u64(4);
    assert!((0..500).all(|_| choose(&logits, d, &mut rng) == 1));
    assert_eq!(choose(&logits, Decoding::Greedy, &mut rng), 1);
}

/// Scores that overflowed to infinity (weights finite but huge) make
/// sampling meaningless: every decoding refuses them with an error
/// instead of returning the last candidate.
#[test]
fn non_finite_scores_are_an_error() {
    let (mut m, vocab) = cycle_model();
    m.w[[vocab.index("b"), vocab.index("c")]] = f32::INFINITY;
    let mut rng = StdRng::seed_from_u64(0);
    let sample = Decoding::Sample {
        temperature: 1.0,
        top_k: Some(2),
    };
    for decoding in [Decoding::Greedy, sample] {
        let out = predict(&mut m, &vocab, "a", 5, decoding, &mut rng);
        assert!(matches!(out, Err(GenerateError::NotFinite(2))), "{out:?}");
    }
}
