//! The parent's wait loop: relay events, drain stderr, forward signals, and stop a read
//! that makes no progress.
//!
//! **What counts as progress while reading.** A line from the worker, or bytes the
//! worker read from files (`rchar` in `/proc/PID/io`). HDF5 reads a large dataset chunk
//! by chunk (and the reader streams sparse matrices in blocks), so a legitimate read of
//! any size keeps `rchar` growing; a loop inside a corrupt file's metadata works from the
//! library's cache and does not. The watchdog is armed from the worker's start until its
//! first export event: what follows is the exporter's own code, whose phases
//! on large inputs may legitimately run long without an event.

use super::channel::Event;
use super::signals;
use super::spawn::Worker;
use cellucid_core::Progress;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::process::ExitStatus;
use std::time::{Duration, Instant};

/// At most this much of the worker's stderr is kept (a dying library can write a lot).
const STDERR_CAP: usize = 64 * 1024;
/// How often the loop wakes without events to check the watchdog.
const TICK_MS: i32 = 200;

/// How the worker ended, with what the parent saw on the way.
#[derive(Debug)]
pub struct Ended {
    pub status: ExitStatus,
    /// The watchdog stopped the worker (SIGKILL) after `read_timeout` without progress.
    pub stalled: bool,
    /// The signal the parent forwarded last, if it received one.
    pub forwarded: Option<libc::c_int>,
    /// The panic the worker reported, if it panicked.
    pub panic: Option<String>,
    /// The worker had not finished reading its input when it ended.
    pub while_reading: bool,
    /// The worker's stderr (at most [`STDERR_CAP`] bytes).
    pub stderr: Vec<u8>,
}

/// The state of the loop between wake-ups.
struct Loop {
    reading: bool,
    last_progress: Instant,
    rchar: Option<u64>,
    panic: Option<String>,
    line: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs until the worker has closed both pipes, then reaps it.
pub fn watch(mut w: Worker, read_timeout: Duration, progress: &dyn Fn(Progress)) -> std::io::Result<Ended> {
    let pid = w.child.id() as libc::pid_t;
    let mut st = Loop {
        // Everything the worker does before its first export event is reading the input.
        reading: true,
        last_progress: Instant::now(),
        rchar: None,
        panic: None,
        line: Vec::new(),
        stderr: Vec::new(),
    };
    let (mut events_open, mut stderr_open) = (true, true);
    let (mut stalled, mut forwarded) = (false, None);
    let mut buf = vec![0u8; 8192];
    while events_open || stderr_open {
        if let Some(r) = signals::take_pending() {
            if !r.from_terminal {
                forward(pid, r.signal);
            }
            forwarded = Some(r.signal);
        }
        let (events_ready, stderr_ready) = wait_readable(
            events_open.then(|| w.events.as_raw_fd()),
            stderr_open.then(|| w.stderr.as_raw_fd()),
        )?;
        if events_ready {
            match read_some(&mut w.events, &mut buf)? {
                0 => events_open = false,
                n => st.take_lines(&buf[..n], progress),
            }
        }
        if stderr_ready {
            match read_some(&mut w.stderr, &mut buf)? {
                0 => stderr_open = false,
                n => {
                    let room = STDERR_CAP.saturating_sub(st.stderr.len());
                    st.stderr.extend_from_slice(&buf[..n.min(room)]);
                }
            }
        }
        if st.reading && !stalled && st.stalled(pid, read_timeout) {
            forward(pid, libc::SIGKILL);
            stalled = true;
        }
    }
    let status = w.child.wait()?;
    Ok(Ended { status, stalled, forwarded, panic: st.panic, while_reading: st.reading || stalled, stderr: st.stderr })
}

impl Loop {
    /// Splits bytes into lines and handles each complete one.
    fn take_lines(&mut self, bytes: &[u8], progress: &dyn Fn(Progress)) {
        self.last_progress = Instant::now();
        self.line.extend_from_slice(bytes);
        while let Some(end) = self.line.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.line.drain(..=end).collect();
            let text = String::from_utf8_lossy(&line[..end]);
            match Event::decode(&text) {
                Some(Event::Reading) => self.reading = true,
                Some(Event::Export(e)) => {
                    self.reading = false;
                    e.replay(progress);
                }
                Some(Event::Panic(m)) => self.panic = Some(m),
                None => {}
            }
        }
    }

    /// Whether `timeout` has passed since the last line or byte read by the worker.
    fn stalled(&mut self, pid: libc::pid_t, timeout: Duration) -> bool {
        let now = read_chars(pid);
        if now.is_some() && now != self.rchar {
            self.rchar = now;
            self.last_progress = Instant::now();
        }
        self.last_progress.elapsed() >= timeout
    }
}

/// `rchar` of `/proc/PID/io`: bytes the process has read through read-like calls.
fn read_chars(pid: libc::pid_t) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    text.lines().find_map(|l| l.strip_prefix("rchar:")).and_then(|v| v.trim().parse().ok())
}

fn forward(pid: libc::pid_t, sig: libc::c_int) {
    // SAFETY: kill has no memory effects; `pid` is our unreaped child, so the id cannot
    // have been reused by another process.
    unsafe { libc::kill(pid, sig) };
}

/// poll(2) on up to two descriptors for one tick; EINTR counts as "nothing ready".
fn wait_readable(a: Option<i32>, b: Option<i32>) -> std::io::Result<(bool, bool)> {
    let mut fds: Vec<libc::pollfd> = [a, b]
        .iter()
        .map(|fd| libc::pollfd { fd: fd.unwrap_or(-1), events: libc::POLLIN, revents: 0 })
        .collect();
    // SAFETY: `fds` is a valid array of two pollfd for the duration of the call; poll
    // ignores entries with a negative fd.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, TICK_MS) };
    if r == -1 {
        let e = std::io::Error::last_os_error();
        return if e.kind() == std::io::ErrorKind::Interrupted { Ok((false, false)) } else { Err(e) };
    }
    let ready = |p: &libc::pollfd| p.fd >= 0 && p.revents != 0;
    Ok((ready(&fds[0]), ready(&fds[1])))
}

/// One read after poll said the descriptor is ready (so it does not block).
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
