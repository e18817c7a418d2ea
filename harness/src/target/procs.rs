//! Processes as `/proc` shows them, and signalling one only while it is still the
//! process we identified.
//!
//! A pid alone does not name a process: once its process has been reaped, the kernel may
//! give the number to an unrelated one. A process is therefore identified by its pid
//! together with its start time (`/proc/PID/stat` field 22, clock ticks since boot, which
//! a later process with the same pid cannot share) and this boot's id. Signals go through
//! a pidfd (`pidfd_open(2)`, Linux ≥ 5.3) opened *before* the identity is checked: the
//! pidfd keeps referring to the checked process, and signalling it after that process has
//! gone fails with ESRCH instead of reaching a newcomer that reused the pid.

use std::path::Path;
use std::time::{Duration, Instant};

/// What the reclaim needs to know about one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    pub pid: u32,
    /// `comm`: the executable's name (15 bytes at most).
    pub name: String,
    /// `R`, `S`, `D`, `Z`, …
    pub state: char,
    /// Process group id.
    pub pgrp: u32,
    /// Start time in clock ticks after boot.
    pub start_ticks: u64,
    /// The arguments (`/proc/PID/cmdline`), lossily decoded.
    pub args: Vec<String>,
}

impl ProcInfo {
    /// Running (or stopped): a zombie has finished, whoever reaps it.
    pub fn is_running(&self) -> bool {
        self.state != 'Z' && self.state != 'X'
    }

    /// Whether an argument mentions `path` or a path under it (a daemon's config, key or
    /// mount point under a target's private directory): `path` followed by `/` or by the
    /// end of the argument, so `/w/dir-a` does not match `/w/dir-ab`.
    pub fn mentions(&self, path: &Path) -> bool {
        let p = path.to_string_lossy();
        self.args.iter().any(|a| a.match_indices(&*p).any(|(i, m)| matches!(a[i + m.len()..].chars().next(), None | Some('/'))))
    }
}

/// `/proc/PID/stat` and `cmdline`; `None` when there is no such process.
pub fn read(pid: u32) -> Option<ProcInfo> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`: comm may hold spaces and parentheses, so split at
    // the last ')'.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field N is rest[N - 3].
    let state = rest.first()?.chars().next()?;
    let pgrp = rest.get(2)?.parse().ok()?;
    let start_ticks = rest.get(19)?.parse().ok()?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args = cmdline.split(|&b| b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
    Some(ProcInfo { pid, name, state, pgrp, start_ticks, args })
}

/// Every process visible in `/proc`.
pub fn all() -> Vec<ProcInfo> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).filter_map(read).collect()
}

/// This boot's id (`/proc/sys/kernel/random/boot_id`): start times count from boot, so
/// they identify a process only within one boot.
pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_default()
}

/// This process's identity: (pid, start ticks).
pub fn myself() -> (u32, u64) {
    let pid = std::process::id();
    (pid, read(pid).map(|p| p.start_ticks).unwrap_or(0))
}

/// Whether the process `pid` that started at `start_ticks` in boot `boot` still runs.
pub fn alive(pid: u32, start_ticks: u64, boot: &str) -> bool {
    boot == boot_id() && read(pid).is_some_and(|p| p.start_ticks == start_ticks && p.is_running())
}

/// Sends `sig` to `pid` if, once a pidfd to it is held, `is_ours` accepts what `/proc`
/// says about it. `Ok(false)` when it is gone or is not ours (nothing was sent).
pub fn signal_if(pid: u32, sig: libc::c_int, is_ours: impl Fn(&ProcInfo) -> bool) -> std::io::Result<bool> {
    let Ok(raw) = libc::pid_t::try_from(pid) else { return Ok(false) };
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, raw, 0) };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ESRCH) => Ok(false),
            _ => Err(e),
        };
    }
    let fd = fd as libc::c_int;
    // Checked after the pidfd exists, so the check and the signal concern one process.
    let ours = read(pid).is_some_and(|p| p.is_running() && is_ours(&p));
    let sent = if ours {
        // SAFETY: a pidfd we own, a signal number, no siginfo, no flags.
        let r = unsafe { libc::syscall(libc::SYS_pidfd_send_signal, fd, sig, std::ptr::null::<libc::siginfo_t>(), 0) };
        if r == 0 {
            Ok(true)
        } else {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::ESRCH) {
                Ok(false)
            } else {
                Err(e)
            }
        }
    } else {
        Ok(false)
    };
    // SAFETY: closes the fd opened above, once.
    unsafe { libc::close(fd) };
    sent
}

/// Waits until none of `pids` (with their start ticks) runs any more, up to `limit`;
/// returns those still running.
pub fn wait_gone(pids: &[(u32, u64)], limit: Duration) -> Vec<(u32, u64)> {
    let deadline = Instant::now() + limit;
    loop {
        let left: Vec<(u32, u64)> = pids
            .iter()
            .copied()
            .filter(|&(pid, start)| read(pid).is_some_and(|p| p.start_ticks == start && p.is_running()))
            .collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_reads_back_and_is_alive() {
        let (pid, start) = myself();
        let me = read(pid).expect("own /proc entry");
        assert_eq!(me.start_ticks, start);
        assert!(me.is_running());
        assert!(alive(pid, start, &boot_id()));
        assert!(!alive(pid, start + 1, &boot_id()), "another start time is another process");
        assert!(!alive(pid, start, "another-boot"));
    }

    #[test]
    fn mentions_means_the_path_or_below_it() {
        let p = ProcInfo {
            pid: 1,
            name: "sshfs".into(),
            state: 'S',
            pgrp: 1,
            start_ticks: 1,
            args: vec!["sshfs".into(), "root@127.0.0.1:/w/dir-a/remote".into(), "-oIdentityFile=/w/dir-ab/key".into()],
        };
        assert!(p.mentions(Path::new("/w/dir-a")));
        assert!(p.mentions(Path::new("/w/dir-ab")));
        assert!(p.mentions(Path::new("/w/dir-ab/key")));
        assert!(!p.mentions(Path::new("/w/dir")));
        assert!(!p.mentions(Path::new("/w/dir-abc")));
    }

    #[test]
    fn a_signal_is_sent_only_when_the_check_accepts() {
        // An argument no other process has, so no check below can accept a stranger.
        let mark = "29.51370";
        let ours = |p: &ProcInfo| p.args.iter().any(|a| a == mark);
        let mut child = std::process::Command::new("sleep").arg(mark).spawn().expect("sleep");
        let pid = child.id();
        // Until it has exec'd, the child still shows this test's arguments.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !read(pid).is_some_and(|p| ours(&p)) {
            assert!(Instant::now() < deadline, "sleep did not start");
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!signal_if(pid, libc::SIGKILL, |p| p.args.iter().any(|a| a == "31")).expect("signal"));
        assert!(child.try_wait().expect("wait").is_none(), "not ours: left running");
        assert!(signal_if(pid, libc::SIGKILL, ours).expect("signal"));
        let status = child.wait().expect("wait");
        assert!(!status.success());
        assert!(!signal_if(pid, libc::SIGKILL, ours).expect("signal"), "reaped: nothing to signal");
    }
}
