//! The gates of one layer side by side: the input terms of every gate and
//! every time step computed at once before the loop over time, and the
//! gradients that flow into the input weights computed at once after it.
//!
//! The gates sit in one matrix of `steps · batch` rows and
//! `gates · hiddens` columns, gate `g` in columns
//! `g · hiddens .. (g + 1) · hiddens`. Row `t · batch + i` belongs to
//! sequence `i` at step `t`, as in [`crate::rnn::Seq`].

use super::team::add_mat_mul;
use crate::rnn::Input;
use ndarray::{
    s, Array1, Array2, ArrayBase, ArrayView2, ArrayViewMut2, Axis, Ix2,
    NdFloat, RawData,
};

/// The columns of gate `g` in a matrix (or view, or mutable view) of gates
/// `hiddens` wide.
pub fn gate<S: RawData>(
    m: ArrayBase<S, Ix2>,
    g: usize,
    hiddens: usize,
) -> ArrayBase<S, Ix2> {
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
        let mut out_g = gate(out.view_mut(), g, hiddens);
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
        add_mat_mul(F::one(), vec![(x.view(), w.view(), out.view_mut())]);
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
            add_mat_mul(F::zero(), vec![(x.t(), da, dw_all.view_mut())]);
            for (g, dw) in dw.iter_mut().enumerate() {
                **dw += &gate(dw_all.view(), g, hiddens);
            }
            // ∂L/∂X = [dA_1 | dA_2 | …] [W_1 | W_2 | …]ᵀ, one product.
            let views: Vec<_> = w.iter().map(|w| w.view()).collect();
            let w = ndarray::concatenate(Axis(1), &views).expect("one shape");
            let mut dx = Array2::zeros(x.raw_dim());
            add_mat_mul(F::zero(), vec![(da, w.t(), dx.view_mut())]);
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

/// Rows `t · batch .. (t + 1) · batch` of `m` (or of a view, or of a
/// mutable view): time step `t`.
pub fn step_rows<S: RawData>(
    m: ArrayBase<S, Ix2>,
    t: usize,
    batch: usize,
) -> ArrayBase<S, Ix2> {
    m.slice_move(s![t * batch..(t + 1) * batch, ..])
}

/// Row `r` of `m` cut into `N` gates, each a slice exactly `nh` long, so
/// that a loop over `0..nh` needs no bounds checks and vectorises.
///
/// # Panics
/// If the row is not contiguous or shorter than `N · nh`.
#[inline(always)]
pub fn rows<'a, F, const N: usize>(
    m: ArrayView2<'a, F>,
    r: usize,
    nh: usize,
) -> [&'a [F]; N] {
    let row = m.index_axis_move(Axis(0), r);
    let row = row.to_slice().expect("rows are contiguous");
    let mut gates = row.chunks_exact(nh);
    std::array::from_fn(|_| &gates.next().expect("N gates in the row")[..nh])
}

/// [`rows`], mutably.
#[inline(always)]
pub fn rows_mut<'a, F, const N: usize>(
    m: &'a mut ArrayViewMut2<'_, F>,
    r: usize,
    nh: usize,
) -> [&'a mut [F]; N] {
    let row = m.row_mut(r).into_slice().expect("rows are contiguous");
    let mut gates = row.chunks_exact_mut(nh);
    std::array::from_fn(|_| {
        &mut gates.next().expect("N gates in the row")[..nh]
    })
}
