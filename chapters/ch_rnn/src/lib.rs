//! The plain RNN chapter: the tanh RNN that the gated cells improve on,
//! from scratch on ndarray ([`scratch`]), with its fast path ([`fast`]),
//! and the same model on libtorch ([`concise`], with the `torch`
//! feature).

#[cfg(feature = "torch")]
pub mod concise;
pub mod fast;
pub mod layout;
pub mod scratch;
