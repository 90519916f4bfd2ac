//! A run's output folder under faults: a kill or a full disk in the write
//! phase, the recovery of a run killed between two renames, and odd
//! paths given as `--out`.

use super::faults::{fails, good_run, leftovers, run_with, s, snapshot, tiny};
use super::{run, text, users_folder, TINY};
use std::path::Path;

/// Defect 4: a run's outputs appear together or not at all. A kill in
/// the write phase, or a full disk (a file-size limit here, which needs
/// no root), leaves the previous run whole; the next run removes what
/// the killed one left.
pub fn outputs_appear_together(bin: &str, dir: &Path) {
    let out = dir.join("run");
    let before = good_run(bin, &out);
    let args = tiny(&["--seed", "7"], s(&out));
    for point in ["metrics.json", "perplexity.svg", "commit"] {
        let o = run_with(bin, &args, |c| {
            c.env("D2L_KILL_AFTER", point);
        });
        assert_eq!(o.status.code(), None, "not killed at {point}");
        assert_eq!(snapshot(&out), before, "killed at {point}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let o = run_with(bin, &args, |c| {
            // SAFETY: setrlimit is async-signal-safe and touches no
            // memory of the parent.
            unsafe {
                c.pre_exec(|| {
                    let limit = libc::rlimit {
                        rlim_cur: 4096,
                        rlim_max: 4096,
                    };
                    libc::setrlimit(libc::RLIMIT_FSIZE, &limit);
                    Ok(())
                });
            }
        });
        fails(&o, 1, &["File too large", "as it was"]);
        assert_eq!(snapshot(&out), before, "a full disk changed the run");
    }
    // Without an atomic exchange (some file systems): killed between the
    // renames, the previous run waits beside the folder, and the next run
    // puts it back before anything else (here, a run that then diverges).
    let o = run_with(bin, &args, |c| {
        c.env("D2L_NO_EXCHANGE", "1").env("D2L_KILL_AFTER", "swap");
    });
    assert_eq!(o.status.code(), None, "not killed between the renames");
    let diverging = tiny(&["--lr", "60", "--clip", "1e30"], s(&out));
    let o = run(bin, &diverging);
    assert!(!o.status.success(), "the diverging run succeeded");
    assert_eq!(snapshot(&out), before, "killed between the renames");
    let o = run(bin, &args);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_ne!(snapshot(&out), before, "the new run did not replace it");
    assert_eq!(leftovers(&out), Vec::<String>::new());
}

/// Defect 4, the recovery of a run killed between the two renames (on a
/// file system without an atomic exchange) deletes and moves nothing it
/// did not make: not a user's `.NAME.old` backup, not a file that looks
/// like its own, and not the previous run when the folder was re-created
/// by hand in the meantime (the run is refused, and says where the
/// previous run is).
pub fn recovery_deletes_nothing(bin: &str, dir: &Path) {
    let out = dir.join("run");
    good_run(bin, &out);
    let backup = dir.join(".run.old");
    users_folder(&backup, "notes.txt", b"mine");
    let look_alike = dir.join(".run.swapped-999999999");
    std::fs::write(&look_alike, b"also mine").unwrap();
    // Folders named like staging folders of dead processes, but not as a
    // run names them or not holding what a run stages: a user's.
    let staged_notes = dir.join(".run.staged-4194307");
    users_folder(&staged_notes, "notes.txt", b"mine");
    let staged_keep = dir.join(".run.staged-4194308-keep");
    std::fs::create_dir(&staged_keep).unwrap();
    std::fs::write(staged_keep.join("metrics.json"), b"{}").unwrap();
    let args = tiny(&["--seed", "7"], s(&out));
    let o = run(bin, &args);
    assert!(o.status.success(), "{}", text(&o).1);
    assert_eq!(snapshot(&backup).len(), 1, "the backup was touched");
    assert_eq!(std::fs::read(&look_alike).unwrap(), b"also mine");
    for kept in [&staged_notes, &staged_keep] {
        assert_eq!(snapshot(kept).len(), 1, "{} was touched", kept.display());
    }
    let before = snapshot(&out);
    let o = run_with(bin, &args, |c| {
        c.env("D2L_NO_EXCHANGE", "1").env("D2L_KILL_AFTER", "swap");
    });
    assert_eq!(o.status.code(), None, "not killed between the renames");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), b"new notes").unwrap();
    let o = run(bin, &args);
    fails(&o, 1, &["not a run's"]);
    assert!(text(&o).1.contains("it is left there"), "{}", text(&o).1);
    let aside = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .find(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with(".run.swapped-") && e.path() != look_alike
        })
        .expect("the previous run, aside")
        .path();
    assert_eq!(snapshot(&aside), before, "the previous run changed");
    // Two runs aside (and a name spelled otherwise than the program
    // spells it), and no folder: which one to put back is not clear, so
    // none is; the new run goes into a new folder, and all stay.
    let copy = |to: &str| {
        let to = dir.join(to);
        std::fs::create_dir(&to).unwrap();
        for (name, bytes) in &before {
            std::fs::write(to.join(name), bytes).unwrap();
        }
        to
    };
    let second = copy(".run.swapped-4194305");
    let odd_pid = copy(".run.swapped-04194306");
    std::fs::remove_dir_all(&out).unwrap();
    let o = run(bin, &args);
    assert!(o.status.success(), "{}", text(&o).1);
    for kept in [&aside, &second, &odd_pid] {
        assert_eq!(snapshot(kept), before, "{} changed", kept.display());
    }
}

/// Paths a careless user gives as `--out`: a dangling symbolic link is
/// refused (the run would replace the link), and a folder whose name is
/// not UTF-8 gets the run, with the command line recorded.
#[cfg(unix)]
pub fn odd_output_paths(bin: &str, dir: &Path) {
    use std::os::unix::ffi::OsStrExt;
    let link = dir.join("link");
    std::os::unix::fs::symlink(dir.join("nowhere"), &link).unwrap();
    fails(&run(bin, &tiny(&[], s(&link))), 1, &["symbolic link"]);
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let odd = dir.join(std::ffi::OsStr::from_bytes(b"caf\xe9"));
    let o = run_with(bin, TINY, |c| {
        c.args(["--quiet", "--out"]).arg(&odd);
    });
    assert!(o.status.success(), "{}", text(&o).1);
    let metrics = std::fs::read_to_string(odd.join("metrics.json")).unwrap();
    assert!(metrics.contains("caf\u{fffd}"), "command line not recorded");
}
