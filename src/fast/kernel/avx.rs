//! The kernel itself, for x86-64 CPUs with AVX2 and FMA: the panels of
//! B, and the blocks of C summed in registers.

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
    let a = Mat {
        ptr: a.as_ptr().cast::<f32>(),
        rs: sa[0] as usize,
        cs: sa[1] as usize,
    };
    let rsc = sc[0] as usize;
    let c = MatMut {
        ptr: c.as_mut_ptr().cast::<f32>(),
        rs: rsc,
    };
    debug_assert!(b.ncols() <= 1 || b.strides()[1] == 1, "B row-major");
    let b = Mat {
        ptr: b.as_ptr().cast::<f32>(),
        rs: b.strides()[0] as usize,
        cs: 1,
    };
    Some(move || {
        // SAFETY: F is f32; the pointers and non-negative strides
        // describe A and C, whose shapes chain with B's (checked by the
        // caller), and C is borrowed mutably for the call; the panels
        // exist only on a CPU with AVX2 and FMA. `panels` holds
        // ceil(n / 16) panels of k rows of 16, written by `pack` from
        // `b`, whose full panels the kernel reads and whose last
        // columns it reads from `b`.
        unsafe {
            gemm_packed((m, n, k), a, panels.as_ptr(), c);
            for j in n / 16 * 16..n {
                for i in 0..m {
                    let mut sum = 0.0;
                    for p in 0..k {
                        sum += *a.at(i, p) * *b.at(p, j);
                    }
                    *c.at(i, j) += sum;
                }
            }
        }
    })
}

/// A matrix of f32 in memory: its first entry and its row and column
/// strides, in entries.
#[derive(Clone, Copy)]
struct Mat {
    ptr: *const f32,
    rs: usize,
    cs: usize,
}

impl Mat {
    /// Entry (i, j). Safety: it must lie inside the matrix.
    #[inline(always)]
    unsafe fn at(self, i: usize, j: usize) -> *const f32 {
        self.ptr.add(i * self.rs + j * self.cs)
    }

    /// The matrix that starts at entry (i, j). Safety: as `at`.
    #[inline(always)]
    unsafe fn offset(self, i: usize, j: usize) -> Self {
        Self {
            ptr: self.at(i, j),
            ..self
        }
    }
}

/// A matrix of f32 that is written, its rows contiguous.
#[derive(Clone, Copy)]
struct MatMut {
    ptr: *mut f32,
    rs: usize,
}

impl MatMut {
    /// Entry (i, j). Safety: it must lie inside the matrix.
    #[inline(always)]
    unsafe fn at(self, i: usize, j: usize) -> *mut f32 {
        self.ptr.add(i * self.rs + j)
    }

    /// The matrix that starts at entry (i, j). Safety: as `at`.
    #[inline(always)]
    unsafe fn offset(self, i: usize, j: usize) -> Self {
        Self {
            ptr: self.at(i, j),
            ..self
        }
    }
}

/// C[.., ..16 · (n / 16)] += A B from the panels, the sum over k in
/// chunks of KC so that a chunk of a panel (8 KB) and of A stay in
/// the L1 cache while every row block uses them.
#[target_feature(enable = "avx2,fma")]
unsafe fn gemm_packed(
    (m, n, k): (usize, usize, usize),
    a: Mat,
    panels: *const f32,
    c: MatMut,
) {
    const KC: usize = 128;
    let mut p0 = 0;
    while p0 < k {
        let kc = KC.min(k - p0);
        for jp in 0..n / 16 {
            let b = Mat {
                ptr: panels.add((jp * k + p0) * 16),
                rs: 16,
                cs: 1,
            };
            rows::<2>(m, kc, a.offset(0, p0), b, c.offset(0, jp * 16));
        }
        p0 += kc;
    }
}

/// One column block of 8 · NV columns, over all rows, 6 at a time.
#[target_feature(enable = "avx2,fma")]
unsafe fn rows<const NV: usize>(m: usize, k: usize, a: Mat, b: Mat, c: MatMut) {
    // Rows 6 at a time (12 sums in registers), but a remainder of 2
    // is worth turning into two blocks of 4: 32 rows are 6 · 4 + 4 · 2.
    let sixes = if m % 6 == 2 && m >= 8 {
        m / 6 - 1
    } else {
        m / 6
    };
    let mut i = 0;
    while i < 6 * sixes {
        block::<6, NV>(k, a.offset(i, 0), b, c.offset(i, 0));
        i += 6;
    }
    while m - i >= 8 {
        block::<4, NV>(k, a.offset(i, 0), b, c.offset(i, 0));
        i += 4;
    }
    if i == m {
        return;
    }
    // Row i exists: the rest is 1 to 5 rows.
    let (a, c) = (a.offset(i, 0), c.offset(i, 0));
    match m - i {
        5 => block::<5, NV>(k, a, b, c),
        4 => block::<4, NV>(k, a, b, c),
        3 => block::<3, NV>(k, a, b, c),
        2 => block::<2, NV>(k, a, b, c),
        _ => block::<1, NV>(k, a, b, c),
    }
}

/// C[..R, ..8 · NV] += A[..R, ..k] B[..k, ..8 · NV], the sums in
/// R · NV registers. B's rows are contiguous.
#[target_feature(enable = "avx2,fma")]
#[inline]
unsafe fn block<const R: usize, const NV: usize>(
    k: usize,
    a: Mat,
    b: Mat,
    c: MatMut,
) {
    let mut acc = [[_mm256_setzero_ps(); NV]; R];
    for p in 0..k {
        let bp = b.at(p, 0);
        let mut bv = [_mm256_setzero_ps(); NV];
        for (v, bv) in bv.iter_mut().enumerate() {
            *bv = _mm256_loadu_ps(bp.add(8 * v));
        }
        for (r, acc) in acc.iter_mut().enumerate() {
            let av = _mm256_set1_ps(*a.at(r, p));
            for (acc, bv) in acc.iter_mut().zip(&bv) {
                *acc = _mm256_fmadd_ps(av, *bv, *acc);
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (v, acc) in acc.iter().enumerate() {
            let cp = c.at(r, 8 * v);
            _mm256_storeu_ps(cp, _mm256_add_ps(_mm256_loadu_ps(cp), *acc));
        }
    }
}
