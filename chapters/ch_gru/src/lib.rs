//! The GRU chapter: a gated recurrent unit from scratch on ndarray
//! ([`scratch`]), and the same model on libtorch ([`concise`], with the
//! `torch` feature), with the from-scratch model's fast path ([`fast`]).

pub mod args;
#[cfg(feature = "torch")]
pub mod concise;
pub mod fast;
pub mod gates;
pub mod layout;
pub mod scratch;
