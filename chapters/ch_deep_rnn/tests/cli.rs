//! The `ch_deep_rnn` command line, end to end, on tiny runs.

use d2l::clitest::{bad_input_is_refused, run, train_and_generate};

const BIN: &str = env!("CARGO_BIN_EXE_ch_deep_rnn");

#[test]
fn scratch_trains_writes_outputs_and_generates() {
    let dir = tempfile::tempdir().unwrap();
    train_and_generate(BIN, &[], &dir.path().join("before"));
    train_and_generate(
        BIN,
        &["--cell", "gru", "--layers", "3", "--iter", "random"],
        &dir.path().join("after"),
    );
}

#[test]
fn train_is_the_default_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    train_and_generate(BIN, &["--quiet"], &dir.path().join("a"));
    let out = dir.path().join("b");
    let mut args = vec!["train"];
    args.extend_from_slice(d2l::clitest::TINY);
    args.extend_from_slice(&["--quiet", "--out", out.to_str().unwrap()]);
    assert!(run(BIN, &args).status.success());
}

#[test]
fn bad_input_gets_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    bad_input_is_refused(BIN, dir.path());
}

#[cfg(not(feature = "torch"))]
#[test]
fn concise_without_the_feature_says_how_to_enable_it() {
    let o = run(BIN, &["--impl", "concise"]);
    assert_eq!(o.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("--features torch"), "{stderr}");
    assert!(stderr.contains("LIBTORCH_USE_PYTORCH=1"), "{stderr}");
}

#[cfg(feature = "torch")]
#[test]
fn concise_trains_and_its_checkpoint_generates() {
    let dir = tempfile::tempdir().unwrap();
    train_and_generate(BIN, &["--impl", "concise"], &dir.path().join("c"));
}
