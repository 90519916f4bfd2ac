//! The downloader against a local HTTP server on 127.0.0.1: what reaches
//! the cache, what does not, and how many requests are made.

use d2l::data::{sha1_file, DownloadError, Downloader};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BODY: &[u8] = b"the time traveller for so it will be convenient to speak";
// SHA-1 of BODY.
const BODY_SHA1: &str = "faee094bb44c408f74d521c24d5442d29574375f";

#[derive(Clone, Copy)]
enum Reply {
    Ok,
    /// Promise the whole body in Content-Length, send half, hang up.
    Truncated,
    NotFound,
    /// The right length, one byte every 100 ms.
    Trickle,
    /// No length, and bytes until the client hangs up.
    Endless,
}

/// Serves every request with `reply` and counts requests.
fn serve(reply: Reply) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            read_request(&mut stream);
            counter.fetch_add(1, Ordering::SeqCst);
            let head = |status: &str, len: usize| {
                format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {len}\r\n\
                         Connection: close\r\n\r\n"
                )
            };
            let _ = match reply {
                Reply::Ok => stream
                    .write_all(head("200 OK", BODY.len()).as_bytes())
                    .and_then(|_| stream.write_all(BODY)),
                Reply::Truncated => stream
                    .write_all(head("200 OK", BODY.len()).as_bytes())
                    .and_then(|_| stream.write_all(&BODY[..BODY.len() / 2])),
                Reply::NotFound => {
                    stream.write_all(head("404 Not Found", 0).as_bytes())
                }
                Reply::Trickle => stream
                    .write_all(head("200 OK", BODY.len()).as_bytes())
                    .and_then(|_| {
                        for b in BODY.chunks(1) {
                            std::thread::sleep(Duration::from_millis(100));
                            stream.write_all(b)?;
                        }
                        Ok(())
                    }),
                Reply::Endless => stream
                    .write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
                    .and_then(|_| loop {
                        stream.write_all(&[b'a'; 1 << 16])?;
                    }),
            };
        }
    });
    (url, count)
}

fn read_request(stream: &mut TcpStream) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            _ => return,
        }
    }
}

fn downloader(base_url: &str) -> (Downloader, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let d = Downloader {
        base_url: base_url.to_string(),
        cache_dir: dir.path().join("cache"),
        timeout: std::time::Duration::from_secs(20),
    };
    (d, dir)
}

/// Puts `name` with `content` in the downloader's cache, as an earlier
/// run would have left it.
fn put_in_cache(d: &Downloader, name: &str, content: &[u8]) {
    std::fs::create_dir_all(&d.cache_dir).unwrap();
    std::fs::write(d.cache_dir.join(name), content).unwrap();
}

/// Fetches `tm.txt` from a server that answers with `reply`, expects an
/// error, and checks that the error names the file's URL and that the
/// cache holds nothing afterwards.
fn failed_fetch(reply: Reply) -> DownloadError {
    let (url, _) = serve(reply);
    let (d, _dir) = downloader(&url);
    let err = d.fetch_file("tm.txt", BODY_SHA1).unwrap_err();
    assert!(err.to_string().contains(&format!("{url}/tm.txt")), "{err}");
    assert!(cache_files(&d).is_empty(), "left {:?}", cache_files(&d));
    err
}

/// The URL of a local port that was bound and freed: nothing listens there
/// any more.
fn nothing_listens() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}")
}

fn cache_files(d: &Downloader) -> Vec<String> {
    match std::fs::read_dir(&d.cache_dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn body_sha1_constant_is_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body");
    std::fs::write(&path, BODY).unwrap();
    assert_eq!(sha1_file(&path).unwrap(), BODY_SHA1);
}

#[test]
fn good_file_is_downloaded_verified_and_cached() {
    let (url, count) = serve(Reply::Ok);
    let (d, _dir) = downloader(&url);
    let path = d.fetch_file("tm.txt", BODY_SHA1).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), BODY);
    assert_eq!(count.load(Ordering::SeqCst), 1);
    assert_eq!(cache_files(&d), vec!["tm.txt".to_string()]);
    // A second fetch finds the verified copy and asks nothing.
    d.fetch_file("tm.txt", BODY_SHA1).unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

/// Fetches `tm.txt` with `cached` already in the cache, checks that the
/// result holds the right body, and returns how many requests it made.
fn fetch_over_cache(cached: &[u8]) -> usize {
    let (url, count) = serve(Reply::Ok);
    let (d, _dir) = downloader(&url);
    put_in_cache(&d, "tm.txt", cached);
    let path = d.fetch_file("tm.txt", BODY_SHA1).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), BODY);
    count.load(Ordering::SeqCst)
}

#[test]
fn cached_file_with_right_hash_makes_zero_requests() {
    assert_eq!(fetch_over_cache(BODY), 0);
}

#[test]
fn cached_file_with_wrong_hash_is_replaced() {
    assert_eq!(fetch_over_cache(b"stale"), 1);
}

