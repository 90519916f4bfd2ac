//! The deep RNN chapter: a stack of recurrent cells, written once over the
//! `Cell` trait, so that it stacks the GRU and the LSTM of the previous
//! chapters alike ([`scratch`]), layer by layer on the fast path
//! ([`fast`]); and the multi-layer models of tch
//! ([`concise`], with the `torch` feature).

#[cfg(feature = "torch")]
pub mod concise;
pub mod fast;
pub mod scratch;
