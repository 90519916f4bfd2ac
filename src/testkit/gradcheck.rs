//! Finite-difference gradient checks, in f64, for any model built from a
//! [`Cell`]: every parameter of the cell and of the output layer, and the
//! initial state, against central differences
//! (f(θ + ε) − f(θ − ε)) / 2ε.

use crate::data::Batch;
use crate::fast::Sequence;
use crate::model::RnnModel;
use crate::rnn::Tensors;
use ndarray::NdFloat;
use ndarray::{Array2, Dimension};
use std::fmt;

/// The worst entry of one tensor.
#[derive(Debug, Clone)]
pub struct TensorCheck {
    pub name: String,
    pub max_rel_error: f64,
    pub index: Vec<usize>,
    pub analytic: f64,
    pub numeric: f64,
}

impl fmt::Display for TensorCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: max relative error {:.1e} at {:?} (analytic {:.6e}, \
             numeric {:.6e})",
            self.name,
            self.max_rel_error,
            self.index,
            self.analytic,
            self.numeric
        )
    }
}

/// |a − n| / max(|a| + |n|, 10⁻³): relative where the gradient is large,
/// absolute (times 10³) where it is tiny. The floor sits above the
/// round-off of a central difference in f64 (about 10⁻¹⁶ · |L| / ε ≈
/// 10⁻¹⁰ with ε = 10⁻⁶), so a correct gradient scores near 10⁻⁷, and a
/// wrong one near 1.
pub fn rel_error(analytic: f64, numeric: f64) -> f64 {
    (analytic - numeric).abs() / (analytic.abs() + numeric.abs()).max(1e-3)
}

/// Compares `grads` with central differences of `f` around `at`, entry by
/// entry, for every tensor. `grads` has the structure of `at`.
pub fn check_tensors<T: Tensors<f64>>(
    prefix: &str,
    at: &T,
    grads: &T,
    mut f: impl FnMut(&T) -> f64,
) -> Vec<TensorCheck> {
    const EPS: f64 = 1e-6;
    let mut out = Vec::new();
    let names: Vec<String> = at.named().into_iter().map(|(n, _)| n).collect();
    let grads = grads.named();
    for (k, name) in names.iter().enumerate() {
        let g = &grads[k].1;
        let mut worst = TensorCheck {
            name: format!("{prefix}{name}"),
            max_rel_error: 0.0,
            index: Vec::new(),
            analytic: 0.0,
            numeric: 0.0,
        };
        for (index, &analytic) in g.indexed_iter() {
            let mut probe = at.clone();
            let mut nudge = |delta: f64| {
                probe.named_mut()[k].1[&index] += delta;
                let value = f(&probe);
                probe.named_mut()[k].1[&index] -= delta;
                value
            };
            let numeric = (nudge(EPS) - nudge(-EPS)) / (2.0 * EPS);
            let err = rel_error(analytic, numeric);
            if err > worst.max_rel_error || worst.index.is_empty() {
                worst.max_rel_error = err;
                worst.index = index.slice().to_vec();
                worst.analytic = analytic;
                worst.numeric = numeric;
            }
        }
        out.push(worst);
    }
    out
}

/// Checks every gradient of `model` on `batch` from `state0`: the cell's
/// parameters, the output layer's and the initial state's, on the model's
/// path (`model.path`).
pub fn check_model<C>(
    model: &RnnModel<f64, C>,
    batch: &Batch,
    state0: &C::State,
) -> Vec<TensorCheck>
where
    C: Sequence<f64> + Clone,
{
    check_model_masked(model, batch, None, None, state0)
}

/// [`check_model`] with dropout: `mask` (`batch × hiddens`, drawn once by
/// [`crate::rnn::dropout_mask`]) on the hidden states, and `weight_masks`
/// (from [`crate::rnn::weight_masks`]) on the recurrent weights, stay
/// frozen for the analytic gradients and for every nudged loss, so that
/// the loss is a function of the weights alone: L(W) = loss(W ⊙ M).
pub fn check_model_masked<C>(
    model: &RnnModel<f64, C>,
    batch: &Batch,
    mask: Option<&Array2<f64>>,
    weight_masks: Option<&WeightMasks>,
    state0: &C::State,
) -> Vec<TensorCheck>
where
    C: Sequence<f64> + Clone,
{
    let mask = mask.map(|m| m.view());
    let mut m = model.clone();
    let (_, d_state0) = m.forward_backward_dropped(
        batch,
        mask,
        weight_masks.cloned(),
        &mut state0.clone(),
    );
    // The loss at parameters `params`, run with them dropped.
    let loss_with =
        |m: &mut RnnModel<f64, C>, params: &C::Params, s: &C::State| {
            m.params = params.clone();
            if let Some(w) = weight_masks {
                crate::rnn::drop_weights(&mut m.params, w);
            }
            m.masked_loss(batch, mask, &mut s.clone())
        };
    let mut probe = model.clone();
    let mut checks = check_tensors("", &m.params, &m.cell_grads, |p| {
        loss_with(&mut probe, p, state0)
    });
    let mut probe = model.clone();
    checks.extend(check_tensors("", &m.output, &m.output_grads, |o| {
        probe.output = o.clone();
        loss_with(&mut probe, &model.params, state0)
    }));
    let mut probe = model.clone();
    checks.extend(check_tensors("state0.", state0, &d_state0, |s| {
        loss_with(&mut probe, &model.params, s)
    }));
    checks
}

