//! d2l's initialisation, and the activations as the chapters compute them.

use ndarray::{Array, Dimension, NdFloat};
use ndarray_rand::rand_distr::{Distribution, Normal};
use rand::Rng;

/// d2l's initialisation of a weight: independent draws from N(0, σ²).
pub fn normal<F: NdFloat, Sh: ndarray::ShapeBuilder, R: Rng>(
    shape: Sh,
    std: f64,
    rng: &mut R,
) -> Array<F, Sh::Dim> {
    let dist = Normal::new(0.0, std).expect("std must be finite and >= 0");
    Array::from_shape_simple_fn(shape, || {
        F::from(dist.sample(rng)).expect("f64 fits in F")
    })
}

/// σ(a) = 1 / (1 + e^(−a)), in place.
pub fn sigmoid<F: NdFloat, D: Dimension>(a: Array<F, D>) -> Array<F, D> {
    a.mapv_into(|v| F::one() / (F::one() + (-v).exp()))
}

/// tanh(a), in place.
pub fn tanh<F: NdFloat, D: Dimension>(a: Array<F, D>) -> Array<F, D> {
    a.mapv_into(F::tanh)
}
