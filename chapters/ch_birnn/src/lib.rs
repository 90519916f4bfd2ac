//! The bidirectional RNN chapter: a combinator that runs any cell over a
//! sequence in both directions ([`scratch`]), stacked ([`deep`]), under
//! the shared `d2l::model::SeqModel`: as a language model, which cheats,
//! and on a task where looking both ways is allowed, filling in deleted
//! characters ([`fill`]); the command line ([`cli`], [`run`]); and the
//! same layers on libtorch ([`concise`], with the `torch` feature).

pub mod cli;
#[cfg(feature = "torch")]
pub mod concise;
pub mod deep;
pub mod fill;
pub mod run;
pub mod scratch;
