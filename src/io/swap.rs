//! Putting a staged run folder in place of the previous one: one atomic
//! exchange where the file system has it, two renames where it does not,
//! and the recovery of a run killed between those two renames.

use super::outputs::{fault_point, foreign_entries, process_alive};
use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where [`swap`]'s fallback keeps the previous run between its two
/// renames: `.NAME.swapped-PID` beside the target, PID the process that
/// moved it there.
fn aside_path(target: &Path, pid: u32) -> PathBuf {
    let mut name = aside_prefix(target);
    name.push(pid.to_string());
    target.with_file_name(name)
}

fn aside_prefix(target: &Path) -> OsString {
    let mut name = OsString::from(".");
    name.push(target.file_name().unwrap_or_default());
    name.push(".swapped-");
    name
}

/// After a run killed between the renames of [`swap`]'s fallback: finds
/// the previous run it moved aside (a folder of run files named exactly
/// as [`aside_path`] names it, for a process that no longer runs) and
/// puts it back if the target is missing and it is the only one. In
/// every other case the folders are left where they are, with a warning
/// naming them: nothing is deleted or moved that might be wanted.
pub(super) fn recover(target: &Path, files: &[&str]) {
    let prefix = aside_prefix(target);
    let Ok(entries) = fs::read_dir(target.parent().unwrap_or(Path::new("/")))
    else {
        return;
    };
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .filter(|entry| {
            // Names are compared as bytes, not as lossy text, and the pid
            // must be spelled as aside_path spells it.
            let name = entry.file_name();
            let Some(pid) = strip_prefix(&name, &prefix) else {
                return false;
            };
            let pid = pid.parse::<u32>().ok().filter(|p| p.to_string() == pid);
            pid.is_some_and(|p| !process_alive(p))
                && entry.file_type().is_ok_and(|t| t.is_dir())
                && foreign_entries(&entry.path(), files)
                    .is_ok_and(|f| f.is_empty())
        })
        .map(|entry| entry.path())
        .collect();
    found.sort();
    let gone = fs::symlink_metadata(target)
        .is_err_and(|e| e.kind() == io::ErrorKind::NotFound);
    if let [only] = found.as_slice() {
        if gone && fs::rename(only, target).is_ok() {
            return;
        }
    }
    for path in found {
        crate::io::console::warn(&format!(
            "{} holds a run that an interrupted run moved aside while \
             replacing {}; it is left there. Look at it, and remove it once \
             you no longer need it",
            path.display(),
            target.display()
        ));
    }
}

/// `name` without `prefix`, if it starts so, as text.
pub(super) fn strip_prefix(
    name: &std::ffi::OsStr,
    prefix: &std::ffi::OsStr,
) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let rest = name.as_bytes().strip_prefix(prefix.as_bytes())?;
        std::str::from_utf8(rest).ok().map(str::to_string)
    }
    #[cfg(not(unix))]
    {
        let (name, prefix) = (name.to_str()?, prefix.to_str()?);
        name.strip_prefix(prefix).map(str::to_string)
    }
}

/// Puts `staged` at `target`. Returns whether a previous `target` was
/// swapped to `staged` (and is for the caller to remove).
pub(super) fn swap(staged: &Path, target: &Path) -> io::Result<bool> {
    match fs::symlink_metadata(target) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::rename(staged, target)?;
            return Ok(false);
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    #[cfg(target_os = "linux")]
    if std::env::var_os("D2L_NO_EXCHANGE").is_none()
        && exchange(staged, target).is_ok()
    {
        return Ok(true);
    }
    // No atomic exchange here (not Linux, or a file system without it):
    // move the old run aside first. A crash between the renames leaves the
    // old run whole at `aside`, which the next run's check puts back
    // ([`recover`]); a failed second rename puts it back at once.
    let aside = aside_path(target, std::process::id());
    fs::rename(target, &aside)?;
    fault_point("swap");
    if let Err(e) = fs::rename(staged, target) {
        fs::rename(&aside, target)?;
        return Err(e);
    }
    // The new run is in place; the old one goes (a failure here leaves it
    // for the next run to report, and costs nothing).
    let _ = fs::remove_dir_all(&aside);
    Ok(false)
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive
    // the call; renameat2 only reads them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
