//! The [`Cell`] trait that GRU and LSTM cells implement: one time step
//! forward, and the same step backward.

use super::input::Input;
use super::tensors::Tensors;
use ndarray::{Array2, NdFloat};
use rand::Rng;

// ANCHOR: cell
/// A recurrent cell: one time step forward, and the same step backward.
///
/// The cell holds its shape and formulation; its parameters are passed in,
/// so that a stack of cells is a cell too (its parameters are the list of
/// its layers' parameters).
pub trait Cell<F: NdFloat>: Sync {
    /// Parameters, and their gradients (the same struct).
    type Params: Tensors<F> + Send + Sync;
    /// The state passed from one step to the next; its gradient has the
    /// same type.
    type State: Tensors<F> + Send;
    /// What the forward step keeps for the backward step.
    type Cache;

    /// Fresh parameters, with d2l's initialisation.
    fn init<R: Rng>(&self, rng: &mut R) -> Self::Params;

    fn num_hiddens(&self) -> usize;

    /// The all-zero state for `batch_size` sequences.
    fn zero_state(&self, batch_size: usize) -> Self::State;

    /// The hidden state H, which the output layer (or the next layer) reads.
    fn h<'s>(&self, state: &'s Self::State) -> &'s Array2<F>;

    /// Mutable access to H, where the gradient from above is added.
    fn h_mut<'s>(&self, state: &'s mut Self::State) -> &'s mut Array2<F>;

    /// One step: (X_t, state_{t−1}) → (state_t, cache).
    fn step(
        &self,
        p: &Self::Params,
        x: &Input<'_, F>,
        state: &Self::State,
    ) -> (Self::State, Self::Cache);

    /// The step backward: from the gradient of the loss with respect to
    /// state_t, adds the parameter gradients into `grads` and returns the
    /// gradient with respect to state_{t−1}, and with respect to X_t when
    /// the input is dense.
    fn step_backward(
        &self,
        p: &Self::Params,
        x: &Input<'_, F>,
        cache: &Self::Cache,
        d_state: &Self::State,
        grads: &mut Self::Params,
    ) -> (Self::State, Option<Array2<F>>);
}
// ANCHOR_END: cell
