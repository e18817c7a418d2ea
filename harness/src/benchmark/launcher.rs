//! The measurement launcher: `cellucid-bench __measure RUSAGE_FILE -- PROGRAM ARGS…`.
//!
//! Why it exists: on Linux a child's `ru_maxrss` includes the high-water mark of the
//! memory it had *before* `exec`, and a child forked (or vforked) from the harness starts
//! with the harness's memory. A sweep holding gigabytes would then report gigabytes for
//! every run. The launcher is a freshly exec'd, tiny process: the measured program is
//! spawned from it, so its peak RSS is its own. The launcher reaps it with `wait4` and
//! writes `code signal user_us sys_us maxrss_kb` to RUSAGE_FILE; the program's stdin,
//! stdout and stderr are the launcher's.

use std::ffi::OsString;
use std::process::{Command, ExitCode};

/// The hidden subcommand name.
pub const SUBCOMMAND: &str = "__measure";

/// One measured run as the launcher reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rusage {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub user_us: u64,
    pub sys_us: u64,
    pub maxrss_kb: u64,
}

impl Rusage {
    pub fn to_line(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.code.map_or(-1, i64::from),
            self.signal.map_or(-1, i64::from),
            self.user_us,
            self.sys_us,
            self.maxrss_kb
        )
    }

    pub fn parse(line: &str) -> Option<Rusage> {
        let v: Vec<i64> = line.split_whitespace().map(|x| x.parse().ok()).collect::<Option<_>>()?;
        let [code, signal, user_us, sys_us, maxrss_kb] = v[..] else { return None };
        Some(Rusage {
            code: (code >= 0).then_some(code as i32),
            signal: (signal >= 0).then_some(signal as i32),
            user_us: user_us as u64,
            sys_us: sys_us as u64,
            maxrss_kb: maxrss_kb as u64,
        })
    }
}

/// Spawn `program args…` and reap it with `wait4`.
pub fn spawn_and_wait(program: &OsString, args: &[OsString]) -> std::io::Result<Rusage> {
    let child = Command::new(program).args(args).spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: a zeroed rusage is valid; wait4 writes into both out-pointers.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child; the pointers are valid for the call.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if r != -1 {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // Reaped: std's handle must not wait again.
    std::mem::forget(child);
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Ok(Rusage {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
        user_us: us(ru.ru_utime),
        sys_us: us(ru.ru_stime),
        maxrss_kb: ru.ru_maxrss as u64,
    })
}

/// Entry point of the hidden subcommand (`args` after the subcommand name).
pub fn main(args: &[OsString]) -> ExitCode {
    let (Some(out), Some(sep), Some(program)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("usage: cellucid-bench {SUBCOMMAND} RUSAGE_FILE -- PROGRAM [ARGS…]");
        return ExitCode::from(2);
    };
    if sep != "--" {
        eprintln!("usage: cellucid-bench {SUBCOMMAND} RUSAGE_FILE -- PROGRAM [ARGS…]");
        return ExitCode::from(2);
    }
    match spawn_and_wait(program, &args[3..]) {
        Ok(r) => match std::fs::write(out, r.to_line()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", std::path::Path::new(out).display());
                ExitCode::from(2)
            }
        },
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", std::path::Path::new(program).display());
            ExitCode::from(127)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rusage_lines_round_trip() {
        let r = Rusage { code: Some(3), signal: None, user_us: 12, sys_us: 34, maxrss_kb: 5678 };
        assert_eq!(Rusage::parse(&r.to_line()), Some(r));
        let k = Rusage { code: None, signal: Some(9), user_us: 0, sys_us: 0, maxrss_kb: 1 };
        assert_eq!(Rusage::parse(&k.to_line()), Some(k));
        assert_eq!(Rusage::parse("1 2 3"), None);
    }
}
