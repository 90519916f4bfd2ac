//! What each piece of the LSTM is worth: the variants of Greff et al.
//! ("LSTM: A Search Space Odyssey", 2015), each the full LSTM with one
//! piece taken out or tied to another, as one step forward and the same
//! step backward. The full LSTM of [`crate::scratch`] stays as the chapter
//! shows it; a variant is that step with one line changed.

use crate::scratch::{LstmCache, LstmParams, LstmState};
use d2l::rnn::{sigmoid, tanh, Cell, Input};
use ndarray::{Array2, Axis, NdFloat};
use rand::Rng;

// ANCHOR: variant
/// Which piece of the LSTM is taken out (Greff et al.'s names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The full LSTM.
    Full,
    /// No input gate: I_t = 1.
    Nig,
    /// No forget gate: F_t = 1, Hochreiter and Schmidhuber's 1997 LSTM.
    Nfg,
    /// No output gate: O_t = 1.
    Nog,
    /// No input activation: C̃_t = X_t W_xc + H_{t−1} W_hc + b_c.
    Niaf,
    /// No output activation: H_t = O_t ⊙ C_t.
    Noaf,
    /// Coupled input and forget gate: I_t = 1 − F_t.
    Cifg,
}
// ANCHOR_END: variant

impl Variant {
    /// Every variant, the full LSTM first.
    pub const ALL: [Variant; 7] = [
        Variant::Full,
        Variant::Nig,
        Variant::Nfg,
        Variant::Nog,
        Variant::Niaf,
        Variant::Noaf,
        Variant::Cifg,
    ];

    /// The name on the command line and in a checkpoint.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Full => "full",
            Variant::Nig => "nig",
            Variant::Nfg => "nfg",
            Variant::Nog => "nog",
            Variant::Niaf => "niaf",
            Variant::Noaf => "noaf",
            Variant::Cifg => "cifg",
        }
    }

    /// The variant named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }
}

/// An all-ones matrix shaped like `a`: a gate that is always open.
fn ones<F: NdFloat>(a: &Array2<F>) -> Array2<F> {
    Array2::from_elem(a.raw_dim(), F::one())
}

