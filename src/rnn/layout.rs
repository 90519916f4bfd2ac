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

/// The inverse of [`fuse_t`]: the `G` per-gate `(inputs, hiddens)`
/// weights of a fused `(G · hiddens, inputs)` matrix.
pub fn split_t<F: NdFloat, const G: usize>(
    fused: &Array2<F>,
) -> [Array2<F>; G] {
    assert_eq!(fused.nrows() % G, 0, "rows must split into {G} gates");
    let h = fused.nrows() / G;
    std::array::from_fn(|k| {
        fused
            .slice(ndarray::s![k * h..(k + 1) * h, ..])
            .t()
            .to_owned()
    })
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

/// The inverse of [`fuse_bias`]: `G` per-gate biases.
pub fn split_bias<F: NdFloat, const G: usize>(
    fused: &Array1<F>,
) -> [Array1<F>; G] {
    assert_eq!(fused.len() % G, 0, "length must split into {G} gates");
    let h = fused.len() / G;
    std::array::from_fn(|k| {
        fused.slice(ndarray::s![k * h..(k + 1) * h]).to_owned()
    })
}

// ANCHOR: torch_layout
/// A cell's parameters, converted to PyTorch's layout and back: what the
/// concise models copy in and out, one layer at a time.
pub trait TorchLayout<F>: Sized {
    /// These parameters in PyTorch's layout.
    fn to_torch(&self) -> TorchLayer<F>;
    /// PyTorch's parameters in ours.
    fn from_torch(t: &TorchLayer<F>) -> Self;
    /// PyTorch's gradients in ours. Where one of our biases is the sum of
    /// PyTorch's two, its gradient is the gradient of either one, not
    /// their sum.
    fn grads_from_torch(g: &TorchLayer<F>) -> Self;
}
// ANCHOR_END: torch_layout
