//! [`Sequence`](super::Sequence) for a cell with no fused arithmetic: the
//! whole sequence through the teaching loops, so that a cell written only
//! as its step and backward step (an LSTM variant, say) still trains,
//! generates and is checked by every tool that asks for a `Sequence`.

use super::cell::{Head, SeqGrads};
use crate::rnn::{backward_seq, forward_seq, Cell, Seq};
use ndarray::{concatenate, Array2, ArrayView2, Axis, NdFloat};

/// [`seq_forward`](super::Sequence::seq_forward) by [`forward_seq`].
pub fn seq_forward<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    state: &mut C::State,
) -> Array2<F> {
    forward_seq(cell, p, &xs.steps(), state).0
}

/// [`seq_forward_backward`](super::Sequence::seq_forward_backward) by
/// [`forward_seq`], `head`, then [`backward_seq`].
pub fn seq_forward_backward<F: NdFloat, C: Cell<F>>(
    cell: &C,
    p: &C::Params,
    xs: &Seq<'_, F>,
    state: &mut C::State,
    head: &mut Head<'_, F>,
    grads: &mut C::Params,
) -> SeqGrads<F, C::State> {
    let steps = xs.steps();
    let (hs, caches) = forward_seq(cell, p, &steps, state);
    let dhs = head(hs.view());
    let (d_state0, dxs) =
        backward_seq(cell, p, &steps, &caches, dhs.view(), grads);
    // A dense input's gradient, stacked like the input; none for tokens.
    let dx: Option<Vec<ArrayView2<F>>> =
        dxs.iter().map(|dx| dx.as_ref().map(Array2::view)).collect();
    let dx = dx
        .filter(|d| !d.is_empty())
        .map(|d| concatenate(Axis(0), &d).expect("steps of one width"));
    (d_state0, dx)
}

/// Gives a cell type the [`Sequence`](crate::fast::Sequence) of the
/// teaching loops:
/// `d2l::teaching_sequence!(LstmVariant);` beside its `impl Cell<F>`.
#[macro_export]
macro_rules! teaching_sequence {
    ($cell:ty) => {
        impl<F: ::ndarray::NdFloat> $crate::fast::Sequence<F> for $cell {
            fn seq_forward(
                &self,
                p: &Self::Params,
                xs: &$crate::rnn::Seq<'_, F>,
                state: &mut Self::State,
            ) -> ::ndarray::Array2<F> {
                $crate::fast::teaching::seq_forward(self, p, xs, state)
            }

            fn seq_forward_backward(
                &self,
                p: &Self::Params,
                xs: &$crate::rnn::Seq<'_, F>,
                state: &mut Self::State,
                head: &mut $crate::fast::Head<'_, F>,
                grads: &mut Self::Params,
            ) -> $crate::fast::SeqGrads<F, Self::State> {
                $crate::fast::teaching::seq_forward_backward(
                    self, p, xs, state, head, grads,
                )
            }
        }
    };
}
