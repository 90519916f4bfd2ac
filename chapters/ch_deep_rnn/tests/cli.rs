//! The `ch_deep_rnn` command line, end to end, on tiny runs: training writes its
//! outputs, `generate` reads the checkpoint back, `train` is the default
//! subcommand, bad input is refused clearly, and `--impl concise` works
//! with the `torch` feature or says how to get it.

d2l::chapter_cli_tests!(
    env!("CARGO_BIN_EXE_ch_deep_rnn"),
    &["--cell", "gru", "--layers", "3", "--iter", "random"],
    "deep"
);

/// A stack's `layers` is checked against the layers its tensors hold, and
/// absurd stacks are refused for their memory, before anything is built.
#[test]
fn layers_are_checked_before_a_stack_is_built() {
    use d2l::testkit::clitest::checkpoints::{edit_checkpoint, set_meta};
    use d2l::testkit::clitest::faults::good_run;
    let bin = d2l::testkit::clitest::bin(env!("CARGO_BIN_EXE_ch_deep_rnn"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let files = d2l::io::outputs::RUN_FILES.len();
    assert_eq!(good_run(&bin, &out).len(), files);
    let ck = out.join("model.safetensors");
    let edited = dir.path().join("edited.safetensors");
    for layers in ["0", "3", "100000000000", "-1"] {
        edit_checkpoint(&ck, &edited, set_meta("layers", layers));
        let path = edited.to_str().unwrap();
        let o = d2l::testkit::clitest::run(
            &bin,
            &["generate", "--checkpoint", path],
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "layers {layers}: {stderr}");
        assert!(stderr.contains("holds tensors for 2 layer(s)"), "{stderr}");
    }
    // Too many layers for the fast path's stack of calls, or for memory.
    let run = |args: &[&str]| d2l::testkit::clitest::run(&bin, args);
    let refused = |args: &[&str], code: i32, needle: &str| {
        let o = run(args);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    };
    for layers in ["1000", "100000000000", &usize::MAX.to_string()] {
        refused(&["--layers", layers, "--quiet"], 2, "at most 100");
    }
    refused(&["--layers", "-1"], 2, "must be at least 1, got -1");
    let memory = ["--layers", "100", "--num-hiddens", "100000", "--quiet"];
    // One epoch, should the check ever let it through.
    let memory = [&memory[..], &["--epochs", "1"]].concat();
    refused(&memory, 1, "of memory to train");
}

/// `--variant` is a GRU's: given with LSTM layers it is refused, not
/// ignored.
#[test]
fn variant_with_lstm_layers_is_refused() {
    let bin = d2l::testkit::clitest::bin(env!("CARGO_BIN_EXE_ch_deep_rnn"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut args = d2l::testkit::clitest::TINY.to_vec();
    args.extend_from_slice(&["--variant", "reset-after", "--quiet"]);
    args.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let o = d2l::testkit::clitest::run(&bin, &args);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--variant is for GRU layers"), "{stderr}");
}
