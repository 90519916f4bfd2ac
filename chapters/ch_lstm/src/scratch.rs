//! The LSTM from scratch: parameters, one step forward and the same step
//! backward, side by side. The loops over time, the output layer and the
//! training loop are the ones the GRU uses (`d2l::rnn`, `d2l::train`).

use d2l::rnn::{normal, sigmoid, tanh, Input, State};
use ndarray::{Array1, Array2, Axis, NdFloat};
use rand::Rng;

// ANCHOR: lstm_params
d2l::tensors! {
    /// The LSTM's parameters, named as in the book: for each of the input (i),
    /// forget (f) and output (o) gates and the candidate memory cell (c), a
    /// weight on X `(inputs, hiddens)`, a weight on H `(hiddens, hiddens)` and
    /// a bias.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LstmParams<F> {
        pub w_xi: Array2<F>,
        pub w_hi: Array2<F>,
        pub b_i: Array1<F>,
        pub w_xf: Array2<F>,
        pub w_hf: Array2<F>,
        pub b_f: Array1<F>,
        pub w_xo: Array2<F>,
        pub w_ho: Array2<F>,
        pub b_o: Array1<F>,
        pub w_xc: Array2<F>,
        pub w_hc: Array2<F>,
        pub b_c: Array1<F>,
    }
}

impl<F: NdFloat> LstmParams<F> {
    /// d2l's initialisation: every weight from N(0, 0.01²), biases zero.
    pub fn new<R: Rng>(
        num_inputs: usize,
        num_hiddens: usize,
        rng: &mut R,
    ) -> Self {
        let (d, h) = (num_inputs, num_hiddens);
        Self {
            w_xi: normal((d, h), 0.01, rng),
            w_hi: normal((h, h), 0.01, rng),
            b_i: Array1::zeros(h),
            w_xf: normal((d, h), 0.01, rng),
            w_hf: normal((h, h), 0.01, rng),
            b_f: Array1::zeros(h),
            w_xo: normal((d, h), 0.01, rng),
            w_ho: normal((h, h), 0.01, rng),
            b_o: Array1::zeros(h),
            w_xc: normal((d, h), 0.01, rng),
            w_hc: normal((h, h), 0.01, rng),
            b_c: Array1::zeros(h),
        }
    }
}
// ANCHOR_END: lstm_params

// ANCHOR: lstm_state
d2l::tensors! {
    /// The LSTM carries two states: the hidden state H, which the output layer
    /// reads, and the memory cell C, which only the LSTM itself sees.
    #[derive(Debug, Clone, PartialEq)]
    pub struct LstmState<F> {
        /// `(batch, hiddens)`
        pub h: Array2<F>,
        /// `(batch, hiddens)`
        pub c: Array2<F>,
    }
}

impl<F: NdFloat> State<F> for LstmState<F> {
    fn h(&self) -> &Array2<F> {
        &self.h
    }
    fn h_mut(&mut self) -> &mut Array2<F> {
        &mut self.h
    }
}
// ANCHOR_END: lstm_state

/// What the backward step needs, gates after their activation.
#[derive(Debug, Clone)]
pub struct LstmCache<F> {
    pub h_prev: Array2<F>,
    pub c_prev: Array2<F>,
    pub i: Array2<F>,
    pub f: Array2<F>,
    pub o: Array2<F>,
    pub c_tilde: Array2<F>,
    /// tanh(C_t) (C_t itself in the variant without an output
    /// activation, `variants::Variant::Noaf`)
    pub tanh_c: Array2<F>,
}

// ANCHOR: lstm_step
/// One LSTM step.
///
/// # Shapes
/// `x`: `batch` rows; `state.h`, `state.c`: `(batch, hiddens)`.
pub fn lstm_step<F: NdFloat>(
    p: &LstmParams<F>,
    x: &Input<'_, F>,
    state: &LstmState<F>,
) -> (LstmState<F>, LstmCache<F>) {
    let h_prev = &state.h;
    // I_t = σ(X_t W_xi + H_{t−1} W_hi + b_i)
    let i = sigmoid(x.dot(&p.w_xi) + h_prev.dot(&p.w_hi) + &p.b_i);
    // F_t = σ(X_t W_xf + H_{t−1} W_hf + b_f)
    let f = sigmoid(x.dot(&p.w_xf) + h_prev.dot(&p.w_hf) + &p.b_f);
    // O_t = σ(X_t W_xo + H_{t−1} W_ho + b_o)
    let o = sigmoid(x.dot(&p.w_xo) + h_prev.dot(&p.w_ho) + &p.b_o);
    // C̃_t = tanh(X_t W_xc + H_{t−1} W_hc + b_c)
    let c_tilde = tanh(x.dot(&p.w_xc) + h_prev.dot(&p.w_hc) + &p.b_c);
    // C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t
    let c = &f * &state.c + &i * &c_tilde;
    // H_t = O_t ⊙ tanh(C_t)
    let tanh_c = c.mapv(F::tanh);
    let h = &o * &tanh_c;
    let cache = LstmCache {
        h_prev: h_prev.clone(),
        c_prev: state.c.clone(),
        i,
        f,
        o,
        c_tilde,
        tanh_c,
    };
    (LstmState { h, c }, cache)
}
// ANCHOR_END: lstm_step

