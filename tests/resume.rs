//! The training generator's position: written down and restored, it draws
//! the same numbers on; and it draws what rand's `StdRng` draws from the
//! same seed, so the book's runs are the same as before it had a name.

use d2l::train::resume::RngState;
use d2l::train::train_rng;
use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

#[test]
fn train_rng_is_std_rng() {
    let mut ours = train_rng(42);
    let mut std = StdRng::seed_from_u64(42);
    for _ in 0..1000 {
        assert_eq!(ours.next_u32(), std.next_u32());
        assert_eq!(ours.gen::<f64>(), std.gen::<f64>());
    }
}

#[test]
fn restored_rng_draws_the_same_numbers() {
    // Stop at every offset inside a 64-word block, odd ones too.
    for draws in [0, 1, 7, 63, 64, 65, 200] {
        let mut rng = train_rng(3);
        for _ in 0..draws {
            rng.next_u32();
        }
        let state = RngState::of(&rng);
        let json = serde_json::to_string(&state).unwrap();
        let back: RngState = serde_json::from_str(&json).unwrap();
        let mut restored = back.restore().expect("a valid state");
        for _ in 0..300 {
            assert_eq!(restored.next_u64(), rng.next_u64(), "after {draws}");
        }
    }
}

#[test]
fn damaged_rng_states_are_refused() {
    let good = RngState::of(&train_rng(1));
    let mut short = good.clone();
    short.seed.pop();
    let mut not_hex = good.clone();
    not_hex.seed.replace_range(0..2, "zz");
    let mut huge = good.clone();
    huge.word_pos = (1u128 << 68).to_string();
    let mut word = good.clone();
    word.word_pos = "many".to_string();
    for bad in [short, not_hex, huge, word] {
        assert!(bad.restore().is_none(), "{bad:?}");
    }
}
