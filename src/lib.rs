//! The code every chapter of the book shares, after d2l's own `d2l`
//! package: data, the training loop, text generation, plots and
//! checkpoints, and a look inside a trained cell's gates.

pub mod cli;
#[cfg(feature = "torch")]
pub mod concise;
pub mod data;
pub mod fast;
pub mod inspect;
pub mod io;
pub mod model;
pub mod rnn;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod train;

pub use model::LanguageModel;
