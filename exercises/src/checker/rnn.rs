//! The plain RNN chapter's exercise: its backward step, by hand.

use super::tools::*;
use crate::Answers;
use ch_rnn::scratch::{rnn_step, RnnParams};
use d2l::rnn::{Hidden, Input, Tensors};
use d2l::testkit::gradcheck::{check_tensors, randomize};

pub(super) fn step_backward(a: &Answers) -> Result<String, String> {
    let mut rng = rng();
    let mut p = RnnParams::new(INPUTS, HIDDENS, &mut rng);
    randomize(&mut p, 0.5, &mut rng);
    let x = random(BATCH, INPUTS, &mut rng);
    let state = Hidden {
        h: random(BATCH, HIDDENS, &mut rng),
    };
    let dh = random(BATCH, HIDDENS, &mut rng);
    let input = Input::Dense(x.view());
    let (_, cache) = rnn_step(&p, &input, &state);
    let mut g = p.zeros_like();
    let dh_prev = (a.rnn_step_backward)(&p, &x, &cache, &dh, &mut g);
    check_shape("∂L/∂H_{t−1}", &dh_prev, (BATCH, HIDDENS))?;
    // L = Σ H_t ⊙ dh, so that ∂L/∂H_t = dh.
    let loss = |p: &RnnParams<f64>, s: &Hidden<f64>| {
        (&rnn_step(p, &input, s).0.h * &dh).sum()
    };
    let mut checks = check_tensors("", &p, &g, |q| loss(q, &state));
    let d_prev = Hidden { h: dh_prev };
    checks.extend(check_tensors("", &state, &d_prev, |s| loss(&p, s)));
    let field = |name: &str| {
        let f = if name == "h" { "return value" } else { "g" };
        Some(f.to_string())
    };
    verdict(&checks, &["w_xh", "w_hh", "b_h", "h"], field)
        .map_err(|e| e.replace("∂L/∂h:", "∂L/∂H_{t−1}:"))
}
