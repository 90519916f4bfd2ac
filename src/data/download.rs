//! Downloading data sets with a SHA-1 check and a local cache, like d2l's
//! `download`.
//!
//! A file is looked up in the cache first. When a cached copy's SHA-1
//! matches, no network request is made at all. Otherwise the file is
//! streamed into a temporary file in the cache folder while it is hashed,
//! and only renamed into place once the hash matches, so a failed or
//! corrupt download never leaves a bad file behind.

use sha1::{Digest, Sha1};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use thiserror::Error;

/// Where d2l keeps its data sets; `D2L_DATA_URL` replaces it with a mirror.
pub const DATA_URL: &str = "http://d2l-data.s3-accelerate.amazonaws.com/";

/// The registry of known data sets: (name, file name, SHA-1), as d2l's
/// `DATA_HUB`. The URL is the base URL followed by the file name.
pub const DATA_HUB: &[(&str, &str, &str)] = &[(
    "time_machine",
    "timemachine.txt",
    "090b5e7e70c295757f55df93cb0a180b9691891a",
)];

/// Everything that can go wrong while fetching a data set.
#[derive(Debug, Error)]
pub enum DownloadError {
    #[error(
        "unknown data set `{name}`; known data sets: {known}. \
         Add it to d2l::data::DATA_HUB with its URL and SHA-1."
    )]
    UnknownName { name: String, known: String },
    #[error(
        "could not download {url}: {source}. Check your network, or set \
         D2L_DATA_URL to a mirror, or put a good copy at {target}"
    )]
    Request {
        url: String,
        target: PathBuf,
        source: reqwest::Error,
    },
    #[error(
        "could not download {url}: the server answered HTTP {status}. \
         Set D2L_DATA_URL to a mirror that has the file, or put a good \
         copy at {target}"
    )]
    Status {
        url: String,
        status: u16,
        target: PathBuf,
    },
    #[error(
        "the cached copy {path} failed its SHA-1 check: it has SHA-1 \
         {actual} ({bytes} bytes), but {expected} was expected, so it is \
         damaged or another file. Fetching a fresh copy failed too: \
         {source}"
    )]
    CacheDamaged {
        path: PathBuf,
        expected: String,
        actual: String,
        bytes: u64,
        source: Box<DownloadError>,
    },
    #[error(
        "the data cache {0} is a file, not a folder: point D2L_DATA_DIR at \
         a folder"
    )]
    CacheNotAFolder(PathBuf),
    #[error(
        "the file downloaded from {url} has SHA-1 {actual}, but {expected} \
         was expected (received {bytes} bytes). The download was truncated \
         or the server sent a different file; nothing was written to \
         {cache}. Try again, or set D2L_DATA_URL to another mirror"
    )]
    HashMismatch {
        url: String,
        expected: String,
        actual: String,
        bytes: u64,
        cache: PathBuf,
    },
    #[error(
        "the download from {url} broke off after {bytes} bytes: {source}. \
         Nothing was written to {cache}. Try again, or set D2L_DATA_URL to \
         another mirror"
    )]
    Interrupted {
        url: String,
        bytes: u64,
        cache: PathBuf,
        source: io::Error,
    },
    #[error(
        "I/O error on {path}: {source}. Check that the folder is writable, \
         or set D2L_DATA_DIR to another cache folder"
    )]
    Io { path: PathBuf, source: io::Error },
}

