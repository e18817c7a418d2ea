//! Reclaiming what a killed process left: the targets whose ledger's owner no longer
//! runs (a SIGKILLed sweep, a machine that lost power) still have their mounts, loop
//! devices, daemons and files on the machine; [`stale`] (called when a sweep or a gate
//! starts) and `cellucid-bench targets clean` remove them.
//!
//! **What is found.** For each ledger (`ledger.rs`) in the work dir, what is on the
//! machine *now*, matched against the ledger and the private directory, whose random
//! name nothing else shares:
//! - mounts: the recorded mount points and any mount under the private directory
//!   (`/proc/self/mountinfo`);
//! - daemons: every running process whose arguments name a path under the private
//!   directory (sshd's config, sshfs's mount point, ssh's key) or whose pid *and* start
//!   time are the recorded ones, and the members of the process groups they lead
//!   (sshd's per-connection children);
//! - loop devices whose backing file is the recorded image or lies under the private
//!   directory (`/sys/block/loop*/loop/backing_file`);
//! - the recorded files, the private directory, the ledger.
//!
//! **What is never touched.** A ledger whose owner still runs (same pid, start time and
//! boot: two sweeps may share a work dir); a process that is not the one found (signals
//! go through a pidfd and only after its start time is checked again, `procs.rs`); a
//! loop device now backing another file; a ledger another process is reclaiming (an
//! exclusive `flock` on it).
//!
//! **Order**, as teardown's: unmount (retried while busy, then lazily — and said so),
//! stop the daemons (SIGTERM, SIGKILL after 3 s), detach the loop devices, remove the
//! files and the private directory, and the ledger last; a ledger whose reclaim left
//! something is kept, so the next attempt finds it again.

use super::guard::{detach_loop, remove_dir, unmount_how, Unmounted};
use super::ledger::{self, Entry, Record};
use super::{info, procs, TargetError};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Grace between SIGTERM and SIGKILL for a left daemon.
const TERM_GRACE: Duration = Duration::from_secs(3);
/// A ledger that cannot be read and names no existing directory is a crash in the
/// instant between its creation and its first write; this old, nobody is writing it.
const UNREADABLE_AGE: Duration = Duration::from_secs(60);

/// Something a target left on the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Mount(PathBuf),
    LoopDevice { device: PathBuf, image: PathBuf },
    Process { name: String, pid: u32, start_ticks: u64 },
    /// A file or directory (image, private directory, the ledger's temporary file).
    Path(PathBuf),
}

impl std::fmt::Display for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Found::Mount(p) => write!(f, "mount {}", p.display()),
            Found::LoopDevice { device, image } => write!(f, "loop device {} ({})", device.display(), image.display()),
            Found::Process { name, pid, .. } => write!(f, "process {name} (pid {pid})"),
            Found::Path(p) => write!(f, "{}", p.display()),
        }
    }
}

/// Whose a ledger's resources are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// The owner runs: hands off.
    Live { pid: u32 },
    /// The owner is gone: everything found may be reclaimed.
    Stale { pid: u32 },
    /// The ledger cannot be read (the reason); reclaimed only when it names nothing.
    Unreadable(String),
}

/// One ledger and what of it is on the machine now.
#[derive(Debug, Clone)]
pub struct Leftover {
    pub ledger: PathBuf,
    /// The target's name (`?` when the ledger cannot be read).
    pub target: String,
    pub ownership: Ownership,
    pub found: Vec<Found>,
}

impl Leftover {
    /// Whether [`reclaim`] may remove it.
    pub fn is_stale(&self) -> bool {
        match &self.ownership {
            Ownership::Live { .. } => false,
            Ownership::Stale { .. } => true,
            Ownership::Unreadable(_) => self.found.is_empty() && older_than(&self.ledger, UNREADABLE_AGE),
        }
    }
}

