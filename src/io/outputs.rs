//! A run's output folder, written all at once: the files go into a
//! staging folder next to it, and one rename swaps the staging folder in.
//! Whatever stops the process (a full disk, Ctrl-C, SIGKILL, a power cut
//! after the fsyncs), the folder holds the previous run whole or the new
//! one whole, never a mix.
//!
//! Because the whole folder is replaced, a run folder must hold nothing
//! but a run's files: [`OutDir::check`] refuses any other folder before
//! training starts, so `--out ~/Documents` cannot cost the documents.

use super::swap::{recover, strip_prefix, swap};
use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// The files a training run writes.
pub const RUN_FILES: &[&str] = &[
    "metrics.json",
    "result.md",
    "samples.txt",
    "perplexity.svg",
    "model.safetensors",
    "best.safetensors",
];

/// The files `ch_birnn fill` writes.
pub const FILL_FILES: &[&str] = &["results.json", "result.md"];

/// The files `ch_memory` writes.
pub const MEMORY_FILES: &[&str] = &["results.json", "result.md", "grads.svg"];

/// The files a chapter's `gates` writes.
pub const GATES_FILES: &[&str] = &[
    "heatmap.svg",
    "saturation.svg",
    "gates.csv",
    "gates.md",
    "gates.json",
];

/// Why a folder cannot receive a run.
#[derive(Debug, Error)]
pub enum OutError {
    #[error("--out {0} is a file, not a folder: give a folder's path")]
    NotAFolder(PathBuf),
    #[error(
        "--out {link} is a symbolic link to {to}, which does not exist: \
         create that folder, or give another with --out"
    )]
    DanglingLink { link: PathBuf, to: PathBuf },
    #[error(
        "--out {path} holds files that are not a run's ({found}). A run \
         replaces its whole folder, so give it a new or empty folder, such \
         as {suggestion}"
    )]
    Foreign {
        path: PathBuf,
        found: String,
        suggestion: PathBuf,
    },
    #[error(
        "cannot write into {path}: {source}. Check that the folder is \
         writable and on a disk with space, or choose another with --out"
    )]
    Io { path: PathBuf, source: io::Error },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutError + '_ {
    move |source| OutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A folder that has been checked to receive a run of one kind.
#[derive(Debug, Clone)]
pub struct OutDir {
    target: PathBuf,
    /// The files this kind of run writes: a folder holding anything else
    /// is not one of its runs, and is never replaced.
    files: &'static [&'static str],
}

impl OutDir {
    /// Checks, before any training, that `target` can receive a training
    /// run: [`OutDir::check_for`] with [`RUN_FILES`].
    pub fn check(target: &Path) -> Result<Self, OutError> {
        Self::check_for(target, RUN_FILES)
    }

