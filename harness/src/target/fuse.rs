//! Starting a FUSE filesystem daemon for a target, the two ways they come: one that stays
//! in the foreground as our child (`ntfs-3g -o no_detach`, `fusefat -f`), stopped at
//! teardown after its unmount as sshfs is; and one that can only detach itself
//! (`mount.exfat-fuse` has no foreground option), found after the mount by its
//! arguments, which name the mount point under the private directory.
//!
//! Both put the daemon and the mount on the ledger before starting it, so a reclaim after
//! a SIGKILL finds them (`reclaim.rs` matches processes by the private directory).

use super::guard::Resource;
use super::{info, procs, tools, Entry, Guard, TargetError};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MOUNT_WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(20);

/// `Skipped` without `/dev/fuse`.
pub(super) fn available(target: &str) -> Result<(), TargetError> {
    if Path::new("/dev/fuse").exists() {
        Ok(())
    } else {
        Err(TargetError::Skipped { target: target.into(), reason: "no /dev/fuse (FUSE unavailable here)".into() })
    }
}

/// Starts `cmd` (a FUSE daemon that stays in the foreground) with its stderr in `log`,
/// and waits until `mnt` is mounted. Returns the daemon's pid.
pub(super) fn foreground(guard: &Guard, target: &str, daemon: &str, mut cmd: Command, mnt: &Path, log: &Path) -> Result<u32, TargetError> {
    let log_file = std::fs::File::create(log).map_err(|e| tools::io_failed(target, "daemon log", e))?;
    guard.record(target, Entry::Process { name: daemon.into(), pid: None, start_ticks: None })?;
    guard.record(target, Entry::Mount { path: mnt.to_path_buf() })?;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .process_group(0)
        .spawn()
        .map_err(|e| tools::io_failed(target, "start daemon", format!("{daemon}: {e}")))?;
    let pid = child.id();
    let start_ticks = procs::read(pid).map(|p| p.start_ticks);
    let recorded = guard.record(target, Entry::Process { name: daemon.into(), pid: Some(pid), start_ticks });
    let mounted = wait_mounted(&mut child, daemon, mnt, log);
    guard.push(Resource::Process { name: daemon.into(), child });
    // Registered even if the wait failed: a mount that appears late is still undone
    // (unmounting a plain directory is a no-op), before the daemon is stopped.
    guard.push(Resource::Mount(mnt.to_path_buf()));
    recorded?;
    mounted.map_err(|e| tools::io_failed(target, "mount", e))?;
    Ok(pid)
}

/// Runs `cmd` (a FUSE mount program that detaches its daemon once mounted) to
/// completion, then finds the daemon. Returns its pid.
pub(super) fn detaching(guard: &Guard, target: &str, daemon: &str, mut cmd: Command, mnt: &Path) -> Result<u32, TargetError> {
    guard.record(target, Entry::Process { name: daemon.into(), pid: None, start_ticks: None })?;
    guard.record(target, Entry::Mount { path: mnt.to_path_buf() })?;
    // Before the mount exists: a failure anywhere below still unmounts.
    guard.push(Resource::Mount(mnt.to_path_buf()));
    tools::run(target, "mount", &mut cmd)?;
    if !info::is_mount_point(mnt) {
        return Err(tools::io_failed(target, "mount", format!("{daemon} exited 0 but {} is not mounted", mnt.display())));
    }
    let me = std::process::id();
    let found = procs::all().into_iter().find(|p| p.pid != me && p.is_running() && p.mentions(mnt));
    let Some(p) = found else {
        return Err(tools::io_failed(target, "mount", format!("no {daemon} process names {}", mnt.display())));
    };
    guard.record(target, Entry::Process { name: daemon.into(), pid: Some(p.pid), start_ticks: Some(p.start_ticks) })?;
    guard.push(Resource::Detached { name: daemon.into(), pid: p.pid, start_ticks: p.start_ticks, mount: mnt.to_path_buf() });
    Ok(p.pid)
}

/// Waits until `mnt` is a mount point, or the daemon died.
fn wait_mounted(child: &mut Child, daemon: &str, mnt: &Path, log: &Path) -> Result<(), String> {
    let deadline = Instant::now() + MOUNT_WAIT;
    loop {
        if info::is_mount_point(mnt) {
            return Ok(());
        }
        let said = || std::fs::read_to_string(log).unwrap_or_default().trim().replace('\n', " | ");
        match child.try_wait() {
            Ok(Some(status)) => return Err(format!("{daemon} exited with {status}: {}", said())),
            Ok(None) => {}
            Err(e) => return Err(format!("{daemon}: wait: {e}")),
        }
        if Instant::now() > deadline {
            return Err(format!("not mounted after {MOUNT_WAIT:?}: {}", said()));
        }
        std::thread::sleep(POLL);
    }
}
