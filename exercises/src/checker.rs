//! Grades a set of [`Answers`]: every exercise is run against the real
//! models of the chapters, and gradients against central finite
//! differences of the real forward steps, so an answer passes only if it
//! is right, not if it matches a stored number.

use crate::{Answers, GateValues, Step, TwoLayerGru};
use ch_deep_rnn::scratch::Stack;
use ch_gru::scratch::{
    gru_step, gru_step_backward, Gru, GruParams, GruState, Variant,
};
use ch_lstm::scratch::{lstm_step, lstm_step_backward, LstmParams, LstmState};
use d2l::rnn::{Cell, Input, Tensors};
use d2l::testkit::gradcheck::{check_tensors, randomize, TensorCheck};
use ndarray::{Array2, Axis};
use rand::rngs::StdRng;
use rand::SeedableRng;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Sizes of the checks: small, so finite differences are quick.
const BATCH: usize = 3;
const INPUTS: usize = 4;
const HIDDENS: usize = 5;
/// The largest relative error a gradient may have (a right one scores
/// about 1e-8, a wrong one about 1).
const GRAD_TOL: f64 = 1e-5;
/// The largest difference a forward result may have from the reference.
const VALUE_TOL: f64 = 1e-12;
const RESET_BEFORE: Variant = Variant::ResetBefore;

/// How one exercise went.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Right; the text says what was checked.
    Passed(String),
    /// The stub still calls `todo!()`.
    NotDone,
    /// Wrong; the text says what, and how far off.
    Failed(String),
}

/// One exercise: where its stub is, and how it is graded.
pub struct Exercise {
    pub id: &'static str,
    pub title: &'static str,
    /// The functions in `exercises/src/learner.rs` to fill in.
    pub stubs: &'static str,
    /// What a wrong answer most often gets wrong, printed with a failure.
    pub hint: &'static str,
    check: fn(&Answers) -> Result<String, String>,
}

/// Every exercise with a checkable answer, in the book's order.
pub const EXERCISES: [Exercise; 6] = [
    Exercise {
        id: "gru-update-gate-backward",
        title: "GRU: backward through the update gate",
        stubs: "gru_update_gate_backward",
        hint: "∂L/∂Z_t = ∂L/∂H_t ⊙ (H_{t−1} − H̃_t); is σ′ = Z_t ⊙ (1 − Z_t) missing?",
        check: update_gate_backward,
    },
    Exercise {
        id: "gru-reset-gate-only",
        title: "GRU: a GRU with only a reset gate",
        stubs: "gru_reset_gate_only",
        hint: "with no update gate H_t = H̃_t; compare with gru_step, and is the bias b_h there?",
        check: reset_gate_only,
    },
    Exercise {
        id: "gru-update-gate-only",
        title: "GRU: a GRU with only an update gate",
        stubs: "gru_update_gate_only",
        hint: "the candidate reads all of H_{t−1} (no R); is the bias b_z or b_h missing?",
        check: update_gate_only,
    },
    Exercise {
        id: "gru-gates-for-input-at",
        title: "GRU: gate values that use only the input at t'",
        stubs: "gru_gates_for_input_at",
        hint: "Z = 1 keeps the state as it was; Z = 0 with R = 0 forgets it and reads only the input",
        check: gates_for_input_at,
    },
    Exercise {
        id: "lstm-memory-cell-backward",
        title: "LSTM: backward through the memory cell",
        stubs: "lstm_memory_cell_backward",
        hint: "∂L/∂C_t is dc plus dh ⊙ O ⊙ (1 − tanh²(C_t)); is σ′ or tanh′ missing on a pre-activation?",
        check: memory_cell_backward,
    },
    Exercise {
        id: "two-layer-gru",
        title: "Deep RNN: two GRU layers from the one-layer code",
        stubs: "two_layer_gru_step, two_layer_gru_step_backward",
        hint: "layer 1 reads layer 0's H_t: the input gradient layer 1's backward returns must join dh[0]",
        check: two_layer_gru,
    },
];

/// Grades one exercise. A panic is caught: `todo!()` means not done yet,
/// any other panic is a failure with its message.
pub fn grade(exercise: &Exercise, answers: &Answers) -> Outcome {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(|| (exercise.check)(answers)));
    std::panic::set_hook(hook);
    match result {
        Ok(Ok(what)) => Outcome::Passed(what),
        Ok(Err(why)) => {
            Outcome::Failed(format!("{why}\nhint: {}", exercise.hint))
        }
        Err(payload) => {
            let msg = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| {
                    payload.downcast_ref::<&str>().map(|s| s.to_string())
                })
                .unwrap_or_else(|| "a panic without a message".to_string());
            if msg.starts_with("not yet implemented") {
                Outcome::NotDone
            } else {
                Outcome::Failed(format!("panicked: {msg}"))
            }
        }
    }
}

