//! What the chapter's text claims about the GRU, as tests.

use ch_gru::scratch::{gru_step, GruParams, Variant};
use d2l::rnn::Input;
use d2l::rnn::TorchLayout;
use d2l::testkit::agreement::assert_torch_layout;
use d2l::testkit::gradcheck::random_tensors;
use ndarray::{Array1, Array2};
use rand::rngs::StdRng;
use rand::SeedableRng;

const VOCAB: usize = 5;
const HIDDENS: usize = 6;

fn params(std: f64, seed: u64) -> GruParams<f64> {
    random_tensors(seed, std, |rng| GruParams::new(VOCAB, HIDDENS, rng))
}

fn state(seed: u64) -> Array2<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut h = d2l::rnn::normal((3, HIDDENS), 0.5, &mut rng);
    h.mapv_inplace(f64::tanh);
    h
}

const TOKENS: [usize; 3] = [0, 3, 4];

#[test]
fn update_gate_near_one_keeps_the_old_state() {
    for variant in [Variant::ResetBefore, Variant::ResetAfter] {
        let mut p = params(0.5, 1);
        p.b_z = Array1::from_elem(HIDDENS, 40.0); // Z ≈ 1
        let h_prev = state(2);
        let (h, cache) =
            gru_step(&p, variant, &Input::Tokens(&TOKENS), &h_prev);
        assert!(cache.z.iter().all(|&z| z > 1.0 - 1e-15));
        let gap = (&h - &h_prev)
            .mapv(f64::abs)
            .fold(0.0, |m: f64, &v| m.max(v));
        assert!(gap < 1e-15, "{variant:?}: H_t moved by {gap:e}");
    }
}

#[test]
fn update_gate_near_zero_takes_the_candidate() {
    let mut p = params(0.5, 3);
    p.b_z = Array1::from_elem(HIDDENS, -40.0); // Z ≈ 0
    let (h, cache) =
        gru_step(&p, Variant::ResetBefore, &Input::Tokens(&TOKENS), &state(4));
    let gap = (&h - &cache.h_tilde).mapv(f64::abs).sum();
    assert!(gap < 1e-15, "H_t differs from H̃_t by {gap:e}");
}

#[test]
fn reset_gate_near_zero_makes_the_candidate_depend_only_on_x() {
    for variant in [Variant::ResetBefore, Variant::ResetAfter] {
        let mut p = params(0.5, 5);
        p.b_r = Array1::from_elem(HIDDENS, -40.0); // R ≈ 0
        let x = Input::Tokens(&TOKENS);
        let (_, a) = gru_step(&p, variant, &x, &state(6));
        let (_, b) = gru_step(&p, variant, &x, &state(7));
        // Two different pasts, the same candidate: an MLP of X alone,
        // tanh(X W_xh + b_h).
        let mlp = (x.dot(&p.w_xh) + &p.b_h).mapv(f64::tanh);
        for cache in [&a, &b] {
            let gap = (&cache.h_tilde - &mlp).mapv(f64::abs).sum();
            assert!(gap < 1e-12, "{variant:?}: H̃ depends on H ({gap:e})");
        }
    }
}

#[test]
fn hidden_states_stay_strictly_between_minus_one_and_one() {
    for variant in [Variant::ResetBefore, Variant::ResetAfter] {
        let p = params(1.0, 8);
        let mut h = state(9);
        for t in 0..200 {
            let tokens = [t % VOCAB, (3 * t + 1) % VOCAB, (t * t) % VOCAB];
            h = gru_step(&p, variant, &Input::Tokens(&tokens), &h).0;
            let max = h.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            assert!(max < 1.0, "{variant:?}: |H| reached {max} at step {t}");
        }
    }
}

#[test]
fn one_hot_times_w_is_the_row_lookup() {
    let p = params(0.5, 10);
    let mut one_hot = Array2::zeros((TOKENS.len(), VOCAB));
    for (i, &t) in TOKENS.iter().enumerate() {
        one_hot[[i, t]] = 1.0;
    }
    let product = one_hot.dot(&p.w_xz);
    let lookup = Input::Tokens(&TOKENS).dot(&p.w_xz);
    assert_eq!(product, lookup);
    assert_eq!(Input::Dense(one_hot.view()).dot(&p.w_xz), lookup);
}

#[test]
fn torch_layout_round_trips_in_r_z_n_order() {
    let p = params(0.5, 11);
    // PyTorch's blocks are r, z and n (our H̃).
    let ih = [&p.w_xr, &p.w_xz, &p.w_xh];
    assert_torch_layout(&p, &ih, &[&p.w_hr, &p.w_hz, &p.w_hh]);
}

#[test]
fn torch_biases_of_r_and_z_add_up() {
    let p = params(0.5, 12);
    let mut t = p.to_torch();
    // Move 0.25 from b_ir to b_hr: the same model.
    for k in 0..HIDDENS {
        t.bias_ih[k] -= 0.25;
        t.bias_hh[k] += 0.25;
    }
    let back = GruParams::from_torch(&t);
    let gap = (&back.b_r - &p.b_r).mapv(f64::abs).sum();
    assert!(gap < 1e-12);
    // A gradient reaches b_ir and b_hr alike, and that is ∂L/∂b_r.
    let g = GruParams::grads_from_torch(&t);
    assert_eq!(g.b_r, t.bias_ih.slice(ndarray::s![..HIDDENS]));
}
