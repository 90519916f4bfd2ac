//! `gates` end to end: a tiny model trained, its gates dumped and read
//! back for the chapter's test to compare with its teaching cell, and the
//! bad input `gates` refuses.

use super::{run, text, users_folder, TINY};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `gates` wrote for a tiny model.
pub struct GatesDump {
    /// The checkpoint it read.
    pub checkpoint: PathBuf,
    /// The passage, as the model read it.
    pub text: Vec<char>,
    /// gates.csv: (step, reading) → the value of every unit.
    pub rows: BTreeMap<(usize, String), Vec<f32>>,
    /// gates.json.
    pub summary: serde_json::Value,
}

/// The passage the tests draw: capitals and a digit, which the corpus
/// cuts to lower case and a space.
pub const PASSAGE: &str = "The Time Traveller 4 us";

/// The split of [`TINY`]: `gates` must measure on it.
const TINY_SPLIT: [&str; 4] = ["--max-tokens", "600", "--valid-tokens", "300"];

/// Sets the bias `name` of a checkpoint to `+value` for its first half of
/// units and `−value` for the rest, so that a gate is wide open on some
/// units and shut on others: saturation to measure.
pub fn saturate_bias(src: &Path, dst: &Path, name: &str, value: f32) {
    super::checkpoints::edit_checkpoint(src, dst, |header, data| {
        let offsets = &header[name]["data_offsets"];
        let start = offsets[0].as_u64().unwrap() as usize;
        let end = offsets[1].as_u64().unwrap() as usize;
        let n = (end - start) / 4;
        for j in 0..n {
            let v = if j < n / 2 { value } else { -value };
            data[start + 4 * j..start + 4 * j + 4]
                .copy_from_slice(&v.to_le_bytes());
        }
    });
}

/// Trains a tiny model in `dir`, runs `gates` on its checkpoint and
/// returns what it wrote, after checking that every file is there.
pub fn gates_of_a_tiny_run(bin: &str, dir: &Path) -> GatesDump {
    gates_with(bin, dir, &[])
}

/// [`gates_of_a_tiny_run`] with `extra` flags for `gates`.
pub fn gates_with(bin: &str, dir: &Path, extra: &[&str]) -> GatesDump {
    let run_dir = dir.join("run");
    let mut args = TINY.to_vec();
    args.extend_from_slice(&["--quiet", "--out", run_dir.to_str().unwrap()]);
    let o = run(bin, &args);
    assert!(o.status.success(), "train failed: {:?}", text(&o));
    let checkpoint = run_dir.join("model.safetensors");
    gates_on(bin, &checkpoint, &dir.join("gates"), extra)
}

/// Runs `gates` on `checkpoint` of a tiny run (its split), with `extra`
/// flags, into `out`, and returns what it wrote.
pub fn gates_on(
    bin: &str,
    checkpoint: &Path,
    out: &Path,
    extra: &[&str],
) -> GatesDump {
    let checkpoint = checkpoint.to_path_buf();
    let mut args = vec![
        "gates",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--text",
        PASSAGE,
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(&TINY_SPLIT);
    args.extend_from_slice(extra);
    let o = run(bin, &args);
    let (stdout, stderr) = text(&o);
    assert!(o.status.success(), "gates failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("on 300 held-out characters"), "{stdout}");
    for svg in ["heatmap.svg", "saturation.svg"] {
        let s = std::fs::read_to_string(out.join(svg)).unwrap();
        assert!(s.starts_with("<svg") && s.trim_end().ends_with("</svg>"));
    }
    let summary_md = std::fs::read_to_string(out.join("gates.md")).unwrap();
    assert!(stdout.starts_with(&summary_md), "{stdout}");
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("gates.json")).unwrap(),
    )
    .unwrap();
    let csv = std::fs::read_to_string(out.join("gates.csv")).unwrap();
    let mut rows = BTreeMap::new();
    let mut chars = BTreeMap::new();
    for line in csv.lines().skip(1) {
        // step,"c",reading,u0,u1,…
        let (step, rest) = line.split_once(",\"").unwrap();
        let (c, rest) = rest.split_once("\",").unwrap();
        let mut fields = rest.split(',');
        let reading = fields.next().unwrap().to_string();
        let step: usize = step.parse().unwrap();
        let values = fields.map(|v| v.parse::<f32>().unwrap()).collect();
        chars.insert(step, c.chars().next().unwrap());
        rows.insert((step, reading), values);
    }
    let text: Vec<char> = chars.into_values().collect();
    let passage: String = text.iter().collect();
    assert_eq!(passage, "the time traveller us");
    assert_eq!(summary["passage"], passage.as_str());
    GatesDump {
        checkpoint,
        text,
        rows,
        summary,
    }
}

