//! The `ch_memory` command line on tiny runs: it writes its three outputs
//! together (and again into the same folder), and refuses bad settings before training, writing nothing.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ch_memory");
const TINY: &[&str] = &[
    "--lengths",
    "4,6",
    "--seeds",
    "0,1",
    "--budget",
    "4",
    "--every",
    "2",
    "--num-hiddens",
    "4",
    "--batch-size",
    "4",
    "--quiet",
];

fn run(args: &[&str], out: &std::path::Path) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("ch_memory runs")
}

#[test]
fn a_tiny_run_writes_the_table_the_figure_and_the_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = run(TINY, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = std::fs::read_to_string(out.join("result.md")).unwrap();
    for row in [
        "| RNN |",
        "| GRU |",
        "| LSTM, b_f = 0 |",
        "| LSTM, b_f = 3 |",
    ] {
        assert!(table.contains(row), "{table}");
    }
    assert!(table.contains("length 4") && table.contains("length 6"));
    let svg = std::fs::read_to_string(out.join("grads.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("after training"));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("results.json")).unwrap(),
    )
    .unwrap();
    // 5 models × 2 lengths × 2 seeds.
    assert_eq!(json["runs"].as_array().unwrap().len(), 20);
    assert_eq!(
        json["grad_norms"][0]["untrained"].as_array().unwrap().len(),
        6
    );
    // A second run replaces the first: its folder holds only run files.
    let o = run(TINY, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn bad_settings_are_refused_before_training() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, says) in [
        ("--lengths", "1", "--lengths"),
        ("--budget", "0", "--budget"),
        ("--lr", "nan", "--lr"),
        ("--every", "0", "--every"),
        ("--num-hiddens", "0", "--num-hiddens"),
        ("--batch-size", "0", "--batch-size"),
        ("--lr", "1e300", "--lr"),
        ("--lengths", "4,4", "each value once"),
        ("--grad-length", "0", "--grad-length 0"),
        ("--grad-length", "5", "one of --lengths"),
    ] {
        let out = dir.path().join(flag.trim_start_matches('-'));
        let mut args = TINY.to_vec();
        match args.iter().position(|a| *a == flag) {
            Some(i) => args[i + 1] = value,
            None => args.extend_from_slice(&[flag, value]),
        }
        let o = run(&args, &out);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{flag} {value}: {stderr}");
        assert!(stderr.contains(says), "{flag} {value}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{flag} {value} wrote {}", out.display());
    }
    // Each size allowed, but together far more memory than any machine.
    let out = dir.path().join("huge");
    let mut args = TINY.to_vec();
    args[1] = "10000";
    args[9] = "4096";
    let o = run(&args, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("GB"), "{stderr}");
    assert!(!out.exists());
}
