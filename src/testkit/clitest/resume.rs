//! Resuming: a run stopped by Ctrl-C and continued with `--resume` ends
//! bit for bit where the run would have ended uninterrupted; and the
//! resume file is neither overwritten by a fresh run nor read with other
//! settings, and a damaged one is refused with a clear message.

use super::faults::{fails, s, snapshot, spawn, tiny_with};
use super::{run, text};
use serde_json::Value;
use std::path::Path;

/// Everything that changes as a run goes on: Adam's moments, dropout and
/// weight-dropping masks, a decaying learning rate.
const EVERYTHING: &[&str] = &[
    "--optimizer",
    "adam",
    "--lr",
    "0.01",
    "--dropout",
    "0.3",
    "--weight-drop",
    "0.2",
    "--lr-decay",
    "0.7",
];

/// Each epoch's training and validation perplexity and learning rate.
fn epochs(out: &Path) -> Vec<(f64, f64, f64)> {
    let json = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    let json: Value = serde_json::from_str(&json).unwrap();
    let f = |e: &Value, k: &str| e[k].as_f64().unwrap();
    let epochs = json["epochs"].as_array().unwrap().iter();
    epochs
        .map(|e| {
            let lr = f(e, "lr");
            (f(e, "train_perplexity"), f(e, "valid_perplexity"), lr)
        })
        .collect()
}

fn strs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

pub fn resume_ends_where_the_run_would_have(bin: &str, dir: &Path) {
    use std::io::BufRead;
    let out = dir.join("run");
    let file = dir.join("run.resume");
    let args = |epochs: &str, extra: &[&'static str]| -> Vec<String> {
        let mut a = tiny_with("--epochs", epochs);
        a.extend_from_slice(EVERYTHING);
        a.extend_from_slice(extra);
        let mut a: Vec<String> = a.iter().map(|x| x.to_string()).collect();
        a.extend(["--out".to_string(), s(&out).to_string()]);
        a
    };
    // Stopped by Ctrl-C once training has printed its first sample.
    let endless = args("100000", &[]);
    let mut child = spawn(bin, &strs(&endless));
    let mut line = String::new();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    assert!(line.starts_with("epoch"), "{line}");
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    fails(&o, 130, &["interrupted", "--resume", "as it was"]);
    let stderr = text(&o).1;
    let after = stderr.split("state after epoch ").nth(1).unwrap();
    let saved: usize = after.split(' ').next().unwrap().parse().unwrap();
    assert!(saved >= 10, "{stderr}");
    assert!(!out.exists(), "the interrupted run wrote {}", out.display());
    let state = std::fs::read(&file).expect("the resume file");

    // A fresh run would overwrite it: refused, and the file stays.
    let o = run(bin, &strs(&args("30", &["--quiet"])));
    fails(&o, 1, &["interrupted run", "--resume"]);
    // Other settings would not continue the same run: refused.
    let mut other = args("30", &["--quiet", "--resume"]);
    let lr = other.iter().position(|a| a == "0.01").unwrap();
    other[lr] = "0.02".to_string();
    let o = run(bin, &strs(&other));
    fails(&o, 1, &["lr: 0.01 there, 0.02 here", "--resume"]);
    // Fewer epochs than it has done would not end where it stands.
    let o = run(bin, &strs(&args("5", &["--quiet", "--resume"])));
    fails(&o, 1, &["already trained", "--epochs"]);
    assert_eq!(std::fs::read(&file).unwrap(), state);

    // Resumed, 20 epochs further; and the same run never interrupted.
    let total = (saved + 20).to_string();
    let o = run(bin, &strs(&args(&total, &["--quiet", "--resume"])));
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(!file.exists(), "the finished run left its resume file");
    let resumed = snapshot(&out);
    let whole = dir.join("whole");
    let mut plain = args(&total, &["--quiet"]);
    let n = plain.len();
    plain[n - 1] = s(&whole).to_string();
    let o = run(bin, &strs(&plain));
    assert!(o.status.success(), "{}", text(&o).1);
    let uninterrupted = snapshot(&whole);
    for name in ["model.safetensors", "best.safetensors", "samples.txt"] {
        assert!(resumed[name] == uninterrupted[name], "{name} differs");
    }
    assert_eq!(epochs(&out), epochs(&whole));
    assert_eq!(epochs(&out).len(), saved + 20);

    // Nothing left to resume; and a damaged file is refused, not read.
    let o = run(bin, &strs(&args(&total, &["--quiet", "--resume"])));
    fails(&o, 1, &["no interrupted run", "does not exist"]);
    std::fs::write(&file, &state[..state.len() / 2]).unwrap();
    let o = run(bin, &strs(&args(&total, &["--quiet", "--resume"])));
    fails(&o, 1, &["--resume: cannot read", "run.resume"]);
}

/// `--share-steps` on 2 threads trains to one thread's numbers, every
/// epoch, to the last bit; off the fast path it is refused.
pub fn shared_steps_change_no_bit(bin: &str, dir: &Path) {
    let train = |extra: &[&str], name: &str| {
        let out = dir.join(name);
        let mut args = super::TINY.to_vec();
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--quiet", "--out", s(&out)]);
        let o = run(bin, &args);
        assert!(o.status.success(), "{}", text(&o).1);
        epochs(&out)
    };
    let one = train(&["--threads", "1"], "one");
    let shared = train(&["--threads", "2", "--share-steps"], "shared");
    assert_eq!(one, shared, "2 threads sharing the steps differ from 1");
    let out = dir.join("teaching");
    let mut args = super::TINY.to_vec();
    args.extend_from_slice(&["--share-steps", "--path", "teaching"]);
    args.extend_from_slice(&["--out", s(&out)]);
    fails(&run(bin, &args), 1, &["--share-steps needs", "--path fast"]);
    assert!(!out.exists(), "wrote {}", out.display());
}
