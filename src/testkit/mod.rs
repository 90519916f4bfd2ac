//! What the tests share, out of the library proper (the `testkit`
//! feature): agreement records against libtorch, gradient checks by
//! finite differences, the fast path against the teaching path, a bigram
//! model for the training loop's tests, and the chapters' command-line
//! tests.

pub mod agreement;
pub mod bigram;
pub mod clitest;
pub mod gradcheck;
pub mod paths;
#[cfg(feature = "torch")]
pub mod single_biases;
