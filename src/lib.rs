//! The code every chapter of the book shares, after d2l's own `d2l`
//! package: data, the training loop, text generation, plots and
//! checkpoints.

pub mod agreement;
pub mod atomic;
pub mod bigram;
pub mod checkpoint;
pub mod cli;
pub mod clitest;
#[cfg(feature = "torch")]
pub mod concise;
pub mod console;
pub mod data;
pub mod fast;
pub mod generate;
pub mod gradcheck;

pub mod loss;
pub mod model;
pub mod outputs;
pub mod parallel;
pub mod plot;
pub mod rnn;
pub mod train;

pub use model::LanguageModel;
