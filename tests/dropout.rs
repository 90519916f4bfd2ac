//! Dropout's mask and its one product, checked on their own; the
//! gradient checks of every chapter run with a frozen mask.

use d2l::rnn::{drop_units, dropout_mask};
use ndarray::{array, Array2};
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Entries are 0 or 1 / (1 − p), about a fraction p of them 0, so that
/// the mean of H ⊙ M is H's; p = 0 keeps every unit at 1.
#[test]
fn mask_drops_a_fraction_p_and_rescales_the_rest() {
    let mut rng = StdRng::seed_from_u64(1);
    for p in [0.1, 0.5, 0.8] {
        let m: Array2<f64> = dropout_mask((200, 100), p, &mut rng);
        let keep = 1.0 / (1.0 - p);
        assert!(m.iter().all(|&x| x == 0.0 || x == keep), "p = {p}");
        let dropped = m.iter().filter(|&&x| x == 0.0).count() as f64;
        // 20,000 draws: the fraction is within 0.02 of p (over 5 sigma).
        assert!((dropped / 20_000.0 - p).abs() < 0.02, "p = {p}");
        assert!((m.mean().unwrap() - 1.0).abs() < 0.1, "p = {p}");
    }
    let none: Array2<f32> = dropout_mask((3, 4), 0.0, &mut rng);
    assert!(none.iter().all(|&x| x == 1.0));
}

/// Row t · batch + i of the time-major hidden states is multiplied by row
/// i of the mask, at every step t: one mask per sequence.
#[test]
fn one_mask_row_per_sequence_at_every_step() {
    // 3 steps of a batch of 2 sequences, 2 units.
    let hs = array![
        [1.0, 2.0],
        [3.0, 4.0],
        [5.0, 6.0],
        [7.0, 8.0],
        [9.0, 10.0],
        [11.0, 12.0]
    ];
    let mask = array![[0.0, 2.0], [2.0, 0.0]];
    let dropped = drop_units(hs, mask.view());
    let want = array![
        [0.0, 4.0],
        [6.0, 0.0],
        [0.0, 12.0],
        [14.0, 0.0],
        [0.0, 20.0],
        [22.0, 0.0]
    ];
    assert_eq!(dropped, want);
}

#[test]
#[should_panic(expected = "dropout 1 is not in [0, 1)")]
fn a_probability_of_one_is_a_programmer_error() {
    let _: Array2<f64> =
        dropout_mask((1, 1), 1.0, &mut StdRng::seed_from_u64(0));
}