/// Bad `gates` input gets a clear error and status 1 (2 for clap's), and
/// writes nothing; a user's folder as --out is left as it was.
pub fn gates_refuses_bad_input(bin: &str, dir: &Path) {
    let dump = gates_of_a_tiny_run(bin, &dir.join("tiny"));
    let ck = dump.checkpoint.to_str().unwrap().to_string();
    let long = "a ".repeat(501);
    let out = dir.join("out");
    let out_s = out.to_str().unwrap();
    let cases: [(&[&str], i32, &str); 10] = [
        (&["--units", "16"], 1, "numbered 0 to 15"),
        (&["--units", "3,3"], 1, "3 is given twice"),
        (&["--units", "x"], 2, "--units"),
        (&["--text", "1984 !"], 1, "no letters"),
        (&["--text", &long], 1, "at most 1000"),
        (&["--top", "0"], 2, "--top"),
        (&["--top", "17"], 2, "--top"),
        (&["--valid-tokens", "1"], 1, "at least 100"),
        (&["--units", "3", "--top", "2"], 2, "--top"),
        // The model was validated on 600..900 (tiny's split).
        (&["--max-tokens", "1000"], 1, "validated on 600..900"),
    ];
    for (flags, code, says) in cases {
        let mut args = vec!["gates", "--checkpoint", &ck, "--out", out_s];
        args.extend_from_slice(flags);
        let o = run(bin, &args);
        let (_, stderr) = text(&o);
        assert_eq!(o.status.code(), Some(code), "{flags:?}: {stderr}");
        assert!(stderr.contains(says), "{flags:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{flags:?} wrote {out_s}");
    }
    // The training run's own folder is not a gates run: nothing in it
    // may be replaced.
    let run_dir = dump.checkpoint.parent().unwrap();
    let before = std::fs::read_dir(run_dir).unwrap().count();
    let mut args = vec!["gates", "--checkpoint", &ck];
    args.extend_from_slice(&TINY_SPLIT);
    args.extend_from_slice(&["--out", run_dir.to_str().unwrap()]);
    let o = run(bin, &args);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("model.safetensors"), "{stderr}");
    assert!(dump.checkpoint.is_file());
    assert_eq!(std::fs::read_dir(run_dir).unwrap().count(), before);
    let missing = dir.join("no.safetensors");
    let o = run(
        bin,
        &[
            "gates",
            "--checkpoint",
            missing.to_str().unwrap(),
            "--out",
            out_s,
        ],
    );
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no.safetensors"), "{stderr}");
    assert!(!out.exists());
    let users = dir.join("users");
    users_folder(&users, "notes.txt", b"mine");
    let mut args = vec!["gates", "--checkpoint", &ck];
    args.extend_from_slice(&TINY_SPLIT);
    args.extend_from_slice(&["--out", users.to_str().unwrap()]);
    let o = run(bin, &args);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert_eq!(std::fs::read(users.join("notes.txt")).unwrap(), b"mine");
}

/// A chapter without gates says which chapters have them, and its help
/// does not offer the subcommand.
pub fn no_gates_here(bin: &str) {
    let o = run(bin, &["gates"]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ch_gru gates"), "{stderr}");
    let (help, _) = text(&run(bin, &["--help"]));
    let offers = |name: &str| {
        help.lines()
            .any(|l| l.trim_start().starts_with(&format!("{name} ")))
    };
    assert!(offers("generate") && !offers("gates"), "{help}");
}
