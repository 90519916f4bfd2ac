//! What every cell's fast path shares: the input terms of every gate and
//! every time step computed at once before the loop over time, and the
//! gradients that flow into the input weights computed at once after it.
//!
//! The gates of one layer sit side by side in one matrix of
//! `steps · batch` rows and `gates · hiddens` columns, gate `g` in columns
//! `g · hiddens .. (g + 1) · hiddens`. Row `t · batch + i` belongs to
//! sequence `i` at step `t`, as in [`crate::rnn::Seq`].

use crate::rnn::{backward_seq, forward_seq, Cell, Input, Seq, Tensors};
use ndarray::linalg::general_mat_mul;
use ndarray::{
    s, Array1, Array2, ArrayView2, ArrayViewD, ArrayViewMut2, Axis, NdFloat,
};

/// The columns of gate `g` in a matrix of gates `hiddens` wide.
pub fn gate<F>(
    m: ArrayView2<'_, F>,
    g: usize,
    hiddens: usize,
) -> ArrayView2<'_, F> {
    m.slice_move(s![.., g * hiddens..(g + 1) * hiddens])
}

/// The columns of gate `g`, mutably.
pub fn gate_mut<F>(
    m: ArrayViewMut2<'_, F>,
    g: usize,
    hiddens: usize,
) -> ArrayViewMut2<'_, F> {
    m.slice_move(s![.., g * hiddens..(g + 1) * hiddens])
}

// ANCHOR: input_terms
/// `[X W_1 + b_1 | X W_2 + b_2 | …]` for every step at once, one
/// `(weight, bias)` per gate. For tokens, each row of a product is the
/// weight's row at the token (the one-hot product is a lookup); for dense
/// inputs it is one matrix product per gate over all steps.
///
/// # Shapes
/// `x`: `rows` inputs; each weight `(inputs, hiddens)`; returns
/// `(rows, gates · hiddens)`.
pub fn input_terms<F: NdFloat>(
    x: &Input<'_, F>,
    gates: &[(&Array2<F>, &Array1<F>)],
) -> Array2<F> {
    let hiddens = gates.first().map_or(0, |(w, _)| w.ncols());
    let rows = x.batch_size();
    let mut out = Array2::zeros((rows, gates.len() * hiddens));
    for (g, (w, b)) in gates.iter().enumerate() {
        let mut out_g = gate_mut(out.view_mut(), g, hiddens);
        out_g.assign(
            &b.broadcast((rows, hiddens)).expect("one bias per column"),
        );
        if let Input::Tokens(tokens) = x {
            for (mut row, &token) in out_g.outer_iter_mut().zip(*tokens) {
                row += &w.row(token);
            }
        }
    }
    if let Input::Dense(x) = x {
        // One product for all gates: X [W_1 | W_2 | …].
        let views: Vec<_> = gates.iter().map(|(w, _)| w.view()).collect();
        let w = ndarray::concatenate(Axis(1), &views).expect("one shape");
        general_mat_mul(F::one(), x, &w, F::one(), &mut out);
    }
    out
}
// ANCHOR_END: input_terms

// ANCHOR: input_grads
/// After the loop over time: from `da`, the gradients of every gate's
/// pre-activation at every step (laid out like [`input_terms`]'s result),
/// adds `Xᵀ dA_g` into each `dw[g]` and `Σ_rows dA_g` into each `db[g]`.
/// Returns `∂L/∂X = Σ_g dA_g W_gᵀ` for a dense input.
pub fn input_grads<F: NdFloat>(
    x: &Input<'_, F>,
    da: ArrayView2<'_, F>,
    w: &[&Array2<F>],
    dw: &mut [&mut Array2<F>],
    db: &mut [&mut Array1<F>],
) -> Option<Array2<F>> {
    assert_eq!(w.len(), dw.len(), "one gradient per weight");
    let hiddens = w.first().map_or(0, |w| w.ncols());
    for (g, db) in db.iter_mut().enumerate() {
        **db += &gate(da.view(), g, hiddens).sum_axis(Axis(0));
    }
    match x {
        Input::Tokens(tokens) => {
            for (g, dw) in dw.iter_mut().enumerate() {
                let da_g = gate(da.view(), g, hiddens);
                for (&token, row) in tokens.iter().zip(da_g.outer_iter()) {
                    let mut dw_row = dw.row_mut(token);
                    dw_row += &row;
                }
            }
            None
        }
        Input::Dense(x) => {
            // Xᵀ [dA_1 | dA_2 | …] in one product, then cut by gate.
            let mut dw_all = Array2::zeros((x.ncols(), da.ncols()));
            general_mat_mul(F::one(), &x.t(), &da, F::zero(), &mut dw_all);
            for (g, dw) in dw.iter_mut().enumerate() {
                **dw += &gate(dw_all.view(), g, hiddens);
            }
            // ∂L/∂X = [dA_1 | dA_2 | …] [W_1 | W_2 | …]ᵀ, one product.
            let views: Vec<_> = w.iter().map(|w| w.view()).collect();
            let w = ndarray::concatenate(Axis(1), &views).expect("one shape");
            let mut dx = Array2::zeros(x.raw_dim());
            general_mat_mul(F::one(), &da, &w.t(), F::zero(), &mut dx);
            Some(dx)
        }
    }
}
// ANCHOR_END: input_grads