/// Grades `exercises` and writes what the checker prints: per exercise
/// PASS, TODO or FAIL with the reason, then a count. `file` is where the
/// answers are, for the TODO lines. Returns the text and how many passed.
pub fn report(
    exercises: &[&Exercise],
    answers: &Answers,
    file: &str,
) -> (String, usize) {
    use std::fmt::Write;
    let mut out = String::new();
    let mut passed = 0;
    let n = exercises.len();
    let plural = if n == 1 { "" } else { "s" };
    let _ = writeln!(out, "checking {n} exercise{plural} in {file}\n");
    for e in exercises {
        let (tag, lines) = match grade(e, answers) {
            Outcome::Passed(what) => {
                passed += 1;
                ("PASS", what)
            }
            Outcome::NotDone => (
                "TODO",
                format!("not done yet: fill in {} in {file}", e.stubs),
            ),
            Outcome::Failed(why) => ("FAIL", why),
        };
        let _ = writeln!(out, "{tag}  {:<28} {}", e.id, e.title);
        for line in lines.lines() {
            let _ = writeln!(out, "      {line}");
        }
    }
    let _ = writeln!(out, "\n{passed} of {n} passed");
    (out, passed)
}

fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// A matrix with entries from N(0, 0.5²): spread enough for the gates to
/// leave their linear region.
fn random(rows: usize, cols: usize, rng: &mut StdRng) -> Array2<f64> {
    let mut m = Matrix {
        a: Array2::zeros((rows, cols)),
    };
    randomize(&mut m, 0.5, rng);
    m.a
}

/// One matrix as [`Tensors`], for `randomize`.
#[derive(Clone)]
struct Matrix<F> {
    a: Array2<F>,
}
d2l::impl_tensors!(Matrix { a });

fn gru_params(inputs: usize, rng: &mut StdRng) -> GruParams<f64> {
    let mut p = GruParams::new(inputs, HIDDENS, rng);
    randomize(&mut p, 0.5, rng);
    p.b_hh.fill(0.0); // reset-before has no b_hh
    p
}

fn check_shape(
    what: &str,
    got: &Array2<f64>,
    want: (usize, usize),
) -> Result<(), String> {
    if got.dim() == want {
        Ok(())
    } else {
        Err(format!(
            "{what} has shape {:?}, expected {want:?}",
            got.dim()
        ))
    }
}

/// Ok when every check is within [`GRAD_TOL`], naming what was compared;
/// otherwise the failing tensors with their worst entry, each followed by
/// the part of the answer it was computed from (`field`), so the learner
/// knows where to look.
fn verdict(
    checks: &[TensorCheck],
    names: &[&str],
    field: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let checks: Vec<&TensorCheck> = checks
        .iter()
        .filter(|c| names.contains(&c.name.as_str()))
        .collect();
    let bad: Vec<String> = checks
        .iter()
        .filter(|c| c.max_rel_error.is_nan() || c.max_rel_error > GRAD_TOL)
        .map(|c| match field(&c.name) {
            Some(f) => format!("∂L/∂{c}\n  (computed from your {f})"),
            None => format!("∂L/∂{c}"),
        })
        .collect();
    if bad.is_empty() {
        let worst = checks.iter().map(|c| c.max_rel_error).fold(0.0, f64::max);
        Ok(format!(
            "∂L/∂{{{}}} match finite differences (worst relative error {worst:.0e})",
            names.join(", ")
        ))
    } else {
        Err(format!(
            "wrong gradient (tolerance {GRAD_TOL:.0e}):\n{}",
            bad.join("\n")
        ))
    }
}

/// The largest |a − b| and where, or an error naming `what`.
fn same(
    what: &str,
    got: &Array2<f64>,
    want: &Array2<f64>,
) -> Result<(), String> {
    check_shape(what, got, want.dim())?;
    let (mut worst, mut at) = (0.0f64, (0, 0));
    for ((ij, g), w) in got.indexed_iter().zip(want.iter()) {
        let d = (g - w).abs();
        if d.is_nan() || d > worst {
            (worst, at) = (d, ij);
        }
    }
    if worst <= VALUE_TOL {
        Ok(())
    } else {
        Err(format!(
            "{what} is off by {worst:.3e} at {at:?} (got {:.6}, expected {:.6})",
            got[at], want[at]
        ))
    }
}

fn update_gate_backward(a: &Answers) -> Result<String, String> {
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
fn hold(p: &GruParams<f64>, gate: char, value: f64) -> GruParams<f64> {
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

fn one_gate(a: Step, gate: char, value: f64) -> Result<String, String> {
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

fn reset_gate_only(a: &Answers) -> Result<String, String> {
    one_gate(a.gru_reset_gate_only, 'z', 0.0)
}

fn update_gate_only(a: &Answers) -> Result<String, String> {
    one_gate(a.gru_update_gate_only, 'r', 1.0)
}

/// H_t of a GRU whose gates are held at `gates[s]` at step s.
fn held_run(
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

fn gates_for_input_at(a: &Answers) -> Result<String, String> {
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

fn memory_cell_backward(a: &Answers) -> Result<String, String> {
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

fn two_layer_gru(a: &Answers) -> Result<String, String> {
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
