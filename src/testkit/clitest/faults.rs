//! A chapter binary under careless use and faults: divergence, closed and
//! full output, kills and full disks in the write phase, Ctrl-C, absurd
//! sizes, edited checkpoints. Each check says which promise it keeps;
//! each panics with the command's output when the promise is broken.

use super::checkpoints::{edit_checkpoint, set_meta};
use super::{run, text, users_folder, TINY};
use crate::io::outputs::RUN_FILES;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `bin` with `args` after `setup` has adjusted the command.
pub(super) fn run_with(
    bin: &str,
    args: &[&str],
    setup: impl FnOnce(&mut Command),
) -> Output {
    let mut c = Command::new(bin);
    c.args(args).env_remove("RUST_BACKTRACE");
    setup(&mut c);
    c.output()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

/// The tiny flags with `flag` set to `value` instead of TINY's.
/// Starts `bin` with its stdout and stderr piped to this process.
pub(super) fn spawn(bin: &str, args: &[&str]) -> std::process::Child {
    Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"))
}

pub(super) fn tiny_with<'a>(flag: &str, value: &'a str) -> Vec<&'a str> {
    let mut args = TINY.to_vec();
    let i = args.iter().position(|a| *a == flag).unwrap();
    args[i + 1] = value;
    args
}

/// The tiny flags, with `extra`, writing into `out`.
pub(super) fn tiny<'a>(extra: &[&'a str], out: &'a str) -> Vec<&'a str> {
    let mut args = TINY.to_vec();
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--quiet", "--out", out]);
    args
}

pub(super) fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Every file in `dir` and its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Trains a tiny model into `out` and returns what the folder holds.
pub fn good_run(bin: &str, out: &Path) -> BTreeMap<String, Vec<u8>> {
    let o = run(bin, &tiny(&[], s(out)));
    assert!(o.status.success(), "{}", text(&o).1);
    snapshot(out)
}

pub(super) fn no_panic(o: &Output) {
    let (stdout, stderr) = text(o);
    assert!(
        !stderr.contains("panicked") && o.status.code() != Some(101),
        "a panic reached the user:\n{stdout}\n{stderr}"
    );
}

pub(super) fn fails(o: &Output, code: i32, needles: &[&str]) {
    let (stdout, stderr) = text(o);
    no_panic(o);
    assert_eq!(o.status.code(), Some(code), "{stdout}\n{stderr}");
    for needle in needles {
        assert!(stderr.contains(needle), "`{needle}` not in:\n{stderr}");
    }
}

/// Siblings of `out` that a run left behind (staging folders).
pub(super) fn leftovers(out: &Path) -> Vec<String> {
    let name = out.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!(".{name}")))
        .collect()
}

/// Defect 1: a run that diverges without a NaN (perplexities of 10⁸ and
/// more on 28 tokens) is an error, and the previous run stays.
pub fn diverged_run_keeps_the_previous_one(bin: &str, dir: &Path) {
    let out = dir.join("run");
    let before = good_run(bin, &out);
    for extra in [&["--lr", "50"][..], &["--lr", "100", "--clip", "1e30"]] {
        let o = run(bin, &tiny(extra, s(&out)));
        fails(&o, 1, &["diverged", "as it was"]);
        assert_eq!(snapshot(&out), before, "{extra:?} changed the run");
    }
}

/// Defect 2: a reader that goes away (`| head -1`, `| true`) costs no
/// run: training goes on and the outputs are written.
pub fn closed_stdout_costs_nothing(bin: &str, dir: &Path) {
    let out = dir.join("run");
    let mut args = tiny_with("--epochs", "30");
    args.extend_from_slice(&["--out", s(&out)]);
    let mut child = spawn(bin, &args);
    // Closing the reading end before the first sample line (epoch 10)
    // makes every write to stdout fail with EPIPE.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{:?}: {}", o.status, text(&o).1);
    assert_eq!(
        snapshot(&out).len(),
        RUN_FILES.len(),
        "the run was not written"
    );
}

