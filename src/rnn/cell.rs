//! The [`Cell`] trait that every cell implements (plain RNN, GRU, LSTM):
//! one time step forward, and the same step backward; the [`State`] a
//! cell carries from one step to the next; and [`cell_of_steps!`], which
//! writes the impl of a cell given as two step functions.

use super::input::Input;
use super::tensors::Tensors;
use crate::impl_tensors;
use ndarray::{Array2, NdFloat};
use rand::Rng;
use std::ops::Range;

// ANCHOR: cell
/// A recurrent cell: one time step forward, and the same step backward.
///
/// The cell holds its shape and formulation; its parameters are passed in,
/// so that a stack of cells is a cell too (its parameters are the list of
/// its layers' parameters).
pub trait Cell<F: NdFloat>: Sync + Clone {
    /// Parameters, and their gradients (the same struct).
    type Params: Tensors<F> + Send + Sync;
    /// The state passed from one step to the next; its gradient has the
    /// same type.
    type State: State<F>;
    /// What the forward step keeps for the backward step.
    type Cache;

    /// Fresh parameters, with d2l's initialisation.
    fn init<R: Rng>(&self, rng: &mut R) -> Self::Params;

    fn num_hiddens(&self) -> usize;

    /// The all-zero state for `batch_size` sequences.
    fn zero_state(&self, batch_size: usize) -> Self::State;

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

    /// Dropout inside the cell: the width of every hidden state that one
    /// of its layers reads from the layer below (a stack's), one mask
    /// each. A single cell has none.
    fn inner_widths(&self) -> Vec<usize> {
        Vec::new()
    }

    /// The cell with dropout `masks` on those inputs for one minibatch,
    /// `(batch, width)` each, in the order of [`Cell::inner_widths`].
    fn with_masks(&self, _masks: Vec<Array2<f64>>) -> Self {
        self.clone()
    }

    /// The cell with only the rows `rows` of its masks: for a thread that
    /// takes those sequences of the minibatch.
    fn mask_rows(&self, _rows: Range<usize>) -> Self {
        self.clone()
    }
}
// ANCHOR_END: cell

// ANCHOR: state
/// What a cell carries from one step to the next: the hidden state H,
/// which the output layer (or the next layer up) reads, and whatever else
/// the cell keeps to itself (an LSTM's memory C).
pub trait State<F: NdFloat>: Tensors<F> + Send {
    /// H, `(batch, hiddens)`.
    fn h(&self) -> &Array2<F>;
    /// H, mutably: where the gradient from above is added.
    fn h_mut(&mut self) -> &mut Array2<F>;
}

/// The state of a cell that carries H alone: a GRU, a plain RNN.
#[derive(Debug, Clone, PartialEq)]
pub struct Hidden<F> {
    /// `(batch, hiddens)`
    pub h: Array2<F>,
}
impl_tensors!(Hidden { h });

impl<F: NdFloat> State<F> for Hidden<F> {
    fn h(&self) -> &Array2<F> {
        &self.h
    }
    fn h_mut(&mut self) -> &mut Array2<F> {
        &mut self.h
    }
}

/// A stack's state, one per layer: H is the top layer's.
impl<F: NdFloat, S: State<F>> State<F> for Vec<S> {
    fn h(&self) -> &Array2<F> {
        self.last().expect("one state per layer").h()
    }
    fn h_mut(&mut self) -> &mut Array2<F> {
        self.last_mut().expect("one state per layer").h_mut()
    }
}
// ANCHOR_END: state

// ANCHOR: cell_of_steps
/// A cell whose parameters depend only on its sizes, given as its step
/// and backward step functions: defines the struct (`num_inputs`,
/// `num_hiddens`, `new`) and its [`Cell`] impl, which hands each step to
/// those functions. `state: LstmState { h, c }` names the state's fields,
/// each `(batch, hiddens)` and zero at the start. The plain RNN and the
/// LSTM are such cells; the GRU, which also has a variant, writes its impl
/// out.
#[macro_export]
macro_rules! cell_of_steps {
    (
        $(#[$meta:meta])*
        $cell:ident {
            params: $params:ident,
            state: $state:ident { $($field:ident),+ $(,)? },
            cache: $cache:ident,
            step: $step:path,
            backward: $backward:path $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $cell {
            pub num_inputs: usize,
            pub num_hiddens: usize,
        }

        impl $cell {
            pub fn new(num_inputs: usize, num_hiddens: usize) -> Self {
                Self { num_inputs, num_hiddens }
            }
        }

        impl<F: $crate::rnn::macro_deps::NdFloat> $crate::rnn::Cell<F>
            for $cell
        {
            type Params = $params<F>;
            type State = $state<F>;
            type Cache = $cache<F>;

            fn init<R: $crate::rnn::macro_deps::Rng>(
                &self,
                rng: &mut R,
            ) -> $params<F> {
                $params::new(self.num_inputs, self.num_hiddens, rng)
            }

            fn num_hiddens(&self) -> usize {
                self.num_hiddens
            }

            fn zero_state(&self, batch_size: usize) -> $state<F> {
                let shape = (batch_size, self.num_hiddens);
                let zeros = $crate::rnn::macro_deps::Array2::zeros(shape);
                $state { $($field: zeros.clone()),+ }
            }

            fn step(
                &self,
                p: &$params<F>,
                x: &$crate::rnn::Input<'_, F>,
                state: &$state<F>,
            ) -> ($state<F>, $cache<F>) {
                $step(p, x, state)
            }

            fn step_backward(
                &self,
                p: &$params<F>,
                x: &$crate::rnn::Input<'_, F>,
                cache: &$cache<F>,
                d_state: &$state<F>,
                grads: &mut $params<F>,
            ) -> ($state<F>, Option<$crate::rnn::macro_deps::Array2<F>>) {
                $backward(p, x, cache, d_state, grads)
            }
        }
    };
}
// ANCHOR_END: cell_of_steps
