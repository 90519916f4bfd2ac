//! The terminal side of the command line: printing that never panics and
//! never costs a run, and Ctrl-C that stops training without writing half
//! a run.
//!
//! Rust ignores SIGPIPE, so a closed pipe (`ch_gru | head -1`) shows up as
//! an `EPIPE` write error, and `println!` would panic on it. Everything
//! the binaries print goes through [`progress`] (lines printed while
//! training: a failure stops them and the run goes on) or [`result`]
//! (what the command is for: a failure is an error, except a pipe whose
//! reader has gone, which is that reader's choice).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

/// Set once standard output has failed: later progress lines are dropped.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);
/// Set once a write found the pipe closed: nobody reads any more.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

fn write_stdout(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

fn note_failure(e: &io::Error) {
    STDOUT_FAILED.store(true, Ordering::SeqCst);
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT_CLOSED.store(true, Ordering::SeqCst);
    }
}

/// Prints `text` as progress: a sample line while training. If standard
/// output fails, says so once on stderr (unless the pipe was closed, which
/// is the reader's choice) and prints no more progress; it never stops the
/// caller.
pub fn progress(text: &str) {
    if STDOUT_FAILED.load(Ordering::SeqCst) {
        return;
    }
    if let Err(e) = write_stdout(text) {
        note_failure(&e);
        if e.kind() != io::ErrorKind::BrokenPipe {
            warn(&format!(
                "cannot print to standard output ({e}); training goes on \
                 and its outputs will still be written"
            ));
        }
    }
}

/// Prints `text` as a command's result. A closed pipe is not an error
/// (the reader stopped reading, as `head` does); any other failure, such
/// as a full disk behind `> file`, is.
pub fn result(text: &str) -> io::Result<()> {
    if STDOUT_CLOSED.load(Ordering::SeqCst) {
        return Ok(());
    }
    match write_stdout(text) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            note_failure(&e);
            Ok(())
        }
        Err(e) => {
            note_failure(&e);
            Err(e)
        }
        Ok(()) => Ok(()),
    }
}

/// Writes `warning: {message}` to stderr; a failing stderr is ignored, as
/// there is nowhere left to report it.
pub fn warn(message: &str) {
    let _ = writeln!(io::stderr(), "warning: {message}");
}

/// Writes `message` to stderr as a line, ignoring a failing stderr.
pub fn info(message: &str) {
    let _ = writeln!(io::stderr(), "{message}");
}

/// Writes `error: {message}` to stderr, ignoring a failing stderr.
pub fn error(message: &str) {
    let _ = writeln!(io::stderr(), "error: {message}");
}

static INTERRUPTS: AtomicUsize = AtomicUsize::new(0);
static SIGNAL: AtomicI32 = AtomicI32::new(0);

#[cfg(unix)]
extern "C" fn on_interrupt(signal: libc::c_int) {
    SIGNAL.store(signal, Ordering::SeqCst);
    if INTERRUPTS.fetch_add(1, Ordering::SeqCst) > 0 {
        // SAFETY: _exit is async-signal-safe; the second Ctrl-C quits at
        // once, and the outputs are still either all old or all new.
        unsafe { libc::_exit(128 + signal) }
    }
}

/// From now on the first Ctrl-C (SIGINT) or SIGTERM only sets a flag that
/// [`interrupted`] reads, so training can stop between two minibatches
/// and leave the output folder as it was; a second one quits at once.
pub fn catch_interrupts() {
    #[cfg(unix)]
    // SAFETY: installing a handler that only touches atomics and calls
    // _exit has no preconditions.
    unsafe {
        let handler = on_interrupt as extern "C" fn(libc::c_int);
        libc::signal(libc::SIGINT, handler as libc::sighandler_t);
        libc::signal(libc::SIGTERM, handler as libc::sighandler_t);
    }
}

/// Makes a file-size limit (`ulimit -f`) an ordinary write error, like a
/// full disk, instead of a signal that kills the process mid-write.
pub fn file_size_limit_is_an_error() {
    #[cfg(unix)]
    // SAFETY: ignoring a signal has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Whether Ctrl-C or SIGTERM arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPTS.load(Ordering::SeqCst) > 0
}

/// The exit status for an interrupted run: 128 + the signal, as a shell
/// reports a process killed by it (130 for Ctrl-C).
pub fn interrupted_status() -> i32 {
    128 + SIGNAL.load(Ordering::SeqCst)
}
