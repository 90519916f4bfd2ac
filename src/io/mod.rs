//! Files and the terminal: atomic writes, checkpoints, the run folder whose
//! outputs appear together or not at all, and what the programs print.

pub mod atomic;
pub mod checkpoint;
pub mod console;
pub mod outputs;
mod swap;
