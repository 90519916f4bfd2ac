//! `ch_birnn`: the bidirectional RNN. `lm` trains d2l's bidirectional
//! language model, which cheats; `fill` compares a bidirectional and a
//! one-directional model on filling in deleted characters.

use ch_birnn::cli::{Cli, Command};
use clap::Parser;

fn main() {
    d2l::io::console::file_size_limit_is_an_error();
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(e.exit_code())
    });
    d2l::cli::exit_on_error(match &cli.command {
        Command::Lm(args) => ch_birnn::run::lm(args),
        Command::Fill(args) => ch_birnn::run::fill(args),
    });
}