/// What [`reclaim`] did.
#[derive(Debug, Clone, Default)]
pub struct Reclaimed {
    pub ledger: PathBuf,
    pub target: String,
    /// One line per thing removed (`unmounted …`, `stopped sshd (pid …)`, …).
    pub done: Vec<String>,
    /// What could not be removed; the ledger is then kept.
    pub problems: Vec<String>,
}

impl std::fmt::Display for Reclaimed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "target {} ({}): ", self.target, self.ledger.display())?;
        if self.done.is_empty() && self.problems.is_empty() {
            return write!(f, "nothing left");
        }
        write!(f, "{}", self.done.join(", "))?;
        if !self.problems.is_empty() {
            write!(f, "{}LEFT: {}", if self.done.is_empty() { "" } else { "; " }, self.problems.join("; "))?;
        }
        Ok(())
    }
}

/// The directories searched for ledgers: `work_dir/targets` (where sweeps and the gate
/// provision) and `work_dir` itself (a targets directory given directly).
fn ledger_dirs(work_dir: &Path) -> [PathBuf; 2] {
    [work_dir.join("targets"), work_dir.to_path_buf()]
}

/// Every ledger under `work_dir` and what of it is on the machine now; nothing is changed.
pub fn scan(work_dir: &Path) -> Result<Vec<Leftover>, TargetError> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for dir in ledger_dirs(work_dir) {
        let paths = ledger::list(&dir).map_err(|e| TargetError::Failed {
            target: "reclaim".into(),
            step: "list ledgers".into(),
            detail: format!("{}: {e}", dir.display()),
        })?;
        for p in paths {
            let key = p.canonicalize().unwrap_or_else(|_| p.clone());
            if seen.insert(key) {
                out.push(inspect(&p));
            }
        }
    }
    Ok(out)
}

/// Reclaims every stale target under `work_dir`, one line per target on stderr; live
/// sweeps' targets are left alone. For the start of a sweep (and `--resume`) and the gate.
pub fn stale(work_dir: &Path) -> Result<Vec<Reclaimed>, TargetError> {
    let mut out = Vec::new();
    for l in scan(work_dir)?.into_iter().filter(Leftover::is_stale) {
        let r = reclaim(&l);
        eprintln!("reclaimed what a killed run left: {r}");
        out.push(r);
    }
    Ok(out)
}

/// One ledger as it stands.
pub fn inspect(ledger_path: &Path) -> Leftover {
    match ledger::read(ledger_path) {
        Ok(record) => {
            let pid = record.owner.pid;
            let ownership = if record.owner.is_alive() { Ownership::Live { pid } } else { Ownership::Stale { pid } };
            Leftover { ledger: ledger_path.to_path_buf(), target: record.target.clone(), ownership, found: find(&record, ledger_path) }
        }
        Err(why) => {
            // Only the private directory's name is known.
            let dir = ledger::private_dir_of(ledger_path).filter(|d| d.exists());
            Leftover {
                ledger: ledger_path.to_path_buf(),
                target: "?".into(),
                ownership: Ownership::Unreadable(why),
                found: dir.into_iter().map(Found::Path).collect(),
            }
        }
    }
}

/// What of `record` is on the machine now, in the order it is to be removed.
fn find(record: &Record, ledger_path: &Path) -> Vec<Found> {
    let dir = &record.private_dir;
    let mut found = Vec::new();

    let recorded_mounts: Vec<&PathBuf> =
        record.entries.iter().filter_map(|e| if let Entry::Mount { path } = e { Some(path) } else { None }).collect();
    let mut mounts: Vec<PathBuf> = info::mounts()
        .into_iter()
        .map(|m| m.mount_point)
        .filter(|m| m.starts_with(dir) || recorded_mounts.contains(&m))
        .collect();
    // Deepest first; a path mounted twice is unmounted twice.
    mounts.sort_by_key(|m| std::cmp::Reverse(m.components().count()));
    found.extend(mounts.into_iter().map(Found::Mount));

    found.extend(processes(record).into_iter().map(|p| Found::Process { name: p.name, pid: p.pid, start_ticks: p.start_ticks }));

    let images: Vec<&PathBuf> =
        record.entries.iter().filter_map(|e| if let Entry::LoopDevice { image, .. } = e { Some(image) } else { None }).collect();
    for (device, image) in loop_devices() {
        if image.starts_with(dir) || images.contains(&&image) {
            found.push(Found::LoopDevice { device, image });
        }
    }

    for e in &record.entries {
        if let Entry::File { path } = e {
            if path.exists() {
                found.push(Found::Path(path.clone()));
            }
        }
    }
    if dir.exists() {
        found.push(Found::Path(dir.clone()));
    }
    let tmp = ledger_path.with_extension("json.tmp");
    if tmp.exists() {
        found.push(Found::Path(tmp));
    }
    found
}

