//! Reference solutions, which `cargo test --workspace` runs through the
//! same checker. Try the exercises in `learner.rs` before reading on.

use ch_birnn::scratch::{reverse_steps, BiCache, Bidirectional, Both};
use ch_gru::scratch::{
    gru_step, gru_step_backward, Gru, GruCache, GruParams, Variant,
};
use ch_lstm::scratch::LstmCache;
use ch_rnn::scratch::{RnnCache, RnnParams};
use d2l::rnn::{backward_seq, sigmoid, tanh, Input};
use ndarray::{Array2, Axis};

use crate::{GateValues, MemoryCellGrads, TwoLayerGru};

pub fn rnn_step_backward(
    p: &RnnParams<f64>,
    x: &Array2<f64>,
    cache: &RnnCache<f64>,
    dh: &Array2<f64>,
    g: &mut RnnParams<f64>,
) -> Array2<f64> {
    // tanh' = 1 − H_t², then each term of A = X W_xh + H_{t−1} W_hh + b_h.
    let da = dh * &cache.h.mapv(|h| 1.0 - h * h);
    g.w_xh += &x.t().dot(&da);
    g.w_hh += &cache.h_prev.t().dot(&da);
    g.b_h += &da.sum_axis(Axis(0));
    da.dot(&p.w_hh.t())
}

pub fn gru_update_gate_backward(
    cache: &GruCache<f64>,
    dh: &Array2<f64>,
) -> Array2<f64> {
    // ∂H_t/∂Z = H_{t−1} − H̃, then σ' = Z (1 − Z).
    let dz = dh * &(&cache.h_prev - &cache.h_tilde);
    dz * &cache.z.mapv(|z| z * (1.0 - z))
}

pub fn gru_reset_gate_only(
    p: &GruParams<f64>,
    x: &Array2<f64>,
    h_prev: &Array2<f64>,
) -> Array2<f64> {
    let r = sigmoid(x.dot(&p.w_xr) + h_prev.dot(&p.w_hr) + &p.b_r);
    tanh(x.dot(&p.w_xh) + (&r * h_prev).dot(&p.w_hh) + &p.b_h)
}

pub fn gru_update_gate_only(
    p: &GruParams<f64>,
    x: &Array2<f64>,
    h_prev: &Array2<f64>,
) -> Array2<f64> {
    let z = sigmoid(x.dot(&p.w_xz) + h_prev.dot(&p.w_hz) + &p.b_z);
    let h_tilde = tanh(x.dot(&p.w_xh) + h_prev.dot(&p.w_hh) + &p.b_h);
    &z * h_prev + z.mapv(|v| 1.0 - v) * &h_tilde
}

pub fn gru_gates_for_input_at(t_prime: usize, t: usize) -> Vec<GateValues> {
    (0..=t)
        .map(|s| match s.cmp(&t_prime) {
            // Before t′ nothing matters: step t′ forgets it all.
            std::cmp::Ordering::Less => GateValues {
                reset: 0.5,
                update: 0.5,
            },
            // At t′: R = 0 drops H_{t′−1} from the candidate, Z = 0 takes
            // the candidate, which now depends on X_{t′} alone.
            std::cmp::Ordering::Equal => GateValues {
                reset: 0.0,
                update: 0.0,
            },
            // After t′: Z = 1 copies the state and ignores the input
            // (R no longer matters).
            std::cmp::Ordering::Greater => GateValues {
                reset: 0.5,
                update: 1.0,
            },
        })
        .collect()
}

pub fn lstm_memory_cell_backward(
    cache: &LstmCache<f64>,
    dh: &Array2<f64>,
    dc: &Array2<f64>,
) -> MemoryCellGrads {
    let LstmCache {
        c_prev,
        i,
        f,
        o,
        c_tilde,
        tanh_c,
        ..
    } = cache;
    // Everything that reaches C_t: from step t + 1, and through H_t.
    let dc = dc + &(dh * o * &tanh_c.mapv(|t| 1.0 - t * t));
    let dsig = |s: &Array2<f64>| s.mapv(|v| v * (1.0 - v));
    MemoryCellGrads {
        dc_prev: &dc * f,
        da_i: &dc * c_tilde * &dsig(i),
        da_f: &dc * c_prev * &dsig(f),
        da_c: &dc * i * &c_tilde.mapv(|t| 1.0 - t * t),
    }
}

pub fn two_layer_gru_step(
    p: &[GruParams<f64>; 2],
    x: &Array2<f64>,
    h: &[Array2<f64>; 2],
) -> TwoLayerGru {
    let v = Variant::ResetBefore;
    let (h0, cache0) = gru_step(&p[0], v, &Input::Dense(x.view()), &h[0]);
    let (h1, cache1) = gru_step(&p[1], v, &Input::Dense(h0.view()), &h[1]);
    TwoLayerGru {
        h: [h0, h1],
        caches: [cache0, cache1],
    }
}

pub fn two_layer_gru_step_backward(
    p: &[GruParams<f64>; 2],
    x: &Array2<f64>,
    step: &TwoLayerGru,
    dh: &[Array2<f64>; 2],
    g: &mut [GruParams<f64>; 2],
) -> [Array2<f64>; 2] {
    let v = Variant::ResetBefore;
    let [g0, g1] = g;
    let layer1_input = Input::Dense(step.h[0].view());
    let (dh1_prev, dx1) =
        gru_step_backward(&p[1], v, &layer1_input, &step.caches[1], &dh[1], g1);
    // Layer 1 read layer 0's H_t, so its input gradient joins layer 0's.
    let dh0 = &dh[0] + &dx1.expect("a dense input has a gradient");
    let (dh0_prev, _) = gru_step_backward(
        &p[0],
        v,
        &Input::Dense(x.view()),
        &step.caches[0],
        &dh0,
        g0,
    );
    [dh0_prev, dh1_prev]
}

pub fn bidirectional_backward(
    layer: &Bidirectional<Gru>,
    p: &Both<GruParams<f64>>,
    xs: &[Array2<f64>],
    cache: &BiCache<GruCache<f64>>,
    d_o: &Array2<f64>,
    g: &mut Both<GruParams<f64>>,
) -> Vec<Array2<f64>> {
    let batch = xs[0].nrows();
    let h = d_o.ncols() / 2;
    let inputs: Vec<Input<f64>> =
        xs.iter().map(|x| Input::Dense(x.view())).collect();
    // The first h columns are →H's, and go back from the last step.
    let dh_fwd = d_o.slice(ndarray::s![.., ..h]);
    let cell = &layer.cell;
    let (_, dx_fwd) =
        backward_seq(cell, &p.fwd, &inputs, &cache.fwd, dh_fwd, &mut g.fwd);
    // ←H read the steps last first: so do its inputs and its gradients.
    let reversed: Vec<Input<f64>> = inputs.iter().rev().copied().collect();
    let dh_bwd = reverse_steps(d_o.slice(ndarray::s![.., h..]), batch);
    let (_, dx_bwd) = backward_seq(
        cell,
        &p.bwd,
        &reversed,
        &cache.bwd,
        dh_bwd.view(),
        &mut g.bwd,
    );
    // X_t was read by both: its gradient is the sum.
    dx_fwd
        .into_iter()
        .zip(dx_bwd.into_iter().rev())
        .map(|(a, b)| a.expect("dense") + b.expect("dense"))
        .collect()
}
