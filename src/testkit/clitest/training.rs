//! What training does beyond d2l's loop: `ngram` on either split,
//! `--split book` with its test text scored once, `--patience` with
//! `best.safetensors`, and `--optimizer adam`.

use super::faults::tiny_with;
use super::{run, text};
use crate::data::load_book_splits;
use crate::io::checkpoint::Checkpoint;
use crate::testkit::agreement::F32_PATHS_GAP;
use serde_json::Value;
use std::path::Path;

/// `ngram` prints the baseline's perplexity and bits per character for
/// each order, on the split its flags give.
pub fn ngram_prints_a_row_per_order(bin: &str) {
    let o = run(bin, &["ngram", "--max-order", "3", "--max-tokens", "2000"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    assert!(stdout.contains("characters 0..2000"), "{stdout}");
    let rows: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 4, "a header and orders 1 to 3: {stdout}");
    for (order, row) in rows[1..].iter().enumerate() {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[1], (order + 1).to_string(), "{row}");
        let ppl: f64 = cells[2].parse().unwrap();
        let bpc: f64 = cells[3].parse().unwrap();
        assert!(ppl > 1.0 && ppl < 28.0, "{row}");
        assert!((bpc - ppl.log2()).abs() < 0.01, "{row}");
    }
}

/// Trains with `args` into `out`, and returns the run's stdout and its
/// `metrics.json`.
fn train(bin: &str, args: &[&str], out: &Path) -> (String, Value) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--out", out.to_str().unwrap()]);
    let o = run(bin, &all);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stdout}\n{stderr}");
    let metrics = std::fs::read_to_string(out.join("metrics.json")).unwrap();
    (stdout, serde_json::from_str(&metrics).unwrap())
}

/// The epoch that `best.safetensors` in `out` says it holds.
fn best_checkpoint_epoch(out: &Path) -> u64 {
    let ck = Checkpoint::load(&out.join("best.safetensors")).unwrap();
    ck.meta("epoch").unwrap().parse().unwrap()
}

/// The epoch with the lowest validation perplexity in `metrics`, the
/// first of equals.
fn best_epoch(metrics: &Value) -> u64 {
    let epochs = metrics["epochs"].as_array().unwrap();
    let ppl = |e: &Value| e["valid_perplexity"].as_f64().unwrap();
    let best =
        epochs.iter().fold(
            &epochs[0],
            |b, e| {
                if ppl(e) < ppl(b) {
                    e
                } else {
                    b
                }
            },
        );
    best["epoch"].as_u64().unwrap()
}

/// `--split book`: `ngram` scores validation and test; `--max-tokens`
/// with it is refused; training records the three parts' offsets, and
/// scores the test text once, with the best validation epoch's weights,
/// which `best.safetensors` holds.
pub fn book_split_scores_the_test_once(bin: &str, dir: &Path) {
    let o = run(bin, &["ngram", "--split", "book", "--max-order", "2"]);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "{stderr}");
    let offsets = load_book_splits().unwrap().offsets;
    let test = offsets.test.clone().unwrap();
    let tested = format!("tested on {}..{}", test.start, test.end);
    assert!(stdout.contains(&tested), "{stdout}");
    let rows: Vec<&str> =
        stdout.lines().filter(|l| l.starts_with("| ")).collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert_eq!(rows[2].matches('|').count(), 6, "five cells: {}", rows[2]);

    let o = run(bin, &["--split", "book", "--max-tokens", "500"]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Drop them, or drop --split book"),
        "{stderr}"
    );

    let out = dir.join("book");
    let args = [
        "--split",
        "book",
        "--epochs",
        "3",
        "--num-hiddens",
        "8",
        "--batch-size",
        "64",
        "--num-steps",
        "16",
    ];
    let (stdout, metrics) = train(bin, &args, &out);
    let split: crate::data::SplitOffsets =
        serde_json::from_value(metrics["split"].clone()).unwrap();
    assert_eq!(split, offsets);
    let best = best_epoch(&metrics);
    assert_eq!(metrics["test"]["epoch"].as_u64(), Some(best));
    let ppl = metrics["test"]["perplexity"].as_f64().unwrap();
    assert!(ppl > 1.0 && ppl < 28.0, "{ppl}");
    assert!(stdout.contains(&format!("test perplexity {ppl:.2}")));
    let result = std::fs::read_to_string(out.join("result.md")).unwrap();
    assert!(
        result.contains(&format!("| {ppl:.2} ({best}, ")),
        "{result}"
    );
    assert_eq!(best_checkpoint_epoch(&out), best);
}

