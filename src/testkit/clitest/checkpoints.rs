//! Checkpoints under careless use: edited metadata and weights, files
//! that cannot be checkpoints, and the bytes two seeded runs write.

use super::faults::{fails, good_run, s, tiny};
use super::{run, text};
use std::path::Path;

/// Rewrites a checkpoint's header with `edit` (given the parsed header and
/// the tensor bytes), as a user with a text editor or a damaged disk
/// might.
pub fn edit_checkpoint(
    src: &Path,
    dst: &Path,
    edit: impl FnOnce(&mut serde_json::Value, &mut Vec<u8>),
) {
    let bytes = std::fs::read(src).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let mut data = bytes[8 + n..].to_vec();
    edit(&mut header, &mut data);
    let mut json = serde_json::to_vec(&header).unwrap();
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out.extend(data);
    std::fs::write(dst, out).unwrap();
}

/// Sets one metadata entry of a checkpoint header.
pub fn set_meta<'a>(
    key: &'a str,
    value: &'a str,
) -> impl FnOnce(&mut serde_json::Value, &mut Vec<u8>) + 'a {
    move |h, _| h["__metadata__"][key] = value.into()
}

/// Defect 7 (and 13): edited metadata, non-finite weights, a vocabulary
/// with duplicates or control characters, and files that cannot be
/// checkpoints are refused before any model is built.
pub fn edited_checkpoints_are_refused(bin: &str, dir: &Path) {
    let out = dir.join("run");
    good_run(bin, &out);
    let ck = out.join("model.safetensors");
    let edited = dir.join("edited.safetensors");
    let generate =
        |path: &Path| run(bin, &["generate", "--checkpoint", s(path)]);
    let huge = u64::MAX.to_string();
    type Edit<'a> = Box<dyn FnOnce(&mut serde_json::Value, &mut Vec<u8>) + 'a>;
    // Vocabulary entries that would print as something else: a terminal
    // control sequence, a right-to-left override, a tag character, a
    // zero-width space.
    let unprintable = [r"\u001b[2J", r"\u202e", r"\udb40\udc41", r"\u200b"];
    let vocabs: Vec<String> = unprintable
        .iter()
        .map(|t| format!(r#"["<unk>"," ","{t}"]"#))
        .collect();
    let mut cases: Vec<(&str, Edit, &str)> = vec![
        (
            "num_hiddens 1e11",
            Box::new(set_meta("num_hiddens", "100000000000")),
            "num_hiddens = 100000000000",
        ),
        (
            "num_hiddens max",
            Box::new(set_meta("num_hiddens", &huge)),
            "edited or damaged",
        ),
        (
            "vocab twice",
            Box::new(set_meta("vocab", r#"["<unk>"," ","e","e"]"#)),
            "twice",
        ),
        (
            // Finite, but so large that the scores overflow to infinity.
            "huge weights",
            Box::new(|_: &mut serde_json::Value, d: &mut Vec<u8>| {
                for w in d.chunks_exact_mut(4) {
                    w.copy_from_slice(&3e38f32.to_le_bytes());
                }
            }),
            "trained model's weights are finite",
        ),
        (
            "NaN weight",
            Box::new(|_: &mut serde_json::Value, d: &mut Vec<u8>| {
                d[..4].copy_from_slice(&f32::NAN.to_le_bytes());
            }),
            "holds NaN at position 0",
        ),
    ];
    for vocab in &vocabs {
        let printable = "not one printable ASCII character";
        cases.push((vocab, Box::new(set_meta("vocab", vocab)), printable));
    }
    for (what, edit, needle) in cases {
        edit_checkpoint(&ck, &edited, edit);
        let o = generate(&edited);
        fails(&o, 1, &[needle]);
        assert!(!text(&o).1.contains("pass the hyper-parameters"), "{what}");
        assert!(!text(&o).0.contains('\u{1b}'), "{what}: printed ESC");
    }
    let _ = std::fs::remove_file(&edited);
    let o = generate(&out);
    fails(
        &o,
        1,
        &["is a folder, not a checkpoint", "model.safetensors"],
    );
    let o = generate(Path::new("/dev/zero"));
    fails(&o, 1, &["not a regular file"]);
    // A FIFO: opening it would wait for a writer forever.
    #[cfg(unix)]
    {
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(s(&fifo)).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo reads it only.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let mut child = std::process::Command::new(bin)
            .args(["generate", "--checkpoint", s(&fifo)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed().as_secs() > 20 {
                let _ = child.kill();
                panic!("generate waited on a FIFO");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        fails(
            &child.wait_with_output().unwrap(),
            1,
            &["not a regular file"],
        );
    }
    let mut header = 1u64.to_le_bytes().to_vec();
    header[7] = 0x40;
    std::fs::write(&edited, &header).unwrap();
    fails(&generate(&edited), 1, &["header claims"]);
}

/// Defect 10: the same seed and threads give the same checkpoint, byte
/// for byte.
pub fn seeded_runs_write_identical_checkpoints(bin: &str, dir: &Path) {
    let bytes = |name: &str| {
        let out = dir.join(name);
        let o = run(bin, &tiny(&["--threads", "2"], s(&out)));
        assert!(o.status.success(), "{}", text(&o).1);
        std::fs::read(out.join("model.safetensors")).unwrap()
    };
    assert!(bytes("a") == bytes("b"), "two seeded runs differ");
}
