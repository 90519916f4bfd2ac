//! What a cell gives the fused engine ([`super::engine`]): the list of its
//! weights, and the arithmetic of one step forward and one step backward
//! on matrices the engine hands it ([`Fused`]). And what the fast path
//! asks of a layer: a whole sequence at once ([`Sequence`]).

use super::kernel::Packed;
use crate::rnn::{Cell, Seq};
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, NdFloat};

/// What a sequence's backward pass returns: the gradient with respect to
/// the initial state, and, for a dense input, with respect to every row of
/// it (`steps · batch` rows, like the input).
pub type SeqGrads<F, S> = (S, Option<Array2<F>>);

/// The part of the model above the recurrent layer, as the fast path sees
/// it: it receives the hidden states of every step and returns the
/// gradient of the loss with respect to them.
pub type Head<'h, F> = dyn FnMut(ArrayView2<'_, F>) -> Array2<F> + 'h;

// ANCHOR: sequence
/// A whole sequence at once: what the fast path asks of a layer. Every
/// [`Fused`] cell has it through the engine; a stack of layers has it by
/// running its layers one after another.
pub trait Sequence<F: NdFloat>: Cell<F> {
    /// The whole sequence forward, from `state`, leaving `state` at the
    /// last step; returns the hidden states of every step, stacked like
    /// [`crate::rnn::forward_seq`]'s.
    fn seq_forward(
        &self,
        p: &Self::Params,
        xs: &Seq<'_, F>,
        state: &mut Self::State,
    ) -> Array2<F>;

    /// The whole sequence forward, then `head` (hidden states → their
    /// gradient), then the whole sequence backward. Adds the parameter
    /// gradients into `grads`.
    fn seq_forward_backward(
        &self,
        p: &Self::Params,
        xs: &Seq<'_, F>,
        state: &mut Self::State,
        head: &mut Head<'_, F>,
        grads: &mut Self::Params,
    ) -> SeqGrads<F, Self::State>;

    /// Whether the whole sequence runs through the engine, whose threads
    /// share every step ([`super::team`]). A model splits the batch
    /// between its threads instead when it does not.
    fn shares_steps(&self) -> bool {
        false
    }
}
// ANCHOR_END: sequence

/// The weights the engine multiplies for a cell.
pub struct Weights<'p, F> {
    /// `(W_x·, b_·)` of every gate, in the order of the gate matrix.
    pub input: Vec<(&'p Array2<F>, &'p Array1<F>)>,
    /// `W_h·` of the first `direct.len()` gates, whose pre-activations
    /// get `H_{t−1} [W_h1 | W_h2 | …]`, one product per step.
    pub direct: Vec<&'p Array2<F>>,
}

/// The gradients of [`Weights`], in the same order.
pub struct WeightGrads<'g, F> {
    pub input: Vec<&'g mut Array2<F>>,
    pub bias: Vec<&'g mut Array1<F>>,
    pub direct: Vec<&'g mut Array2<F>>,
}

/// Writes [`Fused::weights`] and [`Fused::weight_grads`] from one list of
/// parameter fields: `fused_weights!(input: [(w_xz, b_z), …], direct:
/// [w_hz, …]);` inside `impl Fused<F> for …`.
#[macro_export]
macro_rules! fused_weights {
    (input: [$(($w:ident, $b:ident)),* $(,)?],
     direct: [$($h:ident),* $(,)?]) => {
        fn weights<'p>(
            &self,
            p: &'p Self::Params,
        ) -> $crate::fast::Weights<'p, F> {
            $crate::fast::Weights {
                input: vec![$((&p.$w, &p.$b)),*],
                direct: vec![$(&p.$h),*],
            }
        }
        fn weight_grads<'g>(
            &self,
            g: &'g mut Self::Params,
        ) -> $crate::fast::WeightGrads<'g, F> {
            $crate::fast::WeightGrads {
                input: vec![$(&mut g.$w),*],
                bias: vec![$(&mut g.$b),*],
                direct: vec![$(&mut g.$h),*],
            }
        }
    };
}

// ANCHOR: steps
/// One step forward, as the engine hands it to a cell. Every matrix has
/// `batch` rows.
pub struct Forward<'a, F> {
    /// Every gate's pre-activation, `(batch, gates · hiddens)`: the input
    /// terms, plus `H_{t−1} W_h·` for the direct gates. The cell turns
    /// them into activations in place; the backward pass reads them.
    pub gates: ArrayViewMut2<'a, F>,
    /// The state at t − 1, tensor by tensor (H first, then C for an LSTM).
    pub prev: Vec<ArrayView2<'a, F>>,
    /// The state at t, for the cell to write.
    pub next: Vec<ArrayViewMut2<'a, F>>,
    /// The cell's own matrices for this step ([`Fused::SAVED`] of them).
    pub saved: Vec<ArrayViewMut2<'a, F>>,
    /// The cell's own weights, as [`Fused::pack`] laid them out.
    pub own: &'a [Packed<F>],
}

