//! The `ch_rnn` command line, end to end, on tiny runs: training writes its
//! outputs, `generate` reads the checkpoint back, `train` is the default
//! subcommand, bad input is refused clearly, and `--impl concise` works
//! with the `torch` feature or says how to get it.

d2l::chapter_cli_tests!(
    env!("CARGO_BIN_EXE_ch_rnn"),
    &["--iter", "random"],
    "rnn"
);

/// The plain RNN has no gates: `ch_rnn gates` says which chapters do.
#[test]
fn gates_is_for_the_gated_chapters() {
    d2l::testkit::clitest::gates::no_gates_here(env!("CARGO_BIN_EXE_ch_rnn"));
}