/// `[W_1 | W_2 | …]`, matrices of one height side by side, in row-major
/// order: the layout [`Packed::new`](crate::kernel::Packed::new) reads
/// without a transpose. (ndarray's `concatenate` along the columns
/// returns a column-major matrix.)
pub fn side_by_side<F: NdFloat>(ws: &[&Array2<F>]) -> Array2<F> {
    let rows = ws.first().map_or(0, |w| w.nrows());
    let cols = ws.iter().map(|w| w.ncols()).sum();
    let mut out = Array2::zeros((rows, cols));
    let mut j = 0;
    for w in ws {
        out.slice_mut(ndarray::s![.., j..j + w.ncols()]).assign(*w);
        j += w.ncols();
    }
    out
}

/// Rows `t · batch .. (t + 1) · batch` of `m`: time step `t`.
pub fn step_rows<F>(
    m: ArrayView2<'_, F>,
    t: usize,
    batch: usize,
) -> ArrayView2<'_, F> {
    m.slice_move(s![t * batch..(t + 1) * batch, ..])
}

/// Time step `t` of `m`, mutably.
pub fn step_rows_mut<F>(
    m: ArrayViewMut2<'_, F>,
    t: usize,
    batch: usize,
) -> ArrayViewMut2<'_, F> {
    m.slice_move(s![t * batch..(t + 1) * batch, ..])
}

/// σ(a), for one entry.
#[inline]
pub fn sigmoid1<F: NdFloat>(a: F) -> F {
    F::one() / (F::one() + (-a).exp())
}

// ANCHOR: fast_vs_teaching
/// Runs a cell's fast path ([`Cell::seq_forward_backward`] and
/// [`Cell::seq_forward`]) and the teaching loops ([`forward_seq`],
/// [`backward_seq`]) on the same sequence, from the same state, with the
/// same gradient `dhs` from above, and returns the largest absolute
/// difference in every result: the hidden states, the final state, every
/// parameter gradient, the initial state's gradient and the input's.
pub fn fast_vs_teaching<C: Cell<f64>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, f64>,
    state0: &C::State,
    dhs: &Array2<f64>,
) -> Vec<(String, f64)> {
    let steps = xs.steps();
    let mut state_t = state0.clone();
    let (hs_t, caches) = forward_seq(cell, p, &steps, &mut state_t);
    let mut grads_t = p.zeros_like();
    let (d0_t, dxs_t) =
        backward_seq(cell, p, &steps, &caches, dhs.view(), &mut grads_t);

    let mut state_f = state0.clone();
    let mut grads_f = p.zeros_like();
    let mut hs_f = None;
    let mut head = |hs: ArrayView2<'_, f64>| {
        hs_f = Some(hs.to_owned());
        dhs.clone()
    };
    let (d0_f, dx_f) =
        cell.seq_forward_backward(p, xs, &mut state_f, &mut head, &mut grads_f);
    let hs_f = hs_f.expect("the fast path calls its head once");
    let mut state_fwd = state0.clone();
    let hs_fwd = cell.seq_forward(p, xs, &mut state_fwd);

    let max_diff = |a: ArrayViewD<'_, f64>, b: ArrayViewD<'_, f64>| {
        assert_eq!(a.shape(), b.shape(), "the two paths' shapes differ");
        a.iter()
            .zip(b.iter())
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    let mut out = vec![
        (
            "hs".to_string(),
            max_diff(hs_t.view().into_dyn(), hs_f.view().into_dyn()),
        ),
        (
            "hs (seq_forward)".to_string(),
            max_diff(hs_t.view().into_dyn(), hs_fwd.view().into_dyn()),
        ),
    ];
    let pairs = [
        ("final state", &state_t, &state_f),
        ("final state (seq_forward)", &state_t, &state_fwd),
        ("d_state0", &d0_t, &d0_f),
    ];
    for (what, a, b) in pairs {
        for ((name, x), (_, y)) in a.named().into_iter().zip(b.named()) {
            out.push((format!("{what} {name}"), max_diff(x, y)));
        }
    }
    for ((name, x), (_, y)) in grads_t.named().into_iter().zip(grads_f.named())
    {
        out.push((format!("grad {name}"), max_diff(x, y)));
    }
    let dxs_t: Option<Vec<Array2<f64>>> = dxs_t.into_iter().collect();
    match (dxs_t, dx_f) {
        (Some(d), Some(dx_f)) if !d.is_empty() => {
            let views: Vec<_> = d.iter().map(Array2::view).collect();
            let dx_t = ndarray::concatenate(Axis(0), &views)
                .expect("one shape per step");
            out.push((
                "dx".to_string(),
                max_diff(dx_t.view().into_dyn(), dx_f.view().into_dyn()),
            ));
        }
        (None, None) => {}
        (t, f) => panic!(
            "one path returned an input gradient and the other did not \
             (teaching: {}, fast: {})",
            t.is_some(),
            f.is_some()
        ),
    }
    out
}
// ANCHOR_END: fast_vs_teaching

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
    if crate::kernel::kernel_available() {
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

// ANCHOR: keep_freed_memory
/// Asks the C allocator to keep freed memory for reuse instead of handing
/// it back to the system. The fast path allocates a few matrices of
/// several MB per minibatch; by default glibc maps each one fresh from
/// the system and unmaps it when freed, and the page faults of touching
/// new pages cost about a sixth of a minibatch's time. One arena for all
/// threads lets the threads of the next minibatch reuse the blocks the
/// last ones freed, instead of each keeping its own. Does nothing outside
/// glibc.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator settings; it is called with
    // documented parameters and valid values.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}
// ANCHOR_END: keep_freed_memory

#[cfg(test)]
mod tests {
    use super::*;

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
