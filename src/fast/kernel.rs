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
mod avx {
    use ndarray::{Array2, ArrayBase, ArrayViewMut2, Data, Ix2, NdFloat};
    use std::any::TypeId;
    use std::arch::x86_64::*;

    pub fn detected() -> bool {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }

    /// The panels of `b` (see `Packed`), for f32 on a CPU with the kernel.
    pub fn pack<F: NdFloat>(b: &Array2<F>) -> Option<Vec<f32>> {
        if TypeId::of::<F>() != TypeId::of::<f32>() || !detected() {
            return None;
        }
        let (k, n) = b.dim();
        let b = b.as_standard_layout();
        let b = b.as_slice().expect("standard layout is contiguous");
        // SAFETY: F is f32 (checked above).
        let b = unsafe {
            std::slice::from_raw_parts(b.as_ptr().cast::<f32>(), b.len())
        };
        let mut panels = Vec::with_capacity(k * n.div_ceil(16) * 16);
        for j0 in (0..n).step_by(16) {
            let width = 16.min(n - j0);
            for row in b.chunks_exact(n) {
                panels.extend_from_slice(&row[j0..j0 + width]);
                panels.extend(std::iter::repeat(0.0).take(16 - width));
            }
        }
        Some(panels)
    }

    /// The packed kernel's call, when F is f32, the rows of C are
    /// contiguous and no stride is negative.
    pub fn plan_packed<'c, F, SA>(
        a: &ArrayBase<SA, Ix2>,
        panels: &'c [f32],
        b: &'c Array2<F>,
        c: &'c mut ArrayViewMut2<'_, F>,
    ) -> Option<impl FnOnce() + 'c>
    where
        F: NdFloat,
        SA: Data<Elem = F>,
    {
        let is_f32 = TypeId::of::<F>() == TypeId::of::<f32>();
        let (sa, sc) = (a.strides(), c.strides());
        let layout_ok = sc[1] == 1 && sa.iter().chain(sc).all(|&s| s >= 0);
        if !(is_f32 && layout_ok) {
            return None;
        }
        let ((m, k), n) = (a.dim(), b.ncols());
        let (rsa, csa, rsc) = (sa[0] as usize, sa[1] as usize, sc[0] as usize);
        let pa = a.as_ptr().cast::<f32>();
        let pc = c.as_mut_ptr().cast::<f32>();
        let (pb, rsb) = (b.as_ptr().cast::<f32>(), b.strides()[0] as usize);
        Some(move || {
            // SAFETY: F is f32; the pointers and non-negative strides
            // describe A and C, whose shapes chain with B's (checked by the
            // caller), and C is borrowed mutably for the call; the panels
            // exist only on a CPU with AVX2 and FMA. `panels` holds
            // ceil(n / 16) panels of
            // k rows of 16, written by `pack` from `b`, whose full panels
            // the kernel reads and whose last columns it reads from `b`.
            unsafe {
                gemm_packed(m, n, k, pa, rsa, csa, panels.as_ptr(), pc, rsc);
                let full = n / 16 * 16;
                for j in full..n {
                    for i in 0..m {
                        let mut sum = 0.0;
                        for p in 0..k {
                            sum += *pa.add(i * rsa + p * csa)
                                * *pb.add(p * rsb + j);
                        }
                        *pc.add(i * rsc + j) += sum;
                    }
                }
            }
        })
    }

    /// C[.., ..16 · (n / 16)] += A B from the panels, the sum over k in
    /// chunks of KC so that a chunk of a panel (8 KB) and of A stay in
    /// the L1 cache while every row block uses them.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm_packed(
        m: usize,
        n: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        panels: *const f32,
        c: *mut f32,
        rsc: usize,
    ) {
        const KC: usize = 128;
        let mut p0 = 0;
        while p0 < k {
            let kc = KC.min(k - p0);
            for jp in 0..n / 16 {
                let b = panels.add((jp * k + p0) * 16);
                let (a, c) = (a.add(p0 * csa), c.add(jp * 16));
                rows::<2>(m, kc, a, rsa, csa, b, 16, c, rsc);
            }
            p0 += kc;
        }
    }

    /// One column block of 8 · NV columns, over all rows, 6 at a time.
    #[target_feature(enable = "avx2,fma")]
    #[allow(clippy::too_many_arguments)]
    unsafe fn rows<const NV: usize>(
        m: usize,
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        rsb: usize,
        c: *mut f32,
        rsc: usize,
    ) {
        // Rows 6 at a time (12 sums in registers), but a remainder of 2
        // is worth turning into two blocks of 4: 32 rows are 6 · 4 + 4 · 2.
        let sixes = if m % 6 == 2 && m >= 8 {
            m / 6 - 1
        } else {
            m / 6
        };
        let mut i = 0;
        while i < 6 * sixes {
            let (ai, ci) = (a.add(i * rsa), c.add(i * rsc));
            block::<6, NV>(k, ai, rsa, csa, b, rsb, ci, rsc);
            i += 6;
        }
        while m - i >= 8 {
            let (ai, ci) = (a.add(i * rsa), c.add(i * rsc));
            block::<4, NV>(k, ai, rsa, csa, b, rsb, ci, rsc);
            i += 4;
        }
        let (a, c) = (a.add(i * rsa), c.add(i * rsc));
        match m - i {
            5 => block::<5, NV>(k, a, rsa, csa, b, rsb, c, rsc),
            4 => block::<4, NV>(k, a, rsa, csa, b, rsb, c, rsc),
            3 => block::<3, NV>(k, a, rsa, csa, b, rsb, c, rsc),
            2 => block::<2, NV>(k, a, rsa, csa, b, rsb, c, rsc),
            1 => block::<1, NV>(k, a, rsa, csa, b, rsb, c, rsc),
            _ => {}
        }
    }

    /// C[..R, ..8 · NV] += A[..R, ..k] B[..k, ..8 · NV], the sums in
    /// R · NV registers.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    #[allow(clippy::too_many_arguments)]
    unsafe fn block<const R: usize, const NV: usize>(
        k: usize,
        a: *const f32,
        rsa: usize,
        csa: usize,
        b: *const f32,
        rsb: usize,
        c: *mut f32,
        rsc: usize,
    ) {
        let mut acc = [[_mm256_setzero_ps(); NV]; R];
        for p in 0..k {
            let bp = b.add(p * rsb);
            let mut bv = [_mm256_setzero_ps(); NV];
            for (v, bv) in bv.iter_mut().enumerate() {
                *bv = _mm256_loadu_ps(bp.add(8 * v));
            }
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = _mm256_set1_ps(*a.add(r * rsa + p * csa));
                for (acc, bv) in acc.iter_mut().zip(&bv) {
                    *acc = _mm256_fmadd_ps(av, *bv, *acc);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for (v, acc) in acc.iter().enumerate() {
                let cp = c.add(r * rsc + 8 * v);
                _mm256_storeu_ps(cp, _mm256_add_ps(_mm256_loadu_ps(cp), *acc));
            }
        }
    }
}

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