/// The running processes that belong to `record`'s target.
fn processes(record: &Record) -> Vec<procs::ProcInfo> {
    let recorded: Vec<(u32, u64)> = record
        .entries
        .iter()
        .filter_map(|e| match e {
            Entry::Process { pid: Some(p), start_ticks: Some(s), .. } => Some((*p, *s)),
            _ => None,
        })
        .collect();
    let all: Vec<procs::ProcInfo> = procs::all().into_iter().filter(|p| p.is_running()).collect();
    let mut ours: Vec<procs::ProcInfo> = all
        .iter()
        .filter(|p| p.mentions(&record.private_dir) || recorded.contains(&(p.pid, p.start_ticks)))
        .cloned()
        .collect();
    // A group led by one of ours is ours: the kernel does not reuse a pid that still
    // names a process group, and its leader was just seen running.
    let leaders: Vec<u32> = ours.iter().filter(|p| p.pgrp == p.pid).map(|p| p.pid).collect();
    for p in &all {
        if leaders.contains(&p.pgrp) && !ours.iter().any(|o| o.pid == p.pid) {
            ours.push(p.clone());
        }
    }
    // Never this process (a stray argument naming the directory), and the daemons
    // (group leaders) first in the listing.
    ours.retain(|p| p.pid != std::process::id());
    ours.sort_by_key(|p| (p.pgrp != p.pid, p.pid));
    ours
}

/// Every attached loop device and its backing file (`(deleted)` suffix removed).
fn loop_devices() -> Vec<(PathBuf, PathBuf)> {
    let Ok(dir) = std::fs::read_dir("/sys/block") else { return Vec::new() };
    let mut out = Vec::new();
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("loop") {
            continue;
        }
        let Ok(backing) = std::fs::read_to_string(e.path().join("loop/backing_file")) else { continue };
        let backing = backing.trim_end_matches('\n');
        let backing = backing.strip_suffix(" (deleted)").unwrap_or(backing);
        if !backing.is_empty() {
            out.push((PathBuf::from("/dev").join(&name), PathBuf::from(backing)));
        }
    }
    out.sort();
    out
}

fn older_than(p: &Path, age: Duration) -> bool {
    std::fs::metadata(p)
        .and_then(|m| m.modified())
        .is_ok_and(|t| SystemTime::now().duration_since(t).is_ok_and(|d| d >= age))
}

