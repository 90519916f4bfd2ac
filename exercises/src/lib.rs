//! The book's exercises, and the checker that grades them.
//!
//! - `learner.rs` holds a stub (`todo!()`) for every exercise with a
//!   checkable answer: that is where the learner writes.
//! - `solutions.rs` holds reference solutions.
//! - [`checker`] grades either set against the real models: finite
//!   differences for gradients, the chapters' own cells for forward steps.
//!
//! `cargo run -p exercises` grades the learner's answers;
//! `cargo test --workspace` grades the reference solutions, so it stays
//! green while the stubs are untouched.

pub mod checker;
pub mod demo;
pub mod learner;
pub mod solutions;

use ch_birnn::scratch::{BiCache, Bidirectional, Both};
use ch_gru::scratch::{Gru, GruCache, GruParams};
use ch_lstm::scratch::LstmCache;
use ch_rnn::scratch::{RnnCache, RnnParams};
use ndarray::Array2;

/// The plain RNN's backward step: (parameters, X_t, the step's cache,
/// ∂L/∂H_t, gradients to add into) → ∂L/∂H_{t−1}.
pub type RnnBackward = fn(
    &RnnParams<f64>,
    &Array2<f64>,
    &RnnCache<f64>,
    &Array2<f64>,
    &mut RnnParams<f64>,
) -> Array2<f64>;

/// Values to hold a GRU's gates at, for one time step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateValues {
    pub reset: f64,
    pub update: f64,
}

/// The gradients of the LSTM's memory-cell exercise.
#[derive(Debug, Clone)]
pub struct MemoryCellGrads {
    /// ∂L/∂C_{t−1}
    pub dc_prev: Array2<f64>,
    /// ∂L/∂A_i, at the input gate's pre-activation.
    pub da_i: Array2<f64>,
    /// ∂L/∂A_f, at the forget gate's pre-activation.
    pub da_f: Array2<f64>,
    /// ∂L/∂A_c, at the candidate's pre-activation.
    pub da_c: Array2<f64>,
}

/// One step of two stacked GRU layers: each layer's H_t and cache.
#[derive(Debug, Clone)]
pub struct TwoLayerGru {
    pub h: [Array2<f64>; 2],
    pub caches: [GruCache<f64>; 2],
}

/// One step forward: (parameters, X_t, H_{t−1}) → H_t.
pub type Step = fn(&GruParams<f64>, &Array2<f64>, &Array2<f64>) -> Array2<f64>;

/// Two stacked layers, one step: (parameters, X_t, each H_{t−1}).
pub type TwoLayerStep =
    fn(&[GruParams<f64>; 2], &Array2<f64>, &[Array2<f64>; 2]) -> TwoLayerGru;
/// Its backward: (parameters, X_t, the step, each ∂L/∂H_t, gradients)
/// → each ∂L/∂H_{t−1}.
pub type TwoLayerBackward = fn(
    &[GruParams<f64>; 2],
    &Array2<f64>,
    &TwoLayerGru,
    &[Array2<f64>; 2],
    &mut [GruParams<f64>; 2],
) -> [Array2<f64>; 2];

/// A bidirectional GRU layer's backward pass: (the layer, both
/// directions' parameters, X_t of every step, the forward pass's caches,
/// ∂L/∂O of every step stacked time-major `(steps · batch, 2 · hiddens)`,
/// gradients to add into) → ∂L/∂X_t of every step.
pub type BiBackward = fn(
    &Bidirectional<Gru>,
    &Both<GruParams<f64>>,
    &[Array2<f64>],
    &BiCache<GruCache<f64>>,
    &Array2<f64>,
    &mut Both<GruParams<f64>>,
) -> Vec<Array2<f64>>;

/// One set of answers: the learner's or the reference solutions.
#[derive(Clone, Copy)]
pub struct Answers {
    pub rnn_step_backward: RnnBackward,
    pub gru_update_gate_backward:
        fn(&GruCache<f64>, &Array2<f64>) -> Array2<f64>,
    pub gru_reset_gate_only: Step,
    pub gru_update_gate_only: Step,
    pub gru_gates_for_input_at: fn(usize, usize) -> Vec<GateValues>,
    pub lstm_memory_cell_backward:
        fn(&LstmCache<f64>, &Array2<f64>, &Array2<f64>) -> MemoryCellGrads,
    pub two_layer_gru_step: TwoLayerStep,
    pub two_layer_gru_step_backward: TwoLayerBackward,
    pub bidirectional_backward: BiBackward,
}

macro_rules! answers {
    ($m:ident) => {
        Answers {
            rnn_step_backward: $m::rnn_step_backward,
            gru_update_gate_backward: $m::gru_update_gate_backward,
            gru_reset_gate_only: $m::gru_reset_gate_only,
            gru_update_gate_only: $m::gru_update_gate_only,
            gru_gates_for_input_at: $m::gru_gates_for_input_at,
            lstm_memory_cell_backward: $m::lstm_memory_cell_backward,
            two_layer_gru_step: $m::two_layer_gru_step,
            two_layer_gru_step_backward: $m::two_layer_gru_step_backward,
            bidirectional_backward: $m::bidirectional_backward,
        }
    };
}

/// The learner's answers, from `learner.rs`.
pub const LEARNER: Answers = answers!(learner);
/// The reference solutions, from `solutions.rs`.
pub const REFERENCE: Answers = answers!(solutions);
