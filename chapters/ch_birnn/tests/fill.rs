//! The fill-in task: deletions are what they say, and on a budget of
//! seconds a bidirectional model already names deleted characters better
//! than a one-directional model with as many parameters.

use ch_birnn::deep::bi_rnn;
use ch_birnn::fill::FillScore;
use ch_birnn::fill::{delete_characters, evaluate_fill};
use ch_birnn::fill::{train_fill, FillConfig};
use ch_birnn::run::{matching_hiddens, params_at};
use ch_lstm::scratch::Lstm;
use d2l::data::load_book_splits;
use d2l::model::{Encoder, SeqModel, Uni};
use rand::rngs::StdRng;
use rand::SeedableRng;

#[test]
fn deletions_blank_exactly_the_targets() {
    let text: Vec<usize> = (0..40).map(|i| i % 7).collect();
    let windows: Vec<&[usize]> = text.chunks(10).collect();
    let b = delete_characters(&windows, 99, 0.2, &mut StdRng::seed_from_u64(1));
    assert_eq!((b.batch, b.tokens.len()), (4, 40));
    for i in 0..4 {
        // Every window has a deletion.
        assert!(b.targets.iter().any(|&(r, _)| r % 4 == i));
    }
    for (row, &token) in b.tokens.iter().enumerate() {
        let (t, i) = (row / 4, row % 4);
        let target = b.targets.iter().find(|&&(r, _)| r == row);
        match target {
            Some(&(_, c)) => {
                assert_eq!(token, 99);
                assert_eq!(c, windows[i][t]);
            }
            None => assert_eq!(token, windows[i][t]),
        }
    }
}

#[test]
fn bidirectional_beats_one_directional_of_the_same_size() {
    let splits = load_book_splits().unwrap();
    let blank = splits.vocab.len();
    let v = blank + 1;
    let config = FillConfig {
        steps: 20,
        batch: 16,
        rate: 0.15,
        updates: 600,
        lr: 0.01,
        clip: 1.0,
    };
    let mut rng = StdRng::seed_from_u64(0);
    let mut bi =
        SeqModel::<f32, _>::new(bi_rnn(1, v, 16, Lstm::new), v, &mut rng);
    let h = matching_hiddens(bi.num_params(), v, &Lstm::new);
    let mut uni = SeqModel::<f32, _>::new(Uni(Lstm::new(v, h)), v, &mut rng);
    let (pb, pu) = (bi.num_params(), uni.num_params());
    assert!(pb <= pu && pu < pb + 200, "{pb} against {pu}");
    let held_out = &splits.valid[..4000];
    let (b, u) = (
        trained_score(&mut bi, &splits.train, held_out, blank, &config),
        trained_score(&mut uni, &splits.train, held_out, blank, &config),
    );
    println!("bidirectional {b:?}\none-directional {u:?}");
    // The same deletions were scored.
    assert_eq!(b.deleted, u.deleted);
    assert!(b.perplexity < u.perplexity, "{b:?} against {u:?}");
    assert!(b.accuracy > u.accuracy, "{b:?} against {u:?}");
}

/// Trains on the same windows and deletions for every model (seed 1),
/// then scores the same deletions of `held_out` (seed 2).
fn trained_score<E: Encoder<f32>>(
    m: &mut SeqModel<f32, E>,
    train: &[usize],
    held_out: &[usize],
    blank: usize,
    config: &FillConfig,
) -> FillScore {
    let mut rng = StdRng::seed_from_u64(1);
    train_fill(m, train, blank, config, &mut rng, |_, _| Ok(())).unwrap();
    evaluate_fill(m, held_out, blank, config, &mut StdRng::seed_from_u64(2))
        .unwrap()
}

#[test]
fn parameters_are_counted_without_making_the_model() {
    // The quadratic from three tiny models gives every size exactly.
    let v = 29;
    let count = |e: ch_birnn::deep::BiRnn<Lstm>| {
        SeqModel::<f32, _>::new(e, v, &mut StdRng::seed_from_u64(0))
            .num_params()
    };
    for (layers, h) in [(1, 7), (2, 12), (3, 5)] {
        let made = count(bi_rnn(layers, v, h, Lstm::new));
        let counted = params_at(h, |h| count(bi_rnn(layers, v, h, Lstm::new)));
        assert_eq!(counted, made as f64, "{layers} layers of {h}");
    }
}

#[test]
fn a_text_shorter_than_a_window_is_an_error() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut m =
        SeqModel::<f32, _>::new(bi_rnn(1, 4, 3, Lstm::new), 4, &mut rng);
    let config = FillConfig {
        steps: 10,
        batch: 2,
        rate: 0.5,
        updates: 1,
        lr: 0.01,
        clip: 1.0,
    };
    let e =
        evaluate_fill(&mut m, &[0, 1, 2], 3, &config, &mut rng).unwrap_err();
    assert!(e.to_string().contains("--num-steps"), "{e}");
}
