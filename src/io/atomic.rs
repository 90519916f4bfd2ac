//! Atomic file writes: a reader sees the old file or the new one, never a
//! half-written one.

use std::io::{self, Write};
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same folder,
/// flushed to disk and then renamed over `path`. Creates the folder if
/// needed. On error the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    set_ordinary_mode(tmp.as_file())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Gives a temporary file (created private, 0600) the mode of an ordinary
/// new file: 0666 less the process's umask, so 0644 under the usual umask
/// 022 and 0664 under 002.
pub fn set_ordinary_mode(file: &std::fs::File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o666 & !umask());
        file.set_permissions(mode)?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// The process's umask, read from `/proc/self/status` where Linux reports
/// it (reading it with `umask(2)` would change it for a moment under the
/// other threads), else the usual 022.
#[cfg(unix)]
pub fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Umask:"))?;
            u32::from_str_radix(line.split_whitespace().nth(1)?, 8).ok()
        })
        .unwrap_or(0o022)
}