/// Defect 3: a full stdout (`> /dev/full`) is reported as an error, in
/// training (after the outputs are saved), in `generate` and in `--help`.
pub fn full_stdout_is_an_error(bin: &str, dir: &Path) {
    let full = || Stdio::from(std::fs::File::create("/dev/full").unwrap());
    let out = dir.join("run");
    let args = [TINY, &["--out", s(&out)]].concat();
    let o = run_with(bin, &args, |c| {
        c.stdout(full());
    });
    fails(&o, 1, &["No space left", "saved"]);
    assert_eq!(
        snapshot(&out).len(),
        RUN_FILES.len(),
        "the run was not written"
    );
    let ck = out.join("model.safetensors");
    let o = run_with(bin, &["generate", "--checkpoint", s(&ck)], |c| {
        c.stdout(full());
    });
    fails(&o, 1, &["No space left"]);
    let o = run_with(bin, &["--help"], |c| {
        c.stdout(full());
    });
    fails(&o, 1, &["No space left"]);
}

/// Defect 4, Ctrl-C: the first SIGINT (or SIGTERM) stops training with a
/// clear message and the shell's status for the signal, and the previous
/// run stays; the interrupted one is kept to be resumed.
pub fn interrupt_keeps_the_previous_run(bin: &str, dir: &Path) {
    use std::io::BufRead;
    let out = dir.join("run");
    let before = good_run(bin, &out);
    for (signal, status) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let mut args = tiny_with("--epochs", "100000");
        args.extend_from_slice(&["--out", s(&out)]);
        let mut child = spawn(bin, &args);
        // Training has started once the first sample line is out.
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut line).unwrap();
        assert!(line.starts_with("epoch"), "{line}");
        // SAFETY: sending a signal to our own child.
        unsafe { libc::kill(child.id() as libc::pid_t, signal) };
        let o = child.wait_with_output().unwrap();
        fails(&o, status, &["interrupted", "--resume", "as it was"]);
        assert_eq!(snapshot(&out), before);
        // What the run had done waits to be resumed (resume.rs).
        let resume = dir.join("run.resume");
        std::fs::remove_file(&resume).expect("the resume file");
    }
}

/// Defect 5: an output folder that cannot take the run, and a validation
/// text too short, are refused before the first epoch.
pub fn output_problems_come_before_training(bin: &str, dir: &Path) {
    let file = dir.join("a-file");
    std::fs::write(&file, b"mine").unwrap();
    let foreign = dir.join("notes");
    users_folder(&foreign, "notes.txt", b"mine");
    let blocked = file.join("run");
    // A folder named like one of a run's files is still the user's.
    let trap = dir.join("trap");
    users_folder(&trap.join("metrics.json"), "notes.txt", b"mine");
    let cases = [
        (s(&file), "is a file, not a folder"),
        (s(&foreign), "not a run's (notes.txt)"),
        (s(&trap), "not a run's (metrics.json)"),
        (s(&blocked), "cannot write into"),
        ("/proc/no-such-run", "cannot write into"),
    ];
    for (out, needle) in cases {
        let mut args = TINY.to_vec();
        args.extend_from_slice(&["--out", out]);
        let o = run(bin, &args);
        fails(&o, 1, &[needle]);
        assert!(!text(&o).0.contains("epoch"), "trained first:\n{out}");
    }
    assert_eq!(std::fs::read(foreign.join("notes.txt")).unwrap(), b"mine");
    let notes = trap.join("metrics.json/notes.txt");
    assert_eq!(std::fs::read(notes).unwrap(), b"mine");
    let out = dir.join("run");
    let mut args = tiny_with("--valid-tokens", "8");
    args.extend_from_slice(&["--out", s(&out)]);
    let o = run(bin, &args);
    fails(&o, 1, &["8 characters, is too short for --num-steps 8"]);
}

/// Defect 6: sizes whose memory the machine does not have, and sizes near
/// usize::MAX, are refused with a message, not an abort or a panic.
pub fn huge_values_are_refused(bin: &str, dir: &Path) {
    let out = dir.join("run");
    let max = usize::MAX.to_string();
    let memory = ["of memory to train", "this machine has free"];
    let epochs = ["more than this machine can keep track of"];
    for (flag, value, needles) in [
        ("--epochs", max.as_str(), &epochs[..]),
        ("--epochs", "1000000000000", &epochs[..]),
        ("--num-hiddens", "100000", &memory[..]),
        ("--batch-size", max.as_str(), &["too short"][..]),
        ("--num-steps", max.as_str(), &["too short"][..]),
        ("--max-tokens", max.as_str(), &["cannot take"][..]),
        ("--valid-tokens", max.as_str(), &["cannot take"][..]),
    ] {
        let args = ["--quiet", "--out", s(&out), flag, value];
        let o = run(bin, &args);
        fails(&o, 1, needles);
    }
    assert!(!out.exists());
}

