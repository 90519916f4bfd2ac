//! End-to-end checks of a chapter's command line, shared by the chapters'
//! tests: a tiny training run, `generate` from its checkpoint, and the
//! errors a user can cause. Each function panics with the command's output
//! when something is off.

pub mod basics;
mod chapter_tests;
pub mod checkpoints;
pub mod faults;
pub mod gates;
pub mod outputs;
pub mod resume;
pub mod training;

use std::path::Path;
use std::process::{Command, Output};

/// The binary under test: `default`, or the one `D2L_TEST_BIN` names, so
/// that the same tests can be run against an older build to watch them
/// fail (`D2L_TEST_BIN=/tmp/old/ch_gru cargo test -p ch_gru --test cli`).
pub fn bin(default: &str) -> String {
    std::env::var("D2L_TEST_BIN").unwrap_or_else(|_| default.to_string())
}

/// Runs `test` on the binary [`bin`] picks and a fresh temporary folder.
pub fn in_temp_dir(default: &str, test: impl FnOnce(&str, &Path)) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    test(&bin(default), dir.path());
}

/// Makes the folder `path` holding `file` with `content`: a user's
/// folder, which no run may touch.
pub fn users_folder(path: &Path, file: &str, content: &[u8]) {
    std::fs::create_dir_all(path).unwrap();
    std::fs::write(path.join(file), content).unwrap();
}

/// Runs `bin` with `args`, no terminal, and returns its output.
pub fn run(bin: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Small sizes that train in well under a second.
pub const TINY: &[&str] = &[
    "--epochs",
    "12",
    "--num-hiddens",
    "16",
    "--batch-size",
    "4",
    "--num-steps",
    "8",
    "--max-tokens",
    "600",
    "--valid-tokens",
    "300",
];

/// Trains a tiny model with `extra` flags (and `--lr 2` unless they set
/// it) into `out`, checks what it
/// printed and wrote, then generates from the checkpoint, greedily and by
/// sampling.
pub fn train_and_generate(bin: &str, extra: &[&str], out: &Path) {
    let out_s = out.to_str().expect("utf-8 path");
    let mut args = TINY.to_vec();
    if !extra.contains(&"--lr") {
        args.extend_from_slice(&["--lr", "2"]);
    }
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--out", out_s]);
    let o = run(bin, &args);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "train failed:\n{stdout}\n{stderr}");
    let last = stdout
        .lines()
        .find(|l| l.starts_with("perplexity "))
        .unwrap_or_else(|| panic!("no final line in:\n{stdout}"));
    let parts: Vec<&str> = last.split(", ").collect();
    assert_eq!(parts.len(), 3, "{last}");
    assert!(parts[1].starts_with("validation perplexity "), "{last}");
    assert!(
        parts[2].ends_with(" tokens/sec on cpu")
            || parts[2].contains(" tokens/sec on cuda"),
        "{last}"
    );
    // Greedy continuations every 10 epochs, unless quiet, and of both of
    // d2l's prefixes at the end.
    let quiet = extra.contains(&"--quiet");
    let sampled = stdout.contains("epoch   10: time traveller");
    assert_eq!(sampled, !quiet, "quiet: {quiet}\n{stdout}");
    assert!(
        stdout.lines().any(|l| l.starts_with("traveller")),
        "{stdout}"
    );
    let metrics = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    assert_eq!(json["epochs"].as_array().unwrap().len(), 12);
    let svg = std::fs::read_to_string(out.join("perplexity.svg")).unwrap();
    assert!(svg.starts_with("<svg"));
    let ck = out.join("model.safetensors");
    let ck_s = ck.to_str().unwrap();
    assert!(ck.is_file());

    let o = run(bin, &["generate", "--checkpoint", ck_s, "--len", "20"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "generate failed:\n{stderr}");
    // Only the newline goes: the text itself may end in a space.
    let line = stdout.strip_suffix('\n').unwrap_or(&stdout);
    assert!(line.starts_with("time traveller"), "{line}");
    assert_eq!(line.chars().count(), "time traveller".len() + 20, "{line}");
    // A beam of width 1 is greedy decoding, and says its log-probability;
    // with α = 0 the score is log P alone, which every character lowers,
    // so a wider beam returns a single character.
    let beam = |flags: &[&str]| {
        let args = ["generate", "--checkpoint", ck_s, "--len", "20"];
        let o = run(bin, &[&args[..], flags].concat());
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).0
    };
    let scored = beam(&["--show-log-prob", "--beam", "1"]);
    let (greedy, score) = scored.split_once('\n').unwrap();
    assert_eq!(greedy, line);
    let lp = score
        .strip_prefix("log-probability of the 20 added characters: ")
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{score}"));
    assert!(lp.parse::<f64>().unwrap() < 0.0, "{score}");
    let one = beam(&["--beam", "5", "--alpha", "0"]);
    let one = one.strip_suffix('\n').unwrap_or(&one);
    assert_eq!(one.chars().count(), "time traveller".len() + 1, "{one}");
    let sample = |seed: &str| {
        let args = [
            "generate",
            "--checkpoint",
            ck_s,
            "--prefix",
            "The Time",
            "--len",
            "30",
            "--temperature",
            "1.5",
            "--top-k",
            "5",
            "--seed",
            seed,
        ];
        let o = run(bin, &args);
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).0
    };
    assert!(sample("1").starts_with("the time"));
    assert_eq!(sample("1"), sample("1"), "a seed fixes the sample");
}

fn fails_with(bin: &str, args: &[&str], code: i32, needle: &str) {
    let o = run(bin, args);
    let (stdout, stderr) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{args:?} should fail with {code}:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.contains(needle),
        "{args:?}: `{needle}` not in:\n{stderr}"
    );
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
}

/// Bad flags, a corpus too short, a damaged checkpoint and a diverging run
/// each end with a clear message and a failure status, and the diverging
/// run writes nothing.
pub fn bad_input_is_refused(bin: &str, dir: &Path) {
    let d = |name: &str| dir.join(name).to_str().unwrap().to_string();
    fails_with(bin, &["--lr", "-1"], 2, "must be a positive number");
    fails_with(bin, &["--batch-size", "0"], 2, "must be at least 1");
    fails_with(bin, &["--threads", "0"], 2, "must be at least 1");
    fails_with(bin, &["--device", "tpu"], 2, "possible values");
    fails_with(
        bin,
        &["--epochs", "1", "--max-tokens", "300"],
        1,
        "too short",
    );
    fails_with(bin, &["--no-such-flag"], 2, "unexpected argument");
    fails_with(bin, &["ngram", "--max-order", "0"], 2, "at least 1");
    fails_with(bin, &["ngram", "--max-order", "13"], 2, "at most 12");
    fails_with(bin, &["ngram", "--valid-tokens", "1"], 1, "at least 2");

    let damaged = d("damaged.safetensors");
    std::fs::write(&damaged, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
        .unwrap();
    fails_with(bin, &["generate", "--checkpoint", &damaged], 1, "damaged");
    fails_with(bin, &["generate", "--checkpoint", &d("none")], 1, "none");

    let out = d("diverged");
    let mut args = TINY.to_vec();
    args.extend_from_slice(&["--lr", "1e30", "--clip", "1e30", "--out", &out]);
    fails_with(bin, &args, 1, "diverged");
    assert!(!Path::new(&out).exists(), "a diverged run wrote {out}");
}
