//! Your answers. Each function below is an exercise from the book; replace
//! its `todo!()` with your code, then run
//!
//! ```console
//! $ cargo run -p exercises
//! ```
//!
//! which checks every exercise and says, for each, whether it passed or
//! what is wrong: which gradient, how far off. The book's "Exercises and
//! the checker" page explains each one.

#![allow(unused_variables)]
// Everything the stubs need is imported here, so each compiles as given;
// the allow keeps the untouched file quiet.
#![allow(unused_imports)]

use ch_birnn::scratch::{reverse_steps, BiCache, Bidirectional, Both};
use ch_gru::scratch::{
    gru_step, gru_step_backward, Gru, GruCache, GruParams, Variant,
};
use ch_lstm::scratch::LstmCache;
use ch_rnn::scratch::{rnn_step, RnnCache, RnnParams};
use d2l::rnn::{backward_seq, sigmoid, tanh, Input};
use ndarray::{Array2, Axis};

pub use crate::{GateValues, MemoryCellGrads, TwoLayerGru};

// ANCHOR: rnn_step_backward
/// Plain RNN chapter. One step computed H_t = tanh(A), with
/// A = X_t W_xh + H_{t−1} W_hh + b_h. Given `x` = X_t, that step's cache
/// and `dh` = ∂L/∂H_t, add ∂L/∂W_xh, ∂L/∂W_hh and ∂L/∂b_h into `g`, and
/// return ∂L/∂H_{t−1}, `(batch, hiddens)`. Write it before you read the
/// chapter's `rnn_step_backward`.
///
/// The checker compares every gradient with finite differences of the
/// real `rnn_step`.
///
/// Book: "The plain RNN", section "The backward step". Uses the cache's
/// fields `h_prev` and `h` (H_t), and `p.w_hh`.
pub fn rnn_step_backward(
    p: &RnnParams<f64>,
    x: &Array2<f64>,
    cache: &RnnCache<f64>,
    dh: &Array2<f64>,
    g: &mut RnnParams<f64>,
) -> Array2<f64> {
    todo!("∂L/∂W_xh, ∂L/∂W_hh and ∂L/∂b_h into g; return ∂L/∂H_{{t−1}}")
}
// ANCHOR_END: rnn_step_backward

// ANCHOR: gru_update_gate_backward
/// GRU chapter. One step computed H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃ with
/// Z = σ(A_z), A_z = X W_xz + H_{t−1} W_hz + b_z (d2l's reset-before GRU).
/// Given that step's cache and `dh` = ∂L/∂H_t, return ∂L/∂A_z, the
/// gradient at the update gate's pre-activation, `(batch, hiddens)`.
///
/// The checker turns your answer into ∂L/∂W_xz, ∂L/∂W_hz and ∂L/∂b_z and
/// compares them with finite differences of the real `gru_step`.
///
/// Book: "Gated recurrent units (GRU)", section "The backward step". Uses the
/// cache's fields `h_prev`, `z` and `h_tilde`.
pub fn gru_update_gate_backward(
    cache: &GruCache<f64>,
    dh: &Array2<f64>,
) -> Array2<f64> {
    todo!("∂L/∂A_z from dh, through H_t and through σ")
}
// ANCHOR_END: gru_update_gate_backward

// ANCHOR: gru_one_gate
/// GRU chapter, d2l's exercise "compare a GRU with only a reset gate".
/// One step of that model: no update gate, so H_t = H̃_t, with
/// H̃_t = tanh(X W_xh + (R ⊙ H_{t−1}) W_hh + b_h) and R as in the GRU.
/// Use the fields of `p` you need and ignore the update gate's.
///
/// Book: "Gated recurrent units (GRU)", sections "The gates" and "The
/// candidate state and the new state" (exercise 5). Uses `sigmoid`,
/// `tanh` and `ndarray`'s `dot`; `x` is dense here, so X W is
/// `x.dot(&p.w_xr)`.
pub fn gru_reset_gate_only(
    p: &GruParams<f64>,
    x: &Array2<f64>,
    h_prev: &Array2<f64>,
) -> Array2<f64> {
    todo!("H_t of a GRU that has only a reset gate")
}

/// The same with only an update gate: no reset gate, so the candidate
/// reads all of H_{t−1}: H̃_t = tanh(X W_xh + H_{t−1} W_hh + b_h), and
/// H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃_t. Uses the same functions.
pub fn gru_update_gate_only(
    p: &GruParams<f64>,
    x: &Array2<f64>,
    h_prev: &Array2<f64>,
) -> Array2<f64> {
    todo!("H_t of a GRU that has only an update gate")
}
// ANCHOR_END: gru_one_gate

// ANCHOR: gru_gates_for_input_at
/// GRU chapter, d2l's exercise 1: "we only want to use the input at time
/// step t′ to predict the output at time step t > t′. What are the best
/// values for the reset and update gates for each time step?"
///
/// Return the gate values for steps 0, 1, …, t (so `t + 1` entries), each
/// in [0, 1]. The checker runs a GRU whose gates are held at your values
/// and checks that H_t changes when X_{t′} does, and does not change when
/// any other input, or the initial state, does.
///
/// Book: "Gated recurrent units (GRU)", exercise 2. No functions needed: each
/// `GateValues` holds a reset and an update value.
pub fn gru_gates_for_input_at(t_prime: usize, t: usize) -> Vec<GateValues> {
    todo!("the reset and update gate values for steps 0..=t")
}
// ANCHOR_END: gru_gates_for_input_at

