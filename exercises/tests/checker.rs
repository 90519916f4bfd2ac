//! The checker passes the reference solutions, and fails wrong answers
//! with a message that says what is wrong: so it can fail, and a learner
//! learns something when it does.

use ch_gru::scratch::GruCache;
use exercises::checker::{grade, Outcome, EXERCISES};
use exercises::{demo, solutions, Answers, GateValues, REFERENCE};
use ndarray::Array2;

fn outcome(id: &str, answers: &Answers) -> Outcome {
    let e = EXERCISES.iter().find(|e| e.id == id).expect("known id");
    grade(e, answers)
}

fn failure(id: &str, answers: &Answers) -> String {
    match outcome(id, answers) {
        Outcome::Failed(why) => why,
        other => panic!("{id}: expected a failure, got {other:?}"),
    }
}

/// The checker fails `answers` on exercise `id` with a message that says
/// each of `says`.
fn fails_saying(id: &str, answers: &Answers, says: &[&str]) {
    let why = failure(id, answers);
    for s in says {
        assert!(why.contains(s), "no {s} in: {why}");
    }
}

#[test]
fn every_reference_solution_passes() {
    for e in &EXERCISES {
        let got = grade(e, &REFERENCE);
        assert!(matches!(got, Outcome::Passed(_)), "{}: {got:?}", e.id);
    }
}

#[test]
fn a_stub_that_calls_todo_is_not_done_rather_than_failed() {
    fn stub(_: &GruCache<f64>, _: &Array2<f64>) -> Array2<f64> {
        todo!("write me")
    }
    let answers = Answers {
        gru_update_gate_backward: stub,
        ..REFERENCE
    };
    assert_eq!(
        outcome("gru-update-gate-backward", &answers),
        Outcome::NotDone
    );
}

#[test]
fn a_missing_sigmoid_derivative_names_the_update_gate_gradients() {
    let why = failure(
        "gru-update-gate-backward",
        &Answers {
            gru_update_gate_backward: demo::forgets_sigmoid_derivative,
            ..REFERENCE
        },
    );
    for name in ["∂L/∂w_xz", "∂L/∂w_hz", "∂L/∂b_z", "max relative error"]
    {
        assert!(why.contains(name), "no {name} in: {why}");
    }
}

#[test]
fn the_report_in_the_book_is_what_the_checker_prints_today() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../book/results/checker-demo.txt"
    );
    let today = demo::checker_demo();
    let book = std::fs::read_to_string(path).unwrap_or_default();
    if book != today && d2l::testkit::agreement::blessing() {
        // Rewritten, and still a failure: the next run checks the file.
        std::fs::write(path, &today).unwrap();
        panic!("rewrote {path}; run the tests again without D2L_BLESS");
    }
    assert_eq!(
        book, today,
        "book/results/checker-demo.txt is stale: run scripts/regenerate-results \
         or D2L_BLESS=1 cargo test -p exercises"
    );
}

#[test]
fn an_rnn_backward_that_forgets_tanh_prime_is_caught() {
    // dA = dH, as if H_t were A itself: every gradient is off.
    let answers = Answers {
        rnn_step_backward: |p, x, cache, dh, g| {
            let no_tanh = ch_rnn::scratch::RnnCache {
                h: Array2::zeros(cache.h.raw_dim()),
                ..cache.clone()
            };
            solutions::rnn_step_backward(p, x, &no_tanh, dh, g)
        },
        ..REFERENCE
    };
    fails_saying(
        "rnn-step-backward",
        &answers,
        &["∂L/∂w_hh", "∂L/∂H_{t−1}", "your g", "your return value"],
    );
}

#[test]
fn a_memory_cell_backward_without_the_path_through_h_is_caught() {
    // Uses only the ∂L/∂C_t from step t + 1, forgetting H_t = O ⊙ tanh(C_t).
    let answers = Answers {
        lstm_memory_cell_backward: |cache, _dh, dc| {
            let zero = Array2::zeros(dc.raw_dim());
            solutions::lstm_memory_cell_backward(cache, &zero, dc)
        },
        ..REFERENCE
    };
    fails_saying(
        "lstm-memory-cell-backward",
        &answers,
        &["∂L/∂C_{t−1}", "∂L/∂w_xf"],
    );
}

