//! Grades a set of [`Answers`]: every exercise is run against the real
//! models of the chapters, and gradients against central finite
//! differences of the real forward steps, so an answer passes only if it
//! is right, not if it matches a stored number.
//!
//! `tools.rs` holds what every check uses (sizes, random inputs, the
//! verdicts); `rnn.rs` the plain RNN chapter's; `gru.rs` the GRU
//! chapter's exercises; `deep.rs` the LSTM's
//! and the deep chapter's; `birnn.rs` the bidirectional chapter's.

mod birnn;
mod deep;
mod gru;
mod rnn;
mod tools;

use crate::Answers;
use deep::{memory_cell_backward, two_layer_gru};
use gru::{
    gates_for_input_at, reset_gate_only, update_gate_backward, update_gate_only,
};
use std::panic::{catch_unwind, AssertUnwindSafe};

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
pub const EXERCISES: [Exercise; 8] = [
    Exercise {
        id: "rnn-step-backward",
        title: "Plain RNN: the backward step by hand",
        stubs: "rnn_step_backward",
        hint: "dA = dH ⊙ (1 − H_t ⊙ H_t) first; then X_tᵀ dA, H_{t−1}ᵀ dA, the column sums of dA, and dA W_hhᵀ",
        check: rnn::step_backward,
    },
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
    Exercise {
        id: "bidirectional-backward",
        title: "Bidirectional RNN: the backward pass of both directions",
        stubs: "bidirectional_backward",
        hint: "the backward direction read the steps last first: reverse its inputs and its slice of d_o, then reverse the dXs it returns before adding",
        check: birnn::backward,
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