/// `--patience 3` on d2l's split, where the tiny model soon overfits:
/// the run stops 3 epochs after its best, says so, has no test score, and
/// `best.safetensors` holds that epoch, not the last.
pub fn patience_keeps_the_best(bin: &str, dir: &Path) {
    let out = dir.join("patient");
    let mut args = tiny_with("--epochs", "200");
    // lr 3 overfits the tiny model within a few epochs, and every cell,
    // the plain RNN included, survives it.
    args.extend_from_slice(&["--patience", "3", "--lr", "3"]);
    let (stdout, metrics) = train(bin, &args, &out);
    let best = best_epoch(&metrics);
    let epochs = metrics["epochs"].as_array().unwrap().len() as u64;
    assert_eq!(epochs, best + 3, "{stdout}");
    assert!(epochs < 200, "never stopped");
    assert!(metrics["test"].is_null());
    assert_eq!(best_checkpoint_epoch(&out), best);
    let read = |f: &str| std::fs::read(out.join(f)).unwrap();
    assert_ne!(read("best.safetensors"), read("model.safetensors"));
}

/// `--optimizer adam` trains (the validation perplexity of a tiny model
/// falls well below the 28 of uniform guessing in 12 epochs) and is
/// recorded in `metrics.json` and `result.md`.
pub fn adam_trains(bin: &str, extra: &[&str], dir: &Path) {
    let out = &dir.join("adam");
    let mut args = tiny_with("--epochs", "12");
    args.extend_from_slice(&["--optimizer", "adam", "--lr", "0.01"]);
    args.extend_from_slice(extra);
    let (stdout, metrics) = train(bin, &args, out);
    let last = metrics["epochs"].as_array().unwrap().last().unwrap();
    let ppl = last["valid_perplexity"].as_f64().unwrap();
    assert!(ppl < 20.0, "{stdout}");
    assert_eq!(metrics["config"]["optimizer"], "adam");
    assert_eq!(metrics["settings"]["optimizer"], "adam");
    let result = std::fs::read_to_string(out.join("result.md")).unwrap();
    assert!(result.contains("| adam, 0.01, 1, 0, 0, 0 |"), "{result}");
}

/// `--dropout 0.5`, or `--weight-drop 0.5`, trains a different model
/// from the run without it, still learns, and is recorded in
/// `metrics.json` and `result.md`.
pub fn dropout_trains_and_is_recorded(
    bin: &str,
    flag: &str,
    extra: &[&str],
    dir: &Path,
) {
    let perplexities = |metrics: &Value| -> Vec<(f64, f64)> {
        let epochs = metrics["epochs"].as_array().unwrap();
        let ppl = |e: &Value, k: &str| e[k].as_f64().unwrap();
        let e = epochs.iter();
        e.map(|e| (ppl(e, "train_perplexity"), ppl(e, "valid_perplexity")))
            .collect()
    };
    let mut tiny = tiny_with("--epochs", "12");
    tiny.extend_from_slice(extra);
    let (_, plain) = train(bin, &tiny, &dir.join("plain"));
    let mut args = tiny.clone();
    args.extend_from_slice(&[flag, "0.5"]);
    let out = dir.join("half");
    let (stdout, half) = train(bin, &args, &out);
    assert_ne!(perplexities(&half), perplexities(&plain));
    let key = flag.trim_start_matches("--").replace('-', "_");
    assert_eq!(half["config"][&key], 0.5);
    assert_eq!(half["settings"][&key], "0.5");
    let last = perplexities(&half).last().copied().unwrap();
    assert!(last.1 < 20.0, "{stdout}");
    let result = std::fs::read_to_string(out.join("result.md")).unwrap();
    // dropout, weight drop, seed
    let row = match flag {
        "--dropout" => ", 0.5, 0, 0 |",
        _ => ", 0, 0.5, 0 |",
    };
    assert!(result.contains(row), "{result}");
}

/// The teaching and the fast path, each on one thread with the flags
/// `dropout` (such as `--dropout 0.3`), train the tiny model to
/// validation perplexities within [`F32_PATHS_GAP`] of each other: in f32
/// they sum in different orders (and the fast path's exp differs in the
/// last bit), so 12 epochs end close, not bit for bit equal. At lr 1,
/// where every cell trains smoothly: at lr 2 the plain RNN's validation
/// perplexity swings from epoch to epoch, and a last-bit difference grows
/// into a different curve.
pub fn both_paths_agree(bin: &str, dropout: &[&str], dir: &Path) {
    let mut ppl = Vec::new();
    for path in ["teaching", "fast"] {
        let out = dir.join(path);
        let extra = ["--quiet", "--threads", "1", "--path", path, "--lr", "1"];
        let mut extra = extra.to_vec();
        extra.extend_from_slice(dropout);
        super::train_and_generate(bin, &extra, &out);
        let result = std::fs::read_to_string(out.join("result.md")).unwrap();
        assert!(result.contains(&format!("{path} path")), "{result}");
        let metrics =
            std::fs::read_to_string(out.join("metrics.json")).unwrap();
        let json: Value = serde_json::from_str(&metrics).unwrap();
        let last = json["epochs"].as_array().unwrap().last().unwrap();
        ppl.push(last["valid_perplexity"].as_f64().unwrap());
    }
    let gap = (ppl[0] - ppl[1]).abs() / ppl[0];
    assert!(gap < F32_PATHS_GAP, "{dropout:?}: {ppl:?}");
}
