//! What every chapter binary does first: train, write its outputs and
//! generate, as `train` or with no subcommand, on one thread or two.

use super::{run, text, train_and_generate, TINY};
use crate::io::checkpoint::Checkpoint;
use std::path::Path;

/// A tiny model trains, writes its outputs and generates, with the
/// defaults and again with `second_run`'s flags.
pub fn trains_writes_outputs_and_generates(
    bin: &str,
    second_run: &[&str],
    dir: &Path,
) {
    train_and_generate(bin, &[], &dir.join("a"));
    train_and_generate(bin, second_run, &dir.join("b"));
}

/// `train` is the default subcommand: the same flags train with it and
/// without it.
pub fn train_is_the_default_subcommand(bin: &str, dir: &Path) {
    train_and_generate(bin, &["--quiet"], &dir.join("a"));
    let out = dir.join("b");
    let mut args = vec!["train"];
    args.extend_from_slice(TINY);
    args.extend_from_slice(&["--quiet", "--out", out.to_str().unwrap()]);
    assert!(run(bin, &args).status.success());
}

/// `--threads 2` trains, and `result.md` names the threads.
pub fn threads_split_the_batch(bin: &str, dir: &Path) {
    let a = dir.join("a");
    train_and_generate(bin, &["--quiet", "--threads", "2"], &a);
    let result = std::fs::read_to_string(a.join("result.md")).unwrap();
    assert!(result.contains("cpu, 2 threads"), "{result}");
}

/// `--impl concise` in a binary built without libtorch fails, saying how
/// to build one that has it, and leaves no output folder.
pub fn concise_without_libtorch_says_how(bin: &str, dir: &Path) {
    let out = dir.join("run");
    let mut args = TINY.to_vec();
    args.extend_from_slice(&["--impl", "concise", "--out"]);
    args.push(out.to_str().unwrap());
    let o = run(bin, &args);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    for says in ["LIBTORCH_USE_PYTORCH=1", "--features torch"] {
        assert!(stderr.contains(says), "{stderr}");
    }
    assert!(!out.exists(), "wrote {}", out.display());
}

/// `--impl concise` trains the concise model, whose checkpoint says so,
/// and the scratch model generates from it.
pub fn concise_trains_and_generates(bin: &str, dir: &Path) {
    let out = dir.join("c");
    train_and_generate(bin, &["--impl", "concise"], &out);
    let ck = Checkpoint::load(&out.join("model.safetensors")).unwrap();
    assert_eq!(ck.meta("impl").unwrap(), "concise");
}
