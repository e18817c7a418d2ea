//! Runs one command as a child process and measures that child alone: wall time, user
//! and system CPU and peak RSS from `wait4`'s rusage (not the parent's, not siblings').

use std::io::{self, Read};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// One finished child process.
#[derive(Clone, Debug)]
pub struct ChildRun {
    /// Exit code, or `None` when killed by a signal.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub wall: Duration,
    pub user: Duration,
    pub sys: Duration,
    /// Peak resident set size of the child, in bytes.
    pub max_rss: u64,
    pub stdout: String,
    pub stderr: String,
}

impl ChildRun {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The first line of stderr (our CLI and the peer print one-line errors).
    pub fn error_line(&self) -> String {
        self.stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").to_string()
    }
}

fn tv(t: libc::timeval) -> Duration {
    Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000)
}

/// Spawn `cmd`, collect its output, and reap it with `wait4` to get its own rusage.
pub fn run(cmd: &mut Command) -> io::Result<ChildRun> {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut out = child.stdout.take().ok_or_else(|| io::Error::other("no stdout pipe"))?;
    let mut err = child.stderr.take().ok_or_else(|| io::Error::other("no stderr pipe"))?;
    let t_out = thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 writes into the two out-pointers.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = loop {
        // SAFETY: pid is our child's; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r == -1 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = start.elapsed();
    if r == -1 {
        return Err(io::Error::last_os_error());
    }
    // The child is reaped; std's handle must not wait for it again.
    std::mem::forget(child);
    let stdout = t_out.join().unwrap_or_default();
    let stderr = t_err.join().unwrap_or_default();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Ok(ChildRun {
        code,
        signal,
        wall,
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        max_rss: (ru.ru_maxrss as u64) * 1024,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tiny_child_reports_a_tiny_peak() {
        // The parent holds 200 MB; the child's peak must not inherit it.
        let big = vec![1u8; 200 << 20];
        let r = run(Command::new("true").arg("x")).expect("run true");
        assert!(r.success());
        assert!(r.max_rss < 20 << 20, "peak RSS {} bytes", r.max_rss);
        assert_eq!(big[big.len() - 1], 1);
    }

    #[test]
    fn exit_codes_signals_and_output_are_reported() {
        let r = run(Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"])).expect("run sh");
        assert_eq!(r.code, Some(3));
        assert_eq!(r.stdout, "out\n");
        assert_eq!(r.error_line(), "err");
        let r = run(Command::new("sh").args(["-c", "kill -9 $$"])).expect("run sh");
        assert_eq!((r.code, r.signal), (None, Some(9)));
    }

    #[test]
    fn cpu_time_is_the_childs() {
        let r = run(Command::new("sh").args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])).expect("run");
        assert!(r.user + r.sys > Duration::from_millis(50), "user {:?} sys {:?}", r.user, r.sys);
        assert!(r.wall >= r.user / 2);
    }
}
