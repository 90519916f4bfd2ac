//! What the chapter's text claims about the LSTM, as tests.

use ch_lstm::scratch::{lstm_step, LstmParams, LstmState};
use d2l::rnn::Input;
use d2l::rnn::TorchLayout;
use d2l::testkit::agreement::assert_torch_layout;
use d2l::testkit::gradcheck::random_tensors;
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 5;
const HIDDENS: usize = 6;
const TOKENS: [usize; 3] = [0, 3, 4];

fn params(std: f64, seed: u64) -> LstmParams<f64> {
    random_tensors(seed, std, |rng| LstmParams::new(VOCAB, HIDDENS, rng))
}

fn state(seed: u64) -> LstmState<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    LstmState {
        h: d2l::rnn::normal((3, HIDDENS), 0.5, &mut rng).mapv(f64::tanh),
        c: d2l::rnn::normal((3, HIDDENS), 2.0, &mut rng),
    }
}

fn max_abs(a: &Array2<f64>) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

#[test]
fn forget_near_one_and_input_near_zero_carry_the_memory() {
    let mut p = params(0.5, 1);
    p.b_f = Array1::from_elem(HIDDENS, 40.0); // F ≈ 1
    p.b_i = Array1::from_elem(HIDDENS, -40.0); // I ≈ 0
    let mut s = state(2);
    let c0 = s.c.clone();
    for t in 0..50 {
        let tokens = [t % VOCAB, (t + 2) % VOCAB, (3 * t) % VOCAB];
        s = lstm_step(&p, &Input::Tokens(&tokens), &s).0;
    }
    let drift = max_abs(&(&s.c - &c0));
    assert!(drift < 1e-12, "C drifted by {drift:e} over 50 steps");
}

#[test]
fn output_gate_near_zero_lets_nothing_reach_h() {
    let mut p = params(0.5, 3);
    p.b_o = Array1::from_elem(HIDDENS, -40.0); // O ≈ 0
    let (next, _) = lstm_step(&p, &Input::Tokens(&TOKENS), &state(4));
    assert!(max_abs(&next.h) < 1e-15, "H = {}", next.h);
    // The memory cell is still updated: only its output is held back.
    assert!(max_abs(&next.c) > 0.1);
}

#[test]
fn hidden_state_stays_strictly_between_minus_one_and_one() {
    let p = params(1.0, 5);
    let mut s = state(6);
    for t in 0..200 {
        let tokens = [t % VOCAB, (3 * t + 1) % VOCAB, (t * t) % VOCAB];
        s = lstm_step(&p, &Input::Tokens(&tokens), &s).0;
        let max = max_abs(&s.h);
        assert!(max < 1.0, "|H| reached {max} at step {t}");
    }
}

#[test]
fn torch_layout_round_trips_in_i_f_g_o_order() {
    let p = params(0.5, 7);
    // PyTorch's blocks are i, f, g (our C̃) and o.
    let ih = [&p.w_xi, &p.w_xf, &p.w_xc, &p.w_xo];
    assert_torch_layout(&p, &ih, &[&p.w_hi, &p.w_hf, &p.w_hc, &p.w_ho]);
}

#[test]
fn torch_bias_pairs_add_up_and_share_a_gradient() {
    let p = params(0.5, 8);
    let mut t = p.to_torch();
    t.bias_ih -= 0.25;
    t.bias_hh += 0.25;
    let back = LstmParams::from_torch(&t);
    assert!((&back.b_f - &p.b_f).iter().all(|d| d.abs() < 1e-12));
    let g = LstmParams::grads_from_torch(&t);
    assert_eq!(g.b_i, t.bias_ih.slice(ndarray::s![..HIDDENS]));
}
