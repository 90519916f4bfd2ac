//! The GRU from scratch: parameters, one step forward and the same step
//! backward, side by side. The loops over time, the output layer and the
//! training loop are shared by every cell (`d2l::rnn`, `d2l::train`).

use d2l::rnn::{normal, sigmoid, tanh, Cell, Hidden, Input};
use ndarray::{Array1, Array2, NdFloat};
use rand::Rng;

/// Where the reset gate acts in the candidate state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// d2l's GRU, the one this book teaches:
    /// H̃ = tanh(X W_xh + (R ⊙ H) W_hh + b_h).
    ResetBefore,
    /// PyTorch's and cuDNN's GRU (what `tch::nn::gru` computes):
    /// H̃ = tanh(X W_xh + b_h + R ⊙ (H W_hh + b_hh)).
    ResetAfter,
}

// ANCHOR: gru_params
d2l::tensors! {
    /// The GRU's parameters, named as in the book. Weights that read X are
    /// `(inputs, hiddens)`, weights that read H are `(hiddens, hiddens)`.
    #[derive(Debug, Clone, PartialEq)]
    pub struct GruParams<F> {
        pub w_xz: Array2<F>,
        pub w_hz: Array2<F>,
        pub b_z: Array1<F>,
        pub w_xr: Array2<F>,
        pub w_hr: Array2<F>,
        pub b_r: Array1<F>,
        pub w_xh: Array2<F>,
        pub w_hh: Array2<F>,
        pub b_h: Array1<F>,
        /// The bias of `H W_hh` inside the reset product. Only reset-after
        /// uses it; in reset-before it stays zero, and so does its
        /// gradient.
        pub b_hh: Array1<F>,
    }
}

impl<F: NdFloat> GruParams<F> {
    /// d2l's initialisation: every weight from N(0, 0.01²), biases zero.
    pub fn new<R: Rng>(
        num_inputs: usize,
        num_hiddens: usize,
        rng: &mut R,
    ) -> Self {
        let (d, h) = (num_inputs, num_hiddens);
        Self {
            w_xz: normal((d, h), 0.01, rng),
            w_hz: normal((h, h), 0.01, rng),
            b_z: Array1::zeros(h),
            w_xr: normal((d, h), 0.01, rng),
            w_hr: normal((h, h), 0.01, rng),
            b_r: Array1::zeros(h),
            w_xh: normal((d, h), 0.01, rng),
            w_hh: normal((h, h), 0.01, rng),
            b_h: Array1::zeros(h),
            b_hh: Array1::zeros(h),
        }
    }
}
// ANCHOR_END: gru_params

/// The GRU's state is its hidden state alone, `(batch, hiddens)`.
pub type GruState<F> = Hidden<F>;

// ANCHOR: gru_cache
/// What the backward step needs from the forward step. Gates are kept
/// after their activation, since σ' = σ(1 − σ) and tanh' = 1 − tanh².
#[derive(Debug, Clone)]
pub struct GruCache<F> {
    pub h_prev: Array2<F>,
    pub z: Array2<F>,
    pub r: Array2<F>,
    pub h_tilde: Array2<F>,
    /// What W_hh multiplied: R ⊙ H_{t−1} (reset-before), or, for
    /// reset-after, the product H_{t−1} W_hh + b_hh that R multiplied.
    pub hh: Array2<F>,
}
// ANCHOR_END: gru_cache

// ANCHOR: gru_step
/// One GRU step.
///
/// # Shapes
/// `x`: `batch` rows; `h_prev`: `(batch, hiddens)`; returns H_t of the
/// same shape.
pub fn gru_step<F: NdFloat>(
    p: &GruParams<F>,
    variant: Variant,
    x: &Input<'_, F>,
    h_prev: &Array2<F>,
) -> (Array2<F>, GruCache<F>) {
    // Z_t = σ(X_t W_xz + H_{t−1} W_hz + b_z)
    let z = sigmoid(x.dot(&p.w_xz) + h_prev.dot(&p.w_hz) + &p.b_z);
    // R_t = σ(X_t W_xr + H_{t−1} W_hr + b_r)
    let r = sigmoid(x.dot(&p.w_xr) + h_prev.dot(&p.w_hr) + &p.b_r);
    let (h_tilde, hh) = match variant {
        Variant::ResetBefore => {
            // H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t−1}) W_hh + b_h)
            let rh = &r * h_prev;
            let a = x.dot(&p.w_xh) + rh.dot(&p.w_hh) + &p.b_h;
            (tanh(a), rh)
        }
        Variant::ResetAfter => {
            // H̃_t = tanh(X_t W_xh + b_h + R_t ⊙ (H_{t−1} W_hh + b_hh))
            let hh = h_prev.dot(&p.w_hh) + &p.b_hh;
            let a = x.dot(&p.w_xh) + &p.b_h + &r * &hh;
            (tanh(a), hh)
        }
    };
    // H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t
    let h = &z * h_prev + (z.mapv(|v| F::one() - v)) * &h_tilde;
    let cache = GruCache {
        h_prev: h_prev.clone(),
        z,
        r,
        h_tilde,
        hh,
    };
    (h, cache)
}
// ANCHOR_END: gru_step