/// Defect 11: messages that say what is wrong and what to do.
pub fn messages_say_what_to_do(bin: &str, model: &str, dir: &Path) {
    for flag in ["--num-hiddens", "--batch-size", "--num-steps", "--threads"] {
        fails(&run(bin, &[flag, "-5"]), 2, &["must be at least 1, got -5"]);
    }
    fails(&run(bin, &["--seed", "-5"]), 2, &["must be a whole number"]);
    let len = ["generate", "--len", "-5"];
    fails(&run(bin, &len), 2, &["must be a whole number"]);
    for (args, says) in [
        (&["--beam", "0"][..], "must be at least 1"),
        (&["--beam", "101"], "at most 100, got 101"),
        (&["--beam", "2", "--top-k", "3"], "cannot be used with"),
        (&["--alpha", "0.75"], "--beam <K>"),
        (
            &["--beam", "2", "--alpha", "-1"],
            "must be a number from 0 on",
        ),
    ] {
        let args = [&["generate"][..], args].concat();
        fails(&run(bin, &args), 2, &[says]);
    }
    let out = dir.join("run");
    good_run(bin, &out);
    let ck = out.join("model.safetensors");
    let o = run(
        bin,
        &["generate", "--checkpoint", s(&ck), "--prefix", "123"],
    );
    fails(&o, 1, &["the prefix \"123\" has no letters"]);
    let wide = ["--beam", "100", "--len", "20000"];
    let o = run(
        bin,
        &[&["generate", "--checkpoint", s(&ck)][..], &wide].concat(),
    );
    fails(&o, 1, &["keep --beam × --len at most 1000000"]);
    // A checkpoint of another model names the binary that reads it.
    let other = if model == "gru" { "lstm" } else { "gru" };
    let edited = dir.join("other.safetensors");
    edit_checkpoint(&ck, &edited, set_meta("model", other));
    let bin_of = if other == "gru" {
        "`ch_gru generate`"
    } else {
        "`ch_lstm generate`"
    };
    fails(&generate_with(bin, &edited), 1, &[bin_of]);
    let o = run_with(bin, &tiny(&[], s(&dir.join("x"))), |c| {
        c.env("D2L_DATA_DIR", ck.as_os_str());
    });
    fails(&o, 1, &["is a file, not a folder", "D2L_DATA_DIR"]);
}

fn generate_with(bin: &str, ck: &Path) -> Output {
    run(bin, &["generate", "--checkpoint", s(ck)])
}

/// Defect 12: what ran is recorded completely (threads as used, every
/// setting, the command line), and `--device cuda` is refused for the
/// from-scratch model instead of silently training on the CPU.
pub fn settings_are_recorded_as_run(bin: &str, dir: &Path) {
    let out = dir.join("run");
    let o = run(bin, &tiny(&["--threads", "64"], s(&out)));
    assert!(o.status.success(), "{}", text(&o).1);
    let metrics = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&metrics).unwrap();
    // TINY's batch has 4 sequences: at most 4 threads can share it.
    assert_eq!(json["threads"], 4, "{metrics}");
    let settings = &json["settings"];
    for (key, value) in [
        ("batch_size", "4"),
        ("num_steps", "8"),
        ("max_tokens", "600"),
        ("valid_tokens", "300"),
        ("train_tokens", "600"),
        ("iter", "sequential"),
        ("path", "fast"),
        ("threads", "4"),
        ("impl", "scratch"),
    ] {
        assert_eq!(settings[key], value, "{key} in {settings}");
    }
    assert!(json["command"].as_array().is_some_and(|c| c.len() > 5));
    let o = run(bin, &tiny(&["--device", "cuda"], s(&dir.join("c"))));
    fails(&o, 1, &["--device cuda needs --impl concise"]);
}

/// Defect 13: the outputs' modes follow the umask, as any new file's do
/// (0664 under umask 002), instead of a fixed 0644.
pub fn modes_follow_the_umask(bin: &str, dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        let out = dir.join("run");
        let o = run_with(bin, &tiny(&[], s(&out)), |c| {
            // SAFETY: umask is async-signal-safe.
            unsafe {
                c.pre_exec(|| {
                    libc::umask(0o002);
                    Ok(())
                });
            }
        });
        assert!(o.status.success(), "{}", text(&o).1);
        for name in crate::io::outputs::RUN_FILES {
            let meta = std::fs::metadata(out.join(name)).unwrap();
            let mode = meta.permissions().mode() & 0o777;
            assert_eq!(mode, 0o664, "{name}: {mode:o}");
        }
    }
}