/// Removes everything `l` found, unless its owner runs (then nothing is done and the
/// result says so). Looks again under the ledger's lock, so what it removes is current.
pub fn reclaim(l: &Leftover) -> Reclaimed {
    let mut r = Reclaimed { ledger: l.ledger.clone(), target: l.target.clone(), ..Reclaimed::default() };
    if !l.is_stale() {
        r.problems.push(match &l.ownership {
            Ownership::Live { pid } => format!("in use by a running process (pid {pid})"),
            Ownership::Unreadable(why) => format!("{why}; its directory is left for you to check"),
            Ownership::Stale { .. } => "not stale".into(),
        });
        return r;
    }
    let Ok(file) = std::fs::File::open(&l.ledger) else {
        r.done.push("already reclaimed".into());
        return r;
    };
    // SAFETY: flock on an fd we own; released when `file` closes.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        r.problems.push("another process is reclaiming it".into());
        return r;
    }
    // Under the lock: what is there now (another process may have finished first).
    let now = inspect(&l.ledger);
    if !now.is_stale() {
        r.problems.push("no longer stale".into());
        return r;
    }
    let found = now.found;
    for f in found.iter().filter(|f| matches!(f, Found::Mount(_))) {
        undo(f, &mut r);
    }
    stop_processes(&found, &mut r);
    for f in found.iter().filter(|f| matches!(f, Found::LoopDevice { .. } | Found::Path(_))) {
        undo(f, &mut r);
    }
    if r.problems.is_empty() {
        match std::fs::remove_file(&l.ledger) {
            Ok(()) => r.done.push("ledger removed".into()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => r.problems.push(format!("remove {}: {e}", l.ledger.display())),
        }
    } else {
        r.problems.push(format!("ledger kept for another try ({})", l.ledger.display()));
    }
    r
}

/// Undoes one mount, loop device or path.
fn undo(f: &Found, r: &mut Reclaimed) {
    let result = match f {
        Found::Mount(p) => unmount_how(p).map(|how| match how {
            Unmounted::Now => format!("unmounted {}", p.display()),
            Unmounted::Lazily => format!("unmounted {} lazily (it was busy; the kernel finishes when its last user goes)", p.display()),
            Unmounted::NotMounted => format!("{} was no longer mounted", p.display()),
        }),
        Found::LoopDevice { device, image } => {
            // Only while it still backs our image: a freed device may serve another file.
            let still_ours = loop_devices().iter().any(|(d, i)| d == device && i == image);
            if still_ours {
                detach_loop(device).map(|()| format!("detached {}", device.display()))
            } else {
                Ok(format!("{} was already detached", device.display()))
            }
        }
        Found::Path(p) if p.is_dir() => remove_dir(p).map(|()| format!("removed {}", p.display())),
        Found::Path(p) => match std::fs::remove_file(p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(format!("remove {}: {e}", p.display())),
            _ => Ok(format!("removed {}", p.display())),
        },
        Found::Process { .. } => return,
    };
    match result {
        Ok(line) => r.done.push(line),
        Err(e) => r.problems.push(e),
    }
}

/// SIGTERM to every found process that is still the one found, SIGKILL to those left
/// after the grace period.
fn stop_processes(found: &[Found], r: &mut Reclaimed) {
    let targets: Vec<(&str, u32, u64)> = found
        .iter()
        .filter_map(|f| match f {
            Found::Process { name, pid, start_ticks } => Some((name.as_str(), *pid, *start_ticks)),
            _ => None,
        })
        .collect();
    if targets.is_empty() {
        return;
    }
    let signal = |sig: libc::c_int, pid: u32, start: u64| procs::signal_if(pid, sig, |p| p.start_ticks == start);
    for &(name, pid, start) in &targets {
        if let Err(e) = signal(libc::SIGTERM, pid, start) {
            r.problems.push(format!("SIGTERM {name} (pid {pid}): {e}"));
        }
    }
    let ids: Vec<(u32, u64)> = targets.iter().map(|&(_, p, s)| (p, s)).collect();
    let left = procs::wait_gone(&ids, TERM_GRACE);
    for &(pid, start) in &left {
        let _ = signal(libc::SIGKILL, pid, start);
    }
    let still = procs::wait_gone(&left, Duration::from_secs(1));
    for &(name, pid, start) in &targets {
        if still.contains(&(pid, start)) {
            r.problems.push(format!("{name} (pid {pid}) still runs after SIGKILL"));
        } else if left.contains(&(pid, start)) {
            r.done.push(format!("killed {name} (pid {pid})"));
        } else {
            r.done.push(format!("stopped {name} (pid {pid})"));
        }
    }
}