/// Frozen weight-dropping masks: one per tensor of a cell's parameters,
/// `None` where it is not a recurrent weight.
pub type WeightMasks = Vec<Option<ndarray::ArrayD<f64>>>;

/// The checks of `model` for every way training runs it: without
/// dropout; with frozen dropout masks (p = 0.5, seeded) on the hidden
/// states the output layer reads and, in a stack, between its layers, on
/// one thread; with the same masks on two threads, each taking its own
/// rows of them; and with the recurrent weights dropped too (p = 0.5), on
/// one thread and on two.
pub fn check_model_cases<C>(
    model: &RnnModel<f64, C>,
    batch: &Batch,
    state0: &C::State,
) -> Vec<Vec<TensorCheck>>
where
    C: Sequence<f64> + Clone,
{
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let b = batch.batch_size();
    let mut draw = |width: usize| {
        let mask = crate::rnn::dropout_mask((b, width), 0.5, &mut rng);
        let dropped = mask.iter().filter(|&&m| m == 0.0).count();
        assert!(0 < dropped && dropped < mask.len(), "degenerate: {mask}");
        mask
    };
    let mask = draw(model.cell.num_hiddens());
    let inner = model.cell.inner_widths().into_iter().map(&mut draw);
    let mut masked = model.clone();
    masked.cell = model.cell.with_masks(inner.collect());
    let mut two = masked.clone();
    two.threads = 2;
    let mut rng = rand::rngs::StdRng::seed_from_u64(6);
    let weights = crate::rnn::weight_masks(&model.params, 0.5, &mut rng);
    let dropped = weights.iter().flatten().count();
    assert!(dropped > 0, "the cell has no recurrent weight named w_h·");
    let w = Some(&weights);
    vec![
        check_model(model, batch, state0),
        check_model_masked(&masked, batch, Some(&mask), None, state0),
        check_model_masked(&two, batch, Some(&mask), None, state0),
        check_model_masked(&masked, batch, Some(&mask), w, state0),
        check_model_masked(&two, batch, Some(&mask), w, state0),
    ]
}

/// Panics, naming every tensor whose worst relative error exceeds `tol`.
pub fn assert_checks(checks: &[TensorCheck], tol: f64) {
    let bad: Vec<String> = checks
        .iter()
        .filter(|c| c.max_rel_error.is_nan() || c.max_rel_error > tol)
        .map(|c| c.to_string())
        .collect();
    assert!(
        bad.is_empty(),
        "gradient check failed (tolerance {tol:.0e}):\n  {}",
        bad.join("\n  ")
    );
}

/// Tensors made by `init` from a generator seeded with `seed`, then
/// [`randomize`]d with `std` by the same generator.
pub fn random_tensors<T: Tensors<f64>>(
    seed: u64,
    std: f64,
    init: impl FnOnce(&mut rand::rngs::StdRng) -> T,
) -> T {
    let mut rng =
        <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(seed);
    let mut t = init(&mut rng);
    randomize(&mut t, std, &mut rng);
    t
}

/// Fills every tensor with draws from N(0, std²): weights large enough for
/// the gates to leave their linear region, so that a check exercises every
/// nonlinearity (d2l's 0.01 would keep them all near 0.5).
pub fn randomize<F: NdFloat, T: Tensors<F>, R: rand::Rng>(
    t: &mut T,
    std: f64,
    rng: &mut R,
) {
    let dist = ndarray_rand::rand_distr::Normal::new(0.0, std)
        .expect("std must be finite and >= 0");
    for (_, mut v) in t.named_mut() {
        v.mapv_inplace(|_| {
            let x: f64 = rand::distributions::Distribution::sample(&dist, rng);
            F::from(x).expect("f64 fits in F")
        });
    }
}

/// A gradient-check problem: a model of `cell` whose parameters, like
/// the initial state, are drawn from N(0, 0.5²) with `seed`, and a batch of
/// `batch × steps` tokens whose labels differ from their inputs:
/// `x[i, t] = (i + 2t) mod vocab`, `y[i, t] = (3i + t) mod vocab`.
pub fn problem<C: crate::rnn::Cell<f64>>(
    cell: C,
    vocab: usize,
    (batch, steps): (usize, usize),
    seed: u64,
) -> (RnnModel<f64, C>, Batch, C::State) {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut model = RnnModel::new(cell, vocab, &mut rng);
    randomize(&mut model.params, 0.5, &mut rng);
    randomize(&mut model.output, 0.5, &mut rng);
    let mut state = model.cell.zero_state(batch);
    randomize(&mut state, 0.5, &mut rng);
    let shape = (batch, steps);
    let batch = Batch {
        x: ndarray::Array2::from_shape_fn(shape, |(i, t)| (i + 2 * t) % vocab),
        y: ndarray::Array2::from_shape_fn(shape, |(i, t)| (3 * i + t) % vocab),
    };
    (model, batch, state)
}
