//! A small f32 matrix product for the shapes inside the loop over time:
//! a few dozen rows (the batch) times a weight matrix of a few hundred
//! rows and columns, `C += A B`.
//!
//! ndarray's general product (the `matrixmultiply` crate) copies ("packs")
//! both operands into blocks before every call. For these shapes the copy
//! of the weights costs a sizeable part of the arithmetic, and the call
//! happens at every step of every sequence, so here the weights are laid
//! out once per sequence ([`Packed`]): cut into panels 16 columns wide,
//! each stored row after row. A block of up to 6 rows of C by 16 columns
//! stays in 12 AVX registers while the sum over k runs; each step of that
//! sum broadcasts one entry of A per row and multiplies it into the
//! panel's 16 entries of a row of B, with fused multiply-adds.
//!
//! The kernel needs AVX2 and FMA, detected when the program runs; without
//! them (or for f64) [`add_mat_mul_packed`] calls ndarray's product, which
//! computes the same sum.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayBase, ArrayViewMut2, Data, Ix2, NdFloat};

// ANCHOR: packed
/// A right-hand matrix B laid out once for many products `C += A B`: the
/// weights of a layer, which stay the same for all the steps of a
/// sequence. In f32 with AVX2 and FMA its columns are cut into panels 16
/// wide, each panel stored row after row, so that the kernel reads it
/// front to back; otherwise it is B as it is.
#[derive(Debug, Clone)]
pub struct Packed<F> {
    b: Array2<F>,
    /// The panels, when the kernel runs on this machine.
    panels: Option<Vec<f32>>,
}

impl<F: NdFloat> Packed<F> {
    pub fn new<S: Data<Elem = F>>(b: &ArrayBase<S, Ix2>) -> Self {
        // Row-major whatever B's layout (B may be a transposed view): the
        // kernel reads the columns past the last full panel from it.
        let b = row_major(b);
        #[cfg(target_arch = "x86_64")]
        let panels = avx::pack(&b);
        #[cfg(not(target_arch = "x86_64"))]
        let panels = None;
        Self { b, panels }
    }
}

/// A row-major copy of `b`. A column-major `b` (the transpose of a
/// row-major matrix) is copied in 8 × 8 tiles: each tile reads 8 rows of
/// the original, few enough to stay in the L1 cache together even when
/// their stride makes them compete for the same cache set. ndarray's
/// copy walks it one entry at a time, every read a whole row away from
/// the last, and took a few percent of a training step.
pub fn row_major<F: NdFloat, S: Data<Elem = F>>(
    b: &ArrayBase<S, Ix2>,
) -> Array2<F> {
    let bt = b.t();
    let Some(src) = bt.as_slice().filter(|_| !b.is_standard_layout()) else {
        return b.as_standard_layout().into_owned();
    };
    const TILE: usize = 8;
    let (rows, cols) = b.dim();
    let mut out = vec![F::zero(); rows * cols];
    for i0 in (0..rows).step_by(TILE) {
        for j0 in (0..cols).step_by(TILE) {
            let j1 = (j0 + TILE).min(cols);
            for i in i0..(i0 + TILE).min(rows) {
                let out_row = &mut out[i * cols + j0..i * cols + j1];
                // b[i][j] is entry i of row j of the original.
                for (o, j) in out_row.iter_mut().zip(j0..j1) {
                    *o = src[j * rows + i];
                }
            }
        }
    }
    Array2::from_shape_vec((rows, cols), out).expect("rows · cols entries")
}

/// C += A B, with B laid out by [`Packed::new`].
///
/// # Panics
/// If the shapes do not chain.
pub fn add_mat_mul_packed<F, SA>(
    a: &ArrayBase<SA, Ix2>,
    b: &Packed<F>,
    c: &mut ArrayViewMut2<'_, F>,
) where
    F: NdFloat,
    SA: Data<Elem = F>,
{
    let ((m, k), (k2, n)) = (a.dim(), b.b.dim());
    assert!(
        k == k2 && c.dim() == (m, n),
        "add_mat_mul_packed: ({m}, {k}) × ({k2}, {n}) does not make {:?}",
        c.dim()
    );
    #[cfg(target_arch = "x86_64")]
    if let Some(panels) = &b.panels {
        if let Some(run) = avx::plan_packed(a, panels, &b.b, c) {
            run();
            return;
        }
    }
    general_mat_mul(F::one(), a, &b.b, F::one(), c);
}
// ANCHOR_END: packed

/// Whether [`add_mat_mul_packed`] uses its own kernel on this machine (f32 with
/// AVX2 and FMA), for the benchmark's report.
pub fn kernel_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        avx::detected()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
mod avx;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rnn::normal;
    use ndarray::{s, Array2};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    /// The kernel's sum against ndarray's, for shapes that leave every
    /// kind of remainder (rows not a multiple of 6, columns not of 16 or
    /// 8, k not of the chunk), a transposed A and a C that is a column
    /// slice of a wider matrix.
    fn compare<F: NdFloat>(tol: f64) {
        let mut rng = StdRng::seed_from_u64(5);
        for (m, k, n) in [(7, 13, 37), (32, 300, 64), (1, 5, 8), (13, 129, 23)]
        {
            let a_t: Array2<F> = normal((k, m), 1.0, &mut rng);
            let b: Array2<F> = normal((k, n), 1.0, &mut rng);
            let c0: Array2<F> = normal((m, n + 5), 1.0, &mut rng);
            let mut want = c0.clone();
            general_mat_mul(
                F::one(),
                &a_t.t(),
                &b,
                F::one(),
                &mut want.slice_mut(s![.., 2..n + 2]),
            );
            let mut packed = c0.clone();
            let b_packed = Packed::new(&b);
            add_mat_mul_packed(
                &a_t.t(),
                &b_packed,
                &mut packed.slice_mut(s![.., 2..n + 2]),
            );
            // B given as the transpose of a row-major matrix.
            let b_t = b.t().as_standard_layout().into_owned();
            let mut packed_t = c0.clone();
            add_mat_mul_packed(
                &a_t.t(),
                &Packed::new(&b_t.t()),
                &mut packed_t.slice_mut(s![.., 2..n + 2]),
            );
            let results = [("packed", &packed), ("packed Bᵀ", &packed_t)];
            for (what, got) in results {
                let worst = got
                    .iter()
                    .zip(&want)
                    .map(|(g, w)| (*g - *w).abs().to_f64().unwrap())
                    .fold(0.0, f64::max);
                assert!(
                    worst <= tol,
                    "{what} ({m}, {k}, {n}): off by {worst:e}"
                );
            }
        }
    }

    #[test]
    fn kernel_matches_ndarray_in_f32() {
        // Sums of up to 300 products of N(0, 1) entries, in another order.
        compare::<f32>(1e-4);
    }

    #[test]
    fn kernel_falls_back_to_ndarray_in_f64() {
        compare::<f64>(1e-12);
    }
}
