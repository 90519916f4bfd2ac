//! PyTorch's layout of a recurrent layer, which the chapters convert their
//! parameters to and from (checkpoints, the agreement tests).

use ndarray::{Array1, Array2, Axis, NdFloat};

// ANCHOR: fuse_t
/// PyTorch's fused layout: the per-gate weights `(inputs, hiddens)`,
/// transposed and stacked into one `(gates · hiddens, inputs)` matrix, in
/// the order given.
pub fn fuse_t<F: NdFloat>(ws: &[&Array2<F>]) -> Array2<F> {
    let ts: Vec<_> = ws.iter().map(|w| w.t()).collect();
    ndarray::concatenate(Axis(0), &ts).expect("gate weights of one shape")
}

/// The inverse of [`fuse_t`]: the `gates` per-gate `(inputs, hiddens)`
/// weights of a fused `(gates · hiddens, inputs)` matrix.
pub fn split_t<F: NdFloat>(fused: &Array2<F>, gates: usize) -> Vec<Array2<F>> {
    assert_eq!(
        fused.nrows() % gates,
        0,
        "rows must split into {gates} gates"
    );
    let h = fused.nrows() / gates;
    (0..gates)
        .map(|k| {
            fused
                .slice(ndarray::s![k * h..(k + 1) * h, ..])
                .t()
                .to_owned()
        })
        .collect()
}
// ANCHOR_END: fuse_t

/// One recurrent layer in PyTorch's layout: every gate's weights fused and
/// transposed, and two biases per gate, one added to the input product and
/// one to the recurrent product. The GRU and LSTM chapters convert their
/// parameters to and from it.
#[derive(Debug, Clone, PartialEq)]
pub struct TorchLayer<F> {
    /// `(gates · hiddens, inputs)`
    pub weight_ih: Array2<F>,
    /// `(gates · hiddens, hiddens)`
    pub weight_hh: Array2<F>,
    /// `(gates · hiddens)`
    pub bias_ih: Array1<F>,
    /// `(gates · hiddens)`
    pub bias_hh: Array1<F>,
}

/// Per-gate biases stacked into one vector, in the order given.
pub fn fuse_bias<F: NdFloat>(bs: &[&Array1<F>]) -> Array1<F> {
    let views: Vec<_> = bs.iter().map(|b| b.view()).collect();
    ndarray::concatenate(Axis(0), &views).expect("biases of one length")
}

/// The inverse of [`fuse_bias`].
pub fn split_bias<F: NdFloat>(
    fused: &Array1<F>,
    gates: usize,
) -> Vec<Array1<F>> {
    assert_eq!(
        fused.len() % gates,
        0,
        "length must split into {gates} gates"
    );
    let h = fused.len() / gates;
    (0..gates)
        .map(|k| fused.slice(ndarray::s![k * h..(k + 1) * h]).to_owned())
        .collect()
}