// ANCHOR: lstm_memory_cell_backward
/// LSTM chapter: backward through the memory cell
/// C_t = F ⊙ C_{t−1} + I ⊙ C̃ and H_t = O ⊙ tanh(C_t).
///
/// `dh` and `dc` are ∂L/∂H_t and ∂L/∂C_t as they arrive from the output
/// layer and from step t + 1. Return ∂L/∂C_{t−1} and the gradients at the
/// pre-activations of the input gate, the forget gate and the candidate
/// (I = σ(A_i), F = σ(A_f), C̃ = tanh(A_c)).
///
/// Book: "Long short-term memory (LSTM)", section "The backward step, and
/// the path of dC through time". Uses the cache's fields (`c_prev`, `i`,
/// `f`, `o`, `c_tilde`, and `tanh_c` = tanh(C_t)) and returns a
/// `MemoryCellGrads { dc_prev, da_i, da_f, da_c }`.
pub fn lstm_memory_cell_backward(
    cache: &LstmCache<f64>,
    dh: &Array2<f64>,
    dc: &Array2<f64>,
) -> MemoryCellGrads {
    todo!("∂L/∂C_{{t−1}}, ∂L/∂A_i, ∂L/∂A_f and ∂L/∂A_c")
}
// ANCHOR_END: lstm_memory_cell_backward

// ANCHOR: two_layer_gru
/// Deep RNN chapter, d2l's exercise "implement a two-layer RNN from
/// scratch using the single-layer implementation": one time step of two
/// stacked GRU layers, built from `ch_gru::scratch::gru_step`. Layer 0
/// reads `x`, layer 1 reads layer 0's new hidden state. `h` holds the two
/// layers' H_{t−1}; return their H_t and the two caches.
///
/// Book: "Deep recurrent networks", section "A stack is a cell". Uses
/// `gru_step(&p[l], Variant::ResetBefore, &input, &h[l])`, where a dense
/// input is `Input::Dense(x.view())`; returns `TwoLayerGru { h, caches }`.
pub fn two_layer_gru_step(
    p: &[GruParams<f64>; 2],
    x: &Array2<f64>,
    h: &[Array2<f64>; 2],
) -> TwoLayerGru {
    todo!("layer 0 on x, then layer 1 on layer 0's H_t")
}

/// The same step backward, from `gru_step_backward`. `dh` holds ∂L/∂H_t
/// of each layer from outside the step (the output layer, step t + 1).
/// Add the parameter gradients into `g`, and return ∂L/∂H_{t−1} of each
/// layer. Remember what layer 1's input was.
///
/// Book: "Deep recurrent networks", section "Gradients down the layers and
/// back through time". The stubs count layers 0 and 1, as the code does;
/// the book calls them layers 1 and 2. Uses `gru_step_backward(&p[l], Variant::ResetBefore, &input, cache,
/// &dh, &mut g[l])`, which returns (∂L/∂H_{t−1}, ∂L/∂X_t) and the second
/// is `Some` for a dense input.
pub fn two_layer_gru_step_backward(
    p: &[GruParams<f64>; 2],
    x: &Array2<f64>,
    step: &TwoLayerGru,
    dh: &[Array2<f64>; 2],
    g: &mut [GruParams<f64>; 2],
) -> [Array2<f64>; 2] {
    todo!("layer 1 first; its input gradient joins layer 0's dh")
}
// ANCHOR_END: two_layer_gru

// ANCHOR: bidirectional_backward
/// Bidirectional RNN chapter. `layer.forward(p, xs, state)` ran both
/// directions over the dense inputs `xs` and returned O, whose step t is
/// [→H_t, ←H_t]. Given that pass's `cache` and `d_o` = ∂L/∂O (stacked
/// time-major, `(steps · batch, 2 · hiddens)`), add every parameter
/// gradient of both directions into `g`, and return ∂L/∂X_t for every
/// step, `(batch, inputs)` each, in the order of `xs`.
///
/// The checker compares every gradient with finite differences of the
/// real `layer.forward`.
///
/// Book: "Bidirectional RNNs", section "The backward pass". Uses
/// `backward_seq` once per direction (it takes the inputs as
/// `Input::Dense(x.view())`), `reverse_steps`, and `layer.cell`.
pub fn bidirectional_backward(
    layer: &Bidirectional<Gru>,
    p: &Both<GruParams<f64>>,
    xs: &[Array2<f64>],
    cache: &BiCache<GruCache<f64>>,
    d_o: &Array2<f64>,
    g: &mut Both<GruParams<f64>>,
) -> Vec<Array2<f64>> {
    todo!("split d_o, run each direction back through time, add the dXs")
}
// ANCHOR_END: bidirectional_backward
