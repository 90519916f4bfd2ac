//! What every check uses: the sizes, random inputs, and the verdicts.

use ch_gru::scratch::{GruParams, Variant};
use d2l::testkit::gradcheck::{randomize, TensorCheck};
use ndarray::Array2;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Sizes of the checks: small, so finite differences are quick.
pub(super) const BATCH: usize = 3;
pub(super) const INPUTS: usize = 4;
pub(super) const HIDDENS: usize = 5;
/// The largest relative error a gradient may have (a right one scores
/// about 1e-8, a wrong one about 1).
pub(super) const GRAD_TOL: f64 = 1e-5;
/// The largest difference a forward result may have from the reference.
pub(super) const VALUE_TOL: f64 = 1e-12;
pub(super) const RESET_BEFORE: Variant = Variant::ResetBefore;

pub(super) fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

/// A matrix with entries from N(0, 0.5²): spread enough for the gates to
/// leave their linear region.
pub(super) fn random(
    rows: usize,
    cols: usize,
    rng: &mut StdRng,
) -> Array2<f64> {
    let mut m = Matrix {
        a: Array2::zeros((rows, cols)),
    };
    randomize(&mut m, 0.5, rng);
    m.a
}

/// One matrix as [`Tensors`], for `randomize`.
#[derive(Clone)]
pub(super) struct Matrix<F> {
    a: Array2<F>,
}
d2l::impl_tensors!(Matrix { a });

pub(super) fn gru_params(inputs: usize, rng: &mut StdRng) -> GruParams<f64> {
    let mut p = GruParams::new(inputs, HIDDENS, rng);
    randomize(&mut p, 0.5, rng);
    p.b_hh.fill(0.0); // reset-before has no b_hh
    p
}

pub(super) fn check_shape(
    what: &str,
    got: &Array2<f64>,
    want: (usize, usize),
) -> Result<(), String> {
    if got.dim() == want {
        Ok(())
    } else {
        Err(format!(
            "{what} has shape {:?}, expected {want:?}",
            got.dim()
        ))
    }
}

/// Ok when every check is within [`GRAD_TOL`], naming what was compared;
/// otherwise the failing tensors with their worst entry, each followed by
/// the part of the answer it was computed from (`field`), so the learner
/// knows where to look.
pub(super) fn verdict(
    checks: &[TensorCheck],
    names: &[&str],
    field: impl Fn(&str) -> Option<String>,
) -> Result<String, String> {
    let checks: Vec<&TensorCheck> = checks
        .iter()
        .filter(|c| names.contains(&c.name.as_str()))
        .collect();
    let bad: Vec<String> = checks
        .iter()
        .filter(|c| c.max_rel_error.is_nan() || c.max_rel_error > GRAD_TOL)
        .map(|c| match field(&c.name) {
            Some(f) => format!("∂L/∂{c}\n  (computed from your {f})"),
            None => format!("∂L/∂{c}"),
        })
        .collect();
    if bad.is_empty() {
        let worst = checks.iter().map(|c| c.max_rel_error).fold(0.0, f64::max);
        Ok(format!(
            "∂L/∂{{{}}} match finite differences (worst relative error {worst:.0e})",
            names.join(", ")
        ))
    } else {
        Err(format!(
            "wrong gradient (tolerance {GRAD_TOL:.0e}):\n{}",
            bad.join("\n")
        ))
    }
}

/// The largest |a − b| and where, or an error naming `what`.
pub(super) fn same(
    what: &str,
    got: &Array2<f64>,
    want: &Array2<f64>,
) -> Result<(), String> {
    check_shape(what, got, want.dim())?;
    let (mut worst, mut at) = (0.0f64, (0, 0));
    for ((ij, g), w) in got.indexed_iter().zip(want.iter()) {
        let d = (g - w).abs();
        if d.is_nan() || d > worst {
            (worst, at) = (d, ij);
        }
    }
    if worst <= VALUE_TOL {
        Ok(())
    } else {
        Err(format!(
            "{what} is off by {worst:.3e} at {at:?} (got {:.6}, expected {:.6})",
            got[at], want[at]
        ))
    }
}
