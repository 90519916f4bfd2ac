//! The update rules that move the parameters after each minibatch: d2l's
//! SGD, and Adam, written by hand for the from-scratch models.

use crate::rnn::Tensors;
use ndarray::{NdFloat, Zip};
use serde::{Deserialize, Serialize};

/// Which update rule trains the model.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Stochastic gradient descent, θ ← θ − lr · g, as d2l trains.
    #[default]
    Sgd,
    /// Adam with PyTorch's defaults (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸);
    /// wants a learning rate near 0.002, not SGD's 1.
    Adam,
}

impl Optimizer {
    /// `sgd` or `adam`, as the flag takes it.
    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Sgd => "sgd",
            Optimizer::Adam => "adam",
        }
    }
}

/// Adam's hyper-parameters (Kingma and Ba, 2015).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adam {
    pub lr: f64,
    /// How slowly the mean of the gradients forgets: 0.9.
    pub beta1: f64,
    /// How slowly the mean of their squares forgets: 0.999.
    pub beta2: f64,
    /// Keeps the step finite where a gradient has always been 0.
    pub eps: f64,
}

impl Adam {
    /// PyTorch's defaults, with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        Self {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

/// What Adam remembers of one set of tensors `T`: the running means of
/// the gradients (`m`) and of their squares (`v`), each shaped like `T`,
/// and how many steps have been taken.
#[derive(Debug, Clone)]
pub struct Moments<T> {
    pub m: T,
    pub v: T,
    pub t: u32,
}

impl<T> Moments<T> {
    /// Zero moments for tensors shaped like `params`, before any step.
    pub fn new<F: NdFloat>(params: &T) -> Self
    where
        T: Tensors<F>,
    {
        Self {
            m: params.zeros_like(),
            v: params.zeros_like(),
            t: 0,
        }
    }
}

// ANCHOR: adam
/// One step of Adam on every tensor of `params`, with gradients `grads`:
///
/// m ← β₁ m + (1 − β₁) g,  v ← β₂ v + (1 − β₂) g²,
/// θ ← θ − lr · m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ).
///
/// m̂ and v̂ undo the pull towards 0 of moments that start at 0. Each
/// weight's step is its mean gradient divided by the root of its mean
/// square, so about `lr` long whatever the gradient's scale.
pub fn adam_step<F: NdFloat, T: Tensors<F>>(
    params: &mut T,
    grads: &T,
    moments: &mut Moments<T>,
    adam: &Adam,
) {
    moments.t += 1;
    let t = i32::try_from(moments.t).expect("fewer than 2³¹ steps");
    let f = |x: f64| F::from(x).expect("an f64 fits in F");
    let (b1, b2) = (f(adam.beta1), f(adam.beta2));
    // 1 − β₁ᵗ and √(1 − β₂ᵗ)
    let c1 = f(1.0 - adam.beta1.powi(t));
    let c2_sqrt = f((1.0 - adam.beta2.powi(t)).sqrt());
    let (step_size, eps) = (f(adam.lr) / c1, f(adam.eps));
    let moments_mut =
        moments.m.named_mut().into_iter().zip(moments.v.named_mut());
    for (((name, p), (_, g)), ((_, m), (_, v))) in params
        .named_mut()
        .into_iter()
        .zip(grads.named())
        .zip(moments_mut)
    {
        assert_eq!(p.shape(), g.shape(), "adam: shape mismatch in {name}");
        Zip::from(p).and(&g).and(m).and(v).for_each(|p, &g, m, v| {
            // m ← β₁ m + (1 − β₁) g
            *m = b1 * *m + (F::one() - b1) * g;
            // v ← β₂ v + (1 − β₂) g²
            *v = b2 * *v + (F::one() - b2) * g * g;
            // θ ← θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
            *p -= step_size * *m / (v.sqrt() / c2_sqrt + eps);
        });
    }
}
// ANCHOR_END: adam