#[test]
fn wrong_hash_is_an_error_and_leaves_no_file() {
    let (url, _) = serve(Reply::Ok);
    let (d, _dir) = downloader(&url);
    let wrong = "0000000000000000000000000000000000000000";
    let err = d.fetch_file("tm.txt", wrong).unwrap_err();
    match &err {
        DownloadError::HashMismatch {
            url: u,
            expected,
            actual,
            ..
        } => {
            assert_eq!(u, &format!("{url}/tm.txt"));
            assert_eq!(expected, wrong);
            assert_eq!(actual, BODY_SHA1);
        }
        other => panic!("expected HashMismatch, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains(wrong) && msg.contains(BODY_SHA1), "{msg}");
    assert!(cache_files(&d).is_empty(), "left {:?}", cache_files(&d));
}

#[test]
fn truncated_body_is_an_error_and_leaves_no_file() {
    let err = failed_fetch(Reply::Truncated);
    let cut = matches!(
        err,
        DownloadError::Interrupted { .. } | DownloadError::HashMismatch { .. }
    );
    assert!(cut, "{err:?}");
}

#[test]
fn not_found_is_an_error_naming_the_url() {
    let err = failed_fetch(Reply::NotFound);
    let status = matches!(err, DownloadError::Status { status: 404, .. });
    assert!(status, "{err:?}");
}

#[test]
fn refused_connection_is_an_error_with_advice() {
    let (d, _dir) = downloader(&nothing_listens());
    let err = d.fetch_file("tm.txt", BODY_SHA1).unwrap_err();
    assert!(matches!(err, DownloadError::Request { .. }), "{err:?}");
    assert!(err.to_string().contains("D2L_DATA_URL"), "{err}");
}

#[test]
fn unknown_data_set_is_an_error_listing_known_ones() {
    let (d, _dir) = downloader("http://127.0.0.1:9");
    let err = d.fetch("no_such_set").unwrap_err();
    assert!(err.to_string().contains("time_machine"), "{err}");
}

#[test]
fn shipped_time_machine_matches_registry_without_network() {
    // The repository's data/ folder is the cache; the base URL points at a
    // port where nothing listens, so any request would fail.
    let d = Downloader {
        base_url: "http://127.0.0.1:9".to_string(),
        cache_dir: std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("data"),
        timeout: std::time::Duration::from_secs(20),
    };
    let path = d.fetch("time_machine").unwrap();
    assert_eq!(
        sha1_file(&path).unwrap(),
        "090b5e7e70c295757f55df93cb0a180b9691891a"
    );
}

#[cfg(unix)]
#[test]
fn downloaded_file_has_an_ordinary_mode() {
    use std::os::unix::fs::PermissionsExt;
    let (url, _) = serve(Reply::Ok);
    let (d, _dir) = downloader(&url);
    let path = d.fetch_file("tm.txt", BODY_SHA1).unwrap();
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    // 0666 less this process's umask (022 here: 0644), as for any new
    // file, not a temporary file's private 0600.
    assert_eq!(mode & 0o777, 0o666 & !d2l::io::atomic::umask(), "{mode:o}");
}

#[test]
fn damaged_cache_is_named_with_both_hashes() {
    let (d, _dir) = downloader(&nothing_listens());
    let cached = d.cache_dir.join("tm.txt");
    for damaged in
        [&b"the time traveller for so it will be convenient"[..], b""]
    {
        put_in_cache(&d, "tm.txt", damaged);
        let actual = sha1_file(&cached).unwrap();
        let err = d.fetch_file("tm.txt", BODY_SHA1).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DownloadError::CacheDamaged { .. }), "{msg}");
        assert!(msg.contains("failed its SHA-1 check"), "{msg}");
        assert!(msg.contains(&actual) && msg.contains(BODY_SHA1), "{msg}");
        assert!(msg.contains(&format!("({} bytes)", damaged.len())), "{msg}");
        // The damaged copy is left for the user to look at.
        assert_eq!(std::fs::read(&cached).unwrap(), damaged);
    }
}

#[test]
fn a_server_that_never_answers_costs_the_timeout_only() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts, reads the request, and then says nothing.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            read_request(&mut stream);
            held.push(stream);
        }
    });
    let (mut d, _dir) = downloader(&url);
    d.timeout = std::time::Duration::from_millis(500);
    let start = std::time::Instant::now();
    let err = d.fetch_file("tm.txt", BODY_SHA1).unwrap_err();
    assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
    assert!(matches!(err, DownloadError::Request { .. }), "{err:?}");
    assert!(cache_files(&d).is_empty(), "left {:?}", cache_files(&d));
}

#[cfg(unix)]
#[test]
fn a_killed_download_is_cleaned_up_by_the_next() {
    let (url, _) = serve(Reply::Ok);
    let (d, _dir) = downloader(&url);
    // What a download killed by SIGKILL leaves: its partial file, named
    // after a process that no longer runs.
    put_in_cache(&d, ".tm.txt.part-999999999-abc", b"half");
    d.fetch_file("tm.txt", BODY_SHA1).unwrap();
    assert_eq!(cache_files(&d), vec!["tm.txt".to_string()]);
}

/// A mirror that trickles (the right length, a byte every 100 ms) costs
/// the timeout and no more; one that never stops sending is cut off at
/// MAX_DOWNLOAD_BYTES instead of filling the disk. Neither leaves a file.
#[test]
fn slow_and_endless_mirrors_are_cut_off() {
    // (reply, timeout, what the error says, how long it may take)
    let cases = [
        (Reply::Trickle, 2, "did not arrive", 8.0),
        (Reply::Endless, 60, "more than", 30.0),
    ];
    for (reply, timeout, needle, most) in cases {
        let (url, _) = serve(reply);
        let (mut d, _dir) = downloader(&url);
        d.timeout = Duration::from_secs(timeout);
        let start = std::time::Instant::now();
        let err = d.fetch_file("tm.txt", BODY_SHA1).unwrap_err();
        let took = start.elapsed().as_secs_f64();
        assert!(took < most, "{needle}: took {took} s");
        assert!(err.to_string().contains(needle), "{err}");
        assert!(cache_files(&d).is_empty(), "left {:?}", cache_files(&d));
    }
}
