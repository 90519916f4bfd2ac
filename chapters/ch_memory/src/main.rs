//! `ch_memory`: the long-memory problem (see the crate's documentation).

use ch_memory::cli::{run, Args};
use clap::Parser;

fn main() {
    d2l::io::console::file_size_limit_is_an_error();
    let args = Args::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(e.exit_code())
    });
    d2l::cli::exit_on_error(run(&args));
}
