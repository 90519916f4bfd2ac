//! The long-memory problem as a task. The GRU chapter opens with a
//! sequence whose first token decides everything after it; here that is
//! made real: each sequence starts with one of four keys, then noise, and
//! after the last token the model must name the key. A plain RNN, a GRU
//! and an LSTM (with its forget gate's bias at 0 or 1) learn it, or fail
//! to, at lengths 20, 50 and 100 ([`train`]); and the gradient that
//! reaches each hidden state from the one loss at the end shows why
//! ([`grads`]).

pub mod cli;
pub mod grads;
pub mod task;
pub mod train;
