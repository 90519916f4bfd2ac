//! The activations of the fast path, computed in place on whole matrices,
//! and [`wide`], which compiles a loop for 8-lane vectors where the CPU
//! has them. In f32 they use [`exp_f32`], a polynomial that vectorises;
//! in f64 the standard library's functions, exactly as the teaching path.

use ndarray::{ArrayViewMut2, NdFloat};

/// σ(a), for one entry.
#[inline]
pub fn sigmoid1<F: NdFloat>(a: F) -> F {
    F::one() / (F::one() + (-a).exp())
}

// ANCHOR: exp_f32
/// e^x in f32 without a library call, so that a loop of them compiles to
/// vector instructions: x = n ln 2 + r with |r| ≤ ln 2 / 2, e^r from a
/// degree-6 polynomial (Cephes' coefficients), and 2ⁿ written straight
/// into the exponent bits. Relative error below 3 · 10⁻⁷ (a test checks),
/// against the 1.2 · 10⁻⁷ of f32 rounding itself. Every operation is one
/// a vector lane can do, with no branch and no float-to-int conversion
/// (Rust's `as i32` checks its range, one value at a time).
#[inline(always)]
pub fn exp_f32(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    // ln 2 in two parts, so that n · LN2_HI is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding 1.5 · 2²³ rounds to the nearest integer n, which then sits in
    // the low bits of the sum; subtracting it again gives n as a float.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4;
    let p = p * r + 1.398_2e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // 2ⁿ: the exponent field n + 127, with n read off the sum's bits.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let two_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    e_r * two_n
}
// ANCHOR_END: exp_f32

// ANCHOR: wide
/// Runs `f` compiled for AVX2 and FMA when the CPU has them (checked at
/// run time), so that the loops inlined into it use 8-lane vectors; the
/// build targets every x86-64, whose vectors have 4. The operations and
/// so the results are the same: without fast-math, the compiler does not
/// fuse a multiply and an add.
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if super::kernel::kernel_available() {
        #[target_feature(enable = "avx2,fma")]
        unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return unsafe { run(f) };
    }
    f()
}
// ANCHOR_END: wide

/// Applies `f32_rows` to every row of `a` when `F` is f32, and `each` to
/// every entry otherwise. Rows must be contiguous (column slices of a
/// row-major matrix are).
fn rows_apply<F: NdFloat>(
    mut a: ArrayViewMut2<'_, F>,
    f32_rows: impl Fn(&mut [f32]),
    each: fn(F) -> F,
) {
    if std::any::TypeId::of::<F>() == std::any::TypeId::of::<f32>() {
        wide(
            #[inline(always)]
            || {
                for mut row in a.rows_mut() {
                    let row = row.as_slice_mut().expect("rows are contiguous");
                    // SAFETY: F is f32 (the TypeId check above), so the slice's
                    // memory, length and alignment are those of a [f32].
                    let row = unsafe {
                        std::slice::from_raw_parts_mut(
                            row.as_mut_ptr().cast::<f32>(),
                            row.len(),
                        )
                    };
                    f32_rows(row);
                }
            },
        )
    } else {
        a.mapv_inplace(each);
    }
}

// ANCHOR: activations_mut
/// σ(a) in place. In f32 it uses [`exp_f32`]; in f64 the standard
/// library's exp, exactly as the teaching path does.
pub fn sigmoid_mut<F: NdFloat>(a: ArrayViewMut2<'_, F>) {
    rows_apply(
        a,
        |row| row.iter_mut().for_each(|v| *v = 1.0 / (1.0 + exp_f32(-*v))),
        sigmoid1,
    );
}

/// tanh(a) in place. In f32, tanh(a) = 2σ(2a) − 1, through [`exp_f32`]
/// (absolute error below 10⁻⁶); in f64 the standard library's tanh.
pub fn tanh_mut<F: NdFloat>(a: ArrayViewMut2<'_, F>) {
    rows_apply(
        a,
        |row| {
            row.iter_mut()
                .for_each(|v| *v = 2.0 / (1.0 + exp_f32(-2.0 * *v)) - 1.0)
        },
        F::tanh,
    );
}
// ANCHOR_END: activations_mut

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn exp_f32_is_within_3e_7_of_exp_across_its_range() {
        let mut worst = 0.0f64;
        for i in 0..=1_000_000 {
            let x = -87.0 + 175.0 * i as f64 / 1e6;
            let got = exp_f32(x as f32) as f64;
            let want = (x as f32 as f64).exp();
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 3e-7, "relative error {worst:e}");
        // And beyond the clamp it saturates instead of overflowing.
        assert!(exp_f32(-200.0) < 1e-37 && exp_f32(200.0).is_finite());
    }

    #[test]
    fn f32_activations_are_within_1e_6_of_f64() {
        let xs: Vec<f32> = (-2000..=2000).map(|i| i as f32 / 100.0).collect();
        let mut sig =
            Array2::from_shape_vec((1, xs.len()), xs.clone()).unwrap();
        let mut th = sig.clone();
        sigmoid_mut(sig.view_mut());
        tanh_mut(th.view_mut());
        for ((&x, &s), &t) in xs.iter().zip(&sig).zip(&th) {
            let x = x as f64;
            let (s_want, t_want) = (1.0 / (1.0 + (-x).exp()), x.tanh());
            assert!((s as f64 - s_want).abs() < 1e-6, "σ({x}) = {s}");
            assert!((t as f64 - t_want).abs() < 1e-6, "tanh({x}) = {t}");
        }
    }
}
