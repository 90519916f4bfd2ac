//! The LSTM chapter's exercise (backward through the memory cell) and the
//! deep chapter's (two GRU layers from the one-layer code).

use super::tools::*;
use crate::{Answers, TwoLayerGru};
use ch_deep_rnn::scratch::Stack;
use ch_gru::scratch::{gru_step, Gru, GruParams, GruState};
use ch_lstm::scratch::{lstm_step, lstm_step_backward, LstmParams, LstmState};
use d2l::rnn::{Cell, Input, Tensors};
use d2l::testkit::gradcheck::{check_tensors, randomize};
use ndarray::Axis;

pub(super) fn memory_cell_backward(a: &Answers) -> Result<String, String> {
    let mut rng = rng();
    let mut p = LstmParams::new(INPUTS, HIDDENS, &mut rng);
    randomize(&mut p, 0.5, &mut rng);
    let x = random(BATCH, INPUTS, &mut rng);
    let state = LstmState {
        h: random(BATCH, HIDDENS, &mut rng),
        c: random(BATCH, HIDDENS, &mut rng),
    };
    let d = LstmState {
        h: random(BATCH, HIDDENS, &mut rng),
        c: random(BATCH, HIDDENS, &mut rng),
    };
    let input = Input::Dense(x.view());
    let (_, cache) = lstm_step(&p, &input, &state);
    let ans = (a.lstm_memory_cell_backward)(&cache, &d.h, &d.c);
    for (what, m) in [
        ("∂L/∂C_{t−1}", &ans.dc_prev),
        ("∂L/∂A_i", &ans.da_i),
        ("∂L/∂A_f", &ans.da_f),
        ("∂L/∂A_c", &ans.da_c),
    ] {
        check_shape(what, m, (BATCH, HIDDENS))?;
    }
    let mut g = p.zeros_like();
    let (mut d_prev, _) = lstm_step_backward(&p, &input, &cache, &d, &mut g);
    let h_prev = &state.h;
    for (da, dw_x, dw_h, db) in [
        (&ans.da_i, &mut g.w_xi, &mut g.w_hi, &mut g.b_i),
        (&ans.da_f, &mut g.w_xf, &mut g.w_hf, &mut g.b_f),
        (&ans.da_c, &mut g.w_xc, &mut g.w_hc, &mut g.b_c),
    ] {
        *dw_x = x.t().dot(da);
        *dw_h = h_prev.t().dot(da);
        *db = da.sum_axis(Axis(0));
    }
    d_prev.c = ans.dc_prev.clone();
    let loss = |p: &LstmParams<f64>, s: &LstmState<f64>| {
        let (next, _) = lstm_step(p, &input, s);
        (&next.h * &d.h).sum() + (&next.c * &d.c).sum()
    };
    let mut checks = check_tensors("", &p, &g, |q| loss(q, &state));
    checks.extend(check_tensors("", &state, &d_prev, |s| loss(&p, s)));
    let names = [
        "w_xi", "w_hi", "b_i", "w_xf", "w_hf", "b_f", "w_xc", "w_hc", "b_c",
        "c",
    ];
    let field = |name: &str| {
        let f = match name.chars().last()? {
            'i' => "da_i",
            'f' => "da_f",
            'c' if name == "c" => "dc_prev",
            'c' => "da_c",
            _ => return None,
        };
        Some(format!("`{f}`"))
    };
    verdict(&checks, &names, field)
        .map_err(|e| e.replace("∂L/∂c:", "∂L/∂C_{t−1}:"))
}

pub(super) fn two_layer_gru(a: &Answers) -> Result<String, String> {
    let mut rng = rng();
    let p = [gru_params(INPUTS, &mut rng), gru_params(HIDDENS, &mut rng)];
    let x = random(BATCH, INPUTS, &mut rng);
    let h = [
        random(BATCH, HIDDENS, &mut rng),
        random(BATCH, HIDDENS, &mut rng),
    ];
    let dh = [
        random(BATCH, HIDDENS, &mut rng),
        random(BATCH, HIDDENS, &mut rng),
    ];
    // The forward step against the deep chapter's Stack.
    let stack = Stack::new(vec![
        Gru::new(INPUTS, HIDDENS, RESET_BEFORE),
        Gru::new(HIDDENS, HIDDENS, RESET_BEFORE),
    ]);
    let params = p.to_vec();
    let state: Vec<GruState<f64>> =
        h.iter().map(|h| GruState { h: h.clone() }).collect();
    let input = Input::Dense(x.view());
    let (want, _) = stack.step(&params, &input, &state);
    let got = (a.two_layer_gru_step)(&p, &x, &h);
    for (l, (got, want)) in got.h.iter().zip(&want).enumerate() {
        same(&format!("layer {l}'s H_t"), got, &want.h)?;
    }
    // The backward step, from caches made by the chapter's gru_step.
    let (h0, cache0) = gru_step(&p[0], RESET_BEFORE, &input, &h[0]);
    let (h1, cache1) =
        gru_step(&p[1], RESET_BEFORE, &Input::Dense(h0.view()), &h[1]);
    let step = TwoLayerGru {
        h: [h0, h1],
        caches: [cache0, cache1],
    };
    let mut g = [p[0].zeros_like(), p[1].zeros_like()];
    let dh_prev = (a.two_layer_gru_step_backward)(&p, &x, &step, &dh, &mut g);
    for (l, d) in dh_prev.iter().enumerate() {
        check_shape(
            &format!("layer {l}'s ∂L/∂H_{{t−1}}"),
            d,
            (BATCH, HIDDENS),
        )?;
    }
    let loss = |p: &Vec<GruParams<f64>>, s: &Vec<GruState<f64>>| {
        let (next, _) = stack.step(p, &input, s);
        next.iter()
            .zip(&dh)
            .map(|(s, d)| (&s.h * d).sum())
            .sum::<f64>()
    };
    let grads = g.to_vec();
    let d_state: Vec<GruState<f64>> =
        dh_prev.iter().map(|h| GruState { h: h.clone() }).collect();
    let mut checks = check_tensors("", &params, &grads, |q| loss(q, &state));
    checks.extend(check_tensors("", &state, &d_state, |s| loss(&params, s)));
    let names: Vec<String> = checks.iter().map(|c| c.name.clone()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    // Names are `l0.w_xz`, …, and `l0.h` for a layer's initial state.
    let field = |name: &str| {
        let (layer, rest) = name.strip_prefix('l')?.split_once('.')?;
        Some(if rest == "h" {
            format!("returned [{layer}], layer {layer}'s ∂L/∂H_{{t−1}}")
        } else {
            format!("g[{layer}].{rest}, added by your backward")
        })
    };
    verdict(&checks, &names, field).map(|_| {
        "both layers' H_t equal the Stack's; every gradient of both layers, \
         and ∂L/∂H_{t−1} of each, match finite differences"
            .to_string()
    })
}
