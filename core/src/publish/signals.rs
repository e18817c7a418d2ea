//! Roll back on SIGINT, SIGTERM and SIGHUP, then die of the signal.
//!
//! Without this, Ctrl-C, a `kill` or a closed terminal during an export kills the
//! process with its staging directory (up to the export's size) and journal left beside
//! `out_dir` until someone exports there again. [`roll_back_on_signals`] installs, once
//! per process, a handler for the three signals that only writes the signal number to a
//! pipe (`write` is async-signal-safe; nothing else is done in the handler), and a
//! thread that reads the pipe, rolls back every open transaction of the process exactly
//! as its `Drop` would (stage removed, previous generation restored, journal removed,
//! lock file removed if this process created it), then restores the default
//! disposition and raises the signal again, so the process ends "killed by" it (a
//! shell shows 128 + signo) as any process without a handler would.
//!
//! A library must not take over a process's signals behind its caller's back, so this
//! is opt-in: the CLI calls it first thing; any other caller of `export()` may. A
//! handler (unlike `sigwait`) works whatever the signal masks of threads started
//! earlier. The rollback waits for a protocol step in progress (e.g. the exchange) to
//! finish and then stops every other thread from taking another one. A signal that
//! arrives while no transaction is open just ends the process. Further signals during
//! the rollback are absorbed, so a second Ctrl-C cannot cut it short.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

/// The signals that end an export with a rollback.
const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The write end of the self-pipe, read by the handler.
static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);

/// The result of the one installation.
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();

/// Install the signal rollback for this process (idempotent). See the module doc.
pub fn roll_back_on_signals() -> io::Result<()> {
    INSTALLED
        .get_or_init(|| install().map_err(|e| e.to_string()))
        .clone()
        .map_err(io::Error::other)
}

fn install() -> io::Result<()> {
    let (read_end, write_end) = pipe()?;
    PIPE_WRITE.store(write_end, Ordering::SeqCst);
    std::thread::Builder::new()
        .name("cellucid-signals".into())
        .spawn(move || watch(read_end))?;
    for signal in SIGNALS {
        // SAFETY: `action` is zero-initialised plain data with every field we rely on
        // set: the handler (an `extern "C" fn(c_int)` that only calls async-signal-safe
        // functions), an empty mask, and SA_RESTART so that system calls interrupted in
        // other threads are restarted rather than failing with EINTR. `sigaction` reads
        // it during the call only; no old action is requested.
        let rc = unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut())
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// A close-on-exec pipe whose write end never blocks (a full pipe drops the byte: the
/// watcher is already awake then).
fn pipe() -> io::Result<(RawFd, RawFd)> {
    let mut fds = [-1 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fds[1] is the descriptor pipe2 just returned; F_SETFL only changes its flags.
    if unsafe { libc::fcntl(fds[1], libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((fds[0], fds[1]))
}

/// The handler: hand the signal number to the watcher. Async-signal-safe: one atomic
/// load and one `write`; `errno` is saved and restored for the interrupted code.
extern "C" fn on_signal(signal: libc::c_int) {
    let byte = signal as u8;
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    // SAFETY: __errno_location returns this thread's errno slot; `byte` lives across the
    // write of one byte from it; a bad or full descriptor only makes write fail.
    unsafe {
        let errno = *libc::__errno_location();
        libc::write(fd, (&byte as *const u8).cast(), 1);
        *libc::__errno_location() = errno;
    }
}

/// The watcher thread: wait for a signal, roll back, die of it.
fn watch(read_end: RawFd) {
    let mut byte = 0u8;
    loop {
        // SAFETY: `byte` is a valid one-byte buffer for the duration of the call.
        let n = unsafe { libc::read(read_end, (&mut byte as *mut u8).cast(), 1) };
        if n == 1 {
            break;
        }
        if n < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            continue;
        }
        return; // the pipe is gone: nothing more to watch
    }
    let signal = libc::c_int::from(byte);
    super::transaction::roll_back_all_before_exit();
    super::scratch::remove_all_before_exit();
    die_of(signal);
}

/// Restore the default action of `signal` and raise it; exit with 128 + signo if that
/// somehow returns.
fn die_of(signal: libc::c_int) -> ! {
    // SAFETY: plain libc calls with valid arguments: SIG_DFL for a catchable signal, a
    // signal set initialised by sigemptyset before use, and `raise` on this thread.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::raise(signal);
        libc::_exit(128 + signal)
    }
}