/// The SHA-1 of a file, as lowercase hex.
pub fn sha1_file(path: &Path) -> io::Result<String> {
    let mut file = File::open(path)?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The default cache: `D2L_DATA_DIR` if set, else `data/` at the
/// workspace root.
pub fn default_cache_dir() -> PathBuf {
    match std::env::var_os("D2L_DATA_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("data"),
    }
}

/// The default base URL: `D2L_DATA_URL` if set, else [`DATA_URL`].
pub fn default_base_url() -> String {
    match std::env::var("D2L_DATA_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => DATA_URL.to_string(),
    }
}

/// How long a download may take in all, the wait for an answer included.
/// The corpus is 178 kB.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The most bytes a download may bring: every data set registered here is
/// far smaller, so a mirror that sends more is not sending the file.
pub const MAX_DOWNLOAD_BYTES: u64 = 64 << 20;

/// The start of the names of `target`'s partial downloads.
fn partial_prefix(target: &Path) -> String {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    format!(".{name}.part-")
}

/// Removes the partial downloads of processes that no longer run (killed
/// while downloading, so their temporary file was never dropped).
fn remove_stale_partials(dir: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let pid = rest.split('-').next().and_then(|p| p.parse().ok());
        if pid.is_some_and(|p: u32| !crate::io::outputs::process_alive(p)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// A cache folder and the base URL its files come from.
#[derive(Debug, Clone)]
pub struct Downloader {
    pub base_url: String,
    pub cache_dir: PathBuf,
    /// How long a download may take in all ([`TIMEOUT`] by default).
    pub timeout: Duration,
}

impl Default for Downloader {
    /// The downloader configured from `D2L_DATA_URL` and `D2L_DATA_DIR`.
    fn default() -> Self {
        Self {
            base_url: default_base_url(),
            cache_dir: default_cache_dir(),
            timeout: TIMEOUT,
        }
    }
}

impl Downloader {
    /// Returns the path of the registered data set `name`, downloading it
    /// only when the cache has no copy with the right hash.
    pub fn fetch(&self, name: &str) -> Result<PathBuf, DownloadError> {
        let (_, file, sha1) = DATA_HUB
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| DownloadError::UnknownName {
                name: name.to_string(),
                known: DATA_HUB
                    .iter()
                    .map(|(n, _, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        self.fetch_file(file, sha1)
    }

    // ANCHOR: fetch_file
    /// Returns `cache_dir/file`, downloading `base_url/file` when the cache
    /// has no copy whose SHA-1 is `sha1`.
    pub fn fetch_file(
        &self,
        file: &str,
        sha1: &str,
    ) -> Result<PathBuf, DownloadError> {
        let target = self.cache_dir.join(file);
        if self.cache_dir.is_file() {
            return Err(DownloadError::CacheNotAFolder(self.cache_dir.clone()));
        }
        let mut damaged = None;
        if target.is_file() {
            let io = |source| DownloadError::Io {
                path: target.clone(),
                source,
            };
            let actual = sha1_file(&target).map_err(io)?;
            if actual == sha1 {
                return Ok(target);
            }
            let bytes = std::fs::metadata(&target).map_err(io)?.len();
            damaged = Some((actual, bytes));
        }
        // A base URL is a folder; one that already names the file is
        // taken as it is.
        let base = self.base_url.trim_end_matches('/');
        let url = if base.ends_with(&format!("/{file}")) {
            base.to_string()
        } else {
            format!("{base}/{file}")
        };
        crate::io::console::info(&format!(
            "downloading {url} into {} (giving up after {} s)",
            self.cache_dir.display(),
            self.timeout.as_secs_f64()
        ));
        match (self.download(&url, sha1, &target), damaged) {
            (Ok(()), _) => Ok(target),
            (Err(e), None) => Err(e),
            (Err(e), Some((actual, bytes))) => {
                Err(DownloadError::CacheDamaged {
                    path: target,
                    expected: sha1.to_string(),
                    actual,
                    bytes,
                    source: Box::new(e),
                })
            }
        }
    }
    // ANCHOR_END: fetch_file

    fn download(
        &self,
        url: &str,
        sha1: &str,
        target: &Path,
    ) -> Result<(), DownloadError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| DownloadError::Io { path, source }
        };
        let request_err = |source| DownloadError::Request {
            url: url.to_string(),
            target: target.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(&self.cache_dir)
            .map_err(io_err(&self.cache_dir))?;
        let client = reqwest::blocking::Client::builder()
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .timeout(self.timeout)
            .build()
            .map_err(request_err)?;
        let mut response = client.get(url).send().map_err(request_err)?;
        if !response.status().is_success() {
            return Err(DownloadError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
                target: target.to_path_buf(),
            });
        }
        // ANCHOR: download_verify
        // The temporary file lives in the cache folder so that the final
        // rename is atomic; it is deleted when dropped on any error path.
        // Its name holds this process's id, so that a later run can tell a
        // killed download's leftover from a download still running.
        let prefix = partial_prefix(target);
        remove_stale_partials(&self.cache_dir, &prefix);
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!("{prefix}{}-", std::process::id()))
            .tempfile_in(&self.cache_dir)
            .map_err(io_err(&self.cache_dir))?;
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        // A whole-download deadline and a size cap, so that a mirror that
        // trickles or never stops sending costs the timeout at most.
        let deadline = std::time::Instant::now() + self.timeout;
        loop {
            let read = if std::time::Instant::now() > deadline {
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "the whole file did not arrive within {} s",
                        self.timeout.as_secs_f64()
                    ),
                ))
            } else if bytes > MAX_DOWNLOAD_BYTES {
                Err(io::Error::other(format!(
                    "the mirror sent more than {MAX_DOWNLOAD_BYTES} bytes, \
                     far more than the file"
                )))
            } else {
                response.read(&mut buf)
            };
            let n = match read {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(DownloadError::Interrupted {
                        url: url.to_string(),
                        bytes,
                        cache: self.cache_dir.clone(),
                        source,
                    })
                }
            };
            hasher.update(&buf[..n]);
            tmp.write_all(&buf[..n]).map_err(io_err(tmp.path()))?;
            bytes += n as u64;
        }
        let actual = hex(&hasher.finalize());
        if actual != sha1 {
            return Err(DownloadError::HashMismatch {
                url: url.to_string(),
                expected: sha1.to_string(),
                actual,
                bytes,
                cache: self.cache_dir.clone(),
            });
        }
        crate::io::atomic::set_ordinary_mode(tmp.as_file())
            .map_err(io_err(tmp.path()))?;
        tmp.as_file().sync_all().map_err(io_err(tmp.path()))?;
        tmp.persist(target).map_err(|e| DownloadError::Io {
            path: target.to_path_buf(),
            source: e.error,
        })?;
        // ANCHOR_END: download_verify
        Ok(())
    }
}

/// Returns the local path of the registered data set `name`, using the
/// cache in `D2L_DATA_DIR` (default: `data/` at the workspace root) and the
/// mirror in `D2L_DATA_URL` (default: d2l's own).
pub fn download(name: &str) -> Result<PathBuf, DownloadError> {
    Downloader::default().fetch(name)
}
