//! The GRU chapter: a gated recurrent unit from scratch on ndarray
//! ([`scratch`]), and the same model on libtorch ([`concise`], with the
//! `torch` feature).

#[cfg(feature = "torch")]
pub mod concise;
pub mod layout;
pub mod scratch;
