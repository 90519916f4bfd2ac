//! What the chapter's text claims about the plain RNN, as tests.

use ch_rnn::scratch::{rnn_step, RnnParams};
use d2l::rnn::{Hidden, Input, TorchLayout};
use d2l::testkit::agreement::assert_torch_layout;
use d2l::testkit::gradcheck::random_tensors;
use ndarray::Array2;

const VOCAB: usize = 5;
const HIDDENS: usize = 6;

fn params(std: f64, seed: u64) -> RnnParams<f64> {
    random_tensors(seed, std, |rng| RnnParams::new(VOCAB, HIDDENS, rng))
}

#[test]
fn the_state_never_leaves_minus_one_one() {
    // H_t is a tanh, whatever the weights and however long the sequence
    // (with weights this large it saturates, and f64 rounds it to ±1).
    let p = params(3.0, 1);
    let mut s = Hidden {
        h: Array2::zeros((3, HIDDENS)),
    };
    for t in 0..200 {
        let tokens = [t % VOCAB, (3 * t + 1) % VOCAB, (t * t) % VOCAB];
        s = rnn_step(&p, &Input::Tokens(&tokens), &s).0;
        assert!(s.h.iter().all(|h| h.abs() <= 1.0), "step {t}");
    }
}

#[test]
fn torch_layout_round_trips() {
    let p = params(0.5, 7);
    assert_torch_layout(&p, &[&p.w_xh], &[&p.w_hh]);
}

#[test]
fn torch_bias_pairs_add_up_and_share_a_gradient() {
    // PyTorch initialises both biases, so a concise model's checkpoint
    // must hold their sum.
    let p = params(0.5, 8);
    let mut t = p.to_torch();
    t.bias_ih -= 0.25;
    t.bias_hh += 0.75;
    let back = RnnParams::from_torch(&t);
    let want = &p.b_h + 0.5;
    assert!((&back.b_h - &want).iter().all(|d| d.abs() < 1e-12));
    let g = RnnParams::grads_from_torch(&t);
    assert_eq!(g.b_h, t.bias_ih);
}
