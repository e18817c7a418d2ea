//! SIGINT, SIGTERM and SIGHUP reach the parent; the worker must get them too, roll back
//! and exit, and the parent then ends the way the worker did.
//!
//! The handler only records the signal (an atomic store is async-signal-safe); the wait
//! loop, woken by EINTR or its next tick, forwards it with `kill`. A signal the terminal
//! sent (Ctrl-C, hang-up: `si_code == SI_KERNEL`) went to the whole foreground process
//! group, worker included, and is not sent a second time.

use std::sync::atomic::{AtomicI32, Ordering};

/// The signals forwarded to the worker.
pub const FORWARDED: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The last signal received, plus [`FROM_TERMINAL`] when the kernel sent it.
static PENDING: AtomicI32 = AtomicI32::new(0);
const FROM_TERMINAL: i32 = 1 << 16;

extern "C" fn record(sig: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let from_terminal = !info.is_null() && unsafe { (*info).si_code } == libc::SI_KERNEL;
    PENDING.store(sig | if from_terminal { FROM_TERMINAL } else { 0 }, Ordering::SeqCst);
}

/// A signal the parent received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Received {
    pub signal: libc::c_int,
    /// The terminal sent it to the whole process group: the worker has it already.
    pub from_terminal: bool,
}

/// Install the recording handler for [`FORWARDED`] (before the worker starts, so that
/// no signal in between is lost).
pub fn install() -> std::io::Result<()> {
    for sig in FORWARDED {
        // SAFETY: a zeroed sigaction is valid; `record` is async-signal-safe (one atomic
        // store) and has the C signature SA_SIGINFO expects; SA_RESTART is off so that
        // poll returns EINTR at once.
        let r = unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = record as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) as usize;
            sa.sa_flags = libc::SA_SIGINFO;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut())
        };
        if r == -1 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// The signal received since the last call, if any.
pub fn take_pending() -> Option<Received> {
    match PENDING.swap(0, Ordering::SeqCst) {
        0 => None,
        s => Some(Received { signal: s & !FROM_TERMINAL, from_terminal: s & FROM_TERMINAL != 0 }),
    }
}

/// End this process by `sig` with its default action, as the worker ended: a shell then
/// sees "killed by SIGINT" and stops a loop, as it would for the worker itself.
pub fn die_by(sig: libc::c_int) -> ! {
    // SAFETY: restoring the default action and raising a signal have no memory effects.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    // Not reached for SIGINT/SIGTERM/SIGHUP; the conventional status otherwise.
    std::process::exit(128 + sig)
}

/// The name of a signal (`SIGSEGV`), or `signal N`.
pub fn name(sig: libc::c_int) -> String {
    let known = [
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGSYS, "SIGSYS"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
    ];
    known.iter().find(|(s, _)| *s == sig).map_or_else(|| format!("signal {sig}"), |(_, n)| n.to_string())
}
