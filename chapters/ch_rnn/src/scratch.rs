//! The plain RNN from scratch: parameters, one step forward and the same
//! step backward, side by side. The loops over time, the output layer and
//! the training loop are the ones every cell shares (`d2l::rnn`,
//! `d2l::train`).

use d2l::rnn::{normal, tanh, Hidden, Input};
use ndarray::{Array1, Array2, Axis, NdFloat};
use rand::Rng;

// ANCHOR: rnn_params
d2l::tensors! {
    /// The plain RNN's parameters, named as in the book: a weight on X
    /// `(inputs, hiddens)`, a weight on H `(hiddens, hiddens)` and a bias.
    #[derive(Debug, Clone, PartialEq)]
    pub struct RnnParams<F> {
        pub w_xh: Array2<F>,
        pub w_hh: Array2<F>,
        pub b_h: Array1<F>,
    }
}

impl<F: NdFloat> RnnParams<F> {
    /// d2l's initialisation: every weight from N(0, 0.01²), the bias zero.
    pub fn new<R: Rng>(
        num_inputs: usize,
        num_hiddens: usize,
        rng: &mut R,
    ) -> Self {
        let (d, h) = (num_inputs, num_hiddens);
        Self {
            w_xh: normal((d, h), 0.01, rng),
            w_hh: normal((h, h), 0.01, rng),
            b_h: Array1::zeros(h),
        }
    }
}
// ANCHOR_END: rnn_params

/// What the backward step needs: H_{t−1}, and H_t for tanh's derivative.
#[derive(Debug, Clone)]
pub struct RnnCache<F> {
    pub h_prev: Array2<F>,
    pub h: Array2<F>,
}

// ANCHOR: rnn_step
/// One step of the plain RNN: the hidden state is all it carries.
///
/// # Shapes
/// `x`: `batch` rows; `state.h`: `(batch, hiddens)`.
pub fn rnn_step<F: NdFloat>(
    p: &RnnParams<F>,
    x: &Input<'_, F>,
    state: &Hidden<F>,
) -> (Hidden<F>, RnnCache<F>) {
    let h_prev = &state.h;
    // H_t = tanh(X_t W_xh + H_{t−1} W_hh + b_h)
    let h = tanh(x.dot(&p.w_xh) + h_prev.dot(&p.w_hh) + &p.b_h);
    let cache = RnnCache {
        h_prev: h_prev.clone(),
        h: h.clone(),
    };
    (Hidden { h }, cache)
}
// ANCHOR_END: rnn_step

// ANCHOR: rnn_step_backward
/// The same step backward. `d.h` is ∂L/∂H_t: from the output layer and
/// from step t + 1. Adds the parameter gradients into `g`; returns
/// ∂L/∂H_{t−1}, and ∂L/∂X_t for a dense input.
pub fn rnn_step_backward<F: NdFloat>(
    p: &RnnParams<F>,
    x: &Input<'_, F>,
    cache: &RnnCache<F>,
    d: &Hidden<F>,
    g: &mut RnnParams<F>,
) -> (Hidden<F>, Option<Array2<F>>) {
    let RnnCache { h_prev, h } = cache;
    // Through tanh: tanh'(a) = 1 − tanh²(a), so dA = dH_t ⊙ (1 − H_t ⊙ H_t).
    let da = &d.h * &h.mapv(|h| F::one() - h * h);
    // A = X_t W_xh + H_{t−1} W_hh + b_h: each term's gradient.
    x.add_t_dot(&da, &mut g.w_xh);
    g.w_hh += &h_prev.t().dot(&da);
    g.b_h += &da.sum_axis(Axis(0));
    // ∂L/∂H_{t−1} = dA W_hhᵀ: the only road back through time, and it
    // passes W_hh and tanh' at every step.
    let dh_prev = da.dot(&p.w_hh.t());
    let dx = match x {
        Input::Tokens(_) => None,
        Input::Dense(_) => Some(da.dot(&p.w_xh.t())),
    };
    (Hidden { h: dh_prev }, dx)
}
// ANCHOR_END: rnn_step_backward

// ANCHOR: rnn_cell
d2l::cell_of_steps! {
    /// A plain RNN cell: its sizes. Its parameters are an [`RnnParams`],
    /// which the model keeps.
    Rnn {
        params: RnnParams,
        state: Hidden { h },
        cache: RnnCache,
        step: rnn_step,
        backward: rnn_step_backward,
    }
}
// ANCHOR_END: rnn_cell
