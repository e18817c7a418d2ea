//! What the scenario needs of a sync daemon ([`SyncDaemon`]), and how one is started:
//! on its target's ledger before it exists, in its own process group, registered with
//! the target guard that stops it (`crate::target::guard`), as `target/sshfs.rs` starts
//! sshd and sshfs. A harness killed by SIGKILL leaves the daemons on the ledger, and
//! `target::reclaim` (at the next scenario or sweep, or `cellucid-bench targets clean`)
//! stops them: their arguments name paths under the private directory.

use crate::target::guard::{Guard, Resource};
use crate::target::ledger::Entry;
use crate::target::{procs, tools, TargetError};
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A sync daemon (or pair of daemons) watching a local folder and copying it to a
/// "remote" folder on the same machine.
pub trait SyncDaemon {
    /// The record's `target`: `syncthing`, `rclone-webdav`.
    fn name(&self) -> &'static str;
    /// The daemon's version line (`syncthing v1.19.2 …`, `rclone v1.60.1`).
    fn version(&self) -> &str;
    /// The folder the daemon watches: exports are written into it.
    fn watched(&self) -> &Path;
    /// The remote copy of [`SyncDaemon::watched`].
    fn remote(&self) -> &Path;
    /// A directory on the same filesystem as the daemon's local data that nothing
    /// watches: the baseline of the slowdown.
    fn unwatched(&self) -> &Path;
    /// Names the daemon keeps in the two folders for itself (folder markers, files in
    /// flight): never part of an export, left out of comparisons and samples.
    fn own_names(&self) -> fn(&str) -> bool;
    /// Whether the daemon says it still has work queued or in flight.
    fn busy(&mut self) -> anyhow::Result<bool>;
    /// A counter of the bytes the sync has moved between the two sides so far.
    fn bytes_transferred(&mut self) -> anyhow::Result<u64>;
    /// Asks the daemon to look at the whole watched folder again, as its periodic full
    /// rescan would (Syncthing's is hourly): what ends a stall (see `runs.rs`). Daemons
    /// that see every write themselves (a FUSE mount) have nothing to do.
    fn rescan(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Stops the daemons and removes everything they had (also done on drop).
    fn teardown(self: Box<Self>) -> Result<(), TargetError>;
}

/// How long a daemon may take to answer after it was started.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// Starts `cmd` as the daemon `daemon` of `target`, with stdout and stderr to `log`;
/// returns its pid. The ledger names it before it exists and gets its pid and start
/// time once it does; the guard stops it (SIGTERM to its group, then SIGKILL).
pub fn spawn(guard: &Guard, target: &str, daemon: &str, cmd: &mut Command, log: &Path) -> Result<u32, TargetError> {
    let out = std::fs::File::create(log).map_err(|e| tools::io_failed(target, daemon, format!("{}: {e}", log.display())))?;
    let err = out.try_clone().map_err(|e| tools::io_failed(target, daemon, e))?;
    guard.record(target, Entry::Process { name: daemon.into(), pid: None, start_ticks: None })?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| tools::io_failed(target, daemon, format!("start {:?}: {e}", cmd.get_program())))?;
    let pid = child.id();
    let start_ticks = procs::read(pid).map(|p| p.start_ticks);
    let recorded = guard.record(target, Entry::Process { name: daemon.into(), pid: Some(pid), start_ticks });
    guard.push(Resource::Process { name: daemon.into(), child });
    recorded?;
    Ok(pid)
}

/// Whether `pid` (our unreaped child) still runs: once it exits it is a zombie.
pub fn running(pid: u32) -> bool {
    procs::read(pid).is_some_and(|p| p.is_running())
}

/// Polls `ready` until it says yes; fails with the log's tail when the daemon `pid`
/// exits first or `timeout` passes.
pub fn wait_ready(
    target: &str,
    what: &str,
    pid: u32,
    log: &Path,
    timeout: Duration,
    mut ready: impl FnMut() -> bool,
) -> Result<(), TargetError> {
    let deadline = Instant::now() + timeout;
    loop {
        if ready() {
            return Ok(());
        }
        if !running(pid) {
            return Err(tools::io_failed(target, what, format!("exited: {}", log_tail(log))));
        }
        if Instant::now() > deadline {
            return Err(tools::io_failed(target, what, format!("not ready after {timeout:?}: {}", log_tail(log))));
        }
        std::thread::sleep(POLL);
    }
}

/// The last lines of a daemon's log, as one line for an error message.
pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

/// A free port on 127.0.0.1 (bound and released: another process may take it first, in
/// which case the daemon fails to start and says so).
pub fn free_port(target: &str) -> Result<u16, TargetError> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| tools::io_failed(target, "free port", e))
}

/// `bytes` random bytes as hex (API keys, passwords of the loopback servers).
pub fn random_hex(target: &str, bytes: usize) -> Result<String, TargetError> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| tools::io_failed(target, "random key", e))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Creates the directories `dir/name` for each name; returns their paths.
pub fn make_dirs<const N: usize>(target: &str, dir: &Path, names: [&str; N]) -> Result<[PathBuf; N], TargetError> {
    let paths = names.map(|n| dir.join(n));
    for p in &paths {
        std::fs::create_dir_all(p).map_err(|e| tools::io_failed(target, "directories", format!("{}: {e}", p.display())))?;
    }
    Ok(paths)
}

/// The first line of `exe --version`.
pub fn version(target: &str, exe: &Path) -> Result<String, TargetError> {
    let out = tools::run(target, "version", Command::new(exe).arg("--version"))?;
    Ok(out.lines().next().unwrap_or_default().trim().to_string())
}