// ANCHOR: variant_step
/// One step of the LSTM with `v`'s piece taken out: [`lstm_step`] with
/// one line changed. The weights of a removed gate are still in `p`, and
/// unused.
///
/// [`lstm_step`]: crate::scratch::lstm_step
pub fn variant_step<F: NdFloat>(
    v: Variant,
    p: &LstmParams<F>,
    x: &Input<'_, F>,
    state: &LstmState<F>,
) -> (LstmState<F>, LstmCache<F>) {
    let h_prev = &state.h;
    let gate = |w_x, w_h, b| x.dot(w_x) + h_prev.dot(w_h) + b;
    // F_t = σ(X_t W_xf + H_{t−1} W_hf + b_f), or 1 without a forget gate
    let f = match v {
        Variant::Nfg => ones(h_prev),
        _ => sigmoid(gate(&p.w_xf, &p.w_hf, &p.b_f)),
    };
    // I_t = σ(X_t W_xi + H_{t−1} W_hi + b_i), 1, or 1 − F_t if coupled
    let i = match v {
        Variant::Nig => ones(h_prev),
        Variant::Cifg => f.mapv(|f| F::one() - f),
        _ => sigmoid(gate(&p.w_xi, &p.w_hi, &p.b_i)),
    };
    // O_t = σ(X_t W_xo + H_{t−1} W_ho + b_o), or 1
    let o = match v {
        Variant::Nog => ones(h_prev),
        _ => sigmoid(gate(&p.w_xo, &p.w_ho, &p.b_o)),
    };
    // C̃_t = tanh(X_t W_xc + H_{t−1} W_hc + b_c), or without the tanh
    let a_c = gate(&p.w_xc, &p.w_hc, &p.b_c);
    let c_tilde = match v {
        Variant::Niaf => a_c,
        _ => tanh(a_c),
    };
    // C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t
    let c = &f * &state.c + &i * &c_tilde;
    // H_t = O_t ⊙ tanh(C_t), or O_t ⊙ C_t
    let tanh_c = match v {
        Variant::Noaf => c.clone(),
        _ => c.mapv(F::tanh),
    };
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
// ANCHOR_END: variant_step

// ANCHOR: variant_step_backward
/// The same step backward: [`lstm_step_backward`], where a piece that is
/// not there passes no gradient, and a coupled input gate sends its
/// gradient to the forget gate with the sign flipped.
///
/// [`lstm_step_backward`]: crate::scratch::lstm_step_backward
pub fn variant_step_backward<F: NdFloat>(
    v: Variant,
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
    let dsig = |s: &Array2<F>| s.mapv(|v| v * (one - v));
    let zero = || Array2::<F>::zeros(h_prev.raw_dim());
    // H_t = O_t ⊙ act(C_t), act = tanh, or the identity without it
    let d_o = &d.h * tanh_c;
    let d_act = match v {
        Variant::Noaf => ones(tanh_c),
        _ => tanh_c.mapv(|t| one - t * t),
    };
    let dc = &d.c + &(&d.h * o * &d_act);
    // C_t = F_t ⊙ C_{t−1} + I_t ⊙ C̃_t
    let dc_prev = &dc * f;
    let d_i = &dc * c_tilde;
    // With I_t = 1 − F_t, F_t gets −∂L/∂I_t too.
    let d_f = match v {
        Variant::Cifg => &dc * c_prev - &d_i,
        _ => &dc * c_prev,
    };
    let d_c_tilde = &dc * i;
    // Each gate that is there: through σ′, or tanh′ for C̃.
    let da_i = match v {
        Variant::Nig | Variant::Cifg => zero(),
        _ => d_i * &dsig(i),
    };
    let da_f = match v {
        Variant::Nfg => zero(),
        _ => d_f * &dsig(f),
    };
    let da_o = match v {
        Variant::Nog => zero(),
        _ => d_o * &dsig(o),
    };
    let da_c = match v {
        Variant::Niaf => d_c_tilde,
        _ => d_c_tilde * &c_tilde.mapv(|t| one - t * t),
    };
    // Every gate is act(X W_x· + H_{t−1} W_h· + b_·), as in the LSTM.
    let mut dh_prev = zero();
    let mut dx = match x {
        Input::Tokens(_) => None,
        Input::Dense(v) => Some(Array2::zeros(v.raw_dim())),
    };
    let gates = [
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
    ];
    for (da, w_x, w_h, dw_x, dw_h, db) in gates {
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
// ANCHOR_END: variant_step_backward

/// An LSTM cell of a [`Variant`], with a forget-gate bias to start from:
/// its sizes, its variant, and the initial b_f.
#[derive(Debug, Clone, Copy)]
pub struct LstmVariant {
    /// The width of X_t.
    pub num_inputs: usize,
    /// The width of H_t and C_t.
    pub num_hiddens: usize,
    /// Which piece is taken out.
    pub variant: Variant,
    /// Every entry of b_f starts here (d2l: 0; Jozefowicz et al.: 1).
    pub forget_bias: f64,
}

impl<F: NdFloat> Cell<F> for LstmVariant {
    type Params = LstmParams<F>;
    type State = LstmState<F>;
    type Cache = LstmCache<F>;

    fn init<R: Rng>(&self, rng: &mut R) -> LstmParams<F> {
        let mut p = LstmParams::new(self.num_inputs, self.num_hiddens, rng);
        let b = F::from(self.forget_bias).expect("a bias fits in F");
        p.b_f.fill(b);
        p
    }

    fn num_hiddens(&self) -> usize {
        self.num_hiddens
    }

    fn zero_state(&self, batch_size: usize) -> LstmState<F> {
        let zeros = Array2::zeros((batch_size, self.num_hiddens));
        LstmState {
            h: zeros.clone(),
            c: zeros,
        }
    }

    fn step(
        &self,
        p: &LstmParams<F>,
        x: &Input<'_, F>,
        state: &LstmState<F>,
    ) -> (LstmState<F>, LstmCache<F>) {
        variant_step(self.variant, p, x, state)
    }

    fn step_backward(
        &self,
        p: &LstmParams<F>,
        x: &Input<'_, F>,
        cache: &LstmCache<F>,
        d: &LstmState<F>,
        g: &mut LstmParams<F>,
    ) -> (LstmState<F>, Option<Array2<F>>) {
        variant_step_backward(self.variant, p, x, cache, d, g)
    }
}

// A variant has no fused arithmetic: its whole-sequence path is the
// teaching loops.
d2l::teaching_sequence!(LstmVariant);
