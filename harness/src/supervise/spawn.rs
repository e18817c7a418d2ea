//! Starting the worker: a fresh exec of this binary with the event pipe at fd 3 and
//! stderr captured.
//!
//! stderr is captured, not inherited, because a dying C library writes there (glibc's
//! "double free or corruption", HDF5's diagnostics): the parent forwards it verbatim
//! when the worker exits normally and replaces it by one line when it does not.

use super::channel::{CHILD_FD, FD_ENV};
use super::WORKER_SUBCOMMAND;
use std::ffi::OsString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, Command, Stdio};

/// A running worker and the parent's ends of its pipes.
pub struct Worker {
    pub child: Child,
    pub events: File,
    pub stderr: ChildStderr,
}

impl Worker {
    /// `current_exe __export-worker ARGS…`, stdin and stdout inherited.
    pub fn start(args: &[OsString]) -> std::io::Result<Worker> {
        let exe = std::env::current_exe()?;
        let (events, writer) = pipe()?;
        let mut cmd = Command::new(exe);
        cmd.arg(WORKER_SUBCOMMAND)
            .args(args)
            .env(FD_ENV, CHILD_FD.to_string())
            // glibc writes its fatal messages to the terminal, not stderr, unless this is set.
            .env("LIBC_FATAL_STDERR_", "1")
            .stderr(Stdio::piped());
        let fd = writer.as_raw_fd();
        // SAFETY: the closure runs in the forked child before exec and calls only
        // async-signal-safe functions (dup2, fcntl) on descriptors that exist: `fd` is
        // kept open by `writer`, which outlives `spawn` below.
        unsafe { cmd.pre_exec(move || move_to_child_fd(fd)) };
        let mut child = cmd.spawn()?;
        // The parent's copy of the write end must close, or the pipe never reports EOF.
        drop(writer);
        let stderr = child.stderr.take().ok_or_else(|| std::io::Error::other("worker stderr was not captured"))?;
        Ok(Worker { child, events, stderr })
    }
}

/// A pipe, both ends close-on-exec: (read end, write end).
fn pipe() -> std::io::Result<(File, File)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 writes two new descriptors into the two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and nothing else owns them.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// In the forked child: the event pipe's write end becomes CHILD_FD, open across exec.
fn move_to_child_fd(fd: RawFd) -> std::io::Result<()> {
    // SAFETY (both calls): plain descriptor-table operations on open descriptors.
    let r = if fd == CHILD_FD {
        // dup2 onto itself keeps FD_CLOEXEC; clear it instead.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) }
    } else {
        unsafe { libc::dup2(fd, CHILD_FD) }
    };
    if r == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
