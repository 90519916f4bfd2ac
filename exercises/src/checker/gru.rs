//! The GRU chapter's exercises: the update gate's backward step, the
//! one-gate GRUs, and gate values that use one input only.

use super::tools::*;
use crate::{Answers, GateValues, Step};
use ch_gru::scratch::{gru_step, gru_step_backward, GruParams};
use d2l::rnn::{Input, Tensors};
use d2l::testkit::gradcheck::check_tensors;
use ndarray::{Array2, Axis};

pub(super) fn update_gate_backward(a: &Answers) -> Result<String, String> {
    let mut rng = rng();
    let p = gru_params(INPUTS, &mut rng);
    let x = random(BATCH, INPUTS, &mut rng);
    let h_prev = random(BATCH, HIDDENS, &mut rng);
    let dh = random(BATCH, HIDDENS, &mut rng);
    let input = Input::Dense(x.view());
    let (_, cache) = gru_step(&p, RESET_BEFORE, &input, &h_prev);
    let da_z = (a.gru_update_gate_backward)(&cache, &dh);
    check_shape("∂L/∂A_z", &da_z, (BATCH, HIDDENS))?;
    // The chapter's backward for every other gradient; the update gate's
    // parameters from the answer.
    let mut g = p.zeros_like();
    gru_step_backward(&p, RESET_BEFORE, &input, &cache, &dh, &mut g);
    g.w_xz = x.t().dot(&da_z);
    g.w_hz = h_prev.t().dot(&da_z);
    g.b_z = da_z.sum_axis(Axis(0));
    let checks = check_tensors("", &p, &g, |q| {
        let (h, _) = gru_step(q, RESET_BEFORE, &input, &h_prev);
        (&h * &dh).sum()
    });
    verdict(&checks, &["w_xz", "w_hz", "b_z"], |_| {
        Some("return value, ∂L/∂A_z".to_string())
    })
}

/// `q` with one gate held at 0 or 1: its weights zero, its bias ∓10⁹
/// (σ(−10⁹) is exactly 0 in f64, σ(10⁹) exactly 1).
pub(super) fn hold(
    p: &GruParams<f64>,
    gate: char,
    value: f64,
) -> GruParams<f64> {
    let mut q = p.clone();
    let bias = if value == 0.0 { -1e9 } else { 1e9 };
    let (w_x, w_h, b) = match gate {
        'z' => (&mut q.w_xz, &mut q.w_hz, &mut q.b_z),
        _ => (&mut q.w_xr, &mut q.w_hr, &mut q.b_r),
    };
    w_x.fill(0.0);
    w_h.fill(0.0);
    b.fill(bias);
    q
}

pub(super) fn one_gate(
    a: Step,
    gate: char,
    value: f64,
) -> Result<String, String> {
    let mut rng = rng();
    let p = gru_params(INPUTS, &mut rng);
    let x = random(BATCH, INPUTS, &mut rng);
    let h_prev = random(BATCH, HIDDENS, &mut rng);
    let got = a(&p, &x, &h_prev);
    let q = hold(&p, gate, value);
    let (want, _) =
        gru_step(&q, RESET_BEFORE, &Input::Dense(x.view()), &h_prev);
    same("H_t", &got, &want)?;
    Ok(format!(
        "H_t equals the full GRU's with {} held at {value}",
        if gate == 'z' { "Z" } else { "R" }
    ))
}

pub(super) fn reset_gate_only(a: &Answers) -> Result<String, String> {
    one_gate(a.gru_reset_gate_only, 'z', 0.0)
}

pub(super) fn update_gate_only(a: &Answers) -> Result<String, String> {
    one_gate(a.gru_update_gate_only, 'r', 1.0)
}

/// H_t of a GRU whose gates are held at `gates[s]` at step s.
pub(super) fn held_run(
    p: &GruParams<f64>,
    gates: &[GateValues],
    xs: &[Array2<f64>],
    h0: &Array2<f64>,
) -> Array2<f64> {
    let logit = |v: f64| match v {
        0.0 => -1e9,
        1.0 => 1e9,
        v => (v / (1.0 - v)).ln(),
    };
    let mut h = h0.clone();
    for (g, x) in gates.iter().zip(xs) {
        let mut q = p.clone();
        for (w_x, w_h, b, v) in [
            (&mut q.w_xz, &mut q.w_hz, &mut q.b_z, g.update),
            (&mut q.w_xr, &mut q.w_hr, &mut q.b_r, g.reset),
        ] {
            w_x.fill(0.0);
            w_h.fill(0.0);
            b.fill(logit(v));
        }
        h = gru_step(&q, RESET_BEFORE, &Input::Dense(x.view()), &h).0;
    }
    h
}

pub(super) fn gates_for_input_at(a: &Answers) -> Result<String, String> {
    let mut rng = rng();
    let p = gru_params(INPUTS, &mut rng);
    let cases = [(2, 5), (0, 3), (4, 4)];
    for (t_prime, t) in cases {
        let case = format!("with t′ = {t_prime}, t = {t}");
        let gates = (a.gru_gates_for_input_at)(t_prime, t);
        if gates.len() != t + 1 {
            return Err(format!(
                "{case}: {} gate values, expected t + 1 = {}",
                gates.len(),
                t + 1
            ));
        }
        for (s, g) in gates.iter().enumerate() {
            for (name, v) in [("reset", g.reset), ("update", g.update)] {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!(
                        "{case}: the {name} gate at step {s} is {v}, \
                         outside [0, 1]"
                    ));
                }
            }
        }
        let xs: Vec<Array2<f64>> =
            (0..=t).map(|_| random(BATCH, INPUTS, &mut rng)).collect();
        let h0 = random(BATCH, HIDDENS, &mut rng);
        let base = held_run(&p, &gates, &xs, &h0);
        let change = |xs: &[Array2<f64>], h0: &Array2<f64>| {
            let h = held_run(&p, &gates, xs, h0);
            (&h - &base).iter().fold(0.0f64, |m, d| m.max(d.abs()))
        };
        for s in 0..=t {
            let mut nudged = xs.clone();
            nudged[s] += 0.5;
            let d = change(&nudged, &h0);
            if s == t_prime && d < 1e-3 {
                return Err(format!(
                    "{case}: H_t does not depend on X_{{t′}} (changing it \
                     moved H_t by only {d:.1e})"
                ));
            }
            if s != t_prime && d > VALUE_TOL {
                return Err(format!(
                    "{case}: H_t still depends on X_{s} (changing it \
                     moved H_t by {d:.1e})"
                ));
            }
        }
        let d = change(&xs, &(&h0 + 0.5));
        if d > VALUE_TOL {
            return Err(format!(
                "{case}: H_t still depends on the initial state H_0 \
                 (changing it moved H_t by {d:.1e})"
            ));
        }
    }
    Ok(format!(
        "H_t depends on X_{{t′}} and on nothing else, for (t′, t) in {cases:?}"
    ))
}
