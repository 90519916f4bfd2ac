//! The GRU chapter: a gated recurrent unit from scratch on ndarray
//! ([`scratch`]), and the same model on libtorch ([`concise`], with the
//! `torch` feature).

pub mod scratch;
