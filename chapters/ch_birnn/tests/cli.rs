//! `ch_birnn` as a user runs it: both commands write all their files, bad
//! flags are refused with a message that says what is allowed, and a
//! folder that is not a run's is left alone.

use d2l::testkit::clitest::{in_temp_dir, run, users_folder};

const BIN: &str = env!("CARGO_BIN_EXE_ch_birnn");

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn lm_trains_and_writes_its_files() {
    in_temp_dir(BIN, |bin, dir| {
        let out = dir.join("lm");
        let args =
            ["lm", "--epochs", "2", "--layers", "1", "--num-hiddens", "8"];
        let mut args = args.to_vec();
        args.extend(["--quiet", "--out", out.to_str().unwrap()]);
        let o = run(bin, &args);
        assert!(o.status.success(), "{}", stderr(&o));
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains("generated: time traveller"), "{stdout}");
        let files = ["metrics.json", "result.md", "samples.txt"];
        for file in files.into_iter().chain(["perplexity.svg"]) {
            assert!(out.join(file).is_file(), "no {file}");
        }
        let m: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("metrics.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(m["epochs"].as_array().unwrap().len(), 2);
        assert_eq!(m["settings"]["model"], "bidirectional");
    });
}

#[test]
fn fill_trains_both_models_and_writes_its_table() {
    in_temp_dir(BIN, |bin, dir| {
        let out = dir.join("fill");
        let o = run(
            bin,
            &[
                "fill",
                "--updates",
                "3",
                "--num-hiddens",
                "8",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let table = std::fs::read_to_string(out.join("result.md")).unwrap();
        assert!(table.contains("| bidirectional | 8 (16) |"), "{table}");
        assert!(table.contains("| one-directional |"), "{table}");
        assert!(out.join("results.json").is_file());
        // A second run replaces the first.
        let again = run(
            bin,
            &[
                "fill",
                "--updates",
                "2",
                "--num-hiddens",
                "4",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert!(again.status.success(), "{}", stderr(&again));
        let table = std::fs::read_to_string(out.join("result.md")).unwrap();
        assert!(table.contains("| bidirectional | 4 (8) |"), "{table}");
    });
}

#[test]
fn bad_flags_are_refused_and_say_what_is_allowed() {
    in_temp_dir(BIN, |bin, dir| {
        let out = dir.join("never");
        let out = out.to_str().unwrap();
        for (args, says) in [
            (vec!["lm", "--layers", "0"], "at least 1"),
            (vec!["lm", "--layers", "9"], "at most 8"),
            (vec!["lm", "--num-hiddens", "100000"], "at most 4096"),
            (vec!["lm", "--lr", "nan"], "above 0"),
            (vec!["lm", "--epochs", "-3"], "at least 1"),
            (vec!["fill", "--rate", "1"], "below 1"),
            (vec!["fill", "--rate", "0"], "above 0"),
            (vec!["fill", "--updates", "99999999"], "at most 1000000"),
            (vec!["fill", "--lr", "inf"], "above 0"),
            (vec!["fill", "--cell", "rnn"], "possible values"),
            (vec![], "Usage"),
        ] {
            let mut a = args.clone();
            if !a.is_empty() {
                a.extend(["--out", out]);
            }
            let o = run(bin, &a);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
            assert!(stderr(&o).contains(says), "{args:?}: {}", stderr(&o));
            assert!(!std::path::Path::new(out).exists(), "{args:?} wrote");
        }
    });
}

#[test]
fn a_users_folder_is_left_alone() {
    in_temp_dir(BIN, |bin, dir| {
        let mine = dir.join("mine");
        users_folder(&mine, "notes.txt", b"keep me");
        let o = run(
            bin,
            &[
                "fill",
                "--updates",
                "2",
                "--num-hiddens",
                "4",
                "--out",
                mine.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("notes.txt"), "{}", stderr(&o));
        assert_eq!(std::fs::read(mine.join("notes.txt")).unwrap(), b"keep me");
    });
}

#[test]
fn a_model_too_large_for_memory_is_refused_before_training() {
    in_temp_dir(BIN, |bin, dir| {
        let out = dir.join("huge");
        let o = run(
            bin,
            &[
                "fill",
                "--batch-size",
                "4096",
                "--num-steps",
                "4096",
                "--num-hiddens",
                "4096",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(stderr(&o).contains("GB of memory"), "{}", stderr(&o));
        assert!(stderr(&o).contains("--num-hiddens"), "{}", stderr(&o));
        assert!(!out.exists());
    });
}