// ANCHOR: lstm_step_backward
/// The same step backward. `d` holds ∂L/∂H_t and ∂L/∂C_t, everything that
/// reaches them from the output layer and from step t + 1. Adds the
/// parameter gradients into `g`; returns ∂L/∂H_{t−1} and ∂L/∂C_{t−1}, and
/// ∂L/∂X_t for a dense input.
pub fn lstm_step_backward<F: NdFloat>(
    p: &LstmParams<F>,
    x: &Input<'_, F>,
    cache: &LstmCache<F>,
    d: &LstmState<F>,
    g: &mut LstmParams<F>,
) -> (LstmState<F>, Option<Array2<F>>) {
    let LstmCache {
        h_prev,
        c_prev,
        i,
        f,
        o,
        c_tilde,
        tanh_c,
    } = cache;
    let one = F::one();
    // H_t = O_t ⊙ tanh(C_t): to O_t, and on to C_t through tanh.
    let d_o = &d.h * tanh_c;
    let dc = &d.c + &(&d.h * o * &tanh_c.mapv(|t| one - t * t));
    // C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t: the memory path runs straight back.
    let dc_prev = &dc * f;
    let d_f = &dc * c_prev;
    let d_i = &dc * c_tilde;
    let d_c_tilde = &dc * i;
    // Through the activations: σ'(a) = σ(a)(1 − σ(a)) and
    // tanh'(a) = 1 − tanh²(a), entry by entry.
    let dsig = |s: &Array2<F>| s.mapv(|v| v * (one - v));
    let da_i = d_i * &dsig(i);
    let da_f = d_f * &dsig(f);
    let da_o = d_o * &dsig(o);
    let da_c = d_c_tilde * &c_tilde.mapv(|t| one - t * t);

    // Every gate is act(X W_x· + H_{t−1} W_h· + b_·).
    let mut dh_prev = Array2::zeros(h_prev.raw_dim());
    let mut dx = match x {
        Input::Tokens(_) => None,
        Input::Dense(v) => Some(Array2::zeros(v.raw_dim())),
    };
    for (da, w_x, w_h, dw_x, dw_h, db) in [
        (
            &da_i,
            &p.w_xi,
            &p.w_hi,
            &mut g.w_xi,
            &mut g.w_hi,
            &mut g.b_i,
        ),
        (
            &da_f,
            &p.w_xf,
            &p.w_hf,
            &mut g.w_xf,
            &mut g.w_hf,
            &mut g.b_f,
        ),
        (
            &da_o,
            &p.w_xo,
            &p.w_ho,
            &mut g.w_xo,
            &mut g.w_ho,
            &mut g.b_o,
        ),
        (
            &da_c,
            &p.w_xc,
            &p.w_hc,
            &mut g.w_xc,
            &mut g.w_hc,
            &mut g.b_c,
        ),
    ] {
        x.add_t_dot(da, dw_x);
        *dw_h += &h_prev.t().dot(da);
        *db += &da.sum_axis(Axis(0));
        dh_prev += &da.dot(&w_h.t());
        if let Some(dx) = dx.as_mut() {
            *dx += &da.dot(&w_x.t());
        }
    }
    let d_prev = LstmState {
        h: dh_prev,
        c: dc_prev,
    };
    (d_prev, dx)
}
// ANCHOR_END: lstm_step_backward

d2l::cell_of_steps! {
    /// An LSTM cell: its sizes. Its parameters are an [`LstmParams`], which
    /// the model keeps.
    Lstm {
        params: LstmParams,
        state: LstmState { h, c },
        cache: LstmCache,
        step: lstm_step,
        backward: lstm_step_backward,
    }
}
