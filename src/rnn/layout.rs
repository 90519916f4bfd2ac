//! PyTorch's layout of a recurrent layer, which the chapters convert their
//! parameters to and from (checkpoints, the agreement tests).

use ndarray::{
    Array, Array1, Array2, ArrayView, Axis, Dimension, NdFloat, RemoveAxis,
    Slice,
};

// ANCHOR: fuse_t
/// PyTorch's fused layout: the per-gate weights `(inputs, hiddens)`,
/// transposed and stacked into one `(gates · hiddens, inputs)` matrix, in
/// the order given. Per-gate biases (vectors, which transposing leaves as
/// they are) are stacked into one vector the same way.
pub fn fuse_t<F: NdFloat, D: RemoveAxis>(ws: &[&Array<F, D>]) -> Array<F, D> {
    let ts: Vec<_> = ws.iter().map(|w| w.t()).collect();
    ndarray::concatenate(Axis(0), &ts).expect("gate weights of one shape")
}

/// The inverse of [`fuse_t`]: the `G` per-gate `(inputs, hiddens)`
/// weights of a fused `(G · hiddens, inputs)` matrix, or the `G` biases of
/// a fused vector.
pub fn split_t<F: NdFloat, D: Dimension, const G: usize>(
    fused: &Array<F, D>,
) -> [Array<F, D>; G] {
    blocks(fused.view()).map(|w| w.t().to_owned())
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

impl<F: NdFloat> TorchLayer<F> {
    /// The same layer with `bias_hh` zero: PyTorch's gradients as ours,
    /// for a cell whose every bias is the sum of PyTorch's two (the
    /// gradient of the sum is the gradient of either one).
    pub fn input_biases_only(&self) -> Self {
        Self {
            bias_hh: Array1::zeros(self.bias_hh.len()),
            ..self.clone()
        }
    }
}

/// `G` equal blocks of rows (of entries, for a vector).
fn blocks<'a, F, D: Dimension, const G: usize>(
    fused: ArrayView<'a, F, D>,
) -> [ArrayView<'a, F, D>; G] {
    let rows = fused.len_of(Axis(0));
    assert_eq!(rows % G, 0, "{rows} rows do not split into {G} gates");
    let h = rows / G;
    std::array::from_fn(|k| {
        let block = Slice::from(k * h..(k + 1) * h);
        fused.clone().slice_axis_move(Axis(0), block)
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