    /// Checks, before any work, that `target` can receive a run that
    /// writes `files`: it does not exist yet or is a folder of those
    /// files only (so that one kind of run never replaces another's, nor
    /// a user's folder), and a staging folder can be written beside it.
    /// Removes staging folders that killed runs left behind.
    pub fn check_for(
        target: &Path,
        files: &'static [&'static str],
    ) -> Result<Self, OutError> {
        let target = match fs::canonicalize(target) {
            Ok(real) => real,
            Err(_) => match fs::read_link(target) {
                // A link to a folder that is not there: the run would
                // replace the link instead of filling the folder.
                Ok(to) => {
                    return Err(OutError::DanglingLink {
                        link: target.to_path_buf(),
                        to,
                    })
                }
                Err(_) => absolute(target),
            },
        };
        recover(&target, files);
        match fs::metadata(&target) {
            Ok(m) if !m.is_dir() => {
                return Err(OutError::NotAFolder(target));
            }
            Ok(_) => {
                let foreign = foreign_entries(&target, files)
                    .map_err(io_error(&target))?;
                if !foreign.is_empty() {
                    let shown = foreign.len().min(5);
                    let mut found = foreign[..shown].join(", ");
                    if foreign.len() > shown {
                        found +=
                            &format!(" and {} more", foreign.len() - shown);
                    }
                    let suggestion = target.join("run");
                    return Err(OutError::Foreign {
                        path: target,
                        found,
                        suggestion,
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(OutError::Io {
                    path: target,
                    source: e,
                })
            }
        }
        let dir = Self { target, files };
        dir.remove_stale();
        // Proves now, not after the training, that the folder is writable.
        let probe = dir.stage()?;
        probe.write("probe", b"")?;
        drop(probe);
        Ok(dir)
    }

    /// The folder the run will appear in.
    pub fn path(&self) -> &Path {
        &self.target
    }

    fn parent(&self) -> &Path {
        self.target.parent().unwrap_or(Path::new("/"))
    }

    fn staging_prefix(&self) -> OsString {
        let name = self.target.file_name().unwrap_or_default();
        let mut prefix = OsString::from(".");
        prefix.push(name);
        prefix.push(".staged-");
        prefix
    }

    /// Removes the staging folders of processes that no longer run.
    fn remove_stale(&self) {
        let prefix = self.staging_prefix();
        let Ok(entries) = fs::read_dir(self.parent()) else {
            return;
        };
        // Only a folder named exactly as `stage` names it (PID-N, both in
        // plain decimal), for a process that no longer runs, holding
        // nothing but what a run stages: anything else may be a user's.
        let decimal =
            |s: &str| s.parse::<u32>().is_ok_and(|v| v.to_string() == s);
        for entry in entries.flatten() {
            let Some(rest) = strip_prefix(&entry.file_name(), &prefix) else {
                continue;
            };
            let Some((pid, n)) = rest.split_once('-') else {
                continue;
            };
            let ours = decimal(pid)
                && decimal(n)
                && pid.parse().is_ok_and(|p: u32| !process_alive(p))
                && entry.file_type().is_ok_and(|t| t.is_dir())
                && only_staged_files(&entry.path(), self.files);
            if ours {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// A new, empty staging folder beside the target.
    pub fn stage(&self) -> Result<Staged, OutError> {
        let parent = self.parent().to_path_buf();
        fs::create_dir_all(&parent).map_err(io_error(&self.target))?;
        let prefix = self.staging_prefix();
        let mut n = 0u32;
        loop {
            let mut name = prefix.clone();
            name.push(format!("{}-{n}", std::process::id()));
            let dir = parent.join(name);
            match fs::create_dir(&dir) {
                Ok(()) => {
                    return Ok(Staged {
                        dir,
                        target: self.target.clone(),
                        files: self.files,
                        done: false,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
                // Named as the user gave it: the staging folder is ours.
                Err(e) => {
                    return Err(OutError::Io {
                        path: self.target.clone(),
                        source: e,
                    })
                }
            }
        }
    }
}

/// A staging folder: written file by file, then swapped in by
/// [`Staged::commit`]. Dropped without a commit, it is removed.
#[derive(Debug)]
pub struct Staged {
    dir: PathBuf,
    target: PathBuf,
    files: &'static [&'static str],
    done: bool,
}

impl Staged {
    /// The staging folder itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes `name` into the staging folder and syncs it to disk. The
    /// file's mode follows the umask, like any file a program creates.
    ///
    /// # Panics
    /// If `name` is not one of the files this kind of run writes (or the
    /// probe): a run that wrote it could not be replaced by the next.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<(), OutError> {
        assert!(
            self.files.contains(&name) || name == "probe",
            "{name} is not among the files this run declared: {:?}",
            self.files
        );
        let write = || -> io::Result<()> {
            let mut file = fs::File::create(self.dir.join(name))?;
            file.write_all(bytes)?;
            file.sync_all()
        };
        // Named as the file will be: the staging folder is ours, not the
        // user's.
        write().map_err(io_error(&self.target.join(name)))?;
        fault_point(name);
        Ok(())
    }

    /// Swaps the staging folder in as the target, atomically, and removes
    /// the previous run. The target's parent is synced, so the new run
    /// survives a power cut once this returns.
    pub fn commit(mut self) -> Result<(), OutError> {
        let target = self.target.clone();
        let parent = target.parent().unwrap_or(Path::new("/")).to_owned();
        sync_dir(&self.dir).map_err(io_error(&target))?;
        fault_point("commit");
        match swap(&self.dir, &target) {
            Ok(true) => {
                // The staging path now names the previous run.
                self.done = true;
                let _ = fs::remove_dir_all(&self.dir);
            }
            Ok(false) => self.done = true,
            Err(e) => {
                return Err(OutError::Io {
                    path: target,
                    source: e,
                })
            }
        }
        // The run is in place whatever happens now: a failed sync of the
        // folder only means it might not survive a power cut.
        if let Err(e) = sync_dir(&parent) {
            crate::io::console::warn(&format!(
                "the run is in {}, but syncing {} to disk failed ({e}): it \
                 might not survive a power cut",
                target.display(),
                parent.display()
            ));
        }
        Ok(())
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.done {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Whether `dir` holds only files a run stages (its `files`, and the
/// empty file that proves a folder writable).
fn only_staged_files(dir: &Path, files: &[&str]) -> bool {
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().all(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let staged = files.contains(&name.as_str()) || name == "probe";
            staged && e.file_type().is_ok_and(|t| t.is_file())
        })
    })
}

/// Entries of `dir` that a run writing `files` did not write.
pub(super) fn foreign_entries(
    dir: &Path,
    files: &[&str],
) -> io::Result<Vec<String>> {
    let mut foreign = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // `.tmp-*` files are what earlier versions left when killed.
        let ours = files.contains(&name.as_str()) || name.starts_with(".tmp-");
        // A run writes files; a folder is the user's, whatever its name.
        if !ours || entry.file_type()?.is_dir() {
            foreign.push(name);
        }
    }
    foreign.sort();
    Ok(foreign)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Whether a process with id `pid` runs (on Unix; elsewhere, assumed).
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // SAFETY: signal 0 checks that the process exists and sends
        // nothing.
        let rc = unsafe { libc::kill(pid, 0) };
        rc == 0 || io::Error::last_os_error().raw_os_error() == Some(1)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// For the tests of faults: with `D2L_KILL_AFTER=<point>` in the
/// environment, the process kills itself with SIGKILL after writing the
/// staged file `<point>`, just before the swap (`commit`), or between the
/// renames of the swap without an atomic exchange (`swap`, with
/// `D2L_NO_EXCHANGE` set, as on a file system without it), as a power cut
/// or `kill -9` would.
pub(super) fn fault_point(point: &str) {
    #[cfg(unix)]
    if std::env::var("D2L_KILL_AFTER").is_ok_and(|p| p == point) {
        // SAFETY: raising a signal has no preconditions.
        unsafe {
            libc::raise(libc::SIGKILL);
        }
    }
}