#[test]
fn a_two_layer_backward_that_drops_the_gradient_down_the_stack_is_caught() {
    use ch_gru::scratch::{gru_step_backward, Variant::ResetBefore};
    use d2l::rnn::Input::Dense;
    // Layer 1's input gradient is dropped instead of joining layer 0's: as
    // if the layers were not connected.
    let answers = Answers {
        two_layer_gru_step_backward: |p, x, step, dh, [g0, g1]| {
            let (top, c) = (Dense(step.h[0].view()), &step.caches);
            let (d1, _dx) =
                gru_step_backward(&p[1], ResetBefore, &top, &c[1], &dh[1], g1);
            let bottom = Dense(x.view());
            let (d0, _) = gru_step_backward(
                &p[0],
                ResetBefore,
                &bottom,
                &c[0],
                &dh[0],
                g0,
            );
            [d0, d1]
        },
        ..REFERENCE
    };
    let why = failure("two-layer-gru", &answers);
    assert!(why.contains("∂L/∂l0.w_xz"), "{why}");
    assert!(!why.contains("∂L/∂l1."), "layer 1 is right: {why}");
}

#[test]
fn gates_that_let_later_inputs_overwrite_the_state_are_caught() {
    // Z = 0 everywhere: every step takes its own input, so the last
    // candidate overwrites what X_{t′} wrote.
    let answers = Answers {
        gru_gates_for_input_at: |_t_prime, t| {
            let open = GateValues {
                reset: 0.0,
                update: 0.0,
            };
            vec![open; t + 1]
        },
        ..REFERENCE
    };
    fails_saying(
        "gru-gates-for-input-at",
        &answers,
        &["H_t does not depend on X_{t′}"],
    );
}

#[test]
fn a_one_gate_gru_that_keeps_both_gates_is_caught() {
    use ch_gru::scratch::{gru_step, Variant::ResetBefore};
    let answers = Answers {
        gru_reset_gate_only: |p, x, h| {
            gru_step(p, ResetBefore, &d2l::rnn::Input::Dense(x.view()), h).0
        },
        ..REFERENCE
    };
    fails_saying("gru-reset-gate-only", &answers, &["H_t is off by"]);
}

#[test]
fn gates_that_half_open_after_t_prime_are_caught() {
    // Right at t′, but Z = 0.5 afterwards lets the later inputs leak in.
    let answers = Answers {
        gru_gates_for_input_at: |t_prime, t| {
            let mut gates = solutions::gru_gates_for_input_at(t_prime, t);
            for g in &mut gates[t_prime + 1..] {
                g.update = 0.5;
            }
            gates
        },
        ..REFERENCE
    };
    fails_saying(
        "gru-gates-for-input-at",
        &answers,
        &["H_t still depends on X_3"],
    );
}

#[test]
fn a_panic_other_than_todo_is_a_failure_with_its_message() {
    let answers = Answers {
        gru_gates_for_input_at: |_, _| panic!("index out of bounds"),
        ..REFERENCE
    };
    let why = failure("gru-gates-for-input-at", &answers);
    assert_eq!(why, "panicked: index out of bounds");
}

#[test]
fn a_bidirectional_backward_that_forgets_to_reverse_is_caught() {
    // The backward direction's slice of ∂L/∂O handed over in the order
    // of the steps, not in the order that direction read them.
    let answers = Answers {
        bidirectional_backward: |layer, p, xs, cache, d_o, g| {
            let h = d_o.ncols() / 2;
            let batch = xs[0].nrows();
            let mut wrong = d_o.clone();
            let unreversed = ch_birnn::scratch::reverse_steps(
                d_o.slice(ndarray::s![.., h..]),
                batch,
            );
            wrong.slice_mut(ndarray::s![.., h..]).assign(&unreversed);
            solutions::bidirectional_backward(layer, p, xs, cache, &wrong, g)
        },
        ..REFERENCE
    };
    fails_saying(
        "bidirectional-backward",
        &answers,
        &["∂L/∂bwd.w_hz", "your g", "your return value"],
    );
    // The forward direction is right, and not blamed.
    let why = failure("bidirectional-backward", &answers);
    assert!(!why.contains("∂L/∂fwd."), "{why}");
}
