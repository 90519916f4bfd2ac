//! Greff et al.'s LSTM variants: each one's hand-written backward pass
//! against finite differences, and the identities that tie them to the
//! full LSTM. Without a forget gate the LSTM is the full one with F held
//! at 1; with a coupled gate, the full one with I held at 1 − F.

use ch_lstm::scratch::{lstm_step, LstmParams, LstmState};
use ch_lstm::variants::{variant_step, LstmVariant, Variant};
use d2l::rnn::{Cell, Input};
use d2l::testkit::gradcheck::{
    self, assert_checks, check_model_cases, randomize,
};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

const INPUTS: usize = 5;
const HIDDENS: usize = 4;
const BATCH: usize = 3;

fn cell(variant: Variant) -> LstmVariant {
    LstmVariant {
        num_inputs: INPUTS,
        num_hiddens: HIDDENS,
        variant,
        forget_bias: 0.0,
    }
}

#[test]
fn every_variant_matches_finite_differences() {
    for v in Variant::ALL {
        let (model, batch, state) =
            gradcheck::problem(cell(v), INPUTS, (BATCH, 5), 42);
        for checks in check_model_cases(&model, &batch, &state) {
            // 12 cell tensors + 2 output tensors + H_0 and C_0.
            assert_eq!(checks.len(), 16, "{v:?}");
            assert_checks(&checks, 1e-6);
        }
    }
}

/// Random parameters, a dense input and a state, from N(0, 0.5²).
fn problem(seed: u64) -> (LstmParams<f64>, Array2<f64>, LstmState<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut p = LstmParams::new(INPUTS, HIDDENS, &mut rng);
    randomize(&mut p, 0.5, &mut rng);
    let mut s = LstmState {
        h: Array2::zeros((BATCH, HIDDENS)),
        c: Array2::zeros((BATCH, HIDDENS)),
    };
    randomize(&mut s, 0.5, &mut rng);
    let mut x = LstmState {
        h: Array2::zeros((BATCH, INPUTS)),
        c: Array2::zeros((BATCH, INPUTS)),
    };
    randomize(&mut x, 0.5, &mut rng);
    (p, x.h, s)
}

/// Three steps of the full LSTM with parameters `full` and of `v` with
/// `p`; the largest difference between their states.
fn gap(v: Variant, p: &LstmParams<f64>, full: &LstmParams<f64>) -> f64 {
    let (_, x, s0) = problem(1);
    let (mut a, mut b) = (s0.clone(), s0);
    let mut worst = 0.0f64;
    for _ in 0..3 {
        let input = Input::Dense(x.view());
        a = lstm_step(full, &input, &a).0;
        b = variant_step(v, p, &input, &b).0;
        for (x, y) in a.h.iter().chain(&a.c).zip(b.h.iter().chain(&b.c)) {
            worst = worst.max((x - y).abs());
        }
    }
    worst
}

#[test]
fn the_full_variant_is_the_chapters_lstm_step() {
    let (p, _, _) = problem(2);
    assert_eq!(gap(Variant::Full, &p, &p), 0.0);
}

#[test]
fn a_removed_gate_is_the_full_lstm_with_that_gate_held_open() {
    // σ(1000) is 1 in f64: a bias of 1000 holds the gate at 1.
    let (p, _, _) = problem(3);
    for (v, bias) in [(Variant::Nfg, 0), (Variant::Nig, 1), (Variant::Nog, 2)] {
        let mut open = p.clone();
        let b = [&mut open.b_f, &mut open.b_i, &mut open.b_o];
        b.into_iter().nth(bias).unwrap().fill(1000.0);
        assert_eq!(gap(v, &p, &open), 0.0, "{v:?}");
        // And the variant is not the full LSTM with the gate working.
        assert!(gap(v, &p, &p) > 1e-3, "{v:?}");
    }
}

#[test]
fn cifg_is_the_full_lstm_with_the_input_gate_at_one_minus_forget() {
    // σ(−a) = 1 − σ(a): the input gate's weights the negated forget's.
    let (p, _, _) = problem(4);
    let mut coupled = p.clone();
    coupled.w_xi = -&p.w_xf;
    coupled.w_hi = -&p.w_hf;
    coupled.b_i = -&p.b_f;
    assert!(gap(Variant::Cifg, &p, &coupled) < 1e-12);
    assert!(gap(Variant::Cifg, &p, &p) > 1e-3);
}

#[test]
fn the_forget_bias_sets_b_f_and_nothing_else() {
    let biased = LstmVariant {
        forget_bias: 1.0,
        ..cell(Variant::Full)
    };
    let p: LstmParams<f64> = biased.init(&mut StdRng::seed_from_u64(0));
    let d2l: LstmParams<f64> =
        cell(Variant::Full).init(&mut StdRng::seed_from_u64(0));
    assert!(p.b_f.iter().all(|&b| b == 1.0));
    assert_eq!(
        LstmParams {
            b_f: d2l.b_f.clone(),
            ..p
        },
        d2l
    );
}

#[test]
fn names_round_trip() {
    for v in Variant::ALL {
        assert_eq!(Variant::from_name(v.name()), Some(v));
    }
    assert_eq!(Variant::from_name("peephole"), None);
}
