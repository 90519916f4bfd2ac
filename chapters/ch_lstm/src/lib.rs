//! The LSTM chapter: long short-term memory from scratch on ndarray
//! ([`scratch`]), and the same model on libtorch ([`concise`], with the
//! `torch` feature).

#[cfg(feature = "torch")]
pub mod concise;
pub mod layout;
pub mod scratch;
