//! The LSTM chapter: long short-term memory from scratch on ndarray
//! ([`scratch`]), and the same model on libtorch ([`concise`], with the
//! `torch` feature), with the from-scratch model's fast path ([`fast`]),
//! and Greff et al.'s variants, each with one piece taken out
//! ([`variants`]).

#[cfg(feature = "torch")]
pub mod concise;
pub mod fast;
pub mod gates;
pub mod layout;
pub mod scratch;
pub mod variants;