/// One step backward, as the engine hands it to a cell.
pub struct Backward<'a, F> {
    /// The activations the forward step left in [`Forward::gates`].
    pub gates: ArrayView2<'a, F>,
    /// The state at t − 1, and the cell's matrices of this step.
    pub prev: Vec<ArrayView2<'a, F>>,
    pub saved: Vec<ArrayView2<'a, F>>,
    /// On entry ∂L/∂state_t; the cell leaves ∂L/∂state_{t−1} there,
    /// except for the direct gates' term `dA W_h·ᵀ`, which the engine adds.
    pub d_state: Vec<ArrayViewMut2<'a, F>>,
    /// The gradients of the pre-activations, for the cell to write.
    pub da: ArrayViewMut2<'a, F>,
    /// The cell's own gradients of this step ([`Fused::SAVED_BACK`]).
    pub saved_back: Vec<ArrayViewMut2<'a, F>>,
    /// The cell's own weights, transposed, as [`Fused::pack`] laid them out.
    pub own: &'a [Packed<F>],
}

/// The whole sequence after the backward loop, for a cell's own weight
/// gradients: H_0 … H_{T−1} (what every step read), every step's `dA`,
/// and the cell's matrices, each stacked over all steps.
pub struct Sums<'a, F> {
    pub h_prev: ArrayView2<'a, F>,
    pub da: ArrayView2<'a, F>,
    pub saved: &'a [Array2<F>],
    pub saved_back: &'a [Array2<F>],
}
// ANCHOR_END: steps

// ANCHOR: fused
/// A cell's pointwise arithmetic, which the engine runs over a sequence.
///
/// The engine computes the products every gated cell shares; the cell
/// turns pre-activations into a new state, and gradients of the state
/// into gradients of the pre-activations. A cell that multiplies by a
/// weight of its own inside a step (the GRU's `(R ⊙ H) W_hh`) lays it out
/// in [`Fused::pack`] and adds its gradient in [`Fused::own_grads`].
pub trait Fused<F: NdFloat>: Cell<F> {
    /// Matrices of `(batch, hiddens)` per step that the forward step keeps
    /// for the backward step, besides the states and the gates.
    const SAVED: usize = 0;
    /// Matrices per step that the backward step keeps for `own_grads`.
    const SAVED_BACK: usize = 0;

    /// The input weights and biases of every gate, and the recurrent
    /// weights of the direct gates (write both with [`fused_weights!`]).
    fn weights<'p>(&self, p: &'p Self::Params) -> Weights<'p, F>;
    /// The gradients of the same, in the same order.
    fn weight_grads<'g>(&self, g: &'g mut Self::Params) -> WeightGrads<'g, F>;

    /// The cell's own weights laid out for the kernel, transposed for the
    /// backward pass. None by default.
    fn pack(&self, _p: &Self::Params, _backward: bool) -> Vec<Packed<F>> {
        Vec::new()
    }

    /// Step t forward: activations, then the new state.
    fn forward_step(&self, p: &Self::Params, s: Forward<F>);

    /// Step t backward: `dA`, and the gradient of the state at t − 1.
    fn backward_step(&self, p: &Self::Params, s: Backward<F>);

    /// Adds the gradients of the cell's own weights, after the loop.
    fn own_grads(&self, _s: Sums<'_, F>, _g: &mut Self::Params) {}
}
// ANCHOR_END: fused

/// Gives a [`Fused`] cell type the [`Sequence`] of the engine:
/// `d2l::fused_sequence!(Gru);` beside its `impl Fused<F> for Gru`.
#[macro_export]
macro_rules! fused_sequence {
    ($cell:ty) => {
        impl<F: ::ndarray::NdFloat> $crate::fast::Sequence<F> for $cell {
            fn seq_forward(
                &self,
                p: &Self::Params,
                xs: &$crate::rnn::Seq<'_, F>,
                state: &mut Self::State,
            ) -> ::ndarray::Array2<F> {
                $crate::fast::engine::seq_forward(self, p, xs, state)
            }

            fn seq_forward_backward(
                &self,
                p: &Self::Params,
                xs: &$crate::rnn::Seq<'_, F>,
                state: &mut Self::State,
                head: &mut $crate::fast::Head<'_, F>,
                grads: &mut Self::Params,
            ) -> $crate::fast::SeqGrads<F, Self::State> {
                $crate::fast::engine::seq_forward_backward(
                    self, p, xs, state, head, grads,
                )
            }

            fn shares_steps(&self) -> bool {
                true
            }
        }
    };
}