// ANCHOR: gru_step_backward
/// The same step backward. `dh` is ∂L/∂H_t, everything that reaches H_t:
/// from the output layer at step t and from step t + 1. Adds the parameter
/// gradients into `g`; returns ∂L/∂H_{t−1} and, for a dense input, ∂L/∂X_t.
pub fn gru_step_backward<F: NdFloat>(
    p: &GruParams<F>,
    variant: Variant,
    x: &Input<'_, F>,
    cache: &GruCache<F>,
    dh: &Array2<F>,
    g: &mut GruParams<F>,
) -> (Array2<F>, Option<Array2<F>>) {
    let GruCache {
        h_prev,
        z,
        r,
        h_tilde,
        hh,
    } = cache;
    let one = F::one();
    // H_t = Z ⊙ H_{t−1} + (1 − Z) ⊙ H̃: three paths back.
    let mut dh_prev = dh * z;
    let dz = dh * &(h_prev - h_tilde);
    let dh_tilde = dh * &z.mapv(|v| one - v);
    // Through the activations: tanh' = 1 − H̃² and σ' = Z ⊙ (1 − Z).
    let da_h = dh_tilde * &h_tilde.mapv(|v| one - v * v);
    let da_z = dz * &z.mapv(|v| v * (one - v));

    // The candidate: X W_xh + b_h, then the recurrent term.
    x.add_t_dot(&da_h, &mut g.w_xh);
    g.b_h += &da_h.sum_axis(ndarray::Axis(0));
    let dr = match variant {
        Variant::ResetBefore => {
            // a_h = … + (R ⊙ H_{t−1}) W_hh, and hh = R ⊙ H_{t−1}
            g.w_hh += &hh.t().dot(&da_h);
            let d_rh = da_h.dot(&p.w_hh.t());
            dh_prev += &(&d_rh * r);
            d_rh * h_prev
        }
        Variant::ResetAfter => {
            // a_h = … + R ⊙ hh, with hh = H_{t−1} W_hh + b_hh
            let d_hh = &da_h * r;
            g.w_hh += &h_prev.t().dot(&d_hh);
            g.b_hh += &d_hh.sum_axis(ndarray::Axis(0));
            dh_prev += &d_hh.dot(&p.w_hh.t());
            &da_h * hh
        }
    };
    let da_r = dr * &r.mapv(|v| v * (one - v));

    // The two gates, each σ(X W_x· + H_{t−1} W_h· + b_·).
    for (da, w_h, dw_x, dw_h, db) in [
        (&da_z, &p.w_hz, &mut g.w_xz, &mut g.w_hz, &mut g.b_z),
        (&da_r, &p.w_hr, &mut g.w_xr, &mut g.w_hr, &mut g.b_r),
    ] {
        x.add_t_dot(da, dw_x);
        *dw_h += &h_prev.t().dot(da);
        *db += &da.sum_axis(ndarray::Axis(0));
        dh_prev += &da.dot(&w_h.t());
    }

    let dx = match x {
        Input::Tokens(_) => None,
        Input::Dense(_) => Some(
            da_z.dot(&p.w_xz.t())
                + da_r.dot(&p.w_xr.t())
                + da_h.dot(&p.w_xh.t()),
        ),
    };
    (dh_prev, dx)
}
// ANCHOR_END: gru_step_backward

/// A GRU cell: its sizes and its formulation. Its parameters are a
/// [`GruParams`], which the model keeps.
#[derive(Debug, Clone, Copy)]
pub struct Gru {
    pub num_inputs: usize,
    pub num_hiddens: usize,
    pub variant: Variant,
}

impl Gru {
    pub fn new(
        num_inputs: usize,
        num_hiddens: usize,
        variant: Variant,
    ) -> Self {
        Self {
            num_inputs,
            num_hiddens,
            variant,
        }
    }
}

impl<F: NdFloat> Cell<F> for Gru {
    type Params = GruParams<F>;
    type State = GruState<F>;
    type Cache = GruCache<F>;

    fn init<R: Rng>(&self, rng: &mut R) -> GruParams<F> {
        GruParams::new(self.num_inputs, self.num_hiddens, rng)
    }

    fn num_hiddens(&self) -> usize {
        self.num_hiddens
    }

    fn zero_state(&self, batch_size: usize) -> GruState<F> {
        GruState {
            h: Array2::zeros((batch_size, self.num_hiddens)),
        }
    }

    fn step(
        &self,
        p: &GruParams<F>,
        x: &Input<'_, F>,
        state: &GruState<F>,
    ) -> (GruState<F>, GruCache<F>) {
        let (h, cache) = gru_step(p, self.variant, x, &state.h);
        (GruState { h }, cache)
    }

    fn step_backward(
        &self,
        p: &GruParams<F>,
        x: &Input<'_, F>,
        cache: &GruCache<F>,
        d_state: &GruState<F>,
        grads: &mut GruParams<F>,
    ) -> (GruState<F>, Option<Array2<F>>) {
        let (dh_prev, dx) =
            gru_step_backward(p, self.variant, x, cache, &d_state.h, grads);
        (GruState { h: dh_prev }, dx)
    }
}
