//! What every recurrent model here is made of, as the chapters teach it:
//! named tensors, d2l's initialisation and activations, the inputs of a
//! layer, the [`Cell`] trait that GRU and LSTM cells implement, the loops
//! that run a cell forward over a sequence and backward through time
//! (BPTT), the output layer and the loss.
//!
//! The layout is d2l's: time-major, one `(batch, inputs)` matrix per time
//! step, weights `(inputs, hiddens)` so that `X W` reads like the book.

pub mod bptt;
pub mod cell;
pub mod dropout;
pub mod input;
pub mod layout;
pub mod loss;
pub mod ops;
pub mod output;
pub mod tensors;

/// What [`cell_of_steps!`](crate::cell_of_steps) names in the crate that
/// calls it, so that the crate need not depend on these itself.
#[doc(hidden)]
pub mod macro_deps {
    pub use ndarray::{Array2, NdFloat};
    pub use rand::Rng;
}

pub use bptt::{backward_seq, forward_seq};
pub use cell::{Cell, Hidden, State};
pub use dropout::{
    drop_units, drop_weights, dropout_mask, is_recurrent_weight, weight_masks,
};
pub use input::{Input, Seq};
pub use layout::{fuse_t, split_t, TorchLayer, TorchLayout};
pub use loss::softmax_cross_entropy;
pub use ops::{normal, sigmoid, tanh};
pub use output::Output;
pub use tensors::{norm_sq, scale, sgd, zero, Tensors};
